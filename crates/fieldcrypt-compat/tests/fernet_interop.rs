//! Against pyca/cryptography (the implementation the Django libraries call), through
//! tools/fernet_interop.py in the project venv (FIELDCRYPT_TEST_PYTHON, set by scripts/test.sh):
//! tokens pyca made decrypt here, under single keys and MultiFernet lists; tokens made here
//! decrypt in pyca. With CI=true a missing interpreter fails the run.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use fieldcrypt_compat::{Fernet, FernetKey, MultiFernet};
use serde_json::{Value, json};

fn python() -> Option<String> {
    match std::env::var("FIELDCRYPT_TEST_PYTHON") {
        Ok(p) => Some(p),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("FIELDCRYPT_TEST_PYTHON (the venv python with cryptography) is not set")
        }
        Err(_) => {
            eprintln!(
                "SKIPPED fernet interop: FIELDCRYPT_TEST_PYTHON not set (scripts/test.sh sets it)"
            );
            None
        }
    }
}

fn script() -> String {
    format!(
        "{}/../../tools/fernet_interop.py",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn tokens_made_by_pyca_open_here_and_ours_open_in_pyca() {
    let Some(python) = python() else { return };
    let out = Command::new(&python)
        .args([script().as_str(), "make", "200"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cases.len(), 200);
    for case in &cases {
        let keys: Vec<FernetKey> = case["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| FernetKey::from_base64(k.as_str().unwrap()).unwrap())
            .collect();
        let plaintext = STANDARD
            .decode(case["plaintext"].as_str().unwrap())
            .unwrap();
        let got = MultiFernet::new(keys)
            .unwrap()
            .decrypt(case["token"].as_str().unwrap().as_bytes())
            .unwrap();
        assert_eq!(got.as_slice(), plaintext.as_slice());
    }

    // The other way: tokens made here (random IVs), decrypted by pyca.
    let mut ours = Vec::new();
    for (i, case) in cases.iter().enumerate().take(50) {
        let key_text = case["keys"][0].as_str().unwrap();
        let plaintext: Vec<u8> = (0..(i * 37) % 1000).map(|j| (j * 7 + i) as u8).collect();
        let iv = fieldcrypt::random_array::<16>().unwrap();
        let token = Fernet::new(FernetKey::from_base64(key_text).unwrap()).encrypt_with(
            &plaintext,
            iv,
            1_700_000_000 + i as u64,
        );
        ours.push(
            json!({"keys": [key_text], "token": token, "plaintext": STANDARD.encode(&plaintext)}),
        );
    }
    let mut child = Command::new(&python)
        .args([script().as_str(), "check"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_vec(&ours).unwrap().as_slice())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok 50");
    println!("vectors: fernet interop with pyca/cryptography, 200 tokens in, 50 tokens out");
}
