//! Who is calling, and whether they may: the middleware that resolves the user of a request
//! (API token or session cookie) once, the `Origin` check on state-changing requests, and the
//! extractor REST handlers use.

use crate::error::ApiError;
use app::session::{ClientAddr, OverTls, SESSION_COOKIE, cookie_value};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use engine::{Engine, Role, User};
use std::net::SocketAddr;

/// The proxies whose `X-Forwarded-Proto` is believed (`SLIPWAY_TRUSTED_PROXIES`, addresses or
/// CIDR ranges; loopback unless set): a TLS-terminating proxy on the same machine, typically.
static TRUSTED_PROXIES: std::sync::OnceLock<Vec<ipnet::IpNet>> = std::sync::OnceLock::new();

/// Reads `SLIPWAY_TRUSTED_PROXIES` once, at start.
pub fn set_trusted_proxies(text: Option<&str>) -> Result<(), String> {
    let text = text.unwrap_or("127.0.0.0/8, ::1");
    let nets =
        engine::egress::parse_nets(text).map_err(|e| format!("SLIPWAY_TRUSTED_PROXIES: {e}"))?;
    let _ = TRUSTED_PROXIES.set(nets);
    Ok(())
}

/// Over TLS: said by a trusted proxy (`X-Forwarded-Proto: https`); the server itself speaks
/// plain HTTP.
fn over_tls(peer: std::net::IpAddr, headers: &axum::http::HeaderMap) -> bool {
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    https
        && TRUSTED_PROXIES
            .get()
            .is_some_and(|nets| nets.iter().any(|n| n.contains(&peer)))
}

pub async fn resolve_user(
    State(engine): State<Engine>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let tls = OverTls(over_tls(peer.ip(), req.headers()));
    req.extensions_mut().insert(tls);
    req.extensions_mut()
        .insert(ClientAddr(peer.ip().to_string()));
    // Webhooks authenticate with their own secret, never as a user.
    if req.uri().path().starts_with("/hooks/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let cookie = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| cookie_value(c, SESSION_COOKIE))
        .filter(|t| !t.is_empty());
    if bearer.is_some() || cookie.is_some() {
        let found = tokio::task::spawn_blocking(move || match (bearer, cookie) {
            (Some(token), _) => engine.token_user(&token),
            (None, Some(session)) => engine.session_user(&session),
            (None, None) => Ok(None),
        })
        .await;
        match found {
            Ok(Ok(Some(user))) => {
                req.extensions_mut().insert(user);
            }
            Ok(Err(e)) => return ApiError::from(e).into_response(),
            _ => {}
        }
    }
    next.run(req).await
}

/// Refuses state-changing requests that a browser says come from another site. Clients that
/// send neither `Sec-Fetch-Site` nor `Origin` (scripts, curl) are allowed: they carry no
/// ambient browser credentials to abuse. Webhooks are exempt: they are meant to be called
/// from elsewhere and carry their own secret.
/// Headers every answer carries: no framing by another site (the Deploy button must not be
/// clickable through someone else's page), no MIME sniffing, no full URLs in `Referer`. Pages the
/// app renders set their own Content-Security-Policy with a nonce (`app::csp`); every other
/// answer gets one that allows nothing.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

pub async fn check_origin(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || req.uri().path().starts_with("/hooks/") {
        return next.run(req).await;
    }
    if let Err(why) = same_origin(&req) {
        return ApiError::new(axum::http::StatusCode::FORBIDDEN, "cross_origin", why)
            .into_response();
    }
    next.run(req).await
}

fn same_origin(req: &Request) -> Result<(), String> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(format!(
            "refused a {site} request: state changes must come from this site"
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'))
            .unwrap_or("");
        if origin_host.is_empty() || !origin_host.eq_ignore_ascii_case(host) {
            return Err(format!(
                "refused a request from origin {origin}: state changes must come from this site"
            ));
        }
    }
    Ok(())
}

/// A signed-in caller (session cookie or API token); 401 otherwise.
pub struct Authed(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<User>()
            .cloned()
            .map(Authed)
            .ok_or_else(|| engine::Error::Unauthenticated.into())
    }
}

impl Authed {
    pub fn require(self, role: Role) -> Result<User, ApiError> {
        self.0.require(role).map_err(engine::Error::from)?;
        Ok(self.0)
    }
}
