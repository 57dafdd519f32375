//! `interlock`: the one binary. Every subcommand starts here.

mod commands;
mod config;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// glibc's allocator spent a tenth of the server's time on the proposal path; mimalloc's
/// thread-local free lists cut that (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use commands::admin::{DatabaseArg, KeyCommand, TeamCommand};
use commands::audit::AuditCommand;
use commands::rules::RulesCommand;
use commands::serve::{DemoArgs, ServeArgs};

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
    /// Run the server.
    Serve(ServeArgs),
    /// Run a ready-made deployment (two teams, the worked example, printed keys).
    Demo(DemoArgs),
    /// Bring the database schema up to date.
    Migrate(DatabaseArg),
    /// Teams.
    #[command(subcommand)]
    Team(TeamCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// People and their roles.
    #[command(subcommand)]
    User(commands::people::UserCommand),
    /// Read, check and try out rule sets.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Notification channels of a team, and test sends.
    #[command(subcommand)]
    Channel(commands::notify::ChannelCommand),
    /// Test sends through connectors.
    #[command(subcommand)]
    Connector(commands::notify::ConnectorCommand),
    /// Verify or export the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Measure throughput and latency end to end (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a commented config file with every default.
    Default,
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
    // reqwest is built without a default TLS provider; ring avoids a C build of aws-lc.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::serve(args).await,
            Command::Demo(args) => commands::serve::demo(args).await,
            Command::Migrate(db) => commands::admin::migrate(db).await,
            Command::Team(cmd) => commands::admin::team(cmd).await,
            Command::Key(cmd) => commands::admin::key(cmd).await,
            Command::User(cmd) => commands::people::run(cmd).await,
            Command::Rules(cmd) => commands::rules::run(cmd).await,
            Command::Channel(cmd) => commands::notify::channel(cmd).await,
            Command::Connector(cmd) => commands::notify::connector(cmd).await,
            Command::Audit(cmd) => commands::audit::run(cmd).await,
            Command::Bench(cmd) => commands::bench::run(cmd).await,
            Command::Config(ConfigCommand::Default) => {
                print!("{}", config::DEFAULT_TOML);
                Ok(())
            }
        }
    });
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
