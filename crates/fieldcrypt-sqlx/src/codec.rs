//! What every envelope column shares with sqlx: the SQL type, writing, reading. Generic over the
//! database, through its own `Vec<u8>` and `String` impls, so one impl serves Postgres, SQLite,
//! MySQL and `Any`.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type, ValueRef};

use crate::column::Storage;

/// The SQL type a column of this storage is declared with.
pub(crate) fn type_info<DB: Database>(storage: Storage) -> DB::TypeInfo
where
    Vec<u8>: Type<DB>,
    String: Type<DB>,
{
    match storage {
        Storage::Binary => <Vec<u8> as Type<DB>>::type_info(),
        Storage::Text => <String as Type<DB>>::type_info(),
    }
}

/// `sqlx::Type` for an envelope column type `$name<T, C>`: declared as its column's storage,
/// compatible with binary and text columns alike.
macro_rules! envelope_column_type {
    ($name:ident) => {
        impl<DB: ::sqlx::Database, T, C: $crate::column::Column> ::sqlx::Type<DB> for $name<T, C>
        where
            Vec<u8>: ::sqlx::Type<DB>,
            String: ::sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                $crate::codec::type_info::<DB>(C::STORAGE)
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                $crate::codec::compatible::<DB>(ty)
            }
        }
    };
}
pub(crate) use envelope_column_type;

/// Envelopes are read from binary and from text columns alike.
pub(crate) fn compatible<DB: Database>(ty: &DB::TypeInfo) -> bool
where
    Vec<u8>: Type<DB>,
    String: Type<DB>,
{
    <Vec<u8> as Type<DB>>::compatible(ty) || <String as Type<DB>>::compatible(ty)
}

/// An envelope ready to bind: binary bytes or text.
#[derive(Clone)]
pub(crate) enum Stored {
    Binary(Vec<u8>),
    Text(String),
}

pub(crate) fn encode<'q, DB: Database>(
    stored: Stored,
    buf: &mut crate::compat::ArgumentBuffer<'q, DB>,
) -> Result<IsNull, BoxDynError>
where
    Vec<u8>: Encode<'q, DB>,
    String: Encode<'q, DB>,
{
    match stored {
        Stored::Binary(bytes) => <Vec<u8> as Encode<'q, DB>>::encode(bytes, buf),
        Stored::Text(text) => <String as Encode<'q, DB>>::encode(text, buf),
    }
}

/// The stored envelope's bytes (binary, or text as UTF-8), from a column of either kind.
///
/// Binary columns are read through the driver's byte decoding (Postgres sends `bytea` as hex in
/// its text protocol), text columns through its string decoding.
pub(crate) fn decode<'r, DB: Database>(
    value: <DB as Database>::ValueRef<'r>,
) -> Result<Vec<u8>, BoxDynError>
where
    Vec<u8>: Decode<'r, DB> + Type<DB>,
    String: Decode<'r, DB>,
{
    let binary = <Vec<u8> as Type<DB>>::compatible(&value.type_info());
    if binary {
        <Vec<u8> as Decode<'r, DB>>::decode(value)
    } else {
        <String as Decode<'r, DB>>::decode(value).map(String::into_bytes)
    }
}
