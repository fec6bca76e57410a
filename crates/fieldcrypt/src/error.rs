//! Errors. A value that cannot be opened gets one opaque error; malformed input gets a typed
//! [`ParseError`]; nothing here ever carries key material or plaintext.

use crate::envelope::KeyId;
use crate::plaintext::TypeTag;

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a well-formed envelope.
    #[error("malformed envelope: {0}")]
    Malformed(#[from] ParseError),
    /// Wrong key, wrong context, or a tampered value. Deliberately one error: which check failed
    /// is not reported, so that this is no oracle.
    #[error("cannot open value: wrong key, wrong context, or tampered")]
    CannotOpen,
    /// The envelope names a key id that the keyring does not hold.
    #[error("key {0} is not in this keyring")]
    UnknownKey(KeyId),
    /// The envelope names a key id that was retired; its material is gone.
    #[error("key {0} was retired; values sealed under it can no longer be opened")]
    RetiredKey(KeyId),
    /// The value opened, but holds another type than the one asked for.
    #[error("value holds {found}, not {expected}")]
    TypeMismatch {
        /// The type the caller asked for.
        expected: TypeTag,
        /// The type the value was sealed as.
        found: TypeTag,
    },
    /// The value opened, but its typed encoding is invalid (or does not fit the Rust type).
    #[error("invalid {0} value")]
    InvalidValue(&'static str),
    /// The value has no canonical encoding, so it was not sealed (a JSON map with non-string
    /// keys, a `Serialize` impl that fails).
    #[error("cannot encode {0} value for sealing")]
    Unencodable(&'static str),
    /// The context (table, column, row, tenant) is not acceptable.
    #[error("invalid context: {0}")]
    InvalidContext(&'static str),
    /// The plaintext is larger than an envelope can hold.
    #[error("plaintext too large: {0} bytes")]
    TooLarge(usize),
    /// Key material of the wrong length.
    #[error("a key must be 32 bytes, got {0}")]
    InvalidKeyLength(usize),
    /// A keyring operation was refused.
    #[error("keyring: {0}")]
    Keyring(#[from] KeyringError),
    /// A blind-index definition or input was refused.
    #[error("blind index: {0}")]
    BlindIndex(&'static str),
    /// A blind index kept in a `BIGINT` column holds 1 to 63 bits.
    #[error("a blind index column holds 1 to 63 bits, not {0}")]
    IndexTooWide(u16),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// Why bytes or text are not a well-formed envelope. Says where, never what the bytes were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing to parse.
    #[error("empty input")]
    Empty,
    /// The binary form does not start with the magic byte 0xFC.
    #[error("not a fieldcrypt envelope (bad magic byte)")]
    BadMagic,
    /// The text form does not start with `fc`.
    #[error("not a fieldcrypt envelope (text form must start with \"fc\")")]
    BadPrefix,
    /// A format version this build does not know.
    #[error("unsupported format version {0}")]
    UnsupportedVersion(u8),
    /// An algorithm id this build does not know.
    #[error("unknown algorithm id {0:#04x}")]
    UnknownSuite(u8),
    /// An algorithm letter in the text form that this build does not know.
    #[error("unknown algorithm letter in text form")]
    UnknownSuiteLetter,
    /// Key id 0 is reserved and never names a key.
    #[error("key id 0 is reserved")]
    ZeroKeyId,
    /// The key id in the text form is not a canonical decimal number in 1..=4294967295.
    #[error("bad key id in text form")]
    BadKeyId,
    /// The text form lacks the `.` that ends its prefix.
    #[error("text form has no '.' after the key id")]
    MissingSeparator,
    /// The body of the text form is not canonical unpadded base64url.
    #[error("body is not canonical unpadded base64url")]
    BadBase64,
    /// The input ends before the fixed-size parts do.
    #[error("truncated: {needed} bytes needed at least, {got} present")]
    Truncated {
        /// Minimum length for this suite.
        needed: usize,
        /// Length present.
        got: usize,
    },
    /// A stream header names a chunk size outside 1 KiB..=1 MiB.
    #[error("stream chunk size outside 1 KiB to 1 MiB")]
    BadChunkSize,
}

/// Why a keyring refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyringError {
    /// The key id is not in the keyring.
    #[error("no key with id {0}")]
    NoSuchKey(KeyId),
    /// The primary key seals new values and cannot be retired; rotate first.
    #[error("key {0} is the primary key; rotate to a new primary before retiring it")]
    RetirePrimary(KeyId),
    /// Key ids are exhausted (more than four billion keys).
    #[error("no key id left")]
    IdsExhausted,
    /// A keyring document is inconsistent (no primary, two primaries, duplicate ids, ...).
    #[error("keyring document is invalid: {0}")]
    InvalidDocument(String),
    /// The document MAC does not verify: something the wrapped keys do not bind (a state, the
    /// primary, a tombstone, a KEK setting) was changed outside fieldcrypt.
    #[error(
        "the keyring document's MAC does not verify: its states, primary, tombstones or KEK settings were changed outside fieldcrypt"
    )]
    MacMismatch,
    /// A wrapped key did not unwrap under the key-encryption key.
    #[error(
        "the key-encryption key does not open wrapped key {0} (wrong master key, or the keyring file was altered)"
    )]
    UnwrapFailed(String),
    /// The key-encryption key is not the one the keyring was wrapped under.
    #[error(
        "this key-encryption key (fingerprint {given}) is not the one this keyring was wrapped with (fingerprint {expected})"
    )]
    WrongKek {
        /// Fingerprint recorded in the keyring.
        expected: String,
        /// Fingerprint of the key given.
        given: String,
    },
}
