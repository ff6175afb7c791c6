//! The main job: `sosopay demo` runs end to end, non-interactively, and reconciles.

use std::process::Command;

#[test]
fn demo_runs_and_reconciles() {
    let out = Command::new(env!("CARGO_BIN_EXE_sosopay"))
        .args(["demo"])
        .output()
        .expect("run demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for needle in [
        "QR order",
        "PAY_NODIFY verified",
        "PartiallyRefunded",
        "order state 0 (AwaitingPayment)",
        "micropay_and_wait: Paid",
        "agrees with the gateway's ledger",
    ] {
        assert!(
            stdout.contains(needle),
            "demo output lacks {needle:?}:\n{stdout}"
        );
    }
    assert!(
        !stdout.contains("Paid (paid)") && !stdout.contains("Paid: paid"),
        "the status is said once:\n{stdout}"
    );
    assert!(
        !stdout.contains("98SDKFUO432HNODS098EEE07U9DUOIUE"),
        "the key must never be printed"
    );
    assert!(
        !stdout.contains('\u{1b}'),
        "no terminal escapes when not on a terminal"
    );
}

#[test]
fn sandbox_subcommand_prints_url_first() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sosopay"))
        .args(["sandbox", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sandbox");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read first line");
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("http://127.0.0.1:")
            && line.trim_end().ends_with("/openGateway/openService/"),
        "{line:?}"
    );
}

#[test]
fn operations_use_env_credentials_and_print_json() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sosopay"))
        .args(["sandbox", "--addr", "127.0.0.1:0", "--time-scale", "0.02"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn sandbox");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("url");
    let url = url.trim().to_owned();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sosopay"))
            .args(args)
            .env("SOSOPAY_BUSI_CODE", "0010000001")
            .env("SOSOPAY_KEY", "98SDKFUO432HNODS098EEE07U9DUOIUE")
            .env("SOSOPAY_BASE_URL", &url)
            .output()
            .expect("run")
    };
    let out = run(&[
        "micropay",
        "--charge-code",
        "CLI-1",
        "--amount",
        "0.01",
        "--dynamic-id",
        "130730865806264036",
        "--subject",
        "x",
        "--wait",
        "--json",
    ]);
    let _ = &out;
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["status"], "paid", "{j}");
    let out = run(&["query", "CLI-1", "--json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["state"], 1, "{j}");
    assert_eq!(j["channel_type"], 2, "{j}");
    let out = run(&[
        "refund",
        "--charge-code",
        "CLI-1",
        "--refund-no",
        "R1",
        "--amount",
        "0.01",
        "--encrypt",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["cancel", "NOPE-1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CHARGE_NONEXISTENT") && err.lines().count() == 1,
        "{err}"
    );
    let out = run(&[
        "order",
        "--charge-code",
        "CLI-2",
        "--amount",
        "1.5",
        "--subject",
        "qr",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("pay link"));
    let out = run(&[
        "micropay",
        "--charge-code",
        "bad code",
        "--amount",
        "0.01",
        "--dynamic-id",
        "1",
        "--subject",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "validation errors exit 2");
    let _ = child.kill();
    let _ = child.wait();
}
