//! The server's one TOML file. Everything that decides where secrets go (the keyring, the
//! provider, the audit sink, the database) is here, never in a request or a keyring document.
//! Unknown keys are refused, so a misspelt setting is an error at start-up, not a silent default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listening and limits.
    pub server: ServerSection,
    /// TLS; absent only for a loopback listener started with `--allow-plaintext-loopback`.
    pub tls: Option<TlsSection>,
    /// The keyring and its provider.
    pub keys: KeysSection,
    /// PostgreSQL shared by replicas: budgets, rate limits, and the `postgres` audit sink.
    pub database: Option<DatabaseSection>,
    /// The decrypt trail.
    pub audit: AuditSection,
    /// Request rates.
    #[serde(default)]
    pub limits: LimitsSection,
    /// Alerts on budget refusals.
    #[serde(default)]
    pub alerts: AlertsSection,
    /// Who may call.
    #[serde(default, rename = "principal")]
    pub principals: Vec<Principal>,
    /// What roles may do; deny wins, the default is deny.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    /// Masking profiles for `open-masked`.
    #[serde(default, rename = "mask")]
    pub masks: Vec<MaskRule>,
    /// Decrypt budgets.
    #[serde(default, rename = "budget")]
    pub budgets: Vec<Budget>,
    /// Blind-index definitions the `blind-index` operation computes.
    #[serde(default, rename = "index")]
    pub indexes: Vec<IndexSection>,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// The HTTPS listener.
    pub listen: SocketAddr,
    /// An optional plain-HTTP listener that only redirects to HTTPS.
    pub redirect_listen: Option<SocketAddr>,
    /// The host name redirects point at (default: the request's Host header without port).
    pub public_host: Option<String>,
    /// This replica's chain name in the trail (default: the host name and listen port).
    pub replica: Option<String>,
    /// Largest request body, bytes.
    #[serde(default = "defaults::max_body_bytes")]
    pub max_body_bytes: usize,
    /// Most items in one request.
    #[serde(default = "defaults::max_batch")]
    pub max_batch: usize,
    /// A whole request (headers, body, answer) must finish within this, seconds.
    #[serde(default = "defaults::request_timeout")]
    pub request_timeout_seconds: u64,
    /// The TLS handshake and each request's headers must arrive within this, seconds.
    #[serde(default = "defaults::header_timeout")]
    pub header_timeout_seconds: u64,
    /// Open connections at most; more wait in the kernel's backlog.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: usize,
    /// Requests handled at once; more wait their turn (with bodies capped too, memory is
    /// bounded whatever clients do).
    #[serde(default = "defaults::max_in_flight")]
    pub max_in_flight_requests: usize,
    /// How long graceful shutdown waits for requests in flight, seconds.
    #[serde(default = "defaults::shutdown_grace")]
    pub shutdown_grace_seconds: u64,
}

/// `[tls]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// PEM CA certificates whose client certificates are accepted (mutual TLS). Without it, no
    /// client certificate is asked for.
    pub client_ca: Option<PathBuf>,
    /// `"1.3"` (default) or `"1.2"` (TLS 1.2 with AEAD suites and forward secrecy only).
    #[serde(default = "defaults::min_tls")]
    pub min_version: String,
    /// How often the PEM files are checked for changes, seconds (also on SIGHUP).
    #[serde(default = "defaults::reload")]
    pub reload_seconds: u64,
}

/// `[keys]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSection {
    /// The keyring document.
    pub keyring: PathBuf,
    /// The provider the keyring must be wrapped by (`local`, `env`, `passphrase`, `vault`,
    /// `aws-kms`).
    pub provider: String,
    /// `local`: the master-key file.
    pub master_key: Option<PathBuf>,
    /// `env`: the variable holding the KEK.
    pub key_variable: Option<String>,
    /// `passphrase`: the variable holding the passphrase.
    pub passphrase_variable: Option<String>,
    /// `vault`: the server address.
    pub vault_address: Option<String>,
    /// `vault`: the Transit mount.
    pub vault_mount: Option<String>,
    /// `vault`: the Transit key name.
    pub vault_key: Option<String>,
    /// `vault`: a CA certificate for the Vault server.
    pub vault_ca_cert: Option<PathBuf>,
    /// `aws-kms`: the key id, key ARN or alias (credentials from the SDK's default chain).
    pub aws_kms_key: Option<String>,
    /// `aws-kms`: the region (default: the ARN's, else the SDK's chain).
    pub aws_region: Option<String>,
    /// `aws-kms`: an endpoint other than AWS's own (a VPC endpoint, a stand-in).
    pub aws_endpoint: Option<String>,
    /// Unwrapped keys are kept this long; a KMS outage shorter than this does not stop
    /// service.
    #[serde(default = "defaults::cache_seconds")]
    pub cache_seconds: u64,
    /// Pin: the keyring's id.
    pub keyring_id: Option<String>,
    /// Pin: the lowest generation accepted.
    pub min_generation: Option<u64>,
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// A PostgreSQL URL.
    pub url: String,
    /// Pool size.
    #[serde(default = "defaults::pool")]
    pub max_connections: u32,
}

/// Where the trail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// The `fieldcrypt_audit` table of `[database]`.
    Postgres,
    /// A local append-only file.
    File,
}

/// `[audit]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// `postgres` or `file`.
    pub sink: SinkKind,
    /// `file`: the trail file.
    pub path: Option<PathBuf>,
    /// `file`: flush each batch to disk before answering (default true).
    #[serde(default = "defaults::yes")]
    pub sync: bool,
    /// The Ed25519 PKCS#8 PEM key that signs checkpoints (`fieldcrypt-server audit-keygen`).
    pub signing_key: PathBuf,
    /// A checkpoint after this many entries...
    #[serde(default = "defaults::checkpoint_every")]
    pub checkpoint_every: u64,
    /// ... or this many seconds after the first unsigned entry.
    #[serde(default = "defaults::checkpoint_seconds")]
    pub checkpoint_seconds: u64,
    /// Audit seals and blind indexes that succeed too (opens and every refusal always are).
    #[serde(default)]
    pub all_operations: bool,
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Requests per second per principal (shared by replicas through `[database]`); 0: none.
    #[serde(default = "defaults::rate")]
    pub requests_per_second: u64,
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            requests_per_second: defaults::rate(),
        }
    }
}

/// `[alerts]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {
    /// A URL that receives a JSON POST on every budget refusal.
    pub webhook: Option<String>,
}

/// `[[principal]]`: a caller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// Its name in the trail and logs.
    pub name: String,
    /// Its roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// SHA-256 of its bearer token, hex (`fieldcrypt-server new-token`).
    pub token_sha256: Option<String>,
    /// SHA-256 of its client certificate (DER), hex. With a token too, both are required.
    pub client_cert_sha256: Option<String>,
    /// May use the admin page and its API.
    #[serde(default)]
    pub admin: bool,
    /// Its own request rate, overriding `[limits]`.
    pub requests_per_second: Option<u64>,
}

/// An operation a rule grants or denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operation {
    /// Seal values.
    Seal,
    /// Open values in full (implies `open-masked`).
    Open,
    /// Open values and receive them masked.
    OpenMasked,
    /// Compute blind indexes.
    BlindIndex,
}

impl Operation {
    /// The name used in rules, the trail and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Seal => "seal",
            Operation::Open => "open",
            Operation::OpenMasked => "open-masked",
            Operation::BlindIndex => "blind-index",
        }
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Grants, unless a deny rule matches too.
    Allow,
    /// Refuses, whatever allows.
    Deny,
}

/// `[[rule]]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Allow or deny.
    pub effect: Effect,
    /// The roles it applies to (`*` for every role).
    pub roles: Vec<String>,
    /// The operations.
    pub operations: Vec<Operation>,
    /// `table.column` patterns; `*` matches any run of characters.
    pub columns: Vec<String>,
    /// The purposes it applies to; absent: any purpose, or none.
    pub purposes: Option<Vec<String>>,
}

/// A masking profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaskKind {
    /// `************1234`
    LastFour,
    /// `****@example.com`
    EmailDomain,
    /// `[redacted]`
    Redact,
}

/// `[[mask]]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaskRule {
    /// The roles it applies to (`*` for every role).
    pub roles: Vec<String>,
    /// `table.column` patterns.
    pub columns: Vec<String>,
    /// The profile.
    pub mask: MaskKind,
}

/// `[[budget]]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The roles it applies to (`*` for every role).
    pub roles: Vec<String>,
    /// `table.column` patterns; each principal gets `limit` per column.
    pub columns: Vec<String>,
    /// Opens (full or masked) per principal and column per window.
    pub limit: u64,
    /// The window, seconds.
    pub window_seconds: u64,
}

/// `[[index]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSection {
    /// The table.
    pub table: String,
    /// The column whose values are indexed.
    pub column: String,
    /// The index's name (its key is derived from it).
    pub name: String,
    /// Bits kept.
    pub bits: u16,
    /// Normalisers, comma-separated (`trim,casefold`).
    #[serde(default)]
    pub normalize: String,
}

mod defaults {
    pub(super) fn max_body_bytes() -> usize {
        1 << 20
    }
    pub(super) fn max_batch() -> usize {
        1000
    }
    pub(super) fn request_timeout() -> u64 {
        30
    }
    pub(super) fn header_timeout() -> u64 {
        10
    }
    pub(super) fn max_connections() -> usize {
        1024
    }
    pub(super) fn max_in_flight() -> usize {
        256
    }
    pub(super) fn shutdown_grace() -> u64 {
        20
    }
    pub(super) fn min_tls() -> String {
        "1.3".to_owned()
    }
    pub(super) fn reload() -> u64 {
        30
    }
    pub(super) fn cache_seconds() -> u64 {
        300
    }
    pub(super) fn pool() -> u32 {
        8
    }
    pub(super) fn yes() -> bool {
        true
    }
    pub(super) fn checkpoint_every() -> u64 {
        1000
    }
    pub(super) fn checkpoint_seconds() -> u64 {
        10
    }
    pub(super) fn rate() -> u64 {
        0
    }
}

/// A configuration that does not load.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {1}", path = .0.display())]
    Read(PathBuf, std::io::Error),
    /// Not TOML of the expected shape.
    #[error("{path}: {1}", path = .0.display())]
    Parse(PathBuf, String),
    /// Shaped right, but inconsistent.
    #[error("{path}: {1}", path = .0.display())]
    Invalid(PathBuf, String),
}

impl Config {
    /// Reads and checks `path`; relative paths inside are taken from the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.to_owned(), e))?;
        let mut config: Config = toml::from_str(&text)
            .map_err(|e| ConfigError::Parse(path.to_owned(), e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config
            .check()
            .map_err(|reason| ConfigError::Invalid(path.to_owned(), reason))?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(tls) = &mut self.tls {
            fix(&mut tls.cert);
            fix(&mut tls.key);
            if let Some(ca) = &mut tls.client_ca {
                fix(ca);
            }
        }
        fix(&mut self.keys.keyring);
        if let Some(m) = &mut self.keys.master_key {
            fix(m);
        }
        if let Some(c) = &mut self.keys.vault_ca_cert {
            fix(c);
        }
        fix(&mut self.audit.signing_key);
        if let Some(p) = &mut self.audit.path {
            fix(p);
        }
    }

    fn check(&self) -> Result<(), String> {
        if let Some(tls) = &self.tls
            && !matches!(tls.min_version.as_str(), "1.2" | "1.3")
        {
            return Err(format!(
                "tls.min_version {:?}: \"1.3\" or \"1.2\"",
                tls.min_version
            ));
        }
        match self.audit.sink {
            SinkKind::Postgres if self.database.is_none() => {
                return Err("audit.sink = \"postgres\" needs a [database] url".to_owned());
            }
            SinkKind::File if self.audit.path.is_none() => {
                return Err("audit.sink = \"file\" needs audit.path".to_owned());
            }
            _ => {}
        }
        if self.audit.checkpoint_every == 0 || self.audit.checkpoint_seconds == 0 {
            return Err("audit.checkpoint_every and checkpoint_seconds must be positive".into());
        }
        let mut names = std::collections::HashSet::new();
        for p in &self.principals {
            if !names.insert(&p.name) {
                return Err(format!("principal {:?} is defined twice", p.name));
            }
            if p.token_sha256.is_none() && p.client_cert_sha256.is_none() {
                return Err(format!(
                    "principal {:?} has neither token_sha256 nor client_cert_sha256",
                    p.name
                ));
            }
            for h in [&p.token_sha256, &p.client_cert_sha256]
                .into_iter()
                .flatten()
            {
                if h.len() != 64 || hex::decode(h).is_err() {
                    return Err(format!(
                        "principal {:?}: a SHA-256 is 64 hex digits",
                        p.name
                    ));
                }
            }
            if p.client_cert_sha256.is_some()
                && self
                    .tls
                    .as_ref()
                    .and_then(|t| t.client_ca.as_ref())
                    .is_none()
            {
                return Err(format!(
                    "principal {:?} authenticates with a client certificate, but tls.client_ca is not set",
                    p.name
                ));
            }
        }
        for b in &self.budgets {
            if b.window_seconds == 0 {
                return Err("a budget's window_seconds must be positive".into());
            }
        }
        for i in &self.indexes {
            fieldcrypt::Normalizer::parse_list(&i.normalize)
                .map_err(|e| format!("index {}: {e}", i.name))?;
        }
        Ok(())
    }

    /// This replica's chain name.
    pub fn replica(&self) -> String {
        self.server.replica.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "replica".to_owned());
            format!("{host}:{}", self.server.listen.port())
        })
    }
}
