//! Two server processes on one PostgreSQL: budgets and rate limits are shared, both chains of
//! the shared trail verify offline, and a modified, a deleted and a reordered entry are each
//! found by `fieldcrypt audit verify`. Then the trail table is taken away mid-run: opens are
//! refused and nothing is returned unaudited; when it comes back, service resumes and the trail
//! still verifies.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{Value, json};

async fn seal_card(server: &Server, client: &reqwest::Client, row: i64) -> String {
    let (s, body) = post(
        client,
        &server.url("/v1/seal"),
        Some(APP_TOKEN),
        &json!({"items": [{"table": "customers", "column": "card", "row": row, "value": "4111111111111111"}]}),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    body["items"][0]["envelope"].as_str().unwrap().to_owned()
}

fn masked_open(envelope: &str) -> Value {
    json!({"purpose": "ticket", "items": [{"table": "customers", "column": "card", "row": 1, "envelope": envelope}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_budgets_rates_and_a_verifiable_trail() {
    let Some(url) = fresh_database("replicas").await else {
        return;
    };
    let env = Env::new();
    let base = Options {
        database_url: Some(url.clone()),
        budget: 6,
        ratey_rate: 3,
        checkpoint_every: 7,
        ..Options::default()
    };
    let mut a = Server::start(
        &env,
        &Options {
            replica: "replica-a".into(),
            ..base.clone()
        },
    );
    let mut b = Server::start(
        &env,
        &Options {
            replica: "replica-b".into(),
            ..base.clone()
        },
    );
    let (ca, cb) = (a.client(None), b.client(None));
    let envelope = seal_card(&a, &ca, 1).await;

    // The budget (6 per hour for support on each column) is spent across both replicas.
    let mut granted = 0;
    let mut refused = 0;
    for i in 0..10 {
        let (server, client) = if i % 2 == 0 { (&a, &ca) } else { (&b, &cb) };
        let (s, body) = post(
            client,
            &server.url("/v1/mask"),
            Some(SUPPORT_TOKEN),
            &masked_open(&envelope),
        )
        .await;
        match s {
            200 => granted += 1,
            429 => {
                assert_eq!(body["items"][0]["error"]["code"], "budget");
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((granted, refused), (6, 4), "one budget for both replicas");

    // The rate (3 per second for ratey) too: count per second-window across both.
    let mut per_second: std::collections::HashMap<u64, (u32, u32)> = Default::default();
    for i in 0..24 {
        let (server, client) = if i % 2 == 0 { (&a, &ca) } else { (&b, &cb) };
        let second = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let (s, body) = post(
            client,
            &server.url("/v1/seal"),
            Some(RATEY_TOKEN),
            &json!({"items": [{"table": "customers", "column": "note", "value": "x"}]}),
        )
        .await;
        let after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        if second != after {
            continue; // straddled a window boundary: not attributable
        }
        let slot = per_second.entry(second).or_default();
        match s {
            200 => slot.0 += 1,
            429 => {
                assert_eq!(body["error"], "rate-limited");
                slot.1 += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        per_second.values().all(|(ok, _)| *ok <= 3),
        "at most 3 per second across both replicas: {per_second:?}"
    );
    assert!(
        per_second.values().any(|(_, limited)| *limited > 0),
        "some requests were rate-limited: {per_second:?}"
    );

    a.stop();
    b.stop();

    let Some(cli) = fieldcrypt_cli() else { return };
    let public = env.path("audit.pub.pem");
    let (code, out) = audit_verify(&cli, &public, &["--database-url", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("replica-a:") && out.contains("replica-b:"),
        "{out}"
    );

    // Tamper with copies of the trail, one change at a time.
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE audit_copy AS SELECT * FROM fieldcrypt_audit")
        .execute(&pool)
        .await
        .unwrap();
    let restore = || async {
        sqlx::query("TRUNCATE fieldcrypt_audit")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO fieldcrypt_audit SELECT * FROM audit_copy")
            .execute(&pool)
            .await
            .unwrap();
    };
    let find = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };

    // Modified: a denial turned into a success.
    let id = find("SELECT id FROM fieldcrypt_audit WHERE kind = 'entry' AND outcome = 'budget' ORDER BY id LIMIT 1").await;
    sqlx::query("UPDATE fieldcrypt_audit SET outcome = 'ok' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let (code, out) = audit_verify(&cli, &public, &["--database-url", &url]);
    assert_eq!(code, 10, "{out}");
    assert!(
        out.contains("does not match the hash chain"),
        "modified: {out}"
    );

    // Deleted.
    restore().await;
    let id = find("SELECT id FROM fieldcrypt_audit WHERE kind = 'entry' AND replica = 'replica-b' AND seq = 3").await;
    sqlx::query("DELETE FROM fieldcrypt_audit WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let (code, out) = audit_verify(&cli, &public, &["--database-url", &url]);
    assert_eq!(code, 10, "{out}");
    assert!(
        out.contains("replica-b entry 3: missing (removed)"),
        "deleted: {out}"
    );

    // Reordered: two entries of one chain swap places in the table's order.
    restore().await;
    let first = find("SELECT id FROM fieldcrypt_audit WHERE kind = 'entry' AND replica = 'replica-a' AND seq = 2").await;
    let second = find("SELECT id FROM fieldcrypt_audit WHERE kind = 'entry' AND replica = 'replica-a' AND seq = 4").await;
    for (from, to) in [(first, -1), (second, first), (-1, second)] {
        sqlx::query("UPDATE fieldcrypt_audit SET id = $2 WHERE id = $1")
            .bind(from)
            .bind(to)
            .execute(&pool)
            .await
            .unwrap();
    }
    let (code, out) = audit_verify(&cli, &public, &["--database-url", &url]);
    assert_eq!(code, 10, "{out}");
    assert!(
        out.contains("replica-a entry 2: out of order"),
        "reordered: {out}"
    );

    // And once restored, clean again.
    restore().await;
    let (code, out) = audit_verify(&cli, &public, &["--database-url", &url]);
    assert_eq!(code, 0, "{out}");
    pool.close().await;
    drop_database(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_trail_unavailable_opens_fail_closed() {
    let Some(url) = fresh_database("failclosed").await else {
        return;
    };
    let env = Env::new();
    let opts = Options {
        database_url: Some(url.clone()),
        ..Options::default()
    };
    let mut server = Server::start(&env, &opts);
    let client = server.client(None);
    let envelope = seal_card(&server, &client, 1).await;
    let open = json!({"items": [{"table": "customers", "column": "card", "row": 1, "envelope": envelope}]});
    let (s, body) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &open).await;
    assert_eq!(s, 200, "{body}");

    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query("ALTER TABLE fieldcrypt_audit RENAME TO fieldcrypt_audit_away")
        .execute(&pool)
        .await
        .unwrap();
    for _ in 0..3 {
        let (s, body) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &open).await;
        assert_eq!(s, 503, "{body}");
        assert_eq!(body["items"][0]["error"]["code"], "audit-unavailable");
        assert!(body["items"][0].get("value").is_none());
        assert!(
            !body.to_string().contains("4111111111111111"),
            "nothing unaudited leaves: {body}"
        );
    }
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    assert_eq!(ready.json::<Value>().await.unwrap()["audit"], false);

    sqlx::query("ALTER TABLE fieldcrypt_audit_away RENAME TO fieldcrypt_audit")
        .execute(&pool)
        .await
        .unwrap();
    let (s, body) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &open).await;
    assert_eq!(s, 200, "service resumes: {body}");
    assert_eq!(body["items"][0]["value"], "4111111111111111");
    server.stop();

    // The refused batches left no gap: the chain goes on from the last stored entry.
    if let Some(cli) = fieldcrypt_cli() {
        let (code, out) = audit_verify(&cli, &env.path("audit.pub.pem"), &["--database-url", &url]);
        assert_eq!(code, 0, "{out}");
    }
    pool.close().await;
    drop_database(&url).await;
}
