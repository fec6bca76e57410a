//! TLS from PEM files, with rustls on aws-lc-rs: TLS 1.3, or 1.2 as well with AEAD suites only
//! (rustls implements no CBC or RC4 suite, and every 1.2 suite it has uses ECDHE). Optional
//! client certificates from a configured CA. The files are read again when they change (checked
//! every `reload_seconds` and on SIGHUP); a broken new file is logged and the old configuration
//! stays.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use crate::config::TlsSection;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(String);

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the rustls configuration of `[tls]`.
pub fn server_config(tls: &TlsSection) -> Result<Arc<ServerConfig>, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| TlsError(format!("reading {}: {e}", tls.cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError(format!("reading {}: {e}", tls.cert.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{} holds no certificate",
            tls.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| TlsError(format!("reading the key {}: {e}", tls.key.display())))?;
    let versions: &[&rustls::SupportedProtocolVersion] = match tls.min_version.as_str() {
        "1.2" => &[&rustls::version::TLS13, &rustls::version::TLS12],
        _ => &[&rustls::version::TLS13],
    };
    let mut provider = (*provider()).clone();
    // Every suite rustls ships is an AEAD with forward secrecy; keep that true by construction.
    provider.cipher_suites.retain(|s| match s {
        rustls::SupportedCipherSuite::Tls13(_) => true,
        rustls::SupportedCipherSuite::Tls12(s) => {
            let name = format!("{:?}", s.common.suite);
            name.starts_with("TLS_ECDHE_")
                && (name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"))
        }
    });
    let builder = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .map_err(|e| TlsError(e.to_string()))?;
    let builder = match &tls.client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca)
                .map_err(|e| TlsError(format!("reading {}: {e}", ca.display())))?
            {
                let cert = cert.map_err(|e| TlsError(format!("reading {}: {e}", ca.display())))?;
                roots
                    .add(cert)
                    .map_err(|e| TlsError(format!("{}: {e}", ca.display())))?;
            }
            // Optional: principals with a token only connect without a certificate; a
            // certificate that is presented must chain to the CA.
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), self::provider())
                    .allow_unauthenticated()
                    .build()
                    .map_err(|e| TlsError(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError(format!("certificate and key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The configuration in force, swapped when the files change.
#[derive(Debug, Clone)]
pub struct Reloading {
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl Reloading {
    /// Loads `[tls]` now and starts watching its files.
    pub fn start(tls: TlsSection) -> Result<Self, TlsError> {
        let current = Arc::new(RwLock::new(server_config(&tls)?));
        let this = Self { current };
        let watcher = this.clone();
        tokio::spawn(async move { watcher.watch(tls).await });
        Ok(this)
    }

    /// The configuration for the next handshake.
    pub fn get(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    async fn watch(self, tls: TlsSection) {
        let files: Vec<_> = [Some(&tls.cert), Some(&tls.key), tls.client_ca.as_ref()]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        let stamp =
            |files: &[std::path::PathBuf]| files.iter().map(|f| modified(f)).collect::<Vec<_>>();
        let mut seen = stamp(&files);
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(Duration::from_secs(tls.reload_seconds.max(1)));
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending::<()>().await } } => true,
            };
            let now = stamp(&files);
            if !forced && now == seen {
                continue;
            }
            seen = now;
            match server_config(&tls) {
                Ok(config) => {
                    if let Ok(mut c) = self.current.write() {
                        *c = config;
                    }
                    tracing::info!("TLS certificate and key reloaded");
                }
                Err(e) => {
                    tracing::error!(error = %e, "TLS reload failed; the previous certificate stays in use")
                }
            }
        }
    }
}
