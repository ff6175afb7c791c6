//! The error enum: `sosopay::Error` mapped one variant to one variant, so Kotlin gets
//! `SosopayException.Gateway(resultCode, info)` and Swift `SosopayError.Gateway(resultCode:info:)`.

use crate::enums::ResultCode;

/// Everything that can go wrong, as typed exceptions. No message ever contains the merchant
/// key. `outcomeUnknown()` tells whether money may have moved: when it is true, query the
/// payment (and cancel it if still open) before deciding anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum SosopayError {
    /// A request or configuration field is missing or malformed; nothing was sent.
    #[error("invalid {field}: {reason}")]
    Validation {
        /// The field, by its Rust (snake_case) name, e.g. `charge_code` or `goods[0].name`.
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
        /// The operation whose reply it was (`preOrder`, `query`, ...); empty outside a request.
        operation: String,
    },
    /// The gateway's reply (or a notification) could not be understood.
    #[error("could not decode the gateway's message: {reason}")]
    Decode {
        /// Why.
        reason: String,
        /// The operation whose reply it was (`preOrder`, `query`, ...); empty outside a request.
        operation: String,
    },
    /// The gateway answered with a `RESULT.CODE` other than success.
    #[error("the gateway answered {}: {info}", result_code.as_wire())]
    Gateway {
        /// The result code (`resultCode`, as in every runtime).
        result_code: ResultCode,
        /// The gateway's message (`RESULT.INFO`).
        info: String,
        /// The operation answered (`preOrder`, `query`, ...).
        operation: String,
    },
    /// The gateway answered with an HTTP error status.
    #[error("the gateway answered HTTP {status} to {operation}")]
    HttpStatus {
        /// The operation (`preOrder`, `query`, ...).
        operation: String,
        /// The HTTP status.
        status: i32,
    },
    /// The request could not be delivered or its reply not read.
    #[error("network error during {operation}: {reason}")]
    Transport {
        /// The operation (`preOrder`, `query`, ...).
        operation: String,
        /// What failed.
        reason: String,
        /// False when the request surely never reached the gateway; true when it may have
        /// been processed.
        maybe_sent: bool,
    },
    /// No reply within the configured time.
    #[error("{operation} timed out after {after_ms} ms")]
    Timeout {
        /// The operation.
        operation: String,
        /// The time waited, in milliseconds.
        after_ms: i64,
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
    /// An error of a kind this binding does not know (a newer core); treat it as unknown
    /// outcome.
    #[error("{reason}")]
    Other {
        /// The core's name for the kind.
        kind: String,
        /// The message.
        reason: String,
    },
}

impl SosopayError {
    fn to_core(&self) -> Option<sosopay::Error> {
        Some(match self.clone() {
            SosopayError::Validation { field, reason } => {
                sosopay::Error::Validation { field, reason }
            }
            SosopayError::Signature { reason } => sosopay::Error::Signature { reason },
            SosopayError::Crypto { reason, operation } => {
                sosopay::Error::Crypto { reason, operation }
            }
            SosopayError::Decode { reason, operation } => {
                sosopay::Error::Decode { reason, operation }
            }
            SosopayError::Gateway {
                result_code,
                info,
                operation,
            } => sosopay::Error::Gateway {
                code: result_code.into(),
                info,
                operation,
            },
            SosopayError::HttpStatus { status, operation } => sosopay::Error::HttpStatus {
                operation,
                status: u16::try_from(status).unwrap_or(u16::MAX),
            },
            SosopayError::Transport {
                operation,
                reason,
                maybe_sent,
            } => sosopay::Error::Transport {
                operation,
                reason,
                maybe_sent,
            },
            SosopayError::Timeout {
                operation,
                after_ms,
            } => sosopay::Error::Timeout {
                operation,
                after_ms: u64::try_from(after_ms).unwrap_or(0),
            },
            SosopayError::OutcomeUnknown {
                operation,
                charge_code,
                reason,
            } => sosopay::Error::OutcomeUnknown {
                operation,
                charge_code,
                reason,
            },
            SosopayError::Other { .. } => return None,
        })
    }

    /// A validation error of a binding-level conversion (an out-of-range number).
    pub(crate) fn validation(field: &str, reason: impl Into<String>) -> Self {
        SosopayError::Validation {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

#[uniffi::export]
impl SosopayError {
    /// Whether this error leaves a payment's outcome unknown (query before deciding).
    pub fn outcome_unknown(&self) -> bool {
        self.to_core().is_none_or(|e| e.outcome_unknown())
    }

    /// Whether retrying an idempotent request (a query) may help.
    pub fn is_retryable(&self) -> bool {
        self.to_core().is_some_and(|e| e.is_retryable())
    }

    /// A short stable name of the kind: `validation`, `signature`, `crypto`, `decode`,
    /// `gateway`, `http_status`, `transport`, `timeout`, `outcome_unknown`.
    pub fn kind(&self) -> String {
        match self {
            SosopayError::Other { kind, .. } => kind.clone(),
            other => other
                .to_core()
                .map(|e| e.kind().to_owned())
                .unwrap_or_default(),
        }
    }
}

impl From<sosopay::Error> for SosopayError {
    fn from(e: sosopay::Error) -> Self {
        match e {
            sosopay::Error::Validation { field, reason } => {
                SosopayError::Validation { field, reason }
            }
            sosopay::Error::Signature { reason } => SosopayError::Signature { reason },
            sosopay::Error::Crypto { reason, operation } => {
                SosopayError::Crypto { reason, operation }
            }
            sosopay::Error::Decode { reason, operation } => {
                SosopayError::Decode { reason, operation }
            }
            sosopay::Error::Gateway {
                code,
                info,
                operation,
            } => SosopayError::Gateway {
                result_code: code.into(),
                info,
                operation,
            },
            sosopay::Error::HttpStatus { status, operation } => SosopayError::HttpStatus {
                operation,
                status: i32::from(status),
            },
            sosopay::Error::Transport {
                operation,
                reason,
                maybe_sent,
            } => SosopayError::Transport {
                operation,
                reason,
                maybe_sent,
            },
            sosopay::Error::Timeout {
                operation,
                after_ms,
            } => SosopayError::Timeout {
                operation,
                after_ms: i64::try_from(after_ms).unwrap_or(i64::MAX),
            },
            sosopay::Error::OutcomeUnknown {
                operation,
                charge_code,
                reason,
            } => SosopayError::OutcomeUnknown {
                operation,
                charge_code,
                reason,
            },
            other => SosopayError::Other {
                kind: other.kind().to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

/// Result with [`SosopayError`].
pub type Result<T, E = SosopayError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_core_variant_and_back() {
        let cases = vec![
            sosopay::Error::Validation {
                field: "charge_code".into(),
                reason: "is required".into(),
            },
            sosopay::Error::Signature { reason: "x".into() },
            sosopay::Error::Crypto {
                reason: "x".into(),
                operation: "query".into(),
            },
            sosopay::Error::Decode {
                reason: "x".into(),
                operation: "preOrder".into(),
            },
            sosopay::Error::Gateway {
                code: sosopay::ResultCode::Fail,
                info: "no".into(),
                operation: "refund".into(),
            },
            sosopay::Error::Gateway {
                code: sosopay::ResultCode::Unknown("NEW".into()),
                info: "?".into(),
                operation: "preOrder".into(),
            },
            sosopay::Error::HttpStatus {
                operation: "preOrder".into(),
                status: 502,
            },
            sosopay::Error::Transport {
                operation: "query".into(),
                reason: "refused".into(),
                maybe_sent: false,
            },
            sosopay::Error::Timeout {
                operation: "preOrder".into(),
                after_ms: 95_000,
            },
            sosopay::Error::OutcomeUnknown {
                operation: "preOrder".into(),
                charge_code: "C1".into(),
                reason: "x".into(),
            },
        ];
        for core in cases {
            let b = SosopayError::from(core.clone());
            assert_eq!(b.to_core(), Some(core.clone()));
            assert_eq!(b.outcome_unknown(), core.outcome_unknown());
            assert_eq!(b.is_retryable(), core.is_retryable());
            assert_eq!(b.kind(), core.kind());
            assert_eq!(b.to_string(), core.to_string());
        }
        let other = SosopayError::Other {
            kind: "future".into(),
            reason: "x".into(),
        };
        assert!(other.outcome_unknown());
        assert_eq!(other.kind(), "future");
    }
}
