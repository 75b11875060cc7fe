//! The site (WASM, JS, CSS, public files), embedded in the executable at build time.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/site"]
struct Site;

/// The embedded file at `path`, if any.
pub fn file(path: &str) -> Option<Response> {
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return None;
    }
    let asset = Site::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    Some(
        (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, mime.to_string()),
                // Names are not content-hashed, so browsers must revalidate; ETag makes that cheap.
                (header::CACHE_CONTROL, "no-cache".to_string()),
                (
                    header::ETAG,
                    format!("\"{}\"", hex::encode(&asset.metadata.sha256_hash()[..8])),
                ),
            ],
            asset.data.into_owned(),
        )
            .into_response(),
    )
}

/// Whether the site was built into this executable.
pub fn has_site() -> bool {
    Site::get("pkg/slipway_bg.wasm").is_some()
}
