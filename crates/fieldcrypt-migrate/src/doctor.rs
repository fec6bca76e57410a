//! `fieldcrypt doctor`: what state a table's encrypted columns are in, read-only.
//!
//! Every text and binary column is read in full. A column holding at least one envelope is taken
//! for an encrypted column; in it, plaintext left over, envelopes under key ids the keyring does
//! not hold (or has retired), and envelopes that do not open are problems. A value opens either
//! under the column's context (`Encrypted`) or under the context with its row key (`Sealed`);
//! both are counted, so a column that mixes them shows it.

use std::collections::BTreeMap;

use std::sync::Arc;

use fieldcrypt::{Context, Envelope, IndexDefinition, KeyState, Keyring, RowKey, Value};
use fieldcrypt_sqlx::BlindIndex;

use crate::db::{Class, ColumnInfo, Plan, Pool, RowId};
use crate::error::MigrateError;
use crate::spec::IndexSpec;

/// One column's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnReport {
    /// The column.
    pub column: String,
    /// Its SQL type.
    pub sql_type: String,
    /// Non-NULL values read.
    pub values: u64,
    /// Values that are envelopes.
    pub envelopes: u64,
    /// Values that are not (plaintext).
    pub plaintext: u64,
    /// Envelopes per key id.
    pub by_key: BTreeMap<u32, u64>,
    /// Envelopes under a key id the keyring does not hold.
    pub unknown_key: u64,
    /// Envelopes under a retired key (they can no longer be opened).
    pub retired_key: u64,
    /// Envelopes that open under the column's context.
    pub open_by_column: u64,
    /// Envelopes that open under the column's context and their row key.
    pub open_by_row: u64,
    /// Envelopes under a held key that open under neither context (moved, tampered).
    pub fail_to_open: u64,
    /// Values whose blind-index column does not hold their index value under the primary root
    /// (only for columns given an index).
    pub index_mismatch: u64,
    /// The primary keys of the first problem rows, with the problem.
    pub examples: Vec<String>,
}

impl ColumnReport {
    /// Whether the column holds envelopes at all.
    pub fn is_encrypted(&self) -> bool {
        self.envelopes > 0
    }

    /// Problems in an encrypted column (a column without envelopes has none).
    pub fn problems(&self) -> u64 {
        if !self.is_encrypted() {
            return 0;
        }
        self.plaintext
            + self.unknown_key
            + self.retired_key
            + self.fail_to_open
            + self.index_mismatch
    }
}

/// A table's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoctorReport {
    /// The table.
    pub table: String,
    /// Every text and binary column but the primary key.
    pub columns: Vec<ColumnReport>,
    /// Columns of other types, not read.
    pub skipped: Vec<String>,
}

impl DoctorReport {
    /// No problem in any encrypted column.
    pub fn is_clean(&self) -> bool {
        self.columns.iter().all(|c| c.problems() == 0)
    }
}

fn note(report: &mut ColumnReport, key: &RowId, problem: &str) {
    if report.examples.len() < 20 {
        report.examples.push(format!("{key}: {problem}"));
    }
}

/// Reads every text and binary column of `table` and reports its state. Writes nothing.
pub async fn doctor(
    pool: &Pool,
    table: &str,
    pk: Option<&str>,
    keyring: &Keyring,
    indexes: &[(String, IndexSpec)],
    batch: usize,
) -> Result<DoctorReport, MigrateError> {
    for (column, spec) in indexes {
        if !pool.columns(table).await?.iter().any(|(c, _)| c == column) {
            return Err(MigrateError::NoSuchColumn {
                table: table.to_owned(),
                column: column.clone(),
            });
        }
        pool.describe(table, &spec.column).await?;
    }
    let columns = pool.columns(table).await?;
    let pk = match pk {
        Some(pk) => pk.to_owned(),
        None => pool
            .primary_key(table)
            .await?
            .ok_or_else(|| MigrateError::NoPrimaryKey(table.to_owned()))?,
    };
    let pk_class = match columns.iter().find(|(name, _)| *name == pk) {
        Some((_, Ok(info))) if matches!(info.class, Class::Int | Class::Text | Class::Uuid) => {
            info.class
        }
        Some(_) => {
            return Err(MigrateError::Invalid(format!(
                "primary key {table}.{pk} is not an integer, text or a UUID"
            )));
        }
        None => {
            return Err(MigrateError::NoSuchColumn {
                table: table.to_owned(),
                column: pk,
            });
        }
    };
    let states: BTreeMap<u32, KeyState> = keyring.keys().map(|k| (k.id.get(), k.state)).collect();
    let mut report = DoctorReport {
        table: table.to_owned(),
        columns: Vec::new(),
        skipped: Vec::new(),
    };
    for (column, info) in columns {
        if column == pk {
            continue;
        }
        let info = match info {
            Ok(info) if matches!(info.class, Class::Text | Class::Binary) => info,
            Ok(info) => {
                report.skipped.push(format!("{column} ({})", info.sql_type));
                continue;
            }
            Err(unsupported) => {
                report
                    .skipped
                    .push(format!("{column} ({})", unsupported.sql_type));
                continue;
            }
        };
        let index = indexes
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, spec)| spec);
        report.columns.push(
            examine(
                pool, table, &pk, pk_class, &column, info, index, keyring, &states, batch,
            )
            .await?,
        );
    }
    Ok(report)
}

#[allow(clippy::too_many_arguments)]
async fn examine(
    pool: &Pool,
    table: &str,
    pk: &str,
    pk_class: Class,
    column: &str,
    info: ColumnInfo,
    index: Option<&IndexSpec>,
    keyring: &Keyring,
    states: &BTreeMap<u32, KeyState>,
    batch: usize,
) -> Result<ColumnReport, MigrateError> {
    let blind_index = index
        .map(|spec| {
            BlindIndex::new(
                IndexDefinition::new(table, column, spec.column.clone(), spec.bits)
                    .normalized(spec.normalizers.iter().copied()),
            )
            .map(Arc::new)
        })
        .transpose()?;
    let plan = Plan {
        dialect: pool.dialect(),
        table: table.to_owned(),
        pk: pk.to_owned(),
        pk_class,
        source: column.to_owned(),
        source_info: info.clone(),
        target: column.to_owned(),
        target_info: info.clone(),
        into: false,
        index_column: index.map(|spec| spec.column.clone()),
        blind_index: blind_index.clone(),
        pending: "1 = 0".to_owned(),
        range: crate::db::KeyRange::default(),
    };
    let context = Context::new(table, column)?;
    let mut report = ColumnReport {
        column: column.to_owned(),
        sql_type: info.sql_type.clone(),
        ..ColumnReport::default()
    };
    let mut cursor: Option<RowId> = None;
    loop {
        let rows = pool
            .fetch_all(&plan, column, info.class, cursor.as_ref(), batch)
            .await?;
        let Some(last) = rows.last() else {
            break;
        };
        cursor = Some(last.id.clone());
        for row in rows {
            let (key, cell, stored_index) = (row.id, row.value, row.index);
            report.values += 1;
            let bytes = cell.envelope_bytes().unwrap_or_default();
            let Ok(envelope) = Envelope::parse(bytes) else {
                report.plaintext += 1;
                note(&mut report, &key, "plaintext");
                continue;
            };
            report.envelopes += 1;
            let id = envelope.header().key_id.get();
            *report.by_key.entry(id).or_default() += 1;
            match states.get(&id) {
                None => {
                    report.unknown_key += 1;
                    note(
                        &mut report,
                        &key,
                        &format!("key {id} is not in the keyring"),
                    );
                }
                Some(KeyState::Retired) => {
                    report.retired_key += 1;
                    note(&mut report, &key, &format!("key {id} is retired"));
                }
                Some(_) => {
                    let row = match &key {
                        RowId::Int(v) => RowKey::from(*v),
                        RowId::Text(v) => RowKey::from(v.as_str()),
                    };
                    let opened = if let Ok(value) = keyring.open::<Value>(&context, bytes) {
                        report.open_by_column += 1;
                        Some(value)
                    } else if let Ok(value) =
                        keyring.open::<Value>(&context.clone().with_row(row)?, bytes)
                    {
                        report.open_by_row += 1;
                        Some(value)
                    } else {
                        report.fail_to_open += 1;
                        note(
                            &mut report,
                            &key,
                            "does not open (moved from another row or column, or altered)",
                        );
                        None
                    };
                    if let (Some(Value::String(text)), Some(index)) = (&opened, &blind_index)
                        && Some(index.value(keyring, text)?.get()) != stored_index
                    {
                        report.index_mismatch += 1;
                        note(&mut report, &key, "blind-index value does not match");
                    }
                }
            }
        }
    }
    if !report.is_encrypted() {
        // A plaintext column is not a problem; its values are not examples of one.
        report.examples.clear();
    }
    Ok(report)
}
