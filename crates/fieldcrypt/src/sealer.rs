//! Sealing many values at once: nonces drawn from the CSPRNG in blocks.
//!
//! [`Keyring::seal`] asks the CSPRNG for each value's 24-byte nonce. Through aws-lc that call
//! costs about half a microsecond on the development machine (its DRBG mixes fresh RDRAND
//! output into every call), which is a third or more of sealing a short field. A [`Sealer`]
//! asks once per block of values and hands each nonce out exactly once, whichever keyring seals
//! with it (nonces are random, not tied to a key).
//!
//! The trade, made deliberately: nonces drawn ahead sit in the process's memory until used. A
//! process that `fork()`s without `exec` while holding a `Sealer`, or a VM snapshot restored twice
//! while one is half used, could hand out the same nonces twice; aws-lc's own fork and snapshot
//! checks cannot see them. So a `Sealer` is short-lived by design: borrow one for a batch, drop
//! it at the end of the batch (unused nonces are zeroized), never keep one in a long-lived
//! struct. It is neither `Clone` nor `Copy`.

use zeroize::Zeroizing;

use crate::aead::NONCE_LEN;
use crate::context::Context;
use crate::envelope::Envelope;
use crate::error::Error;
use crate::keyring::Keyring;
use crate::plaintext::Encode;
use crate::secret::fill_random;

/// The most nonces drawn in one CSPRNG call (6 KiB): beyond this the saving is nil.
const MAX_BLOCK: usize = 256;

/// Seals values under a keyring's primary key, with nonces drawn in blocks. See the module
/// documentation for when to use one (a batch) and when not (across a fork).
pub struct Sealer {
    /// Nonces not yet handed out are `nonces[next * NONCE_LEN..]`.
    nonces: Zeroizing<Vec<u8>>,
    next: usize,
    block: usize,
}

impl core::fmt::Debug for Sealer {
    /// Shows how many nonces are left, never the nonces.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sealer")
            .field("nonces_left", &(self.nonces.len() / NONCE_LEN - self.next))
            .finish()
    }
}

impl Sealer {
    /// A sealer for about `values` values: it draws nonces for up to that many (at most 256) per
    /// CSPRNG call, and more blocks if it seals more. Nothing is drawn until the first seal.
    pub fn new(values: usize) -> Self {
        Sealer {
            nonces: Zeroizing::new(Vec::new()),
            next: 0,
            block: values.clamp(1, MAX_BLOCK),
        }
    }

    /// The next unused nonce, drawing a block when none is left.
    fn nonce(&mut self) -> Result<[u8; NONCE_LEN], Error> {
        if self.next * NONCE_LEN >= self.nonces.len() {
            // The old block is used up: overwrite it in place (the Vec's memory is zeroized
            // when the sealer drops).
            self.nonces.resize(self.block * NONCE_LEN, 0);
            fill_random(&mut self.nonces)?;
            self.next = 0;
        }
        let start = self.next * NONCE_LEN;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&self.nonces[start..start + NONCE_LEN]);
        // Handed out once: wipe it from the block too.
        self.nonces[start..start + NONCE_LEN].fill(0);
        self.next += 1;
        Ok(nonce)
    }

    /// [`Keyring::seal`] with the next nonce of the block.
    pub fn seal<T: Encode + ?Sized>(
        &mut self,
        keyring: &Keyring,
        context: &Context,
        value: &T,
    ) -> Result<Vec<u8>, Error> {
        let nonce = self.nonce()?;
        keyring.seal_with_nonce(context, value, nonce)
    }

    /// [`Keyring::seal_text`] with the next nonce of the block.
    pub fn seal_text<T: Encode + ?Sized>(
        &mut self,
        keyring: &Keyring,
        context: &Context,
        value: &T,
    ) -> Result<String, Error> {
        let binary = self.seal(keyring, context, value)?;
        Ok(Envelope::parse_binary(&binary)?.to_text())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashSet;

    use super::*;
    use crate::envelope::Suite;

    #[test]
    fn every_value_gets_its_own_nonce_across_blocks_and_opens() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        // 3 blocks of 256 and a part: the refill path is crossed twice.
        let mut sealer = Sealer::new(10_000);
        let mut nonces = HashSet::new();
        for i in 0..700_i64 {
            let sealed = sealer.seal(&keyring, &context, &i).unwrap();
            let envelope = Envelope::parse(&sealed).unwrap();
            assert!(nonces.insert(*envelope.nonce()), "nonce repeated at {i}");
            assert_eq!(keyring.open::<i64>(&context, &sealed).unwrap(), i);
        }
        let text = sealer.seal_text(&keyring, &context, "x").unwrap();
        assert_eq!(keyring.open_text::<String>(&context, &text).unwrap(), "x");
        assert!(format!("{sealer:?}").contains("nonces_left"));
    }

    #[test]
    fn a_nonce_handed_out_is_wiped_from_the_block() {
        let mut sealer = Sealer::new(4);
        let first = sealer.nonce().unwrap();
        assert_ne!(first, [0; NONCE_LEN]);
        assert!(sealer.nonces[..NONCE_LEN].iter().all(|&b| b == 0));
        assert!(sealer.nonces[NONCE_LEN..].iter().any(|&b| b != 0));
    }
}
