//! Removed data is gone from the SQLite file itself: a purged report does not linger in the file's
//! free pages, in the search index's pages or in the write-ahead log, where a copy of the file (a
//! backup, a stolen disk) would still show it.

use routedesk::desk::Outcome;
use routedesk::retention::purge;
use time::{Duration, OffsetDateTime};

use super::POLICY;
use crate::support::scan::{database_bytes, found};
use crate::support::scratch::TestDatabase;
use crate::support::{Db, desk_on, unique};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purged_report_leaves_no_trace_in_the_sqlite_file() {
    let database = TestDatabase::new(Db::Sqlite).await;
    let url = &database.url;
    let desk = desk_on(url).await;
    let marker = unique("zqmarker");
    let phone = "917 23 456";
    // Long enough that the raw mail fills pages of its own, which a purge frees.
    let text = format!("Lønnsart 1120 beregnes ikke ({marker}).\r\n").repeat(400);
    let raw = format!(
        "From: Randi Kristiansen <randi.kristiansen@gjovik.kommune.no>\r\nTo: helpdesk@routedesk.test\r\n\
         Subject: Feil ved lønnskjøring {marker}\r\nMessage-ID: <{}@gjovik.kommune.no>\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         {text}\r\nMvh Randi\r\nMobil {phone}\r\n",
        unique("files-")
    );
    let Outcome::Ticket { number, .. } = desk.ingest(raw.as_bytes(), None).await.expect("ingest") else {
        panic!("the report is a ticket")
    };
    let needles = [marker.as_str(), phone, "randi.kristiansen"];
    assert_eq!(found(&database_bytes(url), &needles), needles, "the report is in the file before the purge");

    desk.set_status(&number, "resolved", "test").await.expect("resolve");
    let later = OffsetDateTime::now_utc() + Duration::days(731);
    let done = purge(desk.store(), POLICY, later, "retention policy", false).await.expect("purge");
    assert_eq!(done.tickets, [number]);
    let left = found(&database_bytes(url), &needles);
    assert!(left.is_empty(), "{left:?} still readable in the SQLite file or its write-ahead log after the purge");
}
