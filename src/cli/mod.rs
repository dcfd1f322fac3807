//! The command line: `routedesk triage`, `routedesk check-policy`, …

mod check_policy;
mod serve;
pub mod triage;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
        /// One JSON object per input file, one per line, in input order.
        #[arg(long)]
        json: bool,
        /// Mail files (RFC 5322); `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
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
    /// Validate a configuration (and the policy it names) without starting.
    CheckConfig {
        #[arg(long, env = "ROUTEDESK_CONFIG")]
        config: Option<PathBuf>,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Triage { policy, json, files } => triage::run(policy.as_deref(), json, &files),
        Command::CheckPolicy { file } => check_policy::run(&file),
        Command::Serve { config, dry_run, log_json } => serve::run(config.as_deref(), dry_run, log_json),
        Command::CheckConfig { config } => serve::check(config.as_deref()),
        Command::User { config, command } => user::run(config.as_deref(), command),
        Command::DefaultPolicy => {
            print!("{}", crate::policy::DEFAULT_POLICY);
            ExitCode::SUCCESS
        }
    }
}
