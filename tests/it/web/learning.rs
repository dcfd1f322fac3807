//! Triage that learns from staff: corrections in the web view are kept as examples, the model is
//! retrained with them (on every instance of the database), the learning page lists them, and an
//! undone correction no longer teaches.

use axum::http::StatusCode;

use super::{App, text};
use crate::service::on_both_databases;
use crate::support::Db;
use routedesk::domain::Class;
use routedesk::pipeline::classify::Classification;
use routedesk::pipeline::parse::ParseLimits;
use routedesk::pipeline::reason::Reason;

on_both_databases!(staff_corrections_retrain_the_model_and_can_be_undone);

fn mail(i: usize, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Siri Haug <siri.haug@gjovik.kommune.no>\r\nTo: pureservice@gjovik.kommune.no\r\n\
         Message-ID: <learn-{i}@gjovik.kommune.no>\r\nSubject: {subject}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A report in words no shipped example has, so only the region's corrections can teach them.
fn novel(i: usize) -> Vec<u8> {
    mail(
        i,
        &format!("Kvasifluxen i zorbavinduet ({i})"),
        "Zorbavinduet kvasifluxer igjen når jeg trykker grindelknappen.",
    )
}

fn decide(app: &App, raw: &[u8]) -> Classification {
    routedesk::pipeline::triage(raw, app.state.desk.policy(), &ParseLimits::default()).expect("triage").classification
}

fn model_probability(c: &Classification) -> Option<(Class, f64)> {
    c.reasons.iter().find_map(|r| match r {
        Reason::Model { class, probability, .. } => Some((*class, *probability)),
        Reason::ModelUnsure { best, probability, .. } => Some((*best, *probability)),
        _ => None,
    })
}

async fn staff_corrections_retrain_the_model_and_can_be_undone(db: Db) {
    let app = App::new(db).await;
    let desk = &app.state.desk;
    let mut numbers = Vec::new();
    for i in 0..4 {
        match desk.ingest(&novel(i), None).await.expect("ingest") {
            routedesk::desk::Outcome::Ticket { number, .. } => numbers.push(number),
            other => panic!("{other:?}"),
        }
    }
    let probe = novel(99);
    let before = decide(&app, &probe);
    let (guess, sure) = model_probability(&before).expect("the model weighed it");
    assert!(!(guess == Class::Access && sure >= 0.6), "the shipped model does not know these words: {before:?}");
    assert!(!desk.retrain_if_changed().await.expect("look"), "nothing to learn yet");
    // The service's learning loop: it retrains at once after a correction on this instance. Its
    // look for other instances' corrections is put an hour off, so every retraining seen here is
    // the one a correction set off.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let hour = std::time::Duration::from_secs(3600);
    let running = tokio::spawn(routedesk::desk::learning::learn_loop(desk.clone(), hour, stopped));

    // Staff say: these are access matters; one is a possible breach; one is Østre Toten's.
    let s = app.sign_in("kari").await;
    let see_other = |r: axum::http::Response<axum::body::Body>| assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for n in &numbers {
        see_other(app.post(&format!("/tickets/{n}/class"), Some(&s), &[("csrf", &s.csrf), ("class", "access")]).await);
    }
    see_other(app.post(&format!("/tickets/{}/privacy", numbers[0]), Some(&s), &[("csrf", &s.csrf)]).await);
    let moved = [("csrf", s.csrf.as_str()), ("municipality", "ostre-toten")];
    see_other(app.post(&format!("/tickets/{}/municipality", numbers[1]), Some(&s), &moved).await);

    caught_up(desk).await;
    let after = decide(&app, &probe);
    assert_eq!(after.class, Class::Access, "learned from four corrections: {:?}", after.reasons);
    let (class, p) = model_probability(&after).expect("the model decided");
    assert!(class == Class::Access && p >= 0.6, "{:?}", after.reasons);
    assert_eq!(desk.trained().learned_from.len(), 6, "four classes, a privacy flag, a municipality");

    // Another instance on the same database learns the same, without a restart.
    let second = routedesk::desk::Desk::new(&crate::support::desk_config(&app.database_url), desk.store().clone())
        .await
        .expect("second desk");
    assert!(second.retrain_if_changed().await.expect("retrain"), "the other instance picks it up");
    let theirs = routedesk::pipeline::triage(&probe, second.policy(), &ParseLimits::default()).expect("triage");
    assert_eq!(model_probability(&theirs.classification), Some((class, p)), "both instances decide alike");

    // The command line decides as the service does, with the model learned in its database.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("routedesk.toml");
    let url = &app.database_url;
    std::fs::write(
        &config,
        format!(
            "mailbox = \"helpdesk@routedesk.test\"\ndatabase_url = \"{url}\"\n[imap]\nurl = \"imap://127.0.0.1:1\"\n\
             user = \"helpdesk@routedesk.test\"\npassword = \"unused\"\n[smtp]\nurl = \"smtp://127.0.0.1:1\"\n"
        ),
    )
    .expect("config");
    let eml = dir.path().join("probe.eml");
    std::fs::write(&eml, &probe).expect("mail");
    let cli = |extra: &[&std::path::Path]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_routedesk"));
        c.arg("triage").arg("--json");
        c.args(extra);
        let out = c.arg(&eml).output().expect("routedesk triage");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["class"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(cli(&[std::path::Path::new("--config"), &config]), "access", "the learned model");
    assert_eq!(cli(&[]), before.class.as_str(), "the built-in model, without the region's corrections");

    // The page: what was learned, by whom, with an undo; helpdesk and admins only.
    let page = text(app.get("/learning", Some(&s)).await).await;
    for want in [
        "Klasse: Passord og tilgang</th><td>4",
        "Personvern: mulig brudd</th><td>1",
        "Kommune: Østre Toten kommune</th><td>1",
    ] {
        assert!(page.contains(want), "{want} in {page}");
    }
    assert!(page.contains(&format!("href=\"/tickets/{}\"", numbers[3])) && page.contains("kari (helpdesk)"), "{page}");
    assert_eq!(page.matches("/undo\"").count(), 6, "each correction can be undone");
    let ola = app.sign_in("ola").await;
    assert_eq!(app.get("/learning", Some(&ola)).await.status(), StatusCode::NOT_FOUND);
    let refused = app.post("/learning/1/undo", Some(&ola), &[("csrf", &ola.csrf)]).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Undo the class corrections: the model is the shipped one again for classes.
    let rows = desk.store().recent_examples(100).await.expect("corrections");
    let classes: Vec<i64> = rows
        .iter()
        .filter(|r| matches!(r.correction, routedesk::pipeline::learn::Correction::Class(_)))
        .map(|r| r.id)
        .collect();
    assert_eq!(classes.len(), 4);
    let forged = app.post(&format!("/learning/{}/undo", classes[0]), Some(&s), &[("csrf", "wrong")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    for id in &classes {
        see_other(app.post(&format!("/learning/{id}/undo"), Some(&s), &[("csrf", &s.csrf)]).await);
    }
    caught_up(desk).await;
    let undone = decide(&app, &probe);
    assert_eq!(model_probability(&undone), model_probability(&before), "as before the corrections");
    assert_eq!(undone.class, before.class);
    assert_eq!(desk.trained().learned_from.len(), 2);
    let page = text(app.get("/learning", Some(&s)).await).await;
    assert_eq!(page.matches("/undo\"").count(), 2, "undone ones stay listed without an undo: {page}");
    assert_eq!(page.matches("(Angret)").count(), 4, "{page}");

    // The privacy flag was false after all: dismissed with a note, the model learns "not a breach".
    let flagged = desk.store().ticket_by_number(&numbers[0]).await.expect("q").expect("ticket");
    assert!(flagged.privacy);
    let case = desk.store().privacy_of_ticket(flagged.id).await.expect("q").expect("a privacy case");
    // Privacy cases are the officers' (an admin here).
    let dpo = app.sign_in("admin").await;
    let no_note =
        app.post(&format!("/privacy/{case}/dismiss"), Some(&dpo), &[("csrf", &dpo.csrf), ("note", " ")]).await;
    assert_eq!(no_note.status(), StatusCode::BAD_REQUEST, "a dismissal says why");
    let why = [("csrf", dpo.csrf.as_str()), ("note", "Ingen personopplysninger på avveie")];
    see_other(app.post(&format!("/privacy/{case}/dismiss"), Some(&dpo), &why).await);
    let cleared = desk.store().ticket_by_number(&numbers[0]).await.expect("q").expect("ticket");
    assert!(!cleared.privacy, "the flag is gone");
    let again = app.post(&format!("/privacy/{case}/dismiss"), Some(&dpo), &why).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "a closed case is not dismissed twice");
    caught_up(desk).await;
    let page = text(app.get("/learning", Some(&s)).await).await;
    assert!(page.contains("Personvern: ikke brudd</th><td>1"), "the newest privacy correction counts: {page}");
    assert!(!page.contains("Personvern: mulig brudd</th>"), "the flag it replaced does not: {page}");
    stop.send(true).expect("stop");
    running.await.expect("the loop ends");
}

/// Waits until the model in use was trained on the corrections as they stand: retrained at once,
/// as the loop's own look is an hour off. A debug build trains in a second or two, and a burst of
/// corrections may retrain it twice; on a machine busy with other tests that took over 12 s.
async fn caught_up(desk: &routedesk::desk::Desk) {
    let want = desk.store().examples_version().await.expect("version");
    crate::support::eventually("the model to be retrained", std::time::Duration::from_secs(120), || async {
        (desk.trained().version == want).then_some(())
    })
    .await;
}
