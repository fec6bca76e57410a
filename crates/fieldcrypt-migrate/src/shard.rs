//! Sharded jobs: `--shard I/N` splits one table between N processes, on one machine or several,
//! by ranges of its primary key.
//!
//! The ranges come from the database, not from a coordinator: the first process to start counts
//! the table, takes N - 1 boundaries (`ORDER BY pk LIMIT 1 OFFSET k`) and stores them as one row
//! of `fieldcrypt_shards`, inserted only if no other process has stored one first. Every process
//! then reads that row, so all of them work on the same plan, whoever came first. Shard I takes
//! the keys from boundary I - 1 (inclusive) to boundary I (exclusive), the first and the last
//! open at their ends: whatever the boundaries, every key, including ones inserted later, falls
//! into a shard. Each shard is an ordinary job in its range (its own passes, compare-and-swaps
//! and verification), so a killed shard is resumed by running it again, and rows pending per
//! shard are counted by the database ([`status`]).

use core::fmt;
use core::str::FromStr;

use fieldcrypt::Keyring;

use crate::db::{KeyRange, Plan, Pool, RowId};
use crate::error::MigrateError;
use crate::resolve::plan;
use crate::spec::ColumnJob;

/// The table that holds shard plans: one row per table, key column and number of shards.
pub const PLAN_TABLE: &str = "fieldcrypt_shards";

/// The most shards a table can be split into.
pub const MAX_SHARDS: u32 = 1024;

/// One shard of a job: the `index`th (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// The `index`th (from 1) of `count` shards.
    pub fn new(index: u32, count: u32) -> Result<Self, MigrateError> {
        if !valid_count(count) || !(1..=count).contains(&index) {
            return Err(MigrateError::Invalid(format!(
                "a shard is I/N with 1 <= I <= N <= {MAX_SHARDS} (got {index}/{count})"
            )));
        }
        Ok(Self { index, count })
    }

    /// Which shard, from 1.
    pub fn index(self) -> u32 {
        self.index
    }

    /// Of how many.
    pub fn count(self) -> u32 {
        self.count
    }

    /// Its range under a plan's `count - 1` boundaries.
    fn range(self, bounds: &[RowId]) -> KeyRange {
        let i = self.index as usize;
        KeyRange {
            lower: (i > 1).then(|| bounds[i - 2].clone()),
            upper: (i < self.count as usize).then(|| bounds[i - 1].clone()),
        }
    }
}

impl FromStr for Shard {
    type Err = MigrateError;

    /// `I/N`, e.g. `2/4`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = s
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) => Shard::new(index, count),
            None => Err(MigrateError::Invalid(format!(
                "--shard {s:?} is not I/N (e.g. 2/4)"
            ))),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Whether a table can be split into `count` shards.
fn valid_count(count: u32) -> bool {
    (1..=MAX_SHARDS).contains(&count)
}

/// One shard of a plan and the rows pending in it, as the database counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardStatus {
    /// The shard.
    pub shard: Shard,
    /// Its keys.
    pub range: KeyRange,
    /// Rows pending in it.
    pub pending: u64,
}

/// The range of `shard` for the job `plan` describes. With `store`, the plan of `shard.count()`
/// shards is stored if the table has none yet (a dry run computes it without storing it).
pub(crate) async fn range(
    pool: &Pool,
    plan: &Plan,
    shard: Shard,
    store: bool,
) -> Result<KeyRange, MigrateError> {
    let bounds = bounds(pool, plan, shard.count, store).await?;
    Ok(shard.range(&bounds))
}

/// The job's plan of `count` shards, each with the rows pending in it; nothing is written (a
/// plan not stored yet is computed as the first shard to start would store it).
pub async fn status(
    pool: &Pool,
    job: &ColumnJob,
    keyring: &Keyring,
    count: u32,
) -> Result<Vec<ShardStatus>, MigrateError> {
    if !valid_count(count) {
        return Err(MigrateError::Invalid(format!(
            "--shards is 1 to {MAX_SHARDS} (got {count})"
        )));
    }
    let mut plan = plan(pool, job, keyring).await?;
    let bounds = bounds(pool, &plan, count, false).await?;
    let mut out = Vec::with_capacity(count as usize);
    for index in 1..=count {
        let shard = Shard::new(index, count)?;
        plan.range = shard.range(&bounds);
        out.push(ShardStatus {
            shard,
            pending: pool.count_pending(&plan).await?,
            range: plan.range.clone(),
        });
    }
    Ok(out)
}

/// The `count - 1` boundaries of the table's plan: the stored one, or else one computed now
/// (and stored, with `store`, unless another process stored its own first: then that one).
async fn bounds(
    pool: &Pool,
    plan: &Plan,
    count: u32,
    store: bool,
) -> Result<Vec<RowId>, MigrateError> {
    if count == 1 {
        return Ok(Vec::new());
    }
    if let Some(stored) = pool.stored_shard_plan(plan, count).await? {
        return decode(plan, count, &stored);
    }
    let computed = pool.compute_shard_bounds(plan, count).await?;
    if !store {
        return Ok(computed);
    }
    pool.store_shard_plan(plan, count, &encode(&computed))
        .await?;
    let stored = pool.stored_shard_plan(plan, count).await?.ok_or_else(|| {
        MigrateError::Invalid(format!("the shard plan stored in {PLAN_TABLE} is gone"))
    })?;
    decode(plan, count, &stored)
}

/// Boundaries as stored: a JSON array of integers or strings.
fn encode(bounds: &[RowId]) -> String {
    let values: Vec<serde_json::Value> = bounds
        .iter()
        .map(|b| match b {
            RowId::Int(v) => serde_json::Value::from(*v),
            RowId::Text(v) => serde_json::Value::from(v.as_str()),
        })
        .collect();
    serde_json::Value::Array(values).to_string()
}

/// Stored boundaries, checked against the job's key: `count - 1` keys of its type. Their order
/// is not checked (the database's collation decides it for text keys): any boundaries cover
/// every key, and ranges that overlap are safe (every write is a compare-and-swap), only slower.
fn decode(plan: &Plan, count: u32, stored: &str) -> Result<Vec<RowId>, MigrateError> {
    let bad = || {
        MigrateError::Invalid(format!(
            "the plan of {count} shards stored in {PLAN_TABLE} for {}.{} is not {} keys of its type; delete that row to plan again",
            plan.table,
            plan.pk,
            count - 1
        ))
    };
    let values: Vec<serde_json::Value> = serde_json::from_str(stored).map_err(|_| bad())?;
    if values.len() != count as usize - 1 {
        return Err(bad());
    }
    values
        .into_iter()
        .map(|v| match (plan.pk_class, v) {
            (crate::db::Class::Int, serde_json::Value::Number(n)) => {
                n.as_i64().map(RowId::Int).ok_or_else(bad)
            }
            (crate::db::Class::Int, _) => Err(bad()),
            (_, serde_json::Value::String(s)) => Ok(RowId::Text(s)),
            _ => Err(bad()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_as_i_of_n() {
        let s: Shard = "2/4".parse().unwrap();
        assert_eq!(
            (s.index(), s.count(), s.to_string()),
            (2, 4, "2/4".to_owned())
        );
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "1/1025", "-1/4", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_cover_every_key_from_open_ends() {
        let bounds = [RowId::Int(10), RowId::Int(20), RowId::Int(30)];
        let ranges: Vec<KeyRange> = (1..=4)
            .map(|i| Shard::new(i, 4).unwrap().range(&bounds))
            .collect();
        assert_eq!(ranges[0].lower, None);
        assert_eq!(ranges[0].upper, Some(RowId::Int(10)));
        assert_eq!(ranges[1].lower, Some(RowId::Int(10)));
        assert_eq!(ranges[1].upper, Some(RowId::Int(20)));
        assert_eq!(ranges[3].lower, Some(RowId::Int(30)));
        assert_eq!(ranges[3].upper, None);
        assert_eq!(Shard::new(1, 1).unwrap().range(&[]), KeyRange::default());
    }

    #[test]
    fn bounds_round_trip_as_json() {
        assert_eq!(encode(&[RowId::Int(5), RowId::Int(-7)]), "[5,-7]");
        assert_eq!(encode(&[RowId::Text("a\"b".to_owned())]), r#"["a\"b"]"#);
    }
}
