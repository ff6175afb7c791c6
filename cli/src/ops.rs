//! Gateway operations from the command line.

use clap::{Args, Subcommand};
use sosopay::models::{
    CancelRequest, MicropayRequest, OrderDetails, OrderRequest, QueryRequest, RefundRequest,
};
use sosopay::{
    Amount, CancelToken, Channel, Client, ClientOptions, DynamicIdType, FlowControl, SerType,
    WaitOptions,
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
    /// Named environment instead of --base-url: production, production-http, uat.
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
            CliError::invalid("no merchant code: pass --busi-code or set SOSOPAY_BUSI_CODE")
        })?;
        let key = self
            .key
            .clone()
            .ok_or_else(|| CliError::invalid("no merchant key: set SOSOPAY_KEY (or pass --key)"))?;
        if self.base_url.is_none() && self.env.is_none() {
            return Err(CliError::invalid(
                "no gateway: pass --base-url, --env or set SOSOPAY_BASE_URL",
            ));
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
        let config = options.into_config().map_err(|e| e.renamed_fields(FLAGS))?;
        Ok(Client::new(config)?)
    }
}

#[derive(Debug, Subcommand)]
pub enum Op {
    /// Charge a customer's scanned payment code (被扫), optionally waiting for the outcome.
    Micropay(MicropayArgs),
    /// Create a QR (主扫) or WeChat JSAPI order.
    Order(OrderArgs),
    /// Query an order.
    Query(QueryArgs),
    /// Refund (part of) a paid order.
    Refund(RefundArgs),
    /// Cancel (reverse) an order.
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
}

#[derive(Debug, Args)]
pub struct MicropayArgs {
    /// The merchant's unique order number (CHARGE_CODE).
    #[arg(long)]
    charge_code: String,
    /// Amount in yuan, e.g. 12.50.
    #[arg(long)]
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
    #[arg(long, default_value_t = WaitOptions::default().deadline.as_secs())]
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
    #[arg(long)]
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
    /// The WeChat sub-merchant's app id (subAppid) of a JSAPI order.
    #[arg(long)]
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
    #[arg(long)]
    amount: String,
    /// Why the money is returned (REFUND_SUBJECT).
    #[arg(long, default_value = "refund")]
    subject: String,
    #[command(flatten)]
    conn: Conn,
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
fn cancel_on_ctrl_c() -> CancelToken {
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
            eprintln!("sosopay: quit before the payment was settled: query the charge code");
            std::process::exit(130);
        }
    });
    if let Err(e) = set {
        eprintln!("sosopay: Ctrl-C will not cancel this payment cleanly ({e})");
    }
    token
}

pub fn run(op: &Op) -> Result<(), CliError> {
    let conn = op.conn();
    let client = conn.client()?;
    match op {
        Op::Micropay(a) => {
            let mut req = MicropayRequest::new(
                &a.charge_code,
                Amount::parse_yuan_named(&a.amount, "amount")?,
                &a.dynamic_id,
                &a.subject,
            );
            req.channel = Channel::from_wire(&a.channel);
            req.dynamic_id_type = DynamicIdType::Barcode;
            req.oper_id = a.oper_id.clone().unwrap_or_default();
            req.dev_id = a.dev_id.clone().unwrap_or_default();
            if a.wait {
                let opts = WaitOptions::with_deadline(std::time::Duration::from_secs(a.deadline));
                let ctl = FlowControl {
                    cancel: Some(cancel_on_ctrl_c()),
                    ..FlowControl::default()
                };
                let out = client.micropay_and_wait_with(&req, &opts, &ctl)?;
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
                if !out.is_paid() {
                    return Err(CliError::Quiet(1));
                }
                Ok(())
            } else {
                let r = client.micropay(&req)?;
                print(
                    conn.json,
                    || output::order_reply(&r),
                    || {
                        format!(
                            "{}: {}\ngateway order     {}",
                            r.result.code,
                            r.result.info,
                            r.charge_down_code.clone().unwrap_or_default()
                        )
                    },
                )
            }
        }
        Op::Order(a) => {
            let amount = Amount::parse_yuan_named(&a.amount, "amount")?;
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
                client.create_jsapi_order(&req)?
            } else {
                client.create_qr_order(&req)?
            };
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
            let r = client.query(&req)?;
            print(
                conn.json,
                || output::query_reply(&r),
                || describe_order(&r.order),
            )
        }
        Op::Refund(a) => {
            let req = RefundRequest {
                charge_code: a.charge_code.clone(),
                charge_down_code: a.charge_down_code.clone(),
                out_refund_no: a.refund_no.clone(),
                refund_amount: Amount::parse_yuan_named(&a.amount, "amount")?,
                refund_subject: a.subject.clone(),
                oper_id: String::new(),
                dev_id: String::new(),
            };
            let r = client.refund(&req)?;
            print(
                conn.json,
                || output::refund_reply(&r),
                || format!("{}: {}", r.result.code, r.result.info),
            )
        }
        Op::Cancel(a) => {
            let r = client.cancel(&CancelRequest {
                charge_code: a
                    .charge_code
                    .clone()
                    .or_else(|| a.charge_code_flag.clone())
                    .unwrap_or_default(),
                apply: a.apply,
            })?;
            print(
                conn.json,
                || output::cancel_reply(&r),
                || format!("{}: {}", r.result.code, r.result.info),
            )
        }
    }
}
