//! `keyring.json`'s provider level (sections 10.5, 10.6), master-key files, Argon2id settings.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::{KeyWrapper, KeyringDocument, KeyringId, LocalKek, SecretKey};
use serde_json::{Value as J, json};

use crate::common::{B64URL, hex};
use crate::keyring::{class_of, kek_wrap_context};

/// A configured local provider and the pins (section 10.6).
pub(crate) struct LocalConfig {
    pub(crate) master: [u8; 32],
    pub(crate) min_generation: Option<u64>,
    pub(crate) keyring_id: Option<String>,
}

/// `base` with the members `overrides` gives (`master_key`, `min_generation`, `keyring_id`).
pub(crate) fn apply_config(base: &LocalConfig, overrides: &J) -> LocalConfig {
    let key32 = |v: &J| -> [u8; 32] {
        let text = v.as_str().unwrap_or_default();
        let bytes: Vec<u8> = (0..text.len() / 2)
            .map(|i| {
                u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        bytes
            .try_into()
            .unwrap_or_else(|_| panic!("a 32-byte key in hex"))
    };
    LocalConfig {
        master: overrides.get("master_key").map_or(base.master, key32),
        min_generation: overrides
            .get("min_generation")
            .map_or(base.min_generation, J::as_u64),
        keyring_id: overrides
            .get("keyring_id")
            .map_or(base.keyring_id.clone(), |v| v.as_str().map(str::to_owned)),
    }
}

/// How a reader configured with `config` takes `document`: every step of section 10.6. The
/// provider steps mirror `fieldcrypt_kms::UnlockedKeyring::open_pinned` with a `MasterKeyFile`
/// (this crate cannot call it; `fieldcrypt-kms`'s tests should read `provider_documents` through
/// it), then `Keyring::from_document` with the unwrapped KEK.
pub(crate) fn provider_document_class(document: &J, config: &LocalConfig) -> &'static str {
    let Ok(doc) = serde_json::from_value::<KeyringDocument>(document.clone()) else {
        return "invalid_document";
    };
    let Ok(id) = doc.keyring_id.parse::<KeyringId>() else {
        return "invalid_document";
    };
    if config
        .keyring_id
        .as_ref()
        .is_some_and(|pinned| *pinned != doc.keyring_id)
    {
        return "not_pinned";
    }
    let generation = match doc.kek.settings.get("generation") {
        None => Some(0),
        Some(v) => v.as_u64(),
    };
    let Some(generation) = generation else {
        return "invalid_document";
    };
    if config.min_generation.is_some_and(|min| generation < min) {
        return "rolled_back";
    }
    if doc.kek.provider != "local" {
        return "provider_mismatch";
    }
    // The configured provider records `path` (informational, not compared) and
    // `key_fingerprint`, the fingerprint of the configured master key.
    let master = LocalKek::new(&SecretKey::from_bytes(config.master));
    if doc.kek.settings.get("key_fingerprint") != Some(&json!(master.fingerprint())) {
        return "provider_mismatch";
    }
    let Some(wrapped) = doc
        .kek
        .settings
        .get("wrapped_kek")
        .and_then(J::as_str)
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
    else {
        return "invalid_document";
    };
    let Ok(kek) = KeyWrapper::unwrap(&master, &kek_wrap_context(id), &wrapped) else {
        return "unwrap_failed";
    };
    class_of(&doc, kek.expose())
}

/// How `fieldcrypt-kms`'s `MasterKeyFile::open` takes a file of `bytes` with permission bits
/// `mode` owned by the reader (section 10.3), mirrored: this crate cannot call it.
fn master_key_file_key(bytes: &[u8], mode: u32) -> Option<[u8; 32]> {
    if mode & 0o077 != 0 {
        return None;
    }
    let read = &bytes[..bytes.len().min(256)];
    let text = std::str::from_utf8(read).ok()?;
    let b64 = text
        .trim_end_matches(['\n', '\r'])
        .strip_prefix("fieldcrypt-master-key-v1:")?;
    URL_SAFE_NO_PAD.decode(b64).ok()?.try_into().ok()
}

/// Master-key files (section 10.3): contents, permission bits, and the key read (or none).
pub(crate) fn master_key_files(master: &[u8; 32]) -> Vec<J> {
    const PREFIX: &str = "fieldcrypt-master-key-v1:";
    let line = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(master));
    let b = |s: &str| s.as_bytes().to_vec();
    let last = line.chars().next_back().unwrap_or('A');
    let index = B64URL.find(last).unwrap_or(0);
    let non_canonical = format!(
        "{}{}\n",
        &line[..line.len() - 1],
        B64URL.as_bytes()[index | 1] as char
    );
    let plus_first = format!("{PREFIX}+{}\n", &line[PREFIX.len() + 1..]);
    let mut not_utf8 = line.as_bytes().to_vec();
    not_utf8.extend_from_slice(&[0xff, b'\n']);
    let longer: Vec<u8> = master.iter().copied().chain([0]).collect();
    let cases: Vec<(&str, Vec<u8>, u32, bool)> = vec![
        (
            "as written: one line and LF",
            b(&format!("{line}\n")),
            0o600,
            true,
        ),
        ("no line ending", b(&line), 0o600, true),
        ("CRLF", b(&format!("{line}\r\n")), 0o600, true),
        ("CR", b(&format!("{line}\r")), 0o600, true),
        ("two LFs", b(&format!("{line}\n\n")), 0o600, true),
        ("LF CR LF CR", b(&format!("{line}\n\r\n\r")), 0o600, true),
        ("mode 0400", b(&format!("{line}\n")), 0o400, true),
        ("mode 0700", b(&format!("{line}\n")), 0o700, true),
        (
            "mode 0640: group may read",
            b(&format!("{line}\n")),
            0o640,
            false,
        ),
        (
            "mode 0620: group may write",
            b(&format!("{line}\n")),
            0o620,
            false,
        ),
        (
            "mode 0610: group may execute",
            b(&format!("{line}\n")),
            0o610,
            false,
        ),
        (
            "mode 0604: others may read",
            b(&format!("{line}\n")),
            0o604,
            false,
        ),
        (
            "mode 0602: others may write",
            b(&format!("{line}\n")),
            0o602,
            false,
        ),
        (
            "a space before the line ending",
            b(&format!("{line} \n")),
            0o600,
            false,
        ),
        (
            "a tab before the line ending",
            b(&format!("{line}\t\n")),
            0o600,
            false,
        ),
        (
            "a space before the prefix",
            b(&format!(" {line}\n")),
            0o600,
            false,
        ),
        (
            "a byte order mark",
            b(&format!("\u{feff}{line}\n")),
            0o600,
            false,
        ),
        (
            "an empty line first",
            b(&format!("\n{line}\n")),
            0o600,
            false,
        ),
        ("a second line", b(&format!("{line}\nx\n")), 0o600, false),
        (
            "a key of 31 bytes",
            b(&format!(
                "{PREFIX}{}\n",
                URL_SAFE_NO_PAD.encode(&master[..31])
            )),
            0o600,
            false,
        ),
        (
            "a key of 33 bytes",
            b(&format!("{PREFIX}{}\n", URL_SAFE_NO_PAD.encode(&longer))),
            0o600,
            false,
        ),
        ("'=' padding", b(&format!("{line}=\n")), 0o600, false),
        (
            "non-canonical final character",
            b(&non_canonical),
            0o600,
            false,
        ),
        (
            "'+' from the standard alphabet",
            b(&plus_first),
            0o600,
            false,
        ),
        (
            "upper-case prefix",
            b(&format!(
                "{}\n",
                line.replacen(PREFIX, &PREFIX.to_uppercase(), 1)
            )),
            0o600,
            false,
        ),
        (
            "version 2 prefix",
            b(&format!("{}\n", line.replacen("-v1:", "-v2:", 1))),
            0o600,
            false,
        ),
        (
            "no colon after the prefix",
            b(&format!("{}\n", line.replacen("-v1:", "-v1", 1))),
            0o600,
            false,
        ),
        ("a byte that is not UTF-8", not_utf8, 0o600, false),
        ("empty", Vec::new(), 0o600, false),
    ];
    cases
        .into_iter()
        .map(|(name, bytes, mode, accepted)| {
            let got = master_key_file_key(&bytes, mode);
            assert_eq!(got.is_some(), accepted, "master-key file {name:?}");
            if let Some(k) = &got {
                assert_eq!(k, master, "master-key file {name:?}");
            }
            let text = String::from_utf8(bytes.clone()).ok();
            json!({
                "name": name,
                "text": text,
                "bytes_hex": hex(&bytes),
                "mode": format!("{mode:04o}"),
                "key": got.map(|k| hex(&k)),
            })
        })
        .collect()
}

/// How `fieldcrypt-kms`'s `KdfParams::from_settings` takes a document's passphrase settings
/// (section 10.5), mirrored: this crate cannot call it.
fn argon2id_class(p: &J) -> &'static str {
    let int = |name: &str| p[name].as_u64().and_then(|v| u32::try_from(v).ok());
    let salt = p["salt"]
        .as_str()
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok());
    match (
        p["kdf"].as_str(),
        int("memory_kib"),
        int("iterations"),
        int("parallelism"),
        salt,
    ) {
        (Some("argon2id"), Some(m), Some(t), Some(lanes), Some(salt))
            if salt.len() == 16
                && (19_456..=4_194_304).contains(&m)
                && (1..=64).contains(&t)
                && (1..=16).contains(&lanes) =>
        {
            "ok"
        }
        _ => "invalid_document",
    }
}

/// Passphrase KDF settings at and beyond the bounds of section 10.5.
pub(crate) fn argon2id_parameters() -> Vec<J> {
    let base = json!({
        "kdf": "argon2id",
        "memory_kib": 65_536,
        "iterations": 3,
        "parallelism": 1,
        "salt": URL_SAFE_NO_PAD.encode([0x5a; 16]),
    });
    let with = |name: &str, v: J| {
        let mut p = base.clone();
        p[name] = v;
        p
    };
    let without = |name: &str| {
        let mut p = base.clone();
        if let Some(o) = p.as_object_mut() {
            o.remove(name);
        }
        p
    };
    let cases: Vec<(&str, J, &str)> = vec![
        ("64 MiB, 3 passes, 1 lane", base.clone(), "ok"),
        (
            "memory at the floor, 19456 KiB",
            with("memory_kib", json!(19_456)),
            "ok",
        ),
        (
            "memory below the floor",
            with("memory_kib", json!(19_455)),
            "invalid_document",
        ),
        (
            "memory at the ceiling, 4 GiB",
            with("memory_kib", json!(4_194_304)),
            "ok",
        ),
        (
            "memory above the ceiling",
            with("memory_kib", json!(4_194_305)),
            "invalid_document",
        ),
        ("1 pass", with("iterations", json!(1)), "ok"),
        ("0 passes", with("iterations", json!(0)), "invalid_document"),
        ("64 passes", with("iterations", json!(64)), "ok"),
        (
            "65 passes",
            with("iterations", json!(65)),
            "invalid_document",
        ),
        ("16 lanes", with("parallelism", json!(16)), "ok"),
        (
            "17 lanes",
            with("parallelism", json!(17)),
            "invalid_document",
        ),
        ("0 lanes", with("parallelism", json!(0)), "invalid_document"),
        (
            "memory as a string",
            with("memory_kib", json!("65536")),
            "invalid_document",
        ),
        (
            "memory as a fraction",
            with("memory_kib", json!(65_536.5)),
            "invalid_document",
        ),
        (
            "memory of 2^32 KiB",
            with("memory_kib", json!(4_294_967_296u64)),
            "invalid_document",
        ),
        (
            "kdf argon2i",
            with("kdf", json!("argon2i")),
            "invalid_document",
        ),
        ("no kdf", without("kdf"), "invalid_document"),
        (
            "salt of 15 bytes",
            with("salt", json!(URL_SAFE_NO_PAD.encode([0x5a; 15]))),
            "invalid_document",
        ),
        ("no salt", without("salt"), "invalid_document"),
    ];
    cases
        .into_iter()
        .map(|(name, params, expect)| {
            assert_eq!(
                argon2id_class(&params),
                expect,
                "argon2id parameters {name:?}"
            );
            json!({ "name": name, "params": params, "expect": expect })
        })
        .collect()
}
