//! What Interlock's SQL backends (SQLite and PostgreSQL) share, so that each holds only
//! what its database needs done differently: rows to models and back ([`rows`]), the
//! audit hash chains appended inside a write transaction ([`chain`]), the queue that
//! groups concurrent transitions into one commit ([`group`]), and what the outbox and
//! cards decide ([`outbox`]).

#![forbid(unsafe_code)]

pub mod chain;
pub mod errors;
pub mod group;
pub mod listing;
pub mod outbox;
pub mod rows;
pub mod store_impl;
