//! Blind-index columns: equality search over an encrypted column, through a `BIGINT` beside it.
//!
//! ```text
//! CREATE TABLE customers (id BIGINT PRIMARY KEY, email BYTEA, email_idx BIGINT);
//! CREATE INDEX customers_email_idx ON customers (email_idx);
//! ```
//!
//! Write `index.value(&keyring, email)` into `email_idx` with every row; find rows with
//! `WHERE email_idx IN (..)` over [`BlindIndex::lookup`], then keep the rows whose decrypted
//! value [`BlindIndex::matches`] the query. The index is truncated on purpose (see
//! [`fieldcrypt::blind_index::planner`]), so it also returns rows with other values.
//!
//! While the blind-index root rotates, rows carry values under the old root until they are
//! re-indexed: [`BlindIndex::lookup`] returns the value under every root still held, so lookups
//! keep finding them; [`BlindIndex::pair`] gives both values, for schemas that keep a second index
//! column filled during the rotation.

use fieldcrypt::{ColumnIndex, IndexDefinition, Keyring};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::error::Error;

/// Largest index a `BIGINT` holds as a non-negative number.
pub const MAX_BITS: u16 = fieldcrypt::blind_index::column::MAX_COLUMN_BITS;

/// One blind index: its definition. The index keys it uses are derived from, and cached in, the
/// keyring each call is given ([`Keyring::cached_blind_indexer`]), so they live no longer than
/// that keyring (a `ManagedKeyring`'s eviction drops them) or the root they come from. The
/// computation is the core's [`ColumnIndex`], shared with the Python package, so a row indexed
/// here is found from Django or SQLAlchemy and the other way round.
pub struct BlindIndex {
    index: ColumnIndex,
}

/// The core's error, with a too-wide index as this crate's own variant.
fn from_core(e: fieldcrypt::Error) -> Error {
    match e {
        fieldcrypt::Error::IndexTooWide(bits) => Error::IndexTooWide(bits),
        other => other.into(),
    }
}

impl BlindIndex {
    /// An index with this definition; at most [`MAX_BITS`] bits.
    pub fn new(definition: IndexDefinition) -> Result<Self, Error> {
        Ok(Self {
            index: ColumnIndex::new(definition).map_err(from_core)?,
        })
    }

    /// An index over a column expected to hold about `rows` rows of mostly distinct values (an
    /// email, a national id number), with the bits the planner picks for that many
    /// ([`fieldcrypt::blind_index::planner`]): 8 for 1,000 rows, 15 for 100,000, 18 for
    /// 1,000,000. Take the size the table will have soon rather than today's: fewer rows than
    /// planned make each index value stand for fewer plaintexts. Re-index with more bits
    /// (`fieldcrypt reindex`) when the table has grown past it.
    pub fn planned(
        table: &str,
        column: &str,
        name: &str,
        normalizers: impl IntoIterator<Item = fieldcrypt::Normalizer>,
        rows: u64,
    ) -> Result<Self, Error> {
        let definition = IndexDefinition::new(table, column, name, 1).normalized(normalizers);
        Ok(Self {
            index: ColumnIndex::planned(definition, rows).map_err(from_core)?,
        })
    }

    /// Checks the index's bits against the planner for a table of `rows` rows of distinct values
    /// and logs a warning (`tracing`, target `fieldcrypt_sqlx::index`) when they contradict it:
    /// more bits than planned single out plaintexts; far fewer make every lookup read many rows.
    pub fn expecting_rows(self, rows: u64) -> Self {
        if let Some(warning) = self.bits_warning(rows) {
            tracing::warn!(target: "fieldcrypt_sqlx::index", "{warning}");
        }
        self
    }

    /// What [`Self::expecting_rows`] warns about, if anything.
    pub fn bits_warning(&self, rows: u64) -> Option<String> {
        self.index.bits_warning(rows)
    }

    /// The definition.
    pub fn definition(&self) -> &IndexDefinition {
        self.index.definition()
    }

    /// Looking `query` up: the index values to match (under every root the keyring holds) and the
    /// filter that drops the rows sharing only the index value. See [`Search`].
    pub fn search(&self, keyring: &Keyring, query: &str) -> Result<Search<'_>, Error> {
        Ok(Search {
            index: self,
            lookup: self.lookup(keyring, query)?,
            query: zeroize::Zeroizing::new(self.definition().normalize(query).into_owned()),
        })
    }

    /// [`Self::search`] with the installed keyring.
    pub fn search_installed(&self, query: &str) -> Result<Search<'_>, Error> {
        self.search(&*crate::installed()?, query)
    }

    /// The index value of `value` under the installed keyring's primary root.
    pub fn value_installed(&self, value: &str) -> Result<IndexValue, Error> {
        self.value(&*crate::installed()?, value)
    }

    /// The index value of `value` under the keyring's primary index root: what to write.
    pub fn value(&self, keyring: &Keyring, value: &str) -> Result<IndexValue, Error> {
        self.index
            .value(keyring, value)
            .map(IndexValue)
            .map_err(from_core)
    }

    /// The index value of several fields together (a compound index), under the primary root.
    pub fn compound(&self, keyring: &Keyring, fields: &[&str]) -> Result<IndexValue, Error> {
        self.index
            .compound(keyring, fields)
            .map(IndexValue)
            .map_err(from_core)
    }

    /// The values to look `value` up by: under the primary root first, then under every other
    /// root the keyring still holds (rows not yet re-indexed carry those). Without duplicates.
    pub fn lookup(&self, keyring: &Keyring, value: &str) -> Result<IndexLookup, Error> {
        let values = self.index.lookup(keyring, value).map_err(from_core)?;
        Ok(IndexLookup {
            values: values.into_iter().map(IndexValue).collect(),
        })
    }

    /// The value under the primary root and, while an older root is still held, under the newest
    /// of those: for a schema with a second index column that stays filled during a rotation.
    pub fn pair(&self, keyring: &Keyring, value: &str) -> Result<IndexPair, Error> {
        Ok(IndexPair {
            current: self.value(keyring, value)?,
            previous: self
                .index
                .previous(keyring, value)
                .map_err(from_core)?
                .map(IndexValue),
        })
    }

    /// Whether a decrypted `candidate` is the value looked up as `query`: equal once both are
    /// normalised as this index normalises. Filters out the rows that share only the index value.
    pub fn matches(&self, query: &str, candidate: &str) -> bool {
        self.index.matches(query, candidate)
    }
}

impl core::fmt::Debug for BlindIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlindIndex")
            .field("definition", self.definition())
            .finish_non_exhaustive()
    }
}

/// A blind-index value as a column holds it: a non-negative `BIGINT` below `2^bits`.
///
/// Debug does not print the number: index values stand in for plaintext.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexValue(i64);

impl IndexValue {
    /// The number stored.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl core::fmt::Debug for IndexValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("IndexValue([REDACTED])")
    }
}

impl<DB: Database> Type<DB> for IndexValue
where
    i64: Type<DB>,
{
    fn type_info() -> DB::TypeInfo {
        <i64 as Type<DB>>::type_info()
    }
    fn compatible(ty: &DB::TypeInfo) -> bool {
        <i64 as Type<DB>>::compatible(ty)
    }
}

impl<'q, DB: Database> Encode<'q, DB> for IndexValue
where
    i64: Encode<'q, DB>,
{
    fn encode_by_ref(
        &self,
        buf: &mut crate::compat::ArgumentBuffer<'q, DB>,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, DB>>::encode(self.0, buf)
    }
}

impl<'r, DB: Database> Decode<'r, DB> for IndexValue
where
    i64: Decode<'r, DB>,
{
    fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        <i64 as Decode<'r, DB>>::decode(value).map(IndexValue)
    }
}

/// The values a lookup matches: one per blind-index root the keyring holds, primary first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexLookup {
    values: Vec<IndexValue>,
}

impl IndexLookup {
    /// The values, primary root first.
    pub fn values(&self) -> &[IndexValue] {
        &self.values
    }

    /// Appends `column IN (v1, v2, ..)` to a query, with the values bound: placeholders in the
    /// database's own style, so one call serves Postgres (`$1`), SQLite and MySQL (`?`). The
    /// column name is SQL text: a `&'static str` written in the program (`"email_idx"`, or
    /// `"c.email_idx"` with a table alias), never a value that came from input.
    pub fn push_match<'args, DB: Database>(
        &self,
        query: &mut crate::compat::QueryBuilder<'args, DB>,
        column: &'static str,
    ) where
        IndexValue: Encode<'args, DB> + Type<DB>,
    {
        query.push(column).push(" IN (");
        let mut values = query.separated(", ");
        for value in &self.values {
            values.push_bind(*value);
        }
        values.push_unseparated(")");
    }
}

/// An index value under the primary root and, during a rotation, under the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexPair {
    /// Under the primary root: the index column.
    pub current: IndexValue,
    /// Under the newest other root still held: the second index column, `None` (NULL) once
    /// no other root is held.
    pub previous: Option<IndexValue>,
}

/// A lookup by a blind index, in a form each database takes as one ordinary parameter, so it
/// fits `query_as` and `query_as!` without a `QueryBuilder`:
///
/// | database | condition | bind |
/// | --- | --- | --- |
/// | PostgreSQL | `email_idx = ANY($1)` | [`Search::ints`] |
/// | SQLite | `email_idx IN (SELECT value FROM json_each(?))` | [`Search::json`] |
/// | MySQL, MariaDB | `email_idx IN (SELECT v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS j)` | [`Search::json`] |
///
/// The index is truncated on purpose, so the rows found include some with other values:
/// [`Search::keep`] drops them once they are decrypted. Debug shows neither the query nor the
/// index values.
pub struct Search<'a> {
    index: &'a BlindIndex,
    lookup: IndexLookup,
    /// The query, normalised as the index normalises.
    query: zeroize::Zeroizing<String>,
}

impl core::fmt::Debug for Search<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Search")
            .field("index", &self.index.definition().name)
            .field("values", &self.lookup.values.len())
            .finish_non_exhaustive()
    }
}

impl Search<'_> {
    /// The index values, primary root first.
    pub fn values(&self) -> &[IndexValue] {
        self.lookup.values()
    }

    /// The index values as integers: bind as PostgreSQL's `= ANY($1)` array.
    pub fn ints(&self) -> Vec<i64> {
        self.lookup.values().iter().map(|v| v.get()).collect()
    }

    /// The index values as a JSON array text (`[123,456]`): bind for SQLite's `json_each(?)` or
    /// MySQL's and MariaDB's `JSON_TABLE(?, ...)`.
    pub fn json(&self) -> String {
        let ints: Vec<String> = self.ints().iter().map(ToString::to_string).collect();
        format!("[{}]", ints.join(","))
    }

    /// The [`IndexLookup`], for a `QueryBuilder` (`push_match`).
    pub fn lookup(&self) -> &IndexLookup {
        &self.lookup
    }

    /// Whether a decrypted `candidate` is the value looked up (equal once normalised).
    pub fn matches(&self, candidate: &str) -> bool {
        self.index.definition().normalize(candidate) == self.query.as_str()
    }

    /// The rows whose decrypted value (`plaintext(row)`) is the value looked up.
    pub fn keep<R>(&self, rows: Vec<R>, plaintext: impl Fn(&R) -> &str) -> Vec<R> {
        rows.into_iter()
            .filter(|row| self.matches(plaintext(row)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn planned_bits_and_the_warnings_that_contradict_them() {
        let planned = |rows| {
            BlindIndex::planned("t", "c", "c_idx", [], rows)
                .unwrap()
                .definition()
                .bits
        };
        assert_eq!(
            (planned(1_000), planned(100_000), planned(1_000_000)),
            (8, 15, 18)
        );
        assert!(BlindIndex::planned("t", "c", "c_idx", [], 3).is_err());
        let sixteen = BlindIndex::new(IndexDefinition::new("t", "c", "c_idx", 16)).unwrap();
        assert!(
            sixteen
                .bits_warning(1_000)
                .unwrap()
                .contains("the planner says 8")
        );
        assert!(
            sixteen
                .bits_warning(100_000)
                .unwrap()
                .contains("the planner says 15")
        );
        assert!(sixteen.bits_warning(200_000).is_none());
        assert!(sixteen.bits_warning(1_000_000).is_none());
        assert!(
            sixteen
                .bits_warning(100_000_000)
                .unwrap()
                .contains("each lookup reads")
        );
        assert!(sixteen.bits_warning(3).unwrap().contains("too few"));
    }
}
