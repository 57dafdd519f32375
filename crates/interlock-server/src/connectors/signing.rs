//! Signatures on everything Interlock POSTs: `Interlock-Signature: t=<unix seconds>,
//! v1=<hex HMAC-SHA256 of "<t>.<raw body>">`. The timestamp lets receivers refuse replays.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub fn signature_header(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    format!(
        "t={unix_seconds},v1={}",
        hmac_hex(secret, unix_seconds, body)
    )
}

pub fn hmac_hex(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a signature header as a receiver would (used by tests and `docs/connectors.md`).
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value),
            _ => {}
        }
    }
    match (t, v1) {
        (Some(t), Some(v1)) => hmac_hex(secret, t, body) == v1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_secret_and_body_only() {
        let h = signature_header("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert!(verify("s3cret", &h, b"{\"a\":1}"));
        assert!(!verify("other", &h, b"{\"a\":1}"));
        assert!(!verify("s3cret", &h, b"{\"a\":2}"));
    }

    #[test]
    fn the_mac_covers_timestamp_dot_body() {
        // HMAC-SHA256(key = "key", message = "1.x"), computed with Python's hmac module.
        assert_eq!(
            hmac_hex("key", 1, b"x"),
            "fc4913c41a7bf793267e2a384f3261c9436ec2cd097bd745e7b0d99113f510ec"
        );
    }
}
