use crate::Mode;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::Role;

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
    pub me: model::wire::User,
    pub automations: Vec<AutomationItem>,
    pub automation: AutomationItem,
    pub composers: Vec<ComposerItem>,
    /// Live only: whether anything has been deployed yet.
    pub deployed: bool,
}

#[cfg(feature = "ssr")]
fn item_of(a: engine::Automation) -> AutomationItem {
    AutomationItem {
        slug: a.slug,
        name: a.name,
    }
}

#[server]
pub async fn list_automations() -> Result<Vec<AutomationItem>, AppError> {
    require(Role::Viewer)?;
    let all = blocking(|e| e.list_automations()).await?;
    Ok(all.into_iter().map(item_of).collect())
}

#[server]
pub async fn frame_data(automation: String, mode: Mode) -> Result<Frame, AppError> {
    let user = require(Role::Viewer)?;
    blocking(move |e| {
        let a = e.get_automation(&automation)?;
        let automations = e.list_automations()?.into_iter().map(item_of).collect();
        // Live shows the latest deployment.
        let (composers, deployed) = match mode {
            Mode::Test => (e.get_draft(&automation)?.document.composers, true),
            Mode::Live => match e.live(&automation)? {
                Some(l) => (l.document.composers.clone(), true),
                None => (vec![], false),
            },
        };
        Ok(Frame {
            me: user,
            automations,
            automation: item_of(a),
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
pub async fn create_automation(name: String) -> Result<(), AppError> {
    let user = signed_in()?;
    let slug =
        blocking(move |e| e.create_automation_named_as(&user, &name).map(|a| a.slug)).await?;
    leptos_axum::redirect(&format!("/a/{slug}/test"));
    Ok(())
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
pub async fn load_draft(automation: String) -> Result<DraftView, AppError> {
    require(Role::Viewer)?;
    let d = blocking(move |e| e.get_draft(&automation)).await?;
    Ok(DraftView {
        version: d.version,
        problems: d.document.validate(),
        document: d.document,
    })
}

/// A saved draft: its new version and what validation says of it. A stale save is an error
/// with the code `conflict` (HTTP 409), whose message names the revision that kept its content.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Saved {
    pub version: u64,
    pub problems: Vec<model::Problem>,
}

#[server(input = server_fn::codec::Json)]
pub async fn save_draft(
    automation: String,
    version: u64,
    document: model::Document,
) -> Result<Saved, AppError> {
    let user = signed_in()?;
    let out = blocking(move |e| e.save_draft_as(&user, &automation, version, document)).await?;
    Ok(Saved {
        version: out.version,
        problems: out.problems,
    })
}

/// The next three times a schedule fires, formatted in its own time zone.
#[server]
pub async fn next_fire_times(
    cron: String,
    timezone: Option<String>,
) -> Result<Vec<String>, AppError> {
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
