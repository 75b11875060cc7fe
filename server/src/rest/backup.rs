//! `POST /api/v1/backup` (admins): a consistent snapshot of the whole data file, streamed while
//! the server goes on taking webhooks and saves (PRODUCT.md §15).

use super::blocking;
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::Engine;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(backup))
}

/// A backup of the whole data file (admin): a redb file `slipway restore` puts back. It holds
/// everything but sign-in sessions, and not the master key: keep that separately.
#[utoipa::path(post, path = "/backup", operation_id = "backup", tag = "settings", responses(
    (status = 200, description = "The backup file.", content_type = "application/octet-stream", body = Vec<u8>,
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"slipway-<time>.redb\"`"))),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 503, description = "`unavailable`: the data is in memory; there is no file to back up.", body = crate::error::ErrorBody),
))]
async fn backup(State(engine): State<Engine>, auth: Authed) -> ApiResult<Response> {
    let Authed(user) = auth;
    let at = engine.now();
    let (file, len) = blocking(&engine, move |e| {
        let folder = e
            .data_file()
            .and_then(|f| f.parent())
            .ok_or_else(|| engine::Error::Unavailable("the data is not in a file".into()))?
            .to_path_buf();
        let path = folder.join(format!(".backup-{}.redb", uuid::Uuid::now_v7()));
        let written = e.backup_as(&user, &path);
        // Opened, then unlinked: the stream reads a file no one else sees, and a stopped
        // stream leaves nothing behind.
        let opened = written.and_then(|_| {
            std::fs::File::open(&path).map_err(|io| engine::Error::Storage(io.to_string()))
        });
        let _ = std::fs::remove_file(&path);
        let file = opened?;
        let len = file
            .metadata()
            .map_err(|io| engine::Error::Storage(io.to_string()))?
            .len();
        Ok((file, len))
    })
    .await?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!("slipway-{}.redb", at.format("%Y%m%dT%H%M%SZ"));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
