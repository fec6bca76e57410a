//! Sealing many values at once: nonces drawn from the CSPRNG in blocks.
//!
//! [`Keyring::seal`] asks the CSPRNG for each value's 24-byte nonce. Through aws-lc that call
//! costs about half a microsecond on the development machine (its DRBG mixes fresh RDRAND
//! output into every call), which is a third or more of sealing a short field. A [`Sealer`]
//! asks once per block of values and hands each nonce out exactly once, whichever keyring seals
//! with it (nonces are random, not tied to a key).
//!
//! The trade, made deliberately: nonces drawn ahead sit in the process's memory until used. A
//! VM snapshot restored twice while one is half used could hand out the same nonces twice;
//! aws-lc's own snapshot checks cannot see them. So a `Sealer` is short-lived by design: borrow
//! one for a batch, drop it at the end of the batch (unused nonces are zeroized), never keep one
//! in a long-lived struct. It is neither `Clone` nor `Copy`. A `fork()` is caught: each block
//! records the process id it was drawn in, and a block drawn in another process is thrown away
//! unused.
//!
//! Fail closed: a block is usable only after a CSPRNG call that succeeded. A failed call leaves
//! the sealer with no nonce to hand out, so the next seal draws again (and fails again while the
//! CSPRNG does), never a zero or repeated nonce.

use zeroize::{Zeroize as _, Zeroizing};

use crate::aead::NONCE_LEN;
use crate::context::Context;
use crate::error::Error;
use crate::keyring::Keyring;
use crate::plaintext::Encode;
use crate::secret::fill_random;

/// The most nonces drawn in one CSPRNG call (6 KiB): beyond this the saving is nil.
const MAX_BLOCK: usize = 256;

/// Seals values under a keyring's primary key, with nonces drawn in blocks. See the module
/// documentation for when to use one (a batch) and when not (across a fork).
pub struct Sealer {
    /// Nonces not yet handed out are `nonces[next * NONCE_LEN..]`; none when `next * NONCE_LEN`
    /// reaches the length (a new sealer, a used-up block, or a failed draw).
    nonces: Zeroizing<Vec<u8>>,
    next: usize,
    block: usize,
    /// The process the block was drawn in: after a `fork()` the child must not reuse it.
    drawn_in: u32,
}

impl core::fmt::Debug for Sealer {
    /// Shows how many nonces are left, never the nonces.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sealer")
            .field("nonces_left", &self.nonces_left())
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
            drawn_in: std::process::id(),
        }
    }

    fn nonces_left(&self) -> usize {
        (self.nonces.len() / NONCE_LEN).saturating_sub(self.next)
    }

    /// The next unused nonce, drawing a block when none is left. Where the kernel's generator
    /// answers through the vDSO, each nonce is drawn on its own instead: one vDSO call costs less
    /// than the process-id check a block needs, and nothing is held ahead.
    fn nonce(&mut self) -> Result<[u8; NONCE_LEN], Error> {
        if crate::os_random::is_vdso() {
            let mut nonce = [0u8; NONCE_LEN];
            fill_random(&mut nonce)?;
            return Ok(nonce);
        }
        self.nonce_from(fill_random)
    }

    /// [`Self::nonce`] with the CSPRNG given (tests pass one that fails).
    fn nonce_from(
        &mut self,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Error>,
    ) -> Result<[u8; NONCE_LEN], Error> {
        let pid = std::process::id();
        if self.nonces_left() == 0 || self.drawn_in != pid {
            // Nothing is handed out of this buffer until the fill below succeeds: mark it used
            // up first, so an error leaves no usable (zero or stale) nonce behind.
            self.next = self.block;
            self.nonces.zeroize();
            self.nonces.resize(self.block * NONCE_LEN, 0);
            fill(&mut self.nonces)?;
            self.next = 0;
            self.drawn_in = pid;
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
        keyring.seal_under_nonce(context, value, nonce)
    }

    /// [`Keyring::seal_text`] with the next nonce of the block.
    pub fn seal_text<T: Encode + ?Sized>(
        &mut self,
        keyring: &Keyring,
        context: &Context,
        value: &T,
    ) -> Result<String, Error> {
        let nonce = self.nonce()?;
        keyring.seal_text_under_nonce(context, value, nonce)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashSet;

    use super::*;
    use crate::envelope::{Envelope, Suite};

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
    fn a_failed_draw_hands_out_no_nonce_and_the_next_draw_is_fresh() {
        let mut sealer = Sealer::new(8);
        // The first draw fails: an error, and no block to take nonces from afterwards.
        assert!(matches!(
            sealer.nonce_from(|_| Err(Error::Rng)),
            Err(Error::Rng)
        ));
        assert_eq!(sealer.nonces_left(), 0);
        // Every later call draws again; while the CSPRNG keeps failing, so does the seal.
        for _ in 0..3 {
            assert!(sealer.nonce_from(|_| Err(Error::Rng)).is_err());
        }
        // A failure after a block was used up, too.
        let mut used_up = Sealer::new(1);
        used_up.nonce_from(fill_random).unwrap();
        assert!(used_up.nonce_from(|_| Err(Error::Rng)).is_err());
        assert!(used_up.nonce_from(|_| Err(Error::Rng)).is_err());
        // Once the CSPRNG works again, nonces are fresh and distinct.
        let a = sealer.nonce_from(fill_random).unwrap();
        let b = sealer.nonce_from(fill_random).unwrap();
        assert_ne!(a, [0; NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn a_block_drawn_in_another_process_is_thrown_away() {
        let mut sealer = Sealer::new(8);
        let first = sealer.nonce_from(fill_random).unwrap();
        let left = sealer.nonces[NONCE_LEN..].to_vec();
        // As after a fork: the block was drawn by a parent process.
        sealer.drawn_in = sealer.drawn_in.wrapping_add(1);
        let mut seen = Vec::new();
        let next = sealer.nonce_from(|buf| {
            seen.push(buf.len());
            fill_random(buf)
        });
        let next = next.unwrap();
        assert_eq!(seen, [8 * NONCE_LEN], "a new block was drawn");
        assert!(
            !left.chunks(NONCE_LEN).any(|n| n == next),
            "no parent nonce reused"
        );
        assert_ne!(next, first);
        assert_eq!(sealer.drawn_in, std::process::id());
    }

    #[test]
    fn a_nonce_handed_out_is_wiped_from_the_block() {
        let mut sealer = Sealer::new(4);
        let first = sealer.nonce_from(fill_random).unwrap();
        assert_ne!(first, [0; NONCE_LEN]);
        assert!(sealer.nonces[..NONCE_LEN].iter().all(|&b| b == 0));
        assert!(sealer.nonces[NONCE_LEN..].iter().any(|&b| b != 0));
    }
}
