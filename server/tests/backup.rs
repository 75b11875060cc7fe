//! Backup, restore and compact (PRODUCT.md §15) with real processes and real files: a backup
//! taken over the API under webhook load restores into a new data dir holding the same
//! automations, drafts, deployments, secrets, users, runs and records as the instant it was
//! taken; another master key is named; nothing is replaced without `--force`.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

fn shop() -> Value {
    json!({"format": 1, "composers": [
        {"slug": "orders", "name": "Orders", "trigger": {"kind": "webhook", "method": "POST"},
         "steps": [
            {"name": "save", "kind": "database", "config": {"op": "put", "database": "orders", "key": "{{ trigger.body.id }}", "value": "{{ trigger.body }}"}},
            {"name": "reply", "kind": "respond", "config": {"status": 201, "body": "{{ steps.save }}"}}
         ],
         "links": [{"from": "trigger", "to": "save"}, {"from": "save", "to": "reply"}]}
    ]})
}

/// "shop" with its draft, a test secret, one deployment and one order.
async fn set_up(s: &Server) -> reqwest::Client {
    let c = admin(s).await;
    create_automation(&c, s, "shop").await;
    save_draft(&c, s, "shop", &shop()).await;
    assert_eq!(
        put_secret(&c, s, "shop", "test", "API_KEY", "s3cret-value-1").await,
        204
    );
    let r = c
        .post(s.url("/api/v1/automations/shop/deployments"))
        .json(&json!({"note": "first", "secrets": ["API_KEY"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    order(s, "first").await;
    c
}

async fn order(s: &Server, id: &str) -> u16 {
    reqwest::Client::new()
        .post(s.url("/hooks/test/shop/orders"))
        .json(&json!({"id": id}))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Every run of "shop" in Test, by id.
async fn runs(c: &reqwest::Client, s: &Server) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = s.url("/api/v1/automations/shop/runs?mode=test&limit=200");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = get_json(c, url).await;
        for item in page["items"].as_array().unwrap() {
            let id = item["id"].as_str().unwrap().to_string();
            let run = get_json(c, s.url(&format!("/api/v1/runs/{id}"))).await;
            out.insert(id, run);
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return out,
        }
    }
}

/// Every record of the test database "orders", by key.
async fn records(c: &reqwest::Client, s: &Server) -> BTreeMap<String, Value> {
    let page = get_json(
        c,
        s.url("/api/v1/automations/shop/databases/test/orders/records?limit=1000"),
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), r["value"].clone()))
        .collect()
}

async fn download_backup(c: &reqwest::Client, s: &Server, to: &Path) {
    let r = c.post(s.url("/api/v1/backup")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.contains(".redb"), "{disposition}");
    std::fs::write(to, r.bytes().await.unwrap()).unwrap();
}

#[tokio::test]
async fn a_backup_taken_under_webhook_load_restores_everything_it_held() {
    let s = Server::start();
    let c = set_up(&s).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("shop.redb");

    // Webhooks keep arriving before, while and after the backup is taken.
    let backed_up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let base = s.base.clone();
        let backed_up = backed_up.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut answers = vec![];
            let mut after = 0;
            while after < 20 {
                let r = client
                    .post(format!("{base}/hooks/test/shop/orders"))
                    .json(&json!({"id": format!("o{:04}", answers.len())}))
                    .send()
                    .await;
                answers.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
                if backed_up.load(std::sync::atomic::Ordering::SeqCst) {
                    after += 1;
                }
            }
            answers
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    download_backup(&c, &s, &file).await;
    backed_up.store(true, std::sync::atomic::Ordering::SeqCst);
    let answers = load.await.unwrap();
    assert!(answers.iter().all(|a| *a == 201), "{answers:?}");
    let runs_after = runs(&c, &s).await;
    let records_after = records(&c, &s).await;
    assert_eq!(runs_after.len(), answers.len() + 1);

    // Into a new data dir with the same master key.
    let restored_dir = work.path().join("restored");
    std::fs::create_dir(&restored_dir).unwrap();
    std::fs::copy(
        s.data_dir.join("master.key"),
        restored_dir.join("master.key"),
    )
    .unwrap();
    let (code, out) = run_slipway(&[
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        restored_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("restored"), "{out}");
    eprintln!("{out}");
    assert!(!out.contains("cannot open"), "{out}");

    let r = Server::start_in(&restored_dir);
    let rc = admin(&r).await;
    let restored_runs = runs(&rc, &r).await;
    let restored_records = records(&rc, &r).await;
    // The snapshot is one instant of the load: some runs (not those after it), each whole.
    assert!(
        restored_runs.len() > 1 && restored_runs.len() + 20 <= runs_after.len(),
        "{} of {}",
        restored_runs.len(),
        runs_after.len()
    );
    for (id, run) in &restored_runs {
        assert_eq!(Some(run), runs_after.get(id), "run {id} as it was");
    }
    // A run that stored its record holds it in the backup too (one commit for both).
    for run in restored_runs.values() {
        if run["status"] == "succeeded" {
            let key = run["input"]["body"]["id"].as_str().unwrap();
            assert_eq!(restored_records.get(key), records_after.get(key), "{key}");
        }
    }
    for (key, value) in &restored_records {
        assert_eq!(Some(value), records_after.get(key), "record {key}");
    }
    for path in [
        "/api/v1/automations",
        "/api/v1/automations/shop/draft",
        "/api/v1/automations/shop/deployments",
        "/api/v1/automations/shop/revisions",
        "/api/v1/automations/shop/secrets/test",
        "/api/v1/automations/shop/secrets/live",
        "/api/v1/users",
    ] {
        assert_eq!(
            get_json(&rc, r.url(path)).await,
            get_json(&c, s.url(path)).await,
            "{path}"
        );
    }
    // The restored secret opens: a live run (which reads it) works there.
    let live = reqwest::Client::new()
        .post(r.url("/hooks/shop/orders"))
        .json(&json!({"id": "after-restore"}))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 201);
    // The backup is in the audit log.
    let audit = get_json(&c, s.url("/api/v1/audit")).await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "backup"),
        "{audit}"
    );
}

#[tokio::test]
async fn another_master_key_is_named_with_the_secrets_it_cannot_open() {
    let s = Server::start();
    let c = set_up(&s).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("b.redb");
    download_backup(&c, &s, &file).await;
    let fresh = work.path().join("fresh");
    let (code, out) = run_slipway(&[
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        fresh.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("cannot open 2 secret(s)"), "{out}");
    assert!(
        out.contains("shop/test/API_KEY") && out.contains("shop/live/API_KEY"),
        "{out}"
    );
    // Everything else is there.
    let r = Server::start_in(&fresh);
    let rc = admin(&r).await;
    assert_eq!(
        get_json(&rc, r.url("/api/v1/automations/shop/draft")).await,
        get_json(&c, s.url("/api/v1/automations/shop/draft")).await
    );
}

#[tokio::test]
async fn restore_replaces_data_only_with_force_and_keeps_the_old_file() {
    let s = Server::start();
    let c = set_up(&s).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("b.redb");
    download_backup(&c, &s, &file).await;

    let other = work.path().join("other");
    {
        let o = Server::start_in(&other);
        let oc = admin(&o).await;
        create_automation(&oc, &o, "kept").await;
    }
    let args = [
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        other.to_str().unwrap(),
    ];
    let (code, out) = run_slipway(&args);
    assert_ne!(code, 0);
    assert!(out.contains("--force"), "{out}");
    {
        let o = Server::start_in(&other);
        let oc = admin(&o).await;
        let list = get_json(&oc, o.url("/api/v1/automations")).await;
        assert_eq!(list["items"][0]["slug"], "kept", "unchanged: {list}");

        // Not while a server has it open, even with --force.
        let (code, out) = run_slipway(&[args.as_slice(), &["--force"]].concat());
        assert_ne!(code, 0);
        assert!(out.contains("in use"), "{out}");
    }
    let (code, out) = run_slipway(&[args.as_slice(), &["--force"]].concat());
    assert_eq!(code, 0, "{out}");
    let kept: Vec<_> = std::fs::read_dir(&other)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("slipway.redb.replaced-"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced file is kept");
    let o = Server::start_in(&other);
    let oc = admin(&o).await;
    let list = get_json(&oc, o.url("/api/v1/automations")).await;
    assert_eq!(list["items"][0]["slug"], "shop", "{list}");
}

#[tokio::test]
async fn a_file_that_is_not_a_backup_is_refused_and_changes_nothing() {
    let work = tempfile::tempdir().unwrap();
    let junk = work.path().join("junk.redb");
    std::fs::write(&junk, "not a database at all\n".repeat(100)).unwrap();
    let dir = work.path().join("data");
    let (code, out) = run_slipway(&[
        "restore",
        junk.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(out.contains("is not a Slipway backup"), "{out}");
    assert!(!dir.join("slipway.redb").exists());
    assert!(!dir.join(".restore.redb").exists());
}

#[tokio::test]
async fn the_cli_backs_up_and_compacts_a_stopped_server_only() {
    let mut s = Server::start();
    let c = set_up(&s).await;
    for i in 0..30 {
        assert_eq!(order(&s, &format!("x{i}")).await, 201);
    }
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("cli.redb");
    let dir = s.data_dir.to_str().unwrap().to_string();
    let (code, out) = run_slipway(&["backup", file.to_str().unwrap(), "--data-dir", &dir]);
    assert_ne!(code, 0);
    assert!(out.contains("in use"), "{out}");
    let (code, out) = run_slipway(&["compact", "--data-dir", &dir]);
    assert_ne!(code, 0);
    assert!(out.contains("in use"), "{out}");
    let runs_before = runs(&c, &s).await.len();
    s.kill9();

    let (code, out) = run_slipway(&["backup", file.to_str().unwrap(), "--data-dir", &dir]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("master key is not in the backup"), "{out}");
    // Never over an existing file.
    let (code, out) = run_slipway(&["backup", file.to_str().unwrap(), "--data-dir", &dir]);
    assert_ne!(code, 0);
    assert!(out.contains("exists already"), "{out}");
    let (code, out) = run_slipway(&["compact", "--data-dir", &dir]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("compacted"), "{out}");

    let s = Server::start_in(&s.data_dir.clone());
    let c = admin(&s).await;
    assert_eq!(runs(&c, &s).await.len(), runs_before);
}

#[tokio::test]
async fn only_admins_take_backups() {
    let s = Server::start();
    let a = admin(&s).await;
    let (viewer, editor) = viewer_and_editor(&a, &s).await;
    for c in [viewer, editor] {
        let r = c.post(s.url("/api/v1/backup")).send().await.unwrap();
        assert_eq!(r.status(), 403);
    }
    let r = reqwest::Client::new()
        .post(s.url("/api/v1/backup"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
