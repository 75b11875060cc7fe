//! Accounts: users with argon2id passwords and roles, login sessions (idle and absolute
//! expiry), API tokens, and the one-time setup token for the first admin. Only hashes of
//! session and API tokens are stored, so a copy of the data file cannot be used to log in.

use crate::audit::{AuditAction, audit_in};
use crate::error::{Error, Result};
use crate::store::{Engine, Json, META, Stored, encoded};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rand::rngs::OsRng;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// username -> [`StoredUser`].
pub(crate) const USERS: TableDefinition<&str, Json<StoredUser>> = TableDefinition::new("users");
/// sha256(session token) -> [`Session`].
pub(crate) const SESSIONS: TableDefinition<&str, Json<Session>> = TableDefinition::new("sessions");
/// sha256(api token) -> [`ApiTokenInfo`].
pub(crate) const API_TOKENS: TableDefinition<&str, Json<ApiTokenInfo>> =
    TableDefinition::new("api_tokens");
const SETUP_TOKEN_KEY: &str = "setup.token_sha256";

const SESSION_IDLE: i64 = 12 * 3600;
/// How long a session lasts after sign-in, whatever its activity (the cookie's `Max-Age`).
pub const SESSION_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// Refreshing `last_seen` on every request would make every page view a write; a minute of
/// slack is plenty against a 12 h idle limit.
const SESSION_TOUCH_EVERY: i64 = 60;
const MIN_PASSWORD: usize = 8;

pub use model::wire::{ApiTokenInfo, Role, User};

#[derive(Serialize, Deserialize)]
pub(crate) struct StoredUser {
    #[serde(flatten)]
    user: User,
    password_hash: String,
}

/// Without the hash.
impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Stored for StoredUser {
    const NAME: &'static str = "StoredUser";
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Session {
    username: String,
    created_at: DateTime<Utc>,
    last_seen: DateTime<Utc>,
}

impl Stored for Session {
    const NAME: &'static str = "Session";
}

/// A freshly created API token: `token` is shown once and never stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NewToken {
    pub info: ApiTokenInfo,
    pub token: String,
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

/// Most password hashes (argon2id: about 19 MiB and a core for tens of milliseconds each)
/// computed at once; more callers wait for a slot, and after [`HASH_WAIT`] are told to try again.
const MAX_CONCURRENT_HASHES: usize = 4;
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

static HASHES_BUSY: std::sync::Mutex<usize> = std::sync::Mutex::new(0);
static HASH_FREED: std::sync::Condvar = std::sync::Condvar::new();

/// Runs `f` (a password hash or check) in one of the bounded slots.
fn in_hash_slot<T>(f: impl FnOnce() -> T) -> Result<T> {
    let deadline = std::time::Instant::now() + HASH_WAIT;
    let mut busy = HASHES_BUSY.lock().unwrap_or_else(|p| p.into_inner());
    while *busy >= MAX_CONCURRENT_HASHES {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(Error::Unavailable("too many sign-ins at once".into()));
        }
        busy = HASH_FREED
            .wait_timeout(busy, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
    *busy += 1;
    drop(busy);
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            *HASHES_BUSY.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
            HASH_FREED.notify_one();
        }
    }
    let _release = Release;
    Ok(f())
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    in_hash_slot(|| {
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Storage(format!("cannot hash password: {e}")))
    })?
}

fn check_new_user(username: &str, password: &str) -> Result<()> {
    let ok_name = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok_name {
        return Err(Error::Invalid(
            "a username has 1 to 64 letters, digits, `.`, `_`, `-` or `@`".into(),
        ));
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::Invalid(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        )));
    }
    Ok(())
}

/// The user named `username`, ignoring case (users created before names were case-insensitive
/// keep their stored spelling, and are found by it first).
fn find_user(engine: &Engine, username: &str) -> Result<Option<StoredUser>> {
    if let Some(found) = engine.row(USERS, username)? {
        return Ok(Some(found));
    }
    let lower = username.to_ascii_lowercase();
    if lower == username {
        return Ok(None);
    }
    engine.row(USERS, lower.as_str())
}

impl Engine {
    pub fn user_count(&self) -> Result<usize> {
        Ok(self.rows(USERS)?.len())
    }

    pub fn list_users(&self) -> Result<Vec<User>> {
        Ok(self.rows(USERS)?.into_iter().map(|s| s.user).collect())
    }

    pub fn get_user(&self, username: &str) -> Result<User> {
        find_user(self, username)?
            .map(|s| s.user)
            .ok_or_else(|| Error::NotFound(format!("user `{username}` does not exist")))
    }

    /// Creates a user as the operator (`actor` is `environment` or `cli`: the first admin, the
    /// `slipway user` command on a stopped server); people use [`Engine::create_user_as`].
    pub fn create_user(
        &self,
        username: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<User> {
        check_new_user(username, password)?;
        // Usernames are case-insensitive (`Viewer` is `viewer`), stored lowercase.
        let lower = username.to_ascii_lowercase();
        let username = lower.as_str();
        let taken = self
            .rows(USERS)?
            .iter()
            .any(|s| s.user.username.eq_ignore_ascii_case(username));
        if taken {
            return Err(Error::AlreadyExists(format!(
                "user `{username}` already exists"
            )));
        }
        let stored = StoredUser {
            user: User {
                username: username.to_string(),
                role,
                created_at: self.now(),
            },
            password_hash: hash_password(password)?,
        };
        let w = self.db().begin_write()?;
        {
            let mut t = w.open_table(USERS)?;
            if t.get(username)?.is_some() {
                return Err(Error::AlreadyExists(format!(
                    "user `{username}` already exists"
                )));
            }
            t.insert(username, &stored)?;
        }
        audit_in(
            &w,
            self.now(),
            actor,
            AuditAction::UserAdd,
            None,
            format!("added user {username} as {role}"),
        )?;
        w.commit()?;
        Ok(stored.user)
    }

    /// Changes a user's role, by an admin (the last admin stays an admin).
    pub fn set_user_role_as(&self, by: &User, username: &str, role: Role) -> Result<User> {
        by.require(Role::Admin)?;
        self.set_user_role(username, role, &by.username)
    }

    pub(crate) fn set_user_role(&self, username: &str, role: Role, actor: &str) -> Result<User> {
        let mut stored: StoredUser = find_user(self, username)?
            .ok_or_else(|| Error::NotFound(format!("user `{username}` does not exist")))?;
        if stored.user.role == Role::Admin && role != Role::Admin && self.admin_count()? <= 1 {
            return Err(Error::Invalid(
                "the last admin cannot lose the admin role".into(),
            ));
        }
        stored.user.role = role;
        let username = stored.user.username.clone();
        let w = self.db().begin_write()?;
        w.open_table(USERS)?.insert(username.as_str(), &stored)?;
        audit_in(
            &w,
            self.now(),
            actor,
            AuditAction::UserRole,
            None,
            format!("made {username} {role}"),
        )?;
        w.commit()?;
        Ok(stored.user)
    }

    /// [`Engine::create_user`] by a person: admins only.
    pub fn create_user_as(
        &self,
        by: &User,
        username: &str,
        role: Role,
        password: &str,
    ) -> Result<User> {
        by.require(Role::Admin)?;
        self.create_user(username, role, password, &by.username)
    }

    /// Deletes a user, by an admin who is not that user (the last admin stays, too).
    pub fn delete_user_as(&self, by: &User, username: &str) -> Result<()> {
        by.require(Role::Admin)?;
        if by.username.eq_ignore_ascii_case(username) {
            return Err(Error::Invalid("you cannot delete your own account".into()));
        }
        self.delete_user(username, &by.username)
    }

    pub(crate) fn delete_user(&self, username: &str, actor: &str) -> Result<()> {
        let user = self.get_user(username)?;
        let username = user.username.as_str();
        if user.role == Role::Admin && self.admin_count()? <= 1 {
            return Err(Error::Invalid("the last admin cannot be deleted".into()));
        }
        let w = self.db().begin_write()?;
        {
            w.open_table(USERS)?.remove(username)?;
            // A deleted user's sessions and tokens must stop working at once. Read encoded, so
            // a row that does not decode is kept rather than failing the deletion.
            w.open_table(encoded(&SESSIONS))?
                .retain(|_, v| v.decode().map_or(true, |s| s.username != username))?;
            w.open_table(encoded(&API_TOKENS))?
                .retain(|_, v| v.decode().map_or(true, |t| t.username != username))?;
        }
        audit_in(
            &w,
            self.now(),
            actor,
            AuditAction::UserDelete,
            None,
            format!("deleted user {username}"),
        )?;
        w.commit()?;
        Ok(())
    }

    fn admin_count(&self) -> Result<usize> {
        Ok(self
            .list_users()?
            .iter()
            .filter(|u| u.role == Role::Admin)
            .count())
    }

    /// Checks a password; failures per (username, address) are rate-limited. Unknown users
    /// and wrong passwords get the same answer.
    pub fn verify_login(&self, username: &str, password: &str, addr: &str) -> Result<User> {
        let now = self.now();
        let limiter = &self.inner.limiter;
        // Counted per name whatever its case, as names are matched.
        let key = username.to_ascii_lowercase();
        if let Some(wait) = limiter.blocked_for(&key, addr, now) {
            return Err(Error::RateLimited {
                retry_after_secs: wait,
            });
        }
        let stored: Option<StoredUser> = find_user(self, username)?;
        let ok = match &stored {
            Some(s) => in_hash_slot(|| {
                PasswordHash::new(&s.password_hash)
                    .map(|h| {
                        Argon2::default()
                            .verify_password(password.as_bytes(), &h)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })?,
            None => {
                // Spend the same work as a real check so timing does not reveal usernames.
                hash_password(password)?;
                false
            }
        };
        match (ok, stored) {
            (true, Some(s)) => {
                limiter.clear(&key, addr);
                self.audit(
                    username,
                    AuditAction::Login,
                    None,
                    format!("signed in from {addr}"),
                )?;
                Ok(s.user)
            }
            _ => {
                limiter.record_failure(&key, addr, now);
                Err(Error::BadCredentials)
            }
        }
    }

    /// Starts a session and returns its token (for the cookie).
    pub fn create_session(&self, username: &str) -> Result<String> {
        let token = random_token("");
        let now = self.now();
        let s = Session {
            username: username.to_string(),
            created_at: now,
            last_seen: now,
        };
        let w = self.db().begin_write()?;
        w.open_table(SESSIONS)?
            .insert(sha256_hex(&token).as_str(), &s)?;
        w.commit()?;
        Ok(token)
    }

    /// The user of a live session; expired sessions are removed and read as none.
    pub fn session_user(&self, token: &str) -> Result<Option<User>> {
        let key = sha256_hex(token);
        let Some(mut s) = self.row(SESSIONS, key.as_str())? else {
            return Ok(None);
        };
        let now = self.now();
        if now - s.last_seen > Duration::seconds(SESSION_IDLE)
            || now - s.created_at > Duration::seconds(SESSION_LIFETIME_SECS)
        {
            self.delete_session(token)?;
            return Ok(None);
        }
        let user = match self.row(USERS, s.username.as_str())? {
            Some(u) => u.user,
            None => return Ok(None),
        };
        if now - s.last_seen > Duration::seconds(SESSION_TOUCH_EVERY) {
            s.last_seen = now;
            let w = self.db().begin_write()?;
            w.open_table(SESSIONS)?.insert(key.as_str(), &s)?;
            w.commit()?;
        }
        Ok(Some(user))
    }

    pub fn delete_session(&self, token: &str) -> Result<()> {
        let w = self.db().begin_write()?;
        w.open_table(SESSIONS)?.remove(sha256_hex(token).as_str())?;
        w.commit()?;
        Ok(())
    }

    /// A new API token of `by` (admins: a token acts with its user's role, and scripts that
    /// change things are an admin's decision).
    pub fn create_api_token_as(&self, by: &User, name: &str) -> Result<NewToken> {
        by.require(Role::Admin)?;
        self.create_api_token(&by.username, name)
    }

    /// Revokes one of `by`'s own tokens (any role may drop what it holds).
    pub fn revoke_api_token_as(&self, by: &User, id: &str) -> Result<()> {
        self.revoke_api_token(&by.username, id)
    }

    pub(crate) fn create_api_token(&self, username: &str, name: &str) -> Result<NewToken> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::Invalid(
                "a token name has 1 to 100 characters".into(),
            ));
        }
        self.get_user(username)?;
        let token = random_token("slw_");
        let info = ApiTokenInfo {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_string(),
            username: username.to_string(),
            created_at: self.now(),
        };
        let w = self.db().begin_write()?;
        w.open_table(API_TOKENS)?
            .insert(sha256_hex(&token).as_str(), &info)?;
        w.commit()?;
        Ok(NewToken { info, token })
    }

    pub fn list_api_tokens(&self, username: &str) -> Result<Vec<ApiTokenInfo>> {
        let mut all = self.rows(API_TOKENS)?;
        all.retain(|t| t.username == username);
        all.sort_by_key(|t| t.created_at);
        Ok(all)
    }

    pub(crate) fn revoke_api_token(&self, username: &str, id: &str) -> Result<()> {
        let w = self.db().begin_write()?;
        let removed = {
            let mut t = w.open_table(encoded(&API_TOKENS))?;
            let before = t.len()?;
            t.retain(|_, v| {
                v.decode()
                    .map_or(true, |i| !(i.id == id && i.username == username))
            })?;
            before != t.len()?
        };
        w.commit()?;
        if removed {
            Ok(())
        } else {
            Err(Error::NotFound(format!("token `{id}` does not exist")))
        }
    }

    pub fn token_user(&self, token: &str) -> Result<Option<User>> {
        let Some(info) = self.row(API_TOKENS, sha256_hex(token).as_str())? else {
            return Ok(None);
        };
        Ok(self.row(USERS, info.username.as_str())?.map(|s| s.user))
    }

    /// With no users yet: makes a new one-time setup token (replacing any earlier one) and
    /// returns it; with users, None.
    pub fn issue_setup_token(&self) -> Result<Option<String>> {
        if self.user_count()? > 0 {
            return Ok(None);
        }
        let token = random_token("");
        let w = self.db().begin_write()?;
        w.open_table(META)?
            .insert(SETUP_TOKEN_KEY, sha256_hex(&token).as_str())?;
        w.commit()?;
        Ok(Some(token))
    }

    pub fn setup_token_valid(&self, token: &str) -> Result<bool> {
        let read = self.db().begin_read()?;
        let stored = match read.open_table(META) {
            Ok(t) => t.get(SETUP_TOKEN_KEY)?.map(|v| v.value().to_string()),
            Err(_) => None,
        };
        Ok(stored.is_some_and(|h| h == sha256_hex(token)) && self.user_count()? == 0)
    }

    /// Creates the first admin with the setup token, which is then spent.
    pub fn complete_setup(&self, token: &str, username: &str, password: &str) -> Result<User> {
        if !self.setup_token_valid(token)? {
            return Err(Error::Invalid(
                "this setup link is not valid (already used, or replaced by a newer one)".into(),
            ));
        }
        let user = self.create_user(username, Role::Admin, password, "setup")?;
        let w = self.db().begin_write()?;
        w.open_table(META)?.remove(SETUP_TOKEN_KEY)?;
        w.commit()?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::engine_at_t0;

    #[test]
    fn passwords_are_argon2id_and_verified() {
        let (e, _) = engine_at_t0();
        e.create_user("ann", Role::Editor, "correct horse", "admin")
            .unwrap();
        let u = e.verify_login("ann", "correct horse", "1.2.3.4").unwrap();
        assert_eq!(u.role, Role::Editor);
        assert!(matches!(
            e.verify_login("ann", "wrong password", "1.2.3.4"),
            Err(Error::BadCredentials)
        ));
        assert!(matches!(
            e.verify_login("nobody", "whatever1", "1.2.3.4"),
            Err(Error::BadCredentials)
        ));
        let stored = e.row(USERS, "ann").unwrap().unwrap();
        assert!(stored.password_hash.starts_with("$argon2id$"));
        assert!(!stored.password_hash.contains("correct horse"));
    }

    #[test]
    fn short_passwords_and_bad_usernames_are_refused() {
        let (e, _) = engine_at_t0();
        assert!(matches!(
            e.create_user("ann", Role::Admin, "short", "admin"),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            e.create_user("a n", Role::Admin, "long enough", "admin"),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn login_failures_are_rate_limited_per_user_and_address() {
        let (e, clock) = engine_at_t0();
        e.create_user("ann", Role::Editor, "correct horse", "admin")
            .unwrap();
        for _ in 0..5 {
            let _ = e.verify_login("ann", "nope-nope", "10.0.0.1");
        }
        let err = e
            .verify_login("ann", "correct horse", "10.0.0.1")
            .unwrap_err();
        assert!(matches!(err, Error::RateLimited { .. }), "{err}");
        // Another address is not blocked by this one's failures.
        e.verify_login("ann", "correct horse", "10.0.0.2").unwrap();
        clock.advance(Duration::seconds(301));
        e.verify_login("ann", "correct horse", "10.0.0.1").unwrap();
    }

    #[test]
    fn sessions_expire_when_idle_and_after_the_absolute_limit() {
        let (e, clock) = engine_at_t0();
        e.create_user("ann", Role::Viewer, "correct horse", "admin")
            .unwrap();
        let t = e.create_session("ann").unwrap();
        assert_eq!(e.session_user(&t).unwrap().unwrap().username, "ann");
        clock.advance(Duration::hours(13));
        assert!(e.session_user(&t).unwrap().is_none(), "idle expiry");

        let t = e.create_session("ann").unwrap();
        for _ in 0..8 {
            clock.advance(Duration::hours(23));
            let _ = e.session_user(&t).unwrap();
        }
        assert!(e.session_user(&t).unwrap().is_none(), "absolute expiry");

        let t = e.create_session("ann").unwrap();
        e.delete_session(&t).unwrap();
        assert!(e.session_user(&t).unwrap().is_none(), "logout");
    }

    #[test]
    fn api_tokens_authenticate_until_revoked_and_are_stored_hashed() {
        let (e, _) = engine_at_t0();
        e.create_user("ann", Role::Admin, "correct horse", "admin")
            .unwrap();
        let new = e.create_api_token("ann", "ci").unwrap();
        assert!(new.token.starts_with("slw_"));
        assert_eq!(e.token_user(&new.token).unwrap().unwrap().username, "ann");
        assert!(e.row(API_TOKENS, new.token.as_str()).unwrap().is_none());
        e.revoke_api_token("ann", &new.info.id).unwrap();
        assert!(e.token_user(&new.token).unwrap().is_none());
    }

    #[test]
    fn setup_token_creates_the_first_admin_once() {
        let (e, _) = engine_at_t0();
        let token = e.issue_setup_token().unwrap().unwrap();
        assert!(!e.setup_token_valid("guess").unwrap());
        let u = e.complete_setup(&token, "root", "correct horse").unwrap();
        assert_eq!(u.role, Role::Admin);
        assert!(e.complete_setup(&token, "again", "correct horse").is_err());
        assert!(e.issue_setup_token().unwrap().is_none());
    }

    #[test]
    fn roles_are_ordered_and_checked() {
        let (e, _) = engine_at_t0();
        let v = e
            .create_user("vic", Role::Viewer, "correct horse", "admin")
            .unwrap();
        assert!(v.require(Role::Viewer).is_ok());
        let err = Error::from(v.require(Role::Editor).unwrap_err());
        assert_eq!(
            err.to_string(),
            "your role (viewer) may not do this; it needs editor"
        );
    }

    #[test]
    fn the_last_admin_stays_and_deleted_users_lose_their_sessions() {
        let (e, _) = engine_at_t0();
        e.create_user("root", Role::Admin, "correct horse", "admin")
            .unwrap();
        assert!(e.delete_user("root", "admin").is_err());
        assert!(e.set_user_role("root", Role::Viewer, "admin").is_err());
        e.create_user("ann", Role::Editor, "correct horse", "admin")
            .unwrap();
        let t = e.create_session("ann").unwrap();
        let api = e.create_api_token("ann", "x").unwrap();
        e.delete_user("ann", "admin").unwrap();
        assert!(e.session_user(&t).unwrap().is_none());
        assert!(e.token_user(&api.token).unwrap().is_none());
    }

    #[test]
    fn usernames_are_case_insensitive() {
        let (e, _) = engine_at_t0();
        e.create_user("Viewer", Role::Viewer, "password-123", "t")
            .unwrap();
        assert_eq!(e.get_user("viewer").unwrap().username, "viewer");
        assert!(matches!(
            e.create_user("viewer", Role::Admin, "password-123", "t"),
            Err(Error::AlreadyExists(_))
        ));
        assert!(matches!(
            e.create_user("VIEWER", Role::Admin, "password-123", "t"),
            Err(Error::AlreadyExists(_))
        ));
        assert_eq!(
            e.verify_login("VieWer", "password-123", "a")
                .unwrap()
                .username,
            "viewer"
        );
        // Failures count against the name whatever its case.
        for name in ["viewer", "Viewer", "VIEWER", "vIewer", "viEwer"] {
            assert!(e.verify_login(name, "wrong-password", "b").is_err());
        }
        assert!(matches!(
            e.verify_login("viewer", "password-123", "b"),
            Err(Error::RateLimited { .. })
        ));
        e.set_user_role("VIEWER", Role::Editor, "t").unwrap();
        assert_eq!(e.list_users().unwrap().len(), 1);
        assert_eq!(e.get_user("viewer").unwrap().role, Role::Editor);
    }
}
