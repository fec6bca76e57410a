//! Shared by the vector files: hex, the fixed keys and nonces, keyrings, contexts, counts.

use std::collections::BTreeMap;

use fieldcrypt::{Context, KeyId, Keyring, KeyringId, SecretKey, Suite};
use serde_json::{Value as J, json};

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn key(seed: u8) -> [u8; 32] {
    core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
}

pub(crate) fn nonce(seed: u8) -> [u8; 24] {
    core::array::from_fn(|i| seed.wrapping_mul(7).wrapping_add(0x40 + i as u8))
}

pub(crate) fn keyring(suite: Suite, key_id: u32, seed: u8) -> Keyring {
    Keyring::from_single_key(
        KeyringId([0; 16]),
        KeyId::new(key_id).unwrap_or_else(|| unreachable!()),
        suite,
        SecretKey::from_bytes(key(seed)),
        SecretKey::from_bytes(key(seed ^ 0xFF)),
    )
}

pub(crate) fn ctx_json(table: &str, column: &str, row: Option<&str>, tenant: Option<&str>) -> J {
    json!({ "table": table, "column": column, "row": row, "tenant": tenant })
}

pub(crate) fn context(c: &J) -> Context {
    let s = |k: &str| c[k].as_str().map(str::to_owned);
    let mut ctx = Context::new(
        s("table").unwrap_or_default(),
        s("column").unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    if let Some(row) = s("row") {
        ctx = ctx.with_row(row).unwrap_or_else(|e| panic!("{e}"));
    }
    if let Some(t) = s("tenant") {
        ctx = ctx.with_tenant(t).unwrap_or_else(|e| panic!("{e}"));
    }
    ctx
}

/// `{ value of member: how many }` over `list`.
pub(crate) fn counts_by(list: &[J], member: &str) -> J {
    let mut counts = BTreeMap::<String, usize>::new();
    for v in list {
        *counts
            .entry(v[member].as_str().unwrap_or("null").to_owned())
            .or_default() += 1;
    }
    json!(counts)
}

pub(crate) const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
