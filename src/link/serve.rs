//! `tailor serve`: the linker behind an HTTP JSON API, loaded once and shared by all requests.
//!
//! - `POST /link`: one document `{"id"?, "text", "mentions"?}` or a batch
//!   `{"documents": [...]}`; answers a linked document (the JSONL output's record) or
//!   `{"documents": [...]}`. Given `mentions` (`[{"start", "end"}]`, code points) are linked as
//!   given, otherwise mentions are detected.
//! - `GET /entity/{id}`: an entity's label, description, aliases and types.
//! - `GET /health`: `{"status": "ok", ...}` once the KB and scorer are loaded.
//!
//! Every error the handlers answer is a JSON body `{"error": {"status", "message"}}` with a 4xx
//! status: 400 for malformed JSON or an undecodable `/entity` path, 413 for a body, batch or
//! document over its limit (a `Content-Length` over it is refused from the head, unread), 422
//! for a well-formed request that cannot be linked (a missing `text`, a span outside the text,
//! both a document and a batch, an id used twice in a batch), 404 for an unknown entity or
//! route. A request that is not parseable HTTP/1.x never reaches them: hyper answers it with an
//! empty 400, 414 or 431 and closes the connection, which cannot be changed from here.
//!
//! Linking is CPU work and runs on the blocking pool (a batch across rayon's threads), so slow
//! requests never stall the accept loop. A connection that sends no whole request head within
//! the read timeout (`--read-timeout`) is closed, and so is one whose body has not arrived whole
//! within it (after a 408 answer). After SIGINT or SIGTERM, connections
//! still open after the shutdown grace (`--shutdown-grace`) are dropped.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rayon::prelude::*;
use serde::Serialize;

use super::linker::{LinkedDocument, Linker};
use super::serve_request::parse_link_body;
use crate::disambiguate::Scorer;
use crate::kb::Kb;
use crate::retrieve::Retriever;

/// Request limits: the sizes are answered with a 413 when exceeded, the read timeout by closing
/// the connection.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Bytes of request body (default 8 MiB).
    pub max_body_bytes: usize,
    /// Documents in one batch request (default 256).
    pub max_batch: usize,
    /// Bytes of text in one document (default 1 MiB).
    pub max_doc_bytes: usize,
    /// A connection that has not sent a whole request head this long after it opened, or after
    /// its last answer, is closed (default 30 s), so silent or idle clients do not pile up
    /// open connections. Lower it behind a proxy that keeps its own connections short. It also
    /// bounds the time a request body may take to arrive whole once its head is read: a client
    /// that stalls inside the body is answered 408 and closed.
    pub read_timeout: Duration,
    /// After SIGINT or SIGTERM, how long requests in flight may take to finish before their
    /// connections are dropped and the server exits (default 10 s).
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            max_body_bytes: 8 << 20,
            max_batch: 256,
            max_doc_bytes: 1 << 20,
            read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Everything a request needs, owned, loaded once.
pub struct LinkService {
    /// Borrowed for the life of the process: a model scorer reads the same KB.
    pub kb: &'static Kb,
    pub retriever: Retriever,
    pub scorer: Box<dyn Scorer>,
    pub output_candidates: usize,
    pub limits: ServeLimits,
}

impl LinkService {
    pub fn linker(&self) -> Linker<'_> {
        Linker {
            kb: self.kb,
            retriever: &self.retriever,
            scorer: self.scorer.as_ref(),
            output_candidates: self.output_candidates,
        }
    }
}

/// A 4xx (or 500) answer with a JSON body.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {"status": self.status.as_u16(), "message": self.message}
        });
        (self.status, Json(body)).into_response()
    }
}

#[derive(Debug, Serialize)]
struct BatchResponse {
    documents: Vec<LinkedDocument>,
}

/// The router over a shared service.
pub fn router(service: Arc<LinkService>) -> Router {
    let limit = service.limits.max_body_bytes;
    Router::new()
        .route("/link", post(link))
        .route("/entity/{id}", get(entity))
        .route("/health", get(health))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: POST /link, GET /entity/{id}, GET /health",
            )
        })
        .layer(DefaultBodyLimit::max(limit))
        .with_state(service)
}

async fn health(State(service): State<Arc<LinkService>>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "status": "ok",
        "scorer": service.scorer.name(),
        "entities": service.kb.entities.len(),
        "aliases": service.retriever.table.len(),
    }))
}

async fn entity(
    State(service): State<Arc<LinkService>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // axum's own answer to a path it cannot decode (`%ff`) is plain text
    let Path(id) = id.map_err(|r| ApiError::new(r.status(), r.body_text()))?;
    let kb = service.kb;
    let idx = kb
        .entity_idx(&id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no entity {id:?}")))?;
    let e = kb.entity(idx);
    let types: Vec<serde_json::Value> = kb
        .types_of(idx)
        .map(|t| serde_json::json!({"id": kb.entity(t).id, "label": kb.entity(t).label}))
        .collect();
    let aliases: Vec<&str> = kb.aliases_of(idx).iter().map(|a| a.text.as_str()).collect();
    Ok(Json(serde_json::json!({
        "id": e.id,
        "label": e.label,
        "description": e.description,
        "wikipedia": e.wikipedia,
        "degree": e.degree,
        "aliases": aliases,
        "types": types,
    })))
}

async fn link(
    State(service): State<Arc<LinkService>>,
    request: Request,
) -> Result<Response, ApiError> {
    let limit = service.limits.max_body_bytes;
    if let Some(declared) = declared_length(&request) {
        // Answered from the head alone: reading first would wait for a body that may never come
        // (or take the read timeout to arrive) only to refuse it.
        if declared > limit as u64 {
            return Ok(too_large(format!(
                "request body of {declared} bytes (its Content-Length) is over the limit of \
                 {limit} bytes"
            )));
        }
    }
    let timeout = service.limits.read_timeout;
    let Ok(body) = tokio::time::timeout(timeout, Bytes::from_request(request, &())).await else {
        return Ok(body_timed_out(timeout));
    };
    let body = match body {
        Ok(body) => body,
        // a chunked body, or one longer than it said, found over the limit while being read
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok(too_large(format!(
                "request body is over the limit of {limit} bytes"
            )))
        }
        Err(r) => return Err(ApiError::new(r.status(), r.body_text())),
    };
    let (docs, batch) = parse_link_body(&body, &service.limits)?;
    let linked = tokio::task::spawn_blocking(move || {
        let linker = service.linker();
        docs.par_iter().map(|d| linker.link(d)).collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(if batch {
        Json(BatchResponse { documents: linked }).into_response()
    } else {
        Json(linked.into_iter().next().expect("one document")).into_response()
    })
}

/// The request's `Content-Length`, which hyper has already checked is one well-formed number.
fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A 413 that closes the connection: the body it refuses is not read, and would otherwise be
/// read as the next request.
fn too_large(message: String) -> Response {
    closing(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message).into_response())
}

fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A 408 that closes the connection: the rest of the body may still come, and would be read as
/// the next request.
fn body_timed_out(timeout: Duration) -> Response {
    let message = format!(
        "the request body did not arrive whole within the read timeout of {} s",
        timeout.as_secs_f64()
    );
    closing(ApiError::new(StatusCode::REQUEST_TIMEOUT, message).into_response())
}

/// Resolves on SIGINT or SIGTERM, to stop accepting and let requests in flight finish.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Serves until SIGINT or SIGTERM, then lets the requests in flight finish for up to
/// [`ServeLimits::shutdown_grace`], and drops the connections still open after it.
///
/// The accept loop is hyper's own rather than `axum::serve`, which has no read timeout: each
/// connection gets [`ServeLimits::read_timeout`] as hyper's header read timeout.
pub async fn serve(
    service: Arc<LinkService>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(service.limits.read_timeout);
    let grace = service.limits.shutdown_grace;
    let app = router(service);
    let connections = GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // out of file descriptors, say: wait rather than spin
                    tracing::warn!("accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = connections.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    if tokio::time::timeout(grace, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "connections still open {} s after the stop signal: dropping them",
            grace.as_secs_f64()
        );
    }
    Ok(())
}
