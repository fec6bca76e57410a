//! XAES-256-GCM and KC-XAES-256-GCM, the AEAD suites under the envelope.
//!
//! XAES-256-GCM (<https://c2sp.org/XAES-256-GCM>) derives a fresh AES-256-GCM key from the
//! first 12 bytes of a 24-byte nonce with the NIST SP 800-108r1 counter-mode KDF over CMAC,
//! and encrypts with the derived key and the last 12 nonce bytes. Random nonces are then safe for
//! about 2^80 messages per key.
//!
//! KC-XAES-256-GCM adds the key commitment of IACR eprint 2025/758 (Kampanakis, Halevi, Ebeid,
//! Campagna): two more CMAC blocks of the same KDF give a 32-byte commitment that follows the
//! tag, so a ciphertext opens under exactly one key. The commitment is
//! `CMAC_K("XCMT" || N || 00 01 00 01) || CMAC_K("XCMT" || N || 00 01 00 02)`, as in aws-lc.
//!
//! CMAC of a single full block is `AES_K(M xor K1)`, where `K1` is CMAC's first subkey. `K1` is
//! computed once per key ([`XaesKey::new`]); each value then costs two AES block encryptions
//! (five with the commitment) before GCM. This is the spec's own note on implementation, and
//! it keeps the per-field cost near that of plain AES-GCM.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::backend::{self, BLOCK_LEN, BlockCipher, GCM_NONCE_LEN, GCM_TAG_LEN, Gcm};

/// Length of the XAES nonce in bytes.
pub const NONCE_LEN: usize = 24;
/// Length of the GCM authentication tag in bytes.
pub const TAG_LEN: usize = GCM_TAG_LEN;
/// Length of the KC-XAES key commitment in bytes.
pub const COMMITMENT_LEN: usize = 32;
/// Length of an XAES key in bytes.
pub const KEY_LEN: usize = 32;

/// Why an AEAD operation did not succeed. Deliberately says nothing about which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed")]
pub struct AeadError;

/// An XAES key with its AES key schedule and CMAC subkey `K1` precomputed.
pub struct XaesKey {
    aes: backend::Aes256,
    /// CMAC's subkey K1, as one 128-bit word (XORed whole, wiped in one write).
    k1: u128,
}

impl Drop for XaesKey {
    fn drop(&mut self) {
        // The AES schedule zeroizes itself (the `aes` crate's `zeroize` feature); K1 is ours.
        self.k1.zeroize();
    }
}

impl ZeroizeOnDrop for XaesKey {}

impl core::fmt::Debug for XaesKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("XaesKey([REDACTED])")
    }
}

/// What the derivation gives for one nonce prefix `N[:12]`: the derived AES-256-GCM key, set up,
/// and (for the committing suite) the commitment's first CMAC block, `X1 ^ K1`.
///
/// XAES derives the GCM key from the first 12 nonce bytes only, so values whose nonces share
/// those bytes share this; a batch sealer ([`crate::Sealer`]) draws one random prefix per batch
/// and a fresh random suffix per value, and pays the key setup once per batch. Each value's GCM
/// nonce is its own fresh 96-bit suffix, so under one derived key a batch is AES-GCM with random
/// nonces over at most a few hundred messages, far inside GCM's limits.
pub(crate) struct PrefixKey {
    prefix: [u8; 12],
    commit: bool,
    gcm: backend::Aes256Gcm,
    x1_k1: u128,
    /// The key it was derived from, by its CMAC subkey (a fingerprint: equal K1, same key).
    k1: u128,
}

impl PrefixKey {
    /// The nonce prefix it was derived for.
    pub(crate) fn prefix(&self) -> &[u8; 12] {
        &self.prefix
    }
}

impl Drop for PrefixKey {
    fn drop(&mut self) {
        // The GCM key schedule zeroizes itself (aws-lc-rs).
        self.x1_k1.zeroize();
        self.k1.zeroize();
    }
}

impl XaesKey {
    /// Prepares a key: expands the AES schedule and computes `K1 = dbl(AES_K(0^128))`.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let aes = backend::Aes256::new(key);
        let mut l = [[0u8; BLOCK_LEN]];
        aes.encrypt_blocks(&mut l);
        let mut k1 = dbl(&l[0]);
        l[0].zeroize();
        let word = u128::from_ne_bytes(k1);
        k1.zeroize();
        Self { aes, k1: word }
    }

    /// The first round of the KDF for `prefix = N[:12]`: two CMAC blocks give the GCM key, and
    /// with `commit` the commitment's shared first CMAC block `"XCMT" || N[:12]` goes through
    /// the same call.
    pub(crate) fn prefix_key(&self, prefix: &[u8; 12], commit: bool) -> PrefixKey {
        // Blocks are kept as 128-bit words: XORed whole and wiped in three writes, not 48.
        let mut blocks = [0u128; 3];
        {
            let bytes: &mut [[u8; BLOCK_LEN]; 3] = bytemuck::cast_mut(&mut blocks);
            for (i, block) in bytes.iter_mut().take(2).enumerate() {
                // M_i = [i]_16 || "X" || 0x00 || N[:12] (SP 800-108r1 counter mode: a 16-bit
                // counter, the label "X", a separator, the context), XORed with K1 as the last
                // CMAC block.
                block[..4].copy_from_slice(&[0x00, (i + 1) as u8, b'X', 0x00]);
                block[4..].copy_from_slice(prefix);
            }
            if commit {
                bytes[2][..4].copy_from_slice(b"XCMT");
                bytes[2][4..].copy_from_slice(prefix);
            }
        }
        blocks[0] ^= self.k1;
        blocks[1] ^= self.k1;
        let first_round = if commit { 3 } else { 2 };
        self.aes.encrypt_blocks(
            &mut bytemuck::cast_mut::<_, [[u8; BLOCK_LEN]; 3]>(&mut blocks)[..first_round],
        );
        let mut gcm_key = [blocks[0], blocks[1]];
        let gcm = backend::Aes256Gcm::new(bytemuck::cast_ref(&gcm_key));
        gcm_key.zeroize();
        let x1_k1 = if commit { blocks[2] ^ self.k1 } else { 0 };
        blocks.zeroize();
        PrefixKey {
            prefix: *prefix,
            commit,
            gcm,
            x1_k1,
            k1: self.k1,
        }
    }

    /// Whether `key` was derived by this key for this prefix and suite.
    pub(crate) fn derived(&self, key: &PrefixKey, prefix: &[u8], commit: bool) -> bool {
        key.commit == commit
            && key.prefix == prefix
            && backend::ct_eq(&key.k1.to_ne_bytes(), &self.k1.to_ne_bytes())
    }

    /// The second round, for the committing suite: `W_i = (N[12:] || 0x00 0x01 0x00 i) ^ X1 ^ K1`,
    /// the last blocks of two two-block CMACs whose first block encrypted to X1.
    fn commitment(&self, key: &PrefixKey, nonce: &[u8; NONCE_LEN]) -> [u8; COMMITMENT_LEN] {
        let mut last = [0u128; 2];
        {
            let bytes: &mut [[u8; BLOCK_LEN]; 2] = bytemuck::cast_mut(&mut last);
            for (i, block) in bytes.iter_mut().enumerate() {
                block[..12].copy_from_slice(&nonce[12..]);
                block[12..].copy_from_slice(&[0x00, 0x01, 0x00, (i + 1) as u8]);
            }
        }
        last[0] ^= key.x1_k1;
        last[1] ^= key.x1_k1;
        self.aes
            .encrypt_blocks(bytemuck::cast_mut::<_, [[u8; BLOCK_LEN]; 2]>(&mut last));
        let out: [u8; COMMITMENT_LEN] = bytemuck::cast(last);
        last.zeroize();
        out
    }

    /// Encrypts `in_out` in place; returns the tag and, when `commit`, the key commitment.
    pub(crate) fn seal_in_place(
        &self,
        commit: bool,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> ([u8; TAG_LEN], Option<[u8; COMMITMENT_LEN]>) {
        let key = self.prefix_key(prefix(nonce), commit);
        self.seal_with(&key, nonce, aad, in_out)
    }

    /// [`Self::seal_in_place`] with the prefix's key already derived. `key` must have been
    /// derived by this key for `nonce[..12]` (callers check with [`Self::derived`]).
    pub(crate) fn seal_with(
        &self,
        key: &PrefixKey,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> ([u8; TAG_LEN], Option<[u8; COMMITMENT_LEN]>) {
        debug_assert!(self.derived(key, prefix(nonce), key.commit));
        let tag = key.gcm.seal_in_place(gcm_nonce(nonce), aad, in_out);
        (tag, key.commit.then(|| self.commitment(key, nonce)))
    }

    /// Checks the commitment and decrypts `in_out` (ciphertext then tag) in place. Returns the
    /// plaintext length. `commit` is the suite's, never the input's: a committing suite without
    /// a commitment (or a non-committing one with one) is refused, so no caller can skip the
    /// check by passing `None`. A wrong commitment and a wrong tag fail alike.
    pub(crate) fn open_in_place(
        &self,
        commit: bool,
        commitment: Option<&[u8; COMMITMENT_LEN]>,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, AeadError> {
        if commit != commitment.is_some() {
            return Err(AeadError);
        }
        let key = self.prefix_key(prefix(nonce), commit);
        self.open_with(&key, commitment, nonce, aad, in_out)
    }

    /// [`Self::open_in_place`] with the prefix's key already derived (see [`Self::seal_with`]).
    pub(crate) fn open_with(
        &self,
        key: &PrefixKey,
        commitment: Option<&[u8; COMMITMENT_LEN]>,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, AeadError> {
        debug_assert!(self.derived(key, prefix(nonce), key.commit));
        match (key.commit, commitment) {
            (true, Some(expected)) => {
                let mut actual = self.commitment(key, nonce);
                let equal = backend::ct_eq(&actual, expected);
                actual.zeroize();
                if !equal {
                    return Err(AeadError);
                }
            }
            (false, None) => {}
            _ => return Err(AeadError),
        }
        key.gcm
            .open_in_place(gcm_nonce(nonce), aad, in_out)
            .map_err(|_| AeadError)
    }
}

/// The first 12 bytes of the nonce: what the GCM key is derived from.
pub(crate) fn prefix(nonce: &[u8; NONCE_LEN]) -> &[u8; 12] {
    #[allow(clippy::expect_used)]
    nonce[..12].try_into().expect("12 bytes")
}

fn gcm_nonce(nonce: &[u8; NONCE_LEN]) -> &[u8; GCM_NONCE_LEN] {
    // The last 12 bytes of the XAES nonce are the GCM nonce. The slice is exactly 12 bytes.
    #[allow(clippy::expect_used)]
    nonce[12..].try_into().expect("12 bytes")
}

/// Doubling in GF(2^128) as CMAC defines it (NIST SP 800-38B), in constant time.
fn dbl(block: &[u8; BLOCK_LEN]) -> [u8; BLOCK_LEN] {
    let mut out = [0u8; BLOCK_LEN];
    let mut carry = 0u8;
    for i in (0..BLOCK_LEN).rev() {
        out[i] = (block[i] << 1) | carry;
        carry = block[i] >> 7;
    }
    // 0x87 when the top bit of the input was set, 0 otherwise, without a branch.
    out[BLOCK_LEN - 1] ^= 0x87 & carry.wrapping_neg();
    out
}

/// XAES-256-GCM as a plain AEAD: `seal(nonce, aad, plaintext) = ciphertext || tag`.
///
/// Not key-committing: use it only with keys that the application alone holds.
#[derive(Debug)]
pub struct Xaes256Gcm(XaesKey);

/// KC-XAES-256-GCM: `seal(nonce, aad, plaintext) = ciphertext || tag || commitment`.
#[derive(Debug)]
pub struct KcXaes256Gcm(XaesKey);

macro_rules! aead_api {
    ($name:ident, $commit:expr, $overhead:expr) => {
        impl $name {
            /// Bytes added to every plaintext.
            pub const OVERHEAD: usize = $overhead;

            /// Prepares a key.
            pub fn new(key: &[u8; KEY_LEN]) -> Self {
                Self(XaesKey::new(key))
            }

            /// Encrypts `plaintext`, authenticating `aad`.
            pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
                let mut out = Vec::with_capacity(plaintext.len() + Self::OVERHEAD);
                out.extend_from_slice(plaintext);
                let (tag, commitment) = self.0.seal_in_place($commit, nonce, aad, &mut out);
                out.extend_from_slice(&tag);
                if let Some(commitment) = commitment {
                    out.extend_from_slice(&commitment);
                }
                out
            }

            /// Decrypts and authenticates the output of [`Self::seal`].
            pub fn open(
                &self,
                nonce: &[u8; NONCE_LEN],
                aad: &[u8],
                sealed: &[u8],
            ) -> Result<Vec<u8>, AeadError> {
                if sealed.len() < Self::OVERHEAD {
                    return Err(AeadError);
                }
                let body_len = sealed.len() - if $commit { COMMITMENT_LEN } else { 0 };
                let commitment: Option<[u8; COMMITMENT_LEN]> = if $commit {
                    let mut c = [0u8; COMMITMENT_LEN];
                    c.copy_from_slice(&sealed[body_len..]);
                    Some(c)
                } else {
                    None
                };
                let mut buf = sealed[..body_len].to_vec();
                match self
                    .0
                    .open_in_place($commit, commitment.as_ref(), nonce, aad, &mut buf)
                {
                    Ok(len) => {
                        buf.truncate(len);
                        Ok(buf)
                    }
                    Err(e) => {
                        buf.zeroize();
                        Err(e)
                    }
                }
            }
        }
    };
}

aead_api!(Xaes256Gcm, false, TAG_LEN);
aead_api!(KcXaes256Gcm, true, TAG_LEN + COMMITMENT_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbl_matches_sp800_38b_example() {
        // NIST SP 800-38B, AES-128 example: L = 7df76b0c1ab899b33e42f047b91b546f,
        // K1 = fbeed618357133667c85e08f7236a8de.
        let l: [u8; 16] = hex16("7df76b0c1ab899b33e42f047b91b546f");
        assert_eq!(dbl(&l), hex16("fbeed618357133667c85e08f7236a8de"));
        // And K2 = dbl(K1), which exercises the 0x87 reduction.
        assert_eq!(dbl(&dbl(&l)), hex16("f7ddac306ae266ccf90bc11ee46d513b"));
    }

    #[test]
    fn the_suite_not_the_caller_decides_whether_the_commitment_is_checked() {
        let key = XaesKey::new(&[7; KEY_LEN]);
        let nonce = [9; NONCE_LEN];
        let mut buf = b"value".to_vec();
        let (tag, commitment) = key.seal_in_place(true, &nonce, b"aad", &mut buf);
        let commitment = commitment.unwrap_or_default();
        buf.extend_from_slice(&tag);
        let sealed = buf;
        // A committing open without the commitment is refused, not an unchecked GCM open.
        let mut no_commitment = sealed.clone();
        assert!(
            key.open_in_place(true, None, &nonce, b"aad", &mut no_commitment)
                .is_err()
        );
        // A non-committing open handed a commitment is refused too.
        let mut extra = sealed.clone();
        assert!(
            key.open_in_place(false, Some(&commitment), &nonce, b"aad", &mut extra)
                .is_err()
        );
        let mut good = sealed;
        assert_eq!(
            key.open_in_place(true, Some(&commitment), &nonce, b"aad", &mut good),
            Ok(5)
        );
    }

    fn hex16(s: &str) -> [u8; 16] {
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or_default();
        }
        out
    }
}
