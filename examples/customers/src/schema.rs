//! The customers table: which columns are encrypted, how, and what is indexed.
//!
//! | column | holds | why |
//! | --- | --- | --- |
//! | `id` | UUIDv7, text | generated before `INSERT`, so row-bound values can be sealed at once |
//! | `name`, `notes` | [`Encrypted`] | transparent: bound to table and column |
//! | `email` | [`Encrypted`] + `email_idx` | case-insensitive lookups through a blind index |
//! | `national_id` | [`Sealed`] + `national_id_idx` | bound to its row; exact lookups, digits only |
//! | `card_number` | [`Sealed`] + `card_last4` | bound to its row; the last four digits in clear, for display |
//!
//! Name, email and notes use the transparent mode; the national ID and the card number, the most
//! sensitive, are bound to their row as well (explicit mode), so that a value copied from one
//! customer to another does not open.

use fieldcrypt::{IndexDefinition, Normalizer};
use fieldcrypt_sqlx::BlindIndex;

#[allow(unused_imports)] // for the doc links above
use fieldcrypt_sqlx::{Encrypted, Sealed};

fieldcrypt_sqlx::column!(pub(crate) Name = "customers"."name");
fieldcrypt_sqlx::column!(pub(crate) Email = "customers"."email");
fieldcrypt_sqlx::column!(pub(crate) NationalId = "customers"."national_id");
fieldcrypt_sqlx::column!(pub(crate) CardNumber = "customers"."card_number");
fieldcrypt_sqlx::column!(pub(crate) Notes = "customers"."notes" as Text);

/// How many customers the indexes are sized for: the planner keeps every index value shared by
/// at least two distinct plaintexts at this size (see `fieldcrypt::blind_index::planner`).
pub(crate) const EXPECTED_ROWS: u64 = 1_000_000;

/// The blind indexes, with bits from the planner.
pub(crate) struct Indexes {
    /// Email, after NFKC, trimming and case folding.
    pub(crate) email: BlindIndex,
    /// National ID, digits only (`123-45-6789` and `123 45 6789` match).
    pub(crate) national_id: BlindIndex,
}

impl Indexes {
    /// Plans and builds the indexes.
    pub(crate) fn new() -> anyhow::Result<Self> {
        // Each index is on its own field, so neither spends the other's bits.
        let bits = fieldcrypt::blind_index::planner::plan(EXPECTED_ROWS, EXPECTED_ROWS, 0)?.bits;
        Ok(Self {
            email: BlindIndex::new(
                IndexDefinition::new("customers", "email", "email_ci", bits).normalized([
                    Normalizer::Nfkc,
                    Normalizer::Trim,
                    Normalizer::CaseFold,
                ]),
            )?,
            national_id: BlindIndex::new(
                IndexDefinition::new("customers", "national_id", "national_id_exact", bits)
                    .normalized([Normalizer::Nfkc, Normalizer::DigitsOnly]),
            )?,
        })
    }
}

/// The database behind a URL, for the few statements whose spelling differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Dialect {
    /// The dialect of a database URL.
    pub(crate) fn of_url(url: &str) -> anyhow::Result<Self> {
        match url.split(':').next() {
            Some("sqlite") => Ok(Self::Sqlite),
            Some("postgres" | "postgresql") => Ok(Self::Postgres),
            Some("mysql" | "mariadb") => Ok(Self::MySql),
            _ => {
                anyhow::bail!("unsupported database URL {url:?}: use sqlite:, postgres: or mysql:")
            }
        }
    }

    /// `sql` with `?` placeholders, in this database's style (`$1, $2, ..` for PostgreSQL).
    pub(crate) fn sql(self, sql: &str) -> String {
        if self != Self::Postgres {
            return sql.to_owned();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Statements that create the table and its indexes if they are missing.
    pub(crate) fn create_table(self) -> [&'static str; 3] {
        match self {
            Self::Postgres => [
                "CREATE TABLE IF NOT EXISTS customers (
                    id TEXT PRIMARY KEY,
                    name BYTEA NOT NULL,
                    email BYTEA NOT NULL,
                    email_idx BIGINT NOT NULL,
                    national_id BYTEA,
                    national_id_idx BIGINT,
                    card_number BYTEA,
                    card_last4 TEXT,
                    notes TEXT)",
                "CREATE INDEX IF NOT EXISTS customers_email_idx ON customers (email_idx)",
                "CREATE INDEX IF NOT EXISTS customers_national_id_idx ON customers (national_id_idx)",
            ],
            Self::Sqlite => [
                "CREATE TABLE IF NOT EXISTS customers (
                    id TEXT PRIMARY KEY,
                    name BLOB NOT NULL,
                    email BLOB NOT NULL,
                    email_idx INTEGER NOT NULL,
                    national_id BLOB,
                    national_id_idx INTEGER,
                    card_number BLOB,
                    card_last4 TEXT,
                    notes TEXT)",
                "CREATE INDEX IF NOT EXISTS customers_email_idx ON customers (email_idx)",
                "CREATE INDEX IF NOT EXISTS customers_national_id_idx ON customers (national_id_idx)",
            ],
            Self::MySql => [
                // BLOB, not VARBINARY: sqlx's `Any` driver reads MySQL VARBINARY as text.
                "CREATE TABLE IF NOT EXISTS customers (
                    id VARCHAR(36) PRIMARY KEY,
                    name BLOB NOT NULL,
                    email BLOB NOT NULL,
                    email_idx BIGINT NOT NULL,
                    national_id BLOB,
                    national_id_idx BIGINT,
                    card_number BLOB,
                    card_last4 CHAR(4),
                    notes LONGTEXT,
                    INDEX customers_email_idx (email_idx),
                    INDEX customers_national_id_idx (national_id_idx))",
                "SELECT 1",
                "SELECT 1",
            ],
        }
    }
}
