//! TLS for the mail connections (IMAP and SMTP): rustls with the Mozilla roots plus an optional
//! extra CA, on a stream the caller opened (so it can set its socket options first).

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::{self, pki_types::ServerName};

/// A client configuration trusting the Mozilla roots and, when given, the CA in `ca_cert` (PEM).
pub fn connector(ca_cert: Option<&Path>) -> Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(ca) = ca_cert {
        use rustls_pki_types::pem::PemObject as _;
        for cert in
            rustls_pki_types::CertificateDer::pem_file_iter(ca).with_context(|| format!("reading {}", ca.display()))?
        {
            roots.add(cert.with_context(|| format!("{} holds a bad certificate", ca.display()))?)?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The TLS handshake with `host` on `io`, its certificate checked for that name.
pub async fn handshake<T>(connector: &TlsConnector, host: &str, io: T) -> Result<TlsStream<T>>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let name =
        ServerName::try_from(host.to_string()).with_context(|| format!("{host:?} is not a valid TLS server name"))?;
    connector.connect(name, io).await.with_context(|| format!("TLS handshake with {host} failed"))
}
