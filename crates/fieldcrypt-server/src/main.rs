//! `fieldcrypt-server`: run the server, and the small tools its configuration needs (tokens,
//! the audit signing key, certificate fingerprints).

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use fieldcrypt_server::config::Config;

#[derive(Parser)]
#[command(
    name = "fieldcrypt-server",
    version,
    about = "fieldcrypt over HTTPS: seal, open, masked open and blind indexes with column-level access, decrypt budgets and a verifiable decrypt trail"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve until SIGTERM or Ctrl-C.
    Serve {
        /// The TOML configuration (docs/SERVER.md).
        #[arg(long, env = "FIELDCRYPT_SERVER_CONFIG")]
        config: PathBuf,
        /// Allow a listener without TLS, on a loopback address only (local development).
        #[arg(long)]
        allow_plaintext_loopback: bool,
        /// Write the address actually bound to this file (useful with port 0).
        #[arg(long)]
        address_file: Option<PathBuf>,
    },
    /// Load and check a configuration without serving.
    CheckConfig {
        /// The TOML configuration.
        #[arg(long)]
        config: PathBuf,
    },
    /// Print a new random bearer token and the `token_sha256` line for the configuration.
    NewToken,
    /// Print the SHA-256 of a token read from standard input (for `token_sha256`).
    HashToken,
    /// Print the SHA-256 of a PEM client certificate (for `client_cert_sha256`).
    CertFingerprint {
        /// The PEM certificate.
        cert: PathBuf,
    },
    /// Write a new Ed25519 key that signs audit checkpoints (PKCS#8 PEM, mode 0600) and its
    /// public key beside it (`.pub.pem`, for `fieldcrypt audit verify`).
    AuditKeygen {
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // One line, every cause; never a key, token or value (none is put in an error).
            eprintln!("fieldcrypt-server: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve {
            config,
            allow_plaintext_loopback,
            address_file,
        } => serve(&config, allow_plaintext_loopback, address_file),
        Command::CheckConfig { config } => {
            Config::load(&config)?;
            println!("{}: ok", config.display());
            Ok(())
        }
        Command::NewToken => {
            let (token, hash) = fieldcrypt_server::auth::new_token()
                .map_err(|_| anyhow::anyhow!("the system random generator failed"))?;
            println!(
                "token (give it to the client; it is not stored): {}",
                token.as_str()
            );
            println!("token_sha256 = \"{hash}\"");
            Ok(())
        }
        Command::HashToken => {
            let mut token = zeroize::Zeroizing::new(String::new());
            std::io::stdin().read_to_string(&mut token)?;
            println!(
                "{}",
                fieldcrypt_server::auth::sha256_hex(token.trim().as_bytes())
            );
            Ok(())
        }
        Command::CertFingerprint { cert } => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject as _;
            let der = CertificateDer::from_pem_file(&cert)
                .with_context(|| format!("reading {}", cert.display()))?;
            println!(
                "client_cert_sha256 = \"{}\"",
                fieldcrypt_server::auth::sha256_hex(der.as_ref())
            );
            Ok(())
        }
        Command::AuditKeygen { out } => {
            let key = fieldcrypt_audit::SigningKey::generate()?;
            write_private(&out, key.to_pem()?.as_bytes())?;
            let public = out.with_extension("pub.pem");
            std::fs::write(&public, key.verifying_key().to_pem())
                .with_context(|| format!("writing {}", public.display()))?;
            println!(
                "signing key: {} (keep it on the server, mode 0600)",
                out.display()
            );
            println!(
                "public key:  {} (give it to auditors: fieldcrypt audit verify --public-key)",
                public.display()
            );
            println!("fingerprint: {}", key.verifying_key().fingerprint());
            Ok(())
        }
    }
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "creating {} (an existing key is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn serve(
    config_path: &std::path::Path,
    allow_plaintext_loopback: bool,
    address_file: Option<PathBuf>,
) -> Result<()> {
    // Log lines go through a background writer, so a request never waits on stdout; the guard
    // flushes what is queued when serving ends.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking(std::io::stdout());
    tracing_subscriber::fmt()
        .json()
        .with_writer(writer)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FIELDCRYPT_SERVER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .init();
    let config = Config::load(config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (state, writer) = fieldcrypt_server::state::AppState::build(config.clone())
            .await
            .context("starting")?;
        let app = fieldcrypt_server::http::router(std::sync::Arc::clone(&state));
        let bound = |addr: std::net::SocketAddr| {
            if let Some(path) = &address_file {
                let _ = std::fs::write(path, addr.to_string());
            }
        };
        fieldcrypt_server::serve::serve(
            app,
            &config,
            allow_plaintext_loopback,
            bound,
            shutdown_signal(),
        )
        .await?;
        tracing::info!("shutting down: signing a last checkpoint");
        state.audit.shutdown();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), writer).await;
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
}
