//! Values as they travel between a job and the database: primary keys ([`RowId`]), cells, one
//! row's compare-and-swap ([`Change`]), and their decoding and binding (PostgreSQL's as arrays).

use sqlx::{Database, Decode, Encode, Row, Type};

use super::catalog::Class;
use crate::error::MigrateError;

/// The value of a row's primary key: where a job is in the table, and what `--bind-row` binds
/// an envelope to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowId {
    /// An integer key.
    Int(i64),
    /// A text key (UUIDs as lower-case hyphenated text).
    Text(String),
}

impl core::fmt::Display for RowId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RowId::Int(v) => write!(f, "{v}"),
            RowId::Text(v) => write!(f, "{v:?}"),
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

/// A row read for processing: its key, the value of the column read, and its blind-index value
/// when the job has an index column. No `Debug`: it holds plaintext and index values.
pub(crate) struct ReadRow {
    pub(crate) id: RowId,
    pub(crate) value: Cell,
    pub(crate) index: Option<i64>,
    /// PostgreSQL: where the row's version was when it was read (`ctid` as text), so that the
    /// compare-and-swap fetches it directly instead of looking its key up in the index.
    pub(crate) tid: Option<String>,
}

/// One row's compare-and-swap. No `Debug`: it holds a blind-index value, which must not reach
/// a log.
pub(crate) struct Change {
    pub(crate) id: RowId,
    pub(crate) old: Cell,
    pub(crate) new: Cell,
    /// The blind-index value to write beside it, when the job fills an index column.
    pub(crate) index: Option<i64>,
    /// Where the row's version was when it was read ([`ReadRow::tid`]).
    pub(crate) tid: Option<String>,
}

/// Reads column `index` of `row` as `class`; `None` for NULL.
pub(crate) fn get_cell<'r, DB, R>(
    row: &'r R,
    index: usize,
    class: Class,
) -> Result<Option<Cell>, sqlx::Error>
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
        // Date, timestamp, decimal, UUID and JSON columns are selected through a cast to text.
        c if c.reads_as_text() => row.try_get::<Option<String>, _>(index)?.map(Cell::Text),
        Class::Binary => row.try_get::<Option<Vec<u8>>, _>(index)?.map(Cell::Binary),
        Class::Int => row.try_get::<Option<i64>, _>(index)?.map(Cell::Int),
        Class::Float => row.try_get::<Option<f64>, _>(index)?.map(Cell::Float),
        _ => row.try_get::<Option<bool>, _>(index)?.map(Cell::Bool),
    })
}

/// Reads a row's key (column 0).
pub(crate) fn get_key<'r, DB, R>(row: &'r R, pk_class: Class) -> Result<RowId, sqlx::Error>
where
    DB: Database,
    R: Row<Database = DB>,
    usize: sqlx::ColumnIndex<R>,
    String: Decode<'r, DB> + Type<DB>,
    i64: Decode<'r, DB> + Type<DB>,
{
    Ok(match pk_class {
        Class::Int => RowId::Int(row.try_get(0)?),
        _ => RowId::Text(row.try_get(0)?),
    })
}

/// Reads a row's key, its value (column 1), its index value (column 2, when `indexed`) and,
/// when `with_tid`, its version's address (the last column); `None` when the value is NULL.
pub(crate) fn get_row<'r, DB, R>(
    row: &'r R,
    pk_class: Class,
    class: Class,
    indexed: bool,
    with_tid: bool,
) -> Result<Option<ReadRow>, sqlx::Error>
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
    let id = get_key(row, pk_class)?;
    let index: Option<i64> = if indexed { row.try_get(2)? } else { None };
    let tid: Option<String> = if with_tid {
        row.try_get(if indexed { 3 } else { 2 })?
    } else {
        None
    };
    Ok(get_cell(row, 1, class)?.map(|value| ReadRow {
        id,
        value,
        index,
        tid,
    }))
}

pub(crate) type Query<'q, DB> = sqlx::query::Query<'q, DB, <DB as Database>::Arguments<'q>>;

pub(crate) fn bind_cell<'q, DB>(query: Query<'q, DB>, cell: Cell) -> Query<'q, DB>
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

pub(crate) fn bind_id<'q, DB>(query: Query<'q, DB>, id: RowId) -> Query<'q, DB>
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    match id {
        RowId::Int(v) => query.bind(v),
        RowId::Text(v) => query.bind(v),
    }
}

pub(crate) fn id_cell(id: RowId) -> Cell {
    match id {
        RowId::Int(v) => Cell::Int(v),
        RowId::Text(v) => Cell::Text(v),
    }
}

/// One column of a batch, as a PostgreSQL array.
pub(crate) enum PgColumn {
    Text(Vec<String>),
    Binary(Vec<Vec<u8>>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

impl PgColumn {
    pub(crate) fn collect(cells: Vec<Cell>, class: Class) -> Result<Self, MigrateError> {
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
            c if c.reads_as_text() => gather!(Text),
            Class::Binary => gather!(Binary),
            Class::Int => gather!(Int),
            Class::Float => gather!(Float),
            _ => gather!(Bool),
        })
    }

    /// The element type, for the statement's casts.
    pub(crate) fn sql_type(&self) -> &'static str {
        match self {
            PgColumn::Text(_) => "text",
            PgColumn::Binary(_) => "bytea",
            PgColumn::Int(_) => "int8",
            PgColumn::Float(_) => "float8",
            PgColumn::Bool(_) => "bool",
        }
    }

    pub(crate) fn bind(self, query: Query<'_, sqlx::Postgres>) -> Query<'_, sqlx::Postgres> {
        match self {
            PgColumn::Text(v) => query.bind(v),
            PgColumn::Binary(v) => query.bind(v),
            PgColumn::Int(v) => query.bind(v),
            PgColumn::Float(v) => query.bind(v),
            PgColumn::Bool(v) => query.bind(v),
        }
    }
}
