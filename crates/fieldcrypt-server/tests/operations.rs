//! Operations: a budget refusal reaches the alert webhook (a real HTTP receiver on loopback),
//! and new certificate files are served without a restart while a broken one is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read as _, Write as _};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// A one-shot HTTP receiver: answers 204 to the first request and hands back its body.
fn webhook_receiver() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&data);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    let _ =
                        stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                    let _ = tx.send(body.to_owned());
                    break;
                }
            }
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_refusal_reaches_the_webhook() {
    let env = Env::new();
    let (url, received) = webhook_receiver();
    let opts = Options {
        budget: 1,
        webhook: Some(url),
        ..Options::default()
    };
    let server = Server::start(&env, &opts);
    let client = server.client(None);
    let (_, sealed) = post(
        &client,
        &server.url("/v1/seal"),
        Some(APP_TOKEN),
        &json!({"items": [{"table": "customers", "column": "email", "value": "bob@example.org"}]}),
    )
    .await;
    let open = json!({"purpose": "ticket", "items": [{"table": "customers", "column": "email", "envelope": sealed["items"][0]["envelope"]}]});
    let (s, _) = post(&client, &server.url("/v1/mask"), Some(SUPPORT_TOKEN), &open).await;
    assert_eq!(s, 200);
    let (s, _) = post(&client, &server.url("/v1/mask"), Some(SUPPORT_TOKEN), &open).await;
    assert_eq!(s, 429);
    let body = received
        .recv_timeout(Duration::from_secs(10))
        .expect("the webhook was called");
    let alert: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(alert["event"], "decrypt-budget-exceeded");
    assert_eq!(alert["principal"], "support");
    assert_eq!(alert["column"], "customers.email");
    assert_eq!(alert["limit"], 1);
    assert!(!body.contains("bob@example.org"), "no value in the alert");
}

/// The SHA-256 of the certificate the server presents to a fresh connection.
fn served_certificate(addr: std::net::SocketAddr, ca_pem: &str) -> Option<String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let mut sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut tls = rustls::Stream::new(&mut conn, &mut sock);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    conn.peer_certificates()
        .and_then(|c| c.first())
        .map(|c| sha256_hex(c.as_ref()))
}

#[test]
fn new_certificate_files_are_served_without_a_restart_and_broken_ones_refused() {
    let env = Env::new();
    let server = Server::start(&env, &Options::default());
    let first = served_certificate(server.addr, &env.pki.ca_pem).expect("a handshake");

    // A new certificate and key from the same CA, written the way an operator would (rename).
    let (cert, key) = env.new_server_certificate();
    std::fs::write(env.path("server.pem.new"), cert).unwrap();
    std::fs::write(env.path("server.key.new"), key).unwrap();
    std::fs::rename(env.path("server.key.new"), env.path("server.key")).unwrap();
    std::fs::rename(env.path("server.pem.new"), env.path("server.pem")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let second = loop {
        let now = served_certificate(server.addr, &env.pki.ca_pem).expect("a handshake");
        if now != first {
            break now;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was not picked up"
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    // A broken file is logged and the certificate in force stays.
    std::fs::write(
        env.path("server.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.log_text().contains("TLS reload failed") {
        assert!(
            Instant::now() < deadline,
            "no reload failure logged:\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        served_certificate(server.addr, &env.pki.ca_pem).as_deref(),
        Some(second.as_str())
    );
}
