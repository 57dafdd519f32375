//! `interlock bench`: end-to-end measurements of a whole server, as opposed to the
//! micro-benchmarks under `benches/`. Each measurement lives in its own module and prints
//! its figures next to the baselines measured in the same run, so a reader can tell a
//! slow server from a slow machine. Methods and recorded figures are in BENCHMARKS.md.

mod baselines;
mod latency;
mod load;
mod machine;
mod metrics;
mod mix;
mod proposals;
mod report;
mod server;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable proposals per second over HTTP, with latency percentiles, next to SQLite's
    /// one-commit-per-row ceiling and a no-op HTTP handler's ceiling.
    Proposals(proposals::ProposalsArgs),
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Proposals(args) => proposals::run(args).await,
    }
}
