//! Node packages the xtask relies on (binaryen's wasm-opt, Playwright): `npm ci` when a folder's
//! `node_modules` is missing or was installed from another `package-lock.json`. Never downloads a
//! browser.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::util;

/// Copy of the lock file that the last successful `npm ci` installed from.
const INSTALLED_LOCK: &str = ".xtask-installed-package-lock.json";

pub fn ensure_installed(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let lock_bytes =
        fs::read(&lock).with_context(|| format!("could not read {}", lock.display()))?;
    let modules = dir.join("node_modules");
    let marker = modules.join(INSTALLED_LOCK);
    if fs::read(&marker).ok().as_deref() == Some(lock_bytes.as_slice()) {
        return Ok(());
    }
    let reason = if modules.exists() {
        "package-lock.json changed"
    } else {
        "node_modules missing"
    };
    println!("{}: {reason}, running npm ci", dir.display());
    util::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .stdin(Stdio::null()),
    )
    .context("npm ci failed (is node/npm installed? `apt-get install -y nodejs npm`)")?;
    fs::write(&marker, &lock_bytes)
        .with_context(|| format!("could not write {}", marker.display()))?;
    Ok(())
}
