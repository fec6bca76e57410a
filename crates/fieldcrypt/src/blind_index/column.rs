//! A blind index kept as a signed 64-bit integer column beside the encrypted column: what
//! `fieldcrypt-sqlx`, the Python package's Django fields and SQLAlchemy types all store, so a
//! row indexed by one is found by the others. Storage-independent; the integrations wrap it.
//!
//! Write [`ColumnIndex::value`] with every row; look a value up by every value
//! [`ColumnIndex::lookup`] returns (one per blind-index root the keyring still holds, so rows not
//! yet re-indexed after a root rotation are still found), then keep the rows whose decrypted
//! value [`ColumnIndex::matches`] the query: the index is truncated on purpose, so it also
//! returns rows holding other values.

use super::{IndexDefinition, planner};
use crate::envelope::KeyId;
use crate::error::Error;
use crate::keyring::Keyring;

/// Most bits a column index keeps: a `BIGINT` holds it as a non-negative number.
pub const MAX_COLUMN_BITS: u16 = 63;

/// One blind index stored as a `BIGINT`: its definition. Index keys are derived from, and
/// cached in, the keyring each call is given ([`Keyring::cached_blind_indexer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnIndex {
    definition: IndexDefinition,
}

impl ColumnIndex {
    /// An index with this definition: 1 to [`MAX_COLUMN_BITS`] bits.
    pub fn new(definition: IndexDefinition) -> Result<Self, Error> {
        if definition.bits == 0 || definition.bits > MAX_COLUMN_BITS {
            return Err(Error::IndexTooWide(definition.bits));
        }
        Ok(Self { definition })
    }

    /// An index over a column expected to hold about `rows` rows of mostly distinct values,
    /// with the bits the [`planner`] picks for that many (8 for 1,000 rows, 15 for 100,000).
    pub fn planned(definition: IndexDefinition, rows: u64) -> Result<Self, Error> {
        let plan = planner::plan(rows, rows, 0)?;
        Self::new(IndexDefinition {
            bits: plan.bits,
            ..definition
        })
    }

    /// The definition.
    pub fn definition(&self) -> &IndexDefinition {
        &self.definition
    }

    /// Whether the bits contradict the planner for a table of `rows` rows of distinct values:
    /// more bits than planned single out plaintexts; far fewer make every lookup read many rows.
    pub fn bits_warning(&self, rows: u64) -> Option<String> {
        let bits = self.definition.bits;
        let name = &self.definition.name;
        match planner::plan(rows, rows, 0) {
            Err(_) => Some(format!(
                "blind index {name}: {rows} rows are too few for any safe index; each value would single out a plaintext"
            )),
            Ok(plan) if bits > plan.bits => Some(format!(
                "blind index {name}: {bits} bits for about {rows} rows; the planner says {} (more bits single out plaintexts)",
                plan.bits
            )),
            Ok(plan) if bits + 4 < plan.bits => Some(format!(
                "blind index {name}: {bits} bits for about {rows} rows; the planner says {} (each lookup reads about {:.0} rows)",
                plan.bits,
                rows as f64 / f64::from(bits).exp2()
            )),
            Ok(_) => None,
        }
    }

    /// The index value of `value` under the keyring's primary index root: what to write.
    pub fn value(&self, keyring: &Keyring, value: &str) -> Result<i64, Error> {
        self.value_under(keyring, keyring.primary_index_root(), &[value])
    }

    /// The index value of several fields together (a compound index), under the primary root.
    pub fn compound(&self, keyring: &Keyring, fields: &[&str]) -> Result<i64, Error> {
        self.value_under(keyring, keyring.primary_index_root(), fields)
    }

    /// The values to look `value` up by: under the primary root first, then under every other
    /// root the keyring still holds. Without duplicates.
    pub fn lookup(&self, keyring: &Keyring, value: &str) -> Result<Vec<i64>, Error> {
        let mut values = Vec::new();
        for root in keyring.lookup_index_roots() {
            let v = self.value_under(keyring, root, &[value])?;
            if !values.contains(&v) {
                values.push(v);
            }
        }
        Ok(values)
    }

    /// The value under the newest root other than the primary that is still held, if any: for a
    /// second index column that stays filled during a root rotation.
    pub fn previous(&self, keyring: &Keyring, value: &str) -> Result<Option<i64>, Error> {
        keyring
            .previous_index_root()
            .map(|root| self.value_under(keyring, root, &[value]))
            .transpose()
    }

    /// Whether a decrypted `candidate` is the value looked up as `query`: equal once both are
    /// normalised as this index normalises.
    pub fn matches(&self, query: &str, candidate: &str) -> bool {
        self.definition.normalize(query) == self.definition.normalize(candidate)
    }

    /// The index value of `fields` under a given root.
    pub fn value_under(
        &self,
        keyring: &Keyring,
        root: KeyId,
        fields: &[&str],
    ) -> Result<i64, Error> {
        let value = keyring
            .cached_blind_indexer(&self.definition, root)?
            .compute_compound(fields)?;
        value.to_i64().ok_or(Error::IndexTooWide(value.bits()))
    }
}
