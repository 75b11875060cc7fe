//! Start-up: time from spawn to the first 200 on `/healthz` (fresh data dir, then a restart on the
//! same data), and resident memory 2 s after ready.

use std::path::Path;
use std::thread;
use std::time::Duration;

use anyhow::Result;

use super::{ADMIN_ENV as ENV, MIB, POLL_EVERY, READY_TIMEOUT, Row, STOP_GRACE};
use crate::process::Server;

pub const READY_BUDGET: Duration = Duration::from_millis(300);
pub const IDLE_RSS_BUDGET: u64 = 40 * MIB;

pub fn rows(exe: &Path) -> Vec<Row> {
    match measure(exe) {
        Ok(rows) => rows,
        Err(e) => vec![
            Row::failed("time to ready, fresh data dir", "≤ 300 ms", &e),
            Row::failed("idle RSS 2 s after ready", "≤ 40.00 MiB", &e),
        ],
    }
}

fn measure(exe: &Path) -> Result<Vec<Row>> {
    let tmp = tempfile::Builder::new()
        .prefix("slipway-bench-")
        .tempdir()?;
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data)?;

    let mut server = Server::start(exe, &data, ENV, &tmp.path().join("fresh.log"))?;
    let fresh = server.wait_ready(POLL_EVERY, READY_TIMEOUT)?;
    thread::sleep(Duration::from_secs(2));
    let rss = server.rss_bytes()?;
    server.stop(STOP_GRACE)?;

    let mut server = Server::start(exe, &data, ENV, &tmp.path().join("restart.log"))?;
    let restart = server.wait_ready(POLL_EVERY, READY_TIMEOUT)?;
    server.stop(STOP_GRACE)?;

    Ok(vec![
        Row::time_at_most("time to ready, fresh data dir", fresh, READY_BUDGET),
        Row::time_at_most("time to ready, restart", restart, READY_BUDGET),
        Row::bytes_at_most("idle RSS 2 s after ready", rss, IDLE_RSS_BUDGET),
    ])
}
