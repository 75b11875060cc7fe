//! `POST/DELETE /api/v1/session`: log in and out with a session cookie.

use super::{JsonBody, blocking};
use crate::error::ApiResult;
use app::session::{SESSION_COOKIE, cookie_value, session_cookie};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use engine::Engine;
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<Engine> {
    Router::new().route("/session", post(login).delete(logout))
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

async fn login(
    State(engine): State<Engine>,
    Extension(addr): Extension<app::session::ClientAddr>,
    JsonBody(c): JsonBody<Credentials>,
) -> ApiResult<Response> {
    let user = blocking(&engine, move |e| {
        let user = e.verify_login(&c.username, &c.password, &addr.0)?;
        let token = e.create_session(&user.username)?;
        Ok((user, token))
    })
    .await?;
    let (user, token) = user;
    let cookie = session_cookie(&token, engine::SESSION_LIFETIME_SECS, false).to_string();
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({"username": user.username, "role": user.role})),
    )
        .into_response())
}

async fn logout(State(engine): State<Engine>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| cookie_value(c, SESSION_COOKIE))
    {
        blocking(&engine, move |e| e.delete_session(&token)).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie("", 0, false).to_string())],
    )
        .into_response())
}
