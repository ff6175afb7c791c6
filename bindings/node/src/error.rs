//! Core errors → napi errors. The JS layer (`node/errors.js`) turns the message back into the
//! matching `SosopayError` subclass; this is the one place where a variant's fields are encoded.

use serde_json::{Map, Value};
pub use sosopay::error::camel_case;
use sosopay::Error;

/// Marks a message produced here; the JS layer looks for it (see `node/errors.js`).
pub const PREFIX: &str = "[sosopay]";

/// A validation error naming a JS (camelCase) field.
pub fn validation(field: &str, reason: impl Into<String>) -> Error {
    Error::Validation {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The variant and its fields as the JSON the JS layer reads. `rename`: a validation error's
/// field is a core name, given as JS spells it (camelCase), in the message too.
fn payload(e: &Error, rename: bool) -> Value {
    let camel;
    let e = match e {
        Error::Validation { field, reason } if rename => {
            camel = Error::Validation {
                field: camel_case(field),
                reason: sosopay::error::camel_case_reason(reason),
            };
            &camel
        }
        other => other,
    };
    let mut m = Map::new();
    m.insert("code".into(), e.kind().into());
    m.insert("message".into(), e.to_string().into());
    m.insert("outcomeUnknown".into(), e.outcome_unknown().into());
    m.insert("retryable".into(), e.is_retryable().into());
    // The variant's own fields, by their JS names (one mapping for every variant).
    let fields: Map<String, Value> = e
        .fields()
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "code" => ("resultCode".to_owned(), v),
            "field" if rename => (k, v.as_str().map_or(v.clone(), |f| camel_case(f).into())),
            _ => (camel_case(&k), v),
        })
        .collect();
    m.extend(fields);
    Value::Object(m)
}

/// Converts a core error for napi: `[sosopay]{json}` as the message.
pub fn to_napi(e: Error) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{PREFIX}{}", payload(&e, true)),
    )
}

/// [`to_napi`] for a validation error whose field is already the user's own spelling (an
/// unknown property, `poll_interval_ms`): kept as it is.
pub fn to_napi_verbatim(e: Error) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{PREFIX}{}", payload(&e, false)),
    )
}

/// `Result<T, sosopay::Error>` → `napi::Result<T>`.
pub trait IntoNapi<T> {
    /// Converts the error.
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for Result<T, Error> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_cases_fields() {
        assert_eq!(camel_case("charge_code"), "chargeCode");
        assert_eq!(camel_case("goods[0].show_url"), "goods[0].showUrl");
        assert_eq!(camel_case("amount"), "amount");
        assert_eq!(camel_case("AMT"), "AMT");
    }

    #[test]
    fn a_validation_message_names_the_js_field() {
        let p = payload(
            &Error::Validation {
                field: "out_refund_no".into(),
                reason: "is longer than 64 characters".into(),
            },
            true,
        );
        assert_eq!(p["field"], "outRefundNo");
        assert_eq!(
            p["message"],
            "invalid outRefundNo: is longer than 64 characters"
        );
    }

    #[test]
    fn payload_carries_variant_fields() {
        let p = payload(
            &Error::Gateway {
                code: sosopay::ResultCode::SerialRepeat,
                info: "dup".into(),
                operation: "preOrder".into(),
            },
            true,
        );
        assert_eq!(p["code"], "gateway");
        assert_eq!(p["resultCode"], "SERIAL_REPEAT");
        assert_eq!(p["outcomeUnknown"], true);
        let p = payload(
            &Error::Validation {
                field: "dynamic_id".into(),
                reason: "bad".into(),
            },
            true,
        );
        assert_eq!(p["field"], "dynamicId");
        assert_eq!(p["outcomeUnknown"], false);
        let p = payload(
            &Error::OutcomeUnknown {
                operation: "preOrder".into(),
                charge_code: "C1".into(),
                reason: "timeout".into(),
            },
            true,
        );
        assert_eq!(p["chargeCode"], "C1");
    }

    #[test]
    fn an_unknown_property_keeps_the_users_spelling() {
        let e = Error::unknown_field(
            "poll_interval_ms",
            "poll_interval_ms",
            "a WaitOptions object",
            &["pollIntervalMs"],
        );
        let p = payload(&e, false);
        assert_eq!(p["field"], "poll_interval_ms");
        assert_eq!(
            p["message"],
            "invalid poll_interval_ms: is not a field of a WaitOptions object: did you mean pollIntervalMs?"
        );
    }
}
