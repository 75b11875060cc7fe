//! What the OpenAPI document says beyond the handlers: its title and description, how callers
//! authenticate, the error responses every operation shares, and the webhooks (served at the
//! root, outside `/api/v1`).

use crate::error::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::{Modify, OpenApi, ToResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Slipway",
        version = "1",
        description = "Slipway REST API v1 (PRODUCT.md §11). JSON in and out; errors are \
            `{\"error\": {\"code\", \"message\"}}`. Authenticate with the `slipway_session` cookie \
            (from `POST /session`) or `Authorization: Bearer <API token>`. State-changing requests \
            that a browser marks as cross-site (`Sec-Fetch-Site`, `Origin`) are refused with 403 \
            `cross_origin`. Bodies over 10 MiB get 413. Roles: viewer < editor < admin."
    ),
    servers((url = "/api/v1")),
    security(("session" = []), ("bearer" = [])),
    modifiers(&Authentication, &WebhooksAtTheRoot),
    paths(crate::hooks::test_hook, crate::hooks::live_hook),
    components(responses(
        BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, TooLarge, Invalid, RateLimited,
        Overloaded
    )),
    tags(
        (name = "session", description = "Logging in and out."),
        (name = "accounts", description = "Users and API tokens (admins)."),
        (name = "automations", description = "Automations, drafts and revisions."),
        (name = "deployments", description = "Deploying to Live, rollback, the live document."),
        (name = "runs", description = "Starting, reading and following runs."),
        (name = "secrets", description = "Secrets per mode; values are write-only."),
        (name = "databases", description = "Databases and records per mode; Live is read-only."),
        (name = "settings", description = "Instance settings and the audit log (admins)."),
        (name = "webhooks", description = "Webhooks, served at the root, not under /api/v1."),
        (name = "meta", description = "This document."),
    )
)]
pub struct ApiDoc;

struct Authentication;

impl Modify for Authentication {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                app::session::SESSION_COOKIE,
                "Set by `POST /session`.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `POST /tokens`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "webhookSecret",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Webhooks only: the value of the trigger's `auth_secret` in the run's mode.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Webhook paths name their own server (they are not under `/api/v1`), and their operations an
/// id each.
struct WebhooksAtTheRoot;

impl Modify for WebhooksAtTheRoot {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path.starts_with("/hooks/") {
                let mut root = Server::new("/");
                root.description =
                    Some("Webhooks are served at the root, not under /api/v1.".into());
                item.servers = Some(vec![root]);
                // One handler serves every method: give each operation its own id.
                for (method, op) in [
                    ("Get", &mut item.get),
                    ("Post", &mut item.post),
                    ("Put", &mut item.put),
                    ("Patch", &mut item.patch),
                    ("Delete", &mut item.delete),
                ] {
                    if let Some(op) = op {
                        let base = op.operation_id.take().unwrap_or_default();
                        op.operation_id = Some(format!("{base}{method}"));
                    }
                }
            }
        }
    }
}

/// Once every route's paths are in: a success answer without words of its own is described by
/// its status ("Created"). (The derive's modifiers run before the routers add their paths.)
pub fn finish(mut openapi: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in openapi.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            for (status, response) in op.responses.responses.iter_mut() {
                if let utoipa::openapi::RefOr::T(r) = response
                    && r.description.is_empty()
                {
                    r.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Done")
                        .to_string();
                }
            }
        }
    }
    openapi
}

/// `bad_request`: malformed JSON, a bad parameter or header.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct BadRequest(ErrorBody);

/// `unauthenticated`: no valid session cookie or API token.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Unauthenticated(ErrorBody);

/// `forbidden`: the caller's role is too low; `cross_origin`: a state-changing request from
/// another site; `live_read_only`: Live changes only by deploying.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Forbidden(ErrorBody);

/// `not_found`: no such automation, composer, run, revision, deployment, database, record or
/// secret.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct NotFound(ErrorBody);

/// `conflict` (a stale draft version) or `already_exists`.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Conflict(ErrorBody);

/// `too_large`: the body is over 10 MiB.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct TooLarge(ErrorBody);

/// `invalid`: well-formed but not acceptable (validation errors, unknown names, limits).
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct Invalid(ErrorBody);

/// `rate_limited`: too many login attempts; try again later.
#[derive(ToResponse)]
#[allow(dead_code)]
pub struct RateLimited(ErrorBody);

/// `overloaded`: `SLIPWAY_MAX_QUEUED` runs already wait to run; nothing was stored. Try again
/// after `Retry-After` seconds.
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u64, description = "Seconds to wait before trying again.")))]
#[allow(dead_code)]
pub struct Overloaded(ErrorBody);
