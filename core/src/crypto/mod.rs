//! 3DES (EDE3) in ECB mode with PKCS#7 padding.
//!
//! The block cipher is our own table-driven implementation (`des_fast`), several times faster
//! than a block-by-block generic one; the RustCrypto `des` crate is kept as its test oracle.

mod des_fast;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};

/// An expanded 3DES-EDE3 key (the 48 encryption and 48 decryption round keys).
#[derive(Clone)]
pub struct Des3 {
    schedule: Box<des_fast::Schedule>,
}

impl Des3 {
    /// Expands a 24-byte key (`k1 ‖ k2 ‖ k3`).
    pub fn new(key: &[u8; 24]) -> Self {
        Des3 {
            schedule: Box::new(des_fast::Schedule::new(key)),
        }
    }

    /// Encrypts every 8-byte block of `data` in place (ECB, no padding).
    ///
    /// # Errors
    /// When `data.len()` is not a multiple of 8 (nothing is changed then).
    pub fn encrypt_blocks(&self, data: &mut [u8]) -> Result<()> {
        check_blocks(data.len())?;
        des_fast::crypt_blocks(&self.schedule.enc, data);
        Ok(())
    }

    /// Decrypts every 8-byte block of `data` in place (ECB, no padding).
    ///
    /// # Errors
    /// When `data.len()` is not a multiple of 8 (nothing is changed then).
    pub fn decrypt_blocks(&self, data: &mut [u8]) -> Result<()> {
        check_blocks(data.len())?;
        des_fast::crypt_blocks(&self.schedule.dec, data);
        Ok(())
    }

    /// Encrypts the whole 8-byte blocks of `data` in place, for callers that sized `data`
    /// themselves (a trailing partial block would be left as is).
    pub(crate) fn encrypt_blocks_exact(&self, data: &mut [u8]) {
        debug_assert!(data.len() % 8 == 0);
        des_fast::crypt_blocks(&self.schedule.enc, data);
    }

    /// Pads with PKCS#7 and encrypts in ECB mode.
    pub fn encrypt_pkcs7(&self, plaintext: &[u8]) -> Vec<u8> {
        let pad = 8 - plaintext.len() % 8;
        let mut out = Vec::with_capacity(plaintext.len() + pad);
        out.extend_from_slice(plaintext);
        out.resize(plaintext.len() + pad, pad as u8);
        des_fast::crypt_blocks(&self.schedule.enc, &mut out);
        out
    }

    /// Decrypts in ECB mode and removes PKCS#7 padding.
    pub fn decrypt_pkcs7(&self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let mut out = ciphertext.to_vec();
        let len = self.decrypt_pkcs7_in_place(&mut out)?;
        out.truncate(len);
        Ok(out)
    }

    /// Decrypts `data` in place (ECB) and checks the PKCS#7 padding; returns the plaintext's
    /// length (the plaintext is `data[..len]`).
    ///
    /// # Errors
    /// When `data` is empty or not a multiple of 8 bytes, or the padding is invalid (wrong key
    /// or corrupted ciphertext).
    pub fn decrypt_pkcs7_in_place(&self, data: &mut [u8]) -> Result<usize> {
        if data.is_empty() || data.len() % 8 != 0 {
            return Err(Error::crypto(format!(
                "the ciphertext is {} bytes, not a positive multiple of 8",
                data.len()
            )));
        }
        des_fast::crypt_blocks(&self.schedule.dec, data);
        unpad_len(data).ok_or_else(|| {
            Error::crypto("bad padding after decryption (wrong key or corrupted ciphertext)")
        })
    }
}

fn check_blocks(len: usize) -> Result<()> {
    if len % 8 != 0 {
        return Err(Error::crypto(format!(
            "the data is {len} bytes, not a multiple of the 8-byte block"
        )));
    }
    Ok(())
}

/// The length of `data` without its PKCS#7 padding, or `None` when the padding is invalid.
fn unpad_len(data: &[u8]) -> Option<usize> {
    let last = *data.last()?;
    let pad = last as usize;
    if pad == 0 || pad > 8 || pad > data.len() {
        return None;
    }
    let tail = &data[data.len() - pad..];
    if tail.iter().any(|&b| b != last) {
        return None;
    }
    Some(data.len() - pad)
}
