//! `/v1`: seal, open, mask (open-masked) and blind-index, each over a batch of items.
//!
//! Every request goes through the same steps: authenticate, rate-limit, bound the
//! batch, check each item's context and the policy, spend decrypt budgets, use the keys, and
//! for opens and refusals append to the trail before answering. The answer is per item; the
//! HTTP status says whether all items succeeded (200), some did (207), all were refused by the
//! policy (403) or a budget (429), or the keys, the counters or the trail were unavailable
//! (503, and no value is returned). A request refused as a whole (authentication, rate,
//! malformed body, batch size) gets an [`ErrorBody`] instead.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fieldcrypt::{Context, Envelope, RowKey, Value};
use fieldcrypt_audit::Event;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::{Operation, Principal};
use crate::limits::Take;
use crate::policy::{Denial, mask};
use crate::state::{AppState, ClientCert, RequestId};
use crate::values;

/// A row key or tenant: an integer or a string (a UUID as its hyphenated lower-case text).
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "serde_json::Value")]
pub enum Key {
    /// An integer id.
    Int(i64),
    /// A string id.
    Text(String),
}

/// [`Key`] as the OpenAPI document describes it: an integer or a string.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documentation only
pub enum KeyDoc {
    /// An integer id.
    Int(i64),
    /// A string id.
    Text(String),
}

impl TryFrom<serde_json::Value> for Key {
    type Error = &'static str;
    /// An integer in the i64 range, also written as a float with no fraction (JSON Schema's
    /// integers; such floats only below 2^53, where they are exact), or a string.
    fn try_from(value: serde_json::Value) -> Result<Self, Self::Error> {
        const NOT: &str = "a row key or tenant is an integer or a string";
        match value {
            serde_json::Value::String(s) => Ok(Key::Text(s)),
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(Key::Int(i)),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
                    Ok(Key::Int(f as i64))
                }
                _ => Err(NOT),
            },
            _ => Err(NOT),
        }
    }
}

impl Key {
    fn row_key(&self) -> RowKey {
        match self {
            Key::Int(i) => RowKey::from(i.to_string()),
            Key::Text(s) => RowKey::from(s.as_str()),
        }
    }
    fn text(&self) -> String {
        match self {
            Key::Int(i) => i.to_string(),
            Key::Text(s) => s.clone(),
        }
    }
}

/// Where a value belongs: the context it is sealed under.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The row, when the value is bound to one.
    #[serde(default)]
    #[schema(value_type = Option<KeyDoc>)]
    pub row: Option<Key>,
    /// The tenant.
    #[serde(default)]
    #[schema(value_type = Option<KeyDoc>)]
    pub tenant: Option<Key>,
}

/// A value to seal.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealItem {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The row, when the value is bound to one.
    #[serde(default)]
    #[schema(value_type = Option<KeyDoc>)]
    pub row: Option<Key>,
    /// The tenant.
    #[serde(default)]
    #[schema(value_type = Option<KeyDoc>)]
    pub tenant: Option<Key>,
    /// The value: a string, number, boolean or JSON document, or with `type` bytes (base64),
    /// a date, timestamp or decimal (text).
    pub value: serde_json::Value,
    /// string, bytes, int, float, bool, date, timestamp, decimal or json; inferred when absent.
    #[serde(default, rename = "type")]
    pub value_type: Option<String>,
}

/// `POST /v1/seal`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealRequest {
    /// Why the caller asks (checked against the policy, recorded in the trail).
    #[serde(default)]
    pub purpose: Option<String>,
    /// The values.
    #[schema(min_items = 1)]
    pub items: Vec<SealItem>,
}

/// An envelope to open.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenItem {
    /// The table.
    pub table: String,
    /// The column.
    pub column: String,
    /// The row it was sealed for.
    #[serde(default)]
    #[schema(value_type = Option<KeyDoc>)]
    pub row: Option<Key>,
    /// The tenant it was sealed for.
    #[serde(default)]
    #[schema(value_type = Option<KeyDoc>)]
    pub tenant: Option<Key>,
    /// The envelope in its text form (`fc1…`), as seal answers it.
    pub envelope: String,
}

/// `POST /v1/open` and `POST /v1/mask`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// Why the caller asks.
    #[serde(default)]
    pub purpose: Option<String>,
    /// The envelopes.
    #[schema(min_items = 1)]
    pub items: Vec<OpenItem>,
}

/// A value to compute a blind index of.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexItem {
    /// The table.
    pub table: String,
    /// The column (an `[[index]]` of the configuration names it).
    pub column: String,
    /// The value, as text (numbers are taken as their decimal text).
    pub value: serde_json::Value,
}

/// `POST /v1/blind-index`
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexRequest {
    /// Why the caller asks.
    #[serde(default)]
    pub purpose: Option<String>,
    /// The values.
    #[schema(min_items = 1)]
    pub items: Vec<IndexItem>,
}

/// Why an item failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemError {
    /// `denied`, `budget`, `invalid-context`, `invalid-value`, `not-opened`, `unknown-index`,
    /// `keys-unavailable`, `audit-unavailable`, `limits-unavailable`.
    pub code: &'static str,
    /// A sentence; never a value.
    pub message: String,
}

/// One item's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemResult {
    /// `ok` or `error`.
    pub status: &'static str,
    /// seal: the envelope's text form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    /// open, mask: the value (masked: always a string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// open: the value's type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub value_type: Option<&'static str>,
    /// blind-index: the value to store and to query by.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<i64>,
    /// blind-index: every value to query by while an index root rotates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookup: Option<Vec<i64>>,
    /// Why the item failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

impl ItemResult {
    fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: "error",
            envelope: None,
            value: None,
            value_type: None,
            index: None,
            lookup: None,
            error: Some(ItemError {
                code,
                message: message.into(),
            }),
        }
    }
    fn ok() -> Self {
        Self {
            status: "ok",
            envelope: None,
            value: None,
            value_type: None,
            index: None,
            lookup: None,
            error: None,
        }
    }
    fn code(&self) -> Option<&'static str> {
        self.error.as_ref().map(|e| e.code)
    }
}

/// A batch's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    /// The request's id (also in `x-request-id` and the trail).
    pub request_id: String,
    /// One result per item, in order.
    pub items: Vec<ItemResult>,
}

/// A request-level error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `unauthenticated`, `rate-limited`, `batch-too-large`, `bad-request`, ...
    pub error: &'static str,
    /// A sentence.
    pub message: String,
    /// The request's id.
    pub request_id: String,
}

/// What a 429 or 503 carries: a batch answer (a budget, the keys or the trail) or a request-level
/// error (the rate, the counters). Documentation only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Answer {
    /// Per item.
    Batch(BatchResponse),
    /// For the whole request.
    Error(ErrorBody),
}

/// A request-level error response.
pub fn error_response(
    status: StatusCode,
    error: &'static str,
    message: impl Into<String>,
    request_id: &str,
) -> Response {
    (
        status,
        Json(ErrorBody {
            error,
            message: message.into(),
            request_id: request_id.to_owned(),
        }),
    )
        .into_response()
}

/// Maps a body the JSON extractor refused to a request-level error, keeping its status (400
/// syntax, 413 too large, 415 not JSON, 422 wrong shape or unknown field).
pub fn rejection(rejection: JsonRejection, request_id: &str) -> Response {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "body-too-large"
    } else {
        "bad-request"
    };
    // The body text names the field and position, not the value.
    error_response(status, code, rejection.body_text(), request_id)
}

/// The caller, once authenticated.
struct Caller<'a> {
    principal: &'a Principal,
}

/// One item in the common pipeline.
struct Work {
    place: Result<Context, String>,
    table: String,
    column: String,
    row: Option<String>,
    tenant: Option<String>,
    result: Option<ItemResult>,
    key_id: Option<u32>,
}

impl Work {
    fn new(table: &str, column: &str, row: Option<&Key>, tenant: Option<&Key>) -> Self {
        let mut context = Context::new(table, column).map_err(|e| e.to_string());
        if let (Ok(c), Some(r)) = (&context, row) {
            context = c.clone().with_row(r.row_key()).map_err(|e| e.to_string());
        }
        if let (Ok(c), Some(t)) = (&context, tenant) {
            context = c
                .clone()
                .with_tenant(t.row_key())
                .map_err(|e| e.to_string());
        }
        let result = context
            .as_ref()
            .err()
            .map(|e| ItemResult::error("invalid-context", e.clone()));
        Self {
            place: context,
            table: table.to_owned(),
            column: column.to_owned(),
            row: row.map(Key::text),
            tenant: tenant.map(Key::text),
            result,
            key_id: None,
        }
    }
    fn pending(&self) -> bool {
        self.result.is_none()
    }
    fn column_name(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// The bearer token of the `Authorization` header, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Authenticates and rate-limits; an `Err` is the response to send (already audited).
async fn admit<'a>(
    state: &'a AppState,
    op: Operation,
    headers: &HeaderMap,
    cert: &ClientCert,
    request_id: &str,
    purpose: Option<&str>,
) -> Result<Caller<'a>, Response> {
    let Some(principal) = state
        .principals
        .authenticate(bearer(headers), cert.0.as_deref())
    else {
        state.metrics.deny("unauthenticated");
        let event = request_event("-", op, purpose, request_id, "unauthenticated");
        // Refused either way; the trail is best effort here, since nothing is disclosed.
        let _ = state.audit.record(vec![event]).await;
        return Err(error_response(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid bearer token or client certificate is required",
            request_id,
        ));
    };
    let rate = principal
        .requests_per_second
        .unwrap_or(state.config.limits.requests_per_second);
    if rate > 0 {
        let take = Take {
            key: format!("rate:{}", principal.name),
            amount: 1,
            cap: rate,
            window_seconds: 1,
        };
        match state.counters.take(&[take]).await {
            Ok(granted) if granted.first() == Some(&true) => {}
            Ok(_) => {
                state.metrics.deny("rate-limited");
                let event = request_event(&principal.name, op, purpose, request_id, "rate-limited");
                let _ = state.audit.record(vec![event]).await;
                return Err(error_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    format!("more than {rate} requests per second"),
                    request_id,
                ));
            }
            Err(e) => {
                tracing::error!(error = %e, "rate counters unavailable");
                return Err(error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "limits-unavailable",
                    "the rate counters are unavailable",
                    request_id,
                ));
            }
        }
    }
    Ok(Caller { principal })
}

fn request_event(
    principal: &str,
    op: Operation,
    purpose: Option<&str>,
    request_id: &str,
    outcome: &str,
) -> Event {
    Event {
        principal: principal.to_owned(),
        operation: op.name().to_owned(),
        table: "*".to_owned(),
        column: "*".to_owned(),
        row: None,
        tenant: None,
        key_id: None,
        purpose: purpose.map(str::to_owned),
        request_id: request_id.to_owned(),
        outcome: outcome.to_owned(),
    }
}

/// A request body of items with an optional purpose.
trait Batch {
    fn purpose(&self) -> Option<&str>;
    fn len(&self) -> usize;
}

impl Batch for SealRequest {
    fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

impl Batch for OpenRequest {
    fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

impl Batch for IndexRequest {
    fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }
    fn len(&self) -> usize {
        self.items.len()
    }
}

/// What every operation does first: the body parsed, the caller authenticated and
/// rate-limited, the batch bounded. An `Err` is the response to send.
async fn begin<'a, T: Batch>(
    state: &'a AppState,
    op: Operation,
    headers: &HeaderMap,
    cert: &ClientCert,
    request_id: &str,
    body: Result<Json<T>, JsonRejection>,
) -> Result<(T, Caller<'a>), Response> {
    let body = match body {
        Ok(Json(b)) => b,
        Err(e) => return Err(rejection(e, request_id)),
    };
    let caller = admit(state, op, headers, cert, request_id, body.purpose()).await?;
    check_batch(state, body.len(), request_id)?;
    Ok((body, caller))
}

fn check_batch(state: &AppState, n: usize, request_id: &str) -> Result<(), Response> {
    if n > state.config.server.max_batch {
        return Err(error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch-too-large",
            format!(
                "{n} items; at most {} per request",
                state.config.server.max_batch
            ),
            request_id,
        ));
    }
    if n == 0 {
        return Err(error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad-request",
            "items is empty",
            request_id,
        ));
    }
    Ok(())
}

/// Applies the policy to every pending item.
fn authorize(
    state: &AppState,
    caller: &Caller<'_>,
    op: Operation,
    purpose: Option<&str>,
    work: &mut [Work],
) {
    for w in work.iter_mut().filter(|w| w.pending()) {
        match state
            .policy
            .decide(&caller.principal.roles, op, &w.column_name(), purpose)
        {
            Ok(()) => {}
            Err(denial) => {
                state.metrics.deny("denied");
                let why = match denial {
                    Denial::DeniedByRule => "a rule denies",
                    Denial::NotGranted => "no rule grants",
                };
                w.result = Some(ItemResult::error(
                    "denied",
                    format!(
                        "{why} {} on {} for this principal and purpose",
                        op.name(),
                        w.column_name()
                    ),
                ));
            }
        }
    }
}

/// Spends decrypt budgets for every pending item, per column; a column over budget has all its
/// items in this request refused, and an alert is raised.
async fn spend_budgets(state: &AppState, caller: &Caller<'_>, work: &mut [Work]) -> Result<(), ()> {
    let roles = &caller.principal.roles;
    let mut wanted: HashMap<String, (Take, Vec<usize>, String)> = HashMap::new();
    for (i, w) in work.iter().enumerate().filter(|(_, w)| w.pending()) {
        let column = w.column_name();
        for (index, budget) in state.policy.budgets_for(roles, &column) {
            let key = format!("budget:{index}:{}:{column}", caller.principal.name);
            let entry = wanted.entry(key.clone()).or_insert_with(|| {
                (
                    Take {
                        key,
                        amount: 0,
                        cap: budget.limit,
                        window_seconds: budget.window_seconds,
                    },
                    Vec::new(),
                    column.clone(),
                )
            });
            entry.0.amount += 1;
            entry.1.push(i);
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let wanted: Vec<_> = wanted.into_values().collect();
    let takes: Vec<Take> = wanted.iter().map(|(t, _, _)| t.clone()).collect();
    let granted = match state.counters.take(&takes).await {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "budget counters unavailable; opens refused");
            for w in work.iter_mut().filter(|w| w.pending()) {
                w.result = Some(ItemResult::error(
                    "limits-unavailable",
                    "the budget counters are unavailable",
                ));
            }
            return Err(());
        }
    };
    for ((take, items, column), ok) in wanted.iter().zip(granted) {
        if ok {
            continue;
        }
        state
            .metrics
            .budget_refusals
            .get_or_create(&crate::metrics::BudgetLabels {
                principal: caller.principal.name.clone(),
                column: column.clone(),
            })
            .inc();
        tracing::error!(
            principal = %caller.principal.name,
            column = %column,
            limit = take.cap,
            window_seconds = take.window_seconds,
            "decrypt budget exceeded: opens refused"
        );
        state.alert(
            &caller.principal.name,
            column,
            take.cap,
            take.window_seconds,
        );
        for &i in items {
            work[i].result = Some(ItemResult::error(
                "budget",
                format!(
                    "the decrypt budget of {} per {} s on {column} is spent",
                    take.cap, take.window_seconds
                ),
            ));
        }
    }
    Ok(())
}

fn status_of(results: &[ItemResult]) -> StatusCode {
    let failed: Vec<&'static str> = results.iter().filter_map(ItemResult::code).collect();
    if failed.is_empty() {
        return StatusCode::OK;
    }
    if failed.iter().any(|c| {
        matches!(
            *c,
            "keys-unavailable" | "audit-unavailable" | "limits-unavailable"
        )
    }) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    if failed.len() < results.len() {
        return StatusCode::MULTI_STATUS;
    }
    // Every item failed: the status names the reason when they all share it.
    if failed.iter().all(|c| *c == "denied") {
        StatusCode::FORBIDDEN
    } else if failed.iter().all(|c| *c == "budget") {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::MULTI_STATUS
    }
}

fn outcome(result: &ItemResult) -> &'static str {
    match result.code() {
        None => "ok",
        Some("denied") => "denied",
        Some("budget") => "budget",
        Some(_) => "failed",
    }
}

/// Appends the items that must be audited; on failure every result becomes an error and no
/// value is returned.
async fn audit_and_answer(
    state: &AppState,
    caller: &Caller<'_>,
    op: Operation,
    purpose: Option<&str>,
    request_id: &str,
    work: Vec<Work>,
) -> Response {
    let audit_all =
        matches!(op, Operation::Open | Operation::OpenMasked) || state.config.audit.all_operations;
    let mut results: Vec<ItemResult> = work
        .iter()
        .map(|w| {
            w.result
                .clone()
                .unwrap_or_else(|| ItemResult::error("failed", "not processed"))
        })
        .collect();
    let events: Vec<Event> = work
        .iter()
        .zip(&results)
        .filter(|(_, r)| audit_all || matches!(r.code(), Some("denied" | "budget")))
        .map(|(w, r)| Event {
            principal: caller.principal.name.clone(),
            operation: op.name().to_owned(),
            table: w.table.clone(),
            column: w.column.clone(),
            row: w.row.clone(),
            tenant: w.tenant.clone(),
            key_id: w.key_id,
            purpose: purpose.map(str::to_owned),
            request_id: request_id.to_owned(),
            outcome: outcome(r).to_owned(),
        })
        .collect();
    if state.audit.record(events).await.is_err() {
        // Fail closed: drop every value before anything is sent.
        results = results
            .iter()
            .map(|_| {
                ItemResult::error(
                    "audit-unavailable",
                    "the audit trail could not be written; nothing was disclosed",
                )
            })
            .collect();
    }
    state
        .metrics
        .items
        .get_or_create(&crate::metrics::RouteLabels {
            route: op.name().to_owned(),
        })
        .inc_by(results.len() as u64);
    let status = status_of(&results);
    (
        status,
        Json(BatchResponse {
            request_id: request_id.to_owned(),
            items: results,
        }),
    )
        .into_response()
}

/// Seal values.
#[utoipa::path(post, path = "/v1/seal", request_body = SealRequest,
    responses((status = 200, body = BatchResponse), (status = 207, body = BatchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = BatchResponse),
        (status = 408, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = Answer), (status = 503, body = Answer)),
    security(("bearer" = [])))]
pub async fn seal(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
    body: Result<Json<SealRequest>, JsonRejection>,
) -> Response {
    let rid = request_id.0.as_str();
    let (body, caller) = match begin(&state, Operation::Seal, &headers, &cert, rid, body).await {
        Ok(started) => started,
        Err(r) => return r,
    };
    let purpose = body.purpose.as_deref();
    let mut work: Vec<Work> = body
        .items
        .iter()
        .map(|i| Work::new(&i.table, &i.column, i.row.as_ref(), i.tenant.as_ref()))
        .collect();
    authorize(&state, &caller, Operation::Seal, purpose, &mut work);
    if work.iter().any(Work::pending) {
        match state.keys.get().await {
            Ok(keyring) => {
                for (w, item) in work.iter_mut().zip(&body.items) {
                    if !w.pending() {
                        continue;
                    }
                    let Ok(context) = &w.place else { continue };
                    w.result = Some(
                        match values::from_json(&item.value, item.value_type.as_deref()) {
                            Err(e) => ItemResult::error("invalid-value", e),
                            Ok(value) => match keyring.seal_text(context, &value) {
                                Ok(envelope) => ItemResult {
                                    envelope: Some(envelope),
                                    ..ItemResult::ok()
                                },
                                Err(e) => ItemResult::error("invalid-value", e.to_string()),
                            },
                        },
                    );
                }
            }
            Err(e) => keys_unavailable(&mut work, &e),
        }
    }
    audit_and_answer(&state, &caller, Operation::Seal, purpose, rid, work).await
}

fn keys_unavailable(work: &mut [Work], e: &fieldcrypt_kms::KmsError) {
    tracing::error!(error = %e, "the keyring could not be unwrapped");
    for w in work.iter_mut().filter(|w| w.pending()) {
        w.result = Some(ItemResult::error(
            "keys-unavailable",
            "the keys are unavailable (the key provider did not answer)",
        ));
    }
}

async fn open_common(
    state: Arc<AppState>,
    op: Operation,
    request_id: RequestId,
    cert: ClientCert,
    headers: HeaderMap,
    body: Result<Json<OpenRequest>, JsonRejection>,
) -> Response {
    let rid = request_id.0.as_str();
    let (body, caller) = match begin(&state, op, &headers, &cert, rid, body).await {
        Ok(started) => started,
        Err(r) => return r,
    };
    let purpose = body.purpose.as_deref();
    let mut work: Vec<Work> = body
        .items
        .iter()
        .map(|i| Work::new(&i.table, &i.column, i.row.as_ref(), i.tenant.as_ref()))
        .collect();
    for (w, item) in work.iter_mut().zip(&body.items) {
        // The key id for the trail, from the header alone; nothing is opened yet.
        w.key_id = Envelope::parse(item.envelope.as_bytes())
            .ok()
            .map(|e| e.header().key_id.get());
    }
    authorize(&state, &caller, op, purpose, &mut work);
    if spend_budgets(&state, &caller, &mut work).await.is_ok() && work.iter().any(Work::pending) {
        match state.keys.get().await {
            Ok(keyring) => {
                for (w, item) in work.iter_mut().zip(&body.items) {
                    if !w.pending() {
                        continue;
                    }
                    let Ok(context) = &w.place else { continue };
                    w.result = Some(
                        match keyring.open::<Value>(context, item.envelope.as_bytes()) {
                            Err(e) => ItemResult::error("not-opened", not_opened(&e)),
                            Ok(value) if op == Operation::OpenMasked => {
                                let kind = state
                                    .policy
                                    .mask_for(&caller.principal.roles, &w.column_name());
                                ItemResult {
                                    value: Some(serde_json::Value::String(mask(
                                        kind,
                                        &values::to_text(&value),
                                    ))),
                                    value_type: Some("string"),
                                    ..ItemResult::ok()
                                }
                            }
                            Ok(value) => {
                                let (json, tag) = values::to_json(&value);
                                ItemResult {
                                    value: Some(json),
                                    value_type: Some(tag),
                                    ..ItemResult::ok()
                                }
                            }
                        },
                    );
                }
            }
            Err(e) => keys_unavailable(&mut work, &e),
        }
    }
    audit_and_answer(&state, &caller, op, purpose, rid, work).await
}

/// Says why an envelope did not open without saying anything about its plaintext.
fn not_opened(e: &fieldcrypt::Error) -> String {
    match e {
        fieldcrypt::Error::Malformed(_) => "not an envelope".to_owned(),
        fieldcrypt::Error::UnknownKey(id) => format!("sealed under key {id}, which this keyring does not hold"),
        fieldcrypt::Error::RetiredKey(id) => format!("sealed under key {id}, which is retired"),
        _ => "does not open under this keyring and context (wrong table, column, row or tenant, or tampered)".to_owned(),
    }
}

/// Open values in full.
#[utoipa::path(post, path = "/v1/open", request_body = OpenRequest,
    responses((status = 200, body = BatchResponse), (status = 207, body = BatchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = BatchResponse),
        (status = 408, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = Answer), (status = 503, body = Answer)),
    security(("bearer" = [])))]
pub async fn open(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
    body: Result<Json<OpenRequest>, JsonRejection>,
) -> Response {
    open_common(state, Operation::Open, request_id, cert, headers, body).await
}

/// Open values and receive them masked by the caller's masking profile.
#[utoipa::path(post, path = "/v1/mask", request_body = OpenRequest,
    responses((status = 200, body = BatchResponse), (status = 207, body = BatchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = BatchResponse),
        (status = 408, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = Answer), (status = 503, body = Answer)),
    security(("bearer" = [])))]
pub async fn mask_values(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
    body: Result<Json<OpenRequest>, JsonRejection>,
) -> Response {
    open_common(
        state,
        Operation::OpenMasked,
        request_id,
        cert,
        headers,
        body,
    )
    .await
}

/// Compute blind indexes of values, with the configured index definitions.
#[utoipa::path(post, path = "/v1/blind-index", request_body = IndexRequest,
    responses((status = 200, body = BatchResponse), (status = 207, body = BatchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = BatchResponse),
        (status = 408, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = Answer), (status = 503, body = Answer)),
    security(("bearer" = [])))]
pub async fn blind_index(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
    body: Result<Json<IndexRequest>, JsonRejection>,
) -> Response {
    let rid = request_id.0.as_str();
    let (body, caller) =
        match begin(&state, Operation::BlindIndex, &headers, &cert, rid, body).await {
            Ok(started) => started,
            Err(r) => return r,
        };
    let purpose = body.purpose.as_deref();
    let mut work: Vec<Work> = body
        .items
        .iter()
        .map(|i| Work::new(&i.table, &i.column, None, None))
        .collect();
    authorize(&state, &caller, Operation::BlindIndex, purpose, &mut work);
    if work.iter().any(Work::pending) {
        match state.keys.get().await {
            Ok(keyring) => {
                for (w, item) in work.iter_mut().zip(&body.items) {
                    if !w.pending() {
                        continue;
                    }
                    let Some(index) = state.indexes.get(&w.column_name()) else {
                        w.result = Some(ItemResult::error(
                            "unknown-index",
                            format!("no [[index]] is configured for {}", w.column_name()),
                        ));
                        continue;
                    };
                    let text = match &item.value {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => {
                            w.result = Some(ItemResult::error(
                                "invalid-value",
                                "a blind index is computed from a string or a number",
                            ));
                            continue;
                        }
                    };
                    w.result = Some(
                        match (index.value(&keyring, &text), index.lookup(&keyring, &text)) {
                            (Ok(v), Ok(lookup)) => ItemResult {
                                index: Some(v),
                                lookup: Some(lookup),
                                ..ItemResult::ok()
                            },
                            (Err(e), _) | (_, Err(e)) => {
                                ItemResult::error("invalid-value", e.to_string())
                            }
                        },
                    );
                }
            }
            Err(e) => keys_unavailable(&mut work, &e),
        }
    }
    audit_and_answer(&state, &caller, Operation::BlindIndex, purpose, rid, work).await
}
