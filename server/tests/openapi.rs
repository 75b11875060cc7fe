//! The OpenAPI document (`GET /api/v1/openapi.json`), generated from the handlers, against the
//! real router and real answers: every operation it describes answers (not the "no such API
//! endpoint" fallback, not 405), its references resolve, and the bodies the server sends have
//! the shape the document gives them.

mod common;

use common::*;
use serde_json::{Value, json};
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

async fn document(s: &Server, c: &reqwest::Client) -> Value {
    let r = c.get(s.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    r.json().await.unwrap()
}

/// Every `$ref` in `v`.
fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => {
                        out.insert(r.clone());
                    }
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// The schema a `$ref` names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            let found = &doc["components"]["schemas"][name];
            assert!(found.is_object(), "{r} resolves");
            resolve(doc, found)
        }
        None => schema,
    }
}

/// The JSON schema of the answer `status` of `method path`.
fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: u16) -> &'a Value {
    let mut response = &doc["paths"][path][method]["responses"][status.to_string()];
    if let Some(r) = response["$ref"].as_str() {
        response = &doc["components"]["responses"][r.trim_start_matches("#/components/responses/")];
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status} has a JSON schema"
    );
    resolve(doc, schema)
}

/// `body` has every property the schema requires, and no property it does not describe.
fn conforms(doc: &Value, schema: &Value, body: &Value, what: &str) {
    let schema = resolve(doc, schema);
    if let Some(all) = schema["allOf"].as_array() {
        // A flattened struct: the union of its parts.
        let mut merged = json!({"type": "object", "properties": {}, "required": []});
        for part in all {
            let part = resolve(doc, part);
            for (k, v) in part["properties"].as_object().into_iter().flatten() {
                merged["properties"][k] = v.clone();
            }
            for r in part["required"].as_array().into_iter().flatten() {
                merged["required"].as_array_mut().unwrap().push(r.clone());
            }
        }
        return conforms(doc, &merged, body, what);
    }
    let Some(props) = schema["properties"].as_object() else {
        return;
    };
    let fields = body
        .as_object()
        .unwrap_or_else(|| panic!("{what} is an object: {body}"));
    for required in schema["required"].as_array().into_iter().flatten() {
        let required = required.as_str().unwrap();
        assert!(
            fields.contains_key(required),
            "{what} has `{required}`: {body}"
        );
    }
    for (k, v) in fields {
        let prop = props
            .get(k)
            .unwrap_or_else(|| panic!("{what}: `{k}` is described (properties {props:?})"));
        if v.is_object() && resolve(doc, prop)["properties"].is_object() {
            conforms(doc, prop, v, &format!("{what}.{k}"));
        }
    }
}

#[tokio::test]
async fn every_operation_the_document_describes_answers_and_its_references_resolve() {
    let s = Server::start();
    let c = admin(&s).await;
    let doc = document(&s, &c).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(
        paths.len() > 25,
        "the routes are described: {:?}",
        paths.keys()
    );

    let mut ids = BTreeSet::new();
    let mut operations = 0;
    for (template, item) in paths {
        // Webhooks live outside /api/v1 (their item names its own server).
        let base = if template.starts_with("/hooks/") {
            assert_eq!(item["servers"][0]["url"], "/", "{template}");
            ""
        } else {
            "/api/v1"
        };
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            operations += 1;
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            assert!(
                ids.insert(id.clone()),
                "{m} {template}: operationId `{id}` is unique"
            );
            assert!(op["summary"].is_string(), "{m} {template} has a summary");
            assert!(op["tags"][0].is_string(), "{m} {template} has a tag");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                !responses.is_empty(),
                "{m} {template} describes its responses"
            );
            for (status, r) in responses {
                assert!(
                    r["$ref"].is_string()
                        || r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{m} {template} {status} is described"
                );
            }
            // Logging out would end this client's session; it is checked last.
            if template == "/session" && m == "delete" {
                continue;
            }
            let url = s.url(&format!("{base}{}", fill(template)));
            let method = reqwest::Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
            let resp = c.request(method, url).json(&json!({})).send().await;
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
    assert!(operations > 40, "{operations} operations");
    let mut all = BTreeSet::new();
    refs(&doc, &mut all);
    for r in &all {
        let mut at = &doc;
        for part in r.trim_start_matches("#/").split('/') {
            at = &at[part];
        }
        assert!(at.is_object(), "{r} resolves");
    }
    for scheme in ["session", "bearer", "webhookSecret"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
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
}

#[tokio::test]
async fn the_schemas_come_from_the_wire_types_and_match_what_the_server_sends() {
    let s = Server::start();
    let c = admin(&s).await;
    let doc = document(&s, &c).await;

    // The run status the document lists is the one the program has, names and all.
    let run = response_schema(&doc, "/runs/{id}", "get", 200);
    let status = resolve(&doc, &run["properties"]["status"]);
    let listed: BTreeSet<&str> = status["enum"]
        .as_array()
        .expect("an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let program: BTreeSet<&str> = model::wire::RunStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(listed, program);

    create_automation(&c, &s, "shop").await;
    let draft = json!({"format": 1, "composers": [
        {"slug": "hello", "name": "Hello", "trigger": {"kind": "manual", "sample": {"who": "you"}},
         "steps": [{"name": "greet", "kind": "transform", "config": {"value": {"hi": "{{ trigger.who }}"}}}],
         "links": [{"from": "trigger", "to": "greet"}]}
    ]});
    let saved = save_draft(&c, &s, "shop", &draft).await;
    conforms(
        &doc,
        response_schema(&doc, "/automations/{a}/draft", "put", 200),
        &saved,
        "the saved draft",
    );
    let answers = [
        ("/automations/{a}", "/api/v1/automations/shop"),
        ("/automations", "/api/v1/automations"),
        (
            "/automations/{a}/revisions",
            "/api/v1/automations/shop/revisions",
        ),
        ("/users", "/api/v1/users"),
    ];
    for (template, url) in answers {
        let body = get_json(&c, s.url(url)).await;
        conforms(
            &doc,
            response_schema(&doc, template, "get", 200),
            &body,
            template,
        );
    }
    let r = c
        .post(s.url("/api/v1/automations/shop/deployments"))
        .json(&json!({"note": "first"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let deployment: Value = r.json().await.unwrap();
    conforms(
        &doc,
        response_schema(&doc, "/automations/{a}/deployments", "post", 201),
        &deployment,
        "the deployment",
    );
    let live = get_json(&c, s.url("/api/v1/automations/shop/live")).await;
    conforms(
        &doc,
        response_schema(&doc, "/automations/{a}/live", "get", 200),
        &live,
        "the live document",
    );
    let r = c
        .post(s.url("/api/v1/automations/shop/composers/hello/runs"))
        .json(&json!({"wait": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let run: Value = r.json().await.unwrap();
    assert_eq!(run["status"], "succeeded", "{run}");
    conforms(
        &doc,
        response_schema(&doc, "/runs/{id}", "get", 200),
        &run,
        "the run",
    );
    let revision = get_json(&c, s.url("/api/v1/automations/shop/revisions/1")).await;
    conforms(
        &doc,
        response_schema(&doc, "/automations/{a}/revisions/{n}", "get", 200),
        &revision,
        "a revision with its document",
    );
    // An error has the shape every error response names.
    let r = c
        .get(s.url("/api/v1/automations/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let error: Value = r.json().await.unwrap();
    conforms(
        &doc,
        response_schema(&doc, "/automations/{a}", "get", 404),
        &error,
        "an error",
    );
    assert_eq!(error["error"]["code"], "not_found");
}
