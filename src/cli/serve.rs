//! `routedesk serve` and `routedesk check-config`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::config::Config;
use crate::policy::Policy;

pub fn run(config: Option<&Path>, dry_run: bool, log_json: bool) -> ExitCode {
    init_logging(log_json);
    let mut cfg = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    cfg.dry_run |= dry_run;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(crate::service::serve(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "routedesk stopped");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub fn check(config: Option<&Path>) -> ExitCode {
    let cfg = match Config::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let policy = match Policy::load_or_default(cfg.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // The role map's municipalities must be in the policy.
    if let Some(Err(e)) = cfg.web.oidc.as_ref().map(|o| crate::web::sso::Sso::new(o, &policy)) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    println!("Configuration valid.");
    println!("  mailbox:   {} ({})", cfg.mailbox, cfg.display_name);
    if !cfg.addressed_as.is_empty() {
        println!("  also:      {} (answered when in To or Cc)", cfg.addressed_as.join(", "));
    }
    println!("  database:  {}", crate::store::redact(&cfg.database_url));
    println!(
        "  IMAP:      {} as {}, folder {} → {}",
        cfg.imap.url, cfg.imap.user, cfg.imap.folder, cfg.imap.processed_folder
    );
    println!("  SMTP:      {}{}", cfg.smtp.url, if cfg.smtp.starttls { " (STARTTLS)" } else { "" });
    println!(
        "  web:       {}{}",
        cfg.web.bind,
        if cfg.web.metrics_token.expose().is_empty() { "" } else { " (/metrics and /readyz need the token)" }
    );
    if let Some(o) = &cfg.web.oidc {
        println!(
            "  sign-in:   at {} (client {}, role from {:?}, {} mapping(s)); passwords: {}",
            o.issuer,
            o.client_id,
            o.role_claim,
            o.role_map.len(),
            if o.password_login { "everyone" } else { "break-glass accounts only" }
        );
    }
    println!(
        "  limits:    {} bytes, {} parts, depth {}",
        cfg.limits.max_message_bytes, cfg.limits.max_parts, cfg.limits.max_depth
    );
    println!("  policy:    {} ({} municipalities)", policy.region, policy.municipalities.len());
    if cfg.dry_run {
        println!("  DRY RUN:   nothing will be sent");
    }
    if let Some(w) = crate::web::health::sender_verification(&cfg.trusted_authserv_id) {
        println!("{w}");
    }
    match oauth2(&cfg) {
        Ok(Some(line)) => println!("{line}"),
        Ok(None) => {}
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

/// With `[oauth2]`: asks the token endpoint for a token and says what it gave — its scopes and
/// lifetime, never the token. The refresh-token grant needs the database's stored token, so it is
/// only described.
fn oauth2(cfg: &Config) -> anyhow::Result<Option<String>> {
    let Some(o) = &cfg.oauth2 else { return Ok(None) };
    let endpoint = o.token_endpoint().unwrap_or_default();
    let head = format!("  OAuth2:    {} at {endpoint}, client {}, {}", o.mechanism.as_str(), o.client_id, o.scope);
    if o.grant == crate::config::Grant::RefreshToken {
        return Ok(Some(format!("{head} (refresh token from `routedesk oauth2 login`)")));
    }
    let source = crate::tokens::TokenSource::new(o, None)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let issued = rt.block_on(source.probe()).context("the token endpoint gave no token")?;
    let life = issued.expires_in.map_or_else(|| "no stated lifetime".into(), |d| format!("valid {} s", d.as_secs()));
    let scopes = if issued.scopes.is_empty() { "the scope asked for".into() } else { issued.scopes.join(" ") };
    Ok(Some(format!("{head}\n  token:     issued ({life}, for {scopes})")))
}

fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ROUTEDESK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
