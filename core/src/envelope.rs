//! The gateway's envelope: MD5 signatures in their three forms, and the 3DES-EDE3-ECB-PKCS#7
//! encryption with the vendor's key derivation, Base64 on the wire.
//!
//! `sign = md5_hex_lower(timestamp + key + X) + ":" + timestamp`, where X is the plaintext body
//! with every Java `\s` character removed (POST bodies, notifications), the `CHARGE_CODE` alone
//! (query), or `chargeCode={CHARGE_CODE}&busiCode={BUSI_CODE}` (cancel).

use std::borrow::Cow;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use crate::crypto::Des3;
use crate::error::{Error, Result};

/// The merchant key (商户Key). Never printed: `Debug` and `Display` show only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct MerchantKey(String);

impl MerchantKey {
    /// Wraps a merchant key. Rejects an empty key and keys with whitespace or control characters.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        let key = key.into();
        if key.is_empty() {
            return Err(Error::validation("key", "the merchant key is empty"));
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::validation(
                "key",
                "the merchant key contains whitespace or control characters",
            ));
        }
        Ok(MerchantKey(key))
    }

    /// The key's text, for code that must hash it. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The 24-byte 3DES key: byte `i` is the low 8 bits of UTF-16 code unit `i` of the key,
    /// zero-padded when the key is shorter; characters past the 24th are ignored.
    pub fn des_key(&self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (slot, unit) in out.iter_mut().zip(self.0.encode_utf16()) {
            *slot = (unit & 0xff) as u8;
        }
        out
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MerchantKey(<redacted, {} chars>)",
            self.0.chars().count()
        )
    }
}

impl fmt::Display for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Is `c` one of Java's `\s` characters (space, `\t`, `\n`, `\x0B`, `\f`, `\r`)?
#[inline]
pub fn is_java_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The body as it is signed: every Java `\s` character removed, also inside string values.
/// Other Unicode spaces (U+3000, U+00A0) are kept.
pub fn strip_java_whitespace(body: &str) -> Cow<'_, str> {
    if !body.bytes().any(is_java_space) {
        return Cow::Borrowed(body);
    }
    // Removing ASCII bytes from UTF-8 keeps it valid UTF-8.
    Cow::Owned(
        body.chars()
            .filter(|c| !(c.is_ascii() && is_java_space(*c as u8)))
            .collect(),
    )
}

/// The current Unix time in milliseconds, as the vendor client sends it.
pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn check_timestamp(timestamp: &str) -> Result<()> {
    // What a verifier reads (`parse_sign`): a signature it would refuse is refused here.
    if !(timestamp.len() == 10 || timestamp.len() == 13)
        || !timestamp.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Error::validation(
            "timestamp",
            "must be 10 decimal digits (Unix seconds) or 13 (milliseconds), as a signature's is read",
        ));
    }
    Ok(())
}

fn md5_parts(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn md5_stripped(timestamp: &str, key: &MerchantKey, body: &str) -> [u8; 16] {
    let mut h = Md5::new();
    h.update(timestamp.as_bytes());
    h.update(key.expose().as_bytes());
    // Copy the body's non-whitespace bytes through a stack buffer: no heap copy of the body,
    // and few (large) hasher updates instead of one per whitespace-separated run.
    let mut buf = [0u8; 1024];
    let mut n = 0;
    for run in body.as_bytes().split(|b| is_java_space(*b)) {
        let mut run = run;
        while !run.is_empty() {
            let take = run.len().min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&run[..take]);
            n += take;
            run = &run[take..];
            if n == buf.len() {
                h.update(buf);
                n = 0;
            }
        }
    }
    h.update(&buf[..n]);
    h.finalize().into()
}

fn format_sign(digest: &[u8; 16], timestamp: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(33 + timestamp.len());
    for b in digest {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s.push(':');
    s.push_str(timestamp);
    s
}

/// Signature of a POST body (preOrder, order, refund, flowRecharge) or of a notification body.
pub fn sign_body(key: &MerchantKey, timestamp: &str, body: &str) -> Result<String> {
    check_timestamp(timestamp)?;
    Ok(format_sign(&md5_stripped(timestamp, key, body), timestamp))
}

/// Signature of a query: over the `CHARGE_CODE` path segment alone.
pub fn sign_query(key: &MerchantKey, timestamp: &str, charge_code: &str) -> Result<String> {
    check_timestamp(timestamp)?;
    let d = md5_parts(&[
        timestamp.as_bytes(),
        key.expose().as_bytes(),
        charge_code.as_bytes(),
    ]);
    Ok(format_sign(&d, timestamp))
}

fn cancel_input(charge_code: &str, busi_code: &str) -> String {
    format!("chargeCode={charge_code}&busiCode={busi_code}")
}

/// Signature of a cancel: over `chargeCode={CHARGE_CODE}&busiCode={BUSI_CODE}`.
pub fn sign_cancel(
    key: &MerchantKey,
    timestamp: &str,
    charge_code: &str,
    busi_code: &str,
) -> Result<String> {
    check_timestamp(timestamp)?;
    let input = cancel_input(charge_code, busi_code);
    let d = md5_parts(&[
        timestamp.as_bytes(),
        key.expose().as_bytes(),
        input.as_bytes(),
    ]);
    Ok(format_sign(&d, timestamp))
}

/// A parsed `sign` parameter: `md5hex:timestamp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    digest: [u8; 16],
    timestamp: String,
}

impl Signature {
    /// Parses `<32 hex digits>:<10- or 13-digit timestamp>` (hex in either case).
    pub fn parse(sign: &str) -> Result<Self> {
        let (digest, ts) = parse_sign(sign)?;
        Ok(Signature {
            digest,
            timestamp: ts.to_owned(),
        })
    }

    /// The timestamp text as sent (10 digits of seconds or 13 of milliseconds).
    pub fn timestamp(&self) -> &str {
        &self.timestamp
    }

    /// The timestamp in Unix milliseconds (a 10-digit timestamp is read as seconds).
    pub fn timestamp_millis(&self) -> u64 {
        let v: u64 = self.timestamp.parse().unwrap_or(0);
        if self.timestamp.len() == 10 {
            v.saturating_mul(1000)
        } else {
            v
        }
    }

    fn matches(&self, digest: &[u8; 16]) -> bool {
        self.digest.ct_eq(digest).into()
    }

    /// Verifies this signature over a POST or notification body (constant-time comparison).
    pub fn verify_body(&self, key: &MerchantKey, body: &str) -> bool {
        self.matches(&md5_stripped(&self.timestamp, key, body))
    }

    /// Verifies this signature over a query's `CHARGE_CODE`.
    pub fn verify_query(&self, key: &MerchantKey, charge_code: &str) -> bool {
        let d = md5_parts(&[
            self.timestamp.as_bytes(),
            key.expose().as_bytes(),
            charge_code.as_bytes(),
        ]);
        self.matches(&d)
    }

    /// Verifies this signature over a cancel's `chargeCode=…&busiCode=…`.
    pub fn verify_cancel(&self, key: &MerchantKey, charge_code: &str, busi_code: &str) -> bool {
        let input = cancel_input(charge_code, busi_code);
        let d = md5_parts(&[
            self.timestamp.as_bytes(),
            key.expose().as_bytes(),
            input.as_bytes(),
        ]);
        self.matches(&d)
    }
}

/// Parses a `sign` parameter into its digest and timestamp text, without allocating.
fn parse_sign(sign: &str) -> Result<([u8; 16], &str)> {
    let (hex, ts) = sign
        .split_once(':')
        .ok_or_else(|| Error::signature("the sign parameter has no ':' before the timestamp"))?;
    if hex.len() != 32 {
        return Err(Error::signature("the sign digest is not 32 hex digits"));
    }
    let mut digest = [0u8; 16];
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        let hi = hex_val(pair[0]);
        let lo = hex_val(pair[1]);
        match (hi, lo) {
            (Some(h), Some(l)) => digest[i] = (h << 4) | l,
            _ => return Err(Error::signature("the sign digest is not 32 hex digits")),
        }
    }
    if !(ts.len() == 10 || ts.len() == 13) || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::signature(
            "the sign timestamp is not 10 (seconds) or 13 (milliseconds) digits",
        ));
    }
    Ok((digest, ts))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Verifies a POST/notification body signature.
pub fn verify_body(key: &MerchantKey, sign: &str, body: &str) -> Result<Signature> {
    let s = Signature::parse(sign)?;
    check_body_sign(key, &s.digest, &s.timestamp, body)?;
    Ok(s)
}

/// The body check shared by [`verify_body`] and [`Envelope::open`] (constant-time comparison).
fn check_body_sign(key: &MerchantKey, digest: &[u8; 16], ts: &str, body: &str) -> Result<()> {
    if bool::from(digest.ct_eq(&md5_stripped(ts, key, body))) {
        Ok(())
    } else {
        Err(Error::signature(
            "the signature does not match the body (wrong key or altered body)",
        ))
    }
}

/// Verifies a query signature.
pub fn verify_query(key: &MerchantKey, sign: &str, charge_code: &str) -> Result<Signature> {
    let s = Signature::parse(sign)?;
    if s.verify_query(key, charge_code) {
        Ok(s)
    } else {
        Err(Error::signature(
            "the signature does not match the query's charge code",
        ))
    }
}

/// Verifies a cancel signature.
pub fn verify_cancel(
    key: &MerchantKey,
    sign: &str,
    charge_code: &str,
    busi_code: &str,
) -> Result<Signature> {
    let s = Signature::parse(sign)?;
    if s.verify_cancel(key, charge_code, busi_code) {
        Ok(s)
    } else {
        Err(Error::signature(
            "the signature does not match the cancel's charge and merchant codes",
        ))
    }
}

/// A merchant's envelope: the key and its expanded 3DES schedule, built once and reused.
/// Cheap to clone and `Send + Sync`.
#[derive(Clone)]
pub struct Envelope {
    key: MerchantKey,
    cipher: Des3,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope").field("key", &self.key).finish()
    }
}

impl Envelope {
    /// Expands the key once.
    pub fn new(key: MerchantKey) -> Self {
        let cipher = Des3::new(&key.des_key());
        Envelope { key, cipher }
    }

    /// The merchant key.
    pub fn key(&self) -> &MerchantKey {
        &self.key
    }

    /// Signs a POST body with the given timestamp.
    pub fn sign_body(&self, timestamp: &str, body: &str) -> Result<String> {
        sign_body(&self.key, timestamp, body)
    }

    /// 3DES-EDE3-ECB-PKCS#7 encrypts `plaintext` and returns standard Base64 with padding.
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        // One allocation (the returned text): the ciphertext goes through a stack buffer whose
        // size is a multiple of both the 8-byte block and the 3-byte Base64 group.
        const CHUNK: usize = 768;
        let pad = 8 - plaintext.len() % 8;
        let total = plaintext.len() + pad;
        let mut out = String::with_capacity(total.div_ceil(3) * 4);
        let mut buf = [0u8; CHUNK];
        let mut offset = 0;
        while offset < total {
            let n = CHUNK.min(total - offset);
            let chunk = &mut buf[..n];
            let have = plaintext.len().saturating_sub(offset).min(n);
            chunk[..have].copy_from_slice(&plaintext[offset..offset + have]);
            chunk[have..].fill(pad as u8);
            self.cipher.encrypt_blocks_exact(chunk);
            base64::engine::general_purpose::STANDARD.encode_string(&*chunk, &mut out);
            offset += n;
        }
        out
    }

    /// Decodes Base64 (surrounding whitespace and line breaks tolerated) and decrypts.
    pub fn decrypt(&self, base64_text: &str) -> Result<Vec<u8>> {
        let b64 = &base64::engine::general_purpose::STANDARD;
        let bad = |e: base64::DecodeError| {
            Error::crypto(format!("the ciphertext is not valid Base64 ({e})"))
        };
        let text = base64_text.as_bytes();
        // One allocation (the returned plaintext): Base64 is decoded into it, then decrypted
        // and unpadded in place.
        let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
        if !text.iter().any(|&b| is_java_space(b)) {
            b64.decode_vec(text, &mut out).map_err(bad)?;
        } else {
            // Line-wrapped Base64: drop the whitespace through a stack buffer, decoding in
            // whole 4-character groups.
            let mut buf = [0u8; 1024];
            let mut n = 0;
            for &b in text.iter().filter(|&&b| !is_java_space(b)) {
                if n == buf.len() {
                    if buf[n - 1] == b'=' {
                        return Err(Error::crypto(
                            "the ciphertext is not valid Base64 (padding before the end)",
                        ));
                    }
                    b64.decode_vec(&buf[..], &mut out).map_err(bad)?;
                    n = 0;
                }
                buf[n] = b;
                n += 1;
            }
            b64.decode_vec(&buf[..n], &mut out).map_err(bad)?;
        }
        let len = self.cipher.decrypt_pkcs7_in_place(&mut out)?;
        out.truncate(len);
        Ok(out)
    }

    /// Decrypts and requires UTF-8 plaintext.
    pub fn decrypt_to_string(&self, base64_text: &str) -> Result<String> {
        let pt = self.decrypt(base64_text)?;
        String::from_utf8(pt)
            .map_err(|_| Error::crypto("the decrypted text is not UTF-8 (wrong key?)"))
    }

    /// Sign then encrypt a POST body: returns `(sign, base64 ciphertext)`.
    pub fn seal(&self, timestamp: &str, body: &str) -> Result<(String, String)> {
        let sign = self.sign_body(timestamp, body)?;
        Ok((sign, self.encrypt(body.as_bytes())))
    }

    /// Decrypt a sealed body and verify its signature; returns the plaintext.
    pub fn open(&self, sign: &str, base64_text: &str) -> Result<String> {
        let body = self.decrypt_to_string(base64_text)?;
        let (digest, ts) = parse_sign(sign)?;
        check_body_sign(&self.key, &digest, ts, &body)?;
        Ok(body)
    }
}

/// One-shot helper: encrypt with a key string.
pub fn encrypt(key: &MerchantKey, plaintext: &[u8]) -> String {
    Envelope::new(key.clone()).encrypt(plaintext)
}

/// One-shot helper: decrypt with a key string.
pub fn decrypt(key: &MerchantKey, base64_text: &str) -> Result<Vec<u8>> {
    Envelope::new(key.clone()).decrypt(base64_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_timestamp_a_verifier_reads_is_signed_with() {
        let k = MerchantKey::new("98SDKFUO432HNODS098EEE07U9DUOIUE").expect("key");
        for ts in ["1473431447", "1473431447000"] {
            let sign = sign_body(&k, ts, "{}").expect(ts);
            assert!(Signature::parse(&sign).expect(ts).verify_body(&k, "{}"));
        }
        for ts in [
            "",
            "1",
            "147343144",
            "14734314470",
            "14734314470001",
            "18446744073709551615",
        ] {
            for e in [
                sign_body(&k, ts, "{}"),
                sign_query(&k, ts, "C-1"),
                sign_cancel(&k, ts, "C-1", "0010000001"),
            ] {
                match e {
                    Err(Error::Validation { field, .. }) => assert_eq!(field, "timestamp"),
                    other => panic!("{ts:?}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn key_is_redacted() {
        let k = MerchantKey::new("98SDKFUO432HNODS098EEE07U9DUOIUE").expect("key");
        assert!(!format!("{k:?}").contains("98SDK"));
        assert!(!format!("{k}").contains("98SDK"));
        let e = Envelope::new(k);
        assert!(!format!("{e:?}").contains("98SDK"));
    }

    #[test]
    fn strip_keeps_unicode_spaces() {
        assert_eq!(
            strip_java_whitespace("a b\t\n\x0b\x0c\rc\u{3000}d\u{a0}"),
            "abc\u{3000}d\u{a0}"
        );
    }

    #[test]
    fn garbage_decrypts_to_errors() {
        let e = Envelope::new(MerchantKey::new("k").expect("key"));
        assert!(e.decrypt("!!!").is_err());
        assert!(e.decrypt("AAAA").is_err()); // 3 bytes: not a multiple of 8
        assert!(e.decrypt("").is_err());
        assert!(e.decrypt("AAAAAAAAAAA=").is_err()); // 8 zero bytes: bad padding (almost surely)
    }

    #[test]
    fn signature_parse_rejects_garbage() {
        assert!(Signature::parse("").is_err());
        assert!(Signature::parse("abc:123").is_err());
        assert!(Signature::parse("7dd43e628c78bc2eca5cc7b7f37a50dz:1473431447").is_err());
        assert!(Signature::parse("7dd43e628c78bc2eca5cc7b7f37a50da:14734314").is_err());
        assert!(Signature::parse("7dd43e628c78bc2eca5cc7b7f37a50da:1473431447").is_ok());
        assert!(Signature::parse("7DD43E628C78BC2ECA5CC7B7F37A50DA:1473431447123").is_ok());
    }
}
