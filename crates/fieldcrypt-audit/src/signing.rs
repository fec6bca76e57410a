//! The trail's Ed25519 keys, in the PEM forms other tools read: the private key as PKCS#8
//! (`PRIVATE KEY`, RFC 8410), the public key as SubjectPublicKeyInfo (`PUBLIC KEY`), so that an
//! auditor can check a checkpoint with OpenSSL or pyca/cryptography as well as with
//! `fieldcrypt audit verify`.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::AuditError;
use crate::record::{Hash, checkpoint_message};

/// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 section 4); the 32-byte key
/// follows.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(label: &str, text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = text[start..].find(&end)? + start;
    let body: Zeroizing<String> = Zeroizing::new(
        text[start..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect(),
    );
    STANDARD.decode(body.as_bytes()).ok().map(Zeroizing::new)
}

/// The key that signs checkpoints. Its Debug shows the fingerprint only.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    verifying: VerifyingKey,
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SigningKey({})", self.verifying.fingerprint())
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Result<Self, AuditError> {
        let pair = Ed25519KeyPair::generate().map_err(|_| AuditError::Key("generation failed"))?;
        Ok(Self::from_pair(pair))
    }

    fn from_pair(pair: Ed25519KeyPair) -> Self {
        let mut raw = [0u8; 32];
        raw.copy_from_slice(pair.public_key().as_ref());
        Self {
            pair,
            verifying: VerifyingKey { raw },
        }
    }

    /// Reads a PKCS#8 `PRIVATE KEY` PEM.
    pub fn from_pem(text: &str) -> Result<Self, AuditError> {
        let der =
            unpem("PRIVATE KEY", text).ok_or(AuditError::Key("not a PEM PRIVATE KEY block"))?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
            .map_err(|_| AuditError::Key("not an Ed25519 PKCS#8 key"))?;
        Ok(Self::from_pair(pair))
    }

    /// The key as a PKCS#8 v1 `PRIVATE KEY` PEM (zeroized when dropped).
    pub fn to_pem(&self) -> Result<Zeroizing<String>, AuditError> {
        let der = self
            .pair
            .to_pkcs8v1()
            .map_err(|_| AuditError::Key("PKCS#8 encoding failed"))?;
        Ok(Zeroizing::new(pem("PRIVATE KEY", der.as_ref())))
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }

    /// Signs the chain value of `replica` after entry `seq`.
    pub fn sign_checkpoint(&self, replica: &str, seq: u64, hash: &Hash, time: &str) -> String {
        let message = checkpoint_message(replica, seq, hash, time);
        STANDARD.encode(self.pair.sign(&message).as_ref())
    }
}

/// The key that checks checkpoints: all an auditor needs.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    raw: [u8; 32],
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "VerifyingKey({})", self.fingerprint())
    }
}

impl VerifyingKey {
    /// Reads a SubjectPublicKeyInfo `PUBLIC KEY` PEM.
    pub fn from_pem(text: &str) -> Result<Self, AuditError> {
        let der = unpem("PUBLIC KEY", text).ok_or(AuditError::Key("not a PEM PUBLIC KEY block"))?;
        let raw = der
            .strip_prefix(&SPKI_PREFIX[..])
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .ok_or(AuditError::Key("not an Ed25519 public key"))?;
        Ok(Self { raw })
    }

    /// The key as a `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.raw);
        pem("PUBLIC KEY", &der)
    }

    /// The first 16 bytes of SHA-256 of the raw key, hex: named in every checkpoint.
    pub fn fingerprint(&self) -> String {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.raw);
        hex::encode(&digest.as_ref()[..16])
    }

    /// Whether `signature` (base64) signs the checkpoint fields.
    pub fn verify_checkpoint(
        &self,
        replica: &str,
        seq: u64,
        hash: &Hash,
        time: &str,
        signature: &str,
    ) -> bool {
        let Ok(signature) = STANDARD.decode(signature) else {
            return false;
        };
        let message = checkpoint_message(replica, seq, hash, time);
        UnparsedPublicKey::new(&ED25519, &self.raw)
            .verify(&message, &signature)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_signatures_check() -> Result<(), AuditError> {
        let key = SigningKey::generate()?;
        let again = SigningKey::from_pem(&key.to_pem()?)?;
        assert_eq!(again.verifying_key(), key.verifying_key());
        let public = VerifyingKey::from_pem(&key.verifying_key().to_pem())?;
        let hash = [7u8; 32];
        let sig = key.sign_checkpoint("r1", 9, &hash, "2026-12-07T00:00:00Z");
        assert!(public.verify_checkpoint("r1", 9, &hash, "2026-12-07T00:00:00Z", &sig));
        assert!(!public.verify_checkpoint("r2", 9, &hash, "2026-12-07T00:00:00Z", &sig));
        assert!(!public.verify_checkpoint("r1", 8, &hash, "2026-12-07T00:00:00Z", &sig));
        assert!(!public.verify_checkpoint("r1", 9, &[8u8; 32], "2026-12-07T00:00:00Z", &sig));
        let other = SigningKey::generate()?;
        assert!(!other.verifying_key().verify_checkpoint(
            "r1",
            9,
            &hash,
            "2026-12-07T00:00:00Z",
            &sig
        ));
        assert!(!format!("{key:?}").contains("PRIVATE"));
        Ok(())
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert!(SigningKey::from_pem("nope").is_err());
        assert!(
            VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
    }
}
