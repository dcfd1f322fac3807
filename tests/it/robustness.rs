//! Real-world MIME nobody here wrote: test messages from mail-parser and Dovecot committed in
//! `tests/fixtures/mime/` (see its README for their origin), and CPython's `test_email` data and
//! SpamAssassin's samples where installed (Debian packages `libpython3.11-testsuite`,
//! `spamassassin`; `scripts/test` installs them). Every file must get a decision or a clear error
//! from the whole pipeline, and nothing may panic.
//!
//! Extra directories can be given in `ROUTEDESK_CORPORA` (colon-separated).

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use routedesk::pipeline::parse::ParseLimits;
use routedesk::pipeline::triage;
use routedesk::policy::Policy;

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mime")
}

/// The directories to run over: the committed corpus, those installed on this machine, and
/// `ROUTEDESK_CORPORA`.
fn corpora() -> Vec<PathBuf> {
    let mut dirs = vec![committed()];
    let python_test_dirs = std::process::Command::new("python3")
        .args(["-c", "import test, os; print(os.path.dirname(test.__file__))"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join("test_email/data"));
    dirs.extend(python_test_dirs);
    dirs.extend(
        ["/usr/lib/python3.11/test/test_email/data", "/usr/share/doc/spamassassin/examples"].map(PathBuf::from),
    );
    if let Some(extra) = std::env::var_os("ROUTEDESK_CORPORA") {
        dirs.extend(std::env::split_paths(&extra));
    }
    let (found, missing): (Vec<PathBuf>, Vec<PathBuf>) = dirs.into_iter().partition(|d| d.is_dir());
    if !missing.is_empty() {
        // Straight to stderr, past the test harness's capture: a smaller corpus is worth seeing.
        let missing: Vec<String> = missing.iter().map(|d| d.display().to_string()).collect();
        let _ = writeln!(std::io::stderr(), "robustness: corpora not installed here: {}", missing.join(", "));
    }
    let mut found = found;
    found.dedup();
    found
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if !p.extension().is_some_and(|x| x == "json" || x == "py" || x == "gz" || x == "md")
            && !p
                .file_name()
                .is_some_and(|n| n == "COPYING" || n == ".gitattributes" || n.to_string_lossy().starts_with("LICENSE"))
        {
            out.push(p);
        }
    }
}

/// What the whole pipeline made of one corpus.
#[derive(Default)]
struct Tally {
    files: usize,
    tickets: usize,
    ignored: std::collections::BTreeMap<&'static str, usize>,
    quarantined: usize,
    /// Files whose decoded subject or text holds U+FFFD (a character that could not be decoded).
    replacement_chars: Vec<String>,
    panics: Vec<String>,
}

impl Tally {
    fn of(dir: &Path, policy: &Policy, limits: &ParseLimits) -> Tally {
        let mut files = Vec::new();
        files_under(dir, &mut files);
        let mut t = Tally::default();
        for f in &files {
            let Ok(raw) = std::fs::read(f) else { continue };
            t.files += 1;
            match catch_unwind(AssertUnwindSafe(|| triage(&raw, policy, limits))) {
                Ok(Ok(d)) => {
                    match &d.ignored {
                        None => t.tickets += 1,
                        Some(i) => *t.ignored.entry(i.kind.as_str()).or_default() += 1,
                    }
                    if d.mail.subject.contains('\u{FFFD}') || d.mail.text.contains('\u{FFFD}') {
                        t.replacement_chars.push(f.display().to_string());
                    }
                }
                Ok(Err(e)) => {
                    assert!(!e.to_string().is_empty());
                    t.quarantined += 1;
                }
                Err(_) => t.panics.push(f.display().to_string()),
            }
        }
        t
    }

    fn line(&self, name: &str) -> String {
        let ignored: Vec<String> = self.ignored.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            self.files,
            self.tickets,
            if ignored.is_empty() { "0".to_string() } else { ignored.join(", ") },
            self.quarantined,
            self.panics.len(),
            self.replacement_chars.len()
        )
    }
}

#[test]
fn real_world_mime_gets_a_decision_or_a_clear_error_and_never_panics() {
    let policy = Policy::default_region().expect("default policy");
    let limits = ParseLimits::default();
    let mut total = Tally::default();
    let mut table = vec![
        "| corpus | files | tickets | ignored by reason | quarantined | panics | with U+FFFD |".to_string(),
        "|---|---|---|---|---|---|---|".to_string(),
    ];
    for d in corpora().iter().chain([&real_world(), &real_bounces()]) {
        let t = Tally::of(d, &policy, &limits);
        table.push(t.line(&d.display().to_string().replace(env!("CARGO_MANIFEST_DIR"), ".")));
        total.files += t.files;
        total.tickets += t.tickets;
        total.panics.extend(t.panics);
        total.replacement_chars.extend(t.replacement_chars);
    }
    // Straight to stderr, past the harness's capture: the figures of docs/testing.md.
    let _ = writeln!(std::io::stderr(), "robustness:\n{}", table.join("\n"));
    let _ = writeln!(std::io::stderr(), "U+FFFD in: {}", total.replacement_chars.join(", "));
    // The committed messages are always there.
    assert!(total.files >= 50, "only {} corpus files found", total.files);
    assert!(total.panics.is_empty(), "the pipeline panicked on:\n{}", total.panics.join("\n"));
    assert!(
        total.tickets > total.files / 2,
        "most real mail should become tickets: {} of {}",
        total.tickets,
        total.files
    );
}

fn real_bounces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces")
}

/// The real bounces of `tests/fixtures/bounces` (flufl.bounce's test data, see its README): every
/// one is known as a robot's mail, not a report — most carry no DSN structure and no
/// `Auto-Submitted` — but two: `groupwise_03.txt` is a person's reply ("RE: …") that upstream keeps
/// as its example of a mail that is *not* a bounce, and `simple_20.txt` is a gateway's notice titled
/// as a reply ("RE: Your message … awaits moderator approval : non remis") whose only robot sign is
/// its body, words a person may quote in a report. And every one reads without U+FFFD, including a
/// subject split inside a character across two encoded words (`simple_39.txt`), a body in an
/// unknown charset (`qmail_08.txt`) and GB2312 HTML that names no charset (`simple_25.txt`).
#[test]
fn real_bounces_become_no_ticket() {
    let policy = Policy::default_region().expect("default policy");
    let limits = ParseLimits::default();
    let mut files = Vec::new();
    files_under(&real_bounces(), &mut files);
    assert!(files.len() >= 100, "{} files", files.len());
    files.sort();
    // Each file read and decided once, for both questions.
    let (mut tickets, mut unreadable) = (Vec::new(), Vec::new());
    for f in &files {
        let raw = std::fs::read(f).expect("fixture reads");
        let Ok(d) = triage(&raw, &policy, &limits) else { continue };
        if d.ignored.is_none() {
            tickets.push(f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        }
        if d.mail.subject.contains('\u{FFFD}') || d.mail.text.contains('\u{FFFD}') {
            unreadable.push(f.display().to_string());
        }
    }
    assert_eq!(tickets, ["groupwise_03.txt", "simple_20.txt"], "became tickets");
    assert!(unreadable.is_empty(), "U+FFFD in: {unreadable:?}");
}

fn real_world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-world")
}

/// Each mail of `tests/fixtures/real-world` (made by its `make.py` and `make_images.py`) says in
/// its name what it must become: `ticket-…` or `ignored-<kind>-…`, and a picture's size as seen;
/// and every one of them decodes without U+FFFD.
#[test]
fn real_world_mail_reads_right_and_robots_without_headers_are_known() {
    let policy = Policy::default_region().expect("default policy");
    let limits = ParseLimits::default();
    let mut files = Vec::new();
    files_under(&real_world(), &mut files);
    files.retain(|f| f.extension().is_some_and(|x| x == "eml"));
    assert!(files.len() >= 25, "{} files", files.len());
    let mut wrong = Vec::new();
    for f in &files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let raw = std::fs::read(f).expect("fixture reads");
        let d = triage(&raw, &policy, &limits).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = d.ignored.as_ref().map_or_else(|| "ticket".to_string(), |i| format!("ignored-{}", i.kind.as_str()));
        if !name.starts_with(&format!("{got}-")) {
            wrong.push(format!("{name}: {got} ({})", d.ignored.as_ref().map(|i| i.reason()).unwrap_or_default()));
        }
        for (what, text) in [("subject", &d.mail.subject), ("text", &d.mail.text)] {
            if text.contains('\u{FFFD}') {
                wrong.push(format!("{name}: U+FFFD in the {what}: {text:?}"));
            }
        }
        // `ticket-image-…-<w>x<h>.eml` (make_images.py): a screenshot of the size a person sees.
        if let Some(size) = name.strip_prefix("ticket-image-").and_then(|n| n.strip_suffix(".eml")?.rsplit('-').next())
        {
            let seen = d.checks.screenshot.as_ref().map(|s| format!("{}x{}", s.width, s.height));
            if seen.as_deref() != Some(size) {
                wrong.push(format!("{name}: screenshot {seen:?}, not {size}"));
            }
        }
        if name.starts_with("ticket-") && d.mail.from_address().is_none() {
            wrong.push(format!("{name}: no reporter address"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Inputs the fuzzer found interesting (`fuzz/regressions/`): each must still get a decision or a
/// clear error, and never a panic.
#[test]
fn fuzz_regressions_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    assert!(files.len() >= 100, "fuzz/regressions holds {} inputs", files.len());
    let policy = Policy::default_region().expect("default policy");
    let limits = ParseLimits::default();
    let panics: Vec<String> = files
        .iter()
        .filter(|f| {
            let raw = std::fs::read(f).unwrap_or_default();
            catch_unwind(AssertUnwindSafe(|| {
                if let Ok(d) = triage(&raw, &policy, &limits) {
                    let _ = routedesk::reply::routing(&d, "RD-2026-000001", &policy, None, Default::default());
                    let _ = routedesk::reply::request_info(&d, "RD-2026-000001", &policy);
                }
                // What staff read of it, as the `render` fuzz target checks it.
                let html = routedesk::web::render_report(&raw, routedesk::web::i18n::Lang::Nb.texts())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                assert!(!html.contains("<script") && !html.contains("javascript:"), "a script survived");
            }))
            .is_err()
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(panics.is_empty(), "panics on:\n{}", panics.join("\n"));
}
