//! What happens to actions, independent of HTTP: proposing, transitions and their
//! consequences, group commit.

pub mod admin;
pub mod channels;
pub mod commit;
pub mod decisions;
pub mod diff;
pub mod people;
pub mod proposals;
pub mod rules;
pub mod transitions;
