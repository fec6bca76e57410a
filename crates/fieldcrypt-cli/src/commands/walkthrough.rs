//! `fieldcrypt walkthrough`: a tour of the core (the main job is now `examples/customers`).

use std::path::Path;

use anyhow::Result;
use fieldcrypt::{Context, Date, Decimal, Envelope, IndexDefinition, Json, Normalizer, Timestamp};

use crate::cli::{KeyringArg, ProviderConfig, WalkthroughArgs};
use crate::keys;

fn shorten(s: &str) -> String {
    if s.chars().count() > 58 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s.to_owned()
    }
}

pub(crate) fn run(args: &WalkthroughArgs) -> Result<()> {
    let arg = KeyringArg {
        keyring: args.dir.join("keyring.json"),
        provider: ProviderConfig::local(Some(args.dir.join("secrets").join("master.key"))),
        expect_provider: None,
        keyring_id: None,
        min_generation: None,
    };
    let loaded = if Path::new(&arg.keyring).exists() {
        println!(
            "1. Loading the keyring {} with master key {}",
            arg.keyring.display(),
            display(&arg)
        );
        keys::load(&arg)?
    } else {
        println!("1. First run: creating a master key and a keyring");
        let loaded = keys::init(
            &arg,
            &crate::cli::ProviderArgs {
                provider: "local".to_owned(),
            },
            fieldcrypt::Suite::KcXaes256Gcm,
        )?;
        println!(
            "   master key {} (mode 0600). In production it lives in a KMS or at least off the database host.",
            display(&arg)
        );
        loaded
    };
    let kr = loaded.keyring();
    println!(
        "   keyring {}: data keys are stored wrapped by the master key; key {} seals.\n",
        arg.keyring.display(),
        kr.primary()
    );

    println!(
        "2. Sealing one customer row (id 42). Every value is bound to table, column and row.\n"
    );
    println!(
        "   {:<12} {:<26} database holds",
        "column", "application sees"
    );
    let row = 42i64;
    let ctx = |column: &str| Context::new("customers", column).and_then(|c| c.with_row(row));
    let email_ctx = ctx("email")?;
    let rows: Vec<(&str, String, String)> = vec![
        (
            "email",
            "ann@example.org".into(),
            kr.seal_text(&email_ctx, "ann@example.org")?,
        ),
        (
            "national_id",
            "123-45-6789".into(),
            kr.seal_text(&ctx("national_id")?, "123-45-6789")?,
        ),
        (
            "birth_date",
            "1985-10-26".into(),
            kr.seal_text(
                &ctx("birth_date")?,
                &Date::from_ymd(1985, 10, 26).unwrap_or_else(|| Date::from_days_since_epoch(0)),
            )?,
        ),
        (
            "credit_limit",
            "2500.00 (decimal)".into(),
            kr.seal_text(&ctx("credit_limit")?, &Decimal::new("2500.00")?)?,
        ),
        (
            "vip",
            "true (bool)".into(),
            kr.seal_text(&ctx("vip")?, &true)?,
        ),
        (
            "visits",
            "17 (int)".into(),
            kr.seal_text(&ctx("visits")?, &17i64)?,
        ),
        (
            "last_login",
            "2026-11-23T08:00:00Z".into(),
            kr.seal_text(
                &ctx("last_login")?,
                &"2026-11-23T08:00:00Z".parse::<Timestamp>()?,
            )?,
        ),
        (
            "prefs",
            r#"{"news":false} (json)"#.into(),
            kr.seal_text(&ctx("prefs")?, &Json(serde_json::json!({"news": false})))?,
        ),
        (
            "notes",
            "\"\" (empty string)".into(),
            kr.seal_text(&ctx("notes")?, "")?,
        ),
    ];
    for (column, shown, stored) in &rows {
        println!("   {column:<12} {shown:<26} {}", shorten(stored));
    }
    let email = &rows[0].2;
    let header = Envelope::parse_text(email)?.header();
    println!(
        "\n   Every stored value starts with {:?}: format 1, KC-XAES-256-GCM, key {}.",
        header.text_prefix(),
        header.key_id
    );
    println!(
        "   `WHERE email LIKE '{}%'` finds the values a rotation must re-seal, without decrypting.\n",
        header.text_prefix()
    );

    println!("3. Opening them again:");
    let back: String = kr.open_text(&email_ctx, email)?;
    println!("   customers.email:42 opens to {back:?}");
    let elsewhere = Context::new("customers", "email")?.with_row(43i64)?;
    println!(
        "   the same stored value copied to row 43: {}",
        err(kr.open_text::<String>(&elsewhere, email))
    );
    println!(
        "   the national id read from the email column: {}",
        err(kr.open_text::<String>(&email_ctx, &rows[1].2))
    );
    println!(
        "   the visit count opened as a string: {}",
        err(kr.open_text::<String>(&ctx("visits")?, &rows[5].2))
    );
    let mut tampered = email.clone();
    let last = tampered
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    tampered.push(last);
    println!(
        "   one character changed: {}\n",
        err(kr.open_text::<String>(&email_ctx, &tampered))
    );

    println!(
        "4. Searching without decrypting: a blind index on email (case-insensitive, 16 bits)."
    );
    let def = IndexDefinition::new("customers", "email", "email_ci", 16)
        .normalized(Normalizer::parse_list("nfkc,trim,casefold")?);
    let ix = kr.blind_indexer(&def)?;
    for typed in ["ann@example.org", "  Ann@Example.ORG", "bob@example.org"] {
        println!("   index({typed:?}) = {}", ix.compute(typed)?.to_hex());
    }
    println!(
        "   Equal after normalising, equal index: `WHERE email_idx = $1` finds the row; 16 bits are"
    );
    println!(
        "   shared by many addresses, so the index alone does not single one out (`fieldcrypt plan-index`).\n"
    );
    println!(
        "Run it again: the keyring is reused. Next: `fieldcrypt keyring list --keyring {}`.",
        arg.keyring.display()
    );
    Ok(())
}

fn display(arg: &KeyringArg) -> String {
    arg.provider
        .master_key
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn err<T>(r: Result<T, fieldcrypt::Error>) -> String {
    match r {
        Ok(_) => "opened (unexpected!)".into(),
        Err(e) => format!("refused: {e}"),
    }
}
