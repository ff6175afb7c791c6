//! The gateway envelope: MD5 signatures and 3DES, as JS functions and the `Envelope` class.

use napi::bindgen_prelude::{Buffer, BufferSlice, Either, Latin1String};
use napi::Env;
use napi_derive::napi;
use sosopay::envelope::{self as core_env, MerchantKey};
use sosopay::Error;

use crate::error::{validation, IntoNapi};
use crate::input::{
    Body, BusiCode, ChargeCode, Ciphertext, Data, Key, Plaintext, Sign, Text, TextOrNumber,
    Timestamp,
};

/// Text or bytes from JS.
pub type Bytes = Either<String, Buffer>;

pub fn bytes(v: &Bytes) -> &[u8] {
    match v {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    }
}

/// Text from a string or UTF-8 bytes.
pub fn text<'a>(v: &'a Bytes, field: &str) -> Result<&'a str, Error> {
    match v {
        Either::A(s) => Ok(s),
        Either::B(b) => {
            std::str::from_utf8(b).map_err(|_| validation(field, "is not valid UTF-8 text"))
        }
    }
}

pub fn key(k: &str) -> Result<MerchantKey, Error> {
    MerchantKey::new(k)
}

fn timestamp(ts: Option<TextOrNumber<Timestamp>>) -> Result<String, Error> {
    match ts.map(|t| t.0) {
        None => Ok(core_env::now_millis().to_string()),
        Some(Either::A(s)) => Ok(s),
        Some(Either::B(n)) => Ok(sosopay::units::whole("timestamp", n, u64::MAX)?.to_string()),
    }
}

// --- generated from core/src/envelope.rs (scripts/gen-foreign.py, Signatures)
/// The timestamp of a signature that verified.
#[napi(object)]
pub struct VerifiedSignature {
    /// The timestamp text as sent (10 digits of seconds or 13 of milliseconds).
    pub timestamp: String,
    /// The timestamp in Unix milliseconds (a 10-digit timestamp is read as seconds).
    pub timestamp_ms: f64,
}

impl From<core_env::Signature> for VerifiedSignature {
    fn from(s: core_env::Signature) -> Self {
        VerifiedSignature {
            timestamp: s.timestamp().to_owned(),
            timestamp_ms: s.timestamp_millis() as f64,
        }
    }
}

/// Signature of a POST body (preOrder, order, refund, flowRecharge) or of a notification body.
///
/// `timestamp`: now in milliseconds when left out.
#[napi(js_name = "signBody")]
pub fn sign_body(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string | Buffer")] body: Data<Body>,
    #[napi(ts_arg_type = "string | number")] timestamp: Option<TextOrNumber<Timestamp>>,
) -> napi::Result<String> {
    let k = self::key(&key).napi()?;
    let ts = self::timestamp(timestamp).napi()?;
    core_env::sign_body(&k, &ts, text(&body.0, "body").napi()?).napi()
}

/// Verifies a POST/notification body signature.
///
/// Throws `SignatureError` saying why when it does not match.
#[napi(js_name = "verifyBody")]
pub fn verify_body(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string")] sign: Text<Sign>,
    #[napi(ts_arg_type = "string | Buffer")] body: Data<Body>,
) -> napi::Result<VerifiedSignature> {
    let k = self::key(&key).napi()?;
    core_env::verify_body(&k, &sign, text(&body.0, "body").napi()?)
        .map(Into::into)
        .napi()
}

/// Signature of a query: over the `CHARGE_CODE` path segment alone.
///
/// `timestamp`: now in milliseconds when left out.
#[napi(js_name = "signQuery")]
pub fn sign_query(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
    #[napi(ts_arg_type = "string | number")] timestamp: Option<TextOrNumber<Timestamp>>,
) -> napi::Result<String> {
    let k = self::key(&key).napi()?;
    let ts = self::timestamp(timestamp).napi()?;
    core_env::sign_query(&k, &ts, &charge_code).napi()
}

/// Verifies a query signature.
///
/// Throws `SignatureError` saying why when it does not match.
#[napi(js_name = "verifyQuery")]
pub fn verify_query(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string")] sign: Text<Sign>,
    #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
) -> napi::Result<VerifiedSignature> {
    let k = self::key(&key).napi()?;
    core_env::verify_query(&k, &sign, &charge_code)
        .map(Into::into)
        .napi()
}

/// Signature of a cancel: over `chargeCode={CHARGE_CODE}&busiCode={BUSI_CODE}`.
///
/// `timestamp`: now in milliseconds when left out.
#[napi(js_name = "signCancel")]
pub fn sign_cancel(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
    #[napi(ts_arg_type = "string")] busi_code: Text<BusiCode>,
    #[napi(ts_arg_type = "string | number")] timestamp: Option<TextOrNumber<Timestamp>>,
) -> napi::Result<String> {
    let k = self::key(&key).napi()?;
    let ts = self::timestamp(timestamp).napi()?;
    core_env::sign_cancel(&k, &ts, &charge_code, &busi_code).napi()
}

/// Verifies a cancel signature.
///
/// Throws `SignatureError` saying why when it does not match.
#[napi(js_name = "verifyCancel")]
pub fn verify_cancel(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string")] sign: Text<Sign>,
    #[napi(ts_arg_type = "string")] charge_code: Text<ChargeCode>,
    #[napi(ts_arg_type = "string")] busi_code: Text<BusiCode>,
) -> napi::Result<VerifiedSignature> {
    let k = self::key(&key).napi()?;
    core_env::verify_cancel(&k, &sign, &charge_code, &busi_code)
        .map(Into::into)
        .napi()
}

// --- end of generated

/// The body as it is signed: every Java `\s` character removed, also inside string values
/// (other Unicode spaces are kept).
#[napi(js_name = "stripJavaWhitespace")]
pub fn strip_java_whitespace(#[napi(ts_arg_type = "string")] body: Text<Body>) -> String {
    core_env::strip_java_whitespace(&body).into_owned()
}

/// 3DES-EDE3-ECB-PKCS#7 encrypts with the merchant key's derived 3DES key; returns Base64.
/// For many calls with one key, an `Envelope` keeps the key schedule.
#[napi(ts_return_type = "string")]
pub fn encrypt(
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string | Buffer")] plaintext: Data<Plaintext>,
) -> napi::Result<Latin1String> {
    let k = self::key(&key).napi()?;
    Ok(core_env::encrypt(&k, bytes(&plaintext.0)).into())
}

/// Decodes Base64 and decrypts; returns the plaintext bytes.
#[napi(ts_return_type = "Buffer")]
pub fn decrypt<'e>(
    env: &'e Env,
    #[napi(ts_arg_type = "string")] key: Text<Key>,
    #[napi(ts_arg_type = "string")] ciphertext: Text<Ciphertext>,
) -> napi::Result<BufferSlice<'e>> {
    let plain = core_env::decrypt(&self::key(&key).napi()?, &ciphertext).napi()?;
    BufferSlice::copy_from(env, plain)
}

/// A signed and encrypted body.
#[napi(object)]
pub struct SealedBody {
    /// `md5hex:timestamp`, over the plaintext.
    #[napi(ts_type = "string")]
    pub sign: Latin1String,
    /// The Base64 3DES ciphertext: the request body.
    #[napi(ts_type = "string")]
    pub ciphertext: Latin1String,
}

/// A merchant's envelope: the key and its expanded 3DES schedule, built once and reused.
#[napi]
pub struct Envelope {
    inner: core_env::Envelope,
}

#[napi]
impl Envelope {
    /// Expands the key once.
    #[napi(constructor)]
    pub fn new(#[napi(ts_arg_type = "string")] key: Text<Key>) -> napi::Result<Self> {
        Ok(Envelope {
            inner: core_env::Envelope::new(self::key(&key).napi()?),
        })
    }

    /// Signs a POST body (timestamp: now in ms when absent).
    #[napi]
    pub fn sign_body(
        &self,
        #[napi(ts_arg_type = "string | Buffer")] body: Data<Body>,
        #[napi(ts_arg_type = "string | number")] timestamp: Option<TextOrNumber<Timestamp>>,
    ) -> napi::Result<String> {
        let ts = self::timestamp(timestamp).napi()?;
        self.inner
            .sign_body(&ts, text(&body.0, "body").napi()?)
            .napi()
    }

    /// Verifies a body signature; throws `SignatureError` when it does not match.
    #[napi]
    pub fn verify_body(
        &self,
        #[napi(ts_arg_type = "string")] sign: Text<Sign>,
        #[napi(ts_arg_type = "string | Buffer")] body: Data<Body>,
    ) -> napi::Result<VerifiedSignature> {
        core_env::verify_body(self.inner.key(), &sign, text(&body.0, "body").napi()?)
            .map(Into::into)
            .napi()
    }

    /// Encrypts; returns Base64.
    #[napi(ts_return_type = "string")]
    pub fn encrypt(
        &self,
        #[napi(ts_arg_type = "string | Buffer")] plaintext: Data<Plaintext>,
    ) -> Latin1String {
        self.inner.encrypt(bytes(&plaintext.0)).into()
    }

    /// Decodes Base64 and decrypts; returns the plaintext bytes.
    #[napi(ts_return_type = "Buffer")]
    pub fn decrypt<'e>(
        &self,
        env: &'e Env,
        #[napi(ts_arg_type = "string")] ciphertext: Text<Ciphertext>,
    ) -> napi::Result<BufferSlice<'e>> {
        let plain = self.inner.decrypt(&ciphertext).napi()?;
        BufferSlice::copy_from(env, plain)
    }

    /// Signs then encrypts a body: `{ sign, ciphertext }`.
    #[napi]
    pub fn seal(
        &self,
        #[napi(ts_arg_type = "string")] body: Text<Body>,
        #[napi(ts_arg_type = "string | number")] timestamp: Option<TextOrNumber<Timestamp>>,
    ) -> napi::Result<SealedBody> {
        let ts = self::timestamp(timestamp).napi()?;
        let (sign, ciphertext) = self.inner.seal(&ts, &body).napi()?;
        Ok(SealedBody {
            sign: sign.into(),
            ciphertext: ciphertext.into(),
        })
    }

    /// Decrypts a sealed body and verifies its signature; returns the plaintext.
    #[napi]
    pub fn open(
        &self,
        #[napi(ts_arg_type = "string")] sign: Text<Sign>,
        #[napi(ts_arg_type = "string")] ciphertext: Text<Ciphertext>,
    ) -> napi::Result<String> {
        self.inner.open(&sign, &ciphertext).napi()
    }
}
