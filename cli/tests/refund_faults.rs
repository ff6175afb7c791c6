//! Refunds under faults, the way BEHAVIOUR.md tells a shop to make them: a refund is sent once
//! (never re-sent by the client), and after an error whose `outcome_unknown` is true the shop
//! retries under the same `OUT_REFUND_NO`. The sandbox drops, loses, delays, garbles, truncates
//! and misroutes refund replies, answers some with another refund's details, carries some out
//! after the client gave up, and (`replay_by_number`) answers a number used before with that
//! earlier refund. Some refunds ask for more than remains (a definite refusal), and some re-use a
//! number already used for another amount (a shop's bug). Afterwards every answer the client gave
//! is reconciled with the sandbox's ledger:
//!
//! * "refunded" only for a refund the ledger holds under that number, for that amount;
//! * a definite refusal (an error with `outcome_unknown` false) only when the ledger holds no
//!   refund under that number (or only the earlier, other one a re-used number names);
//! * never two refunds under one number, and never more refunded than paid.
//!
//! `REFUND_ORDERS` sets the number of paid orders (default 40, a few seconds), `REFUND_SEED` the
//! sandbox's fault seed (default 4343).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, sandbox};
use sosopay::codec::Format;
use sosopay::models::{MicropayRequest, RefundRequest};
use sosopay::{Amount, Client};

const FAULTS: &[&str] = &[
    "refund:drop_reply:0.12",
    "refund:drop:0.05",
    "refund:http503:0.05",
    "refund:http500:0.05:after",
    "refund:garble:0.05",
    "refund:truncate:0.04",
    "refund:delay:0.05:400",
    "refund:late:0.04:500",
    "refund:wrong_root:0.03",
    "refund:foreign_code:0.03",
    "refund:omit:0.03:CHARGE_CODE",
    "refund:replay_by_number:0.5",
];

/// What the client said of one refund (after the shop's retries under the same number).
#[derive(Debug, Clone, PartialEq)]
enum Said {
    Refunded,
    /// A definite refusal: an error whose `outcome_unknown` is false.
    Refused(String),
    /// Still unknown after the retries.
    Unknown(String),
}

#[derive(Debug, Clone)]
struct Asked {
    charge_code: String,
    out_refund_no: String,
    amount_fen: u64,
    /// The number was used before for this other amount (a shop's bug).
    reused_for: Option<u64>,
    said: Said,
    attempts: u32,
}

fn orders() -> usize {
    std::env::var("REFUND_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// The shop's refund: sent, and retried under the same number while the outcome is unknown.
fn refund(c: &Client, req: &RefundRequest) -> (Said, u32) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match c.refund(req) {
            Ok(_) => return (Said::Refunded, attempts),
            Err(e) if !e.outcome_unknown() => return (Said::Refused(e.to_string()), attempts),
            Err(e) if attempts >= 8 => return (Said::Unknown(e.to_string()), attempts),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

#[test]
fn what_the_client_says_of_a_refund_agrees_with_the_ledger_under_faults() {
    let seed = std::env::var("REFUND_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4343);
    let sb = sandbox(0.05, seed, FAULTS);
    let asked: Arc<Mutex<Vec<Asked>>> = Arc::default();
    let n = orders();
    let threads: Vec<_> = (0..4usize)
        .map(|t| {
            let base = sb.base_url().to_owned();
            let asked = asked.clone();
            std::thread::spawn(move || {
                let mut cfg = config(&base, t % 2 == 1, Format::Json);
                cfg.timeout = Duration::from_millis(250);
                let c = Client::new(cfg).expect("client");
                for i in (t..n).step_by(4) {
                    let cc = format!("RF-{i:04}");
                    let paid = 1000 + (i as u64 % 7) * 100;
                    let pay = MicropayRequest::new(
                        &cc,
                        Amount::from_fen(paid).expect("amount"),
                        "130730865806264036",
                        "refund campaign",
                    );
                    c.micropay(&pay)
                        .expect("a paid order (no fault on preOrder)");
                    // Three refunds: two that fit, then one for more than remains; sometimes
                    // the second re-uses the first's number for another amount.
                    let plan = [
                        (format!("{cc}-R1"), 300 + (i as u64 % 3) * 100, None),
                        if i % 4 == 3 {
                            (format!("{cc}-R1"), 200, Some(300 + (i as u64 % 3) * 100))
                        } else {
                            (format!("{cc}-R2"), 200, None)
                        },
                        (format!("{cc}-R3"), paid, None),
                    ];
                    for (no, fen, reused_for) in plan {
                        let req = RefundRequest::new(
                            &cc,
                            &no,
                            Amount::from_fen(fen).expect("amount"),
                            "returned",
                        );
                        let (said, attempts) = refund(&c, &req);
                        asked.lock().unwrap_or_else(|p| p.into_inner()).push(Asked {
                            charge_code: cc.clone(),
                            out_refund_no: no,
                            amount_fen: fen,
                            reused_for,
                            said,
                            attempts,
                        });
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a refunding thread panicked");
    }
    // Requests held back by `late` land before the ledger is read.
    std::thread::sleep(Duration::from_millis(800));
    let ledger = sb.ledger();
    let asked = asked.lock().unwrap_or_else(|p| p.into_inner());
    let mut wrong = Vec::new();
    let mut tally = std::collections::BTreeMap::<&str, u32>::new();
    for a in asked.iter() {
        let kind = match a.said {
            Said::Refunded => "refunded",
            Said::Refused(_) => "refused",
            Said::Unknown(_) => "unknown",
        };
        *tally.entry(kind).or_default() += 1;
        if a.attempts > 1 {
            *tally.entry("retried under the same number").or_default() += 1;
        }
        let held: Vec<u64> = ledger
            .refunds
            .iter()
            .filter(|r| {
                r.charge_code == a.charge_code
                    && r.out_refund_no.as_deref() == Some(&a.out_refund_no)
            })
            .map(|r| r.amount_fen)
            .collect();
        if held.len() > 1 {
            wrong.push(format!("{a:?}: {} refunds under one number", held.len()));
        }
        let this_one = match a.reused_for {
            // A re-used number: the ledger can only hold the earlier refund (another amount).
            Some(earlier) => held.iter().any(|&f| f == a.amount_fen && f != earlier),
            None => held.contains(&a.amount_fen),
        };
        match &a.said {
            Said::Refunded if !this_one => wrong.push(format!(
                "{a:?}: reported refunded, the ledger holds {held:?}"
            )),
            Said::Refused(_) if this_one => wrong.push(format!(
                "{a:?}: reported refused, but the ledger holds the refund"
            )),
            _ => {}
        }
        if a.reused_for.is_some() && a.said == Said::Refunded {
            wrong.push(format!("{a:?}: a re-used number reported refunded"));
        }
    }
    for o in ledger
        .orders
        .iter()
        .filter(|o| o.charge_code.starts_with("RF-"))
    {
        let refunded: u64 = ledger
            .refunds
            .iter()
            .filter(|r| r.charge_code == o.charge_code)
            .map(|r| r.amount_fen)
            .sum();
        if refunded > o.amount_fen {
            wrong.push(format!(
                "{}: {refunded} fen refunded of {} paid",
                o.charge_code, o.amount_fen
            ));
        }
    }
    eprintln!("refund answers: {tally:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The campaign must have met the faults and both kinds of answer.
    assert!(tally.get("refunded").copied().unwrap_or(0) > 0, "{tally:?}");
    assert!(tally.get("refused").copied().unwrap_or(0) > 0, "{tally:?}");
}
