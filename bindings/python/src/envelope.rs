//! The envelope: signatures and the 3DES body encryption.

use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use sosopay::envelope as core;
use sosopay::{Envelope, MerchantKey};

use crate::args::{Body, BusiCode, ChargeCode, Ciphertext, Key, Sign, Text};
use crate::convert::timestamp_arg;
use crate::errors::{type_error, OrPyErr};

pub fn key(py: Python<'_>, key: &str) -> PyResult<MerchantKey> {
    MerchantKey::new(key).or_py(py)
}

/// The bytes of a `str` (as UTF-8) or bytes-like argument (`bytes`, `bytearray`, `memoryview`,
/// as frameworks hand a request body) named `field`.
pub fn bytes_arg(v: &Bound<'_, PyAny>, field: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(crate::args::text_of(s, field)?.into_owned().into_bytes());
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = v.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(m) = v.cast::<PyMemoryView>() {
        let copy = m.call_method0(pyo3::intern!(v.py(), "tobytes"))?;
        return Ok(copy.cast::<PyBytes>()?.as_bytes().to_vec());
    }
    Err(type_error(
        field,
        "expected str or bytes (or bytearray, memoryview)",
    ))
}

// --- generated from core/src/envelope.rs (scripts/gen-foreign.py, Signatures)
/// The timestamp of a signature that verified.
#[pyclass(
    frozen,
    eq,
    get_all,
    name = "VerifiedSignature",
    module = "sosopay._native"
)]
#[derive(PartialEq, Eq)]
pub struct PyVerified {
    /// The timestamp text as sent (10 digits of seconds or 13 of milliseconds).
    timestamp: String,
    /// The timestamp in Unix milliseconds (a 10-digit timestamp is read as seconds).
    timestamp_ms: u64,
}

#[pymethods]
impl PyVerified {
    fn __repr__(&self) -> String {
        format!(
            "VerifiedSignature(timestamp='{}', timestamp_ms={})",
            self.timestamp, self.timestamp_ms
        )
    }
}

impl From<core::Signature> for PyVerified {
    fn from(s: core::Signature) -> Self {
        PyVerified {
            timestamp: s.timestamp().to_owned(),
            timestamp_ms: s.timestamp_millis(),
        }
    }
}

/// Signature of a POST body (preOrder, order, refund, flowRecharge) or of a notification body.
///
/// `timestamp`: now in milliseconds when left out.
#[pyfunction]
#[pyo3(signature = (key, body, timestamp = None))]
pub fn sign_body(
    py: Python<'_>,
    key: Text<Key>,
    body: Text<Body>,
    timestamp: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let k = self::key(py, &key)?;
    core::sign_body(&k, &timestamp_arg(timestamp)?, &body).or_py(py)
}

/// Verifies a POST/notification body signature.
///
/// Raises `SignatureError` saying why when it does not match.
#[pyfunction]
pub fn verify_body(
    py: Python<'_>,
    key: Text<Key>,
    sign: Text<Sign>,
    body: Text<Body>,
) -> PyResult<PyVerified> {
    let k = self::key(py, &key)?;
    Ok(core::verify_body(&k, &sign, &body).or_py(py)?.into())
}

/// Signature of a query: over the `CHARGE_CODE` path segment alone.
///
/// `timestamp`: now in milliseconds when left out.
#[pyfunction]
#[pyo3(signature = (key, charge_code, timestamp = None))]
pub fn sign_query(
    py: Python<'_>,
    key: Text<Key>,
    charge_code: Text<ChargeCode>,
    timestamp: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let k = self::key(py, &key)?;
    core::sign_query(&k, &timestamp_arg(timestamp)?, &charge_code).or_py(py)
}

/// Verifies a query signature.
///
/// Raises `SignatureError` saying why when it does not match.
#[pyfunction]
pub fn verify_query(
    py: Python<'_>,
    key: Text<Key>,
    sign: Text<Sign>,
    charge_code: Text<ChargeCode>,
) -> PyResult<PyVerified> {
    let k = self::key(py, &key)?;
    Ok(core::verify_query(&k, &sign, &charge_code)
        .or_py(py)?
        .into())
}

/// Signature of a cancel: over `chargeCode={CHARGE_CODE}&busiCode={BUSI_CODE}`.
///
/// `timestamp`: now in milliseconds when left out.
#[pyfunction]
#[pyo3(signature = (key, charge_code, busi_code, timestamp = None))]
pub fn sign_cancel(
    py: Python<'_>,
    key: Text<Key>,
    charge_code: Text<ChargeCode>,
    busi_code: Text<BusiCode>,
    timestamp: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    let k = self::key(py, &key)?;
    core::sign_cancel(&k, &timestamp_arg(timestamp)?, &charge_code, &busi_code).or_py(py)
}

/// Verifies a cancel signature.
///
/// Raises `SignatureError` saying why when it does not match.
#[pyfunction]
pub fn verify_cancel(
    py: Python<'_>,
    key: Text<Key>,
    sign: Text<Sign>,
    charge_code: Text<ChargeCode>,
    busi_code: Text<BusiCode>,
) -> PyResult<PyVerified> {
    let k = self::key(py, &key)?;
    Ok(core::verify_cancel(&k, &sign, &charge_code, &busi_code)
        .or_py(py)?
        .into())
}

// --- end of generated

/// 3DES-encrypts `plaintext` (str as UTF-8, or bytes) with `key`; returns Base64.
#[pyfunction]
pub fn encrypt(py: Python<'_>, key: Text<Key>, plaintext: &Bound<'_, PyAny>) -> PyResult<String> {
    let k = self::key(py, &key)?;
    Ok(core::encrypt(&k, &bytes_arg(plaintext, "plaintext")?))
}

/// Decrypts Base64 3DES text to a UTF-8 `str`.
#[pyfunction]
pub fn decrypt(py: Python<'_>, key: Text<Key>, ciphertext: Text<Ciphertext>) -> PyResult<String> {
    let k = self::key(py, &key)?;
    Envelope::new(k).decrypt_to_string(&ciphertext).or_py(py)
}

/// The body as it is signed: Java `\s` characters removed.
#[pyfunction]
pub fn strip_java_whitespace(body: Text<Body>) -> String {
    core::strip_java_whitespace(&body).into_owned()
}

/// A merchant's envelope with its 3DES key schedule built once: `seal`/`open` a body.
#[pyclass(frozen, name = "Envelope", module = "sosopay._native")]
pub struct PyEnvelope {
    inner: Envelope,
}

#[pymethods]
impl PyEnvelope {
    #[new]
    fn new(py: Python<'_>, key: Text<Key>) -> PyResult<Self> {
        Ok(PyEnvelope {
            inner: Envelope::new(self::key(py, &key)?),
        })
    }

    /// Signs then encrypts a POST body: `(&sign, base64_ciphertext)`.
    #[pyo3(signature = (body, timestamp = None))]
    fn seal(
        &self,
        py: Python<'_>,
        body: Text<Body>,
        timestamp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(String, String)> {
        self.inner.seal(&timestamp_arg(timestamp)?, &body).or_py(py)
    }

    /// Decrypts a sealed body and verifies its signature; returns the plaintext.
    fn open(
        &self,
        py: Python<'_>,
        sign: Text<Sign>,
        ciphertext: Text<Ciphertext>,
    ) -> PyResult<String> {
        self.inner.open(&sign, &ciphertext).or_py(py)
    }

    /// Signs a body.
    #[pyo3(signature = (body, timestamp = None))]
    fn sign_body(
        &self,
        py: Python<'_>,
        body: Text<Body>,
        timestamp: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        self.inner
            .sign_body(&timestamp_arg(timestamp)?, &body)
            .or_py(py)
    }

    /// Raises `SignatureError` unless `sign` signs `body`; returns the verified timestamp.
    fn verify_body(
        &self,
        py: Python<'_>,
        sign: Text<Sign>,
        body: Text<Body>,
    ) -> PyResult<PyVerified> {
        Ok(core::verify_body(self.inner.key(), &sign, &body)
            .or_py(py)?
            .into())
    }

    /// Encrypts (str as UTF-8, or bytes) to Base64.
    fn encrypt(&self, plaintext: &Bound<'_, PyAny>) -> PyResult<String> {
        Ok(self.inner.encrypt(&bytes_arg(plaintext, "plaintext")?))
    }

    /// Decrypts Base64 to a UTF-8 `str`.
    fn decrypt(&self, py: Python<'_>, ciphertext: Text<Ciphertext>) -> PyResult<String> {
        self.inner.decrypt_to_string(&ciphertext).or_py(py)
    }

    /// Decrypts Base64 to `bytes`.
    fn decrypt_bytes<'py>(
        &self,
        py: Python<'py>,
        ciphertext: Text<Ciphertext>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let pt = self.inner.decrypt(&ciphertext).or_py(py)?;
        Ok(PyBytes::new(py, &pt))
    }

    fn __repr__(&self) -> String {
        "sosopay.Envelope(key=<redacted>)".to_owned()
    }
}
