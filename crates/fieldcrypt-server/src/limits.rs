//! Counters for decrypt budgets and request rates, in fixed windows. With a database, replicas
//! share them: one statement adds to every counter a request touches and answers which stayed
//! within their caps, so two replicas cannot both spend the last unit. Without one, they are
//! this process's own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::PgPool;

/// One counter a request wants to add to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    /// The counter's name (e.g. `budget:0:alice:customers.card`).
    pub key: String,
    /// How much to add.
    pub amount: u64,
    /// The most the window may hold.
    pub cap: u64,
    /// The window's length, seconds.
    pub window_seconds: u64,
}

/// The counters could not be reached: the request is refused (fail closed).
#[derive(Debug, thiserror::Error)]
#[error("the budget and rate counters are unavailable: {0}")]
pub struct LimitsUnavailable(String);

/// Where counters live.
#[derive(Debug)]
pub enum Counters {
    /// This process only.
    Memory(Mutex<HashMap<(String, u64), u64>>),
    /// The `fieldcrypt_server_counters` table, shared by replicas.
    Postgres(PgPool),
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS fieldcrypt_server_counters (
    key TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    count BIGINT NOT NULL,
    cap BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
)";

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn window_start(window: u64) -> u64 {
    let now = now_seconds();
    now - now % window.max(1)
}

impl Counters {
    /// In-process counters.
    pub fn memory() -> Self {
        Counters::Memory(Mutex::new(HashMap::new()))
    }

    /// Shared counters in `pool`'s database (the table is created if missing).
    pub async fn postgres(pool: PgPool) -> Result<Self, sqlx::Error> {
        sqlx::query(CREATE).execute(&pool).await?;
        Ok(Counters::Postgres(pool))
    }

    /// Adds each take whose counter stays within its cap; answers, per take, whether it was
    /// added. Takes of the same key are merged first.
    pub async fn take(&self, takes: &[Take]) -> Result<Vec<bool>, LimitsUnavailable> {
        if takes.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Counters::Memory(map) => {
                let mut map = map
                    .lock()
                    .map_err(|_| LimitsUnavailable("a counter lock was poisoned".into()))?;
                Ok(takes
                    .iter()
                    .map(|t| {
                        let slot = map
                            .entry((t.key.clone(), window_start(t.window_seconds)))
                            .or_insert(0);
                        if *slot + t.amount <= t.cap {
                            *slot += t.amount;
                            true
                        } else {
                            false
                        }
                    })
                    .collect())
            }
            Counters::Postgres(pool) => {
                let mut keys = Vec::with_capacity(takes.len());
                let mut windows = Vec::with_capacity(takes.len());
                let mut amounts = Vec::with_capacity(takes.len());
                let mut caps = Vec::with_capacity(takes.len());
                for t in takes {
                    keys.push(t.key.clone());
                    windows.push(window_start(t.window_seconds) as i64);
                    amounts.push(t.amount as i64);
                    caps.push(t.cap.min(i64::MAX as u64) as i64);
                }
                let granted: Vec<String> = sqlx::query_scalar(
                    "INSERT INTO fieldcrypt_server_counters AS c (key, window_start, count, cap) \
                     SELECT k, w, n, cap FROM UNNEST($1::text[], $2::int8[], $3::int8[], $4::int8[]) \
                       AS u(k, w, n, cap) WHERE n <= cap \
                     ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + excluded.count \
                     WHERE c.count + excluded.count <= excluded.cap \
                     RETURNING key",
                )
                .bind(&keys)
                .bind(&windows)
                .bind(&amounts)
                .bind(&caps)
                .fetch_all(pool)
                .await
                .map_err(|e| LimitsUnavailable(e.to_string()))?;
                Ok(keys.iter().map(|k| granted.contains(k)).collect())
            }
        }
    }

    /// The current window's count of each key starting with `prefix`, for the admin page.
    pub async fn current(&self, prefix: &str) -> Result<Vec<(String, u64)>, LimitsUnavailable> {
        match self {
            Counters::Memory(map) => {
                let map = map
                    .lock()
                    .map_err(|_| LimitsUnavailable("a counter lock was poisoned".into()))?;
                let now = now_seconds();
                let mut latest: HashMap<&str, (u64, u64)> = HashMap::new();
                for ((key, start), count) in map.iter() {
                    if key.starts_with(prefix) && *start <= now {
                        let e = latest.entry(key.as_str()).or_insert((*start, *count));
                        if *start > e.0 {
                            *e = (*start, *count);
                        }
                    }
                }
                Ok(latest
                    .into_iter()
                    .map(|(k, (_, c))| (k.to_owned(), c))
                    .collect())
            }
            Counters::Postgres(pool) => {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT DISTINCT ON (key) key, count FROM fieldcrypt_server_counters \
                     WHERE starts_with(key, $1) ORDER BY key, window_start DESC",
                )
                .bind(prefix)
                .fetch_all(pool)
                .await
                .map_err(|e| LimitsUnavailable(e.to_string()))?;
                Ok(rows
                    .into_iter()
                    .map(|(k, c)| (k, c.max(0) as u64))
                    .collect())
            }
        }
    }

    /// Drops windows that ended more than `keep_seconds` ago.
    pub async fn prune(&self, keep_seconds: u64) {
        let horizon = now_seconds().saturating_sub(keep_seconds);
        match self {
            Counters::Memory(map) => {
                if let Ok(mut map) = map.lock() {
                    map.retain(|(_, start), _| *start >= horizon);
                }
            }
            Counters::Postgres(pool) => {
                let _ =
                    sqlx::query("DELETE FROM fieldcrypt_server_counters WHERE window_start < $1")
                        .bind(horizon as i64)
                        .execute(pool)
                        .await;
            }
        }
    }
}
