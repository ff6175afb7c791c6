//! A table-driven 3DES-EDE3 core, in safe Rust.
//!
//! How it is fast:
//! - the S-boxes and the P permutation are merged into eight 256-entry `u32` tables (8 KiB,
//!   built at compile time from the FIPS 46-3 tables below), indexed directly by a byte of
//!   `R ^ K` so that a round is 2 XORs, 1 rotation, 8 byte extractions and 8 table XORs;
//! - the state is kept rotated right by one bit, which makes every S-box's six E-expanded
//!   input bits contiguous (four S-boxes read `R ^ Ke`, the other four `(R >>> 4) ^ Ko`), so the
//!   E expansion costs nothing and the round keys are pre-packed at key-setup time;
//! - EDE3 is done as 48 consecutive rounds: IP and FP are applied once per block, not three
//!   times (FP·IP between the stages cancels out);
//! - ECB blocks are independent, so [`LANES`] blocks go through the rounds interleaved, which
//!   keeps the CPU's execution units busy instead of waiting on one block's dependency chain;
//! - IP and FP are an 8x8 bit-matrix transpose done with delta swaps (no tables).
//!
//! Correctness is checked against the RustCrypto `des` crate (the test oracle) by a
//! differential property test, and against the vendor's 40 golden 3DES vectors.

/// Blocks processed together in the main loop. Three, not four: with four blocks (8 halves)
/// the round needs more than x86-64's 16 registers, and where LLVM spills then depends on
/// unrelated code in the crate and on the build (`--target`, LTO), so the same source ran
/// 10.1 µs per 827 bytes in one binary and 12.3 µs in another (the Node addon). Three blocks
/// fit: 10.1 to 10.4 µs in every build measured (`docs/BENCHMARKS.md`).
pub(crate) const LANES: usize = 3;

/// FIPS 46-3 S-boxes, row-major (`row * 16 + column`).
const S: [[u8; 64]; 8] = [
    [
        14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, //
        0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8, //
        4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, //
        15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
    ],
    [
        15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, //
        3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5, //
        0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, //
        13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
    ],
    [
        10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, //
        13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1, //
        13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, //
        1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
    ],
    [
        7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, //
        13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9, //
        10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, //
        3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
    ],
    [
        2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, //
        14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6, //
        4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, //
        11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
    ],
    [
        12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, //
        10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8, //
        9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, //
        4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
    ],
    [
        4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, //
        13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6, //
        1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, //
        6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
    ],
    [
        13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, //
        1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2, //
        7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, //
        2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
    ],
];

/// FIPS 46-3 P permutation (1-based source bit of each output bit).
const P: [u8; 32] = [
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19,
    13, 30, 6, 22, 11, 4, 25,
];

/// FIPS 46-3 PC-1 (1-based key bits feeding C then D).
const PC1: [u8; 56] = [
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60,
    52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29,
    21, 13, 5, 28, 20, 12, 4,
];

/// FIPS 46-3 PC-2 (1-based bits of C‖D forming each round key).
const PC2: [u8; 48] = [
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52,
    31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

/// Left rotations of C and D before each round.
const SHIFTS: [u8; 16] = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/// Which S-box each table serves: tables 0..4 read the bytes (high to low) of `R ^ Ke`,
/// tables 4..8 those of `(R >>> 4) ^ Ko`.
const TABLE_SBOX: [usize; 8] = [0, 2, 4, 6, 7, 1, 3, 5];

/// `SP[t][b]`: P(S-box output) for the six bits `b >> 2`, already in the rotated domain.
static SP: [[u32; 256]; 8] = build_sp();

const fn build_sp() -> [[u32; 256]; 8] {
    let mut out = [[0u32; 256]; 8];
    let mut t = 0;
    while t < 8 {
        let j = TABLE_SBOX[t];
        let mut b = 0;
        while b < 256 {
            let v = b >> 2; // the six input bits b1..b6, b1 most significant
            let row = ((v >> 4) & 2) | (v & 1);
            let col = (v >> 1) & 0xf;
            let s = S[j][row * 16 + col] as u32;
            // S-box j's output is bits 4j+1..4j+4 (1-based, MSB first) of the S layer.
            let s_layer = s << (28 - 4 * j);
            // Apply P: output bit i (1-based) is S-layer bit P[i-1].
            let mut f = 0u32;
            let mut i = 0;
            while i < 32 {
                let src = P[i] as u32; // 1-based
                if (s_layer >> (32 - src)) & 1 == 1 {
                    f |= 1 << (31 - i);
                }
                i += 1;
            }
            out[t][b] = f.rotate_right(1);
            b += 1;
        }
        t += 1;
    }
    out
}

/// The 16 round keys of one DES key, packed as `[Ke, Ko]` for the rotated-domain round.
fn des_round_keys(key: &[u8; 8]) -> [[u32; 2]; 16] {
    let k = u64::from_be_bytes(*key);
    let bit = |n: u8| (k >> (64 - n as u32)) & 1; // 1-based FIPS bit of the key
    let mut c: u32 = 0;
    let mut d: u32 = 0;
    for i in 0..28 {
        c = (c << 1) | bit(PC1[i]) as u32;
        d = (d << 1) | bit(PC1[i + 28]) as u32;
    }
    let rot28 = |x: u32, s: u8| ((x << s) | (x >> (28 - s))) & 0x0fff_ffff;
    let mut out = [[0u32; 2]; 16];
    for (round, slot) in out.iter_mut().enumerate() {
        c = rot28(c, SHIFTS[round]);
        d = rot28(d, SHIFTS[round]);
        let cd = ((c as u64) << 28) | d as u64; // 56 bits, bit 1 most significant
        let mut k48: u64 = 0;
        for &src in PC2.iter() {
            k48 = (k48 << 1) | ((cd >> (56 - src as u32)) & 1);
        }
        // Six bits per S-box, S-box 0 most significant.
        let g = |j: u32| ((k48 >> (42 - 6 * j)) & 0x3f) as u32;
        let ke = (g(0) << 26) | (g(2) << 18) | (g(4) << 10) | (g(6) << 2);
        let ko = (g(7) << 26) | (g(1) << 18) | (g(3) << 10) | (g(5) << 2);
        *slot = [ke, ko];
    }
    out
}

/// The 48 round keys of 3DES-EDE3, for encryption and for decryption.
#[derive(Clone)]
pub(crate) struct Schedule {
    pub(crate) enc: [[u32; 2]; 48],
    pub(crate) dec: [[u32; 2]; 48],
}

impl Schedule {
    pub(crate) fn new(key: &[u8; 24]) -> Self {
        let part = |i: usize| {
            let mut k = [0u8; 8];
            k.copy_from_slice(&key[8 * i..8 * i + 8]);
            des_round_keys(&k)
        };
        let (k1, k2, k3) = (part(0), part(1), part(2));
        let mut enc = [[0u32; 2]; 48];
        let mut dec = [[0u32; 2]; 48];
        for i in 0..16 {
            // E(k1), D(k2), E(k3)
            enc[i] = k1[i];
            enc[16 + i] = k2[15 - i];
            enc[32 + i] = k3[i];
            // D(k3), E(k2), D(k1)
            dec[i] = k3[15 - i];
            dec[16 + i] = k2[i];
            dec[32 + i] = k1[15 - i];
        }
        Schedule { enc, dec }
    }
}

/// Swaps the bits of `x` selected by `mask` with those `shift` places higher.
#[inline(always)]
fn delta_swap(x: u64, mask: u64, shift: u32) -> u64 {
    let t = (x ^ (x >> shift)) & mask;
    x ^ t ^ (t << shift)
}

/// The initial permutation: a big-endian block to `(L, R)`, each rotated right by one bit.
#[inline(always)]
pub(crate) fn ip(block: u64) -> (u32, u32) {
    // IP is a transpose of the 8x8 bit matrix (rows = bytes) with the rows reversed, then
    // the odd columns go to L and the even ones to R.
    let mut x = block.swap_bytes();
    x = delta_swap(x, 0x00AA_00AA_00AA_00AA, 7);
    x = delta_swap(x, 0x0000_CCCC_0000_CCCC, 14);
    x = delta_swap(x, 0x0000_0000_F0F0_F0F0, 28);
    // Bytes are now columns c0..c7 (c0 most significant). Reorder to c0 c2 c4 c6 c1 c3 c5 c7.
    x = delta_swap(x, 0x0000_FF00_0000_FF00, 8);
    x = delta_swap(x, 0x0000_0000_FFFF_0000, 16);
    let r = (x >> 32) as u32;
    let l = x as u32;
    (l.rotate_right(1), r.rotate_right(1))
}

/// The final permutation: the inverse of [`ip`] applied to `(L, R)` in the rotated domain.
#[inline(always)]
pub(crate) fn fp(l: u32, r: u32) -> u64 {
    let mut x = ((r.rotate_left(1) as u64) << 32) | l.rotate_left(1) as u64;
    x = delta_swap(x, 0x0000_0000_FFFF_0000, 16);
    x = delta_swap(x, 0x0000_FF00_0000_FF00, 8);
    x = delta_swap(x, 0x0000_0000_F0F0_F0F0, 28);
    x = delta_swap(x, 0x0000_CCCC_0000_CCCC, 14);
    x = delta_swap(x, 0x00AA_00AA_00AA_00AA, 7);
    x.swap_bytes()
}

/// The round function in the rotated domain.
#[inline(always)]
fn f(w: u32, k: &[u32; 2]) -> u32 {
    let u = w ^ k[0];
    let t = w.rotate_right(4) ^ k[1];
    SP[0][(u >> 24) as usize]
        ^ SP[1][(u >> 16) as u8 as usize]
        ^ SP[2][(u >> 8) as u8 as usize]
        ^ SP[3][u as u8 as usize]
        ^ SP[4][(t >> 24) as usize]
        ^ SP[5][(t >> 16) as u8 as usize]
        ^ SP[6][(t >> 8) as u8 as usize]
        ^ SP[7][t as u8 as usize]
}

/// 48 rounds (three DES stages, IP/FP only at the ends) over `N` independent blocks.
#[inline(always)]
fn crypt_n<const N: usize>(ks: &[[u32; 2]; 48], blocks: [u64; N]) -> [u64; N] {
    let mut l = [0u32; N];
    let mut r = [0u32; N];
    for i in 0..N {
        (l[i], r[i]) = ip(blocks[i]);
    }
    for stage in 0..3 {
        let keys = &ks[16 * stage..16 * stage + 16];
        for pair in keys.chunks_exact(2) {
            for i in 0..N {
                l[i] ^= f(r[i], &pair[0]);
            }
            for i in 0..N {
                r[i] ^= f(l[i], &pair[1]);
            }
        }
        // Each DES stage ends by swapping the halves (FP·IP between stages cancel).
        core::mem::swap(&mut l, &mut r);
    }
    let mut out = [0u64; N];
    for i in 0..N {
        // After the last stage's swap, (l, r) hold (R48, L48): the preoutput is R48‖L48.
        out[i] = fp(l[i], r[i]);
    }
    out
}

/// Encrypts or decrypts (depending on `ks`) every 8-byte block of `data` in place.
/// `data.len()` must be a multiple of 8; a trailing partial block is left untouched.
pub(crate) fn crypt_blocks(ks: &[[u32; 2]; 48], data: &mut [u8]) {
    let mut chunks = data.chunks_exact_mut(8 * LANES);
    for chunk in &mut chunks {
        let mut blocks = [0u64; LANES];
        for (b, c) in blocks.iter_mut().zip(chunk.chunks_exact(8)) {
            *b = load(c);
        }
        let out = crypt_n::<LANES>(ks, blocks);
        for (o, c) in out.iter().zip(chunk.chunks_exact_mut(8)) {
            c.copy_from_slice(&o.to_be_bytes());
        }
    }
    let rest = chunks.into_remainder();
    let mut pairs = rest.chunks_exact_mut(16);
    for pair in &mut pairs {
        let (a, b) = pair.split_at_mut(8);
        let out = crypt_n::<2>(ks, [load(a), load(b)]);
        a.copy_from_slice(&out[0].to_be_bytes());
        b.copy_from_slice(&out[1].to_be_bytes());
    }
    for c in pairs.into_remainder().chunks_exact_mut(8) {
        let out = crypt_n::<1>(ks, [load(c)]);
        c.copy_from_slice(&out[0].to_be_bytes());
    }
}

#[inline(always)]
fn load(c: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&c[..8]);
    u64::from_be_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS 46-3 IP, 1-based source bits.
    const IP: [u8; 64] = [
        58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14,
        6, 64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11,
        3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
    ];

    fn naive_ip(x: u64) -> u64 {
        let mut out = 0u64;
        for &src in IP.iter() {
            out = (out << 1) | ((x >> (64 - src as u32)) & 1);
        }
        out
    }

    #[test]
    fn sbox_rows_are_permutations() {
        for (j, s) in S.iter().enumerate() {
            for row in 0..4 {
                let mut seen = [false; 16];
                for &v in &s[row * 16..row * 16 + 16] {
                    assert!(!seen[v as usize], "S{} row {row} repeats {v}", j + 1);
                    seen[v as usize] = true;
                }
            }
        }
    }

    #[test]
    fn ip_and_fp_match_fips() {
        let mut x: u64 = 0x0123_4567_89ab_cdef;
        for _ in 0..1000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let want = naive_ip(x);
            let (l, r) = ip(x);
            assert_eq!(l.rotate_left(1), (want >> 32) as u32, "L of {x:016x}");
            assert_eq!(r.rotate_left(1), want as u32, "R of {x:016x}");
            assert_eq!(fp(l, r), x, "fp(ip(x)) for {x:016x}");
        }
        for b in 0..64 {
            let x = 1u64 << b;
            let (l, r) = ip(x);
            assert_eq!(
                ((l.rotate_left(1) as u64) << 32) | r.rotate_left(1) as u64,
                naive_ip(x)
            );
        }
    }
}
