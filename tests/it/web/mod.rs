//! The staff web view, driven through its router with a real database (SQLite and PostgreSQL):
//! every page and action, sign-in, roles and the municipality boundary, CSRF, safe display of
//! hostile mail, and the JSON API. `e2e.rs` drives it in real headless Chromium.

mod access;
mod actions;
mod audit;
mod e2e;
mod enumeration;

pub use e2e::browse as browse_page;
mod isolation;
mod language;
mod learning;
mod neighbours;
mod pages;
mod passwords;
mod pictures;
mod sessions;
mod sso;
mod sso_browser;
mod xss;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use routedesk::config::WebConfig;
use routedesk::desk::Desk;
use routedesk::service::Running;
use routedesk::store::Store;
use routedesk::web::{AppState, auth};
use tower::ServiceExt as _;

use crate::support::scratch::TestDatabase;
use crate::support::{Db, Helpdesk, spawn_helpdesk};

pub const PASSWORD: &str = "correct horse battery";

/// The service on the rig (SQLite) with the staff account `kari` (helpdesk, [`PASSWORD`]): what the
/// browser tests sign in to.
pub async fn spawn_with_kari() -> (Helpdesk, Running, Store) {
    let (hd, svc) = spawn_helpdesk(Db::Sqlite).await;
    let store = hd.store().await;
    let hash = routedesk::secret::hash_password(PASSWORD).expect("hash");
    store.create_user("kari", "Kari Helpdesk", routedesk::domain::Role::Helpdesk, None, &hash).await.expect("user");
    (hd, svc, store)
}

/// A web view on a fresh database, with staff accounts and tickets made from the fixture corpus.
pub struct App {
    pub router: Router,
    pub state: AppState,
    /// The test's own database.
    pub database_url: String,
    /// Removes that database when the app made it.
    _database: Option<TestDatabase>,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports").join(name))
        .expect("fixture")
}

impl App {
    pub async fn new(db: Db) -> App {
        App::with_web(db, &WebConfig::default()).await
    }

    /// A web view configured as `web` says (trusted proxies, tokens, cookies).
    pub async fn with_web(db: Db, web: &WebConfig) -> App {
        App::with(db, web, |_| {}).await
    }

    /// A web view configured as `web` says, on a desk whose configuration `change` edits.
    pub async fn with(db: Db, web: &WebConfig, change: impl FnOnce(&mut routedesk::config::Config)) -> App {
        crate::support::init_logging();
        let database = TestDatabase::new(db).await;
        let url = database.url.clone();
        let store = Store::connect(&url).await.expect("store");
        let mut cfg = crate::support::desk_config(&url);
        cfg.web.public_url = "https://helpdesk.example".into();
        change(&mut cfg);
        let desk = Desk::new(&cfg, store.clone()).await.expect("desk");
        let hash = routedesk::secret::hash_password(PASSWORD).expect("hash");
        store.create_user("admin", "Admin", routedesk::domain::Role::Admin, None, &hash).await.expect("user");
        store.create_user("kari", "Kari Helpdesk", routedesk::domain::Role::Helpdesk, None, &hash).await.expect("user");
        store
            .create_user("ola", "Ola Østre Toten", routedesk::domain::Role::Municipal, Some("ostre-toten"), &hash)
            .await
            .expect("user");
        let state = AppState::new(desk, Arc::default(), web).expect("web state");
        App { _database: Some(database), ..App::serving(state, url) }
    }

    /// The web view of `state` (e.g. one changed by a test) on the database at `database_url`.
    pub fn serving(state: AppState, database_url: String) -> App {
        App::serving_from(state, database_url, SocketAddr::from(([127, 0, 0, 1], 40000)))
    }

    /// As [`App::serving`], for requests from `peer` (a staff member at their own machine).
    pub fn serving_from(state: AppState, database_url: String, peer: SocketAddr) -> App {
        let router = routedesk::web::router(state.clone()).layer(MockConnectInfo(peer));
        App { router, state, database_url, _database: None }
    }

    /// Adds a staff account with the test password.
    pub async fn add_user(&self, username: &str, role: &str, municipality: Option<&str>) {
        let hash = routedesk::secret::hash_password(PASSWORD).expect("hash");
        self.state
            .desk
            .store()
            .create_user(username, username, role.parse().expect("a role"), municipality, &hash)
            .await
            .expect("user");
    }

    /// Records fixture reports as if they had arrived; returns the ticket numbers in order.
    pub async fn ingest(&self, files: &[&str]) -> Vec<String> {
        let mut out = Vec::new();
        for f in files {
            match self.state.desk.ingest(&fixture(f), None).await.expect("ingest") {
                routedesk::desk::Outcome::Ticket { number, .. } => out.push(number),
                other => out.push(format!("{other:?}")),
            }
        }
        out
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.expect("router answers")
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> Response<Body> {
        let mut b = Request::get(path).header(header::HOST, "localhost");
        if let Some(s) = session {
            b = b.header(header::COOKIE, format!("{}={}", self.state.session_cookie(), s.cookie));
        }
        self.send(b.body(Body::empty()).expect("request")).await
    }

    /// A GET by a reader who chose English.
    pub async fn get_in_english(&self, path: &str, session: &Session) -> Response<Body> {
        let cookie = format!("{}={}; {}=en", self.state.session_cookie(), session.cookie, auth::LANG_COOKIE);
        let req = Request::get(path).header(header::HOST, "localhost").header(header::COOKIE, cookie);
        self.send(req.body(Body::empty()).expect("request")).await
    }

    /// A form POST from our own origin.
    pub async fn post(&self, path: &str, session: Option<&Session>, form: &[(&str, &str)]) -> Response<Body> {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", auth::urlencode(v).replace('/', "%2F")))
            .collect::<Vec<_>>()
            .join("&");
        let mut b = Request::post(path)
            .header(header::HOST, "localhost")
            .header(header::ORIGIN, "http://localhost")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(s) = session {
            b = b.header(header::COOKIE, format!("{}={}", self.state.session_cookie(), s.cookie));
        }
        self.send(b.body(Body::from(body)).expect("request")).await
    }

    /// Signs in through the real form; panics if it fails.
    pub async fn sign_in(&self, user: &str) -> Session {
        self.try_sign_in(user, PASSWORD).await.unwrap_or_else(|r| panic!("sign-in as {user} failed: {}", r.status()))
    }

    pub async fn try_sign_in(&self, user: &str, password: &str) -> Result<Session, Response<Body>> {
        self.try_sign_in_from(None, user, password).await
    }

    /// Signs in with `X-Forwarded-For: forwarded` when given (believed only from trusted proxies;
    /// requests come from 127.0.0.1).
    pub async fn try_sign_in_from(
        &self,
        forwarded: Option<&str>,
        user: &str,
        password: &str,
    ) -> Result<Session, Response<Body>> {
        let form = self.get("/login", None).await;
        let token = set_cookie(&form, self.state.login_cookie()).expect("the login form sets its token cookie");
        let body = format!(
            "username={}&password={}&csrf={token}&next=%2Ftickets",
            auth::urlencode(user),
            auth::urlencode(password)
        );
        let mut req = Request::post("/login")
            .header(header::HOST, "localhost")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("{}={token}", self.state.login_cookie()));
        if let Some(f) = forwarded {
            req = req.header("x-forwarded-for", f);
        }
        let res = self.send(req.body(Body::from(body)).expect("request")).await;
        match set_cookie(&res, self.state.session_cookie()) {
            Some(cookie) if res.status() == StatusCode::SEE_OTHER => Ok(self.session(cookie).await),
            _ => Err(res),
        }
    }

    /// The signed-in browser of this session cookie, with the form token its pages carry.
    pub async fn session(&self, cookie: String) -> Session {
        let page = self.get("/tickets", Some(&Session { cookie: cookie.clone(), csrf: String::new() })).await;
        let html = text(page).await;
        let csrf = html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_string();
        Session { cookie, csrf }
    }
}

/// A signed-in browser: its session cookie and the form token of its pages.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub fn set_cookie(res: &Response<Body>, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}=")).map(|rest| rest.split(';').next().unwrap_or_default().to_string())
        })
        .filter(|v| !v.is_empty())
}

pub async fn text(res: Response<Body>) -> String {
    String::from_utf8_lossy(&res.into_body().collect().await.expect("body").to_bytes()).into_owned()
}

pub fn location(res: &Response<Body>) -> String {
    res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}
