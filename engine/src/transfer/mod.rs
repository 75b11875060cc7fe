//! Export and import of one automation (PRODUCT.md §15); the file format and its rules are
//! [`model::transfer`].
//!
//! An export holds the draft (what the team edits; Live is what was deployed from it), the names
//! of the secrets it uses, and on request the records of the Test databases — never Live
//! data, never a secret value. An import creates the automation, or, over an existing one, keeps
//! its draft as a `backup` revision and makes the file's document the draft, in one transaction
//! with the records it brings; Live is never touched (deploying stays a deliberate step).

use crate::audit::{AuditAction, audit_in};
use crate::error::{Error, Result};
use crate::store::Engine;
use model::Mode;
use model::transfer::{ExportFile, ImportFile, Imported, SecretNames, read_import};
use std::collections::BTreeMap;

impl Engine {
    /// [`Engine::export`] by a person: any signed-in role may read an automation.
    pub fn export_as(
        &self,
        by: &crate::User,
        automation: &str,
        with_test_databases: bool,
    ) -> Result<String> {
        by.require(crate::Role::Viewer)?;
        self.export(automation, with_test_databases)
    }

    /// The export file of `automation`, canonical text.
    pub fn export(&self, automation: &str, with_test_databases: bool) -> Result<String> {
        let about = self.get_automation(automation)?;
        let draft = self.get_draft(automation)?;
        let databases = if with_test_databases {
            let mut all = BTreeMap::new();
            for db in self.list_databases(automation, Mode::Test)? {
                let records = self.all_records(automation, Mode::Test, &db.name)?;
                all.insert(db.name, records);
            }
            Some(all)
        } else {
            None
        };
        Ok(ExportFile::new(&about.slug, &about.name, draft.document, databases).to_text())
    }

    /// [`Engine::import`] by a person: editors and admins.
    pub fn import_as(
        &self,
        by: &crate::User,
        text: &str,
        as_slug: Option<&str>,
    ) -> Result<Imported> {
        by.require(crate::Role::Editor)?;
        self.import(text, as_slug, &by.username)
    }

    /// Imports `text` (an export file, or a bare document with `as_slug`) as `as_slug` or the
    /// slug the file names. A bad file is refused with what is wrong, and changes nothing.
    pub fn import(&self, text: &str, as_slug: Option<&str>, author: &str) -> Result<Imported> {
        // An empty slug (a form left blank) is no slug.
        let as_slug = as_slug.map(str::trim).filter(|s| !s.is_empty());
        let file = read_import(text).map_err(Error::Invalid)?;
        let (slug, name, databases) = match &file {
            ImportFile::Export(e) => (
                as_slug.unwrap_or(&e.automation.slug).to_owned(),
                e.automation.name.clone(),
                e.test_databases.clone().unwrap_or_default(),
            ),
            ImportFile::Document(_) => {
                let slug = as_slug.ok_or_else(|| {
                    Error::Invalid(
                        "this file is a bare document: it names no automation, so say which to import it as"
                            .into(),
                    )
                })?;
                (slug.to_owned(), slug.to_owned(), BTreeMap::new())
            }
        };
        let document = file.into_document();
        let problems = document.validate();
        let needed = model::referenced_secrets(&document);
        let now = self.now();
        let records: u64 = databases.values().map(|r| r.len() as u64).sum();
        let put_records = |w: &redb::WriteTransaction| -> Result<()> {
            for (database, rows) in &databases {
                let named = |i: usize| format!("test database {database}, record {}", i + 1);
                crate::databases::put_records_in(w, &slug, Mode::Test, database, rows, now, named)?;
            }
            Ok(())
        };
        let detail =
            |what: &str| format!("imported {what} from a file ({records} test database records)");
        let exists = match self.get_automation(&slug) {
            Ok(_) => true,
            Err(Error::NotFound(_)) => false,
            Err(e) => return Err(e),
        };
        let (version, backup_revision) = if exists {
            let w = self.db().begin_write()?;
            let replaced = crate::revisions::replace_draft_in(
                &w,
                &slug,
                document,
                author,
                now,
                "before an import".to_owned(),
            )?;
            put_records(&w)?;
            audit_in(
                &w,
                now,
                author,
                AuditAction::Import,
                Some(&slug),
                detail("the draft"),
            )?;
            w.commit()?;
            replaced
        } else {
            self.create_automation_with(&slug, &name, author, document, |w| {
                put_records(w)?;
                audit_in(
                    w,
                    now,
                    author,
                    AuditAction::Import,
                    Some(&slug),
                    detail("a new automation"),
                )
            })?;
            (1, None)
        };
        let missing = |mode| -> Result<Vec<String>> {
            let set: Vec<String> = self
                .list_secrets(&slug, mode)?
                .into_iter()
                .map(|s| s.name)
                .collect();
            Ok(needed
                .iter()
                .filter(|n| !set.contains(n))
                .cloned()
                .collect())
        };
        Ok(Imported {
            missing_secrets: SecretNames {
                test: missing(Mode::Test)?,
                live: missing(Mode::Live)?,
            },
            automation: slug,
            created: !exists,
            version,
            backup_revision,
            records,
            problems,
        })
    }
}

#[cfg(test)]
mod tests;
