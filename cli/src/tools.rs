//! Support tools: sign, encrypt, decrypt and verify notifications, reading stdin.

use std::io::{Read, Write};

use sosopay::envelope::{self, Envelope, MerchantKey};
use sosopay::models::Notification;
use sosopay::NotificationVerifier;

use crate::CliError;

/// Reads all of stdin as bytes (binary-safe: nothing trimmed).
pub fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| CliError::msg(format!("could not read stdin: {e}")))?;
    Ok(buf)
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, CliError> {
    String::from_utf8(bytes).map_err(|_| CliError::msg(format!("the {what} on stdin is not UTF-8")))
}

/// Writes bytes to stdout and flushes.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| CliError::msg(format!("could not write stdout: {e}")))
}

/// `sosopay sign`.
pub fn sign(
    key: &MerchantKey,
    timestamp: &str,
    query: Option<&str>,
    cancel: Option<&[String]>,
) -> Result<(), CliError> {
    let sign = match (query, cancel) {
        (Some(charge_code), _) => envelope::sign_query(key, timestamp, charge_code)?,
        (None, Some([charge_code, busi_code])) => {
            envelope::sign_cancel(key, timestamp, charge_code, busi_code)?
        }
        (None, Some(_)) => return Err(CliError::msg("--cancel takes CHARGE_CODE and BUSI_CODE")),
        (None, None) => {
            let body = utf8(read_stdin()?, "body")?;
            envelope::sign_body(key, timestamp, &body)?
        }
    };
    write_stdout(format!("{sign}\n").as_bytes())
}

/// `sosopay encrypt`: stdin bytes → Base64 ciphertext.
pub fn encrypt(key: &MerchantKey) -> Result<(), CliError> {
    let pt = read_stdin()?;
    let ct = Envelope::new(key.clone()).encrypt(&pt);
    write_stdout(format!("{ct}\n").as_bytes())
}

/// `sosopay decrypt`: Base64 ciphertext on stdin → plaintext bytes.
pub fn decrypt(key: &MerchantKey) -> Result<(), CliError> {
    let ct = utf8(read_stdin()?, "ciphertext")?;
    let pt = Envelope::new(key.clone()).decrypt(&ct)?;
    write_stdout(&pt)
}

fn number_or_string(s: &str) -> serde_json::Value {
    match s.parse::<u64>() {
        Ok(n) if !s.starts_with('0') || s == "0" => serde_json::Value::from(n),
        _ => serde_json::Value::from(s),
    }
}

/// A notification as the CLI prints it: snake_case fields, amounts in fen.
pub fn notification_json(n: &Notification) -> serde_json::Value {
    let o = &n.order;
    let opt = |v: &Option<String>| {
        v.clone()
            .map(serde_json::Value::from)
            .unwrap_or(serde_json::Value::Null)
    };
    let bills: Vec<serde_json::Value> = o
        .fund_bills
        .iter()
        .map(|b| serde_json::json!({"fund_channel": b.fund_channel.as_wire(), "amount_fen": b.amount.fen()}))
        .collect();
    serde_json::json!({
        "busi_id": opt(&o.busi_id),
        "charge_code": opt(&o.charge_code),
        "charge_down_code": opt(&o.charge_down_code),
        "charge_third_code": opt(&o.charge_third_code),
        "channel_type": o.channel.as_ref().map(|c| number_or_string(c.as_wire())).unwrap_or(serde_json::Value::Null),
        "state": o.state.as_ref().map(|s| number_or_string(s.as_wire())).unwrap_or(serde_json::Value::Null),
        "amount_fen": o.amount.map(|a| serde_json::Value::from(a.fen())).unwrap_or(serde_json::Value::Null),
        "pay_subject": opt(&o.pay_subject),
        "oper_id": opt(&o.oper_id),
        "dev_id": opt(&o.dev_id),
        "merchant_para": opt(&o.merchant_para),
        "fund_bills": bills,
        "begin_time": opt(&o.begin_time),
        "end_time": opt(&o.end_time),
        "raw": n.raw,
    })
}

/// `sosopay notify`: verify a notification body on stdin.
pub fn notify(key: &MerchantKey, raw_query: &str, max_age: Option<u64>) -> Result<(), CliError> {
    let body = read_stdin()?;
    let mut v = NotificationVerifier::new(key.clone());
    if let Some(s) = max_age {
        v = v.with_max_age(std::time::Duration::from_secs(s));
    }
    let n = v.parse(raw_query, &body)?;
    let text = serde_json::to_string_pretty(&notification_json(&n))
        .map_err(|e| CliError::msg(e.to_string()))?;
    write_stdout(format!("{text}\n").as_bytes())
}
