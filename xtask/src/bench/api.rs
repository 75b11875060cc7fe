//! The REST API as the benchmarks use it (PRODUCT.md §11): log in with the session cookie, create
//! automations, save drafts with `If-Match`, read pages of runs. And the documents they save.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{ADMIN_PASSWORD, ADMIN_USER};
use crate::http::{self, Client, Response};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A logged-in keep-alive connection to one server.
pub struct Api {
    client: Client,
    cookie: String,
}

/// What `PUT .../draft` answered, and how long the round trip took.
pub struct Saved {
    pub version: u64,
    pub revision: Option<u64>,
    pub problems: usize,
    pub took: Duration,
}

impl Api {
    /// Logs in as the bench admin.
    pub fn login(addr: SocketAddr) -> Result<Api> {
        let mut api = Api {
            client: Client::new(addr, TIMEOUT),
            cookie: String::new(),
        };
        let body = json!({ "username": ADMIN_USER, "password": ADMIN_PASSWORD }).to_string();
        let resp = api.send("POST", "/api/v1/session", &[], Some(body.as_bytes()))?;
        ensure_2xx(&resp, "POST /api/v1/session")?;
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next())
            .find(|c| c.trim_start().starts_with("slipway_session="))
            .context("the login answer set no slipway_session cookie")?;
        api.cookie = cookie.trim().to_string();
        Ok(api)
    }

    /// One request with the session cookie; a body is sent as JSON.
    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response> {
        let mut all: Vec<(&str, &str)> = vec![("Accept", "application/json")];
        if !self.cookie.is_empty() {
            all.push(("Cookie", &self.cookie));
        }
        if body.is_some() {
            all.push(("Content-Type", "application/json"));
        }
        all.extend_from_slice(headers);
        self.client
            .request(method, path, &all, body)
            .with_context(|| format!("{method} {path}"))
    }

    /// A GET whose answer must be 2xx JSON.
    pub fn get_json(&mut self, path: &str) -> Result<Value> {
        let resp = self.send("GET", path, &[], None)?;
        ensure_2xx(&resp, &format!("GET {path}"))?;
        serde_json::from_slice(resp.body()).with_context(|| format!("GET {path}: not JSON"))
    }

    pub fn create_automation(&mut self, slug: &str, name: &str) -> Result<()> {
        let body = json!({ "slug": slug, "name": name }).to_string();
        let resp = self.send("POST", "/api/v1/automations", &[], Some(body.as_bytes()))?;
        ensure_2xx(&resp, "POST /api/v1/automations")
    }

    /// Replaces the draft of `slug`, based on draft `version` (a new automation is at 1).
    pub fn put_draft(&mut self, slug: &str, version: u64, document: &[u8]) -> Result<Saved> {
        let path = format!("/api/v1/automations/{slug}/draft");
        let if_match = format!("\"{version}\"");
        let started = Instant::now();
        let resp = self.send("PUT", &path, &[("If-Match", &if_match)], Some(document))?;
        let took = started.elapsed();
        ensure_2xx(&resp, &format!("PUT {path}"))?;
        let answer: Value =
            serde_json::from_slice(resp.body()).with_context(|| format!("PUT {path}: not JSON"))?;
        let version = answer["version"]
            .as_u64()
            .or_else(|| etag_version(http::header(&resp, "ETag")?))
            .with_context(|| format!("PUT {path} answered no version: {answer}"))?;
        Ok(Saved {
            version,
            revision: answer["revision"].as_u64(),
            problems: answer["problems"].as_array().map_or(0, Vec::len),
            took,
        })
    }
}

impl Api {
    /// Creates automation `slug`, saves `document` as its draft (refused when it has problems)
    /// and deploys it to Live: what every Live benchmark starts from.
    pub fn deploy_new(&mut self, slug: &str, name: &str, document: &Value) -> Result<()> {
        self.create_automation(slug, name)?;
        let saved = self.put_draft(slug, 1, document.to_string().as_bytes())?;
        if saved.problems > 0 {
            anyhow::bail!("the {slug} document has {} problem(s)", saved.problems);
        }
        let path = format!("/api/v1/automations/{slug}/deployments");
        let deployed = self.send("POST", &path, &[], Some(br#"{"note": "bench"}"#))?;
        ensure_2xx(&deployed, &format!("POST {path}"))
    }
}

/// `"7"` or `W/"7"` → 7.
fn etag_version(etag: &str) -> Option<u64> {
    etag.trim_start_matches("W/").trim_matches('"').parse().ok()
}

pub fn ensure_2xx(resp: &Response, what: &str) -> Result<()> {
    if !resp.status().is_success() {
        let text = http::text(resp);
        let text: String = text.chars().take(300).collect();
        bail!("{what} answered {}: {text}", resp.status().as_u16());
    }
    Ok(())
}

/// The orders composer of the webhook budget: webhook → transform → database put → respond.
pub fn orders_document() -> Value {
    json!({
        "format": 1,
        "composers": [{
            "slug": "orders",
            "name": "Orders",
            "trigger": { "kind": "webhook", "method": "POST" },
            "steps": [
                { "name": "total", "kind": "transform", "config": { "value": {
                    "id": "{{ trigger.body.id }}",
                    "total": "{{ trigger.body.items | sum }}"
                } } },
                { "name": "save", "kind": "database", "config": {
                    "op": "put", "database": "orders",
                    "key": "{{ steps.total.id }}", "value": "{{ steps.total }}"
                } },
                { "name": "reply", "kind": "respond", "config": {
                    "status": 200, "body": "{{ steps.save }}"
                } }
            ],
            "links": [
                { "from": "trigger", "to": "total" },
                { "from": "total", "to": "save" },
                { "from": "save", "to": "reply" }
            ]
        }]
    })
}

/// A composer of `revs.len()` transform steps in a line, each with a config of about 300 bytes
/// (`revs[i]` goes into step i's config, so changing one entry is a single-step edit) and a
/// position on the canvas.
pub fn big_document(revs: &[u64]) -> Value {
    let steps: Vec<Value> = revs
        .iter()
        .enumerate()
        .map(|(i, rev)| {
            json!({
                "name": format!("step_{i}"),
                "kind": "transform",
                "config": step_config(i, *rev),
                "position": { "x": 340 + (i % 10) * 300, "y": 40 + (i / 10) * 140 }
            })
        })
        .collect();
    let mut links = vec![json!({ "from": "trigger", "to": "step_0" })];
    links.extend(
        (1..revs.len())
            .map(|i| json!({ "from": format!("step_{}", i - 1), "to": format!("step_{i}") })),
    );
    json!({
        "format": 1,
        "composers": [{
            "slug": "big",
            "name": "Big",
            "trigger": { "kind": "manual", "sample": { "id": "o-1", "items": [1, 2, 3] } },
            "steps": steps,
            "links": links
        }]
    })
}

fn step_config(i: usize, rev: u64) -> Value {
    json!({ "value": {
        "order_id": "{{ trigger.id }}",
        "customer": "{{ trigger.customer.name | default('anonymous') }}",
        "email": "{{ trigger.customer.email | lower }}",
        "total": "{{ trigger.items | sum }}",
        "currency": "EUR",
        "note": format!("step {i}: normalise the order before it is stored"),
        "threshold": 100 + i,
        "rev": rev
    } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_document_has_realistic_steps_and_a_line_of_links() {
        let doc = big_document(&[0; 100]);
        let composer = &doc["composers"][0];
        let steps = composer["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 100);
        assert_eq!(composer["links"].as_array().unwrap().len(), 100);
        assert_eq!(composer["links"][99]["to"], "step_99");
        for step in steps {
            let config = step["config"].to_string().len();
            assert!((250..=350).contains(&config), "{config} bytes");
        }
    }

    #[test]
    fn one_changed_rev_changes_one_step() {
        let mut revs = vec![0; 100];
        let before = big_document(&revs);
        revs[42] = 7;
        let after = big_document(&revs);
        let changed: Vec<usize> = (0..100)
            .filter(|&i| before["composers"][0]["steps"][i] != after["composers"][0]["steps"][i])
            .collect();
        assert_eq!(changed, vec![42]);
    }

    #[test]
    fn etags_are_read_strong_or_weak() {
        assert_eq!(etag_version("\"7\""), Some(7));
        assert_eq!(etag_version("W/\"12\""), Some(12));
        assert_eq!(etag_version("x"), None);
    }
}
