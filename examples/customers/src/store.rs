//! The customers repository, on whichever database the URL names (through `sqlx::Any`).

use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use fieldcrypt::Keyring;
use fieldcrypt_sqlx::{Encrypted, IndexValue, Sealed};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

use crate::schema::{CardNumber, Dialect, Email, Indexes, Name, NationalId, Notes};

/// A customer to add, in plaintext.
pub(crate) struct NewCustomer {
    /// Full name.
    pub(crate) name: String,
    /// Email address.
    pub(crate) email: String,
    /// National ID number, as typed.
    pub(crate) national_id: Option<String>,
    /// Card number, as typed.
    pub(crate) card_number: Option<String>,
    /// Free text.
    pub(crate) notes: Option<String>,
}

/// A row as the database returns it: transparent columns already open, row-bound ones sealed.
#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: String,
    name: Encrypted<String, Name>,
    email: Encrypted<String, Email>,
    national_id: Option<Sealed<String, NationalId>>,
    card_last4: Option<String>,
    notes: Option<Encrypted<String, Notes>>,
}

/// A customer as the application shows it. The card number is never opened for display.
#[derive(Debug)]
pub(crate) struct Customer {
    /// UUIDv7.
    pub(crate) id: String,
    /// Full name.
    pub(crate) name: String,
    /// Email address.
    pub(crate) email: String,
    /// National ID number.
    pub(crate) national_id: Option<String>,
    /// `**** **** **** 1234`.
    pub(crate) card_masked: Option<String>,
    /// Free text.
    pub(crate) notes: Option<String>,
}

const COLUMNS: &str = "id, name, email, national_id, card_last4, notes";

/// The repository.
pub(crate) struct Store {
    pool: AnyPool,
    dialect: Dialect,
    keyring: Arc<Keyring>,
    indexes: Indexes,
}

impl Store {
    /// Connects, creates the table if needed, and installs `keyring` for transparent columns.
    pub(crate) async fn open(url: &str, keyring: Arc<Keyring>) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .connect(url)
            .await
            .with_context(|| format!("connecting to {}", redact_url(url)))?;
        for statement in dialect.create_table() {
            sqlx::query(statement).execute(&pool).await?;
        }
        fieldcrypt_sqlx::install_shared(Arc::clone(&keyring));
        Ok(Self {
            pool,
            dialect,
            keyring,
            indexes: Indexes::new()?,
        })
    }

    /// The dialect.
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Drops the table.
    pub(crate) async fn drop_table(&self) -> Result<()> {
        sqlx::query("DROP TABLE IF EXISTS customers")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many customers there are.
    pub(crate) async fn count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM customers")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Adds a customer; returns its id.
    pub(crate) async fn add(&self, customer: &NewCustomer) -> Result<String> {
        // The id exists before the INSERT, so row-bound values are sealed with it right away.
        let id = uuid::Uuid::now_v7().to_string();
        let kr = &*self.keyring;
        let national_id = customer
            .national_id
            .as_deref()
            .map(|n| -> Result<_> {
                Ok((
                    Sealed::<String, NationalId>::seal(kr, &id, n)?,
                    self.indexes.national_id.value(kr, n)?,
                ))
            })
            .transpose()?;
        let card = customer
            .card_number
            .as_deref()
            .map(|c| -> Result<_> {
                let digits: String = c.chars().filter(char::is_ascii_digit).collect();
                if digits.len() < 12 {
                    bail!("a card number has at least 12 digits");
                }
                let last4 = digits[digits.len() - 4..].to_owned();
                Ok((Sealed::<String, CardNumber>::seal(kr, &id, &digits)?, last4))
            })
            .transpose()?;
        let (national_id, national_id_idx) = national_id.unzip();
        let (card_number, card_last4) = card.unzip();
        sqlx::query(&self.dialect.sql(
            "INSERT INTO customers (id, name, email, email_idx, national_id, national_id_idx, \
             card_number, card_last4, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ))
        .bind(&id)
        .bind(Encrypted::<_, Name>::new(customer.name.clone()))
        .bind(Encrypted::<_, Email>::new(customer.email.clone()))
        .bind(self.indexes.email.value(kr, &customer.email)?)
        .bind(national_id)
        .bind(national_id_idx)
        .bind(card_number)
        .bind(card_last4)
        .bind(customer.notes.clone().map(Encrypted::<_, Notes>::new))
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Customers with this email, compared as the index normalises (case, width, spaces).
    pub(crate) async fn find_by_email(&self, email: &str) -> Result<Vec<Customer>> {
        let index = &self.indexes.email;
        let lookup = index.lookup(&self.keyring, email)?;
        let rows = self.select_where_in("email_idx", lookup.values()).await?;
        // The index is deliberately coarse: keep only the rows that really match.
        self.open_rows(rows, |c| index.matches(email, &c.email))
    }

    /// Customers with this national ID, compared digits only.
    pub(crate) async fn find_by_national_id(&self, national_id: &str) -> Result<Vec<Customer>> {
        let index = &self.indexes.national_id;
        let lookup = index.lookup(&self.keyring, national_id)?;
        let rows = self
            .select_where_in("national_id_idx", lookup.values())
            .await?;
        self.open_rows(rows, |c| {
            c.national_id
                .as_deref()
                .is_some_and(|n| index.matches(national_id, n))
        })
    }

    /// Up to `limit` customers, oldest first.
    pub(crate) async fn list(&self, limit: i64) -> Result<Vec<Customer>> {
        let rows = sqlx::query_as::<_, CustomerRow>(&self.dialect.sql(&format!(
            "SELECT {COLUMNS} FROM customers ORDER BY id LIMIT ?"
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        self.open_rows(rows, |_| true)
    }

    /// What the database holds for one customer, column by column, as text.
    pub(crate) async fn raw(&self, id: &str) -> Result<Vec<(&'static str, String)>> {
        let row: AnyRow = sqlx::query(&self.dialect.sql(
            "SELECT name, email, email_idx, national_id, national_id_idx, card_number, \
             card_last4, notes FROM customers WHERE id = ?",
        ))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let bytes = |i: usize| -> Result<String> {
            Ok(match row.try_get::<Option<Vec<u8>>, _>(i)? {
                None => "NULL".to_owned(),
                Some(b) => hex_prefix(&b),
            })
        };
        let int = |i: usize| -> Result<String> {
            Ok(row
                .try_get::<Option<i64>, _>(i)?
                .map_or("NULL".to_owned(), |n| n.to_string()))
        };
        let text = |i: usize| -> Result<String> {
            // As bytes: through `Any`, MySQL reports text columns as BLOB.
            let text = row
                .try_get::<Option<Vec<u8>>, _>(i)
                .map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned()))
                .or_else(|_| row.try_get::<Option<String>, _>(i))?;
            Ok(match text {
                None => "NULL".to_owned(),
                Some(t) if t.len() > 48 => format!("{}… ({} chars)", &t[..44], t.len()),
                Some(t) => t,
            })
        };
        Ok(vec![
            ("name", bytes(0)?),
            ("email", bytes(1)?),
            ("email_idx", int(2)?),
            ("national_id", bytes(3)?),
            ("national_id_idx", int(4)?),
            ("card_number", bytes(5)?),
            ("card_last4", text(6)?),
            ("notes", text(7)?),
        ])
    }

    /// Opens `id`'s card number (for a payment, not for display).
    pub(crate) async fn card_number(&self, id: &str) -> Result<Option<String>> {
        let sealed: Option<Sealed<String, CardNumber>> = sqlx::query_scalar(
            &self
                .dialect
                .sql("SELECT card_number FROM customers WHERE id = ?"),
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(sealed.map(|s| s.open(&self.keyring, id)).transpose()?)
    }

    /// Copies `from`'s sealed card number into `to`'s row and tries to open it there, inside a
    /// transaction that is rolled back: what an attacker with write access to the table gets.
    pub(crate) async fn try_copied_card(
        &self,
        from: &str,
        to: &str,
    ) -> Result<fieldcrypt_sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let stolen: Option<Vec<u8>> = sqlx::query_scalar(
            &self
                .dialect
                .sql("SELECT card_number FROM customers WHERE id = ?"),
        )
        .bind(from)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            &self
                .dialect
                .sql("UPDATE customers SET card_number = ? WHERE id = ?"),
        )
        .bind(stolen)
        .bind(to)
        .execute(&mut *tx)
        .await?;
        let copied: Option<Sealed<String, CardNumber>> = sqlx::query_scalar(
            &self
                .dialect
                .sql("SELECT card_number FROM customers WHERE id = ?"),
        )
        .bind(to)
        .fetch_one(&mut *tx)
        .await?;
        tx.rollback().await?;
        match copied.map(|s| s.open(&self.keyring, to)) {
            Some(Err(e)) => Ok(e),
            Some(Ok(_)) => bail!("a card number copied into another row opened"),
            None => bail!("{from} has no card number"),
        }
    }

    async fn select_where_in(
        &self,
        column: &str,
        values: &[IndexValue],
    ) -> Result<Vec<CustomerRow>> {
        let placeholders = vec!["?"; values.len()].join(", ");
        let sql = self.dialect.sql(&format!(
            "SELECT {COLUMNS} FROM customers WHERE {column} IN ({placeholders})"
        ));
        let mut query = sqlx::query_as::<_, CustomerRow>(&sql);
        for value in values {
            query = query.bind(*value);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    fn open_rows(
        &self,
        rows: Vec<CustomerRow>,
        keep: impl Fn(&Customer) -> bool,
    ) -> Result<Vec<Customer>> {
        let mut out = Vec::new();
        for row in rows {
            let customer = Customer {
                national_id: row
                    .national_id
                    .map(|s| s.open(&self.keyring, &row.id))
                    .transpose()?,
                id: row.id,
                name: row.name.into_inner(),
                email: row.email.into_inner(),
                card_masked: row.card_last4.map(|l| format!("**** **** **** {l}")),
                notes: row.notes.map(Encrypted::into_inner),
            };
            if keep(&customer) {
                out.push(customer);
            }
        }
        Ok(out)
    }
}

/// The first bytes of a stored value, in hex, with its length.
fn hex_prefix(bytes: &[u8]) -> String {
    let shown: String = bytes.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("{shown}… ({} bytes)", bytes.len())
}

/// A database URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
