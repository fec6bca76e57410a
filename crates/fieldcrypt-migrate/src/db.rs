//! The SQL each database needs: describing a column, reading a batch of pending rows, and a
//! compare-and-swap update of the whole batch in one statement.
//!
//! Every write is `SET target = new WHERE pk = id AND source = old [AND target IS NULL]`, with
//! the batch's `(id, old, new)` triples joined in as a derived table: a row that the application
//! changed after the batch was read does not match, keeps the application's value, and is read
//! again on the next pass. No lock is held between the read and the write, so the job never
//! blocks the application for longer than one statement.

use sqlx::mysql::MySqlPool;
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{Database, Decode, Encode, Row, Type};

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
            let url = url.replacen("mariadb://", "mysql://", 1);
            Ok(Pool::MySql(
                MySqlPool::connect(&url)
                    .await
                    .map_err(MigrateError::db(during))?,
            ))
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
}

/// SQL spelling per database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    MySql,
    Sqlite,
}

impl Dialect {
    /// A quoted identifier (quotes inside doubled).
    pub(crate) fn quote(self, name: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// The `n`th (from 1) placeholder.
    fn param(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        }
    }

    /// `column` starts (or, negated, does not start) with `prefix`, compared byte for byte
    /// whatever the column's collation. `prefix` is generated, never user input.
    pub(crate) fn starts_with(
        self,
        column: &str,
        class: Class,
        prefix: &[u8],
        negate: bool,
    ) -> String {
        let len = prefix.len();
        let op = if negate { "<>" } else { "=" };
        match (self, class) {
            (Dialect::MySql, Class::Text) => format!(
                "CAST(SUBSTRING({column}, 1, {len}) AS BINARY) {op} CAST('{}' AS BINARY)",
                String::from_utf8_lossy(prefix)
            ),
            (_, Class::Text) => format!(
                "substr({column}, 1, {len}) {op} '{}'",
                String::from_utf8_lossy(prefix)
            ),
            (Dialect::Postgres, _) => {
                format!(
                    "substring({column} from 1 for {len}) {op} decode('{}', 'hex')",
                    hex(prefix)
                )
            }
            (Dialect::MySql, _) => format!("SUBSTRING({column}, 1, {len}) {op} X'{}'", hex(prefix)),
            (Dialect::Sqlite, _) => format!("substr({column}, 1, {len}) {op} X'{}'", hex(prefix)),
        }
    }

    /// `column` as the job reads it: as it is, or for date, timestamp, decimal and UUID columns,
    /// its text form (ISO dates; timestamps in the session's zone, which is UTC).
    pub(crate) fn read_expr(self, column: &str, class: Class) -> String {
        match (self, class.is_textual()) {
            (_, false) => column.to_owned(),
            (Dialect::Postgres, true) => format!("{column}::text"),
            (Dialect::MySql, true) => format!("CAST({column} AS CHAR)"),
            (Dialect::Sqlite, true) => format!("CAST({column} AS TEXT)"),
        }
    }

    /// `a` equals `b`, byte for byte for text (MySQL compares text under its collation, which
    /// may ignore case and trailing spaces).
    fn same(self, a: &str, b: &str, class: Class) -> String {
        match (self, class) {
            (Dialect::MySql, class) if class.reads_as_text() => {
                format!("CAST({a} AS BINARY) = CAST({b} AS BINARY)")
            }
            _ => format!("{a} = {b}"),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a column holds, as far as a job is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Text: `text`, `varchar`, `char`, `TEXT`, ...
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
    fn reads_as_text(self) -> bool {
        self == Class::Text || self.is_textual()
    }
}

/// A column's class and SQL type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    /// How the job reads and writes it.
    pub class: Class,
    /// The database's name for its type, for messages.
    pub sql_type: String,
    /// Maximum length in characters or bytes, where the type has one (`varchar(64)`).
    pub max_len: Option<i64>,
}

/// A primary-key value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// An integer key.
    Int(i64),
    /// A text key.
    Text(String),
}

impl core::fmt::Display for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Key::Int(v) => write!(f, "{v}"),
            Key::Text(v) => write!(f, "{v:?}"),
        }
    }
}

/// A non-NULL value read from or written to a column.
#[derive(Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Binary(Vec<u8>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell {
    /// The bytes of a text or binary value, where an envelope can be.
    pub(crate) fn envelope_bytes(&self) -> Option<&[u8]> {
        match self {
            Cell::Text(v) => Some(v.as_bytes()),
            Cell::Binary(v) => Some(v),
            _ => None,
        }
    }
}

impl core::fmt::Debug for Cell {
    /// The kind only: cells hold plaintext.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Cell::Text(_) => "Cell::Text(..)",
            Cell::Binary(_) => "Cell::Binary(..)",
            Cell::Int(_) => "Cell::Int(..)",
            Cell::Float(_) => "Cell::Float(..)",
            Cell::Bool(_) => "Cell::Bool(..)",
        })
    }
}

/// One row's compare-and-swap. No `Debug`: it holds a blind-index value, which must not reach
/// a log.
pub(crate) struct Change {
    pub(crate) key: Key,
    pub(crate) old: Cell,
    pub(crate) new: Cell,
    /// The blind-index value to write beside it, when the job fills an index column.
    pub(crate) index: Option<i64>,
}

fn classify(sql_type: &str) -> Option<Class> {
    let t = sql_type.to_ascii_lowercase();
    // SQLite declared types follow its affinity rules (section 3.1 of its datatype page);
    // "interval" and "point" contain "int" but are not integers.
    if t.contains("interval") || t.contains("point") {
        None
    } else if t == "date" {
        Some(Class::Date)
    } else if t == "uuid" {
        Some(Class::Uuid)
    } else if t == "json" || t == "jsonb" {
        Some(Class::Json)
    } else if t.starts_with("timestamp") || t.starts_with("datetime") {
        Some(Class::Timestamp)
    } else if t.starts_with("numeric") || t.starts_with("decimal") {
        Some(Class::Decimal)
    } else if t.contains("bool") {
        Some(Class::Bool)
    } else if t.contains("int") || t == "serial" || t == "bigserial" {
        Some(Class::Int)
    } else if t.contains("char") || t.contains("text") || t.contains("clob") || t == "name" {
        Some(Class::Text)
    } else if t.contains("blob") || t.contains("binary") || t == "bytea" || t.is_empty() {
        Some(Class::Binary)
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") {
        Some(Class::Float)
    } else {
        None
    }
}

/// A column's class from its SQL type; `Err(sql_type)` when no class fits.
fn column_info(sql_type: String, max_len: Option<i64>) -> Result<ColumnInfo, String> {
    // MySQL's tinyint(1) is its boolean.
    let class = if sql_type.eq_ignore_ascii_case("tinyint(1)") {
        Some(Class::Bool)
    } else {
        classify(sql_type.split('(').next().unwrap_or(&sql_type).trim())
    };
    let Some(class) = class else {
        return Err(sql_type);
    };
    let max_len = max_len.or_else(|| match sql_type.to_ascii_lowercase().split('(').next() {
        Some("varbinary" | "binary" | "varchar" | "char") => sql_type
            .split(['(', ')'])
            .nth(1)
            .and_then(|n| n.trim().parse().ok()),
        _ => None,
    });
    Ok(ColumnInfo {
        class,
        sql_type,
        max_len,
    })
}

/// Reads column `index` of `row` as `class`; `None` for NULL.
fn get_cell<'r, DB, R>(row: &'r R, index: usize, class: Class) -> Result<Option<Cell>, sqlx::Error>
where
    DB: Database,
    R: Row<Database = DB>,
    usize: sqlx::ColumnIndex<R>,
    String: Decode<'r, DB> + Type<DB>,
    Vec<u8>: Decode<'r, DB> + Type<DB>,
    i64: Decode<'r, DB> + Type<DB>,
    f64: Decode<'r, DB> + Type<DB>,
    bool: Decode<'r, DB> + Type<DB>,
{
    Ok(match class {
        // Date, timestamp, decimal and UUID columns are selected through a cast to text.
        Class::Text
        | Class::Date
        | Class::Timestamp
        | Class::Decimal
        | Class::Uuid
        | Class::Json => row.try_get::<Option<String>, _>(index)?.map(Cell::Text),
        Class::Binary => row.try_get::<Option<Vec<u8>>, _>(index)?.map(Cell::Binary),
        Class::Int => row.try_get::<Option<i64>, _>(index)?.map(Cell::Int),
        Class::Float => row.try_get::<Option<f64>, _>(index)?.map(Cell::Float),
        Class::Bool => row.try_get::<Option<bool>, _>(index)?.map(Cell::Bool),
    })
}

fn get_key<'r, DB, R>(row: &'r R, index: usize, class: Class) -> Result<Key, sqlx::Error>
where
    DB: Database,
    R: Row<Database = DB>,
    usize: sqlx::ColumnIndex<R>,
    String: Decode<'r, DB> + Type<DB>,
    i64: Decode<'r, DB> + Type<DB>,
{
    Ok(match class {
        Class::Int => Key::Int(row.try_get(index)?),
        _ => Key::Text(row.try_get(index)?),
    })
}

type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

fn bind_cell<'q, DB>(query: Query<'q, DB>, cell: Cell) -> Query<'q, DB>
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    Vec<u8>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
{
    match cell {
        Cell::Text(v) => query.bind(v),
        Cell::Binary(v) => query.bind(v),
        Cell::Int(v) => query.bind(v),
        Cell::Float(v) => query.bind(v),
        Cell::Bool(v) => query.bind(v),
    }
}

fn bind_key<'q, DB>(query: Query<'q, DB>, key: Key) -> Query<'q, DB>
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    match key {
        Key::Int(v) => query.bind(v),
        Key::Text(v) => query.bind(v),
    }
}

fn key_cell(key: Key) -> Cell {
    match key {
        Key::Int(v) => Cell::Int(v),
        Key::Text(v) => Cell::Text(v),
    }
}

/// One column of a batch, as a PostgreSQL array.
enum PgColumn {
    Text(Vec<String>),
    Binary(Vec<Vec<u8>>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

impl PgColumn {
    fn collect(cells: Vec<Cell>, class: Class) -> Result<Self, MigrateError> {
        let mismatch = || MigrateError::Invalid("internal: a batch mixes value types".to_owned());
        macro_rules! gather {
            ($variant:ident) => {
                PgColumn::$variant(
                    cells
                        .into_iter()
                        .map(|c| match c {
                            Cell::$variant(v) => Ok(v),
                            _ => Err(mismatch()),
                        })
                        .collect::<Result<_, _>>()?,
                )
            };
        }
        Ok(match class {
            Class::Text
            | Class::Date
            | Class::Timestamp
            | Class::Decimal
            | Class::Uuid
            | Class::Json => gather!(Text),
            Class::Binary => gather!(Binary),
            Class::Int => gather!(Int),
            Class::Float => gather!(Float),
            Class::Bool => gather!(Bool),
        })
    }

    fn sql_type(&self) -> &'static str {
        match self {
            PgColumn::Text(_) => "text",
            PgColumn::Binary(_) => "bytea",
            PgColumn::Int(_) => "int8",
            PgColumn::Float(_) => "float8",
            PgColumn::Bool(_) => "bool",
        }
    }

    fn bind(self, query: Query<'_, sqlx::Postgres>) -> Query<'_, sqlx::Postgres> {
        match self {
            PgColumn::Text(v) => query.bind(v),
            PgColumn::Binary(v) => query.bind(v),
            PgColumn::Int(v) => query.bind(v),
            PgColumn::Float(v) => query.bind(v),
            PgColumn::Bool(v) => query.bind(v),
        }
    }
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
    /// The SQL condition that makes a row pending (its placeholders come after the cursor's).
    pub(crate) pending: String,
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

    /// ` AND pk > cursor` when `after`. The cursor is bound as text or an integer; PostgreSQL
    /// compares a UUID key with a UUID, so that the primary key's index serves the walk.
    fn cursor(&self, after: bool) -> String {
        if !after {
            return String::new();
        }
        let param = match (self.dialect, self.pk_class) {
            (Dialect::Postgres, Class::Uuid) => format!("{}::uuid", self.dialect.param(1)),
            _ => self.dialect.param(1),
        };
        format!(" AND {} > {param}", self.q(&self.pk))
    }

    /// `SELECT pk, source[, index] FROM table WHERE pending [AND pk > cursor] ORDER BY pk LIMIT n`.
    pub(crate) fn select_pending(&self, after: bool, limit: usize) -> String {
        let cursor = self.cursor(after);
        format!(
            "SELECT {pk_read}, {src}{idx} FROM {t} WHERE ({pending}){cursor} ORDER BY {pk} LIMIT {limit}",
            pk_read = self.pk_read(),
            pk = self.q(&self.pk),
            src = self
                .dialect
                .read_expr(&self.q(&self.source), self.source_info.class),
            idx = self.index_select(),
            t = self.q(&self.table),
            pending = self.pending,
        )
    }

    /// `SELECT pk, column[, index] FROM table WHERE column IS NOT NULL [AND pk > cursor] ORDER BY
    /// pk LIMIT n`.
    pub(crate) fn select_all(
        &self,
        column: &str,
        class: Class,
        after: bool,
        limit: usize,
    ) -> String {
        let cursor = self.cursor(after);
        format!(
            "SELECT {pk_read}, {read}{idx} FROM {t} WHERE {c} IS NOT NULL{cursor} ORDER BY {pk} LIMIT {limit}",
            pk_read = self.pk_read(),
            pk = self.q(&self.pk),
            read = self.dialect.read_expr(&self.q(column), class),
            c = self.q(column),
            idx = self.index_select(),
            t = self.q(&self.table),
        )
    }

    /// `SELECT pk, column[, index] FROM table WHERE column IS NOT NULL`, in no particular order.
    pub(crate) fn select_every(&self, column: &str, class: Class) -> String {
        format!(
            "SELECT {pk}, {read}{idx} FROM {t} WHERE {c} IS NOT NULL",
            pk = self.pk_read(),
            read = self.dialect.read_expr(&self.q(column), class),
            idx = self.index_select(),
            t = self.q(&self.table),
            c = self.q(column),
        )
    }

    /// `, index_column = v.fc_idx` when the job has one.
    fn index_set(&self, qualified: bool) -> String {
        match &self.index_column {
            Some(c) if qualified => format!(", {}.{} = v.fc_idx", self.q(&self.table), self.q(c)),
            Some(c) => format!(", {} = v.fc_idx", self.q(c)),
            None => String::new(),
        }
    }

    /// The batch compare-and-swap for `rows` changes.
    pub(crate) fn update(&self, rows: usize) -> String {
        let d = self.dialect;
        let width = if self.index_column.is_some() { 4 } else { 3 };
        let mut derived = String::new();
        for i in 0..rows {
            if i > 0 {
                derived.push_str(" UNION ALL ");
            }
            let params: Vec<String> = (1..=width).map(|j| d.param(width * i + j)).collect();
            if i == 0 {
                let names = ["fc_id", "fc_old", "fc_new", "fc_idx"];
                let named: Vec<String> = params
                    .iter()
                    .zip(names)
                    .map(|(p, n)| format!("{p} AS {n}"))
                    .collect();
                derived.push_str(&format!("SELECT {}", named.join(", ")));
            } else {
                derived.push_str(&format!("SELECT {}", params.join(", ")));
            }
        }
        let t = self.q(&self.table);
        let pk = format!("{t}.{}", self.q(&self.pk));
        let source = format!("{t}.{}", self.q(&self.source));
        let target = self.q(&self.target);
        let matches = d.same(
            &d.read_expr(&source, self.source_info.class),
            "v.fc_old",
            self.source_info.class,
        );
        let still_null = if self.into {
            format!(" AND {t}.{target} IS NULL")
        } else {
            String::new()
        };
        match d {
            Dialect::MySql => format!(
                "UPDATE {t} JOIN ({derived}) AS v ON {pk} = v.fc_id SET {t}.{target} = v.fc_new{idx} WHERE {matches}{still_null}",
                idx = self.index_set(true)
            ),
            _ => format!(
                "UPDATE {t} SET {target} = v.fc_new{idx} FROM ({derived}) AS v WHERE {pk} = v.fc_id AND {matches}{still_null}",
                idx = self.index_set(false)
            ),
        }
    }

    /// The batch compare-and-swap on PostgreSQL, over arrays of the given element types (a
    /// fourth, `int8`, for the index values when the job has an index column).
    pub(crate) fn update_unnest(&self, types: [&str; 3]) -> String {
        let t = self.q(&self.table);
        let [id, old, new] = types;
        // UUID keys arrive as text; cast once, so that the primary key's index serves the join.
        let id = if self.pk_class == Class::Uuid {
            "text[]::uuid"
        } else {
            id
        };
        let still_null = if self.into {
            format!(" AND {t}.{} IS NULL", self.q(&self.target))
        } else {
            String::new()
        };
        let (index_array, index_name) = if self.index_column.is_some() {
            (", $4::int8[]", ", fc_idx")
        } else {
            ("", "")
        };
        // A date, timestamp or decimal value arrives as text and is cast to the column's type
        // (its `data_type`, from the catalogue); the session's zone is UTC.
        let new_value = if self.target_info.class.is_textual() {
            format!("v.fc_new::{}", self.target_info.sql_type)
        } else {
            "v.fc_new".to_owned()
        };
        let source = self.dialect.read_expr(
            &format!("{t}.{}", self.q(&self.source)),
            self.source_info.class,
        );
        format!(
            "UPDATE {t} SET {target} = {new_value}{idx} FROM UNNEST($1::{id}[], $2::{old}[], $3::{new}[]{index_array}) \
             AS v(fc_id, fc_old, fc_new{index_name}) WHERE {t}.{pk} = v.fc_id AND {source} = v.fc_old{still_null}",
            target = self.q(&self.target),
            idx = self.index_set(false),
            pk = self.q(&self.pk),
        )
    }

    /// `SELECT COUNT(*) FROM table WHERE pending`.
    pub(crate) fn count_pending(&self) -> String {
        format!(
            "SELECT COUNT(*) FROM {} WHERE ({})",
            self.q(&self.table),
            self.pending
        )
    }
}

/// A row read for processing: its key, the value of the column read, and its blind-index value
/// when the job has an index column.
pub(crate) type Pending = (Key, Cell, Option<i64>);

impl Pool {
    /// Every column of `table` in order, with its class (`Err`: a type jobs cannot handle,
    /// with its SQL name), or [`MigrateError::NoSuchTable`].
    pub(crate) async fn columns(
        &self,
        table: &str,
    ) -> Result<Vec<(String, Result<ColumnInfo, String>)>, MigrateError> {
        let during = "describe the table";
        let rows: Vec<(String, String, Option<i64>)> = match self {
            Pool::Postgres(p) => sqlx::query_as(
                "SELECT column_name::text, data_type::text, character_maximum_length::int8 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(MigrateError::db(during))?,
            Pool::MySql(p) => sqlx::query_as(
                "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(character_maximum_length AS SIGNED) \
                 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(p)
            .await
            .map_err(MigrateError::db(during))?,
            Pool::Sqlite(p) => sqlx::query_as("SELECT name, type, NULL FROM pragma_table_info(?) ORDER BY cid")
                .bind(table)
                .fetch_all(p)
                .await
                .map_err(MigrateError::db(during))?,
        };
        if rows.is_empty() {
            return Err(MigrateError::NoSuchTable(table.to_owned()));
        }
        let json_checked = self.json_checked(table).await?;
        Ok(rows
            .into_iter()
            .map(|(name, sql_type, max_len)| {
                let mut info = column_info(sql_type, max_len);
                if let Ok(info) = &mut info
                    && info.class == Class::Text
                    && json_checked.contains(&format!("json_valid(`{}`)", name.replace('`', "``")))
                {
                    info.class = Class::Json;
                }
                (name, info)
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

    /// The column's class and type, or a clear error if the table or column does not exist or
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
        info.map_err(|sql_type| MigrateError::UnsupportedType {
            table: table.to_owned(),
            column: column.to_owned(),
            sql_type,
            why: "is not supported yet (text, binary, integer, float, boolean, date, timestamp, decimal, UUID and JSON columns are); copy it into a text column first",
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

    /// A batch of pending rows after `cursor`.
    pub(crate) async fn fetch_pending(
        &self,
        plan: &Plan,
        cursor: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Pending>, MigrateError> {
        let sql = plan.select_pending(cursor.is_some(), limit);
        self.fetch(&sql, plan, plan.source_info.class, cursor).await
    }

    /// A batch of every non-NULL value of `column` after `cursor` (the verification pass).
    pub(crate) async fn fetch_all(
        &self,
        plan: &Plan,
        column: &str,
        class: Class,
        cursor: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Pending>, MigrateError> {
        let sql = plan.select_all(column, class, cursor.is_some(), limit);
        self.fetch(&sql, plan, class, cursor).await
    }

    async fn fetch(
        &self,
        sql: &str,
        plan: &Plan,
        class: Class,
        cursor: Option<&Key>,
    ) -> Result<Vec<Pending>, MigrateError> {
        let during = "read a batch";
        with_pool!(self, p => {
            let mut query = sqlx::query(sql);
            if let Some(key) = cursor {
                query = bind_key(query, key.clone());
            }
            let rows = query.fetch_all(p).await.map_err(MigrateError::db(during))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let key = get_key(row, 0, plan.pk_class).map_err(MigrateError::db(during))?;
                let index: Option<i64> = if plan.index_column.is_some() {
                    row.try_get(2).map_err(MigrateError::db(during))?
                } else {
                    None
                };
                if let Some(cell) = get_cell(row, 1, class).map_err(MigrateError::db(during))? {
                    out.push((key, cell, index));
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
        chunks: tokio::sync::mpsc::Sender<Vec<Pending>>,
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
                let Some((last, _, _)) = rows.last() else {
                    return Ok(());
                };
                cursor = Some(last.clone());
                if chunks.send(rows).await.is_err() {
                    return Ok(());
                }
            }
        }
        let during = "read the column back";
        let sql = plan.select_every(column, class);
        with_pool!(self, p => {
            let mut rows = sqlx::query(&sql).fetch(p);
            let mut out = Vec::with_capacity(chunk);
            while let Some(row) = rows.try_next().await.map_err(MigrateError::db(during))? {
                let key = get_key(&row, 0, plan.pk_class).map_err(MigrateError::db(during))?;
                let index: Option<i64> = if plan.index_column.is_some() {
                    row.try_get(2).map_err(MigrateError::db(during))?
                } else {
                    None
                };
                if let Some(cell) = get_cell(&row, 1, class).map_err(MigrateError::db(during))? {
                    out.push((key, cell, index));
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

    /// Applies `changes` in one statement; returns how many rows matched (the others changed
    /// under the job and stay pending).
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
            // Three array parameters instead of a derived table of 3n: one short statement to
            // parse and plan, whatever the batch size.
            let mut ids = Vec::with_capacity(changes.len());
            let mut olds = Vec::with_capacity(changes.len());
            let mut news = Vec::with_capacity(changes.len());
            let mut indexes = Vec::with_capacity(changes.len());
            for change in changes {
                ids.push(key_cell(change.key));
                olds.push(change.old);
                news.push(change.new);
                indexes.push(change.index);
            }
            let (ids, olds, news) = (
                PgColumn::collect(ids, plan.pk_class)?,
                PgColumn::collect(olds, plan.source_info.class)?,
                PgColumn::collect(news, plan.target_info.class)?,
            );
            let sql = plan.update_unnest([ids.sql_type(), olds.sql_type(), news.sql_type()]);
            let mut query = news.bind(olds.bind(ids.bind(sqlx::query(&sql))));
            if plan.index_column.is_some() {
                query = query.bind(indexes);
            }
            return Ok(query
                .execute(p)
                .await
                .map_err(MigrateError::db(during))?
                .rows_affected());
        }
        let sql = plan.update(changes.len());
        with_pool!(self, p => {
            let mut query = sqlx::query(&sql);
            for change in changes {
                query = bind_key(query, change.key);
                query = bind_cell(query, change.old);
                query = bind_cell(query, change.new);
                if plan.index_column.is_some() {
                    query = query.bind(change.index);
                }
            }
            Ok(query.execute(p).await.map_err(MigrateError::db(during))?.rows_affected())
        })
    }

    /// `SELECT COUNT(*) ...` as a number.
    pub(crate) async fn count(&self, sql: &str) -> Result<u64, MigrateError> {
        let during = "count rows";
        let n: i64 = with_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await.map_err(MigrateError::db(during))?);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
