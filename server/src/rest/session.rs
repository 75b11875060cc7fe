//! `POST/DELETE /api/v1/session`: log in and out with a session cookie.

use super::{JsonBody, blocking};
use crate::error::ApiResult;
use app::session::{SESSION_COOKIE, cookie_value, session_cookie};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use engine::{Engine, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(login, logout))
}

#[derive(Deserialize, ToSchema)]
struct Credentials {
    username: String,
    password: String,
}

/// Who is signed in.
#[derive(Serialize, ToSchema)]
struct SignedIn {
    username: String,
    role: Role,
}

/// Log in; sets the `slipway_session` cookie (anyone).
#[utoipa::path(operation_id = "login", post, path = "/session", tag = "session", security(()), request_body = Credentials, responses(
    (status = 200, description = "Signed in.", body = SignedIn, headers(("Set-Cookie" = String, description = "`slipway_session=…; HttpOnly; SameSite`"))),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 413, response = super::docs::TooLarge),
    (status = 429, response = super::docs::RateLimited),
))]
async fn login(
    State(engine): State<Engine>,
    Extension(addr): Extension<app::session::ClientAddr>,
    Extension(tls): Extension<app::session::OverTls>,
    JsonBody(c): JsonBody<Credentials>,
) -> ApiResult<Response> {
    let user = blocking(&engine, move |e| {
        let user = e.verify_login(&c.username, &c.password, &addr.0)?;
        let token = e.create_session(&user.username)?;
        Ok((user, token))
    })
    .await?;
    let (user, token) = user;
    let cookie = session_cookie(&token, engine::SESSION_LIFETIME_SECS, tls.0).to_string();
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SignedIn {
            username: user.username,
            role: user.role,
        }),
    )
        .into_response())
}

/// Log out; ends the session and clears the cookie (anyone).
#[utoipa::path(operation_id = "logout", delete, path = "/session", tag = "session", security(()), responses(
    (status = 204, description = "Signed out (also when no session was open)."),
    (status = 403, response = super::docs::Forbidden),
))]
async fn logout(
    State(engine): State<Engine>,
    Extension(tls): Extension<app::session::OverTls>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| cookie_value(c, SESSION_COOKIE))
    {
        blocking(&engine, move |e| e.delete_session(&token)).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie("", 0, tls.0).to_string())],
    )
        .into_response())
}
