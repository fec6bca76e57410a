//! Listening: TLS handshakes under a deadline, at most `max_connections` connections, HTTP/1.1
//! and HTTP/2 with a header deadline against slow clients, an optional plain listener that only
//! redirects, and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::config::Config;
use crate::state::ClientCert;
use crate::tls::Reloading;

/// Why the server would not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No TLS, and not allowed.
    #[error(
        "refusing to listen without TLS on {0}: configure [tls], or for local development listen on a loopback address and pass --allow-plaintext-loopback"
    )]
    PlaintextRefused(SocketAddr),
    /// Binding failed.
    #[error("listening on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// TLS.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

fn builder(config: &Config) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.server.header_timeout_seconds))
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(64)
        .max_header_list_size(32 * 1024)
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(config.server.header_timeout_seconds));
    builder
}

/// Serves `app` per `config` until `shutdown` resolves, then waits up to the grace period for
/// requests in flight. Calls `bound` with the address actually bound (port 0 picks one).
pub async fn serve(
    app: Router,
    config: &Config,
    allow_plaintext_loopback: bool,
    bound: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let listen = config.server.listen;
    let tls = match &config.tls {
        Some(t) => Some(Reloading::start(t.clone())?),
        None if allow_plaintext_loopback && listen.ip().is_loopback() => {
            tracing::warn!(%listen, "serving WITHOUT TLS on loopback (--allow-plaintext-loopback)");
            None
        }
        None => return Err(ServeError::PlaintextRefused(listen)),
    };
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| ServeError::Bind(listen, e))?;
    let local = listener
        .local_addr()
        .map_err(|e| ServeError::Bind(listen, e))?;
    if let Some(redirect) = config.server.redirect_listen {
        let redirect = TcpListener::bind(redirect)
            .await
            .map_err(|e| ServeError::Bind(redirect, e))?;
        let host = config.server.public_host.clone();
        tokio::spawn(redirect_loop(redirect, host, local.port()));
    }
    tracing::info!(%local, tls = tls.is_some(), "listening");
    bound(local);
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(config.server.max_connections));
    let handshake = Duration::from_secs(config.server.header_timeout_seconds);
    let builder = Arc::new(builder(config));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            match tls {
                Some(tls) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(tls.get());
                    let stream =
                        match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                    let cert = ClientCert(
                        stream
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| crate::auth::sha256_hex(c.as_ref())),
                    );
                    serve_connection(&builder, app, cert, TokioIo::new(stream), watcher).await;
                }
                None => {
                    serve_connection(
                        &builder,
                        app,
                        ClientCert::default(),
                        TokioIo::new(stream),
                        watcher,
                    )
                    .await
                }
            }
        });
    }
    drop(listener);
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period; closing");
    }
    Ok(())
}

async fn serve_connection<I>(
    builder: &Builder<TokioExecutor>,
    app: Router,
    cert: ClientCert,
    io: I,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = app.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(cert.clone());
        request
    });
    let connection = builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// The plain listener: every request gets a 308 to the same path over HTTPS.
async fn redirect_loop(listener: TcpListener, host: Option<String>, https_port: u16) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let host = host.clone();
        tokio::spawn(redirect_connection(stream, host, https_port));
    }
}

async fn redirect_connection(stream: TcpStream, host: Option<String>, https_port: u16) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let host = host.clone().or_else(|| {
            request
                .headers()
                .get(hyper::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name).to_owned())
        });
        let path = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        async move {
            let mut response = match host.filter(|h| !h.is_empty() && !h.contains(['/', '@', '\\']))
            {
                Some(host) => {
                    let port = if https_port == 443 {
                        String::new()
                    } else {
                        format!(":{https_port}")
                    };
                    let mut r = Response::new(Body::empty());
                    *r.status_mut() = StatusCode::PERMANENT_REDIRECT;
                    if let Ok(v) = format!("https://{host}{port}{path}").parse() {
                        r.headers_mut().insert(hyper::header::LOCATION, v);
                    }
                    r
                }
                None => {
                    let mut r = Response::new(Body::from("HTTPS only"));
                    *r.status_mut() = StatusCode::BAD_REQUEST;
                    r
                }
            };
            crate::http::add_security_headers(&mut response);
            Ok::<_, Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    let _ = builder
        .serve_connection(TokioIo::new(stream), service)
        .await;
}
