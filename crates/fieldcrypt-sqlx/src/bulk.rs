//! Bulk writes: one derived key per batch of values instead of one per value.
//!
//! Each value's AES-GCM key is derived from its nonce's first 12 bytes, and setting that key up
//! is the largest part of sealing a short field. Inside [`bulk`], every value sealed on this
//! thread ([`Encrypted`](crate::Encrypted) binds and [`Sealed::seal`](crate::Sealed::seal)) goes
//! through a [`fieldcrypt::Sealer`]: one random nonce prefix (and key setup) per 256 values, a
//! fresh random suffix from the kernel per value. sqlx encodes a bind when it is added (`bind`,
//! `push_bind`, `push_values`), so building a multi-row `INSERT` inside `bulk` is enough;
//! executing it can happen afterwards. Reading the rows back in order reuses the key too.
//!
//! The sealer lives for the closure only; see [`fieldcrypt::sealer`] for why it must stay
//! short-lived.

use std::cell::RefCell;

use fieldcrypt::{Context, Encode, Keyring, Sealer};

thread_local! {
    static BULK: RefCell<Option<Sealer>> = const { RefCell::new(None) };
}

/// Runs `build` with one batch sealer for about `values` sealed values (see above). Nested
/// calls keep their own sealer; the outer one is back when the inner ends, even by a panic.
///
/// ```
/// # use fieldcrypt_sqlx::Encrypted;
/// # fieldcrypt_sqlx::column!(Email = "customers"."email");
/// # fn demo(rows: &[(i64, String)]) {
/// let mut insert = sqlx::QueryBuilder::<sqlx::Postgres>::new("INSERT INTO customers (id, email) ");
/// fieldcrypt_sqlx::bulk(rows.len(), || {
///     insert.push_values(rows, |mut b, (id, email)| {
///         b.push_bind(*id).push_bind(Encrypted::<_, Email>::new(email.clone()));
///     });
/// });
/// // insert.build().execute(&pool).await?;
/// # }
/// ```
pub fn bulk<R>(values: usize, build: impl FnOnce() -> R) -> R {
    /// Puts the previous sealer back when the closure ends, however it ends.
    struct Restore(Option<Sealer>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            // Replaces (and so drops, zeroizing) this call's sealer.
            BULK.with(|bulk| *bulk.borrow_mut() = previous);
        }
    }
    let previous = BULK.with(|bulk| bulk.replace(Some(Sealer::new(values))));
    let _restore = Restore(previous);
    build()
}

/// Seals through the current [`bulk`] sealer when there is one, else with a nonce of its own.
pub(crate) fn seal<T: Encode + ?Sized>(
    keyring: &Keyring,
    context: &Context,
    value: &T,
) -> Result<Vec<u8>, fieldcrypt::Error> {
    BULK.with(|bulk| match bulk.borrow_mut().as_mut() {
        Some(sealer) => sealer.seal(keyring, context, value),
        None => keyring.seal(context, value),
    })
}

/// [`seal`], as a text envelope.
pub(crate) fn seal_text<T: Encode + ?Sized>(
    keyring: &Keyring,
    context: &Context,
    value: &T,
) -> Result<String, fieldcrypt::Error> {
    BULK.with(|bulk| match bulk.borrow_mut().as_mut() {
        Some(sealer) => sealer.seal_text(keyring, context, value),
        None => keyring.seal_text(context, value),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use fieldcrypt::{Envelope, Suite};

    fn has_sealer() -> bool {
        BULK.with(|bulk| bulk.borrow().is_some())
    }

    #[test]
    fn values_sealed_in_bulk_open_and_have_distinct_nonces() {
        let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let context = Context::new("t", "c").unwrap();
        let sealed: Vec<Vec<u8>> = bulk(300, || {
            assert!(has_sealer());
            (0..300_i64)
                .map(|i| seal(&keyring, &context, &i).unwrap())
                .collect()
        });
        assert!(!has_sealer(), "the sealer ends with the closure");
        let mut nonces: Vec<[u8; 24]> = sealed
            .iter()
            .map(|s| *Envelope::parse(s).unwrap().nonce())
            .collect();
        for (i, s) in sealed.iter().enumerate() {
            assert_eq!(keyring.open::<i64>(&context, s).unwrap(), i as i64);
        }
        nonces.sort_unstable();
        nonces.dedup();
        assert_eq!(nonces.len(), 300);
        let text = bulk(1, || seal_text(&keyring, &context, "x").unwrap());
        assert_eq!(keyring.open_text::<String>(&context, &text).unwrap(), "x");
    }

    #[test]
    fn a_panic_inside_bulk_leaves_no_sealer_behind() {
        let outer = bulk(1, || {
            let caught = std::panic::catch_unwind(|| bulk(5, || panic!("inside")));
            assert!(caught.is_err());
            has_sealer()
        });
        assert!(
            outer,
            "the outer sealer is back after the inner one panicked"
        );
        assert!(!has_sealer());
    }
}
