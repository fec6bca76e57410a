//! Checking a trail offline with the public key alone.
//!
//! Per replica: every entry must link to the one before it ([`crate::record::entry_hash`]),
//! sequence numbers must run from 1 without gaps, repeats or going backwards in the trail's
//! order, and every checkpoint must carry a valid signature over the chain value the entries
//! produce. Entries after the last valid checkpoint are reported too: nothing vouches for them,
//! so an appended forgery and a legitimate entry not yet signed look alike.

use std::collections::{BTreeMap, HashMap};

use crate::record::{Checkpoint, Entry, Hash, Record, entry_hash, genesis, parse_hash};
use crate::signing::VerifyingKey;

/// Something wrong with a trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A line that is not a record.
    Malformed {
        /// 1-based position in the trail.
        position: u64,
        /// Why.
        reason: String,
    },
    /// The entry does not hash to its stored chain value from the one before it: it (or the
    /// stored value of the entry before it) was modified.
    Modified {
        /// The replica.
        replica: String,
        /// The entry.
        seq: u64,
    },
    /// Entries missing from the chain.
    Removed {
        /// The replica.
        replica: String,
        /// The first missing entry.
        from: u64,
        /// The last missing entry.
        to: u64,
    },
    /// An entry found after one with a higher sequence number.
    Reordered {
        /// The replica.
        replica: String,
        /// The entry out of place.
        seq: u64,
        /// The higher sequence number seen before it.
        after: u64,
    },
    /// A sequence number that occurs more than once.
    Duplicated {
        /// The replica.
        replica: String,
        /// The repeated entry.
        seq: u64,
    },
    /// A checkpoint whose signature does not verify under the given key.
    BadSignature {
        /// The replica.
        replica: String,
        /// The entry it claims to cover.
        seq: u64,
    },
    /// A validly signed checkpoint whose chain value differs from the entries' (entries up to
    /// `seq` were rewritten, chain values included), or whose entry is missing.
    CheckpointMismatch {
        /// The replica.
        replica: String,
        /// The entry it covers.
        seq: u64,
    },
    /// Entries after the last valid checkpoint: nothing signed vouches for them.
    Unsigned {
        /// The replica.
        replica: String,
        /// The first such entry.
        from: u64,
        /// The last.
        to: u64,
    },
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Problem::Malformed { position, reason } => {
                write!(f, "record {position}: not a trail record ({reason})")
            }
            Problem::Modified { replica, seq } => write!(
                f,
                "{replica} entry {seq}: does not match the hash chain (this entry, or the one before it, was modified)"
            ),
            Problem::Removed { replica, from, to } if from == to => {
                write!(f, "{replica} entry {from}: missing (removed)")
            }
            Problem::Removed { replica, from, to } => {
                write!(f, "{replica} entries {from}-{to}: missing (removed)")
            }
            Problem::Reordered {
                replica,
                seq,
                after,
            } => write!(
                f,
                "{replica} entry {seq}: out of order (found after entry {after})"
            ),
            Problem::Duplicated { replica, seq } => {
                write!(f, "{replica} entry {seq}: occurs more than once")
            }
            Problem::BadSignature { replica, seq } => write!(
                f,
                "{replica} checkpoint at entry {seq}: the signature does not verify with this public key"
            ),
            Problem::CheckpointMismatch { replica, seq } => write!(
                f,
                "{replica} checkpoint at entry {seq}: signed, but the entries up to it do not produce the signed chain value (rewritten or removed)"
            ),
            Problem::Unsigned { replica, from, to } => write!(
                f,
                "{replica} entries {from}-{to}: after the last checkpoint, not covered by any signature (appended, or not yet checkpointed)"
            ),
        }
    }
}

/// What a replica's chain holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaSummary {
    /// Entries read.
    pub entries: u64,
    /// Checkpoints with a valid signature matching the chain.
    pub valid_checkpoints: u64,
    /// The last entry a valid checkpoint covers.
    pub signed_through: u64,
    /// The highest sequence number read.
    pub last_seq: u64,
}

/// The verdict on a trail.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Per replica, by name.
    pub replicas: BTreeMap<String, ReplicaSummary>,
    /// Everything wrong, in trail order per kind of check.
    pub problems: Vec<Problem>,
}

impl Report {
    /// No problem at all, an unsigned tail included.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
    /// No problem but possibly an unsigned tail (a live trail between checkpoints).
    pub fn is_clean_but_tail(&self) -> bool {
        self.problems
            .iter()
            .all(|p| matches!(p, Problem::Unsigned { .. }))
    }
}

#[derive(Default)]
struct ReplicaState {
    /// seq -> (stored chain value, the entry's hash recomputed needs the previous one).
    entries: HashMap<u64, (Option<Hash>, Entry)>,
    checkpoints: Vec<Checkpoint>,
    max_seen: u64,
    problems: Vec<Problem>,
}

/// Checks `records` (in the order the trail holds them; `Err` for a line that did not parse)
/// with `key`.
pub fn verify<I>(records: I, key: &VerifyingKey) -> Report
where
    I: IntoIterator<Item = Result<Record, String>>,
{
    let mut report = Report::default();
    let mut replicas: BTreeMap<String, ReplicaState> = BTreeMap::new();
    for (position, record) in records.into_iter().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(reason) => {
                report.problems.push(Problem::Malformed {
                    position: position as u64 + 1,
                    reason,
                });
                continue;
            }
        };
        let state = replicas.entry(record.replica().to_owned()).or_default();
        match record {
            Record::Entry(entry) => {
                let seq = entry.seq;
                if seq < state.max_seen {
                    state.problems.push(Problem::Reordered {
                        replica: entry.replica.clone(),
                        seq,
                        after: state.max_seen,
                    });
                }
                state.max_seen = state.max_seen.max(seq);
                if state.entries.contains_key(&seq) {
                    state.problems.push(Problem::Duplicated {
                        replica: entry.replica.clone(),
                        seq,
                    });
                    continue;
                }
                let stored = parse_hash(&entry.hash);
                state.entries.insert(seq, (stored, entry));
            }
            Record::Checkpoint(c) => state.checkpoints.push(c),
        }
    }
    for (replica, state) in replicas {
        let summary = check_replica(&replica, state, key, &mut report.problems);
        report.replicas.insert(replica, summary);
    }
    report
}

fn check_replica(
    replica: &str,
    mut state: ReplicaState,
    key: &VerifyingKey,
    problems: &mut Vec<Problem>,
) -> ReplicaSummary {
    problems.append(&mut state.problems);
    let mut summary = ReplicaSummary {
        entries: state.entries.len() as u64,
        last_seq: state.max_seen,
        ..ReplicaSummary::default()
    };
    // Links and gaps, in sequence order.
    let mut seqs: Vec<u64> = state.entries.keys().copied().collect();
    seqs.sort_unstable();
    let mut expected = 1u64;
    let start = genesis(replica);
    for &seq in &seqs {
        if seq > expected {
            problems.push(Problem::Removed {
                replica: replica.to_owned(),
                from: expected,
                to: seq - 1,
            });
        }
        expected = seq + 1;
        let Some((stored, entry)) = state.entries.get(&seq) else {
            continue;
        };
        let previous = if seq == 1 {
            Some(start)
        } else {
            state.entries.get(&(seq - 1)).and_then(|(h, _)| *h)
        };
        // Without the previous entry the link cannot be checked; the gap is reported above.
        if seq > 1 && !state.entries.contains_key(&(seq - 1)) {
            continue;
        }
        let linked = match (previous, stored) {
            (Some(prev), Some(stored)) => entry_hash(&prev, entry) == *stored,
            _ => false,
        };
        if !linked {
            problems.push(Problem::Modified {
                replica: replica.to_owned(),
                seq,
            });
        }
    }
    // Checkpoints.
    for c in &state.checkpoints {
        let hash = parse_hash(&c.hash);
        let signed = hash
            .is_some_and(|h| key.verify_checkpoint(&c.replica, c.seq, &h, &c.time, &c.signature));
        if !signed {
            problems.push(Problem::BadSignature {
                replica: replica.to_owned(),
                seq: c.seq,
            });
            continue;
        }
        let matches = state
            .entries
            .get(&c.seq)
            .and_then(|(stored, _)| *stored)
            .is_some_and(|stored| Some(stored) == hash);
        if !matches {
            problems.push(Problem::CheckpointMismatch {
                replica: replica.to_owned(),
                seq: c.seq,
            });
            continue;
        }
        summary.valid_checkpoints += 1;
        summary.signed_through = summary.signed_through.max(c.seq);
    }
    if summary.last_seq > summary.signed_through {
        problems.push(Problem::Unsigned {
            replica: replica.to_owned(),
            from: summary.signed_through + 1,
            to: summary.last_seq,
        });
    }
    summary
}
