//! `cargo xtask bench`: measures the budgets of PRODUCT.md §13 that can be measured, and prints one
//! table. Each measurement group is a module returning `Row`s; add a group by adding a module and
//! a line in `bench`.

mod size;
mod startup;

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::{build, dist, util};

/// One line of the table. `ok` is `None` for figures without a budget.
pub struct Row {
    pub what: String,
    pub figure: String,
    pub budget: String,
    pub ok: Option<bool>,
}

impl Row {
    /// A size that must stay at or below `max` bytes.
    pub fn bytes_at_most(what: impl Into<String>, bytes: u64, max: u64) -> Row {
        Row {
            what: what.into(),
            figure: util::human_bytes(bytes),
            budget: format!("≤ {}", util::human_bytes(max)),
            ok: Some(bytes <= max),
        }
    }

    /// A duration that must stay at or below `max`.
    pub fn time_at_most(what: impl Into<String>, took: Duration, max: Duration) -> Row {
        Row {
            what: what.into(),
            figure: millis(took),
            budget: format!("≤ {}", millis(max)),
            ok: Some(took <= max),
        }
    }

    /// A row whose measurement failed: shown, and counted as over budget.
    pub fn failed(what: impl Into<String>, budget: impl Into<String>, err: &anyhow::Error) -> Row {
        eprintln!("bench: could not measure: {err:#}");
        Row {
            what: what.into(),
            figure: "error".into(),
            budget: budget.into(),
            ok: Some(false),
        }
    }
}

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * 1024;

fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

pub fn bench(build_first: bool) -> Result<bool> {
    let exe = dist::dist_exe();
    if build_first {
        dist::dist()?;
    } else if !exe.is_file() || build::site_profile().as_deref() != Some("release") {
        bail!(
            "--no-build needs dist/slipway and a release target/site: run `cargo xtask dist` first"
        );
    }

    util::stage("bench");
    let mut rows = Vec::new();
    rows.extend(size::rows(
        &exe,
        &util::site_dir().join("pkg").join("slipway_bg.wasm"),
    ));
    rows.extend(startup::rows(&exe));

    print_table(&rows);
    let over = rows.iter().filter(|r| r.ok == Some(false)).count();
    let within = rows.iter().filter(|r| r.ok == Some(true)).count();
    println!("bench: {within} within budget, {over} over budget");
    Ok(over == 0)
}

fn print_table(rows: &[Row]) {
    let header = ["what", "figure", "budget", "status"];
    let status = |ok: Option<bool>| match ok {
        Some(true) => "ok",
        Some(false) => "OVER",
        None => "",
    };
    let cells: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.what.as_str(),
                r.figure.as_str(),
                r.budget.as_str(),
                status(r.ok),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("{}", padded.join(" | ").trim_end());
    };
    println!();
    line(header);
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    for row in cells {
        line(row);
    }
    println!();
}

/// A measured file must exist; its absence is an error naming it.
pub fn require_file(path: &Path) -> Result<()> {
    if !path.is_file() {
        bail!("{} is missing", path.display());
    }
    Ok(())
}
