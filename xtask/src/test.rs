//! `cargo xtask test`: everything CI checks, in order, stopping at the first failing stage. Tests run
//! per package because `cargo test --workspace` would unify `app`'s `ssr` and `hydrate` features.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::build::{self, Profile, WASM_TARGET};
use crate::{npm, process, util};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    All,
    AllButE2e,
    OnlyE2e { playwright_args: Vec<String> },
}

enum Outcome {
    Passed,
    Skipped(String),
}

type StageFn<'a> = Box<dyn Fn() -> Result<Outcome> + 'a>;

/// Runs the selected stages; returns whether all of them passed (the summary is printed either way).
pub fn test(selection: Selection) -> Result<bool> {
    let mut stages: Vec<(&str, StageFn)> = Vec::new();
    stages.push(("wasm32 target", Box::new(ensure_wasm_target)));
    let only_e2e = matches!(selection, Selection::OnlyE2e { .. });
    if !only_e2e {
        stages.push(("fmt", Box::new(fmt)));
        stages.push(("clippy", Box::new(clippy)));
    }
    stages.push(("build", Box::new(build_debug)));
    if !only_e2e {
        stages.push(("tests", Box::new(cargo_tests)));
    }
    match &selection {
        Selection::All => stages.push(("e2e", Box::new(|| e2e(&[])))),
        Selection::OnlyE2e { playwright_args } => {
            stages.push(("e2e", Box::new(move || e2e(playwright_args))))
        }
        Selection::AllButE2e => {}
    }

    let total = stages.len();
    let (mut passed, mut skipped) = (0, 0);
    let mut report = Vec::new();
    let mut failure = None;
    for (i, (name, stage)) in stages.iter().enumerate() {
        util::stage(&format!("[{}/{total}] {name}", i + 1));
        let started = Instant::now();
        match stage() {
            Ok(Outcome::Passed) => {
                passed += 1;
                report.push(format!("  {name}: passed ({})", secs(started.elapsed())));
            }
            Ok(Outcome::Skipped(why)) => {
                skipped += 1;
                println!("skipped: {why}");
                report.push(format!("  {name}: skipped ({why})"));
            }
            Err(err) => {
                report.push(format!("  {name}: FAILED ({})", secs(started.elapsed())));
                failure = Some((*name, err));
                break;
            }
        }
    }
    if selection == Selection::AllButE2e {
        skipped += 1;
        report.push("  e2e: skipped (--no-e2e)".into());
    }

    println!("\nxtask test stages:");
    for line in &report {
        println!("{line}");
    }
    let failed = usize::from(failure.is_some());
    if let Some((name, err)) = &failure {
        println!("\nerror: xtask test: stage `{name}` failed: {err:#}");
    }
    // The plain closing line CI reads: `word: N passed, N failed[, N skipped]` alone on a line.
    if skipped > 0 {
        println!("xtask: {passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("xtask: {passed} passed, {failed} failed");
    }
    Ok(failure.is_none())
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn ensure_wasm_target() -> Result<Outcome> {
    build::ensure_wasm_target()?;
    Ok(Outcome::Passed)
}

fn fmt() -> Result<Outcome> {
    util::run(util::cargo().args(["fmt", "--all", "--", "--check"]))
        .context("formatting differs: run `cargo fmt --all`")?;
    Ok(Outcome::Passed)
}

fn clippy() -> Result<Outcome> {
    // The server embeds target/site at compile time; on a fresh clone it does not exist yet.
    std::fs::create_dir_all(util::site_dir())?;
    util::run(util::cargo().args([
        "clippy",
        "-p",
        "model",
        "-p",
        "engine",
        "-p",
        "server",
        "-p",
        "xtask",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    util::run(build::wasm_env(&mut util::cargo()).args([
        "clippy",
        "-p",
        "frontend",
        "-p",
        "app",
        "--target",
        WASM_TARGET,
        "--lib",
        "--",
        "-D",
        "warnings",
    ]))?;
    Ok(Outcome::Passed)
}

fn build_debug() -> Result<Outcome> {
    build::build(Profile::Debug)?;
    Ok(Outcome::Passed)
}

fn cargo_tests() -> Result<Outcome> {
    let runs: &[&[&str]] = &[
        &["test", "-p", "model"],
        &["test", "-p", "engine"],
        &["test", "-p", "app", "--features", "ssr", "--lib"],
        &["test", "-p", "server"],
        &["test", "-p", "xtask"],
    ];
    // Reports the crash tests leave (their output is captured by the test harness).
    let reports = [
        util::root().join("target/power-loss.txt"),
        util::root().join("target/crash.txt"),
    ];
    for report in &reports {
        let _ = std::fs::remove_file(report);
    }
    for args in runs {
        util::run(util::cargo().args(*args))?;
    }
    for report in &reports {
        match std::fs::read_to_string(report) {
            Ok(text) => print!("{text}"),
            Err(_) => println!("no report in {}", report.display()),
        }
    }
    Ok(Outcome::Passed)
}

fn end2end_dir() -> PathBuf {
    util::root().join("end2end")
}

fn e2e(playwright_args: &[String]) -> Result<Outcome> {
    let dir = end2end_dir();
    let tests = dir.join("tests");
    let has_tests = tests.is_dir()
        && util::files_under(&tests)?.iter().any(|f| {
            let name = f.to_string_lossy();
            [".spec.ts", ".test.ts", ".spec.js", ".test.js"]
                .iter()
                .any(|ext| name.ends_with(ext))
        });
    if !has_tests {
        return Ok(Outcome::Skipped(format!(
            "no *.spec.ts in {}",
            tests.display()
        )));
    }
    npm::ensure_installed(&dir)?;
    ensure_chromium()?;

    let exe = build::server_exe(Profile::Debug);
    let port = process::free_port()?;
    util::run(
        Command::new("npx")
            .args(["--no-install", "playwright", "test"])
            .args(playwright_args)
            .current_dir(&dir)
            .env("SLIPWAY_BIN", &exe)
            .env("SLIPWAY_E2E_PORT", port.to_string())
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            // A fresh data dir each run: the config makes one unless this is inherited.
            .env_remove("SLIPWAY_E2E_DATA_DIR")
            .stdin(Stdio::null()),
    )?;
    Ok(Outcome::Passed)
}

/// Debian's Chromium (Playwright's own browser downloads cannot work here).
fn ensure_chromium() -> Result<()> {
    if let Some(custom) = std::env::var_os("CHROMIUM") {
        let custom = PathBuf::from(custom);
        if custom.is_file() {
            return Ok(());
        }
        bail!("CHROMIUM={} does not exist", custom.display());
    }
    let chromium = Path::new("/usr/bin/chromium");
    if chromium.is_file() {
        return Ok(());
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = rustix::process::geteuid().is_root();
    if !root {
        bail!(
            "{} is missing; install Debian's Chromium with:\n  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium",
            chromium.display()
        );
    }
    println!(
        "{} is missing: installing Debian's chromium",
        chromium.display()
    );
    let apt = |args: &[&str]| {
        util::run(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdin(Stdio::null()),
        )
    };
    apt(&["update"])?;
    apt(&["install", "-y", "chromium"])?;
    if !chromium.is_file() {
        bail!(
            "apt-get installed chromium but {} is still missing",
            chromium.display()
        );
    }
    Ok(())
}
