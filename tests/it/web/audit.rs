//! Test-plan 42: sign-ins (and failed ones), refused access and views of reports, files and privacy
//! cases are in an append-only audit log that never holds a secret.

use axum::http::StatusCode;
use routedesk::store::{AuditRow, Pool, Store};
use routedesk::web::limiter::fingerprint;

use super::{App, PASSWORD, text};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(sign_ins_refusals_and_views_are_in_the_audit_log, the_database_refuses_to_change_the_audit_log);

async fn entries(app: &App) -> Vec<AuditRow> {
    app.state.desk.store().audit_recent(1000).await.expect("audit log")
}

fn has(log: &[AuditRow], actor: &str, action: &str, object: &str, result: &str) -> bool {
    log.iter().any(|r| r.actor == actor && r.action == action && r.object == object && r.result == result)
}

async fn sign_ins_refusals_and_views_are_in_the_audit_log(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml", "02-ostre-toten-faktura-complete.eml"]).await;
    let (gjovik, toten) = (&n[0], &n[1]);
    let store = app.state.desk.store();
    let prv = app.state.desk.flag_privacy(gjovik, "kari (helpdesk)").await.expect("privacy case");
    let g = store.ticket_by_number(gjovik).await.expect("q").expect("t");
    let file = store.attachments_of(g.id).await.expect("files")[0].id;

    // A name typed into the password's place, and a wrong password.
    let typed = "Vinter2026!ola";
    app.try_sign_in(typed, "hunter2 but longer").await.expect_err("no such user");
    let kari = app.sign_in("kari").await;
    let ola = app.sign_in("ola").await;
    let admin = app.sign_in("admin").await;
    assert_eq!(app.get(&format!("/tickets/{gjovik}"), Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/tickets/{gjovik}"), Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/privacy/{prv}"), Some(&kari)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/tickets/{toten}"), Some(&ola)).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/tickets/{gjovik}/files/{file}"), Some(&kari)).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/privacy/{prv}"), Some(&admin)).await.status(), StatusCode::OK);
    // A robot's mail, set aside: its raw text is a view like a report's.
    app.ingest(&["60-autosvar-auto-submitted.eml"]).await;
    let set_aside = store.untracked_messages(1).await.expect("set-aside mail")[0].id;
    assert_eq!(app.get(&format!("/mail/{set_aside}/raw"), Some(&kari)).await.status(), StatusCode::OK);
    assert_eq!(app.get(&format!("/mail/{set_aside}/raw"), Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    // A ticket moved to another municipality and routed again.
    for (action, form) in [("municipality", ("municipality", "nordre-land")), ("reroute", ("text", ""))] {
        let res =
            app.post(&format!("/tickets/{toten}/{action}"), Some(&kari), &[("csrf", kari.csrf.as_str()), form]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{action}");
    }

    let log = entries(&app).await;
    assert!(has(&log, "kari (helpdesk)", "set-municipality", toten, "ok: nordre-land"), "{log:?}");
    assert!(
        log.iter().any(|r| r.action == "reroute"
            && r.object == *toten
            && r.result.starts_with("ok: to ")
            && r.result.contains("@nordre-land.kommune.no")),
        "the re-route with its new recipients: {log:?}"
    );
    let failed = format!("name#{}", fingerprint(typed));
    assert!(has(&log, &failed, "sign-in", "", "failed"), "the failed sign-in, by fingerprint: {log:?}");
    for user in ["kari (helpdesk)", "ola (municipal)", "admin (admin)"] {
        assert!(has(&log, user, "sign-in", "", "ok"), "{user} signed in");
    }
    assert!(has(&log, "ola (municipal)", "refused", gjovik, "hidden"), "another municipality's ticket");
    assert_eq!(log.iter().filter(|r| r.actor == "ola (municipal)" && r.action == "refused").count(), 2, "page and API");
    assert!(has(&log, "kari (helpdesk)", "refused", &prv, "hidden"), "a privacy case not hers");
    assert!(has(&log, "ola (municipal)", "view-ticket", toten, "ok"), "the report viewed");
    assert!(has(&log, "kari (helpdesk)", "view-file", &format!("{gjovik}/files/{file}"), "ok"), "the file");
    assert!(has(&log, "admin (admin)", "view-privacy", &prv, "ok"), "the privacy case");
    assert!(has(&log, "kari (helpdesk)", "view-mail", &format!("mail/{set_aside}"), "ok"), "a set-aside mail");
    assert!(log.iter().all(|r| r.address.as_deref() == Some("127.0.0.1")), "with the client's address");

    // No secret anywhere: no password, no session or token, no name typed at a failed sign-in.
    let all: String =
        log.iter().map(|r| format!("{}|{}|{}|{}|{:?}\n", r.actor, r.action, r.object, r.result, r.address)).collect();
    for secret in
        [PASSWORD, "hunter2", typed, "Vinter2026", kari.cookie.as_str(), kari.csrf.as_str(), ola.cookie.as_str()]
    {
        assert!(!all.contains(secret), "{secret:?} in the audit log");
    }

    // Admins read it; nobody else knows it is there.
    let page = app.get("/audit", Some(&admin)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = text(page).await;
    assert!(page.contains("Revisjonslogg") && page.contains(&failed) && page.contains("view-privacy"));
    for s in [&kari, &ola] {
        assert_eq!(app.get("/audit", Some(s)).await.status(), StatusCode::NOT_FOUND);
    }
}

/// Runs `sql` on the store; the error text if it fails.
async fn try_sql(store: &Store, sql: &'static str) -> Result<u64, String> {
    match store.pool() {
        Pool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        Pool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
    }
    .map_err(|e| e.to_string())
}

async fn the_database_refuses_to_change_the_audit_log(db: Db) {
    let app = App::new(db).await;
    app.sign_in("kari").await;
    let store = app.state.desk.store();
    let before = entries(&app).await.len();
    assert!(before > 0);
    for sql in ["UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"] {
        let err = try_sql(store, sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    let after = entries(&app).await;
    assert_eq!(after.len(), before);
    assert!(after.iter().all(|r| r.actor != "nobody"));

    // Kept for the policy's period: the retention job removes older entries, and only those; after
    // it, the newer ones are as safe as before.
    let now = time::OffsetDateTime::now_utc();
    let old = routedesk::store::AuditEntry { actor: "old", action: "sign-in", object: "", result: "ok", address: None };
    store.audit(&old, now - time::Duration::days(1830)).await.expect("an old entry");
    let recent = routedesk::store::AuditEntry { actor: "recent", ..old };
    store.audit(&recent, now - time::Duration::days(1800)).await.expect("a recent entry");
    let r = routedesk::policy::Retention {
        resolved_days: None,
        set_aside_days: None,
        max_open_days: None,
        audit_log_days: Some(1825),
    };
    let done = routedesk::retention::purge(store, r, now, "test", false).await.expect("purge");
    assert_eq!(done.audit_log, 1, "the one entry past five years");
    let kept = entries(&app).await;
    assert!(!kept.iter().any(|e| e.actor == "old") && kept.iter().any(|e| e.actor == "recent"));
    assert_eq!(kept.len(), before + 1);
    for sql in ["DELETE FROM audit_log", "UPDATE audit_log SET actor = 'nobody'"] {
        let err = try_sql(store, sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "after a purge, {sql}: {err}");
    }
    assert_eq!(entries(&app).await.len(), before + 1);
}

/// No code path changes or removes an entry but the retention job's purge of entries past the
/// policy's `audit_log_days`: the source has no other UPDATE or DELETE of the table (erasure included).
#[test]
fn no_code_updates_or_deletes_the_audit_log() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 50, "the whole source");
    for f in files {
        let code =
            std::fs::read_to_string(&f).expect("read").to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        // The one removal: entries older than the cut, in the retention job (store/retention.rs).
        let code = if f.ends_with("src/store/retention.rs") {
            assert_eq!(code.matches("delete from audit_log where at < $1").count(), 1, "the retention job's purge");
            code.replacen("delete from audit_log where at < $1", "", 1)
        } else {
            code
        };
        for banned in ["update audit_log ", "delete from audit_log", "truncate audit_log", "drop table audit_log"] {
            assert!(!code.contains(banned), "{} has {banned:?}", f.display());
        }
    }
}
