//! The one error type of the SDK.

use crate::enums::ResultCode;

/// Result with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong. Messages are written for a cashier's support engineer; none
/// of them ever contains the merchant key.
///
/// [`Error::outcome_unknown`] tells whether money may have moved: when it is `true`, the
/// payment must be queried (and, if still open, cancelled) before deciding anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Error {
    /// A request or configuration field is missing or malformed; nothing was sent.
    #[error("invalid {field}: {reason}")]
    Validation {
        /// The field, by its public name: snake_case in Rust and Python, camelCase in JS, Kotlin and
        /// Swift (`amount_fen`, `amountFen`).
        field: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A signature is malformed, does not match, or is too old.
    #[error("signature check failed: {reason}")]
    Signature {
        /// Why.
        reason: String,
    },
    /// Base64, 3DES or padding failed: garbage, or the wrong key.
    #[error("decryption failed: {reason}")]
    Crypto {
        /// Why.
        reason: String,
        /// The operation whose reply could not be decrypted (`preOrder`, `query`, ...); empty
        /// outside a request (a notification, an envelope call).
        operation: String,
    },
    /// The gateway's reply (or a notification) could not be understood.
    #[error("could not decode the gateway's message: {reason}")]
    Decode {
        /// Why.
        reason: String,
        /// The operation whose reply could not be decoded (`preOrder`, `query`, ...); empty
        /// outside a request (a notification, a document parsed by the caller).
        operation: String,
    },
    /// The gateway answered with a `RESULT.CODE` other than success.
    #[error("the gateway answered {code}: {info}")]
    Gateway {
        /// The result code.
        code: ResultCode,
        /// The gateway's message (`RESULT.INFO`).
        info: String,
        /// The operation answered (`preOrder`, `query`, ...); empty when not known.
        operation: String,
    },
    /// The gateway answered with an HTTP error status.
    #[error("the gateway answered HTTP {status} to {operation}")]
    HttpStatus {
        /// The operation (`preOrder`, `query`, ...).
        operation: String,
        /// The HTTP status.
        status: u16,
    },
    /// The request could not be delivered or its reply not read.
    #[error("network error during {operation}: {reason}")]
    Transport {
        /// The operation (`preOrder`, `query`, ...).
        operation: String,
        /// What failed.
        reason: String,
        /// `false` when the request surely never reached the gateway (connection refused,
        /// DNS failure); `true` when it may have been processed.
        maybe_sent: bool,
    },
    /// No reply within the configured time.
    #[error("{operation} timed out after {after_ms} ms")]
    Timeout {
        /// The operation.
        operation: String,
        /// The time waited.
        after_ms: u64,
    },
    /// A money-moving request may or may not have been carried out, and querying could not
    /// settle it. Query `charge_code` later; never re-pay with a new charge code before that.
    #[error("outcome of {operation} for charge code {charge_code} is unknown: {reason}")]
    OutcomeUnknown {
        /// The operation.
        operation: String,
        /// The merchant's order number.
        charge_code: String,
        /// The last error seen.
        reason: String,
    },
}

/// Whether an operation can move money (take, refund or reverse it), by its wire name
/// (`preOrder`, `cancelTrade`) or the client's method name (`micropay`, `create_qr_order`):
/// every one but a query. Unknown (empty): assume it can. What an error's
/// [`Error::outcome_unknown`] and the bindings' handling of an abandoned call go by.
pub fn moves_money(operation: &str) -> bool {
    !matches!(operation, "query" | "query_charge")
}

impl Error {
    pub(crate) fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }
    /// A property `field` that `what` (`a WaitOptions object`) does not have, for runtimes whose
    /// options are free-form objects (JavaScript): a misspelt option must not be ignored
    /// silently (`deadline` for `deadlineMs` would wait the default 60 s). Names the closest
    /// of `known` when one is close: the same letters up to case and `_`, or a `Ms` suffix,
    /// or one a prefix or the end of the other (`attempts`: `maxAttempts`; `chargeCode`: `code`).
    pub fn unknown_field(field: &str, name: &str, what: &str, known: &[&str]) -> Self {
        let norm = |s: &str| -> String {
            let l: String = s
                .chars()
                .filter(|c| *c != '_' && *c != '-')
                .flat_map(char::to_lowercase)
                .collect();
            l.strip_suffix("ms").map(str::to_owned).unwrap_or(l)
        };
        let given = norm(name);
        let close = known.iter().find(|k| norm(k) == given).or_else(|| {
            known.iter().find(|k| {
                let k = norm(k);
                given.len().min(k.len()) >= 4
                    && (k.starts_with(&given)
                        || given.starts_with(&k)
                        || k.ends_with(&given)
                        || given.ends_with(&k)
                        || one_typo(&given, &k))
            })
        });
        let reason = match close {
            Some(k) => format!("is not a field of {what}: did you mean {k}?"),
            None => format!(
                "is not a field of {what} (its fields: {})",
                known.join(", ")
            ),
        };
        Error::validation(field, reason)
    }
    pub(crate) fn signature(reason: impl Into<String>) -> Self {
        Error::Signature {
            reason: reason.into(),
        }
    }
    pub(crate) fn crypto(reason: impl Into<String>) -> Self {
        Error::Crypto {
            reason: reason.into(),
            operation: String::new(),
        }
    }
    pub(crate) fn decode(reason: impl Into<String>) -> Self {
        Error::Decode {
            reason: reason.into(),
            operation: String::new(),
        }
    }

    /// A gateway error for `operation`.
    pub(crate) fn gateway(code: ResultCode, info: impl Into<String>, operation: &str) -> Self {
        Error::Gateway {
            code,
            info: info.into(),
            operation: operation.to_owned(),
        }
    }

    /// Renames the field of a validation error (and any dotted or snake_case field name its
    /// reason mentions, as a whole word)
    /// from the core's name to the name a binding's caller used (`timeout` → `timeoutMs`);
    /// other errors pass unchanged. `names` maps core names to the binding's.
    pub fn renamed_fields(self, names: &[(&str, &str)]) -> Self {
        match self {
            Error::Validation { field, reason } => {
                let field = match names.iter().find(|(core, _)| *core == field) {
                    Some((_, theirs)) => (*theirs).to_owned(),
                    None => item_renamed(&field, names).unwrap_or(field),
                };
                // A reason may name another field ("must be at most retry_max_delay").
                let reason = names
                    .iter()
                    .filter(|(core, _)| core.contains(['.', '_']))
                    .fold(reason, |r, (core, theirs)| replace_name(&r, core, theirs));
                Error::Validation { field, reason }
            }
            other => other,
        }
    }

    /// Names a validation error's money field as the caller gave it, in runtimes that take an
    /// amount either in yuan (`amount`) or in integer fen (`amount_fen`): the error names
    /// `{field}_fen` when `given_in_fen(field)`; other errors pass unchanged.
    pub fn as_given_in_fen(self, given_in_fen: impl Fn(&str) -> bool) -> Self {
        match self {
            Error::Validation { field, reason } if given_in_fen(&field) => Error::Validation {
                field: format!("{field}_fen"),
                reason,
            },
            other => other,
        }
    }

    /// Names the field of a validation error as a part of `at` (`price` → `goods[1].price`,
    /// for an item of a list); other errors pass unchanged.
    pub fn within(self, at: &str) -> Self {
        match self {
            Error::Validation { field, reason } => Error::Validation {
                field: format!("{at}.{field}"),
                reason,
            },
            other => other,
        }
    }

    /// Names the operation on a reply-level error that does not name one yet.
    pub(crate) fn in_operation(mut self, op: &str) -> Self {
        if let Error::Decode { operation, .. }
        | Error::Crypto { operation, .. }
        | Error::Gateway { operation, .. } = &mut self
        {
            if operation.is_empty() {
                op.clone_into(operation);
            }
        }
        self
    }

    /// Whether money may have moved: `true` only when a money-moving request (micropay, order,
    /// refund, cancel, top-up) may have been carried out although no clear answer came back.
    /// Then query the payment before deciding anything. A failed `query` moves no money and a
    /// bad notification signature moves no money: both are `false`.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Gateway {
                code, operation, ..
            } => code.outcome_unknown() && moves_money(operation),
            // Only a client error (4xx) says the request was not carried out. A 5xx may come
            // after the work was done, and any other status (201, 202 "accepted for
            // processing", 204, a redirect after a POST) is not the gateway's answer, yet the
            // request reached something that may have acted on it.
            Error::HttpStatus { status, operation } => {
                !(400..500).contains(status) && moves_money(operation)
            }
            Error::Transport {
                maybe_sent,
                operation,
                ..
            } => *maybe_sent && moves_money(operation),
            Error::Timeout { operation, .. } => moves_money(operation),
            Error::OutcomeUnknown { .. } => true,
            // A reply we cannot read or decrypt may still mean the gateway acted. Outside a
            // request (no operation: a notification, a document or envelope handled by the
            // caller) nothing was asked of the gateway, so nothing is unknown.
            Error::Decode { operation, .. } | Error::Crypto { operation, .. } => {
                !operation.is_empty() && moves_money(operation)
            }
            Error::Signature { .. } | Error::Validation { .. } => false,
        }
    }

    /// Whether retrying an idempotent request (a query) may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::HttpStatus { status, .. } => *status >= 500 || *status == 429,
            Error::Gateway { code, .. } => code.is_transient(),
            // A garbled or truncated reply: asking again may get a clean one.
            Error::Decode { .. } | Error::Crypto { .. } => true,
            _ => false,
        }
    }

    /// A short stable name of the variant (`"validation"`, `"gateway"`, ...), used by the
    /// language bindings.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "validation",
            Error::Signature { .. } => "signature",
            Error::Crypto { .. } => "crypto",
            Error::Decode { .. } => "decode",
            Error::Gateway { .. } => "gateway",
            Error::HttpStatus { .. } => "http_status",
            Error::Transport { .. } => "transport",
            Error::Timeout { .. } => "timeout",
            Error::OutcomeUnknown { .. } => "outcome_unknown",
        }
    }

    /// The variant's fields by their core (snake_case) names, as JSON values (`code` of a
    /// gateway error is its wire text): what a binding hands to its exception class, so that a
    /// field added to a variant reaches every runtime without a per-variant table there.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("kind");
                m
            }
            _ => serde_json::Map::new(),
        }
    }
}

/// `goods[0].show_url` → `goods[0].showUrl`: a field as the core names it (snake_case), as
/// JavaScript, Kotlin and Swift spell it (camelCase). Every such binding names fields in its
/// errors through this.
pub fn camel_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A validation error's reason as [`camel_case`] runtimes spell fields: every unquoted
/// whole-word snake_case name in it (`a refund needs charge_code or charge_down_code`) in
/// camelCase; quoted text (a caller's value) and wire names (`NODIFY_URL`) stay as they are.
pub fn camel_case_reason(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let (mut quoted, mut escaped) = (false, false);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String, quoted: bool| {
        let snake = word.starts_with(|c: char| c.is_ascii_lowercase())
            && word.contains('_')
            && !word.ends_with('_')
            && !word.contains("__")
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if snake && !quoted {
            out.push_str(&camel_case(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in reason.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            escaped = false;
            continue;
        }
        flush(&mut word, &mut out, quoted);
        if c == '"' && !escaped {
            quoted = !quoted;
        }
        escaped = c == '\\' && !escaped;
        out.push(c);
    }
    flush(&mut word, &mut out, quoted);
    out
}

/// `text` with every whole-word `name` (not part of a longer field name) replaced by `with`.
fn replace_name(text: &str, name: &str, with: &str) -> String {
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before = rest[..i]
            .chars()
            .next_back()
            .or_else(|| out.chars().next_back());
        let after = rest[i + name.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(part) || after.is_some_and(part) {
            out.push_str(name);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

/// `goods[1].class` renamed by an entry for the items of the list (`goods[].class` →
/// `goods[].category` gives `goods[1].category`).
fn item_renamed(field: &str, names: &[(&str, &str)]) -> Option<String> {
    let (head, last) = field.rsplit_once('.')?;
    let list = head.strip_suffix(']')?.rsplit_once('[')?.0;
    names.iter().find_map(|(core, theirs)| {
        let (l, f) = core.split_once("[].")?;
        let (_, their_last) = theirs.split_once("[].")?;
        (l == list && f == last).then(|| format!("{head}.{their_last}"))
    })
}

/// Whether `a` and `b` differ by one typo: one letter added, dropped or replaced, or two
/// neighbours swapped (`chanel`, `limt`, `tabel`).
fn one_typo(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    let head = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    match long.len() - short.len() {
        0 if head == long.len() => false,
        0 => {
            short[head + 1..] == long[head + 1..]
                || (head + 1 < long.len()
                    && short[head] == long[head + 1]
                    && short[head + 1] == long[head]
                    && short[head + 2..] == long[head + 2..])
        }
        1 => short[head..] == long[head + 1..],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_fields_in_camel_case_but_not_values_or_wire_names() {
        for (reason, camel) in [
            (
                "a refund needs charge_code or charge_down_code",
                "a refund needs chargeCode or chargeDownCode",
            ),
            (
                r#""a_b" is not one of pay_now, "x \" y_z""#,
                r#""a_b" is not one of payNow, "x \" y_z""#,
            ),
            (
                "NODIFY_URL must be set; _type and x_ stay; goods[0].show_url",
                "NODIFY_URL must be set; _type and x_ stay; goods[0].showUrl",
            ),
            ("is required", "is required"),
        ] {
            assert_eq!(camel_case_reason(reason), camel, "{reason}");
        }
    }

    #[test]
    fn only_a_query_moves_no_money() {
        for op in [
            "preOrder",
            "order",
            "refund",
            "cancelTrade",
            "flowRecharge",
            "micropay",
            "create_qr_order",
            "create_jsapi_order",
            "cancel",
            "flow_recharge",
            "",
        ] {
            assert!(moves_money(op), "{op}");
        }
        for op in ["query", "query_charge"] {
            assert!(!moves_money(op), "{op}");
        }
    }

    #[test]
    fn unknown_field_names_the_closest_known_one() {
        let known = [
            "deadlineMs",
            "pollIntervalMs",
            "merchantPara",
            "amountFen",
            "amount",
        ];
        let reason = |name: &str| match Error::unknown_field(name, name, "an X object", &known) {
            Error::Validation { field, reason } => {
                assert_eq!(field, name);
                reason
            }
            other => panic!("{other:?}"),
        };
        assert!(reason("deadline").ends_with("did you mean deadlineMs?"));
        assert!(reason("amount_fen").ends_with("did you mean amountFen?"));
        assert!(reason("AMOUNTFEN").ends_with("did you mean amountFen?"));
        assert!(reason("merchantParam").ends_with("did you mean merchantPara?"));
        assert!(reason("poll_interval").ends_with("did you mean pollIntervalMs?"));
        assert!(reason("merch").ends_with("did you mean merchantPara?"));
        assert!(reason("interval").ends_with("did you mean pollIntervalMs?"));
        assert!(reason("merchantPra").ends_with("did you mean merchantPara?"));
        assert!(reason("dedalineMs").ends_with("did you mean deadlineMs?"));
        assert!(reason("amountFenn").ends_with("did you mean amountFen?"));
        for (a, b, typo) in [
            ("chanel", "channel", true),
            ("limt", "limit", true),
            ("tabel", "table", true),
            ("table", "table", false),
            ("tbale", "table", true),
            ("tabl", "table", true),
            ("tble", "table", true),
            ("tbl", "table", false),
            ("abcd", "wxyz", false),
            ("seed", "sede", true),
        ] {
            assert_eq!(one_typo(a, b), typo, "{a} {b}");
            assert_eq!(one_typo(b, a), typo, "{b} {a}");
        }
        let code = Error::unknown_field("chargeCode", "chargeCode", "a Q", &["code", "serType"]);
        assert!(code.to_string().ends_with("did you mean code?"), "{code}");
        let r = reason("colour");
        assert!(
            r.starts_with("is not a field of an X object (its fields: deadlineMs,"),
            "{r}"
        );
        // Too short to guess from a prefix.
        assert!(!reason("amt").contains("did you mean"));
    }

    #[test]
    fn a_money_field_given_in_fen_is_named_as_given() {
        let zero = || Error::validation("refund_amount", "must be more than zero");
        let fen = |f: &str| f == "refund_amount";
        match zero().as_given_in_fen(fen) {
            Error::Validation { field, .. } => assert_eq!(field, "refund_amount_fen"),
            other => panic!("{other:?}"),
        }
        match zero().as_given_in_fen(|_| false) {
            Error::Validation { field, .. } => assert_eq!(field, "refund_amount"),
            other => panic!("{other:?}"),
        }
        let other = Error::Signature { reason: "x".into() };
        assert!(matches!(
            other.as_given_in_fen(fen),
            Error::Signature { .. }
        ));
    }

    #[test]
    fn renamed_fields_renames_whole_names_in_the_reason_too() {
        let e = Error::validation("retry_base_delay", "must be at most retry_max_delay")
            .renamed_fields(&[
                ("retry_base_delay", "retry.baseDelayMs"),
                ("retry_max_delay", "retry.maxDelayMs"),
                ("max_delay", "maxDelay"),
            ]);
        match e {
            Error::Validation { field, reason } => {
                assert_eq!(field, "retry.baseDelayMs");
                assert_eq!(reason, "must be at most retry.maxDelayMs");
            }
            other => panic!("{other:?}"),
        }
        let item = Error::validation("goods[12].class", "is empty")
            .renamed_fields(&[("goods[].class", "goods[].category")]);
        assert!(
            matches!(item, Error::Validation { ref field, .. } if field == "goods[12].category")
        );
        let other = Error::validation("goods[1].name", "is empty")
            .renamed_fields(&[("goods[].class", "goods[].category")]);
        assert!(matches!(other, Error::Validation { ref field, .. } if field == "goods[1].name"));
        let nested = Error::validation("x.price", "bad").within("goods[0]");
        assert!(
            matches!(nested, Error::Validation { ref field, .. } if field == "goods[0].x.price")
        );
        assert_eq!(
            replace_name("a_b, xa_b, a_bc, a_b", "a_b", "Z"),
            "Z, xa_b, a_bc, Z"
        );
    }

    #[test]
    fn fields_are_the_variants_own() {
        let e = Error::gateway(ResultCode::SerialRepeat, "dup", "preOrder");
        let f = e.fields();
        assert_eq!(f.get("code"), Some(&"SERIAL_REPEAT".into()));
        assert_eq!(f.get("info"), Some(&"dup".into()));
        assert_eq!(f.get("operation"), Some(&"preOrder".into()));
        assert!(!f.contains_key("kind"));
        let t = Error::Transport {
            operation: "query".into(),
            reason: "reset".into(),
            maybe_sent: true,
        };
        assert_eq!(t.fields().get("maybe_sent"), Some(&true.into()));
        let h = Error::HttpStatus {
            operation: "query".into(),
            status: 503,
        };
        assert_eq!(h.fields().get("status"), Some(&503.into()));
        assert_eq!(Error::validation("charge_code", "empty").fields().len(), 2);
    }
}
