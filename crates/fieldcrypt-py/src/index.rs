//! `BlindIndex`: the core's [`ColumnIndex`] (a blind index kept as a `BIGINT` beside its
//! column), so an index value written from Python is the one `fieldcrypt-sqlx` writes and finds.

use std::sync::Arc;

use fieldcrypt::blind_index::planner;
use fieldcrypt::{ColumnIndex, IndexDefinition, Normalizer};
use pyo3::prelude::*;

use crate::errors::from_core;
use crate::keyring::Keyring;

/// One blind index: table, column, name, normalisers and bits. Holds no key: each call derives
/// (and caches, in the keyring) the index key from the keyring it is given.
#[pyclass(frozen, module = "fieldcrypt._native")]
pub(crate) struct BlindIndex {
    index: ColumnIndex,
}

fn normalizers(names: &[String]) -> PyResult<Vec<Normalizer>> {
    Normalizer::parse_list(&names.join(",")).map_err(from_core)
}

#[pymethods]
impl BlindIndex {
    /// An index of `bits` bits (1 to 63), or with `rows` instead, the bits the planner picks for
    /// a column of about that many distinct values. `normalizers`: `trim`, `casefold`, `nfkc`,
    /// `digits`, applied in order.
    #[new]
    #[pyo3(signature = (table, column, name, *, bits=None, rows=None, normalizers=Vec::new()))]
    fn new(
        table: &str,
        column: &str,
        name: &str,
        bits: Option<u16>,
        rows: Option<u64>,
        normalizers: Vec<String>,
    ) -> PyResult<Self> {
        let normalizers = self::normalizers(&normalizers)?;
        let definition =
            IndexDefinition::new(table, column, name, bits.unwrap_or(1)).normalized(normalizers);
        let index = match (bits, rows) {
            (Some(_), None) => ColumnIndex::new(definition),
            (None, Some(rows)) => ColumnIndex::planned(definition, rows),
            _ => {
                return Err(crate::errors::InvalidValue::new_err(
                    "give bits or rows (the planner picks bits for that many rows), not both",
                ));
            }
        }
        .map_err(from_core)?;
        Ok(Self { index })
    }

    /// Bits kept.
    #[getter]
    fn bits(&self) -> u16 {
        self.index.definition().bits
    }

    /// The index's name.
    #[getter]
    fn name(&self) -> &str {
        &self.index.definition().name
    }

    /// The normalisers' names, in order.
    #[getter]
    fn normalizers(&self) -> Vec<&'static str> {
        self.index
            .definition()
            .normalizers
            .iter()
            .map(|n| n.name())
            .collect()
    }

    /// Whether the index case-folds (then `iexact` lookups are exact through it).
    #[getter]
    fn casefolds(&self) -> bool {
        self.index
            .definition()
            .normalizers
            .contains(&Normalizer::CaseFold)
    }

    /// The index value of `value` under the keyring's primary root: what to write.
    fn value(&self, keyring: &Keyring, value: &str) -> PyResult<i64> {
        self.index.value(&keyring.inner, value).map_err(from_core)
    }

    /// [`BlindIndex::value`] of many values, with the GIL released.
    fn values(&self, py: Python<'_>, keyring: &Keyring, values: Vec<String>) -> PyResult<Vec<i64>> {
        let keyring = Arc::clone(&keyring.inner);
        py.detach(|| fieldcrypt::parallel::map(&values, |v| self.index.value(&keyring, v)))
            .map_err(from_core)
    }

    /// The values to look `value` up by: under the primary root first, then under every other
    /// root still held (rows not yet re-indexed after a root rotation).
    fn lookup(&self, keyring: &Keyring, value: &str) -> PyResult<Vec<i64>> {
        self.index.lookup(&keyring.inner, value).map_err(from_core)
    }

    /// Whether a decrypted `candidate` is what `query` looks up (equal once both are
    /// normalised): the rows an index lookup returns include others sharing the index value.
    fn matches(&self, query: &str, candidate: &str) -> bool {
        self.index.matches(query, candidate)
    }

    /// A warning when the bits contradict the planner for `rows` rows of distinct values.
    fn bits_warning(&self, rows: u64) -> Option<String> {
        self.index.bits_warning(rows)
    }

    fn __repr__(&self) -> String {
        let d = self.index.definition();
        format!(
            "BlindIndex(table={:?}, column={:?}, name={:?}, bits={}, normalizers={:?})",
            d.table,
            d.column,
            d.name,
            d.bits,
            self.normalizers()
        )
    }
}

/// The planner's bits for `rows` rows holding `distinct` distinct values, `other_bits` already
/// spent by other indexes on the field: `(bits, rows_per_value, within_rule)`.
#[pyfunction]
#[pyo3(signature = (rows, distinct, other_bits=0))]
pub(crate) fn plan(rows: u64, distinct: u64, other_bits: u16) -> PyResult<(u16, f64, bool)> {
    let plan = planner::plan(rows, distinct, other_bits).map_err(from_core)?;
    Ok((plan.bits, plan.rows_per_value, plan.within_rule))
}
