//! The audit log over REST (admins): newest first, paged by cursor.

use super::blocking;
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Query, State};
use engine::{AuditPage, Engine, Role};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageQuery {
    /// At most this many (100 unless given).
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The audit log, newest first (admin).
#[utoipa::path(operation_id = "listAudit", get, path = "/audit", tag = "settings", params(PageQuery), responses(
    (status = 200, body = AuditPage),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
))]
async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<AuditPage>> {
    auth.require(Role::Admin)?;
    let p = blocking(&engine, move |e| {
        e.list_audit(q.limit.unwrap_or(100), q.cursor.as_deref())
    })
    .await?;
    Ok(Json(p))
}
