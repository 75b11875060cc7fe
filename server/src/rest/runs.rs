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
    let user = auth.require(Role::Viewer)?;
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
    let user = auth.require(Role::Viewer)?;
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
            loop {
                let run = match rx.recv().await {
                    Ok(run) if run.id == id => run.as_ref().clone(),
                    Ok(_) => continue,
                    // The channel is bounded: a client that fell behind missed changes, perhaps
                    // the last. It gets the run as stored now instead, so it never misses its end.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        let (reader, wanted) = (engine.clone(), id.clone());
                        match tokio::task::spawn_blocking(move || reader.get_run(&wanted)).await {
                            Ok(Ok(run)) => run,
                            _ => continue,
                        }
                    }
                    Err(_) => return None,
                };
                let finished = run.status.is_finished();
                let ev = Event::default().json_data(&run).unwrap_or_default();
                return Some((Ok(ev), (None, rx, finished, id, engine)));
            }
        },
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}
