//! `POST /api/v1/tokens`: API tokens for the current user (admins), shown once.

use super::{JsonBody, blocking};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use engine::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<Engine> {
    Router::new().route("/tokens", post(create))
}

#[derive(Deserialize)]
struct NewToken {
    name: String,
}

async fn create(
    State(engine): State<Engine>,
    auth: Authed,
    JsonBody(body): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Authed(user) = auth;
    let new = blocking(&engine, move |e| e.create_api_token_as(&user, &body.name)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": new.info.id,
            "name": new.info.name,
            "created_at": new.info.created_at,
            "token": new.token,
        })),
    ))
}
