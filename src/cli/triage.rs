//! `routedesk triage [--policy FILE] [--json] FILE...`: the pipeline's decision for each mail file.
//! The JSON form is a contract other tools rely on: one object per input file, one per line, in
//! input order; unreadable files give `{"file", "error"}` and exit status 2 once all are done.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use crate::domain::{Class, Detail};
use crate::pipeline::parse::ParseLimits;
use crate::pipeline::{Decision, triage};
use crate::policy::Policy;
use crate::text::address::{EmailAddress, join};

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub file: &'a str,
    pub verdict: &'static str,
    pub ignored_reason: Option<String>,
    pub class: Class,
    pub confidence: f64,
    pub municipality: Option<&'a str>,
    pub missing: &'a [Detail],
    pub complete: bool,
    pub urgent: bool,
    pub privacy: bool,
    pub route: Route<'a>,
    pub reply: &'static str,
    pub reply_to: Option<&'a EmailAddress>,
    pub held: bool,
    pub manual_triage: bool,
    pub subject: &'a str,
    pub from: Option<EmailAddress>,
    pub message_id: Option<&'a str>,
    pub products: &'a [String],
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Route<'a> {
    pub to: &'a [EmailAddress],
    pub cc: &'a [EmailAddress],
}

impl<'a> Report<'a> {
    pub fn new(file: &'a str, d: &'a Decision) -> Self {
        let routing = d.routing.as_ref();
        // Ignored mail is no report: it carries no class, flags or missing details.
        let ticket = d.is_ticket();
        let c = &d.classification;
        Report {
            file,
            verdict: if ticket { "ticket" } else { "ignored" },
            ignored_reason: d.ignored.as_ref().map(|i| i.reason()),
            class: if ticket { c.class } else { Class::Unclassified },
            confidence: if ticket { c.confidence } else { 0.0 },
            municipality: routing.and_then(|r| r.municipality.as_deref()),
            missing: if ticket { &d.checks.missing } else { &[] },
            complete: ticket && d.checks.complete(),
            urgent: ticket && c.urgent,
            privacy: ticket && c.privacy,
            route: Route { to: routing.map_or(&[], |r| &r.to), cc: routing.map_or(&[], |r| &r.cc) },
            reply: d.reply().as_str(),
            reply_to: routing.and_then(|r| r.reply_to.as_ref()),
            held: routing.is_some_and(|r| r.held),
            manual_triage: routing.is_some_and(|r| r.manual_triage),
            subject: &d.mail.subject,
            from: d.mail.from_address(),
            message_id: d.mail.message_id.as_deref(),
            products: &d.classification.products,
            reasons: d.reasons(),
        }
    }
}

pub fn run(policy: Option<&Path>, json: bool, files: &[PathBuf]) -> ExitCode {
    let policy = match Policy::load_or_default(policy) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let limits = ParseLimits::default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    for path in files {
        let name = path.display().to_string();
        let result =
            read(path).and_then(|raw| triage(&raw, &policy, &limits).map_err(|e| format!("cannot triage: {e}")));
        let line = match (&result, json) {
            (Ok(d), true) => {
                serde_json::to_string(&Report::new(&name, d)).unwrap_or_else(|e| error_json(&name, &e.to_string()))
            }
            (Ok(d), false) => human(&Report::new(&name, d)),
            (Err(e), true) => error_json(&name, e),
            (Err(e), false) => format!("{name}: error: {e}\n"),
        };
        failed |= result.is_err();
        // A closed pipe (e.g. `| head`) ends the run quietly.
        if writeln!(out, "{}", line.trim_end()).is_err() {
            break;
        }
    }
    if failed { ExitCode::from(2) } else { ExitCode::SUCCESS }
}

impl Report<'_> {
    /// The decision as label and value pairs, for people (the policy tester).
    pub fn fields(&self) -> Vec<(String, String)> {
        let list = |v: &[EmailAddress]| if v.is_empty() { "-".to_string() } else { join(v, ", ") };
        let mut out = vec![
            (
                "verdict".to_string(),
                self.ignored_reason
                    .clone()
                    .map_or_else(|| self.verdict.to_string(), |r| format!("{} — {r}", self.verdict)),
            ),
            ("subject".into(), self.subject.to_string()),
            ("from".into(), self.from.as_ref().map(EmailAddress::to_string).unwrap_or_default()),
        ];
        if self.ignored_reason.is_none() {
            out.extend([
                ("class".to_string(), format!("{} (confidence {:.2})", self.class, self.confidence)),
                ("municipality".into(), self.municipality.unwrap_or("-").to_string()),
                (
                    "missing".into(),
                    if self.missing.is_empty() {
                        "-".into()
                    } else {
                        self.missing.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", ")
                    },
                ),
                ("urgent / privacy".into(), format!("{} / {}", self.urgent, self.privacy)),
                ("to".into(), list(self.route.to)),
                ("cc".into(), list(self.route.cc)),
                ("held".into(), self.held.to_string()),
                (
                    "reply".into(),
                    self.reply_to.map_or_else(|| self.reply.to_string(), |t| format!("{} to {t}", self.reply)),
                ),
            ]);
        }
        out.push(("reasons".into(), self.reasons.join("\n")));
        out
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut raw).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut raw)).map(|_| ())
    };
    result.map(|()| raw).map_err(|e| format!("cannot read: {e}"))
}

fn error_json(file: &str, error: &str) -> String {
    serde_json::json!({ "file": file, "error": error }).to_string()
}

fn human(r: &Report<'_>) -> String {
    let mut s = format!(
        "{}\n  subject: {}\n  from: {}\n",
        r.file,
        r.subject,
        r.from.as_ref().map_or("(none)", EmailAddress::as_str)
    );
    if let Some(reason) = &r.ignored_reason {
        s += &format!("  IGNORED: {reason}\n");
        return s;
    }
    let mut flags = Vec::new();
    if r.urgent {
        flags.push("URGENT");
    }
    if r.privacy {
        flags.push("PRIVACY");
    }
    s += &format!(
        "  ticket: {} (confidence {:.2}){}, municipality {}\n",
        r.class,
        r.confidence,
        if flags.is_empty() { String::new() } else { format!(" [{}]", flags.join(", ")) },
        r.municipality.unwrap_or("unknown")
    );
    if r.complete {
        s += "  details: complete\n";
    } else {
        s += &format!("  details: missing {}\n", r.missing.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(", "));
    }
    s += &format!(
        "  route{}: to {}{}\n",
        if r.held { " (held)" } else { "" },
        join(r.route.to, ", "),
        if r.route.cc.is_empty() { String::new() } else { format!("; cc {}", join(r.route.cc, ", ")) }
    );
    s += &format!("  reply: {}\n  reasons:\n", r.reply);
    for reason in &r.reasons {
        s += &format!("    - {reason}\n");
    }
    s
}
