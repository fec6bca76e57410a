//! Keyrings: data keys by id, one primary that seals, the rest open only, and tombstones for
//! retired ids so an id is never reused. Also the blind-index roots, kept apart from the data keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use zeroize::Zeroize;

use crate::aead::{self, NONCE_LEN, PrefixKey, XaesKey};
use crate::blind_index::{BlindIndexer, IndexDefinition};
use crate::context::Context;
use crate::envelope::{Envelope, HEADER_LEN, Header, KeyId, Suite, encode_text};
use crate::error::{Error, KeyringError};
use crate::plaintext::Timestamp;
use crate::plaintext::{Decode, Encode, decode_typed, encode_typed};
use crate::secret::{SecretKey, random_array};

/// Largest plaintext an envelope holds: 1 GiB. Field encryption is for fields.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 30;

/// A keyring's random 128-bit identity; wrapped keys are bound to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyringId(pub [u8; 16]);

impl core::fmt::Display for KeyringId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl core::str::FromStr for KeyringId {
    type Err = crate::error::KeyringError;

    /// Canonical form only: 32 lower-case hex digits.
    fn from_str(hex: &str) -> Result<Self, Self::Err> {
        let bad = || {
            crate::error::KeyringError::InvalidDocument(
                "keyring_id is not 32 lower-case hex digits".to_owned(),
            )
        };
        if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(bad());
        }
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(KeyringId(out))
    }
}

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Seals new values and opens old ones. Exactly one key is primary.
    Primary,
    /// Opens values sealed under it; seals nothing.
    Active,
    /// Material destroyed; the id stays reserved.
    Retired,
}

impl core::fmt::Display for KeyState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(match self {
            KeyState::Primary => "primary",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
        })
    }
}

/// Public facts about a key: no secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// The key id.
    pub id: KeyId,
    /// The suite it seals with.
    pub suite: Suite,
    /// Its state.
    pub state: KeyState,
    /// When it was created.
    pub created: Timestamp,
}

/// A data key's material, prepared for use.
pub(crate) struct Material {
    pub(crate) secret: SecretKey,
    xaes: XaesKey,
}

impl Material {
    pub(crate) fn new(secret: SecretKey) -> Self {
        let xaes = XaesKey::new(secret.expose());
        Self { secret, xaes }
    }
}

pub(crate) struct KeyEntry {
    pub(crate) info: KeyInfo,
    pub(crate) material: Option<Material>,
}

/// A blind-index root: every index key is derived from it.
pub(crate) struct IndexRootEntry {
    pub(crate) info: KeyInfo,
    pub(crate) secret: Option<SecretKey>,
}

/// Data keys and blind-index roots, in memory, unwrapped. See the crate docs for an example.
pub struct Keyring {
    pub(crate) id: KeyringId,
    pub(crate) keys: BTreeMap<KeyId, KeyEntry>,
    pub(crate) primary: KeyId,
    pub(crate) index_roots: BTreeMap<KeyId, IndexRootEntry>,
    pub(crate) primary_index_root: KeyId,
    /// Index keys derived from the roots, kept with the keyring so that they go (zeroized) when
    /// it goes, and when their root is retired: see [`Keyring::cached_blind_indexer`].
    pub(crate) indexers: IndexerCache,
}

/// Derived blind indexers by (definition, root), at most [`IndexerCache::MAX`] (the oldest go).
#[derive(Default)]
pub(crate) struct IndexerCache(std::sync::Mutex<Vec<(IndexDefinition, KeyId, Arc<BlindIndexer>)>>);

impl IndexerCache {
    const MAX: usize = 256;

    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, Vec<(IndexDefinition, KeyId, Arc<BlindIndexer>)>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl core::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keyring")
            .field("id", &self.id)
            .field("primary", &self.primary)
            .field(
                "keys",
                &self.keys.values().map(|k| &k.info).collect::<Vec<_>>(),
            )
            .field(
                "index_roots",
                &self
                    .index_roots
                    .values()
                    .map(|k| &k.info)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// A new keyring with one primary data key under `suite` and one blind-index root.
    pub fn generate(suite: Suite) -> Result<Self, Error> {
        let first = KeyId::new(1).ok_or(Error::Rng)?;
        let now = Timestamp::now();
        let mut keys = BTreeMap::new();
        keys.insert(
            first,
            KeyEntry {
                info: KeyInfo {
                    id: first,
                    suite,
                    state: KeyState::Primary,
                    created: now,
                },
                material: Some(Material::new(SecretKey::generate()?)),
            },
        );
        let mut index_roots = BTreeMap::new();
        index_roots.insert(
            first,
            IndexRootEntry {
                info: KeyInfo {
                    id: first,
                    suite,
                    state: KeyState::Primary,
                    created: now,
                },
                secret: Some(SecretKey::generate()?),
            },
        );
        Ok(Self {
            id: KeyringId(random_array()?),
            keys,
            primary: first,
            index_roots,
            primary_index_root: first,
            indexers: IndexerCache::default(),
        })
    }

    /// A keyring with one given key, for tests and vectors: id 1, primary, no wrapping.
    pub fn from_single_key(
        keyring_id: KeyringId,
        key_id: KeyId,
        suite: Suite,
        key: SecretKey,
        index_root: SecretKey,
    ) -> Self {
        let created = Timestamp::new(0, 0).unwrap_or_else(Timestamp::now);
        let mut keys = BTreeMap::new();
        keys.insert(
            key_id,
            KeyEntry {
                info: KeyInfo {
                    id: key_id,
                    suite,
                    state: KeyState::Primary,
                    created,
                },
                material: Some(Material::new(key)),
            },
        );
        let mut index_roots = BTreeMap::new();
        index_roots.insert(
            key_id,
            IndexRootEntry {
                info: KeyInfo {
                    id: key_id,
                    suite,
                    state: KeyState::Primary,
                    created,
                },
                secret: Some(index_root),
            },
        );
        Self {
            id: keyring_id,
            keys,
            primary: key_id,
            index_roots,
            primary_index_root: key_id,
            indexers: IndexerCache::default(),
        }
    }

    /// The keyring's identity.
    pub fn id(&self) -> KeyringId {
        self.id
    }

    /// The key that seals.
    pub fn primary(&self) -> KeyId {
        self.primary
    }

    /// Every data key, retired ones included, by id.
    pub fn keys(&self) -> impl Iterator<Item = &KeyInfo> {
        self.keys.values().map(|k| &k.info)
    }

    /// Every blind-index root, by id.
    pub fn index_roots(&self) -> impl Iterator<Item = &KeyInfo> {
        self.index_roots.values().map(|k| &k.info)
    }

    /// The blind-index root new index values are computed under.
    pub fn primary_index_root(&self) -> KeyId {
        self.primary_index_root
    }

    /// The index roots a lookup must try: the primary first, then every other root not yet
    /// retired (rows not yet re-indexed still carry values under those), oldest to newest.
    pub fn lookup_index_roots(&self) -> Vec<KeyId> {
        let mut roots = vec![self.primary_index_root];
        roots.extend(
            self.index_roots
                .values()
                .filter(|k| {
                    k.info.state != KeyState::Retired && k.info.id != self.primary_index_root
                })
                .map(|k| k.info.id),
        );
        roots
    }

    /// The newest index root other than the primary that is not yet retired: during a
    /// re-index, the root a second index column is still filled under.
    pub fn previous_index_root(&self) -> Option<KeyId> {
        self.lookup_index_roots()
            .into_iter()
            .skip(1)
            .max_by_key(|r| r.get())
    }

    /// Adds a new primary data key under the current primary's suite; the old primary stays
    /// for opening. Returns the new key's id.
    pub fn rotate(&mut self) -> Result<KeyId, Error> {
        let suite = self
            .keys
            .get(&self.primary)
            .map_or(Suite::KcXaes256Gcm, |k| k.info.suite);
        self.rotate_to(suite)
    }

    /// Adds a new primary data key under `suite`.
    pub fn rotate_to(&mut self, suite: Suite) -> Result<KeyId, Error> {
        let id = next_id(self.keys.keys())?;
        let material = Material::new(SecretKey::generate()?);
        if let Some(old) = self.keys.get_mut(&self.primary) {
            old.info.state = KeyState::Active;
        }
        self.keys.insert(
            id,
            KeyEntry {
                info: KeyInfo {
                    id,
                    suite,
                    state: KeyState::Primary,
                    created: Timestamp::now(),
                },
                material: Some(material),
            },
        );
        self.primary = id;
        Ok(id)
    }

    /// Destroys a non-primary key's material and keeps its id as a tombstone. Values under it
    /// no longer open: re-seal them first (`fieldcrypt rotate`).
    pub fn retire(&mut self, id: KeyId) -> Result<(), Error> {
        if id == self.primary {
            return Err(KeyringError::RetirePrimary(id).into());
        }
        let entry = self.keys.get_mut(&id).ok_or(KeyringError::NoSuchKey(id))?;
        entry.info.state = KeyState::Retired;
        entry.material = None;
        Ok(())
    }

    /// Adds a new primary blind-index root. The previous one stays, so lookups can match
    /// values indexed under either while a re-index runs.
    pub fn rotate_index_root(&mut self) -> Result<KeyId, Error> {
        let id = next_id(self.index_roots.keys())?;
        let suite = self
            .keys
            .get(&self.primary)
            .map_or(Suite::KcXaes256Gcm, |k| k.info.suite);
        if let Some(old) = self.index_roots.get_mut(&self.primary_index_root) {
            old.info.state = KeyState::Active;
        }
        self.index_roots.insert(
            id,
            IndexRootEntry {
                info: KeyInfo {
                    id,
                    suite,
                    state: KeyState::Primary,
                    created: Timestamp::now(),
                },
                secret: Some(SecretKey::generate()?),
            },
        );
        self.primary_index_root = id;
        Ok(id)
    }

    /// Destroys a non-primary blind-index root.
    pub fn retire_index_root(&mut self, id: KeyId) -> Result<(), Error> {
        if id == self.primary_index_root {
            return Err(KeyringError::RetirePrimary(id).into());
        }
        let entry = self
            .index_roots
            .get_mut(&id)
            .ok_or(KeyringError::NoSuchKey(id))?;
        entry.info.state = KeyState::Retired;
        entry.secret = None;
        // The index keys derived from it go too.
        self.indexers.entries().retain(|(_, root, _)| *root != id);
        Ok(())
    }

    /// The blind indexer for `definition` under `root`, derived once and kept in this keyring
    /// (HKDF costs more than the HMAC it feeds): it is dropped, and its key zeroized, with the
    /// keyring or when the root is retired, never kept longer than the root it comes from.
    pub fn cached_blind_indexer(
        &self,
        definition: &IndexDefinition,
        root: KeyId,
    ) -> Result<Arc<BlindIndexer>, Error> {
        if let Some(found) = self
            .indexers
            .entries()
            .iter()
            .find(|(d, r, _)| *r == root && d == definition)
        {
            return Ok(Arc::clone(&found.2));
        }
        let indexer = Arc::new(self.blind_indexer_under(definition, root)?);
        let mut entries = self.indexers.entries();
        if !entries
            .iter()
            .any(|(d, r, _)| *r == root && d == definition)
        {
            if entries.len() >= IndexerCache::MAX {
                entries.remove(0);
            }
            entries.push((definition.clone(), root, Arc::clone(&indexer)));
        }
        Ok(indexer)
    }

    /// A blind indexer for `definition` under the primary index root.
    pub fn blind_indexer(&self, definition: &IndexDefinition) -> Result<BlindIndexer, Error> {
        self.blind_indexer_under(definition, self.primary_index_root)
    }

    /// A blind indexer for `definition` under a given index root (for lookups during a
    /// re-index, match under the new and the previous root).
    pub fn blind_indexer_under(
        &self,
        definition: &IndexDefinition,
        root: KeyId,
    ) -> Result<BlindIndexer, Error> {
        let entry = self
            .index_roots
            .get(&root)
            .ok_or(KeyringError::NoSuchKey(root))?;
        let secret = entry.secret.as_ref().ok_or(Error::RetiredKey(root))?;
        BlindIndexer::new(secret, definition)
    }

    /// The primary data key's id and secret (for [`crate::stream`]).
    pub(crate) fn primary_secret(&self) -> Result<(KeyId, &[u8; 32]), Error> {
        let (info, material) = self.primary_entry()?;
        Ok((info.id, material.secret.expose()))
    }

    /// The secret of data key `id`; unknown and retired keys are their own errors.
    pub(crate) fn secret_for(&self, id: KeyId) -> Result<&[u8; 32], Error> {
        let entry = self.keys.get(&id).ok_or(Error::UnknownKey(id))?;
        let material = entry.material.as_ref().ok_or(Error::RetiredKey(id))?;
        Ok(material.secret.expose())
    }

    fn primary_entry(&self) -> Result<(&KeyInfo, &Material), Error> {
        let entry = self
            .keys
            .get(&self.primary)
            .ok_or(KeyringError::NoSuchKey(self.primary))?;
        let material = entry
            .material
            .as_ref()
            .ok_or(Error::RetiredKey(self.primary))?;
        Ok((&entry.info, material))
    }

    /// Seals `value` under the primary key, bound to `context`; returns the binary envelope.
    pub fn seal<T: Encode + ?Sized>(&self, context: &Context, value: &T) -> Result<Vec<u8>, Error> {
        self.seal_under_nonce(context, value, random_array()?)
    }

    /// Seals with a caller-chosen nonce: only for known-answer test vectors (the `test-vectors`
    /// feature). A nonce must never repeat under a key; [`Keyring::seal`] draws a fresh one.
    #[cfg(feature = "test-vectors")]
    pub fn seal_with_nonce<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, Error> {
        self.seal_under_nonce(context, value, nonce)
    }

    /// The binary envelope of `value` under the primary key and `nonce`, which the caller has
    /// drawn fresh from the CSPRNG ([`Keyring::seal`], [`crate::Sealer`]).
    pub(crate) fn seal_under_nonce<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, Error> {
        Ok(self.seal_parts(context, value, nonce, None)?.1)
    }

    /// The primary key's derived key for a nonce prefix, for a batch of values that share it
    /// ([`crate::Sealer`], which checks with [`Self::is_primary_prefix_key`] that it still is
    /// the primary's before each seal).
    pub(crate) fn primary_prefix_key(&self, prefix: &[u8; 12]) -> Result<PrefixKey, Error> {
        let (info, material) = self.primary_entry()?;
        Ok(material.xaes.prefix_key(prefix, info.suite.commits()))
    }

    /// Whether `key` was derived from this keyring's primary key (for its own prefix).
    pub(crate) fn is_primary_prefix_key(&self, key: &PrefixKey) -> bool {
        self.primary_entry().is_ok_and(|(info, material)| {
            material
                .xaes
                .derived(key, key.prefix(), info.suite.commits())
        })
    }

    /// [`Self::seal_under_nonce`] with the prefix's key prepared, in the binary or the text
    /// form. `key` is used only where it was derived from this keyring's primary key for
    /// `nonce[..12]`; otherwise the value is sealed the plain way.
    pub(crate) fn seal_with_prefix_key<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
        nonce: [u8; NONCE_LEN],
        key: &PrefixKey,
    ) -> Result<Vec<u8>, Error> {
        Ok(self.seal_parts(context, value, nonce, Some(key))?.1)
    }

    /// [`Self::seal_with_prefix_key`] in the text form.
    pub(crate) fn seal_text_with_prefix_key<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
        nonce: [u8; NONCE_LEN],
        key: &PrefixKey,
    ) -> Result<String, Error> {
        let (header, binary) = self.seal_parts(context, value, nonce, Some(key))?;
        Ok(encode_text(header, &binary[HEADER_LEN..]))
    }

    /// [`Self::seal_under_nonce`] in the text form, encoded from the parts just written.
    pub(crate) fn seal_text_under_nonce<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, Error> {
        let (header, binary) = self.seal_parts(context, value, nonce, None)?;
        Ok(encode_text(header, &binary[HEADER_LEN..]))
    }

    /// The header and the binary envelope; with `prepared`, its derived key where it was derived
    /// from this primary key for this nonce's prefix.
    fn seal_parts<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
        nonce: [u8; NONCE_LEN],
        prepared: Option<&PrefixKey>,
    ) -> Result<(Header, Vec<u8>), Error> {
        let (info, material) = self.primary_entry()?;
        let header = Header {
            suite: info.suite,
            key_id: info.id,
        };
        let mut out = Vec::with_capacity(
            HEADER_LEN + NONCE_LEN + 1 + value.size_hint() + header.suite.trailer_len(),
        );
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&nonce);
        let start = out.len();
        if let Err(e) = encode_typed(value, &mut out) {
            out.zeroize();
            return Err(e);
        }
        if out.len() - start > MAX_PLAINTEXT_LEN {
            out.zeroize();
            return Err(Error::TooLarge(out.len() - start));
        }
        let commit = header.suite.commits();
        let prepared = prepared.filter(|k| material.xaes.derived(k, aead::prefix(&nonce), commit));
        let (tag, commitment) = with_aad(header, context, |aad| match prepared {
            Some(key) => material.xaes.seal_with(key, &nonce, aad, &mut out[start..]),
            None => material
                .xaes
                .seal_in_place(commit, &nonce, aad, &mut out[start..]),
        });
        out.extend_from_slice(&tag);
        if let Some(commitment) = commitment {
            out.extend_from_slice(&commitment);
        }
        Ok((header, out))
    }

    /// Seals `value` and returns the text envelope, for text columns.
    pub fn seal_text<T: Encode + ?Sized>(
        &self,
        context: &Context,
        value: &T,
    ) -> Result<String, Error> {
        self.seal_text_under_nonce(context, value, random_array()?)
    }

    /// Opens an envelope in either form (binary, or text as bytes) as a `T`.
    pub fn open<T: Decode>(&self, context: &Context, envelope: &[u8]) -> Result<T, Error> {
        self.open_envelope(context, &Envelope::parse(envelope)?)
    }

    /// Opens a text envelope as a `T`.
    pub fn open_text<T: Decode>(&self, context: &Context, envelope: &str) -> Result<T, Error> {
        self.open_envelope(context, &Envelope::parse_text(envelope)?)
    }

    /// Opens a parsed envelope as a `T`.
    ///
    /// Values sealed together by a [`crate::Sealer`] share a nonce prefix and so a derived key:
    /// each thread keeps the last prefix's derived key, and the next envelope with the same key
    /// and prefix (the next row of a batch read back in order) skips the derivation and the AES-GCM
    /// key setup. Anything else derives afresh and takes the thread's place.
    pub fn open_envelope<T: Decode>(
        &self,
        context: &Context,
        envelope: &Envelope<'_>,
    ) -> Result<T, Error> {
        thread_local! {
            static LAST_PREFIX: core::cell::RefCell<Option<PrefixKey>> =
                const { core::cell::RefCell::new(None) };
        }
        LAST_PREFIX
            .try_with(|cell| match cell.try_borrow_mut() {
                Ok(mut cache) => self.open_envelope_cached(context, envelope, &mut cache),
                Err(_) => self.open_envelope_cached(context, envelope, &mut None),
            })
            .unwrap_or_else(|_| self.open_envelope_cached(context, envelope, &mut None))
    }

    /// [`Self::open_envelope`] with the last nonce prefix's derived key in `cache`: used only for
    /// the same key, suite and prefix; anything else derives afresh and replaces it.
    fn open_envelope_cached<T: Decode>(
        &self,
        context: &Context,
        envelope: &Envelope<'_>,
        cache: &mut Option<PrefixKey>,
    ) -> Result<T, Error> {
        let header = envelope.header();
        let entry = self
            .keys
            .get(&header.key_id)
            .ok_or(Error::UnknownKey(header.key_id))?;
        let material = entry
            .material
            .as_ref()
            .ok_or(Error::RetiredKey(header.key_id))?;
        if entry.info.suite != header.suite {
            return Err(Error::CannotOpen);
        }
        let commit = header.suite.commits();
        let nonce = envelope.nonce();
        if envelope.commitment().is_some() != commit {
            return Err(Error::CannotOpen);
        }
        let key = match cache.take() {
            Some(key) if material.xaes.derived(&key, aead::prefix(nonce), commit) => key,
            _ => material.xaes.prefix_key(aead::prefix(nonce), commit),
        };
        let mut buf = envelope.sealed().to_vec();
        let opened = with_aad(header, context, |aad| {
            material
                .xaes
                .open_with(&key, envelope.commitment(), nonce, aad, &mut buf)
        });
        *cache = Some(key);
        match opened {
            Ok(len) => {
                buf.truncate(len);
                decode_typed(buf)
            }
            Err(_) => {
                buf.zeroize();
                Err(Error::CannotOpen)
            }
        }
    }

    /// Whether `envelope` was sealed under another key than the primary: what a rotation job
    /// needs to know, read from the header without opening anything.
    pub fn needs_rotation(&self, envelope: &Envelope<'_>) -> bool {
        envelope.header().key_id != self.primary
    }
}

/// Runs `f` with the associated data `header || context`, on the stack when it is small.
fn with_aad<R>(header: Header, context: &Context, f: impl FnOnce(&[u8]) -> R) -> R {
    let ctx = context.encoded();
    let len = HEADER_LEN + ctx.len();
    let mut stack = [0u8; 256];
    if len <= stack.len() {
        stack[..HEADER_LEN].copy_from_slice(&header.to_bytes());
        stack[HEADER_LEN..len].copy_from_slice(ctx);
        f(&stack[..len])
    } else {
        let mut heap = Vec::with_capacity(len);
        heap.extend_from_slice(&header.to_bytes());
        heap.extend_from_slice(ctx);
        f(&heap)
    }
}

fn next_id<'a>(ids: impl Iterator<Item = &'a KeyId>) -> Result<KeyId, Error> {
    let max = ids.map(|id| id.get()).max().unwrap_or(0);
    max.checked_add(1)
        .and_then(KeyId::new)
        .ok_or(KeyringError::IdsExhausted.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn derived_index_keys_live_no_longer_than_the_keyring_or_their_root() {
        let mut keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
        let definition = IndexDefinition::new("t", "c", "c_idx", 16);
        let old_root = keyring.primary_index_root();
        let first = keyring.cached_blind_indexer(&definition, old_root).unwrap();
        let again = keyring.cached_blind_indexer(&definition, old_root).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "derived once");
        let held = Arc::downgrade(&first);
        drop((first, again));
        assert!(held.upgrade().is_some(), "the keyring holds it");
        // Retiring the root drops what was derived from it.
        keyring.rotate_index_root().unwrap();
        let new_root = keyring.primary_index_root();
        let current = Arc::downgrade(&keyring.cached_blind_indexer(&definition, new_root).unwrap());
        keyring.retire_index_root(old_root).unwrap();
        assert!(held.upgrade().is_none(), "gone with its root");
        assert!(current.upgrade().is_some());
        // Dropping the keyring drops the rest.
        drop(keyring);
        assert!(current.upgrade().is_none(), "gone with the keyring");
    }
}
