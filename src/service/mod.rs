//! `routedesk serve`: the running service — IMAP intake, ticket store and outbox worker, started
//! together and stopped together (on SIGTERM or Ctrl-C), finishing the mail in hand first.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::desk::Desk;
use crate::intake::{self, IntakeStats};
use crate::outbox::{self, Worker, compose::Composer};
use crate::store::Store;

/// A started service.
pub struct Running {
    pub store: Store,
    pub intake: Arc<IntakeStats>,
    /// The alerts that hold, as this instance last read them.
    pub alerts: Arc<crate::alerts::watch::Board>,
    /// The state the web view serves (for tests that drive it in-process).
    pub web: crate::web::AppState,
    /// Where the web view listens (the real port when configured as `:0`).
    pub web_addr: Option<std::net::SocketAddr>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// Held while running (SQLite): released when the service stops or the process ends.
    _instance_lock: Option<std::fs::File>,
}

/// Opens the store (migrating it), and starts the intake and, unless `dry_run`, the outbox worker.
pub async fn start(cfg: &Config) -> Result<Running> {
    let instance = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    // Reading the policy trains its classifier (a third of a second on one core): done on the
    // blocking pool while the database opens and migrates.
    let path = cfg.policy.clone();
    let policy = tokio::task::spawn_blocking(move || crate::policy::Policy::load_or_default(path.as_deref()));
    let store = Store::connect_as(&cfg.database_url, &format!("routedesk {instance}")).await?;
    let instance_lock = store.single_instance_lock(&cfg.database_url)?;
    if instance_lock.is_some() {
        store.clear_leases().await?;
    }
    // The first heartbeat before any claim, so our claims are never taken for a dead instance's.
    store
        .try_lease(&format!("instance:{instance}"), &instance, time::OffsetDateTime::now_utc(), intake::LEASE_TTL)
        .await?;
    let policy = policy.await.context("loading the policy")??;
    let desk = Desk::with_policy(cfg, store.clone(), policy).await?;
    let retention = desk.policy().retention;
    let vendor = desk.vendor().clone();
    let privacy_desk = desk.clone();
    let tokens = token_source(cfg, &store)?;
    let mechanism = cfg.oauth2.as_ref().map(|o| o.mechanism).unwrap_or_default();
    let login = intake::connect::Login::new(&cfg.imap, tokens.clone(), mechanism)?;
    let (shutdown, rx) = watch::channel(false);
    let rx_alerts = rx.clone();
    let alerts = Arc::new(crate::alerts::watch::Board::default());
    let stats = Arc::new(IntakeStats::default());
    let mut web = crate::web::AppState::new(desk.clone(), stats.clone(), &cfg.web)?;
    web.alerts = alerts.clone();
    let mut tasks = vec![
        tokio::spawn(intake::heartbeat(store.clone(), instance.clone(), rx.clone())),
        tokio::spawn(intake::reconcile::run(
            cfg.imap.clone(),
            login.clone(),
            store.clone(),
            desk.limits().max_bytes as u64,
            stats.clone(),
            rx.clone(),
        )),
        tokio::spawn(intake::run(cfg.imap.clone(), login, desk, stats.clone(), instance.clone(), rx.clone())),
    ];
    if let Some(sso) = web.sso.clone() {
        if !sso.config().password_login && !store.users().await?.iter().any(|u| u.break_glass && !u.disabled) {
            tracing::warn!(
                "password sign-in is off and there is no break-glass account: while the OpenID provider is unreachable, nobody can sign in (routedesk user add --break-glass)"
            );
        }
        tasks.push(tokio::spawn(sso.keep_discovered(rx.clone())));
    }
    if !cfg.vendor.status_url.is_empty() {
        let every = Duration::from_secs(cfg.vendor.poll_secs);
        tasks.push(tokio::spawn(vendor.clone().run(cfg.vendor.status_url.clone(), every, rx.clone())));
    }
    let mut web_addr = None;
    if !cfg.web.bind.is_empty() {
        let (bind, state, rx) = (cfg.web.bind.clone(), web.clone(), rx.clone());
        // Bind now, so a port in use is a start-up error and not a silent missing web view.
        let listener =
            tokio::net::TcpListener::bind(&bind).await.with_context(|| format!("cannot listen on {bind}"))?;
        web_addr = listener.local_addr().ok();
        tasks.push(tokio::spawn(async move {
            if let Err(e) = crate::web::serve_on(listener, state, rx).await {
                tracing::error!(error = format!("{e:#}"), "web view stopped");
            }
        }));
    }
    tasks.push(tokio::spawn(crate::desk::learning::learn_loop(
        privacy_desk.clone(),
        crate::desk::learning::EVERY,
        rx.clone(),
    )));
    if cfg.dry_run {
        tracing::warn!("dry run: decisions are recorded, no mail is sent");
    } else {
        let worker = Worker::new(
            store.clone(),
            outbox::transport::build(cfg, tokens.clone())?,
            Composer::new(&cfg.mailbox, &cfg.display_name)?,
            cfg.outbox.clone(),
            instance.clone(),
        );
        tasks.push(tokio::spawn(worker.run(rx.clone())));
        tasks.push(tokio::spawn(crate::retention::daily(store.clone(), retention, instance.clone(), rx.clone())));
        tasks.push(tokio::spawn(crate::desk::vendor::remind_loop(privacy_desk.clone(), instance.clone(), rx.clone())));
        tasks.push(tokio::spawn(crate::desk::privacy::warn_loop(privacy_desk, instance.clone(), rx)));
    }
    let desk_ids = web.desk.ids().clone();
    let checks = crate::alerts::watch::Checks {
        store: store.clone(),
        cfg: cfg.alerts.clone(),
        schedule: crate::alerts::Schedule::new(&cfg.alerts).map_err(|p| anyhow::anyhow!(p.join("; ")))?,
        intake: intake::key(&cfg.imap),
        database_url: cfg.database_url.clone(),
        mailbox: cfg.mailbox.to_lowercase(),
        ids: desk_ids,
        signature: web.desk.policy().replies.signature.clone(),
        dry_run: cfg.dry_run,
        started_at: time::OffsetDateTime::now_utc(),
    };
    tasks.push(tokio::spawn(crate::alerts::watch::run(
        checks,
        alerts.clone(),
        stats.clone(),
        instance.clone(),
        rx_alerts,
    )));
    tracing::info!(database = %store.backend(), mailbox = %cfg.mailbox, "routedesk is running");
    Ok(Running { store, intake: stats, alerts, web, web_addr, shutdown, tasks, _instance_lock: instance_lock })
}

impl Running {
    /// Asks every task to stop and waits for them (at most `grace`).
    pub async fn stop(self, grace: Duration) -> Result<()> {
        let _ = self.shutdown.send(true);
        let all = futures_util::future::join_all(self.tasks);
        tokio::time::timeout(grace, all).await.context("tasks did not stop in time")?;
        self.store.close().await;
        Ok(())
    }
}

/// Where OAuth2 tokens for the mailbox come from, when `[oauth2]` is configured.
pub fn token_source(cfg: &Config, store: &Store) -> Result<Option<Arc<crate::tokens::TokenSource>>> {
    let Some(o) = &cfg.oauth2 else { return Ok(None) };
    let refresh = match (&o.grant, &o.token_key) {
        (crate::config::Grant::RefreshToken, Some(key)) => {
            Some(crate::tokens::RefreshStore { store: store.clone(), key: crate::tokens::seal_key(key.expose())? })
        }
        _ => None,
    };
    Ok(Some(Arc::new(crate::tokens::TokenSource::new(o, refresh)?)))
}

/// Runs until SIGTERM or Ctrl-C.
pub async fn serve(cfg: Config) -> Result<()> {
    let running = start(&cfg).await?;
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.stop(Duration::from_secs(30)).await
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
