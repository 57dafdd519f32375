//! Who is calling and what they may do. Every request is authenticated by a bearer key;
//! what a principal may do is decided in one table ([`policy`]).

mod keys;
pub mod passwords;
pub mod policy;
mod principal;
pub mod session;

pub use keys::{GeneratedKey, constant_time_eq, generate_key, hash_secret, split_token};
pub use policy::Permission;
pub use principal::{Principal, Role};
