//! Everything the tool prints: stdout that tolerates a closed pipe, stderr lines, and the one
//! JSON shape of each record.
//!
//! A closed stdout (`sosopay … | head -1`) is not an error: what can no longer be read is
//! dropped silently and the command ends with its own exit status (0 when it succeeded). The
//! demo, whose only job is its output, stops early with status 0.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use serde_json::{Map, Value};
use sosopay::models::{
    CancelReply, Notification, OrderDetails, OrderReply, QueryReply, RefundReply,
};
use sosopay::{OutcomeStatus, PaymentOutcome};

use crate::CliError;

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write found stdout's reader gone (a broken pipe).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::SeqCst)
}

/// Writes bytes to stdout and flushes. A broken pipe is not an error: the output is dropped
/// (and every later write too); other write errors are.
pub fn write(bytes: &[u8]) -> Result<(), CliError> {
    if stdout_closed() {
        return Ok(());
    }
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::SeqCst);
            Ok(())
        }
        Err(e) => Err(CliError::msg(format!("could not write stdout: {e}"))),
    }
}

/// Writes one line to stdout (see [`write`]).
pub fn line(text: &str) -> Result<(), CliError> {
    let mut s = String::with_capacity(text.len() + 1);
    s.push_str(text);
    s.push('\n');
    write(s.as_bytes())
}

/// Writes one line to stderr; a closed stderr is ignored (there is nowhere left to report it).
pub fn error_line(text: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{text}");
    let _ = err.flush();
}

/// Prints a value as pretty JSON on stdout.
pub fn json(value: &Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::msg(e.to_string()))?;
    line(&text)
}

// ---------------------------------------------------------------------------------------------
// JSON shapes. The core serialises its dictionaries as their wire text ("1"); the tool prints
// the numeric codes (`state`, `channel_type`) as JSON numbers and amounts as integer fen, the
// same in every subcommand. Codes that are not plain decimal numbers (an unknown code such as
// "X1") stay strings, and so does `fund_channel`, whose codes are zero-padded ("00").
// `raw`, the gateway's document as received, is never rewritten.

/// A wire code as a JSON number when it is a plain decimal number ("0", "12"; not "012").
fn code_number(v: Value) -> Value {
    match v {
        Value::String(s)
            if !s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0')) =>
        {
            match s.parse::<u64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(s),
            }
        }
        other => other,
    }
}

fn to_map<T: Serialize>(value: &T) -> Result<Map<String, Value>, CliError> {
    match serde_json::to_value(value).map_err(|e| CliError::msg(e.to_string()))? {
        Value::Object(m) => Ok(m),
        other => Err(CliError::msg(format!(
            "expected a JSON object, got {other}"
        ))),
    }
}

/// Rewrites the codes of one record's top level: `state` and `channel_type` (the core's
/// `channel` of replies is renamed `channel_type`, as in orders and notifications) become
/// numbers. Field order is kept.
fn with_codes(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .map(|(k, v)| match k.as_str() {
            "state" => (k, code_number(v)),
            "channel" | "channel_type" => ("channel_type".to_owned(), code_number(v)),
            _ => (k, v),
        })
        .collect()
}

/// An order (`QUERY_RESP`, `PAY_NODIFY`, the order of a flow's outcome): the one order shape.
pub fn order(o: &OrderDetails) -> Result<Map<String, Value>, CliError> {
    Ok(with_codes(to_map(o)?))
}

/// `sosopay query --json`: `result`, the order's fields, `raw`.
pub fn query_reply(r: &QueryReply) -> Result<Value, CliError> {
    let mut m = Map::new();
    m.insert(
        "result".into(),
        serde_json::to_value(&r.result).map_err(|e| CliError::msg(e.to_string()))?,
    );
    m.extend(order(&r.order)?);
    m.insert("raw".into(), r.raw.value().clone());
    Ok(Value::Object(m))
}

/// `sosopay notify`: the order's fields, `raw`.
pub fn notification(n: &Notification) -> Result<Value, CliError> {
    let mut m = order(&n.order)?;
    m.insert("raw".into(), n.raw.clone());
    Ok(Value::Object(m))
}

/// `sosopay micropay --json` (without `--wait`) and `sosopay order --json`.
pub fn order_reply(r: &OrderReply) -> Result<Value, CliError> {
    Ok(Value::Object(with_codes(to_map(r)?)))
}

/// `sosopay refund --json`.
pub fn refund_reply(r: &RefundReply) -> Result<Value, CliError> {
    Ok(Value::Object(with_codes(to_map(r)?)))
}

/// `sosopay cancel --json`.
pub fn cancel_reply(r: &CancelReply) -> Result<Value, CliError> {
    Ok(Value::Object(to_map(r)?))
}

/// `sosopay micropay --wait --json`: the outcome, its `order` in the one order shape.
pub fn outcome(out: &PaymentOutcome) -> Result<Value, CliError> {
    let mut m = to_map(out)?;
    if let Some(o) = &out.order {
        m.insert("order".into(), Value::Object(order(o)?));
    }
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------------------------------------
// Text.

/// A flow's outcome in words without saying the status twice: `Paid`, `Paid (it could not be
/// cancelled)`, `Cancelled`, `Failed: the order is closed`.
pub fn outcome_summary(status: OutcomeStatus, reason: &str) -> String {
    let label = format!("{status:?}");
    let word = label.to_ascii_lowercase();
    let reason = reason.trim();
    // "paid", "paid (…)", "the order is cancelled", "…: cancelled" repeat the status.
    let rest = reason
        .strip_prefix("the order is ")
        .unwrap_or(reason)
        .strip_prefix(word.as_str());
    if let Some(rest) = rest {
        if rest.is_empty() || rest.starts_with(' ') {
            return format!("{label}{rest}");
        }
    }
    let reason = reason.strip_suffix(&format!(": {word}")).unwrap_or(reason);
    if reason.is_empty() {
        label
    } else {
        format!("{label}: {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_numbers_when_plain_decimal() {
        assert_eq!(code_number(Value::from("1")), Value::from(1));
        assert_eq!(code_number(Value::from("0")), Value::from(0));
        assert_eq!(code_number(Value::from("34")), Value::from(34));
        assert_eq!(code_number(Value::from("00")), Value::from("00"));
        assert_eq!(code_number(Value::from("X1")), Value::from("X1"));
        assert_eq!(code_number(Value::from("")), Value::from(""));
        assert_eq!(code_number(Value::Null), Value::Null);
    }

    #[test]
    fn outcome_summary_says_the_status_once() {
        assert_eq!(outcome_summary(OutcomeStatus::Paid, "paid"), "Paid");
        assert_eq!(
            outcome_summary(OutcomeStatus::Paid, "paid (it could not be cancelled)"),
            "Paid (it could not be cancelled)"
        );
        assert_eq!(
            outcome_summary(OutcomeStatus::Cancelled, "the order is cancelled"),
            "Cancelled"
        );
        assert_eq!(
            outcome_summary(
                OutcomeStatus::Cancelled,
                "not paid before the deadline: cancelled"
            ),
            "Cancelled: not paid before the deadline"
        );
        assert_eq!(
            outcome_summary(OutcomeStatus::Failed, "the order is closed"),
            "Failed: the order is closed"
        );
        assert_eq!(
            outcome_summary(
                OutcomeStatus::Pending,
                "still awaiting payment at the deadline"
            ),
            "Pending: still awaiting payment at the deadline"
        );
        assert_eq!(outcome_summary(OutcomeStatus::Paid, ""), "Paid");
    }
}
