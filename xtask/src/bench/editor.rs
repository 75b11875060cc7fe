//! Editing: the canvas in Chromium (end2end/bench/canvas.mjs: open a 300-step composer, drag a
//! step), autosave round trips of a 100-step composer, and the disk cost of 1,000 single-step
//! edits kept as revisions.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::api::{self, Api};
use super::{ADMIN_PASSWORD, ADMIN_USER, MIB, Row, STOP_GRACE, Scratch, millis, percentile};
use crate::{npm, util};

const OPEN_BUDGET: Duration = Duration::from_millis(1000);
const DRAG_FPS_BUDGET: f64 = 50.0;
const AUTOSAVE_BUDGET: Duration = Duration::from_millis(50);
const REVISIONS_BUDGET: u64 = 10 * MIB;

const CANVAS_TIMEOUT: Duration = Duration::from_secs(300);
const STEPS: usize = 100;
const AUTOSAVES: usize = 50;
const AUTOSAVE_TIME_LIMIT: Duration = Duration::from_secs(120);
const EDITS: u64 = 1000;
const EDITS_TIME_LIMIT: Duration = Duration::from_secs(300);

const OPEN_WHAT: &str = "open a 300-step composer (Chromium, median of 3)";
const DRAG_WHAT: &str = "drag a step in it (Chromium)";
const AUTOSAVE_WHAT: &str = "autosave of a 100-step composer (loopback round trip, median)";
const REVISIONS_WHAT: &str =
    "1,000 single-step edits of a 100-step composer, as revisions (slipway.redb growth)";

pub fn rows(exe: &Path) -> Vec<Row> {
    let mut rows = canvas_rows(exe);
    rows.push(autosave(exe).unwrap_or_else(|e| Row::failed(AUTOSAVE_WHAT, "≤ 50 ms", &e)));
    rows.push(revisions(exe).unwrap_or_else(|e| Row::failed(REVISIONS_WHAT, "≤ 10.00 MiB", &e)));
    rows
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .filter(|c| !c.is_empty())
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn canvas_rows(exe: &Path) -> Vec<Row> {
    let chromium = chromium();
    if !chromium.is_file() {
        let why = format!("no {}", chromium.display());
        return vec![
            Row::not_measured(OPEN_WHAT, "≤ 1000 ms", &why),
            Row::not_measured(DRAG_WHAT, "≥ 50 fps", &why),
        ];
    }
    match canvas(exe, &chromium) {
        Ok((open, fps)) => vec![
            Row::time_at_most(OPEN_WHAT, open, OPEN_BUDGET),
            Row::at_least(DRAG_WHAT, fps, DRAG_FPS_BUDGET, "fps"),
        ],
        Err(e) => {
            let open = Row::failed(OPEN_WHAT, "≤ 1000 ms", &e);
            let drag = Row {
                what: DRAG_WHAT.into(),
                figure: "error".into(),
                budget: "≥ 50 fps".into(),
                ok: Some(false),
            };
            vec![open, drag]
        }
    }
}

/// Runs canvas.mjs against a fresh server; returns (time to open, frames per second in a drag).
fn canvas(exe: &Path, chromium: &Path) -> Result<(Duration, f64)> {
    let dir = util::root().join("end2end");
    npm::ensure_installed(&dir)?;
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "canvas", &[])?;
    let out = super::output_within(
        Command::new("node")
            .arg("bench/canvas.mjs")
            .current_dir(&dir)
            .env("BASE", format!("http://{}", server.addr))
            .env("SLIPWAY_ADMIN_USER", ADMIN_USER)
            .env("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("CHROMIUM", chromium),
        CANVAS_TIMEOUT,
    );
    server.stop(STOP_GRACE)?;
    parse_canvas(&out?)
}

fn parse_canvas(out: &str) -> Result<(Duration, f64)> {
    let line = out
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("canvas.mjs printed no JSON line:\n{out}"))?;
    let v: Value = serde_json::from_str(line)
        .with_context(|| format!("canvas.mjs printed `{line}`, not JSON"))?;
    let (Some(open_ms), Some(fps)) = (v["open_ms"].as_f64(), v["drag_fps"].as_f64()) else {
        bail!("canvas.mjs printed `{line}`: no open_ms or drag_fps");
    };
    Ok((Duration::from_secs_f64(open_ms / 1000.0), fps))
}

/// 50 saves of a 100-step composer, each changing one step's config, on a fresh server.
fn autosave(exe: &Path) -> Result<Row> {
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "autosave", &[])?;
    let mut api = Api::login(server.addr)?;
    let slug = "bench-autosave";
    api.create_automation(slug, "Bench autosave")?;
    let mut revs = vec![0; STEPS];
    let first = api.put_draft(slug, 1, api::big_document(&revs).to_string().as_bytes())?;
    if first.problems > 0 {
        println!(
            "bench: the 100-step document has {} problem(s) (saved anyway)",
            first.problems
        );
    }
    let mut version = first.version;
    let mut took = Vec::with_capacity(AUTOSAVES);
    let started = Instant::now();
    for edit in 0..AUTOSAVES {
        if started.elapsed() > AUTOSAVE_TIME_LIMIT {
            bail!("only {edit} of {AUTOSAVES} saves within {AUTOSAVE_TIME_LIMIT:?}");
        }
        revs[edit * 37 % STEPS] = edit as u64 + 1;
        let body = api::big_document(&revs).to_string();
        let saved = api.put_draft(slug, version, body.as_bytes())?;
        version = saved.version;
        took.push(saved.took);
    }
    server.stop(STOP_GRACE)?;
    took.sort();
    let median = percentile(&took, 0.5).context("no saves")?;
    let p95 = percentile(&took, 0.95).context("no saves")?;
    let mut row = Row::time_at_most(AUTOSAVE_WHAT, median, AUTOSAVE_BUDGET);
    row.what = format!(
        "autosave of a 100-step composer (loopback round trip, median of {AUTOSAVES}; p95 {})",
        millis(p95)
    );
    Ok(row)
}

/// 1,000 single-step edits with a revision at every save; the growth of slipway.redb.
fn revisions(exe: &Path) -> Result<Row> {
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "revisions", &[("SLIPWAY_CHECKPOINT_SECS", "0")])?;
    let db = scratch.data.join("slipway.redb");
    let mut api = Api::login(server.addr)?;
    let slug = "bench-revisions";
    api.create_automation(slug, "Bench revisions")?;
    let mut revs = vec![0; STEPS];
    let mut version = api
        .put_draft(slug, 1, api::big_document(&revs).to_string().as_bytes())?
        .version;
    let before = file_size(&db)?;
    let started = Instant::now();
    let mut last_revision = None;
    for edit in 0..EDITS {
        if started.elapsed() > EDITS_TIME_LIMIT {
            bail!("only {edit} of {EDITS} edits within {EDITS_TIME_LIMIT:?}");
        }
        revs[(edit as usize * 37) % STEPS] = 1000 + edit;
        let body = api::big_document(&revs).to_string();
        let saved = api.put_draft(slug, version, body.as_bytes())?;
        version = saved.version;
        last_revision = saved.revision;
    }
    let took = started.elapsed();
    let after = file_size(&db)?;
    server.stop(STOP_GRACE)?;
    match last_revision {
        Some(n) if n >= EDITS => {}
        other => bail!(
            "the last of {EDITS} saves answered revision {other:?}: not every edit became a revision \
             (is SLIPWAY_CHECKPOINT_SECS=0 honoured?)"
        ),
    }
    println!(
        "bench: {EDITS} edits in {:.1} s, slipway.redb {} → {}",
        took.as_secs_f64(),
        util::human_bytes(before),
        util::human_bytes(after)
    );
    Ok(Row::bytes_at_most(
        REVISIONS_WHAT,
        after.saturating_sub(before),
        REVISIONS_BUDGET,
    ))
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("{} is missing", path.display()))?
        .len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_json_line_of_canvas_mjs() {
        let (open, fps) =
            parse_canvas("warming up\n{\"open_ms\":640,\"drag_fps\":58.5,\"drag_moves\":120}\n")
                .unwrap();
        assert_eq!(open, Duration::from_millis(640));
        assert_eq!(fps, 58.5);
        assert!(parse_canvas("no json\n").is_err());
        assert!(parse_canvas("{\"open_ms\":1}\n").is_err());
    }
}
