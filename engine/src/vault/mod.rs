//! Secrets (PRODUCT.md §1): `NAME` → value per automation and mode, encrypted at rest with the
//! master key (§10), write-only to the outside (listing shows names, never values), and the
//! redaction that replaces their values before anything is stored (§7).
//!
//! Each value is sealed with XChaCha20-Poly1305 under a fresh random 24-byte nonce. The
//! associated data is a length-prefixed encoding of (automation, mode, name), so a ciphertext
//! copied to another automation, mode or name fails to open instead of yielding its value there.
//!
//! The engine never holds the master key: every function that encrypts or decrypts takes it.
//!
//! Here: storing, listing, copying and reading secrets; [`crypto`] seals and opens one value,
//! [`redact`] hides values in what is recorded.

mod crypto;
mod redact;
#[cfg(test)]
mod tests;

pub use crypto::{MasterKey, same_bytes};
use crypto::{Sealed, open, seal};
pub use redact::{
    MIN_REDACTED_CHARS, Redactor, is_redacted, redact, redact_json, short_secret_warning,
};

use crate::audit::{AuditAction, audit_in};
use crate::automations::AUTOMATIONS;
use crate::error::{Error, Result};
use crate::store::{Decode, Engine, Json};
use chrono::{DateTime, Utc};
use model::Mode;
use model::names::{NameKind, is_valid_secret_name};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;

type SecretKey = (&'static str, &'static str, &'static str);

/// (automation, mode, NAME) -> [`Sealed`].
pub(crate) const SECRETS: TableDefinition<SecretKey, Json<Sealed>> =
    TableDefinition::new("secrets");

/// The largest secret value, in bytes.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

pub use model::wire::SecretInfo;

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
    let sealed = match t.get((automation, Mode::Test.as_str(), name))? {
        Some(v) => v.decode()?,
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
    t.insert((automation, Mode::Live.as_str(), name), &live)?;
    Ok(())
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
            t.insert((automation, mode.as_str(), name), &sealed)?;
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

    /// The secrets `key` cannot open, as `automation/mode/NAME`: after restoring a backup with
    /// another master key than the one that sealed them.
    pub fn unreadable_secrets(&self, key: &MasterKey) -> Result<Vec<String>> {
        let r = self.db().begin_read()?;
        let t = r.open_table(SECRETS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let (automation, mode, name) = k.value();
            let mode = Mode::parse(mode).unwrap_or(Mode::Test);
            if open(key, automation, mode, name, &v.decode()?).is_err() {
                out.push(format!("{automation}/{mode}/{name}"));
            }
        }
        Ok(out)
    }

    fn sealed_secrets(&self, automation: &str, mode: Mode) -> Result<Vec<(String, Sealed)>> {
        let r = self.db().begin_read()?;
        let t = r.open_table(SECRETS)?;
        let m = mode.as_str();
        let end = after_all_of(m);
        let mut out = Vec::new();
        for row in t.range((automation, m, "")..(automation, end.as_str(), ""))? {
            let (k, v) = row?;
            let (_, _, name) = k.value();
            out.push((name.to_string(), v.decode()?));
        }
        Ok(out)
    }
}
