//! `interlock`: the one binary. Every subcommand starts here.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "interlock",
    version,
    about = "The safety catch between AI agents and the outside world"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read, check and try out rule sets.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
}

/// A refusal the user can act on: printed with its stable code, exit status 1.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Rules(cmd) => commands::rules::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.downcast_ref::<Refusal>() {
                Some(r) => eprintln!("error[{}]: {}", r.code, r.message),
                None => eprintln!("error: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}
