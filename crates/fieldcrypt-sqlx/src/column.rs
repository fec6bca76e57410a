//! Column declarations: which table and column a value belongs to, and how it is stored.
//!
//! The table and column go into every envelope's associated data, so a value copied into another
//! column does not open. Declaring them once, on a type, keeps them out of application code:
//!
//! ```
//! fieldcrypt_sqlx::column!(pub CustomerEmail = "customers"."email");
//! fieldcrypt_sqlx::column!(pub CustomerNotes = "customers"."notes" as Text);
//!
//! use fieldcrypt_sqlx::{Column, Storage};
//! assert_eq!(CustomerEmail::TABLE, "customers");
//! assert_eq!(CustomerNotes::STORAGE, Storage::Text);
//! ```

use std::borrow::Cow;

/// How envelopes are stored in a column. Reading accepts either form, whatever the declaration,
/// so a column can move from one to the other without a flag day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Storage {
    /// The binary envelope, in `bytea` (Postgres), `BLOB` (SQLite) or `VARBINARY`/`BLOB` (MySQL).
    /// About 25% smaller than text.
    Binary,
    /// The text envelope (`fc1c7.<base64url>`), in `text`/`VARCHAR`: for columns that must stay
    /// text, and for finding values by key id with `LIKE 'fc1c7.%'`.
    Text,
}

/// A declared encrypted column. Implement it with [`column!`](crate::column!).
pub trait Column: 'static {
    /// The table name, bound into every value sealed for this column.
    const TABLE: &'static str;
    /// The column name, bound into every value sealed for this column.
    const COLUMN: &'static str;
    /// How values are written.
    const STORAGE: Storage;

    /// The context of a value in this column, without a row key.
    fn context() -> Result<fieldcrypt::Context, fieldcrypt::Error> {
        fieldcrypt::Context::new(Self::TABLE, Self::COLUMN)
    }

    /// [`Column::context`], built once per column type when declared with
    /// [`column!`](crate::column!) (every bind and every read needs it).
    fn shared_context() -> Result<Cow<'static, fieldcrypt::Context>, fieldcrypt::Error> {
        Self::context().map(Cow::Owned)
    }
}

/// Declares a marker type for an encrypted column, with constructors: `Name::new(value)` for an
/// [`Encrypted`](crate::Encrypted) value (no turbofish at the bind) and `Name::seal(&keyring,
/// row, value)` for a [`Sealed`](crate::Sealed) one.
///
/// `column!(pub Name = "table"."column")` stores binary envelopes (`bytea`, `BLOB`);
/// `column!(pub Name = "table"."column" as Text)` stores text envelopes (`text`, `VARCHAR`).
/// On PostgreSQL a text column must be declared `as Text`: PostgreSQL would otherwise store the
/// binary envelope as its hex text, which reads back only with a hint to fix the declaration.
///
/// With a blind index, `column!(pub Email = "users"."email", index "email_idx" (nfkc, trim,
/// casefold), rows 100_000)` also gives `Email::indexed(value)` (the value and its index value,
/// to bind into the column and the index column together, so they never drift apart on an
/// insert or an update), `Email::search(query)` (a [`Search`](crate::index::Search) that binds
/// as one parameter on every database and filters out the rows that share only the index value)
/// and `Email::blind_index()`. The bits come from the planner for `rows` rows of distinct values
/// ([`BlindIndex::planned`](crate::BlindIndex::planned)); all use the installed keyring.
#[macro_export]
macro_rules! column {
    ($(#[$meta:meta])* $vis:vis $name:ident = $table:literal . $column:literal) => {
        $crate::column!($(#[$meta])* $vis $name = $table . $column as Binary);
    };
    ($(#[$meta:meta])* $vis:vis $name:ident = $table:literal . $column:literal,
        index $index:literal ($($norm:ident),* $(,)?), rows $rows:expr $(,)?) => {
        $crate::column!($(#[$meta])* $vis $name = $table . $column as Binary,
            index $index ($($norm),*), rows $rows);
    };
    ($(#[$meta:meta])* $vis:vis $name:ident = $table:literal . $column:literal as $storage:ident,
        index $index:literal ($($norm:ident),* $(,)?), rows $rows:expr $(,)?) => {
        $crate::column!($(#[$meta])* $vis $name = $table . $column as $storage);

        #[allow(dead_code)]
        impl $name {
            /// This column's blind index, its bits planned for the expected rows.
            $vis fn blind_index() -> ::core::result::Result<&'static $crate::BlindIndex, $crate::Error> {
                static INDEX: ::std::sync::OnceLock<::core::option::Option<$crate::BlindIndex>> =
                    ::std::sync::OnceLock::new();
                let build = || -> ::core::result::Result<$crate::BlindIndex, $crate::Error> {
                    let normalizers = $crate::__fieldcrypt::Normalizer::parse_list(
                        ::core::stringify!($($norm),*),
                    )?;
                    $crate::BlindIndex::planned($table, $column, $index, normalizers, $rows)
                };
                match INDEX.get_or_init(|| build().ok()) {
                    ::core::option::Option::Some(index) => ::core::result::Result::Ok(index),
                    // Refused at first use (too few rows for a safe index, say): the error, every
                    // time.
                    ::core::option::Option::None => build().map(|index| &*::std::boxed::Box::leak(::std::boxed::Box::new(index))),
                }
            }

            /// The value for this column and its index value, under the installed keyring:
            /// bind both, `.bind(email).bind(email_idx)`, in every insert and update.
            $vis fn indexed<T: ::core::convert::AsRef<str>>(
                value: T,
            ) -> ::core::result::Result<($crate::Encrypted<T, $name>, $crate::IndexValue), $crate::Error> {
                let index = Self::blind_index()?.value_installed(value.as_ref())?;
                ::core::result::Result::Ok(($crate::Encrypted::new(value), index))
            }

            /// Looks `query` up through the blind index (see [`Search`](
            /// $crate::index::Search)), under the installed keyring.
            $vis fn search(
                query: &str,
            ) -> ::core::result::Result<$crate::index::Search<'static>, $crate::Error> {
                Self::blind_index()?.search_installed(query)
            }
        }
    };
    ($(#[$meta:meta])* $vis:vis $name:ident = $table:literal . $column:literal as $storage:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {}

        #[allow(dead_code)]
        impl $name {
            /// A value for this column, sealed with the installed keyring when it is bound:
            /// `.bind(Email::new(email))`.
            $vis fn new<T>(value: T) -> $crate::Encrypted<T, $name> {
                $crate::Encrypted::new(value)
            }

            /// `value` sealed for this column of row `row` (explicit mode):
            /// `.bind(Ssn::seal(&keyring, id, "078-05-1120")?)`.
            /// The sealed value opens as `Q`'s owned type (`&str`: `String`).
            $vis fn seal<Q>(
                keyring: &$crate::__fieldcrypt::Keyring,
                row: impl ::core::convert::Into<$crate::__fieldcrypt::RowKey>,
                value: &Q,
            ) -> ::core::result::Result<
                $crate::Sealed<<Q as ::std::borrow::ToOwned>::Owned, $name>,
                $crate::Error,
            >
            where
                Q: $crate::__fieldcrypt::Encode + ::std::borrow::ToOwned + ?::core::marker::Sized,
            {
                $crate::Sealed::seal(keyring, row, value)
            }
        }

        impl $crate::Column for $name {
            const TABLE: &'static str = $table;
            const COLUMN: &'static str = $column;
            const STORAGE: $crate::Storage = $crate::Storage::$storage;

            fn shared_context() -> ::core::result::Result<
                ::std::borrow::Cow<'static, $crate::__fieldcrypt::Context>,
                $crate::__fieldcrypt::Error,
            > {
                static CONTEXT: ::std::sync::OnceLock<
                    ::core::option::Option<$crate::__fieldcrypt::Context>,
                > = ::std::sync::OnceLock::new();
                match CONTEXT.get_or_init(|| <Self as $crate::Column>::context().ok()) {
                    ::core::option::Option::Some(context) => {
                        ::core::result::Result::Ok(::std::borrow::Cow::Borrowed(context))
                    }
                    // Names the core refuses: the error, every time.
                    ::core::option::Option::None => <Self as $crate::Column>::context()
                        .map(::std::borrow::Cow::Owned),
                }
            }
        }
    };
}
