//! `/healthz` (the process answers), `/readyz` (database and IMAP reachable), `/metrics` (Prometheus);
//! the last two behind `[web] metrics_token` when one is set.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, auth};

pub async fn healthz() -> &'static str {
    "ok\n"
}

/// With a `metrics_token` configured, only a request bearing it may read `/readyz` and `/metrics`.
fn refused(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let expected = state.metrics_token.as_ref()?;
    if auth::bearer(headers).is_some_and(|t| crate::secret::same_secret(t, expected.expose())) {
        return None;
    }
    Some((StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "bearer token required\n").into_response())
}

/// A line for each thing the service needs, and a warning while no sender can be verified
/// (a warning, not a failure: mail still flows).
pub fn sender_verification(trusted_authserv_id: &str) -> Option<&'static str> {
    trusted_authserv_id.trim().is_empty().then_some("warning: trusted_authserv_id is empty: no sender can be verified")
}

pub async fn readyz(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&state, &headers) {
        return r;
    }
    let db = state.desk.store().ping().await.is_ok();
    let imap = state.intake.healthy();
    let mut body = format!(
        "database: {}\nimap: {}\n",
        if db { "ok" } else { "unreachable" },
        if imap { "ok" } else { "not connected" }
    );
    if let Some(w) = sender_verification(state.desk.trusted_authserv_id()) {
        body.push_str(w);
        body.push('\n');
    }
    (if db && imap { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, body).into_response()
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(r) = refused(&state, &headers) {
        return r;
    }
    // Gauges read at scrape time: the queue depth from the database, reconnects from the intake.
    if let Ok(depth) = state.desk.store().outbox_pending().await {
        metrics::gauge!("routedesk_outbox_queued").set(depth as f64);
    }
    // What the last reconciliation of the mailbox with the ledger found, and when it ran.
    if let Ok(Some(run)) = state.desk.store().last_reconcile().await {
        if let Ok(found) = state.desk.store().unmatched_mail().await {
            metrics::gauge!("routedesk_reconcile_unmatched").set(found.len() as f64);
        }
        metrics::gauge!("routedesk_reconcile_last_run_timestamp_seconds").set(run.finished_at.unix_timestamp() as f64);
        metrics::gauge!("routedesk_reconcile_failed").set(if run.error.is_some() { 1.0 } else { 0.0 });
    }
    let (open, idle) = state.desk.store().connections();
    metrics::gauge!("routedesk_db_connections").set(f64::from(open));
    metrics::gauge!("routedesk_db_connections_idle").set(idle as f64);
    metrics::gauge!("routedesk_imap_reconnects").set(state.intake.reconnects.load(Ordering::Relaxed) as f64);
    metrics::gauge!("routedesk_imap_connected").set(if state.intake.connected.load(Ordering::Relaxed) {
        1.0
    } else {
        0.0
    });
    let body = state.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// The process-wide Prometheus recorder, installed once.
pub fn recorder() -> Option<metrics_exporter_prometheus::PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full("routedesk_ingest_seconds".into()),
                    &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0],
                )
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}
