//! 3DES (EDE3) in ECB mode with PKCS#7 padding.

use cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::TdesEde3;

use crate::error::{Error, Result};

/// An expanded 3DES-EDE3 key.
#[derive(Clone)]
pub struct Des3 {
    inner: TdesEde3,
}

impl Des3 {
    /// Expands a 24-byte key.
    pub fn new(key: &[u8; 24]) -> Self {
        Des3 {
            inner: TdesEde3::new(key.into()),
        }
    }

    /// Pads with PKCS#7 and encrypts in ECB mode.
    pub fn encrypt_pkcs7(&self, plaintext: &[u8]) -> Vec<u8> {
        let pad = 8 - plaintext.len() % 8;
        let mut out = Vec::with_capacity(plaintext.len() + pad);
        out.extend_from_slice(plaintext);
        out.resize(plaintext.len() + pad, pad as u8);
        for block in out.chunks_exact_mut(8) {
            self.inner.encrypt_block(block.into());
        }
        out
    }

    /// Decrypts in ECB mode and removes PKCS#7 padding.
    pub fn decrypt_pkcs7(&self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        if ciphertext.is_empty() || ciphertext.len() % 8 != 0 {
            return Err(Error::crypto(format!(
                "the ciphertext is {} bytes, not a positive multiple of 8",
                ciphertext.len()
            )));
        }
        let mut out = ciphertext.to_vec();
        for block in out.chunks_exact_mut(8) {
            self.inner.decrypt_block(block.into());
        }
        let pad = out[out.len() - 1] as usize;
        if pad == 0 || pad > 8 || out[out.len() - pad..].iter().any(|&b| b as usize != pad) {
            return Err(Error::crypto(
                "bad padding after decryption (wrong key or corrupted ciphertext)",
            ));
        }
        out.truncate(out.len() - pad);
        Ok(out)
    }
}
