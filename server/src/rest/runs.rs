//! Runs over REST: start one (`wait` for the finished record), read one, list a page, and
//! follow one as Server-Sent Events (the canvas shows step states from these).

use super::{JsonBody, blocking};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::runs::{RunFilter, RunSource, RunStatus};
use engine::{Engine, Role};
use model::Mode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use std::time::Duration;

/// How long `wait: true` waits before answering with the run as it is.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/automations/{a}/composers/{c}/runs", post(start))
        .route("/automations/{a}/runs", get(list))
        .route("/runs/{id}", get(one))
        .route("/runs/{id}/replay", post(replay))
        .route("/runs/{id}/events", get(events))
}

#[derive(Deserialize)]
struct StartRun {
    #[serde(default = "test_mode")]
    mode: Mode,
    input: Option<Value>,
    #[serde(default)]
    wait: bool,
}

fn test_mode() -> Mode {
    Mode::Test
}

async fn start(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, c)): Path<(String, String)>,
    JsonBody(body): JsonBody<StartRun>,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let source = RunSource::Api;
    let handle = blocking(&engine, move |e| {
        e.start_composer_run_as(&user, &a, &c, body.mode, source, body.input)
    })
    .await?;
    if !body.wait {
        return Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": handle.id }))).into_response());
    }
    let id = handle.id.clone();
    if let Ok(Ok(Err(e))) = tokio::time::timeout(WAIT_LIMIT, handle.finished).await {
        // The finished run was not stored: not a success, whatever it did.
        return Err(e.into());
    }
    let run = blocking(&engine, move |e| e.get_run(&id)).await?;
    Ok(Json(json!(run)).into_response())
}

/// Replays a live run in Test; answers with the new run as queued.
async fn replay(
    State(engine): State<Engine>,
    auth: Authed,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Authed(user) = auth;
    let run = blocking(&engine, move |e| {
        let h = e.replay_in_test_as(&user, &id)?;
        e.get_run(&h.id)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!(run))))
}

async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let run = blocking(&engine, move |e| e.get_run(&id)).await?;
    Ok(Json(json!(run)))
}

#[derive(Deserialize)]
struct ListQuery {
    mode: Option<Mode>,
    composer: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            serde_json::from_value::<RunStatus>(json!(s))
                .map_err(|_| ApiError::bad_request(format!("unknown status `{s}`")))?,
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
    Ok(Json(json!(page)))
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

/// The run now, then every change, until it finishes.
async fn events(
    State(engine): State<Engine>,
    auth: Authed,
    Path(id): Path<String>,
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
