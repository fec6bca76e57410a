//! [`Chain`]: the writer's side of one replica's trail. Numbers entries, links each to the one
//! before, and signs a checkpoint when asked.

use crate::record::{Checkpoint, Entry, Hash, entry_hash, genesis, parse_hash};
use crate::signing::SigningKey;

/// What an entry says, before the chain numbers and links it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// See [`Entry::principal`].
    pub principal: String,
    /// See [`Entry::operation`].
    pub operation: String,
    /// See [`Entry::table`].
    pub table: String,
    /// See [`Entry::column`].
    pub column: String,
    /// See [`Entry::row`].
    pub row: Option<String>,
    /// See [`Entry::tenant`].
    pub tenant: Option<String>,
    /// See [`Entry::key_id`].
    pub key_id: Option<u32>,
    /// See [`Entry::purpose`].
    pub purpose: Option<String>,
    /// See [`Entry::request_id`].
    pub request_id: String,
    /// See [`Entry::outcome`].
    pub outcome: String,
}

/// One replica's chain: the last sequence number and chain value. Cloned before a batch is
/// written, so that a batch the sink refuses leaves the chain as it was.
#[derive(Debug, Clone)]
pub struct Chain {
    replica: String,
    seq: u64,
    head: Hash,
    checkpointed: u64,
}

impl Chain {
    /// A chain with no entries yet.
    pub fn new(replica: impl Into<String>) -> Self {
        let replica = replica.into();
        let head = genesis(&replica);
        Self {
            replica,
            seq: 0,
            head,
            checkpointed: 0,
        }
    }

    /// Continues after the last entry a sink holds for this replica (after a restart).
    pub fn resume(replica: impl Into<String>, last: Option<&Entry>) -> Self {
        let mut chain = Self::new(replica);
        if let Some(last) = last
            && let Some(head) = parse_hash(&last.hash)
        {
            chain.seq = last.seq;
            chain.head = head;
        }
        chain
    }

    /// The replica's name.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// The last sequence number written.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Entries written since the last checkpoint.
    pub fn unsigned(&self) -> u64 {
        self.seq - self.checkpointed
    }

    /// Numbers and links `event`, stamped `time` (RFC 3339).
    pub fn append(&mut self, event: Event, time: &str) -> Entry {
        let mut entry = Entry {
            replica: self.replica.clone(),
            seq: self.seq + 1,
            time: time.to_owned(),
            principal: event.principal,
            operation: event.operation,
            table: event.table,
            column: event.column,
            row: event.row,
            tenant: event.tenant,
            key_id: event.key_id,
            purpose: event.purpose,
            request_id: event.request_id,
            outcome: event.outcome,
            hash: String::new(),
        };
        let head = entry_hash(&self.head, &entry);
        entry.hash = hex::encode(head);
        self.seq = entry.seq;
        self.head = head;
        entry
    }

    /// Signs the current head; `None` when nothing was written since the last checkpoint.
    pub fn checkpoint(&mut self, key: &SigningKey, time: &str) -> Option<Checkpoint> {
        if self.seq == 0 || self.seq == self.checkpointed {
            return None;
        }
        Some(self.sign(key, time))
    }

    /// Signs the current head whatever was written since (at start-up, it vouches for a tail
    /// left by a crash).
    pub fn sign(&mut self, key: &SigningKey, time: &str) -> Checkpoint {
        self.checkpointed = self.seq;
        Checkpoint {
            replica: self.replica.clone(),
            seq: self.seq,
            time: time.to_owned(),
            hash: hex::encode(self.head),
            key: key.verifying_key().fingerprint(),
            signature: key.sign_checkpoint(&self.replica, self.seq, &self.head, time),
        }
    }
}
