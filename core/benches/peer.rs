//! The same work as the peers in `../shared/bench/` (`envelope_node.js`, `envelope_py.py`):
//! per operation, sign a body, 3DES-encrypt it to Base64, and decrypt that back to text.
//! Prints ops/s in the peers' format.
//!
//! `cargo bench -p sosopay --bench peer -- [BODY_FILE] [N] [--details]` (defaults: the 827-byte
//! order body in `benches/data/`, 200000 iterations). `--details` adds the round trip with
//! signature verification and a breakdown of the time. Used by `scripts/bench`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sosopay::envelope::{Envelope, MerchantKey};

/// The system allocator, counting allocations (to show that seal/open allocate only their
/// outputs).
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counter has no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` via `alloc`/`realloc` above, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations (and reallocations) `f` makes.
fn allocations<T>(f: impl FnOnce() -> T) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    black_box(f());
    ALLOCS.load(Ordering::Relaxed) - before
}

const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const TS: &str = "1795706991879";

fn main() {
    // `cargo bench` passes `--bench`; ignore flags other than ours.
    let details = std::env::args().any(|a| a == "--details");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let path = args.first().cloned().unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/order-body.json").to_owned()
    });
    // `cargo test --all-targets` runs this binary too (unoptimised, without `--bench`): then
    // it only checks that the work runs, with a few iterations.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let default_n = if smoke { 100 } else { 200_000 };
    let n: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default_n);
    let warmup = if smoke { 10 } else { 2000 };
    let body = match std::fs::read_to_string(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let key = match MerchantKey::new(KEY) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let env = Envelope::new(key);

    let one = |body: &str| -> usize {
        let (sign, ct) = match env.seal(TS, body) {
            Ok(x) => x,
            Err(e) => panic!("seal: {e}"),
        };
        let pt = match env.decrypt_to_string(&ct) {
            Ok(x) => x,
            Err(e) => panic!("decrypt: {e}"),
        };
        assert_eq!(pt.len(), body.len());
        sign.len() + pt.len()
    };
    for _ in 0..warmup {
        black_box(one(black_box(&body)));
    }
    let t = Instant::now();
    for _ in 0..n {
        black_box(one(black_box(&body)));
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "rust-core envelope+open: {:.0} ops/s ({:.1} us/op)",
        n as f64 / dt,
        dt / n as f64 * 1e6
    );
    if !details {
        return;
    }

    let (sign, ct) = match env.seal(TS, &body) {
        Ok(x) => x,
        Err(e) => panic!("seal: {e}"),
    };
    println!(
        "  allocations: seal {} (the sign and the ciphertext), decrypt {} (the plaintext), \
         open {} (the plaintext)",
        allocations(|| env.seal(TS, &body)),
        allocations(|| env.decrypt_to_string(&ct)),
        allocations(|| env.open(&sign, &ct)),
    );

    // The full round trip with signature verification, for reference.
    let (sign, _) = match env.seal(TS, &body) {
        Ok(x) => x,
        Err(e) => panic!("seal: {e}"),
    };
    let t = Instant::now();
    for _ in 0..n / 2 {
        let (_, ct) = match env.seal(TS, black_box(&body)) {
            Ok(x) => x,
            Err(e) => panic!("seal: {e}"),
        };
        black_box(match env.open(&sign, &ct) {
            Ok(x) => x,
            Err(e) => panic!("open: {e}"),
        });
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "rust-core seal+open (with verify): {:.0} ops/s ({:.1} us/op)",
        (n / 2) as f64 / dt,
        dt / (n / 2) as f64 * 1e6
    );

    // Where the time goes (same body): each part alone.
    let des = sosopay::crypto::Des3::new(&env.key().des_key());
    let mut buf = vec![0u8; (body.len() / 8 + 1) * 8];
    buf[..body.len()].copy_from_slice(body.as_bytes());
    let per = |label: &str, iters: u64, f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..iters {
            f();
        }
        let dt = t.elapsed().as_secs_f64();
        println!("  {label}: {:.2} us", dt / iters as f64 * 1e6);
    };
    per("3DES encrypt (in place)", n / 4, &mut || {
        if let Err(e) = des.encrypt_blocks(black_box(&mut buf)) {
            panic!("{e}")
        }
    });
    {
        use des::cipher::{BlockEncrypt, KeyInit};
        let key = env.key().des_key();
        let oracle = des::TdesEde3::new(&key.into());
        per(
            "3DES encrypt, RustCrypto des 0.8 block by block",
            n / 4,
            &mut || {
                for block in black_box(&mut buf).chunks_exact_mut(8) {
                    oracle.encrypt_block(block.into());
                }
            },
        );
    }
    per("sign", n / 4, &mut || {
        black_box(env.sign_body(TS, black_box(&body)).ok());
    });
    let ct = env.encrypt(body.as_bytes());
    per("encrypt (3DES + Base64)", n / 4, &mut || {
        black_box(env.encrypt(black_box(body.as_bytes())));
    });
    per("decrypt (Base64 + 3DES)", n / 4, &mut || {
        black_box(env.decrypt(black_box(&ct)).ok());
    });
}
