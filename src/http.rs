//! Outgoing HTTP (the vendor's status page, OAuth2 and OpenID endpoints): one set-up for all —
//! rustls with ring and the webpki roots, a firm timeout, and no redirects followed (a token
//! endpoint that redirects is misconfigured, and following it could send secrets elsewhere).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};

pub fn client() -> Result<reqwest::Client> {
    use tokio_rustls::rustls;
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .context("TLS set-up")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("routedesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("HTTP client")
}

/// The HTTP client in the shape the `oauth2` and `openidconnect` crates call.
#[derive(Clone)]
pub struct OAuthHttp(pub reqwest::Client);

/// Why an OAuth2 or OpenID request did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Request(#[from] reqwest::Error),
    #[error("{0}")]
    Http(#[from] http::Error),
    #[error("bad request: {0}")]
    Url(String),
}

type Response = http::Response<Vec<u8>>;

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Response, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: http::Request<Vec<u8>>) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| HttpError::Url(e.to_string()))?;
            let response = self.0.request(parts.method, url).headers(parts.headers).body(body).send().await?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            Ok(builder.body(response.bytes().await?.to_vec())?)
        })
    }
}
