//! Provider errors: each says which file or service and what to do, never a key.

use std::path::PathBuf;

/// What went wrong while finding, reading or writing keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A key file is readable or writable by group or others.
    #[error(
        "{path} is readable or writable by group or others (mode {mode:o}); a key file must be private: chmod 600 {path}"
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A master-key file is not in the expected format.
    #[error(
        "{path} is not a fieldcrypt master-key file (expected one line: fieldcrypt-master-key-v1:<43 base64url characters>)"
    )]
    BadMasterKeyFile {
        /// The file.
        path: PathBuf,
    },
    /// A keyring file is not a keyring document.
    #[error("{path} is not a fieldcrypt keyring: {reason}")]
    BadKeyringFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A keyring file already exists where a new one was to be created.
    #[error("{0} already exists; refusing to overwrite a keyring (its keys would be lost)")]
    KeyringExists(PathBuf),
    /// A keyring is wrapped by a provider this build does not have.
    #[error("{path} is wrapped by provider {provider:?}, which this build does not have")]
    UnsupportedProvider {
        /// The keyring file.
        path: PathBuf,
        /// The provider it names.
        provider: String,
    },
    /// The master-key file a keyring needs does not exist.
    #[error(
        "master key {master} does not exist, and keyring {keyring} needs it: pass --master-key or set FIELDCRYPT_MASTER_KEY to the file it was created with (a new master key would not open this keyring)"
    )]
    NoMasterKey {
        /// The master-key file looked for.
        master: PathBuf,
        /// The keyring that needs it.
        keyring: PathBuf,
    },
    /// The configured master-key file does not exist; the keyring recorded another place.
    #[error(
        "master key {configured} does not exist; the keyring was created with the master key at {recorded} (pass --master-key {recorded} or set FIELDCRYPT_MASTER_KEY; a keyring's own record of the path is not followed)"
    )]
    MasterKeyElsewhere {
        /// The file configured (or the default).
        configured: PathBuf,
        /// The path the document records.
        recorded: String,
    },
    /// A provider is not configured correctly (a missing variable, a malformed setting, ...).
    #[error("{provider} provider: {reason}")]
    Config {
        /// The provider.
        provider: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// The provider's key is not the one the keyring was wrapped with.
    #[error(
        "{provider} provider: this keyring was wrapped under the key with {setting} {expected}, but the configured key has {setting} {given}"
    )]
    WrongKey {
        /// The provider.
        provider: &'static str,
        /// How keys are told apart (`key_fingerprint`, `key_id`, `key`).
        setting: &'static str,
        /// The key the document names.
        expected: String,
        /// The key configured.
        given: String,
    },
    /// The provider refused to unwrap: wrong context, altered bytes, or another key.
    #[error("{provider} provider cannot unwrap the keyring's key-encryption key: {detail}")]
    CannotUnwrap {
        /// The provider.
        provider: &'static str,
        /// What the provider said (never key material).
        detail: String,
    },
    /// The provider could not be reached or did not answer in time; nothing was changed.
    #[error("{provider} provider unavailable: {reason}")]
    Unavailable {
        /// The provider.
        provider: &'static str,
        /// The transport's error.
        reason: String,
    },
    /// The provider refused the caller (bad token, missing permission, disabled key).
    #[error("{provider} provider denied the request: {reason}")]
    Denied {
        /// The provider.
        provider: &'static str,
        /// What the provider said.
        reason: String,
    },
    /// The document names another provider setting (a server, a key's place, a cost) than the
    /// application is configured with. Refused before the provider is called: settings come
    /// from configuration, and the document's copy is only compared with them.
    #[error(
        "{provider} provider: the keyring document says {setting} {document:?}, but this application is configured with {configured:?}; nothing was sent to the provider (fix the configuration, or the document if someone changed it)"
    )]
    SettingMismatch {
        /// The provider.
        provider: &'static str,
        /// The setting.
        setting: String,
        /// What the document says (`nothing` when it says nothing).
        document: String,
        /// What is configured.
        configured: String,
    },
    /// The document is another keyring than the one the configuration pins.
    #[error("the keyring document is keyring {found}, but the configuration pins keyring {pinned}")]
    NotPinnedKeyring {
        /// The pinned id.
        pinned: String,
        /// The document's id.
        found: String,
    },
    /// The document is older than the generation the configuration pins: a rolled-back copy.
    #[error(
        "the keyring document is generation {found}, older than the pinned minimum {pinned}: an old copy (a restored backup or a rolled-back store), refused"
    )]
    Rollback {
        /// The document's generation.
        found: u64,
        /// The lowest accepted.
        pinned: u64,
    },
    /// A master-key file that another user owns.
    #[error(
        "{path} belongs to user {owner}, not to this process's user {euid}; a key file anyone else could have written is refused (chown it, or create a new one)"
    )]
    ForeignOwner {
        /// The file.
        path: PathBuf,
        /// Its owner's uid.
        owner: u32,
        /// The effective uid of this process.
        euid: u32,
    },
    /// A keyring is wrapped by another provider than the one configured.
    #[error("the keyring is wrapped by the {document} provider, but {configured} is configured")]
    ProviderMismatch {
        /// The provider the document names.
        document: String,
        /// The provider configured.
        configured: &'static str,
    },
    /// There is no keyring where one was expected.
    #[error("no keyring in {0}; create one with `fieldcrypt keyring init`")]
    NoKeyring(String),
    /// Someone else changed the stored keyring since it was read; nothing was written.
    #[error("{0} changed since it was read; nothing was written (reload and retry)")]
    Conflict(String),
    /// A stored keyring could not be read or written.
    #[error("{store}: {reason}")]
    Store {
        /// The store.
        store: String,
        /// Why.
        reason: String,
    },
    /// A provider that derives keys from something guessable needs a key-committing suite.
    #[error("the {0} provider requires a key-committing suite (kc-xaes-256-gcm) for every key")]
    CommittingSuiteRequired(&'static str),
    /// The keyring refused the operation (wrong KEK, damaged document, ...).
    #[error(transparent)]
    Core(#[from] fieldcrypt::Error),
}

impl KmsError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| KmsError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
