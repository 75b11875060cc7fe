//! The OpenAPI document (`GET /api/v1/openapi.json`) against the real router: every operation it
//! describes answers (not the "no such API endpoint" fallback, not 405), and every route the REST
//! modules register is described.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Fills a path template with values that reach the handler (which may then answer 404 for a
/// thing that does not exist: that is the handler speaking, not the router).
fn fill(template: &str) -> String {
    template
        .replace("{a}", "no-such-automation")
        .replace("{automation}", "no-such-automation")
        .replace("{c}", "no-such-composer")
        .replace("{composer}", "no-such-composer")
        .replace("{n}", "1")
        .replace("{id}", "01930000-0000-7000-8000-000000000000")
        .replace("{mode}", "test")
        .replace("{db}", "nodb")
        .replace("{key}", "k")
        .replace("{name}", "NO_SUCH")
}

/// `(path, method)` of every route registered with `.route("…", get(…).post(…))` in the REST
/// modules, read from their source.
fn registered_routes() -> BTreeSet<(String, String)> {
    let sources = [
        include_str!("../src/rest/audit.rs"),
        include_str!("../src/rest/automations.rs"),
        include_str!("../src/rest/databases.rs"),
        include_str!("../src/rest/deployments.rs"),
        include_str!("../src/rest/runs.rs"),
        include_str!("../src/rest/secrets.rs"),
        include_str!("../src/rest/session.rs"),
        include_str!("../src/rest/settings.rs"),
        include_str!("../src/rest/tokens.rs"),
        include_str!("../src/rest/users.rs"),
        include_str!("../src/rest/mod.rs"),
    ];
    let mut out = BTreeSet::new();
    for src in sources {
        for chunk in src.split(".route(").skip(1) {
            let chunk = chunk.trim_start();
            let Some(rest) = chunk.strip_prefix('"') else {
                continue;
            };
            let Some(end) = rest.find('"') else { continue };
            let path = &rest[..end];
            // The method router runs to the call's closing parenthesis.
            let mut depth = 1;
            let mut call_end = rest.len();
            for (i, ch) in rest[end..].char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            call_end = end + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let methods = &rest[end..call_end];
            for m in METHODS {
                if methods.contains(&format!("{m}(")) || methods.contains(&format!(".{m}(")) {
                    out.insert((path.to_string(), m.to_string()));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn the_openapi_document_and_the_router_agree() {
    let s = Server::start();
    let c = admin(&s).await;
    let r = c.get(s.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");

    let mut described = BTreeSet::new();
    for (template, item) in paths {
        // Webhooks live outside /api/v1 (their item names its own server).
        let base = if template.starts_with("/hooks/") {
            ""
        } else {
            "/api/v1"
        };
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            assert!(
                op["responses"].is_object(),
                "{m} {template} describes its responses"
            );
            if base == "/api/v1" {
                described.insert((template.clone(), m.to_string()));
            }
            // Logging out would end this client's session; it is checked last.
            if template == "/session" && m == "delete" {
                continue;
            }
            let url = s.url(&format!("{base}{}", fill(template)));
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let resp = c
                .request(method, url)
                .json(&serde_json::json!({}))
                .send()
                .await;
            let resp = resp.unwrap_or_else(|e| panic!("{m} {template}: {e}"));
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{m} {template}: the router has no such method");
            assert!(
                !body.contains("no such API endpoint"),
                "{m} {template}: the router has no such path ({status} {body})"
            );
        }
    }
    // What is not described is a clear 404, whatever the method.
    for m in ["GET", "POST", "DELETE"] {
        let method = reqwest::Method::from_bytes(m.as_bytes()).unwrap();
        let r = c
            .request(method, s.url("/api/v1/no/such/thing"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{m}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["message"], "no such API endpoint", "{m}");
    }
    let r = c.delete(s.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 204);

    let registered = registered_routes();
    assert!(
        registered.len() > 20,
        "the route scan found the routes: {registered:?}"
    );
    let undocumented: Vec<_> = registered.difference(&described).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    let stale: Vec<_> = described.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "openapi.json describes routes the REST modules do not register: {stale:?}"
    );
}
