//! The shard plans' table (`fieldcrypt_shards`) and the boundaries of a table's primary key:
//! the database side of [`crate::shard`].

use super::cells::RowId;
use super::{Dialect, Plan, Pool};
use crate::error::MigrateError;
use crate::shard::PLAN_TABLE;

impl Pool {
    /// The stored plan of `count` shards for the job's table and key (its boundaries as JSON),
    /// if there is one. Reads only: without the plans' table there is none.
    pub(crate) async fn stored_shard_plan(
        &self,
        plan: &Plan,
        count: u32,
    ) -> Result<Option<String>, MigrateError> {
        if let Err(MigrateError::NoSuchTable(_)) = self.columns(PLAN_TABLE).await {
            return Ok(None);
        }
        let d = self.dialect();
        let sql = format!(
            "SELECT bounds FROM {} WHERE table_name = {} AND key_column = {} AND shards = {}",
            d.quote(PLAN_TABLE),
            d.param(1),
            d.param(2),
            d.param(3)
        );
        let during = "read the shard plan";
        let count = i64::from(count);
        Ok(with_pool!(self, p => sqlx::query_scalar(&sql)
            .bind(plan.table.as_str())
            .bind(plan.pk.as_str())
            .bind(count)
            .fetch_optional(p)
            .await
            .map_err(MigrateError::db(during))?))
    }

    /// Stores the plan of `count` shards (`bounds` as JSON) unless one is stored already: one
    /// row, so that processes starting together end up with one plan, the first stored.
    pub(crate) async fn store_shard_plan(
        &self,
        plan: &Plan,
        count: u32,
        bounds: &str,
    ) -> Result<(), MigrateError> {
        let d = self.dialect();
        let table = d.quote(PLAN_TABLE);
        let create = match d {
            Dialect::Postgres => format!(
                "CREATE TABLE IF NOT EXISTS {table} (table_name TEXT NOT NULL, key_column TEXT NOT NULL, \
                 shards INTEGER NOT NULL, bounds TEXT NOT NULL, planned_at TIMESTAMPTZ NOT NULL DEFAULT now(), \
                 PRIMARY KEY (table_name, key_column, shards))"
            ),
            Dialect::MySql => format!(
                "CREATE TABLE IF NOT EXISTS {table} (table_name VARCHAR(255) NOT NULL, key_column VARCHAR(255) NOT NULL, \
                 shards INTEGER NOT NULL, bounds MEDIUMTEXT NOT NULL, planned_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                 PRIMARY KEY (table_name, key_column, shards))"
            ),
            Dialect::Sqlite => format!(
                "CREATE TABLE IF NOT EXISTS {table} (table_name TEXT NOT NULL, key_column TEXT NOT NULL, \
                 shards INTEGER NOT NULL, bounds TEXT NOT NULL, planned_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                 PRIMARY KEY (table_name, key_column, shards))"
            ),
        };
        let values = format!(
            "({}, {}, {}, {})",
            d.param(1),
            d.param(2),
            d.param(3),
            d.param(4)
        );
        let insert = match d {
            Dialect::MySql => format!(
                "INSERT INTO {table} (table_name, key_column, shards, bounds) VALUES {values} \
                 ON DUPLICATE KEY UPDATE shards = shards"
            ),
            _ => format!(
                "INSERT INTO {table} (table_name, key_column, shards, bounds) VALUES {values} \
                 ON CONFLICT DO NOTHING"
            ),
        };
        let during = "store the shard plan";
        // PostgreSQL's `CREATE TABLE IF NOT EXISTS` can fail when another process creates the
        // table at the same moment; the second attempt finds it.
        let mut attempt = 0;
        loop {
            attempt += 1;
            let created = with_pool!(self, p => sqlx::query(&create).execute(p).await.map(|_| ()));
            match created {
                Ok(()) => break,
                Err(_) if attempt < 3 => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => return Err(MigrateError::db(during)(e)),
            }
        }
        let count = i64::from(count);
        with_pool!(self, p => sqlx::query(&insert)
            .bind(plan.table.as_str())
            .bind(plan.pk.as_str())
            .bind(count)
            .bind(bounds)
            .execute(p)
            .await
            .map(|_| ())
            .map_err(MigrateError::db(during))?);
        Ok(())
    }

    /// `count - 1` keys that split the table's rows into `count` shards of about the same size:
    /// the keys at offsets `rows * i / count` in key order (a key repeats when the table has
    /// fewer rows than shards).
    pub(crate) async fn compute_shard_bounds(
        &self,
        plan: &Plan,
        count: u32,
    ) -> Result<Vec<RowId>, MigrateError> {
        let d = self.dialect();
        let table = d.quote(&plan.table);
        let during = "plan the shards";
        let rows: i64 = with_pool!(self, p => sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(p)
            .await
            .map_err(MigrateError::db(during))?);
        if rows == 0 {
            return Err(MigrateError::Invalid(format!(
                "table {:?} has no rows to split into shards; run the job without --shard",
                plan.table
            )));
        }
        let mut bounds: Vec<RowId> = Vec::with_capacity(count as usize - 1);
        for i in 1..i64::from(count) {
            let offset = rows * i / i64::from(count);
            let sql = format!(
                "SELECT {key} FROM {table} ORDER BY {pk} LIMIT 1 OFFSET {offset}",
                key = d.read_expr(&d.quote(&plan.pk), plan.pk_class),
                pk = d.quote(&plan.pk),
            );
            let key = with_pool!(self, p => {
                let row = sqlx::query(&sql).fetch_optional(p).await.map_err(MigrateError::db(during))?;
                match row {
                    Some(row) => Some(super::cells::get_key(&row, plan.pk_class).map_err(MigrateError::db(during))?),
                    None => None,
                }
            });
            // Rows deleted since the count: the last key found stands in.
            match key.or_else(|| bounds.last().cloned()) {
                Some(key) => bounds.push(key),
                None => {
                    return Err(MigrateError::Invalid(format!(
                        "table {:?} emptied while its shards were planned; run again",
                        plan.table
                    )));
                }
            }
        }
        Ok(bounds)
    }
}
