//! Server-side context helpers for the `#[server]` functions: the engine, the signed-in user
//! (resolved once per request by the server's auth middleware), and error mapping.

use crate::error::AppError;
use engine::{Engine, Role, User};
use leptos::prelude::*;

pub const SESSION_COOKIE: &str = "slipway_session";

/// The client address of a request, put into its extensions by the server.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

/// Whether the request came over TLS, put into its extensions by the server (which decides:
/// `X-Forwarded-Proto: https` from a trusted proxy). Cookies are `Secure` then.
#[derive(Clone, Copy, Debug)]
pub struct OverTls(pub bool);

pub fn engine() -> Result<Engine, AppError> {
    use_context::<Engine>().ok_or_else(|| AppError::new("server", "engine missing from context"))
}

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

pub fn optional_user() -> Option<User> {
    parts().and_then(|p| p.extensions.get::<User>().cloned())
}

pub fn client_addr() -> String {
    parts()
        .and_then(|p| p.extensions.get::<ClientAddr>().map(|a| a.0.clone()))
        .unwrap_or_default()
}

/// The signed-in user (401 otherwise), for an engine method that checks the role itself.
pub fn signed_in() -> Result<User, AppError> {
    optional_user().ok_or_else(|| to_sfn(engine::Error::Unauthenticated))
}

/// The signed-in user, who must have at least `role`.
pub fn require(role: Role) -> Result<User, AppError> {
    let user = optional_user().ok_or_else(|| to_sfn(engine::Error::Unauthenticated))?;
    user.require(role).map_err(|f| to_sfn(f.into()))?;
    Ok(user)
}

/// The engine's error as a server function's: its message, and the same HTTP status the REST
/// API answers with (403 for a role that may not, 409 for a conflict, ...), not a 500.
pub fn to_sfn(e: engine::Error) -> AppError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(e.http_status())
    {
        response.set_status(status);
    }
    AppError::from(e)
}

/// Runs blocking redb work off the async threads.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(Engine) -> Result<T, engine::Error> + Send + 'static,
{
    let e = engine()?;
    tokio::task::spawn_blocking(move || f(e))
        .await
        .map_err(|j| AppError::new("server", format!("task failed: {j}")))?
        .map_err(to_sfn)
}

/// The session cookie carrying `token` for `max_age_secs` (0 removes it). Secure behind TLS.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> cookie::Cookie<'static> {
    cookie::Cookie::build((SESSION_COOKIE, token.to_string()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .secure(secure)
        .build()
}

/// Signs this response in: the cookie lasts as long as the engine keeps the session.
pub fn set_session_cookie(token: &str) {
    set_cookie(session_cookie(
        token,
        engine::SESSION_LIFETIME_SECS,
        request_is_tls(),
    ));
}

/// Signs this response out.
pub fn clear_session_cookie() {
    set_cookie(session_cookie("", 0, request_is_tls()));
}

fn set_cookie(value: cookie::Cookie<'static>) {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(v) = http::HeaderValue::from_str(&value.to_string())
    {
        resp.append_header(http::header::SET_COOKIE, v);
    }
}

pub fn request_is_tls() -> bool {
    parts().is_some_and(|p| p.extensions.get::<OverTls>().is_some_and(|t| t.0))
}

/// The session token of this request, if any.
pub fn request_session_token() -> Option<String> {
    let p = parts()?;
    let cookies = p.headers.get(http::header::COOKIE)?.to_str().ok()?;
    cookie_value(cookies, SESSION_COOKIE)
}

/// The value of the cookie `name` in a `Cookie` header.
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    cookie::Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}
