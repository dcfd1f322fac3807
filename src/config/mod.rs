//! The service configuration: a TOML file (`routedesk serve --config FILE`) where every key can also
//! be set by an environment variable — `ROUTEDESK_DATABASE_URL`, `ROUTEDESK_IMAP__PASSWORD` (two
//! underscores between a section and its key). Validated at start with clear errors.

mod endpoint;
mod oauth2;
mod oidc;
mod proxies;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::pipeline::parse::ParseLimits;
use crate::text::address;

pub use endpoint::{Endpoint, Security};
pub use oauth2::{AuthMethod, Grant, Mechanism, OAuth2Config};
pub use oidc::{OidcConfig, RoleMapping};
pub use proxies::parse_proxies;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(String),
    #[error("configuration has {} problem(s):{}", .0.len(), .0.iter().map(|p| format!("\n  - {p}")).collect::<String>())]
    Invalid(Vec<String>),
}

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite://data/routedesk.db` (the default) or `postgres://user:pw@host/db`.
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// Routing policy file; the built-in Gjøvik region policy when not set.
    #[serde(default)]
    pub policy: Option<PathBuf>,
    /// Decide and record everything, send nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The helpdesk address routedesk reads and sends as (From and Reply-To of its mail).
    pub mailbox: String,
    #[serde(default = "default_display_name")]
    pub display_name: String,
    /// Other addresses that deliver to the mailbox (aliases, e.g. `support@gjovik.kommune.no`).
    /// A report gets an automatic reply only when the mailbox or one of these is in its To or Cc:
    /// mail that reached the helpdesk by Bcc, a list or a forward was not written to it.
    #[serde(default)]
    pub addressed_as: Vec<String>,
    /// The authserv-id of our own receiving mail server (e.g. `mx.gjovik.kommune.no`): its
    /// `Authentication-Results` headers are believed, anyone else's are ignored. Empty: none.
    #[serde(default)]
    pub trusted_authserv_id: String,
    /// A mail with no `Authentication-Results` of our server: `false` (the default) believes its
    /// sender; `true` does not — no automatic reply, no joining a ticket — unless it carries
    /// `internal_marker`.
    #[serde(default)]
    pub require_authentication: bool,
    /// `Header: value` that our own mail server sets on mail between its own users and removes
    /// from mail from outside (e.g. Exchange Online's `X-MS-Exchange-Organization-AuthAs:
    /// Internal`): with `require_authentication`, such mail counts as verified. Empty: none.
    #[serde(default)]
    pub internal_marker: String,
    pub imap: ImapConfig,
    pub smtp: SmtpConfig,
    #[serde(default)]
    pub web: WebConfig,
    #[serde(default)]
    pub limits: LimitsConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub vendor: VendorConfig,
    #[serde(default)]
    pub alerts: AlertsConfig,
    /// Access tokens for the mailbox, where IMAP or SMTP sign in with OAuth2.
    #[serde(default)]
    pub oauth2: Option<OAuth2Config>,
}

/// When to tell the people who run routedesk that it cannot do its job (see [`crate::alerts`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsConfig {
    /// Who gets a mail when a condition starts and when it ends; empty: banner and metrics only.
    #[serde(default)]
    pub to: Vec<String>,
    /// The intake has not logged in or fetched for this long (0: off).
    #[serde(default = "default_intake_down_minutes")]
    pub intake_down_minutes: u32,
    /// No mail has arrived for this many working hours (0: off).
    #[serde(default = "default_no_mail_hours")]
    pub no_mail_hours: u32,
    #[serde(default = "default_working_hours")]
    pub working_hours: String,
    #[serde(default = "default_working_days")]
    pub working_days: Vec<String>,
    /// The region's time zone, for working hours.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Mail has waited in the outbox this long (0: off).
    #[serde(default = "default_outbox_stuck_minutes")]
    pub outbox_stuck_minutes: u32,
    /// The database has grown to this size (0: off).
    #[serde(default)]
    pub database_max_mb: u32,
    /// The SQLite database's disk has less than this share free.
    #[serde(default = "default_disk_min_free_percent")]
    pub disk_min_free_percent: u32,
    /// How often the conditions are checked.
    #[serde(default = "default_check_secs")]
    pub check_secs: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            to: Vec::new(),
            intake_down_minutes: default_intake_down_minutes(),
            no_mail_hours: default_no_mail_hours(),
            working_hours: default_working_hours(),
            working_days: default_working_days(),
            timezone: default_timezone(),
            outbox_stuck_minutes: default_outbox_stuck_minutes(),
            database_max_mb: 0,
            disk_min_free_percent: default_disk_min_free_percent(),
            check_secs: default_check_secs(),
        }
    }
}

fn default_intake_down_minutes() -> u32 {
    15
}
fn default_no_mail_hours() -> u32 {
    4
}
fn default_working_hours() -> String {
    "07:30-16:00".into()
}
fn default_working_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec()
}
fn default_timezone() -> String {
    "Europe/Oslo".into()
}
fn default_outbox_stuck_minutes() -> u32 {
    30
}
fn default_disk_min_free_percent() -> u32 {
    5
}
fn default_check_secs() -> u64 {
    60
}

/// The vendor's public status page (Statuspage `summary.json`), polled for known issues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorConfig {
    /// e.g. `https://status.visma.com/api/v2/summary.json`; empty: not polled.
    #[serde(default)]
    pub status_url: String,
    #[serde(default = "default_vendor_poll_secs")]
    pub poll_secs: u64,
}

impl Default for VendorConfig {
    fn default() -> Self {
        Self { status_url: String::new(), poll_secs: default_vendor_poll_secs() }
    }
}

fn default_vendor_poll_secs() -> u64 {
    300
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImapConfig {
    /// `imaps://host:993`, or `imap://host:143` (with `starttls = true` unless on loopback).
    pub url: String,
    pub user: String,
    /// For `auth = "password"`.
    #[serde(default)]
    pub password: Secret,
    #[serde(default)]
    pub auth: AuthMethod,
    #[serde(default)]
    pub starttls: bool,
    /// Allow an unencrypted connection to a host other than loopback (a trial on a private network).
    #[serde(default)]
    pub allow_plain: bool,
    /// Extra CA certificate (PEM) to trust, e.g. a local test server's.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Where processed mail is moved (flagged instead where the server cannot move).
    #[serde(default = "default_processed_folder")]
    pub processed_folder: String,
    /// IDLE is re-issued after this long (servers drop idling clients after 30 minutes).
    #[serde(default = "default_idle_secs")]
    pub idle_secs: u64,
    /// How often to look for mail where the server has no IDLE.
    #[serde(default = "default_poll_secs")]
    pub poll_secs: u64,
    /// Messages fetched per round trip.
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// The deadline of one IMAP command (a silent server is dropped and reconnected); a FETCH gets
    /// more by the bytes it moves.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// How often the mailbox is compared with the ledger (daily by default; 0 turns it off).
    #[serde(default = "default_reconcile_secs")]
    pub reconcile_secs: u64,
    /// How many days of processed mail each comparison looks at.
    #[serde(default = "default_reconcile_days")]
    pub reconcile_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// `smtps://host:465`, or `smtp://host:587` (with `starttls = true` unless on loopback).
    pub url: String,
    #[serde(default)]
    pub starttls: bool,
    /// Allow an unencrypted connection to a host other than loopback (a trial on a private network).
    #[serde(default)]
    pub allow_plain: bool,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// `oauth2` signs in with a token from `[oauth2]` as `user` (the mailbox when not set); by
    /// default, with `user` and `password` when both are set, else without signing in.
    #[serde(default)]
    pub auth: Option<AuthMethod>,
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// The deadline of one SMTP step (a silent server must not hold the outbox); the DATA transfer
    /// gets more by the mail's size.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// `address:port`; empty turns the web view off.
    #[serde(default = "default_bind")]
    pub bind: String,
    /// Mark cookies `Secure`: set when the web view is reached over HTTPS (e.g. behind a proxy).
    #[serde(default)]
    pub secure_cookies: bool,
    /// The address people reach the web view at (e.g. `https://helpdesk.gjovik.kommune.no`), for
    /// links in mail to the public status page; empty: no link.
    #[serde(default)]
    pub public_url: String,
    /// Proxies in front of the web view (`["127.0.0.1", "10.0.0.0/8"]`): from them, the client's
    /// address is read from `X-Forwarded-For`; from anyone else that header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// When set, `/metrics` and `/readyz` answer only `Authorization: Bearer <token>`
    /// (`ROUTEDESK_WEB__METRICS_TOKEN`); `/healthz` stays open for load balancers.
    #[serde(default)]
    pub metrics_token: Secret,
    /// Staff sign-in at the region's OpenID provider (`[web.oidc]`); none: passwords only.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            secure_cookies: false,
            public_url: String::new(),
            trusted_proxies: Vec::new(),
            metrics_token: Secret::default(),
            oidc: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    #[serde(default = "default_max_bytes")]
    pub max_message_bytes: usize,
    #[serde(default = "default_max_parts")]
    pub max_parts: usize,
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Automatic replies one sender may get per hour (two robots must not loop).
    #[serde(default = "default_replies_per_hour")]
    pub replies_per_sender_per_hour: u32,
    /// Automatic replies the helpdesk sends per hour in all (a flood of forged senders must not
    /// turn it into a spam source); 0: no limit. Routing mail is never held by it.
    #[serde(default = "default_replies_per_hour_in_all")]
    pub replies_per_hour: u32,
    /// Days an address whose mail bounced gets no automatic reply.
    #[serde(default = "default_bounce_block_days")]
    pub bounce_block_days: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: default_max_bytes(),
            max_parts: default_max_parts(),
            max_depth: default_max_depth(),
            replies_per_sender_per_hour: default_replies_per_hour(),
            replies_per_hour: default_replies_per_hour_in_all(),
            bounce_block_days: default_bounce_block_days(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// Temporary failures are retried this many times before the mail is marked failed.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay; doubles with each attempt (with jitter), capped at 30 minutes.
    #[serde(default = "default_retry_secs")]
    pub retry_secs: u64,
    /// SMTP sessions sending at once.
    #[serde(default = "default_sessions")]
    pub sessions: u32,
    /// Mails one session claims at a time; their "sent" marks are committed together, so a crash
    /// may send at most this many again (each with its same Message-ID).
    #[serde(default = "default_outbox_batch")]
    pub batch: u32,
    /// Sessions that may carry mail to one recipient domain at once, so a municipality's own
    /// server is never flooded.
    #[serde(default = "default_sessions")]
    pub per_domain: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: default_max_attempts(),
            retry_secs: default_retry_secs(),
            sessions: default_sessions(),
            batch: default_outbox_batch(),
            per_domain: default_sessions(),
        }
    }
}

fn default_database_url() -> String {
    "sqlite://data/routedesk.db".into()
}
fn default_display_name() -> String {
    "Helpdesk".into()
}
fn default_folder() -> String {
    "INBOX".into()
}
fn default_processed_folder() -> String {
    "Processed".into()
}
fn default_idle_secs() -> u64 {
    // Short enough that a connection gone silent during IDLE is noticed within minutes (by the
    // deadline on DONE), far below the 30 minutes after which servers drop idle clients.
    5 * 60
}
fn default_timeout_secs() -> u64 {
    60
}
fn default_reconcile_secs() -> u64 {
    24 * 3600
}
fn default_reconcile_days() -> u32 {
    7
}
fn default_poll_secs() -> u64 {
    60
}
fn default_batch() -> u32 {
    50
}
fn default_bind() -> String {
    "127.0.0.1:8080".into()
}
fn default_max_bytes() -> usize {
    25 * 1024 * 1024
}
fn default_max_parts() -> usize {
    500
}
fn default_max_depth() -> usize {
    20
}
fn default_replies_per_hour() -> u32 {
    5
}
fn default_replies_per_hour_in_all() -> u32 {
    500
}
fn default_bounce_block_days() -> u32 {
    7
}
fn default_sessions() -> u32 {
    4
}
fn default_outbox_batch() -> u32 {
    10
}
fn default_max_attempts() -> u32 {
    12
}
fn default_retry_secs() -> u64 {
    5
}

const NOT_KEYS: &[&str] = &["ROUTEDESK_CONFIG", "ROUTEDESK_LOG", "ROUTEDESK_CORPORA"];
/// The test harness's variables (`ROUTEDESK_TEST_SERVICES`, `ROUTEDESK_TEST_PG`, …), which reach the
/// binary the tests start.
const NOT_KEYS_PREFIX: &str = "ROUTEDESK_TEST_";

impl Config {
    /// Reads `path` (if given), applies `ROUTEDESK_…` environment variables, and validates.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(p) = path {
            if !p.exists() {
                return Err(ConfigError::Load(format!("{} does not exist", p.display())));
            }
            builder = builder.add_source(config::File::from(p).format(config::FileFormat::Toml));
        }
        // Variables that steer the command line rather than the service are not configuration keys.
        let vars = std::env::vars()
            .filter(|(k, _)| {
                k.starts_with("ROUTEDESK_") && !NOT_KEYS.contains(&k.as_str()) && !k.starts_with(NOT_KEYS_PREFIX)
            })
            .collect();
        let env = config::Environment::with_prefix("ROUTEDESK")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .source(Some(vars));
        let cfg: Config = builder
            .add_source(env)
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| ConfigError::Load(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses configuration text (no environment), for tests and tools.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Load(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut p = Vec::new();
        if !address::is_valid(&self.mailbox) {
            p.push(format!("mailbox: {:?} is not a valid e-mail address", self.mailbox));
        }
        for a in self.addressed_as.iter().filter(|a| !address::is_valid(a)) {
            p.push(format!("addressed_as: {a:?} is not a valid e-mail address"));
        }
        if self.require_authentication && self.trusted_authserv_id.trim().is_empty() {
            p.push("require_authentication needs trusted_authserv_id: no sender could ever be verified".into());
        }
        if !self.internal_marker.is_empty() && crate::pipeline::authres::Marker::parse(&self.internal_marker).is_none()
        {
            p.push(format!("internal_marker: {:?} should look like \"Header-Name: value\"", self.internal_marker));
        }
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            p.push(format!(
                "database_url: {:?} must start with sqlite: or postgres://",
                crate::store::redact(&self.database_url)
            ));
        }
        if let Err(e) = Endpoint::parse(&self.imap.url, &["imap", "imaps"], self.imap.starttls, self.imap.allow_plain) {
            p.push(format!("imap.url: {e}"));
        }
        if let Err(e) = Endpoint::parse(&self.smtp.url, &["smtp", "smtps"], self.smtp.starttls, self.smtp.allow_plain) {
            p.push(format!("smtp.url: {e}"));
        }
        if self.imap.user.is_empty() {
            p.push("imap.user is empty".into());
        }
        if self.imap.folder.is_empty()
            || self.imap.processed_folder.is_empty()
            || self.imap.folder == self.imap.processed_folder
        {
            p.push("imap.folder and imap.processed_folder must be set and differ".into());
        }
        if self.imap.reconcile_days == 0 || self.imap.reconcile_days > 366 {
            p.push("imap.reconcile_days must be between 1 and 366".into());
        }
        if self.imap.idle_secs == 0 || self.imap.idle_secs > 29 * 60 {
            p.push("imap.idle_secs must be between 1 and 1740 (servers end IDLE after 30 minutes)".into());
        }
        let url = &self.vendor.status_url;
        if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
            p.push(format!("vendor.status_url {:?} must be an http(s) URL", self.vendor.status_url));
        }
        if self.vendor.poll_secs < 10 {
            p.push("vendor.poll_secs must be at least 10 (the vendor's page is public; poll it kindly)".into());
        }
        if self.imap.poll_secs == 0 || self.imap.batch == 0 {
            p.push("imap.poll_secs and imap.batch must be at least 1".into());
        }
        for (key, ca) in [("imap.ca_cert", &self.imap.ca_cert), ("smtp.ca_cert", &self.smtp.ca_cert)] {
            if let Some(ca) = ca.as_ref().filter(|c| !c.is_file()) {
                p.push(format!("{key}: {} is not a readable file", ca.display()));
            }
        }
        let uses_oauth2 = self.imap.auth == AuthMethod::Oauth2 || self.smtp.auth == Some(AuthMethod::Oauth2);
        match (&self.oauth2, uses_oauth2) {
            (Some(o), _) => p.extend(o.problems()),
            (None, true) => p.push("imap.auth or smtp.auth is oauth2, but there is no [oauth2] section".into()),
            (None, false) => {}
        }
        if self.imap.auth == AuthMethod::Password && self.imap.password.expose().is_empty() {
            p.push("imap.password is empty (or set imap.auth = \"oauth2\")".into());
        }
        if self.smtp.auth == Some(AuthMethod::Password) && (self.smtp.user.is_none() || self.smtp.password.is_none()) {
            p.push("smtp.auth = \"password\" needs smtp.user and smtp.password".into());
        }
        if self.smtp.auth != Some(AuthMethod::Oauth2) && self.smtp.user.is_some() != self.smtp.password.is_some() {
            p.push("smtp.user and smtp.password go together".into());
        }
        if let Some(policy) = self.policy.as_ref().filter(|p| !p.is_file()) {
            p.push(format!("policy: {} is not a readable file", policy.display()));
        }
        if !self.web.bind.is_empty() && self.web.bind.parse::<std::net::SocketAddr>().is_err() {
            p.push(format!("web.bind: {:?} is not an address:port", self.web.bind));
        }
        if let Err(e) = parse_proxies(&self.web.trusted_proxies) {
            p.push(format!("web.trusted_proxies: {e}"));
        }
        if let Some(oidc) = &self.web.oidc {
            p.extend(oidc.problems());
        }
        if self.limits.max_message_bytes < 1024 || self.limits.max_parts == 0 || self.limits.max_depth == 0 {
            p.push("limits: max_message_bytes (>= 1024), max_parts and max_depth (>= 1) must be set".into());
        }
        if self.outbox.max_attempts == 0 || self.outbox.retry_secs == 0 {
            p.push("outbox.max_attempts and outbox.retry_secs must be at least 1".into());
        }
        if !(1..=32).contains(&self.outbox.sessions)
            || !(1..=500).contains(&self.outbox.batch)
            || self.outbox.per_domain == 0
        {
            p.push("outbox: sessions (1–32), batch (1–500) and per_domain (at least 1) are out of range".into());
        }
        for a in self.alerts.to.iter().filter(|a| !address::is_valid(a)) {
            p.push(format!("alerts.to: {a:?} is not a valid e-mail address"));
        }
        if let Err(problems) = crate::alerts::Schedule::new(&self.alerts) {
            p.extend(problems);
        }
        if self.alerts.check_secs == 0 {
            p.push("alerts.check_secs must be at least 1".into());
        }
        if self.alerts.disk_min_free_percent >= 100 {
            p.push("alerts.disk_min_free_percent must be below 100".into());
        }
        if self.imap.timeout_secs == 0 || self.smtp.timeout_secs == 0 {
            p.push("imap.timeout_secs and smtp.timeout_secs must be at least 1".into());
        }
        if p.is_empty() { Ok(()) } else { Err(ConfigError::Invalid(p)) }
    }

    pub fn parse_limits(&self) -> ParseLimits {
        ParseLimits {
            max_bytes: self.limits.max_message_bytes,
            max_parts: self.limits.max_parts,
            max_depth: self.limits.max_depth,
        }
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.imap.idle_secs)
    }
}

#[cfg(test)]
mod tests;
