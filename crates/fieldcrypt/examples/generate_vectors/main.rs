//! Writes the language-neutral vectors in `testdata/vectors/` (deterministic: fixed keys and
//! nonces): `envelope.json`, `negative.json`, `blind_index.json`, `keyring.json` and
//! `stream.json`.
//!
//! ```text
//! cargo run -p fieldcrypt --example generate_vectors -- testdata/vectors
//! ```
//!
//! Every value is produced by the crate and checked here against the spec (intermediate values
//! are recomputed with aws-lc-rs and RustCrypto directly, not through the crate's backend). Where
//! the spec decides something the crate cannot be asked about (the provider steps of
//! docs/FORMAT.md section 10.6, which live in `fieldcrypt-kms`, and the master-key file), this
//! example mirrors `fieldcrypt-kms` and says so. When the crate disagrees with a vector's expected
//! outcome, the files are still written, the disagreements are listed, and the exit status is 1.
//!
//! The vectors are checked by `tests/format_vectors.rs` and, independently of this crate, by
//! `tools/verify_vectors.py` (Python, using only the `cryptography` package's primitives).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod blind_index;
mod common;
mod envelope;
mod keyring;
mod negative;
mod provider;
mod stream;
mod texts;

use std::path::PathBuf;

use fieldcrypt::{Date, Decimal, JsonText, Suite, Timestamp, Value};
use serde_json::{Value as J, json};

use crate::blind_index::blind_index_vectors;
use crate::common::ctx_json;
use crate::envelope::{context_limits, json_payloads, known_answer};
use crate::keyring::keyring_vectors;
use crate::negative::negative_vectors;
use crate::stream::stream_vectors;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "testdata/vectors".into()),
    );
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));

    let values: Vec<(&str, Value)> = vec![
        ("string", Value::String("ann@example.org".into())),
        ("empty string", Value::String(String::new())),
        (
            "unicode string",
            Value::String("Zoë 🔐 Ελληνικά 中文".into()),
        ),
        ("bytes", Value::Bytes(vec![0, 1, 2, 0xFF, 0xFE])),
        ("empty bytes", Value::Bytes(vec![])),
        ("int", Value::Int(42)),
        ("negative int", Value::Int(-1)),
        ("int min", Value::Int(i64::MIN)),
        ("int max", Value::Int(i64::MAX)),
        ("float", Value::Float(3.5)),
        ("negative zero", Value::Float(-0.0)),
        ("nan", Value::Float(f64::NAN)),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        (
            "date",
            Value::Date(Date::from_ymd(1985, 10, 26).unwrap_or_else(|| unreachable!())),
        ),
        (
            "date before epoch",
            Value::Date(Date::from_ymd(1969, 7, 20).unwrap_or_else(|| unreachable!())),
        ),
        (
            "timestamp",
            Value::Timestamp(
                Timestamp::new(499_162_800, 123_456_789).unwrap_or_else(|| unreachable!()),
            ),
        ),
        (
            "timestamp before epoch",
            Value::Timestamp(Timestamp::new(-1, 0).unwrap_or_else(|| unreachable!())),
        ),
        (
            "decimal",
            Value::Decimal(Decimal::new("-1234.50").unwrap_or_else(|e| panic!("{e}"))),
        ),
        (
            "json",
            Value::Json(JsonText::from_value(
                &json!({"a": [1, 2.5, null, true], "b": "x"}),
            )),
        ),
        ("long string", Value::String("0123456789abcdef".repeat(64))),
    ];
    let contexts = [
        ctx_json("customers", "email", None, None),
        ctx_json("customers", "email", Some("42"), None),
        ctx_json(
            "customers",
            "notes",
            Some("0190c1f2-7d3a-7cc4-9a2b-1f0e6a1b2c3d"),
            Some("acme"),
        ),
    ];

    let mut kat = Vec::new();
    let mut n = 0u8;
    for suite in Suite::ALL {
        for (i, (name, value)) in values.iter().enumerate() {
            n = n.wrapping_add(1);
            let key_id = [1u32, 7, 4_294_967_295][i % 3];
            let c = &contexts[i % contexts.len()];
            kat.push(known_answer(
                &format!("{} {name}", suite.slug()),
                suite,
                key_id,
                n,
                c,
                value,
            ));
        }
    }
    // Appended after the vectors above, which keep their bytes: years outside 0..=9999 (how
    // `value` writes them), JSON texts that a generic reader keeps as they are, and contexts
    // with empty or absent parts (section 6).
    let json_value =
        |text: &str| Value::Json(JsonText::new(text).unwrap_or_else(|e| panic!("{e}")));
    let more_values: Vec<(&str, Value)> = vec![
        (
            "date year 10000",
            Value::Date(Date::from_ymd(10_000, 1, 1).unwrap_or_else(|| unreachable!())),
        ),
        (
            "date year -1",
            Value::Date(Date::from_ymd(-1, 12, 31).unwrap_or_else(|| unreachable!())),
        ),
        (
            "date i32 min",
            Value::Date(Date::from_days_since_epoch(i32::MIN)),
        ),
        (
            "date i32 max",
            Value::Date(Date::from_days_since_epoch(i32::MAX)),
        ),
        ("json number beyond binary64", json_value("[1e400,-1e400]")),
        (
            "json numbers kept digit for digit",
            json_value("[123456789012345678901234567890,1.10,-0,1E+2]"),
        ),
        ("json escaped unpaired surrogate", json_value("\"\\ud800\"")),
        (
            "json duplicate member names",
            json_value("{\"a\":1,\"a\":2}"),
        ),
        (
            "json nested 127 deep",
            json_value(&format!("{}{}", "[".repeat(127), "]".repeat(127))),
        ),
    ];
    let edge_contexts = [
        (
            "empty row key",
            ctx_json("customers", "email", Some(""), None),
        ),
        (
            "tenant without a row key",
            ctx_json("customers", "email", None, Some("acme")),
        ),
        (
            "empty tenant",
            ctx_json("customers", "email", None, Some("")),
        ),
        (
            "empty row key and empty tenant",
            ctx_json("customers", "email", Some(""), Some("")),
        ),
        (
            "non-ASCII names",
            ctx_json("Kunden", "E-Mail-Adresse", Some("Zoë"), Some("Ελλάδα")),
        ),
    ];
    let mut n = 100u8;
    for suite in Suite::ALL {
        for (i, (name, value)) in more_values.iter().enumerate() {
            n = n.wrapping_add(1);
            kat.push(known_answer(
                &format!("{} {name}", suite.slug()),
                suite,
                [1u32, 7, 4_294_967_295][i % 3],
                n,
                &contexts[i % contexts.len()],
                value,
            ));
        }
        for (name, c) in &edge_contexts {
            n = n.wrapping_add(1);
            kat.push(known_answer(
                &format!("{} context: {name}", suite.slug()),
                suite,
                7,
                n,
                c,
                &Value::String("ann@example.org".into()),
            ));
        }
    }
    let payloads = json_payloads();
    let limits = context_limits();
    write(
        &out.join("envelope.json"),
        json!({
            "about": "Known-answer vectors for the fieldcrypt envelope (docs/FORMAT.md). Seal typed_plaintext with the suite under key and nonce, associated data aad (header || context encoding); envelope_binary and envelope_text are the two forms of the result. intermediate: the values of section 2 for the vector's key and nonce (l = AES_K(0^16), k1, kx, gcm_nonce = N[12:], and for KC-XAES x1 and commitment; null for XAES). Values: strings as given, bytes in hex, int in decimal, float as the hex of its IEEE 754 bits, bool as a JSON boolean, date as YYYY-MM-DD (years outside 0..=9999 with a sign and at least four digits), timestamp as RFC 3339 in UTC, decimal and json as their text. json_payloads: json payloads (the bytes after the tag) with what a generic reader and a typed reader (section 7) must do: ok, invalid_value or may_refuse. context_limits: contexts made of char repeated table_chars, column_chars, row_chars and tenant_chars times (null: absent), and whether building them succeeds (ok) or fails with invalid_context (section 6). count: the number of vectors; counts: the number of entries of each list.",
            "count": kat.len(),
            "counts": {
                "vectors": kat.len(),
                "json_payloads": payloads.len(),
                "context_limits": limits.len(),
            },
            "vectors": kat,
            "json_payloads": payloads,
            "context_limits": limits,
        }),
    );

    write(&out.join("negative.json"), negative_vectors());
    write(&out.join("blind_index.json"), blind_index_vectors());
    write(&out.join("stream.json"), stream_vectors());
    let (keyring_file, disagreements) = keyring_vectors();
    write(&out.join("keyring.json"), keyring_file);
    if !disagreements.is_empty() {
        eprintln!(
            "The files are written, but the reference implementation disagrees with the spec on {} vector(s):",
            disagreements.len()
        );
        for d in &disagreements {
            eprintln!("  {d}");
        }
        std::process::exit(1);
    }
}

fn write(path: &std::path::Path, value: J) {
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path, text + "\n").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {}", path.display());
}
