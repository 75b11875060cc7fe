use crate::Mode;
use crate::error::AppError;
use leptos::prelude::*;
use model::wire::{Run, RunPage, RunStatus};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::{Role, RunSource};

/// Starts a test run of the draft with the trigger's sample; returns the run id.
#[server]
pub async fn start_test_run(automation: String, composer: String) -> Result<String, AppError> {
    start_run(automation, composer, Mode::Test).await
}

/// Starts a live run of the latest deployment (admins); returns the run id.
#[server]
pub async fn start_live_run(automation: String, composer: String) -> Result<String, AppError> {
    start_run(automation, composer, Mode::Live).await
}

#[cfg(feature = "ssr")]
async fn start_run(automation: String, composer: String, mode: Mode) -> Result<String, AppError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.start_composer_run_as(&user, &automation, &composer, mode, RunSource::Manual, None)
            .map(|h| h.id)
    })
    .await
}

/// Replays a live run in Test; returns the new run's id.
#[server]
pub async fn replay_run(id: String) -> Result<String, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.replay_in_test_as(&user, &id).map(|h| h.id)).await
}

#[server]
pub async fn get_run(id: String) -> Result<Run, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.get_run(&id)).await
}

#[server]
pub async fn list_runs(
    automation: String,
    mode: Mode,
    composer: Option<String>,
    status: Option<RunStatus>,
    cursor: Option<String>,
) -> Result<RunPage, AppError> {
    require(Role::Viewer)?;
    let filter = engine::runs::RunFilter {
        composer: composer.filter(|c| !c.is_empty()),
        status,
        limit: 50,
        cursor: cursor.filter(|c| !c.is_empty()),
    };
    blocking(move |e| e.list_runs(&automation, mode, &filter)).await
}
