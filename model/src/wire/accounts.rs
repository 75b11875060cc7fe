use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Who may do what (PRODUCT.md §9): each role may do everything the one before it may.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// Editors and admins change drafts, test data and test secrets.
    pub fn can_edit(self) -> bool {
        self >= Role::Editor
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: use viewer, editor or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// A role check that failed: the role the user has and the one the action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    pub have: Role,
    pub need: Role,
}

/// A user as the rest of the program sees it: never with the password hash.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub username: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn can_edit(&self) -> bool {
        self.role.can_edit()
    }

    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }

    /// The one place a role check happens.
    pub fn require(&self, need: Role) -> Result<(), Forbidden> {
        if self.role >= need {
            Ok(())
        } else {
            Err(Forbidden {
                have: self.role,
                need,
            })
        }
    }
}

/// An API token as listed: never the token itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names_and_nothing_else() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        let e = "Admin".parse::<Role>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown role `Admin`: use viewer, editor or admin"
        );
    }

    #[test]
    fn a_role_check_names_both_roles() {
        let u = User {
            username: "v".into(),
            role: Role::Viewer,
            created_at: DateTime::<Utc>::MIN_UTC,
        };
        assert_eq!(
            u.require(Role::Editor),
            Err(Forbidden {
                have: Role::Viewer,
                need: Role::Editor
            })
        );
        assert!(u.require(Role::Viewer).is_ok());
        assert!(!Role::Viewer.can_edit() && Role::Editor.can_edit() && !Role::Editor.is_admin());
    }
}
