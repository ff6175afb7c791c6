//! End-to-end client benchmark against a sandbox running in another process: requests/s at 1
//! and 8 threads for a query and a QR order (3DES on), the client's marginal CPU per sequential
//! query, and the TCP connections opened. Run by `scripts/bench-e2e`.
//!
//! ```text
//! e2e_bench BASE_URL [N]        N: sequential queries of the small CPU run (default 2000)
//! ```
//!
//! Prints one JSON object. CPU is this process's (all threads, `CLOCK_PROCESS_CPUTIME_ID`); connections are the machine's TCP active opens (/proc/net/snmp) during a run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use sosopay::models::{MicropayRequest, OrderRequest};
use sosopay::{Amount, Channel, Client, ClientConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";

#[path = "common/cpu.rs"]
mod cpu;
use cpu::process_cpu_ns;

static SEQ: AtomicU64 = AtomicU64::new(0);

fn active_opens() -> u64 {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut lines = text.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(head), Some(vals)) = (lines.next(), lines.next()) else {
        return 0;
    };
    head.split_whitespace()
        .zip(vals.split_whitespace())
        .find(|(k, _)| *k == "ActiveOpens")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

fn client(base_url: &str) -> Client {
    let mut c = ClientConfig::new(BUSI, KEY, base_url).unwrap_or_else(|e| panic!("config: {e}"));
    c.encrypt = true;
    c.default_oper_id = Some("bench".into());
    c.default_dev_id = Some("bench".into());
    Client::new(c).unwrap_or_else(|e| panic!("client: {e}"))
}

/// `threads` threads each making `per_thread` calls of `op`; returns requests/s and the
/// connections opened.
fn throughput(c: &Client, threads: usize, per_thread: usize, op: &str, code: &str) -> (f64, u64) {
    let opens = active_opens();
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let c = c.clone();
            s.spawn(move || {
                for _ in 0..per_thread {
                    match op {
                        "query" => {
                            c.query_charge(code)
                                .unwrap_or_else(|e| panic!("query: {e}"));
                        }
                        _ => {
                            let n = SEQ.fetch_add(1, Ordering::Relaxed);
                            let cc = format!("BQ{}-{n}", std::process::id());
                            c.create_qr_order(&OrderRequest::new(
                                &cc,
                                Amount::from_fen(100).unwrap_or(Amount::ZERO),
                                Channel::Wechat,
                                "bench",
                            ))
                            .unwrap_or_else(|e| panic!("order: {e}"));
                        }
                    }
                }
            });
        }
    });
    let took = t0.elapsed().as_secs_f64();
    ((threads * per_thread) as f64 / took, active_opens() - opens)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base_url = args
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("usage: e2e_bench BASE_URL [N]"));
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let c = client(&base_url);
    let code = format!("BENCH{}", std::process::id());
    c.micropay(&MicropayRequest::new(
        &code,
        Amount::from_fen(100).unwrap_or(Amount::ZERO),
        "130730865806264036",
        "bench",
    ))
    .unwrap_or_else(|e| panic!("micropay: {e}"));
    // Warm up (connections, caches).
    throughput(&c, 1, 200, "query", &code);
    // Marginal CPU per sequential query: time N and 5N, divide the difference.
    let cpu = |count: usize| {
        let before = process_cpu_ns();
        throughput(&c, 1, count, "query", &code);
        process_cpu_ns() - before
    };
    let small = cpu(n);
    let large = cpu(5 * n);
    let marginal_us = (large.saturating_sub(small)) as f64 / (4 * n) as f64 / 1000.0;
    let (q1, q1_opens) = throughput(&c, 1, n, "query", &code);
    let (q8, q8_opens) = throughput(&c, 8, n / 2, "query", &code);
    let (o1, _) = throughput(&c, 1, n / 2, "order", &code);
    let (o8, o8_opens) = throughput(&c, 8, n / 4, "order", &code);
    let out = json!({
        "runtime": "rust",
        "cpu_us_per_query": (marginal_us * 10.0).round() / 10.0,
        "query_rps_1": q1.round(),
        "query_rps_8": q8.round(),
        "order_rps_1": o1.round(),
        "order_rps_8": o8.round(),
        "connections_query_1": q1_opens,
        "connections_query_8": q8_opens,
        "connections_order_8": o8_opens,
    });
    println!("{out}");
    std::thread::sleep(Duration::from_millis(10));
}
