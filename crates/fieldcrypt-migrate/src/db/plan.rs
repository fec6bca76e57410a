//! A resolved job's SQL: the batch reads, and the one compare-and-swap that writes a batch.
//!
//! Every write is `SET target = new WHERE pk = id AND source = old [AND target IS NULL]`, with
//! the batch's `(id, old, new[, index])` rows joined in (a derived table of placeholders, or on
//! PostgreSQL arrays through `UNNEST`): a row that the application changed after the batch was
//! read does not match, keeps the application's value, and is read again on the next pass. The
//! comparison is byte for byte ([`Dialect::same_bytes`]), never the column's collation.

use super::catalog::{Class, ColumnInfo};
use super::dialect::Dialect;

/// A resolved job: names checked against the database, classes known, SQL prepared.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) dialect: Dialect,
    pub(crate) table: String,
    pub(crate) pk: String,
    pub(crate) pk_class: Class,
    pub(crate) source: String,
    pub(crate) source_info: ColumnInfo,
    pub(crate) target: String,
    pub(crate) target_info: ColumnInfo,
    /// Writing into another column (which must be NULL) rather than in place.
    pub(crate) into: bool,
    /// A blind-index column read and written beside the envelopes.
    pub(crate) index_column: Option<String>,
    /// The index whose values go there.
    pub(crate) blind_index: Option<std::sync::Arc<fieldcrypt_sqlx::BlindIndex>>,
    /// The SQL condition that makes a row pending (its placeholders come after the cursor's).
    pub(crate) pending: String,
}

/// How a batch's rows reach the compare-and-swap.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BatchRows {
    /// A derived table of `n` rows of placeholders (`SELECT ? AS fc_id, ... UNION ALL ...`).
    Placeholders(usize),
    /// PostgreSQL: one array parameter per column, of these element types (id, old, new), and
    /// `int8[]` for the index values when the job has an index column. One short statement to
    /// parse and plan, whatever the batch size.
    Arrays([&'static str; 3]),
}

impl Plan {
    fn q(&self, name: &str) -> String {
        self.dialect.quote(name)
    }

    /// `, index_column` when the job has one.
    fn index_select(&self) -> String {
        self.index_column
            .as_deref()
            .map(|c| format!(", {}", self.q(c)))
            .unwrap_or_default()
    }

    /// The primary key as the job reads it (a UUID as text).
    fn pk_read(&self) -> String {
        self.dialect.read_expr(&self.q(&self.pk), self.pk_class)
    }

    /// ` AND pk > cursor` when `after`. The cursor is bound as text or an integer; PostgreSQL
    /// compares a UUID key with a UUID, so that the primary key's index serves the walk.
    fn cursor(&self, after: bool) -> String {
        if !after {
            return String::new();
        }
        let param = match (self.dialect, self.pk_class) {
            (Dialect::Postgres, Class::Uuid) => format!("{}::uuid", self.dialect.param(1)),
            _ => self.dialect.param(1),
        };
        format!(" AND {} > {param}", self.q(&self.pk))
    }

    /// `SELECT pk, source[, index] FROM table WHERE pending [AND pk > cursor] ORDER BY pk LIMIT n`.
    pub(crate) fn select_pending(&self, after: bool, limit: usize) -> String {
        let cursor = self.cursor(after);
        format!(
            "SELECT {pk_read}, {src}{idx} FROM {t} WHERE ({pending}){cursor} ORDER BY {pk} LIMIT {limit}",
            pk_read = self.pk_read(),
            pk = self.q(&self.pk),
            src = self
                .dialect
                .read_expr(&self.q(&self.source), self.source_info.class),
            idx = self.index_select(),
            t = self.q(&self.table),
            pending = self.pending,
        )
    }

    /// `SELECT pk, column[, index] FROM table WHERE column IS NOT NULL [AND pk > cursor] ORDER BY
    /// pk LIMIT n`.
    pub(crate) fn select_all(
        &self,
        column: &str,
        class: Class,
        after: bool,
        limit: usize,
    ) -> String {
        let cursor = self.cursor(after);
        format!(
            "SELECT {pk_read}, {read}{idx} FROM {t} WHERE {c} IS NOT NULL{cursor} ORDER BY {pk} LIMIT {limit}",
            pk_read = self.pk_read(),
            pk = self.q(&self.pk),
            read = self.dialect.read_expr(&self.q(column), class),
            c = self.q(column),
            idx = self.index_select(),
            t = self.q(&self.table),
        )
    }

    /// `SELECT pk, column[, index] FROM table WHERE column IS NOT NULL`, in no particular order.
    pub(crate) fn select_every(&self, column: &str, class: Class) -> String {
        format!(
            "SELECT {pk}, {read}{idx} FROM {t} WHERE {c} IS NOT NULL",
            pk = self.pk_read(),
            read = self.dialect.read_expr(&self.q(column), class),
            idx = self.index_select(),
            t = self.q(&self.table),
            c = self.q(column),
        )
    }

    /// `SELECT COUNT(*) FROM table WHERE pending`.
    pub(crate) fn count_pending(&self) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE ({})",
            self.q(&self.table),
            self.pending
        )
    }

    /// The batch's rows as the relation `v(fc_id, fc_old, fc_new[, fc_idx])`.
    fn batch_relation(&self, rows: BatchRows) -> String {
        let indexed = self.index_column.is_some();
        match rows {
            BatchRows::Placeholders(n) => {
                let d = self.dialect;
                let width = if indexed { 4 } else { 3 };
                let names = ["fc_id", "fc_old", "fc_new", "fc_idx"];
                let selects: Vec<String> = (0..n)
                    .map(|i| {
                        let params = (1..=width).map(|j| d.param(width * i + j));
                        let columns: Vec<String> = if i == 0 {
                            params
                                .zip(names)
                                .map(|(p, n)| format!("{p} AS {n}"))
                                .collect()
                        } else {
                            params.collect()
                        };
                        format!("SELECT {}", columns.join(", "))
                    })
                    .collect();
                format!("({}) AS v", selects.join(" UNION ALL "))
            }
            BatchRows::Arrays([id, old, new]) => {
                // UUID keys arrive as text; cast once, so that the primary key's index serves
                // the join.
                let id = if self.pk_class == Class::Uuid {
                    "text[]::uuid"
                } else {
                    id
                };
                let (index_array, index_name) = if indexed {
                    (", $4::int8[]", ", fc_idx")
                } else {
                    ("", "")
                };
                format!(
                    "UNNEST($1::{id}[], $2::{old}[], $3::{new}[]{index_array}) AS v(fc_id, fc_old, fc_new{index_name})"
                )
            }
        }
    }

    /// The compare-and-swap of a batch: each row whose source still holds, byte for byte, the
    /// value the job read (and, with `--into`, whose target is still NULL) takes the new value
    /// (and index value); the others are left to the next pass.
    pub(crate) fn compare_and_swap(&self, rows: BatchRows) -> String {
        let t = self.q(&self.table);
        let pk = format!("{t}.{}", self.q(&self.pk));
        let target = self.q(&self.target);
        let relation = self.batch_relation(rows);
        let matches = self.dialect.same_bytes(
            &format!("{t}.{}", self.q(&self.source)),
            &self.source_info,
            "v.fc_old",
        );
        let still_null = if self.into {
            format!(" AND {t}.{target} IS NULL")
        } else {
            String::new()
        };
        // A date, timestamp, decimal, UUID or JSON value arrives as text; PostgreSQL casts it to
        // the column's type (its `data_type`, from the catalogue) explicitly.
        let new_value = match rows {
            BatchRows::Arrays(_) if self.target_info.class.is_textual() => {
                format!("v.fc_new::{}", self.target_info.sql_type)
            }
            _ => "v.fc_new".to_owned(),
        };
        let index = |qualified: bool| match &self.index_column {
            Some(c) if qualified => format!(", {t}.{} = v.fc_idx", self.q(c)),
            Some(c) => format!(", {} = v.fc_idx", self.q(c)),
            None => String::new(),
        };
        match self.dialect {
            Dialect::MySql => format!(
                "UPDATE {t} JOIN {relation} ON {pk} = v.fc_id SET {t}.{target} = {new_value}{idx} WHERE {matches}{still_null}",
                idx = index(true)
            ),
            _ => format!(
                "UPDATE {t} SET {target} = {new_value}{idx} FROM {relation} WHERE {pk} = v.fc_id AND {matches}{still_null}",
                idx = index(false)
            ),
        }
    }
}
