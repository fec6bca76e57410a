//! The records of a trail: [`Entry`] (one decrypt, denial or refusal) and [`Checkpoint`] (a
//! signature over a replica's chain head), and the bytes each is hashed or signed as.
//!
//! The hashed and signed bytes are a length-prefixed encoding of the fields, not their JSON: a
//! JSON text has many spellings of one value, the encoding has one, so a verifier in another
//! language rebuilds it without a canonicalisation step (docs/SERVER.md, "The audit format").

use serde::{Deserialize, Serialize};

/// A SHA-256 chain value.
pub type Hash = [u8; 32];

/// Domain separation for entry hashes, the genesis value and checkpoint signatures.
const ENTRY_DOMAIN: &[u8] = b"fieldcrypt-audit-v1 entry";
const GENESIS_DOMAIN: &[u8] = b"fieldcrypt-audit-v1 genesis";
const CHECKPOINT_DOMAIN: &[u8] = b"fieldcrypt-audit-v1 checkpoint";

/// What happened to one item of a request. Never a value, a key or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The replica (chain) that wrote the entry.
    pub replica: String,
    /// Position in the replica's chain, from 1, without gaps.
    pub seq: u64,
    /// When the server decided, RFC 3339 UTC.
    pub time: String,
    /// Who asked (the principal's configured name), or `-` when nobody authenticated.
    pub principal: String,
    /// `open`, `open-masked`, `seal`, `blind-index`.
    pub operation: String,
    /// The context's table.
    pub table: String,
    /// The context's column.
    pub column: String,
    /// The context's row, when the value is bound to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<String>,
    /// The context's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The data key the envelope names (opens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<u32>,
    /// The purpose the caller declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The request's id, as answered in `x-request-id`.
    pub request_id: String,
    /// `ok`, `denied`, `budget`, `rate-limited`, `unauthenticated` or `failed` (the value did not open).
    pub outcome: String,
    /// The chain value after this entry, hex ([`entry_hash`]).
    pub hash: String,
}

/// A signature by the trail's Ed25519 key over a replica's chain value after entry `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The replica whose chain is signed.
    pub replica: String,
    /// The last entry the checkpoint covers.
    pub seq: u64,
    /// When it was signed, RFC 3339 UTC.
    pub time: String,
    /// The chain value after entry `seq`, hex.
    pub hash: String,
    /// The signing key's fingerprint ([`crate::VerifyingKey::fingerprint`]).
    pub key: String,
    /// The Ed25519 signature over [`checkpoint_message`], base64.
    pub signature: String,
}

/// One line of a trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    /// An audited event.
    Entry(Entry),
    /// A signed chain head.
    Checkpoint(Checkpoint),
}

impl Record {
    /// The replica the record belongs to.
    pub fn replica(&self) -> &str {
        match self {
            Record::Entry(e) => &e.replica,
            Record::Checkpoint(c) => &c.replica,
        }
    }
    /// One JSON line, without the newline.
    pub fn to_json_line(&self) -> String {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn put(out: &mut Vec<u8>, field: &[u8]) {
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

fn put_opt(out: &mut Vec<u8>, field: Option<&[u8]>) {
    match field {
        None => out.push(0),
        Some(f) => {
            out.push(1);
            put(out, f);
        }
    }
}

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The chain value before a replica's first entry: SHA-256 of the domain and the replica name.
pub fn genesis(replica: &str) -> Hash {
    let mut buf = Vec::new();
    put(&mut buf, replica.as_bytes());
    sha256(&[GENESIS_DOMAIN, &buf])
}

/// The chain value after `entry`, given the value before it. Covers every field but `hash`.
pub fn entry_hash(previous: &Hash, entry: &Entry) -> Hash {
    let mut buf = Vec::with_capacity(256);
    put(&mut buf, entry.replica.as_bytes());
    buf.extend_from_slice(&entry.seq.to_be_bytes());
    put(&mut buf, entry.time.as_bytes());
    put(&mut buf, entry.principal.as_bytes());
    put(&mut buf, entry.operation.as_bytes());
    put(&mut buf, entry.table.as_bytes());
    put(&mut buf, entry.column.as_bytes());
    put_opt(&mut buf, entry.row.as_deref().map(str::as_bytes));
    put_opt(&mut buf, entry.tenant.as_deref().map(str::as_bytes));
    let key_id = entry.key_id.map(|k| k.to_be_bytes());
    put_opt(&mut buf, key_id.as_ref().map(|k| k.as_slice()));
    put_opt(&mut buf, entry.purpose.as_deref().map(str::as_bytes));
    put(&mut buf, entry.request_id.as_bytes());
    put(&mut buf, entry.outcome.as_bytes());
    sha256(&[ENTRY_DOMAIN, previous, &buf])
}

/// The bytes a checkpoint's signature covers: the domain, the replica, the sequence number,
/// the chain value and the time.
pub fn checkpoint_message(replica: &str, seq: u64, hash: &Hash, time: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(CHECKPOINT_DOMAIN);
    put(&mut buf, replica.as_bytes());
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(hash);
    put(&mut buf, time.as_bytes());
    buf
}

/// Parses a hex chain value.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}
