//! The router: `/v1` operations, the OpenAPI document, health, readiness and metrics, the
//! admin page; and the frame every response gets (request id, security headers, a deadline,
//! metrics and one JSON log line without values).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use utoipa::OpenApi as _;

use crate::api;
use crate::state::{AppState, ClientCert, RequestId};

/// The security headers every response carries, the redirect listener's included.
pub const SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "strict-transport-security",
        "max-age=63072000; includeSubDomains",
    ),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
];

/// Adds [`SECURITY_HEADERS`] to `response`.
pub fn add_security_headers(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
}

/// The OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "fieldcrypt-server", description = "Seal, open, masked open and blind indexes over HTTPS, with column-level access, decrypt budgets and a verifiable decrypt trail."),
    paths(api::seal, api::open, api::mask_values, api::blind_index),
    components(schemas(api::SealRequest, api::SealItem, api::OpenRequest, api::OpenItem, api::IndexRequest,
        api::IndexItem, api::BatchResponse, api::Answer, api::ItemResult, api::ItemError, api::ErrorBody, api::KeyDoc)),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

const ROUTES: [&str; 15] = [
    "/favicon.ico",
    "/v1/seal",
    "/v1/open",
    "/v1/mask",
    "/v1/blind-index",
    "/v1/openapi.json",
    "/healthz",
    "/readyz",
    "/metrics",
    "/admin",
    "/admin/app.js",
    "/admin/app.css",
    "/v1/admin/trail",
    "/v1/admin/verify",
    "/v1/admin/overview",
];

/// The application.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.server.max_body_bytes;
    Router::new()
        .route("/v1/seal", post(api::seal))
        .route("/v1/open", post(api::open))
        .route("/v1/mask", post(api::mask_values))
        .route("/v1/blind-index", post(api::blind_index))
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::admin::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), frame))
        .with_state(state)
}

async fn frame(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::now_v7().to_string();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    if request.extensions().get::<ClientCert>().is_none() {
        request.extensions_mut().insert(ClientCert::default());
    }
    let path = request.uri().path();
    let route = ROUTES
        .iter()
        .find(|r| **r == path)
        .copied()
        .unwrap_or("other");
    let method = request.method().clone();
    let deadline = Duration::from_secs(state.config.server.request_timeout_seconds);
    let work = async {
        // Closed only if the state is dropped, which it is not while serving.
        let _permit = state.in_flight.acquire().await;
        next.run(request).await
    };
    let mut response = match tokio::time::timeout(deadline, work).await {
        Ok(r) => r,
        Err(_) => api::error_response(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request did not complete in time",
            &request_id,
        ),
    };
    add_security_headers(&mut response);
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .requests
        .get_or_create(&crate::metrics::RequestLabels {
            route: route.to_owned(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&crate::metrics::RouteLabels {
            route: route.to_owned(),
        })
        .observe(elapsed.as_secs_f64());
    if route != "/metrics" && route != "/healthz" {
        tracing::info!(
            request_id = %request_id,
            method = %method,
            route,
            status,
            micros = elapsed.as_micros() as u64,
            "request"
        );
    }
    response
}

async fn not_found(axum::Extension(request_id): axum::Extension<RequestId>) -> Response {
    api::error_response(
        StatusCode::NOT_FOUND,
        "not-found",
        "no such route",
        &request_id.0,
    )
}

/// The document, with this server's batch limit as `maxItems`.
async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        for name in ["SealRequest", "OpenRequest", "IndexRequest"] {
            if let Some(items) = schemas
                .get_mut(name)
                .and_then(|s| s.pointer_mut("/properties/items"))
                .and_then(serde_json::Value::as_object_mut)
            {
                items.insert("maxItems".to_owned(), state.config.server.max_batch.into());
            }
        }
    }
    axum::Json(doc).into_response()
}

async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let (keys, audit) = state.ready().await;
    let status = if keys && audit {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(serde_json::json!({"keys": keys, "audit": audit})),
    )
        .into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    state
        .metrics
        .audit_pending
        .set(state.audit.pending() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
