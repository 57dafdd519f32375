//! Who is calling and what they may do. Every request is authenticated by a bearer key;
//! what a principal may do is decided in one table ([`policy`]).

mod keys;
pub mod policy;
mod principal;

pub use keys::{GeneratedKey, generate_key, hash_secret, split_token};
pub use policy::Permission;
pub use principal::{Principal, Role};
