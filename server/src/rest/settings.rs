//! Instance settings over REST (admins): the egress rules of `http` steps (PRODUCT.md §15).

use super::{JsonBody, blocking};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::State;
use engine::egress::NetworkSettings;
use engine::{Engine, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(get_network, put_network))
}

/// The egress rules admins set for http steps, beside the defaults and
/// SLIPWAY_HTTP_DENY/ALLOW (admin).
#[utoipa::path(operation_id = "getNetworkSettings", get, path = "/settings/network", tag = "settings", responses(
    (status = 200, body = NetworkSettings),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
))]
async fn get_network(
    State(engine): State<Engine>,
    auth: Authed,
) -> ApiResult<Json<NetworkSettings>> {
    auth.require(Role::Admin)?;
    Ok(Json(blocking(&engine, |e| e.network_settings()).await?))
}

/// Replace the egress rules: CIDR ranges or addresses to deny, and to allow whatever denies
/// them (admin).
#[utoipa::path(operation_id = "putNetworkSettings", put, path = "/settings/network", tag = "settings", request_body = NetworkSettings, responses(
    (status = 200, body = NetworkSettings),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 422, response = super::docs::Invalid),
))]
async fn put_network(
    State(engine): State<Engine>,
    auth: Authed,
    JsonBody(body): JsonBody<NetworkSettings>,
) -> ApiResult<Json<NetworkSettings>> {
    let Authed(user) = auth;
    Ok(Json(
        blocking(&engine, move |e| e.set_network_settings(&user, body)).await?,
    ))
}
