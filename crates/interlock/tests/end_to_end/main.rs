//! End-to-end tests of the real `interlock` binary (ARCHITECTURE rule 9): set-up from the
//! command line, a crash in the middle of work and the restart after it, the audit trail
//! on disk, the time-scale agreement, graceful shutdown. One test binary, so the shared
//! harness in `common/` is compiled once and every part of it is used.

mod common;

mod audit_trail;
mod cli_setup;
mod cluster;
mod crash_recovery;
mod lifecycle;
