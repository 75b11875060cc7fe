//! Secrets: write-only over the API, encrypted at rest, usable in expressions, and never in a
//! run record, an API response or the data file.

mod common;

use common::*;
use serde_json::{Value, json};

const VALUE: &str = "s3cr3t value/with+chars";

fn forms() -> Vec<String> {
    use base64::Engine as _;
    vec![
        VALUE.to_string(),
        base64::engine::general_purpose::STANDARD.encode(VALUE),
        "s3cr3t%20value%2Fwith%2Bchars".to_string(),
        "s3cr3t+value%2Fwith%2Bchars".to_string(),
    ]
}

#[tokio::test]
async fn secrets_reach_expressions_but_never_records_responses_or_the_file() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    assert_eq!(
        put_secret(&c, &s, "shop", "test", "API_TOKEN", VALUE).await,
        204
    );
    let doc = json!({"format": 1, "composers": [{"slug": "use", "name": "Use", "trigger": {"kind": "webhook", "method": "POST"},
        "steps": [
            {"name": "t", "kind": "transform", "config": {"value": {"plain": "{{ secrets.API_TOKEN }}", "b64": "{{ secrets.API_TOKEN | b64encode }}"}}},
            {"name": "log", "kind": "code", "config": {"source": "console.log(input.steps.t.plain); throw new Error('bad ' + input.steps.t.plain)", "on_error": "continue"}},
            {"name": "reply", "kind": "respond", "config": {"body": {"len": "{{ steps.t.plain | length }}"}}}
        ],
        "links": [{"from": "trigger", "to": "t"}, {"from": "t", "to": "log"}, {"from": "log", "to": "reply"}]}]});
    save_draft(&c, &s, "shop", &doc).await;

    let r = reqwest::Client::new()
        .post(s.url("/hooks/test/shop/use"))
        .json(&json!({"echo": VALUE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"len": VALUE.chars().count()}),
        "the secret was usable"
    );

    let runs = get_json(&c, s.url("/api/v1/automations/shop/runs?mode=test")).await;
    let id = runs["items"][0]["id"].as_str().unwrap().to_string();
    let run = get_json(&c, s.url(&format!("/api/v1/runs/{id}"))).await;
    let secrets = get_json(&c, s.url("/api/v1/automations/shop/secrets/test")).await;
    assert_eq!(secrets["items"][0]["name"], "API_TOKEN");
    assert_eq!(secrets["items"][0]["set_by"], ADMIN);
    let text = format!("{run}{runs}{secrets}");
    for f in forms() {
        assert!(!text.contains(&f), "an API response holds {f:?}: {text}");
    }
    assert_eq!(run["steps"][0]["output"]["plain"], "[secret:API_TOKEN]");
    assert_eq!(run["steps"][0]["output"]["b64"], "[secret:API_TOKEN]");
    assert_eq!(run["steps"][1]["logs"][0], "[secret:API_TOKEN]");
    assert!(
        run["steps"][1]["error"]
            .as_str()
            .unwrap()
            .contains("[secret:API_TOKEN]")
    );
    assert_eq!(
        run["input"]["body"]["echo"], "[secret:API_TOKEN]",
        "even data sent in is redacted"
    );

    drop(c);
    let bytes = std::fs::read(s.data_dir.join("slipway.redb")).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    for f in forms() {
        assert!(!hay.contains(&f), "the data file holds {f:?}");
    }
    let key = std::fs::read_to_string(s.data_dir.join("master.key")).unwrap();
    assert!(
        !hay.contains(key.trim()),
        "the master key is not in the data file"
    );
}

#[tokio::test]
async fn who_may_manage_secrets() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    let (viewer, editor) = viewer_and_editor(&c, &s).await;
    let put = |c: &reqwest::Client, mode: &str| {
        c.put(s.url(&format!("/api/v1/automations/shop/secrets/{mode}/KEY")))
            .json(&json!({"value": "v"}))
            .send()
    };
    assert_eq!(put(&editor, "test").await.unwrap().status(), 204);
    assert_eq!(
        put(&editor, "live").await.unwrap().status(),
        403,
        "live secrets are for admins"
    );
    assert_eq!(put(&viewer, "test").await.unwrap().status(), 403);
    assert_eq!(put(&c, "live").await.unwrap().status(), 204);
    let r = c
        .put(s.url("/api/v1/automations/shop/secrets/test/bad-name"))
        .json(&json!({"value": "v"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let listed = get_json(&viewer, s.url("/api/v1/automations/shop/secrets/live")).await;
    assert_eq!(listed["items"][0]["name"], "KEY");
    assert!(listed["items"][0].get("value").is_none());
    let r = editor
        .delete(s.url("/api/v1/automations/shop/secrets/test/KEY"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// Redaction is for what is recorded and shown, never for a step's data (issue 10, finding 3):
/// with a test secret `a`, a database put of `banana` stores `banana` and the webhook caller
/// gets `banana`; a long secret written by a step is stored as written but hidden in the run.
#[tokio::test]
async fn redaction_never_rewrites_data_and_skips_short_values() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    let r = c
        .put(s.url("/api/v1/automations/shop/secrets/test/ONE"))
        .json(&json!({"value": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let warning = r.headers()["x-slipway-warning"].to_str().unwrap();
    assert!(warning.contains("shorter than 4 characters"), "{warning}");
    let r = c
        .put(s.url("/api/v1/automations/shop/secrets/test/LONG"))
        .json(&json!({"value": VALUE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.headers().get("x-slipway-warning").is_none());
    let doc = json!({"format": 1, "composers": [{"slug": "save", "name": "Save", "trigger": {"kind": "webhook", "method": "POST"},
        "steps": [
            {"name": "put", "kind": "database", "config": {"op": "put", "database": "fruit", "key": "k", "value": "{{ trigger.body.fruit }}"}},
            {"name": "keep", "kind": "database", "config": {"op": "put", "database": "fruit", "key": "token", "value": "{{ secrets.LONG }}"}},
            {"name": "reply", "kind": "respond", "config": {"body": {"stored": "{{ steps.put }}", "uses": "{{ secrets.ONE }}"}}}
        ],
        "links": [{"from": "trigger", "to": "put"}, {"from": "put", "to": "keep"}, {"from": "keep", "to": "reply"}]}]});
    save_draft(&c, &s, "shop", &doc).await;
    let r = reqwest::Client::new()
        .post(s.url("/hooks/test/shop/save"))
        .json(&json!({"fruit": "banana"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"stored": "banana", "uses": "a"}),
        "the caller's answer is the data, not its redacted record"
    );
    let record = get_json(
        &c,
        s.url("/api/v1/automations/shop/databases/test/fruit/records/k"),
    )
    .await;
    assert_eq!(record["value"], "banana", "{record}");
    let token = get_json(
        &c,
        s.url("/api/v1/automations/shop/databases/test/fruit/records/token"),
    )
    .await;
    assert_eq!(token["value"], VALUE, "a step's write is stored as written");

    let runs = get_json(&c, s.url("/api/v1/automations/shop/runs?mode=test")).await;
    let id = runs["items"][0]["id"].as_str().unwrap().to_string();
    let run = get_json(&c, s.url(&format!("/api/v1/runs/{id}"))).await;
    assert_eq!(
        run["steps"][0]["output"], "banana",
        "a short value is not redacted"
    );
    assert_eq!(run["steps"][1]["output"], "[secret:LONG]", "{run}");
    assert!(!run.to_string().contains(VALUE));
}
