//! The OpenID provider on loopback for the staff sign-in tests: npm `oidc-provider`, started once per
//! run by `scripts/oidc start` (tests/oidc/README.md: client `routedesk-web`, test accounts with
//! `groups`). Beside it: its sign-in form driven over plain HTTP (no browser), its own signing key
//! (for ID tokens correctly signed but wrong in one claim), and a token endpoint in front of it that
//! hands routedesk a changed ID token.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use routedesk::config::{OidcConfig, RoleMapping, Secret};
use serde_json::{Map, Value};

/// The test accounts (tests/oidc/README.md) and their groups.
pub const ADMIN: &str = "admin@region.test"; // rd-admins
pub const HELPDESK: &str = "helpdesk@region.test"; // rd-helpdesk
pub const KARI: &str = "kari@gjovik.kommune.no"; // rd-municipal-gjovik
pub const NOBODY: &str = "ingen@region.test"; // no group

pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub password: String,
    state_dir: PathBuf,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/oidc")
}

/// Runs `scripts/oidc ARGS` with extra environment, failing the test with its output if it fails.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(script()).args(args).envs(env.iter().copied()).output().expect("scripts/oidc runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scripts/oidc {} failed:\n{text}", args.join(" "));
    text
}

/// One value of `scripts/oidc env` (the provider's addresses, clients and accounts).
pub fn var(name: &str) -> String {
    static ENV: OnceLock<String> = OnceLock::new();
    super::level::env_var(ENV.get_or_init(|| run(&["env"], &[])), name)
}

/// The provider, started once per test run when it is required (`ROUTEDESK_TEST_SERVICES`), else
/// found running (a test that calls this says `needs!(Oidc)` first).
pub fn ensure() -> &'static Provider {
    static PROVIDER: OnceLock<Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        if super::level::Service::Oidc.required() {
            run(&["start"], &[]);
        }
        Provider {
            issuer: var("OIDC_ISSUER"),
            client_id: var("OIDC_WEB_CLIENT_ID"),
            client_secret: var("OIDC_WEB_CLIENT_SECRET"),
            password: var("OIDC_USER_PASSWORD"),
            state_dir: std::env::var_os("OIDC_STATE_DIR").map_or_else(|| "/tmp/routedesk-oidc".into(), PathBuf::from),
        }
    })
}

/// The role map of the tests: every group of the test accounts but none for `ingen@region.test`.
pub fn role_map() -> Vec<RoleMapping> {
    let map = |value: &str, role: &str, municipality: Option<&str>| RoleMapping {
        value: value.into(),
        role: role.into(),
        municipality: municipality.map(String::from),
    };
    vec![
        map("rd-admins", "admin", None),
        map("rd-helpdesk", "helpdesk", None),
        map("rd-municipal-gjovik", "municipal", Some("gjovik")),
        map("rd-municipal-ostre-toten", "municipal", Some("ostre-toten")),
        map("rd-privacy", "privacy", None),
    ]
}

impl Provider {
    /// `[web.oidc]` for routedesk at `base` (`http://127.0.0.1:PORT`).
    pub fn config(&self, base: &str) -> OidcConfig {
        OidcConfig {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: Some(Secret::new(self.client_secret.clone())),
            client_secret_file: None,
            redirect_url: format!("{base}/auth/callback"),
            post_logout_redirect_url: None,
            scopes: ["openid", "email", "profile"].map(String::from).to_vec(),
            role_claim: "groups".into(),
            role_map: role_map(),
            display_name: "Testregionen".into(),
            password_login: true,
        }
    }

    /// A browser without a browser: follows `url` (the provider's authorization URL) through its
    /// sign-in form as `email` and gives the URL the provider sends the browser back to.
    pub async fn sign_in(&self, url: &str, email: &str) -> String {
        let mut agent = Agent::new(&self.issuer);
        agent.sign_in(url, email, &self.password).await
    }

    /// The provider's own signing key (from its state folder), checked against what it publishes.
    pub async fn signer(&self) -> Signer {
        let text = std::fs::read_to_string(self.state_dir.join("keys.json"))
            .expect("the provider's keys.json (set OIDC_STATE_DIR when it runs elsewhere)");
        let state: Value = serde_json::from_str(&text).expect("keys.json is JSON");
        let jwk = &state["jwk"];
        let part = |k: &str| B64.decode(jwk[k].as_str().unwrap_or_default()).expect("base64url key part");
        let components = ring::rsa::KeyPairComponents {
            public_key: ring::rsa::PublicKeyComponents { n: part("n"), e: part("e") },
            d: part("d"),
            p: part("p"),
            q: part("q"),
            dP: part("dp"),
            dQ: part("dq"),
            qInv: part("qi"),
        };
        let key = ring::signature::RsaKeyPair::from_components(&components).expect("an RSA key");
        let kid = jwk["kid"].as_str().expect("kid").to_string();
        let jwks: Value = routedesk::http::client()
            .expect("client")
            .get(format!("{}/jwks", self.issuer))
            .send()
            .await
            .expect("jwks")
            .json()
            .await
            .expect("jwks json");
        assert!(
            jwks["keys"].as_array().is_some_and(|k| k.iter().any(|k| k["kid"] == kid.as_str())),
            "the provider publishes key {kid} (is OIDC_STATE_DIR the running provider's?)"
        );
        Signer { key, kid }
    }
}

/// Cookies by name, as a browser would send them back (paths are not kept apart: the provider's
/// cookies have distinct names).
pub struct Agent {
    base: String,
    jar: BTreeMap<String, String>,
    http: reqwest::Client,
}

impl Agent {
    pub fn new(base: &str) -> Agent {
        Agent { base: base.to_string(), jar: BTreeMap::new(), http: routedesk::http::client().expect("client") }
    }

    fn cookies(&self) -> String {
        self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep(&mut self, headers: &reqwest::header::HeaderMap) {
        for v in headers.get_all(reqwest::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let pair = v.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.to_ascii_lowercase().contains("expires=thu, 01 jan 1970") {
                    self.jar.remove(k.trim());
                } else {
                    self.jar.insert(k.trim().to_string(), val.to_string());
                }
            }
        }
    }

    /// GET (or POST `form`) at `url`: status, the redirect target (absolute), the body.
    pub async fn request(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> (StatusCode, Option<String>, String) {
        let http = &self.http;
        let req = match form {
            None => http.get(url),
            Some(f) => http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(f.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")),
        };
        let res = req.header(reqwest::header::COOKIE, self.cookies()).send().await.expect("the provider answers");
        self.keep(res.headers());
        let status = StatusCode::from_u16(res.status().as_u16()).expect("status");
        let location = res.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).map(|l| {
            reqwest::Url::parse(url).and_then(|base| base.join(l)).map(|u| u.to_string()).unwrap_or(l.to_string())
        });
        (status, location, res.text().await.unwrap_or_default())
    }

    /// Follows `url` through the provider's sign-in form as `email`; gives the first redirect that
    /// leaves the provider (routedesk's callback with `code` and `state`).
    pub async fn sign_in(&mut self, url: &str, email: &str, password: &str) -> String {
        let mut next = (url.to_string(), None::<Vec<(&str, &str)>>);
        for _ in 0..20 {
            let (status, location, body) = self.request(&next.0, next.1.as_deref()).await;
            if let Some(to) = location.filter(|_| status.is_redirection()) {
                if !to.starts_with(&self.base) {
                    return to;
                }
                next = (to, None);
                continue;
            }
            let action = body
                .split("id=\"login-form\"")
                .nth(1)
                .and_then(|f| f.split("action=\"").nth(1))
                .and_then(|a| a.split('"').next())
                .unwrap_or_else(|| panic!("no sign-in form at {} ({status}):\n{body}", next.0));
            next = (format!("{}{action}", self.base), Some(vec![("login", email), ("password", password)]));
        }
        panic!("the provider's sign-in did not end in a redirect to routedesk");
    }
}

fn urlencode(s: &str) -> String {
    routedesk::web::auth::urlencode(s).replace('/', "%2F")
}

/// The provider's signing key.
pub struct Signer {
    key: ring::signature::RsaKeyPair,
    kid: String,
}

/// The header and claims of a JWT, unverified.
pub fn parts(token: &str) -> (Map<String, Value>, Map<String, Value>) {
    let mut it = token.split('.');
    let mut next = || {
        let raw = B64.decode(it.next().unwrap_or_default()).expect("base64url");
        serde_json::from_slice(&raw).expect("a JSON object")
    };
    (next(), next())
}

fn encode(v: &Map<String, Value>) -> String {
    B64.encode(serde_json::to_vec(v).expect("json"))
}

impl Signer {
    /// `token` with its claims changed by `change`, signed again with the provider's key (RS256).
    pub fn resign(&self, token: &str, change: impl FnOnce(&mut Map<String, Value>)) -> String {
        let (mut header, mut claims) = parts(token);
        change(&mut claims);
        header.insert("alg".into(), "RS256".into());
        header.insert("kid".into(), self.kid.clone().into());
        let input = format!("{}.{}", encode(&header), encode(&claims));
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
            .expect("signs");
        format!("{input}.{}", B64.encode(sig))
    }
}

/// `token` with its claims changed and its old signature kept: a forgery.
pub fn forge(token: &str, change: impl FnOnce(&mut Map<String, Value>)) -> String {
    let (header, mut claims) = parts(token);
    change(&mut claims);
    let signature = token.rsplit('.').next().unwrap_or_default();
    format!("{}.{}.{signature}", encode(&header), encode(&claims))
}

/// `token` signed with HS256 and `secret` (the client secret: anyone holding it could mint these).
pub fn hs256(token: &str, secret: &str) -> String {
    let (mut header, claims) = parts(token);
    header.insert("alg".into(), "HS256".into());
    header.remove("kid");
    let input = format!("{}.{}", encode(&header), encode(&claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    format!("{input}.{}", B64.encode(ring::hmac::sign(&key, input.as_bytes()).as_ref()))
}

/// `token` unsigned (`alg: none`).
pub fn unsigned(token: &str) -> String {
    let (mut header, claims) = parts(token);
    header.insert("alg".into(), "none".into());
    format!("{}.{}.", encode(&header), encode(&claims))
}

/// A token endpoint in front of the provider's: it passes the request on and hands back the answer
/// with the ID token changed by `change`. Gives its URL.
pub async fn token_front(real: String, change: Arc<dyn Fn(&str) -> String + Send + Sync>) -> String {
    let http = routedesk::http::client().expect("client");
    let handler = move |headers: HeaderMap, body: axum::body::Bytes| {
        let (http, real, change) = (http.clone(), real.clone(), change.clone());
        async move {
            let mut req = http.post(&real).body(body.to_vec());
            for name in [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT] {
                if let Some(v) = headers.get(&name).and_then(|v| v.to_str().ok()) {
                    req = req.header(name.as_str(), v);
                }
            }
            let res = req.send().await.expect("the provider's token endpoint answers");
            let status = StatusCode::from_u16(res.status().as_u16()).expect("status");
            let mut json: Value = res.json().await.expect("a JSON answer");
            if let Some(t) = json.get("id_token").and_then(Value::as_str).map(|t| change(t)) {
                json["id_token"] = Value::String(t);
            }
            (status, axum::Json(json))
        }
    };
    let app = axum::Router::new().route("/token", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/token")
}
