//! Differential tests: our 3DES against the RustCrypto `des` crate (the oracle).

use cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::TdesEde3;
use proptest::prelude::*;

use super::Des3;

fn oracle_encrypt(key: &[u8; 24], data: &[u8]) -> Vec<u8> {
    let c = TdesEde3::new(key.into());
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(8) {
        c.encrypt_block(block.into());
    }
    out
}

fn oracle_decrypt(key: &[u8; 24], data: &[u8]) -> Vec<u8> {
    let c = TdesEde3::new(key.into());
    let mut out = data.to_vec();
    for block in out.chunks_exact_mut(8) {
        c.decrypt_block(block.into());
    }
    out
}

fn pkcs7(data: &[u8]) -> Vec<u8> {
    let pad = 8 - data.len() % 8;
    let mut v = data.to_vec();
    v.resize(data.len() + pad, pad as u8);
    v
}

#[test]
fn fips_known_answer() {
    // Single DES known answer (k1 = k2 = k3): the classic "Now is the time for all " test.
    let k = [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
    let mut key = [0u8; 24];
    for i in 0..3 {
        key[8 * i..8 * i + 8].copy_from_slice(&k);
    }
    let des = Des3::new(&key);
    let mut data = *b"Now is the time for all ";
    des.encrypt_blocks(&mut data).expect("blocks");
    assert_eq!(
        data,
        [
            0x3f, 0xa4, 0x0e, 0x8a, 0x98, 0x4d, 0x48, 0x15, 0x6a, 0x27, 0x17, 0x87, 0xab, 0x88,
            0x83, 0xf9, 0x89, 0x3d, 0x51, 0xec, 0x4b, 0x56, 0x3b, 0x53
        ]
    );
    des.decrypt_blocks(&mut data).expect("blocks");
    assert_eq!(&data, b"Now is the time for all ");
}

#[test]
fn every_length_up_to_100_blocks_matches_the_oracle() {
    // Covers every split between the interleaved, pair and single-block paths.
    let key: [u8; 24] = *b"98SDKFUO432HNODS098EEE07";
    let des = Des3::new(&key);
    for len in 0..=800usize {
        let pt: Vec<u8> = (0..len).map(|i| (i * 31 + len) as u8).collect();
        let ct = des.encrypt_pkcs7(&pt);
        assert_eq!(ct, oracle_encrypt(&key, &pkcs7(&pt)), "len {len}");
        assert_eq!(des.decrypt_pkcs7(&ct).expect("decrypt"), pt, "len {len}");
    }
}

#[test]
fn rejects_bad_lengths_and_padding() {
    let key = [7u8; 24];
    let des = Des3::new(&key);
    assert!(des.decrypt_pkcs7(&[]).is_err());
    assert!(des.decrypt_pkcs7(&[0u8; 7]).is_err());
    assert!(des.encrypt_blocks(&mut [0u8; 9]).is_err());
    assert!(des.decrypt_blocks(&mut [0u8; 15]).is_err());
    // A block whose plaintext ends in 0 or 9..=255 or inconsistent padding bytes.
    for bad in [
        *b"abcdefg\x00",
        *b"abcdefg\x09",
        *b"abcdef\x01\x02",
        *b"abcd\x03\x04\x04\x04",
    ] {
        let ct = oracle_encrypt(&key, &bad);
        assert!(des.decrypt_pkcs7(&ct).is_err(), "{bad:?}");
    }
    for good in [*b"abcdefg\x01", *b"\x08\x08\x08\x08\x08\x08\x08\x08"] {
        let ct = oracle_encrypt(&key, &good);
        let pad = good[7] as usize;
        assert_eq!(des.decrypt_pkcs7(&ct).expect("good"), &good[..8 - pad]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn raw_blocks_agree_with_des_crate(
        key in proptest::array::uniform24(any::<u8>()),
        blocks in proptest::collection::vec(any::<u8>(), 0..80usize),
    ) {
        let len = blocks.len() / 8 * 8;
        let data = &blocks[..len];
        let des = Des3::new(&key);
        let mut ours = data.to_vec();
        des.encrypt_blocks(&mut ours).expect("blocks");
        prop_assert_eq!(&ours, &oracle_encrypt(&key, data));
        let mut back = data.to_vec();
        des.decrypt_blocks(&mut back).expect("blocks");
        prop_assert_eq!(&back, &oracle_decrypt(&key, data));
    }

    #[test]
    fn pkcs7_agrees_with_des_crate(
        key in proptest::array::uniform24(any::<u8>()),
        pt in proptest::collection::vec(any::<u8>(), 0..2100usize),
    ) {
        let des = Des3::new(&key);
        let ct = des.encrypt_pkcs7(&pt);
        prop_assert_eq!(ct.len(), pt.len() / 8 * 8 + 8);
        prop_assert_eq!(&ct, &oracle_encrypt(&key, &pkcs7(&pt)));
        prop_assert_eq!(des.decrypt_pkcs7(&ct).expect("decrypt"), pt);
    }

    #[test]
    fn random_ciphertexts_decrypt_like_the_oracle(
        key in proptest::array::uniform24(any::<u8>()),
        ct in proptest::collection::vec(any::<u8>(), 1..40usize),
    ) {
        let ct = &ct[..ct.len() / 8 * 8];
        prop_assume!(!ct.is_empty());
        let des = Des3::new(&key);
        let raw = oracle_decrypt(&key, ct);
        let pad = raw[raw.len() - 1] as usize;
        let valid = (1..=8).contains(&pad) && raw[raw.len() - pad..].iter().all(|&b| b as usize == pad);
        match des.decrypt_pkcs7(ct) {
            Ok(pt) => {
                prop_assert!(valid);
                prop_assert_eq!(&pt[..], &raw[..raw.len() - pad]);
            }
            Err(_) => prop_assert!(!valid),
        }
    }
}

/// The envelope's streaming encrypt/decrypt (stack buffers, chunked Base64) against the
/// straightforward pipeline: pad, encrypt with the oracle, Base64.
#[test]
fn envelope_chunking_matches_the_straightforward_pipeline() {
    use base64::Engine as _;

    use crate::envelope::{Envelope, MerchantKey};
    let b64 = &base64::engine::general_purpose::STANDARD;
    let key = MerchantKey::new("98SDKFUO432HNODS098EEE07U9DUOIUE").expect("key");
    let k24 = key.des_key();
    let env = Envelope::new(key);
    for len in (0..40)
        .chain(760..800)
        .chain(1530..1545)
        .chain([8191, 8192, 8200])
    {
        let pt: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let want = b64.encode(oracle_encrypt(&k24, &pkcs7(&pt)));
        let got = env.encrypt(&pt);
        assert_eq!(got, want, "len {len}");
        assert_eq!(env.decrypt(&got).expect("decrypt"), pt, "len {len}");
        // Line-wrapped (76 columns, CRLF) and indented Base64 decodes the same.
        let wrapped: String = got
            .as_bytes()
            .chunks(76)
            .map(|l| format!("  {}\r\n", std::str::from_utf8(l).expect("ascii")))
            .collect();
        assert_eq!(env.decrypt(&wrapped).expect("wrapped"), pt, "len {len}");
    }
    // Padding characters in the middle are rejected, also at a chunk boundary.
    let ct = env.encrypt(&[1u8; 2000]);
    let mut broken = ct.clone();
    broken.replace_range(1020..1024, "AA==");
    assert!(env.decrypt(&broken).is_err());
    assert!(env.decrypt(&format!(" {broken}")).is_err());
}
