//! The envelope helpers: MD5 signatures in their three forms and the 3DES encryption, for
//! apps with their own HTTP stack or backend. The key is wrapped in a [`MerchantKey`] object
//! so that it is never printed (a record would show it in Kotlin's `toString`).

use std::sync::Arc;

use crate::error::Result;

/// The merchant key (商户Key). Never printed: `toString` / `description` show `<redacted>`.
#[derive(Debug, uniffi::Object)]
#[uniffi::export(Display)]
pub struct MerchantKey(pub(crate) sosopay::MerchantKey);

impl std::fmt::Display for MerchantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MerchantKey(<redacted>)")
    }
}

#[uniffi::export]
impl MerchantKey {
    /// Wraps a merchant key; rejects an empty key and keys with whitespace or control
    /// characters.
    #[uniffi::constructor]
    pub fn new(key: String) -> Result<Arc<Self>> {
        Ok(Arc::new(MerchantKey(sosopay::MerchantKey::new(key)?)))
    }
}

/// The timestamp to sign with: the one given, or now in Unix milliseconds.
fn timestamp_or_now(timestamp: Option<String>) -> String {
    timestamp.unwrap_or_else(|| sosopay::envelope::now_millis().to_string())
}

// --- generated from core/src/envelope.rs (scripts/gen-foreign.py, Signatures)
/// The timestamp of a signature that verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifiedSignature {
    /// The timestamp text as sent (10 digits of seconds or 13 of milliseconds).
    pub timestamp: String,
    /// The timestamp in Unix milliseconds (a 10-digit timestamp is read as seconds).
    pub timestamp_ms: i64,
}

impl From<sosopay::Signature> for VerifiedSignature {
    fn from(s: sosopay::Signature) -> Self {
        VerifiedSignature {
            timestamp: s.timestamp().to_owned(),
            timestamp_ms: i64::try_from(s.timestamp_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// Signature of a POST body (preOrder, order, refund, flowRecharge) or of a notification body.
///
/// `timestamp`: now in milliseconds when left out.
#[uniffi::export(default(timestamp = None))]
pub fn sign_body(key: Arc<MerchantKey>, body: String, timestamp: Option<String>) -> Result<String> {
    Ok(sosopay::envelope::sign_body(
        &key.0,
        &timestamp_or_now(timestamp),
        &body,
    )?)
}

/// Verifies a POST/notification body signature.
///
/// Throws `Signature` saying why when it does not match.
#[uniffi::export]
pub fn verify_body(key: Arc<MerchantKey>, sign: String, body: String) -> Result<VerifiedSignature> {
    Ok(sosopay::envelope::verify_body(&key.0, &sign, &body)?.into())
}

/// Signature of a query: over the `CHARGE_CODE` path segment alone.
///
/// `timestamp`: now in milliseconds when left out.
#[uniffi::export(default(timestamp = None))]
pub fn sign_query(
    key: Arc<MerchantKey>,
    charge_code: String,
    timestamp: Option<String>,
) -> Result<String> {
    Ok(sosopay::envelope::sign_query(
        &key.0,
        &timestamp_or_now(timestamp),
        &charge_code,
    )?)
}

/// Verifies a query signature.
///
/// Throws `Signature` saying why when it does not match.
#[uniffi::export]
pub fn verify_query(
    key: Arc<MerchantKey>,
    sign: String,
    charge_code: String,
) -> Result<VerifiedSignature> {
    Ok(sosopay::envelope::verify_query(&key.0, &sign, &charge_code)?.into())
}

/// Signature of a cancel: over `chargeCode={CHARGE_CODE}&busiCode={BUSI_CODE}`.
///
/// `timestamp`: now in milliseconds when left out.
#[uniffi::export(default(timestamp = None))]
pub fn sign_cancel(
    key: Arc<MerchantKey>,
    charge_code: String,
    busi_code: String,
    timestamp: Option<String>,
) -> Result<String> {
    Ok(sosopay::envelope::sign_cancel(
        &key.0,
        &timestamp_or_now(timestamp),
        &charge_code,
        &busi_code,
    )?)
}

/// Verifies a cancel signature.
///
/// Throws `Signature` saying why when it does not match.
#[uniffi::export]
pub fn verify_cancel(
    key: Arc<MerchantKey>,
    sign: String,
    charge_code: String,
    busi_code: String,
) -> Result<VerifiedSignature> {
    Ok(sosopay::envelope::verify_cancel(&key.0, &sign, &charge_code, &busi_code)?.into())
}

// --- end of generated

/// The body as it is signed: every Java `\s` character removed (other Unicode spaces kept).
#[uniffi::export]
pub fn strip_java_whitespace(body: String) -> String {
    sosopay::envelope::strip_java_whitespace(&body).into_owned()
}

/// A merchant's envelope: the key with its 3DES schedule expanded once. Thread-safe.
#[derive(Debug, uniffi::Object)]
pub struct Envelope(sosopay::Envelope);

/// A signed and encrypted POST body.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SealedBody {
    /// The `sign` query parameter.
    pub sign: String,
    /// The Base64 3DES ciphertext to send as the body.
    pub ciphertext: String,
}

#[uniffi::export]
impl Envelope {
    /// Expands the key.
    #[uniffi::constructor]
    pub fn new(key: Arc<MerchantKey>) -> Arc<Self> {
        Arc::new(Envelope(sosopay::Envelope::new(key.0.clone())))
    }

    /// Signs a POST body (timestamp: now in milliseconds when absent).
    #[uniffi::method(default(timestamp = None))]
    pub fn sign_body(&self, body: String, timestamp: Option<String>) -> Result<String> {
        Ok(self.0.sign_body(&timestamp_or_now(timestamp), &body)?)
    }

    /// Verifies a body signature; throws `Signature` saying why it failed.
    pub fn verify_body(&self, sign: String, body: String) -> Result<VerifiedSignature> {
        Ok(sosopay::envelope::verify_body(self.0.key(), &sign, &body)?.into())
    }

    /// 3DES-EDE3-ECB-PKCS#7 encrypts bytes; returns standard Base64 with padding.
    pub fn encrypt(&self, plaintext: Vec<u8>) -> String {
        self.0.encrypt(&plaintext)
    }

    /// Encrypts UTF-8 text.
    pub fn encrypt_string(&self, plaintext: String) -> String {
        self.0.encrypt(plaintext.as_bytes())
    }

    /// Decodes Base64 (whitespace tolerated) and decrypts; throws `Crypto` on garbage or the
    /// wrong key.
    pub fn decrypt(&self, ciphertext: String) -> Result<Vec<u8>> {
        Ok(self.0.decrypt(&ciphertext)?)
    }

    /// Decrypts and requires UTF-8 plaintext.
    pub fn decrypt_string(&self, ciphertext: String) -> Result<String> {
        Ok(self.0.decrypt_to_string(&ciphertext)?)
    }

    /// Signs then encrypts a POST body (timestamp: now in milliseconds when absent).
    #[uniffi::method(default(timestamp = None))]
    pub fn seal(&self, body: String, timestamp: Option<String>) -> Result<SealedBody> {
        let (sign, ciphertext) = self.0.seal(&timestamp_or_now(timestamp), &body)?;
        Ok(SealedBody { sign, ciphertext })
    }

    /// Decrypts a sealed body and verifies its signature; returns the plaintext.
    pub fn open(&self, sign: String, ciphertext: String) -> Result<String> {
        Ok(self.0.open(&sign, &ciphertext)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_never_printed() {
        let k = MerchantKey::new("98SDKFUO432HNODS098EEE07U9DUOIUE".into()).expect("key");
        assert!(!format!("{k} {k:?}").contains("98SDK"));
        let e = Envelope::new(k.clone());
        assert!(!format!("{e:?}").contains("98SDK"));
        assert!(MerchantKey::new(String::new()).is_err());
    }

    #[test]
    fn seal_and_open() {
        let k = MerchantKey::new("k".into()).expect("key");
        let e = Envelope::new(k.clone());
        let s = e
            .seal("{\"A\": 1}".into(), Some("1473431447".into()))
            .expect("seal");
        assert_eq!(
            e.open(s.sign.clone(), s.ciphertext.clone()).expect("open"),
            "{\"A\": 1}"
        );
        let v = verify_body(k, s.sign.clone(), "{\"A\":1}".into()).expect("verify");
        assert_eq!(v.timestamp_ms, 1_473_431_447_000);
        assert_eq!(
            e.verify_body(s.sign, "{\"A\":1}".into()).expect("verify"),
            v
        );
    }
}
