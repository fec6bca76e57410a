//! `blind_index.json`: index values with section 11's intermediate values, normaliser lists.

use fieldcrypt::{IndexDefinition, Json, KeyId, Keyring, KeyringId, Normalizer, SecretKey, Suite};
use serde_json::{Value as J, json};

use crate::common::{hex, key};

pub(crate) fn blind_index_vectors() -> J {
    let root = key(77);
    let kr = Keyring::from_single_key(
        KeyringId([0; 16]),
        KeyId::new(1).unwrap_or_else(|| unreachable!()),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes(key(78)),
        SecretKey::from_bytes(root),
    );
    let mut v = Vec::new();
    type Case<'a> = (&'a str, &'a str, &'a str, &'a str, u16, &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (
            "customers",
            "email",
            "email_ci",
            "nfkc,trim,casefold",
            16,
            &["  Ann@Example.ORG "],
        ),
        (
            "customers",
            "email",
            "email_ci",
            "nfkc,trim,casefold",
            16,
            &["ann@example.org"],
        ),
        (
            "customers",
            "email",
            "email_ci",
            "nfkc,trim,casefold",
            32,
            &["ann@example.org"],
        ),
        (
            "customers",
            "email",
            "email_exact",
            "",
            13,
            &["Ann@Example.ORG"],
        ),
        (
            "customers",
            "national_id",
            "nid",
            "nfkc,digits",
            20,
            &["123-45-6789"],
        ),
        (
            "customers",
            "national_id",
            "nid",
            "nfkc,digits",
            20,
            &["１２３４５６７８９"],
        ),
        (
            "customers",
            "name",
            "name_ci",
            "nfkc,trim,casefold",
            8,
            &["STRASSE"],
        ),
        (
            "customers",
            "name",
            "name_ci",
            "nfkc,trim,casefold",
            8,
            &["Straße"],
        ),
        (
            "customers",
            "name+dob",
            "name_dob",
            "trim,casefold",
            24,
            &["Ann Lee", "1985-10-26"],
        ),
        ("", "", "free", "", 256, &["x"]),
        ("customers", "email", "email_exact", "", 1, &[""]),
        (
            "customers",
            "email",
            "email_exact",
            "",
            63,
            &["ann@example.org"],
        ),
        // Aliases (section 11.3): the same index as the canonical names, which go into info.
        (
            "customers",
            "email",
            "email_lc",
            "casefold",
            16,
            &["Ann@Example.ORG"],
        ),
        (
            "customers",
            "email",
            "email_lc",
            "lower",
            16,
            &["Ann@Example.ORG"],
        ),
        (
            "customers",
            "national_id",
            "nid",
            " nfkc , digits-only ,, ",
            20,
            &["123-45-6789"],
        ),
        // `trim`'s set is White_Space: not U+001C..U+001F, U+200B or U+FEFF.
        ("t", "c", "trim", "trim", 32, &["x"]),
        ("t", "c", "trim", "trim", 32, &["\u{1c}\u{1d}x\u{1e}\u{1f}"]),
        (
            "t",
            "c",
            "trim",
            "trim",
            32,
            &["\u{85}\u{a0}\u{1680}x\u{3000}\u{2029}\u{202f}"],
        ),
        ("t", "c", "trim", "trim", 32, &["\u{200b}x\u{feff}"]),
        (
            "t",
            "c",
            "trim",
            "trim",
            32,
            &["\t\n\u{b}\u{c}\r x \u{2028}\u{205f}\u{2000}\u{200a}"],
        ),
        // Full case folding: U+0130 to "i" U+0307, KELVIN SIGN to "k", U+1E9E to "ss".
        (
            "t",
            "c",
            "fold",
            "casefold",
            32,
            &["\u{130}", "\u{212a}", "\u{1e9e}"],
        ),
    ];
    for (table, column, name, norms, bits, fields) in cases {
        let def = IndexDefinition::new(*table, *column, *name, *bits)
            .normalized(Normalizer::parse_list(norms).unwrap_or_else(|e| panic!("{e}")));
        let ix = kr.blind_indexer(&def).unwrap_or_else(|e| panic!("{e}"));
        let value = ix.compute_compound(fields).expect("fields are small");
        let intermediate = index_intermediate(&root, &def, fields, &value.to_hex());
        v.push(json!({
            "table": table, "column": column, "name": name, "normalizers": norms, "bits": bits,
            "fields": fields, "index_hex": value.to_hex(), "index_int": value.to_u64().map(|x| x.to_string()),
            "intermediate": intermediate,
        }));
    }
    // How textual lists parse (section 11.3): the canonical list, or null when refused.
    let lists: Vec<J> = [
        "",
        " , ",
        "trim",
        "nfkc,trim,casefold",
        " nfkc , trim ,, casefold ,",
        "lower",
        "digits-only",
        "casefold,lower",
        "trim,trim",
        "trim,\u{a0}casefold\u{3000}",
        "Trim",
        "LOWER",
        "soundex",
        "trim;casefold",
        "\u{200b}trim",
        "trim,\u{1c}casefold",
    ]
    .iter()
    .map(|list| {
        let canonical = Normalizer::parse_list(list)
            .ok()
            .map(|steps| steps.iter().map(|n| n.name()).collect::<Vec<_>>().join(","));
        json!({ "list": list, "canonical": canonical })
    })
    .collect();
    let _ = Json(());
    json!({
        "about": "Blind-index vectors (docs/FORMAT.md section 11): index key = HKDF-SHA-256(salt \"fieldcrypt/blind-index/v1\", ikm root, info lp16(table) lp16(column) lp16(name) lp16(norms) u16be(bits)), norms the canonical normaliser names joined with ','; value = first bits of HMAC-SHA-256(index key, u32be(n) (u32be(len) field)*) over the normalised fields. intermediate: norms, the normalised fields, info, index_key, message (M) and hmac (H), in hex. normalizer_lists: textual lists and the canonical list each parses to (null: refused). count: the number of vectors; counts: the number of entries of each list.",
        "root": hex(&root),
        "count": v.len(),
        "counts": { "vectors": v.len(), "normalizer_lists": lists.len() },
        "vectors": v,
        "normalizer_lists": lists,
    })
}

/// Length 32 for aws-lc-rs's HKDF.
struct HkdfLen32;

impl aws_lc_rs::hkdf::KeyType for HkdfLen32 {
    fn len(&self) -> usize {
        32
    }
}

/// Section 11's intermediate values, computed with aws-lc-rs directly and checked against the
/// crate's index value `index_hex`.
fn index_intermediate(
    root: &[u8; 32],
    def: &IndexDefinition,
    fields: &[&str],
    index_hex: &str,
) -> J {
    use aws_lc_rs::{hkdf, hmac};
    let norms = def
        .normalizers
        .iter()
        .map(|n| n.name())
        .collect::<Vec<_>>()
        .join(",");
    let mut info = Vec::new();
    for part in [
        def.table.as_bytes(),
        def.column.as_bytes(),
        def.name.as_bytes(),
        norms.as_bytes(),
    ] {
        info.extend_from_slice(&(part.len() as u16).to_be_bytes());
        info.extend_from_slice(part);
    }
    info.extend_from_slice(&def.bits.to_be_bytes());
    let mut index_key = [0u8; 32];
    let info_parts: [&[u8]; 1] = [&info];
    hkdf::Salt::new(hkdf::HKDF_SHA256, b"fieldcrypt/blind-index/v1")
        .extract(root)
        .expand(&info_parts, HkdfLen32)
        .and_then(|okm| okm.fill(&mut index_key))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let normalized: Vec<String> = fields
        .iter()
        .map(|f| def.normalize(f).into_owned())
        .collect();
    let mut message = (normalized.len() as u32).to_be_bytes().to_vec();
    for f in &normalized {
        message.extend_from_slice(&(f.len() as u32).to_be_bytes());
        message.extend_from_slice(f.as_bytes());
    }
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &index_key), &message);
    let h = tag.as_ref().to_vec();
    let bits = usize::from(def.bits);
    let mut truncated = h[..bits.div_ceil(8)].to_vec();
    if bits % 8 != 0
        && let Some(last) = truncated.last_mut()
    {
        *last &= 0xFFu8 << (8 - bits % 8);
    }
    assert_eq!(
        hex(&truncated),
        index_hex,
        "index value from the intermediate values"
    );
    json!({
        "norms": norms,
        "normalized_fields": normalized,
        "info": hex(&info),
        "index_key": hex(&index_key),
        "message": hex(&message),
        "hmac": hex(&h),
    })
}
