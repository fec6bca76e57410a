//! The admin page and its API, for principals with `admin = true`: the decrypt trail with
//! filters and its verification, opens per principal and column against their budgets, and the
//! policy in force. The page is static HTML, CSS and a script from this server (the CSP allows
//! nothing else); the data comes from the JSON endpoints under `/v1/admin`, which need an admin
//! token or certificate like any other call.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fieldcrypt_audit::Record;
use serde::Deserialize;

use crate::api::error_response;
use crate::config::Principal;
use crate::state::{AppState, ClientCert, RequestId, TrailSource};

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("app.css");

/// The admin routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/admin",
            get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }),
        )
        .route(
            "/admin/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
        .route(
            "/admin/app.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE) }),
        )
        // Browsers ask for it on every page; no content rather than a 404 in their console.
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route("/v1/admin/trail", get(trail))
        .route("/v1/admin/verify", get(verify))
        .route("/v1/admin/overview", get(overview))
}

fn admin<'a>(
    state: &'a AppState,
    headers: &HeaderMap,
    cert: &ClientCert,
    request_id: &str,
) -> Result<&'a Principal, Response> {
    match state
        .principals
        .authenticate(crate::api::bearer(headers), cert.0.as_deref())
    {
        Some(p) if p.admin => Ok(p),
        Some(_) => {
            state.metrics.deny("denied");
            Err(error_response(
                StatusCode::FORBIDDEN,
                "denied",
                "this principal is not an admin",
                request_id,
            ))
        }
        None => {
            state.metrics.deny("unauthenticated");
            Err(error_response(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "a valid admin token or certificate is required",
                request_id,
            ))
        }
    }
}

async fn read_trail(state: &AppState) -> Result<Vec<Result<Record, String>>, String> {
    match &state.trail {
        TrailSource::Postgres(sink) => sink.read_all().await.map_err(|e| e.to_string()),
        TrailSource::File(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || fieldcrypt_audit::file::read(&path))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())
        }
    }
}

/// Filters of the trail view.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrailQuery {
    principal: Option<String>,
    column: Option<String>,
    outcome: Option<String>,
    limit: Option<usize>,
}

async fn trail(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
    query: Result<Query<TrailQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(r) = admin(&state, &headers, &cert, &request_id.0) {
        return r;
    }
    let Ok(Query(query)) = query else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "unknown filter",
            &request_id.0,
        );
    };
    let records = match read_trail(&state).await {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit-unavailable",
                e,
                &request_id.0,
            );
        }
    };
    let limit = query.limit.unwrap_or(200).min(5000);
    let empty = |s: &Option<String>| s.as_deref().filter(|v| !v.is_empty()).map(str::to_owned);
    let (principal, column, outcome) = (
        empty(&query.principal),
        empty(&query.column),
        empty(&query.outcome),
    );
    let entries: Vec<_> = records
        .into_iter()
        .rev()
        .filter_map(|r| match r {
            Ok(Record::Entry(e)) => Some(e),
            _ => None,
        })
        .filter(|e| principal.as_ref().is_none_or(|p| *p == e.principal))
        .filter(|e| {
            column
                .as_ref()
                .is_none_or(|c| crate::policy::glob(c, &format!("{}.{}", e.table, e.column)))
        })
        .filter(|e| outcome.as_ref().is_none_or(|o| *o == e.outcome))
        .take(limit)
        .collect();
    axum::Json(serde_json::json!({ "entries": entries })).into_response()
}

async fn verify(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admin(&state, &headers, &cert, &request_id.0) {
        return r;
    }
    let records = match read_trail(&state).await {
        Ok(r) => r,
        Err(e) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit-unavailable",
                e,
                &request_id.0,
            );
        }
    };
    let report = fieldcrypt_audit::verify(records, &state.verifying_key);
    let entries: u64 = report.replicas.values().map(|r| r.entries).sum();
    axum::Json(serde_json::json!({
        "clean": report.is_clean(),
        "clean_but_unsigned_tail": report.is_clean_but_tail(),
        "entries": entries,
        "replicas": report.replicas.iter().map(|(name, r)| serde_json::json!({
            "replica": name, "entries": r.entries, "signed_through": r.signed_through,
            "valid_checkpoints": r.valid_checkpoints, "last_seq": r.last_seq,
        })).collect::<Vec<_>>(),
        "problems": report.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(request_id): Extension<RequestId>,
    Extension(cert): Extension<ClientCert>,
    headers: HeaderMap,
) -> Response {
    let you = match admin(&state, &headers, &cert, &request_id.0) {
        Ok(p) => p.name.clone(),
        Err(r) => return r,
    };
    let counters = match state.counters.current("budget:").await {
        Ok(c) => c,
        Err(e) => {
            return error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "limits-unavailable",
                e.to_string(),
                &request_id.0,
            );
        }
    };
    let budgets = state.policy.budgets();
    let mut rows: Vec<serde_json::Value> = counters
        .into_iter()
        .filter_map(|(key, used)| {
            // budget:{index}:{principal}:{table.column}
            let rest = key.strip_prefix("budget:")?;
            let (index, rest) = rest.split_once(':')?;
            let (principal, column) = rest.rsplit_once(':')?;
            let budget = budgets.get(index.parse::<usize>().ok()?)?;
            Some(serde_json::json!({
                "principal": principal, "column": column, "used": used,
                "limit": budget.limit, "window_seconds": budget.window_seconds,
            }))
        })
        .collect();
    rows.sort_by_key(|r| (r["principal"].to_string(), r["column"].to_string()));
    let principals: Vec<_> = state
        .principals
        .list()
        .iter()
        .map(|p| serde_json::json!({
            "name": p.name, "roles": p.roles, "admin": p.admin,
            "token": p.token_sha256.is_some(), "client_certificate": p.client_cert_sha256.is_some(),
        }))
        .collect();
    axum::Json(serde_json::json!({
        "you": you,
        "budgets": rows,
        "policy": {
            "principals": principals,
            "rules": state.policy.rules(),
            "masks": state.policy.masks(),
            "budgets": budgets,
        },
    }))
    .into_response()
}
