//! The money-safety fault campaign (docs/RELIABILITY.md): many till flows against a sandbox
//! that injects faults on every operation, re-uses charge codes with other amounts and other
//! customers' codes, drops, garbles, truncates and delays requests past the client timeout,
//! and strips fields from replies. Afterwards every reported outcome is reconciled with the
//! sandbox's ledger.
//!
//! ```text
//! scripts/campaign [FLOWS] [SEED] [TILLS]      defaults: 10000, 20261203, 32
//! ```
//!
//! Prints a JSON summary and exits non-zero on any mismatch. Not part of CI (it takes minutes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sosopay::models::MicropayRequest;
use sosopay::{Amount, Client, ClientConfig, OutcomeStatus, RetryPolicy, WaitOptions};
use sosopay_sandbox::{FaultRule, Sandbox, SandboxConfig};

const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
const TIME_SCALE: f64 = 0.05; // the 80 s hold lasts 4 s

// Sandbox payment codes (docs/SANDBOX.md).
const CODES: [&str; 8] = [
    "130730865806264036", // pays at once
    "284214903060794755", // Alipay, pays at once
    "130000000000001001", // confirms, pays after 1 s (scaled)
    "130000000000002001", // USERPAYING, pays after 1 s
    "280000000000003000", // insufficient funds: closed (6)
    "130000000000005000", // USERPAYING, never confirms: cancelled at the deadline
    "130000000000007000", // EXCEPTION reply, paid
    "130000000000004000", // never confirms: the gateway cancels at 80 s (2)
];
const OTHER_CUSTOMER: &str = "134111111111111111";

const FAULTS: &[&str] = &[
    "preOrder:drop_reply:0.08",
    "preOrder:drop:0.03",
    "preOrder:http503:0.03",
    "preOrder:http500:0.03:after",
    "preOrder:garble:0.03",
    "preOrder:truncate:0.02",
    "preOrder:late:0.04:1500",
    "preOrder:omit:0.04:STATE",
    "preOrder:omit:0.02:AMT",
    "preOrder:omit:0.01:CHARGE_CODE",
    "preOrder:wrong_root:0.02",
    "preOrder:list_state:0.02",
    "preOrder:foreign_code:0.02",
    "preOrder:contradict:0.02",
    "preOrder:delay:0.03:300",
    "query:http502:0.15",
    "query:drop:0.05",
    "query:garble:0.04",
    "query:omit:0.04:STATE",
    "query:omit:0.03:AMT",
    "query:list_state:0.03",
    "query:foreign_code:0.02",
    "query:contradict:0.03",
    "query:lag:0.05:500",
    "cancelTrade:drop_reply:0.15",
    "cancelTrade:http503:0.1",
    "cancelTrade:drop:0.05",
    "cancelTrade:stale_reversal:0.05:300",
];

#[derive(Clone)]
struct Run {
    charge_code: String,
    amount_fen: u64,
    dynamic_id: String,
    /// For a flow re-using another flow's charge code: that order's state before.
    reused_from_state: Option<Option<u64>>,
    /// When the flow started (Unix ms, the clock of the sandbox's fault events).
    started_unix_ms: u64,
    status: OutcomeStatus,
    reason: String,
    took: Duration,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flows: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seed: u64 = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_261_203);
    let tills: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let faults: Vec<FaultRule> = FAULTS
        .iter()
        .map(|f| f.parse().unwrap_or_else(|e| panic!("rule {f}: {e}")))
        .collect();
    let sb = Arc::new(
        Sandbox::start(SandboxConfig {
            time_scale: TIME_SCALE,
            seed,
            faults,
            ..Default::default()
        })
        .unwrap_or_else(|e| panic!("sandbox: {e}")),
    );
    // The deadline (2 s) comes before the gateway's own cancel (4 s): the flows cancel.
    // A late request arrives within the micropay timeout (1 s) + the hold (4 s).
    let opts = WaitOptions {
        deadline: Duration::from_secs(2),
        poll_interval: Duration::from_millis(100),
        max_poll_interval: Duration::from_millis(400),
        cancel_attempts: 5,
        max_duration: Duration::from_secs(15),
        gateway_hold: Duration::from_secs(4),
    };
    let runs: Arc<Mutex<Vec<Run>>> = Arc::default();
    let started = Instant::now();
    let threads: Vec<_> = (0..tills)
        .map(|t| {
            let sb = sb.clone();
            let runs = runs.clone();
            std::thread::spawn(move || {
                let mut cfg = ClientConfig::new(BUSI, KEY, sb.base_url())
                    .unwrap_or_else(|e| panic!("config: {e}"));
                cfg.encrypt = t % 2 == 1;
                cfg.timeout = Duration::from_secs(2);
                cfg.micropay_timeout = Duration::from_secs(1);
                cfg.default_oper_id = Some(format!("till{t}"));
                cfg.default_dev_id = Some("campaign".into());
                cfg.retry = RetryPolicy {
                    max_attempts: 3,
                    base_delay: Duration::from_millis(20),
                    max_delay: Duration::from_millis(100),
                };
                let c = Client::new(cfg).unwrap_or_else(|e| panic!("client: {e}"));
                let mut mine: Vec<(String, u64, &str)> = Vec::new();
                // How often each code was re-used: every re-use is another payment (two
                // identical ones, same code, amount and customer, are one payment retried, and
                // the ledger could not tell whose order it holds).
                let mut reuses: HashMap<String, u64> = HashMap::new();
                for i in (t..flows).step_by(tills) {
                    let (cc, fen, code, reused) = if i % 10 == 9 && !mine.is_empty() {
                        // Re-use one of this till's finished charge codes: another amount,
                        // or (the first time) the same amount and another customer's code.
                        let (cc, fen, code) = mine[i % mine.len()].clone();
                        let state = sb.order(&cc).and_then(|o| o.state.map(u64::from));
                        let n = reuses.entry(cc.clone()).or_default();
                        *n += 1;
                        if i % 20 == 19 && *n == 1 {
                            (cc, fen, OTHER_CUSTOMER, Some(state))
                        } else {
                            (cc, fen + 100 * *n, code, Some(state))
                        }
                    } else {
                        let fen = 100 + (i as u64 % 50) * 10;
                        (format!("CP-{i:06}"), fen, CODES[i % CODES.len()], None)
                    };
                    let req = MicropayRequest::new(
                        &cc,
                        Amount::from_fen(fen).unwrap_or_else(|e| panic!("amount: {e}")),
                        code,
                        "campaign",
                    );
                    let t0 = Instant::now();
                    let started_unix_ms = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64);
                    let out = c
                        .micropay_and_wait(&req, &opts)
                        .unwrap_or_else(|e| panic!("flow {cc}: {e}"));
                    if reused.is_none() {
                        mine.push((cc.clone(), fen, code));
                    }
                    runs.lock().unwrap_or_else(|p| p.into_inner()).push(Run {
                        charge_code: cc,
                        amount_fen: fen,
                        dynamic_id: code.to_owned(),
                        reused_from_state: reused,
                        started_unix_ms,
                        status: out.status,
                        reason: out.reason,
                        took: t0.elapsed(),
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join()
            .unwrap_or_else(|_| panic!("a till thread panicked"));
    }
    let elapsed = started.elapsed();
    // Let late requests land before reading the ledger.
    std::thread::sleep(Duration::from_secs(2));
    let ledger = sb.ledger_json();
    let report = reconcile(
        &runs.lock().unwrap_or_else(|p| p.into_inner()),
        &ledger,
        elapsed,
    );
    println!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    let bad = [
        "outcome_ledger_mismatches",
        "double_charges",
        "money_posts_resent",
        "reversals_of_another_order",
        "unresolved",
        "identical_payments",
    ]
    .iter()
    .any(|k| report[k].as_u64() != Some(0));
    if bad {
        std::process::exit(1);
    }
}

fn reconcile(runs: &[Run], ledger: &Value, elapsed: Duration) -> Value {
    let orders = ledger["orders"].as_array().cloned().unwrap_or_default();
    let mut by_code: HashMap<String, Vec<&Value>> = HashMap::new();
    for o in &orders {
        if let Some(cc) = o["charge_code"].as_str() {
            by_code.entry(cc.to_owned()).or_default().push(o);
        }
    }
    let mut statuses: HashMap<String, u64> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut double = 0u64;
    let mut reversals = 0u64;
    let mut unresolved = 0u64;
    let mut longest = Duration::ZERO;
    // The campaign's own check: no two flows are the same payment (see `reuses`).
    let mut payments: HashMap<(&str, u64, &str), u64> = HashMap::new();
    for r in runs {
        *payments
            .entry((&r.charge_code, r.amount_fen, &r.dynamic_id))
            .or_default() += 1;
    }
    let identical = payments.values().filter(|n| **n > 1).count();
    for r in runs {
        longest = longest.max(r.took);
        *statuses
            .entry(format!("{:?}", r.status).to_lowercase())
            .or_default() += 1;
        let recs = by_code.get(&r.charge_code).cloned().unwrap_or_default();
        if recs.len() > 1 {
            double += 1;
        }
        let o = recs.first();
        let state = o.and_then(|o| o["state"].as_u64());
        // The order is this run's payment when its amount and customer code are this run's.
        let mine = o.filter(|o| {
            o["amount_fen"].as_u64() == Some(r.amount_fen)
                && o["dynamic_id"].as_str() == Some(r.dynamic_id.as_str())
        });
        let my_state = mine.and_then(|o| o["state"].as_u64());
        let taken = matches!(my_state, Some(1 | 4 | 5 | 8 | 9));
        if r.status == OutcomeStatus::Unresolved {
            unresolved += 1;
        }
        if let Some(Some(before)) = r.reused_from_state {
            // The code belonged to an earlier payment's order: this flow must not touch it.
            if Some(before) != state {
                reversals += 1;
                mismatches.push(format!(
                    "{}: re-used code changed the other order's state {before} -> {state:?}",
                    r.charge_code
                ));
            }
        }
        let ok = match r.status {
            OutcomeStatus::Paid => taken,
            OutcomeStatus::Failed => !taken && my_state != Some(2),
            OutcomeStatus::Cancelled => my_state == Some(2),
            OutcomeStatus::Conflict => o.is_some() && mine.is_none(),
            OutcomeStatus::Unresolved => true,
            OutcomeStatus::Pending => false,
        };
        if !ok {
            // The faults this charge code met, to tell what happened.
            let met: Vec<String> = ledger["faults"]["events"]
                .as_array()
                .map(|evs| {
                    evs.iter()
                        .filter(|e| e["charge_code"].as_str() == Some(r.charge_code.as_str()))
                        .map(|e| {
                            let at = e["at_ms"].as_u64().unwrap_or(0);
                            format!(
                                "{}:{} at +{} ms",
                                e["op"].as_str().unwrap_or("?"),
                                e["kind"].as_str().unwrap_or("?"),
                                at as i64 - r.started_unix_ms as i64
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            mismatches.push(format!(
                "{}: reported {:?} ({}) after {} ms but the ledger says {:?}; faults met: {met:?}",
                r.charge_code,
                r.status,
                r.reason,
                r.took.as_millis(),
                o.map(|o| (
                    o["state"].clone(),
                    o["amount_fen"].clone(),
                    o["dynamic_id"].clone()
                ))
            ));
        }
    }
    let requests = &ledger["requests"];
    let preorders = requests["preOrder"].as_u64().unwrap_or(0);
    let injected = &ledger["faults"]["injected"];
    let fault_total: u64 = injected
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    let request_total: u64 = requests
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    let preorder_faults: u64 = injected
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with("preOrder:"))
                .filter_map(|(_, v)| v.as_u64())
                .sum()
        })
        .unwrap_or(0);
    json!({
        "flows": runs.len(),
        "reused_charge_codes": runs.iter().filter(|r| r.reused_from_state.is_some()).count(),
        "seconds": elapsed.as_secs_f64(),
        "longest_flow_ms": longest.as_millis() as u64,
        "statuses": statuses,
        "requests": requests,
        "faults_injected": fault_total,
        "fault_rate_all_requests": fault_total as f64 / request_total.max(1) as f64,
        "fault_rate_micropay": preorder_faults as f64 / preorders.max(1) as f64,
        "faults_by_kind": injected,
        "outcome_ledger_mismatches": mismatches.len(),
        "identical_payments": identical,
        "double_charges": double,
        "money_posts_resent": preorders.saturating_sub(runs.len() as u64),
        "reversals_of_another_order": reversals,
        "unresolved": unresolved,
        "examples": mismatches.iter().take(20).collect::<Vec<_>>(),
    })
}
