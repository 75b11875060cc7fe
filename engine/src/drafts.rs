//! Each automation's draft: the document being edited in Test, with a version number that
//! every save must name (optimistic concurrency: a stale save is a conflict, never a silent
//! overwrite).

use crate::automations::AUTOMATIONS;
use crate::error::{Error, Result};
use crate::revisions::{Checkpoint, RevisionKind, checkpoint};
use crate::store::{Decode, Engine, Json, Stored};
use chrono::{DateTime, Utc};
use model::{Document, Problem};
use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// automation slug -> [`Draft`].
pub(crate) const DRAFTS: TableDefinition<&str, Json<Draft>> = TableDefinition::new("drafts");

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Draft {
    pub version: u64,
    pub document: Document,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

impl Stored for Draft {
    const NAME: &'static str = "Draft";
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct SaveOutcome {
    pub version: u64,
    /// Validation problems of the saved document: reported, never a reason to refuse the save.
    pub problems: Vec<Problem>,
    /// The revision this save created, if the checkpoint rule asked for one.
    pub revision: Option<u64>,
}

impl Engine {
    pub fn get_draft(&self, automation: &str) -> Result<Draft> {
        self.row(DRAFTS, automation)?
            .ok_or_else(|| Error::NotFound(format!("automation `{automation}` does not exist")))
    }

    /// [`Engine::save_draft`] by a person: editors and admins.
    pub fn save_draft_as(
        &self,
        by: &crate::User,
        automation: &str,
        base_version: u64,
        document: Document,
    ) -> Result<SaveOutcome> {
        by.require(crate::Role::Editor)?;
        self.save_draft(automation, base_version, document, &by.username)
    }

    /// [`Engine::save_draft_over_any`] by a person: editors and admins.
    pub fn save_draft_over_any_as(
        &self,
        by: &crate::User,
        automation: &str,
        document: Document,
    ) -> Result<SaveOutcome> {
        by.require(crate::Role::Editor)?;
        self.save_draft_over_any(automation, document, &by.username)
    }

    /// Replaces the draft if it is still at `base_version`. The commit is durable when this
    /// returns: an acknowledged save survives a crash.
    pub(crate) fn save_draft(
        &self,
        automation: &str,
        base_version: u64,
        document: Document,
        author: &str,
    ) -> Result<SaveOutcome> {
        self.save_draft_if(automation, Some(base_version), document, author)
    }

    /// Replaces the draft whatever its version (`If-Match: *`, RFC 9110 §13.1.1).
    pub(crate) fn save_draft_over_any(
        &self,
        automation: &str,
        document: Document,
        author: &str,
    ) -> Result<SaveOutcome> {
        self.save_draft_if(automation, None, document, author)
    }

    fn save_draft_if(
        &self,
        automation: &str,
        base: Option<u64>,
        document: Document,
        author: &str,
    ) -> Result<SaveOutcome> {
        let problems = document.validate();
        let now = self.now();
        let w = self.db().begin_write()?;
        let (version, revision) = {
            if w.open_table(AUTOMATIONS)?.get(automation)?.is_none() {
                return Err(Error::NotFound(format!(
                    "automation `{automation}` does not exist"
                )));
            }
            let mut t = w.open_table(DRAFTS)?;
            let current = match t.get(automation)? {
                Some(v) => v.decode()?,
                None => {
                    return Err(Error::NotFound(format!(
                        "automation `{automation}` has no draft"
                    )));
                }
            };
            if let Some(base_version) = base
                && current.version != base_version
            {
                drop(t);
                w.abort()?;
                return Err(self.keep_conflicting_save(
                    automation,
                    base_version,
                    current.version,
                    &document,
                    author,
                ));
            }
            let draft = Draft {
                version: current.version + 1,
                document,
                updated_at: now,
                updated_by: author.to_string(),
            };
            t.insert(automation, &draft)?;
            drop(t);
            // The state this save replaces stood unchanged for the checkpoint interval: it is a
            // revision too (as of when it was saved), not only the state after the pause.
            let every = self.checkpoint_every();
            if every > 0 && now - current.updated_at >= chrono::Duration::seconds(every) {
                checkpoint(
                    &w,
                    automation,
                    &current.document,
                    &current.updated_by,
                    current.updated_at,
                    Checkpoint::Auto(0),
                )?;
            }
            let revision = checkpoint(
                &w,
                automation,
                &draft.document,
                author,
                now,
                Checkpoint::Auto(self.checkpoint_every()),
            )?;
            (draft.version, revision)
        };
        w.commit()?;
        Ok(SaveOutcome {
            version,
            problems,
            revision,
        })
    }

    /// A stale save loses the race but not its content: it becomes a `conflict` revision.
    fn keep_conflicting_save(
        &self,
        automation: &str,
        expected: u64,
        current: u64,
        document: &Document,
        author: &str,
    ) -> Error {
        let kept = (|| {
            let w = self.db().begin_write()?;
            let label = format!("unsaved edit by {author}, based on version {expected}");
            let n = checkpoint(
                &w,
                automation,
                document,
                author,
                self.now(),
                Checkpoint::Forced(RevisionKind::Conflict, Some(label)),
            )?;
            w.commit()?;
            Ok::<_, Error>(n)
        })();
        match kept {
            Ok(kept_revision) => Error::Conflict {
                expected,
                current,
                kept_revision,
            },
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Engine, Error};
    use model::Document;

    fn doc(json: &str) -> Document {
        Document::from_json(json).unwrap()
    }

    #[test]
    fn saving_bumps_the_version_and_stale_saves_conflict() {
        let e = crate::testing::orders();
        let d1 = doc(
            r#"{"format":1,"composers":[{"slug":"intake","name":"Intake","trigger":{"kind":"manual"}}]}"#,
        );
        let out = e.save_draft("orders", 1, d1.clone(), "ann").unwrap();
        assert_eq!(out.version, 2);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let err = e
            .save_draft("orders", 1, Document::new_empty(), "bob")
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Conflict {
                    expected: 1,
                    current: 2,
                    kept_revision: Some(_)
                }
            ),
            "{err}"
        );
        let now = e.get_draft("orders").unwrap();
        assert_eq!(now.document, d1, "the stale save must not overwrite");
        assert_eq!(now.updated_by, "ann");
    }

    #[test]
    fn an_invalid_document_is_saved_with_its_problems() {
        let e = crate::testing::orders();
        let bad = doc(
            r#"{"format":1,"composers":[{"slug":"intake","name":"Intake","trigger":{"kind":"manual"},
            "steps":[{"name":"a","kind":"transform"},{"name":"a","kind":"transform"}]}]}"#,
        );
        let out = e.save_draft("orders", 1, bad.clone(), "ann").unwrap();
        assert!(!out.problems.is_empty());
        assert_eq!(e.get_draft("orders").unwrap().document, bad);
    }

    #[test]
    fn drafts_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.redb");
        let d = doc(
            r#"{"format":1,"composers":[{"slug":"intake","name":"Intake","trigger":{"kind":"manual"}}]}"#,
        );
        {
            let e = Engine::open(&path).unwrap();
            e.create_automation("orders", "Orders", "ann").unwrap();
            e.save_draft("orders", 1, d.clone(), "ann").unwrap();
        }
        let e = Engine::open(&path).unwrap();
        let draft = e.get_draft("orders").unwrap();
        assert_eq!((draft.version, draft.document), (2, d));
    }

    #[test]
    fn a_foreign_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.redb");
        std::fs::write(&path, b"this is not a database, just some text in a file").unwrap();
        let err = Engine::open(&path).err().expect("must refuse");
        assert!(matches!(err, Error::ForeignFile(_)), "{err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"this is not a database, just some text in a file"
        );
    }
}
