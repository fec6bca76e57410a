//! Blind indexes: equality search over encrypted columns without decrypting.
//!
//! An index value is a truncated HMAC-SHA-256 of the normalised plaintext under a key derived for
//! that one index from a blind-index root that is separate from the encryption keys. Truncation is
//! the point: with few enough bits, each index value is shared by several plaintexts, so the index
//! does not single out a value (see [`planner`]).
//!
//! ```text
//! index key = HKDF-SHA-256(salt = "fieldcrypt/blind-index/v1", ikm = root,
//!                          info = lp(table) || lp(column) || lp(name) || lp(normalisers) || u16be(bits))
//! index     = first `bits` bits of HMAC-SHA-256(index key, u32be(n) || (u32be(len) || field)*n)
//! ```
//! where `lp(x) = u16be(len(x)) || x` and each field is the normalised UTF-8 (or raw bytes).

pub mod column;
pub mod normalize;
pub mod planner;

pub use column::ColumnIndex;
pub use normalize::Normalizer;

use crate::backend::{self, HmacSha256};
use crate::error::Error;
use crate::secret::SecretKey;

/// HKDF salt for index keys.
const INDEX_SALT: &[u8] = b"fieldcrypt/blind-index/v1";
/// Longest index value: the whole HMAC.
pub const MAX_BITS: u16 = 256;

/// What an index is: where it lives, how values are normalised, and how many bits it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDefinition {
    /// The table the indexed column is in (may be empty for a free-standing index).
    pub table: String,
    /// The indexed column (for a compound index, a name for the set of columns).
    pub column: String,
    /// The index's own name: two indexes on one column with different names never share a key.
    pub name: String,
    /// Applied in order to every field before hashing.
    pub normalizers: Vec<Normalizer>,
    /// Bits kept, 1 to 256. Pick them with [`planner::plan`].
    pub bits: u16,
}

impl IndexDefinition {
    /// An index with no normalisers.
    pub fn new(
        table: impl Into<String>,
        column: impl Into<String>,
        name: impl Into<String>,
        bits: u16,
    ) -> Self {
        Self {
            table: table.into(),
            column: column.into(),
            name: name.into(),
            normalizers: Vec::new(),
            bits,
        }
    }

    /// Adds normalisers, applied in the order given.
    pub fn normalized(mut self, normalizers: impl IntoIterator<Item = Normalizer>) -> Self {
        self.normalizers.extend(normalizers);
        self
    }

    /// `value` as this index hashes it. Lookups compare decrypted candidates in this form, since
    /// a truncated index also matches other values.
    pub fn normalize<'a>(&self, value: &'a str) -> std::borrow::Cow<'a, str> {
        normalize::apply(&self.normalizers, value)
    }
}

/// Computes index values for one index. Derive once, reuse for every row.
pub struct BlindIndexer {
    mac: backend::Hmac,
    normalizers: Vec<Normalizer>,
    bits: u16,
}

impl core::fmt::Debug for BlindIndexer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BlindIndexer")
            .field("key", &"[REDACTED]")
            .field("normalizers", &self.normalizers)
            .field("bits", &self.bits)
            .finish()
    }
}

impl BlindIndexer {
    pub(crate) fn new(root: &SecretKey, def: &IndexDefinition) -> Result<Self, Error> {
        if def.bits == 0 || def.bits > MAX_BITS {
            return Err(Error::BlindIndex("bits must be between 1 and 256"));
        }
        let names = normalize::names(&def.normalizers);
        let parts = [
            def.table.as_bytes(),
            def.column.as_bytes(),
            def.name.as_bytes(),
            names.as_bytes(),
        ];
        if parts.iter().any(|p| p.len() > usize::from(u16::MAX)) {
            return Err(Error::BlindIndex(
                "table, column, name must each be under 64 KiB",
            ));
        }
        let mut info = Vec::new();
        for part in parts {
            info.extend_from_slice(&(part.len() as u16).to_be_bytes());
            info.extend_from_slice(part);
        }
        info.extend_from_slice(&def.bits.to_be_bytes());
        let mut key = [0u8; 32];
        backend::hkdf_sha256(INDEX_SALT, root.expose(), &[&info], &mut key);
        let mac = backend::Hmac::new(&key);
        zeroize::Zeroize::zeroize(&mut key);
        Ok(Self {
            mac,
            normalizers: def.normalizers.clone(),
            bits: def.bits,
        })
    }

    /// Bits kept per value.
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// The index value of one text field (normalised first).
    ///
    /// Fails only for a field of 4 GiB or more, whose length the encoding cannot carry.
    pub fn compute(&self, value: &str) -> Result<BlindIndexValue, Error> {
        self.compute_compound(&[value])
    }

    /// The index value of several text fields together (each normalised), in order.
    pub fn compute_compound(&self, fields: &[&str]) -> Result<BlindIndexValue, Error> {
        let normalized: Vec<_> = fields
            .iter()
            .map(|f| normalize::apply(&self.normalizers, f))
            .collect();
        let refs: Vec<&[u8]> = normalized.iter().map(|s| s.as_bytes()).collect();
        let value = self.compute_raw(&refs);
        for mut s in normalized {
            if let std::borrow::Cow::Owned(ref mut owned) = s {
                zeroize::Zeroize::zeroize(owned);
            }
        }
        value
    }

    /// The index value of raw byte fields, without normalisation.
    pub fn compute_raw(&self, fields: &[&[u8]]) -> Result<BlindIndexValue, Error> {
        let too_long = || Error::BlindIndex("a field or the field count exceeds 2^32 - 1");
        let count = u32::try_from(fields.len())
            .map_err(|_| too_long())?
            .to_be_bytes();
        let lens = fields
            .iter()
            .map(|f| u32::try_from(f.len()).map(u32::to_be_bytes))
            .collect::<Result<Vec<[u8; 4]>, _>>()
            .map_err(|_| too_long())?;
        let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + 2 * fields.len());
        parts.push(&count);
        for (field, len) in fields.iter().zip(&lens) {
            parts.push(len);
            parts.push(field);
        }
        Ok(BlindIndexValue::truncate(self.mac.sign(&parts), self.bits))
    }
}

/// A blind-index value: the first `bits` bits of the HMAC.
///
/// Stored as [`Self::as_bytes`] (big-endian, unused low bits zero) or, for at most 63 bits, as the
/// integer [`Self::to_i64`]. Debug does not print it: index values stand in for plaintext.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlindIndexValue {
    bits: u16,
    bytes: [u8; 32],
}

impl BlindIndexValue {
    fn truncate(mut mac: [u8; 32], bits: u16) -> Self {
        let len = usize::from(bits).div_ceil(8);
        for b in &mut mac[len..] {
            *b = 0;
        }
        let spare = (len * 8) as u16 - bits;
        if spare > 0 {
            mac[len - 1] &= 0xFFu8 << spare;
        }
        Self { bits, bytes: mac }
    }

    /// Bits in the value.
    pub fn bits(&self) -> u16 {
        self.bits
    }

    /// `ceil(bits / 8)` bytes, big-endian, unused low bits zero.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.bits).div_ceil(8)]
    }

    /// The value as an unsigned integer below `2^bits`, for indexes of at most 64 bits.
    pub fn to_u64(&self) -> Option<u64> {
        if self.bits > 64 {
            return None;
        }
        let mut buf = [0u8; 8];
        buf.copy_from_slice(&self.bytes[..8]);
        Some(u64::from_be_bytes(buf) >> (64 - self.bits))
    }

    /// The value as a non-negative `BIGINT`, for indexes of at most 63 bits.
    pub fn to_i64(&self) -> Option<i64> {
        if self.bits > 63 {
            return None;
        }
        self.to_u64().and_then(|v| i64::try_from(v).ok())
    }

    /// Lower-case hex of [`Self::as_bytes`].
    pub fn to_hex(&self) -> String {
        self.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl core::fmt::Debug for BlindIndexValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BlindIndexValue({} bits, [REDACTED])", self.bits)
    }
}
