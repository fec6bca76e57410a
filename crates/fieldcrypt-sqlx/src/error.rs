//! Errors, and how to get them back out of `sqlx::Error`.

/// What went wrong sealing or opening a column value.
///
/// Inside sqlx this arrives boxed, as the source of `sqlx::Error::ColumnDecode` (reading) or
/// `sqlx::Error::Encode` (writing); [`column_error`] gets it back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No keyring was installed for transparent columns: call [`install`](crate::install).
    #[error("no keyring installed: call fieldcrypt_sqlx::install(keyring) at start-up")]
    NoKeyring,
    /// Sealing or opening failed: wrong key, wrong table, column or row, tampering, a malformed
    /// envelope, a retired key, or another type.
    #[error(transparent)]
    Crypto(#[from] fieldcrypt::Error),
    /// The column holds text that is not an envelope: plaintext written without the column's
    /// type (a plain `.bind(value)`), or a row from before the column was encrypted.
    #[error(
        "{table}.{column} holds a value that is not an envelope but looks like plaintext: was it written with a plain .bind(value) instead of the column's type, or before the column was encrypted? `fieldcrypt doctor --table {table}` lists such rows and `fieldcrypt encrypt-column --table {table} --column {column}` encrypts them"
    )]
    Plaintext {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// PostgreSQL stored a binary envelope in a text column as its hex text (`\xfc01…`): the
    /// column is text but was declared binary.
    #[error(
        "{table}.{column} holds PostgreSQL's hex text of a binary envelope (\\xfc01…): the column is text, but the column type was declared binary; declare it `column!(.. = \"{table}\".\"{column}\" as Text)`, or make the column bytea: ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING decode(substr({column}, 3), 'hex')"
    )]
    BinaryAsText {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
    },
    /// A blind-index value wider than a `BIGINT` holds.
    #[error("a blind index of {0} bits does not fit a BIGINT column; use 63 bits or fewer")]
    IndexTooWide(u16),
}

impl Error {
    /// The error for `stored`, which did not parse as an envelope of column `C`: a hint when it
    /// looks like plaintext or like PostgreSQL's hex text of a binary envelope, else `error`.
    /// Never quotes the value.
    pub(crate) fn explain<C: crate::Column>(stored: &[u8], error: fieldcrypt::Error) -> Self {
        if !matches!(error, fieldcrypt::Error::Malformed(_)) {
            return error.into();
        }
        let (table, column) = (C::TABLE, C::COLUMN);
        let hex_envelope = stored
            .strip_prefix(b"\\x")
            .filter(|hex| hex.len() % 2 == 0 && hex.len() >= 14)
            .and_then(|hex| {
                let bytes: Option<Vec<u8>> = hex
                    .chunks(2)
                    .map(|pair| {
                        std::str::from_utf8(pair)
                            .ok()
                            .and_then(|p| u8::from_str_radix(p, 16).ok())
                    })
                    .collect();
                bytes
            })
            .is_some_and(|bytes| fieldcrypt::Envelope::parse_binary(&bytes).is_ok());
        if hex_envelope {
            Error::BinaryAsText { table, column }
        } else if std::str::from_utf8(stored).is_ok() {
            Error::Plaintext { table, column }
        } else {
            error.into()
        }
    }

    /// The core error, if this is one.
    pub fn crypto(&self) -> Option<&fieldcrypt::Error> {
        match self {
            Error::Crypto(e) => Some(e),
            _ => None,
        }
    }
}

/// The fieldcrypt error behind a `sqlx::Error`, if there is one: a value that did not open
/// (`ColumnDecode`, reading). A value that could not be sealed while binding (`query().bind()`)
/// reaches sqlx 0.8 as `Encode` with the error already turned into text, so this returns `None`
/// there and the message is in `err.to_string()`. The usual cause, no keyring installed, is best
/// caught at start-up (`installed()?` right after installing); explicit columns seal before the
/// query (`Sealed::seal`) and get typed errors there.
///
/// ```
/// # fn handle(err: sqlx::Error) {
/// match fieldcrypt_sqlx::column_error(&err) {
///     Some(e) => eprintln!("encrypted column: {e}"),
///     None => eprintln!("database: {err}"),
/// }
/// # }
/// ```
pub fn column_error(err: &sqlx::Error) -> Option<&Error> {
    match err {
        sqlx::Error::ColumnDecode { source, .. } | sqlx::Error::Encode(source) => {
            source.downcast_ref::<Error>()
        }
        _ => None,
    }
}
