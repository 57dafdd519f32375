//! The storage contract of Interlock: the [`Store`] trait, the rows it reads and writes,
//! the audit hash chain, and the conformance suite every backend runs.
//!
//! Every method that changes something writes one fact in one transaction: the change,
//! the jobs it schedules and the audit entries that record it, together or not at all.
//! Methods take `now` from the caller (the clock is injected; nothing here reads it).

pub mod audit;
mod committers;
pub mod conformance;
mod error;
pub mod hints;
mod models;
mod outbox;
mod store;

pub use committers::committers;
pub use error::StoreError;
pub use models::*;
pub use outbox::*;
pub use store::Store;

/// Store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
