//! `GET/POST /api/v1/users`: accounts, for admins (the Settings page does the same).

use super::{JsonBody, blocking, page};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use engine::{Engine, Role};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<Engine> {
    Router::new().route("/users", get(list).post(create))
}

async fn list(State(engine): State<Engine>, auth: Authed) -> ApiResult<Json<Value>> {
    auth.require(Role::Admin)?;
    let users = blocking(&engine, |e| e.list_users()).await?;
    Ok(Json(page(users)))
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
    role: String,
    password: String,
}

async fn create(
    State(engine): State<Engine>,
    auth: Authed,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Authed(me) = auth;
    let user = blocking(&engine, move |e| {
        let role: Role = body.role.parse().map_err(engine::Error::from)?;
        e.create_user_as(&me, &body.username, role, &body.password)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!(user))))
}
