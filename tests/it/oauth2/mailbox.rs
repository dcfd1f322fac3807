//! Reading and sending with OAuth2 end to end; a token that expires or is revoked mid-run is
//! replaced without losing or doubling mail; a client the provider no longer allows raises the
//! intake alert, and intake resumes (and the alert ends) when it is allowed again.

use std::sync::atomic::Ordering;
use std::time::Duration;

use routedesk::config::{AuthMethod, OAuth2Config, Secret};
use routedesk::store::Counted;

use super::{MailClient, provider};
use crate::service::{GJOVIK_CONTACTS, on_both_databases};
use crate::support::mail::{Report, folder, inbox_with, send};
use crate::support::rig::RIG_LOCK;
use crate::support::stall::{self, Later};
use crate::support::{Db, Helpdesk, eventually, unique};

const WAIT: Duration = Duration::from_secs(60);

on_both_databases!(
    the_mailbox_is_read_and_sent_from_with_tokens,
    an_expired_token_is_replaced_without_loss,
    a_revoked_token_is_refused_once_and_replaced,
    a_client_no_longer_allowed_raises_the_alert_and_intake_resumes
);

/// A helpdesk whose IMAP (and, with `smtp`, SMTP submission) signs in with tokens of `client`.
fn with_oauth2(hd: &mut Helpdesk, client: &MailClient, mechanism: &str, smtp: bool) {
    let rig = crate::support::rig::ensure();
    let cfg = format!(
        "token_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\nmechanism = \"{mechanism}\"\n",
        provider().token_url,
        client.id,
        client.secret
    );
    hd.config.oauth2 = Some(toml::from_str::<OAuth2Config>(&cfg).expect("[oauth2]"));
    hd.config.imap.auth = AuthMethod::Oauth2;
    hd.config.imap.password = Secret::new("");
    if smtp {
        hd.config.smtp.url = format!("smtp://127.0.0.1:{}", rig.submission_port);
        hd.config.smtp.auth = Some(AuthMethod::Oauth2);
    }
    hd.config.validate().expect("the OAuth2 configuration is valid");
}

async fn routed(token: &str) {
    eventually("the routing mail", WAIT, || async {
        (!inbox_with(GJOVIK_CONTACTS[0], token).await.is_empty()).then_some(())
    })
    .await;
}

async fn the_mailbox_is_read_and_sent_from_with_tokens(db: Db) {
    crate::support::level::needs!(Rig, Oidc);
    let _rig = RIG_LOCK.read().await;
    let mut hd = Helpdesk::new(db).await;
    let client = provider().client(&hd.address, 0).await;
    // Exchange Online takes XOAUTH2; OAUTHBEARER is the standard: one each.
    let mechanism = if db == Db::Sqlite { "xoauth2" } else { "oauthbearer" };
    with_oauth2(&mut hd, &client, mechanism, true);
    let svc = hd.start().await;
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    routed(&token).await;
    let ack =
        eventually("the acknowledgement", WAIT, || async { inbox_with(report.from, &token).await.into_iter().next() })
            .await;
    assert!(ack.subject.contains("Mottatt"), "{}", ack.subject);
    assert_eq!(inbox_with(GJOVIK_CONTACTS[0], &token).await.len(), 1);
    assert_eq!(folder(&hd.address, "Processed").await.len(), 1, "read and moved with the token");
    assert!(svc.intake.healthy());
    svc.stop(WAIT).await.expect("stops");
}

/// A helpdesk reading through a proxy whose first `stalls` sessions go silent in IDLE, so the
/// intake must sign in again mid-run, each time with a token.
async fn resigning(db: Db, stalls: usize, ttl: u64) -> (Helpdesk, MailClient, stall::StallProxy) {
    let rig = crate::support::rig::ensure();
    let proxy = stall::start_n(rig.imap_port, b"+ idling", stalls, Later::Forward).await;
    let mut hd = Helpdesk::new(db).await;
    hd.config.imap.url = format!("imap://127.0.0.1:{}", proxy.port);
    hd.config.imap.idle_secs = 3;
    hd.config.imap.timeout_secs = 3;
    let client = provider().client(&hd.address, ttl).await;
    with_oauth2(&mut hd, &client, "xoauth2", true);
    (hd, client, proxy)
}

async fn reports_routed_once(hd: &Helpdesk, tokens: &[&str]) {
    let store = hd.store().await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), tokens.len() as i64, "nothing lost or doubled");
    for t in tokens {
        assert_eq!(inbox_with(GJOVIK_CONTACTS[0], t).await.len(), 1, "one routing mail for {t}");
    }
}

async fn an_expired_token_is_replaced_without_loss(db: Db) {
    crate::support::level::needs!(Rig, Oidc);
    let _rig = RIG_LOCK.read().await;
    // Tokens live 4 seconds: the one of the first session is long gone when the intake signs in again.
    let (hd, _client, proxy) = resigning(db, 1, 4).await;
    let svc = hd.start().await;
    // The first session idles on a silent connection; meanwhile its token runs out.
    eventually("the first session idling on a silent connection", WAIT, || async {
        (proxy.stalled.load(Ordering::Relaxed) == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let first = unique("T");
    let report = Report::complete(&first, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    routed(&first).await;
    assert!(proxy.accepted.load(Ordering::Relaxed) >= 2, "read by a new session, signed in with a new token");
    let second = unique("T");
    let report = Report::complete(&second, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    routed(&second).await;
    reports_routed_once(&hd, &[&first, &second]).await;
    svc.stop(WAIT).await.expect("stops");
}

async fn a_revoked_token_is_refused_once_and_replaced(db: Db) {
    crate::support::level::needs!(Rig, Oidc);
    let _rig = RIG_LOCK.read().await;
    // Tokens live an hour, so the intake holds on to its token: until the provider revokes it.
    let (hd, client, proxy) = resigning(db, 2, 0).await;
    let svc = hd.start().await;
    let first = unique("T");
    let report = Report::complete(&first, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    routed(&first).await;
    eventually("the second session idling on a silent connection", WAIT, || async {
        (proxy.stalled.load(Ordering::Relaxed) == 2).then_some(())
    })
    .await;
    provider().revoke_tokens(&client).await;
    let second = unique("T");
    let report = Report::complete(&second, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    // The third session's first try with the cached token is refused; a new token gets it in.
    routed(&second).await;
    assert!(proxy.accepted.load(Ordering::Relaxed) >= 3);
    reports_routed_once(&hd, &[&first, &second]).await;
    svc.stop(WAIT).await.expect("stops");
}

async fn a_client_no_longer_allowed_raises_the_alert_and_intake_resumes(db: Db) {
    crate::support::level::needs!(Rig, Oidc);
    let _rig = RIG_LOCK.read().await;
    let ops = format!("{}@gjovik.kommune.no", unique("drift-").to_lowercase());
    let mut hd = Helpdesk::new(db).await;
    let client = provider().client(&hd.address, 0).await;
    // Only the intake uses the token here, so the alert mail itself can go out.
    with_oauth2(&mut hd, &client, "xoauth2", false);
    hd.config.alerts.to = vec![ops.clone()];
    hd.config.alerts.intake_down_minutes = 1;
    hd.config.alerts.check_secs = 3;
    provider().disable(&client).await;
    let svc = hd.start().await;
    let token = unique("T");
    let report = Report::complete(&token, &hd.address);
    send(&report.to_bytes(), report.from, &hd.address).await;
    let alert = eventually("the alert mail", Duration::from_secs(150), || async {
        inbox_with(&ops, "Varsel").await.into_iter().next()
    })
    .await;
    assert!(alert.text.contains("E-postmottaket"), "{}", alert.text);
    assert!(svc.intake.last_error().contains("token endpoint refused"), "{}", svc.intake.last_error());
    assert!(inbox_with(GJOVIK_CONTACTS[0], &token).await.is_empty(), "nothing read while refused");

    provider().enable(&client).await;
    // The intake waits at most a minute between attempts, and so does the token source.
    eventually("the report routed once the client is allowed", Duration::from_secs(180), || async {
        (!inbox_with(GJOVIK_CONTACTS[0], &token).await.is_empty()).then_some(())
    })
    .await;
    eventually("the all-clear mail", Duration::from_secs(180), || async {
        inbox_with(&ops, "I orden").await.into_iter().next()
    })
    .await;
    let store = hd.store().await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1);
    svc.stop(WAIT).await.expect("stops");
}
