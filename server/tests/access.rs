//! Who may change what (PRODUCT.md §9), as one table: every state-changing operation of the
//! REST API × {signed out, viewer, editor, admin} × {Test, Live}. Signed out is 401; a role
//! below the row's is 403, as is any change of Live that only a deploy may make; enough role
//! gets past both (whatever the operation then answers). An operation of the OpenAPI document
//! without a row fails the test, so a new route cannot be added without its rule. The second
//! table does the same for every server function the site calls (`/api/<name>`), listed from
//! the functions the app registers.

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
            template: "/backup",
            path: "/backup",
            body: none,
            test: Role(Admin),
            live: Role(Admin),
        },
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
            template: "/automations/import",
            path: "/automations/import?as=imported",
            body: |_| json!({"format": 1, "composers": []}),
            test: Role(Editor),
            live: Role(Editor),
        },
        Row {
            method: Method::PUT,
            template: "/automations/{a}/retention",
            path: "/automations/shop/retention",
            body: |_| json!({"test": {"days": 7, "max_runs": 10}, "live": {"days": 30, "max_runs": 10}}),
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
    let (viewer, editor) = viewer_and_editor(&admin, &s).await;
    create_automation(&admin, &s, "shop").await;
    let clients = [
        (Who::Nobody, reqwest::Client::new()),
        (Who::Viewer, viewer),
        (Who::Editor, editor),
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

/// How a server function's arguments travel.
#[derive(Clone, Copy)]
enum Body {
    /// URL-encoded form fields (the default codec); `{mode}` in a value is the mode under test.
    Form(&'static [(&'static str, &'static str)]),
    /// JSON (`#[server(input = Json)]`).
    Json(fn(&str) -> Value),
}

struct FnRow {
    name: &'static str,
    body: Body,
    test: Need,
    live: Need,
}

fn fn_rows() -> Vec<FnRow> {
    use Body::*;
    use Need::*;
    use Who::*;
    let row = |name, body, test, live| FnRow {
        name,
        body,
        test,
        live,
    };
    let a: &[(&str, &str)] = &[("automation", "shop")];
    let am: &[(&str, &str)] = &[("automation", "shop"), ("mode", "{mode}")];
    let amd: &[(&str, &str)] = &[
        ("automation", "shop"),
        ("mode", "{mode}"),
        ("database", "orders"),
    ];
    vec![
        // Reads: anyone signed in, or admins for what only admins see.
        row("list_automations", Form(&[]), Role(Viewer), Role(Viewer)),
        row("frame_data", Form(am), Role(Viewer), Role(Viewer)),
        row("list_tokens", Form(&[]), Role(Viewer), Role(Viewer)),
        row("list_users", Form(&[]), Role(Admin), Role(Admin)),
        row("load_draft", Form(a), Role(Viewer), Role(Viewer)),
        row("list_revisions", Form(a), Role(Viewer), Role(Viewer)),
        row(
            "get_revision",
            Form(&[("automation", "shop"), ("number", "1")]),
            Role(Viewer),
            Role(Viewer),
        ),
        row(
            "next_fire_times",
            Form(&[("cron", "0 * * * *")]),
            Role(Viewer),
            Role(Viewer),
        ),
        row(
            "get_run",
            Form(&[("id", "no-such-run")]),
            Role(Viewer),
            Role(Viewer),
        ),
        row("list_runs", Form(am), Role(Viewer), Role(Viewer)),
        row("list_databases", Form(am), Role(Viewer), Role(Viewer)),
        row(
            "list_records",
            Form(&[
                ("automation", "shop"),
                ("mode", "{mode}"),
                ("database", "orders"),
                ("prefix", ""),
            ]),
            Role(Viewer),
            Role(Viewer),
        ),
        row("export_records", Form(amd), Role(Viewer), Role(Viewer)),
        row("list_secrets", Form(am), Role(Viewer), Role(Viewer)),
        row("load_live", Form(a), Role(Viewer), Role(Viewer)),
        row("deploy_preview", Form(a), Role(Editor), Role(Editor)),
        row("list_deployments", Form(a), Role(Viewer), Role(Viewer)),
        row("list_audit", Form(&[]), Role(Admin), Role(Admin)),
        row("get_network", Form(&[]), Role(Admin), Role(Admin)),
        row("get_retention", Form(a), Role(Viewer), Role(Viewer)),
        // Changes.
        row(
            "create_automation",
            Form(&[("name", "")]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "create_token",
            Form(&[("name", "t")]),
            Role(Admin),
            Role(Admin),
        ),
        // Anyone may revoke a token of their own.
        row(
            "revoke_token",
            Form(&[("id", "no-such-token")]),
            Role(Viewer),
            Role(Viewer),
        ),
        row(
            "add_user",
            Form(&[("username", "x"), ("role", "viewer"), ("password", "short")]),
            Role(Admin),
            Role(Admin),
        ),
        row(
            "delete_user",
            Form(&[("username", "nobody-here")]),
            Role(Admin),
            Role(Admin),
        ),
        row(
            "save_draft",
            Json(|_| {
                json!({"automation": "shop", "version": 0, "document":
                    {"format": 1, "composers": [{"slug": "c", "name": "C", "trigger": {"kind": "manual"}}]}})
            }),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "restore_revision",
            Form(&[("automation", "shop"), ("number", "999")]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "name_version",
            Form(&[("automation", "shop"), ("label", "")]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "start_test_run",
            Form(&[("automation", "shop"), ("composer", "nowhere")]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "start_live_run",
            Form(&[("automation", "shop"), ("composer", "nowhere")]),
            Role(Admin),
            Role(Admin),
        ),
        row(
            "replay_run",
            Form(&[("id", "no-such-run")]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "put_record",
            Form(&[
                ("automation", "shop"),
                ("mode", "{mode}"),
                ("database", "orders"),
                ("key", "k"),
                ("value", "1"),
            ]),
            Role(Editor),
            ReadOnly,
        ),
        row(
            "delete_record",
            Form(&[
                ("automation", "shop"),
                ("mode", "{mode}"),
                ("database", "orders"),
                ("key", "nothing"),
            ]),
            Role(Editor),
            ReadOnly,
        ),
        row(
            "create_database",
            Form(&[("automation", "shop"), ("mode", "{mode}"), ("name", "")]),
            Role(Editor),
            ReadOnly,
        ),
        row(
            "import_records",
            Form(&[
                ("automation", "shop"),
                ("mode", "{mode}"),
                ("database", "orders"),
                ("text", ""),
            ]),
            Role(Editor),
            ReadOnly,
        ),
        row(
            "set_secret",
            Form(&[
                ("automation", "shop"),
                ("mode", "{mode}"),
                ("name", "TOKEN"),
                ("value", "long enough value"),
            ]),
            Role(Editor),
            Role(Admin),
        ),
        row(
            "delete_secret",
            Form(&[
                ("automation", "shop"),
                ("mode", "{mode}"),
                ("name", "NO_SUCH"),
            ]),
            Role(Editor),
            Role(Admin),
        ),
        row(
            "deploy",
            Json(
                |_| json!({"automation": "shop", "secrets": ["NO_SUCH"], "databases": [], "note": ""}),
            ),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "rollback",
            Form(&[("automation", "shop"), ("number", "999")]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "restore_backup",
            Form(&[
                ("automation", "shop"),
                ("number", "999"),
                ("database", "orders"),
            ]),
            Role(Admin),
            Role(Admin),
        ),
        row(
            "import_automation",
            Form(&[
                ("text", r#"{"format": 1, "composers": []}"#),
                ("as_slug", "imported"),
            ]),
            Role(Editor),
            Role(Editor),
        ),
        row(
            "set_retention",
            Form(&[
                ("automation", "shop"),
                ("test_days", "7"),
                ("test_max_runs", "10"),
                ("live_days", "30"),
                ("live_max_runs", "10"),
            ]),
            Role(Admin),
            Role(Admin),
        ),
        row(
            "set_network",
            Form(&[("deny", "not-a-range"), ("allow", "")]),
            Role(Admin),
            Role(Admin),
        ),
    ]
}

/// Server functions every caller may call: signing in and out, the first-start setup (which
/// carries its own one-time token) and asking who is signed in.
const PUBLIC_FNS: &[&str] = &["whoami", "login", "logout", "setup_valid", "complete_setup"];

/// Links the app, whose server functions register themselves when the program starts.
fn registered_server_functions() -> BTreeSet<String> {
    let _ = app::api::whoami;
    server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect()
}

#[tokio::test]
async fn every_server_function_is_refused_to_whoever_may_not_call_it() {
    let registered = registered_server_functions();
    assert!(
        registered.contains("save_draft"),
        "the app's server functions are not registered here: {registered:?}"
    );
    let table = fn_rows();
    let covered: BTreeSet<String> = table
        .iter()
        .map(|r| r.name.to_string())
        .chain(PUBLIC_FNS.iter().map(|n| n.to_string()))
        .collect();
    let missing: Vec<_> = registered.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "server functions without an access row: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&registered).collect();
    assert!(stale.is_empty(), "rows for no server function: {stale:?}");

    let s = Server::start();
    let admin = admin(&s).await;
    let (viewer, editor) = viewer_and_editor(&admin, &s).await;
    create_automation(&admin, &s, "shop").await;
    let clients = [
        (Who::Nobody, reqwest::Client::new()),
        (Who::Viewer, viewer),
        (Who::Editor, editor),
        (Who::Admin, admin),
    ];
    let mut checked = 0;
    let mut wrong = Vec::new();
    for row in &table {
        for (mode, need) in [("test", row.test), ("live", row.live)] {
            for (who, client) in &clients {
                let request = client.post(s.url(&format!("/api/{}", row.name)));
                let request = match row.body {
                    Body::Form(fields) => {
                        let fields: Vec<(&str, String)> = fields
                            .iter()
                            .map(|(k, v)| (*k, v.replace("{mode}", mode)))
                            .collect();
                        request.form(&fields)
                    }
                    Body::Json(body) => request.json(&body(mode)),
                };
                let r = request.send().await.unwrap();
                let status = r.status().as_u16();
                let what = format!("{} in {mode} as {who:?}", row.name);
                let body = r.text().await.unwrap_or_default();
                let fine = match (who, need) {
                    (Who::Nobody, _) => status == 401,
                    (_, Need::ReadOnly) => status == 403,
                    (who, Need::Role(min)) if *who < min => status == 403,
                    _ => status != 401 && status != 403 && status != 400,
                };
                if !fine {
                    wrong.push(format!("{what}: {status} {body}"));
                }
                checked += 1;
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "answers against the table:\n{}",
        wrong.join("\n")
    );
    assert_eq!(checked, table.len() * 2 * clients.len());
}
