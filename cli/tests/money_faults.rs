//! Refunds, cancels, top-ups and plain micropays under faults, the way BEHAVIOUR.md tells a shop
//! to make them.
//!
//! **Refunds.** A refund is sent once (never re-sent by the client), and after an error whose
//! `outcome_unknown` is true the shop retries under the same `OUT_REFUND_NO`. The sandbox drops, loses, delays, garbles, truncates
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
//! **Cancels** (reversals) are retried by the client itself (idempotent), and again by the shop
//! while the outcome is unknown. The orders are paid, awaiting payment or closed; the sandbox
//! drops, delays, garbles and misroutes cancel replies, carries some out late, and lets a
//! payment land as the cancel arrives (`stale_reversal`). "Cancelled" only for an order the
//! ledger shows cancelled (2), a definite refusal only for one it does not.
//!
//! **Plain micropays** (no flow) are sent once: a reply showing the order paid only for this
//! payment's paid order in the ledger, a definite refusal only when no order is paid.
//!
//! **Top-ups** have no merchant number to retry under: each is sent once; "done" only for a
//! phone the ledger shows topped up, a definite refusal only for one it does not.
//!
//! `MONEY_ORDERS` sets the number of orders of each test (default 40, a few seconds),
//! `MONEY_SEED` the sandbox's fault seed (default 4343).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::{config, sandbox};
use sosopay::codec::Format;
use sosopay::models::{CancelRequest, FlowRechargeRequest, MicropayRequest, RefundRequest};
use sosopay::{Amount, Client};

/// The faults of every test here, on `op`: lost, refused, late, garbled and misrouted answers,
/// and requests carried out after the client gave up; then `extra` (the operation's own).
fn faults(op: &str, extra: &[&str]) -> Vec<String> {
    [
        "drop_reply:0.15",
        "drop:0.05",
        "http503:0.08",
        "http500:0.05:after",
        "garble:0.05",
        "truncate:0.04",
        "delay:0.05:400",
        "late:0.04:500",
        "wrong_root:0.03",
    ]
    .iter()
    .chain(extra)
    .map(|f| format!("{op}:{f}"))
    .collect()
}

/// Starts a sandbox with `faults`.
fn sandbox_with(faults: &[String]) -> sosopay_sandbox::Sandbox {
    let rules: Vec<&str> = faults.iter().map(String::as_str).collect();
    sandbox(0.05, env_or("MONEY_SEED", 4343), &rules)
}

/// Runs `each(client, i)` for every order `i` on four threads (tills), each with its own client
/// (every other one with the 3DES envelope) and a 250 ms timeout; what they return, once the
/// requests held back by `late` have landed too.
fn on_four_tills<T: Send + 'static>(
    sb: &sosopay_sandbox::Sandbox,
    each: impl Fn(&Client, usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let each = Arc::new(each);
    let n = orders();
    let threads: Vec<_> = (0..4usize)
        .map(|t| {
            let base = sb.base_url().to_owned();
            let each = each.clone();
            std::thread::spawn(move || {
                let mut cfg = config(&base, t % 2 == 1, Format::Json);
                cfg.timeout = Duration::from_millis(250);
                let c = Client::new(cfg).expect("client");
                (t..n).step_by(4).map(|i| each(&c, i)).collect::<Vec<T>>()
            })
        })
        .collect();
    let out = threads
        .into_iter()
        .flat_map(|t| t.join().expect("a till thread panicked"))
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    out
}

/// The end of a test: no disagreement, and both kinds of answer met (`refusals`: definite
/// refusals are expected too).
fn verdict(what: &str, tally: &BTreeMap<&'static str, u32>, wrong: &[String], refusals: bool) {
    eprintln!("{what} answers: {tally:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(tally.get("done").copied().unwrap_or(0) > 0, "{tally:?}");
    if refusals {
        assert!(tally.get("refused").copied().unwrap_or(0) > 0, "{tally:?}");
    }
}

/// What the client said of one refund or cancel (after the shop's retries).
#[derive(Debug, Clone, PartialEq)]
enum Said {
    /// Refunded, or cancelled.
    Done,
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

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn orders() -> usize {
    env_or("MONEY_ORDERS", 40) as usize
}

/// The shop's way with a money-moving call: made, and made again (the same request: the same
/// `OUT_REFUND_NO`, the same charge code) while the outcome is unknown, up to `times` in all.
fn until_known<T>(times: u32, mut call: impl FnMut() -> sosopay::Result<T>) -> (Said, u32) {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match call() {
            Ok(_) => return (Said::Done, attempts),
            Err(e) if !e.outcome_unknown() => return (Said::Refused(e.to_string()), attempts),
            Err(e) if attempts >= times => return (Said::Unknown(e.to_string()), attempts),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Counts what the client said.
fn count(tally: &mut BTreeMap<&'static str, u32>, said: &Said, attempts: u32) {
    let kind = match said {
        Said::Done => "done",
        Said::Refused(_) => "refused",
        Said::Unknown(_) => "unknown",
    };
    *tally.entry(kind).or_default() += 1;
    if attempts > 1 {
        *tally.entry("made again").or_default() += 1;
    }
}

#[test]
fn what_the_client_says_of_a_refund_agrees_with_the_ledger_under_faults() {
    let sb = sandbox_with(&faults(
        "refund",
        &[
            "foreign_code:0.03",
            "omit:0.03:CHARGE_CODE",
            "replay_by_number:0.5",
        ],
    ));
    let asked: Vec<Asked> = on_four_tills(&sb, move |c, i| {
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
        plan.map(|(no, fen, reused_for)| {
            let req =
                RefundRequest::new(&cc, &no, Amount::from_fen(fen).expect("amount"), "returned");
            let (said, attempts) = until_known(8, || c.refund(&req));
            Asked {
                charge_code: cc.clone(),
                out_refund_no: no,
                amount_fen: fen,
                reused_for,
                said,
                attempts,
            }
        })
    })
    .into_iter()
    .flatten()
    .collect();
    let ledger = sb.ledger();
    let mut wrong = Vec::new();
    let mut tally = BTreeMap::new();
    for a in asked.iter() {
        count(&mut tally, &a.said, a.attempts);
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
            Said::Done if !this_one => wrong.push(format!(
                "{a:?}: reported refunded, the ledger holds {held:?}"
            )),
            Said::Refused(_) if this_one => wrong.push(format!(
                "{a:?}: reported refused, but the ledger holds the refund"
            )),
            _ => {}
        }
        if a.reused_for.is_some() && a.said == Said::Done {
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
    verdict("refund", &tally, &wrong, true);
}

#[test]
fn what_the_client_says_of_a_cancel_agrees_with_the_ledger_under_faults() {
    let sb = sandbox_with(&faults("cancelTrade", &["stale_reversal:0.05:200"]));
    // Paid at once; awaiting payment (the customer never confirms); closed (no funds).
    let codes = [
        "130730865806264036",
        "130000000000005000",
        "280000000000003000",
    ];
    let said = on_four_tills(&sb, move |c, i| {
        let cc = format!("CX-{i:04}");
        let pay = MicropayRequest::new(
            &cc,
            Amount::from_fen(500).expect("amount"),
            codes[i % codes.len()],
            "cancel campaign",
        );
        // No fault on preOrder: the order exists (paid, awaiting or closed).
        let _ = c.micropay(&pay);
        let req = CancelRequest::new(&cc);
        let (s, attempts) = until_known(8, || c.cancel(&req));
        (cc, s, attempts)
    });
    let mut wrong = Vec::new();
    let mut tally = BTreeMap::new();
    for (cc, s, attempts) in said.iter() {
        count(&mut tally, s, *attempts);
        let state = sb.order(cc).and_then(|o| o.state);
        match s {
            Said::Done if state != Some(2) => wrong.push(format!(
                "{cc}: reported cancelled, the ledger shows state {state:?}"
            )),
            Said::Refused(why) if state == Some(2) => wrong.push(format!(
                "{cc}: reported refused ({why}), but the ledger shows it cancelled"
            )),
            _ => {}
        }
    }
    verdict("cancel", &tally, &wrong, true);
}

/// Top-ups have no merchant number to retry under (BEHAVIOUR.md): each is sent once, and the
/// client's answer must agree with the ledger: "done" only if the phone was topped up, a
/// definite refusal only if it was not.
#[test]
fn what_the_client_says_of_a_top_up_agrees_with_the_ledger_under_faults() {
    let sb = sandbox_with(&faults("flowRecharge", &["foreign_code:0.05"]));
    let said = on_four_tills(&sb, |c, i| {
        let phone = format!("138{i:08}");
        let (s, _) = until_known(1, || {
            c.flow_recharge(&FlowRechargeRequest::new(&phone, 100))
        });
        (phone, s)
    });
    let ledger = sb.ledger();
    let mut wrong = Vec::new();
    let mut tally = BTreeMap::new();
    for (phone, s) in &said {
        count(&mut tally, s, 1);
        let held = ledger
            .flow_recharges
            .iter()
            .filter(|t| &t.phone_no == phone)
            .count();
        match s {
            _ if held > 1 => wrong.push(format!("{phone}: topped up {held} times")),
            Said::Done if held != 1 => wrong.push(format!("{phone}: reported done, not held")),
            Said::Refused(why) if held != 0 => {
                wrong.push(format!("{phone}: reported refused ({why}), but topped up"))
            }
            _ => {}
        }
    }
    verdict("top-up", &tally, &wrong, false);
}

/// What a plain micropay showed: the order's state code in its reply, or the error
/// (`outcome_unknown`, message).
type Shown = Result<Option<u32>, (bool, String)>;

/// The plain `micropay` (no flow): each sent once, under the payment campaign's reply faults.
/// A reply that shows the order paid must be this payment's paid order in the ledger; a
/// definite refusal must leave no paid order. (The flows settle the rest by querying.)
#[test]
fn what_a_plain_micropay_says_agrees_with_the_ledger_under_faults() {
    let sb = sandbox_with(&faults(
        "preOrder",
        &[
            "omit:0.04:STATE",
            "omit:0.02:AMT",
            "omit:0.02:CHARGE_CODE",
            "list_state:0.02",
            "foreign_code:0.03",
            "contradict:0.03",
        ],
    ));
    // Pays at once; Alipay, pays at once; never confirms; no funds (closed).
    let codes = [
        "130730865806264036",
        "284214903060794755",
        "130000000000005000",
        "280000000000003000",
    ];
    let said: Vec<(String, u64, Shown)> = on_four_tills(&sb, move |c, i| {
        let cc = format!("MP-{i:04}");
        let fen = 100 + (i as u64 % 9) * 10;
        let req = MicropayRequest::new(
            &cc,
            Amount::from_fen(fen).expect("amount"),
            codes[i % codes.len()],
            "plain micropay",
        );
        let got = match c.micropay(&req) {
            Ok(reply) => Ok(reply.state.map(|s| s.as_wire().parse().unwrap_or(99))),
            Err(e) => Err((e.outcome_unknown(), e.to_string())),
        };
        (cc, fen, got)
    });
    let mut wrong = Vec::new();
    let mut tally = BTreeMap::new();
    for (cc, fen, got) in said.iter() {
        let order = sb.order(cc);
        let paid_here = order
            .as_ref()
            .is_some_and(|o| o.state == Some(1) && o.amount_fen == *fen);
        let kind = match got {
            Ok(Some(1)) => {
                if !paid_here {
                    wrong.push(format!(
                        "{cc}: the reply shows it paid, the ledger shows {:?}",
                        order.as_ref().map(|o| (o.state, o.amount_fen))
                    ));
                }
                "done"
            }
            Ok(_) => "shown unpaid",
            Err((false, why)) => {
                if order.as_ref().is_some_and(|o| o.state == Some(1)) {
                    wrong.push(format!("{cc}: a definite refusal ({why}), but paid"));
                }
                "refused"
            }
            Err((true, _)) => "unknown",
        };
        *tally.entry(kind).or_default() += 1;
    }
    verdict("micropay", &tally, &wrong, false);
}
