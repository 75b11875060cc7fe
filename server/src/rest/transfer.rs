//! Export and import over REST (PRODUCT.md §15): an automation as a canonical JSON file for git,
//! and a file made into an automation (or into the draft of one). The rules are the engine's
//! and the file format is `model::transfer`.

use super::blocking;
use super::params::AutomationPath;
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::Engine;
use model::transfer::{Imported, MAX_IMPORT_BYTES};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(export))
        // An import may carry test databases: its own limit, above the API's 10 MiB.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import))
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// Include the records of the Test databases (`false` unless given).
    #[serde(default)]
    test_databases: bool,
}

/// The automation's draft as a canonical export file: keys sorted, 2-space indent, secrets by
/// name only (viewer).
#[utoipa::path(operation_id = "exportAutomation", get, path = "/automations/{a}/export", tag = "automations", params(AutomationPath, ExportQuery), responses(
    (status = 200, description = "The export file, offered as a download named `<slug>.slipway.json`.", content_type = "application/json", body = Object),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn export(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
    Query(q): Query<ExportQuery>,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let slug = a.clone();
    let text = blocking(&engine, move |e| e.export_as(&user, &a, q.test_databases)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{slug}.slipway.json\""),
            ),
        ],
        text,
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportQuery {
    /// The slug to import as; the file's own unless given (a bare document needs it).
    #[serde(rename = "as")]
    #[param(rename = "as")]
    as_slug: Option<String>,
}

/// Import an export file (or a bare document with `as`): a new automation, or over an existing
/// one a `backup` revision of its draft and the file's document as the draft. Live is not
/// touched. A bad file changes nothing (editor).
#[utoipa::path(operation_id = "importAutomation", post, path = "/automations/import", tag = "automations", params(ImportQuery),
    request_body(content = Object, description = "The file: an export (`slipway_export`) or a document (`format`), at most 32 MiB."),
    responses(
    (status = 200, description = "Imported into an existing automation.", body = Imported),
    (status = 201, description = "A new automation.", body = Imported),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 413, description = "`too_large`: the file is over 32 MiB.", body = crate::error::ErrorBody),
    (status = 422, response = super::docs::Invalid),
))]
async fn import(
    State(engine): State<Engine>,
    auth: Authed,
    Query(q): Query<ImportQuery>,
    req: Request,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let bytes = super::body_within(req, &(), MAX_IMPORT_BYTES).await?;
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
        ApiError::from(engine::Error::Invalid(
            "the file is not text (UTF-8)".into(),
        ))
    })?;
    let done = blocking(&engine, move |e| {
        e.import_as(&user, &text, q.as_slug.as_deref())
    })
    .await?;
    let status = if done.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(done)).into_response())
}
