//! Automations: the projects that hold composers, drafts and (later) everything else.

use crate::drafts::{DRAFTS, Draft};
use crate::error::{Error, Result};
use crate::revisions::{Checkpoint, checkpoint};
use crate::store::{Engine, Json, Stored};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// slug -> [`Automation`].
pub(crate) const AUTOMATIONS: TableDefinition<&str, Json<Automation>> =
    TableDefinition::new("automations");

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Automation {
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl Stored for Automation {
    const NAME: &'static str = "Automation";
}

impl Engine {
    pub fn list_automations(&self) -> Result<Vec<Automation>> {
        let mut all = self.rows(AUTOMATIONS)?;
        all.sort_by_key(|a| a.name.to_lowercase());
        Ok(all)
    }

    pub fn get_automation(&self, slug: &str) -> Result<Automation> {
        self.row(AUTOMATIONS, slug)?
            .ok_or_else(|| Error::NotFound(format!("automation `{slug}` does not exist")))
    }

    /// [`Engine::create_automation`] by a person: editors and admins.
    pub fn create_automation_as(
        &self,
        by: &crate::User,
        slug: &str,
        name: &str,
    ) -> Result<Automation> {
        by.require(crate::Role::Editor)?;
        self.create_automation(slug, name, &by.username)
    }

    /// [`Engine::create_automation_named`] by a person: editors and admins.
    pub fn create_automation_named_as(&self, by: &crate::User, name: &str) -> Result<Automation> {
        by.require(crate::Role::Editor)?;
        self.create_automation_named(name, &by.username)
    }

    /// Creates the automation with an empty draft at version 1.
    pub(crate) fn create_automation(
        &self,
        slug: &str,
        name: &str,
        author: &str,
    ) -> Result<Automation> {
        self.create_automation_with(slug, name, author, model::Document::new_empty(), |_| Ok(()))
    }

    /// Creates the automation with `document` as its draft at version 1, and whatever `then`
    /// writes, in one transaction.
    pub(crate) fn create_automation_with(
        &self,
        slug: &str,
        name: &str,
        author: &str,
        document: model::Document,
        then: impl FnOnce(&redb::WriteTransaction) -> Result<()>,
    ) -> Result<Automation> {
        if !model::names::is_valid_automation_slug(slug) {
            return Err(Error::Invalid(format!(
                "`{slug}` is not a valid automation slug: use a-z, 0-9 and -, starting with a letter or digit, at most 63 characters"
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::Invalid(
                "the automation name must have 1 to 100 characters".into(),
            ));
        }
        let now = self.now();
        let automation = Automation {
            slug: slug.to_string(),
            name: name.to_string(),
            created_at: now,
            created_by: author.to_string(),
        };
        let draft = Draft {
            version: 1,
            document,
            updated_at: now,
            updated_by: author.to_string(),
        };
        let w = self.db().begin_write()?;
        {
            let mut t = w.open_table(AUTOMATIONS)?;
            if t.get(slug)?.is_some() {
                return Err(Error::AlreadyExists(format!(
                    "an automation with the slug `{slug}` already exists"
                )));
            }
            t.insert(slug, &automation)?;
            w.open_table(DRAFTS)?.insert(slug, &draft)?;
        }
        checkpoint(
            &w,
            slug,
            &draft.document,
            author,
            now,
            Checkpoint::Auto(self.checkpoint_every()),
        )?;
        then(&w)?;
        w.commit()?;
        Ok(automation)
    }

    /// Creates an automation whose slug is derived from `name` (`-2`, `-3`, … when taken).
    pub(crate) fn create_automation_named(&self, name: &str, author: &str) -> Result<Automation> {
        let taken: Vec<String> = self
            .list_automations()?
            .into_iter()
            .map(|a| a.slug)
            .collect();
        let slug = model::names::unique_slug(name, taken.iter().map(String::as_str));
        self.create_automation(&slug, name, author)
    }

    pub fn rename_automation(&self, slug: &str, name: &str) -> Result<Automation> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::Invalid(
                "the automation name must have 1 to 100 characters".into(),
            ));
        }
        let mut a = self.get_automation(slug)?;
        a.name = name.to_string();
        let w = self.db().begin_write()?;
        w.open_table(AUTOMATIONS)?.insert(slug, &a)?;
        w.commit()?;
        Ok(a)
    }

    pub fn delete_automation(&self, slug: &str) -> Result<()> {
        let w = self.db().begin_write()?;
        {
            let mut t = w.open_table(AUTOMATIONS)?;
            if t.remove(slug)?.is_none() {
                return Err(Error::NotFound(format!(
                    "automation `{slug}` does not exist"
                )));
            }
            w.open_table(DRAFTS)?.remove(slug)?;
            w.open_table(crate::retention::RETENTION)?.remove(slug)?;
        }
        crate::revisions::delete_all(&w, slug)?;
        crate::databases::delete_all(&w, slug)?;
        crate::deployments::delete_all(&w, slug)?;
        w.commit()?;
        self.forget_live(slug);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::Error;
    use crate::testing::engine;

    #[test]
    fn create_list_rename_delete() {
        let e = engine();
        e.create_automation("orders", "Orders", "ann").unwrap();
        e.create_automation("billing", "Billing", "ann").unwrap();
        let names: Vec<_> = e
            .list_automations()
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["Billing", "Orders"]);
        e.rename_automation("orders", "Order intake").unwrap();
        assert_eq!(e.get_automation("orders").unwrap().name, "Order intake");
        e.delete_automation("billing").unwrap();
        assert_eq!(e.list_automations().unwrap().len(), 1);
        assert!(matches!(e.get_draft("billing"), Err(Error::NotFound(_))));
    }

    #[test]
    fn duplicate_and_invalid_slugs_are_refused() {
        let e = engine();
        e.create_automation("orders", "Orders", "ann").unwrap();
        let dup = e.create_automation("orders", "Again", "ann").unwrap_err();
        assert!(matches!(dup, Error::AlreadyExists(_)), "{dup}");
        for bad in ["", "Orders", "-x", "a b", &"a".repeat(64)] {
            let err = e.create_automation(bad, "X", "ann").unwrap_err();
            assert!(matches!(err, Error::Invalid(_)), "{bad}: {err}");
        }
        assert!(matches!(
            e.create_automation("ok", "  ", "ann"),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn a_slug_is_derived_from_the_name_and_kept_unique() {
        let e = engine();
        assert_eq!(
            e.create_automation_named("Order Intake", "ann")
                .unwrap()
                .slug,
            "order-intake"
        );
        assert_eq!(
            e.create_automation_named("Order intake", "ann")
                .unwrap()
                .slug,
            "order-intake-2"
        );
    }

    #[test]
    fn a_new_automation_has_an_empty_draft_at_version_one() {
        let e = engine();
        e.create_automation("orders", "Orders", "ann").unwrap();
        let d = e.get_draft("orders").unwrap();
        assert_eq!(d.version, 1);
        assert!(d.document.composers.is_empty());
    }
}
