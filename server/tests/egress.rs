//! Egress rules for `http` steps (PRODUCT.md §15), only against listeners on loopback: a denied
//! address gets nothing, whether it is in the URL, behind a name, or at the end of a redirect,
//! and the step's error names the rule.

mod common;

use common::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

async fn listener(ip: &str, redirect_to: Option<String>) -> (u16, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    let app = axum::Router::new()
        .route(
            "/hit",
            axum::routing::get(move || {
                seen.fetch_add(1, Ordering::SeqCst);
                async { "hit" }
            }),
        )
        .route(
            "/go",
            axum::routing::get(move || async move {
                axum::response::Redirect::temporary(&redirect_to.unwrap_or_default())
            }),
        );
    let l = tokio::net::TcpListener::bind(format!("{ip}:0"))
        .await
        .unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (port, hits)
}

async fn step_error(c: &reqwest::Client, s: &Server, url: &str) -> Value {
    let doc = json!({"format": 1, "composers": [{"slug": "call", "name": "Call",
        "trigger": {"kind": "manual"},
        "steps": [{"name": "get", "kind": "http", "config": {"method": "GET", "url": url}}],
        "links": [{"from": "trigger", "to": "get"}]}]});
    let draft = c
        .get(s.url("/api/v1/automations/shop/draft"))
        .send()
        .await
        .unwrap();
    let etag = draft.headers()["etag"].to_str().unwrap().to_string();
    let r = c
        .put(s.url("/api/v1/automations/shop/draft"))
        .header("If-Match", etag)
        .json(&doc)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let run: Value = c
        .post(s.url("/api/v1/automations/shop/composers/call/runs"))
        .json(&json!({"mode": "test", "wait": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    run["steps"][0].clone()
}

#[tokio::test]
async fn denied_addresses_get_nothing_and_the_error_names_the_rule() {
    let (denied_port, denied_hits) = listener("127.0.0.2", None).await;
    let (open_port, open_hits) = listener(
        "127.0.0.1",
        Some(format!("http://127.0.0.2:{denied_port}/hit")),
    )
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        &tmp.path().join("data"),
        &[("SLIPWAY_HTTP_DENY", "127.0.0.2/32")],
    );
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;

    // In the URL.
    let step = step_error(&c, &s, &format!("http://127.0.0.2:{denied_port}/hit")).await;
    assert_eq!(step["status"], "failed", "{step}");
    let error = step["error"].as_str().unwrap();
    assert!(
        error.contains("127.0.0.2 is denied by the egress rule 127.0.0.2/32 (SLIPWAY_HTTP_DENY)"),
        "{error}"
    );
    // At the end of a redirect from an allowed address.
    let step = step_error(&c, &s, &format!("http://127.0.0.1:{open_port}/go")).await;
    let error = step["error"].as_str().unwrap();
    assert!(
        error.contains("denied by the egress rule 127.0.0.2/32"),
        "{error}"
    );
    // Behind a name, with a rule from Settings → Network.
    let r = c
        .put(s.url("/api/v1/settings/network"))
        .json(&json!({"deny": ["127.0.0.1/32", "::1"], "allow": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let step = step_error(&c, &s, &format!("http://localhost:{open_port}/hit")).await;
    let error = step["error"].as_str().unwrap();
    assert!(error.contains("(Settings → Network)"), "{error}");
    assert_eq!(open_hits.load(Ordering::SeqCst), 0);
    // Lifted, the same call goes through.
    let r = c
        .put(s.url("/api/v1/settings/network"))
        .json(&json!({"deny": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let step = step_error(&c, &s, &format!("http://localhost:{open_port}/hit")).await;
    assert_eq!(step["status"], "succeeded", "{step}");
    assert_eq!(open_hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        denied_hits.load(Ordering::SeqCst),
        0,
        "the denied listener got nothing"
    );

    // Bad lists are refused; only admins set them.
    let r = c
        .put(s.url("/api/v1/settings/network"))
        .json(&json!({"deny": ["not-a-range"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let audit = get_json(&c, s.url("/api/v1/audit?limit=5")).await;
    assert!(audit.to_string().contains("set egress rules"), "{audit}");
}
