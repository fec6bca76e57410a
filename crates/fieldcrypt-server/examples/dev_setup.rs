//! A development setup for fieldcrypt-server in one directory: a private CA and a certificate for
//! `localhost`, a keyring under a local master key, the audit signing key, three principals with
//! random tokens (`tokens.env`, mode 0600: only their hashes go into the configuration), and a
//! `server.toml` that uses them all. For trying the server, and for the scripts that scan,
//! fuzz, drive a browser against and load it. A production setup takes its certificate from a
//! real CA and its keyring from `fieldcrypt keyring init` (docs/SERVER.md).
//!
//! ```text
//! cargo run -p fieldcrypt-server --example dev_setup -- DIR [--listen 127.0.0.1:8443]
//!     [--database-url postgres://...] [--budget N] [--file-sink]
//! fieldcrypt-server serve --config DIR/server.toml
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.first().expect("usage: dev_setup DIR [options]"));
    let option = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let listen = option("--listen").unwrap_or_else(|| "127.0.0.1:8443".to_owned());
    let database = option("--database-url");
    let budget = option("--budget").unwrap_or_else(|| "1000".to_owned());
    let file_sink = args.iter().any(|a| a == "--file-sink") || database.is_none();
    std::fs::create_dir_all(dir).unwrap();

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fieldcrypt dev CA");
    let ca_key = KeyPair::generate().unwrap();
    std::fs::write(
        dir.join("ca.pem"),
        ca_params.self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    std::fs::write(
        dir.join("server.pem"),
        params.signed_by(&key, &issuer).unwrap().pem(),
    )
    .unwrap();
    write_private(&dir.join("server.key"), &key.serialize_pem());

    fieldcrypt_kms::LocalKeyring::open_or_create(
        dir.join("keyring.json"),
        Some(&dir.join("master.key")),
        fieldcrypt::Suite::default(),
    )
    .unwrap();
    let audit = fieldcrypt_audit::SigningKey::generate().unwrap();
    write_private(&dir.join("audit.pem"), &audit.to_pem().unwrap());
    std::fs::write(dir.join("audit.pub.pem"), audit.verifying_key().to_pem()).unwrap();

    let mut tokens = String::new();
    let mut hashes = Vec::new();
    for name in ["app", "support", "admin"] {
        let (token, hash) = fieldcrypt_server::auth::new_token().unwrap();
        tokens.push_str(&format!(
            "{}_TOKEN={}\n",
            name.to_uppercase(),
            token.as_str()
        ));
        hashes.push(hash);
    }
    write_private(&dir.join("tokens.env"), &tokens);

    let (database_section, sink) = match (&database, file_sink) {
        (Some(url), false) => (
            format!("[database]\nurl = \"{url}\"\n"),
            "sink = \"postgres\"".to_owned(),
        ),
        (Some(url), true) => (
            format!("[database]\nurl = \"{url}\"\n"),
            "sink = \"file\"\npath = \"trail.jsonl\"".to_owned(),
        ),
        (None, _) => (
            String::new(),
            "sink = \"file\"\npath = \"trail.jsonl\"".to_owned(),
        ),
    };
    let config = format!(
        r#"# fieldcrypt-server development configuration (dev_setup); docs/SERVER.md is the reference.
[server]
listen = "{listen}"
replica = "dev"

[tls]
cert = "server.pem"
key = "server.key"
min_version = "1.2"

[keys]
keyring = "keyring.json"
provider = "local"
master_key = "master.key"

{database_section}
[audit]
{sink}
signing_key = "audit.pem"

[[principal]]
name = "app"
roles = ["app"]
token_sha256 = "{app}"

[[principal]]
name = "support"
roles = ["support"]
token_sha256 = "{support}"

[[principal]]
name = "admin"
admin = true
token_sha256 = "{admin}"

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
purposes = ["support-ticket"]

[[rule]]
effect = "deny"
roles = ["*"]
operations = ["open", "open-masked"]
columns = ["customers.password_hint"]

[[mask]]
roles = ["support"]
columns = ["customers.card_number"]
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
column = "email"
name = "customers_email"
bits = 32
normalize = "trim,casefold"
"#,
        app = hashes[0],
        support = hashes[1],
        admin = hashes[2],
    );
    std::fs::write(dir.join("server.toml"), config).unwrap();
    println!("{}", dir.join("server.toml").display());
}
