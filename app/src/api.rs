//! The `#[server]` functions and the shapes they return. Each takes the user from context,
//! checks the role, and calls one engine method; no rule lives here.

use crate::Mode;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use engine::Role;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Me {
    pub username: String,
    pub role: String,
}

impl Me {
    pub fn can_edit(&self) -> bool {
        self.role == "editor" || self.role == "admin"
    }
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AutomationItem {
    pub slug: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ComposerItem {
    pub slug: String,
    pub name: String,
    pub trigger: String,
    pub steps: usize,
}

/// What the frame of an automation page needs: who is signed in, the automations to switch
/// between, and the composers of this mode.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Frame {
    pub me: Me,
    pub automations: Vec<AutomationItem>,
    pub automation: AutomationItem,
    pub composers: Vec<ComposerItem>,
    /// Live only: whether anything has been deployed yet.
    pub deployed: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TokenItem {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct UserItem {
    pub username: String,
    pub role: String,
    pub created_at: String,
}

#[cfg(feature = "ssr")]
fn me_of(u: &engine::User) -> Me {
    Me {
        username: u.username.clone(),
        role: u.role.to_string(),
    }
}

/// The signed-in user, or None.
#[server]
pub async fn whoami() -> Result<Option<Me>, ServerFnError> {
    Ok(crate::session::optional_user().map(|u| me_of(&u)))
}

#[server]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), ServerFnError> {
    use crate::session::*;
    let addr = client_addr();
    let user = blocking(move |e| e.verify_login(&username, &password, &addr)).await?;
    let name = user.username.clone();
    let token = blocking(move |e| e.create_session(&name)).await?;
    set_cookie(session_cookie(&token, 7 * 24 * 3600, request_is_tls()));
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Only same-site paths are followed after login, so a crafted link cannot send a user away.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[server]
pub async fn logout() -> Result<(), ServerFnError> {
    use crate::session::*;
    if let Some(token) = request_session_token() {
        blocking(move |e| e.delete_session(&token)).await?;
    }
    set_cookie(session_cookie("", 0, request_is_tls()));
    leptos_axum::redirect("/login");
    Ok(())
}

#[server]
pub async fn setup_valid(token: String) -> Result<bool, ServerFnError> {
    crate::session::blocking(move |e| e.setup_token_valid(&token)).await
}

#[server]
pub async fn complete_setup(
    token: String,
    username: String,
    password: String,
) -> Result<(), ServerFnError> {
    use crate::session::*;
    let user = blocking(move |e| e.complete_setup(&token, &username, &password)).await?;
    let token = blocking(move |e| e.create_session(&user.username)).await?;
    set_cookie(session_cookie(&token, 7 * 24 * 3600, request_is_tls()));
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn list_automations() -> Result<Vec<AutomationItem>, ServerFnError> {
    require(Role::Viewer)?;
    let all = blocking(|e| e.list_automations()).await?;
    Ok(all
        .into_iter()
        .map(|a| AutomationItem {
            slug: a.slug,
            name: a.name,
        })
        .collect())
}

#[server]
pub async fn frame_data(automation: String, mode: Mode) -> Result<Frame, ServerFnError> {
    let user = require(Role::Viewer)?;
    blocking(move |e| {
        let a = e.get_automation(&automation)?;
        let automations = e
            .list_automations()?
            .into_iter()
            .map(|a| AutomationItem {
                slug: a.slug,
                name: a.name,
            })
            .collect();
        // Live shows the latest deployment.
        let (composers, deployed) = match mode {
            Mode::Test => (e.get_draft(&automation)?.document.composers, true),
            Mode::Live => match e.live(&automation)? {
                Some(l) => (l.document.composers.clone(), true),
                None => (vec![], false),
            },
        };
        Ok(Frame {
            me: me_of(&user),
            automations,
            automation: AutomationItem {
                slug: a.slug,
                name: a.name,
            },
            composers: composers
                .iter()
                .map(|c| ComposerItem {
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    trigger: c.trigger.kind().to_string(),
                    steps: c.steps.len(),
                })
                .collect(),
            deployed,
        })
    })
    .await
}

/// Creates an automation named `name` (its slug derived from the name) and opens it.
#[server]
pub async fn create_automation(name: String) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    let slug =
        blocking(move |e| e.create_automation_named_as(&user, &name).map(|a| a.slug)).await?;
    leptos_axum::redirect(&format!("/a/{slug}/test"));
    Ok(())
}

#[server]
pub async fn list_tokens() -> Result<Vec<TokenItem>, ServerFnError> {
    let user = require(Role::Viewer)?;
    let tokens = blocking(move |e| e.list_api_tokens(&user.username)).await?;
    Ok(tokens
        .into_iter()
        .map(|t| TokenItem {
            id: t.id,
            name: t.name,
            created_at: t.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect())
}

/// Creates an API token for the signed-in user; the token is returned once.
#[server]
pub async fn create_token(name: String) -> Result<String, ServerFnError> {
    let user = signed_in()?;
    let new = blocking(move |e| e.create_api_token_as(&user, &name)).await?;
    Ok(new.token)
}

#[server]
pub async fn revoke_token(id: String) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.revoke_api_token_as(&user, &id)).await
}

#[server]
pub async fn list_users() -> Result<Vec<UserItem>, ServerFnError> {
    require(Role::Admin)?;
    let users = blocking(|e| e.list_users()).await?;
    Ok(users
        .into_iter()
        .map(|u| UserItem {
            username: u.username,
            role: u.role.to_string(),
            created_at: u.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect())
}

#[server]
pub async fn add_user(
    username: String,
    role: String,
    password: String,
) -> Result<(), ServerFnError> {
    let me = signed_in()?;
    blocking(move |e| {
        let role: Role = role.parse()?;
        e.create_user_as(&me, &username, role, &password)
            .map(|_| ())
    })
    .await
}

#[server]
pub async fn delete_user(username: String) -> Result<(), ServerFnError> {
    let me = signed_in()?;
    blocking(move |e| e.delete_user_as(&me, &username)).await
}

/// The draft as the editor loads it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DraftView {
    pub version: u64,
    pub document: model::Document,
    /// Validation is done on the server: the browser does not carry the template parser.
    pub problems: Vec<model::Problem>,
}

#[server]
pub async fn load_draft(automation: String) -> Result<DraftView, ServerFnError> {
    require(Role::Viewer)?;
    let d = blocking(move |e| e.get_draft(&automation)).await?;
    Ok(DraftView {
        version: d.version,
        problems: d.document.validate(),
        document: d.document,
    })
}

/// A save's outcome: a conflict is an expected answer (someone else saved first), not a failure.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum SaveReply {
    Saved {
        version: u64,
        problems: Vec<model::Problem>,
    },
    Conflict {
        message: String,
    },
}

#[server(input = server_fn::codec::Json)]
pub async fn save_draft(
    automation: String,
    version: u64,
    document: model::Document,
) -> Result<SaveReply, ServerFnError> {
    let user = signed_in()?;
    let e = crate::session::engine()?;
    let r =
        tokio::task::spawn_blocking(move || e.save_draft_as(&user, &automation, version, document))
            .await
            .map_err(|j| ServerFnError::new(j.to_string()))?;
    match r {
        Ok(out) => Ok(SaveReply::Saved {
            version: out.version,
            problems: out.problems,
        }),
        Err(c @ engine::Error::Conflict { .. }) => Ok(SaveReply::Conflict {
            message: c.to_string(),
        }),
        Err(other) => Err(crate::session::to_sfn(other)),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RevisionItem {
    pub number: u64,
    pub kind: String,
    pub author: String,
    /// RFC 3339, UTC; the browser shows it in local time.
    pub created_at: String,
    pub day: String,
    pub time: String,
    pub label: Option<String>,
    pub summary: String,
}

#[server]
pub async fn list_revisions(automation: String) -> Result<Vec<RevisionItem>, ServerFnError> {
    require(Role::Viewer)?;
    let revs = blocking(move |e| e.list_revisions(&automation)).await?;
    Ok(revs
        .into_iter()
        .map(|r| RevisionItem {
            number: r.number,
            kind: r.kind.as_str().to_string(),
            author: r.author,
            created_at: r.created_at.to_rfc3339(),
            day: r.created_at.format("%A, %e %B %Y").to_string(),
            time: r.created_at.format("%H:%M:%S UTC").to_string(),
            label: r.label,
            summary: r.summary,
        })
        .collect())
}

#[server]
pub async fn get_revision(
    automation: String,
    number: u64,
) -> Result<model::Document, ServerFnError> {
    require(Role::Viewer)?;
    Ok(blocking(move |e| e.get_revision(&automation, number))
        .await?
        .1)
}

/// Restores a revision (the draft is kept as a backup first); returns the new draft version.
#[server]
pub async fn restore_revision(automation: String, number: u64) -> Result<u64, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.restore_revision_as(&user, &automation, number)).await
}

#[server]
pub async fn name_version(automation: String, label: String) -> Result<u64, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.name_version_as(&user, &automation, &label)).await
}

/// The next three times a schedule fires, formatted in its own time zone.
#[server]
pub async fn next_fire_times(
    cron: String,
    timezone: Option<String>,
) -> Result<Vec<String>, ServerFnError> {
    require(Role::Viewer)?;
    let tz = timezone.clone();
    let times =
        blocking(move |e| engine::schedule::next_fire_times(&cron, tz.as_deref(), e.now(), 3))
            .await?;
    let zone: chrono_tz::Tz = timezone
        .as_deref()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC);
    Ok(times
        .into_iter()
        .map(|t| {
            t.with_timezone(&zone)
                .format("%a %e %b %Y, %H:%M %Z")
                .to_string()
        })
        .collect())
}

/// A run as the UI shows it (the engine's record, times as RFC 3339 text).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunView {
    pub id: String,
    pub automation: String,
    pub composer: String,
    pub mode: Mode,
    pub source: String,
    pub status: String,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub input: serde_json::Value,
    pub steps: Vec<StepRunView>,
    pub error: Option<String>,
    #[serde(default)]
    pub deployment: Option<u64>,
    #[serde(default)]
    pub replay_of: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct StepRunView {
    pub name: String,
    pub kind: String,
    pub status: String,
    pub attempts: u32,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub input: serde_json::Value,
    pub output: serde_json::Value,
    pub logs: Vec<String>,
    pub error: Option<String>,
}

/// Milliseconds between two RFC 3339 times, if both are there.
pub fn duration_ms(from: &Option<String>, to: &Option<String>) -> Option<i64> {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    Some((parse(to)? - parse(from)?).num_milliseconds())
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunSummaryView {
    pub id: String,
    pub composer: String,
    pub status: String,
    pub source: String,
    pub queued_at: String,
    pub duration_ms: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RunPageView {
    pub items: Vec<RunSummaryView>,
    pub next_cursor: Option<String>,
}

#[cfg(feature = "ssr")]
fn view_of<T: serde::de::DeserializeOwned>(v: impl Serialize) -> Result<T, ServerFnError> {
    serde_json::from_value(serde_json::to_value(v).map_err(|e| ServerFnError::new(e.to_string()))?)
        .map_err(|e| ServerFnError::new(e.to_string()))
}

/// Starts a test run of the draft with the trigger's sample; returns the run id.
#[server]
pub async fn start_test_run(automation: String, composer: String) -> Result<String, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.start_composer_run_as(
            &user,
            &automation,
            &composer,
            Mode::Test,
            engine::runs::RunSource::Manual,
            None,
        )
        .map(|h| h.id)
    })
    .await
}

#[server]
pub async fn get_run(id: String) -> Result<RunView, ServerFnError> {
    require(Role::Viewer)?;
    let run = blocking(move |e| e.get_run(&id)).await?;
    view_of(run)
}

#[server]
pub async fn list_runs(
    automation: String,
    mode: Mode,
    composer: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
) -> Result<RunPageView, ServerFnError> {
    require(Role::Viewer)?;
    let status = match status.filter(|s| !s.is_empty()) {
        Some(s) => Some(
            serde_json::from_value::<engine::runs::RunStatus>(serde_json::Value::String(s.clone()))
                .map_err(|_| {
                    crate::session::to_sfn(engine::Error::Invalid(format!("unknown status `{s}`")))
                })?,
        ),
        None => None,
    };
    let filter = engine::runs::RunFilter {
        composer: composer.filter(|c| !c.is_empty()),
        status,
        limit: 50,
        cursor: cursor.filter(|c| !c.is_empty()),
    };
    let page = blocking(move |e| e.list_runs(&automation, mode, &filter)).await?;
    view_of(page)
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DatabaseItem {
    pub name: String,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecordItem {
    pub key: String,
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RecordPageView {
    pub items: Vec<RecordItem>,
    pub next_cursor: Option<String>,
}

#[server]
pub async fn list_databases(
    automation: String,
    mode: Mode,
) -> Result<Vec<DatabaseItem>, ServerFnError> {
    require(Role::Viewer)?;
    let dbs = blocking(move |e| e.list_databases(&automation, mode)).await?;
    Ok(dbs
        .into_iter()
        .map(|d| DatabaseItem {
            name: d.name,
            count: d.count,
        })
        .collect())
}

#[server]
pub async fn list_records(
    automation: String,
    mode: Mode,
    database: String,
    prefix: String,
    cursor: Option<String>,
) -> Result<RecordPageView, ServerFnError> {
    require(Role::Viewer)?;
    let p =
        blocking(move |e| e.db_list(&automation, mode, &database, &prefix, 50, cursor.as_deref()))
            .await?;
    view_of(p)
}

/// Creates or replaces a test record; `value` is JSON text.
#[server]
pub async fn put_record(
    automation: String,
    mode: Mode,
    database: String,
    key: String,
    value: String,
) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    let value: serde_json::Value = serde_json::from_str(&value).map_err(|e| {
        crate::session::to_sfn(engine::Error::Invalid(format!(
            "the value is not JSON: {e}"
        )))
    })?;
    blocking(move |e| {
        e.put_record_as(&user, &automation, mode, &database, &key, value)
            .map(|_| ())
    })
    .await
}

#[server]
pub async fn delete_record(
    automation: String,
    mode: Mode,
    database: String,
    key: String,
) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.delete_record_as(&user, &automation, mode, &database, &key)
            .map(|_| ())
    })
    .await
}

#[server]
pub async fn create_database(
    automation: String,
    mode: Mode,
    name: String,
) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.create_database_as(&user, &automation, mode, &name)
            .map(|_| ())
    })
    .await
}

/// Adds the records of a JSON Lines text (`{"key": ..., "value": ...}` per line); all or nothing.
#[server]
pub async fn import_records(
    automation: String,
    mode: Mode,
    database: String,
    text: String,
) -> Result<u64, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.import_records_as(&user, &automation, mode, &database, &text)).await
}

#[server]
pub async fn export_records(
    automation: String,
    mode: Mode,
    database: String,
) -> Result<String, ServerFnError> {
    require(Role::Viewer)?;
    blocking(move |e| e.export_jsonl(&automation, mode, &database)).await
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SecretItem {
    pub name: String,
    pub set_by: String,
    pub set_at: String,
}

/// Names and who set them; values never leave the server.
#[server]
pub async fn list_secrets(
    automation: String,
    mode: Mode,
) -> Result<Vec<SecretItem>, ServerFnError> {
    require(Role::Viewer)?;
    let items = blocking(move |e| e.list_secrets(&automation, mode)).await?;
    Ok(items
        .into_iter()
        .map(|s| SecretItem {
            name: s.name,
            set_by: s.set_by,
            set_at: s.set_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect())
}

#[server]
pub async fn set_secret(
    automation: String,
    mode: Mode,
    name: String,
    value: String,
) -> Result<Option<String>, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.set_secret_as(&user, &automation, mode, &name, &value)).await
}

#[server]
pub async fn delete_secret(
    automation: String,
    mode: Mode,
    name: String,
) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.delete_secret_as(&user, &automation, mode, &name)
            .map(|_| ())
    })
    .await
}

/// A deployment as the UI shows it (the engine's record; times as RFC 3339).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeploymentView {
    pub number: u64,
    pub revision: u64,
    pub author: String,
    pub created_at: String,
    pub note: String,
    pub secrets: Vec<String>,
    pub databases: Vec<String>,
    pub backups: Vec<String>,
    pub rollback_of: Option<u64>,
}

/// What Live runs: the latest deployment and its document.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LiveView {
    pub deployment: DeploymentView,
    pub document: model::Document,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SecretChoice {
    pub name: String,
    pub in_live: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DatabaseChoice {
    pub name: String,
    pub count: u64,
    pub live_count: Option<u64>,
}

/// Everything the deploy dialog shows (the engine's `DeployPreview`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DeployPreviewView {
    pub document: model::Document,
    pub live: Option<u64>,
    pub changes: model::DocumentDiff,
    pub secrets: Vec<SecretChoice>,
    pub databases: Vec<DatabaseChoice>,
    pub errors: Vec<model::Problem>,
    pub live_secrets: Vec<String>,
    pub live_databases: Vec<String>,
}

#[server]
pub async fn load_live(automation: String) -> Result<Option<LiveView>, ServerFnError> {
    require(Role::Viewer)?;
    let live = blocking(move |e| e.live(&automation)).await?;
    live.map(|l| {
        Ok(LiveView {
            deployment: view_of(&l.deployment)?,
            document: l.document.as_ref().clone(),
        })
    })
    .transpose()
}

#[server]
pub async fn deploy_preview(automation: String) -> Result<DeployPreviewView, ServerFnError> {
    require(Role::Editor)?;
    view_of(blocking(move |e| e.deploy_preview(&automation)).await?)
}

#[server(input = server_fn::codec::Json)]
pub async fn deploy(
    automation: String,
    secrets: Vec<String>,
    databases: Vec<String>,
    note: String,
) -> Result<DeploymentView, ServerFnError> {
    let user = signed_in()?;
    let req = engine::DeployRequest {
        secrets,
        databases,
        note,
    };
    view_of(blocking(move |e| e.deploy_as(&user, &automation, &req)).await?)
}

#[server]
pub async fn list_deployments(automation: String) -> Result<Vec<DeploymentView>, ServerFnError> {
    require(Role::Viewer)?;
    view_of(blocking(move |e| e.list_deployments(&automation)).await?)
}

#[server]
pub async fn rollback(automation: String, number: u64) -> Result<DeploymentView, ServerFnError> {
    let user = signed_in()?;
    view_of(blocking(move |e| e.rollback_as(&user, &automation, number)).await?)
}

#[server]
pub async fn restore_backup(
    automation: String,
    number: u64,
    database: String,
) -> Result<u64, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.restore_database_backup_as(&user, &automation, number, &database)).await
}

/// Starts a live run of the latest deployment (admins); returns the run id.
#[server]
pub async fn start_live_run(automation: String, composer: String) -> Result<String, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.start_composer_run_as(
            &user,
            &automation,
            &composer,
            Mode::Live,
            engine::runs::RunSource::Manual,
            None,
        )
        .map(|h| h.id)
    })
    .await
}

/// Replays a live run in Test; returns the new run's id.
#[server]
pub async fn replay_run(id: String) -> Result<String, ServerFnError> {
    let user = signed_in()?;
    blocking(move |e| e.replay_in_test_as(&user, &id).map(|h| h.id)).await
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditItem {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub automation: Option<String>,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AuditPageView {
    pub items: Vec<AuditItem>,
    pub next_cursor: Option<String>,
}

#[server]
pub async fn list_audit(cursor: Option<String>) -> Result<AuditPageView, ServerFnError> {
    require(Role::Admin)?;
    view_of(blocking(move |e| e.list_audit(50, cursor.as_deref())).await?)
}

/// The egress lists of Settings → Network, one range per line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NetworkView {
    pub deny: String,
    pub allow: String,
}

#[server]
pub async fn get_network() -> Result<NetworkView, ServerFnError> {
    require(Role::Admin)?;
    let n = blocking(|e| e.network_settings()).await?;
    Ok(NetworkView {
        deny: n.deny.join("\n"),
        allow: n.allow.join("\n"),
    })
}

/// Replaces the egress lists (ranges separated by lines, commas or spaces).
#[server]
pub async fn set_network(deny: String, allow: String) -> Result<(), ServerFnError> {
    let user = signed_in()?;
    // The engine splits and parses the lists (each text is one entry of ranges here).
    let settings = engine::egress::NetworkSettings {
        deny: vec![deny],
        allow: vec![allow],
    };
    blocking(move |e| e.set_network_settings(&user, settings).map(|_| ())).await
}
