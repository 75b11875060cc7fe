//! Revisions: immutable, numbered snapshots of a draft (PRODUCT.md §5). The checkpoint rules
//! live here: a new `auto` revision when the draft changed and 30 s have passed since the last
//! one; always a `backup` before a restore; `named` when a user names a version; `conflict` to
//! keep the content of a stale save. Contents go to the content-addressed [`crate::blobs`].

use crate::audit::{AuditAction, audit_in};
use crate::blobs::{BLOBS, Manifest};
use crate::drafts::{DRAFTS, Draft};
use crate::error::{Error, Result};
use crate::store::{Decode, Engine, Json, encoded};
use chrono::{DateTime, Duration, Utc};
use model::Document;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

/// (automation, number) -> [`Revision`].
pub(crate) const REVISIONS: TableDefinition<(&str, u64), Json<Revision>> =
    TableDefinition::new("revisions");
/// (automation, number) -> encoded [`Manifest`].
pub(crate) const MANIFESTS: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("revision_manifests");

pub const CHECKPOINT_EVERY_SECS: i64 = 30;

pub use model::wire::{Revision, RevisionKind};

/// When a revision is written, and why.
pub(crate) enum Checkpoint {
    /// Only if the rule says so (changed, and this many seconds since the last one).
    Auto(i64),
    /// Always.
    Forced(RevisionKind, Option<String>),
}

fn last_revision(w: &WriteTransaction, automation: &str) -> Result<Option<(Revision, Manifest)>> {
    let revs = w.open_table(REVISIONS)?;
    let Some(row) = revs
        .range((automation, 0)..=(automation, u64::MAX))?
        .next_back()
    else {
        return Ok(None);
    };
    let (k, v) = row?;
    let rev = v.decode()?;
    let number = k.value().1;
    let manifests = w.open_table(MANIFESTS)?;
    let m = manifests
        .get((automation, number))?
        .ok_or_else(|| Error::Storage(format!("revision {number} has no manifest")))?;
    Ok(Some((rev, Manifest::decode(m.value())?)))
}

/// Writes a revision of `doc` inside `w` when `when` says so; returns its number.
pub(crate) fn checkpoint(
    w: &WriteTransaction,
    automation: &str,
    doc: &Document,
    author: &str,
    now: DateTime<Utc>,
    when: Checkpoint,
) -> Result<Option<u64>> {
    let last = last_revision(w, automation)?;
    if let (Checkpoint::Auto(every), Some((rev, _))) = (&when, &last)
        && now - rev.created_at < Duration::seconds(*every)
    {
        return Ok(None);
    }
    let mut blobs = w.open_table(BLOBS)?;
    let manifest = Manifest::store(&mut blobs, doc)?;
    let summary = match &last {
        Some((_, m)) if matches!(when, Checkpoint::Auto(_)) && *m == manifest => return Ok(None),
        Some((_, m)) => model::diff(&m.load(&blobs)?, doc).summary(),
        None => "created".to_string(),
    };
    let (kind, label) = match when {
        Checkpoint::Auto(_) => (RevisionKind::Auto, None),
        Checkpoint::Forced(kind, label) => (kind, label),
    };
    let number = last.map(|(r, _)| r.number + 1).unwrap_or(1);
    let rev = Revision {
        number,
        kind,
        author: author.to_string(),
        created_at: now,
        label,
        summary,
    };
    w.open_table(REVISIONS)?
        .insert((automation, number), &rev)?;
    w.open_table(MANIFESTS)?
        .insert((automation, number), manifest.encode().as_slice())?;
    Ok(Some(number))
}

/// Inside `w`: keeps the draft as a `backup` revision, then makes `document` (revision
/// `number`) the draft. Returns the new draft version.
pub(crate) fn restore_in(
    w: &WriteTransaction,
    automation: &str,
    number: u64,
    document: Document,
    author: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let why = format!("before restoring revision {number}");
    replace_draft_in(w, automation, document, author, now, why).map(|(version, _)| version)
}

/// Inside `w`: keeps the draft as a `backup` revision labelled `why`, then makes `document` the
/// draft (restore, rollback, import). Returns the new draft version and the backup's number.
pub(crate) fn replace_draft_in(
    w: &WriteTransaction,
    automation: &str,
    document: Document,
    author: &str,
    now: DateTime<Utc>,
    why: String,
) -> Result<(u64, Option<u64>)> {
    let current: Draft = match w.open_table(DRAFTS)?.get(automation)? {
        Some(v) => v.decode()?,
        None => {
            return Err(Error::NotFound(format!(
                "automation `{automation}` does not exist"
            )));
        }
    };
    let backup = checkpoint(
        w,
        automation,
        &current.document,
        author,
        now,
        Checkpoint::Forced(RevisionKind::Backup, Some(why)),
    )?;
    let draft = Draft {
        version: current.version + 1,
        document,
        updated_at: now,
        updated_by: author.to_string(),
    };
    w.open_table(DRAFTS)?.insert(automation, &draft)?;
    Ok((draft.version, backup))
}

pub(crate) fn delete_all(w: &WriteTransaction, automation: &str) -> Result<()> {
    let all = (automation, 0)..=(automation, u64::MAX);
    // Encoded: the rows go without being decoded.
    w.open_table(encoded(&REVISIONS))?
        .retain_in(all.clone(), |_, _| false)?;
    w.open_table(MANIFESTS)?.retain_in(all, |_, _| false)?;
    Ok(())
}

impl Engine {
    /// Newest first.
    pub fn list_revisions(&self, automation: &str) -> Result<Vec<Revision>> {
        self.get_automation(automation)?;
        let r = self.db().begin_read()?;
        let t = r.open_table(REVISIONS)?;
        let mut out = vec![];
        for row in t.range((automation, 0)..=(automation, u64::MAX))?.rev() {
            out.push(row?.1.decode()?);
        }
        Ok(out)
    }

    pub fn get_revision(&self, automation: &str, number: u64) -> Result<(Revision, Document)> {
        let missing = || {
            Error::NotFound(format!(
                "automation `{automation}` has no revision {number}"
            ))
        };
        let r = self.db().begin_read()?;
        let (Ok(revs), Ok(manifests), Ok(blobs)) = (
            r.open_table(REVISIONS),
            r.open_table(MANIFESTS),
            r.open_table(BLOBS),
        ) else {
            return Err(missing());
        };
        let rev = revs
            .get((automation, number))?
            .ok_or_else(missing)?
            .decode()?;
        let m = Manifest::decode(
            manifests
                .get((automation, number))?
                .ok_or_else(missing)?
                .value(),
        )?;
        Ok((rev, m.load(&blobs)?))
    }

    /// [`Engine::restore_revision`] by a person: editors and admins.
    pub fn restore_revision_as(
        &self,
        by: &crate::User,
        automation: &str,
        number: u64,
    ) -> Result<u64> {
        by.require(crate::Role::Editor)?;
        self.restore_revision(automation, number, &by.username)
    }

    /// [`Engine::name_version`] by a person: editors and admins.
    pub fn name_version_as(&self, by: &crate::User, automation: &str, label: &str) -> Result<u64> {
        by.require(crate::Role::Editor)?;
        self.name_version(automation, label, &by.username)
    }

    /// Keeps the draft as a `backup` revision, then makes revision `number` the draft.
    /// Returns the new draft version.
    pub(crate) fn restore_revision(
        &self,
        automation: &str,
        number: u64,
        author: &str,
    ) -> Result<u64> {
        let (_, document) = self.get_revision(automation, number)?;
        let now = self.now();
        let w = self.db().begin_write()?;
        let version = restore_in(&w, automation, number, document, author, now)?;
        audit_in(
            &w,
            now,
            author,
            AuditAction::Restore,
            Some(automation),
            format!("restored revision {number} into the draft"),
        )?;
        w.commit()?;
        Ok(version)
    }

    /// Saves the current draft as a `named` revision with `label`.
    pub(crate) fn name_version(&self, automation: &str, label: &str, author: &str) -> Result<u64> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(Error::Invalid(
                "a version name has 1 to 100 characters".into(),
            ));
        }
        let draft = self.get_draft(automation)?;
        let w = self.db().begin_write()?;
        let n = checkpoint(
            &w,
            automation,
            &draft.document,
            author,
            self.now(),
            Checkpoint::Forced(RevisionKind::Named, Some(label.to_string())),
        )?;
        w.commit()?;
        n.ok_or_else(|| Error::Storage("the named revision was not written".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{T0, orders_at_t0};
    use model::{Step, StepKind};

    fn doc_with_steps(n: usize) -> Document {
        let mut d = Document::from_json(
            r#"{"format":1,"composers":[{"slug":"intake","name":"Intake","trigger":{"kind":"manual"}}]}"#,
        )
        .unwrap();
        for i in 0..n {
            let mut s = Step::new(format!("step_{i}"), StepKind::Transform);
            s.config = serde_json::json!({"value": {"id": "{{ trigger.body.id }}", "n": i, "text": "some realistic payload text to make each step a few hundred bytes long, as real configs are"}});
            d.composers[0].steps.push(s);
        }
        d
    }

    fn save(e: &Engine, d: &Document) -> crate::SaveOutcome {
        let v = e.get_draft("orders").unwrap().version;
        e.save_draft("orders", v, d.clone(), "ann").unwrap()
    }

    #[test]
    fn creating_an_automation_makes_revision_one() {
        let (e, _) = orders_at_t0();
        let revs = e.list_revisions("orders").unwrap();
        assert_eq!(revs.len(), 1);
        assert_eq!(
            (revs[0].number, revs[0].kind, revs[0].summary.as_str()),
            (1, RevisionKind::Auto, "created")
        );
    }

    #[test]
    fn a_checkpoint_needs_a_change_and_thirty_seconds() {
        let (e, clock) = orders_at_t0();
        let d = doc_with_steps(2);
        clock.advance(Duration::seconds(10));
        assert_eq!(save(&e, &d).revision, None, "10 s after the last revision");
        clock.advance(Duration::seconds(25));
        let out = save(&e, &d);
        assert_eq!(out.revision, Some(2), "35 s and changed");
        let revs = e.list_revisions("orders").unwrap();
        assert_eq!(revs[0].summary, "added composer intake");
        clock.advance(Duration::seconds(60));
        assert_eq!(
            save(&e, &d).revision,
            None,
            "unchanged content makes no revision"
        );
        let mut d2 = d.clone();
        d2.composers[0].steps[1].config = serde_json::json!({"value": 2});
        assert_eq!(save(&e, &d2).revision, Some(3));
        let revs = e.list_revisions("orders").unwrap();
        assert_eq!(
            revs.iter().map(|r| r.number).collect::<Vec<_>>(),
            [3, 2, 1],
            "newest first"
        );
        assert!(revs[0].summary.contains("step_1"), "{}", revs[0].summary);
        assert_eq!(e.get_revision("orders", 2).unwrap().1, d);
    }

    #[test]
    fn every_state_that_stood_thirty_seconds_is_a_revision() {
        // Issue 10: a state that stood for 32 s and was then replaced was never a revision.
        let (e, clock) = orders_at_t0();
        let a = doc_with_steps(1);
        let b = doc_with_steps(2);
        clock.advance(Duration::seconds(10));
        assert_eq!(save(&e, &a).revision, None, "too soon after revision 1");
        clock.advance(Duration::seconds(32));
        let out = save(&e, &b);
        let revs = e.list_revisions("orders").unwrap();
        assert_eq!(revs.len(), 3, "{revs:?}");
        assert_eq!(out.revision, Some(3), "and the state after the pause");
        assert_eq!(e.get_revision("orders", 2).unwrap().1, a);
        assert_eq!(
            revs[1].created_at,
            (T0.parse::<DateTime<Utc>>().unwrap() + Duration::seconds(10)),
            "as of when it was saved"
        );
        assert_eq!(e.get_revision("orders", 3).unwrap().1, b);
        // A state that stood less than 30 s is not one of its own.
        let c = doc_with_steps(3);
        clock.advance(Duration::seconds(5));
        save(&e, &c);
        clock.advance(Duration::seconds(5));
        save(&e, &a);
        assert_eq!(e.list_revisions("orders").unwrap().len(), 3);
    }

    #[test]
    fn restore_keeps_a_backup_first() {
        let (e, clock) = orders_at_t0();
        let old = doc_with_steps(1);
        clock.advance(Duration::seconds(31));
        save(&e, &old);
        let newer = doc_with_steps(3);
        clock.advance(Duration::seconds(31));
        save(&e, &newer);
        let mut unsaved_tail = newer.clone();
        unsaved_tail.composers[0].name = "Renamed".into();
        clock.advance(Duration::seconds(5));
        save(&e, &unsaved_tail); // too soon for a checkpoint: only in the draft

        let version = e.restore_revision("orders", 2, "bob").unwrap();
        let draft = e.get_draft("orders").unwrap();
        assert_eq!((draft.version, &draft.document), (version, &old));
        let revs = e.list_revisions("orders").unwrap();
        assert_eq!(revs[0].kind, RevisionKind::Backup);
        assert_eq!(
            revs[0].label.as_deref(),
            Some("before restoring revision 2")
        );
        assert_eq!(
            e.get_revision("orders", revs[0].number).unwrap().1,
            unsaved_tail,
            "nothing lost"
        );
    }

    #[test]
    fn a_stale_save_is_refused_and_kept_as_a_conflict_revision() {
        let (e, _) = orders_at_t0();
        let mine = doc_with_steps(1);
        let theirs = doc_with_steps(2);
        e.save_draft("orders", 1, theirs.clone(), "bob").unwrap();
        let err = e.save_draft("orders", 1, mine.clone(), "ann").unwrap_err();
        let Error::Conflict {
            kept_revision: Some(n),
            ..
        } = err
        else {
            panic!("{err}")
        };
        assert!(
            err.to_string().contains(&format!("kept as revision {n}")),
            "{err}"
        );
        let (rev, doc) = e.get_revision("orders", n).unwrap();
        assert_eq!(
            (rev.kind, rev.author.as_str(), doc),
            (RevisionKind::Conflict, "ann", mine)
        );
        assert_eq!(e.get_draft("orders").unwrap().document, theirs);
    }

    #[test]
    fn named_versions_are_always_written() {
        let (e, _) = orders_at_t0();
        let n = e
            .name_version("orders", "before the big change", "ann")
            .unwrap();
        let (rev, _) = e.get_revision("orders", n).unwrap();
        assert_eq!(
            (rev.kind, rev.label.as_deref()),
            (RevisionKind::Named, Some("before the big change"))
        );
        assert!(matches!(
            e.name_version("orders", " ", "ann"),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            e.get_revision("orders", 99),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn one_step_revisions_store_far_less_than_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.redb");
        let clock = crate::Clock::manual(T0.parse().unwrap());
        let e = Engine::open_with_clock(&path, clock.clone()).unwrap();
        e.create_automation("orders", "Orders", "ann").unwrap();
        let mut d = doc_with_steps(100);
        let doc_size = serde_json::to_vec(&d).unwrap().len() as u64;
        clock.advance(Duration::seconds(31));
        save(&e, &d);
        // Warm up: let redb reach its steady state of free pages before measuring.
        for i in 0..50 {
            d.composers[0].steps[i % 100].config["value"]["n"] = serde_json::json!(1000 + i);
            clock.advance(Duration::seconds(31));
            save(&e, &d);
        }
        let before = std::fs::metadata(&path).unwrap().len();
        let edits = 200u64;
        for i in 0..edits as usize {
            d.composers[0].steps[i % 100].config["value"]["n"] = serde_json::json!(5000 + i);
            clock.advance(Duration::seconds(31));
            assert!(save(&e, &d).revision.is_some());
        }
        let growth = std::fs::metadata(&path)
            .unwrap()
            .len()
            .saturating_sub(before);
        assert!(
            growth / edits < doc_size / 4,
            "{} bytes per one-step revision of a {doc_size}-byte document",
            growth / edits
        );
    }
}
