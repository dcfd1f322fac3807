//! Mail loops: a robot that answers every mail it gets, and a vacation responder. The exchange must
//! stop after at most one automatic reply from routedesk.

use std::collections::HashSet;
use std::time::Duration;

use routedesk::store::Counted;

use crate::service::on_both_databases;
use crate::support::mail::{Report, inbox, send};
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
    svc.stop(Duration::from_secs(30)).await.expect("stops");
}
