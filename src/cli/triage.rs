//! `routedesk triage [--policy FILE] [--json] [--lang nb|en] FILE...`: the pipeline's decision for each mail file.
//! The JSON form is a contract other tools rely on: one object per input file, one per line, in
//! input order; unreadable files give `{"file", "error"}` and exit status 2 once all are done.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::pipeline::learn::eval::{Evaluation, Split, evaluate};
use crate::pipeline::parse::ParseLimits;
use crate::pipeline::report::Report;
use crate::pipeline::triage;
use crate::policy::Policy;
use crate::text::address::{EmailAddress, join};
use crate::text::lang::Lang;

/// The policy of the service configured in `config`, with the model retrained from the
/// corrections in its database — what the service decides with.
pub async fn learned_policy(config: PathBuf) -> anyhow::Result<Policy> {
    let cfg = crate::config::Config::load(Some(&config))?;
    let store = crate::store::Store::connect(&cfg.database_url).await?;
    let desk = crate::desk::Desk::new(&cfg, store).await?;
    desk.retrain_if_changed().await?;
    Ok(desk.policy().clone())
}

pub fn run(policy: Result<Policy, String>, json: bool, lang: Lang, files: &[PathBuf]) -> ExitCode {
    let policy = match policy {
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

/// Which reports `eval-triage` measures the model on: the corpus's folds, or a folder kept apart.
pub struct Unseen<'a> {
    pub folds: usize,
    /// How many ways the reports are dealt into folds (the spread of each figure over them).
    pub splits: u64,
    pub test: Option<&'a Path>,
}

/// `routedesk eval-triage`: the cross-validation of the trained classifier on a labelled corpus,
/// or the model trained on it measured on reports kept apart.
pub fn eval(
    policy: Option<&Path>,
    corpus: &Path,
    unseen: Unseen<'_>,
    thresholds: (Option<f64>, Option<f64>),
    algorithm: crate::pipeline::learn::Algorithm,
    mistakes: bool,
) -> ExitCode {
    let policy = match Policy::load_or_default(policy) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let model = policy.classify.model;
    let threshold = thresholds.0.or(model.map(|m| m.min_probability)).unwrap_or(0.6);
    let privacy_threshold = thresholds.1.or(model.map(|m| m.privacy_min_probability)).unwrap_or(0.18);
    let reports = match read_labelled(corpus) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let kept_apart = match unseen.test.map(read_labelled).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(both) = kept_apart.iter().flatten().find(|t| reports.iter().any(|r| r.id == t.id)).map(|t| t.id.clone())
    {
        eprintln!("error: report {both} is in the corpus too: a report kept apart must be one the model has not seen");
        return ExitCode::from(2);
    }
    let started = std::time::Instant::now();
    let model = crate::pipeline::learn::Model::train(&reports, &policy, algorithm);
    let trained = started.elapsed();
    drop(model);
    let split = match &kept_apart {
        Some(t) => Split::HeldOut(t),
        None => Split::Folds { folds: unseen.folds, seed: 0 },
    };
    let ev = evaluate(&reports, split, threshold, privacy_threshold, &policy, algorithm);
    print!("{ev}");
    if kept_apart.is_none() && unseen.splits > 1 {
        let others: Vec<Evaluation> = (1..unseen.splits)
            .map(|seed| {
                let split = Split::Folds { folds: unseen.folds, seed };
                evaluate(&reports, split, threshold, privacy_threshold, &policy, algorithm)
            })
            .collect();
        println!("{}", spread(&std::iter::once(&ev).chain(&others).collect::<Vec<_>>()));
    }
    if mistakes {
        println!(
            "the model's mistakes (id, true class → best guess and its probability, privacy truth and probability, subject):"
        );
        for m in &ev.mistakes {
            println!("  {m}");
        }
    }
    println!("training on all {} reports: {:.0} ms", reports.len(), trained.as_secs_f64() * 1000.0);
    let curve =
        crate::pipeline::learn::eval::learning_curve(&reports, &[0, 10, 50, 200], threshold, &policy, algorithm);
    let points: Vec<String> = curve
        .iter()
        .map(|(n, acc, cov)| format!("{n}: {:.1} % (coverage {:.1} %)", acc * 100.0, cov * 100.0))
        .collect();
    println!("learning curve (staff corrections added to a base part; a fixed test fifth): {}", points.join(", "));
    ExitCode::SUCCESS
}

/// One headline figure of an evaluation.
type Figure = fn(&Evaluation) -> f64;

/// Each headline figure's mean and range over evaluations of the same corpus dealt into folds
/// differently: how far a change must move a figure to be more than the split's luck.
fn spread(evs: &[&Evaluation]) -> String {
    let figures: [(&str, Figure); 5] = [
        ("class accuracy at 90 % coverage", |e| e.accuracy_at(0.9).0),
        ("privacy recall at 80 % precision", |e| e.recall_at(0.8).0),
        ("class accuracy on answered", |e| e.accuracy()),
        ("live privacy recall", |e| e.combined.privacy.recall()),
        ("live privacy precision", |e| e.combined.privacy.precision()),
    ];
    let lines: Vec<String> = figures
        .iter()
        .map(|(name, figure)| {
            let v: Vec<f64> = evs.iter().map(|e| figure(e)).collect();
            let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            format!("  {name}: {:.1} % ({:.1}–{:.1} %)", mean * 100.0, lo * 100.0, hi * 100.0)
        })
        .collect();
    format!("over {} ways of dealing the reports into folds, mean (range):\n{}", evs.len(), lines.join("\n"))
}

/// [`read_corpus`], refusing a folder with none.
fn read_labelled(dir: &Path) -> Result<Vec<crate::pipeline::learn::Labelled>, String> {
    let reports = read_corpus(dir)?;
    if reports.is_empty() {
        return Err(format!("{} holds no labelled reports", dir.display()));
    }
    Ok(reports)
}

/// Every `*.toml` file in `dir`, in name order, read as labelled reports.
fn read_corpus(dir: &Path) -> Result<Vec<crate::pipeline::learn::Labelled>, String> {
    use crate::pipeline::learn::corpus;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        all.extend(corpus::parse(&text, &f.display().to_string())?);
    }
    corpus::unique(all, &dir.display().to_string())
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
