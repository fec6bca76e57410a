//! Explicit columns: the application seals and opens itself, with a keyring it passes and a
//! context that includes the row key, so a value copied into another row does not open.

use core::borrow::Borrow;
use core::fmt;
use core::marker::PhantomData;

use fieldcrypt::{Context, Envelope, KeyId, Keyring, RowKey};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::bulk;
use crate::codec::{self, Stored};
use crate::column::{Column, Storage};
use crate::error::Error;

/// An envelope of a `T`, for column `C` of one row, as stored: what the database holds.
///
/// Reading it from the database checks only that it is a well-formed envelope; [`Sealed::open`]
/// decrypts, given the keyring and the row key. The row key is any stable identifier of the row
/// (an `i64` id, a UUID as text): it must be known before the value is sealed, so rows with
/// database-generated ids are inserted first and their sealed columns written next, in the same
/// transaction (see the crate docs).
pub struct Sealed<T, C> {
    /// In the form `C::STORAGE` names, whatever form it was read in.
    stored: Stored,
    key_id: KeyId,
    marker: PhantomData<fn() -> (T, C)>,
}

impl<T, C: Column> Sealed<T, C> {
    /// The context of this column in row `row`.
    pub fn context(row: impl Into<RowKey>) -> Result<Context, Error> {
        Ok(C::shared_context()?.into_owned().with_row(row)?)
    }

    /// Seals `value` for column `C` of row `row`, under the keyring's primary key.
    pub fn seal<Q>(keyring: &Keyring, row: impl Into<RowKey>, value: &Q) -> Result<Self, Error>
    where
        T: Borrow<Q>,
        Q: fieldcrypt::Encode + ?Sized,
    {
        Self::seal_in(keyring, &Self::context(row)?, value)
    }

    /// Seals `value` with a context built by the caller (to add a tenant, say). The context's table
    /// and column must be `C`'s, or the value will not open as this column.
    pub fn seal_in<Q>(keyring: &Keyring, context: &Context, value: &Q) -> Result<Self, Error>
    where
        T: Borrow<Q>,
        Q: fieldcrypt::Encode + ?Sized,
    {
        let stored = match C::STORAGE {
            Storage::Binary => Stored::Binary(bulk::seal(keyring, context, value)?),
            Storage::Text => Stored::Text(bulk::seal_text(keyring, context, value)?),
        };
        Ok(Self {
            stored,
            // `seal` used the primary key of this (immutably borrowed) keyring.
            key_id: keyring.primary(),
            marker: PhantomData,
        })
    }

    /// Opens the value, which must have been sealed for column `C` of row `row`.
    pub fn open(&self, keyring: &Keyring, row: impl Into<RowKey>) -> Result<T, Error>
    where
        T: fieldcrypt::Decode,
    {
        self.open_in(keyring, &Self::context(row)?)
    }

    /// [`Self::seal`] with the installed keyring ([`install`](crate::install)).
    pub fn seal_installed<Q>(row: impl Into<RowKey>, value: &Q) -> Result<Self, Error>
    where
        T: Borrow<Q>,
        Q: fieldcrypt::Encode + ?Sized,
    {
        Self::seal(&*crate::installed()?, row, value)
    }

    /// [`Self::open`] with the installed keyring ([`install`](crate::install)).
    pub fn open_installed(&self, row: impl Into<RowKey>) -> Result<T, Error>
    where
        T: fieldcrypt::Decode,
    {
        self.open(&*crate::installed()?, row)
    }

    /// Opens the value with a context built by the caller.
    pub fn open_in(&self, keyring: &Keyring, context: &Context) -> Result<T, Error>
    where
        T: fieldcrypt::Decode,
    {
        Ok(keyring.open(context, self.as_bytes())?)
    }

    /// The id of the key it was sealed under: rotation jobs re-seal what is not the primary's.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The envelope as stored (binary bytes, or the text form's bytes).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.stored {
            Stored::Binary(bytes) => bytes,
            Stored::Text(text) => text.as_bytes(),
        }
    }

    /// Parses a stored envelope (binary or text) into `C`'s storage form.
    pub fn parse(stored: &[u8]) -> Result<Self, Error> {
        let envelope = Envelope::parse(stored)
            .map_err(|e| Error::explain::<C>(stored, fieldcrypt::Error::from(e)))?;
        let stored = match C::STORAGE {
            Storage::Binary => Stored::Binary(envelope.to_binary()),
            Storage::Text => Stored::Text(envelope.to_text()),
        };
        Ok(Self {
            stored,
            key_id: envelope.header().key_id,
            marker: PhantomData,
        })
    }
}

impl<T, C> Clone for Sealed<T, C> {
    fn clone(&self) -> Self {
        Self {
            stored: self.stored.clone(),
            key_id: self.key_id,
            marker: PhantomData,
        }
    }
}

impl<T, C: Column> fmt::Debug for Sealed<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sealed<{}.{}>(key {}, {} bytes)",
            C::TABLE,
            C::COLUMN,
            self.key_id,
            self.as_bytes().len()
        )
    }
}

codec::envelope_column_type!(Sealed);

impl<'q, DB: Database, T, C: Column> Encode<'q, DB> for Sealed<T, C>
where
    Vec<u8>: Encode<'q, DB>,
    String: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut crate::compat::ArgumentBuffer<'q, DB>,
    ) -> Result<IsNull, BoxDynError> {
        codec::encode::<DB>(self.stored.clone(), buf)
    }
}

impl<'r, DB: Database, T, C: Column> Decode<'r, DB> for Sealed<T, C>
where
    Vec<u8>: Decode<'r, DB> + Type<DB>,
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::parse(&codec::decode::<DB>(value)?)?)
    }
}

/// Opening a nullable sealed column (`Option<Sealed<T, C>>`) in one call: `None` stays `None`.
///
/// ```no_run
/// use fieldcrypt_sqlx::prelude::*;
/// fieldcrypt_sqlx::column!(pub Ssn = "users"."ssn");
/// # fn demo(ssn: Option<Sealed<String, Ssn>>, id: i64) -> Result<(), fieldcrypt_sqlx::Error> {
/// let ssn: Option<String> = ssn.open_installed(id)?;
/// # Ok(()) }
/// ```
pub trait OptionalSealed<T> {
    /// [`Sealed::open`] of the value, if there is one.
    fn open(&self, keyring: &Keyring, row: impl Into<RowKey>) -> Result<Option<T>, Error>;
    /// [`Sealed::open_installed`] of the value, if there is one.
    fn open_installed(&self, row: impl Into<RowKey>) -> Result<Option<T>, Error>;
}

impl<T: fieldcrypt::Decode, C: Column> OptionalSealed<T> for Option<Sealed<T, C>> {
    fn open(&self, keyring: &Keyring, row: impl Into<RowKey>) -> Result<Option<T>, Error> {
        self.as_ref().map(|s| s.open(keyring, row)).transpose()
    }
    fn open_installed(&self, row: impl Into<RowKey>) -> Result<Option<T>, Error> {
        self.as_ref().map(|s| s.open_installed(row)).transpose()
    }
}
