//! The database side of a job, one concern per module: `catalog` (what a table's columns are,
//! from the catalogue's own type names), `dialect` (each database's spelling), `cells` (values,
//! keys and their binding), `plan` (a job's SQL, with the one compare-and-swap), `shards` (the
//! shard plans' table and a table's key boundaries), and here the
//! pool, its sessions, and the statements a job runs.
//!
//! No lock is held between a batch's read and its write, so the job never blocks the
//! application for longer than one statement; the compare-and-swap keeps every concurrent write.

mod catalog;
mod cells;
mod dialect;
mod plan;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

pub use catalog::{Class, ColumnInfo};
pub use cells::RowId;
pub(crate) use cells::{Cell, Change, ReadRow};
pub(crate) use dialect::Dialect;
pub use plan::KeyRange;
pub(crate) use plan::Plan;

use cells::{PgColumn, bind_cell, bind_id, get_row, id_cell};
use plan::BatchRows;

use crate::error::MigrateError;

/// A connection pool to one of the supported databases.
#[derive(Debug, Clone)]
pub enum Pool {
    /// PostgreSQL.
    Postgres(PgPool),
    /// MySQL or MariaDB.
    MySql(MySqlPool),
    /// SQLite.
    Sqlite(SqlitePool),
}

/// Runs `$body` with `$p` bound to the concrete pool, whatever the database.
macro_rules! with_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Postgres($p) => $body,
            Pool::MySql($p) => $body,
            Pool::Sqlite($p) => $body,
        }
    };
}

// Declared after `with_pool!`, which it uses.
mod shards;

/// Added to the server's `sql_mode` in every MySQL/MariaDB session of a job: a value too long
/// for its column is an error there, never a silent truncation (the job also checks each value
/// against the column's limit before writing, so this is the second line).
const STRICT_MODE: &str =
    "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES')";

impl Pool {
    /// Connects to `url` (`postgres://`, `mysql://`/`mariadb://`, `sqlite:`).
    pub async fn connect(url: &str) -> Result<Self, MigrateError> {
        let during = "connect";
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // The job's statements each touch one batch through the primary key. The planner
            // underestimates how many rows pass the pending condition (a prefix test on a
            // function of the column) and plans parallel workers for every batch read, which
            // costs more to start than the read itself (7 ms instead of 0.4 ms per 1,000 rows,
            // measured): no parallel plans in the job's sessions.
            let options = url
                .parse::<sqlx::postgres::PgConnectOptions>()
                .map_err(MigrateError::db(during))?
                .options([
                    ("max_parallel_workers_per_gather", "0"),
                    // The same misestimate, with the generic plan of a prepared batch read
                    // (`id > $1` taken as a third of the table, a prefix test as 0.5 %), makes a
                    // batch larger than the estimate look like it needs the whole table: the
                    // planner then sorts the table for every batch (150-650 ms per 5,000 rows in
                    // a rotation, measured) instead of walking the primary key (2 ms). The job's
                    // statements never need a sort: forbid it.
                    ("enable_sort", "off"),
                    // Dates and timestamps are read and written as text: ISO, in UTC.
                    ("TimeZone", "UTC"),
                    ("DateStyle", "ISO"),
                ]);
            Ok(Pool::Postgres(
                PgPool::connect_with(options)
                    .await
                    .map_err(MigrateError::db(during))?,
            ))
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let options = url
                .replacen("mariadb://", "mysql://", 1)
                .parse::<MySqlConnectOptions>()
                .map_err(MigrateError::db(during))?;
            let pool = MySqlPoolOptions::new()
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::Executor::execute(conn, STRICT_MODE).await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await
                .map_err(MigrateError::db(during))?;
            Ok(Pool::MySql(pool))
        } else if url.starts_with("sqlite:") {
            Ok(Pool::Sqlite(
                SqlitePool::connect(url)
                    .await
                    .map_err(MigrateError::db(during))?,
            ))
        } else {
            Err(MigrateError::UnsupportedUrl)
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::MySql(_) => Dialect::MySql,
            Pool::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// A batch of pending rows after `cursor`.
    pub(crate) async fn fetch_pending(
        &self,
        plan: &Plan,
        cursor: Option<&RowId>,
        limit: usize,
    ) -> Result<Vec<ReadRow>, MigrateError> {
        let sql = plan.select_pending(cursor.is_some(), limit);
        self.fetch(&sql, plan, plan.source_info.class, cursor, plan.reads_tid())
            .await
    }

    /// A batch of every non-NULL value of `column` after `cursor` (the verification pass).
    pub(crate) async fn fetch_all(
        &self,
        plan: &Plan,
        column: &str,
        class: Class,
        cursor: Option<&RowId>,
        limit: usize,
    ) -> Result<Vec<ReadRow>, MigrateError> {
        let sql = plan.select_all(column, class, cursor.is_some(), limit);
        self.fetch(&sql, plan, class, cursor, false).await
    }

    async fn fetch(
        &self,
        sql: &str,
        plan: &Plan,
        class: Class,
        cursor: Option<&RowId>,
        with_tid: bool,
    ) -> Result<Vec<ReadRow>, MigrateError> {
        let during = "read a batch";
        let indexed = plan.index_column.is_some();
        with_pool!(self, p => {
            let mut query = sqlx::query(sql);
            for key in plan.key_params(cursor) {
                query = bind_id(query, key);
            }
            let rows = query.fetch_all(p).await.map_err(MigrateError::db(during))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                if let Some(read) = get_row(row, plan.pk_class, class, indexed, with_tid).map_err(MigrateError::db(during))? {
                    out.push(read);
                }
            }
            Ok(out)
        })
    }

    /// Every non-NULL value of `column`, read by one statement in the database's own order (a
    /// sequential scan rather than a walk of the primary key) and sent on `chunks` in chunks of
    /// `chunk` rows: the verification pass. One statement reads one snapshot, so every row is
    /// seen exactly once, as it was when the read began (SQLite: pages by primary key). Stops
    /// early when `chunks` is closed.
    pub(crate) async fn stream_all(
        &self,
        plan: &Plan,
        column: &str,
        class: Class,
        chunk: usize,
        chunks: tokio::sync::mpsc::Sender<Vec<ReadRow>>,
    ) -> Result<(), MigrateError> {
        use futures_util::TryStreamExt;
        if let Pool::Sqlite(_) = self {
            // SQLite holds a statement's read lock until it ends, which in rollback-journal mode
            // keeps writers out for the whole read; pages by primary key (its storage order for
            // rowid tables anyway) let them in between.
            let mut cursor = None;
            loop {
                let rows = self
                    .fetch_all(plan, column, class, cursor.as_ref(), chunk)
                    .await?;
                let Some(last) = rows.last() else {
                    return Ok(());
                };
                cursor = Some(last.id.clone());
                if chunks.send(rows).await.is_err() {
                    return Ok(());
                }
            }
        }
        let during = "read the column back";
        let sql = plan.select_every(column, class);
        let indexed = plan.index_column.is_some();
        with_pool!(self, p => {
            let mut query = sqlx::query(&sql);
            for key in plan.key_params(None) {
                query = bind_id(query, key);
            }
            let mut rows = query.fetch(p);
            let mut out = Vec::with_capacity(chunk);
            while let Some(row) = rows.try_next().await.map_err(MigrateError::db(during))? {
                if let Some(read) = get_row(&row, plan.pk_class, class, indexed, false).map_err(MigrateError::db(during))? {
                    out.push(read);
                }
                if out.len() >= chunk {
                    let full = std::mem::replace(&mut out, Vec::with_capacity(chunk));
                    if chunks.send(full).await.is_err() {
                        return Ok(());
                    }
                }
            }
            if !out.is_empty() {
                let _ = chunks.send(out).await;
            }
            Ok(())
        })
    }

    /// Applies `changes` in one compare-and-swap statement; returns how many rows matched (the
    /// others changed under the job and stay pending).
    pub(crate) async fn apply(
        &self,
        plan: &Plan,
        changes: Vec<Change>,
    ) -> Result<u64, MigrateError> {
        if changes.is_empty() {
            return Ok(0);
        }
        let during = "write a batch";
        if let Pool::Postgres(p) = self {
            let mut ids = Vec::with_capacity(changes.len());
            let mut olds = Vec::with_capacity(changes.len());
            let mut news = Vec::with_capacity(changes.len());
            let mut indexes = Vec::with_capacity(changes.len());
            let mut tids = Vec::with_capacity(changes.len());
            for change in changes {
                ids.push(id_cell(change.id));
                olds.push(change.old);
                news.push(change.new);
                indexes.push(change.index);
                tids.push(change.tid);
            }
            // Every row's address, or none (then the key's index finds them).
            let tids: Option<Vec<String>> = tids.into_iter().collect();
            let (ids, olds, news) = (
                PgColumn::collect(ids, plan.pk_class)?,
                PgColumn::collect(olds, plan.source_info.class)?,
                PgColumn::collect(news, plan.target_info.class)?,
            );
            let sql = plan.compare_and_swap(BatchRows::Arrays {
                types: [ids.sql_type(), olds.sql_type(), news.sql_type()],
                tids: tids.is_some(),
            });
            let mut query = news.bind(olds.bind(ids.bind(sqlx::query(&sql))));
            if plan.index_column.is_some() {
                query = query.bind(indexes);
            }
            if let Some(tids) = tids {
                query = query.bind(tids);
            }
            return Ok(query
                .execute(p)
                .await
                .map_err(MigrateError::db(during))?
                .rows_affected());
        }
        let sql = plan.compare_and_swap(BatchRows::Placeholders(changes.len()));
        with_pool!(self, p => {
            let mut query = sqlx::query(&sql);
            for change in changes {
                query = bind_id(query, change.id);
                query = bind_cell(query, change.old);
                query = bind_cell(query, change.new);
                if plan.index_column.is_some() {
                    query = query.bind(change.index);
                }
            }
            Ok(query.execute(p).await.map_err(MigrateError::db(during))?.rows_affected())
        })
    }

    /// The rows pending in the job's range.
    pub(crate) async fn count_pending(&self, plan: &Plan) -> Result<u64, MigrateError> {
        let during = "count rows";
        let sql = plan.count_pending();
        let n: i64 = with_pool!(self, p => {
            let mut query = sqlx::query_scalar(&sql);
            for key in plan.key_params(None) {
                query = match key {
                    RowId::Int(v) => query.bind(v),
                    RowId::Text(v) => query.bind(v),
                };
            }
            query.fetch_one(p).await.map_err(MigrateError::db(during))?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
