//! The site (WASM, JS, CSS, public files), embedded in the executable at build time.
//!
//! `cargo xtask build` stores the large text and WASM files gzipped (`pkg/slipway_bg.wasm.gz`),
//! which keeps the executable small. They are served as they are stored, with
//! `Content-Encoding: gzip`, to every client that accepts gzip (every browser); a client that
//! does not gets them decompressed.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use std::io::Read;

#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../target/site"]
struct Site;

/// The embedded file at `path`, if any, encoded for a client sending `headers`.
pub fn file(path: &str, headers: &HeaderMap) -> Option<Response> {
    let path = path.trim_start_matches('/');
    if path.is_empty() || path.ends_with(".gz") {
        return None;
    }
    let (asset, gzipped) = match Site::get(path) {
        Some(a) => (a, false),
        None => (Site::get(&format!("{path}.gz"))?, true),
    };
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let etag = format!("\"{}\"", hex::encode(&asset.metadata.sha256_hash()[..8]));
    let mut response_headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        response_headers.insert(header::CONTENT_TYPE, v);
    }
    // Names are not content-hashed, so browsers must revalidate; the ETag makes that cheap.
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, v);
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Some((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }
    let body = if gzipped {
        response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if accepts_gzip(headers) {
            response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            asset.data.into_owned()
        } else {
            match gunzip(&asset.data) {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::error!(path, "the embedded file does not decompress: {e}");
                    return Some(StatusCode::INTERNAL_SERVER_ERROR.into_response());
                }
            }
        }
    } else {
        asset.data.into_owned()
    };
    Some((StatusCode::OK, response_headers, body).into_response())
}

/// Whether `Accept-Encoding` allows gzip (`gzip`, `gzip;q=0.5`, `*`; not `gzip;q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Whether the site was built into this executable.
pub fn has_site() -> bool {
    Site::get("pkg/slipway_bg.wasm").is_some() || Site::get("pkg/slipway_bg.wasm.gz").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        assert!(accepts_gzip(&with_accept("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(&with_accept("br;q=1.0, gzip;q=0.8")));
        assert!(accepts_gzip(&with_accept("*")));
        assert!(!accepts_gzip(&with_accept("gzip;q=0")));
        assert!(!accepts_gzip(&with_accept("br, identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    /// Whatever the build stored, the WASM reaches a browser gzipped and other clients plain.
    #[test]
    fn the_site_wasm_is_served_gzipped_to_browsers_and_plain_to_others() {
        if !has_site() {
            panic!("the site is not embedded: build it first with `cargo xtask build`");
        }
        let body = |r: Response| {
            let (parts, body) = r.into_parts();
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let bytes = rt.block_on(axum::body::to_bytes(body, usize::MAX)).unwrap();
            (parts, bytes)
        };
        let (parts, plain) = body(file("/pkg/slipway_bg.wasm", &HeaderMap::new()).unwrap());
        assert_eq!(parts.status, 200);
        assert_eq!(parts.headers[header::CONTENT_TYPE], "application/wasm");
        assert!(parts.headers.get(header::CONTENT_ENCODING).is_none());
        assert!(plain.starts_with(b"\0asm"));

        let (parts, zipped) = body(file("/pkg/slipway_bg.wasm", &with_accept("gzip, br")).unwrap());
        assert_eq!(
            parts
                .headers
                .get(header::CONTENT_ENCODING)
                .map(|v| v.as_bytes()),
            Some(b"gzip".as_slice()),
            "the WASM is stored gzipped by `cargo xtask build`"
        );
        assert!(zipped.len() < plain.len() / 2, "gzip shrinks WASM");
        assert_eq!(gunzip(&zipped).unwrap(), plain.to_vec());

        let etag = parts.headers[header::ETAG].clone();
        let mut again = with_accept("gzip");
        again.insert(header::IF_NONE_MATCH, etag);
        let (parts, _) = body(file("/pkg/slipway_bg.wasm", &again).unwrap());
        assert_eq!(parts.status, 304);

        assert!(file("/pkg/slipway_bg.wasm.gz", &HeaderMap::new()).is_none());
        assert!(file("/pkg/nothing.js", &HeaderMap::new()).is_none());
    }
}
