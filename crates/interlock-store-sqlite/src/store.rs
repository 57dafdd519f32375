//! The [`Store`](interlock_store::Store) contract, each method handed to the module of
//! its area (see `interlock_store_sql::store_impl`).

interlock_store_sql::impl_store!(crate::SqliteStore);
