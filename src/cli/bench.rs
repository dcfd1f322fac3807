//! `routedesk bench triage [DIR]`: how fast the pure pipeline decides, on one core, and where the
//! time goes (parsing with mail-parser, HTML to text and quote splitting, checks, classification,
//! routing). Reports the median of several runs.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;

use crate::pipeline::parse::{ParseLimits, parse};
use crate::pipeline::{check, classify, ignore, route};
use crate::policy::Policy;

pub fn triage(dir: &Path, runs: usize, seconds: f64) -> ExitCode {
    let mut corpus = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("error: cannot read {}", dir.display());
        return ExitCode::from(2);
    };
    for e in entries.filter_map(Result::ok) {
        if e.path().extension().is_some_and(|x| x == "eml")
            && let Ok(raw) = std::fs::read(e.path())
        {
            corpus.push(raw);
        }
    }
    if corpus.is_empty() {
        eprintln!("error: no .eml files in {}", dir.display());
        return ExitCode::from(2);
    }
    let policy = match Policy::default_region() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let limits = ParseLimits::default();
    let bytes: usize = corpus.iter().map(Vec::len).sum();
    let (min, max) = (corpus.iter().map(Vec::len).min().unwrap_or(0), corpus.iter().map(Vec::len).max().unwrap_or(0));
    println!(
        "corpus: {} mails, {:.1} kB on average ({:.1}–{:.1} kB)",
        corpus.len(),
        bytes as f64 / corpus.len() as f64 / 1024.0,
        min as f64 / 1024.0,
        max as f64 / 1024.0
    );

    // Step times per mail, summed over a run.
    let mut results: Vec<(f64, [Duration; 5])> = Vec::new();
    for _ in 0..runs {
        let mut steps = [Duration::ZERO; 5];
        let mut done = 0usize;
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < seconds {
            for raw in &corpus {
                let t0 = Instant::now();
                let _ = std::hint::black_box(MessageParser::default().parse(raw));
                let t1 = Instant::now();
                let Ok(mail) = parse(raw, &limits) else { continue };
                let t2 = Instant::now();
                let ignored = ignore::screen(&mail);
                let checks = check::check(&mail, &policy);
                let t3 = Instant::now();
                let c = classify::classify(&mail, &policy);
                let t4 = Instant::now();
                if ignored.is_none() {
                    std::hint::black_box(route::route(&mail, &checks, &c, &policy));
                }
                let t5 = Instant::now();
                // mail-parser alone, then the rest of parse (HTML to text, quotes, parts), check, classify, route.
                steps[0] += t1 - t0;
                steps[1] += (t2 - t1).saturating_sub(t1 - t0);
                steps[2] += t3 - t2;
                steps[3] += t4 - t3;
                steps[4] += t5 - t4;
                done += 1;
            }
        }
        // Throughput of the pipeline proper (parse → route), without the extra mail-parser pass.
        let pipeline: Duration = steps[1..].iter().sum::<Duration>() + steps[0];
        results.push((done as f64 / pipeline.as_secs_f64(), steps.map(|d| d / done.max(1) as u32)));
    }
    results.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (rate, steps) = results[results.len() / 2];
    println!(
        "triage throughput (median of {runs} runs, one core): {rate:.0} reports/s — {:.1} MB/s",
        rate * bytes as f64 / corpus.len() as f64 / 1e6
    );
    let total: Duration = steps.iter().sum();
    for (name, d) in ["parse: MIME (mail-parser)", "parse: HTML to text, quotes, parts", "check", "classify", "route"]
        .iter()
        .zip(steps)
    {
        println!(
            "  {name:38} {:>8.1} µs  {:>5.1} %",
            d.as_secs_f64() * 1e6,
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        );
    }
    println!("all runs (reports/s): {}", results.iter().map(|r| format!("{:.0}", r.0)).collect::<Vec<_>>().join(", "));
    ExitCode::SUCCESS
}

/// `routedesk bench-seed`: adds synthetic tickets to the configured database.
pub async fn seed(config: Option<std::path::PathBuf>, tickets: u64) -> anyhow::Result<()> {
    let cfg = crate::config::Config::load(config.as_deref())?;
    let store = crate::store::Store::connect(&cfg.database_url).await?;
    let started = Instant::now();
    store
        .seed_tickets(tickets, |done| {
            if done % 100_000 == 0 || done == tickets {
                eprintln!("{done} tickets ({:.0} s)", started.elapsed().as_secs_f64());
            }
        })
        .await?;
    store.close().await;
    Ok(())
}
