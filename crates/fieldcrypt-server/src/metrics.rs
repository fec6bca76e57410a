//! Prometheus metrics at `/metrics`: requests and their latency by route and status, denials by
//! reason, budget refusals by column, audit entries, failures and lag. No label carries a value
//! or a token; principals appear only on budget refusals, which an operator must act on.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Route and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The matched route.
    pub route: String,
    /// The HTTP status.
    pub status: u16,
}

/// A route.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The matched route.
    pub route: String,
}

/// Why something was refused.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `unauthenticated`, `denied`, `rate-limited`.
    pub reason: String,
}

/// Who hit which budget.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BudgetLabels {
    /// The principal.
    pub principal: String,
    /// `table.column`.
    pub column: String,
}

/// Every metric the server keeps.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Requests answered.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency.
    pub latency: Family<RouteLabels, Histogram>,
    /// Refusals before any key is used.
    pub denials: Family<ReasonLabels, Counter>,
    /// Opens refused by a budget.
    pub budget_refusals: Family<BudgetLabels, Counter>,
    /// Entries stored.
    pub audit_entries: Counter,
    /// Batches the sink refused.
    pub audit_failures: Counter,
    /// Time to store a batch.
    pub audit_write_seconds: Histogram,
    /// Entries waiting to be stored.
    pub audit_pending: Gauge,
    /// Items handled, by operation.
    pub items: Family<RouteLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Metrics {
    /// A registry with every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("fieldcrypt_server");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram);
        let denials = Family::<ReasonLabels, Counter>::default();
        let budget_refusals = Family::<BudgetLabels, Counter>::default();
        let audit_entries = Counter::default();
        let audit_failures = Counter::default();
        let audit_write_seconds = latency_histogram();
        let audit_pending = Gauge::default();
        let items = Family::<RouteLabels, Counter>::default();
        registry.register("requests", "HTTP requests answered", requests.clone());
        registry.register(
            "request_duration_seconds",
            "Request latency",
            latency.clone(),
        );
        registry.register(
            "denials",
            "Requests or items refused before any key is used",
            denials.clone(),
        );
        registry.register(
            "budget_refusals",
            "Opens refused by a decrypt budget",
            budget_refusals.clone(),
        );
        registry.register(
            "audit_entries",
            "Audit entries stored",
            audit_entries.clone(),
        );
        registry.register(
            "audit_failures",
            "Audit batches the sink refused",
            audit_failures.clone(),
        );
        registry.register(
            "audit_write_seconds",
            "Time to store one audit batch",
            audit_write_seconds.clone(),
        );
        registry.register(
            "audit_pending_entries",
            "Audit entries queued and not yet stored (the audit lag)",
            audit_pending.clone(),
        );
        registry.register("items", "Batch items handled, by operation", items.clone());
        Self {
            registry,
            requests,
            latency,
            denials,
            budget_refusals,
            audit_entries,
            audit_failures,
            audit_write_seconds,
            audit_pending,
            items,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts a refusal.
    pub fn deny(&self, reason: &str) {
        self.denials
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
