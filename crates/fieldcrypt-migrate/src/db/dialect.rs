//! How each database spells what a job asks: quoted names, placeholders, a byte-exact prefix
//! test, a column read as text, and a byte-exact equality for the compare-and-swap.

use super::catalog::{Class, ColumnInfo};

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
    pub(crate) fn param(self, n: usize) -> String {
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
            // Converted first: in a UTF-16, UCS-2 or UTF-32 column the ASCII prefix has other
            // bytes.
            (Dialect::MySql, Class::Text) => format!(
                "CAST(CONVERT(SUBSTRING({column}, 1, {len}) USING utf8mb4) AS BINARY) {op} CAST('{}' AS BINARY)",
                String::from_utf8_lossy(prefix)
            ),
            // A non-deterministic collation would take `FC1C7.` for `fc1c7.`: compare in "C".
            (Dialect::Postgres, Class::Text) => format!(
                "substring({column} from 1 for {len}) COLLATE \"C\" {op} '{}'",
                String::from_utf8_lossy(prefix)
            ),
            // A function's result has no collation in SQLite: the comparison is binary.
            (Dialect::Sqlite, Class::Text) => format!(
                "substr({column}, 1, {len}) {op} '{}'",
                String::from_utf8_lossy(prefix)
            ),
            (Dialect::Postgres, _) => format!(
                "substring({column} from 1 for {len}) {op} decode('{}', 'hex')",
                hex::encode(prefix)
            ),
            (Dialect::MySql, _) => format!(
                "SUBSTRING({column}, 1, {len}) {op} X'{}'",
                hex::encode(prefix)
            ),
            (Dialect::Sqlite, _) => {
                format!("substr({column}, 1, {len}) {op} X'{}'", hex::encode(prefix))
            }
        }
    }

    /// `column` as the job reads it: as it is, or for date, timestamp, decimal, UUID and JSON
    /// columns, its text form (ISO dates; timestamps in the session's zone, which is UTC).
    pub(crate) fn read_expr(self, column: &str, class: Class) -> String {
        match (self, class.is_textual()) {
            (_, false) => column.to_owned(),
            (Dialect::Postgres, true) => format!("{column}::text"),
            (Dialect::MySql, true) => format!("CAST({column} AS CHAR)"),
            (Dialect::Sqlite, true) => format!("CAST({column} AS TEXT)"),
        }
    }

    /// The stored value of `column` (read as [`Self::read_expr`] reads it) is byte for byte
    /// `param`, the value the job read: the compare-and-swap's condition. Never the column's
    /// collation (case-insensitive, trailing-space-insensitive, ICU non-deterministic) and never
    /// float equality (`-0.0 = 0.0`): a concurrent write that changes only those must not match.
    pub(crate) fn same_bytes(self, column: &str, info: &ColumnInfo, param: &str) -> String {
        let class = info.class;
        let read = self.read_expr(column, class);
        match (self, class) {
            (Dialect::Postgres, Class::Float) => {
                // float4 widens to float8 exactly; float8send gives the IEEE 754 bits.
                format!("float8send({column}::float8) = float8send({param})")
            }
            (Dialect::Postgres, c) if c.reads_as_text() => {
                format!("{read} COLLATE \"C\" = {param}")
            }
            (Dialect::MySql, c) if c.reads_as_text() => match &info.charset {
                // The parameter arrives as utf8mb4; the column's bytes are in its own character
                // set (latin1, say): convert the parameter, then compare bytes.
                Some(charset) if !charset.starts_with("utf8") && c == Class::Text => format!(
                    "CAST({read} AS BINARY) = CAST(CONVERT({param} USING {charset}) AS BINARY)"
                ),
                _ => format!("CAST({read} AS BINARY) = CAST({param} AS BINARY)"),
            },
            (Dialect::Sqlite, c) if c.reads_as_text() => {
                format!("CAST({read} AS BLOB) = CAST({param} AS BLOB)")
            }
            // MySQL keeps -0 in a DOUBLE (MariaDB and SQLite store 0): equal as numbers and in
            // sign.
            (Dialect::MySql, Class::Float) => format!(
                "{read} = {param} AND (CAST({read} AS CHAR) LIKE '-%') = (CAST({param} AS CHAR) LIKE '-%')"
            ),
            // Bytes, integers and booleans compare exactly.
            _ => format!("{read} = {param}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(class: Class, charset: Option<&str>) -> ColumnInfo {
        ColumnInfo {
            class,
            sql_type: "t".to_owned(),
            max_chars: None,
            max_bytes: None,
            charset: charset.map(str::to_owned),
        }
    }

    #[test]
    fn the_compare_and_swap_never_uses_a_collation_or_float_equality() {
        let text = info(Class::Text, None);
        assert_eq!(
            Dialect::Sqlite.same_bytes("t.c", &text, "v.fc_old"),
            "CAST(t.c AS BLOB) = CAST(v.fc_old AS BLOB)"
        );
        assert_eq!(
            Dialect::Postgres.same_bytes("t.c", &text, "v.fc_old"),
            "t.c COLLATE \"C\" = v.fc_old"
        );
        assert_eq!(
            Dialect::Postgres.same_bytes("t.c", &info(Class::Float, None), "v.fc_old"),
            "float8send(t.c::float8) = float8send(v.fc_old)"
        );
        assert_eq!(
            Dialect::MySql.same_bytes("t.c", &info(Class::Text, Some("latin1")), "v.fc_old"),
            "CAST(t.c AS BINARY) = CAST(CONVERT(v.fc_old USING latin1) AS BINARY)"
        );
        assert_eq!(
            Dialect::MySql.same_bytes("t.c", &info(Class::Text, Some("utf8mb4")), "v.fc_old"),
            "CAST(t.c AS BINARY) = CAST(v.fc_old AS BINARY)"
        );
        assert_eq!(
            Dialect::Postgres.same_bytes("t.c", &info(Class::Binary, None), "v.fc_old"),
            "t.c = v.fc_old"
        );
        assert_eq!(
            Dialect::MySql.same_bytes("t.c", &info(Class::Float, None), "v.fc_old"),
            "t.c = v.fc_old AND (CAST(t.c AS CHAR) LIKE '-%') = (CAST(v.fc_old AS CHAR) LIKE '-%')"
        );
        assert!(
            Dialect::MySql
                .starts_with("c", Class::Text, b"fc1c1.", false)
                .starts_with("CAST(CONVERT(SUBSTRING(c, 1, 6) USING utf8mb4) AS BINARY)")
        );
    }
}
