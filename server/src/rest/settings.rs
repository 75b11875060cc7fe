//! Instance settings over REST (admins): the egress rules of `http` steps (PRODUCT.md §15).

use super::{JsonBody, blocking};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use engine::egress::NetworkSettings;
use engine::{Engine, Role};

pub fn routes() -> Router<Engine> {
    Router::new().route("/settings/network", get(get_network).put(put_network))
}

async fn get_network(
    State(engine): State<Engine>,
    auth: Authed,
) -> ApiResult<Json<NetworkSettings>> {
    auth.require(Role::Admin)?;
    Ok(Json(blocking(&engine, |e| e.network_settings()).await?))
}

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
