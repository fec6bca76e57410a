//! A trail of two replicas with checkpoints verifies; each kind of tampering is reported as
//! what it is. The chain and signatures are also checked against an independent implementation
//! (Python's hashlib and pyca/cryptography) in the server's integration tests.

#![allow(clippy::unwrap_used)]

use fieldcrypt_audit::{Chain, Event, Problem, Record, SigningKey, verify};

fn event(i: u64) -> Event {
    Event {
        principal: format!("app-{}", i % 3),
        operation: "open".into(),
        table: "customers".into(),
        column: "national_id".into(),
        row: Some(i.to_string()),
        tenant: None,
        key_id: Some(1),
        purpose: Some("support".into()),
        request_id: format!("req-{i}"),
        outcome: "ok".into(),
    }
}

/// Two replicas interleaved, a checkpoint every 4 entries and at the end.
fn trail(key: &SigningKey) -> Vec<Record> {
    let mut a = Chain::new("a");
    let mut b = Chain::new("b");
    let mut out = Vec::new();
    for i in 1..=10u64 {
        for chain in [&mut a, &mut b] {
            out.push(Record::Entry(
                chain.append(event(i), "2026-12-07T10:00:00Z"),
            ));
            if chain.seq() % 4 == 0 {
                out.extend(
                    chain
                        .checkpoint(key, "2026-12-07T10:00:01Z")
                        .map(Record::Checkpoint),
                );
            }
        }
    }
    for chain in [&mut a, &mut b] {
        out.extend(
            chain
                .checkpoint(key, "2026-12-07T10:00:02Z")
                .map(Record::Checkpoint),
        );
    }
    out
}

fn check(records: Vec<Record>, key: &SigningKey) -> Vec<Problem> {
    verify(records.into_iter().map(Ok), key.verifying_key()).problems
}

fn entry_position(records: &[Record], replica: &str, seq: u64) -> usize {
    records
        .iter()
        .position(|r| matches!(r, Record::Entry(e) if e.replica == replica && e.seq == seq))
        .unwrap_or(usize::MAX)
}

#[test]
fn an_untouched_trail_verifies() {
    let key = SigningKey::generate().unwrap();
    let records = trail(&key);
    let report = verify(records.into_iter().map(Ok), key.verifying_key());
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.replicas.len(), 2);
    assert_eq!(report.replicas["a"].signed_through, 10);
    assert_eq!(report.replicas["b"].valid_checkpoints, 3);
}

#[test]
fn a_modified_entry_is_reported() {
    let key = SigningKey::generate().unwrap();
    let mut records = trail(&key);
    let i = entry_position(&records, "a", 5);
    if let Record::Entry(e) = &mut records[i] {
        e.principal = "someone-else".into();
    }
    assert_eq!(
        check(records, &key),
        vec![Problem::Modified {
            replica: "a".into(),
            seq: 5
        }]
    );
}

#[test]
fn a_modified_entry_with_its_chain_recomputed_fails_the_next_checkpoint() {
    let key = SigningKey::generate().unwrap();
    let records = trail(&key);
    // Rebuild replica a's chain from modified entries, keeping its checkpoints (the forger has
    // no signing key).
    let mut forged = Chain::new("a");
    let rebuilt: Vec<Record> = records
        .into_iter()
        .map(|r| match r {
            Record::Entry(e) if e.replica == "a" => {
                let mut ev = event(e.seq);
                if e.seq == 6 {
                    ev.outcome = "denied".into();
                }
                Record::Entry(forged.append(ev, &e.time))
            }
            other => other,
        })
        .collect();
    let problems = check(rebuilt, &key);
    assert_eq!(
        problems,
        vec![
            Problem::CheckpointMismatch {
                replica: "a".into(),
                seq: 8
            },
            Problem::CheckpointMismatch {
                replica: "a".into(),
                seq: 10
            },
            // Only the checkpoint at 4 still vouches for anything.
            Problem::Unsigned {
                replica: "a".into(),
                from: 5,
                to: 10
            },
        ]
    );
}

#[test]
fn a_deleted_entry_is_reported() {
    let key = SigningKey::generate().unwrap();
    let mut records = trail(&key);
    let i = entry_position(&records, "b", 3);
    records.remove(i);
    assert_eq!(
        check(records, &key),
        vec![Problem::Removed {
            replica: "b".into(),
            from: 3,
            to: 3
        }]
    );
}

#[test]
fn a_reordered_entry_is_reported() {
    let key = SigningKey::generate().unwrap();
    let mut records = trail(&key);
    let i = entry_position(&records, "a", 2);
    let j = entry_position(&records, "a", 3);
    records.swap(i, j);
    assert_eq!(
        check(records, &key),
        vec![Problem::Reordered {
            replica: "a".into(),
            seq: 2,
            after: 3
        }]
    );
}

#[test]
fn entries_appended_after_the_last_checkpoint_are_reported() {
    let key = SigningKey::generate().unwrap();
    let mut records = trail(&key);
    // The forger continues the chain correctly but cannot sign.
    let last = records.iter().rev().find_map(|r| match r {
        Record::Entry(e) if e.replica == "b" => Some(e.clone()),
        _ => None,
    });
    let mut chain = Chain::resume("b", last.as_ref());
    records.push(Record::Entry(
        chain.append(event(99), "2026-12-07T11:00:00Z"),
    ));
    assert_eq!(
        check(records, &key),
        vec![Problem::Unsigned {
            replica: "b".into(),
            from: 11,
            to: 11
        }]
    );
}

#[test]
fn a_duplicate_a_forged_checkpoint_and_a_malformed_line_are_reported() {
    let key = SigningKey::generate().unwrap();
    let mut records = trail(&key);
    let i = entry_position(&records, "a", 4);
    records.push(records[i].clone());
    let forger = SigningKey::generate().unwrap();
    let mut chain = Chain::new("c");
    records.push(Record::Entry(chain.append(event(1), "t")));
    records.extend(chain.checkpoint(&forger, "t").map(Record::Checkpoint));
    let mut items: Vec<Result<Record, String>> = records.into_iter().map(Ok).collect();
    items.push(Err("expected value".into()));
    let problems = verify(items, key.verifying_key()).problems;
    assert!(
        problems.contains(&Problem::Duplicated {
            replica: "a".into(),
            seq: 4
        }),
        "{problems:?}"
    );
    assert!(
        problems.contains(&Problem::BadSignature {
            replica: "c".into(),
            seq: 1
        }),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| matches!(p, Problem::Malformed { .. })),
        "{problems:?}"
    );
}

#[test]
fn the_file_sink_round_trips_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.jsonl");
    let key = SigningKey::generate().unwrap();
    let records = trail(&key);
    let mut sink = fieldcrypt_audit::file::FileSink::open(&path, true).unwrap();
    sink.append(&records[..7]).unwrap();
    sink.append(&records[7..]).unwrap();
    let read = fieldcrypt_audit::file::read(&path).unwrap();
    assert_eq!(read.len(), records.len());
    assert!(verify(read, key.verifying_key()).is_clean());
    let last = fieldcrypt_audit::file::FileSink::last_entry(&path, "a")
        .unwrap()
        .unwrap();
    assert_eq!(last.seq, 10);
    let mut resumed = Chain::resume("a", Some(&last));
    let next = resumed.append(event(11), "t");
    let mut more = vec![Record::Entry(next)];
    more.extend(resumed.checkpoint(&key, "t").map(Record::Checkpoint));
    sink.append(&more).unwrap();
    assert!(
        verify(
            fieldcrypt_audit::file::read(&path).unwrap(),
            key.verifying_key()
        )
        .is_clean()
    );
}
