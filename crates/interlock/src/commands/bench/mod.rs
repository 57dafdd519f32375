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
mod progress;
mod proposals;
mod report;
mod server;
mod timers;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable proposals per second over HTTP, with latency percentiles, next to SQLite's
    /// one-commit-per-row ceiling and a no-op HTTP handler's ceiling.
    Proposals(proposals::ProposalsArgs),
    /// Time bombs at scale: memory with N pending, lateness of M due in the same second,
    /// executions/s, restart-to-first-fire; against a real `interlock serve` process.
    Timers(timers::TimersArgs),
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Proposals(args) => proposals::run(args).await,
        BenchCommand::Timers(args) => timers::run(args).await,
    }
}
