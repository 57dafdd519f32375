//! `interlock bench`: end-to-end measurements against a real server. Each measurement
//! prints a table with its baselines measured in the same run, and can write JSON.

mod load;
mod proposals;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable proposals per second over HTTP, with latency percentiles, next to SQLite's
    /// one-commit-per-row ceiling and a no-op HTTP handler's ceiling.
    Proposals(proposals::ProposalArgs),
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Proposals(args) => proposals::run(args).await,
    }
}
