//! Secrets (PRODUCT.md §1): `NAME` → value per automation and mode, encrypted at rest with the
//! master key (§10), write-only to the outside (listing shows names, never values), and the
//! redaction that replaces their values before anything is stored (§7).
//!
//! Each value is sealed with XChaCha20-Poly1305 under a fresh random 24-byte nonce. The
//! associated data is a length-prefixed encoding of (automation, mode, name), so a ciphertext
//! copied to another automation, mode or name fails to open instead of yielding its value there.
//!
//! The engine never holds the master key: every function that encrypts or decrypts takes it.

use crate::audit::{AuditAction, audit_in};
use crate::automations::AUTOMATIONS;
use crate::error::{Error, Result};
use crate::store::{Engine, from_bytes, to_bytes};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use model::Mode;
use model::names::{NameKind, is_valid_secret_name};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore;
use rand::rngs::OsRng;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

type SecretKey = (&'static str, &'static str, &'static str);

/// (automation, mode, NAME) -> [`Sealed`] as JSON.
const SECRETS: TableDefinition<SecretKey, &[u8]> = TableDefinition::new("secrets");

/// The largest secret value, in bytes.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

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

pub use model::wire::SecretInfo;

/// One stored secret.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Sealed {
    nonce_b64: String,
    ciphertext_b64: String,
    set_by: String,
    set_at: DateTime<Utc>,
}

fn check_name(name: &str) -> Result<()> {
    if is_valid_secret_name(name) {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "`{name}` is not a valid secret name: {}",
        NameKind::Secret.rule()
    )))
}

fn check_value(value: &str) -> Result<()> {
    if value.len() > MAX_SECRET_BYTES {
        return Err(Error::Invalid(format!(
            "the secret value is {} bytes; the limit is 64 KiB ({MAX_SECRET_BYTES} bytes)",
            value.len()
        )));
    }
    Ok(())
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

fn seal(
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

fn open(key: &MasterKey, automation: &str, mode: Mode, name: &str, s: &Sealed) -> Result<String> {
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

/// The smallest string greater than `s`, so the tuple range `(.., s, "")..(.., s\0, "")` holds
/// exactly the keys whose element is `s`.
fn after_all_of(s: &str) -> String {
    format!("{s}\0")
}

/// A deploy's copy of test secret `name` to Live: decrypted under its test binding and sealed
/// again under its live one (a ciphertext cannot simply be moved). Inside the deploy's transaction.
pub(crate) fn copy_to_live_in(
    w: &redb::WriteTransaction,
    key: &MasterKey,
    automation: &str,
    name: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut t = w.open_table(SECRETS)?;
    let sealed: Sealed = match t.get((automation, Mode::Test.as_str(), name))? {
        Some(v) => from_bytes(v.value())?,
        None => {
            return Err(Error::Invalid(format!(
                "secret {name} does not exist in test"
            )));
        }
    };
    let value = open(key, automation, Mode::Test, name, &sealed)?;
    let (nonce_b64, ciphertext_b64) = seal(key, automation, Mode::Live, name, &value)?;
    let live = Sealed {
        nonce_b64,
        ciphertext_b64,
        set_by: by.to_string(),
        set_at: now,
    };
    t.insert(
        (automation, Mode::Live.as_str(), name),
        to_bytes(&live)?.as_slice(),
    )?;
    Ok(())
}

/// Equal contents, compared in time that does not depend on where they differ.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Who may set and delete secrets of a mode: editors in Test, admins in Live (PRODUCT.md §9).
pub fn role_to_manage(mode: Mode) -> crate::Role {
    match mode {
        Mode::Test => crate::Role::Editor,
        Mode::Live => crate::Role::Admin,
    }
}

impl Engine {
    /// Sets (or replaces) secret `name` of `automation` in `mode`, sealed with `key`. Answers
    /// [`short_secret_warning`] for a value redaction will not look for.
    pub fn set_secret(
        &self,
        key: &MasterKey,
        automation: &str,
        mode: Mode,
        name: &str,
        value: &str,
        by: &str,
    ) -> Result<Option<String>> {
        check_name(name)?;
        check_value(value)?;
        let (nonce_b64, ciphertext_b64) = seal(key, automation, mode, name, value)?;
        let sealed = Sealed {
            nonce_b64,
            ciphertext_b64,
            set_by: by.to_string(),
            set_at: self.now(),
        };
        let w = self.db().begin_write()?;
        {
            if w.open_table(AUTOMATIONS)?.get(automation)?.is_none() {
                return Err(Error::NotFound(format!(
                    "automation `{automation}` does not exist"
                )));
            }
            let mut t = w.open_table(SECRETS)?;
            t.insert(
                (automation, mode.as_str(), name),
                to_bytes(&sealed)?.as_slice(),
            )?;
        }
        audit_in(
            &w,
            sealed.set_at,
            by,
            AuditAction::SecretSet,
            Some(automation),
            format!("set {mode} secret {name}"),
        )?;
        w.commit()?;
        Ok((!is_redacted(value)).then(short_secret_warning))
    }

    /// Deletes secret `name`; false when there was none.
    pub(crate) fn delete_secret(
        &self,
        automation: &str,
        mode: Mode,
        name: &str,
        by: &str,
    ) -> Result<bool> {
        let w = self.db().begin_write()?;
        if w.open_table(AUTOMATIONS)?.get(automation)?.is_none() {
            return Err(Error::NotFound(format!(
                "automation `{automation}` does not exist"
            )));
        }
        let existed = {
            let mut t = w.open_table(SECRETS)?;
            t.remove((automation, mode.as_str(), name))?.is_some()
        };
        if existed {
            audit_in(
                &w,
                self.now(),
                by,
                AuditAction::SecretDelete,
                Some(automation),
                format!("deleted {mode} secret {name}"),
            )?;
        }
        w.commit()?;
        Ok(existed)
    }

    /// The secrets of `automation` in `mode`, by name: who set each and when, never values.
    pub fn list_secrets(&self, automation: &str, mode: Mode) -> Result<Vec<SecretInfo>> {
        let mut out = Vec::new();
        for (name, sealed) in self.sealed_secrets(automation, mode)? {
            out.push(SecretInfo {
                name,
                set_by: sealed.set_by,
                set_at: sealed.set_at,
            });
        }
        Ok(out)
    }

    /// Sets a secret by a person, who must have [`role_to_manage`] the mode's secrets.
    pub fn set_secret_as(
        &self,
        by: &crate::User,
        automation: &str,
        mode: Mode,
        name: &str,
        value: &str,
    ) -> Result<Option<String>> {
        by.require(role_to_manage(mode))?;
        self.store_secret(automation, mode, name, value, &by.username)
    }

    /// Deletes a secret by a person, who must have [`role_to_manage`] the mode's secrets.
    pub fn delete_secret_as(
        &self,
        by: &crate::User,
        automation: &str,
        mode: Mode,
        name: &str,
    ) -> Result<bool> {
        by.require(role_to_manage(mode))?;
        self.delete_secret(automation, mode, name, &by.username)
    }

    /// [`Engine::set_secret`] with the engine's own master key.
    pub(crate) fn store_secret(
        &self,
        automation: &str,
        mode: Mode,
        name: &str,
        value: &str,
        by: &str,
    ) -> Result<Option<String>> {
        self.set_secret(self.master_key()?, automation, mode, name, value, by)
    }

    /// The decrypted secrets a run of `automation` in `mode` may use (and must redact).
    pub(crate) fn run_secrets(
        &self,
        automation: &str,
        mode: Mode,
    ) -> Result<BTreeMap<String, String>> {
        // Without secrets a run needs no key (engines in tests have none).
        if self.list_secrets(automation, mode)?.is_empty() {
            return Ok(BTreeMap::new());
        }
        self.secret_values(self.master_key()?, automation, mode)
    }

    /// Every secret of `automation` in `mode`, decrypted, by name — for the runner only.
    pub(crate) fn secret_values(
        &self,
        key: &MasterKey,
        automation: &str,
        mode: Mode,
    ) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for (name, sealed) in self.sealed_secrets(automation, mode)? {
            let value = open(key, automation, mode, &name, &sealed)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    fn sealed_secrets(&self, automation: &str, mode: Mode) -> Result<Vec<(String, Sealed)>> {
        let r = self.db().begin_read()?;
        let t = match r.open_table(SECRETS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let m = mode.as_str();
        let end = after_all_of(m);
        let mut out = Vec::new();
        for row in t.range((automation, m, "")..(automation, end.as_str(), ""))? {
            let (k, v) = row?;
            let (_, _, name) = k.value();
            out.push((name.to_string(), from_bytes::<Sealed>(v.value())?));
        }
        Ok(out)
    }
}

/// `encodeURIComponent` style: everything but RFC 3986 unreserved characters and `!'()*`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'!')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*');
/// RFC 3986 strict: everything but unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// `application/x-www-form-urlencoded` (before spaces become `+`): all but `*-._`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// The forms of `value` that redaction looks for: the value itself, its base64 (standard, with
/// and without padding, and URL-safe) and its percent-encodings (strict, component and form
/// style, upper- and lowercase hex).
fn forms(value: &str) -> Vec<String> {
    let mut out = vec![value.to_string()];
    for e in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        out.push(e.encode(value));
    }
    for set in [UNRESERVED, COMPONENT, NON_ALPHANUMERIC] {
        out.push(utf8_percent_encode(value, set).to_string());
    }
    out.push(
        utf8_percent_encode(value, FORM)
            .to_string()
            .replace("%20", "+"),
    );
    let lower: Vec<String> = out[5..].iter().map(|s| lower_hex_escapes(s)).collect();
    out.extend(lower);
    out.sort();
    out.dedup();
    out
}

/// `%2F` → `%2f`: some encoders write lowercase hex.
fn lower_hex_escapes(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push('%');
            out.push((b[i + 1] as char).to_ascii_lowercase());
            out.push((b[i + 2] as char).to_ascii_lowercase());
            i += 3;
        } else {
            let c = s[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Shortest secret value (in characters) that redaction looks for. Hiding a shorter one would
/// rewrite every record beyond reading (a secret `a` turns `banana` into
/// `b[secret:A]n[secret:A]n[secret:A]`) and protects little: a value that short is guessed at
/// once. Setting one is allowed, with [`short_secret_warning`].
pub const MIN_REDACTED_CHARS: usize = 4;

/// What setting a secret shorter than [`MIN_REDACTED_CHARS`] answers besides success.
pub fn short_secret_warning() -> String {
    format!(
        "values shorter than {MIN_REDACTED_CHARS} characters are not hidden in run records and \
         logs: use a longer value"
    )
}

/// Whether redaction looks for `value` (see [`MIN_REDACTED_CHARS`]).
pub fn is_redacted(value: &str) -> bool {
    value.chars().count() >= MIN_REDACTED_CHARS
}

/// Replaces every secret value in `text` — and its base64 and URL-encoded forms — by
/// `[secret:NAME]`. Longer values win where matches overlap; values shorter than
/// [`MIN_REDACTED_CHARS`] are skipped. This is for what is recorded and shown (run records,
/// logs, events, errors), never for the data a step writes, sends or answers.
pub fn redact(text: &str, secrets: &BTreeMap<String, String>) -> String {
    // (pattern, name), longest first so a value containing another is replaced whole.
    let mut patterns: Vec<(String, &str)> = Vec::new();
    for (name, value) in secrets {
        if !is_redacted(value) {
            continue;
        }
        for f in forms(value) {
            patterns.push((f, name.as_str()));
        }
    }
    if patterns.is_empty() {
        return text.to_string();
    }
    patterns.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    // Candidates by first byte, keeping the longest-first order.
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); 256];
    for (i, (p, _)) in patterns.iter().enumerate() {
        by_first[p.as_bytes()[0] as usize].push(i);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    // Every pattern is UTF-8 and so starts on a character boundary, as does each `i` here.
    while i < bytes.len() {
        let hit = by_first[bytes[i] as usize]
            .iter()
            .map(|&p| &patterns[p])
            .find(|(p, _)| bytes[i..].starts_with(p.as_bytes()));
        match hit {
            Some((p, name)) => {
                out.push_str("[secret:");
                out.push_str(name);
                out.push(']');
                i += p.len();
            }
            None => {
                let c = text[i..].chars().next().expect("on a character boundary");
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// [`redact`] applied to every string in `v`, object keys included.
pub fn redact_json(v: &Value, secrets: &BTreeMap<String, String>) -> Value {
    if !secrets.values().any(|s| is_redacted(s)) {
        return v.clone();
    }
    match v {
        Value::String(s) => Value::String(redact(s, secrets)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|x| redact_json(x, secrets)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| (redact(k, secrets), redact_json(x, secrets)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Clock;
    use serde_json::json;

    const T: Mode = Mode::Test;
    const L: Mode = Mode::Live;

    fn setup() -> Engine {
        let e = Engine::in_memory(Clock::system()).unwrap();
        e.create_automation("orders", "Orders", "ann").unwrap();
        e.create_automation("billing", "Billing", "ann").unwrap();
        e
    }

    fn key() -> MasterKey {
        MasterKey::new([7u8; 32])
    }

    fn invalid(err: Error) -> String {
        match err {
            Error::Invalid(m) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn secrets(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Copies the stored row of `from` to `to`, byte for byte.
    fn copy_raw(e: &Engine, from: (&str, Mode, &str), to: (&str, Mode, &str)) {
        let w = e.db().begin_write().unwrap();
        {
            let mut t = w.open_table(SECRETS).unwrap();
            let raw = t
                .get((from.0, from.1.as_str(), from.2))
                .unwrap()
                .unwrap()
                .value()
                .to_vec();
            t.insert((to.0, to.1.as_str(), to.2), raw.as_slice())
                .unwrap();
        }
        w.commit().unwrap();
    }

    fn storage(err: Error) -> String {
        match err {
            Error::Storage(m) => m,
            other => panic!("expected Storage, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        let e = setup();
        let k = key();
        e.set_secret(&k, "orders", T, "API_KEY", "s3cr3t", "ann")
            .unwrap();
        e.set_secret(&k, "orders", T, "EMPTY", "", "ann").unwrap();
        e.set_secret(&k, "orders", L, "API_KEY", "live-value", "bob")
            .unwrap();
        let t = e.secret_values(&k, "orders", T).unwrap();
        assert_eq!(t, secrets(&[("API_KEY", "s3cr3t"), ("EMPTY", "")]));
        let l = e.secret_values(&k, "orders", L).unwrap();
        assert_eq!(l, secrets(&[("API_KEY", "live-value")]));
        assert!(e.secret_values(&k, "billing", T).unwrap().is_empty());

        // Replacing, and deleting.
        e.set_secret(&k, "orders", T, "API_KEY", "n3w", "bob")
            .unwrap();
        assert_eq!(e.secret_values(&k, "orders", T).unwrap()["API_KEY"], "n3w");
        assert!(e.delete_secret("orders", T, "API_KEY", "ann").unwrap());
        assert!(!e.delete_secret("orders", T, "API_KEY", "ann").unwrap());
        assert_eq!(
            e.secret_values(&k, "orders", T).unwrap(),
            secrets(&[("EMPTY", "")])
        );
        assert_eq!(e.secret_values(&k, "orders", L).unwrap().len(), 1);
    }

    #[test]
    fn each_write_uses_a_fresh_nonce() {
        let e = setup();
        let k = key();
        let read = |e: &Engine| -> Sealed {
            let r = e.db().begin_read().unwrap();
            let t = r.open_table(SECRETS).unwrap();
            from_bytes(t.get(("orders", "test", "A")).unwrap().unwrap().value()).unwrap()
        };
        e.set_secret(&k, "orders", T, "A", "same", "ann").unwrap();
        let first = read(&e);
        e.set_secret(&k, "orders", T, "A", "same", "ann").unwrap();
        let second = read(&e);
        assert_ne!(first.nonce_b64, second.nonce_b64);
        assert_ne!(first.ciphertext_b64, second.ciphertext_b64);
    }

    #[test]
    fn moved_ciphertext_fails_to_decrypt() {
        let k = key();
        for to in [
            ("billing", T, "TOKEN"),
            ("orders", L, "TOKEN"),
            ("orders", T, "OTHER"),
        ] {
            let e = setup();
            e.set_secret(&k, "orders", T, "TOKEN", "hunter2-value", "ann")
                .unwrap();
            copy_raw(&e, ("orders", T, "TOKEN"), to);
            let msg = storage(e.secret_values(&k, to.0, to.1).unwrap_err());
            assert!(msg.contains(&format!("`{}`", to.2)), "{msg}");
            assert!(!msg.contains("hunter2"), "{msg}");
            // Once the misplaced copy is gone, the original still opens.
            assert!(e.delete_secret(to.0, to.1, to.2, "ann").unwrap());
            assert_eq!(
                e.secret_values(&k, "orders", T).unwrap()["TOKEN"],
                "hunter2-value"
            );
        }
    }

    #[test]
    fn wrong_master_key_fails() {
        let e = setup();
        e.set_secret(&key(), "orders", T, "TOKEN", "v", "ann")
            .unwrap();
        let other = MasterKey::new([8u8; 32]);
        let msg = storage(e.secret_values(&other, "orders", T).unwrap_err());
        assert!(msg.contains("`TOKEN`"), "{msg}");
    }

    #[test]
    fn file_on_disk_holds_no_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.redb");
        let value = "Sup3r-Secret-Value-0123456789";
        {
            let e = Engine::open(&path).unwrap();
            e.create_automation("orders", "Orders", "ann").unwrap();
            e.set_secret(&key(), "orders", T, "TOKEN", value, "ann")
                .unwrap();
        }
        let raw = std::fs::read(&path).unwrap();
        let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
        assert!(contains(b"TOKEN"), "the row should be in the file");
        assert!(!contains(value.as_bytes()));
        assert!(!contains(STANDARD.encode(value).as_bytes()));
        assert!(!contains(STANDARD_NO_PAD.encode(value).as_bytes()));
        assert!(!contains(hex::encode(value).as_bytes()));
        assert!(!contains(hex::encode_upper(value).as_bytes()));
        let e = Engine::open(&path).unwrap();
        assert_eq!(
            e.secret_values(&key(), "orders", T).unwrap()["TOKEN"],
            value
        );
    }

    #[test]
    fn list_shows_names_never_values() {
        let e = setup();
        let k = key();
        e.set_secret(&k, "orders", T, "B_KEY", "value-bbb", "bob")
            .unwrap();
        e.set_secret(&k, "orders", T, "A_KEY", "value-aaa", "ann")
            .unwrap();
        e.set_secret(&k, "orders", L, "LIVE_ONLY", "value-live", "ann")
            .unwrap();
        let list = e.list_secrets("orders", T).unwrap();
        let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["A_KEY", "B_KEY"]);
        assert_eq!(list[0].set_by, "ann");
        assert_eq!(list[1].set_by, "bob");
        let shown = serde_json::to_string(&list).unwrap() + &format!("{list:?}");
        assert!(!shown.contains("value-"), "{shown}");
        assert_eq!(e.list_secrets("orders", L).unwrap().len(), 1);
        assert!(e.list_secrets("billing", T).unwrap().is_empty());
        assert!(e.list_secrets("nope", T).unwrap().is_empty());
        // Before any secret exists at all.
        let fresh = Engine::in_memory(Clock::system()).unwrap();
        assert!(fresh.list_secrets("orders", T).unwrap().is_empty());
    }

    #[test]
    fn invalid_names_and_values_refused() {
        let e = setup();
        let k = key();
        for bad in ["", "api_key", "1KEY", "A-B", "KEY ", &"A".repeat(64)] {
            let msg = invalid(e.set_secret(&k, "orders", T, bad, "v", "ann").unwrap_err());
            assert!(msg.contains("not a valid secret name"), "{msg}");
        }
        let big = "x".repeat(MAX_SECRET_BYTES + 1);
        let msg = invalid(
            e.set_secret(&k, "orders", T, "BIG", &big, "ann")
                .unwrap_err(),
        );
        assert!(msg.contains("64 KiB"), "{msg}");
        e.set_secret(&k, "orders", T, "BIG", &big[1..], "ann")
            .unwrap();
        assert!(matches!(
            e.set_secret(&k, "nope", T, "KEY", "v", "ann"),
            Err(Error::NotFound(_))
        ));
        assert_eq!(e.list_secrets("orders", T).unwrap().len(), 1);
    }

    #[test]
    fn master_key_debug_and_parse() {
        let k = MasterKey::new([0xab; 32]);
        assert_eq!(format!("{k:?}"), "MasterKey(..)");
        assert_eq!(MasterKey::parse(&k.to_hex()).unwrap(), k);
        assert_eq!(MasterKey::parse(&STANDARD.encode([0xab; 32])).unwrap(), k);
        assert!(MasterKey::parse("abcd").is_err());
        assert_ne!(MasterKey::generate(), MasterKey::generate());
    }

    #[test]
    fn redact_replaces_every_form() {
        let s = secrets(&[("TOKEN", "p@ss w/rd+1"), ("SHORT", "p@ss"), ("NONE", "")]);
        let value = "p@ss w/rd+1";
        assert_eq!(
            redact(&format!("auth={value}; again {value}"), &s),
            "auth=[secret:TOKEN]; again [secret:TOKEN]"
        );
        // The longer value wins over the shorter one it contains.
        assert_eq!(
            redact("p@ss and p@ss w/rd+1", &s),
            "[secret:SHORT] and [secret:TOKEN]"
        );
        let b64 = STANDARD.encode(value);
        assert_eq!(redact(&format!("Basic {b64}"), &s), "Basic [secret:TOKEN]");
        assert_eq!(
            redact("q=p%40ss%20w%2Frd%2B1&x=1", &s),
            "q=[secret:TOKEN]&x=1"
        );
        assert_eq!(redact("q=p%40ss+w%2Frd%2B1", &s), "q=[secret:TOKEN]");
        assert_eq!(redact("q=p%40ss%20w%2frd%2b1", &s), "q=[secret:TOKEN]");
        // Other text, including empty secrets, is left alone.
        let other = "nothing to see: pass, p@s, ü ✓";
        assert_eq!(redact(other, &s), other);
        assert_eq!(redact("", &s), "");
        assert_eq!(redact("abc", &BTreeMap::new()), "abc");
    }

    #[test]
    fn redact_handles_unicode_and_adjacent_matches() {
        let s = secrets(&[("K", "ключ")]);
        assert_eq!(redact("ключключ!", &s), "[secret:K][secret:K]!");
        assert_eq!(redact("x=%D0%BA%D0%BB%D1%8E%D1%87", &s), "x=[secret:K]");
        assert_eq!(redact("ключ✓", &s), "[secret:K]✓");
    }

    #[test]
    fn redact_json_nested() {
        let s = secrets(&[("API_KEY", "abc123xyz")]);
        let b64 = STANDARD.encode("abc123xyz");
        let v = json!({
            "headers": {"Authorization": "Bearer abc123xyz", "abc123xyz": 1},
            "list": ["abc123xyz", b64, 5, null, true, {"deep": ["x abc123xyz y"]}],
            "n": 3.5
        });
        assert_eq!(
            redact_json(&v, &s),
            json!({
                "headers": {"Authorization": "Bearer [secret:API_KEY]", "[secret:API_KEY]": 1},
                "list": ["[secret:API_KEY]", "[secret:API_KEY]", 5, null, true,
                         {"deep": ["x [secret:API_KEY] y"]}],
                "n": 3.5
            })
        );
        assert_eq!(redact_json(&v, &BTreeMap::new()), v);
    }
}
