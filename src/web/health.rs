//! `/healthz` (the process answers), `/readyz` (database and IMAP reachable), `/metrics` (Prometheus).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use super::AppState;

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let db = state.desk.store.ping().await.is_ok();
    let imap = state.intake.healthy();
    let body = format!(
        "database: {}\nimap: {}\n",
        if db { "ok" } else { "unreachable" },
        if imap { "ok" } else { "not connected" }
    );
    (if db && imap { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, body)
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    // Gauges read at scrape time: the queue depth from the database, reconnects from the intake.
    if let Ok(depth) = state.desk.store.outbox_pending().await {
        metrics::gauge!("routedesk_outbox_queued").set(depth as f64);
    }
    metrics::gauge!("routedesk_imap_reconnects").set(state.intake.reconnects.load(Ordering::Relaxed) as f64);
    metrics::gauge!("routedesk_imap_connected").set(if state.intake.connected.load(Ordering::Relaxed) {
        1.0
    } else {
        0.0
    });
    let body = state.metrics.as_ref().map(|h| h.render()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
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
