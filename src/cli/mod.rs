//! The command line: `routedesk triage`, `routedesk check-policy`, …

mod audit;
#[cfg(feature = "bench")]
mod bench;
mod check_policy;
mod oauth2;
mod retention;
mod serve;
mod status;
pub mod triage;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::text::lang::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "routedesk",
    version,
    about = "Turns fault reports sent by e-mail into routed, tracked helpdesk tickets"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide what the routine requires for each mail file (.eml), without sending or storing anything.
    Triage {
        /// Routing policy (TOML); the built-in Gjøvik region policy when omitted.
        #[arg(long, env = "ROUTEDESK_POLICY")]
        policy: Option<PathBuf>,
        /// A service's configuration: its policy, with the model learned from the corrections
        /// kept in its database (as the service decides now).
        #[arg(long, conflicts_with = "policy")]
        config: Option<PathBuf>,
        /// One JSON object per input file, one per line, in input order.
        #[arg(long)]
        json: bool,
        /// The language of the reasons: `nb` (bokmål) or `en`.
        #[arg(long, default_value = "nb", value_parser = parse_lang)]
        lang: Lang,
        /// Mail files (RFC 5322); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// How well the trained classifier triages reports it has not seen: k-fold cross-validation on
    /// a labelled corpus, beside the policy's keyword scorer.
    EvalTriage {
        /// Routing policy (TOML); the built-in Gjøvik region policy when omitted.
        #[arg(long, env = "ROUTEDESK_POLICY")]
        policy: Option<PathBuf>,
        /// A folder of labelled reports (`*.toml`).
        #[arg(long, default_value = "policy/training")]
        corpus: PathBuf,
        #[arg(long, default_value_t = 5)]
        folds: usize,
        /// Deal the reports into folds this many ways and print each headline figure's mean and
        /// range over them (the first way is the one the figures above it quote).
        #[arg(long, default_value_t = 1)]
        splits: u64,
        /// Instead of cross-validating, train on the whole corpus and measure on the reports in
        /// this folder (new reports, kept apart from the corpus).
        #[arg(long)]
        test: Option<PathBuf>,
        /// Below this probability the model abstains (manual triage); the policy's
        /// `classify.model.min_probability` (or 0.6) when omitted.
        #[arg(long)]
        threshold: Option<f64>,
        /// At or above this probability a report is flagged as a possible breach; the policy's
        /// `classify.model.privacy_min_probability` (or 0.18) when omitted.
        #[arg(long)]
        privacy_threshold: Option<f64>,
        /// `logistic` (logistic regression) or `bayes` (naive Bayes).
        #[arg(long, default_value = "logistic")]
        algorithm: crate::pipeline::learn::Algorithm,
        /// Also list every report the model got wrong, abstained on, or flagged wrongly.
        #[arg(long)]
        mistakes: bool,
    },
    /// Validate a policy file and print what it understood.
    CheckPolicy {
        /// Policy file (TOML).
        file: PathBuf,
    },
    /// Print the built-in default policy (a starting point for your own).
    DefaultPolicy,
    /// Run the service: read the helpdesk mailbox, keep the ticket log, send routed mail and replies.
    Serve {
        /// Configuration file (TOML); every key can also come from ROUTEDESK_… variables.
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        /// Decide and record everything, send nothing.
        #[arg(long)]
        dry_run: bool,
        /// Log as JSON lines instead of readable text.
        #[arg(long)]
        log_json: bool,
    },
    /// Manage staff accounts (stored in the configured database).
    User {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Measure how fast the triage pipeline decides (on one core), and where the time goes.
    #[cfg(feature = "bench")]
    Bench {
        /// Folder of .eml files.
        #[arg(default_value = "tests/fixtures/reports")]
        dir: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// Seconds per run.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Remove personal data past the policy's retention periods (what the daily job does).
    Purge {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print, as JSON, everything kept about one person (a data subject's access request).
    Export {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        /// The person's e-mail address.
        #[arg(long)]
        person: String,
    },
    /// Remove everything kept about one person (a data subject's request for erasure): their
    /// tickets' personal data, their mail, the mail sent to them, what names them, and their mail's
    /// copies in the helpdesk mailbox. Statistics stay.
    Erase {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        /// The person's e-mail address.
        #[arg(long)]
        person: String,
        /// Only count what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Fill the configured database with N synthetic tickets, to measure the web view at scale.
    #[cfg(feature = "bench")]
    BenchSeed {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 1_000_000)]
        tickets: u64,
    },
    /// Exit 0 when the web view at ADDRESS answers /healthz (for container health checks).
    Healthcheck {
        #[arg(default_value = "127.0.0.1:8080")]
        address: String,
    },
    /// One screen for an operator: intake, outbox, alerts and database, from the shared database.
    /// Exits 1 while an alert holds or the intake fails.
    Status {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
    },
    /// List the newest entries of the audit log (sign-ins, refused access, views of reports,
    /// files and privacy cases), newest first.
    Audit {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// OAuth2 for the mailbox: `login` stores a user's refresh token (Google accounts).
    Oauth2 {
        #[command(subcommand)]
        command: oauth2::Oauth2Command,
    },
    /// Validate a configuration (and the policy it names) without starting.
    CheckConfig {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Triage { policy, config, json, lang, files } => {
            let policy = match config {
                Some(config) => match block_on_value(triage::learned_policy(config)) {
                    Some(p) => Ok(p),
                    None => return ExitCode::from(2),
                },
                None => crate::policy::Policy::load_or_default(policy.as_deref()).map_err(|e| e.to_string()),
            };
            triage::run(policy, json, lang, &files)
        }
        Command::EvalTriage {
            policy,
            corpus,
            folds,
            splits,
            test,
            threshold,
            privacy_threshold,
            algorithm,
            mistakes,
        } => {
            let split = triage::Unseen { folds, splits, test: test.as_deref() };
            triage::eval(policy.as_deref(), &corpus, split, (threshold, privacy_threshold), algorithm, mistakes)
        }
        Command::CheckPolicy { file } => check_policy::run(&file),
        Command::Serve { config, dry_run, log_json } => serve::run(config.as_deref(), dry_run, log_json),
        Command::CheckConfig { config } => serve::check(config.as_deref()),
        Command::User { config, command } => block_on(user::exec(config, command)),
        Command::Healthcheck { address } => healthcheck(&address),
        #[cfg(feature = "bench")]
        Command::Bench { dir, runs, seconds } => bench::triage(&dir, runs, seconds),
        Command::Purge { config, dry_run } => block_on(retention::purge(config, dry_run)),
        Command::Export { config, person } => block_on(retention::export(config, person)),
        Command::Erase { config, person, dry_run } => block_on(retention::erase(config, person, dry_run)),
        #[cfg(feature = "bench")]
        Command::BenchSeed { config, tickets } => block_on(bench::seed(config, tickets)),
        Command::Status { config } => match block_on_value(status::run(config)) {
            Some(true) => ExitCode::SUCCESS,
            Some(false) => ExitCode::FAILURE,
            None => ExitCode::from(2),
        },
        Command::Audit { config, limit } => block_on(audit::list(config, limit)),
        Command::Oauth2 { command } => block_on(oauth2::exec(command)),
        Command::DefaultPolicy => {
            print!("{}", crate::policy::DEFAULT_POLICY);
            ExitCode::SUCCESS
        }
    }
}

/// Runs an async command on a small runtime; errors are printed with their chain (exit 2).
fn block_on(fut: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    match block_on_value(fut) {
        Some(()) => ExitCode::SUCCESS,
        None => ExitCode::from(2),
    }
}

/// As [`block_on`], for a command with a result; `None` after printing the error.
fn block_on_value<T>(fut: impl std::future::Future<Output = anyhow::Result<T>>) -> Option<T> {
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(fut));
    result.map_err(|e| eprintln!("error: {e:#}")).ok()
}

/// A plain HTTP/1.0 GET of `/healthz`: the image needs no curl.
fn healthcheck(address: &str) -> ExitCode {
    use std::io::{Read as _, Write as _};
    let result = (|| -> std::io::Result<bool> {
        let addr = std::net::ToSocketAddrs::to_socket_addrs(address)?.next().ok_or(std::io::ErrorKind::NotFound)?;
        let mut s = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(5))?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        s.write_all(format!("GET /healthz HTTP/1.0\r\nHost: {address}\r\n\r\n").as_bytes())?;
        let mut answer = String::new();
        s.take(4096).read_to_string(&mut answer)?;
        Ok(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"))
    })();
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("unhealthy: {address} did not answer 200");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("unhealthy: {address}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language {s:?}: nb or en"))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{Cli, Command};

    #[test]
    fn erase_takes_a_person_and_a_dry_run() {
        let cli = Cli::try_parse_from(["routedesk", "erase", "--person", "kari@gjovik.kommune.no", "--dry-run"])
            .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Erase { person, dry_run: true, config: None } if person == "kari@gjovik.kommune.no"
        ));
        assert!(Cli::try_parse_from(["routedesk", "erase"]).is_err(), "the person is required");
    }
}
