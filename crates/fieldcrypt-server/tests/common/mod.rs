//! The test harness: a private CA with server and client certificates (rcgen), a local keyring,
//! an audit signing key, configuration files, and the real `fieldcrypt-server` binary started
//! as a process and called through real HTTPS on loopback.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

pub const APP_TOKEN: &str = "fct_app_token_for_tests_only_0000000000000";
pub const SUPPORT_TOKEN: &str = "fct_support_token_for_tests_only_000000000";
pub const ADMIN_TOKEN: &str = "fct_admin_token_for_tests_only_00000000000";
pub const NOBODY_TOKEN: &str = "fct_nobody_token_for_tests_only_0000000000";
pub const RATEY_TOKEN: &str = "fct_ratey_token_for_tests_only_00000000000";

pub fn sha256_hex(data: &[u8]) -> String {
    fieldcrypt_server::auth::sha256_hex(data)
}

/// Certificates: a CA, the server's (localhost, 127.0.0.1), a client's, and a client's from
/// another CA.
pub struct Pki {
    pub ca_pem: String,
    pub client_pem: String,
    pub client_key_pem: String,
    pub client_sha256: String,
    pub stranger_pem: String,
    pub stranger_key_pem: String,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn leaf(names: &[&str], issuer: &Issuer<'_, KeyPair>) -> (String, String, Vec<u8>) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "fieldcrypt test");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

/// A test directory with PKI, keyring, master key and audit key.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub pki: Pki,
    issuer: Issuer<'static, KeyPair>,
}

impl Env {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (ca_params, ca_key, ca_pem) = ca("fieldcrypt test CA");
        let issuer = Issuer::new(ca_params, ca_key);
        let (server_pem, server_key, _) = leaf(&["localhost", "127.0.0.1"], &issuer);
        let (client_pem, client_key_pem, client_der) = leaf(&["client"], &issuer);
        let (other_params, other_key, _) = ca("another CA");
        let other = Issuer::new(other_params, other_key);
        let (stranger_pem, stranger_key_pem, _) = leaf(&["stranger"], &other);
        std::fs::write(dir.path().join("ca.pem"), &ca_pem).unwrap();
        std::fs::write(dir.path().join("server.pem"), &server_pem).unwrap();
        std::fs::write(dir.path().join("server.key"), &server_key).unwrap();
        // The keyring under a local master key, as `fieldcrypt keyring init` makes it.
        fieldcrypt_kms::LocalKeyring::open_or_create(
            dir.path().join("keyring.json"),
            Some(&dir.path().join("master.key")),
            fieldcrypt::Suite::default(),
        )
        .unwrap();
        let signing = fieldcrypt_audit::SigningKey::generate().unwrap();
        std::fs::write(
            dir.path().join("audit.pem"),
            signing.to_pem().unwrap().as_bytes(),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("audit.pub.pem"),
            signing.verifying_key().to_pem(),
        )
        .unwrap();
        Self {
            dir,
            issuer,
            pki: Pki {
                ca_pem,
                client_pem,
                client_key_pem,
                client_sha256: sha256_hex(&client_der),
                stranger_pem,
                stranger_key_pem,
            },
        }
    }

    /// Another certificate and key for localhost from the test CA (PEM).
    pub fn new_server_certificate(&self) -> (String, String) {
        let (cert, key, _) = leaf(&["localhost", "127.0.0.1"], &self.issuer);
        (cert, key)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A configuration: `[server]` extras, the audit section, an optional database, and the
    /// shared principals, rules, masks, budgets and index.
    pub fn config(&self, opts: &Options) -> String {
        let database = opts
            .database_url
            .as_ref()
            .map(|u| format!("[database]\nurl = \"{u}\"\n"))
            .unwrap_or_default();
        let sink = match &opts.database_url {
            Some(_) if opts.postgres_sink => "sink = \"postgres\"".to_owned(),
            _ => format!(
                "sink = \"file\"\npath = \"{}\"",
                self.path(&format!("{}.trail", opts.replica)).display()
            ),
        };
        let redirect = opts
            .redirect
            .map(|a| format!("redirect_listen = \"{a}\"\npublic_host = \"localhost\"\n"))
            .unwrap_or_default();
        let tls = if opts.tls {
            format!(
                "[tls]\ncert = \"server.pem\"\nkey = \"server.key\"\nclient_ca = \"ca.pem\"\nmin_version = \"{}\"\nreload_seconds = 1\n",
                opts.min_tls
            )
        } else {
            String::new()
        };
        let keys = opts.keys.clone().unwrap_or_else(|| {
            format!(
                "[keys]\nkeyring = \"keyring.json\"\nprovider = \"local\"\nmaster_key = \"master.key\"\ncache_seconds = {}\n",
                opts.cache_seconds
            )
        });
        format!(
            r#"
[server]
listen = "{listen}"
replica = "{replica}"
max_body_bytes = 65536
max_batch = 100
request_timeout_seconds = 10
header_timeout_seconds = {header_timeout}
shutdown_grace_seconds = 5
{redirect}
{tls}
{keys}
{database}
[audit]
{sink}
signing_key = "audit.pem"
checkpoint_every = {checkpoint_every}
checkpoint_seconds = 1

[limits]
requests_per_second = 0

{alerts}

[[principal]]
name = "app"
roles = ["app"]
token_sha256 = "{app}"

{cert_app}
[[principal]]
name = "support"
roles = ["support"]
token_sha256 = "{support}"

[[principal]]
name = "admin"
roles = []
admin = true
token_sha256 = "{admin}"

[[principal]]
name = "nobody"
roles = ["nothing"]
token_sha256 = "{nobody}"

[[principal]]
name = "ratey"
roles = ["app"]
token_sha256 = "{ratey}"
requests_per_second = {ratey_rate}

[[rule]]
effect = "allow"
roles = ["app"]
operations = ["seal", "open", "blind-index"]
columns = ["customers.*"]

[[rule]]
effect = "allow"
roles = ["support"]
operations = ["open-masked"]
columns = ["customers.*"]
purposes = ["ticket"]

[[rule]]
effect = "deny"
roles = ["*"]
operations = ["open", "open-masked"]
columns = ["customers.password"]

[[mask]]
roles = ["support"]
columns = ["customers.card"]
mask = "last-four"

[[mask]]
roles = ["support"]
columns = ["customers.email"]
mask = "email-domain"

[[budget]]
roles = ["support"]
columns = ["customers.*"]
limit = {budget}
window_seconds = 3600

[[index]]
table = "customers"
column = "national_id"
name = "customers_national_id"
bits = 32
normalize = "trim,casefold"
"#,
            alerts = opts
                .webhook
                .as_ref()
                .map(|w| format!("[alerts]\nwebhook = \"{w}\"\n"))
                .unwrap_or_default(),
            listen = opts.listen,
            replica = opts.replica,
            header_timeout = opts.header_timeout,
            checkpoint_every = opts.checkpoint_every,
            app = sha256_hex(APP_TOKEN.as_bytes()),
            cert_app = if opts.tls {
                format!(
                    "[[principal]]\nname = \"cert-app\"\nroles = [\"app\"]\nclient_cert_sha256 = \"{}\"\n",
                    self.pki.client_sha256
                )
            } else {
                String::new()
            },
            support = sha256_hex(SUPPORT_TOKEN.as_bytes()),
            admin = sha256_hex(ADMIN_TOKEN.as_bytes()),
            nobody = sha256_hex(NOBODY_TOKEN.as_bytes()),
            ratey = sha256_hex(RATEY_TOKEN.as_bytes()),
            ratey_rate = opts.ratey_rate,
            budget = opts.budget,
        )
    }
}

/// What varies between tests.
#[derive(Clone)]
pub struct Options {
    pub replica: String,
    pub listen: String,
    pub tls: bool,
    pub min_tls: String,
    pub database_url: Option<String>,
    pub postgres_sink: bool,
    pub redirect: Option<SocketAddr>,
    pub header_timeout: u64,
    pub budget: u64,
    pub ratey_rate: u64,
    pub checkpoint_every: u64,
    pub cache_seconds: u64,
    pub keys: Option<String>,
    pub webhook: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            replica: "r1".into(),
            listen: "127.0.0.1:0".into(),
            tls: true,
            min_tls: "1.3".into(),
            database_url: None,
            postgres_sink: true,
            redirect: None,
            header_timeout: 10,
            budget: 5,
            ratey_rate: 1000,
            checkpoint_every: 50,
            cache_seconds: 300,
            keys: None,
            webhook: None,
        }
    }
}

/// A running `fieldcrypt-server`.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub log: PathBuf,
    pub ca_pem: String,
}

pub fn server_binary() -> &'static str {
    env!("CARGO_BIN_EXE_fieldcrypt-server")
}

impl Server {
    /// Starts the server on `config` (written into the env's directory as `<replica>.toml`).
    pub fn start(env: &Env, opts: &Options) -> Self {
        Self::start_with(env, opts, &[], &[])
    }

    pub fn start_with(env: &Env, opts: &Options, args: &[&str], vars: &[(&str, &str)]) -> Self {
        let config = env.path(&format!("{}.toml", opts.replica));
        std::fs::write(&config, env.config(opts)).unwrap();
        let address_file = env.path(&format!("{}.addr", opts.replica));
        let _ = std::fs::remove_file(&address_file);
        let log = env.path(&format!("{}.log", opts.replica));
        let out = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(server_binary());
        command
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--address-file")
            .arg(&address_file)
            .args(args)
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in vars {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = std::fs::read_to_string(&address_file)
                && let Ok(addr) = text.trim().parse()
            {
                return Self {
                    child: Some(child),
                    addr,
                    log,
                    ca_pem: env.pki.ca_pem.clone(),
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "fieldcrypt-server exited ({status}) before listening:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "fieldcrypt-server did not start:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// A client trusting the test CA, optionally presenting `identity` (cert and key PEM).
    pub fn client(&self, identity: Option<(&str, &str)>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap()])
            .resolve("localhost", self.addr)
            .timeout(Duration::from_secs(20));
        if let Some((cert, key)) = identity {
            builder = builder.identity(
                reqwest::Identity::from_pem(format!("{cert}\n{key}").as_bytes()).unwrap(),
            );
        }
        builder.build().unwrap()
    }

    /// SIGTERM, then waits for a clean exit (the last checkpoint is written on the way out).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(
                        status.success(),
                        "server exited with {status}:\n{}",
                        self.log_text()
                    );
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("server did not stop on SIGTERM:\n{}", self.log_text());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// POSTs `body` with `token`; answers the status and the JSON body.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let mut request = client.post(url).json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// A new, empty PostgreSQL database for one test, or `None` (with a loud line; a failure under
/// CI=true) when no server answers.
pub async fn fresh_database(name: &str) -> Option<String> {
    let base = std::env::var("FIELDCRYPT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let admin = match sqlx::PgPool::connect(&base).await {
        Ok(p) => p,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{name}: PostgreSQL at {base} is required under CI: {e}");
            }
            eprintln!(
                "SKIPPED {name}: no PostgreSQL at {base} ({e}); set FIELDCRYPT_TEST_POSTGRES_URL"
            );
            return None;
        }
    };
    let db = format!("fc_server_{name}_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&admin)
        .await
        .unwrap();
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(format!("{prefix}/{db}"))
}

/// Drops a database [`fresh_database`] made (best effort).
pub async fn drop_database(url: &str) {
    let Some((prefix, db)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(admin) = sqlx::PgPool::connect(&format!("{prefix}/postgres")).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .execute(&admin)
            .await;
    }
}

/// The `fieldcrypt` command, built beside this test by `cargo build --workspace`; `None` with a
/// loud line (a failure under CI=true) when it is not there.
pub fn fieldcrypt_cli() -> Option<PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let cli = dir.join("fieldcrypt");
    if cli.exists() {
        return Some(cli);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing: scripts/test.sh builds the workspace first",
            cli.display()
        );
    }
    eprintln!(
        "SKIPPED `fieldcrypt audit verify` steps: {} is not built (cargo build -p fieldcrypt-cli)",
        cli.display()
    );
    None
}

/// Runs `fieldcrypt audit verify` with `args`; answers the exit code and standard output.
pub fn audit_verify(cli: &Path, public_key: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(cli)
        .args(["audit", "verify", "--public-key"])
        .arg(public_key)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
