//! REST API against the real executable: authentication, roles, drafts with ETag/If-Match,
//! error shapes, body limits and the Origin check.

mod common;

use common::*;
use serde_json::{Value, json};

async fn error_of(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("JSON error body");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn health_and_unauthenticated_requests() {
    let s = Server::start();
    let c = reqwest::Client::new();
    let r = c.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (200, "ok".to_string())
    );
    let (status, code, _) =
        error_of(c.get(s.url("/api/v1/automations")).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (401, "unauthenticated"));
    let (status, ..) = error_of(
        c.get(s.url("/api/v1/automations"))
            .bearer_auth("slw_not-a-real-token")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn login_wrong_password_and_rate_limit() {
    let s = Server::start();
    let c = reqwest::Client::new();
    for _ in 0..5 {
        let r = c
            .post(s.url("/api/v1/session"))
            .json(&json!({"username": ADMIN, "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let (status, code, message) = error_of(
        c.post(s.url("/api/v1/session"))
            .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"), "{message}");
}

#[tokio::test]
async fn automations_draft_etag_and_conflicts() {
    let s = Server::start();
    let c = admin(&s).await;
    let r = c
        .post(s.url("/api/v1/automations"))
        .json(&json!({"slug": "orders", "name": "Orders"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let list: Value = get_json(&c, s.url("/api/v1/automations")).await;
    assert_eq!(list["items"][0]["slug"], "orders");
    assert!(list["next_cursor"].is_null());

    let r = c
        .get(s.url("/api/v1/automations/orders/draft"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["etag"], "\"1\"");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["format"], 1);

    let good = json!({"format": 1, "composers": [{"slug": "intake", "name": "Intake",
        "trigger": {"kind": "manual", "sample": {"x": 1}},
        "steps": [{"name": "total", "kind": "transform", "config": {"value": "{{ trigger.x }}"}}],
        "links": [{"from": "trigger", "to": "total"}]}]});
    // Without If-Match the server cannot know what the edit was based on.
    let r = c
        .put(s.url("/api/v1/automations/orders/draft"))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 428);

    let r = c
        .put(s.url("/api/v1/automations/orders/draft"))
        .header("If-Match", "\"1\"")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let saved: Value = r.json().await.unwrap();
    assert_eq!(
        (saved["version"].clone(), saved["problems"].clone()),
        (json!(2), json!([]))
    );

    let (status, code, message) = error_of(
        c.put(s.url("/api/v1/automations/orders/draft"))
            .header("If-Match", "\"1\"")
            .json(&json!({"format": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (409, "conflict"), "{message}");
    let now: Value = get_json(&c, s.url("/api/v1/automations/orders/draft")).await;
    assert_eq!(
        now["composers"][0]["steps"][0]["name"], "total",
        "the stale save changed nothing"
    );

    let (status, _, message) = error_of(
        c.get(s.url("/api/v1/automations/nope/draft"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 404, "{message}");
}

#[tokio::test]
async fn malformed_invalid_and_oversized_drafts() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "orders").await;
    let put = |body: Vec<u8>, version: &str| {
        c.put(s.url("/api/v1/automations/orders/draft"))
            .header("If-Match", version.to_string())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let (status, _, message) = error_of(
        put(b"{\"format\": 1, \"composers\": [".to_vec(), "1")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        message.contains("malformed JSON") && message.contains("line 1"),
        "{message}"
    );

    let (status, _, message) = error_of(
        put(br#"{"format":1,"composers":"many"}"#.to_vec(), "1")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422);
    assert!(message.starts_with("composers"), "{message}");

    // Well-formed but invalid: saved, and answered with every problem and where it is.
    let invalid = json!({"format": 1, "composers": [{"slug": "intake", "name": "Intake",
        "trigger": {"kind": "manual"},
        "steps": [{"name": "save", "kind": "transform"}, {"name": "save", "kind": "teleport"}],
        "links": [{"from": "save", "to": "ghost"}]}]});
    let r = put(serde_json::to_vec(&invalid).unwrap(), "1")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["version"], 2);
    let problems: Vec<String> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}: {}",
                p["path"].as_str().unwrap(),
                p["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p == "composers[0].steps[1].name: duplicate step name \"save\""),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("teleport")),
        "{problems:?}"
    );
    assert!(problems.iter().any(|p| p.contains("ghost")), "{problems:?}");
    let now: Value = get_json(&c, s.url("/api/v1/automations/orders/draft")).await;
    assert_eq!(
        now["composers"][0]["steps"][1]["kind"], "teleport",
        "invalid work is kept"
    );

    let mut huge = br#"{"format":1,"composers":[],"padding":""#.to_vec();
    // Just over the 10 MiB limit, so the unread rest fits the socket buffers (see runs.rs).
    huge.extend(std::iter::repeat_n(b'x', (10 << 20) + 4096));
    huge.extend(b"\"}");
    let (status, code, _) = error_of(put(huge, "2").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (413, "too_large"));
}

#[tokio::test]
async fn roles_are_enforced_on_the_server() {
    let s = Server::start();
    let c = admin(&s).await;
    let (viewer, editor) = viewer_and_editor(&c, &s).await;
    create_automation(&c, &s, "orders").await;

    assert_eq!(
        viewer
            .get(s.url("/api/v1/automations"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, code, message) = error_of(
        viewer
            .post(s.url("/api/v1/automations"))
            .json(&json!({"slug": "mine", "name": "Mine"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));
    assert!(message.contains("viewer"), "{message}");
    let r = viewer
        .put(s.url("/api/v1/automations/orders/draft"))
        .header("If-Match", "1")
        .json(&json!({"format": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = editor
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only admins create API tokens");
    let r = editor
        .post(s.url("/api/v1/users"))
        .json(&json!({"username": "x", "role": "admin", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn api_tokens_and_logout() {
    let s = Server::start();
    let c = admin(&s).await;
    let r = c
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "ci"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let plain = reqwest::Client::new();
    let r = plain
        .get(s.url("/api/v1/automations"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = plain
        .post(s.url("/api/v1/automations"))
        .bearer_auth(&token)
        .json(&json!({"slug": "by-token", "name": "By token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "scripts send no Origin and are allowed");

    let r = c.delete(s.url("/api/v1/session")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        c.get(s.url("/api/v1/automations"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let s = Server::start();
    let c = admin(&s).await;
    let host = s.base.trim_start_matches("http://").to_string();
    let (status, code, _) = error_of(
        c.post(s.url("/api/v1/automations"))
            .header("Origin", "http://evil.example")
            .json(&json!({"slug": "x", "name": "X"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "cross_origin"));
    let r = c
        .post(s.url("/api/v1/automations"))
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"slug": "x", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Server functions (the UI's own calls) get the same check.
    let r = c
        .post(s.url("/api/create_automation"))
        .header("Origin", "http://evil.example")
        .form(&[("name", "Evil")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(s.url("/api/v1/automations"))
        .header("Origin", format!("http://{host}"))
        .header("Sec-Fetch-Site", "same-origin")
        .json(&json!({"slug": "x", "name": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let list: Value = get_json(&c, s.url("/api/v1/automations")).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn revisions_list_one_and_restore() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "orders").await;
    let doc = json!({"format": 1, "composers": [{"slug": "intake", "name": "Intake", "trigger": {"kind": "manual"}}]});
    save_draft(&c, &s, "orders", &doc).await;
    // A stale save from a second editor: refused, and kept as a revision.
    let (status, _, message) = error_of(
        c.put(s.url("/api/v1/automations/orders/draft"))
            .header("If-Match", "1")
            .json(&json!({"format": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 409);
    assert!(message.contains("kept as revision 2"), "{message}");

    let list: Value = get_json(&c, s.url("/api/v1/automations/orders/revisions")).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["number"], 2);
    assert_eq!(items[0]["kind"], "conflict");
    assert_eq!(items[1]["number"], 1);
    for key in ["number", "kind", "author", "created_at", "label", "summary"] {
        assert!(items[0].get(key).is_some(), "{key} missing");
    }
    let one: Value = get_json(&c, s.url("/api/v1/automations/orders/revisions/1")).await;
    assert_eq!(one["document"]["composers"], json!([]));

    let r = c
        .post(s.url("/api/v1/automations/orders/revisions/1/restore"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let draft: Value = get_json(&c, s.url("/api/v1/automations/orders/draft")).await;
    assert_eq!(draft["composers"], json!([]));
    let list: Value = get_json(&c, s.url("/api/v1/automations/orders/revisions")).await;
    assert_eq!(list["items"][0]["kind"], "backup");
    let backup = list["items"][0]["number"].as_u64().unwrap();
    let kept: Value = get_json(
        &c,
        s.url(&format!("/api/v1/automations/orders/revisions/{backup}")),
    )
    .await;
    assert_eq!(
        kept["document"]["composers"][0]["slug"], "intake",
        "the draft before the restore is kept"
    );
    let r = c
        .get(s.url("/api/v1/automations/orders/revisions/99"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A saved template of a flat operator chain used to overflow a worker's stack during validation
/// and abort the server (issue 10, finding 1): now it is saved with a problem naming the field,
/// a test run of it fails with a clear error, and the server keeps answering.
#[tokio::test]
async fn flat_operator_chains_are_problems_not_crashes() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "orders").await;
    let probes = [
        format!("{{{{ {}1 }}}}", "-".repeat(1_000_000)),
        format!("{{{{ 1{} }}}}", " + 1".repeat(1_000_000)),
        format!("{{{{ 1{} }}}}", "|abs".repeat(2_000_000)),
    ];
    for (i, probe) in probes.iter().enumerate() {
        let doc = json!({"format": 1, "composers": [{"slug": "c", "name": "C",
            "trigger": {"kind": "webhook", "method": "POST"},
            "steps": [{"name": "t", "kind": "transform", "config": {"value": probe}}],
            "links": [{"from": "trigger", "to": "t"}]}]});
        let r = c
            .put(s.url("/api/v1/automations/orders/draft"))
            .header("If-Match", (i + 1).to_string())
            .json(&doc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body["problems"][0]["path"], "composers[0].steps[0].config.value",
            "{body}"
        );
        let message = body["problems"][0]["message"].as_str().unwrap();
        assert!(message.contains("too complex"), "{message}");
        let r = reqwest::Client::new()
            .post(s.url("/hooks/test/orders/c"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success() || r.status().is_client_error(),
            "{}",
            r.status()
        );
    }
    let r = reqwest::get(s.url("/healthz")).await.unwrap();
    assert_eq!(r.text().await.unwrap(), "ok");
}

/// Server functions answer with the status the REST API would (issue 10, finding 4): not 500.
#[tokio::test]
async fn server_functions_answer_with_the_rest_status() {
    let s = Server::start();
    let c = admin(&s).await;
    let (viewer, editor) = viewer_and_editor(&c, &s).await;
    create_automation(&c, &s, "orders").await;
    let create = |client: &reqwest::Client| {
        client
            .post(s.url("/api/create_automation"))
            .form(&[("name", "Mine")])
            .send()
    };
    let anonymous = reqwest::Client::new();
    assert_eq!(create(&anonymous).await.unwrap().status(), 401);
    let r = create(&viewer).await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("viewer"));
    let r = editor
        .post(s.url("/api/set_secret"))
        .form(&[
            ("automation", "orders"),
            ("mode", "live"),
            ("name", "TOKEN"),
            ("value", "long enough"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "editors may not set live secrets");
    let r = c
        .post(s.url("/api/delete_user"))
        .form(&[("username", ADMIN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(s.url("/api/delete_secret"))
        .form(&[("automation", "nowhere"), ("mode", "test"), ("name", "X")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "no such automation");
}

/// Issue 10, finding 6: `If-Match: *`, integers beyond 64 bits, a secret of an automation that
/// does not exist, usernames that differ only in case.
#[tokio::test]
async fn small_contract_fixes() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "orders").await;
    let doc = |value: &str| {
        format!(
            r#"{{"format": 1, "composers": [{{"slug": "c", "name": "C", "trigger": {{"kind": "webhook", "method": "POST"}},
            "steps": [{{"name": "t", "kind": "transform", "config": {{"value": {value}}}}}],
            "links": [{{"from": "trigger", "to": "t"}}]}}]}}"#
        )
    };
    let put = |body: String, if_match: &str| {
        c.put(s.url("/api/v1/automations/orders/draft"))
            .header("If-Match", if_match.to_string())
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // RFC 9110: `*` matches whatever version the draft is at.
    let r = put(doc("1"), "*").await.unwrap();
    assert_eq!(r.status(), 200);
    let r = put(doc("2"), "*").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["version"], 3);
    // An integer serde would silently turn into another number is refused.
    let (status, _, message) = error_of(put(doc("18446744073709551616"), "3").await.unwrap()).await;
    assert_eq!(status, 400);
    assert!(message.contains("18446744073709551616"), "{message}");
    let r = reqwest::Client::new()
        .post(s.url("/hooks/test/orders/c"))
        .header("content-type", "application/json")
        .body(r#"{"id": 123456789012345678901234567890}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A secret of an automation that does not exist is not there to delete.
    let r = c
        .delete(s.url("/api/v1/automations/nowhere/secrets/test/X"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // `Viewer` and `viewer` are one user.
    let r = c
        .post(s.url("/api/v1/users"))
        .json(&json!({"username": "Viewer", "role": "viewer", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = c
        .post(s.url("/api/v1/users"))
        .json(&json!({"username": "viewer", "role": "admin", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let viewer = signed_in(&s, "VIEWER", "password-123").await;
    let me = get_json(&viewer, s.url("/api/v1/automations")).await;
    assert!(me["items"].is_array());
}

/// Issue 10, finding 5: no page can be framed by another site; pages carry a CSP whose nonce is
/// the one on their scripts (the hydrated site works under it: the end-to-end tests fail on any
/// console error, CSP violations included).
#[tokio::test]
async fn pages_and_answers_carry_security_headers() {
    let s = Server::start();
    let r = reqwest::get(s.url("/login")).await.unwrap();
    let headers = r.headers().clone();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let csp = headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy")
        .to_string();
    let html = r.text().await.unwrap();
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script carries the page's nonce: {html}"
    );
    let again = reqwest::get(s.url("/login")).await.unwrap();
    assert!(
        !again.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains(&nonce),
        "a fresh nonce per page"
    );
    let api = reqwest::get(s.url("/api/v1/automations")).await.unwrap();
    assert_eq!(api.headers()["x-frame-options"], "DENY");
    assert!(
        api.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
}
