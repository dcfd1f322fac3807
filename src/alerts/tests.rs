use time::macros::datetime;

use super::*;

fn cfg() -> AlertsConfig {
    AlertsConfig::default()
}

fn schedule() -> Schedule {
    Schedule::new(&cfg()).expect("the default schedule is valid")
}

#[test]
fn working_hours_follow_the_region_clock_and_days() {
    let s = schedule();
    // 07:45 UTC on Friday 4 December 2026 is 08:45 in Oslo: working.
    assert!(s.is_working(datetime!(2026-12-04 07:45 UTC)));
    assert!(!s.is_working(datetime!(2026-12-04 16:00 UTC)), "17:00 in Oslo");
    assert!(!s.is_working(datetime!(2026-12-05 10:00 UTC)), "Saturday");
    // Summer time: 06:45 UTC is 08:45 in Oslo.
    assert!(s.is_working(datetime!(2026-06-15 06:45 UTC)));
    // Friday 15:00 to Monday 09:00 Oslo time: one hour on Friday (to 16:00), 1.5 on Monday (from 07:30).
    let h = s.working_hours_between(datetime!(2026-12-04 14:00 UTC), datetime!(2026-12-07 08:00 UTC));
    assert!((h - 2.5).abs() < 1e-9, "{h}");
    assert_eq!(s.working_hours_between(datetime!(2026-12-05 10:00 UTC), datetime!(2026-12-05 12:00 UTC)), 0.0);
}

#[test]
fn bad_schedules_are_refused_with_every_problem() {
    let mut c = cfg();
    c.timezone = "Europe/Gjovik".into();
    c.working_hours = "16-07".into();
    c.working_days = vec!["man".into()];
    let problems = Schedule::new(&c).expect_err("invalid");
    assert_eq!(problems.len(), 3, "{problems:?}");
}

fn conditions(f: &Facts, now: OffsetDateTime) -> Vec<Condition> {
    evaluate(f, &cfg(), &schedule(), now).into_iter().map(|f| f.condition).collect()
}

#[test]
fn each_condition_starts_after_its_limit_and_not_before() {
    let now = datetime!(2026-12-04 12:00 UTC); // 13:00 on a Friday in Oslo
    let fresh = Facts {
        started_at: Some(now - time::Duration::minutes(5)),
        intake_ok_at: Some(now),
        last_mail_at: Some(now - time::Duration::minutes(30)),
        ..Facts::default()
    };
    assert!(conditions(&fresh, now).is_empty(), "a healthy service has no alert");

    let failing = Facts {
        intake_failing_since: Some(now - time::Duration::minutes(20)),
        intake_error: "LOGIN failed".into(),
        ..fresh.clone()
    };
    assert_eq!(conditions(&failing, now), [Condition::IntakeDown]);
    let briefly = Facts { intake_failing_since: Some(now - time::Duration::minutes(3)), ..failing.clone() };
    assert!(conditions(&briefly, now).is_empty(), "a short outage is no alert");
    // Nobody could even try (every instance stopped, or the lease is stuck): still down.
    let silent = Facts { intake_ok_at: Some(now - time::Duration::hours(2)), ..fresh.clone() };
    assert!(conditions(&silent, now).contains(&Condition::IntakeDown));

    let quiet = Facts {
        last_mail_at: Some(now - time::Duration::hours(6)),
        started_at: Some(now - time::Duration::days(3)),
        ..fresh.clone()
    };
    assert_eq!(conditions(&quiet, now), [Condition::NoMail], "5.5 working hours without mail");
    let night = datetime!(2026-12-04 22:00 UTC);
    let quiet_at_night = Facts { intake_ok_at: Some(night), ..quiet.clone() };
    assert!(conditions(&quiet_at_night, night).is_empty(), "outside working hours, quiet is normal");

    let stuck = Facts { oldest_queued_at: Some(now - time::Duration::minutes(45)), queued: 3, ..fresh.clone() };
    assert_eq!(conditions(&stuck, now), [Condition::OutboxStuck]);
    let failed = Facts { failed_recently: 1, last_failure: "550 no such user".into(), ..fresh.clone() };
    assert_eq!(conditions(&failed, now), [Condition::OutboxFailed]);
    let full = Facts { disk_free_percent: Some(2.0), database_bytes: Some(1 << 30), ..fresh.clone() };
    let found = evaluate(&full, &cfg(), &schedule(), now);
    assert_eq!(found.iter().map(|f| f.condition).collect::<Vec<_>>(), [Condition::DatabaseFull]);
    assert!(found[0].text_nb().contains("1024 MB") && found[0].text_nb().contains("2.0 %"), "{}", found[0].text_nb());
}

#[test]
fn a_renumbered_mailbox_quarantined_mail_and_a_loop_are_told_for_a_day() {
    let now = datetime!(2026-12-04 12:00 UTC);
    let fresh = Facts { started_at: Some(now), intake_ok_at: Some(now), last_mail_at: Some(now), ..Facts::default() };
    let renumbered = Facts { renumbered_at: Some(now - time::Duration::hours(2)), ..fresh.clone() };
    assert_eq!(conditions(&renumbered, now), [Condition::MailboxRenumbered]);
    let long_ago = Facts { renumbered_at: Some(now - time::Duration::hours(25)), ..fresh.clone() };
    assert!(conditions(&long_ago, now).is_empty(), "a renumbering is told for a day");
    let poison = Facts { quarantined_recently: 2, last_quarantine: "2000 parts".into(), ..fresh.clone() };
    let found = evaluate(&poison, &cfg(), &schedule(), now);
    assert_eq!(found.iter().map(|f| f.condition).collect::<Vec<_>>(), [Condition::Quarantined]);
    assert!(found[0].text_nb().contains("2 e-poster") && found[0].text_nb().contains("2000 parts"));
    let looping = Facts { loops_recently: 7, ..fresh };
    let found = evaluate(&looping, &cfg(), &schedule(), now);
    assert_eq!(found.iter().map(|f| f.condition).collect::<Vec<_>>(), [Condition::LoopSuspected]);
    assert!(found[0].text_en().starts_with("7 times"), "{}", found[0].text_en());
}
