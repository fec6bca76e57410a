//! The differences between the sqlx versions this crate builds against (feature `sqlx-08`, the
//! default, or `sqlx-09`), in one place: sqlx 0.9 dropped the lifetime of argument buffers,
//! `Arguments` and `QueryBuilder`, and takes dynamic SQL only through `AssertSqlSafe`.

use sqlx::Database;

/// A database's argument buffer.
#[cfg(feature = "sqlx-08")]
pub type ArgumentBuffer<'q, DB> = <DB as Database>::ArgumentBuffer<'q>;
/// A database's argument buffer.
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
pub type ArgumentBuffer<'q, DB> = <DB as Database>::ArgumentBuffer;

/// A database's arguments.
#[cfg(feature = "sqlx-08")]
pub type Arguments<'q, DB> = <DB as Database>::Arguments<'q>;
/// A database's arguments.
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
pub type Arguments<'q, DB> = <DB as Database>::Arguments;

/// `IntoArguments`, with the lifetime sqlx 0.8 gives it.
#[cfg(feature = "sqlx-08")]
pub trait IntoArguments<'q, DB: Database>: sqlx::IntoArguments<'q, DB> {}
#[cfg(feature = "sqlx-08")]
impl<'q, DB: Database, T: sqlx::IntoArguments<'q, DB>> IntoArguments<'q, DB> for T {}
/// `IntoArguments`, with the lifetime sqlx 0.8 gives it.
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
pub trait IntoArguments<'q, DB: Database>: sqlx::IntoArguments<DB> {}
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
impl<DB: Database, T: sqlx::IntoArguments<DB>> IntoArguments<'_, DB> for T {}

/// A query builder.
#[cfg(feature = "sqlx-08")]
pub type QueryBuilder<'args, DB> = sqlx::QueryBuilder<'args, DB>;
/// A query builder.
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
pub type QueryBuilder<'args, DB> = sqlx::QueryBuilder<DB>;

/// SQL this crate assembled from its own fixed text (table names are constants), for
/// `sqlx::query`.
#[cfg(feature = "sqlx-08")]
pub(crate) fn dynamic(sql: &str) -> &str {
    sql
}
/// SQL this crate assembled from its own fixed text (table names are constants), for
/// `sqlx::query`: audited, so asserted safe.
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
pub(crate) fn dynamic(sql: &str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql.to_owned())
}
