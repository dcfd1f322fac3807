//! Connecting and signing in to the IMAP server: IMAPS, STARTTLS or (loopback only) plain, with
//! rustls and the Mozilla roots plus an optional extra CA.

use std::fmt::Debug;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::config::{AuthMethod, Endpoint, ImapConfig, Mechanism, Security};
use crate::tokens::{Bearer, TokenSource};

/// Any byte stream an IMAP session can run on (plain TCP or TLS).
pub trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}

pub type Session = async_imap::Session<Box<dyn ImapIo>>;

/// The deadline of each step of connecting and signing in (and of every later IMAP command).
pub fn deadline(cfg: &ImapConfig) -> Duration {
    Duration::from_secs(cfg.timeout_secs.max(1))
}

/// Runs `fut` within `limit`, naming `what` when it runs out.
async fn within<T>(limit: Duration, what: &str, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(limit, fut).await.map_err(|_| anyhow!("{what}: no answer within {} s", limit.as_secs()))?
}

/// How the intake signs in: the configured password, or an OAuth2 token.
#[derive(Clone)]
pub enum Login {
    Password,
    OAuth2 { tokens: std::sync::Arc<TokenSource>, mechanism: Mechanism },
}

impl Login {
    pub fn new(cfg: &ImapConfig, tokens: Option<std::sync::Arc<TokenSource>>, mechanism: Mechanism) -> Result<Login> {
        Ok(match cfg.auth {
            AuthMethod::Password => Login::Password,
            AuthMethod::Oauth2 => {
                Login::OAuth2 { tokens: tokens.context("imap.auth is oauth2 but [oauth2] is missing")?, mechanism }
            }
        })
    }
}

pub async fn connect(cfg: &ImapConfig, login: &Login) -> Result<Session> {
    let ep = Endpoint::parse(&cfg.url, &["imap", "imaps"], cfg.starttls, cfg.allow_plain).map_err(|e| anyhow!(e))?;
    let t = deadline(cfg);
    let tcp = within(t, &format!("connecting to {}:{}", ep.host, ep.port), async {
        TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .with_context(|| format!("cannot connect to IMAP server {}:{}", ep.host, ep.port))
    })
    .await?;
    tcp.set_nodelay(true).ok();
    let stream: Box<dyn ImapIo> = match ep.security {
        Security::Plain => Box::new(tcp),
        Security::Tls => Box::new(within(t, "the TLS handshake", tls(cfg, &ep.host, tcp)).await?),
        Security::StartTls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client, t).await?;
            within(t, "STARTTLS", async {
                client.run_command_and_check_ok("STARTTLS", None).await.context("STARTTLS refused")
            })
            .await?;
            Box::new(within(t, "the TLS handshake", tls(cfg, &ep.host, client.into_inner())).await?)
        }
    };
    let mut client = async_imap::Client::new(stream);
    if ep.security != Security::StartTls {
        greeting(&mut client, t).await?;
    }
    match login {
        Login::Password => {
            within(t, "LOGIN", async {
                client
                    .login(&cfg.user, cfg.password.expose())
                    .await
                    .map_err(|(e, _)| anyhow!(e).context(format!("IMAP login as {} failed", cfg.user)))
            })
            .await
        }
        Login::OAuth2 { tokens, mechanism } => authenticate(client, cfg, tokens, *mechanism, t).await,
    }
}

/// SASL with a token; a refused token (expired early, revoked) is replaced once and tried again.
async fn authenticate(
    mut client: async_imap::Client<Box<dyn ImapIo>>,
    cfg: &ImapConfig,
    tokens: &TokenSource,
    mechanism: Mechanism,
    t: Duration,
) -> Result<Session> {
    let mut last = None;
    for _ in 0..2 {
        let token = tokens.token().await.context("getting an OAuth2 token for IMAP")?;
        let bearer = Bearer::new(mechanism, &cfg.user, token.expose());
        match tokio::time::timeout(t, client.authenticate(mechanism.as_str(), bearer)).await {
            Err(_) => anyhow::bail!("AUTHENTICATE {}: no answer within {} s", mechanism.as_str(), t.as_secs()),
            Ok(Ok(session)) => return Ok(session),
            Ok(Err((e, back))) => {
                tokens.refused(&token).await;
                last = Some(e);
                client = back;
            }
        }
    }
    let e = last.map_or_else(|| anyhow!("no answer"), anyhow::Error::from);
    Err(e.context(format!("IMAP AUTHENTICATE {} as {} failed", mechanism.as_str(), cfg.user)))
}

async fn greeting<T: ImapIo>(client: &mut async_imap::Client<T>, limit: Duration) -> Result<()> {
    within(limit, "the IMAP greeting", async {
        client
            .read_response()
            .await
            .context("reading the IMAP greeting")?
            .context("the server closed the connection before its greeting")?;
        Ok(())
    })
    .await
}

async fn tls<T: ImapIo + 'static>(cfg: &ImapConfig, host: &str, tcp: T) -> Result<tokio_rustls::client::TlsStream<T>> {
    crate::tls::handshake(&crate::tls::connector(cfg.ca_cert.as_deref())?, host, tcp).await
}
