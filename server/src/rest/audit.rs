//! The audit log over REST (admins): newest first, paged by cursor.

use super::blocking;
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use engine::{Engine, Role};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<Engine> {
    Router::new().route("/audit", get(list))
}

#[derive(Deserialize)]
struct PageQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin)?;
    let p = blocking(&engine, move |e| {
        e.list_audit(q.limit.unwrap_or(100), q.cursor.as_deref())
    })
    .await?;
    Ok(Json(json!(p)))
}
