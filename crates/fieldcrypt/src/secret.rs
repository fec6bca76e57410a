//! Secret key material: zeroized on drop, `[REDACTED]` in Debug, never Display.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

/// 32 bytes of secret key material.
///
/// It has no `Display`, its `Debug` prints `[REDACTED]`, it is wiped when dropped, and the only
/// way to see the bytes is [`SecretKey::expose`], which is easy to find in a review.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, Error> {
        let mut key = Self([0u8; 32]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    /// Wraps existing key material (taking ownership, so the caller's copy can be wiped).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies key material out of a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::InvalidKeyLength(bytes.len()))?;
        Ok(Self(bytes))
    }

    /// The raw bytes. Every call site is a place where a secret leaves this type.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretKey {}

/// Fills `out` from the kernel's CSPRNG (see [`crate::os_random`]).
pub(crate) fn fill_random(out: &mut [u8]) -> Result<(), Error> {
    crate::os_random::fill(out).map_err(|_| Error::Rng)
}

/// A fresh random nonce or identifier.
pub fn random_array<const N: usize>() -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    fill_random(&mut out)?;
    Ok(out)
}
