//! Runs over REST: start one (`wait` for the finished record), read one, list a page, and
//! follow one as Server-Sent Events (the canvas shows step states from these).

use super::params::{AutomationPath, ComposerPath, RunPath};
use super::{JsonBody, RunAccepted, blocking};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use engine::runs::{Run, RunFilter, RunPage, RunSource, RunStatus};
use engine::{Engine, Role};
use model::Mode;
use serde::Deserialize;
use serde_json::Value;
use std::convert::Infallible;
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// How long `wait: true` waits before answering with the run as it is.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(list))
        .routes(routes!(one))
        .routes(routes!(replay))
        .routes(routes!(events))
}

#[derive(Deserialize, ToSchema)]
struct StartRun {
    /// `test` (the draft) unless `live` (the latest deployment).
    #[serde(default = "test_mode")]
    mode: Mode,
    /// The trigger input; the trigger's sample when absent.
    input: Option<Value>,
    /// Answer with the finished run (up to 60 s) instead of 202 once it is queued.
    #[serde(default)]
    wait: bool,
}

fn test_mode() -> Mode {
    Mode::Test
}

/// Start a run of a composer (editor; admin for live).
#[utoipa::path(operation_id = "startRun", post, path = "/automations/{a}/composers/{c}/runs", tag = "runs", params(ComposerPath),
    request_body = StartRun, responses(
    (status = 200, description = "`wait: true`: the run when it finished, or as it is after 60 s.", body = Run),
    (status = 202, description = "Queued.", body = RunAccepted),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 413, response = super::docs::TooLarge),
    (status = 422, response = super::docs::Invalid),
    (status = 503, response = super::docs::Overloaded),
))]
async fn start(
    State(engine): State<Engine>,
    auth: Authed,
    Path(ComposerPath { a, c }): Path<ComposerPath>,
    JsonBody(body): JsonBody<StartRun>,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let source = RunSource::Api;
    let handle = blocking(&engine, move |e| {
        e.start_composer_run_as(&user, &a, &c, body.mode, source, body.input)
    })
    .await?;
    if !body.wait {
        let accepted = RunAccepted { run_id: handle.id };
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    }
    let id = handle.id.clone();
    if let Ok(Ok(Err(e))) = tokio::time::timeout(WAIT_LIMIT, handle.finished).await {
        // The finished run was not stored: not a success, whatever it did.
        return Err(e.into());
    }
    let run = blocking(&engine, move |e| e.get_run(&id)).await?;
    Ok(Json(run).into_response())
}

/// Replay a live run's trigger input in Test against the current draft (editor); answers with
/// the new run as queued.
#[utoipa::path(operation_id = "replayRun", post, path = "/runs/{id}/replay", tag = "runs", params(RunPath), responses(
    (status = 201, body = Run),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 422, response = super::docs::Invalid),
))]
async fn replay(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RunPath { id }): Path<RunPath>,
) -> ApiResult<(StatusCode, Json<Run>)> {
    let Authed(user) = auth;
    let run = blocking(&engine, move |e| {
        let h = e.replay_in_test_as(&user, &id)?;
        e.get_run(&h.id)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// One run with its steps (viewer).
#[utoipa::path(operation_id = "getRun", get, path = "/runs/{id}", tag = "runs", params(RunPath), responses(
    (status = 200, body = Run),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RunPath { id }): Path<RunPath>,
) -> ApiResult<Json<Run>> {
    auth.require(Role::Viewer)?;
    Ok(Json(blocking(&engine, move |e| e.get_run(&id)).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `test` unless given.
    mode: Option<Mode>,
    /// Only this composer's runs.
    composer: Option<String>,
    /// Only runs with this status.
    #[param(value_type = Option<RunStatus>)]
    status: Option<String>,
    /// At most this many (50 unless given).
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of runs, newest first (viewer).
#[utoipa::path(operation_id = "listRuns", get, path = "/automations/{a}/runs", tag = "runs", params(AutomationPath, ListQuery), responses(
    (status = 200, body = RunPage),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<RunPage>> {
    auth.require(Role::Viewer)?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            RunStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("unknown status `{s}`")))?,
        ),
    };
    let filter = RunFilter {
        composer: q.composer.filter(|c| !c.is_empty()),
        status,
        limit: q.limit.unwrap_or(50),
        cursor: q.cursor,
    };
    let mode = q.mode.unwrap_or(Mode::Test);
    let page = blocking(&engine, move |e| {
        e.get_automation(&a)?;
        e.list_runs(&a, mode, &filter)
    })
    .await?;
    Ok(Json(page))
}

/// The next change of run `id` the channel carries. The channel is bounded: a receiver that fell
/// behind missed changes, perhaps the last, and gets the run as `stored` now instead, so a client
/// never misses the end of its run. `None` when the channel is closed (the server stops).
async fn next_change<Fut>(
    rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<engine::runs::Run>>,
    id: &str,
    stored: impl Fn() -> Fut,
) -> Option<engine::runs::Run>
where
    Fut: std::future::Future<Output = Option<engine::runs::Run>>,
{
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(run) if run.id == id => return Some(run.as_ref().clone()),
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => {
                if let Some(run) = stored().await {
                    return Some(run);
                }
            }
            Err(RecvError::Closed) => return None,
        }
    }
}

/// Follow a run as Server-Sent Events: the run now, then every change, until it finishes
/// (viewer).
#[utoipa::path(operation_id = "followRun", get, path = "/runs/{id}/events", tag = "runs", params(RunPath), responses(
    (status = 200, description = "`text/event-stream`; each event's data is the run as JSON.", content_type = "text/event-stream", body = Run),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn events(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RunPath { id }): Path<RunPath>,
) -> ApiResult<Response> {
    auth.require(Role::Viewer)?;
    // Subscribe before reading, so no change between the two is missed.
    let rx = engine.subscribe_runs();
    let first = {
        let id = id.clone();
        blocking(&engine, move |e| e.get_run(&id)).await?
    };
    let done = first.status.is_finished();
    let first = Event::default().json_data(&first).unwrap_or_default();
    let stream = futures_util::stream::unfold(
        (Some(first), rx, done, id, engine),
        |(pending, mut rx, done, id, engine)| async move {
            if let Some(ev) = pending {
                return Some((Ok::<_, Infallible>(ev), (None, rx, done, id, engine)));
            }
            if done {
                return None;
            }
            let reread = || {
                let (reader, wanted) = (engine.clone(), id.clone());
                async move {
                    tokio::task::spawn_blocking(move || reader.get_run(&wanted).ok())
                        .await
                        .ok()
                        .flatten()
                }
            };
            let run = next_change(&mut rx, &id, reread).await?;
            let finished = run.status.is_finished();
            let ev = Event::default().json_data(&run).unwrap_or_default();
            Some((Ok(ev), (None, rx, finished, id, engine)))
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn run(id: &str, status: &str) -> engine::runs::Run {
        serde_json::from_value(json!({
            "id": id, "automation": "shop", "composer": "order", "mode": "test",
            "source": "manual", "revision": null, "deployment": null, "status": status,
            "queued_at": "2026-12-07T00:00:00Z", "started_at": null, "finished_at": null,
            "input": {}, "steps": [], "error": null, "last_finished_step": null
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_subscriber_that_fell_behind_gets_the_stored_run_and_so_its_end() {
        let (tx, mut rx) = tokio::sync::broadcast::channel(2);
        // More changes than the channel holds, the last one (succeeded) among those dropped.
        for status in ["running", "running", "running", "succeeded"] {
            tx.send(Arc::new(run("r1", status))).unwrap();
        }
        let rereads = std::sync::atomic::AtomicUsize::new(0);
        let stored = || {
            rereads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { Some(run("r1", "succeeded")) }
        };
        let next = next_change(&mut rx, "r1", stored).await.unwrap();
        assert_eq!(next.status, RunStatus::Succeeded);
        assert_eq!(rereads.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_subscriber_keeping_up_gets_its_run_changes_only() {
        let (tx, mut rx) = tokio::sync::broadcast::channel(16);
        tx.send(Arc::new(run("other", "running"))).unwrap();
        tx.send(Arc::new(run("r1", "running"))).unwrap();
        let stored = || async { panic!("no re-read while the subscriber keeps up") };
        let next = next_change(&mut rx, "r1", stored).await.unwrap();
        assert_eq!(next.id, "r1");
        assert_eq!(next.status, RunStatus::Running);
        drop(tx);
        assert!(
            next_change(&mut rx, "r1", || async { None })
                .await
                .is_none()
        );
    }
}
