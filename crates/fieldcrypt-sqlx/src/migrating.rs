//! Columns that `fieldcrypt encrypt-column` is encrypting in place: while the job runs, a row
//! holds either an envelope or the plaintext it will replace, and the application must read both.

use core::fmt;
use core::marker::PhantomData;

use fieldcrypt::envelope::HEADER_LEN;
use fieldcrypt::{Envelope, Header, Keyring};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::Encrypted;
use crate::codec;
use crate::column::{Column, Storage};
use crate::encrypted::seal_for;
use crate::error::Error;
use crate::installed::installed;

/// The plain forms a column being encrypted in place holds: text (a text column) or bytes (a
/// binary column). Implemented for `String` and `Vec<u8>`.
pub trait PlainForm: Sized {
    /// The value a stored plaintext is, or `None` when the bytes are not one (text that is not
    /// UTF-8).
    fn from_stored(stored: Vec<u8>) -> Option<Self>;
}

impl PlainForm for String {
    fn from_stored(stored: Vec<u8>) -> Option<Self> {
        String::from_utf8(stored).ok()
    }
}

impl PlainForm for Vec<u8> {
    fn from_stored(stored: Vec<u8>) -> Option<Self> {
        Some(stored)
    }
}

/// A value of column `C` while `fieldcrypt encrypt-column` encrypts that column in place: reads
/// an envelope (opened as [`Encrypted`] opens it) or the plaintext not yet replaced, and always
/// writes an envelope, so rows the application writes are already done for the job.
///
/// Which is which follows the job's own rule: a stored value is an envelope when it parses as
/// one or starts with the header of a key in the installed keyring; an envelope must open (a
/// wrong key, a tampered value or an unknown key id is an error, never plaintext). Anything else
/// is plaintext, and [`was_plaintext`](Self::was_plaintext) says so.
///
/// Values are opened with the column's context, as [`Encrypted`] opens them: for a job run
/// without `--bind-row` (rows bound with `--bind-row` read through [`Sealed`](crate::Sealed)).
///
/// Use it only for the time a column migrates: it accepts plaintext, which [`Encrypted`] refuses,
/// so someone able to write the column could slip a plaintext value in. Once the job's
/// verification (or `fieldcrypt doctor`) reports no plaintext left, switch the field back to
/// `Encrypted<T, C>`; the stored values are the same.
///
/// ```
/// use fieldcrypt_sqlx::Migrating;
/// fieldcrypt_sqlx::column!(pub Notes = "customers"."notes" as Text);
///
/// #[derive(sqlx::FromRow)]
/// struct Customer {
///     id: i64,
///     notes: Option<Migrating<String, Notes>>,
/// }
/// ```
pub struct Migrating<T, C> {
    value: T,
    was_plaintext: bool,
    column: PhantomData<fn() -> C>,
}

impl<T, C: Column> Migrating<T, C> {
    /// Wraps a plain value, to be sealed when bound.
    pub fn new(value: T) -> Self {
        Self {
            value,
            was_plaintext: false,
            column: PhantomData,
        }
    }

    /// Whether the value was read as plaintext (the job has not reached its row yet).
    pub fn was_plaintext(&self) -> bool {
        self.was_plaintext
    }

    /// The plain value.
    pub fn plaintext(&self) -> &T {
        &self.value
    }

    /// The plain value.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value as the field it becomes once the column is encrypted.
    pub fn into_encrypted(self) -> Encrypted<T, C> {
        Encrypted::new(self.value)
    }

    fn read(stored: Vec<u8>) -> Result<Self, Error>
    where
        T: fieldcrypt::Decode + PlainForm,
    {
        let keyring = installed()?;
        match Envelope::parse(&stored) {
            Ok(envelope) => {
                let value = keyring.open_envelope(&*C::shared_context()?, &envelope)?;
                Ok(Self::new(value))
            }
            Err(e) if under_a_key_of(&keyring, C::STORAGE, &stored) => {
                Err(fieldcrypt::Error::from(e).into())
            }
            Err(_) => {
                let value = T::from_stored(stored).ok_or(fieldcrypt::Error::InvalidValue(
                    "plaintext that is not UTF-8 text",
                ))?;
                Ok(Self {
                    value,
                    was_plaintext: true,
                    column: PhantomData,
                })
            }
        }
    }
}

/// Whether `stored` starts with the header, in the column's form, of a key `keyring` holds:
/// what the column jobs take for an envelope.
fn under_a_key_of(keyring: &Keyring, storage: Storage, stored: &[u8]) -> bool {
    keyring.keys().any(|key| {
        let header = Header {
            suite: key.suite,
            key_id: key.id,
        };
        match storage {
            Storage::Text => stored.starts_with(header.text_prefix().as_bytes()),
            Storage::Binary => stored.starts_with(&header.to_bytes()[..HEADER_LEN]),
        }
    })
}

/// Never prints the value.
impl<T, C: Column> fmt::Debug for Migrating<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Migrating<{}.{}>([REDACTED])", C::TABLE, C::COLUMN)
    }
}

codec::envelope_column_type!(Migrating);

impl<'q, DB: Database, T: fieldcrypt::Encode, C: Column> Encode<'q, DB> for Migrating<T, C>
where
    Vec<u8>: Encode<'q, DB>,
    String: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut crate::compat::ArgumentBuffer<'q, DB>,
    ) -> Result<IsNull, BoxDynError> {
        codec::encode::<DB>(seal_for::<T, C>(&self.value)?, buf)
    }
}

impl<'r, DB: Database, T: fieldcrypt::Decode + PlainForm, C: Column> Decode<'r, DB>
    for Migrating<T, C>
where
    Vec<u8>: Decode<'r, DB> + Type<DB>,
    String: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self::read(codec::decode::<DB>(value)?)?)
    }
}
