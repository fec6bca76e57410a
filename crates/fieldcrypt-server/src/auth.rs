//! Authentication: bearer tokens, kept only as SHA-256 hashes, and client certificates, known by
//! the SHA-256 of their DER. Tokens are random (`fieldcrypt-server new-token` makes 256-bit
//! ones), so a plain hash is enough to keep them from being recovered from the configuration; a
//! password hash would only slow every request down.

use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use crate::config::Principal;

/// SHA-256, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

/// A new random token and the hash to put in the configuration.
pub fn new_token() -> Result<(zeroize::Zeroizing<String>, String), aws_lc_rs::error::Unspecified> {
    let mut raw = zeroize::Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(raw.as_mut())?;
    let token = zeroize::Zeroizing::new(format!(
        "fct_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.as_ref())
    ));
    let hash = sha256_hex(token.as_bytes());
    Ok((token, hash))
}

fn same(expected_hex: &str, actual_hex: &str) -> bool {
    expected_hex
        .to_ascii_lowercase()
        .as_bytes()
        .ct_eq(actual_hex.as_bytes())
        .into()
}

/// The configured principals.
#[derive(Debug, Clone)]
pub struct Principals {
    list: Vec<Principal>,
}

impl Principals {
    /// From the configuration.
    pub fn new(list: Vec<Principal>) -> Self {
        Self { list }
    }

    /// The principal whose every configured credential was presented: `token` (the bearer
    /// token) and `cert` (the client certificate's SHA-256, hex). Every principal is compared,
    /// in constant time, so the time taken does not tell which one nearly matched.
    pub fn authenticate(&self, token: Option<&str>, cert: Option<&str>) -> Option<&Principal> {
        let token_hash = token.map(|t| sha256_hex(t.as_bytes()));
        let mut found = None;
        for p in &self.list {
            let token_ok = match (&p.token_sha256, &token_hash) {
                (Some(expected), Some(got)) => same(expected, got),
                (Some(_), None) => false,
                (None, _) => true,
            };
            let cert_ok = match (&p.client_cert_sha256, cert) {
                (Some(expected), Some(got)) => same(expected, got),
                (Some(_), None) => false,
                (None, _) => true,
            };
            // A principal with only a certificate is not reached by a token alone, and one
            // with only a token is not reached by a certificate alone.
            let presented_something = (p.token_sha256.is_some() && token_hash.is_some())
                || (p.client_cert_sha256.is_some() && cert.is_some());
            // The most specific match wins: a token and a certificate over a certificate alone.
            let score =
                usize::from(p.token_sha256.is_some()) + usize::from(p.client_cert_sha256.is_some());
            if token_ok && cert_ok && presented_something && found.is_none_or(|(_, s)| score > s) {
                found = Some((p, score));
            }
        }
        found.map(|(p, _)| p)
    }

    /// Every principal, for the admin page.
    pub fn list(&self) -> &[Principal] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(name: &str, token: Option<&str>, cert: Option<&str>) -> Principal {
        Principal {
            name: name.into(),
            roles: vec![],
            token_sha256: token.map(|t| sha256_hex(t.as_bytes())),
            client_cert_sha256: cert.map(str::to_owned),
            admin: false,
            requests_per_second: None,
        }
    }

    #[test]
    fn every_configured_credential_is_required() {
        let cert = sha256_hex(b"cert");
        let p = Principals::new(vec![
            principal("token-only", Some("t1"), None),
            principal("cert-only", None, Some(&cert)),
            principal("both", Some("t3"), Some(&cert)),
        ]);
        let name = |t, c| p.authenticate(t, c).map(|p| p.name.as_str());
        assert_eq!(name(Some("t1"), None), Some("token-only"));
        assert_eq!(name(Some("t1"), Some(&cert)), Some("token-only"));
        assert_eq!(name(None, Some(&cert)), Some("cert-only"));
        assert_eq!(name(Some("t3"), Some(&cert)), Some("both"));
        assert_eq!(name(Some("t3"), None), None);
        assert_eq!(name(Some("wrong"), None), None);
        assert_eq!(name(None, None), None);
        assert_eq!(name(None, Some(&sha256_hex(b"other"))), None);
    }

    #[test]
    fn new_tokens_hash_to_what_is_stored() {
        let (token, hash) = new_token().unwrap();
        assert!(token.starts_with("fct_"));
        assert_eq!(sha256_hex(token.as_bytes()), hash);
    }
}
