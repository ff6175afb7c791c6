//! Replays the fuzz targets' bodies (`fuzz/src/lib.rs`, compiled here on stable) over the
//! document samples and every past finding in `tests/fuzz_regressions/`, so a fixed crash stays
//! fixed and the targets keep compiling without libFuzzer.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod fuzz_targets;

use std::path::PathBuf;

fn inputs(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.expect("entry").path();
            (p.display().to_string(), std::fs::read(&p).expect("read"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn regressions_and_samples_pass_every_target() {
    let mut n = 0;
    for dir in ["tests/fuzz_regressions", "tests/fixtures"] {
        for (name, data) in inputs(dir) {
            let r = std::panic::catch_unwind(|| fuzz_targets::all(&data));
            assert!(r.is_ok(), "{name} panics a fuzz target");
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} inputs");
}

#[test]
fn targets_accept_edge_inputs() {
    for data in [
        &b""[..],
        b"\0",
        b"{}",
        b"<a/>",
        b"AAAAAAAAAAA=",
        b"\xff\xfe\xfd",
        b"0123456789abcdef0123456789abcdef:1700000000000",
    ] {
        fuzz_targets::all(data);
    }
}
