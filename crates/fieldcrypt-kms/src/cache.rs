//! A keyring kept unwrapped in memory for a while, so that provider calls do not grow with the
//! number of rows: [`ManagedKeyring::get`] unwraps through the provider once, then hands out the
//! same keyring until its time-to-live runs out or it has been used `max_uses` times. Then the
//! cached keys are dropped (and zeroized once the last user lets go) and the next call reads the
//! store and asks the provider again, which also picks up keys rotated by another process and
//! makes a revoked provider key take effect within the TTL.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fieldcrypt::Keyring;

use crate::error::KmsError;
use crate::provider::KeyProvider;
use crate::store::KeyringStore;
use crate::unlocked::{Pins, UnlockedKeyring};

/// How long unwrapped keys stay in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Unwrapped keys are dropped this long after the provider call that produced them.
    pub ttl: Duration,
    /// ... or after this many uses (each [`ManagedKeyring::get`] is one use).
    pub max_uses: u64,
}

impl Default for CachePolicy {
    /// Five minutes or ten million uses, whichever comes first.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(300),
            max_uses: 10_000_000,
        }
    }
}

struct Cached {
    keyring: Arc<Keyring>,
    loaded: Instant,
    uses: u64,
}

/// A keyring read from a store and unwrapped by a provider on demand, cached under a policy.
pub struct ManagedKeyring {
    store: Arc<dyn KeyringStore>,
    provider: Arc<dyn KeyProvider>,
    policy: CachePolicy,
    pins: Pins,
    /// The highest generation loaded so far: a later reload older than it is a rollback too.
    seen_generation: AtomicU64,
    cached: tokio::sync::Mutex<Option<Cached>>,
    loads: AtomicU64,
}

impl core::fmt::Debug for ManagedKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ManagedKeyring")
            .field("store", &self.store.describe())
            .field("provider", &self.provider.name())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl ManagedKeyring {
    /// A keyring in `store`, unwrapped by `provider` when first needed.
    pub fn new(
        store: Arc<dyn KeyringStore>,
        provider: Arc<dyn KeyProvider>,
        policy: CachePolicy,
    ) -> Self {
        Self {
            store,
            provider,
            policy,
            pins: Pins::default(),
            seen_generation: AtomicU64::new(0),
            cached: tokio::sync::Mutex::new(None),
            loads: AtomicU64::new(0),
        }
    }

    /// Refuses, on every load, another keyring than the pinned one or a document older than the
    /// pinned generation (a rolled-back store, a restored backup of the keys table). Without
    /// pins too, a reload never accepts a generation older than one this cache has loaded.
    pub fn with_pins(mut self, pins: Pins) -> Self {
        self.pins = pins;
        self
    }

    /// The keyring, unwrapped now if the cache is empty or expired. Counts one use.
    pub async fn get(&self) -> Result<Arc<Keyring>, KmsError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_mut() {
            if c.loaded.elapsed() < self.policy.ttl && c.uses < self.policy.max_uses {
                c.uses += 1;
                return Ok(Arc::clone(&c.keyring));
            }
            // Expired: drop our reference first, so the keys are zeroized as soon as no
            // caller holds them, even if the reload below fails.
            *cached = None;
        }
        let stored = self
            .store
            .load()
            .await?
            .ok_or_else(|| KmsError::NoKeyring(self.store.describe()))?;
        // Never accept an older generation than one already loaded, whatever was configured.
        let seen = self.seen_generation.load(Ordering::Relaxed);
        let pins = Pins {
            keyring_id: self.pins.keyring_id,
            min_generation: Some(self.pins.min_generation.unwrap_or(0).max(seen)),
        };
        let unlocked =
            UnlockedKeyring::open_pinned(&stored.document, self.provider.as_ref(), &pins).await?;
        self.seen_generation
            .fetch_max(unlocked.generation(), Ordering::Relaxed);
        self.loads.fetch_add(1, Ordering::Relaxed);
        let keyring = Arc::new(unlocked.into_keyring());
        *cached = Some(Cached {
            keyring: Arc::clone(&keyring),
            loaded: Instant::now(),
            uses: 1,
        });
        Ok(keyring)
    }

    /// Drops the cached keys now (after a rotation, or when the application is told to forget).
    pub async fn evict(&self) {
        *self.cached.lock().await = None;
    }

    /// How many times the keyring was unwrapped through the provider.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }
}
