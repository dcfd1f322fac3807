//! The staff web view (axum + askama): the ticket log, ticket detail and actions, mail set aside,
//! the policy tester, a dashboard, a read-only JSON API, health and metrics. Server-rendered HTML
//! that works without JavaScript.

mod api;
pub mod audit;
pub mod auth;
pub mod client;
mod error;
pub mod health;
pub mod i18n;
pub mod limiter;
mod pages;

/// The report section of a ticket's page, as staff read it (also what the fuzz target renders).
pub use pages::ticket::render_report;
mod security;
pub mod sso;
pub mod thumbnail;
pub mod visibility;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{MethodRouter, get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::desk::Desk;
use crate::intake::IntakeStats;

pub use error::{WebError, WebResult};

#[derive(Clone)]
pub struct AppState {
    /// The ticket desk: store, policy and the actions staff take.
    pub desk: Desk,
    pub intake: Arc<IntakeStats>,
    pub metrics: Option<PrometheusHandle>,
    /// Cookies get `Secure` (set when routedesk is served over TLS, e.g. behind a proxy).
    pub secure_cookies: bool,
    pub limiter: Arc<limiter::LoginLimiter>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// The bearer token `/metrics` and `/readyz` ask for; `None`: open.
    pub metrics_token: Option<crate::config::Secret>,
    /// The alerts that hold, for the banner on every staff page.
    pub alerts: Arc<crate::alerts::watch::Board>,
    /// Sign-in at the region's OpenID provider (`[web.oidc]`).
    pub sso: Option<Arc<sso::Sso>>,
}

impl AppState {
    /// The web view's state for `desk`, as configured in `[web]`.
    pub fn new(desk: Desk, intake: Arc<IntakeStats>, web: &crate::config::WebConfig) -> anyhow::Result<AppState> {
        let proxies = crate::config::parse_proxies(&web.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("web.trusted_proxies: {e}"))?;
        let sso = web.oidc.as_ref().map(|o| sso::Sso::new(o, desk.policy())).transpose()?.map(Arc::new);
        Ok(AppState {
            desk,
            intake,
            metrics: health::recorder(),
            secure_cookies: web.secure_cookies,
            limiter: Arc::default(),
            trusted_proxies: proxies.into(),
            metrics_token: Some(web.metrics_token.clone()).filter(|t| !t.expose().is_empty()),
            alerts: Arc::default(),
            sso,
        })
    }

    /// The session cookie's name (`__Host-` prefixed when cookies are `Secure`).
    pub fn session_cookie(&self) -> &'static str {
        auth::session_cookie(self.secure_cookies)
    }

    /// The sign-in form's token cookie's name (prefixed as the session cookie's).
    pub fn login_cookie(&self) -> &'static str {
        auth::login_cookie(self.secure_cookies)
    }

    /// Whether everyone may sign in with a password (otherwise break-glass accounts only).
    pub fn password_login(&self) -> bool {
        self.sso.as_ref().is_none_or(|s| s.config().password_login)
    }
}

/// One route: a method, a path and its handler.
struct Route {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
}

fn get_<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    Route { method: Method::GET, path, handler: get(handler) }
}

fn post_<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Route {
    Route { method: Method::POST, path, handler: post(handler) }
}

/// Every route of the web view. The router is built from this list alone, and the tests walk it:
/// a route added here is in the municipality-isolation and CSRF tests, which fail until they are
/// told what to expect of it.
fn table() -> Vec<Route> {
    use pages::*;
    vec![
        get_("/", home),
        get_("/login", login::form),
        post_("/login", login::submit),
        post_("/logout", login::logout),
        get_("/auth/login", oidc::begin),
        get_("/auth/callback", oidc::callback),
        get_("/lang/{code}", login::language),
        get_("/tickets", log::page),
        get_("/tickets/{number}", ticket::page),
        get_("/tickets/{number}/files/{id}", files::file),
        get_("/tickets/{number}/files/{id}/thumbnail", files::thumbnail),
        post_("/tickets/{number}/{action}", ticket::act),
        get_("/incidents", incidents::list),
        get_("/incidents/{number}", incidents::page),
        post_("/incidents/{number}/{action}", incidents::act),
        get_("/privacy", privacy::list),
        get_("/privacy/{number}", privacy::page),
        post_("/privacy/{number}/{action}", privacy::act),
        get_("/mail", mail::page),
        get_("/mail/{id}/raw", mail::raw),
        post_("/mail/{id}/ticket", mail::make_ticket),
        get_("/tester", tester::form),
        post_("/tester", tester::decide),
        get_("/dashboard", dashboard::page),
        get_("/audit", audit::page),
        get_("/learning", learning::page),
        post_("/learning/{id}/undo", learning::undo),
        get_("/api/tickets", api::tickets),
        get_("/api/tickets/{number}", api::ticket),
        get_("/status", status::page),
        get_("/status.json", status::json),
        get_("/healthz", health::healthz),
        get_("/readyz", health::readyz),
        get_("/metrics", health::metrics),
        get_("/static/app.css", stylesheet),
        get_("/favicon.ico", favicon),
    ]
}

/// The method and path of every route, as the router serves them.
pub fn routes() -> Vec<(Method, &'static str)> {
    table().into_iter().map(|r| (r.method, r.path)).collect()
}

pub fn router(state: AppState) -> Router {
    // Over HTTPS, browsers are told to use nothing else for a year.
    let hsts = state.secure_cookies.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    table()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .layer(axum::middleware::from_fn(security::same_origin))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(tower::util::option_layer(hsts))
        .layer(axum::middleware::from_fn(error::in_readers_language))
        .layer(axum::extract::DefaultBodyLimit::max(30 * 1024 * 1024))
        // Outermost last: the id is set first, then the span opens with it.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The span of one request: its id (ours, or the `X-Request-Id` a proxy gave it) is on every log
/// line written while serving it, and is returned in the response.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
}

/// Serves the web view on `listener` until `shutdown` turns true.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<()> {
    tracing::info!(address = %listener.local_addr().context("listener address")?, "web view listening");
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
        .context("web server")
}
