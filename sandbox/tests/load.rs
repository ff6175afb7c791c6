//! A bounded load test: 8 clients for 2 s over pooled keep-alive connections, mixing
//! micropays and queries. Reports requests/s; asserts that nothing failed and that the ledger
//! holds exactly the orders that were paid. (Speed targets are for benchmarks, not tests.)

mod common;

use std::time::{Duration, Instant};

use common::{unique, Gw, Mode};

const JSON: Mode = Mode {
    json: true,
    encrypt: false,
    xml_body: false,
};

#[test]
fn load_8_clients_for_2_seconds() {
    let gw = Gw::start(1.0);
    let run_for = Duration::from_secs(2);
    let start = Instant::now();
    let results: Vec<(u64, u64, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|client| {
                let gw = &gw;
                s.spawn(move || {
                    let (mut requests, mut errors, mut paid) = (0u64, 0u64, Vec::new());
                    while start.elapsed() < run_for {
                        let cc = unique(&format!("load{client}"));
                        let r = gw.micropay(&cc, "0.01", "130730865806264036", JSON);
                        requests += 1;
                        if r.code() == "SUCCESS" && r.state().as_deref() == Some("1") {
                            paid.push(cc.clone());
                        } else {
                            errors += 1;
                        }
                        let q = gw.query(&cc, "0", JSON);
                        requests += 1;
                        if q.state().as_deref() != Some("1") {
                            errors += 1;
                        }
                    }
                    (requests, errors, paid)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect()
    });
    let elapsed = start.elapsed();
    let total: u64 = results.iter().map(|r| r.0).sum();
    let errors: u64 = results.iter().map(|r| r.1).sum();
    let paid: usize = results.iter().map(|r| r.2.len()).sum();
    let rps = total as f64 / elapsed.as_secs_f64();
    println!(
        "sandbox load: 8 clients, {:.2} s, {total} requests, {rps:.0} requests/s, {errors} errors",
        elapsed.as_secs_f64()
    );
    assert_eq!(errors, 0);
    assert!(total > 0);
    let ledger = gw.sb.ledger_json();
    let orders = ledger["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), paid, "one order per payment");
    assert!(orders.iter().all(|o| o["state"] == 1));
    assert_eq!(ledger["requests"]["preOrder"].as_u64(), Some(paid as u64));
}
