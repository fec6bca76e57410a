//! A trail in a PostgreSQL table that several server replicas share, each with its own chain.
//! A batch is one `INSERT ... SELECT FROM UNNEST(...)` statement: stored all or nothing.

use sqlx::{PgPool, Row as _};

use crate::AuditError;
use crate::record::{Checkpoint, Entry, Record};

/// The table, created by [`PgSink::create_table`]. `id` keeps the order rows were written in,
/// which the verifier reads as the trail's order.
pub const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS fieldcrypt_audit (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    replica TEXT NOT NULL,
    seq BIGINT NOT NULL,
    time TEXT NOT NULL,
    principal TEXT,
    operation TEXT,
    tbl TEXT,
    col TEXT,
    row_key TEXT,
    tenant TEXT,
    key_id BIGINT,
    purpose TEXT,
    request_id TEXT,
    outcome TEXT,
    hash TEXT NOT NULL,
    signing_key TEXT,
    signature TEXT
)";

const INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS fieldcrypt_audit_replica_seq ON fieldcrypt_audit (replica, seq)",
    "CREATE INDEX IF NOT EXISTS fieldcrypt_audit_principal ON fieldcrypt_audit (principal, id)",
];

fn db(what: &'static str) -> impl FnOnce(sqlx::Error) -> AuditError {
    move |e| AuditError::Database {
        what,
        reason: e.to_string(),
    }
}

/// The `fieldcrypt_audit` table of one database.
#[derive(Debug, Clone)]
pub struct PgSink {
    pool: PgPool,
}

impl PgSink {
    /// Uses `pool`; [`PgSink::create_table`] first on a new database.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Creates the table and its indexes if missing.
    pub async fn create_table(&self) -> Result<(), AuditError> {
        sqlx::query(CREATE_TABLE)
            .execute(&self.pool)
            .await
            .map_err(db("creating fieldcrypt_audit"))?;
        for index in INDEXES {
            sqlx::query(index)
                .execute(&self.pool)
                .await
                .map_err(db("indexing fieldcrypt_audit"))?;
        }
        Ok(())
    }

    /// Appends `records` in one statement; stored when this returns `Ok`.
    pub async fn append(&self, records: &[Record]) -> Result<(), AuditError> {
        let n = records.len();
        let mut kind = Vec::with_capacity(n);
        let mut replica = Vec::with_capacity(n);
        let mut seq = Vec::with_capacity(n);
        let mut time = Vec::with_capacity(n);
        let mut principal: Vec<Option<String>> = Vec::with_capacity(n);
        let mut operation: Vec<Option<String>> = Vec::with_capacity(n);
        let mut table: Vec<Option<String>> = Vec::with_capacity(n);
        let mut column: Vec<Option<String>> = Vec::with_capacity(n);
        let mut row: Vec<Option<String>> = Vec::with_capacity(n);
        let mut tenant: Vec<Option<String>> = Vec::with_capacity(n);
        let mut key_id: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut purpose: Vec<Option<String>> = Vec::with_capacity(n);
        let mut request_id: Vec<Option<String>> = Vec::with_capacity(n);
        let mut outcome: Vec<Option<String>> = Vec::with_capacity(n);
        let mut hash = Vec::with_capacity(n);
        let mut signing_key: Vec<Option<String>> = Vec::with_capacity(n);
        let mut signature: Vec<Option<String>> = Vec::with_capacity(n);
        for r in records {
            match r {
                Record::Entry(e) => {
                    kind.push("entry".to_owned());
                    replica.push(e.replica.clone());
                    seq.push(e.seq as i64);
                    time.push(e.time.clone());
                    principal.push(Some(e.principal.clone()));
                    operation.push(Some(e.operation.clone()));
                    table.push(Some(e.table.clone()));
                    column.push(Some(e.column.clone()));
                    row.push(e.row.clone());
                    tenant.push(e.tenant.clone());
                    key_id.push(e.key_id.map(i64::from));
                    purpose.push(e.purpose.clone());
                    request_id.push(Some(e.request_id.clone()));
                    outcome.push(Some(e.outcome.clone()));
                    hash.push(e.hash.clone());
                    signing_key.push(None);
                    signature.push(None);
                }
                Record::Checkpoint(c) => {
                    kind.push("checkpoint".to_owned());
                    replica.push(c.replica.clone());
                    seq.push(c.seq as i64);
                    time.push(c.time.clone());
                    for v in [
                        &mut principal,
                        &mut operation,
                        &mut table,
                        &mut column,
                        &mut row,
                        &mut tenant,
                        &mut purpose,
                        &mut request_id,
                        &mut outcome,
                    ] {
                        v.push(None);
                    }
                    key_id.push(None);
                    hash.push(c.hash.clone());
                    signing_key.push(Some(c.key.clone()));
                    signature.push(Some(c.signature.clone()));
                }
            }
        }
        sqlx::query(
            "INSERT INTO fieldcrypt_audit (kind, replica, seq, time, principal, operation, tbl, col, \
             row_key, tenant, key_id, purpose, request_id, outcome, hash, signing_key, signature) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::text[], \
             $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])",
        )
        .bind(kind)
        .bind(replica)
        .bind(seq)
        .bind(time)
        .bind(principal)
        .bind(operation)
        .bind(table)
        .bind(column)
        .bind(row)
        .bind(tenant)
        .bind(key_id)
        .bind(purpose)
        .bind(request_id)
        .bind(outcome)
        .bind(hash)
        .bind(signing_key)
        .bind(signature)
        .execute(&self.pool)
        .await
        .map_err(db("appending to fieldcrypt_audit"))?;
        Ok(())
    }

    /// Whether this connection may insert into the table (for readiness checks).
    pub async fn writable(&self) -> bool {
        sqlx::query_scalar::<_, bool>("SELECT has_table_privilege('fieldcrypt_audit', 'INSERT')")
            .fetch_one(&self.pool)
            .await
            .unwrap_or(false)
    }

    /// The last entry of `replica`, to resume its chain after a restart.
    pub async fn last_entry(&self, replica: &str) -> Result<Option<Entry>, AuditError> {
        let row = sqlx::query(
            "SELECT * FROM fieldcrypt_audit WHERE replica = $1 AND kind = 'entry' \
             ORDER BY seq DESC LIMIT 1",
        )
        .bind(replica)
        .fetch_optional(&self.pool)
        .await
        .map_err(db("reading fieldcrypt_audit"))?;
        Ok(match row.map(|r| from_row(&r)) {
            Some(Ok(Record::Entry(e))) => Some(e),
            _ => None,
        })
    }

    /// Every record, in the order written.
    pub async fn read_all(&self) -> Result<Vec<Result<Record, String>>, AuditError> {
        let rows = sqlx::query("SELECT * FROM fieldcrypt_audit ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db("reading fieldcrypt_audit"))?;
        Ok(rows.iter().map(from_row).collect())
    }
}

/// A row of `fieldcrypt_audit` as a record (shared with readers such as the server's admin
/// page).
pub fn from_row(row: &sqlx::postgres::PgRow) -> Result<Record, String> {
    let get = |name: &str| -> Result<Option<String>, String> {
        row.try_get::<Option<String>, _>(name)
            .map_err(|e| e.to_string())
    };
    let need = |name: &str| -> Result<String, String> {
        get(name)?.ok_or_else(|| format!("{name} is NULL"))
    };
    let seq: i64 = row.try_get("seq").map_err(|e| e.to_string())?;
    let seq = u64::try_from(seq).map_err(|_| "seq is negative".to_owned())?;
    match need("kind")?.as_str() {
        "entry" => {
            let key_id: Option<i64> = row.try_get("key_id").map_err(|e| e.to_string())?;
            Ok(Record::Entry(Entry {
                replica: need("replica")?,
                seq,
                time: need("time")?,
                principal: need("principal")?,
                operation: need("operation")?,
                table: need("tbl")?,
                column: need("col")?,
                row: get("row_key")?,
                tenant: get("tenant")?,
                key_id: key_id
                    .map(u32::try_from)
                    .transpose()
                    .map_err(|_| "key_id out of range".to_owned())?,
                purpose: get("purpose")?,
                request_id: need("request_id")?,
                outcome: need("outcome")?,
                hash: need("hash")?,
            }))
        }
        "checkpoint" => Ok(Record::Checkpoint(Checkpoint {
            replica: need("replica")?,
            seq,
            time: need("time")?,
            hash: need("hash")?,
            key: need("signing_key")?,
            signature: need("signature")?,
        })),
        other => Err(format!("unknown kind {other:?}")),
    }
}
