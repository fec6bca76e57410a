//! The Rust side of the Python package's cross-language test
//! (`crates/fieldcrypt-py/tests/django/test_cross_language.py`): reads the rows the Django test
//! app and the SQLAlchemy test wrote, through fieldcrypt-sqlx's column types, and prints them as
//! typed JSON; writes rows of its own that Django and SQLAlchemy then read.
//!
//! ```text
//! FIELDCRYPT_MASTER_KEY=<master.key> cargo run -p fieldcrypt-sqlx --example cross_language -- \
//!     <postgres URL> <keyring.json> read-django|write-django|read-sa|write-sa
//! ```
//!
//! Tables (PostgreSQL): `testapp_everything`, `testapp_customer`, `testapp_bound` of the Django
//! test app, and `sa_cross` of the SQLAlchemy test. Output: one JSON object per line.

use fieldcrypt_sqlx::fieldcrypt::{Date, Decimal, JsonText, Timestamp};
use fieldcrypt_sqlx::prelude::*;
use serde_json::{Value as J, json};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

fieldcrypt_sqlx::column!(Char = "testapp_everything"."char" as Text);
fieldcrypt_sqlx::column!(CharBinary = "testapp_everything"."char_binary");
fieldcrypt_sqlx::column!(Text_ = "testapp_everything"."text" as Text);
fieldcrypt_sqlx::column!(Integer = "testapp_everything"."integer" as Text);
fieldcrypt_sqlx::column!(Big = "testapp_everything"."big" as Text);
fieldcrypt_sqlx::column!(Boolean = "testapp_everything"."boolean" as Text);
fieldcrypt_sqlx::column!(Floating = "testapp_everything"."floating" as Text);
fieldcrypt_sqlx::column!(Amount = "testapp_everything"."amount" as Text);
fieldcrypt_sqlx::column!(Day = "testapp_everything"."day" as Text);
fieldcrypt_sqlx::column!(Moment = "testapp_everything"."moment" as Text);
fieldcrypt_sqlx::column!(Data = "testapp_everything"."data" as Text);
fieldcrypt_sqlx::column!(Blob = "testapp_everything"."blob");
fieldcrypt_sqlx::column!(BlobText = "testapp_everything"."blob_text" as Text);
fieldcrypt_sqlx::column!(CustomerEmail = "testapp_customer"."email" as Text,
    index "email_index" (trim, casefold), rows 100_000);
fieldcrypt_sqlx::column!(NationalId = "testapp_customer"."national_id" as Text);
fieldcrypt_sqlx::column!(BoundSecret = "testapp_bound"."secret" as Text);
fieldcrypt_sqlx::column!(SaEmail = "sa_cross"."email" as Text,
    index "email_index" (trim, casefold), rows 100_000);
fieldcrypt_sqlx::column!(SaAmount = "sa_cross"."amount" as Text);
fieldcrypt_sqlx::column!(SaMoment = "sa_cross"."moment" as Text);
fieldcrypt_sqlx::column!(SaData = "sa_cross"."data" as Text);
fieldcrypt_sqlx::column!(SaBlob = "sa_cross"."blob");

type Error = Box<dyn std::error::Error>;

/// The exact index of `national_id` (63 bits, no normaliser), as the Django model defines it.
fn national_id_index() -> Result<BlindIndex, Error> {
    let definition = fieldcrypt_sqlx::fieldcrypt::IndexDefinition::new(
        "testapp_customer",
        "national_id",
        "national_id_index",
        63,
    );
    Ok(BlindIndex::new(definition)?)
}

fn opt<T, C: fieldcrypt_sqlx::Column>(
    row: &PgRow,
    name: &str,
    show: impl Fn(&T) -> J,
) -> Result<J, Error>
where
    T: fieldcrypt_sqlx::fieldcrypt::Decode + fieldcrypt_sqlx::fieldcrypt::Encode,
    Encrypted<T, C>: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    let value: Option<Encrypted<T, C>> = row.try_get(name)?;
    Ok(value.map_or(J::Null, |v| show(v.plaintext())))
}

fn hex(bytes: &[u8]) -> J {
    J::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

async fn read_django(pool: &PgPool) -> Result<(), Error> {
    let keyring = fieldcrypt_sqlx::installed()?;
    for row in sqlx::query("SELECT * FROM testapp_everything ORDER BY id")
        .fetch_all(pool)
        .await?
    {
        let id: i64 = row.try_get("id")?;
        let line = json!({
            "table": "everything",
            "id": id,
            "char": opt::<String, Char>(&row, "char", |v| json!(v))?,
            "char_binary": opt::<String, CharBinary>(&row, "char_binary", |v| json!(v))?,
            "text": opt::<String, Text_>(&row, "text", |v| json!(v))?,
            "integer": opt::<i64, Integer>(&row, "integer", |v| json!(v))?,
            "big": opt::<i64, Big>(&row, "big", |v| json!(v))?,
            "boolean": opt::<bool, Boolean>(&row, "boolean", |v| json!(v))?,
            "floating": opt::<f64, Floating>(&row, "floating", |v| json!(v))?,
            "amount": opt::<Decimal, Amount>(&row, "amount", |v| json!(v.as_str()))?,
            "day": opt::<Date, Day>(&row, "day", |v| json!(v.to_string()))?,
            "moment": opt::<Timestamp, Moment>(&row, "moment", |v| json!(v.to_string()))?,
            "data": opt::<JsonText, Data>(&row, "data", |v| {
                serde_json::from_str(v.as_str()).unwrap_or(J::Null)
            })?,
            "blob": opt::<Vec<u8>, Blob>(&row, "blob", |v| hex(v))?,
            "blob_text": opt::<Vec<u8>, BlobText>(&row, "blob_text", |v| hex(v))?,
        });
        println!("{line}");
    }
    let national = national_id_index()?;
    for row in sqlx::query("SELECT * FROM testapp_customer ORDER BY id")
        .fetch_all(pool)
        .await?
    {
        let email: Encrypted<String, CustomerEmail> = row.try_get("email")?;
        let national_id: Option<Encrypted<String, NationalId>> = row.try_get("national_id")?;
        let index = CustomerEmail::blind_index()?;
        println!(
            "{}",
            json!({
                "table": "customer",
                "id": row.try_get::<i64, _>("id")?,
                "email": email.plaintext(),
                "email_index": row.try_get::<Option<i64>, _>("email_index")?,
                "email_index_rust": index.value(&keyring, email.plaintext())?.get(),
                "national_id": national_id.as_ref().map(|n| n.plaintext().clone()),
                "national_id_index": row.try_get::<Option<i64>, _>("national_id_index")?,
                "national_id_index_rust": national_id
                    .as_ref()
                    .map(|n| national.value(&keyring, n.plaintext()).map(|v| v.get()))
                    .transpose()?,
            })
        );
    }
    for row in sqlx::query("SELECT id::text AS id, secret FROM testapp_bound ORDER BY id")
        .fetch_all(pool)
        .await?
    {
        let id: String = row.try_get("id")?;
        let secret: Option<Sealed<String, BoundSecret>> = row.try_get("secret")?;
        let secret = secret.map(|s| s.open(&keyring, id.as_str())).transpose()?;
        println!("{}", json!({"table": "bound", "id": id, "secret": secret}));
    }
    Ok(())
}

async fn read_sa(pool: &PgPool) -> Result<(), Error> {
    let keyring = fieldcrypt_sqlx::installed()?;
    {
        for row in sqlx::query("SELECT * FROM sa_cross ORDER BY id")
            .fetch_all(pool)
            .await?
        {
            let email: Encrypted<String, SaEmail> = row.try_get("email")?;
            let index = SaEmail::blind_index()?;
            println!(
                "{}",
                json!({
                    "table": "sa_cross",
                    "id": row.try_get::<i64, _>("id")?,
                    "email": email.plaintext(),
                    "email_index": row.try_get::<Option<i64>, _>("email_index")?,
                    "email_index_rust": index.value(&keyring, email.plaintext())?.get(),
                    "amount": opt::<Decimal, SaAmount>(&row, "amount", |v| json!(v.as_str()))?,
                    "moment": opt::<Timestamp, SaMoment>(&row, "moment", |v| json!(v.to_string()))?,
                    "data": opt::<JsonText, SaData>(&row, "data", |v| {
                        serde_json::from_str(v.as_str()).unwrap_or(J::Null)
                    })?,
                    "blob": opt::<Vec<u8>, SaBlob>(&row, "blob", |v| hex(v))?,
                })
            );
        }
    }
    Ok(())
}

async fn write_django(pool: &PgPool) -> Result<(), Error> {
    let keyring = fieldcrypt_sqlx::installed()?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO testapp_everything (char, char_binary, text, integer, big, boolean, floating, \
         amount, day, moment, data, blob, blob_text, plain) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0) RETURNING id",
    )
    .bind(Char::new("from Rust ✓".to_owned()))
    .bind(CharBinary::new("binary from Rust".to_owned()))
    .bind(Text_::new(String::new()))
    .bind(Integer::new(-42_i64))
    .bind(Big::new(i64::MIN))
    .bind(Boolean::new(false))
    .bind(Floating::new(-0.5_f64))
    .bind(Amount::new(Decimal::new("-1234.50")?))
    .bind(Day::new("2024-02-29".parse::<Date>()?))
    .bind(Moment::new(
        "2024-03-31T01:30:00.123456Z".parse::<Timestamp>()?,
    ))
    .bind(Data::new(JsonText::new(
        r#"{"nested":[1,2.5,null,{"k":"v"}],"ok":true}"#,
    )?))
    .bind(Blob::new(vec![0_u8, 1, 2, 255]))
    .bind(BlobText::new(vec![0xfc_u8, 0]))
    .fetch_one(pool)
    .await?;
    println!("{}", json!({"table": "everything", "id": id}));

    let email = "Rust@Example.org";
    let (sealed, index) = CustomerEmail::indexed(email)?;
    let national = national_id_index()?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO testapp_customer (name, email, email_index, national_id, national_id_index) \
         VALUES ('rust', $1, $2, $3, $4) RETURNING id",
    )
    .bind(sealed)
    .bind(index)
    .bind(NationalId::new("555-12-3456".to_owned()))
    .bind(national.value(&keyring, "555-12-3456")?)
    .fetch_one(pool)
    .await?;
    println!("{}", json!({"table": "customer", "id": id}));

    // The key exists before the INSERT (Django's UUIDField(default=uuid4) does the same).
    let bound_id: String = sqlx::query_scalar("SELECT gen_random_uuid()::text")
        .fetch_one(pool)
        .await?;
    sqlx::query("INSERT INTO testapp_bound (id, secret) VALUES ($1::uuid, $2)")
        .bind(&bound_id)
        .bind(BoundSecret::seal(
            &keyring,
            bound_id.as_str(),
            "sealed by Rust",
        )?)
        .execute(pool)
        .await?;
    println!("{}", json!({"table": "bound", "id": bound_id}));
    Ok(())
}

async fn write_sa(pool: &PgPool) -> Result<(), Error> {
    {
        let (email, index) = SaEmail::indexed("Rust@Example.org")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sa_cross (id, email, email_index, amount, moment, data, blob) \
             VALUES (1000, $1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(email)
        .bind(index)
        .bind(SaAmount::new(Decimal::new("0.05")?))
        .bind(SaMoment::new("1999-12-31T23:59:59Z".parse::<Timestamp>()?))
        .bind(SaData::new(JsonText::new(r#"[1,"two",{"3":null}]"#)?))
        .bind(SaBlob::new(b"rust".to_vec()))
        .fetch_one(pool)
        .await?;
        println!("{}", json!({"table": "sa_cross", "id": id}));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, keyring, mode] = args.as_slice() else {
        return Err(
            "usage: cross_language <postgres URL> <keyring.json> read-django|write-django|read-sa|write-sa"
                .into(),
        );
    };
    fieldcrypt_sqlx::install_local(keyring)?;
    let pool = PgPool::connect(url).await?;
    match mode.as_str() {
        "read-django" => read_django(&pool).await,
        "write-django" => write_django(&pool).await,
        "read-sa" => read_sa(&pool).await,
        "write-sa" => write_sa(&pool).await,
        other => Err(format!("unknown mode {other:?}").into()),
    }
}
