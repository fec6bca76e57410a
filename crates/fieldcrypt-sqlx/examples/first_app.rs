//! Your first app: an existing sqlx app's `users` table with an encrypted, searchable email
//! and a social security number bound to its row. The lines marked `// fieldcrypt` are all the
//! encryption adds to the plain app (docs/SQLX.md, "Your first app").
//!
//! ```text
//! cargo run -p fieldcrypt-sqlx --example first_app                       # SQLite, ./first-app/
//! DATABASE_URL=postgres://postgres@127.0.0.1/test cargo run -p fieldcrypt-sqlx --example first_app
//! DATABASE_URL=mysql://root@127.0.0.1/test cargo run -p fieldcrypt-sqlx --example first_app
//! ```
//!
//! The keyring is created on the first run (and its master key, in `~/.config/fieldcrypt/` or
//! where `FIELDCRYPT_MASTER_KEY` says), and reopened on every later one.

use fieldcrypt_sqlx::prelude::*; // fieldcrypt

fieldcrypt_sqlx::column!(Email = "users"."email", index "email_idx" (nfkc, trim, casefold), rows 100_000); // fieldcrypt
fieldcrypt_sqlx::column!(Ssn = "users"."ssn"); // fieldcrypt

#[derive(sqlx::FromRow)]
struct User {
    id: i64,
    email: Encrypted<String, Email>,  // fieldcrypt (was String)
    ssn: Option<Sealed<String, Ssn>>, // fieldcrypt (was Option<String>)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or("sqlite://first-app/app.db?mode=rwc".into());
    let dir = std::env::var("FIRST_APP_DIR").unwrap_or("first-app".into());
    std::fs::create_dir_all(&dir)?;
    let sql = Sql::for_url(&url);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&url).await?;
    let keyring = install_local(format!("{dir}/keyring.json"))?; // fieldcrypt

    sqlx::query(sql.create).execute(&pool).await?;
    sqlx::query(sql.index).execute(&pool).await?;
    sqlx::query("DELETE FROM users WHERE id <= 3")
        .execute(&pool)
        .await?;
    for (id, address, ssn) in [
        (1_i64, "ann@example.org", "078-05-1120"),
        (2, "Bob@Example.org", "219-09-9999"),
        (3, "carol@example.org", "457-55-5462"),
    ] {
        let (email, email_idx) = Email::indexed(address)?; // fieldcrypt
        sqlx::query(sql.insert)
            .bind(id)
            .bind(email)
            .bind(email_idx) // fieldcrypt
            .bind(Ssn::seal(&keyring, id, ssn)?) // fieldcrypt (was .bind(ssn))
            .execute(&pool)
            .await?;
    }

    // Find a user by email, whatever the case and spaces: one parameter on every database.
    let wanted = "  BOB@example.ORG ";
    let search = Email::search(wanted)?; // fieldcrypt
    let rows: Vec<User> = sqlx::query_as(sql.find)
        .bind(search.json()) // fieldcrypt (was .bind(wanted))
        .fetch_all(&pool)
        .await?;
    let found = search.keep(rows, |u| u.email.plaintext()); // fieldcrypt
    for u in &found {
        let ssn = u.ssn.open(&keyring, u.id)?; // fieldcrypt
        println!(
            "found {wanted:?}: user {} <{}> ssn {ssn:?}",
            u.id,
            u.email.plaintext() // fieldcrypt (was u.email)
        );
    }
    assert_eq!(found.len(), 1);

    // Everyone; what the database holds is envelopes only.
    let users: Vec<User> =
        sqlx::query_as("SELECT id, email, ssn FROM users WHERE id <= 3 ORDER BY id")
            .fetch_all(&pool)
            .await?;
    for u in &users {
        println!("{} {}", u.id, u.email.plaintext()); // fieldcrypt (was u.email)
    }
    let stored: Vec<u8> = sqlx::query_scalar("SELECT email FROM users WHERE id = 1")
        .fetch_one(&pool)
        .await?;
    println!(
        "the database holds {} bytes for ann's email, starting {:02x?}",
        stored.len(),
        &stored[..7]
    );
    Ok(())
}

/// The app's SQL, per database (the app's own business: nothing here is fieldcrypt's).
struct Sql {
    create: &'static str,
    index: &'static str,
    insert: &'static str,
    find: &'static str,
}

impl Sql {
    fn for_url(url: &str) -> Self {
        if url.starts_with("postgres") {
            Sql {
                create: "CREATE TABLE IF NOT EXISTS users (id BIGINT PRIMARY KEY, email BYTEA NOT NULL, email_idx BIGINT NOT NULL, ssn BYTEA)",
                index: "CREATE INDEX IF NOT EXISTS users_email_idx ON users (email_idx)",
                insert: "INSERT INTO users (id, email, email_idx, ssn) VALUES ($1, $2, $3, $4)",
                find: "SELECT id, email, ssn FROM users WHERE email_idx IN (SELECT value::int8 FROM json_array_elements_text($1::json))",
            }
        } else if url.starts_with("mysql") || url.starts_with("mariadb") {
            Sql {
                create: "CREATE TABLE IF NOT EXISTS users (id BIGINT PRIMARY KEY, email BLOB NOT NULL, email_idx BIGINT NOT NULL, ssn BLOB, INDEX users_email_idx (email_idx))",
                index: "SELECT 1",
                insert: "INSERT INTO users (id, email, email_idx, ssn) VALUES (?, ?, ?, ?)",
                find: "SELECT id, email, ssn FROM users WHERE email_idx IN (SELECT v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS j)",
            }
        } else {
            Sql {
                create: "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email BLOB NOT NULL, email_idx BIGINT NOT NULL, ssn BLOB)",
                index: "CREATE INDEX IF NOT EXISTS users_email_idx ON users (email_idx)",
                insert: "INSERT INTO users (id, email, email_idx, ssn) VALUES (?, ?, ?, ?)",
                find: "SELECT id, email, ssn FROM users WHERE email_idx IN (SELECT value FROM json_each(?))",
            }
        }
    }
}
