//! `sosopay demo`: the SDK's main job, shown end to end on the embedded sandbox gateway.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use sosopay::models::{Goods, MicropayRequest, OrderRequest, RefundRequest};
use sosopay::notify::Delivery;
use sosopay::{
    Amount, Channel, Client, ClientConfig, MerchantKey, OrderState, OutcomeStatus, RequestLog,
    WaitOptions,
};
use sosopay_sandbox::{Sandbox, SandboxConfig};

use crate::output;
use crate::receiver::{Event, Receiver};
use crate::CliError;

/// The document's test merchant.
const BUSI: &str = "0010000001";
const KEY: &str = "98SDKFUO432HNODS098EEE07U9DUOIUE";
/// A sandbox test code (docs/SANDBOX.md): WeChat, "user paying" at once (STATE 0), and the
/// customer confirms 4 s later.
const PAYING_THEN_PAYS_4S: &str = "130000000000002004";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Send plaintext JSON instead of the 3DES envelope.
    #[arg(long)]
    plain: bool,
    /// Don't draw the QR code.
    #[arg(long)]
    no_qr: bool,
}

fn yuan(s: &str) -> Result<Amount, CliError> {
    Ok(Amount::parse_yuan(s)?)
}

/// Prints a line of the demo. The demo's job is its output: when stdout's reader has gone
/// (`sosopay demo | head`), it stops there, quietly, with exit status 0.
fn say(text: &str) -> Result<(), CliError> {
    output::line(text)?;
    if output::stdout_closed() {
        return Err(CliError::Quiet(0));
    }
    Ok(())
}

/// `say(&format!(…))?`.
macro_rules! say {
    ($($arg:tt)*) => {
        say(&format!($($arg)*))?
    };
}

fn step(n: u32, title: &str) -> Result<(), CliError> {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal() {
        say!("\n\x1b[1m{n}. {title}\x1b[0m");
    } else {
        say!("\n{n}. {title}");
    }
    Ok(())
}

struct Row {
    what: &'static str,
    charge_code: String,
    amount: Amount,
    outcome: String,
}

pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let sandbox = Sandbox::start(SandboxConfig::default())
        .map_err(|e| CliError::msg(format!("could not start the sandbox: {e}")))?;
    let key = MerchantKey::new(KEY)?;
    let receiver = Receiver::start(key, BUSI)
        .map_err(|e| CliError::msg(format!("could not start the notification receiver: {e}")))?;
    say!("sosopay demo: a shop taking payments through the SouSou gateway (an embedded sandbox).");
    say!("  gateway        {}", sandbox.base_url());
    say!("  webhook        {}", receiver.url);
    say!(
        "  merchant       {BUSI} (the document's test merchant), 3DES envelope {}",
        if args.plain { "off" } else { "on" }
    );

    let mut config = ClientConfig::new(BUSI, KEY, sandbox.base_url())?;
    config.encrypt = !args.plain;
    config.default_oper_id = Some("cashier-01".into());
    config.default_dev_id = Some("till-01".into());
    config.on_request = Some(Arc::new(|log: &RequestLog| {
        let what = match (&log.result_code, &log.error, &log.order_state) {
            (Some(code), None, Some(state)) => format!(
                "{code} · order state {state} ({})",
                OrderState::from_wire(state).name()
            ),
            (Some(code), None, None) => code.clone(),
            (_, Some(e), _) => e.clone(),
            (None, None, _) => "?".into(),
        };
        // A closed stdout is noticed by the demo's next line.
        let _ = output::line(&format!(
            "     → {:<12} attempt {} · {:>5} ms · {}",
            log.operation,
            log.attempt,
            log.duration.as_millis(),
            what
        ));
    }));
    let client = Client::new(config)?;
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase();
    let mut rows: Vec<Row> = Vec::new();

    // 1. A QR order.
    step(
        1,
        "A customer orders two coffees; the till shows a QR code (主扫 QR order)",
    )?;
    let qr_code = format!("DEMO-QR-{run_id}");
    let price = yuan("6.40")?;
    let mut order = OrderRequest::new(&qr_code, yuan("12.80")?, Channel::Wechat, "Two coffees");
    order.notify_url = Some(format!("{}?_type=json&encrypt=3DES", receiver.url));
    order.time_expire = Some(300);
    order.goods = vec![Goods {
        quantity: 2,
        ..Goods::new(
            "COFFEE-1",
            "Flat white",
            "drinks",
            price,
            "Flat white, large",
        )
    }];
    let reply = client.create_qr_order(&order)?;
    let link = reply
        .bar_code
        .clone()
        .ok_or_else(|| CliError::msg("the order reply has no BAR_CODE"))?;
    say!(
        "   order {qr_code}: {} · gateway order {}",
        reply.result.code,
        reply.charge_down_code.clone().unwrap_or_default()
    );
    say!("   pay link: {link}");
    if !args.no_qr {
        for line in crate::qr::render(&link).lines() {
            say!("   {line}");
        }
    }

    // 2. The customer pays.
    step(2, "The customer scans it and pays in WeChat (the sandbox's admin endpoint plays the customer)")?;
    sandbox
        .pay(&qr_code)
        .map_err(|e| CliError::msg(format!("the sandbox could not pay the order: {e}")))?;
    // Waiting for the order as created: only an order of this amount counts as paid.
    let waited = client.wait_for_payment(
        &order,
        &WaitOptions {
            deadline: Duration::from_secs(20),
            poll_interval: Duration::from_millis(300),
            ..Default::default()
        },
    )?;
    say!(
        "   wait_for_payment: {:?} after {} queries",
        waited.status,
        waited.queries
    );
    if waited.status != OutcomeStatus::Paid {
        return Err(CliError::msg(format!(
            "the QR order was not paid: {}",
            waited.reason
        )));
    }

    // 3. The notification.
    step(3, "The gateway notifies the shop's webhook; the SDK verifies the signature, decrypts, and processes it once")?;
    let mut notified = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while notified.is_none() && Instant::now() < deadline {
        match receiver.next(Duration::from_millis(500)) {
            Some(Event::Verified(n, Delivery::Processed)) => notified = Some(n),
            Some(Event::Verified(_, d)) => say!(
                "   (a repeated delivery: {d:?}, answered {})",
                d.http_status()
            ),
            Some(Event::Rejected(why)) => say!("   rejected a delivery: {why}"),
            None => {}
        }
    }
    let n =
        notified.ok_or_else(|| CliError::msg("no verified notification arrived within 15 s"))?;
    say!(
        "   PAY_NODIFY verified: order {} · state {} · {} yuan · channel order {}",
        n.order.charge_code.clone().unwrap_or_default(),
        n.order.state.as_ref().map(|s| s.name()).unwrap_or("?"),
        n.order.amount.map(|a| a.to_string()).unwrap_or_default(),
        n.order.charge_third_code.clone().unwrap_or_default()
    );
    for b in &n.order.fund_bills {
        say!(
            "   paid from fund channel {} ({}): {} yuan",
            b.fund_channel.as_wire(),
            b.fund_channel.name(),
            b.amount
        );
    }
    rows.push(Row {
        what: "QR order (WeChat)",
        charge_code: qr_code.clone(),
        amount: yuan("12.80")?,
        outcome: "paid, notified".into(),
    });

    // 4. A query.
    step(
        4,
        "The shop queries the order (the source of truth when a notification is missed)",
    )?;
    let q = client.query_charge(&qr_code)?;
    say!("{}", indent(&crate::ops::describe_order(&q.order)));

    // 5. A partial refund.
    step(5, "One coffee is returned: a partial refund of 6.40 yuan")?;
    let refund_no = format!("DEMO-RF-{run_id}");
    let r = client.refund(&RefundRequest::new(
        &qr_code,
        &refund_no,
        price,
        "one coffee returned",
    ))?;
    say!(
        "   refund {refund_no}: {} · {}",
        r.result.code,
        r.result.info
    );
    let q = client.query_charge(&qr_code)?;
    let state = q
        .order
        .state
        .clone()
        .unwrap_or(OrderState::Unknown(String::new()));
    say!("   the order is now {} ({})", state.name(), state.as_wire());
    rows.push(Row {
        what: "partial refund",
        charge_code: qr_code.clone(),
        amount: price,
        outcome: format!("refunded, order {}", state.name()),
    });

    // 6. The till flow.
    step(6, "At the till: the cashier scans a customer's code; the customer takes a few seconds to confirm")?;
    let till_code = format!("DEMO-TILL-{run_id}");
    let mut mp = MicropayRequest::new(&till_code, yuan("23.50")?, PAYING_THEN_PAYS_4S, "Lunch set");
    mp.channel = Channel::Auto;
    let opts = WaitOptions {
        deadline: Duration::from_secs(40),
        poll_interval: Duration::from_millis(700),
        max_poll_interval: Duration::from_secs(2),
        ..Default::default()
    };
    let out = client.micropay_and_wait(&mp, &opts)?;
    say!(
        "   micropay_and_wait: {} after {} queries",
        output::outcome_summary(out.status, &out.reason),
        out.queries
    );
    if out.status != OutcomeStatus::Paid {
        return Err(CliError::msg(format!(
            "the till payment was not paid: {}",
            out.reason
        )));
    }
    rows.push(Row {
        what: "till payment (micropay)",
        charge_code: till_code.clone(),
        amount: yuan("23.50")?,
        outcome: "paid after polling".into(),
    });

    // 7. Summary and reconciliation.
    step(7, "Summary, reconciled with the sandbox's ledger")?;
    say!(
        "   {:<26}{:<28}{:>10}  outcome",
        "what",
        "charge code",
        "yuan"
    );
    say!("   {}", "-".repeat(86));
    for row in &rows {
        say!(
            "   {:<26}{:<28}{:>10}  {}",
            row.what,
            row.charge_code,
            row.amount.to_string(),
            row.outcome
        );
    }
    let ledger = sandbox.ledger_json();
    let check = reconcile(&ledger, &qr_code, &till_code, price)?;
    say!("   {}", "-".repeat(86));
    for line in check {
        say!("   ✓ {line}");
    }
    say!(
        "\nDone in {:.1} s. Everything the SDK reported agrees with the gateway's ledger.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("   {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compares what the SDK reported with the sandbox's ledger.
fn reconcile(
    ledger: &serde_json::Value,
    qr: &str,
    till: &str,
    refunded: Amount,
) -> Result<Vec<String>, CliError> {
    let orders = ledger["orders"]
        .as_array()
        .ok_or_else(|| CliError::msg("the ledger has no orders"))?;
    let find = |code: &str| {
        orders
            .iter()
            .find(|o| o["charge_code"].as_str() == Some(code))
    };
    let qr_o = find(qr).ok_or_else(|| CliError::msg("the ledger lacks the QR order"))?;
    let till_o = find(till).ok_or_else(|| CliError::msg("the ledger lacks the till order"))?;
    let mut out = Vec::new();
    let state = |o: &serde_json::Value| o["state"].as_u64();
    if state(qr_o) != Some(4) {
        return Err(CliError::msg(format!(
            "ledger: the QR order is in state {:?}, expected 4 (partially refunded)",
            state(qr_o)
        )));
    }
    if qr_o["refunded_fen"].as_u64() != Some(refunded.fen()) {
        return Err(CliError::msg(format!(
            "ledger: the QR order's refunded amount is {}, expected {} fen",
            qr_o["refunded_fen"],
            refunded.fen()
        )));
    }
    out.push(format!(
        "QR order: 1280 fen paid, {} fen refunded, state 4 (partially refunded)",
        refunded.fen()
    ));
    if state(till_o) != Some(1) {
        return Err(CliError::msg(format!(
            "ledger: the till order is in state {:?}, expected 1 (paid)",
            state(till_o)
        )));
    }
    out.push(format!(
        "till order: {} fen paid, state 1 (paid), charged once",
        till_o["amount_fen"]
    ));
    let charged = orders
        .iter()
        .filter(|o| o["charge_code"].as_str() == Some(till))
        .count();
    if charged != 1 {
        return Err(CliError::msg(format!(
            "ledger: {charged} orders for the till's charge code"
        )));
    }
    let delivered = ledger["notifications"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|n| {
                    n["charge_code"].as_str() == Some(qr) && n["http_status"].as_u64() == Some(200)
                })
                .count()
        })
        .unwrap_or(0);
    if delivered == 0 {
        return Err(CliError::msg(
            "ledger: no notification of the QR order was answered 200",
        ));
    }
    out.push(format!(
        "notifications: {delivered} delivered and answered 200 by the webhook"
    ));
    Ok(out)
}
