//! The `http` step: a request with the connection's base URL and headers, a timeout from the
//! step, redirects capped, and the response body capped at [`MAX_RESPONSE_BYTES`].

use crate::steps::{MAX_RESPONSE_BYTES, StepContext, header_map, text_of};
use serde_json::{Value, json};

fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // Egress rules on every address connected to: resolved names through the resolver,
            // IP literals here and in `call`, on every redirect.
            .dns_resolver(std::sync::Arc::new(crate::egress::CheckedResolver))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 10 {
                    attempt.error("too many redirects")
                } else if let Some(why) = crate::egress::check_url(attempt.url()) {
                    attempt.error(crate::egress::EgressDenied(why))
                } else {
                    attempt.follow()
                }
            }))
            .connect_timeout(std::time::Duration::from_secs(10))
            .user_agent("slipway")
            .build()
            .unwrap_or_default()
    })
}

pub async fn call(ctx: &StepContext, input: &Value) -> Result<Value, String> {
    ctx.writes_committed().await?;
    let method = input
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_uppercase();
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("method: `{method}` is not an HTTP method"))?;
    let mut url = input
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let mut headers = std::collections::BTreeMap::new();
    if let Some(name) = input
        .get("connection")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        let conn = ctx
            .document
            .connection(name)
            .ok_or_else(|| format!("connection: `{name}` does not exist"))?;
        let config = ctx
            .renderer
            .render_in(&conn.config, &ctx.scope.expr())
            .map_err(|e| format!("connection {name}, {e}"))?;
        if !url.starts_with("http://") && !url.starts_with("https://") {
            let base = config
                .get("base_url")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim_end_matches('/');
            url = format!("{base}/{}", url.trim_start_matches('/'));
        }
        headers.extend(header_map(config.get("headers")));
    }
    headers.extend(header_map(input.get("headers")));
    let parsed =
        reqwest::Url::parse(&url).map_err(|e| format!("url: `{url}` is not a valid URL: {e}"))?;
    if let Some(why) = crate::egress::check_url(&parsed) {
        return Err(format!("not sent: {why}"));
    }
    let mut req = client().request(method, parsed);
    for (k, v) in &headers {
        req = req.header(k, v);
    }
    if let Some(q) = input.get("query").and_then(Value::as_object) {
        let pairs: Vec<(String, String)> = q.iter().map(|(k, v)| (k.clone(), text_of(v))).collect();
        req = req.query(&pairs);
    }
    match input.get("body") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req = req.body(s.clone()),
        Some(other) => req = req.json(other),
    }
    let mut resp = req.send().await.map_err(describe)?;
    let status = resp.status().as_u16();
    let resp_headers: serde_json::Map<String, Value> = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_string()),
            )
        })
        .collect();
    if resp
        .content_length()
        .is_some_and(|l| l as usize > MAX_RESPONSE_BYTES)
    {
        return Err(format!(
            "the response is larger than {} MiB",
            MAX_RESPONSE_BYTES >> 20
        ));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(describe)? {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(format!(
                "the response is larger than {} MiB",
                MAX_RESPONSE_BYTES >> 20
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let is_json = resp_headers
        .get("content-type")
        .and_then(Value::as_str)
        .is_some_and(|c| c.contains("json"));
    let body = if is_json && !bytes.is_empty() {
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("the response says it is JSON but is not: {e}"))?
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    let allowed = match input.get("expect_status") {
        None | Some(Value::Null) => (200..300).contains(&status),
        Some(Value::Array(list)) => list.iter().any(|v| v.as_u64() == Some(status as u64)),
        Some(v) => {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                == Some(status as u64)
        }
    };
    let output = json!({ "status": status, "headers": resp_headers, "body": body });
    if allowed {
        Ok(output)
    } else {
        Err(format!("the server answered {status}"))
    }
}

fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    // A refusal of the egress rules is the whole story, wherever in the chain it is.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(denied) = s.downcast_ref::<crate::egress::EgressDenied>() {
            return format!("not sent: {denied}");
        }
        source = s.source();
    }
    let mut msg = if e.is_timeout() {
        "the request timed out".to_string()
    } else if e.is_redirect() {
        "too many redirects".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        "the request failed".to_string()
    };
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    msg
}
