//! Running the `slipway` executable: in the foreground for `cargo xtask run`, and as a managed
//! child on a free loopback port for measurements (stopped with SIGTERM, killed if it lingers).

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rustix::process::{Pid, Signal, kill_process};

use crate::build::{self, Profile};
use crate::{http, util};

pub const DEFAULT_ADDR: &str = "127.0.0.1:7400";
pub const DEFAULT_DATA_DIR: &str = "./slipway-data";

/// A port that was free a moment ago on 127.0.0.1 (bind to port 0, read it, let it go).
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("could not bind 127.0.0.1:0 to find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// `cargo xtask run`: build, then `slipway serve` in the foreground from the workspace root.
pub fn run_server(profile: Profile, serve_args: &[String]) -> Result<()> {
    build::build(profile)?;
    let exe = build::server_exe(profile);
    let mut cmd = Command::new(&exe);
    cmd.current_dir(util::root()).arg("serve");
    let given = |flag: &str| {
        serve_args
            .iter()
            .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
    };
    if !given("--addr") && std::env::var_os("SLIPWAY_ADDR").is_none() {
        cmd.args(["--addr", DEFAULT_ADDR]);
    }
    if !given("--data-dir") && std::env::var_os("SLIPWAY_DATA_DIR").is_none() {
        cmd.args(["--data-dir", DEFAULT_DATA_DIR]);
    }
    cmd.args(serve_args);
    util::stage("run");
    println!("$ {}", util::display(&cmd));
    let mut child = cmd
        .spawn()
        .with_context(|| format!("could not start {}", exe.display()))?;
    // Ctrl-C reaches the whole foreground process group, so the server gets it directly; we only
    // have to outlive it to report how it ended. Ignored after the spawn so the child keeps the
    // default disposition.
    ignore_sigint();
    let status = child.wait()?;
    if !status.success() && !ended_by_sigint(status) {
        bail!("slipway exited: {status}");
    }
    Ok(())
}

fn ignore_sigint() {
    // A handler that only raises a flag nobody reads: Ctrl-C no longer ends the xtask, while the
    // server (in the same process group) gets it from the terminal and shuts down.
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGINT, ignored) {
        eprintln!("warning: could not keep Ctrl-C for the server: {e}");
    }
}

fn ended_by_sigint(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(signal_hook::consts::SIGINT) || status.code() == Some(130)
}

/// A `slipway serve` child on 127.0.0.1 for measurements. Killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    started: Instant,
    log: PathBuf,
}

impl Server {
    /// Starts `exe serve --addr 127.0.0.1:<free port> --data-dir <data_dir>` with `envs` added; its
    /// stdout and stderr go to `log`.
    pub fn start(exe: &Path, data_dir: &Path, envs: &[(&str, &str)], log: &Path) -> Result<Server> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let log_file =
            File::create(log).with_context(|| format!("could not create {}", log.display()))?;
        let mut cmd = Command::new(exe);
        cmd.arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("could not start {}", exe.display()))?;
        Ok(Server {
            child,
            addr,
            started,
            log: log.to_path_buf(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `GET /healthz` every `every` until it answers 200; returns the time since the spawn.
    pub fn wait_ready(&mut self, every: Duration, timeout: Duration) -> Result<Duration> {
        loop {
            let answer = http::get_once(self.addr, "/healthz", Duration::from_secs(1));
            if answer.is_ok_and(|resp| resp.status() == 200) {
                return Ok(self.started.elapsed());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "slipway exited before it was ready ({status}); its output:\n{}",
                    self.log_tail()
                );
            }
            if self.started.elapsed() > timeout {
                bail!(
                    "slipway was not ready on http://{}/healthz after {timeout:?}; its output:\n{}",
                    self.addr,
                    self.log_tail()
                );
            }
            thread::sleep(every);
        }
    }

    /// Resident set size from /proc/<pid>/status, in bytes.
    pub fn rss_bytes(&self) -> Result<u64> {
        let path = format!("/proc/{}/status", self.pid());
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("could not read {path}"))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .with_context(|| format!("no VmRSS in {path}"))?;
        let kib: u64 = line
            .trim_start_matches("VmRSS:")
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("unreadable `{line}` in {path}"))?;
        Ok(kib * 1024)
    }

    /// SIGKILL (`kill -9`): no chance to finish anything.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then up to `grace` for a clean exit, then SIGKILL.
    pub fn stop(mut self, grace: Duration) -> Result<ExitStatus> {
        // Our own child, not reaped yet (we hold the Child), so the pid is still its own.
        let _ = kill_process(Pid::from_child(&self.child), Signal::TERM);
        let deadline = Instant::now() + grace;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                self.child.kill()?;
                let status = self.child.wait()?;
                bail!("slipway did not stop within {grace:?} of SIGTERM; killed ({status})");
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
