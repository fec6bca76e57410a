//! What every request shares, and how it is built from the configuration.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fieldcrypt::{ColumnIndex, IndexDefinition, Normalizer};
use fieldcrypt_audit::file::FileSink;
use fieldcrypt_audit::postgres::PgSink;
use fieldcrypt_audit::{Chain, SigningKey, VerifyingKey};
use fieldcrypt_kms::ManagedKeyring;

use crate::audit::{AuditLog, CheckpointPolicy, Sink};
use crate::auth::Principals;
use crate::config::{Config, SinkKind};
use crate::limits::Counters;
use crate::metrics::Metrics;
use crate::policy::Policy;

/// The request's id, set by the middleware and answered in `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The SHA-256 (hex) of the client certificate the connection presented, if any.
#[derive(Debug, Clone, Default)]
pub struct ClientCert(pub Option<String>);

/// Where the admin page reads the trail from.
#[derive(Debug, Clone)]
pub enum TrailSource {
    /// The shared table.
    Postgres(PgSink),
    /// The local file.
    File(std::path::PathBuf),
}

/// Everything a handler needs.
#[derive(Debug)]
pub struct AppState {
    /// The configuration as loaded.
    pub config: Config,
    /// Who may call.
    pub principals: Principals,
    /// What they may do.
    pub policy: Policy,
    /// The keyring, cached.
    pub keys: ManagedKeyring,
    /// Blind-index definitions by `table.column`.
    pub indexes: HashMap<String, ColumnIndex>,
    /// The trail writer.
    pub audit: AuditLog,
    /// Where the trail can be read back.
    pub trail: TrailSource,
    /// The key that checks the trail's checkpoints.
    pub verifying_key: VerifyingKey,
    /// Budget and rate counters.
    pub counters: Counters,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The webhook client, when `[alerts] webhook` is set.
    pub webhook: Option<(reqwest::Client, String)>,
    /// Permits for requests in flight (`server.max_in_flight_requests`).
    pub in_flight: tokio::sync::Semaphore,
}

/// What start-up can fail on.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The keyring.
    #[error("opening the keyring: {0}")]
    Keys(#[from] fieldcrypt_kms::KmsError),
    /// The audit sink or key.
    #[error("audit: {0}")]
    Audit(#[from] fieldcrypt_audit::AuditError),
    /// The database.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Something else in the configuration.
    #[error("{0}")]
    Config(String),
}

impl AppState {
    /// Builds the state: opens the keyring (a provider call), connects to the database,
    /// resumes this replica's chain and starts the trail writer.
    pub async fn build(
        config: Config,
    ) -> Result<(Arc<Self>, tokio::task::JoinHandle<()>), StartError> {
        let metrics = Arc::new(Metrics::new());
        let keys = crate::keys::open(&config.keys).await?;
        let pool = match &config.database {
            Some(db) => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(db.max_connections)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(&db.url)
                    .await?,
            ),
            None => None,
        };
        let counters = match &pool {
            Some(pool) => Counters::postgres(pool.clone()).await?,
            None => Counters::memory(),
        };
        let key_text = std::fs::read_to_string(&config.audit.signing_key).map_err(|e| {
            StartError::Config(format!(
                "reading audit.signing_key {}: {e}",
                config.audit.signing_key.display()
            ))
        })?;
        let signing_key = SigningKey::from_pem(&key_text)?;
        let verifying_key = signing_key.verifying_key().clone();
        let replica = config.replica();
        let (sink, trail, last) = match config.audit.sink {
            SinkKind::Postgres => {
                let pool = pool.clone().ok_or_else(|| {
                    StartError::Config("the postgres sink needs [database]".into())
                })?;
                let sink = PgSink::new(pool);
                sink.create_table().await?;
                let last = sink.last_entry(&replica).await?;
                (
                    Sink::Postgres(sink.clone()),
                    TrailSource::Postgres(sink),
                    last,
                )
            }
            SinkKind::File => {
                let path =
                    config.audit.path.clone().ok_or_else(|| {
                        StartError::Config("the file sink needs audit.path".into())
                    })?;
                let last = FileSink::last_entry(&path, &replica)?;
                let sink = FileSink::open(&path, config.audit.sync)?;
                (Sink::File(sink), TrailSource::File(path), last)
            }
        };
        let chain = Chain::resume(replica, last.as_ref());
        let (audit, writer) = AuditLog::start(
            chain,
            sink,
            signing_key,
            CheckpointPolicy {
                every: config.audit.checkpoint_every,
                interval: Duration::from_secs(config.audit.checkpoint_seconds),
            },
            Arc::clone(&metrics),
        );
        let mut indexes = HashMap::new();
        for i in &config.indexes {
            let normalizers = Normalizer::parse_list(&i.normalize)
                .map_err(|e| StartError::Config(format!("index {}: {e}", i.name)))?;
            let definition =
                IndexDefinition::new(&i.table, &i.column, &i.name, i.bits).normalized(normalizers);
            let index = ColumnIndex::new(definition)
                .map_err(|e| StartError::Config(format!("index {}: {e}", i.name)))?;
            indexes.insert(format!("{}.{}", i.table, i.column), index);
        }
        let webhook = config.alerts.webhook.clone().map(|url| {
            (
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .build()
                    .unwrap_or_default(),
                url,
            )
        });
        // Expired counter windows go, hourly: a day past the longest budget window.
        let keep = config
            .budgets
            .iter()
            .map(|b| b.window_seconds)
            .max()
            .unwrap_or(0)
            + 86_400;
        let in_flight = tokio::sync::Semaphore::new(config.server.max_in_flight_requests.max(1));
        let state = Arc::new(Self {
            in_flight,
            principals: Principals::new(config.principals.clone()),
            policy: Policy::new(
                config.rules.clone(),
                config.masks.clone(),
                config.budgets.clone(),
            ),
            config,
            keys,
            indexes,
            audit,
            trail,
            verifying_key,
            counters,
            metrics,
            webhook,
        });
        let pruning = Arc::downgrade(&state);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let Some(state) = pruning.upgrade() else {
                    break;
                };
                state.counters.prune(keep).await;
            }
        });
        Ok((state, writer))
    }

    /// Raises a budget alert on the webhook, in the background (the log line and the metric are
    /// the caller's).
    pub fn alert(&self, principal: &str, column: &str, limit: u64, window_seconds: u64) {
        let Some((client, url)) = &self.webhook else {
            return;
        };
        let body = serde_json::json!({
            "event": "decrypt-budget-exceeded",
            "principal": principal,
            "column": column,
            "limit": limit,
            "window_seconds": window_seconds,
            "time": fieldcrypt::Timestamp::now().to_string(),
        });
        let request = client.post(url).json(&body);
        tokio::spawn(async move {
            if let Err(e) = request
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
            {
                tracing::error!(error = %e, "the alert webhook did not take the alert");
            }
        });
    }

    /// Whether the keys are unwrapped and the trail is writable (`/readyz`).
    pub async fn ready(&self) -> (bool, bool) {
        let keys = self.keys.get().await.is_ok();
        let sink = self.audit.healthy()
            && match &self.trail {
                TrailSource::Postgres(p) => p.writable().await,
                TrailSource::File(path) => {
                    std::fs::OpenOptions::new().append(true).open(path).is_ok()
                }
            };
        (keys, sink)
    }
}
