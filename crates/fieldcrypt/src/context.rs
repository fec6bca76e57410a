//! Where a value lives: table, column and, when the caller gives them, row key and tenant.
//!
//! The context goes into the associated data of every envelope, so a value copied into another
//! row, column, table or tenant fails to open. Its byte encoding is fixed by `docs/FORMAT.md`:
//!
//! ```text
//! u16be(len(table))  || table
//! u16be(len(column)) || column
//! 0x00 | 0x01 || u32be(len(row)) || row          (absent | present)
//! 0x00 | 0x01 || u32be(len(tenant)) || tenant
//! ```

use crate::error::Error;

/// Longest table or column name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 1024;
/// Longest row key or tenant accepted, in bytes.
pub const MAX_KEY_LEN: usize = 64 * 1024;

/// The context a value is bound to. Build once per column (and per row when row-bound), reuse.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Context {
    table: String,
    column: String,
    row: Option<String>,
    tenant: Option<String>,
    /// The associated-data encoding, kept so sealing does not re-encode per value.
    encoded: Vec<u8>,
}

impl Context {
    /// A context naming a table and a column. Names are non-empty UTF-8 of at most
    /// [`MAX_NAME_LEN`] bytes, compared byte for byte (no case folding).
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> Result<Self, Error> {
        let table = table.into();
        let column = column.into();
        check_name(&table, "table name must be 1 to 1024 bytes")?;
        check_name(&column, "column name must be 1 to 1024 bytes")?;
        let mut ctx = Self {
            table,
            column,
            row: None,
            tenant: None,
            encoded: Vec::new(),
        };
        ctx.encode();
        Ok(ctx)
    }

    /// Binds the context to a row. Use a key that never changes for the row (its primary key);
    /// integers and UUIDs go in as their canonical text (see [`RowKey`]).
    pub fn with_row(mut self, row: impl Into<RowKey>) -> Result<Self, Error> {
        let row = row.into().0;
        check_key(&row, "row key must be at most 65536 bytes")?;
        self.row = Some(row);
        self.encode();
        Ok(self)
    }

    /// Binds the context to a tenant.
    pub fn with_tenant(mut self, tenant: impl Into<RowKey>) -> Result<Self, Error> {
        let tenant = tenant.into().0;
        check_key(&tenant, "tenant must be at most 65536 bytes")?;
        self.tenant = Some(tenant);
        self.encode();
        Ok(self)
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The column name.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The row key, if bound.
    pub fn row(&self) -> Option<&str> {
        self.row.as_deref()
    }

    /// The tenant, if bound.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// The context's part of the associated data.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    fn encode(&mut self) {
        let mut out = Vec::with_capacity(
            4 + self.table.len()
                + self.column.len()
                + 10
                + self.row.as_ref().map_or(0, String::len)
                + self.tenant.as_ref().map_or(0, String::len),
        );
        for name in [&self.table, &self.column] {
            // Lengths were checked against MAX_NAME_LEN, which fits u16.
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        for key in [&self.row, &self.tenant] {
            match key {
                None => out.push(0x00),
                Some(key) => {
                    out.push(0x01);
                    // Lengths were checked against MAX_KEY_LEN, which fits u32.
                    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
                    out.extend_from_slice(key.as_bytes());
                }
            }
        }
        self.encoded = out;
    }
}

impl core::fmt::Debug for Context {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Context")
            .field("table", &self.table)
            .field("column", &self.column)
            .field("row", &self.row)
            .field("tenant", &self.tenant)
            .finish()
    }
}

impl core::fmt::Display for Context {
    /// `table.column`, then `:row` and `@tenant` when bound. Row keys are identifiers, not secrets.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.table, self.column)?;
        if let Some(row) = &self.row {
            write!(f, ":{row}")?;
        }
        if let Some(tenant) = &self.tenant {
            write!(f, "@{tenant}")?;
        }
        Ok(())
    }
}

/// A row key or tenant in its canonical text form: strings as given, integers in decimal.
///
/// The canonical form is what makes a value sealed by one program (say, with an `i64` id) open in
/// another (say, the CLI given `customers.email:42`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowKey(String);

impl From<&str> for RowKey {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for RowKey {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&String> for RowKey {
    fn from(s: &String) -> Self {
        Self(s.clone())
    }
}

macro_rules! row_key_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for RowKey {
            fn from(n: $t) -> Self {
                Self(n.to_string())
            }
        }
        /// As the value: a struct's `&row.id` works as well as `row.id`.
        impl From<&$t> for RowKey {
            fn from(n: &$t) -> Self {
                Self(n.to_string())
            }
        }
    )*};
}
row_key_from_int!(i16, i32, i64, u16, u32, u64);

/// A UUID as its lower-case hyphenated text (`0190a6e2-7c1b-7d3e-9f00-2a1b3c4d5e6f`), the form
/// the column jobs and the CLI use for UUID keys.
#[cfg(feature = "uuid")]
impl From<uuid::Uuid> for RowKey {
    fn from(id: uuid::Uuid) -> Self {
        Self(id.hyphenated().to_string())
    }
}

#[cfg(feature = "uuid")]
impl From<&uuid::Uuid> for RowKey {
    fn from(id: &uuid::Uuid) -> Self {
        Self::from(*id)
    }
}

fn check_name(name: &str, why: &'static str) -> Result<(), Error> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::InvalidContext(why));
    }
    Ok(())
}

fn check_key(key: &str, why: &'static str) -> Result<(), Error> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::InvalidContext(why));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_length_prefixed_and_distinguishes_absent_from_empty() -> Result<(), Error> {
        let plain = Context::new("t", "c")?;
        assert_eq!(plain.encoded(), b"\x00\x01t\x00\x01c\x00\x00");
        let empty_row = Context::new("t", "c")?.with_row("")?;
        assert_eq!(
            empty_row.encoded(),
            b"\x00\x01t\x00\x01c\x01\x00\x00\x00\x00\x00"
        );
        // "ab"+"c" and "a"+"bc" must not collide.
        assert_ne!(
            Context::new("ab", "c")?.encoded(),
            Context::new("a", "bc")?.encoded()
        );
        Ok(())
    }

    #[test]
    fn integer_rows_are_decimal_text() -> Result<(), Error> {
        assert_eq!(
            Context::new("t", "c")?.with_row(42i64)?,
            Context::new("t", "c")?.with_row("42")?
        );
        Ok(())
    }

    #[test]
    fn rejects_empty_and_oversized_names() {
        assert!(Context::new("", "c").is_err());
        assert!(Context::new("t", "").is_err());
        assert!(Context::new("t".repeat(1025), "c").is_err());
    }
}
