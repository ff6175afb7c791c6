//! The error enum (generated from the core's, in error_enum.rs): `sosopay::Error` mapped one
//! variant to one variant, so Kotlin gets `SosopayException.Gateway(resultCode, info)` and
//! Swift `SosopayError.Gateway(resultCode:info:)`. Its message and rules are the core's.

pub use crate::error_enum::SosopayError;

/// The message is the core's (`Other`: the message it was given).
impl std::fmt::Display for SosopayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.to_core(), self) {
            (Some(e), _) => e.fmt(f),
            (None, SosopayError::Other { reason, .. }) => f.write_str(reason),
            (None, _) => f.write_str("sosopay error"),
        }
    }
}

impl std::error::Error for SosopayError {}

impl SosopayError {
    /// A validation error of a binding-level conversion (an out-of-range number), naming the
    /// field as Kotlin and Swift spell it.
    pub(crate) fn validation(field: &str, reason: impl Into<String>) -> Self {
        SosopayError::Validation {
            field: sosopay::error::camel_case(field),
            reason: reason.into(),
        }
    }

    /// A validation error's field named within `at` (`priceFen` → `goods[1].priceFen`): the
    /// core's `Error::within`.
    pub(crate) fn within(self, at: &str) -> Self {
        self.to_core().map_or(self, |e| e.within(at).into())
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

/// Result with [`SosopayError`].
pub type Result<T, E = SosopayError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_core_variant_and_back() {
        let cases = vec![
            sosopay::Error::Validation {
                field: "amount".into(),
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
        // A field is named as Kotlin and Swift spell it, in the message too.
        let v = SosopayError::from(sosopay::Error::Validation {
            field: "goods[0].price_fen".into(),
            reason: "is negative".into(),
        });
        assert_eq!(
            v,
            SosopayError::Validation {
                field: "goods[0].priceFen".into(),
                reason: "is negative".into()
            }
        );
        assert_eq!(v.to_string(), "invalid goods[0].priceFen: is negative");
        let other = SosopayError::Other {
            kind: "future".into(),
            reason: "x".into(),
        };
        assert!(other.outcome_unknown());
        assert_eq!(other.kind(), "future");
    }
}
