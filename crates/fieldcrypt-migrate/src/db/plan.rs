//! A resolved job's SQL: the batch reads, and the one compare-and-swap that writes a batch.
//!
//! Every write is `SET target = new WHERE pk = id AND source = old [AND target IS NULL]`, with
//! the batch's `(id, old, new[, index])` rows joined in (a derived table of placeholders, or on
//! PostgreSQL arrays through `UNNEST`): a row that the application changed after the batch was
//! read does not match, keeps the application's value, and is read again on the next pass. The
//! comparison is byte for byte ([`Dialect::same_bytes`]), never the column's collation. On
//! PostgreSQL each row is fetched where the batch read found it (its `ctid`) rather than through
//! the primary key's index, and its key is checked too: a row that moved since is not matched and
//! is read again, like one that changed.
//!
//! A job works on a [`KeyRange`] of the primary key: the whole table, or one shard of it
//! (`--shard I/N`); every read and count keeps to it.

use super::catalog::{Class, ColumnInfo};
use super::cells::RowId;
use super::dialect::Dialect;

/// A range of primary keys, `lower <= key < upper`; an absent bound is open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRange {
    /// The lowest key in the range (`None`: from the first).
    pub lower: Option<RowId>,
    /// The first key past the range (`None`: to the last).
    pub upper: Option<RowId>,
}

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
    /// The SQL condition that makes a row pending (it has no placeholders).
    pub(crate) pending: String,
    /// The keys this job works on (all of them unless it runs one shard).
    pub(crate) range: KeyRange,
}

/// How a batch's rows reach the compare-and-swap.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BatchRows {
    /// A derived table of `n` rows of placeholders (`SELECT ? AS fc_id, ... UNION ALL ...`).
    Placeholders(usize),
    /// PostgreSQL: one array parameter per column, of these element types (id, old, new),
    /// `int8[]` for the index values when the job has an index column, and with `tids` the rows'
    /// addresses as `text[]`. One short statement to parse and plan, whatever the batch size.
    Arrays {
        types: [&'static str; 3],
        tids: bool,
    },
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

    /// The `n`th parameter as a key. Keys are bound as text or integers; PostgreSQL compares a
    /// UUID key with a UUID, so that the primary key's index serves the comparison.
    fn key_param(&self, n: usize) -> String {
        match (self.dialect, self.pk_class) {
            (Dialect::Postgres, Class::Uuid) => format!("{}::uuid", self.dialect.param(n)),
            _ => self.dialect.param(n),
        }
    }

    /// ` AND pk >= lower AND pk < upper` for the bounds the job's range has, then ` AND pk >
    /// cursor` when `after`: the parameters [`Plan::key_params`] gives, in that order.
    fn key_conditions(&self, after: bool) -> String {
        let pk = self.q(&self.pk);
        let mut conditions = String::new();
        let mut n = 0;
        for (present, op) in [
            (self.range.lower.is_some(), ">="),
            (self.range.upper.is_some(), "<"),
            (after, ">"),
        ] {
            if present {
                n += 1;
                conditions.push_str(&format!(" AND {pk} {op} {}", self.key_param(n)));
            }
        }
        conditions
    }

    /// The values of [`Plan::key_conditions`]' parameters: the range's bounds, then the cursor.
    pub(crate) fn key_params(&self, cursor: Option<&RowId>) -> Vec<RowId> {
        [self.range.lower.as_ref(), self.range.upper.as_ref(), cursor]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// Whether a batch read returns each row's address (PostgreSQL's `ctid`) for the
    /// compare-and-swap.
    pub(crate) fn reads_tid(&self) -> bool {
        self.dialect == Dialect::Postgres
    }

    /// `SELECT pk, source[, index][, ctid] FROM table WHERE pending [AND range] [AND pk >
    /// cursor] ORDER BY pk LIMIT n`.
    pub(crate) fn select_pending(&self, after: bool, limit: usize) -> String {
        format!(
            "SELECT {pk_read}, {src}{idx}{tid} FROM {t} WHERE ({pending}){keys} ORDER BY {pk} LIMIT {limit}",
            pk_read = self.pk_read(),
            pk = self.q(&self.pk),
            src = self
                .dialect
                .read_expr(&self.q(&self.source), self.source_info.class),
            idx = self.index_select(),
            tid = if self.reads_tid() { ", ctid::text" } else { "" },
            t = self.q(&self.table),
            pending = self.pending,
            keys = self.key_conditions(after),
        )
    }

    /// `SELECT pk, column[, index] FROM table WHERE column IS NOT NULL [AND range] [AND pk >
    /// cursor] ORDER BY pk LIMIT n`.
    pub(crate) fn select_all(
        &self,
        column: &str,
        class: Class,
        after: bool,
        limit: usize,
    ) -> String {
        format!(
            "SELECT {pk_read}, {read}{idx} FROM {t} WHERE {c} IS NOT NULL{keys} ORDER BY {pk} LIMIT {limit}",
            pk_read = self.pk_read(),
            pk = self.q(&self.pk),
            read = self.dialect.read_expr(&self.q(column), class),
            c = self.q(column),
            idx = self.index_select(),
            t = self.q(&self.table),
            keys = self.key_conditions(after),
        )
    }

    /// `SELECT pk, column[, index] FROM table WHERE column IS NOT NULL [AND range]`, in no
    /// particular order.
    pub(crate) fn select_every(&self, column: &str, class: Class) -> String {
        format!(
            "SELECT {pk}, {read}{idx} FROM {t} WHERE {c} IS NOT NULL{keys}",
            pk = self.pk_read(),
            read = self.dialect.read_expr(&self.q(column), class),
            idx = self.index_select(),
            t = self.q(&self.table),
            c = self.q(column),
            keys = self.key_conditions(false),
        )
    }

    /// `SELECT COUNT(*) FROM table WHERE pending [AND range]`.
    pub(crate) fn count_pending(&self) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE ({}){}",
            self.q(&self.table),
            self.pending,
            self.key_conditions(false)
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
            BatchRows::Arrays {
                types: [id, old, new],
                tids,
            } => {
                // UUID keys arrive as text; cast once, so that the primary key's index serves
                // the join.
                let id = if self.pk_class == Class::Uuid {
                    "text[]::uuid"
                } else {
                    id
                };
                let mut arrays = format!("$1::{id}[], $2::{old}[], $3::{new}[]");
                let mut names = "fc_id, fc_old, fc_new".to_owned();
                if indexed {
                    arrays.push_str(", $4::int8[]");
                    names.push_str(", fc_idx");
                }
                if tids {
                    let n = if indexed { 5 } else { 4 };
                    arrays.push_str(&format!(", ${n}::text[]::tid[]"));
                    names.push_str(", fc_tid");
                }
                format!("UNNEST({arrays}) AS v({names})")
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
        // Fetched where it was read; the key is checked too, since the address of a row that
        // moved may by now hold another row.
        let at = match rows {
            BatchRows::Arrays { tids: true, .. } => format!("{t}.ctid = v.fc_tid AND "),
            _ => String::new(),
        };
        // A date, timestamp, decimal, UUID or JSON value arrives as text; PostgreSQL casts it to
        // the column's type (its `data_type`, from the catalogue) explicitly.
        let new_value = match rows {
            BatchRows::Arrays { .. } if self.target_info.class.is_textual() => {
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
                "UPDATE {t} SET {target} = {new_value}{idx} FROM {relation} WHERE {at}{pk} = v.fc_id AND {matches}{still_null}",
                idx = index(false)
            ),
        }
    }
}
