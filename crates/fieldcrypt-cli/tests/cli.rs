//! The `fieldcrypt` binary as scripts use it: arguments, stdin, stdout, one-line errors, exit codes.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn fieldcrypt(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldcrypt"))
        .args(args)
        .env("FIELDCRYPT_KEYRING", dir.join("keyring.json"))
        .env("FIELDCRYPT_MASTER_KEY", dir.join("secret/master.key"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    if let Some(mut input) = child.stdin.take() {
        // A command that fails before reading its input (a bad --context, say) may exit first;
        // its exit code and stderr are what the test checks, not the pipe.
        match input.write_all(stdin) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => panic!("stdin: {e}"),
        }
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = fieldcrypt(dir.path(), &["keyring", "init"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

#[test]
fn seal_open_round_trip_and_exit_codes() {
    let dir = setup();
    let d = dir.path();
    let sealed = fieldcrypt(
        d,
        &["seal", "--context", "customers.email:42"],
        b"ann@example.org\n",
    );
    assert!(sealed.status.success(), "{}", text(&sealed.stderr));
    let envelope = text(&sealed.stdout);
    assert!(envelope.starts_with("fc1c1."), "{envelope}");
    assert!(!envelope.contains("ann@example.org"));

    let opened = fieldcrypt(
        d,
        &["open", "--context", "customers.email:42"],
        envelope.as_bytes(),
    );
    assert_eq!(opened.status.code(), Some(0), "{}", text(&opened.stderr));
    assert_eq!(text(&opened.stdout), "ann@example.org\n");

    // Another row: exit 1, one line on stderr, nothing on stdout.
    let wrong = fieldcrypt(
        d,
        &["open", "--context", "customers.email:43"],
        envelope.as_bytes(),
    );
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(
        text(&wrong.stderr).lines().count(),
        1,
        "{}",
        text(&wrong.stderr)
    );
    assert!(wrong.stdout.is_empty());

    let garbage = fieldcrypt(d, &["open", "--context", "customers.email:42"], b"hello");
    assert_eq!(garbage.status.code(), Some(3), "{}", text(&garbage.stderr));

    let as_int = fieldcrypt(
        d,
        &["open", "--context", "customers.email:42", "--type", "int"],
        envelope.as_bytes(),
    );
    assert_eq!(as_int.status.code(), Some(5), "{}", text(&as_int.stderr));

    let bad_usage = fieldcrypt(d, &["seal", "--context", "nodot"], b"x");
    assert_eq!(
        bad_usage.status.code(),
        Some(8),
        "{}",
        text(&bad_usage.stderr)
    );
}

#[test]
fn typed_values_round_trip() {
    let dir = setup();
    let d = dir.path();
    for (ty, input, printed) in [
        ("int", "-9223372036854775808", "-9223372036854775808"),
        ("float", "2.5", "2.5"),
        ("bool", "true", "true"),
        ("date", "1985-10-26", "1985-10-26"),
        (
            "timestamp",
            "1985-10-26T01:20:00-07:00",
            "1985-10-26T08:20:00Z",
        ),
        ("decimal", "-12.50", "-12.50"),
        ("json", r#"{"a":[1,2]}"#, r#"{"a":[1,2]}"#),
        ("string", "", ""),
    ] {
        let sealed = fieldcrypt(
            d,
            &["seal", "--context", "t.c", "--type", ty],
            input.as_bytes(),
        );
        assert!(sealed.status.success(), "{ty}: {}", text(&sealed.stderr));
        let opened = fieldcrypt(
            d,
            &["open", "--context", "t.c", "--type", ty],
            &sealed.stdout,
        );
        assert!(opened.status.success(), "{ty}: {}", text(&opened.stderr));
        assert_eq!(text(&opened.stdout).trim_end_matches('\n'), printed, "{ty}");
    }
    let bad = fieldcrypt(d, &["seal", "--context", "t.c", "--type", "int"], b"12x");
    assert_eq!(bad.status.code(), Some(3));
}

#[test]
fn rotation_keeps_old_values_and_list_shows_no_secret() {
    let dir = setup();
    let d = dir.path();
    let old = fieldcrypt(d, &["seal", "--context", "t.c"], b"v1").stdout;
    assert!(fieldcrypt(d, &["keyring", "rotate"], b"").status.success());
    let new = fieldcrypt(d, &["seal", "--context", "t.c"], b"v2").stdout;
    assert!(text(&new).starts_with("fc1c2."));
    assert_eq!(
        text(&fieldcrypt(d, &["open", "--context", "t.c"], &old).stdout),
        "v1\n"
    );

    let list = fieldcrypt(d, &["keyring", "list", "--json"], b"");
    assert!(list.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap_or_default();
    assert_eq!(doc["keys"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["keys"][1]["state"], "primary");
    assert!(!text(&list.stdout).contains("wrapped"));

    // Retiring key 1 destroys it: its values no longer open (exit 4), id 1 is never reused.
    assert!(
        fieldcrypt(d, &["keyring", "retire", "--key", "1"], b"")
            .status
            .success()
    );
    assert_eq!(
        fieldcrypt(d, &["open", "--context", "t.c"], &old)
            .status
            .code(),
        Some(4)
    );
    assert_eq!(
        fieldcrypt(d, &["keyring", "retire", "--key", "2"], b"")
            .status
            .code(),
        Some(6)
    );
}

#[test]
fn master_key_problems_are_clear() {
    let dir = setup();
    let d = dir.path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let key = d.join("secret/master.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640))
            .unwrap_or_else(|e| panic!("{e}"));
        let out = fieldcrypt(d, &["seal", "--context", "t.c"], b"x");
        assert_eq!(out.status.code(), Some(6));
        assert!(
            text(&out.stderr).contains("chmod 600"),
            "{}",
            text(&out.stderr)
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Another master key: refused with both fingerprints, not a vague failure.
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let other_key = other.path().join("m.key");
    let other_key_str = other_key.display().to_string();
    let _ = fieldcrypt(
        other.path(),
        &["keyring", "init", "--master-key", &other_key_str],
        b"",
    );
    let out = fieldcrypt(
        d,
        &["seal", "--context", "t.c", "--master-key", &other_key_str],
        b"x",
    );
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("fingerprint"),
        "{}",
        text(&out.stderr)
    );
    // init never overwrites a keyring.
    assert_eq!(
        fieldcrypt(d, &["keyring", "init"], b"").status.code(),
        Some(6)
    );
}

#[test]
fn blind_index_normalises_and_plan_index_answers() {
    let dir = setup();
    let d = dir.path();
    let a = fieldcrypt(
        d,
        &[
            "index",
            "--index",
            "customers.email.email_ci",
            "--bits",
            "16",
            "--normalize",
            "nfkc,trim,casefold",
        ],
        b"Ann@Example.org\n",
    );
    let b = fieldcrypt(
        d,
        &[
            "index",
            "--index",
            "customers.email.email_ci",
            "--bits",
            "16",
            "--normalize",
            "nfkc,trim,casefold",
        ],
        b"  ann@example.ORG",
    );
    assert!(a.status.success(), "{}", text(&a.stderr));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(text(&a.stdout).trim().len(), 4);
    let plan = fieldcrypt(
        d,
        &["plan-index", "--rows", "1000000", "--distinct", "1000000"],
        b"",
    );
    assert!(
        text(&plan.stdout).contains("bits: 18"),
        "{}",
        text(&plan.stdout)
    );
}

/// `fieldcrypt` with extra environment variables, no stdin.
fn fieldcrypt_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldcrypt"));
    cmd.args(args)
        .env("FIELDCRYPT_KEYRING", dir.join("keyring.json"))
        .env_remove("FIELDCRYPT_MASTER_KEY")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("spawn: {e}"))
}

#[test]
fn providers_init_rewrap_and_check() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let kek = "qdLoRk0L6yXPSlJjAa0pRzN2G5m3cCv0pO5V9bTnq0Q";
    let env = [
        ("FIELDCRYPT_KEK", kek),
        ("FIELDCRYPT_PASSPHRASE", "correct horse battery staple"),
    ];

    // Under an environment-variable KEK.
    let out = fieldcrypt_env(d, &["keyring", "init", "--provider", "env"], &env);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldcrypt"))
        .args(["seal", "--context", "t.c"])
        .env("FIELDCRYPT_KEYRING", d.join("keyring.json"))
        .env("FIELDCRYPT_KEK", kek)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    child
        .stdin
        .take()
        .map(|mut i| i.write_all(b"sensitive"))
        .transpose()
        .unwrap_or_else(|e| panic!("{e}"));
    let sealed = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(sealed.status.success());
    let envelope = text(&sealed.stdout);
    let doc = std::fs::read_to_string(d.join("keyring.json")).unwrap_or_default();
    assert!(!doc.contains(kek), "the keyring never holds the KEK");

    // check names the plaintext key in the environment, and fails.
    let out = fieldcrypt_env(d, &["keyring", "check", "--unwrap"], &env);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("environment variable FIELDCRYPT_KEK"));
    assert!(text(&out.stdout).contains("MAC verified"));

    // Without the variable: a clear error naming it.
    let out = fieldcrypt_env(d, &["keyring", "list"], &[]);
    assert!(out.status.success(), "list needs no key");
    let out = fieldcrypt_env(d, &["keyring", "rotate"], &[]);
    assert_eq!(out.status.code(), Some(6));
    assert!(
        text(&out.stderr).contains("FIELDCRYPT_KEK"),
        "{}",
        text(&out.stderr)
    );

    // Rewrap to a local master key in another directory: the value still opens, no env needed.
    let keys_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let master = keys_dir.path().join("master.key");
    let master = master.display().to_string();
    let out = fieldcrypt_env(
        d,
        &[
            "keyring",
            "rewrap",
            "--provider",
            "local",
            "--to-master-key",
            &master,
        ],
        &env,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let open = |env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldcrypt"));
        cmd.args(["open", "--context", "t.c"])
            .env("FIELDCRYPT_KEYRING", d.join("keyring.json"))
            .env_remove("FIELDCRYPT_MASTER_KEY")
            .env_remove("FIELDCRYPT_KEK")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{e}"));
        if let Some(mut i) = child.stdin.take() {
            i.write_all(envelope.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
        }
        child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
    };
    // The path the keyring recorded is not followed: without configuration, the default
    // master key is used, and the error names the recorded path.
    let out = open(&[(
        "XDG_CONFIG_HOME",
        d.join("config").to_str().unwrap_or_default(),
    )]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("created with the master key at {master}")),
        "{}",
        text(&out.stderr)
    );
    let configured = [("FIELDCRYPT_MASTER_KEY", master.as_str())];
    let out = open(&configured);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), "sensitive");
    let out = fieldcrypt_env(d, &["keyring", "check"], &configured);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // And to a passphrase: the value opens with the passphrase, not without.
    let out = fieldcrypt_env(d, &["keyring", "rewrap", "--provider", "passphrase"], &{
        let mut with_master = env.to_vec();
        with_master.extend(configured);
        with_master
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!open(&[]).status.success());
    let out = open(&[("FIELDCRYPT_PASSPHRASE", "correct horse battery staple")]);
    assert_eq!(
        text(&out.stdout).trim_end(),
        "sensitive",
        "{}",
        text(&out.stderr)
    );
    let out = open(&[("FIELDCRYPT_PASSPHRASE", "correct horse battery stapler")]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
}

/// The moto server's URL, or `None` after a loud skip (a failure under CI=true).
#[cfg(feature = "aws-kms")]
fn moto_endpoint(test: &str) -> Option<String> {
    match std::env::var("FIELDCRYPT_TEST_AWS_ENDPOINT") {
        Ok(e) => Some(e),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "{test}: FIELDCRYPT_TEST_AWS_ENDPOINT not set (scripts/test.sh starts moto_server)"
            )
        }
        Err(_) => {
            eprintln!("SKIPPED {test}: no moto server (FIELDCRYPT_TEST_AWS_ENDPOINT)");
            None
        }
    }
}

/// Creates a KMS key in moto with one raw JSON-protocol request (moto does not check request
/// signatures); returns its ARN.
#[cfg(feature = "aws-kms")]
fn moto_create_key(endpoint: &str) -> String {
    use std::io::Read as _;
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).unwrap_or_else(|e| panic!("{e}"));
    let body = r#"{"Description":"fieldcrypt cli test"}"#;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: TrentService.CreateKey\r\nContent-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/kms/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("{e}"));
    let json = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    let value: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {response}"));
    value["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap_or_else(|| panic!("no ARN: {response}"))
        .to_owned()
}

#[cfg(feature = "aws-kms")]
#[test]
fn aws_kms_provider_init_check_and_rewrap_away() {
    let Some(endpoint) = moto_endpoint("aws_kms_provider_init_check_and_rewrap_away") else {
        return;
    };
    let arn = moto_create_key(&endpoint);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    // Temporary-looking credentials (a session token), as a role gives; the SDK reads them.
    let aws = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        // The KMS key is configuration: a command finds it here, never in the keyring document.
        ("FIELDCRYPT_AWS_KMS_KEY", arn.as_str()),
    ];
    let out = fieldcrypt_env(
        d,
        &[
            "keyring",
            "init",
            "--provider",
            "aws-kms",
            "--aws-kms-key",
            &arn,
        ],
        &aws,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("aws-kms provider"),
        "{}",
        text(&out.stdout)
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("keyring.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["kek"]["provider"], "aws-kms");
    assert_eq!(doc["kek"]["key_id"], arn.as_str());
    assert_eq!(doc["kek"]["region"], "eu-west-1", "from the ARN");

    let out = fieldcrypt_env(d, &["keyring", "check", "--unwrap"], &aws);
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("MAC verified"),
        "{}",
        text(&out.stdout)
    );

    // Long-term keys in the environment are named as a problem.
    let long_term: Vec<_> = aws
        .iter()
        .copied()
        .filter(|(k, _)| *k != "AWS_SESSION_TOKEN")
        .collect();
    let out = fieldcrypt_env(d, &["keyring", "check"], &long_term);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("long-term AWS access keys"));

    // KMS unreachable: a one-line error naming the provider; nothing changed.
    let before = std::fs::read(d.join("keyring.json")).unwrap_or_default();
    let mut unreachable = aws.to_vec();
    unreachable.retain(|(k, _)| *k != "AWS_ENDPOINT_URL");
    unreachable.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:9"));
    unreachable.push(("AWS_MAX_ATTEMPTS", "1"));
    let out = fieldcrypt_env(d, &["keyring", "rotate"], &unreachable);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("aws-kms provider unavailable"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(d.join("keyring.json")).unwrap_or_default(),
        before
    );

    // After a key rotation in KMS: the KEK moves to the newest key version, same KEK.
    let out = fieldcrypt_env(d, &["keyring", "rewrap", "--newest-key-version"], &aws);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("newest version"),
        "{}",
        text(&out.stdout)
    );
    assert_ne!(
        std::fs::read(d.join("keyring.json")).unwrap_or_default(),
        before
    );

    // Rotate under KMS, then rewrap away to a local master key: no AWS needed afterwards.
    let out = fieldcrypt_env(d, &["keyring", "rotate"], &aws);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keys_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let master = keys_dir.path().join("master.key").display().to_string();
    let out = fieldcrypt_env(
        d,
        &[
            "keyring",
            "rewrap",
            "--provider",
            "local",
            "--to-master-key",
            &master,
        ],
        &aws,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("aws-kms -> local"),
        "{}",
        text(&out.stdout)
    );
    let out = fieldcrypt_env(d, &["keyring", "list"], &[]);
    assert!(out.status.success());
    let out = fieldcrypt_env(
        d,
        &["keyring", "check", "--unwrap"],
        &[("FIELDCRYPT_MASTER_KEY", master.as_str())],
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("2 data key(s)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn encrypt_column_and_doctor_on_sqlite() {
    let dir = setup();
    let db = dir.path().join("app.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let exec = |sql: &str| {
        rt.block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await?;
            sqlx::raw_sql(sql).execute(&pool).await?;
            pool.close().await;
            Ok::<_, sqlx::Error>(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    };
    exec(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, note TEXT, email_idx BIGINT); INSERT INTO people (id, email, note) VALUES (1, 'a@x.org', 'n'), (2, NULL, 'n'), (3, '', 'n'), (4, 'D@x.org', 'n')",
    );
    let out = fieldcrypt(
        dir.path(),
        &[
            "encrypt-column",
            "--database-url",
            &url,
            "--table",
            "people",
            "--column",
            "email",
            "--index",
            "email_idx:trim,casefold:16",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        common::verification_line(&text(&out.stdout))
            .starts_with("verification: 3 values read back: 3 good, 0 left to do, 0 do not open"),
        "{}",
        text(&out.stdout)
    );
    // The index the CLI wrote is the one `fieldcrypt index` computes for the same definition.
    let out = fieldcrypt(
        dir.path(),
        &[
            "index",
            "--index",
            "people.email.email_idx",
            "--bits",
            "16",
            "--normalize",
            "trim,casefold",
            "--int",
        ],
        b" d@X.ORG",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected = text(&out.stdout).trim().to_owned();
    let stored = rt
        .block_on(async {
            let pool = sqlx::SqlitePool::connect(&url).await?;
            sqlx::query_scalar::<_, i64>("SELECT email_idx FROM people WHERE id = 4")
                .fetch_one(&pool)
                .await
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(expected, stored.to_string());
    let out = fieldcrypt(
        dir.path(),
        &[
            "doctor",
            "--database-url",
            &url,
            "--table",
            "people",
            "--index",
            "email=email_idx:trim,casefold:16",
            "--json",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report["clean"], true);
    assert_eq!(report["columns"][0]["column"], "email");
    assert_eq!(report["columns"][0]["open_by_column"], 3);
    assert_eq!(report["columns"][1]["encrypted"], false);

    // Plaintext written by an old deploy: doctor names the row and exits 9.
    exec("INSERT INTO people (id, email, note) VALUES (5, 'leaked@x.org', 'n')");
    let out = fieldcrypt(
        dir.path(),
        &["doctor", "--database-url", &url, "--table", "people"],
        b"",
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("row 5: plaintext"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stdout).contains("leaked"),
        "no plaintext in the report"
    );

    // A table that does not exist: one line, exit 8, nothing written.
    let out = fieldcrypt(
        dir.path(),
        &[
            "encrypt-column",
            "--database-url",
            &url,
            "--table",
            "nope",
            "--column",
            "email",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(8));
    assert!(
        text(&out.stderr).contains("table \"nope\" does not exist"),
        "{}",
        text(&out.stderr)
    );
}
