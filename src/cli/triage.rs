//! `routedesk triage [--policy FILE] [--json] [--lang nb|en] FILE...`: the pipeline's decision for each mail file.
//! The JSON form is a contract other tools rely on: one object per input file, one per line, in
//! input order; unreadable files give `{"file", "error"}` and exit status 2 once all are done.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::pipeline::parse::ParseLimits;
use crate::pipeline::report::Report;
use crate::pipeline::triage;
use crate::policy::Policy;
use crate::text::address::{EmailAddress, join};
use crate::text::lang::Lang;

pub fn run(policy: Option<&Path>, json: bool, lang: Lang, files: &[PathBuf]) -> ExitCode {
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
            (Ok(d), true) => serde_json::to_string(&Report::new(&name, d, lang))
                .unwrap_or_else(|e| error_json(&name, &e.to_string())),
            (Ok(d), false) => human(&Report::new(&name, d, lang)),
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
