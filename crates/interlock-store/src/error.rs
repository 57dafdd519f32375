use crate::models::ActionRecord;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A conditional update lost: the action is no longer in the status and version the
    /// change was computed from. Carries the action as it is now.
    #[error("the action changed concurrently; it is now {} at version {}", .0.status, .0.version)]
    Conflict(Box<ActionRecord>),
    /// A unique name is taken (a team slug, a user email).
    #[error("{0} already exists")]
    Duplicate(String),
    /// The rule set changed since the caller read it.
    #[error("the rules are at version {current}, not {expected}")]
    StaleRules { expected: u64, current: u64 },
    /// Stored data does not read back (a bug or a hand-edited database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database failed; details are for logs, never for API responses.
    #[error("database error: {0}")]
    Backend(String),
}
