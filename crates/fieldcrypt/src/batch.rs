//! Sealing and opening many values at once, on all cores ([`crate::parallel`]).
//!
//! Each thread seals through its own [`Sealer`], so a batch costs the same nonce calls as the
//! same values sealed one by one, never fewer fresh nonces. Opening needs no state; a batch of
//! fewer than [`crate::parallel::MIN_CHUNK`] values per core stays on the caller's thread.

use crate::context::Context;
use crate::error::Error;
use crate::keyring::Keyring;
use crate::parallel;
use crate::plaintext::{Decode, Encode};
use crate::sealer::Sealer;

impl Keyring {
    /// Seals every value under `context` (one column's, or one row's), in order, on all cores.
    pub fn seal_many<T: Encode + Sync>(
        &self,
        context: &Context,
        values: &[T],
    ) -> Result<Vec<Vec<u8>>, Error> {
        parallel::map_with(values, Sealer::new, |sealer, v| {
            sealer.seal(self, context, v)
        })
    }

    /// [`Self::seal_many`] in the text form.
    pub fn seal_many_text<T: Encode + Sync>(
        &self,
        context: &Context,
        values: &[T],
    ) -> Result<Vec<String>, Error> {
        parallel::map_with(values, Sealer::new, |sealer, v| {
            sealer.seal_text(self, context, v)
        })
    }

    /// Opens every envelope (binary, or text as bytes) under `context`, in order, on all cores.
    /// The first envelope that does not open is the error; no partial result is returned.
    pub fn open_many<T, E>(&self, context: &Context, envelopes: &[E]) -> Result<Vec<T>, Error>
    where
        T: Decode + Send,
        E: AsRef<[u8]> + Sync,
    {
        parallel::map(envelopes, |e| self.open(context, e.as_ref()))
    }

    /// Opens items that each carry their own context (values bound to their rows): `parts`
    /// gives an item's context and envelope. In order, on all cores; the first failure wins.
    pub fn open_many_with<T, I, F>(&self, items: &[I], parts: F) -> Result<Vec<T>, Error>
    where
        T: Decode + Send,
        I: Sync,
        F: Fn(&I) -> (&Context, &[u8]) + Sync,
    {
        parallel::map(items, |item| {
            let (context, envelope) = parts(item);
            self.open(context, envelope)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashSet;

    use super::*;
    use crate::envelope::{Envelope, Suite};

    #[test]
    fn many_values_seal_and_open_in_order_with_distinct_nonces() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        // Enough for every core to take a chunk.
        let values: Vec<i64> = (0..5_000).collect();
        let sealed = keyring.seal_many(&context, &values).unwrap();
        let nonces: HashSet<[u8; 24]> = sealed
            .iter()
            .map(|s| *Envelope::parse(s).unwrap().nonce())
            .collect();
        assert_eq!(nonces.len(), values.len());
        let opened: Vec<i64> = keyring.open_many(&context, &sealed).unwrap();
        assert_eq!(opened, values);
        let text = keyring.seal_many_text(&context, &values).unwrap();
        let opened: Vec<i64> = keyring.open_many(&context, &text).unwrap();
        assert_eq!(opened, values);
    }

    #[test]
    fn one_bad_envelope_fails_the_batch_with_its_error() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        let values: Vec<String> = (0..3_000).map(|i| format!("v{i}")).collect();
        let mut sealed = keyring.seal_many(&context, &values).unwrap();
        let last = sealed[2_999].len() - 1;
        sealed[2_999][last] ^= 1;
        let err = keyring
            .open_many::<String, _>(&context, &sealed)
            .unwrap_err();
        assert!(matches!(err, Error::CannotOpen), "{err:?}");
        // Another context: nothing opens.
        sealed[2_999][last] ^= 1;
        let other = Context::new("t", "other").unwrap();
        assert!(keyring.open_many::<String, _>(&other, &sealed).is_err());
    }

    #[test]
    fn items_with_their_own_contexts() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let rows: Vec<(Context, Vec<u8>)> = (0..1_000i64)
            .map(|row| {
                let ctx = Context::new("t", "c").unwrap().with_row(row).unwrap();
                let sealed = keyring.seal(&ctx, &row).unwrap();
                (ctx, sealed)
            })
            .collect();
        let opened: Vec<i64> = keyring
            .open_many_with(&rows, |(c, e)| (c, e.as_slice()))
            .unwrap();
        assert_eq!(opened, (0..1_000).collect::<Vec<_>>());
        // A value moved to another row does not open.
        let swapped: Vec<(Context, Vec<u8>)> = vec![
            (rows[0].0.clone(), rows[1].1.clone()),
            (rows[1].0.clone(), rows[0].1.clone()),
        ];
        assert!(
            keyring
                .open_many_with::<i64, _, _>(&swapped, |(c, e)| (c, e.as_slice()))
                .is_err()
        );
    }
}
