//! Project keys: random, at least 128 bits, only hashes stored.
//!
//! API keys carry 192 random bits, so a fast hash (SHA-256) is as strong as
//! a slow one here; passwords, which people choose, use Argon2 instead.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh random token with a prefix: `prefix` + 32 hex chars (128 bits)
/// or more.
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes.max(16)];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    format!("{prefix}{}", hex::encode(buf))
}

/// A new public tracker key (128 bits).
pub fn new_public_key() -> String {
    random_token("pk_", 16)
}

/// A new API key (192 bits).
pub fn new_api_key() -> String {
    random_token("sk_", 24)
}

/// The stored form of a key or token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_hash_stably() {
        let a = new_api_key();
        let b = new_api_key();
        assert_ne!(a, b);
        assert!(a.starts_with("sk_") && a.len() == 3 + 48);
        assert!(new_public_key().len() == 3 + 32);
        assert_eq!(hash_token("x"), hash_token("x"));
        assert_ne!(hash_token(&a), hash_token(&b));
        assert_eq!(hash_token("x").len(), 64);
    }
}
