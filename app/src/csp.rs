//! The Content-Security-Policy of the pages the server renders: a fresh nonce per page for
//! Leptos' hydration and resource scripts, nothing from another origin, never framed.

use leptos::nonce::{provide_nonce, use_nonce};
use leptos::prelude::*;

/// Provides this page's nonce (Leptos' `HydrationScripts` and streamed resources use it) and sets
/// the policy that allows exactly it. Called at the top of the shell, before anything renders.
pub fn provide_csp() {
    provide_nonce();
    let Some(nonce) = use_nonce() else { return };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    // `wasm-unsafe-eval` lets the site compile its own WASM (it allows no `eval`); inline styles
    // are the canvas' positions and sizes (`style=` attributes), never script.
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
