//! `cargo xtask bench`: measures the budgets of PRODUCT.md §13 that can be measured, and prints one
//! table. Each measurement group is a module returning `Row`s; add a group by adding a module and
//! a line in `bench`. A group never aborts the others: what it could not measure is a row too.

mod api;
mod driver;
mod durability;
mod editor;
mod load;
mod overload;
mod size;
mod soak;
mod startup;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;

use crate::process::Server;
use crate::{dist, util};

/// The first admin of every benchmark server.
pub const ADMIN_USER: &str = "bench";
pub const ADMIN_PASSWORD: &str = "bench-password-123";
pub const ADMIN_ENV: &[(&str, &str)] = &[
    ("SLIPWAY_ADMIN_USER", ADMIN_USER),
    ("SLIPWAY_ADMIN_PASSWORD", ADMIN_PASSWORD),
];
pub const POLL_EVERY: Duration = Duration::from_millis(5);
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// The server lets running steps finish for up to 30 s after SIGTERM.
pub const STOP_GRACE: Duration = Duration::from_secs(35);

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

    /// A figure that must stay at or above `min`, shown with `unit`.
    pub fn at_least(what: impl Into<String>, value: f64, min: f64, unit: &str) -> Row {
        Row {
            what: what.into(),
            figure: format!("{} {unit}", number(value)),
            budget: format!("≥ {} {unit}", number(min)),
            ok: Some(value >= min),
        }
    }

    /// A row that could not be measured on this machine (a missing tool): shown, not counted.
    pub fn not_measured(what: impl Into<String>, budget: impl Into<String>, why: &str) -> Row {
        Row {
            what: what.into(),
            figure: format!("not measured ({why})"),
            budget: budget.into(),
            ok: None,
        }
    }

    /// A fraction (0.05 is 5 %) that must stay at or below `max`.
    pub fn percent_at_most(what: impl Into<String>, fraction: f64, max: f64) -> Row {
        Row {
            what: what.into(),
            figure: format!("{:.1} %", fraction * 100.0),
            budget: format!("≤ {:.0} %", max * 100.0),
            ok: Some(fraction <= max),
        }
    }

    /// A group that could not measure: each of its `(what, budget)` rows failed, the first
    /// with the error.
    pub fn all_failed(slots: &[(&str, &str)], e: anyhow::Error) -> Vec<Row> {
        let mut e = Some(e);
        slots
            .iter()
            .map(|(what, budget)| {
                let why = e
                    .take()
                    .unwrap_or_else(|| anyhow::anyhow!("see the error above"));
                Row::failed(*what, *budget, &why)
            })
            .collect()
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

pub fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// The measurement groups, in the order they run (all of them when none is named).
pub const GROUPS: [&str; 6] = [
    "size",
    "startup",
    "editor",
    "load",
    "overload",
    "durability",
];
/// Groups run only when named (`--soak`): they take minutes.
pub const LONG_GROUPS: [&str; 1] = ["soak"];

/// Runs the `groups` (all when empty), prints the table; returns whether all rows are in budget.
pub fn bench(build_first: bool, groups: &[String]) -> Result<bool> {
    let exe = match std::env::var_os("SLIPWAY_BENCH_EXE").filter(|e| !e.is_empty()) {
        Some(exe) => {
            let exe = std::path::absolute(PathBuf::from(exe))?;
            println!(
                "bench: measuring {} (SLIPWAY_BENCH_EXE), building nothing",
                exe.display()
            );
            require_file(&exe)?;
            exe
        }
        None => {
            let exe = dist::dist_exe();
            if build_first {
                dist::dist()?;
            } else if !exe.is_file() {
                bail!("--no-build needs dist/slipway: run `cargo xtask dist` first");
            }
            exe
        }
    };
    let wanted = |group: &str| {
        groups.iter().any(|g| g == group) || (groups.is_empty() && !LONG_GROUPS.contains(&group))
    };

    util::stage("bench");
    let mut rows = Vec::new();
    for group in GROUPS.into_iter().chain(LONG_GROUPS).filter(|g| wanted(g)) {
        util::stage(&format!("bench: {group}"));
        rows.extend(match group {
            "size" => size::rows(&exe),
            "startup" => startup::rows(&exe),
            "editor" => editor::rows(&exe),
            "durability" => durability::rows(&exe),
            "overload" => overload::rows(&exe),
            "soak" => soak::rows(&exe),
            _ => load::rows(&exe),
        });
    }

    print_table(&rows);
    let over = rows.iter().filter(|r| r.ok == Some(false)).count();
    let within = rows.iter().filter(|r| r.ok == Some(true)).count();
    let unmeasured = rows.iter().filter(|r| r.ok.is_none()).count();
    if unmeasured > 0 {
        println!(
            "bench: {within} within budget, {over} over budget, {unmeasured} not measured or without a budget"
        );
    } else {
        println!("bench: {within} within budget, {over} over budget");
    }
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

/// A number with thousands separators (`12,345`), or one decimal below 100 (`57.3`).
pub fn number(value: f64) -> String {
    if value.abs() < 100.0 && value.fract() != 0.0 {
        return format!("{value:.1}");
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 && digits != "0" {
        out.insert(0, '-');
    }
    out
}

/// The `p`-quantile (0.0..=1.0) of sorted values, nearest rank; `None` when there are none.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// A temporary folder for one group (removed when dropped), with an empty `data` dir in it.
pub struct Scratch {
    pub tmp: TempDir,
    pub data: PathBuf,
}

impl Scratch {
    pub fn new() -> Result<Scratch> {
        let tmp = tempfile::Builder::new()
            .prefix("slipway-bench-")
            .tempdir()
            .context("could not create a temporary folder")?;
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data)
            .with_context(|| format!("could not create {}", data.display()))?;
        Ok(Scratch { tmp, data })
    }

    /// Starts `exe serve` on a free loopback port on this data dir with the bench admin and
    /// `extra_env`, logging to `<log>.log` here, and waits until `/healthz` answers.
    pub fn serve(&self, exe: &Path, log: &str, extra_env: &[(&str, &str)]) -> Result<Server> {
        let mut server = self.start(exe, log, extra_env)?;
        server.wait_ready(POLL_EVERY, READY_TIMEOUT)?;
        Ok(server)
    }

    /// Like `serve`, without waiting: `wait_ready` on the answer gives the time since the spawn.
    pub fn start(&self, exe: &Path, log: &str, extra_env: &[(&str, &str)]) -> Result<Server> {
        let env: Vec<(&str, &str)> = ADMIN_ENV.iter().chain(extra_env).copied().collect();
        let log = self.tmp.path().join(format!("{log}.log"));
        Server::start(exe, &self.data, &env, &log)
    }
}

/// Runs `cmd` in its own process group with stdout captured and stderr inherited; past `timeout`
/// the whole group is killed and that is an error. Returns stdout.
pub fn output_within(cmd: &mut Command, timeout: Duration) -> Result<String> {
    use std::os::unix::process::CommandExt;
    let shown = util::display(cmd);
    println!("$ {shown}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let mut stdout = child.stdout.take().context("no stdout")?;
    let reader = thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            // The process group of a child we spawned as its leader (not reaped yet), so that a
            // browser it started goes too.
            let _ = rustix::process::kill_process_group(
                rustix::process::Pid::from_child(&child),
                rustix::process::Signal::KILL,
            );
            let _ = child.wait();
            bail!("`{shown}` did not finish within {timeout:?}; killed");
        }
        thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(out)
}

/// A measured file must exist; its absence is an error naming it.
pub fn require_file(path: &Path) -> Result<()> {
    if !path.is_file() {
        bail!("{} is missing", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile(&v, 1.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 0.95), Some(7));
        assert_eq!(percentile::<u32>(&[], 0.5), None);
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(number(12345.4), "12,345");
        assert_eq!(number(1_000_000.0), "1,000,000");
        assert_eq!(number(57.34), "57.3");
        assert_eq!(number(50.0), "50");
        assert_eq!(number(999.0), "999");
        assert_eq!(number(-1234.0), "-1,234");
    }

    #[test]
    fn rows_judge_their_budgets() {
        assert_eq!(Row::at_least("fps", 57.3, 50.0, "fps").ok, Some(true));
        let row = Row::at_least("runs", 8123.0, 10_000.0, "runs/s");
        assert_eq!((row.figure.as_str(), row.ok), ("8,123 runs/s", Some(false)));
        assert_eq!(row.budget, "≥ 10,000 runs/s");
        let row = Row::not_measured("drag", "≥ 50 fps", "no /usr/bin/chromium");
        assert_eq!(row.ok, None);
        assert_eq!(row.figure, "not measured (no /usr/bin/chromium)");
    }

    #[test]
    fn a_command_past_its_time_is_killed() {
        let started = Instant::now();
        let err = output_within(
            Command::new("sh").args(["-c", "sleep 30"]),
            Duration::from_millis(200),
        )
        .unwrap_err();
        assert!(format!("{err}").contains("did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let out = output_within(
            Command::new("sh").args(["-c", "echo hi"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out, "hi\n");
    }
}
