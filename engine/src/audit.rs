//! The audit log (PRODUCT.md §9): who did what, when — deploys, rollbacks, restores, secret
//! changes, user changes and logins. Entries are written by the engine methods that make those
//! changes, inside the same transaction where there is one, so a change and its entry land
//! together. Entries are keyed by UUIDv7 (time-ordered) and never hold a secret value.

use crate::error::Result;
use crate::store::{Decode, Engine, Json};
use chrono::{DateTime, Utc};
use redb::{ReadableDatabase, TableDefinition, WriteTransaction};

/// UUIDv7 id -> [`AuditEntry`].
pub(crate) const AUDIT: TableDefinition<&str, Json<AuditEntry>> = TableDefinition::new("audit");

/// The most entries one page of [`Engine::list_audit`] holds.
pub const MAX_AUDIT_PAGE: usize = 500;

pub use model::wire::{AuditAction, AuditEntry, AuditPage};

/// Writes one entry inside `w`.
pub(crate) fn audit_in(
    w: &WriteTransaction,
    at: DateTime<Utc>,
    actor: &str,
    action: AuditAction,
    automation: Option<&str>,
    detail: impl Into<String>,
) -> Result<()> {
    let entry = AuditEntry {
        id: uuid::Uuid::now_v7().to_string(),
        at,
        actor: actor.to_string(),
        action,
        automation: automation.map(str::to_string),
        detail: detail.into(),
    };
    w.open_table(AUDIT)?.insert(entry.id.as_str(), &entry)?;
    Ok(())
}

impl Engine {
    /// Writes one entry in a transaction of its own.
    pub(crate) fn audit(
        &self,
        actor: &str,
        action: AuditAction,
        automation: Option<&str>,
        detail: impl Into<String>,
    ) -> Result<()> {
        let w = self.db().begin_write()?;
        audit_in(&w, self.now(), actor, action, automation, detail)?;
        w.commit()?;
        Ok(())
    }

    /// Newest first, `limit` (1..=[`MAX_AUDIT_PAGE`]) entries older than the cursor `before`.
    pub fn list_audit(&self, limit: usize, before: Option<&str>) -> Result<AuditPage> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE);
        let r = self.db().begin_read()?;
        let t = r.open_table(AUDIT)?;
        let rows = match before {
            Some(b) => t.range(..b)?,
            None => t.range::<&str>(..)?,
        };
        let mut items = Vec::new();
        let mut next_cursor = None;
        for row in rows.rev() {
            if items.len() == limit {
                next_cursor = items.last().map(|e: &AuditEntry| e.id.clone());
                break;
            }
            items.push(row?.1.decode()?);
        }
        Ok(AuditPage { items, next_cursor })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_first_in_pages() {
        let e = crate::testing::engine();
        assert!(e.list_audit(10, None).unwrap().items.is_empty());
        for i in 0..5 {
            e.audit("ann", AuditAction::Login, None, format!("login {i}"))
                .unwrap();
        }
        let first = e.list_audit(3, None).unwrap();
        let details: Vec<_> = first.items.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(details, ["login 4", "login 3", "login 2"]);
        let rest = e.list_audit(3, first.next_cursor.as_deref()).unwrap();
        let details: Vec<_> = rest.items.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(details, ["login 1", "login 0"]);
        assert_eq!(rest.next_cursor, None);
    }
}
