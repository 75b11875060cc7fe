//! Sizes: the stripped executable, and the site's WASM (after wasm-opt) gzipped at level 9 — the
//! WASM as the executable serves it, since the site is embedded at build time and `target/site`
//! may have been rebuilt since (by a debug build) by the time this runs.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;

use super::{KIB, MIB, Row, STOP_GRACE, Scratch};
use crate::http;

const EXE_BUDGET: u64 = 30 * MIB;
const WASM_GZIP_BUDGET: u64 = 350 * KIB;
const WASM_PATH: &str = "/pkg/slipway_bg.wasm";
const WASM_WHAT: &str = "site WASM after wasm-opt, gzip -9 (as the executable serves it)";

pub fn rows(exe: &Path) -> Vec<Row> {
    let exe_row = match fs::metadata(exe).with_context(|| format!("{} is missing", exe.display())) {
        Ok(meta) => Row::bytes_at_most("stripped executable", meta.len(), EXE_BUDGET),
        Err(e) => Row::failed("stripped executable", "≤ 30.00 MiB", &e),
    };
    let wasm_row = match served_wasm(exe).and_then(|wasm| gzip_size(&wasm)) {
        Ok(bytes) => Row::bytes_at_most(WASM_WHAT, bytes, WASM_GZIP_BUDGET),
        Err(e) => Row::failed(WASM_WHAT, "≤ 350.0 KiB", &e),
    };
    vec![exe_row, wasm_row]
}

/// `GET /pkg/slipway_bg.wasm` from the executable, on a fresh data dir.
fn served_wasm(exe: &Path) -> Result<Vec<u8>> {
    let scratch = Scratch::new()?;
    let server = scratch.serve(exe, "size", &[])?;
    let resp = http::get_once(server.addr, WASM_PATH, Duration::from_secs(30))
        .with_context(|| format!("GET {WASM_PATH}"))?;
    server.stop(STOP_GRACE)?;
    if resp.status() != 200 {
        bail!(
            "GET {WASM_PATH} answered {} (built without the site?)",
            resp.status()
        );
    }
    if let Some(encoding) = http::header(&resp, "Content-Encoding") {
        bail!("GET {WASM_PATH} came {encoding}-encoded, though no encoding was accepted");
    }
    if !resp.body().starts_with(b"\0asm") {
        bail!("GET {WASM_PATH} is not WebAssembly");
    }
    Ok(resp.into_body())
}

fn gzip_size(bytes: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(9));
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_shrinks_repetitive_input() {
        let size = gzip_size(&[0u8; 100_000]).unwrap();
        assert!(size > 0 && size < 1_000, "{size}");
    }
}
