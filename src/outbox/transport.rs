//! SMTP sessions to the relay (lettre's connection), secured as the configuration says, with a
//! deadline on every step: a server that accepts the connection and then says nothing must not
//! hold the outbox. A session that failed or ran out of time is dropped, never reused; a healthy
//! one is kept for the next mail.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use super::end_of_data::Watched;
use crate::config::{AuthMethod, Config, Endpoint, Mechanism, Security};
use crate::tokens::TokenSource;

/// A kept session older than this is closed rather than reused (servers drop idle clients).
const KEEP_FOR: Duration = Duration::from_secs(60);
/// The slowest transfer rate allowed before a DATA transfer counts as stalled.
const MIN_BYTES_PER_SEC: u64 = 50_000;

/// Why a mail was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the SMTP server did not answer {0} within {1} s")]
    Timeout(&'static str, u64),
    #[error("no OAuth2 token for SMTP: {0:#}")]
    Token(anyhow::Error),
    #[error("cannot connect to the SMTP server: {0:#}")]
    Connect(anyhow::Error),
    /// The session was lost after the end of the mail went out: the server may have it.
    #[error("the connection was lost after the mail was handed over, before the server's answer: {0}")]
    AfterData(String),
}

impl SendError {
    /// A 5xx answer: the mail will never be accepted as it is.
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Smtp(e) if e.is_permanent())
    }

    /// The server may have accepted the mail although its answer never came.
    pub fn may_have_arrived(&self) -> bool {
        matches!(self, SendError::AfterData(_))
    }
}

/// A signed-in session, and whether the end of its current mail's DATA went out.
struct Session {
    conn: AsyncSmtpConnection,
    since: Instant,
    data_ended: Arc<AtomicBool>,
}

pub struct Transport {
    host: String,
    port: u16,
    security: Security,
    /// For STARTTLS: lettre upgrades the session.
    tls: Option<TlsParameters>,
    /// For implicit TLS: the handshake is ours, on our socket.
    wrap: Option<tokio_rustls::TlsConnector>,
    hello: ClientId,
    login: Login,
    /// The deadline of one SMTP step (connect, greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, the end
    /// of DATA); the DATA transfer gets more by its size.
    step: Duration,
    kept: Mutex<Vec<Session>>,
    /// Sessions kept open between mails: one per outbox worker.
    keep: usize,
}

/// How the outbox signs in to the relay.
enum Login {
    None,
    Password(Credentials),
    OAuth2 { user: String, tokens: std::sync::Arc<TokenSource>, mechanism: Mechanism },
}

pub fn build(cfg: &Config, tokens: Option<std::sync::Arc<TokenSource>>) -> Result<Transport> {
    let ep = Endpoint::parse(&cfg.smtp.url, &["smtp", "smtps"], cfg.smtp.starttls, cfg.smtp.allow_plain)
        .map_err(anyhow::Error::msg)?;
    // STARTTLS is lettre's (on our socket); implicit TLS is ours (`wrap`).
    let tls = if ep.security != Security::StartTls {
        None
    } else {
        let mut params = TlsParameters::builder(ep.host.clone());
        if let Some(ca) = &cfg.smtp.ca_cert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            params = params
                .add_root_certificate(Certificate::from_pem(&pem).context("smtp.ca_cert is not a PEM certificate")?);
        }
        Some(params.build_rustls().context("setting up TLS for SMTP")?)
    };
    let wrap = match ep.security {
        Security::Tls => Some(crate::tls::connector(cfg.smtp.ca_cert.as_deref()).context("setting up TLS for SMTP")?),
        _ => None,
    };
    let login = match (cfg.smtp.auth, &cfg.smtp.user, &cfg.smtp.password) {
        (Some(AuthMethod::Oauth2), user, _) => Login::OAuth2 {
            user: user.clone().unwrap_or_else(|| cfg.mailbox.clone()),
            tokens: tokens.context("smtp.auth is oauth2 but [oauth2] is missing")?,
            mechanism: cfg.oauth2.as_ref().map(|o| o.mechanism).unwrap_or_default(),
        },
        (_, Some(user), Some(pw)) => Login::Password(Credentials::new(user.clone(), pw.expose().to_string())),
        _ => Login::None,
    };
    let hello = crate::text::address::EmailAddress::parse(&cfg.mailbox)
        .map(|a| ClientId::Domain(a.domain().to_string()))
        .unwrap_or_default();
    Ok(Transport {
        host: ep.host,
        port: ep.port,
        security: ep.security,
        tls,
        wrap,
        hello,
        login,
        step: Duration::from_secs(cfg.smtp.timeout_secs.max(1)),
        kept: Mutex::new(Vec::new()),
        keep: usize::try_from(cfg.outbox.sessions).unwrap_or(1),
    })
}

impl Transport {
    /// Hands one mail to the server: `Ok` once it answered 250 to the end of DATA.
    pub async fn send_raw(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        let mut session = match self.reuse().await {
            Some(c) => c,
            None => match self.connect().await {
                // A refused token (expired early, revoked) is replaced once, on a new session.
                Err(SendError::Smtp(e)) if matches!(self.login, Login::OAuth2 { .. }) && e.is_permanent() => {
                    self.connect().await?
                }
                other => other?,
            },
        };
        let size = u64::try_from(raw.len()).unwrap_or(u64::MAX);
        let limit = self.step + Duration::from_secs(size / MIN_BYTES_PER_SEC);
        session.data_ended.store(false, Ordering::Release);
        let result = tokio::time::timeout(limit, session.conn.send(envelope, raw)).await;
        // An answer (4xx, 5xx) says the server does not have the mail; silence or a lost
        // connection after the end of DATA leaves it unknown.
        let unknown = session.data_ended.load(Ordering::Acquire);
        match result {
            Ok(Ok(_)) => {
                self.keep(session).await;
                Ok(())
            }
            // The session may be anywhere in its dialogue: it is dropped, not reused.
            Ok(Err(e)) if unknown && !e.is_transient() && !e.is_permanent() => Err(SendError::AfterData(e.to_string())),
            Ok(Err(e)) => Err(e.into()),
            Err(_) if unknown => {
                Err(SendError::AfterData(format!("no answer to the end of the mail within {} s", limit.as_secs())))
            }
            Err(_) => Err(SendError::Timeout("the mail", limit.as_secs())),
        }
    }

    /// A kept session that still answers NOOP in time.
    async fn reuse(&self) -> Option<Session> {
        loop {
            let mut s = self.kept.lock().await.pop()?;
            if s.since.elapsed() < KEEP_FOR
                && !s.conn.has_broken()
                && tokio::time::timeout(self.step, s.conn.test_connected()).await.unwrap_or(false)
            {
                return Some(s);
            }
        }
    }

    async fn keep(&self, mut session: Session) {
        let mut kept = self.kept.lock().await;
        if kept.len() < self.keep && !session.conn.has_broken() {
            session.since = Instant::now();
            kept.push(session);
        }
    }

    /// A new session: connect, greeting and EHLO, STARTTLS where configured, AUTH.
    async fn connect(&self) -> Result<Session, SendError> {
        let secs = self.step.as_secs();
        let tcp = tokio::time::timeout(self.step, TcpStream::connect((self.host.as_str(), self.port)))
            .await
            .map_err(|_| SendError::Timeout("the connection", secs))?
            .with_context(|| format!("{}:{}", self.host, self.port))
            .map_err(SendError::Connect)?;
        // Without it every mail waits for a delayed ACK (~40 ms) before its final dot goes out,
        // which caps a session at about 22 mails a second.
        tcp.set_nodelay(true).context("TCP_NODELAY").map_err(SendError::Connect)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.wrap {
            Some(connector) => {
                let tls = tokio::time::timeout(self.step, crate::tls::handshake(connector, &self.host, tcp))
                    .await
                    .map_err(|_| SendError::Timeout("the TLS handshake", secs))?
                    .map_err(SendError::Connect)?;
                Box::new(Tls(tls))
            }
            None => Box::new(tcp),
        };
        let data_ended = Arc::new(AtomicBool::new(false));
        let stream: Box<dyn AsyncTokioStream> = Box::new(Watched::new(stream, data_ended.clone()));
        let mut conn =
            tokio::time::timeout(self.step, AsyncSmtpConnection::connect_with_transport(stream, &self.hello))
                .await
                .map_err(|_| SendError::Timeout("the greeting and EHLO", secs))??;
        if let (Security::StartTls, Some(tls)) = (self.security, &self.tls) {
            tokio::time::timeout(self.step, conn.starttls(tls.clone(), &self.hello))
                .await
                .map_err(|_| SendError::Timeout("STARTTLS", secs))??;
        }
        match &self.login {
            Login::None => {}
            Login::Password(credentials) => {
                let mechanisms = [
                    lettre::transport::smtp::authentication::Mechanism::Plain,
                    lettre::transport::smtp::authentication::Mechanism::Login,
                ];
                tokio::time::timeout(self.step, conn.auth(&mechanisms, credentials))
                    .await
                    .map_err(|_| SendError::Timeout("AUTH", secs))??;
            }
            Login::OAuth2 { user, tokens, mechanism } => {
                let token = tokens.token().await.map_err(SendError::Token)?;
                let refused =
                    match tokio::time::timeout(self.step, bearer(&mut conn, *mechanism, user, token.expose())).await {
                        Err(_) => return Err(SendError::Timeout("AUTH", secs)),
                        Ok(r) => r,
                    };
                if let Err(e) = refused {
                    tokens.refused(&token).await;
                    return Err(e.into());
                }
            }
        }
        Ok(Session { conn, since: Instant::now(), data_ended })
    }
}

/// `AUTH XOAUTH2` / `AUTH OAUTHBEARER` with the token as initial response. A refusal comes as a
/// 334 challenge holding the server's JSON error, which SASL answers with an empty line before the
/// server's final 5xx.
async fn bearer(
    conn: &mut AsyncSmtpConnection,
    mechanism: Mechanism,
    user: &str,
    token: &str,
) -> Result<(), lettre::transport::smtp::Error> {
    use base64::Engine as _;
    let response = crate::tokens::initial_response(mechanism, user, token);
    let encoded = base64::engine::general_purpose::STANDARD.encode(response);
    let answer = conn.command(format!("AUTH {} {encoded}\r\n", mechanism.as_str())).await?;
    if answer.has_code(334) {
        conn.command("\r\n").await?;
    }
    Ok(())
}

/// An implicit-TLS session's stream, as lettre takes it.
#[derive(Debug)]
struct Tls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Tls {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
