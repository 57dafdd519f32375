//! The one place where database errors become [`StoreError`]s.

use interlock_store::{Result, StoreError};

/// Turns database errors into [`StoreError::Backend`]; the detail is for logs.
pub trait DbResult<T> {
    fn db(self) -> Result<T>;
}

impl<T> DbResult<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(backend)
    }
}

pub fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A unique violation becomes `Duplicate(what)`; anything else a backend error.
pub fn duplicate_or_backend(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Duplicate(what()),
        _ => backend(e),
    }
}
