use super::*;
use crate::pipeline::parse::ParseLimits;
use crate::pipeline::triage;

fn decide(raw: &str) -> (Decision, Policy) {
    let policy = Policy::default_region().expect("default policy");
    let d = triage(raw.replace('\n', "\r\n").as_bytes(), &policy, &ParseLimits::default()).expect("parses");
    (d, policy)
}

const INCOMPLETE: &str = "From: Kari Røhne <kari.rohne@sondre-land.kommune.no>\nTo: pureservice@gjovik.kommune.no\nSubject: Feil i lønnskjøringen\n\nLønnskjøringen gir feil beløp for feriepenger.\n\nMvh Kari\nMobil: 951 17 655\n";

#[test]
fn request_info_names_exactly_what_is_missing() {
    let (d, policy) = decide(INCOMPLETE);
    let t = request_info(&d, "RD-2026-000007", &policy).expect("renders");
    assert_eq!(t.subject, "[RD-2026-000007] Mangler opplysninger: Feil i lønnskjøringen");
    assert!(t.body.starts_with("Hei Kari,"), "{}", t.body);
    assert!(t.body.contains("skjermdump"), "{}", t.body);
    assert!(t.body.contains("telefonnummer"), "{}", t.body);
    assert!(!t.body.contains("mobilnummer"), "mobile was given: {}", t.body);
    assert!(!t.body.contains("din egen e-postadresse"), "email was given: {}", t.body);
    assert!(t.body.contains("Helpdesk Gjøvik"));
}

#[test]
fn urgent_acknowledgement_tells_to_phone_the_helpdesk() {
    let (d, policy) = decide("From: Ola <ola@gjovik.kommune.no>\nSubject: HASTER: lønn\n\nHaster!\n");
    let t = acknowledgement(&d, "RD-2026-000001", &policy, Default::default()).expect("renders");
    assert!(t.body.contains("61 18 98 50"), "{}", t.body);
    assert!(t.body.contains("RD-2026-000001"));
}

#[test]
fn routing_mail_summarises_the_decision_and_reminds_of_the_vendor_routine() {
    let (d, policy) = decide(INCOMPLETE);
    let t = routing(&d, "RD-2026-000007", &policy, None, Default::default()).expect("renders");
    assert!(t.subject.starts_with("[RD-2026-000007] Feilmelding – programfeil"), "{}", t.subject);
    assert!(t.body.contains("Søndre Land kommune"), "{}", t.body);
    assert!(t.body.contains("åpen for alle i Gjøvikregionen"), "{}", t.body);
    assert!(t.body.contains("mobil 951 17 655"), "{}", t.body);
}

#[test]
fn routing_mail_of_an_application_fault_asks_for_the_vendor_case_and_commands_nothing_itself() {
    let (d, policy) = decide(INCOMPLETE);
    let cx = Context { vendor_case: Some("Visma"), ..Default::default() };
    let t = routing(&d, "RD-2026-000007", &policy, None, cx).expect("renders");
    assert!(t.body.contains("MELD TIL VISMA"), "{}", t.body);
    assert!(t.body.contains("«Visma-sak» og nummeret"), "{}", t.body);
    // Quoted back without quote marks (some clients do), the instructions must not act.
    let read = crate::pipeline::command::read(&t.subject, &t.body, &policy.vendor);
    assert_eq!(read, vec![], "{}", t.body);
    let plain = routing(&d, "RD-2026-000007", &policy, None, Default::default()).expect("renders");
    assert!(!plain.body.contains("MELD TIL"), "only when asked: {}", plain.body);
}

#[test]
fn tag_is_not_repeated_and_control_characters_are_dropped() {
    assert_eq!(tagged_subject("RD-2026-000001", "", "SV: [RD-2026-000001] Feil"), "[RD-2026-000001] SV: Feil");
    assert_eq!(tagged_subject("RD-1", "Mottatt", "a\r\nBcc: x@y.no"), "[RD-1] Mottatt: a Bcc: x@y.no");
}
