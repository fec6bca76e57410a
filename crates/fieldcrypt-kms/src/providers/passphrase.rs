//! A key-encryption key derived from a passphrase with Argon2id (RFC 9106).
//!
//! The salt and cost parameters are stored beside the wrapped KEK in the keyring document (and
//! covered by its MAC), so that changing the passphrase is a rewrap. The MAC can only be checked
//! after the derivation, so the parameters are bounded on read ([`KdfParams::check_bounds`]):
//! an edited document cannot make the derivation take terabytes or run for ever. New parameters are
//! calibrated on the machine that creates the keyring to take about half a second. A keyring
//! under a passphrase seals with a key-committing suite only: a guessed passphrase must not be
//! able to produce ciphertexts that open under two keys.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::SecretKey;
use zeroize::{Zeroize as _, Zeroizing};

use super::local_kek::HeldKey;
use crate::error::KmsError;
use crate::provider::{KeyProvider, Settings, WrapContext};

/// The provider name recorded in keyring documents.
pub const PROVIDER: &str = "passphrase";
/// The variable a passphrase is read from when none is named.
pub const DEFAULT_VARIABLE: &str = "FIELDCRYPT_PASSPHRASE";

/// Argon2id cost parameters and salt, as recorded in the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// 16 random bytes.
    pub salt: [u8; 16],
}

impl KdfParams {
    /// Memory used by [`Self::calibrate`]: 64 MiB, in the range RFC 9106 section 4 recommends.
    pub const CALIBRATION_MEMORY_KIB: u32 = 64 * 1024;
    /// The floor below which a document's parameters are refused: the memory of OWASP's lowest
    /// Argon2id row (19 MiB, which OWASP pairs with 2 passes; `fieldcrypt keyring check` reports
    /// parameters below [`Self::owasp_minimum_met`] separately).
    pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
    /// The ceilings above which a document's parameters are refused before any memory is taken:
    /// the parameters are data that whoever writes the document chooses, and an unbounded
    /// Argon2id call aborts the process (memory) or never returns (passes).
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    /// At most this many passes.
    pub const MAX_ITERATIONS: u32 = 64;
    /// At most this many lanes.
    pub const MAX_PARALLELISM: u32 = 16;
    /// OWASP's Argon2id table (Password Storage Cheat Sheet): equivalent (memory KiB, passes)
    /// pairs, one lane; parameters at least as strong as one row meet its recommendation.
    pub const OWASP_TABLE: [(u32, u32); 5] = [
        (47_104, 1),
        (19_456, 2),
        (12_288, 3),
        (9_216, 4),
        (7_168, 5),
    ];

    /// Whether the parameters meet a row of [`Self::OWASP_TABLE`] (as much memory and as many
    /// passes as some row).
    pub fn owasp_minimum_met(&self) -> bool {
        Self::OWASP_TABLE
            .iter()
            .any(|&(m, t)| self.memory_kib >= m && self.iterations >= t)
    }

    /// Refuses parameters outside the floor and the ceilings, with one line that names them.
    pub fn check_bounds(&self) -> Result<(), KmsError> {
        let refuse = |what: String| {
            Err(KmsError::Config {
                provider: PROVIDER,
                reason: format!(
                    "Argon2id {what}; refused before deriving (allowed: m={}..={} KiB, t=1..={}, p=1..={})",
                    Self::MIN_MEMORY_KIB,
                    Self::MAX_MEMORY_KIB,
                    Self::MAX_ITERATIONS,
                    Self::MAX_PARALLELISM
                ),
            })
        };
        if self.memory_kib < Self::MIN_MEMORY_KIB {
            return refuse(format!("memory m={} KiB is too weak", self.memory_kib));
        }
        if self.memory_kib > Self::MAX_MEMORY_KIB {
            return refuse(format!(
                "memory m={} KiB is beyond the bound",
                self.memory_kib
            ));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&self.iterations) {
            return refuse(format!("passes t={} are out of bounds", self.iterations));
        }
        if !(1..=Self::MAX_PARALLELISM).contains(&self.parallelism) {
            return refuse(format!("lanes p={} are out of bounds", self.parallelism));
        }
        Ok(())
    }

    /// Parameters that take about `target` on this machine, with a fresh salt: 64 MiB, one
    /// lane, and as many passes as fit (at least 2).
    pub fn calibrate(target: Duration) -> Result<Self, KmsError> {
        let mut params = Self {
            memory_kib: Self::CALIBRATION_MEMORY_KIB,
            iterations: 1,
            parallelism: 1,
            salt: fieldcrypt::random_array()?,
        };
        let start = Instant::now();
        drop(params.derive(b"calibration")?);
        let one_pass = start.elapsed().max(Duration::from_millis(1));
        let passes = (target.as_secs_f64() / one_pass.as_secs_f64()).round();
        params.iterations = (passes as u32).clamp(2, 64);
        Ok(params)
    }

    fn argon2(&self) -> Result<Argon2<'static>, KmsError> {
        self.check_bounds()?;
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| KmsError::Config {
                provider: PROVIDER,
                reason: format!("invalid Argon2id parameters: {e}"),
            })?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Argon2id(passphrase, salt) → 32 bytes.
    pub fn derive(&self, passphrase: &[u8]) -> Result<SecretKey, KmsError> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.argon2()?
            .hash_password_into(passphrase, &self.salt, out.as_mut())
            .map_err(|e| KmsError::Config {
                provider: PROVIDER,
                reason: format!("Argon2id failed: {e}"),
            })?;
        Ok(SecretKey::from_bytes(*out))
    }

    fn record(&self, s: &mut Settings) {
        s.insert("kdf".to_owned(), "argon2id".into());
        s.insert("memory_kib".to_owned(), self.memory_kib.into());
        s.insert("iterations".to_owned(), self.iterations.into());
        s.insert("parallelism".to_owned(), self.parallelism.into());
        s.insert("salt".to_owned(), URL_SAFE_NO_PAD.encode(self.salt).into());
    }

    /// Reads the parameters a document recorded.
    pub fn from_settings(s: &Settings) -> Result<Self, KmsError> {
        let bad = |what: &str| KmsError::Config {
            provider: PROVIDER,
            reason: format!("keyring document: {what}"),
        };
        if s.get("kdf").and_then(|v| v.as_str()) != Some("argon2id") {
            return Err(bad("kdf is not argon2id"));
        }
        let int = |name: &str| {
            s.get(name)
                .and_then(serde_json::Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| bad(&format!("{name} is not a 32-bit unsigned integer")))
        };
        let salt = s
            .get("salt")
            .and_then(|v| v.as_str())
            .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
            .ok_or_else(|| bad("salt is not 16 bytes in base64url"))?;
        let params = Self {
            memory_kib: int("memory_kib")?,
            iterations: int("iterations")?,
            parallelism: int("parallelism")?,
            salt,
        };
        params.check_bounds()?;
        Ok(params)
    }
}

/// A KEK derived from a passphrase.
#[derive(Debug)]
pub struct PassphraseProvider {
    params: KdfParams,
    key: HeldKey,
}

impl PassphraseProvider {
    /// Derives the key from `passphrase` under `params` (about half a second when calibrated).
    pub fn new(passphrase: &[u8], params: KdfParams) -> Result<Self, KmsError> {
        if passphrase.len() < 12 {
            return Err(KmsError::Config {
                provider: PROVIDER,
                reason: "a passphrase must be at least 12 bytes long".to_owned(),
            });
        }
        let key = params.derive(passphrase)?;
        Ok(Self {
            key: HeldKey::new(&key),
            params,
        })
    }

    /// Reads the passphrase from `variable` (then clears the copy it read).
    pub fn from_env(variable: &str, params: KdfParams) -> Result<Self, KmsError> {
        let mut text = std::env::var(variable).map_err(|_| KmsError::Config {
            provider: PROVIDER,
            reason: format!("environment variable {variable} (the passphrase) is not set"),
        })?;
        let provider = Self::new(text.as_bytes(), params);
        text.zeroize();
        provider
    }

    /// The parameters in use.
    pub fn params(&self) -> &KdfParams {
        &self.params
    }
}

#[async_trait]
impl KeyProvider for PassphraseProvider {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn settings(&self) -> Settings {
        let mut s = Settings::new();
        self.params.record(&mut s);
        self.key.record(&mut s);
        s
    }

    fn requires_committing_suite(&self) -> bool {
        true
    }

    async fn wrap(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError> {
        self.key.wrap(context, key)
    }

    async fn unwrap(&self, context: &WrapContext, wrapped: &[u8]) -> Result<SecretKey, KmsError> {
        self.key.unwrap(PROVIDER, context, wrapped)
    }
}
