//! Export and import (PRODUCT.md §15) over REST and the command line, between two real
//! servers' data dirs: export → import elsewhere → export is byte-identical, an import over an
//! automation keeps its draft as a backup revision, and bad files change nothing.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::{Command, Stdio};

fn shop() -> Value {
    json!({"format": 1, "composers": [
        {"slug": "intake", "name": "Intake",
         "trigger": {"kind": "webhook", "method": "POST", "auth_secret": "HOOK_TOKEN"},
         "steps": [
            {"name": "total", "kind": "transform", "config": {"value": {"n": 1.25, "id": "{{ trigger.body.id }}"}},
             "position": {"x": 10.5, "y": 20.0}},
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "{{ steps.total.id }}", "value": "{{ steps.total }}"}}
         ],
         "links": [{"from": "trigger", "to": "total"}, {"from": "total", "to": "save"}]}
    ]})
}

async fn export(c: &reqwest::Client, s: &Server, slug: &str) -> String {
    let r = c
        .get(s.url(&format!(
            "/api/v1/automations/{slug}/export?test_databases=true"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-disposition"],
        format!("attachment; filename=\"{slug}.slipway.json\"").as_str()
    );
    r.text().await.unwrap()
}

async fn import(c: &reqwest::Client, s: &Server, query: &str, body: String) -> (u16, Value) {
    let r = c
        .post(s.url(&format!("/api/v1/automations/import{query}")))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_export_imported_on_another_server_exports_the_same_bytes() {
    let a = Server::start();
    let c = admin(&a).await;
    create_automation(&c, &a, "shop").await;
    save_draft(&c, &a, "shop", &shop()).await;
    assert_eq!(
        put_secret(
            &c,
            &a,
            "shop",
            "test",
            "HOOK_TOKEN",
            "hook-secret-value-123"
        )
        .await,
        204
    );
    let r = c
        .put(a.url("/api/v1/automations/shop/databases/test/orders/records/a1"))
        .json(&json!({"total": 3}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let text = export(&c, &a, "shop").await;
    assert!(!text.contains("hook-secret-value"), "{text}");
    assert!(text.contains("\"HOOK_TOKEN\""), "the secret's name: {text}");
    assert!(text.ends_with("}\n"));

    let b = Server::start();
    let cb = admin(&b).await;
    let (status, done) = import(&cb, &b, "", text.clone()).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["automation"], "shop");
    assert_eq!(done["records"], 1);
    assert_eq!(done["missing_secrets"]["test"], json!(["HOOK_TOKEN"]));
    assert_eq!(export(&cb, &b, "shop").await, text, "byte-identical");
    let record = get_json(
        &cb,
        b.url("/api/v1/automations/shop/databases/test/orders/records/a1"),
    )
    .await;
    assert_eq!(record["value"], json!({"total": 3}), "{record}");

    // Imported again over itself, edited: the draft before is a backup revision.
    let edited = text.replace("\"n\": 1.25", "\"n\": 2.5");
    assert_ne!(edited, text);
    let (status, done) = import(&cb, &b, "", edited.clone()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["created"], false);
    let backup = done["backup_revision"].as_u64().unwrap();
    let revision = get_json(
        &cb,
        b.url(&format!("/api/v1/automations/shop/revisions/{backup}")),
    )
    .await;
    assert_eq!(revision["kind"], "backup", "{revision}");
    assert_eq!(
        revision["document"]["composers"][0]["steps"][0]["config"]["value"]["n"],
        1.25
    );
    assert_eq!(export(&cb, &b, "shop").await, edited);

    // A viewer reads the export and may not import.
    let (viewer, _) = viewer_and_editor(&cb, &b).await;
    assert_eq!(export(&viewer, &b, "shop").await, edited);
    let (status, body) = import(&viewer, &b, "?as=mine", text.clone()).await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn bad_files_get_a_clear_error_and_change_nothing() {
    let s = Server::start();
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    save_draft(&c, &s, "shop", &shop()).await;
    let before = export(&c, &s, "shop").await;
    let revisions = get_json(&c, s.url("/api/v1/automations/shop/revisions")).await;
    let huge = format!("{{\"format\": 1, \"pad\": \"{}\"}}", "x".repeat(50 << 20));
    for (query, body, status, says) in [
        ("?as=shop", "{ not json".to_string(), 422, "not JSON"),
        (
            "?as=shop",
            before.replace("\"slipway_export\": 1", "\"slipway_export\": 2"),
            422,
            "export of format 2",
        ),
        (
            "",
            json!({"format": 1, "composers": []}).to_string(),
            422,
            "names no automation",
        ),
        (
            "",
            before.replace("\"links\": [", "\"links\": {\"x\": ["),
            422,
            "not JSON",
        ),
        (
            "",
            before.replace("\"steps\": [", "\"steps\": 7, \"old\": ["),
            422,
            "document.composers[0].steps",
        ),
        ("?as=shop", huge, 413, "32 MiB"),
    ] {
        let (got, answer) = import(&c, &s, query, body).await;
        assert_eq!(got, status, "{says}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{says}: {answer}");
    }
    assert_eq!(export(&c, &s, "shop").await, before, "nothing changed");
    assert_eq!(
        get_json(&c, s.url("/api/v1/automations/shop/revisions")).await,
        revisions
    );
}

#[tokio::test]
async fn the_command_line_exports_and_imports_a_stopped_servers_data() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut s = Server::start_in(&data);
    let c = admin(&s).await;
    create_automation(&c, &s, "shop").await;
    save_draft(&c, &s, "shop", &shop()).await;
    let over_rest = export(&c, &s, "shop").await;
    s.kill9();

    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["export", "shop", "--with-test-databases", "--data-dir"])
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, over_rest);

    let file = tmp.path().join("shop.json");
    std::fs::write(&file, &text).unwrap();
    let data_dir = data.to_str().unwrap();
    let (code, stderr) = run_slipway(&[
        "import",
        file.to_str().unwrap(),
        "--as",
        "shop-copy",
        "--data-dir",
        data_dir,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Created the automation shop-copy."),
        "{stderr}"
    );
    assert!(
        stderr.contains("Secrets to set in Test: HOOK_TOKEN"),
        "{stderr}"
    );
    let (code, stderr) = run_slipway(&["import", file.to_str().unwrap(), "--data-dir", data_dir]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("the draft before is revision"), "{stderr}");
    std::fs::write(&file, "{\"slipway_export\": 9}").unwrap();
    let (code, stderr) = run_slipway(&["import", file.to_str().unwrap(), "--data-dir", data_dir]);
    assert_eq!(code, 1);
    assert!(stderr.contains("format 9"), "{stderr}");

    let s = Server::start_in(&data);
    let c = admin(&s).await;
    let copy = get_json(&c, s.url("/api/v1/automations/shop-copy/draft")).await;
    assert_eq!(copy["composers"][0]["slug"], "intake", "{copy}");
}
