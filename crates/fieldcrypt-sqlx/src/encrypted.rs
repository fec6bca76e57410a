//! Transparent columns: the application holds plain values, sqlx seals them when binding and
//! opens them when decoding, with the installed keyring and the column's declared context.

use core::fmt;
use core::marker::PhantomData;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::bulk;
use crate::codec::{self, Stored};
use crate::column::{Column, Storage};
use crate::error::Error;
use crate::installed::installed;

/// A value of type `T` stored encrypted in column `C`: sealed on every bind, opened on every read.
///
/// `T` is any type the core seals (`String`, `Vec<u8>`, integers, `f64`, `bool`,
/// [`fieldcrypt::Date`], [`fieldcrypt::Timestamp`], [`fieldcrypt::Decimal`],
/// [`fieldcrypt::Json<V>`]). Use `Option<Encrypted<T, C>>` for a nullable column. The value is
/// bound to the table and column only; to bind it to its row as well, use
/// [`Sealed`](crate::Sealed).
///
/// ```
/// use fieldcrypt_sqlx::Encrypted;
/// fieldcrypt_sqlx::column!(pub Email = "customers"."email");
///
/// #[derive(sqlx::FromRow)]
/// struct Customer {
///     id: i64,
///     email: Encrypted<String, Email>,
/// }
/// ```
pub struct Encrypted<T, C> {
    value: T,
    column: PhantomData<fn() -> C>,
}

impl<T, C: Column> Encrypted<T, C> {
    /// Wraps a plain value.
    pub fn new(value: T) -> Self {
        Self {
            value,
            column: PhantomData,
        }
    }

    /// The plain value. Reached only through this call, [`Self::plaintext_mut`] and
    /// [`Self::into_inner`], never through `Deref`: a plaintext bind (`.bind(e.plaintext())`) is
    /// then something written on purpose, not `&*e` or a compiler's suggestion.
    pub fn plaintext(&self) -> &T {
        &self.value
    }

    /// The plain value, to change it in place.
    pub fn plaintext_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The plain value.
    pub fn into_inner(self) -> T {
        self.value
    }

    fn stored(&self) -> Result<Stored, Error>
    where
        T: fieldcrypt::Encode,
    {
        seal_for::<T, C>(&self.value)
    }

    fn open(stored: &[u8]) -> Result<Self, Error>
    where
        T: fieldcrypt::Decode,
    {
        let keyring = installed()?;
        keyring
            .open(&*C::shared_context()?, stored)
            .map(Self::new)
            .map_err(|e| Error::explain::<C>(stored, e))
    }
}

/// `value` sealed for column `C` with the installed keyring, in the column's storage form.
pub(crate) fn seal_for<T: fieldcrypt::Encode, C: Column>(value: &T) -> Result<Stored, Error> {
    let keyring = installed()?;
    let context = C::shared_context()?;
    Ok(match C::STORAGE {
        Storage::Binary => Stored::Binary(bulk::seal(&keyring, &context, value)?),
        Storage::Text => Stored::Text(bulk::seal_text(&keyring, &context, value)?),
    })
}

impl<T, C: Column> From<T> for Encrypted<T, C> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Clone, C> Clone for Encrypted<T, C> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            column: PhantomData,
        }
    }
}

impl<T: PartialEq, C> PartialEq for Encrypted<T, C> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// Never prints the value: an encrypted field in a logged struct stays out of the log.
impl<T, C: Column> fmt::Debug for Encrypted<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encrypted<{}.{}>([REDACTED])", C::TABLE, C::COLUMN)
    }
}

codec::envelope_column_type!(Encrypted);

impl<'q, DB: Database, T: fieldcrypt::Encode, C: Column> Encode<'q, DB> for Encrypted<T, C>
where
    Vec<u8>: Encode<'q, DB>,
    String: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut crate::compat::ArgumentBuffer<'q, DB>,
    ) -> Result<IsNull, BoxDynError> {
        codec::encode::<DB>(self.stored()?, buf)
    }
}

impl<'r, DB: Database, T: fieldcrypt::Decode, C: Column> Decode<'r, DB> for Encrypted<T, C>
where
    Vec<u8>: Decode<'r, DB> + Type<DB>,
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::open(&codec::decode::<DB>(value)?)?)
    }
}
