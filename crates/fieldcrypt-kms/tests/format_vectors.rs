//! The provider level of `testdata/vectors/keyring.json` (docs/FORMAT.md sections 10.3, 10.5,
//! 10.6) read through this crate: master-key files, Argon2id parameters, and documents opened
//! with a configured local provider and pins. `tools/verify_vectors.py` checks the same vectors
//! with an independent implementation.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::{KeyWrapper as _, KeyringDocument, KeyringError, LocalKek, SecretKey};
use fieldcrypt_kms::local::MasterKeyFile;
use fieldcrypt_kms::providers::passphrase::KdfParams;
use fieldcrypt_kms::{KmsError, Pins, Settings, UnlockedKeyring};
use serde_json::Value as J;

fn vectors() -> J {
    let path = format!(
        "{}/../../testdata/vectors/keyring.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn key32(v: &J) -> [u8; 32] {
    let bytes: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&v.as_str().unwrap()[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn outcome(result: Result<UnlockedKeyring, KmsError>) -> &'static str {
    use fieldcrypt::Error::Keyring;
    match result {
        Ok(_) => "ok",
        Err(KmsError::Core(Keyring(KeyringError::InvalidDocument(_)))) => "invalid_document",
        Err(KmsError::Core(Keyring(KeyringError::WrongKek { .. }))) => "wrong_kek",
        Err(KmsError::Core(Keyring(KeyringError::UnwrapFailed(_)))) => "unwrap_failed",
        Err(KmsError::Core(Keyring(KeyringError::MacMismatch))) => "tampered",
        Err(KmsError::CannotUnwrap { .. }) => "unwrap_failed",
        Err(KmsError::NotPinnedKeyring { .. }) => "not_pinned",
        Err(KmsError::Rollback { .. }) => "rolled_back",
        Err(
            KmsError::ProviderMismatch { .. }
            | KmsError::SettingMismatch { .. }
            | KmsError::WrongKey { .. },
        ) => "provider_mismatch",
        Err(other) => panic!("an error no outcome names: {other}"),
    }
}

#[tokio::test]
async fn provider_documents_open_as_the_spec_says() {
    let file = vectors();
    let base = &file["local_provider"]["configuration"];
    let dir = tempfile::tempdir().unwrap();
    let docs = file["provider_documents"].as_array().unwrap();
    for v in docs {
        let name = v["name"].as_str().unwrap();
        let mut config = base.clone();
        if let Some(over) = v["configuration"].as_object() {
            for (k, val) in over {
                config[k] = val.clone();
            }
        }
        assert_eq!(config["provider"], "local", "{name}");
        let key_path = dir.path().join("master.key");
        let line = format!(
            "fieldcrypt-master-key-v1:{}\n",
            URL_SAFE_NO_PAD.encode(key32(&config["master_key"]))
        );
        write_file(&key_path, line.as_bytes(), 0o600);
        let provider = MasterKeyFile::open(&key_path).unwrap();
        let pins = Pins {
            keyring_id: config["keyring_id"].as_str().map(|id| id.parse().unwrap()),
            min_generation: config["min_generation"].as_u64(),
        };
        let got = match KeyringDocument::from_json(&v["document"].to_string()) {
            Ok(doc) => outcome(UnlockedKeyring::open_pinned(&doc, &provider, &pins).await),
            Err(_) => "invalid_document",
        };
        assert_eq!(got, v["expect"].as_str().unwrap(), "{name}");
    }
    eprintln!("vectors: keyring provider documents: {} passed", docs.len());
}

#[test]
fn master_key_files_are_read_or_refused_as_the_spec_says() {
    let file = vectors();
    let dir = tempfile::tempdir().unwrap();
    let files = file["master_key_files"].as_array().unwrap();
    for (i, v) in files.iter().enumerate() {
        let name = v["name"].as_str().unwrap();
        let bytes: Vec<u8> = (0..v["bytes_hex"].as_str().unwrap().len())
            .step_by(2)
            .map(|j| u8::from_str_radix(&v["bytes_hex"].as_str().unwrap()[j..j + 2], 16).unwrap())
            .collect();
        let mode = u32::from_str_radix(v["mode"].as_str().unwrap(), 8).unwrap();
        let path = dir.path().join(format!("{i}.key"));
        write_file(&path, &bytes, mode);
        let read = MasterKeyFile::open(&path);
        match v["key"].as_str() {
            Some(_) => {
                let want = LocalKek::new(&SecretKey::from_bytes(key32(&v["key"]))).fingerprint();
                let got = read.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(got.fingerprint(), want, "{name}");
            }
            None => assert!(read.is_err(), "{name}: read, but the spec refuses it"),
        }
    }
    eprintln!("vectors: master-key files: {} passed", files.len());
}

#[test]
fn argon2id_parameters_are_bounded_as_the_spec_says() {
    let file = vectors();
    let sets = file["argon2id_parameters"].as_array().unwrap();
    for v in sets {
        let name = v["name"].as_str().unwrap();
        let settings: Settings = v["params"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, val)| (k.clone(), val.clone()))
            .collect();
        let got = if KdfParams::from_settings(&settings).is_ok() {
            "ok"
        } else {
            "invalid_document"
        };
        assert_eq!(got, v["expect"].as_str().unwrap(), "{name}");
    }
    eprintln!("vectors: Argon2id parameter sets: {} passed", sets.len());
}
