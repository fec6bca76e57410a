//! `keyring.json`'s `document_texts`: keyring documents as raw JSON texts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::{KeyWrapper, KeyringDocument, LocalKek};
use serde_json::{Value as J, json};

use crate::keyring::class_of;

/// Keyring documents as raw texts (sections 10.1 and 10.4): member order, escapes, number
/// tokens, duplicate names and layout, which a JSON value cannot carry. `@MAC@` in a template is
/// replaced by the MAC of the document as the reference reads the text, or, where it cannot read
/// it, by the base document's MAC. A text the reference takes otherwise than the spec says is
/// recorded in `disagreements`.
pub(crate) fn document_texts(
    base: &J,
    kek: &LocalKek,
    kek_bytes: [u8; 32],
    disagreements: &mut Vec<String>,
) -> Vec<J> {
    let s = |v: &J| serde_json::to_string(v).unwrap_or_else(|e| panic!("{e}"));
    let base_mac = base["mac"].as_str().unwrap_or_default().to_owned();
    let kek_members: Vec<(String, String)> = [
        "provider",
        "fingerprint",
        "path",
        "key_fingerprint",
        "wrapped_kek",
        "generation",
    ]
    .iter()
    .map(|k| (format!("\"{k}\""), s(&base["kek"][*k])))
    .collect();
    let members = |list: &[(String, String)]| {
        list.iter()
            .map(|(n, v)| format!("{n}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let with = |extra: &[(&str, &str)]| {
        let mut list = kek_members.clone();
        list.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        members(&list)
    };
    let doc = |kek_text: &str, keys: &str, extra: &str| -> String {
        format!(
            "{{\"format\":{},\"keyring_id\":{},\"kek\":{{{kek_text}}},\"keys\":{keys},\"index_roots\":{}{extra},\"mac\":\"@MAC@\"}}",
            s(&base["format"]),
            s(&base["keyring_id"]),
            s(&base["index_roots"]),
        )
    };
    let keys = s(&base["keys"]);
    let plain = members(&kek_members);
    let pretty = serde_json::to_string_pretty(base).unwrap_or_else(|e| panic!("{e}"));
    let compact = s(base);
    let mut reversed = kek_members.clone();
    reversed.reverse();
    // Names whose UTF-8 byte order differs from their order in the text and from UTF-16 order
    // (U+1F511 sorts after U+FF21 by bytes, before it by UTF-16 code units); one written with
    // escapes, sorted by what it unescapes to.
    let mut names = reversed.clone();
    names.insert(0, ("\"🔑\"".to_owned(), "\"key\"".to_owned()));
    names.insert(1, ("\"Ａ\"".to_owned(), "\"fullwidth\"".to_owned()));
    names.push(("\"\\u00e9t\\u00e9\"".to_owned(), "\"été\"".to_owned()));
    names.push(("\"Z\"".to_owned(), "\"upper\"".to_owned()));
    names.push(("\"a\"".to_owned(), "1".to_owned()));
    let mut path_twice = kek_members.clone();
    path_twice.insert(
        2,
        ("\"path\"".to_owned(), "\"/tmp/elsewhere.key\"".to_owned()),
    );
    let setting = |value: &str| doc(&with(&[("\"cost\"", value)]), &keys, "");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "pretty-printed with a final newline, as written",
            format!("{pretty}\n"),
            "ok",
        ),
        ("compact, one line, no final newline", compact.clone(), "ok"),
        (
            "CRLF line endings",
            format!("{pretty}\n").replace('\n', "\r\n"),
            "ok",
        ),
        (
            "kek members in reverse order",
            doc(&members(&reversed), &keys, ""),
            "ok",
        ),
        (
            "kek member names bound in UTF-8 byte order, not text or UTF-16 order",
            doc(&members(&names), &keys, ""),
            "ok",
        ),
        (
            "kek setting written with escapes (bound as unescaped, then re-escaped)",
            doc(
                &with(&[("\"note\"", r#""\u0041\/\u00e9\ud83d\udd11\t\u001f\u007f""#)]),
                &keys,
                "",
            ),
            "ok",
        ),
        (
            "kek settings: integer tokens at the limits, zero and a boolean",
            doc(
                &with(&[
                    ("\"max\"", "18446744073709551615"),
                    ("\"min\"", "-9223372036854775808"),
                    ("\"zero\"", "0"),
                    ("\"yes\"", "true"),
                ]),
                &keys,
                "",
            ),
            "ok",
        ),
        ("kek setting -0", setting("-0"), "invalid_document"),
        ("kek setting 1.0", setting("1.0"), "invalid_document"),
        ("kek setting 1e2", setting("1e2"), "invalid_document"),
        (
            "kek setting 2^64",
            setting("18446744073709551616"),
            "invalid_document",
        ),
        (
            "kek setting -2^63 - 1",
            setting("-9223372036854775809"),
            "invalid_document",
        ),
        (
            "kek setting with an escaped unpaired surrogate",
            setting(r#""\ud800""#),
            "invalid_document",
        ),
        (
            "kek setting with an unescaped control character",
            setting("\"a\u{1}b\""),
            "invalid_document",
        ),
        (
            "duplicate top-level member format",
            doc(&plain, &keys, ",\"format\":\"fieldcrypt-keyring/1\""),
            "invalid_document",
        ),
        (
            "duplicate top-level member format, written with an escape",
            doc(&plain, &keys, ",\"form\\u0061t\":\"fieldcrypt-keyring/1\""),
            "invalid_document",
        ),
        (
            "duplicate kek member provider",
            doc(&with(&[("\"provider\"", "\"local\"")]), &keys, ""),
            "invalid_document",
        ),
        (
            "duplicate kek setting path (the MAC covers the last)",
            doc(&members(&path_twice), &keys, ""),
            "invalid_document",
        ),
        (
            "duplicate entry member state",
            doc(
                &plain,
                &keys.replacen(
                    "\"state\":\"retired\"",
                    "\"state\":\"retired\",\"state\":\"retired\"",
                    1,
                ),
                "",
            ),
            "invalid_document",
        ),
        (
            "duplicate unknown top-level member",
            doc(&plain, &keys, ",\"comment\":\"a\",\"comment\":\"b\""),
            "invalid_document",
        ),
        (
            "byte order mark",
            format!("\u{feff}{compact}"),
            "invalid_document",
        ),
        (
            "text after the document",
            format!("{compact}\nx"),
            "invalid_document",
        ),
        (
            "two documents",
            format!("{compact}{compact}"),
            "invalid_document",
        ),
        (
            "the document in an array",
            format!("[{compact}]"),
            "invalid_document",
        ),
        (
            "NaN in an unknown member",
            doc(&plain, &keys, ",\"comment\":NaN"),
            "invalid_document",
        ),
    ];
    cases
        .into_iter()
        .map(|(name, template, expect)| {
            let probe = template.replace("@MAC@", &base_mac);
            let mac = serde_json::from_str::<KeyringDocument>(&probe)
                .ok()
                .and_then(|d| d.mac_input().ok())
                .map(|m| URL_SAFE_NO_PAD.encode(kek.authenticate(&m)));
            let text = template.replace("@MAC@", mac.as_deref().unwrap_or(&base_mac));
            let got = match KeyringDocument::from_json(&text) {
                Ok(d) => class_of(&d, &kek_bytes),
                Err(_) => "invalid_document",
            };
            if got != expect {
                disagreements.push(format!(
                    "keyring.json document_texts {name:?}: the reference gives {got}, the spec {expect}"
                ));
            }
            json!({ "name": name, "text": text, "expect": expect })
        })
        .collect()
}
