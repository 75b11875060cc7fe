//! The executable as an operator meets it: clear one-line errors with exit code 1, the
//! setup link, and durability of acknowledged saves across `kill -9`.

mod common;

use common::*;
use serde_json::{Value, json};
use std::process::{Command, Stdio};

fn one_line_error(code: i32, stderr: &str, expect: &str) {
    assert_eq!(code, 1, "exit code; stderr: {stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "exactly one error line: {stderr}");
    assert!(errors[0].contains(expect), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_data_dirs_ports_and_files_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();

    let missing_parent = tmp.path().join("no/such/dir");
    let (code, err) = run_slipway(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        missing_parent.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "cannot be created");

    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let (code, err) = run_slipway(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        file.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "is not a directory");

    let foreign = tmp.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(
        foreign.join("slipway.redb"),
        b"PK\x03\x04 this is a zip file, not redb",
    )
    .unwrap();
    let (code, err) = run_slipway(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        foreign.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "not a Slipway data file");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let fresh = tmp.path().join("fresh");
    let (code, err) = run_slipway(&[
        "serve",
        "--addr",
        &addr,
        "--data-dir",
        fresh.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "cannot listen on");

    let (code, err) = run_slipway(&[
        "serve",
        "--addr",
        "nonsense",
        "--data-dir",
        fresh.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "is not an address");
}

#[cfg(unix)]
#[test]
fn an_unwritable_data_dir_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    // root ignores permissions; only assert when the probe write really fails.
    if std::fs::write(dir.join("probe"), "x").is_ok() {
        return;
    }
    let (code, err) = run_slipway(&[
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "not writable");
}

#[test]
fn first_start_creates_the_master_key_private() {
    let s = Server::start();
    let key = s.data_dir.join("master.key");
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn without_admin_env_the_server_prints_a_setup_link() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path().join("d"))
        .env_remove("SLIPWAY_ADMIN_USER")
        .env_remove("SLIPWAY_ADMIN_PASSWORD")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let line = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map_while(Result::ok)
        .find(|l| l.contains("/setup?token="));
    let _ = child.kill();
    let _ = child.wait();
    let line = line.expect("a setup link");
    assert!(line.contains("Create the first admin"), "{line}");
}

#[test]
fn user_add_reads_the_password_from_stdin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let mut child = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(["user", "add", "ann", "--role", "viewer", "--data-dir"])
        .arg(&dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"ann-password-1\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let s = Server::start_in(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = signed_in(&s, "ann", "ann-password-1").await;
        let r = c
            .post(s.url("/api/v1/automations"))
            .json(&json!({"slug": "x", "name": "X"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "ann is a viewer");
    });

    let (code, err) = run_slipway(&[
        "user",
        "add",
        "bob",
        "--role",
        "boss",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    one_line_error(code, &err, "unknown role");
}

/// Every draft save the server acknowledged is there after `kill -9` and a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_saves_survive_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let mut s = Server::start_in(&dir);
    let c = admin(&s).await;
    c.post(s.url("/api/v1/automations"))
        .json(&json!({"slug": "orders", "name": "Orders"}))
        .send()
        .await
        .unwrap();

    let writer = {
        let c = c.clone();
        let url = s.url("/api/v1/automations/orders/draft");
        tokio::spawn(async move {
            let mut acked: Option<(u64, String)> = None;
            let mut version = 1u64;
            for i in 0.. {
                let name = format!("Save {i}");
                let doc = json!({"format": 1, "composers": [{"slug": "c", "name": name, "trigger": {"kind": "manual"}}]});
                let r = c
                    .put(&url)
                    .header("If-Match", version.to_string())
                    .json(&doc)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        version = r
                            .json::<Value>()
                            .await
                            .map(|v| v["version"].as_u64().unwrap_or(0))
                            .unwrap_or(0);
                        if version == 0 {
                            break;
                        }
                        acked = Some((version, name));
                    }
                    _ => break,
                }
            }
            acked
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    s.kill9();
    let acked = writer
        .await
        .unwrap()
        .expect("some saves were acknowledged before the kill");
    assert!(acked.0 > 3, "the stream was running: {acked:?}");

    let s = Server::start_in(&dir);
    let c = admin(&s).await;
    let r = c
        .get(s.url("/api/v1/automations/orders/draft"))
        .send()
        .await
        .unwrap();
    let etag: u64 = r.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .parse()
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    // The kill may land after a commit and before its answer: the file may be one ahead.
    assert!(
        etag == acked.0 || etag == acked.0 + 1,
        "acked {acked:?}, found {etag}"
    );
    if etag == acked.0 {
        assert_eq!(doc["composers"][0]["name"], acked.1);
    }
}
