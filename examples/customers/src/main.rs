//! # customers: the fieldcrypt example application
//!
//! A customers table whose name, email, national ID, card number and notes are encrypted, with
//! case-insensitive email search and exact national-ID search through blind indexes. SQLite by
//! default (a file and a key created on first run); PostgreSQL or MySQL/MariaDB given a URL.
//!
//! ```text
//! cargo run --release -p customers                      # the demo, on SQLite
//! cargo run --release -p customers -- --database-url postgres://postgres@127.0.0.1/test demo
//! cargo run --release -p customers -- find-email ' ANN@example.org'
//! cargo run --release -p customers -- bench --rows 100000
//! ```

#![forbid(unsafe_code)]

mod bench;
mod schema;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::{Parser, Subcommand};
use fieldcrypt_kms::LocalKeyring;

use crate::store::{Customer, NewCustomer, Store};

#[derive(Parser)]
#[command(
    version,
    about = "Encrypted, searchable customer records with fieldcrypt and sqlx"
)]
struct Cli {
    /// Database URL: sqlite:PATH, postgres://.., mysql://..
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://fieldcrypt-demo/customers.db?mode=rwc",
        global = true
    )]
    database_url: String,
    /// The keyring file; created with a new master key on first run.
    #[arg(
        long,
        env = "FIELDCRYPT_KEYRING",
        default_value = "fieldcrypt-demo/keyring.json",
        global = true
    )]
    keyring: PathBuf,
    /// The master key file (default: ~/.config/fieldcrypt/master.key; the path a keyring
    /// records is never followed).
    #[arg(long, env = "FIELDCRYPT_MASTER_KEY", global = true)]
    master_key: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Add sample customers (first run), search them, and show what the database holds.
    Demo,
    /// Add a customer.
    Add {
        /// Full name.
        #[arg(long)]
        name: String,
        /// Email address.
        #[arg(long)]
        email: String,
        /// National ID number.
        #[arg(long)]
        national_id: Option<String>,
        /// Card number.
        #[arg(long)]
        card: Option<String>,
        /// Notes.
        #[arg(long)]
        notes: Option<String>,
    },
    /// Find customers by email (case and surrounding spaces ignored).
    FindEmail {
        /// The email address.
        email: String,
    },
    /// Find customers by national ID (digits only compared).
    FindNationalId {
        /// The national ID number.
        national_id: String,
    },
    /// List customers.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Drop the customers table (and its rows), to start over.
    Reset,
    /// Insert and read back rows, encrypted and in plaintext, on PostgreSQL and SQLite.
    Bench(bench::BenchArgs),
}

#[tokio::main]
async fn main() {
    if let Err(err) = run(Cli::parse()).await {
        // One line per cause, never a value: errors carry no plaintext or key material.
        eprintln!("customers: {err:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    if let Some(Command::Bench(args)) = &cli.command {
        return bench::run(args).await;
    }
    if let Some(dir) = sqlite_dir(&cli.database_url) {
        std::fs::create_dir_all(dir)?;
    }
    let keys = LocalKeyring::open_or_create(
        &cli.keyring,
        cli.master_key.as_deref(),
        fieldcrypt::Suite::KcXaes256Gcm,
    )?;
    if keys.was_created() {
        println!(
            "first run: created keyring {} wrapped by master key {}{}",
            keys.path().display(),
            keys.master_key_path().display(),
            if keys.created_master_key() {
                " (new, mode 0600)"
            } else {
                ""
            }
        );
    }
    let store = Store::open(&cli.database_url, Arc::new(keys.into_keyring())).await?;
    match cli.command.unwrap_or(Command::Demo) {
        Command::Demo => demo(&store, &cli.database_url).await,
        Command::Add {
            name,
            email,
            national_id,
            card,
            notes,
        } => {
            let id = store
                .add(&NewCustomer {
                    name,
                    email,
                    national_id,
                    card_number: card,
                    notes,
                })
                .await?;
            println!("{id}");
            Ok(())
        }
        Command::FindEmail { email } => print_all(&store.find_by_email(&email).await?),
        Command::FindNationalId { national_id } => {
            print_all(&store.find_by_national_id(&national_id).await?)
        }
        Command::List { limit } => print_all(&store.list(limit).await?),
        Command::Reset => {
            store.drop_table().await?;
            println!("dropped table customers");
            Ok(())
        }
        Command::Bench(_) => Ok(()),
    }
}

/// The directory of a `sqlite:` URL's file, to create before connecting.
fn sqlite_dir(url: &str) -> Option<&std::path::Path> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
}

fn print_all(customers: &[Customer]) -> Result<()> {
    if customers.is_empty() {
        println!("(none)");
    }
    for c in customers {
        print_customer(c);
    }
    Ok(())
}

fn print_customer(c: &Customer) {
    println!(
        "  {} | {} | {} | national id {} | card {} | {}",
        c.id,
        c.name,
        c.email,
        c.national_id.as_deref().unwrap_or("-"),
        c.card_masked.as_deref().unwrap_or("-"),
        c.notes.as_deref().unwrap_or("")
    );
}

async fn demo(store: &Store, url: &str) -> Result<()> {
    println!(
        "database: {} ({:?})",
        store::redact_url(url),
        store.dialect()
    );
    if store.count().await? == 0 {
        println!("\n1. Adding three customers (each field sealed before it leaves the process)");
        for customer in samples() {
            store.add(&customer).await?;
        }
    } else {
        println!("\n1. The table already holds customers; not adding more");
    }

    println!("\n2. What the application sees");
    let all = store.list(5).await?;
    print_all(&all)?;

    println!("\n3. What the database holds for the first of them");
    if let Some(first) = all.first() {
        for (column, value) in store.raw(&first.id).await? {
            println!("  {column:<16} {value}");
        }
    }

    println!("\n4. Search without decrypting the table: email ' ANN@Example.org ' (any case)");
    print_all(&store.find_by_email(" ANN@Example.org ").await?)?;
    println!("   national ID '123 45 6789' (digits compared)");
    print_all(&store.find_by_national_id("123 45 6789").await?)?;

    if let [first, second, ..] = all.as_slice() {
        println!("\n5. The card number opens for its own row only");
        let card = store.card_number(&first.id).await?.unwrap_or_default();
        println!(
            "  {}'s card, opened for a payment: {} digits",
            first.name,
            card.len()
        );
        let err = store.try_copied_card(&first.id, &second.id).await?;
        println!(
            "  copied into {}'s row, it does not open: {err}",
            second.name
        );
    }
    Ok(())
}

fn samples() -> Vec<NewCustomer> {
    vec![
        NewCustomer {
            name: "Ann Lee".into(),
            email: "ann@example.org".into(),
            national_id: Some("123-45-6789".into()),
            card_number: Some("4111 1111 1111 1111".into()),
            notes: Some("Prefers email. Allergic to penicillin.".into()),
        },
        NewCustomer {
            name: "Bruno Díaz".into(),
            email: "bruno.diaz@example.com".into(),
            national_id: Some("987-65-4321".into()),
            card_number: Some("5500 0000 0000 0004".into()),
            notes: None,
        },
        NewCustomer {
            name: "Chloé Martin".into(),
            email: "Chloe.Martin@example.fr".into(),
            national_id: None,
            card_number: None,
            notes: Some("VIP since 2019".into()),
        },
    ]
}
