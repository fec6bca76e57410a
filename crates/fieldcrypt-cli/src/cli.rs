//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Field-level encryption for database columns: keyrings, sealing, blind indexes.
#[derive(Parser, Debug)]
#[command(name = "fieldcrypt", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Create, rotate and inspect keyrings.
    #[command(subcommand)]
    Keyring(KeyringCommand),
    /// Seal stdin's value; print the text envelope.
    Seal(SealArgs),
    /// Open a text (or binary) envelope from stdin; print the plaintext.
    Open(OpenArgs),
    /// Print the blind index of stdin's value.
    Index(IndexArgs),
    /// Pick a blind index's bit length from row count and distinct values.
    PlanIndex(PlanArgs),
    /// Time sealing and opening against raw AES-256-GCM in this process.
    Bench(BenchArgs),
    /// A guided tour: creates a keyring and master key on first run, seals typed values with
    /// context, and shows what the database holds beside what the application sees.
    Walkthrough(WalkthroughArgs),
    /// Encrypt a plaintext column in place (text or binary) or into another column, online:
    /// batches, compare-and-swap on the old value, resumable after any crash, verified.
    EncryptColumn(ColumnArgs),
    /// Re-seal every value still under a non-primary key, found by its key-id prefix.
    Rotate(ColumnArgs),
    /// Decrypt a column back to plaintext (in place or into another column), for a rollback.
    DecryptColumn(ColumnArgs),
    /// Recompute a blind-index column under the keyring's primary index root (after
    /// `keyring rotate --index-root`), writing only the rows whose value changes.
    Reindex(ColumnArgs),
    /// Report the state of a table's encrypted columns: plaintext left, unknown or retired key
    /// ids, values that do not open. Read-only; exit code 0 only when clean.
    Doctor(DoctorArgs),
    /// Take over values another library encrypted: re-seal them in fieldcrypt's format through
    /// the same online, resumable, verified job as encrypt-column.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Check fieldcrypt-server's decrypt trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Seal or open whole files in the stream format (any size, constant memory).
    #[command(subcommand)]
    File(FileCommand),
    /// Back a database up into one encrypted file: `fieldcrypt backup --database-url URL --out
    /// FILE` (pg_dump, mariadb-dump or SQLite's backup API, streamed: no dump is ever written in
    /// clear), or check one: `fieldcrypt backup verify FILE`.
    Backup(BackupArgs),
    /// Restore an encrypted backup into a database. The whole file is verified first; nothing
    /// is touched when it does not verify.
    Restore(RestoreArgs),
}

/// `file`.
#[derive(Subcommand, Debug)]
pub(crate) enum FileCommand {
    /// Seal a file (or stdin) into a sealed stream.
    Seal(FileArgs),
    /// Open a sealed stream back into the file. Written to a temporary file and renamed, so a
    /// stream that fails anywhere, even at its very end, leaves no output file; to stdout,
    /// only authenticated chunks are written and the exit code says whether the end was
    /// reached.
    Open(FileArgs),
}

/// `file seal`, `file open`.
#[derive(Args, Debug)]
pub(crate) struct FileArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    /// The input file; stdin when absent or `-`.
    pub(crate) input: Option<PathBuf>,
    /// The output file (written whole or not at all); stdout when absent or `-`.
    #[arg(long, short)]
    pub(crate) out: Option<PathBuf>,
    /// Bind the stream to where the file belongs: `TABLE.COLUMN[:ROW]`. Files that Django's
    /// EncryptedStorage stores use STORAGE.file:NAME (e.g. `uploads.file:scans/a.pdf`).
    #[arg(long)]
    pub(crate) context: Option<String>,
    /// Chunk size in KiB when sealing (1 to 1024).
    #[arg(long, default_value_t = 64)]
    pub(crate) chunk_kib: u32,
}

/// `backup`, `backup verify FILE`.
#[derive(Args, Debug)]
pub(crate) struct BackupArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    /// `verify` to check a backup file instead of taking one.
    #[arg(value_parser = ["verify"])]
    pub(crate) action: Option<String>,
    /// With `verify`: the backup file.
    pub(crate) file: Option<PathBuf>,
    /// The database: postgres://…, mysql://… or mariadb://…, sqlite://PATH. A password in it is
    /// passed to the dump tool through its environment, never its command line.
    #[arg(long, env = "DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// The backup file to write (whole or not at all), or `-` for stdout (a pipe to off-site
    /// storage; a failed run then exits non-zero and leaves a stream that never verifies).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `restore`.
#[derive(Args, Debug)]
pub(crate) struct RestoreArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    /// The backup file.
    pub(crate) file: PathBuf,
    /// The database to restore into (same kinds of URL as `backup`); its objects that the
    /// backup holds are replaced.
    #[arg(long, env = "DATABASE_URL")]
    pub(crate) database_url: String,
}

/// `audit`.
#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Verify a decrypt trail offline with the public key alone: every entry linked to the one
    /// before it, no gap, repeat or reordering, every checkpoint signed, nothing after the last
    /// checkpoint. Exit code 0 only when clean, 10 with each finding listed.
    Verify(AuditVerifyArgs),
}

/// `audit verify`.
#[derive(Args, Debug)]
pub(crate) struct AuditVerifyArgs {
    /// The trail's public key (`*.pub.pem` from `fieldcrypt-server audit-keygen`).
    #[arg(long)]
    pub(crate) public_key: std::path::PathBuf,
    /// A trail file (the server's `file` sink).
    #[arg(
        long,
        conflicts_with = "database_url",
        required_unless_present = "database_url"
    )]
    pub(crate) file: Option<std::path::PathBuf>,
    /// A PostgreSQL database holding the `fieldcrypt_audit` table (the `postgres` sink).
    #[arg(long, env = "FIELDCRYPT_AUDIT_DATABASE_URL")]
    pub(crate) database_url: Option<String>,
    /// Accept entries after the last checkpoint (a live trail between checkpoints); they are
    /// still listed.
    #[arg(long)]
    pub(crate) allow_unsigned_tail: bool,
}

/// `import`.
#[derive(Subcommand, Debug)]
pub(crate) enum ImportCommand {
    /// A column a Django field-encryption library wrote. The Django settings come from
    /// environment variables named as in Django (SECRET_KEY, FIELD_ENCRYPTION_KEY, ...; a list
    /// as a JSON array) or from --settings FILE; never from arguments, which other users can
    /// read in the process list. Rows that do not read are listed and left as they are.
    Django(ImportDjangoArgs),
}

/// `import django`.
#[derive(Args, Debug)]
pub(crate) struct ImportDjangoArgs {
    #[command(flatten)]
    pub(crate) job: ColumnArgs,
    /// The library: encrypted-model-fields, fernet-fields, fernet-encrypted-fields,
    /// cryptography, cryptbase or searchable.
    #[arg(long)]
    pub(crate) flavor: String,
    /// The Django field's kind, which decides the type the value is sealed as: text, integer,
    /// boolean, date, datetime, decimal, float or json.
    #[arg(long, default_value = "text")]
    pub(crate) kind: String,
    /// A JSON file of Django settings by their Django names (a value or a list of values); it
    /// takes precedence over the environment.
    #[arg(long)]
    pub(crate) settings: Option<PathBuf>,
    /// The zone naive datetimes were written in (Django's connection zone: UTC under USE_TZ on
    /// SQLite and MySQL), e.g. Europe/Paris.
    #[arg(long, default_value = "UTC")]
    pub(crate) naive_time_zone: String,
    /// Take a value that is not in the library's format at all as plaintext, as
    /// encrypted-model-fields does on read (rows written before the field was encrypted). A
    /// value in the format that does not verify is never taken as plaintext.
    #[arg(long)]
    pub(crate) accept_plaintext: bool,
}

/// `doctor`.
#[derive(Args, Debug)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    pub(crate) on: TableArgs,
    /// Check a blind-index column too: COLUMN=INDEX_COLUMN:NORMALISERS:BITS, e.g.
    /// email=email_idx:nfkc,trim,casefold:16 (repeatable).
    #[arg(long)]
    pub(crate) index: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The keyring, the database and the table a job or report works on.
#[derive(Args, Debug)]
pub(crate) struct TableArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    /// postgres://, mysql:// (MariaDB too) or sqlite: URL.
    #[arg(long, env = "DATABASE_URL")]
    pub(crate) database_url: String,
    /// The table.
    #[arg(long)]
    pub(crate) table: String,
    /// The primary key column (default: the table's single-column primary key).
    #[arg(long)]
    pub(crate) pk: Option<String>,
}

/// One column job (`encrypt-column`, `rotate`, `decrypt-column`).
#[derive(Args, Debug)]
pub(crate) struct ColumnArgs {
    #[command(flatten)]
    pub(crate) on: TableArgs,
    /// The column read.
    #[arg(long)]
    pub(crate) column: String,
    /// Write into this (existing) column instead of in place; a row is pending while it is NULL.
    #[arg(long)]
    pub(crate) into: Option<String>,
    /// The `table.column` bound into envelopes (default: the table and the encrypted column).
    #[arg(long)]
    pub(crate) context: Option<String>,
    /// Bind every envelope to its row's primary key too (fieldcrypt_sqlx::Sealed).
    #[arg(long)]
    pub(crate) bind_row: bool,
    /// A blind-index column to fill (encrypt-column) or recompute (reindex):
    /// COLUMN:NORMALISERS:BITS, e.g. email_idx:nfkc,trim,casefold:16 (a BIGINT column).
    #[arg(long)]
    pub(crate) index: Option<String>,
    /// Rows per batch (one read and one compare-and-swap statement each).
    #[arg(long, default_value_t = 1000)]
    pub(crate) batch: usize,
    /// Batch writes in flight at once, each on its own connection.
    #[arg(long, default_value_t = 3)]
    pub(crate) parallel: usize,
    /// At most this many rows written per second.
    #[arg(long)]
    pub(crate) rows_per_sec: Option<f64>,
    /// Check the columns and count what would change; write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Passes over the table at most (later passes take rows that changed under the job).
    #[arg(long, default_value_t = 10)]
    pub(crate) max_passes: u32,
    /// Work on one shard of the table, I/N (e.g. 2/4): start N processes, on one machine or
    /// several, one per shard. The first to start stores the key ranges in fieldcrypt_shards.
    #[arg(long)]
    pub(crate) shard: Option<fieldcrypt_migrate::Shard>,
    /// With --dry-run: the key ranges of N shards and the rows pending in each.
    #[arg(long, requires = "dry_run", conflicts_with = "shard")]
    pub(crate) shards: Option<u32>,
}

/// The providers' names, as documents record them.
pub(crate) use fieldcrypt_kms::configured::PROVIDERS;

#[derive(Args, Debug, Clone)]
pub(crate) struct KeyringArg {
    /// The keyring file.
    #[arg(long, env = "FIELDCRYPT_KEYRING")]
    pub(crate) keyring: PathBuf,
    #[command(flatten)]
    pub(crate) provider: ProviderConfig,
    /// Refuse a keyring wrapped by any other provider than this one (without it, the provider
    /// the document names is used, configured from the options below).
    #[arg(long, env = "FIELDCRYPT_PROVIDER", help_heading = "Pins", value_parser = PROVIDERS)]
    pub(crate) expect_provider: Option<String>,
    /// Refuse any keyring but this one (its id: 32 hex digits, as `keyring list` shows).
    #[arg(long, env = "FIELDCRYPT_KEYRING_ID", help_heading = "Pins")]
    pub(crate) keyring_id: Option<String>,
    /// Refuse a keyring document older than this generation (a restored or rolled-back copy;
    /// commands that change the keyring print the new generation).
    #[arg(long, env = "FIELDCRYPT_KEYRING_MIN_GENERATION", help_heading = "Pins")]
    pub(crate) min_generation: Option<u64>,
}

/// Where the provider's key is and how to reach it. Configuration only: the keyring document
/// records the same settings, and they are compared with these (a mismatch is refused before
/// the provider is called), never followed. Secrets come from the environment.
#[derive(Args, Debug, Clone)]
#[command(
    next_help_heading = "Key provider (configuration; the keyring document is checked against it)"
)]
pub(crate) struct ProviderConfig {
    /// local provider: the master-key file (default: fieldcrypt/master.key in the user's
    /// configuration directory).
    #[arg(long, env = "FIELDCRYPT_MASTER_KEY")]
    pub(crate) master_key: Option<PathBuf>,
    /// env provider: the variable holding the key.
    #[arg(
        long,
        env = "FIELDCRYPT_KEY_VARIABLE",
        default_value = "FIELDCRYPT_KEK"
    )]
    pub(crate) key_variable: String,
    /// passphrase provider: the variable holding the passphrase.
    #[arg(
        long,
        env = "FIELDCRYPT_PASSPHRASE_ENV",
        default_value = "FIELDCRYPT_PASSPHRASE"
    )]
    pub(crate) passphrase_variable: String,
    /// vault provider: the server address (token from VAULT_TOKEN or BAO_TOKEN, or AppRole from
    /// VAULT_ROLE_ID and VAULT_SECRET_ID).
    #[arg(long, env = "VAULT_ADDR")]
    pub(crate) vault_addr: Option<String>,
    /// vault provider: the Transit mount.
    #[arg(long, env = "FIELDCRYPT_VAULT_MOUNT", default_value = "transit")]
    pub(crate) vault_mount: String,
    /// vault provider: the Transit key's name.
    #[arg(long, env = "FIELDCRYPT_VAULT_KEY")]
    pub(crate) vault_key: Option<String>,
    /// vault provider: a PEM CA certificate to trust.
    #[arg(long, env = "VAULT_CACERT")]
    pub(crate) vault_ca_cert: Option<PathBuf>,
    /// aws-kms provider: the KMS key (key id, key ARN, alias/NAME or alias ARN). Credentials
    /// come from the AWS SDK's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, instance role, ...).
    #[arg(long, env = "FIELDCRYPT_AWS_KMS_KEY")]
    pub(crate) aws_kms_key: Option<String>,
    /// aws-kms provider: the region (default: the key ARN's, else AWS_REGION or the profile's).
    #[arg(long)]
    pub(crate) aws_region: Option<String>,
    /// aws-kms provider: another endpoint (a VPC endpoint, a test stand-in); default: AWS's own,
    /// or AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL.
    #[arg(long)]
    pub(crate) aws_endpoint: Option<String>,
}

impl ProviderConfig {
    /// Nothing configured beyond the defaults, and the local master key at `master_key`.
    pub(crate) fn local(master_key: Option<PathBuf>) -> Self {
        Self {
            master_key,
            key_variable: fieldcrypt_kms::InProcessConfig::default().key_variable,
            passphrase_variable: fieldcrypt_kms::InProcessConfig::default().passphrase_variable,
            vault_addr: None,
            vault_mount: "transit".to_owned(),
            vault_key: None,
            vault_ca_cert: None,
            aws_kms_key: None,
            aws_region: None,
            aws_endpoint: None,
        }
    }

    /// The part the in-process providers (local, env, passphrase) read.
    pub(crate) fn in_process(&self) -> fieldcrypt_kms::InProcessConfig {
        fieldcrypt_kms::InProcessConfig {
            master_key: self.master_key.clone(),
            key_variable: self.key_variable.clone(),
            passphrase_variable: self.passphrase_variable.clone(),
        }
    }
}

/// The provider that wraps a new keyring (`init`) or will wrap it (`rewrap`).
#[derive(Args, Debug)]
pub(crate) struct ProviderArgs {
    /// local: a master-key file (--master-key); env: a base64url key in --key-variable;
    /// passphrase: Argon2id over the passphrase in --passphrase-variable; vault: a Transit key
    /// (build with --features vault); aws-kms: a KMS key (build with --features aws-kms).
    #[arg(long, default_value = "local", value_parser = PROVIDERS)]
    pub(crate) provider: String,
}

/// Where a rewrap's target provider key is; each defaults to the configuration above.
#[derive(Args, Debug)]
#[command(next_help_heading = "Rewrap target (each defaults to the key provider configuration)")]
pub(crate) struct RewrapTarget {
    /// The master-key file of a local target (default: the user's configuration directory).
    #[arg(long)]
    pub(crate) to_master_key: Option<PathBuf>,
    /// The variable of an env target.
    #[arg(long)]
    pub(crate) to_key_variable: Option<String>,
    /// The variable holding a passphrase target's passphrase.
    #[arg(long)]
    pub(crate) to_passphrase_variable: Option<String>,
    /// The Vault address of a vault target.
    #[arg(long)]
    pub(crate) to_vault_addr: Option<String>,
    /// The Transit mount of a vault target.
    #[arg(long)]
    pub(crate) to_vault_mount: Option<String>,
    /// The Transit key of a vault target.
    #[arg(long)]
    pub(crate) to_vault_key: Option<String>,
    /// The KMS key of an aws-kms target.
    #[arg(long)]
    pub(crate) to_aws_kms_key: Option<String>,
    /// The region of an aws-kms target.
    #[arg(long)]
    pub(crate) to_aws_region: Option<String>,
}

impl RewrapTarget {
    /// The target's configuration: each given value over `source`'s. The local master key
    /// defaults to the user's configuration directory, not to the source's file.
    pub(crate) fn over(&self, source: &ProviderConfig) -> ProviderConfig {
        let pick = |to: &Option<String>, from: &Option<String>| to.clone().or_else(|| from.clone());
        ProviderConfig {
            master_key: self.to_master_key.clone(),
            key_variable: self
                .to_key_variable
                .clone()
                .unwrap_or_else(|| source.key_variable.clone()),
            passphrase_variable: self
                .to_passphrase_variable
                .clone()
                .unwrap_or_else(|| source.passphrase_variable.clone()),
            vault_addr: pick(&self.to_vault_addr, &source.vault_addr),
            vault_mount: self
                .to_vault_mount
                .clone()
                .unwrap_or_else(|| source.vault_mount.clone()),
            vault_key: pick(&self.to_vault_key, &source.vault_key),
            vault_ca_cert: source.vault_ca_cert.clone(),
            aws_kms_key: pick(&self.to_aws_kms_key, &source.aws_kms_key),
            aws_region: pick(&self.to_aws_region, &source.aws_region),
            aws_endpoint: source.aws_endpoint.clone(),
        }
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum KeyringCommand {
    /// Create a new keyring under a provider (the local one creates its master-key file if
    /// there is none yet).
    Init {
        #[command(flatten)]
        keyring: KeyringArg,
        #[command(flatten)]
        provider: ProviderArgs,
        /// Suite of the first data key.
        #[arg(long, default_value = "kc-xaes-256-gcm", value_parser = ["kc-xaes-256-gcm", "xaes-256-gcm"])]
        suite: String,
    },
    /// Move the keyring under another provider or another provider key: a new document KEK,
    /// written all or nothing; no data key changes and no row is rewritten.
    Rewrap {
        #[command(flatten)]
        keyring: KeyringArg,
        #[command(flatten)]
        to: ProviderArgs,
        #[command(flatten)]
        target: RewrapTarget,
        /// Keep the KEK and provider; move the wrapping to the newest version of the same
        /// provider key (after rotating the key in KMS or Transit, before retiring old versions).
        #[arg(long, conflicts_with_all = ["provider", "to_master_key"])]
        newest_key_version: bool,
    },
    /// Report what a misconfiguration would cost: readable key files, a key beside the data,
    /// a plaintext key in the environment. Exit code 0 only when nothing is found.
    Check {
        #[command(flatten)]
        keyring: KeyringArg,
        /// The application's database URL, to tell whether keys sit beside a SQLite file.
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// Also open the keyring through its provider (needs its secrets).
        #[arg(long)]
        unwrap: bool,
    },
    /// Add a new primary data key; older keys stay for opening.
    Rotate {
        #[command(flatten)]
        keyring: KeyringArg,
        /// Rotate the blind-index root instead of the data key.
        #[arg(long)]
        index_root: bool,
    },
    /// Destroy a non-primary key's material (its id stays reserved) and rewrap the keyring
    /// under a fresh key-encryption key. Older copies of the keyring still hold the key until
    /// the provider key that wrapped them is destroyed too (docs/KEYS.md).
    Retire {
        #[command(flatten)]
        keyring: KeyringArg,
        /// The key id.
        #[arg(long)]
        key: u32,
    },
    /// List keys: ids, suites, states, creation times. Needs no master key; prints no secret.
    List {
        /// The keyring file.
        #[arg(long, env = "FIELDCRYPT_KEYRING")]
        keyring: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub(crate) struct ContextArgs {
    /// Where the value lives: TABLE.COLUMN, or TABLE.COLUMN:ROW to bind it to a row.
    #[arg(long)]
    pub(crate) context: String,
    /// Bind the value to a tenant as well.
    #[arg(long)]
    pub(crate) tenant: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct SealArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
    /// How to read stdin: string, bytes, int, float, bool, date, timestamp, decimal, json.
    #[arg(long = "type", default_value = "string")]
    pub(crate) value_type: String,
    /// Keep a final newline (by default one trailing "\n" or "\r\n" is dropped).
    #[arg(long)]
    pub(crate) keep_newline: bool,
}

#[derive(Args, Debug)]
pub(crate) struct OpenArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    #[command(flatten)]
    pub(crate) context: ContextArgs,
    /// Refuse values of any other type (exit 5).
    #[arg(long = "type")]
    pub(crate) value_type: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct IndexArgs {
    #[command(flatten)]
    pub(crate) keyring: KeyringArg,
    /// The index: NAME, or TABLE.COLUMN.NAME.
    #[arg(long)]
    pub(crate) index: String,
    /// Bits to keep (see `fieldcrypt plan-index`).
    #[arg(long)]
    pub(crate) bits: u16,
    /// Normalisers, in order: any of trim, casefold, nfkc, digits.
    #[arg(long, default_value = "")]
    pub(crate) normalize: String,
    /// Print the index as a decimal integer (indexes of at most 64 bits) instead of hex.
    #[arg(long)]
    pub(crate) int: bool,
}

#[derive(Args, Debug)]
pub(crate) struct PlanArgs {
    /// Rows in the table (or expected).
    #[arg(long)]
    pub(crate) rows: u64,
    /// Distinct values in the column (or expected).
    #[arg(long)]
    pub(crate) distinct: u64,
    /// Bits already spent by other blind indexes on the same field.
    #[arg(long, default_value_t = 0)]
    pub(crate) other_bits: u16,
}

#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Seconds to spend on each measurement.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Also measure seal + open at these value sizes in bytes (comma-separated, e.g.
    /// `16,64,1024`): raw AES-256-GCM, the envelope value by value, and in a batch.
    #[arg(long, value_delimiter = ',')]
    pub(crate) sizes: Vec<usize>,
}

#[derive(Args, Debug)]
pub(crate) struct WalkthroughArgs {
    /// Directory for the demo keyring and master key.
    #[arg(long, default_value = ".fieldcrypt-demo")]
    pub(crate) dir: PathBuf,
}
