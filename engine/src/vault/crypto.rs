//! Sealing and opening one secret value: XChaCha20-Poly1305 under a fresh random 24-byte nonce,
//! the associated data binding it to (automation, mode, name), and the master key.

use crate::error::{Error, Result};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use model::Mode;
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

const NONCE_BYTES: usize = 24;
const AAD_TAG: &[u8] = b"slipway-secret-v1";

/// The 32-byte key that seals every secret. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn new(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }

    /// A fresh random key from the operating system.
    pub fn generate() -> MasterKey {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        MasterKey(bytes)
    }

    /// Reads a key written as 64 hex digits or as (standard or URL-safe) base64 of 32 bytes,
    /// surrounding whitespace ignored — the forms of `master.key` and `SLIPWAY_MASTER_KEY`.
    pub fn parse(text: &str) -> Result<MasterKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|e| e.decode(text).ok())
        };
        match bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
            Some(b) => Ok(MasterKey(b)),
            None => Err(Error::Invalid(
                "a master key is 32 bytes written as 64 hex digits or as base64".into(),
            )),
        }
    }

    /// The key as 64 lowercase hex digits (what [`MasterKey::parse`] reads back).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// One stored secret.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Sealed {
    pub(super) nonce_b64: String,
    pub(super) ciphertext_b64: String,
    pub(super) set_by: String,
    pub(super) set_at: DateTime<Utc>,
}

impl crate::store::Stored for Sealed {
    const NAME: &'static str = "Sealed";
}

/// The associated data binding a ciphertext to where it is stored: a tag, then each of
/// automation, mode and name preceded by its length (so no two triples encode alike).
fn aad(automation: &str, mode: Mode, name: &str) -> Vec<u8> {
    let mut out = AAD_TAG.to_vec();
    for part in [automation, mode.as_str(), name] {
        out.extend_from_slice(&(part.len() as u32).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

pub(super) fn seal(
    key: &MasterKey,
    automation: &str,
    mode: Mode,
    name: &str,
    value: &str,
) -> Result<(String, String)> {
    let mut nonce = [0u8; NONCE_BYTES];
    OsRng.fill_bytes(&mut nonce);
    let aad = aad(automation, mode, name);
    let ciphertext = key
        .cipher()
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: value.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| Error::Storage(format!("could not encrypt secret `{name}`")))?;
    Ok((STANDARD.encode(nonce), STANDARD.encode(ciphertext)))
}

pub(super) fn open(
    key: &MasterKey,
    automation: &str,
    mode: Mode,
    name: &str,
    s: &Sealed,
) -> Result<String> {
    let fail = |why: &str| {
        Error::Storage(format!(
            "secret `{name}` of `{automation}` in {mode} cannot be decrypted ({why})"
        ))
    };
    let nonce = STANDARD
        .decode(&s.nonce_b64)
        .ok()
        .filter(|n| n.len() == NONCE_BYTES)
        .ok_or_else(|| fail("its stored nonce is malformed"))?;
    let ciphertext = STANDARD
        .decode(&s.ciphertext_b64)
        .map_err(|_| fail("its stored ciphertext is malformed"))?;
    let aad = aad(automation, mode, name);
    let plain = key
        .cipher()
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| {
            fail("wrong master key, or the data was altered or moved from another secret")
        })?;
    String::from_utf8(plain).map_err(|_| fail("it is not UTF-8"))
}

/// Equal contents, compared in time that does not depend on where they differ.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
