//! The RustCrypto parts of the backend: AES-256 one block at a time, for the XAES key derivation.
//!
//! Why not aws-lc here: the derivation encrypts three blocks, then two, for every value, and the
//! `aes` crate (AES-NI, detected at run time, with a constant-time software fallback) does that in
//! about 60% of the time aws-lc-rs's ECB calls take, whose per-call overhead dominates at three
//! blocks (`cargo bench -p fieldcrypt --bench primitives`; docs/PERFORMANCE.md). The key schedule
//! is wiped on drop (the crate's `zeroize` feature).

use aes::cipher::{BlockCipherEncrypt, KeyInit};

use super::{BLOCK_LEN, BlockCipher};

/// AES-256 over a key schedule expanded once.
pub(crate) struct Aes256(aes::Aes256);

impl BlockCipher for Aes256 {
    fn new(key: &[u8; 32]) -> Self {
        Self(aes::Aes256::new(key.into()))
    }

    fn encrypt_blocks(&self, blocks: &mut [[u8; BLOCK_LEN]]) {
        self.0
            .encrypt_blocks(aes::Block::cast_slice_from_core_mut(blocks));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fips_197_aes_256_known_answer() {
        // FIPS 197, Appendix C.3.
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let mut block = [[0u8; 16]];
        for (i, b) in block[0].iter_mut().enumerate() {
            *b = (i as u8) * 0x11;
        }
        Aes256::new(&key).encrypt_blocks(&mut block);
        assert_eq!(hex::encode(block[0]), "8ea2b7ca516745bfeafc49904b496089");
    }

    #[test]
    fn the_same_blocks_as_aws_lc() {
        // Differential against aws-lc's AES-256 ECB over random keys and block counts.
        use aws_lc_rs::cipher::{AES_256, EncryptingKey, UnboundCipherKey};
        for n in 0..200usize {
            let mut key = [0u8; 32];
            crate::os_random::fill(&mut key).unwrap();
            let count = n % 7 + 1;
            let mut ours = vec![[0u8; 16]; count];
            for block in &mut ours {
                crate::os_random::fill(block).unwrap();
            }
            let mut theirs = ours.as_flattened().to_vec();
            Aes256::new(&key).encrypt_blocks(&mut ours);
            EncryptingKey::ecb(UnboundCipherKey::new(&AES_256, &key).unwrap())
                .unwrap()
                .encrypt(&mut theirs)
                .unwrap();
            assert_eq!(ours.as_flattened(), &theirs[..], "key {n}, {count} blocks");
        }
    }
}
