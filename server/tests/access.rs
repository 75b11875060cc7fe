//! Who may change what (PRODUCT.md §9), as one table: every state-changing operation of the
//! REST API × {signed out, viewer, editor, admin} × {Test, Live}. Signed out is 401; a role
//! below the row's is 403, as is any change of Live that only a deploy may make; enough role
//! gets past both (whatever the operation then answers). An operation of the OpenAPI document
//! without a row fails the test, so a new route cannot be added without its rule.

mod common;

use common::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
enum Who {
    Nobody,
    Viewer,
    Editor,
    Admin,
}

/// What a row asks for in one mode.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// At least this role.
    Role(Who),
    /// Nobody: Live is read-only there.
    ReadOnly,
}

struct Row {
    method: Method,
    /// The OpenAPI path template.
    template: &'static str,
    /// Its path with `{mode}` left for the mode under test.
    path: &'static str,
    body: fn(&str) -> Value,
    test: Need,
    live: Need,
}

fn rows() -> Vec<Row> {
    use Need::*;
    use Who::*;
    let none = |_: &str| json!({});
    vec![
        Row {
            method: Method::POST,
            template: "/tokens",
            path: "/tokens",
            body: |_| json!({"name": "t"}),
            test: Role(Admin),
            live: Role(Admin),
        },
        Row {
            method: Method::POST,
            template: "/users",
            path: "/users",
            body: |m| json!({"username": format!("u{m}{}", std::process::id()), "role": "viewer", "password": "short"}),
            test: Role(Admin),
            live: Role(Admin),
        },
        Row {
            method: Method::PUT,
            template: "/settings/network",
            path: "/settings/network",
            body: |_| json!({"deny": []}),
            test: Role(Admin),
            live: Role(Admin),
        },
        Row {
            method: Method::POST,
            template: "/automations",
            path: "/automations",
            body: |_| json!({"slug": "", "name": ""}),
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::PUT,
            template: "/automations/{a}/draft",
            path: "/automations/shop/draft",
            body: |_| json!({"format": 1, "composers": [{"slug": "c", "name": "C", "trigger": {"kind": "manual"}}]}),
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::POST,
            template: "/automations/{a}/revisions/{n}/restore",
            path: "/automations/shop/revisions/999/restore",
            body: none,
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::POST,
            template: "/automations/{a}/deployments",
            path: "/automations/shop/deployments",
            body: |_| json!({"secrets": ["NO_SUCH"]}),
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::POST,
            template: "/automations/{a}/deployments/{n}/rollback",
            path: "/automations/shop/deployments/999/rollback",
            body: none,
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::POST,
            template: "/automations/{a}/deployments/{n}/backups/{db}/restore",
            path: "/automations/shop/deployments/999/backups/orders/restore",
            body: none,
            test: Role(Admin),
            live: Role(Admin),
        },
        Row {
            method: Method::POST,
            template: "/automations/{a}/composers/{c}/runs",
            path: "/automations/shop/composers/nowhere/runs",
            body: |m| json!({"mode": m}),
            test: Role(Editor),
            live: Role(Admin),
        },
        Row {
            method: Method::POST,
            template: "/runs/{id}/replay",
            path: "/runs/no-such-run/replay",
            body: none,
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::PUT,
            template: "/automations/{a}/secrets/{mode}/{name}",
            path: "/automations/shop/secrets/{mode}/TOKEN",
            body: |_| json!({"value": "long enough value"}),
            test: Role(Editor),
            live: Role(Admin),
        },
        Row {
            method: Method::DELETE,
            template: "/automations/{a}/secrets/{mode}/{name}",
            path: "/automations/shop/secrets/{mode}/NO_SUCH",
            body: none,
            test: Role(Editor),
            live: Role(Admin),
        },
        Row {
            method: Method::PUT,
            template: "/automations/{a}/databases/{mode}/{db}/records/{key}",
            path: "/automations/shop/databases/{mode}/orders/records/k",
            body: |_| json!({"n": 1}),
            test: Role(Editor),
            live: ReadOnly,
        },
        Row {
            method: Method::DELETE,
            template: "/automations/{a}/databases/{mode}/{db}/records/{key}",
            path: "/automations/shop/databases/{mode}/orders/records/nothing",
            body: none,
            test: Role(Editor),
            live: ReadOnly,
        },
    ]
}

/// Operations every caller may make, or that carry their own credentials.
const PUBLIC: &[(&str, &str)] = &[("post", "/session"), ("delete", "/session")];

#[tokio::test]
async fn every_state_change_is_refused_to_whoever_may_not_make_it() {
    let s = Server::start();
    let admin = admin(&s).await;
    for (name, role) in [("vic", "viewer"), ("eddie", "editor")] {
        let r = admin
            .post(s.url("/api/v1/users"))
            .json(&json!({"username": name, "role": role, "password": "password-123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    admin
        .post(s.url("/api/v1/automations"))
        .json(&json!({"slug": "shop", "name": "Shop"}))
        .send()
        .await
        .unwrap();
    let clients = [
        (Who::Nobody, reqwest::Client::new()),
        (Who::Viewer, signed_in(&s, "vic", "password-123").await),
        (Who::Editor, signed_in(&s, "eddie", "password-123").await),
        (Who::Admin, admin),
    ];

    // Every state-changing operation the API describes has a row.
    let doc = get_json(&clients[3].1, s.url("/api/v1/openapi.json")).await;
    let mut described = BTreeSet::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        if template.starts_with("/hooks/") {
            continue; // webhooks: open by design, guarded by `auth_secret`
        }
        for m in ["post", "put", "patch", "delete"] {
            if item.get(m).is_some() && !PUBLIC.contains(&(m, template.as_str())) {
                described.insert((m.to_string(), template.clone()));
            }
        }
    }
    let table = rows();
    let covered: BTreeSet<(String, String)> = table
        .iter()
        .map(|r| (r.method.as_str().to_lowercase(), r.template.to_string()))
        .collect();
    let missing: Vec<_> = described.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "operations without an access row: {missing:?}"
    );

    let mut checked = 0;
    for row in &table {
        for (mode, need) in [("test", row.test), ("live", row.live)] {
            let path = row.path.replace("{mode}", mode);
            for (who, client) in &clients {
                let r = client
                    .request(row.method.clone(), s.url(&format!("/api/v1{path}")))
                    .header("If-Match", "*")
                    .json(&(row.body)(mode))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let what = format!("{} {path} as {who:?}", row.method);
                let body = r.text().await.unwrap_or_default();
                match (who, need) {
                    (Who::Nobody, _) => assert_eq!(status, 401, "{what}: {body}"),
                    (_, Need::ReadOnly) => assert_eq!(status, 403, "{what}: {body}"),
                    (who, Need::Role(min)) if *who < min => {
                        assert_eq!(status, 403, "{what}: {body}")
                    }
                    _ => assert!(
                        status != 401 && status != 403,
                        "{what} is allowed, got {status}: {body}"
                    ),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, table.len() * 2 * clients.len());
}
