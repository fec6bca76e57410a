//! Resolving a [`ColumnJob`] against the database: the columns and their classes, the primary
//! key, what makes a row pending, the blind index; refused with a clear error before anything is
//! written when the job cannot work.

use std::sync::Arc;

use fieldcrypt::envelope::HEADER_LEN;
use fieldcrypt::{IndexDefinition, Keyring};
use fieldcrypt_sqlx::BlindIndex;

use crate::db::{Cell, Class, ColumnInfo, Plan, Pool};
use crate::error::MigrateError;
use crate::spec::{ColumnJob, Operation};

/// Resolves `job` against the database: names, classes, the pending condition.
pub(crate) async fn plan(
    pool: &Pool,
    job: &ColumnJob,
    keyring: &Keyring,
) -> Result<Plan, MigrateError> {
    let dialect = pool.dialect();
    let source_info = pool.describe(&job.table, &job.column).await?;
    let (target, target_info) = match &job.into {
        Some(into) if into == &job.column => {
            return Err(MigrateError::Invalid(
                "--into names the column itself; leave it out to work in place".to_owned(),
            ));
        }
        Some(into) if matches!(job.operation, Operation::Rotate | Operation::Reindex) => {
            return Err(MigrateError::Invalid(format!(
                "{} works in place; --into {into} does not apply",
                job.operation.name()
            )));
        }
        Some(into) => (into.clone(), pool.describe(&job.table, into).await?),
        None => (job.column.clone(), source_info.clone()),
    };
    let pk = match &job.pk {
        Some(pk) => pk.clone(),
        None => pool
            .primary_key(&job.table)
            .await?
            .ok_or_else(|| MigrateError::NoPrimaryKey(job.table.clone()))?,
    };
    let pk_info = pool.describe(&job.table, &pk).await?;
    for (column, info) in [
        (&pk, &pk_info),
        (&job.column, &source_info),
        (&target, &target_info),
    ] {
        if matches!(info.class, Class::Uuid | Class::Json)
            && pool.sqlite_blobs(&job.table, column).await? > 0
        {
            return Err(MigrateError::UnsupportedType {
                table: job.table.clone(),
                column: column.clone(),
                sql_type: info.sql_type.clone(),
                why: "holds BLOB values (a UUID as 16 bytes, JSONB), which the job does not read; store them as text first",
            });
        }
    }
    if !matches!(pk_info.class, Class::Int | Class::Text | Class::Uuid) {
        return Err(MigrateError::UnsupportedType {
            table: job.table.clone(),
            column: pk,
            sql_type: pk_info.sql_type,
            why: "cannot order the job as a primary key (integer, text and UUID keys can)",
        });
    }
    let envelope_column = match job.operation {
        Operation::Encrypt | Operation::Import => (&target, &target_info),
        Operation::Rotate | Operation::Decrypt | Operation::Reindex => (&job.column, &source_info),
    };
    if !matches!(envelope_column.1.class, Class::Text | Class::Binary) {
        return Err(MigrateError::UnsupportedType {
            table: job.table.clone(),
            column: envelope_column.0.clone(),
            sql_type: envelope_column.1.sql_type.clone(),
            why: "cannot hold envelopes; encrypt into a text or binary column with --into",
        });
    }
    if matches!(job.operation, Operation::Encrypt | Operation::Import) {
        // The shortest envelope (of an empty string, under the primary key) must fit; longer
        // values are checked one by one before they are written (`ColumnInfo::fits`).
        let (table, column) = job.context_names();
        let context = fieldcrypt::Context::new(table, column)?;
        let shortest = if target_info.class == Class::Text {
            Cell::Text(keyring.seal_text(&context, "")?)
        } else {
            Cell::Binary(keyring.seal(&context, "")?)
        };
        if !target_info.fits(&shortest) {
            return Err(MigrateError::UnsupportedType {
                table: job.table.clone(),
                column: target.clone(),
                sql_type: target_info.sql_type.clone(),
                why: "is too narrow for even the shortest envelope under the primary key; widen it (text, or a varchar/varbinary of at least the value's length + 150) first",
            });
        }
    }
    let q = |c: &str| dialect.quote(c);
    // A value is taken for an envelope when it starts with the header of a key this keyring
    // holds (`fc1c7.` as text, FC 01 <suite> <id> as bytes). Plaintext that merely starts with
    // "fc1" is still plaintext; a value under a key the keyring lacks is reported, not touched.
    let header_of = |info: &ColumnInfo, suite, key_id| {
        let header = fieldcrypt::Header { suite, key_id };
        match info.class {
            Class::Text => header.text_prefix().into_bytes(),
            _ => header.to_bytes()[..HEADER_LEN].to_vec(),
        }
    };
    let under_keys =
        |info: &ColumnInfo, column: &str, keys: &mut dyn Iterator<Item = &fieldcrypt::KeyInfo>| {
            let terms: Vec<String> = keys
                .map(|k| {
                    dialect.starts_with(column, info.class, &header_of(info, k.suite, k.id), false)
                })
                .collect();
            if terms.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!("({})", terms.join(" OR "))
            }
        };
    let source = q(&job.column);
    let any_key = under_keys(&source_info, &source, &mut keyring.keys());
    let pending = match (job.operation, job.into.is_some()) {
        (Operation::Encrypt | Operation::Import | Operation::Decrypt, true) => {
            format!("{source} IS NOT NULL AND {} IS NULL", q(&target))
        }
        (Operation::Encrypt | Operation::Import, false) => {
            format!("{source} IS NOT NULL AND NOT {any_key}")
        }
        (Operation::Decrypt, false) => format!("{source} IS NOT NULL AND {any_key}"),
        // Which rows hold an index value under an old root cannot be told in SQL: every row
        // is read, and only those whose value differs are written.
        (Operation::Reindex, _) => format!("{source} IS NOT NULL"),
        (Operation::Rotate, _) => {
            let primary = keyring.primary();
            let older = under_keys(
                &source_info,
                &source,
                &mut keyring.keys().filter(|k| k.id != primary),
            );
            format!("{source} IS NOT NULL AND {older}")
        }
    };
    let blind_index = match (&job.index, job.operation) {
        (None, Operation::Reindex) => {
            return Err(MigrateError::Invalid(
                "reindex needs --index COLUMN:NORMALISERS:BITS".to_owned(),
            ));
        }
        (None, _) => None,
        (Some(spec), Operation::Encrypt | Operation::Import | Operation::Reindex) => {
            let index_info = pool.describe(&job.table, &spec.column).await?;
            if index_info.class != Class::Int {
                return Err(MigrateError::UnsupportedType {
                    table: job.table.clone(),
                    column: spec.column.clone(),
                    sql_type: index_info.sql_type,
                    why: "cannot hold blind-index values; use a BIGINT column",
                });
            }
            if job.operation == Operation::Encrypt && source_info.class != Class::Text {
                return Err(MigrateError::UnsupportedType {
                    table: job.table.clone(),
                    column: job.column.clone(),
                    sql_type: source_info.sql_type.clone(),
                    why: "is not text; blind indexes are computed over text values",
                });
            }
            let (table, column) = job.context_names();
            let definition = IndexDefinition::new(table, column, spec.column.clone(), spec.bits)
                .normalized(spec.normalizers.iter().copied());
            Some(Arc::new(BlindIndex::new(definition)?))
        }
        (Some(_), other) => {
            return Err(MigrateError::Invalid(format!(
                "--index applies to encrypt-column and reindex, not {}",
                other.name()
            )));
        }
    };
    Ok(Plan {
        dialect,
        table: job.table.clone(),
        pk,
        pk_class: pk_info.class,
        source: job.column.clone(),
        source_info,
        target,
        target_info,
        into: job.into.is_some(),
        index_column: job.index.as_ref().map(|i| i.column.clone()),
        blind_index,
        pending,
        range: crate::db::KeyRange::default(),
    })
}
