//! Sealing many values at once: one nonce prefix and one derived key per batch.
//!
//! XAES derives each value's AES-GCM key from the first 12 bytes of its 24-byte nonce. A
//! [`Sealer`] draws one random 12-byte prefix for up to 256 values (or the batch size it was
//! given, if smaller) and derives the key once, then gives each value a fresh random 12-byte
//! suffix from the kernel: every nonce is still unique and drawn fresh, and under one derived key
//! the batch is AES-GCM with random 96-bit nonces over at most 256 messages (a collision chance
//! near 2^-81), far inside GCM's limits. A batch of 64-byte values then costs one AES-GCM key
//! setup per 256 values instead of one per value (docs/PERFORMANCE.md has the figures). Opening
//! needs nothing special: the envelopes are ordinary; [`Keyring::open_many`] keeps the last
//! prefix's key, so a batch read back in order derives it once too.
//!
//! Fork and VM-snapshot safety: the suffix of every value comes from the kernel at the moment it
//! is sealed (through the vDSO where the kernel has it), so a process forked, or a VM snapshot
//! restored twice, in the middle of a batch shares the prefix but draws different suffixes.
//! Where the kernel has no vDSO generator, suffixes are drawn 256 at a time (a system call costs
//! several times the vDSO call); then each block records the process id it was drawn in, a block
//! drawn in another process is thrown away unused, and a VM snapshot restored twice while a block
//! is half used could repeat suffixes: so a `Sealer` is short-lived by design. Borrow one for a
//! batch, drop it at the end of the batch (unused suffixes are zeroized), never keep one in a
//! long-lived struct. It is neither `Clone` nor `Copy`.
//!
//! Fail closed: a block is usable only after a CSPRNG call that succeeded. A failed call leaves
//! the sealer with nothing to hand out, so the next seal draws again (and fails again while the
//! CSPRNG does), never a zero or repeated nonce.

use zeroize::{Zeroize as _, Zeroizing};

use crate::aead::{NONCE_LEN, PrefixKey};
use crate::context::Context;
use crate::error::Error;
use crate::keyring::Keyring;
use crate::plaintext::Encode;
use crate::secret::{fill_random, random_array};

/// The most values per prefix, and per block of suffixes drawn in one call.
const MAX_BLOCK: usize = 256;
/// Bytes of a nonce's random suffix (the AES-GCM nonce under the derived key).
const SUFFIX_LEN: usize = NONCE_LEN - 12;

/// Seals values under a keyring's primary key, one derived key per batch prefix. See the module
/// documentation for when to use one (a batch) and when not (kept across a fork).
pub struct Sealer {
    /// Suffixes not yet handed out (only where the kernel has no vDSO generator) are
    /// `suffixes[next * SUFFIX_LEN..]`; none when `next * SUFFIX_LEN` reaches the length.
    suffixes: Zeroizing<Vec<u8>>,
    next: usize,
    block: usize,
    /// The process the block was drawn in: after a `fork()` the child must not reuse it.
    drawn_in: u32,
    /// The batch's prefix key, and how many more values it may seal.
    batch: Option<(PrefixKey, usize)>,
}

impl core::fmt::Debug for Sealer {
    /// Shows how many values the current prefix may still seal, never a nonce or a key.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sealer")
            .field(
                "values_left_on_prefix",
                &self.batch.as_ref().map_or(0, |b| b.1),
            )
            .finish()
    }
}

impl Sealer {
    /// A sealer for about `values` values: one prefix (and suffix block) serves up to that many
    /// (at most 256), and more are drawn if it seals more. Nothing is drawn until the first seal.
    pub fn new(values: usize) -> Self {
        Sealer {
            suffixes: Zeroizing::new(Vec::new()),
            next: 0,
            block: values.clamp(1, MAX_BLOCK),
            drawn_in: std::process::id(),
            batch: None,
        }
    }

    fn suffixes_left(&self) -> usize {
        (self.suffixes.len() / SUFFIX_LEN).saturating_sub(self.next)
    }

    /// A fresh random suffix: from the kernel for each value where the vDSO makes that cheap,
    /// else the next of a block.
    fn suffix(&mut self) -> Result<[u8; SUFFIX_LEN], Error> {
        if crate::os_random::is_vdso() {
            return random_array();
        }
        self.suffix_from(fill_random)
    }

    /// The next suffix of the block, with the CSPRNG given (tests pass one that fails).
    fn suffix_from(
        &mut self,
        fill: impl FnOnce(&mut [u8]) -> Result<(), Error>,
    ) -> Result<[u8; SUFFIX_LEN], Error> {
        let pid = std::process::id();
        if self.suffixes_left() == 0 || self.drawn_in != pid {
            // Nothing is handed out of this buffer until the fill below succeeds: mark it used
            // up first, so an error leaves no usable (zero or stale) suffix behind.
            self.next = self.block;
            self.suffixes.zeroize();
            self.suffixes.resize(self.block * SUFFIX_LEN, 0);
            fill(&mut self.suffixes)?;
            self.next = 0;
            self.drawn_in = pid;
        }
        let start = self.next * SUFFIX_LEN;
        let mut suffix = [0u8; SUFFIX_LEN];
        suffix.copy_from_slice(&self.suffixes[start..start + SUFFIX_LEN]);
        // Handed out once: wipe it from the block too.
        self.suffixes[start..start + SUFFIX_LEN].fill(0);
        self.next += 1;
        Ok(suffix)
    }

    /// The next nonce: the batch's prefix (a new one, and its key, when the current one is used
    /// up or was derived from another key than `keyring`'s primary) and a fresh suffix.
    fn nonce(&mut self, keyring: &Keyring) -> Result<([u8; NONCE_LEN], &PrefixKey), Error> {
        let suffix = self.suffix()?;
        let reuse = matches!(&self.batch, Some((key, left)) if *left > 0 && keyring.is_primary_prefix_key(key));
        if !reuse {
            // The old batch (and its key) is dropped before a new prefix is drawn.
            self.batch = None;
            let prefix: [u8; 12] = random_array()?;
            let key = keyring.primary_prefix_key(&prefix)?;
            self.batch = Some((key, self.block));
        }
        let Some((key, left)) = self.batch.as_mut() else {
            return Err(Error::Rng);
        };
        *left -= 1;
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..12].copy_from_slice(key.prefix());
        nonce[12..].copy_from_slice(&suffix);
        Ok((nonce, key))
    }

    /// [`Keyring::seal`] with the batch's prefix and a fresh suffix.
    pub fn seal<T: Encode + ?Sized>(
        &mut self,
        keyring: &Keyring,
        context: &Context,
        value: &T,
    ) -> Result<Vec<u8>, Error> {
        let (nonce, key) = self.nonce(keyring)?;
        keyring.seal_with_prefix_key(context, value, nonce, key)
    }

    /// [`Keyring::seal_text`] with the batch's prefix and a fresh suffix.
    pub fn seal_text<T: Encode + ?Sized>(
        &mut self,
        keyring: &Keyring,
        context: &Context,
        value: &T,
    ) -> Result<String, Error> {
        let (nonce, key) = self.nonce(keyring)?;
        keyring.seal_text_with_prefix_key(context, value, nonce, key)
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
        assert!(format!("{sealer:?}").contains("values_left_on_prefix"));
    }

    #[test]
    fn a_batch_shares_one_prefix_per_256_values_and_every_suffix_is_fresh() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        let mut sealer = Sealer::new(10_000);
        let nonces: Vec<[u8; NONCE_LEN]> = (0..600_i64)
            .map(|i| {
                *Envelope::parse(&sealer.seal(&keyring, &context, &i).unwrap())
                    .unwrap()
                    .nonce()
            })
            .collect();
        let prefixes: Vec<&[u8]> = nonces.iter().map(|n| &n[..12]).collect();
        // 256, 256, then 88 values per prefix; three distinct prefixes.
        assert!(prefixes[..256].iter().all(|p| *p == prefixes[0]));
        assert!(prefixes[256..512].iter().all(|p| *p == prefixes[256]));
        assert!(prefixes[512..].iter().all(|p| *p == prefixes[512]));
        let distinct: HashSet<&[u8]> = prefixes.iter().copied().collect();
        assert_eq!(distinct.len(), 3);
        let suffixes: HashSet<&[u8]> = nonces.iter().map(|n| &n[12..]).collect();
        assert_eq!(suffixes.len(), 600, "every suffix fresh");
        // A small batch: a prefix for that many values only.
        let mut small = Sealer::new(3);
        let p: Vec<[u8; NONCE_LEN]> = (0..4_i64)
            .map(|i| {
                *Envelope::parse(&small.seal(&keyring, &context, &i).unwrap())
                    .unwrap()
                    .nonce()
            })
            .collect();
        assert_eq!(p[0][..12], p[2][..12]);
        assert_ne!(p[2][..12], p[3][..12]);
    }

    #[test]
    fn a_sealer_follows_the_primary_key_and_another_keyring() {
        let mut keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let other = Keyring::generate(Suite::Xaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        let mut sealer = Sealer::new(256);
        let before = sealer.seal(&keyring, &context, "before").unwrap();
        // Another keyring in the middle of a batch: its own key, never the batch's.
        let elsewhere = sealer.seal(&other, &context, "elsewhere").unwrap();
        assert_eq!(
            other.open::<String>(&context, &elsewhere).unwrap(),
            "elsewhere"
        );
        assert!(keyring.open::<String>(&context, &elsewhere).is_err());
        // A rotation in the middle of a batch: the new primary seals, and both values open.
        let old_primary = keyring.primary();
        keyring.rotate().unwrap();
        let after = sealer.seal(&keyring, &context, "after").unwrap();
        let header = Envelope::parse(&after).unwrap().header();
        assert_ne!(header.key_id, old_primary);
        assert_eq!(keyring.open::<String>(&context, &before).unwrap(), "before");
        assert_eq!(keyring.open::<String>(&context, &after).unwrap(), "after");
    }

    #[test]
    fn a_batch_reads_back_through_the_cached_key_and_tampering_still_fails() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        let mut a = Sealer::new(256);
        let mut b = Sealer::new(256);
        // Two batches interleaved: the cache is replaced at every envelope and still right.
        let sealed: Vec<Vec<u8>> = (0..200_i64)
            .map(|i| {
                if i % 2 == 0 {
                    a.seal(&keyring, &context, &i)
                } else {
                    b.seal(&keyring, &context, &i)
                }
                .unwrap()
            })
            .collect();
        for (i, s) in sealed.iter().enumerate() {
            assert_eq!(keyring.open::<i64>(&context, s).unwrap(), i as i64);
        }
        // In order, after a value of the same batch has filled the cache: a changed commitment,
        // tag, ciphertext or suffix fails.
        let last = sealed[198].len();
        for at in [last - 1, last - 40, 7 + 24 + 1, 7 + 23] {
            assert_eq!(keyring.open::<i64>(&context, &sealed[196]).unwrap(), 196);
            let mut bad = sealed[198].clone();
            bad[at] ^= 1;
            assert!(
                matches!(keyring.open::<i64>(&context, &bad), Err(Error::CannotOpen)),
                "byte {at}"
            );
        }
        // The batch's values under another context do not open either.
        let other = Context::new("t", "other").unwrap();
        assert!(keyring.open::<i64>(&other, &sealed[198]).is_err());
    }

    #[test]
    fn a_failed_draw_hands_out_no_nonce_and_the_next_draw_is_fresh() {
        let mut sealer = Sealer::new(8);
        // The first draw fails: an error, and no block to take nonces from afterwards.
        assert!(matches!(
            sealer.suffix_from(|_| Err(Error::Rng)),
            Err(Error::Rng)
        ));
        assert_eq!(sealer.suffixes_left(), 0);
        // Every later call draws again; while the CSPRNG keeps failing, so does the seal.
        for _ in 0..3 {
            assert!(sealer.suffix_from(|_| Err(Error::Rng)).is_err());
        }
        // A failure after a block was used up, too.
        let mut used_up = Sealer::new(1);
        used_up.suffix_from(fill_random).unwrap();
        assert!(used_up.suffix_from(|_| Err(Error::Rng)).is_err());
        assert!(used_up.suffix_from(|_| Err(Error::Rng)).is_err());
        // Once the CSPRNG works again, nonces are fresh and distinct.
        let a = sealer.suffix_from(fill_random).unwrap();
        let b = sealer.suffix_from(fill_random).unwrap();
        assert_ne!(a, [0; SUFFIX_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn a_block_drawn_in_another_process_is_thrown_away() {
        let mut sealer = Sealer::new(8);
        let first = sealer.suffix_from(fill_random).unwrap();
        let left = sealer.suffixes[SUFFIX_LEN..].to_vec();
        // As after a fork: the block was drawn by a parent process.
        sealer.drawn_in = sealer.drawn_in.wrapping_add(1);
        let mut seen = Vec::new();
        let next = sealer.suffix_from(|buf| {
            seen.push(buf.len());
            fill_random(buf)
        });
        let next = next.unwrap();
        assert_eq!(seen, [8 * SUFFIX_LEN], "a new block was drawn");
        assert!(
            !left.chunks(SUFFIX_LEN).any(|n| n == next),
            "no parent nonce reused"
        );
        assert_ne!(next, first);
        assert_eq!(sealer.drawn_in, std::process::id());
    }

    #[test]
    fn a_nonce_handed_out_is_wiped_from_the_block() {
        let mut sealer = Sealer::new(4);
        let first = sealer.suffix_from(fill_random).unwrap();
        assert_ne!(first, [0; SUFFIX_LEN]);
        assert!(sealer.suffixes[..SUFFIX_LEN].iter().all(|&b| b == 0));
        assert!(sealer.suffixes[SUFFIX_LEN..].iter().any(|&b| b != 0));
    }
}
