//! Deploying to Live against the real executable: the whole REST path, live webhooks with
//! `auth_secret`, the read-only rule, rollback, replay, the audit log, secrets never leaking,
//! and deploy atomicity under `kill -9`.

mod common;

use common::*;
use reqwest::Client;
use serde_json::{Value, json};
use std::time::Duration;

const API_KEY: &str = "live+key/of the test";
const HOOK_KEY: &str = "hook-key-123";

fn forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    let url: String = value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    vec![
        value.to_string(),
        base64::engine::general_purpose::STANDARD.encode(value),
        url,
    ]
}

/// A local server that echoes what it receives (headers and body), as a careless API would.
async fn echo_server() -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/echo",
        post(|headers: axum::http::HeaderMap, body: String| async move {
            let key = headers
                .get("x-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            axum::Json(json!({"you_sent_header": key, "you_sent_body": body}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/echo")
}

fn shop_doc(echo: &str, greeting: &str) -> Value {
    json!({"format": 1, "composers": [{
        "slug": "intake", "name": "Intake",
        "trigger": {"kind": "webhook", "method": "POST", "auth_secret": "HOOK_KEY", "sample": {"body": {"n": 1}}},
        "steps": [
            {"name": "call", "kind": "http", "config": {"method": "POST", "url": echo, "headers": {"X-Key": "{{ secrets.API_KEY }}"}, "body": "{{ secrets.API_KEY }}"}},
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "{{ trigger.body.n }}", "value": {"status": "{{ steps.call.status }}"}}},
            {"name": "fail", "kind": "code", "config": {"source": "throw new Error('no ' + input.steps.call.body.you_sent_header)", "on_error": "continue"}},
            {"name": "reply", "kind": "respond", "config": {"status": 200, "body": {"greeting": greeting, "n": "{{ trigger.body.n }}"}}}
        ],
        "links": [{"from": "trigger", "to": "call"}, {"from": "call", "to": "save"}, {"from": "save", "to": "fail"}, {"from": "fail", "to": "reply"}]
    }]})
}

async fn call_live(s: &Server, bearer: Option<&str>, n: u64) -> reqwest::Response {
    let mut r = Client::new()
        .post(s.url("/hooks/shop/intake"))
        .json(&json!({ "n": n }));
    if let Some(b) = bearer {
        r = r.bearer_auth(b);
    }
    r.send().await.unwrap()
}

#[tokio::test]
async fn deploy_live_webhooks_rollback_replay_and_audit() {
    let s = Server::start();
    let echo = echo_server().await;
    let admin = admin(&s).await;
    admin
        .post(s.url("/api/v1/automations"))
        .json(&json!({"slug": "shop", "name": "Shop"}))
        .send()
        .await
        .unwrap();
    let editor = add_user(&admin, &s, "eddie", "editor").await;
    let viewer = add_user(&admin, &s, "vic", "viewer").await;
    save_draft(&editor, &s, "shop", &shop_doc(&echo, "hello v1")).await;
    assert_eq!(
        put_secret(&editor, &s, "shop", "test", "API_KEY", API_KEY).await,
        204
    );
    assert_eq!(
        put_secret(&editor, &s, "shop", "test", "HOOK_KEY", HOOK_KEY).await,
        204
    );
    let r = editor
        .put(s.url("/api/v1/automations/shop/databases/test/orders/records/seed"))
        .json(&json!({"from": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Nothing is live yet.
    assert_eq!(call_live(&s, Some(HOOK_KEY), 1).await.status(), 404);
    let r = viewer
        .get(s.url("/api/v1/automations/shop/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Roles: a viewer cannot deploy, an editor cannot set live secrets.
    let deploy =
        json!({"secrets": ["API_KEY", "HOOK_KEY"], "databases": ["orders"], "note": "first"});
    let r = viewer
        .post(s.url("/api/v1/automations/shop/deployments"))
        .json(&deploy)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        put_secret(&editor, &s, "shop", "live", "API_KEY", "x").await,
        403
    );

    let r = editor
        .post(s.url("/api/v1/automations/shop/deployments"))
        .json(&deploy)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let d1: Value = r.json().await.unwrap();
    assert_eq!(d1["number"], 1);
    assert_eq!(d1["secrets"], json!(["API_KEY", "HOOK_KEY"]));
    assert_eq!(d1["databases"], json!(["orders"]));
    assert_eq!(d1["author"], "eddie");

    let live = get_json(&viewer, s.url("/api/v1/automations/shop/live")).await;
    assert_eq!(live["deployment"]["number"], 1);
    assert_eq!(
        live["document"]["composers"][0]["steps"][3]["config"]["body"]["greeting"],
        "hello v1"
    );

    // auth_secret is enforced with the live value.
    assert_eq!(call_live(&s, None, 1).await.status(), 401);
    let r = call_live(&s, Some("wrong"), 1).await;
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unauthorized");
    let r = call_live(&s, Some(HOOK_KEY), 7).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"greeting": "hello v1", "n": 7})
    );

    // The live run used live data and is listed in Live only.
    let runs = get_json(&viewer, s.url("/api/v1/automations/shop/runs?mode=live")).await;
    let live_id = runs["items"][0]["id"].as_str().unwrap().to_string();
    let run = get_json(&viewer, s.url(&format!("/api/v1/runs/{live_id}"))).await;
    assert_eq!(
        (run["mode"].as_str(), run["source"].as_str()),
        (Some("live"), Some("webhook"))
    );
    assert_eq!(run["deployment"], 1);
    assert_eq!(run["status"], "succeeded", "{run}");
    let live_db = get_json(&viewer, s.url("/api/v1/automations/shop/databases/live")).await;
    assert_eq!(
        live_db["items"][0]["count"], 2,
        "the copied seed and the live run's record"
    );
    let test_db = get_json(&viewer, s.url("/api/v1/automations/shop/databases/test")).await;
    assert_eq!(test_db["items"][0]["count"], 1);

    // Nobody changes Live except by deploying.
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::POST,
        reqwest::Method::DELETE,
    ] {
        let r = admin
            .request(method.clone(), s.url("/api/v1/automations/shop/live"))
            .json(&json!({"format": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method} /live");
    }
    let r = admin
        .put(s.url("/api/v1/automations/shop/databases/live/orders/records/x"))
        .json(&json!(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    save_draft(&editor, &s, "shop", &shop_doc(&echo, "hello v2")).await;
    let live = get_json(&viewer, s.url("/api/v1/automations/shop/live")).await;
    assert_eq!(
        live["deployment"]["number"], 1,
        "editing Test leaves Live alone"
    );
    let r = call_live(&s, Some(HOOK_KEY), 8).await;
    assert_eq!(r.json::<Value>().await.unwrap()["greeting"], "hello v1");

    // Deploy v2, then roll back to #1.
    let r = editor
        .post(s.url("/api/v1/automations/shop/deployments"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = call_live(&s, Some(HOOK_KEY), 9).await;
    assert_eq!(r.json::<Value>().await.unwrap()["greeting"], "hello v2");
    let r = editor
        .post(s.url("/api/v1/automations/shop/deployments/1/rollback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let d3: Value = r.json().await.unwrap();
    assert_eq!(
        (d3["number"].as_u64(), d3["rollback_of"].as_u64()),
        (Some(3), Some(1))
    );
    let r = call_live(&s, Some(HOOK_KEY), 10).await;
    assert_eq!(r.json::<Value>().await.unwrap()["greeting"], "hello v1");
    let draft = get_json(&viewer, s.url("/api/v1/automations/shop/draft")).await;
    assert_eq!(
        draft["composers"][0]["steps"][3]["config"]["body"]["greeting"],
        "hello v1"
    );
    let list = get_json(&viewer, s.url("/api/v1/automations/shop/deployments")).await;
    let numbers: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);

    // Replay the live run in Test.
    let r = viewer
        .post(s.url(&format!("/api/v1/runs/{live_id}/replay")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = editor
        .post(s.url(&format!("/api/v1/runs/{live_id}/replay")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let replay: Value = r.json().await.unwrap();
    assert_eq!(replay["mode"], "test");
    assert_eq!(replay["source"], "replay");
    assert_eq!(replay["replay_of"], live_id.as_str());
    assert_eq!(replay["input"]["body"]["n"], 7);

    // The audit log: admins only, newest first.
    let r = editor.get(s.url("/api/v1/audit")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let audit = get_json(&admin, s.url("/api/v1/audit?limit=100")).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "rollback");
    for a in ["deploy", "secret_set", "user_add", "login"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }

    // The OpenAPI document is served.
    let api = get_json(&viewer, s.url("/api/v1/openapi.json")).await;
    assert!(api["openapi"].as_str().unwrap().starts_with("3."));

    // No secret value anywhere: API responses, run records, the data file (no step writes one
    // into a database: that data would be stored as written).
    let mut seen = String::new();
    for path in [
        "/api/v1/automations/shop/runs?mode=live".to_string(),
        "/api/v1/automations/shop/runs?mode=test".to_string(),
        format!("/api/v1/runs/{live_id}"),
        "/api/v1/automations/shop/secrets/live".to_string(),
        "/api/v1/automations/shop/deployments".to_string(),
        "/api/v1/automations/shop/databases/live/orders/records".to_string(),
        "/api/v1/audit?limit=100".to_string(),
    ] {
        seen.push_str(&get_json(&admin, s.url(&path)).await.to_string());
    }
    let run = get_json(&admin, s.url(&format!("/api/v1/runs/{live_id}"))).await;
    assert_eq!(
        run["steps"][0]["output"]["body"]["you_sent_header"],
        "[secret:API_KEY]"
    );
    assert!(
        run["steps"][2]["error"]
            .as_str()
            .unwrap()
            .contains("[secret:API_KEY]")
    );
    drop(admin);
    let bytes = std::fs::read(s.data_dir.join("slipway.redb")).unwrap();
    let file = String::from_utf8_lossy(&bytes);
    for value in [API_KEY, HOOK_KEY] {
        for f in forms(value) {
            assert!(!seen.contains(&f), "an API response holds {f:?}");
            assert!(!file.contains(&f), "the data file holds {f:?}");
        }
    }
}

/// Deploys in a loop, `kill -9` at a random moment, restart: Live is always one complete
/// deployment — its document, its secret and its database copy from the same deploy.
#[tokio::test]
async fn a_deploy_cut_by_kill_9_leaves_live_at_one_complete_deployment() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let mut random = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let mut checked_live = 0;
    for round in 0..6 {
        let mut s = Server::start_in(&data);
        let c = admin(&s).await;
        if round == 0 {
            c.post(s.url("/api/v1/automations"))
                .json(&json!({"slug": "shop", "name": "Shop"}))
                .send()
                .await
                .unwrap();
        } else {
            checked_live += verify_live(&s, &c).await;
        }
        let base = s.base.clone();
        let looping = tokio::spawn(async move { deploy_loop(base, c).await });
        tokio::time::sleep(Duration::from_millis(100 + random(400))).await;
        s.kill9();
        looping.abort();
    }
    let s = Server::start_in(&data);
    let c = admin(&s).await;
    checked_live += verify_live(&s, &c).await;
    assert!(
        checked_live >= 3,
        "the loop deployed too rarely to check ({checked_live})"
    );
}

fn marker_doc(i: u64) -> Value {
    json!({"format": 1, "composers": [{
        "slug": "intake", "name": "Intake",
        "trigger": {"kind": "webhook", "method": "POST", "auth_secret": "HOOK_KEY"},
        "steps": [{"name": "mark", "kind": "transform", "config": {"value": format!("marker-{i}")}}],
        "links": [{"from": "trigger", "to": "mark"}]
    }]})
}

/// Each round: record i (so test `orders` has i records), draft marker i, secret key-i, deploy.
async fn deploy_loop(base: String, c: Client) {
    let url = |p: &str| format!("{base}{p}");
    loop {
        let dbs: Value = match c
            .get(url("/api/v1/automations/shop/databases/test"))
            .send()
            .await
        {
            Ok(r) => r.json().await.unwrap_or(json!({})),
            Err(_) => return,
        };
        let i = dbs["items"][0]["count"].as_u64().unwrap_or(0) + 1;
        let steps = async {
            c.put(url(&format!(
                "/api/v1/automations/shop/databases/test/orders/records/{i:05}"
            )))
            .json(&json!(i))
            .send()
            .await?
            .error_for_status()?;
            let r = c.get(url("/api/v1/automations/shop/draft")).send().await?;
            let etag = r.headers()["etag"].to_str().unwrap().to_string();
            c.put(url("/api/v1/automations/shop/draft"))
                .header("If-Match", etag)
                .json(&marker_doc(i))
                .send()
                .await?
                .error_for_status()?;
            c.put(url("/api/v1/automations/shop/secrets/test/HOOK_KEY"))
                .json(&json!({"value": format!("key-{i}")}))
                .send()
                .await?
                .error_for_status()?;
            c.post(url("/api/v1/automations/shop/deployments"))
                .json(&json!({"secrets": ["HOOK_KEY"], "databases": ["orders"], "note": format!("deploy {i}")}))
                .send()
                .await?
                .error_for_status()?;
            Ok::<_, reqwest::Error>(())
        };
        if steps.await.is_err() {
            return;
        }
    }
}

/// Returns 1 when something is live (and checked), 0 before the first deploy.
async fn verify_live(s: &Server, c: &Client) -> u32 {
    let r = c
        .get(s.url("/api/v1/automations/shop/live"))
        .send()
        .await
        .unwrap();
    if r.status() == 404 {
        return 0;
    }
    let live: Value = r.json().await.unwrap();
    let d = &live["deployment"];
    let marker = live["document"]["composers"][0]["steps"][0]["config"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    let m: u64 = marker.strip_prefix("marker-").unwrap().parse().unwrap();
    assert_eq!(
        d["note"],
        format!("deploy {m}"),
        "the record and the document are one deploy"
    );
    let n = d["number"].as_u64().unwrap();
    let list = get_json(c, s.url("/api/v1/automations/shop/deployments")).await;
    assert_eq!(
        list["items"].as_array().unwrap().len() as u64,
        n,
        "numbers have no gaps"
    );
    let rev = get_json(
        c,
        s.url(&format!(
            "/api/v1/automations/shop/revisions/{}",
            d["revision"]
        )),
    )
    .await;
    assert_eq!(rev["kind"], "deploy");
    assert_eq!(
        rev["document"]["composers"][0]["steps"][0]["config"]["value"],
        marker.as_str()
    );
    let dbs = get_json(c, s.url("/api/v1/automations/shop/databases/live")).await;
    assert_eq!(
        dbs["items"][0]["count"], m,
        "the live database is the copy of deploy {m}"
    );
    let r = call_live(s, Some(&format!("key-{m}")), 0).await;
    assert_eq!(r.status(), 202, "the live secret is the copy of deploy {m}");
    if m > 1 {
        let r = call_live(s, Some(&format!("key-{}", m - 1)), 0).await;
        assert_eq!(r.status(), 401);
    }
    1
}
