//! The keyring document: a keyring with every key wrapped by a key-encryption key (KEK), as
//! stored in a file or a database row. Holds no unwrapped secret.
//!
//! Each wrapped key is `nonce (24) || KC-XAES-256-GCM(KEK, key) || tag || commitment` with the
//! associated data below, so a wrapped key cannot be moved to another id, kind or keyring:
//!
//! ```text
//! "fieldcrypt-keyring/1" || keyring id (16) || kind (0x01 data key, 0x02 index root)
//!   || u32be(key id) || suite id || i64be(created, Unix seconds)
//! ```

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::aead::{KcXaes256Gcm, NONCE_LEN};
use crate::backend::{self, HmacSha256};
use crate::envelope::{KeyId, Suite};
use crate::error::{Error, KeyringError};
use crate::keyring::{IndexRootEntry, KeyEntry, KeyInfo, KeyState, Keyring, KeyringId, Material};
use crate::plaintext::Timestamp;
use crate::secret::{SecretKey, random_array};

/// The document format this build writes and reads.
pub const FORMAT: &str = "fieldcrypt-keyring/1";

/// Derives the document-MAC key from the KEK: `Kmac = HMAC-SHA-256(KEK, MAC_KEY_LABEL)`.
const MAC_KEY_LABEL: &[u8] = b"fieldcrypt/keyring-mac/v1";
/// Starts the MAC input, so it can be mistaken for no other message under the same key.
const MAC_INPUT_LABEL: &[u8] = b"fieldcrypt-keyring/1 mac";

/// Wraps and unwraps data keys. The local implementation is [`LocalKek`]; providers that keep the
/// KEK elsewhere (a KMS, Vault) wrap through their own service.
pub trait KeyWrapper {
    /// A short non-secret name for the KEK that a keyring records, to tell a wrong KEK from a
    /// damaged file.
    fn fingerprint(&self) -> String;
    /// Wraps `key`, binding `aad`.
    fn wrap(&self, aad: &[u8], key: &SecretKey) -> Result<Vec<u8>, Error>;
    /// Unwraps, checking `aad`.
    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, Error>;
    /// The document MAC of `message` (section 10.4 of FORMAT.md): authenticates what the
    /// wrapped keys do not bind (states, the primary, tombstones, the KEK's settings).
    fn authenticate(&self, message: &[u8]) -> [u8; 32];
}

/// A key-encryption key held locally (read from a master-key file or the environment).
pub struct LocalKek {
    aead: KcXaes256Gcm,
    mac: backend::Hmac,
    fingerprint: String,
}

impl core::fmt::Debug for LocalKek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "LocalKek(fingerprint {}, [REDACTED])", self.fingerprint)
    }
}

impl LocalKek {
    /// Prepares a KEK.
    pub fn new(key: &SecretKey) -> Self {
        let mac = backend::Hmac::new(key.expose());
        let digest = mac.sign(&[b"fieldcrypt/kek-fingerprint/v1"]);
        let fingerprint = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let mut mac_key = mac.sign(&[MAC_KEY_LABEL]);
        let prepared = backend::Hmac::new(&mac_key);
        zeroize::Zeroize::zeroize(&mut mac_key);
        Self {
            aead: KcXaes256Gcm::new(key.expose()),
            mac: prepared,
            fingerprint,
        }
    }
}

impl KeyWrapper for LocalKek {
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn wrap(&self, aad: &[u8], key: &SecretKey) -> Result<Vec<u8>, Error> {
        let nonce: [u8; NONCE_LEN] = random_array()?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&self.aead.seal(&nonce, aad, key.expose()));
        Ok(out)
    }

    fn unwrap(&self, aad: &[u8], wrapped: &[u8]) -> Result<SecretKey, Error> {
        if wrapped.len() != NONCE_LEN + 32 + KcXaes256Gcm::OVERHEAD {
            return Err(Error::CannotOpen);
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| Error::CannotOpen)?;
        let mut key = self
            .aead
            .open(&nonce, aad, sealed)
            .map_err(|_| Error::CannotOpen)?;
        let secret = SecretKey::from_slice(&key);
        zeroize::Zeroize::zeroize(&mut key);
        secret
    }

    fn authenticate(&self, message: &[u8]) -> [u8; 32] {
        self.mac.sign(&[message])
    }
}

/// Which KEK wrapped the keys: the provider's name, the KEK's fingerprint, and whatever the
/// provider needs to find the KEK again (a file path, a KMS key ARN, a Transit key name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KekDescriptor {
    /// `local`, `env`, `passphrase`, `aws-kms`, `vault`.
    pub provider: String,
    /// The KEK's fingerprint at wrap time.
    pub fingerprint: String,
    /// Provider-specific settings.
    #[serde(flatten)]
    pub settings: BTreeMap<String, serde_json::Value>,
}

/// One wrapped key in a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// Key id.
    pub id: u32,
    /// Suite the key seals with.
    pub suite: Suite,
    /// State.
    pub state: KeyState,
    /// Creation time, RFC 3339.
    pub created: String,
    /// The wrapped key in base64url; absent for retired keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapped: Option<String>,
}

/// A keyring as stored: every key wrapped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyringDocument {
    /// Always [`FORMAT`].
    pub format: String,
    /// The keyring id in hex.
    pub keyring_id: String,
    /// The key-encryption key.
    pub kek: KekDescriptor,
    /// Data keys.
    pub keys: Vec<WrappedKey>,
    /// Blind-index roots.
    pub index_roots: Vec<WrappedKey>,
    /// base64url of the document MAC (FORMAT.md section 10.4) over everything above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl KeyringDocument {
    /// Parses a document's JSON text, refusing what parsers could read two ways: a member
    /// name repeated in any object (FORMAT.md section 10.1), and texts over 16 MiB. Nothing is
    /// unwrapped or verified yet.
    pub fn from_json(text: &str) -> Result<Self, KeyringError> {
        let invalid = |why: String| KeyringError::InvalidDocument(why);
        if text.len() > crate::strict_json::MAX_DOCUMENT_LEN {
            return Err(invalid(format!(
                "the document is {} bytes, over the limit of {}",
                text.len(),
                crate::strict_json::MAX_DOCUMENT_LEN
            )));
        }
        crate::strict_json::refuse_duplicates(text).map_err(invalid)?;
        serde_json::from_str(text).map_err(|e| invalid(e.to_string()))
    }

    /// The MAC input (FORMAT.md section 10.4): every member but `mac`, length-prefixed, in a
    /// fixed order. Fails on a KEK setting that is not a string, integer or boolean.
    pub fn mac_input(&self) -> Result<Vec<u8>, Error> {
        fn lp(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        fn list(out: &mut Vec<u8>, entries: &[WrappedKey]) {
            out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
            for e in entries {
                out.extend_from_slice(&e.id.to_be_bytes());
                lp(out, e.suite.slug());
                lp(out, &e.state.to_string());
                lp(out, &e.created);
                match &e.wrapped {
                    None => out.push(0),
                    Some(w) => {
                        out.push(1);
                        lp(out, w);
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(256 + 200 * (self.keys.len() + self.index_roots.len()));
        out.extend_from_slice(MAC_INPUT_LABEL);
        lp(&mut out, &self.format);
        lp(&mut out, &self.keyring_id);
        lp(&mut out, &self.kek.provider);
        lp(&mut out, &self.kek.fingerprint);
        out.extend_from_slice(&(self.kek.settings.len() as u32).to_be_bytes());
        // BTreeMap iterates in byte order of the UTF-8 names.
        for (name, value) in &self.kek.settings {
            if !(value.is_string() || value.is_i64() || value.is_u64() || value.is_boolean()) {
                return Err(KeyringError::InvalidDocument(format!(
                    "kek setting {name:?} is not a string, integer or boolean"
                ))
                .into());
            }
            lp(&mut out, name);
            lp(&mut out, &value.to_string());
        }
        list(&mut out, &self.keys);
        list(&mut out, &self.index_roots);
        Ok(out)
    }

    /// Sets `mac` under `kek`.
    pub fn seal_mac(&mut self, kek: &dyn KeyWrapper) -> Result<(), Error> {
        self.mac = Some(URL_SAFE_NO_PAD.encode(kek.authenticate(&self.mac_input()?)));
        Ok(())
    }

    /// Checks `mac` under `kek`, in constant time.
    pub fn verify_mac(&self, kek: &dyn KeyWrapper) -> Result<(), Error> {
        let Some(given) = &self.mac else {
            return Err(KeyringError::InvalidDocument("no mac".to_owned()).into());
        };
        let given = URL_SAFE_NO_PAD
            .decode(given)
            .ok()
            .filter(|g| g.len() == 32)
            .ok_or_else(|| {
                KeyringError::InvalidDocument("mac is not 32 bytes in base64url".to_owned())
            })?;
        let expected = kek.authenticate(&self.mac_input()?);
        if bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_slice(),
            given.as_slice(),
        )) {
            Ok(())
        } else {
            Err(KeyringError::MacMismatch.into())
        }
    }
}

#[derive(Clone, Copy)]
#[repr(u8)]
enum Kind {
    DataKey = 0x01,
    IndexRoot = 0x02,
}

fn wrap_aad(keyring: KeyringId, kind: Kind, info: &KeyInfo) -> Vec<u8> {
    let mut aad = Vec::with_capacity(FORMAT.len() + 16 + 1 + 4 + 1 + 8);
    aad.extend_from_slice(FORMAT.as_bytes());
    aad.extend_from_slice(&keyring.0);
    aad.push(kind as u8);
    aad.extend_from_slice(&info.id.get().to_be_bytes());
    aad.push(info.suite.id());
    aad.extend_from_slice(&info.created.seconds().to_be_bytes());
    aad
}

impl Keyring {
    /// Wraps every key under `kek` into a document. `provider` and `settings` say how to find the
    /// KEK again.
    pub fn to_document(
        &self,
        kek: &dyn KeyWrapper,
        provider: &str,
        settings: BTreeMap<String, serde_json::Value>,
    ) -> Result<KeyringDocument, Error> {
        let wrap =
            |kind: Kind, info: &KeyInfo, secret: Option<&SecretKey>| -> Result<WrappedKey, Error> {
                let wrapped = secret
                    .map(|s| kek.wrap(&wrap_aad(self.id, kind, info), s))
                    .transpose()?
                    .map(|w| URL_SAFE_NO_PAD.encode(w));
                Ok(WrappedKey {
                    id: info.id.get(),
                    suite: info.suite,
                    state: info.state,
                    created: info.created.to_string(),
                    wrapped,
                })
            };
        let keys = self
            .keys
            .values()
            .map(|k| {
                wrap(
                    Kind::DataKey,
                    &k.info,
                    k.material.as_ref().map(|m| &m.secret),
                )
            })
            .collect::<Result<_, _>>()?;
        let index_roots = self
            .index_roots
            .values()
            .map(|k| wrap(Kind::IndexRoot, &k.info, k.secret.as_ref()))
            .collect::<Result<_, _>>()?;
        let mut doc = KeyringDocument {
            format: FORMAT.to_owned(),
            keyring_id: self.id.to_string(),
            kek: KekDescriptor {
                provider: provider.to_owned(),
                fingerprint: kek.fingerprint(),
                settings,
            },
            keys,
            index_roots,
            mac: None,
        };
        doc.seal_mac(kek)?;
        Ok(doc)
    }

    /// Unwraps a document. Refuses documents that are inconsistent or not wrapped under `kek`.
    pub fn from_document(doc: &KeyringDocument, kek: &dyn KeyWrapper) -> Result<Self, Error> {
        let invalid = |why: &str| Error::from(KeyringError::InvalidDocument(why.to_owned()));
        if doc.format != FORMAT {
            return Err(invalid(&format!(
                "unknown format {:?} (this build reads {FORMAT})",
                doc.format
            )));
        }
        if doc.kek.fingerprint != kek.fingerprint() {
            return Err(KeyringError::WrongKek {
                expected: doc.kek.fingerprint.clone(),
                given: kek.fingerprint(),
            }
            .into());
        }
        doc.verify_mac(kek)?;
        let id: KeyringId = doc
            .keyring_id
            .parse()
            .map_err(|_| invalid("keyring_id is not 32 hex digits"))?;

        let unwrap_all = |kind: Kind, list: &[WrappedKey], what: &str| {
            let mut out: BTreeMap<KeyId, (KeyInfo, Option<SecretKey>)> = BTreeMap::new();
            let mut primary = None;
            for w in list {
                let key_id = KeyId::new(w.id).ok_or_else(|| invalid("key id 0"))?;
                let created = Timestamp::parse_rfc3339(&w.created)
                    .map_err(|_| invalid("created is not an RFC 3339 time"))?;
                let info = KeyInfo {
                    id: key_id,
                    suite: w.suite,
                    state: w.state,
                    created,
                };
                let secret = match (&w.wrapped, w.state) {
                    (None, KeyState::Retired) => None,
                    (Some(_), KeyState::Retired) => {
                        return Err(invalid("retired key still has material"));
                    }
                    (None, _) => return Err(invalid("live key without material")),
                    (Some(b64), _) => {
                        let bytes = URL_SAFE_NO_PAD
                            .decode(b64)
                            .map_err(|_| invalid("wrapped key is not base64url"))?;
                        let aad = wrap_aad(id, kind, &info);
                        Some(kek.unwrap(&aad, &bytes).map_err(|_| {
                            Error::from(KeyringError::UnwrapFailed(format!("{what} {key_id}")))
                        })?)
                    }
                };
                if w.state == KeyState::Primary && primary.replace(key_id).is_some() {
                    return Err(invalid("more than one primary"));
                }
                if out.insert(key_id, (info, secret)).is_some() {
                    return Err(invalid("duplicate key id"));
                }
            }
            let primary = primary.ok_or_else(|| invalid("no primary"))?;
            Ok((out, primary))
        };

        let (keys, primary) = unwrap_all(Kind::DataKey, &doc.keys, "data key")?;
        let (roots, primary_index_root) =
            unwrap_all(Kind::IndexRoot, &doc.index_roots, "index root")?;
        Ok(Keyring {
            id,
            keys: keys
                .into_iter()
                .map(|(id, (info, secret))| {
                    (
                        id,
                        KeyEntry {
                            info,
                            material: secret.map(Material::new),
                        },
                    )
                })
                .collect(),
            primary,
            index_roots: roots
                .into_iter()
                .map(|(id, (info, secret))| (id, IndexRootEntry { info, secret }))
                .collect(),
            primary_index_root,
            indexers: crate::keyring::IndexerCache::default(),
        })
    }
}
