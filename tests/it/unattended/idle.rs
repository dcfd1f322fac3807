//! An idle instance uses next to no CPU, and is still woken at once by mail it queued itself —
//! by its own store only.

use std::time::{Duration, Instant};

use routedesk::store::Store;
use routedesk::text::address::EmailAddress;

use crate::service::on_both_databases;
use crate::support::mail::inbox_with;
use crate::support::process::Serve;
use crate::support::rig::RIG_LOCK;
use crate::support::scratch::TestDatabase;
use crate::support::{Db, Helpdesk, eventually, queue_mail, spawn_helpdesk, unique};

on_both_databases!(an_idle_instance_uses_under_one_percent_of_a_core, queued_mail_wakes_its_own_outbox_only);

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is alive");
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0);
    ticks / hz
}

async fn an_idle_instance_uses_under_one_percent_of_a_core(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let hd = Helpdesk::new(db).await;
    let serve = Serve::start(&hd.config_file(), "idle");
    // Up and watching the (empty) mailbox.
    eventually("the service watching the mailbox", Duration::from_secs(30), || async {
        serve.log_text().contains("watching the helpdesk mailbox").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = serve.pid();
    let (before, started) = (cpu_seconds(pid), Instant::now());
    tokio::time::sleep(Duration::from_secs(30)).await;
    let used = cpu_seconds(pid) - before;
    let share = used / started.elapsed().as_secs_f64();
    assert!(share < 0.01, "an idle instance used {used:.2} CPU s in 30 s ({:.1} % of a core)", share * 100.0);
    serve.terminate();
}

async fn queued_mail_wakes_its_own_outbox_only(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (first, second) = (TestDatabase::new(db).await, TestDatabase::new(db).await);
    let a = Store::connect(&first.url).await.expect("store a");
    let b = Store::connect(&second.url).await.expect("store b");
    let to = EmailAddress::parse("wake@gjovik.kommune.no").expect("address");
    let quiet = Duration::from_millis(300);

    // A commit that queues nothing wakes nobody.
    let mut tx = a.begin().await.expect("begin");
    tx.set_mailbox_state("INBOX", 1, 1, time::OffsetDateTime::now_utc()).await.expect("write");
    tx.commit().await.expect("commit");
    assert!(tokio::time::timeout(quiet, a.mail_queued()).await.is_err(), "no mail queued: no wake");

    // Mail queued in one store wakes that store's worker, and not the other's.
    queue_mail(&a, &to, &["x".into()]).await;
    assert!(tokio::time::timeout(quiet, b.mail_queued()).await.is_err(), "another store is not woken");
    assert!(tokio::time::timeout(quiet, a.mail_queued()).await.is_ok(), "its own store is woken");

    // And on a running service, its mail goes out at once — long before the 10 s fallback poll.
    let (_hd, svc) = spawn_helpdesk(db).await;
    let token = unique("W");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let committed = Instant::now();
    queue_mail(&svc.store, &to, std::slice::from_ref(&token)).await;
    eventually("the queued mail delivered", Duration::from_secs(9), || async {
        (!inbox_with(to.as_str(), &token).await.is_empty()).then_some(())
    })
    .await;
    let took = committed.elapsed();
    assert!(took < Duration::from_secs(5), "sent {took:?} after the commit");
    svc.stop(Duration::from_secs(30)).await.expect("stops");
}
