//! `cargo xtask dist`: the release build (wasm-release + wasm-opt), its executable copied to
//! `dist/slipway` and stripped.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::build::{self, Profile};
use crate::util;

pub fn dist_exe() -> PathBuf {
    util::root().join("dist").join("slipway")
}

pub fn dist() -> Result<PathBuf> {
    build::build(Profile::Release)?;
    util::stage("dist");
    let from = build::server_exe(Profile::Release);
    let to = dist_exe();
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    // Replace rather than overwrite, so a running dist/slipway is not disturbed.
    let tmp = to.with_extension("tmp");
    fs::copy(&from, &tmp)
        .with_context(|| format!("could not copy {} to {}", from.display(), tmp.display()))?;
    // The release profile strips already; `strip` is a second guard when binutils is there.
    match util::on_path("strip") {
        Some(strip) => util::run(Command::new(strip).arg(&tmp))?,
        None => println!("`strip` not found (binutils); relying on the profile's strip = true"),
    }
    fs::rename(&tmp, &to)?;
    let size = fs::metadata(&to)?.len();
    println!(
        "{}: {} ({size} bytes)",
        to.display(),
        util::human_bytes(size)
    );
    Ok(to)
}
