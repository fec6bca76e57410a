//! Keyring documents in the application's own database: the `fieldcrypt_keys` table.
//!
//! A [`TableStore`] is a [`KeyringStore`] over one row of `fieldcrypt_keys`. The row holds only
//! the wrapped document (FORMAT.md section 10): without the provider's key it opens nothing, so
//! it may sit beside the data it protects, and it is backed up and replicated with it. Writes are
//! compare-and-swap on the row's `version` counter, so two operators rotating at once cannot
//! lose each other's keys: the second write changes nothing and fails with
//! [`KmsError::Conflict`].
//!
//! The table comes from a migration this crate ships, one file per database under
//! `migrations/<postgres|sqlite|mysql>/`: run it with the application's own migrations
//! (`sqlx migrate run --source <that folder>`, or copy the file), or call
//! [`TableStore::create_table`], which runs the same statement.
//!
//! [`refresh_installed`] connects it to transparent columns: the keyring that
//! [`Encrypted`](crate::Encrypted) uses is re-read from the store and re-installed whenever a
//! [`ManagedKeyring`]'s cache expires, which picks up a rotation done by another process.

use std::sync::Arc;

use async_trait::async_trait;
use fieldcrypt::KeyringDocument;
use fieldcrypt_kms::{KeyringStore, KmsError, ManagedKeyring, Stored, Version};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, Pool, Row, Type};

/// The table's name.
pub const TABLE: &str = "fieldcrypt_keys";

/// The migration that creates the table, for a database named as sqlx names it
/// (`Database::NAME`: `PostgreSQL`, `SQLite`, `MySQL`).
pub fn migration_sql(database: &str) -> Option<&'static str> {
    match database {
        "PostgreSQL" => Some(include_str!(
            "../migrations/postgres/20261123000000_fieldcrypt_keys.sql"
        )),
        "SQLite" => Some(include_str!(
            "../migrations/sqlite/20261123000000_fieldcrypt_keys.sql"
        )),
        "MySQL" => Some(include_str!(
            "../migrations/mysql/20261123000000_fieldcrypt_keys.sql"
        )),
        _ => None,
    }
}

/// One keyring in the `fieldcrypt_keys` table.
pub struct TableStore<DB: Database> {
    pool: Pool<DB>,
    name: String,
}

impl<DB: Database> Clone for TableStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            name: self.name.clone(),
        }
    }
}

impl<DB: Database> core::fmt::Debug for TableStore<DB> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TableStore")
            .field("database", &DB::NAME)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn store_error(store: String, error: &sqlx::Error) -> KmsError {
    KmsError::Store {
        store,
        reason: error.to_string(),
    }
}

impl<DB> TableStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> crate::compat::Arguments<'q, DB>: crate::compat::IntoArguments<'q, DB>,
    for<'q> i64: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> String: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    /// The keyring called `name` (1 to 200 ASCII characters; applications with one keyring
    /// use `"default"`).
    pub fn new(pool: Pool<DB>, name: &str) -> Result<Self, KmsError> {
        if name.is_empty() || name.len() > 200 || !name.is_ascii() {
            return Err(KmsError::Store {
                store: TABLE.to_owned(),
                reason: format!("keyring name {name:?} must be 1 to 200 ASCII characters"),
            });
        }
        Ok(Self {
            pool,
            name: name.to_owned(),
        })
    }

    /// Creates the table if it does not exist (the shipped migration).
    pub async fn create_table(&self) -> Result<(), KmsError> {
        let sql = migration_sql(DB::NAME).ok_or_else(|| KmsError::Store {
            store: self.describe(),
            reason: format!(
                "no fieldcrypt_keys migration for {}; create the table by hand",
                DB::NAME
            ),
        })?;
        self.pool
            .execute(sql)
            .await
            .map_err(|e| store_error(self.describe(), &e))?;
        Ok(())
    }

    /// `sql` written with `?` placeholders, in this database's style.
    fn sql(&self, sql: &str) -> String {
        if DB::NAME != "PostgreSQL" {
            return sql.to_owned();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }

    fn serialize(&self, document: &KeyringDocument) -> Result<String, KmsError> {
        serde_json::to_string(document).map_err(|e| KmsError::Store {
            store: self.describe(),
            reason: e.to_string(),
        })
    }
}

#[async_trait]
impl<DB> KeyringStore for TableStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> crate::compat::Arguments<'q, DB>: crate::compat::IntoArguments<'q, DB>,
    for<'q> i64: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    for<'q> String: Type<DB> + Encode<'q, DB> + Decode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
{
    fn describe(&self) -> String {
        format!("{} table {TABLE} row {:?}", DB::NAME, self.name)
    }

    async fn load(&self) -> Result<Option<Stored>, KmsError> {
        let sql = self.sql("SELECT version, document FROM fieldcrypt_keys WHERE name = ?");
        let row = sqlx::query::<DB>(crate::compat::dynamic(&sql))
            .bind(self.name.clone())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(self.describe(), &e))?;
        let Some(row) = row else { return Ok(None) };
        let read = |e: sqlx::Error| store_error(self.describe(), &e);
        let version: i64 = row.try_get(0).map_err(read)?;
        let text: String = row.try_get(1).map_err(read)?;
        let document = KeyringDocument::from_json(&text).map_err(|e| KmsError::Store {
            store: self.describe(),
            reason: format!("not a keyring document: {e}"),
        })?;
        Ok(Some(Stored {
            document,
            version: Version::Counter(version),
        }))
    }

    async fn save(
        &self,
        document: &KeyringDocument,
        replaces: Option<&Version>,
    ) -> Result<Version, KmsError> {
        let text = self.serialize(document)?;
        let failed = |e: sqlx::Error| store_error(self.describe(), &e);
        match replaces {
            None => {
                let sql = self
                    .sql("INSERT INTO fieldcrypt_keys (name, version, document) VALUES (?, ?, ?)");
                match sqlx::query::<DB>(crate::compat::dynamic(&sql))
                    .bind(self.name.clone())
                    .bind(1_i64)
                    .bind(text)
                    .execute(&self.pool)
                    .await
                {
                    Ok(_) => Ok(Version::Counter(1)),
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        Err(KmsError::Conflict(self.describe()))
                    }
                    Err(e) => Err(failed(e)),
                }
            }
            Some(Version::Counter(version)) => {
                let next = version
                    .checked_add(1)
                    .ok_or_else(|| KmsError::Conflict(self.describe()))?;
                // sqlx has no driver-independent "rows affected", so the update and a read of
                // the row share a transaction: the row lock the update takes keeps others out
                // until the read has seen whether it was ours.
                let mut tx = self.pool.begin().await.map_err(failed)?;
                let update = self.sql(
                    "UPDATE fieldcrypt_keys SET document = ?, version = ?, updated_at = CURRENT_TIMESTAMP \
                     WHERE name = ? AND version = ?",
                );
                sqlx::query::<DB>(crate::compat::dynamic(&update))
                    .bind(text.clone())
                    .bind(next)
                    .bind(self.name.clone())
                    .bind(*version)
                    .execute(&mut *tx)
                    .await
                    .map_err(failed)?;
                let select =
                    self.sql("SELECT version, document FROM fieldcrypt_keys WHERE name = ?");
                let row = sqlx::query::<DB>(crate::compat::dynamic(&select))
                    .bind(self.name.clone())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(failed)?;
                let ours = match row {
                    Some(row) => {
                        let stored_version: i64 = row.try_get(0).map_err(failed)?;
                        let stored_text: String = row.try_get(1).map_err(failed)?;
                        stored_version == next && stored_text == text
                    }
                    None => false,
                };
                if !ours {
                    tx.rollback().await.map_err(failed)?;
                    return Err(KmsError::Conflict(self.describe()));
                }
                tx.commit().await.map_err(failed)?;
                Ok(Version::Counter(next))
            }
            // A version from another kind of store cannot be current here.
            Some(Version::Contents(_)) => Err(KmsError::Conflict(self.describe())),
        }
    }
}

/// Installs the keyring that `managed` holds for transparent columns, unwrapping it through the
/// provider only when the cache has expired (otherwise it is the same keyring, and no call is
/// made). Call it at start-up and then on a timer shorter than the cache's TTL, from the
/// application's own runtime:
///
/// ```no_run
/// # async fn demo(managed: std::sync::Arc<fieldcrypt_kms::ManagedKeyring>) -> Result<(), fieldcrypt_kms::KmsError> {
/// fieldcrypt_sqlx::keystore::refresh_installed(&managed).await?;
/// tokio::spawn(async move {
///     let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
///     loop {
///         every.tick().await;
///         if let Err(e) = fieldcrypt_sqlx::keystore::refresh_installed(&managed).await {
///             eprintln!("keyring refresh failed, keeping the installed one: {e}");
///         }
///     }
/// });
/// # Ok(()) }
/// ```
///
/// A failed refresh leaves the installed keyring in place (a provider outage does not stop the
/// application); an uninstalled process stays uninstalled.
pub async fn refresh_installed(
    managed: &ManagedKeyring,
) -> Result<Arc<fieldcrypt::Keyring>, KmsError> {
    let keyring = managed.get().await?;
    let current = crate::installed().ok();
    if !current.is_some_and(|c| Arc::ptr_eq(&c, &keyring)) {
        crate::install_shared(Arc::clone(&keyring));
    }
    Ok(keyring)
}
