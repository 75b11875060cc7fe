//! `GET/POST /api/v1/users`: accounts, for admins (the Settings page does the same).

use super::{JsonBody, Page, blocking, page};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use engine::{Engine, Role, User};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(list, create))
}

/// List users (admin).
#[utoipa::path(operation_id = "listUsers", get, path = "/users", tag = "accounts", responses(
    (status = 200, body = Page<User>),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
))]
async fn list(State(engine): State<Engine>, auth: Authed) -> ApiResult<Json<Page<User>>> {
    auth.require(Role::Admin)?;
    Ok(page(blocking(&engine, |e| e.list_users()).await?))
}

#[derive(Deserialize, ToSchema)]
struct NewUser {
    username: String,
    /// `viewer`, `editor` or `admin`.
    #[schema(value_type = Role)]
    role: String,
    password: String,
}

/// Add a user (admin).
#[utoipa::path(operation_id = "createUser", post, path = "/users", tag = "accounts", request_body = NewUser, responses(
    (status = 201, body = User),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 409, response = super::docs::Conflict),
    (status = 413, response = super::docs::TooLarge),
    (status = 422, response = super::docs::Invalid),
))]
async fn create(
    State(engine): State<Engine>,
    auth: Authed,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let Authed(me) = auth;
    let user = blocking(&engine, move |e| {
        let role: Role = body.role.parse().map_err(engine::Error::from)?;
        e.create_user_as(&me, &body.username, role, &body.password)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}
