//! Payment notifications, for apps with a backend that receives the gateway's `PAY_NODIFY`.

use std::sync::Arc;
use std::time::Duration;

use crate::envelope::MerchantKey;
use crate::error::{Result, SosopayError};
use crate::replies::PaymentNotification;

fn max_age_in(max_age_ms: Option<i64>) -> Result<Duration> {
    match max_age_ms {
        None => Ok(sosopay::notify::DEFAULT_MAX_AGE),
        Some(ms) => crate::options::ms_in("max_age_ms", ms),
    }
}

/// Verifies and decodes notifications for one merchant key: the signature, the replay window,
/// 3DES when the body is encrypted, JSON or XML. Thread-safe.
#[derive(Debug, uniffi::Object)]
pub struct NotificationVerifier(sosopay::NotificationVerifier);

#[uniffi::export]
impl NotificationVerifier {
    /// A verifier; `maxAgeMs` is the replay window (null: 300 s; 0 disables the check);
    /// `previousKeys`: merchant keys being rotated out, whose deliveries are accepted too (at
    /// most 4; the current key is tried first); `busiCode`: accept only notifications about
    /// this merchant's orders (their `BUSI_ID`): another merchant's, or an unnamed one, throws
    /// `Decode` (the signature proves only the key).
    #[uniffi::constructor(default(max_age_ms = None, previous_keys = [], busi_code = None))]
    pub fn new(
        key: Arc<MerchantKey>,
        max_age_ms: Option<i64>,
        previous_keys: Vec<Arc<MerchantKey>>,
        busi_code: Option<String>,
    ) -> Result<Arc<Self>> {
        let mut v =
            sosopay::NotificationVerifier::new(key.0.clone()).with_max_age(max_age_in(max_age_ms)?);
        for k in previous_keys {
            v = v.with_previous_key(k.0.clone())?;
        }
        Ok(Arc::new(NotificationVerifier(
            v.with_busi_code_opt(busi_code.as_deref())?,
        )))
    }

    /// Verifies and decodes one delivery: `rawQuery` is the request's query string as
    /// received (with `sign=…`), `rawBody` the request body as received. Throws `Signature`
    /// (answer 400/403), `Crypto` or `Decode`.
    pub fn parse(&self, raw_query: String, raw_body: Vec<u8>) -> Result<PaymentNotification> {
        Ok(PaymentNotification::from(
            self.0.parse(&raw_query, &raw_body)?,
        ))
    }

    /// As `parse`, at a given time (Unix ms), for tests.
    pub fn parse_at(
        &self,
        raw_query: String,
        raw_body: Vec<u8>,
        now_ms: i64,
    ) -> Result<PaymentNotification> {
        let now =
            u64::try_from(now_ms).map_err(|_| SosopayError::validation("now_ms", "is negative"))?;
        Ok(PaymentNotification::from(
            self.0.parse_at(&raw_query, &raw_body, now)?,
        ))
    }
}

/// One-shot: verify and decode a notification (`maxAgeMs` as in `NotificationVerifier`).
#[uniffi::export(default(max_age_ms = None))]
pub fn parse_notification(
    key: Arc<MerchantKey>,
    raw_query: String,
    raw_body: Vec<u8>,
    max_age_ms: Option<i64>,
) -> Result<PaymentNotification> {
    let max_age = max_age_in(max_age_ms)?;
    Ok(PaymentNotification::from(
        sosopay::notify::parse_notification(&key.0, &raw_query, &raw_body, Some(max_age))?,
    ))
}
