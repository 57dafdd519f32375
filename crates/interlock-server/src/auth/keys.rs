//! API keys: `<id>.<secret>`. The id is public (it names the key in lists and the audit
//! trail); only the SHA-256 of the secret is stored. Secrets are 256 random bits, so a
//! fast hash is enough (passwords, which are guessable, use argon2 instead).

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new key: the token is shown once, the hash is stored.
#[derive(Debug)]
pub struct GeneratedKey {
    pub id: String,
    pub token: String,
    pub secret_hash: String,
}

pub fn generate_key() -> GeneratedKey {
    let mut rng = rand::rng();
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let id = format!("key_{}", hex::encode(id));
    let secret = hex::encode(secret);
    GeneratedKey {
        token: format!("{id}.{secret}"),
        secret_hash: hash_secret(&secret),
        id,
    }
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Splits a bearer token into id and secret; `None` if it is not shaped like a key.
pub fn split_token(token: &str) -> Option<(&str, &str)> {
    let (id, secret) = token.split_once('.')?;
    let well_formed = id.starts_with("key_")
        && id.len() == 20
        && secret.len() == 64
        && secret.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then_some((id, secret))
}

/// Compares two hashes in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_splits_back_into_its_id_and_a_secret_matching_the_hash() {
        let k = generate_key();
        let (id, secret) = split_token(&k.token).unwrap();
        assert_eq!(id, k.id);
        assert!(constant_time_eq(&hash_secret(secret), &k.secret_hash));
    }

    #[test]
    fn malformed_tokens_are_not_keys() {
        for t in [
            "",
            "abc",
            "key_123.abc",
            "nokey_0123456789abcdef.x",
            "key_0123456789abcdef",
        ] {
            assert!(split_token(t).is_none(), "{t}");
        }
    }

    #[test]
    fn different_hashes_are_unequal() {
        assert!(!constant_time_eq(&hash_secret("a"), &hash_secret("b")));
        assert!(!constant_time_eq("ab", "abc"));
    }
}
