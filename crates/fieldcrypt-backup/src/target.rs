//! The database a backup is taken from or restored into, from its URL.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Error;

/// The kinds of database backed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// PostgreSQL, through `pg_dump --format=custom` and `pg_restore`.
    Postgresql,
    /// MariaDB or MySQL, through `mariadb-dump` (or `mysqldump`) and `mariadb` (or `mysql`).
    Mariadb,
    /// SQLite, through its online backup API.
    Sqlite,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Postgresql => "PostgreSQL",
            Kind::Mariadb => "MariaDB/MySQL",
            Kind::Sqlite => "SQLite",
        })
    }
}

/// A database, parsed from a URL as sqlx takes them: `postgres://user:pass@host:port/db`,
/// `mysql://` or `mariadb://…`, `sqlite://path` or `sqlite:path`. The password is kept apart
/// and handed to the tools through their environment, never on a command line.
#[derive(Clone)]
pub struct Database {
    kind: Kind,
    host: String,
    port: Option<u16>,
    user: String,
    password: Option<Zeroizing<String>>,
    name: String,
    /// PostgreSQL: the URL without its password, for `--dbname` (keeps `sslmode` and the like).
    url_without_password: String,
    path: PathBuf,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("kind", &self.kind)
            .field("location", &self.location())
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Database {
    /// Parses a database URL.
    pub fn parse(url: &str) -> Result<Self, Error> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(Error::Url("a SQLite backup needs a database file".into()));
            }
            return Ok(Self {
                kind: Kind::Sqlite,
                host: String::new(),
                port: None,
                user: String::new(),
                password: None,
                name: path.rsplit('/').next().unwrap_or(path).to_owned(),
                url_without_password: String::new(),
                path: PathBuf::from(path),
            });
        }
        let mut parsed = url::Url::parse(url).map_err(|e| Error::Url(e.to_string()))?;
        let kind = match parsed.scheme() {
            "postgres" | "postgresql" => Kind::Postgresql,
            "mysql" | "mariadb" => Kind::Mariadb,
            other => {
                return Err(Error::Url(format!(
                    "unsupported scheme {other:?} (postgres, mysql, mariadb, sqlite)"
                )));
            }
        };
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let password = parsed.password().map(|p| Zeroizing::new(decode(p)));
        let user = decode(parsed.username());
        let name = parsed.path().trim_start_matches('/').to_owned();
        if name.is_empty() {
            return Err(Error::Url("the URL names no database".into()));
        }
        let _ = parsed.set_password(None);
        Ok(Self {
            kind,
            host: parsed.host_str().unwrap_or("localhost").to_owned(),
            port: parsed.port(),
            user,
            password,
            name: decode(&name),
            url_without_password: parsed.to_string(),
            path: PathBuf::new(),
        })
    }

    /// The kind of database.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The database's name, or the SQLite file's name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Host and port, or the SQLite file's path; never credentials.
    pub fn location(&self) -> String {
        match (self.kind, self.port) {
            (Kind::Sqlite, _) => self.path.display().to_string(),
            (_, Some(port)) => format!("{}:{port}", self.host),
            (_, None) => self.host.clone(),
        }
    }

    pub(crate) fn host(&self) -> &str {
        &self.host
    }
    pub(crate) fn port(&self) -> Option<u16> {
        self.port
    }
    pub(crate) fn user(&self) -> &str {
        &self.user
    }
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref().map(String::as_str)
    }
    pub(crate) fn url_without_password(&self) -> &str {
        &self.url_without_password
    }
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The dump tool's name, version and format.
    pub(crate) fn dump_tool(&self) -> Result<(String, String, &'static str), Error> {
        match self.kind {
            Kind::Sqlite => Ok((
                "sqlite3_backup".to_owned(),
                format!("SQLite {}", rusqlite::version()),
                "sqlite-database",
            )),
            _ => {
                let tool = crate::process::dump_program(self.kind)?;
                let version = crate::process::version_of(&tool)?;
                let format = if self.kind == Kind::Postgresql {
                    "pg_dump-custom"
                } else {
                    "sql"
                };
                Ok((tool, version, format))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_the_password_stays_out_of_everything_printed() {
        let db =
            Database::parse("postgres://app:s%40cret%2Fpw@db.internal:6432/shop?sslmode=require")
                .unwrap();
        assert_eq!(db.kind(), Kind::Postgresql);
        assert_eq!(db.password(), Some("s@cret/pw"));
        assert_eq!(db.user(), "app");
        assert_eq!(db.name(), "shop");
        assert_eq!(db.location(), "db.internal:6432");
        assert_eq!(
            db.url_without_password(),
            "postgres://app@db.internal:6432/shop?sslmode=require"
        );
        assert!(!format!("{db:?}").contains("cret"));

        let db = Database::parse("mariadb://root@127.0.0.1/test").unwrap();
        assert_eq!(
            (db.kind(), db.port(), db.password()),
            (Kind::Mariadb, None, None)
        );

        let db = Database::parse("sqlite:///var/lib/app/app.db?mode=rwc").unwrap();
        assert_eq!(db.kind(), Kind::Sqlite);
        assert_eq!(db.path(), std::path::Path::new("/var/lib/app/app.db"));
        assert_eq!(
            Database::parse("sqlite:data/app.db").unwrap().path(),
            std::path::Path::new("data/app.db")
        );

        for bad in [
            "sqlite::memory:",
            "sqlite://",
            "redis://x/0",
            "postgres://host",
            "not a url",
        ] {
            assert!(Database::parse(bad).is_err(), "{bad}");
        }
    }
}
