//! Test plan 16 in the pipeline: the classification table (tests/fixtures/robot-signals.toml), and
//! the property that a robot's header is found wherever it stands among others, however its name
//! and value are written — and that the same mail without it is a person's.

use serde::Deserialize;

use crate::pipeline::decide;
use crate::pipeline::ignore::screen;
use crate::pipeline::parse::{ParseLimits, parse};
use crate::pipeline::route::Reply;
use crate::policy::Policy;

#[derive(Deserialize)]
struct Table {
    report: String,
    content: String,
    from: String,
    signal: Vec<Signal>,
}

#[derive(Deserialize, Clone)]
struct Signal {
    case: String,
    #[serde(default)]
    headers: Vec<String>,
    from: Option<String>,
    content: Option<String>,
    ignored: Option<String>,
    #[serde(default)]
    reply: bool,
    why: Option<String>,
    own_id: Option<String>,
}

fn table() -> Table {
    toml::from_str(include_str!("../../../tests/fixtures/robot-signals.toml")).expect("the table parses")
}

impl Table {
    /// The case's mail with `headers` on top, CRLF line ends.
    fn mail(&self, s: &Signal, headers: &[String]) -> Vec<u8> {
        let top: String = headers.iter().map(|h| format!("{h}\n")).collect();
        let from = s.from.as_deref().unwrap_or(&self.from).replace("{sender}", "kari.rohne@sondre-land.kommune.no");
        self.report
            .replace("{headers}", &top)
            .replace("{from}", &from)
            .replace("{message_id}", "rd.0123abcd.0123456789abcdef0123@routedesk.test")
            .replace("{content}", s.content.as_deref().unwrap_or(&self.content))
            .replace('\n', "\r\n")
            .into_bytes()
    }
}

/// The pipeline's verdict on a mail: the ignore kind (or `None`), whether a reply goes out, and
/// its reasons.
fn verdict(raw: &[u8], policy: &Policy) -> (Option<&'static str>, bool, Vec<String>) {
    let mail = parse(raw, &ParseLimits::default()).expect("parses");
    let kind = screen(&mail).map(|i| i.kind.as_str());
    let d = decide(mail, policy);
    (kind, d.reply() != Reply::None, d.reasons().iter().map(|r| r.text(crate::text::lang::Lang::En)).collect())
}

#[test]
fn every_signal_of_the_table_is_classified_and_only_people_are_answered() {
    let t = table();
    let policy = Policy::default_region().expect("policy");
    assert!(t.signal.len() >= 25, "the table has {} cases", t.signal.len());
    for s in &t.signal {
        let (kind, reply, reasons) = verdict(&t.mail(s, &s.headers), &policy);
        // Only the desk knows its key: to the pipeline an own Message-ID is any other.
        if s.own_id.is_some() {
            assert_eq!(kind, None, "{}", s.case);
            continue;
        }
        assert_eq!(kind, s.ignored.as_deref(), "{}: {reasons:?}", s.case);
        assert_eq!(reply, s.reply, "{}: reply {reply}: {reasons:?}", s.case);
        if let Some(why) = &s.why {
            assert!(reasons.iter().any(|r| r.contains(why.as_str())), "{}: {why:?} in {reasons:?}", s.case);
        }
    }
}

/// Header fields real reports carry, none of them a robot's.
const FILLER: &[&str] = &[
    "Received: from mx.sondre-land.kommune.no (10.1.2.3) by mx.gjovik.kommune.no; Tue, 1 Dec 2026 08:00:00 +0100",
    "DKIM-Signature: v=1; a=rsa-sha256; d=sondre-land.kommune.no; s=sel1; b=abc",
    "Thread-Topic: Lønnskjøringen stopper",
    "Thread-Index: AdpQx0a1b2c3d4",
    "X-MS-Has-Attach:",
    "X-MS-TNEF-Correlator:",
    "Content-Language: nb-NO",
    "X-Mailer: Microsoft Outlook 16.0",
    "Importance: high",
    "X-Priority: 1",
    "X-Originating-IP: [10.1.2.3]",
    "Accept-Language: nb-NO, en-US",
    "X-List-Comment: no list here",
    "References: <a1@sondre-land.kommune.no>",
    "Authentication-Results: mx.gjovik.kommune.no; dmarc=pass header.from=sondre-land.kommune.no",
];

/// A header line written another way: the name's letter case, the value's, spaces, folding.
fn rewrite(line: &str, rng: &mut fastrand::Rng) -> String {
    let (name, value) = line.split_once(':').unwrap_or((line, ""));
    let name: String = match rng.u8(0..3) {
        0 => name.to_ascii_lowercase(),
        1 => name.to_ascii_uppercase(),
        _ => name.chars().map(|c| if rng.bool() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect(),
    };
    let value = value.trim();
    let value = match rng.u8(0..3) {
        0 => value.to_ascii_lowercase(),
        1 => value.to_ascii_uppercase(),
        _ => value.to_string(),
    };
    let gap = ["", " ", "  ", "\t", "\n ", "\n\t"][rng.usize(0..6)];
    format!("{name}:{gap}{value}")
}

/// The case's mail with its own header fields, `extra` and `signal` in random order.
fn shuffled(t: &Table, s: &Signal, extra: &[String], signal: Option<String>, rng: &mut fastrand::Rng) -> Vec<u8> {
    let raw = String::from_utf8(t.mail(s, &[])).expect("the table is text");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a header and a body");
    let mut lines: Vec<String> = head.split("\r\n").map(str::to_string).chain(extra.iter().cloned()).collect();
    rng.shuffle(&mut lines);
    if let Some(line) = signal {
        lines.insert(rng.usize(0..=lines.len()), line);
    }
    format!("{}\n\n", lines.join("\n")).replace('\n', "\r\n").into_bytes().into_iter().chain(body.bytes()).collect()
}

#[test]
fn a_robot_header_is_found_anywhere_in_any_letter_case() {
    let t = table();
    let policy = Policy::default_region().expect("policy");
    let mut rng = fastrand::Rng::with_seed(16);
    // The cases made by one header line alone, robots and people.
    let cases: Vec<&Signal> =
        t.signal.iter().filter(|s| s.headers.len() == 1 && s.from.is_none() && s.content.is_none()).collect();
    assert!(cases.len() >= 18, "{} single-header cases", cases.len());
    for s in cases {
        for round in 0..60 {
            let extra: Vec<String> =
                (0..rng.usize(0..FILLER.len())).map(|_| FILLER[rng.usize(0..FILLER.len())].to_string()).collect();
            let plain = verdict(&shuffled(&t, s, &extra, None, &mut rng), &policy);
            assert_eq!((plain.0, plain.1), (None, true), "{} round {round} without it: {extra:?}", s.case);
            let line = rewrite(&s.headers[0], &mut rng);
            let raw = shuffled(&t, s, &extra, Some(line.clone()), &mut rng);
            let (kind, reply, reasons) = verdict(&raw, &policy);
            let shown = String::from_utf8_lossy(&raw);
            assert_eq!(kind, s.ignored.as_deref(), "{} round {round}, {line:?}:\n{shown}\n{reasons:?}", s.case);
            assert_eq!(reply, s.reply, "{} round {round}, {line:?}:\n{shown}\n{reasons:?}", s.case);
        }
    }
}
