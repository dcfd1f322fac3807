//! The SMTP connection (lettre), secured as the configuration says.

use anyhow::{Context as _, Result};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::config::{Config, Endpoint, Security};

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

pub fn build(cfg: &Config) -> Result<Transport> {
    let ep = Endpoint::parse(&cfg.smtp.url, &["smtp", "smtps"], cfg.smtp.starttls, cfg.smtp.allow_plain)
        .map_err(anyhow::Error::msg)?;
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(ep.host.clone())
        .port(ep.port)
        .timeout(Some(std::time::Duration::from_secs(60)));
    if ep.security != Security::Plain {
        let mut params = TlsParameters::builder(ep.host.clone());
        if let Some(ca) = &cfg.smtp.ca_cert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            params = params
                .add_root_certificate(Certificate::from_pem(&pem).context("smtp.ca_cert is not a PEM certificate")?);
        }
        let params = params.build_rustls().context("setting up TLS for SMTP")?;
        b = b.tls(if ep.security == Security::Tls { Tls::Wrapper(params) } else { Tls::Required(params) });
    }
    if let (Some(user), Some(pw)) = (&cfg.smtp.user, &cfg.smtp.password) {
        b = b.credentials(Credentials::new(user.clone(), pw.expose().to_string()));
    }
    if let Some(domain) = crate::text::address::domain_of(&cfg.mailbox) {
        b = b.hello_name(ClientId::Domain(domain));
    }
    Ok(b.build())
}
