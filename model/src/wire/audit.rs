use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Login,
    Deploy,
    Rollback,
    Restore,
    BackupRestore,
    SecretSet,
    SecretDelete,
    UserAdd,
    UserRole,
    UserDelete,
    /// Instance settings (egress rules).
    Settings,
    /// A backup of the whole data file was taken over the API.
    Backup,
    /// An automation was imported from a file (created, or its draft replaced).
    Import,
}

impl AuditAction {
    /// As people read it in the audit list.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::Deploy => "deploy",
            AuditAction::Rollback => "rollback",
            AuditAction::Restore => "restore",
            AuditAction::BackupRestore => "backup restore",
            AuditAction::SecretSet => "secret set",
            AuditAction::SecretDelete => "secret delete",
            AuditAction::UserAdd => "user add",
            AuditAction::UserRole => "user role",
            AuditAction::UserDelete => "user delete",
            AuditAction::Settings => "settings",
            AuditAction::Backup => "backup",
            AuditAction::Import => "import",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: AuditAction,
    pub automation: Option<String>,
    /// One line for people: what exactly (names, numbers; never a secret value).
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Pass back as `before` for the next (older) page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_wire_names_in_words() {
        for a in [
            AuditAction::BackupRestore,
            AuditAction::SecretSet,
            AuditAction::Login,
        ] {
            let wire = serde_json::to_value(a).unwrap();
            assert_eq!(wire.as_str().unwrap().replace('_', " "), a.label());
        }
    }
}
