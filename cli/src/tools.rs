//! Support tools: sign, encrypt, decrypt and verify notifications, reading stdin.

use std::io::Read;

use sosopay::envelope::{self, Envelope, MerchantKey};
use sosopay::NotificationVerifier;

use crate::output;
use crate::CliError;

/// Reads all of stdin as bytes (binary-safe: nothing trimmed).
pub fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| CliError::msg(format!("could not read stdin: {e}")))?;
    Ok(buf)
}

fn utf8(bytes: Vec<u8>, what: &str) -> Result<String, CliError> {
    String::from_utf8(bytes)
        .map_err(|_| CliError::invalid(format!("the {what} on stdin is not UTF-8")))
}

/// Writes bytes to stdout and flushes (a closed stdout is not an error: [`output::write`]).
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    output::write(bytes)
}

/// `sosopay sign`.
pub fn sign(
    key: &MerchantKey,
    timestamp: &str,
    query: Option<&str>,
    cancel: Option<&[String]>,
) -> Result<(), CliError> {
    let sign = match (query, cancel) {
        (Some(charge_code), _) => envelope::sign_query(key, timestamp, charge_code)?,
        (None, Some([charge_code, busi_code])) => {
            envelope::sign_cancel(key, timestamp, charge_code, busi_code)?
        }
        (None, Some(_)) => {
            return Err(CliError::invalid(
                "--cancel takes CHARGE_CODE and BUSI_CODE",
            ))
        }
        (None, None) => {
            let body = utf8(read_stdin()?, "body")?;
            envelope::sign_body(key, timestamp, &body)?
        }
    };
    write_stdout(format!("{sign}\n").as_bytes())
}

/// `sosopay encrypt`: stdin bytes → Base64 ciphertext.
pub fn encrypt(key: &MerchantKey) -> Result<(), CliError> {
    let pt = read_stdin()?;
    let ct = Envelope::new(key.clone()).encrypt(&pt);
    write_stdout(format!("{ct}\n").as_bytes())
}

/// `sosopay decrypt`: Base64 ciphertext on stdin → plaintext bytes.
pub fn decrypt(key: &MerchantKey) -> Result<(), CliError> {
    let ct = utf8(read_stdin()?, "ciphertext")?;
    let pt = Envelope::new(key.clone()).decrypt(&ct)?;
    write_stdout(&pt)
}

/// The keys being rotated out, as given: each trimmed (`SOSOPAY_PREVIOUS_KEYS="OLD1, OLD2"`);
/// from the variable, empty entries (`"OLD1,"`) are dropped, while an empty `--previous-key ""`
/// stays, to be refused.
pub fn previous_keys(given: Vec<String>, from_env: bool) -> Vec<String> {
    given
        .into_iter()
        .map(|k| k.trim().to_owned())
        .filter(|k| !(from_env && k.is_empty()))
        .collect()
}

/// `sosopay notify`: verify a notification body on stdin.
pub fn notify(
    key: &MerchantKey,
    previous_keys: &[String],
    busi_code: Option<&str>,
    raw_query: &str,
    max_age: Option<u64>,
) -> Result<(), CliError> {
    let body = read_stdin()?;
    let mut v = NotificationVerifier::new(key.clone())
        .with_previous_keys(previous_keys)
        .and_then(|v| v.with_busi_code_opt(busi_code))
        .map_err(|e| {
            crate::name_env_source(e.renamed_fields(&[
                ("previous_keys", "--previous-key"),
                ("busi_code", "--busi-code"),
            ]))
        })?;
    if let Some(s) = max_age {
        v = v.with_max_age(std::time::Duration::from_secs(s));
    }
    let n = v.parse(raw_query, &body)?;
    output::json(&output::notification(&n)?)
}
