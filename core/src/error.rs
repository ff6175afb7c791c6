//! The one error type of the SDK.

use crate::enums::ResultCode;

/// Result with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong. Messages are written for a cashier's support engineer; none
/// of them ever contains the merchant key.
///
/// [`Error::outcome_unknown`] tells whether money may have moved: when it is `true`, the
/// payment must be queried (and, if still open, cancelled) before deciding anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request or configuration field is missing or malformed; nothing was sent.
    #[error("invalid {field}: {reason}")]
    Validation {
        /// The field, by its public (snake_case) name.
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
    },
    /// The gateway's reply (or a notification) could not be understood.
    #[error("could not decode the gateway's message: {reason}")]
    Decode {
        /// Why.
        reason: String,
    },
    /// The gateway answered with a `RESULT.CODE` other than success.
    #[error("the gateway answered {code}: {info}")]
    Gateway {
        /// The result code.
        code: ResultCode,
        /// The gateway's message (`RESULT.INFO`).
        info: String,
    },
    /// The gateway answered with an HTTP error status.
    #[error("the gateway answered HTTP {status}")]
    HttpStatus {
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

impl Error {
    pub(crate) fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }
    pub(crate) fn signature(reason: impl Into<String>) -> Self {
        Error::Signature {
            reason: reason.into(),
        }
    }
    pub(crate) fn crypto(reason: impl Into<String>) -> Self {
        Error::Crypto {
            reason: reason.into(),
        }
    }
    pub(crate) fn decode(reason: impl Into<String>) -> Self {
        Error::Decode {
            reason: reason.into(),
        }
    }

    /// Whether this error leaves a payment's outcome unknown (query before deciding).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Error::Gateway { code, .. } => code.outcome_unknown(),
            Error::HttpStatus { status } => *status >= 500,
            Error::Transport { maybe_sent, .. } => *maybe_sent,
            Error::Timeout { .. } | Error::OutcomeUnknown { .. } => true,
            // A reply we cannot read or decrypt may still mean the gateway acted.
            Error::Decode { .. } | Error::Crypto { .. } => true,
            // Signatures are only checked on what the gateway sends us (notifications) or on
            // the merchant's own verify calls, never on a reply to a request: a bad one moves
            // no money.
            Error::Signature { .. } | Error::Validation { .. } => false,
        }
    }

    /// Whether retrying an idempotent request (a query) may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::HttpStatus { status } => *status >= 500 || *status == 429,
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
}
