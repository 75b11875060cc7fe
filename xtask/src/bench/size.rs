//! Sizes: the stripped executable and the site's WASM after wasm-opt, gzipped at level 9.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use flate2::Compression;
use flate2::write::GzEncoder;

use super::{KIB, MIB, Row, require_file};

const EXE_BUDGET: u64 = 30 * MIB;
const WASM_GZIP_BUDGET: u64 = 350 * KIB;

pub fn rows(exe: &Path, site_wasm: &Path) -> Vec<Row> {
    let exe_row = match fs::metadata(exe).with_context(|| format!("{} is missing", exe.display())) {
        Ok(meta) => Row::bytes_at_most("stripped executable", meta.len(), EXE_BUDGET),
        Err(e) => Row::failed("stripped executable", "≤ 30.00 MiB", &e),
    };
    let wasm_row = match gzip_size(site_wasm) {
        Ok(bytes) => {
            Row::bytes_at_most("site WASM after wasm-opt, gzip -9", bytes, WASM_GZIP_BUDGET)
        }
        Err(e) => Row::failed("site WASM after wasm-opt, gzip -9", "≤ 350.0 KiB", &e),
    };
    vec![exe_row, wasm_row]
}

fn gzip_size(path: &Path) -> Result<u64> {
    require_file(path)?;
    let bytes = fs::read(path)?;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(9));
    encoder.write_all(&bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_shrinks_repetitive_input() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.wasm");
        fs::write(&file, vec![0u8; 100_000]).unwrap();
        let size = gzip_size(&file).unwrap();
        assert!(size > 0 && size < 1_000, "{size}");
    }
}
