//! The Fernet specification's vectors (testdata/fernet, from pyca's cryptography_vectors; see
//! its PROVENANCE.md): generate, verify, and every invalid token refused.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt_compat::{Fernet, FernetKey, MultiFernet, TokenError};
use serde_json::Value;

fn vectors(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/../../testdata/fernet/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// `YYYY-MM-DDTHH:MM:SS±HH:MM` as Unix seconds.
fn unix(rfc3339: &str) -> u64 {
    let (date, rest) = rfc3339.split_once('T').unwrap();
    let ymd: Vec<i32> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let (time, sign, offset) = match rest.rfind(['+', '-']) {
        Some(i) => (
            &rest[..i],
            if &rest[i..=i] == "-" { -1 } else { 1 },
            &rest[i + 1..],
        ),
        None => (rest.trim_end_matches('Z'), 1, "00:00"),
    };
    let hms: Vec<i64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    let off: Vec<i64> = offset.split(':').map(|p| p.parse().unwrap()).collect();
    let days = i64::from(
        fieldcrypt::Date::from_ymd(ymd[0], ymd[1] as u32, ymd[2] as u32)
            .unwrap()
            .days_since_epoch(),
    );
    let local = days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    u64::try_from(local - sign * (off[0] * 3600 + off[1] * 60)).unwrap()
}

fn fernet(v: &Value) -> Fernet {
    Fernet::new(FernetKey::from_base64(v["secret"].as_str().unwrap()).unwrap())
}

#[test]
fn the_rfc3339_reader_agrees_with_the_spec_readme() {
    assert_eq!(unix("1985-10-26T01:20:00-07:00"), 499_162_800);
    assert_eq!(unix("1970-01-01T00:00:00+00:00"), 0);
}

#[test]
fn generate_vectors() {
    let all = vectors("generate");
    assert!(!all.is_empty());
    for v in &all {
        let iv: Vec<u8> = v["iv"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| u8::try_from(b.as_u64().unwrap()).unwrap())
            .collect();
        let token = fernet(v).encrypt_with(
            v["src"].as_str().unwrap().as_bytes(),
            iv.try_into().unwrap(),
            unix(v["now"].as_str().unwrap()),
        );
        assert_eq!(token, v["token"].as_str().unwrap());
    }
    println!("vectors: fernet generate {}", all.len());
}

#[test]
fn verify_vectors() {
    let all = vectors("verify");
    assert!(!all.is_empty());
    for v in &all {
        let plaintext = fernet(v)
            .decrypt_at(
                v["token"].as_str().unwrap().as_bytes(),
                v["ttl_sec"].as_u64(),
                unix(v["now"].as_str().unwrap()),
            )
            .unwrap();
        assert_eq!(plaintext.as_slice(), v["src"].as_str().unwrap().as_bytes());
    }
    println!("vectors: fernet verify {}", all.len());
}

#[test]
fn invalid_vectors_are_all_refused_with_the_reason() {
    let all = vectors("invalid");
    assert!(all.len() >= 8, "{}", all.len());
    for v in &all {
        let desc = v["desc"].as_str().unwrap();
        let err = fernet(v)
            .decrypt_at(
                v["token"].as_str().unwrap().as_bytes(),
                v["ttl_sec"].as_u64(),
                unix(v["now"].as_str().unwrap()),
            )
            .unwrap_err();
        let expected = match desc {
            "incorrect mac" | "wrong key" => TokenError::BadSignature,
            "expired TTL" => TokenError::Expired,
            "far-future TS (unacceptable clock skew)" => TokenError::FromTheFuture,
            "payload padding error" | "incorrect IV (causes padding error)" => {
                TokenError::BadPadding
            }
            _ => TokenError::Malformed,
        };
        assert_eq!(err, expected, "{desc}");
    }
    println!("vectors: fernet invalid {}", all.len());
}

#[test]
fn multifernet_tries_each_key_and_keeps_a_signing_keys_verdict() {
    let v = &vectors("verify")[0];
    let token = v["token"].as_str().unwrap().as_bytes();
    let right = FernetKey::from_base64(v["secret"].as_str().unwrap()).unwrap();
    let other = FernetKey::from_bytes(&[7; 32]);
    let multi = MultiFernet::new(vec![other.clone(), right.clone()]).unwrap();
    assert_eq!(multi.decrypt(token).unwrap().as_slice(), b"hello");
    let now = unix(v["now"].as_str().unwrap());
    assert_eq!(
        multi.decrypt_at(token, Some(0), now + 10).unwrap_err(),
        TokenError::Expired
    );
    let wrong = MultiFernet::new(vec![other]).unwrap();
    assert_eq!(wrong.decrypt(token).unwrap_err(), TokenError::BadSignature);
    assert_eq!(
        wrong.decrypt(b"not a token").unwrap_err(),
        TokenError::Malformed
    );
    assert!(MultiFernet::new(Vec::new()).is_none());
    assert!(FernetKey::from_base64("c2hvcnQ=").is_err());
    assert!(!format!("{right:?}").contains(v["secret"].as_str().unwrap()));
}
