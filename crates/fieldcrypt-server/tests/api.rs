//! The API through real HTTPS on loopback, one server process with a file trail: every
//! operation and batch, every denial path, mutual TLS, the headers on every route, bad input,
//! slow clients, the plaintext and redirect listeners; then the trail verifies offline.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_denials_and_a_verifiable_trail() {
    let env = Env::new();
    let mut server = Server::start(&env, &Options::default());
    let client = server.client(None);

    // seal: typed values, with row and tenant.
    let (status, sealed) = post(
        &client,
        &server.url("/v1/seal"),
        Some(APP_TOKEN),
        &json!({
            "items": [
                {"table": "customers", "column": "card", "row": 7, "value": "4111111111111111"},
                {"table": "customers", "column": "email", "row": 7, "value": "bob@example.org"},
                {"table": "customers", "column": "age", "row": "u-7", "tenant": 3, "value": 42},
                {"table": "customers", "column": "photo", "value": "aGVsbG8=", "type": "bytes"},
                {"table": "customers", "column": "born", "value": "1990-02-03", "type": "date"},
                {"table": "customers", "column": "prefs", "value": {"lang": "fr", "n": [1, 2]}},
                {"table": "customers", "column": "password", "value": "hunter2"},
            ]
        }),
    )
    .await;
    assert_eq!(status, 200, "{sealed}");
    let env_of = |i: usize| sealed["items"][i]["envelope"].as_str().unwrap().to_owned();
    assert!(env_of(0).starts_with("fc1"), "{sealed}");
    assert!(!sealed.to_string().contains("4111111111111111"));

    // open: every value back with its type; the context must match.
    let (status, opened) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &json!({
        "purpose": "billing",
        "items": [
            {"table": "customers", "column": "card", "row": 7, "envelope": env_of(0)},
            {"table": "customers", "column": "age", "row": "u-7", "tenant": 3, "envelope": env_of(2)},
            {"table": "customers", "column": "photo", "envelope": env_of(3)},
            {"table": "customers", "column": "born", "envelope": env_of(4)},
            {"table": "customers", "column": "prefs", "envelope": env_of(5)},
        ]
    })).await;
    assert_eq!(status, 200, "{opened}");
    let items = opened["items"].as_array().unwrap();
    assert_eq!(items[0]["value"], "4111111111111111");
    assert_eq!(items[0]["type"], "string");
    assert_eq!(items[1]["value"], 42);
    assert_eq!(items[1]["type"], "int");
    assert_eq!(items[2]["value"], "aGVsbG8=");
    assert_eq!(items[2]["type"], "bytes");
    assert_eq!(items[3]["value"], "1990-02-03");
    assert_eq!(items[4]["value"], json!({"lang": "fr", "n": [1, 2]}));

    // A batch where some items fail: 207, each item says why.
    let (status, mixed) = post(
        &client,
        &server.url("/v1/open"),
        Some(APP_TOKEN),
        &json!({
            "items": [
                {"table": "customers", "column": "card", "row": 7, "envelope": env_of(0)},
                {"table": "customers", "column": "card", "row": 8, "envelope": env_of(0)},
                {"table": "customers", "column": "card", "envelope": "fc1-not-an-envelope"},
                {"table": "", "column": "card", "envelope": env_of(0)},
                {"table": "orders", "column": "total", "envelope": env_of(0)},
            ]
        }),
    )
    .await;
    assert_eq!(status, 207, "{mixed}");
    let codes: Vec<&str> = mixed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["error"]["code"].as_str().unwrap_or("ok"))
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "not-opened",
            "not-opened",
            "invalid-context",
            "denied"
        ]
    );
    assert!(
        !mixed["items"][1].to_string().contains("4111111111111111"),
        "{mixed}"
    );

    // mask: the support role, for its purpose, gets masked values only.
    let (status, masked) = post(&client, &server.url("/v1/mask"), Some(SUPPORT_TOKEN), &json!({
        "purpose": "ticket",
        "items": [
            {"table": "customers", "column": "card", "row": 7, "envelope": env_of(0)},
            {"table": "customers", "column": "email", "row": 7, "envelope": env_of(1)},
            {"table": "customers", "column": "age", "row": "u-7", "tenant": 3, "envelope": env_of(2)},
        ]
    })).await;
    assert_eq!(status, 200, "{masked}");
    assert_eq!(masked["items"][0]["value"], "************1111");
    assert_eq!(masked["items"][1]["value"], "****@example.org");
    assert_eq!(masked["items"][2]["value"], "[redacted]");

    // blind-index: the configured definition, normalised; stable across calls.
    let (status, idx) = post(
        &client,
        &server.url("/v1/blind-index"),
        Some(APP_TOKEN),
        &json!({
            "items": [
                {"table": "customers", "column": "national_id", "value": "  AB123 "},
                {"table": "customers", "column": "national_id", "value": "ab123"},
                {"table": "customers", "column": "card", "value": "x"},
            ]
        }),
    )
    .await;
    assert_eq!(status, 207, "{idx}");
    assert_eq!(idx["items"][0]["index"], idx["items"][1]["index"]);
    assert!(
        idx["items"][0]["lookup"]
            .as_array()
            .unwrap()
            .contains(&idx["items"][0]["index"])
    );
    assert_eq!(idx["items"][2]["error"]["code"], "unknown-index");

    // Every denial path.
    let open_card = json!({"items": [{"table": "customers", "column": "card", "row": 7, "envelope": env_of(0)}]});
    let (s, body) = post(&client, &server.url("/v1/open"), None, &open_card).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (401, Some("unauthenticated")),
        "no token"
    );
    let (s, body) = post(
        &client,
        &server.url("/v1/open"),
        Some("fct_wrong"),
        &open_card,
    )
    .await;
    assert_eq!(
        (s, body["error"].as_str()),
        (401, Some("unauthenticated")),
        "wrong token"
    );
    let (s, body) = post(
        &client,
        &server.url("/v1/open"),
        Some(NOBODY_TOKEN),
        &open_card,
    )
    .await;
    assert_eq!(
        (s, body["items"][0]["error"]["code"].as_str()),
        (403, Some("denied")),
        "no grant"
    );
    let wrong_column =
        json!({"items": [{"table": "orders", "column": "total", "envelope": env_of(0)}]});
    let (s, _) = post(
        &client,
        &server.url("/v1/open"),
        Some(APP_TOKEN),
        &wrong_column,
    )
    .await;
    assert_eq!(s, 403, "wrong column");
    let mut wrong_purpose = open_card.clone();
    wrong_purpose["purpose"] = json!("export");
    let (s, _) = post(
        &client,
        &server.url("/v1/mask"),
        Some(SUPPORT_TOKEN),
        &wrong_purpose,
    )
    .await;
    assert_eq!(s, 403, "wrong purpose");
    let (s, _) = post(
        &client,
        &server.url("/v1/mask"),
        Some(SUPPORT_TOKEN),
        &open_card,
    )
    .await;
    assert_eq!(s, 403, "no purpose where one is required");
    let mut full = open_card.clone();
    full["purpose"] = json!("ticket");
    let (s, body) = post(&client, &server.url("/v1/open"), Some(SUPPORT_TOKEN), &full).await;
    assert_eq!(s, 403, "masked-only role asking for open: {body}");
    assert!(body["items"][0].get("value").is_none());
    let password =
        json!({"items": [{"table": "customers", "column": "password", "envelope": env_of(6)}]});
    let (s, _) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &password).await;
    assert_eq!(s, 403, "a deny rule wins over the app's allow");
    let (s, _) = post(
        &client,
        &server.url("/v1/seal"),
        Some(SUPPORT_TOKEN),
        &json!({"items": [{"table": "customers", "column": "card", "value": "x"}]}),
    )
    .await;
    assert_eq!(s, 403, "support may not seal");
    let r = client
        .get(server.url("/v1/admin/trail"))
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "not an admin");

    // The budget: 5 masked opens per column per hour for support; 3 spent above on 3 columns.
    let mut opens = 0;
    let mut refused = None;
    for _ in 0..6 {
        let (s, body) = post(&client, &server.url("/v1/mask"), Some(SUPPORT_TOKEN), &full).await;
        match s {
            200 => opens += 1,
            429 => {
                refused = Some(body);
                break;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(opens, 4, "1 spent on customers.card earlier, 4 left of 5");
    let refused = refused.expect("the sixth open is refused");
    assert_eq!(refused["items"][0]["error"]["code"], "budget");
    // Log lines go through a background writer: wait for this one.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !server.log_text().contains("decrypt budget exceeded") {
        assert!(
            std::time::Instant::now() < deadline,
            "an error-level log line"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("fieldcrypt_server_budget_refusals_total{principal=\"support\",column=\"customers.card\"} 1"), "{metrics}");

    // The admin API sees it all, filtered.
    let trail: Value = client
        .get(server.url("/v1/admin/trail?outcome=budget"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = trail["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(entries[0]["principal"], "support");
    let all: Value = client
        .get(server.url("/v1/admin/trail?limit=1000"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = all.to_string();
    for outcome in [
        "\"ok\"",
        "\"denied\"",
        "\"unauthenticated\"",
        "\"budget\"",
        "\"failed\"",
    ] {
        assert!(text.contains(outcome), "{outcome} in the trail");
    }
    assert!(!text.contains("4111111111111111"), "no value in the trail");
    assert!(!text.contains(APP_TOKEN), "no token in the trail");
    let overview: Value = client
        .get(server.url("/v1/admin/overview"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        overview["budgets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["column"] == "customers.card" && b["used"] == 5),
        "{overview}"
    );
    assert!(
        !overview
            .to_string()
            .contains(&sha256_hex(APP_TOKEN.as_bytes())),
        "no token hash on the admin page"
    );

    // After a clean stop (a last checkpoint, the log flushed), no value, key or token is in any
    // log line, and the trail verifies offline with the public key.
    server.stop();
    let log = server.log_text();
    for secret in [
        "4111111111111111",
        "bob@example.org",
        "hunter2",
        APP_TOKEN,
        SUPPORT_TOKEN,
    ] {
        assert!(!log.contains(secret), "the log holds {secret}");
    }
    if let Some(cli) = fieldcrypt_cli() {
        let trail = env.path("r1.trail");
        let (code, out) = audit_verify(
            &cli,
            &env.path("audit.pub.pem"),
            &["--file", trail.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("ok: the trail verifies"), "{out}");
        // One modified line is found.
        let text = std::fs::read_to_string(&trail).unwrap();
        let tampered = text.replacen("\"outcome\":\"denied\"", "\"outcome\":\"ok\"", 1);
        std::fs::write(&trail, tampered).unwrap();
        let (code, out) = audit_verify(
            &cli,
            &env.path("audit.pub.pem"),
            &["--file", trail.to_str().unwrap()],
        );
        assert_eq!(code, 10, "{out}");
        assert!(out.contains("does not match the hash chain"), "{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_authenticate_and_strangers_are_refused() {
    let env = Env::new();
    let server = Server::start(&env, &Options::default());
    let seal = json!({"items": [{"table": "customers", "column": "card", "value": "4111"}]});
    let with_cert = server.client(Some((&env.pki.client_pem, &env.pki.client_key_pem)));
    let (s, body) = post(&with_cert, &server.url("/v1/seal"), None, &seal).await;
    assert_eq!(
        s, 200,
        "the certificate alone authenticates cert-app: {body}"
    );
    let without = server.client(None);
    let (s, _) = post(&without, &server.url("/v1/seal"), None, &seal).await;
    assert_eq!(s, 401);
    let stranger = server.client(Some((&env.pki.stranger_pem, &env.pki.stranger_key_pem)));
    let refused = stranger
        .post(server.url("/v1/seal"))
        .json(&seal)
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a certificate from another CA fails the handshake"
    );
}

const EXPECTED_HEADERS: [(&str, &str); 6] = [
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_error_carries_the_security_headers_and_bad_input_gets_clear_errors() {
    let env = Env::new();
    let server = Server::start(&env, &Options::default());
    let client = server.client(None);
    let check = |what: &str, r: &reqwest::Response| {
        for (name, value) in EXPECTED_HEADERS {
            assert_eq!(
                r.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{what}: {name}"
            );
        }
        assert!(
            r.headers().get("x-request-id").is_some(),
            "{what}: x-request-id"
        );
    };
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/openapi.json",
        "/admin",
        "/admin/app.js",
        "/admin/app.css",
        "/v1/admin/trail",
        "/v1/admin/verify",
        "/v1/admin/overview",
        "/nope",
    ] {
        let r = client.get(server.url(path)).send().await.unwrap();
        check(path, &r);
    }
    for path in ["/v1/seal", "/v1/open", "/v1/mask", "/v1/blind-index"] {
        let r = client
            .post(server.url(path))
            .bearer_auth(APP_TOKEN)
            .json(&json!({"items": []}))
            .send()
            .await
            .unwrap();
        check(path, &r);
    }
    let ready: Value = client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({"keys": true, "audit": true}));
    let openapi: Value = client
        .get(server.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        openapi["paths"]["/v1/open"]["post"].is_object(),
        "{openapi}"
    );

    // Bad input: a clear error each, with the request id, never a crash.
    let url = server.url("/v1/open");
    let send = |body: Vec<u8>, content_type: &'static str| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let r = client
                .post(url)
                .bearer_auth(APP_TOKEN)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            check("bad input", &r);
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = send(b"{\"items\": [".to_vec(), "application/json").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("bad-request")), "{b}");
    let (s, b) = send(br#"{"items": [], "extra": 1}"#.to_vec(), "application/json").await;
    assert_eq!(s, 422, "unknown field: {b}");
    assert!(b["message"].as_str().unwrap().contains("extra"), "{b}");
    let (s, b) = send(
        br#"{"items": [{"table": "t", "column": "c", "envelope": "x", "color": 1}]}"#.to_vec(),
        "application/json",
    )
    .await;
    assert_eq!(s, 422, "unknown item field: {b}");
    let (s, _) = send(b"{}".to_vec(), "text/plain").await;
    assert_eq!(s, 415);
    let big = format!(
        r#"{{"items": [{{"table": "customers", "column": "c", "envelope": "{}"}}]}}"#,
        "a".repeat(70_000)
    );
    let (s, b) = send(big.into_bytes(), "application/json").await;
    assert_eq!(
        (s, b["error"].as_str()),
        (413, Some("body-too-large")),
        "{b}"
    );
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"table": "customers", "column": "c", "envelope": "x"}))
        .collect();
    let (s, b) = send(
        serde_json::to_vec(&json!({"items": many})).unwrap(),
        "application/json",
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (422, Some("batch-too-large")),
        "{b}"
    );
    let (s, b) = send(br#"{"items": []}"#.to_vec(), "application/json").await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = send(
        br#"{"items": [{"table": "customers", "column": "c", "row": {"x": 1}, "envelope": "x"}]}"#
            .to_vec(),
        "application/json",
    )
    .await;
    assert_eq!(s, 422, "a row that is neither an integer nor a string: {b}");
    let r = client.post(server.url("/v1/seal")).bearer_auth(APP_TOKEN)
        .json(&json!({"items": [{"table": "customers", "column": "c", "value": null}, {"table": "customers", "column": "c", "value": 1.5, "type": "int"}]}))
        .send().await.unwrap();
    assert_eq!(r.status().as_u16(), 207);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["items"][0]["error"]["code"], "invalid-value");
    // Still serving.
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_the_server_keeps_serving() {
    let env = Env::new();
    let opts = Options {
        header_timeout: 2,
        ..Options::default()
    };
    let server = Server::start(&env, &opts);
    let addr = server.addr;
    // A TCP connection that never starts TLS.
    let silent = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(0);
        (n, started.elapsed())
    });
    // A TLS client that sends half a request and stalls.
    let ca = env.pki.ca_pem.clone();
    let stalled = std::thread::spawn(move || {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(ca.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut conn = rustls::ClientConnection::new(
            std::sync::Arc::new(config),
            "localhost".try_into().unwrap(),
        )
        .unwrap();
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut tls = rustls::Stream::new(&mut conn, &mut sock);
        tls.write_all(b"POST /v1/open HTTP/1.1\r\nHost: localhost\r\n")
            .unwrap();
        tls.flush().unwrap();
        let started = Instant::now();
        let mut buf = Vec::new();
        let _ = tls.read_to_end(&mut buf);
        (
            String::from_utf8_lossy(&buf).into_owned(),
            started.elapsed(),
        )
    });
    let (n, waited) = silent.join().unwrap();
    assert_eq!(n, 0, "closed without a byte");
    assert!(
        waited < Duration::from_secs(6),
        "a silent connection is closed after the handshake deadline ({waited:?})"
    );
    let (answer, waited) = stalled.join().unwrap();
    assert!(
        waited < Duration::from_secs(6),
        "a stalled request is cut off ({waited:?}): {answer}"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    let client = server.client(None);
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[test]
fn no_tls_is_refused_except_on_loopback_with_the_flag() {
    let env = Env::new();
    let opts = Options {
        tls: false,
        listen: "0.0.0.0:0".into(),
        replica: "plain".into(),
        ..Options::default()
    };
    std::fs::write(env.path("plain.toml"), env.config(&opts)).unwrap();
    for args in [vec![], vec!["--allow-plaintext-loopback"]] {
        let out = std::process::Command::new(server_binary())
            .args(["serve", "--config"])
            .arg(env.path("plain.toml"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains("refusing to listen without TLS"), "{text}");
    }
    let opts = Options {
        tls: false,
        replica: "loop".into(),
        ..Options::default()
    };
    let server = Server::start_with(&env, &opts, &["--allow-plaintext-loopback"], &[]);
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plain_listener_only_redirects_and_tls_12_is_refused_by_default() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let opts = Options {
        redirect: Some(port),
        ..Options::default()
    };
    let server = Server::start(&env, &opts);
    let mut s = std::net::TcpStream::connect(port).unwrap();
    s.write_all(
        b"POST /v1/open?x=1 HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 308"), "{answer}");
    let location = format!(
        "location: https://localhost:{}/v1/open?x=1",
        server.addr.port()
    );
    assert!(
        answer.to_ascii_lowercase().contains(&location),
        "the configured host, never the request's: {answer}"
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-frame-options: deny"),
        "{answer}"
    );

    let tls12_only = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(env.pki.ca_pem.as_bytes()).unwrap()])
        .tls_version_max(reqwest::tls::Version::TLS_1_2)
        .resolve("localhost", server.addr)
        .build()
        .unwrap();
    assert!(
        tls12_only.get(server.url("/healthz")).send().await.is_err(),
        "TLS 1.2 refused when the floor is 1.3"
    );
}
