//! Starts the real `slipway` executable on 127.0.0.1 with a random port and a fresh data dir.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct Server {
    pub child: Child,
    pub base: String,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl Server {
    pub fn start() -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let mut s = Server::start_in(&data);
        s._tmp = Some(tmp);
        s
    }

    /// Starts on an existing (or new) data dir; panics with the server's output if it fails.
    pub fn start_in(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// [`Server::start_in`] with more environment variables.
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .envs(env.iter().copied())
            .env("SLIPWAY_ADMIN_USER", ADMIN)
            .env("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("SLIPWAY_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn slipway");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(url) = line.strip_prefix("Slipway is listening on ") {
                    let _ = tx.send(Ok(url.trim().to_string()));
                    sent = true;
                } else if !sent {
                    let _ = tx.send(Err(line));
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut output = vec![];
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(Ok(base)) => {
                    return Server {
                        child,
                        base,
                        data_dir: data_dir.to_path_buf(),
                        _tmp: None,
                    };
                }
                Ok(Err(line)) => output.push(line),
                Err(_) => {
                    let _ = child.kill();
                    panic!("slipway did not start:\n{}", output.join("\n"));
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client with a cookie jar, signed in as `user`.
pub async fn signed_in(server: &Server, user: &str, password: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("client");
    let r = client
        .post(server.url("/api/v1/session"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        r.status(),
        200,
        "login as {user}: {}",
        r.text().await.unwrap_or_default()
    );
    client
}

pub async fn admin(server: &Server) -> reqwest::Client {
    signed_in(server, ADMIN, ADMIN_PASSWORD).await
}

/// Runs the executable with `args` and returns (exit code, stderr).
pub fn run_slipway(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .args(args)
        .env("SLIPWAY_ADMIN_USER", ADMIN)
        .env("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run slipway");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// GET a URL and parse the JSON answer.
pub async fn get_json(c: &reqwest::Client, url: String) -> serde_json::Value {
    c.get(url)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON answer")
}

/// Creates automation `slug` (named after it) as `c`.
pub async fn create_automation(c: &reqwest::Client, server: &Server, slug: &str) {
    let r = c
        .post(server.url("/api/v1/automations"))
        .json(&serde_json::json!({"slug": slug, "name": slug}))
        .send()
        .await
        .expect("create automation");
    assert_eq!(r.status(), 201, "create automation {slug}");
}

/// Replaces the draft of `slug` with `doc`, whatever its version; answers the save.
pub async fn save_draft(
    c: &reqwest::Client,
    server: &Server,
    slug: &str,
    doc: &serde_json::Value,
) -> serde_json::Value {
    let r = c
        .put(server.url(&format!("/api/v1/automations/{slug}/draft")))
        .header("If-Match", "*")
        .json(doc)
        .send()
        .await
        .expect("save draft");
    assert_eq!(r.status(), 200, "save the draft of {slug}");
    r.json().await.expect("JSON answer")
}

/// The password of every user [`add_user`] creates.
pub const USER_PASSWORD: &str = "password-123";

/// Adds user `name` with `role` as `admin` and answers a client signed in as them.
pub async fn add_user(
    admin: &reqwest::Client,
    server: &Server,
    name: &str,
    role: &str,
) -> reqwest::Client {
    let r = admin
        .post(server.url("/api/v1/users"))
        .json(&serde_json::json!({"username": name, "role": role, "password": USER_PASSWORD}))
        .send()
        .await
        .expect("add user");
    assert_eq!(r.status(), 201, "add {role} {name}");
    signed_in(server, name, USER_PASSWORD).await
}

/// The viewer "vic" and the editor "eddie", signed in: who most access tests try things as.
pub async fn viewer_and_editor(
    admin: &reqwest::Client,
    server: &Server,
) -> (reqwest::Client, reqwest::Client) {
    (
        add_user(admin, server, "vic", "viewer").await,
        add_user(admin, server, "eddie", "editor").await,
    )
}

/// Sets secret `name` of automation `slug` in `mode` as `c`; answers the status.
pub async fn put_secret(
    c: &reqwest::Client,
    server: &Server,
    slug: &str,
    mode: &str,
    name: &str,
    value: &str,
) -> u16 {
    c.put(server.url(&format!("/api/v1/automations/{slug}/secrets/{mode}/{name}")))
        .json(&serde_json::json!({ "value": value }))
        .send()
        .await
        .expect("put secret")
        .status()
        .as_u16()
}
