//! Deployments (PRODUCT.md §6): what Live runs. A deploy is one redb transaction — a `deploy`
//! revision of the draft, the numbered deployment record, copies of exactly the ticked secrets
//! and databases (the live database contents a copy replaces kept as that deployment's backup),
//! and the audit entry. Live is always the latest deployment; there is no other way to change it.

use crate::audit::{AuditAction, audit_in};
use crate::databases;
use crate::drafts::{DRAFTS, Draft};
use crate::error::{Error, Result};
use crate::revisions::{Checkpoint, RevisionKind, checkpoint, restore_in};
use crate::store::{Decode, Engine, Json};
use crate::vault;
use chrono::{DateTime, Utc};
use model::{Document, Mode, Problem};
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use std::collections::BTreeSet;
use std::sync::Arc;

/// (automation, number) -> [`Deployment`].
pub(crate) const DEPLOYMENTS: TableDefinition<(&str, u64), Json<Deployment>> =
    TableDefinition::new("deployments");

pub use model::wire::{DatabaseChoice, DeployPreview, DeployRequest, Deployment, SecretChoice};

/// The latest deployment of each automation in memory (see [`Engine::live`]).
#[derive(Default)]
pub(crate) struct LiveCache {
    entries: std::sync::Mutex<std::collections::HashMap<String, Arc<LiveConfig>>>,
    /// Counts the entries dropped.
    generation: std::sync::atomic::AtomicU64,
}

impl LiveCache {
    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<LiveConfig>>> {
        // The map is consistent whatever a panicking holder did: entries are whole values.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The deployment Live runs, with its document.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveConfig {
    pub deployment: Deployment,
    /// Shared with every run of this deployment.
    pub document: Arc<Document>,
}

fn latest_in(
    t: &impl ReadableTable<(&'static str, u64), Json<Deployment>>,
    automation: &str,
) -> Result<Option<Deployment>> {
    match t
        .range((automation, 0)..=(automation, u64::MAX))?
        .next_back()
    {
        Some(row) => Ok(Some(row?.1.decode()?)),
        None => Ok(None),
    }
}

fn errors_of(document: &Document) -> Vec<Problem> {
    document
        .validate()
        .into_iter()
        .filter(|p| p.severity == model::Severity::Error)
        .collect()
}

/// Inside `w`: deploys the draft as it is in `w`.
fn deploy_in(
    engine: &Engine,
    w: &WriteTransaction,
    automation: &str,
    req: &DeployRequest,
    author: &str,
    rollback_of: Option<u64>,
    now: DateTime<Utc>,
) -> Result<Deployment> {
    let draft: Draft = match w.open_table(DRAFTS)?.get(automation)? {
        Some(v) => v.decode()?,
        None => {
            return Err(Error::NotFound(format!(
                "automation `{automation}` does not exist"
            )));
        }
    };
    let errors = errors_of(&draft.document);
    if let Some(first) = errors.first() {
        return Err(Error::Invalid(format!(
            "the draft has {} problem{} that block a deploy; first: {}: {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            first.path,
            first.message
        )));
    }
    if req.note.chars().count() > 500 {
        return Err(Error::Invalid(
            "a deploy note has at most 500 characters".into(),
        ));
    }
    let secrets: BTreeSet<&String> = req.secrets.iter().collect();
    let dbs: BTreeSet<&String> = req.databases.iter().collect();
    let revision = checkpoint(
        w,
        automation,
        &draft.document,
        author,
        now,
        Checkpoint::Forced(RevisionKind::Deploy, None),
    )?
    .ok_or_else(|| Error::Storage("the deploy revision was not written".into()))?;
    let number = latest_in(&w.open_table(DEPLOYMENTS)?, automation)?
        .map(|d| d.number + 1)
        .unwrap_or(1);
    if !secrets.is_empty() {
        let key = engine.master_key()?;
        for name in &secrets {
            vault::copy_to_live_in(w, key, automation, name, author, now)?;
        }
    }
    let mut backups = Vec::new();
    for name in &dbs {
        if databases::copy_to_live_in(w, automation, name, number, now)? {
            backups.push(name.to_string());
        }
    }
    let deployment = Deployment {
        number,
        revision,
        author: author.to_string(),
        created_at: now,
        note: req.note.trim().to_string(),
        secrets: secrets.into_iter().cloned().collect(),
        databases: dbs.into_iter().cloned().collect(),
        backups,
        rollback_of,
    };
    w.open_table(DEPLOYMENTS)?
        .insert((automation, number), &deployment)?;
    let copied = |what: &str, names: &[String]| {
        if names.is_empty() {
            String::new()
        } else {
            format!("; copied {what} {}", names.join(", "))
        }
    };
    let (action, what) = match rollback_of {
        Some(n) => (
            AuditAction::Rollback,
            format!("rolled back to #{n} as #{number}"),
        ),
        None => (AuditAction::Deploy, format!("deployed #{number}")),
    };
    audit_in(
        w,
        now,
        author,
        action,
        Some(automation),
        format!(
            "{what} (revision {revision}){}{}",
            copied("secrets", &deployment.secrets),
            copied("databases", &deployment.databases)
        ),
    )?;
    Ok(deployment)
}

pub(crate) fn delete_all(w: &WriteTransaction, automation: &str) -> Result<()> {
    w.open_table(DEPLOYMENTS)?
        .retain_in((automation, 0)..=(automation, u64::MAX), |_, _| false)?;
    Ok(())
}

impl Engine {
    /// [`Engine::deploy`] by a person: editors and admins (what Live then runs is the draft
    /// they could already edit and test; Live's secrets are set by admins).
    pub fn deploy_as(
        &self,
        by: &crate::User,
        automation: &str,
        req: &DeployRequest,
    ) -> Result<Deployment> {
        by.require(crate::Role::Editor)?;
        self.deploy(automation, req, &by.username)
    }

    /// [`Engine::rollback`] by a person: editors and admins.
    pub fn rollback_as(
        &self,
        by: &crate::User,
        automation: &str,
        number: u64,
    ) -> Result<Deployment> {
        by.require(crate::Role::Editor)?;
        self.rollback(automation, number, &by.username)
    }

    /// [`Engine::restore_database_backup`] by a person: admins only (it replaces live data).
    pub fn restore_database_backup_as(
        &self,
        by: &crate::User,
        automation: &str,
        number: u64,
        database: &str,
    ) -> Result<u64> {
        by.require(crate::Role::Admin)?;
        self.restore_database_backup(automation, number, database, &by.username)
    }

    /// Deploys the draft of `automation` with the ticked secrets and databases.
    pub(crate) fn deploy(
        &self,
        automation: &str,
        req: &DeployRequest,
        author: &str,
    ) -> Result<Deployment> {
        let now = self.now();
        let w = self.db().begin_write()?;
        let d = deploy_in(self, &w, automation, req, author, None, now)?;
        w.commit()?;
        self.deployed(automation);
        Ok(d)
    }

    /// Restores deployment `number`'s revision into Test (a backup revision first) and deploys
    /// it, in one transaction. Secrets and databases are not copied again.
    pub(crate) fn rollback(
        &self,
        automation: &str,
        number: u64,
        author: &str,
    ) -> Result<Deployment> {
        let target = self.get_deployment(automation, number)?;
        let (_, document) = self.get_revision(automation, target.revision)?;
        let now = self.now();
        let w = self.db().begin_write()?;
        restore_in(&w, automation, target.revision, document, author, now)?;
        let req = DeployRequest {
            note: format!("Roll back to #{number}"),
            ..DeployRequest::default()
        };
        let d = deploy_in(self, &w, automation, &req, author, Some(number), now)?;
        w.commit()?;
        self.deployed(automation);
        Ok(d)
    }

    /// Puts back the live contents of `database` that deployment `number` replaced.
    pub(crate) fn restore_database_backup(
        &self,
        automation: &str,
        number: u64,
        database: &str,
        author: &str,
    ) -> Result<u64> {
        let d = self.get_deployment(automation, number)?;
        if !d.backups.iter().any(|b| b == database) {
            return Err(Error::NotFound(format!(
                "deployment {number} kept no backup of live database `{database}`"
            )));
        }
        let now = self.now();
        let w = self.db().begin_write()?;
        let count = databases::restore_backup_in(&w, automation, database, number, now)?;
        audit_in(
            &w,
            now,
            author,
            AuditAction::BackupRestore,
            Some(automation),
            format!(
                "restored live database {database} as it was before deployment #{number} ({count} records)"
            ),
        )?;
        w.commit()?;
        Ok(count)
    }

    /// Newest first.
    pub fn list_deployments(&self, automation: &str) -> Result<Vec<Deployment>> {
        self.get_automation(automation)?;
        let r = self.db().begin_read()?;
        let t = r.open_table(DEPLOYMENTS)?;
        let mut out = vec![];
        for row in t.range((automation, 0)..=(automation, u64::MAX))?.rev() {
            out.push(row?.1.decode()?);
        }
        Ok(out)
    }

    pub fn get_deployment(&self, automation: &str, number: u64) -> Result<Deployment> {
        let missing = || {
            Error::NotFound(format!(
                "automation `{automation}` has no deployment {number}"
            ))
        };
        let r = self.db().begin_read()?;
        let t = r.open_table(DEPLOYMENTS).map_err(|_| missing())?;
        t.get((automation, number))?.ok_or_else(missing)?.decode()
    }

    /// The latest deployment, without its document.
    pub fn latest_deployment(&self, automation: &str) -> Result<Option<Deployment>> {
        let r = self.db().begin_read()?;
        latest_in(&r.open_table(DEPLOYMENTS)?, automation)
    }

    /// What Live runs: the latest deployment and its document; `None` before the first deploy.
    /// Kept in memory per automation: every change of the latest deployment goes through this
    /// engine, which drops the entry after committing ([`Engine::forget_live`]). What a miss read
    /// is kept only if no such drop happened meanwhile (the cache's generation is unchanged), so
    /// an entry read just before a deploy committed is never kept after it.
    pub fn live(&self, automation: &str) -> Result<Option<Arc<LiveConfig>>> {
        use std::sync::atomic::Ordering::SeqCst;
        let cache = &self.inner.live_cache;
        if let Some(cached) = cache.entries().get(automation) {
            return Ok(Some(cached.clone()));
        }
        let generation = cache.generation.load(SeqCst);
        let Some(latest) = self.latest_deployment(automation)? else {
            return Ok(None);
        };
        let (_, document) = self.get_revision(automation, latest.revision)?;
        let config = Arc::new(LiveConfig {
            deployment: latest,
            document: Arc::new(document),
        });
        let mut entries = cache.entries();
        if cache.generation.load(SeqCst) == generation {
            entries.insert(automation.to_string(), config.clone());
        }
        Ok(Some(config))
    }

    /// After a commit that changed `automation`'s latest deployment (or removed it).
    pub(crate) fn forget_live(&self, automation: &str) {
        let cache = &self.inner.live_cache;
        let mut entries = cache.entries();
        cache
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        entries.remove(automation);
    }

    /// Like [`Engine::live`], with a clear error before the first deploy.
    pub fn live_or_err(&self, automation: &str) -> Result<Arc<LiveConfig>> {
        if let Some(live) = self.live(automation)? {
            return Ok(live);
        }
        self.get_automation(automation)?;
        Err(Error::NotFound(format!(
            "nothing of `{automation}` is deployed to Live yet"
        )))
    }

    /// Everything the deploy dialog shows.
    pub fn deploy_preview(&self, automation: &str) -> Result<DeployPreview> {
        let draft = self.get_draft(automation)?;
        let live = self.live(automation)?;
        let empty = Document {
            format: model::FORMAT,
            composers: vec![],
            connections: vec![],
        };
        let live_doc = live.as_ref().map(|l| l.document.as_ref()).unwrap_or(&empty);
        let live_secrets: BTreeSet<String> = self
            .list_secrets(automation, Mode::Live)?
            .into_iter()
            .map(|s| s.name)
            .collect();
        let live_dbs = self.list_databases(automation, Mode::Live)?;
        Ok(DeployPreview {
            changes: model::diff(live_doc, &draft.document),
            errors: errors_of(&draft.document),
            live: live.as_ref().map(|l| l.deployment.number),
            secrets: self
                .list_secrets(automation, Mode::Test)?
                .into_iter()
                .map(|s| SecretChoice {
                    in_live: live_secrets.contains(&s.name),
                    name: s.name,
                })
                .collect(),
            databases: self
                .list_databases(automation, Mode::Test)?
                .into_iter()
                .map(|d| DatabaseChoice {
                    live_count: live_dbs.iter().find(|l| l.name == d.name).map(|l| l.count),
                    name: d.name,
                    count: d.count,
                })
                .collect(),
            live_secrets: live_secrets.into_iter().collect(),
            live_databases: live_dbs.into_iter().map(|d| d.name).collect(),
            document: draft.document,
        })
    }

    /// After a deploy: drop the cached live document and re-arm the schedules.
    fn deployed(&self, automation: &str) {
        self.forget_live(automation);
        self.inner.schedules_changed.notify_one();
    }
}
