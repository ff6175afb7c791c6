//! Gateway operations from the command line.

use clap::{Args, Subcommand};
use sosopay::models::{
    CancelRequest, MicropayRequest, OrderDetails, OrderRequest, QueryRequest, RefundRequest,
};
use sosopay::{
    Amount, CancelToken, Channel, Client, ClientOptions, DynamicIdType, Environment, FlowControl,
    OutcomeStatus, SerType, WaitOptions,
};

use crate::output;
use crate::CliError;

/// Credentials, connection and output of the gateway operations, from flags or the
/// environment. Only the operations take them (not the demo, the sandbox or the tools).
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection and output")]
pub struct Conn {
    /// Merchant code (BUSI_ID).
    #[arg(long, env = "SOSOPAY_BUSI_CODE")]
    pub busi_code: Option<String>,
    /// Merchant key (prefer the SOSOPAY_KEY variable: flags show in `ps`).
    #[arg(long, env = "SOSOPAY_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Gateway base URL (…/openGateway/openService/).
    #[arg(long, env = "SOSOPAY_BASE_URL")]
    pub base_url: Option<String>,
    /// Named environment instead of --base-url: production (or prod), production-http (or
    /// prod-http), uat (or test); any case, `_` for `-`.
    #[arg(long)]
    pub env: Option<String>,
    /// Use the 3DES envelope.
    #[arg(long)]
    pub encrypt: bool,
    /// Print JSON instead of text (state and channel_type as numbers, amounts in fen).
    #[arg(long)]
    pub json: bool,
    /// PEM file of the CAs to trust for HTTPS instead of the built-in roots (a TLS-inspecting
    /// proxy's, a private CA's).
    #[arg(long, env = "SOSOPAY_CA_FILE")]
    pub ca_file: Option<String>,
}

/// The core's names of the settings, as this tool spells them (its flags).
const FLAGS: &[(&str, &str)] = &[
    ("busi_code", "--busi-code"),
    ("key", "--key"),
    ("base_url", "--base-url"),
    ("environment", "--env"),
    ("ca_file", "--ca-file"),
];

impl Conn {
    pub fn client(&self) -> Result<Client, CliError> {
        let busi = self.busi_code.clone().ok_or_else(|| {
            CliError::invalid(format!(
                "no merchant code: pass --busi-code or set SOSOPAY_BUSI_CODE{}",
                crate::blank_note("SOSOPAY_BUSI_CODE")
            ))
        })?;
        let key = self.key.clone().ok_or_else(|| {
            CliError::invalid(format!(
                "no merchant key: set SOSOPAY_KEY or pass --key{}",
                crate::blank_note("SOSOPAY_KEY")
            ))
        })?;
        if self.base_url.is_none() && self.env.is_none() {
            return Err(CliError::invalid(format!(
                "no gateway: pass --base-url, --env or set SOSOPAY_BASE_URL{}",
                crate::blank_note("SOSOPAY_BASE_URL")
            )));
        }
        if let Some(env) = &self.env {
            if Environment::from_name(env).is_none() {
                return Err(CliError::invalid(format!(
                    "invalid --env: {env:?} is not a gateway environment: production (or prod), \
                     production-http (or prod-http), uat (or test); any case, `_` for `-`"
                )));
            }
        }
        if self.base_url.is_some() && self.env.is_some() {
            // One would be silently ignored: with a production URL exported, `--env uat`
            // would charge production.
            return Err(CliError::invalid(
                "two gateways: --env and a base URL (--base-url or SOSOPAY_BASE_URL) are both given; give one (unset SOSOPAY_BASE_URL to use --env)",
            ));
        }
        let options = ClientOptions {
            busi_code: busi,
            key,
            base_url: self.base_url.clone(),
            environment: self.env.clone(),
            encrypt: Some(self.encrypt),
            default_oper_id: Some("cli".into()),
            default_dev_id: Some("sosopay-cli".into()),
            ca_file: self.ca_file.clone(),
            ..ClientOptions::default()
        };
        let named = |e: sosopay::Error| crate::name_env_source(e.renamed_fields(FLAGS));
        let config = options.into_config().map_err(named)?;
        Ok(Client::new(config).map_err(named)?)
    }
}

#[derive(Debug, Subcommand)]
pub enum Op {
    /// Charge a customer's scanned payment code (被扫), optionally waiting for the outcome.
    #[command(after_help = crate::EXIT_STATUS_HELP)]
    Micropay(MicropayArgs),
    /// Create a QR (主扫) or WeChat JSAPI order.
    #[command(after_help = crate::EXIT_STATUS_HELP)]
    Order(OrderArgs),
    /// Query an order.
    Query(QueryArgs),
    /// Refund (part of) a paid order.
    #[command(after_help = crate::EXIT_STATUS_HELP)]
    Refund(RefundArgs),
    /// Cancel (reverse) an order.
    #[command(after_help = crate::EXIT_STATUS_HELP)]
    Cancel(CancelArgs),
}

impl Op {
    /// The credentials and connection options given to this operation.
    pub fn conn(&self) -> &Conn {
        match self {
            Op::Micropay(a) => &a.conn,
            Op::Order(a) => &a.conn,
            Op::Query(a) => &a.conn,
            Op::Refund(a) => &a.conn,
            Op::Cancel(a) => &a.conn,
        }
    }

    /// Whether the operation can move money (so that a failure may leave its outcome unknown).
    pub fn moves_money(&self) -> bool {
        !matches!(self, Op::Query(_))
    }

    /// What to do when this money operation's outcome is unknown (exit status 3), naming the
    /// order: how to query it, and what is safe to retry.
    pub fn unknown_advice(&self) -> String {
        match self {
            Op::Micropay(a) => format!(
                "outcome unknown: the customer may have been charged; query the order with \
                 `{}` until its state is final before retrying, charging again or handing \
                 anything over",
                query_command(Some(&a.charge_code), None)
            ),
            Op::Order(a) => format!(
                "outcome unknown: the order may have been created; query it with `{}` before \
                 creating it again",
                query_command(Some(&a.charge_code), None)
            ),
            Op::Refund(a) => format!(
                "outcome unknown: the refund may have been made; query the order with `{}`, \
                 then if needed retry with the same --refund-no {} (safe: the gateway refunds \
                 once per refund number), never with a new one",
                query_command(a.charge_code.as_deref(), a.charge_down_code.as_deref()),
                shell_word(&a.refund_no)
            ),
            Op::Cancel(a) => format!(
                "outcome unknown: the order may have been cancelled (and reversed); query it \
                 with `{}` before doing anything else",
                query_command(a.code(), None)
            ),
            Op::Query(_) => String::new(),
        }
    }
}

/// A word as a shell would need it: as is when plain, else in single quotes.
fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@+=,".contains(c));
    if plain {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// `sosopay query C` for a merchant's order number, `sosopay query --charge-down-code D` for
/// the gateway's.
fn query_command(charge_code: Option<&str>, charge_down_code: Option<&str>) -> String {
    match (charge_code, charge_down_code) {
        (Some(c), _) => format!("sosopay query --charge-code {}", shell_word(c)),
        (None, Some(d)) => format!("sosopay query --charge-down-code {}", shell_word(d)),
        (None, None) => "sosopay query --charge-code CHARGE_CODE".into(),
    }
}

/// `--deadline`: whole seconds, 1 to the flows' limit.
fn parse_deadline(text: &str) -> Result<u64, String> {
    let max = sosopay::flows::MAX_FLOW_DURATION.as_secs();
    match text.trim().parse::<u64>() {
        Ok(s) if (1..=max).contains(&s) => Ok(s),
        _ => Err(format!("must be a whole number of seconds from 1 to {max}")),
    }
}

#[derive(Debug, Args)]
pub struct MicropayArgs {
    /// The merchant's unique order number (CHARGE_CODE).
    #[arg(long)]
    charge_code: String,
    /// Amount in yuan, e.g. 12.50.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    /// The code scanned from the customer's wallet.
    #[arg(long)]
    dynamic_id: String,
    /// What is paid for (PAY_SUBJECT).
    #[arg(long)]
    subject: String,
    /// Channel number (0 = auto-detect).
    #[arg(long, default_value = "0")]
    channel: String,
    /// Operator (cashier) id, OPER_ID [default: cli].
    #[arg(long)]
    oper_id: Option<String>,
    /// Device (till) id, DEV_ID [default: sosopay-cli].
    #[arg(long)]
    dev_id: Option<String>,
    /// Wait for the outcome: query until final, cancel at the deadline.
    #[arg(long)]
    wait: bool,
    /// Deadline in seconds for --wait (the SDK's default, `WaitOptions::deadline`).
    #[arg(long, default_value_t = WaitOptions::default().deadline.as_secs(), value_parser = parse_deadline)]
    deadline: u64,
    #[command(flatten)]
    conn: Conn,
}

#[derive(Debug, Args)]
pub struct OrderArgs {
    /// The merchant's unique order number (CHARGE_CODE).
    #[arg(long)]
    charge_code: String,
    /// Amount in yuan.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    /// Channel number: 1 Alipay, 2 WeChat, ...
    #[arg(long, default_value = "2")]
    channel: String,
    /// What is paid for (PAY_SUBJECT).
    #[arg(long)]
    subject: String,
    /// Where the gateway sends the payment notification.
    #[arg(long)]
    notify_url: Option<String>,
    /// Seconds before the order expires (at least 120).
    #[arg(long)]
    time_expire: Option<u32>,
    /// A WeChat JSAPI order for this subOpenid.
    #[arg(long)]
    jsapi_openid: Option<String>,
    /// The WeChat sub-merchant's app id (subAppid) of a JSAPI order (with --jsapi-openid).
    #[arg(long, requires = "jsapi_openid")]
    sub_appid: Option<String>,
    /// Operator (cashier) id, OPER_ID [default: cli].
    #[arg(long)]
    oper_id: Option<String>,
    /// Device (till) id, DEV_ID [default: sosopay-cli].
    #[arg(long)]
    dev_id: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The code to look up (what it is: --ser-type).
    #[arg(required_unless_present_any = ["charge_code", "charge_down_code"])]
    code: Option<String>,
    /// The order by the merchant's order number (CHARGE_CODE): the same as CODE with --ser-type 0.
    #[arg(long, conflicts_with_all = ["code", "charge_down_code", "ser_type"])]
    charge_code: Option<String>,
    /// The order by the gateway's order number (CHARGE_DOWN_CODE): the same as CODE with --ser-type 1.
    #[arg(long, conflicts_with_all = ["code", "ser_type"])]
    charge_down_code: Option<String>,
    /// 0 merchant CHARGE_CODE, 1 gateway CHARGE_DOWN_CODE, 2 verification code.
    #[arg(long, default_value = "0")]
    ser_type: String,
    #[command(flatten)]
    conn: Conn,
}

#[derive(Debug, Args)]
pub struct RefundArgs {
    /// The paid order, by the merchant's order number (CHARGE_CODE).
    #[arg(long)]
    charge_code: Option<String>,
    /// The paid order, by the gateway's order number (CHARGE_DOWN_CODE).
    #[arg(long)]
    charge_down_code: Option<String>,
    /// Unique refund number (reuse it to retry safely).
    #[arg(long)]
    refund_no: String,
    /// Amount in yuan.
    #[arg(long, allow_hyphen_values = true)]
    amount: String,
    /// Why the money is returned (REFUND_SUBJECT).
    #[arg(long, default_value = "refund")]
    subject: String,
    #[command(flatten)]
    conn: Conn,
}

impl CancelArgs {
    fn code(&self) -> Option<&str> {
        self.charge_code
            .as_deref()
            .or(self.charge_code_flag.as_deref())
    }
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The merchant's order number (CHARGE_CODE) of the order to cancel.
    #[arg(required_unless_present = "charge_code_flag")]
    charge_code: Option<String>,
    /// The same as CHARGE_CODE, as a flag (as `refund` takes it).
    #[arg(
        long = "charge-code",
        id = "charge_code_flag",
        conflicts_with = "charge_code"
    )]
    charge_code_flag: Option<String>,
    /// Apply to cancel (opType=ACO) instead of cancelling at once.
    #[arg(long)]
    apply: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Prints `value` as JSON with `--json`, else `human()`.
fn print(
    json: bool,
    value: impl FnOnce() -> Result<serde_json::Value, CliError>,
    human: impl FnOnce() -> String,
) -> Result<(), CliError> {
    if json {
        output::json(&value()?)
    } else {
        output::line(&human())
    }
}

pub fn describe_order(o: &OrderDetails) -> String {
    let mut lines = Vec::new();
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            lines.push(format!("{k:<18}{v}"));
        }
    };
    add("charge code", o.charge_code.clone());
    add("gateway order", o.charge_down_code.clone());
    add("channel order", o.charge_third_code.clone());
    add(
        "state",
        o.state
            .as_ref()
            .map(|s| format!("{} ({})", s.name(), s.as_wire())),
    );
    add(
        "channel",
        o.channel
            .as_ref()
            .map(|c| format!("{} ({})", c.name(), c.as_wire())),
    );
    add("amount", o.amount.map(|a| format!("{a} yuan")));
    add("created at", o.begin_time.clone());
    // END_TIME is when the order ended: paid, or cancelled / closed unpaid. Only a paid state
    // (1, or 4, 5, 8, 9 after refunds) makes it a payment time.
    let paid = o.state.as_ref().is_some_and(|s| s.money_taken());
    add(
        if paid { "paid at" } else { "ended at" },
        o.end_time.clone(),
    );
    lines.join("\n")
}

/// A token that the first Ctrl-C cancels: the till flow then takes its safe path at once (prove
/// the order ours, cancel it, confirm) and the command prints the outcome. Killing the process
/// instead would abandon a payment the customer may still confirm. A second Ctrl-C quits at
/// once (exit status 130), leaving the outcome unknown, as it says.
fn cancel_on_ctrl_c(charge_code: &str) -> CancelToken {
    let query = query_command(Some(charge_code), None);
    let token = CancelToken::new();
    let t = token.clone();
    let presses = std::sync::atomic::AtomicU32::new(0);
    let set = ctrlc::set_handler(move || {
        if presses.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            eprintln!(
                "sosopay: cancelling the payment (the order is reversed if it was taken); \
                 Ctrl-C again quits at once and leaves the outcome unknown"
            );
            t.cancel();
        } else {
            eprintln!(
                "sosopay: quit before the payment was settled: the outcome is unknown; query \
                 the order with `{query}` until its state is final"
            );
            std::process::exit(130);
        }
    });
    if let Err(e) = set {
        eprintln!("sosopay: Ctrl-C will not cancel this payment cleanly ({e})");
    }
    token
}

/// The request fields of each operation as the tool's options spell them, for validation
/// errors (`invalid --subject: is required`, not `pay_subject`).
const MICROPAY_FLAGS: &[(&str, &str)] = &[
    ("charge_code", "--charge-code"),
    ("amount", "--amount"),
    ("dynamic_id", "--dynamic-id"),
    ("pay_subject", "--subject"),
    ("channel", "--channel"),
    ("oper_id", "--oper-id"),
    ("dev_id", "--dev-id"),
    ("deadline", "--deadline"),
];
const ORDER_FLAGS: &[(&str, &str)] = &[
    ("charge_code", "--charge-code"),
    ("amount", "--amount"),
    ("pay_subject", "--subject"),
    ("channel", "--channel"),
    ("notify_url", "--notify-url"),
    ("time_expire", "--time-expire"),
    ("sub_openid", "--jsapi-openid"),
    ("sub_appid", "--sub-appid"),
    ("oper_id", "--oper-id"),
    ("dev_id", "--dev-id"),
];
const REFUND_FLAGS: &[(&str, &str)] = &[
    ("charge_down_code", "--charge-down-code"),
    ("charge_code", "--charge-code"),
    ("out_refund_no", "--refund-no"),
    ("refund_amount", "--amount"),
    ("amount", "--amount"),
    ("refund_subject", "--subject"),
];

/// The exit status of `micropay --wait`: 0 paid; 3 (outcome unknown) when the flow could not
/// settle the payment (`Unresolved`, or `Pending`); 1 for a payment that did not happen.
fn wait_exit_status(status: OutcomeStatus) -> u8 {
    match status {
        OutcomeStatus::Paid => 0,
        OutcomeStatus::Unresolved | OutcomeStatus::Pending => crate::EXIT_UNKNOWN,
        OutcomeStatus::Failed | OutcomeStatus::Cancelled | OutcomeStatus::Conflict => {
            crate::EXIT_FAILURE
        }
    }
}

/// What a plain micropay's reply proves, on stderr: nothing when it shows the order paid
/// (`Ok`); else exit status 1 for an order that ended unpaid, and 3 for one that is not (yet)
/// proven paid (awaiting the customer, no state in the reply, a state that settles nothing).
fn micropay_settled(r: &sosopay::models::OrderReply, charge_code: &str) -> Result<(), CliError> {
    let status = r.state.as_ref().and_then(sosopay::flows::status_of_state);
    let shown = r
        .state
        .as_ref()
        .map(|s| format!("the order {} ({})", s.name(), s.as_wire()))
        .unwrap_or_else(|| "no order state".into());
    match status {
        Some(OutcomeStatus::Paid) => Ok(()),
        Some(_) => {
            output::error_line(&format!("sosopay: not paid: the reply shows {shown}"));
            Err(CliError::Quiet(crate::EXIT_FAILURE))
        }
        None => {
            output::error_line(&format!(
                "sosopay: the payment is not proven: the reply shows {shown}, not paid (yet), \
                 and the customer may still confirm it; query the order with `{}` until its \
                 state is final (or charge with --wait, which does) before handing anything over",
                query_command(Some(charge_code), None)
            ));
            Err(CliError::Quiet(crate::EXIT_UNKNOWN))
        }
    }
}

pub fn run(op: &Op) -> Result<(), CliError> {
    let conn = op.conn();
    let client = conn.client()?;
    match op {
        Op::Micropay(a) => {
            let named = |e: sosopay::Error| e.renamed_fields(MICROPAY_FLAGS);
            let mut req = MicropayRequest::new(
                &a.charge_code,
                Amount::parse_yuan_named(&a.amount, "amount").map_err(named)?,
                &a.dynamic_id,
                &a.subject,
            );
            req.channel = Channel::from_wire(&a.channel);
            req.dynamic_id_type = DynamicIdType::Barcode;
            req.oper_id = a.oper_id.clone().unwrap_or_default();
            req.dev_id = a.dev_id.clone().unwrap_or_default();
            if a.wait {
                let mut opts =
                    WaitOptions::with_deadline(std::time::Duration::from_secs(a.deadline));
                // `with_deadline` gives the flow 30 s beyond the deadline, past the flows' limit
                // for a deadline over 1770 s: the limit then (every --deadline accepted runs).
                opts.max_duration = opts.max_duration.min(sosopay::flows::MAX_FLOW_DURATION);
                let ctl = FlowControl {
                    cancel: Some(cancel_on_ctrl_c(&a.charge_code)),
                    ..FlowControl::default()
                };
                let out = client
                    .micropay_and_wait_with(&req, &opts, &ctl)
                    .map_err(named)?;
                print(
                    conn.json,
                    || output::outcome(&out),
                    || {
                        let mut s = output::outcome_summary(out.status, &out.reason);
                        if let Some(o) = &out.order {
                            s.push('\n');
                            s.push_str(&describe_order(o));
                        }
                        s
                    },
                )?;
                match wait_exit_status(out.status) {
                    0 => Ok(()),
                    crate::EXIT_UNKNOWN => {
                        output::error_line(&format!("sosopay: {}", op.unknown_advice()));
                        Err(CliError::Quiet(crate::EXIT_UNKNOWN))
                    }
                    code => Err(CliError::Quiet(code)),
                }
            } else {
                let r = client.micropay(&req).map_err(named)?;
                print(
                    conn.json,
                    || output::order_reply(&r),
                    || {
                        let state = r
                            .state
                            .as_ref()
                            .map(|s| format!("{} ({})", s.name(), s.as_wire()))
                            .unwrap_or_else(|| "(not in the reply)".into());
                        format!(
                            "{}: {}\ngateway order     {}\nstate             {state}",
                            r.result.code,
                            r.result.info,
                            r.charge_down_code.clone().unwrap_or_default()
                        )
                    },
                )?;
                micropay_settled(&r, &a.charge_code)
            }
        }
        Op::Order(a) => {
            let named = |e: sosopay::Error| e.renamed_fields(ORDER_FLAGS);
            let amount = Amount::parse_yuan_named(&a.amount, "amount").map_err(named)?;
            let mut req = match &a.jsapi_openid {
                Some(openid) => OrderRequest::jsapi(&a.charge_code, amount, &a.subject, openid),
                None => OrderRequest::new(
                    &a.charge_code,
                    amount,
                    Channel::from_wire(&a.channel),
                    &a.subject,
                ),
            };
            req.notify_url = a.notify_url.clone();
            req.time_expire = a.time_expire;
            req.sub_appid = a.sub_appid.clone();
            req.oper_id = a.oper_id.clone().unwrap_or_default();
            req.dev_id = a.dev_id.clone().unwrap_or_default();
            let r = if req.is_jsapi() {
                client.create_jsapi_order(&req)
            } else {
                client.create_qr_order(&req)
            }
            .map_err(named)?;
            print(
                conn.json,
                || output::order_reply(&r),
                || {
                    let mut s = format!(
                        "{}: {}\ngateway order     {}",
                        r.result.code,
                        r.result.info,
                        r.charge_down_code.clone().unwrap_or_default()
                    );
                    if let Some(b) = &r.bar_code {
                        s.push_str(&format!(
                            "\npay link          {b}\n{}",
                            crate::qr::render(b)
                        ));
                    }
                    if let Some(j) = &r.jsapi {
                        s.push_str(&format!(
                            "\nappId {}\ntimeStamp {}\nnonceStr {}\npackage {}\nsignType {}\npaySign {}",
                            j.app_id, j.time_stamp, j.nonce_str, j.package, j.sign_type, j.pay_sign
                        ));
                    }
                    s
                },
            )
        }
        Op::Query(a) => {
            let (code, ser_type) = match (&a.code, &a.charge_code, &a.charge_down_code) {
                (_, Some(c), _) => (c.clone(), SerType::ChargeCode),
                (_, _, Some(c)) => (c.clone(), SerType::ChargeDownCode),
                (c, ..) => (
                    c.clone().unwrap_or_default(),
                    SerType::from_wire(&a.ser_type),
                ),
            };
            let req = QueryRequest { code, ser_type };
            let flag = match (&a.charge_code, &a.charge_down_code) {
                (Some(_), _) => "--charge-code",
                (_, Some(_)) => "--charge-down-code",
                _ => "CODE",
            };
            let r = client
                .query(&req)
                .map_err(|e| e.renamed_fields(&[("code", flag), ("ser_type", "--ser-type")]))?;
            print(
                conn.json,
                || output::query_reply(&r),
                || describe_order(&r.order),
            )
        }
        Op::Refund(a) => {
            let named = |e: sosopay::Error| e.renamed_fields(REFUND_FLAGS);
            let req = RefundRequest {
                charge_code: a.charge_code.clone(),
                charge_down_code: a.charge_down_code.clone(),
                out_refund_no: a.refund_no.clone(),
                refund_amount: Amount::parse_yuan_named(&a.amount, "amount").map_err(named)?,
                refund_subject: a.subject.clone(),
                oper_id: String::new(),
                dev_id: String::new(),
            };
            let r = client.refund(&req).map_err(named)?;
            print(
                conn.json,
                || output::refund_reply(&r),
                || format!("{}: {}", r.result.code, r.result.info),
            )
        }
        Op::Cancel(a) => {
            let flag = if a.charge_code.is_some() {
                "CHARGE_CODE"
            } else {
                "--charge-code"
            };
            let r = client
                .cancel(&CancelRequest {
                    charge_code: a.code().unwrap_or_default().to_owned(),
                    apply: a.apply,
                })
                .map_err(|e| e.renamed_fields(&[("charge_code", flag)]))?;
            print(
                conn.json,
                || output::cancel_reply(&r),
                || format!("{}: {}", r.result.code, r.result.info),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_that_settles_nothing_exits_3() {
        assert_eq!(wait_exit_status(OutcomeStatus::Paid), 0);
        assert_eq!(wait_exit_status(OutcomeStatus::Unresolved), 3);
        assert_eq!(wait_exit_status(OutcomeStatus::Pending), 3);
        assert_eq!(wait_exit_status(OutcomeStatus::Failed), 1);
        assert_eq!(wait_exit_status(OutcomeStatus::Cancelled), 1);
        assert_eq!(wait_exit_status(OutcomeStatus::Conflict), 1);
    }

    #[test]
    fn advice_names_the_order_as_a_shell_word() {
        assert_eq!(shell_word("C-1"), "C-1");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            query_command(None, Some("2026")),
            "sosopay query --charge-down-code 2026"
        );
    }

    #[test]
    fn the_deadline_is_whole_seconds() {
        assert_eq!(parse_deadline("1"), Ok(1));
        assert_eq!(parse_deadline("1800"), Ok(1800));
        for bad in ["0", "1801", "-1", "1.5", ""] {
            assert!(
                parse_deadline(bad)
                    .expect_err("refused")
                    .contains("seconds"),
                "{bad}"
            );
        }
    }
}
