//! The command line: `routedesk triage`, `routedesk check-policy`, …

mod check_policy;
mod triage;

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
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Triage { policy, json, files } => triage::run(policy.as_deref(), json, &files),
        Command::CheckPolicy { file } => check_policy::run(&file),
        Command::DefaultPolicy => {
            print!("{}", crate::policy::DEFAULT_POLICY);
            ExitCode::SUCCESS
        }
    }
}
