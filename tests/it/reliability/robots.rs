//! Mail loops: a robot that answers every mail it gets, and a vacation responder. The exchange must
//! stop after at most one automatic reply from routedesk.

use std::collections::HashSet;
use std::time::Duration;

use routedesk::store::Counted;

use crate::service::on_both_databases;
use crate::support::mail::{Report, inbox, send};
use crate::support::reason_text;
use crate::support::rig::RIG_LOCK;
use crate::support::{Db, eventually, spawn_helpdesk, unique};
use routedesk::domain::Direction;

on_both_databases!(an_answering_robot_gets_at_most_one_automatic_reply);

async fn an_answering_robot_gets_at_most_one_automatic_reply(db: Db) {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    let (hd, svc) = spawn_helpdesk(db).await;
    let robot: &'static str =
        Box::leak(format!("{}@gjovik.kommune.no", unique("robot-").to_lowercase()).into_boxed_str());

    // The robot reports a fault without a screenshot, so routedesk asks it for one...
    let mut report = Report::complete(&unique("R"), &hd.address);
    report.from = robot;
    report.from_name = "Skanner 3. etg";
    report.screenshot = false;
    send(&report.to_bytes(), robot, &hd.address).await;

    // ...and it answers every mail it receives, as a badly made robot would (no Auto-Submitted, no
    // Precedence) — until eight seconds after its first answer, time enough for a loop to show.
    let to = hd.address.clone();
    let robot_loop = tokio::spawn(async move {
        let mut answered = HashSet::new();
        let mut deadline = tokio::time::Instant::now() + Duration::from_secs(45);
        while tokio::time::Instant::now() < deadline {
            for m in inbox(robot).await {
                if answered.insert(m.message_id.clone()) {
                    if answered.len() == 1 {
                        deadline = tokio::time::Instant::now() + Duration::from_secs(8);
                    }
                    let answer = Report {
                        from: robot,
                        from_name: "Skanner 3. etg",
                        subject: format!("Re: {}", m.subject),
                        body: "Takk for din e-post. Denne postkassen leses ikke.".into(),
                        screenshot: false,
                        message_id: unique("robot-answer-") + "@gjovik.kommune.no",
                        in_reply_to: Some(m.message_id.clone()),
                        ..Report::complete("", &to)
                    };
                    send(&answer.to_bytes(), robot, &to).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        answered.len()
    });
    let answered = robot_loop.await.expect("robot ran");

    let got = inbox(robot).await;
    assert_eq!(
        got.len(),
        1,
        "one automatic reply, then silence: {:?}",
        got.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert_eq!(answered, 1, "the robot answered once");
    let store = hd.store().await;
    assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "the robot's answers joined its ticket");
    let t = store.tickets(1).await.expect("tickets").remove(0);
    eventually("the robot's answer on the ticket", Duration::from_secs(20), || async {
        let m = store.messages_of(t.id).await.ok()?;
        (m.iter().filter(|m| m.direction == Direction::In).count() == 2).then_some(())
    })
    .await;

    // A proper vacation responder is recognised and never answered.
    let mut vacation = Report::complete(&unique("V"), &hd.address);
    vacation.from = robot;
    vacation.subject = "Automatisk svar: Ferie".into();
    vacation.extra_headers = vec![("Auto-Submitted", "auto-replied".into())];
    send(&vacation.to_bytes(), robot, &hd.address).await;
    eventually("the vacation reply set aside", Duration::from_secs(20), || async {
        (store.untracked_messages(5).await.ok()?.len() == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(inbox(robot).await.len(), 1, "no answer to the vacation reply");
    // Two robots met — our automatic reply was answered by theirs — and somebody is told.
    let alerts = crate::support::alerts_now(&store, &hd.config).await;
    assert!(alerts.contains(&routedesk::alerts::Condition::LoopSuspected), "{alerts:?}");
    svc.stop(Duration::from_secs(30)).await.expect("stops");
}

/// Test plan 17 with two routedesk helpdesks pointed at each other — each one's mailbox is a
/// reporter of the other's (a forward gone wrong): each asks the other for a screenshot once, each
/// sets the other's request aside as an automatic reply, and then there is silence; both say a
/// loop was stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_helpdesks_pointed_at_each_other_stop_at_once() {
    crate::support::level::needs!(Rig);
    let _rig = RIG_LOCK.read().await;
    // Mailboxes inside the region, so each counts as a reporter the other may answer.
    let a = crate::support::Helpdesk::at(Db::Sqlite, &format!("{}@gjovik.kommune.no", unique("servicedesk-"))).await;
    let b = crate::support::Helpdesk::at(Db::Sqlite, &format!("{}@gjovik.kommune.no", unique("servicedesk-"))).await;
    let (sa, sb) = (a.start().await, b.start().await);
    for (to, from) in [(&a, &b), (&b, &a)] {
        let mut report = Report::complete(&unique("PP"), &to.address);
        report.from = Box::leak(from.address.clone().into_boxed_str());
        report.screenshot = false;
        send(&report.to_bytes(), &from.address, &to.address).await;
    }
    let (store_a, store_b) = (a.store().await, b.store().await);
    for store in [&store_a, &store_b] {
        eventually("the other's request set aside", Duration::from_secs(30), || async {
            let set_aside = store.untracked_messages(10).await.ok()?;
            set_aside.iter().any(|m| reason_text(m).starts_with("auto-reply")).then_some(())
        })
        .await;
    }
    // Time for a loop to show, if there were one.
    tokio::time::sleep(Duration::from_secs(8)).await;
    for (store, other) in [(&store_a, &b.address), (&store_b, &a.address)] {
        assert_eq!(store.count(Counted::Tickets).await.expect("count"), 1, "one ticket: the report");
        assert_eq!(store.count(Counted::Inbound).await.expect("count"), 2, "the report and one automatic reply");
        let t = store.tickets(1).await.expect("tickets").remove(0);
        let replies = store.outbox_of(t.id).await.expect("outbox");
        let to_other = replies.iter().filter(|o| o.to.iter().any(|r| r.as_str() == other.as_str())).count();
        assert_eq!(to_other, 1, "one automatic reply to the other helpdesk");
        let alerts = crate::support::alerts_now(store, &a.config).await;
        assert!(alerts.contains(&routedesk::alerts::Condition::LoopSuspected), "{alerts:?}");
    }
    sa.stop(Duration::from_secs(30)).await.expect("stops");
    sb.stop(Duration::from_secs(30)).await.expect("stops");
}
