//! Paths of the workspace, running commands with their command line echoed, and file copying that
//! leaves unchanged files untouched (so cargo's `rerun-if-changed` on `target/site` stays quiet).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Cargo's target dir: `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// Where the server's `build.rs` embeds the site from. Fixed relative to the root, like its
/// `rerun-if-changed=../target/site`, whatever `CARGO_TARGET_DIR` says.
pub fn site_dir() -> PathBuf {
    root().join("target").join("site")
}

/// Scratch space of the xtask itself (staging, caches, markers).
pub fn xtask_dir() -> PathBuf {
    root().join("target").join("xtask")
}

/// The cargo that runs us, so a toolchain override applies to the nested builds too.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

pub fn display(cmd: &Command) -> String {
    let mut s = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            s.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                shell_quote(value)
            ));
        }
    }
    let program = Path::new(cmd.get_program());
    let program = match program.file_name() {
        // Show `cargo`, not the absolute path cargo put into $CARGO.
        Some(name) if name == "cargo" => name,
        _ => program.as_os_str(),
    };
    s.push_str(&shell_quote(program));
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&shell_quote(arg));
    }
    s
}

fn shell_quote(s: &OsStr) -> String {
    let s = s.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs a command with inherited stdio; a non-zero exit is an error naming the command.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = display(cmd);
    println!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Runs a command and returns its stdout; stderr is inherited.
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = display(cmd);
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !out.status.success() {
        bail!("`{shown}` failed ({})", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Whether an executable of that name is on PATH.
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

pub fn stage(text: &str) {
    println!("\n==> {text}");
}

/// Copies every file under `from` into `to`, keeping relative paths. A missing `from` copies nothing.
pub fn copy_tree(from: &Path, to: &Path) -> Result<usize> {
    if !from.exists() {
        return Ok(0);
    }
    let mut copied = 0;
    for rel in files_under(from)? {
        let dest = to.join(&rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        fs::copy(from.join(&rel), &dest).with_context(|| {
            format!(
                "could not copy {} to {}",
                from.join(&rel).display(),
                dest.display()
            )
        })?;
        copied += 1;
    }
    Ok(copied)
}

/// Makes `to` hold exactly the files of `from`: writes only files whose bytes differ, removes files
/// and folders that `from` lacks. Returns (written, removed).
pub fn sync_tree(from: &Path, to: &Path) -> Result<(usize, usize)> {
    fs::create_dir_all(to).with_context(|| format!("could not create {}", to.display()))?;
    let wanted: BTreeSet<PathBuf> = files_under(from)?.into_iter().collect();
    let mut written = 0;
    for rel in &wanted {
        let src = from.join(rel);
        let dest = to.join(rel);
        let bytes = fs::read(&src).with_context(|| format!("could not read {}", src.display()))?;
        if dest.is_file() && fs::read(&dest).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if let Some(parent) = dest.parent() {
            // A file may stand where a folder is now wanted.
            if parent.is_file() {
                fs::remove_file(parent)?;
            }
            fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        if dest.is_dir() {
            fs::remove_dir_all(&dest)?;
        }
        fs::write(&dest, &bytes).with_context(|| format!("could not write {}", dest.display()))?;
        written += 1;
    }
    let mut removed = 0;
    for rel in files_under(to)? {
        if !wanted.contains(&rel) {
            let stale = to.join(&rel);
            fs::remove_file(&stale)
                .with_context(|| format!("could not remove {}", stale.display()))?;
            removed += 1;
        }
    }
    remove_empty_dirs(to)?;
    Ok((written, removed))
}

/// Relative paths of all files below `dir` (symlinks followed), sorted.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        let abs = dir.join(&rel);
        let entries =
            fs::read_dir(&abs).with_context(|| format!("could not read {}", abs.display()))?;
        for entry in entries {
            let entry = entry?;
            let rel = rel.join(entry.file_name());
            let meta = fs::metadata(entry.path())?;
            if meta.is_dir() {
                pending.push(rel);
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn remove_empty_dirs(dir: &Path) -> Result<bool> {
    let mut empty = true;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() && remove_empty_dirs(&path)? {
            fs::remove_dir(&path)?;
        } else {
            empty = false;
        }
    }
    Ok(empty)
}

pub fn human_bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let n = n as f64;
    if n >= KIB * KIB {
        format!("{:.2} MiB", n / KIB / KIB)
    } else if n >= KIB {
        format!("{:.1} KiB", n / KIB)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_tree_writes_changes_and_removes_stale_files() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("from"), tmp.path().join("to"));
        fs::create_dir_all(from.join("pkg")).unwrap();
        fs::write(from.join("pkg/a.js"), "a").unwrap();
        fs::write(from.join("favicon.ico"), "icon").unwrap();
        fs::create_dir_all(to.join("old/deep")).unwrap();
        fs::write(to.join("old/deep/stale.txt"), "x").unwrap();
        fs::write(to.join("favicon.ico"), "icon").unwrap();

        let (written, removed) = sync_tree(&from, &to).unwrap();
        assert_eq!((written, removed), (1, 1));
        assert_eq!(fs::read_to_string(to.join("pkg/a.js")).unwrap(), "a");
        assert!(!to.join("old").exists(), "empty folders are removed");

        fs::write(from.join("pkg/a.js"), "b").unwrap();
        assert_eq!(sync_tree(&from, &to).unwrap(), (1, 0));
        assert_eq!(sync_tree(&from, &to).unwrap(), (0, 0));
        assert_eq!(fs::read_to_string(to.join("pkg/a.js")).unwrap(), "b");
    }

    #[test]
    fn copy_tree_of_a_missing_folder_copies_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(
            copy_tree(&tmp.path().join("nope"), &tmp.path().join("to")).unwrap(),
            0
        );
    }

    #[test]
    fn quotes_only_what_needs_it() {
        let mut cmd = Command::new("cargo");
        cmd.args(["build", "-p", "frontend", "a b"])
            .env("X", "--cfg getrandom_backend=\"wasm_js\"");
        assert_eq!(
            display(&cmd),
            "X='--cfg getrandom_backend=\"wasm_js\"' cargo build -p frontend 'a b'"
        );
    }
}
