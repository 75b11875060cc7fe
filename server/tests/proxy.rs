//! Behind a TLS reverse proxy (PRODUCT.md §15): the session cookie is `Secure` when a trusted
//! proxy (`SLIPWAY_TRUSTED_PROXIES`, loopback unless set) says the request came over TLS
//! (`X-Forwarded-Proto: https`), for the REST login too; anyone else saying so is not believed.

mod common;

use common::*;

async fn login_cookie(s: &Server, forwarded_proto: Option<&str>) -> String {
    let mut req = reqwest::Client::new()
        .post(s.url("/api/v1/session"))
        .json(&serde_json::json!({"username": ADMIN, "password": ADMIN_PASSWORD}));
    if let Some(proto) = forwarded_proto {
        req = req.header("x-forwarded-proto", proto);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.headers()["set-cookie"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_a_trusted_proxy_says_https() {
    let s = Server::start();
    let cookie = login_cookie(&s, Some("https")).await;
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = login_cookie(&s, None).await;
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let cookie = login_cookie(&s, Some("http")).await;
    assert!(!cookie.contains("Secure"), "{cookie}");

    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = Server::start_with(
        &tmp.path().join("data"),
        &[("SLIPWAY_TRUSTED_PROXIES", "10.9.9.9, 192.168.0.0/16")],
    );
    let cookie = login_cookie(&elsewhere, Some("https")).await;
    assert!(
        !cookie.contains("Secure"),
        "an untrusted peer's header is not believed: {cookie}"
    );
}

#[test]
fn a_bad_trusted_proxy_list_stops_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (code, stderr) = {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("SLIPWAY_TRUSTED_PROXIES", "10.0.0.0/99")
            .env("SLIPWAY_ADMIN_USER", ADMIN)
            .env("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(code, 1);
    assert!(stderr.contains("SLIPWAY_TRUSTED_PROXIES"), "{stderr}");
}
