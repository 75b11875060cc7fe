//! `POST /api/v1/tokens`: API tokens for the current user (admins), shown once.

use super::{JsonBody, blocking};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use engine::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(create))
}

#[derive(Deserialize, ToSchema)]
struct NewToken {
    name: String,
}

/// A new API token: `token` is shown this once and never stored.
#[derive(Serialize, ToSchema)]
struct CreatedToken {
    id: String,
    name: String,
    created_at: DateTime<Utc>,
    /// Send as `Authorization: Bearer <token>`.
    token: String,
}

/// Create an API token for the current user; the token is shown once (admin).
#[utoipa::path(operation_id = "createApiToken", post, path = "/tokens", tag = "accounts", request_body = NewToken, responses(
    (status = 201, body = CreatedToken),
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
    JsonBody(body): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let Authed(user) = auth;
    let new = blocking(&engine, move |e| e.create_api_token_as(&user, &body.name)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: new.info.id,
            name: new.info.name,
            created_at: new.info.created_at,
            token: new.token,
        }),
    ))
}
