//! Test-plan 41, "IDs are not enumerable": ticket numbers and file ids are sequential, so a municipal
//! user must not be able to tell another municipality's ticket or file from one that does not
//! exist. The ticket page, a file and the API's ticket answer the two alike: the same status, the
//! same content type and the same body (apart from the number, where it is named).

use axum::body::Body;
use axum::http::{Response, header};

use super::{App, text};
use crate::service::on_both_databases;
use crate::support::Db;

on_both_databases!(another_municipalitys_ticket_looks_like_one_that_does_not_exist);

/// What a response tells its reader: status, content type and body, with `number` written as `#`.
async fn answer(res: Response<Body>, number: &str) -> (u16, String, String) {
    let status = res.status().as_u16();
    let kind = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, kind, text(res).await.replace(number, "#"))
}

async fn another_municipalitys_ticket_looks_like_one_that_does_not_exist(db: Db) {
    let app = App::new(db).await;
    let n = app.ingest(&["01-gjovik-lonn-complete.eml", "02-ostre-toten-faktura-complete.eml"]).await;
    let (gjovik, toten) = (&n[0], &n[1]);
    let store = app.state.desk.store();
    let file_of = async |number: &str| {
        let t = store.ticket_by_number(number).await.expect("q").expect("ticket");
        store.attachments_of(t.id).await.expect("files").first().expect("a file").id
    };
    let (theirs, own_file) = (file_of(gjovik).await, file_of(toten).await);
    // A number of the same year and form that no ticket has, and a file id no file has.
    let missing = format!("{}999999", &gjovik[..gjovik.len() - 6]);
    assert!(store.ticket_by_number(&missing).await.expect("q").is_none());
    let no_file = theirs.max(own_file) + 1000;

    let ola = app.sign_in("ola").await;
    // Ola of Østre Toten sees his own ticket and file: the probes below reach real routes.
    assert_eq!(app.get(&format!("/tickets/{toten}"), Some(&ola)).await.status(), 200);
    assert_eq!(app.get(&format!("/tickets/{toten}/files/{own_file}"), Some(&ola)).await.status(), 200);

    let probes: [(&str, [(String, &str); 2]); 4] = [
        ("ticket page", [(format!("/tickets/{gjovik}"), gjovik.as_str()), (format!("/tickets/{missing}"), &missing)]),
        (
            "file",
            [
                (format!("/tickets/{gjovik}/files/{theirs}"), gjovik.as_str()),
                (format!("/tickets/{missing}/files/{no_file}"), &missing),
            ],
        ),
        (
            "file through his own ticket",
            [
                (format!("/tickets/{toten}/files/{theirs}"), toten.as_str()),
                (format!("/tickets/{toten}/files/{no_file}"), toten.as_str()),
            ],
        ),
        (
            "API ticket",
            [(format!("/api/tickets/{gjovik}"), gjovik.as_str()), (format!("/api/tickets/{missing}"), &missing)],
        ),
    ];
    for (what, [(existing, a), (absent, b)]) in probes {
        let existing = answer(app.get(&existing, Some(&ola)).await, a).await;
        let absent = answer(app.get(&absent, Some(&ola)).await, b).await;
        assert_eq!(existing.0, 404, "{what}: another municipality's is not found");
        assert_eq!(existing, absent, "{what}: another municipality's and a missing one answer alike");
    }
}
