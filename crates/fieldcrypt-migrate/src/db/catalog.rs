//! What the database's catalogue says about a table: its columns, their types (classified from
//! the catalogue's own type names), their limits and character sets, its primary key.

use super::Pool;
use super::cells::Cell;
use super::dialect::Dialect;
use crate::error::MigrateError;

/// What a column holds, as far as a job is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Text: `text`, `varchar`, `TEXT`, ...
    Text,
    /// Bytes: `bytea`, `BLOB`, `VARBINARY`, ...
    Binary,
    /// Integers.
    Int,
    /// Floating point.
    Float,
    /// Booleans.
    Bool,
    /// Calendar dates: `date`, `DATE`. Read and written as ISO text (`2024-05-01`).
    Date,
    /// Date and time: `timestamp` with or without time zone, `DATETIME`, MySQL `TIMESTAMP`.
    /// Read and written as text in UTC (the job's sessions run in UTC); a value without a zone
    /// is taken as UTC wall time, so it comes back as the same wall time.
    Timestamp,
    /// Exact decimals: `numeric`, `DECIMAL(p,s)`. Read and written as text, scale kept.
    Decimal,
    /// UUIDs: PostgreSQL's and MariaDB's `uuid`, SQLite columns declared so. Read and written as
    /// lower-case hyphenated text, the form row keys take; sealed as that string.
    Uuid,
    /// JSON: PostgreSQL's `json` and `jsonb`, MySQL's `JSON`, MariaDB's (a `LONGTEXT` checked by
    /// `json_valid`), SQLite columns declared so. Read and written as text and sealed as the
    /// core's JSON type with every number exactly as the database printed it.
    Json,
}

impl Class {
    /// Whether the job reads and writes the column through its text form (SQL casts).
    pub(crate) fn is_textual(self) -> bool {
        matches!(
            self,
            Class::Date | Class::Timestamp | Class::Decimal | Class::Uuid | Class::Json
        )
    }

    /// Whether the job reads the column as text (as it is, or through a cast).
    pub(crate) fn reads_as_text(self) -> bool {
        self == Class::Text || self.is_textual()
    }
}

/// A column's class, SQL type and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// How the job reads and writes it.
    pub class: Class,
    /// The database's name for its type, for messages.
    pub sql_type: String,
    /// The most characters a value may have (`varchar(100)`: 100). SQLite enforces no length;
    /// the job honours the one its declared type gives.
    pub max_chars: Option<u64>,
    /// The most bytes a value may have (MySQL `TEXT`: 65,535; `varbinary(64)`: 64).
    pub max_bytes: Option<u64>,
    /// The character set of a MySQL/MariaDB text column (`utf8mb4`, `latin1`).
    pub charset: Option<String>,
}

impl ColumnInfo {
    /// Whether `cell` fits the column's limits. A value that does not is never written: MySQL
    /// and MariaDB outside strict mode truncate it silently, destroying the plaintext.
    pub(crate) fn fits(&self, cell: &Cell) -> bool {
        let (chars, bytes) = match cell {
            Cell::Text(v) => (v.chars().count() as u64, v.len() as u64),
            Cell::Binary(v) => (v.len() as u64, v.len() as u64),
            _ => return true,
        };
        self.max_chars.is_none_or(|max| chars <= max)
            && self.max_bytes.is_none_or(|max| bytes <= max)
    }

    /// The limit, for messages: `100 characters`, `65535 bytes`.
    pub fn limit(&self) -> Option<String> {
        match (self.max_chars, self.max_bytes) {
            (Some(c), _) if self.class == Class::Text => Some(format!("{c} characters")),
            (_, Some(b)) => Some(format!("{b} bytes")),
            (Some(c), None) => Some(format!("{c} characters")),
            (None, None) => None,
        }
    }
}

/// A column as the catalogue describes it.
struct CatalogRow {
    name: String,
    /// The catalogue's type name: PostgreSQL's and MySQL's `data_type`, SQLite's declared type.
    data_type: String,
    /// MySQL's `column_type` (`tinyint(1)`, `varchar(100)`), for messages and booleans.
    column_type: String,
    max_chars: Option<i64>,
    max_bytes: Option<i64>,
    charset: Option<String>,
}

/// Why a column cannot take part in a job.
pub(crate) struct Unsupported {
    pub(crate) sql_type: String,
    pub(crate) why: &'static str,
}

const NOT_SUPPORTED: &str = "is not supported yet (text, binary, integer, float, boolean, date, timestamp, decimal, UUID and JSON columns are); copy it into a text column first";
const BPCHAR: &str = "pads every value with spaces to its length, so an envelope would not read back; convert it first: ALTER TABLE ... ALTER COLUMN ... TYPE varchar(n) (or text), then trim the values";

/// PostgreSQL's `information_schema.columns.data_type` names.
fn postgres_class(data_type: &str) -> Result<Class, &'static str> {
    Ok(match data_type {
        "text" | "character varying" => Class::Text,
        "character" => return Err(BPCHAR),
        "bytea" => Class::Binary,
        "smallint" | "integer" | "bigint" => Class::Int,
        "real" | "double precision" => Class::Float,
        "boolean" => Class::Bool,
        "date" => Class::Date,
        "timestamp without time zone" | "timestamp with time zone" => Class::Timestamp,
        "numeric" => Class::Decimal,
        "uuid" => Class::Uuid,
        "json" | "jsonb" => Class::Json,
        _ => return Err(NOT_SUPPORTED),
    })
}

/// MySQL's and MariaDB's `data_type` names (`column_type` tells `tinyint(1)`, the boolean).
fn mysql_class(data_type: &str, column_type: &str) -> Result<Class, &'static str> {
    if column_type.eq_ignore_ascii_case("tinyint(1)") {
        return Ok(Class::Bool);
    }
    Ok(match data_type.to_ascii_lowercase().as_str() {
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => Class::Text,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => Class::Binary,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" => Class::Int,
        "float" | "double" | "real" => Class::Float,
        "date" => Class::Date,
        "datetime" | "timestamp" => Class::Timestamp,
        "decimal" | "numeric" => Class::Decimal,
        "uuid" => Class::Uuid,
        "json" => Class::Json,
        _ => return Err(NOT_SUPPORTED),
    })
}

/// SQLite's declared types: the names other databases use for the types jobs know first, then
/// SQLite's own affinity rules (section 3.1 of its datatype page), which match by substring.
fn sqlite_class(declared: &str) -> Result<Class, &'static str> {
    let t = declared.to_ascii_lowercase();
    let base = t.split('(').next().unwrap_or_default().trim();
    Ok(match base {
        "date" => Class::Date,
        "datetime" | "timestamp" => Class::Timestamp,
        "boolean" | "bool" => Class::Bool,
        "uuid" => Class::Uuid,
        "json" | "jsonb" => Class::Json,
        "decimal" | "numeric" => Class::Decimal,
        // Other databases' names that SQLite would give integer affinity (they contain "int").
        "interval" | "point" => return Err(NOT_SUPPORTED),
        _ if base.contains("int") => Class::Int,
        _ if base.contains("char") || base.contains("clob") || base.contains("text") => Class::Text,
        _ if base.contains("blob") || base.is_empty() => Class::Binary,
        _ if base.contains("real") || base.contains("floa") || base.contains("doub") => {
            Class::Float
        }
        // NUMERIC affinity: a value may be stored as an integer, a float or text.
        _ => return Err(NOT_SUPPORTED),
    })
}

/// The length a SQLite column declares (`VARCHAR(100)`: 100 characters, `VARBINARY(64)`: 64
/// bytes). SQLite enforces none, but the job honours it: the schema says what the column is
/// meant to hold, and a schema carried to another database enforces it.
fn sqlite_declared_length(declared: &str) -> (Option<i64>, Option<i64>) {
    let lower = declared.to_ascii_lowercase();
    let mut parts = lower.split(['(', ')']);
    let (base, n) = (parts.next().unwrap_or_default().trim(), parts.next());
    let Some(n) = n.and_then(|n| n.trim().parse::<i64>().ok()) else {
        return (None, None);
    };
    match base {
        "varchar" | "char" | "character" | "character varying" | "nvarchar" | "nchar" => {
            (Some(n), None)
        }
        "varbinary" | "binary" => (Some(n), Some(n)),
        _ => (None, None),
    }
}

impl Pool {
    /// The catalogue's rows for `table`'s columns, in order.
    async fn catalog_rows(&self, table: &str) -> Result<Vec<CatalogRow>, MigrateError> {
        let during = "describe the table";
        type Raw = (
            String,
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Raw> = match self {
            Pool::Postgres(p) => sqlx::query_as(
                "SELECT column_name::text, data_type::text, data_type::text, \
                 character_maximum_length::int8, NULL::int8, NULL::text \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(MigrateError::db(during))?,
            Pool::MySql(p) => sqlx::query_as(
                "SELECT CAST(column_name AS CHAR), CAST(data_type AS CHAR), CAST(column_type AS CHAR), \
                 CAST(character_maximum_length AS SIGNED), CAST(character_octet_length AS SIGNED), \
                 CAST(character_set_name AS CHAR) \
                 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? \
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(MigrateError::db(during))?,
            Pool::Sqlite(p) => {
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT name, type FROM pragma_table_info(?) ORDER BY cid",
                )
                .bind(table)
                .fetch_all(p)
                .await
                .map_err(MigrateError::db(during))?;
                rows.into_iter()
                    .map(|(name, declared)| {
                        let (chars, bytes) = sqlite_declared_length(&declared);
                        (name, declared.clone(), declared, chars, bytes, None)
                    })
                    .collect()
            }
        };
        Ok(rows
            .into_iter()
            .map(
                |(name, data_type, column_type, max_chars, max_bytes, charset)| CatalogRow {
                    name,
                    data_type,
                    column_type,
                    max_chars,
                    max_bytes,
                    charset,
                },
            )
            .collect())
    }

    /// Every column of `table` in order, with its class and limits (`Err`: a type jobs cannot
    /// handle, with its SQL name and why), or [`MigrateError::NoSuchTable`].
    pub(crate) async fn columns(
        &self,
        table: &str,
    ) -> Result<Vec<(String, Result<ColumnInfo, Unsupported>)>, MigrateError> {
        let rows = self.catalog_rows(table).await?;
        if rows.is_empty() {
            return Err(MigrateError::NoSuchTable(table.to_owned()));
        }
        let json_checked = self.json_checked(table).await?;
        let dialect = self.dialect();
        Ok(rows
            .into_iter()
            .map(|row| {
                let class = match dialect {
                    Dialect::Postgres => postgres_class(&row.data_type),
                    Dialect::MySql => mysql_class(&row.data_type, &row.column_type),
                    Dialect::Sqlite => sqlite_class(&row.data_type),
                };
                let sql_type = match dialect {
                    Dialect::Postgres => row.data_type.clone(),
                    _ => row.column_type.clone(),
                };
                let info = match class {
                    Err(why) => Err(Unsupported { sql_type, why }),
                    Ok(class) => {
                        let class = if class == Class::Text
                            && json_checked.contains(&format!(
                                "json_valid({})",
                                Dialect::MySql.quote(&row.name)
                            )) {
                            Class::Json
                        } else {
                            class
                        };
                        let limit = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
                        Ok(ColumnInfo {
                            class,
                            sql_type,
                            max_chars: limit(row.max_chars),
                            // PostgreSQL's octet length is the 1 GB field limit, not a column's.
                            max_bytes: limit(row.max_bytes),
                            // A name from the catalogue, spliced into SQL: letters, digits, '_'.
                            charset: row.charset.filter(|c| {
                                !c.is_empty()
                                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                            }),
                        })
                    }
                };
                (row.name, info)
            })
            .collect())
    }

    /// MariaDB's JSON columns are `LONGTEXT` with a `json_valid` check: the check clauses of
    /// `table`. MySQL's `check_constraints` has no `table_name` (its JSON columns have a type of
    /// their own): there the query fails with "unknown column" (1054) and no column is taken
    /// for JSON by its check. Any other failure is an error, not a guess.
    async fn json_checked(&self, table: &str) -> Result<Vec<String>, MigrateError> {
        const UNKNOWN_COLUMN: &str = "42S22";
        match self {
            Pool::MySql(p) => match sqlx::query_scalar(
                "SELECT CAST(check_clause AS CHAR) FROM information_schema.check_constraints \
                 WHERE constraint_schema = DATABASE() AND table_name = ?",
            )
            .bind(table)
            .fetch_all(p)
            .await
            {
                Ok(clauses) => Ok(clauses),
                Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNKNOWN_COLUMN) => {
                    Ok(Vec::new())
                }
                Err(e) => Err(MigrateError::db("read the table's check constraints")(e)),
            },
            _ => Ok(Vec::new()),
        }
    }

    /// How many values of a SQLite column declared UUID or JSON are BLOBs (sqlx writes a
    /// `Uuid` as 16 bytes there, and SQLite's JSONB is binary): the job reads these columns as
    /// text and cannot take such values.
    pub(crate) async fn sqlite_blobs(
        &self,
        table: &str,
        column: &str,
    ) -> Result<i64, MigrateError> {
        let Pool::Sqlite(p) = self else {
            return Ok(0);
        };
        let q = Dialect::Sqlite.quote(column);
        sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM {} WHERE typeof({q}) = 'blob'",
            Dialect::Sqlite.quote(table)
        ))
        .fetch_one(p)
        .await
        .map_err(MigrateError::db("look for BLOB values"))
    }

    /// The column's class and limits, or a clear error if the table or column does not exist or
    /// its type is not supported.
    pub(crate) async fn describe(
        &self,
        table: &str,
        column: &str,
    ) -> Result<ColumnInfo, MigrateError> {
        let (_, info) = self
            .columns(table)
            .await?
            .into_iter()
            .find(|(name, _)| name == column)
            .ok_or_else(|| MigrateError::NoSuchColumn {
                table: table.to_owned(),
                column: column.to_owned(),
            })?;
        info.map_err(|u| MigrateError::UnsupportedType {
            table: table.to_owned(),
            column: column.to_owned(),
            sql_type: u.sql_type,
            why: u.why,
        })
    }

    /// The table's single-column primary key, if it has one.
    pub(crate) async fn primary_key(&self, table: &str) -> Result<Option<String>, MigrateError> {
        let during = "find the primary key";
        let names: Vec<(String,)> = match self {
            Pool::Postgres(p) => sqlx::query_as(
                "SELECT kcu.column_name::text FROM information_schema.table_constraints tc \
                 JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name \
                 AND tc.table_schema = kcu.table_schema AND tc.table_name = kcu.table_name \
                 WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1",
            )
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(MigrateError::db(during))?,
            Pool::MySql(p) => sqlx::query_as(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.key_column_usage \
                 WHERE table_schema = DATABASE() AND table_name = ? AND constraint_name = 'PRIMARY'",
            )
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(MigrateError::db(during))?,
            Pool::Sqlite(p) => sqlx::query_as("SELECT name FROM pragma_table_info(?) WHERE pk > 0")
                .bind(table)
                .fetch_all(p)
                .await
                .map_err(MigrateError::db(during))?,
        };
        Ok(match names.as_slice() {
            [(name,)] => Some(name.clone()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_come_from_each_catalogues_own_names() {
        assert_eq!(postgres_class("character varying"), Ok(Class::Text));
        assert_eq!(postgres_class("character"), Err(BPCHAR));
        assert_eq!(postgres_class("interval"), Err(NOT_SUPPORTED));
        assert_eq!(postgres_class("point"), Err(NOT_SUPPORTED));
        assert_eq!(postgres_class("double precision"), Ok(Class::Float));
        assert_eq!(
            postgres_class("timestamp with time zone"),
            Ok(Class::Timestamp)
        );
        assert_eq!(mysql_class("tinyint", "tinyint(1)"), Ok(Class::Bool));
        assert_eq!(mysql_class("tinyint", "tinyint(4)"), Ok(Class::Int));
        assert_eq!(mysql_class("varchar", "varchar(100)"), Ok(Class::Text));
        assert_eq!(mysql_class("set", "set('a')"), Err(NOT_SUPPORTED));
        assert_eq!(sqlite_class("VARCHAR(100)"), Ok(Class::Text));
        assert_eq!(sqlite_class("BIGINT"), Ok(Class::Int));
        assert_eq!(sqlite_class(""), Ok(Class::Binary));
        assert_eq!(sqlite_class("DOUBLE PRECISION"), Ok(Class::Float));
        assert_eq!(sqlite_class("DECIMAL(10,2)"), Ok(Class::Decimal));
        assert_eq!(sqlite_class("POINT"), Err(NOT_SUPPORTED));
    }

    #[test]
    fn a_value_fits_in_characters_and_bytes() {
        let varchar = ColumnInfo {
            class: Class::Text,
            sql_type: "varchar(4)".to_owned(),
            max_chars: Some(4),
            max_bytes: Some(16),
            charset: None,
        };
        assert!(
            varchar.fits(&Cell::Text("éééé".to_owned())),
            "4 characters, 8 bytes"
        );
        assert!(!varchar.fits(&Cell::Text("abcde".to_owned())));
        let tinytext = ColumnInfo {
            max_chars: Some(255),
            max_bytes: Some(255),
            ..varchar.clone()
        };
        assert!(!tinytext.fits(&Cell::Text("é".repeat(200))), "400 bytes");
        assert!(varchar.fits(&Cell::Int(123_456)));
    }
}
