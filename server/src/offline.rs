//! Commands on a stopped server's data dir (PRODUCT.md §15): `backup`, `restore`, `compact`,
//! `export` and `import`.
//! A running server holds the data file, and each command then says so and changes nothing.

use crate::datadir::{DATA_FILE, DataDir};
use engine::Engine;
use std::fs;
use std::path::Path;

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1 << 10) as f64),
        b => format!("{b} bytes"),
    }
}

fn size_of(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The data file of an existing data dir (never creates one).
fn existing_data_file(data_dir: &Path) -> Result<std::path::PathBuf, String> {
    let file = data_dir.join(DATA_FILE);
    if !file.is_file() {
        return Err(format!("{} holds no Slipway data file", data_dir.display()));
    }
    Ok(file)
}

/// `slipway backup FILE`: a copy of the whole data file (but sign-in sessions), new at `file`.
pub fn backup(data_dir: &Path, file: &Path) -> Result<(), String> {
    let engine = Engine::open(&existing_data_file(data_dir)?).map_err(|e| e.to_string())?;
    let counts = engine.backup_to(file).map_err(|e| e.to_string())?;
    eprintln!(
        "backed up {} rows to {} ({}): {counts}",
        counts.total(),
        file.display(),
        human(size_of(file))
    );
    eprintln!(
        "the master key is not in the backup: keep {} (or SLIPWAY_MASTER_KEY) with it, or its secrets cannot be opened",
        data_dir.join("master.key").display()
    );
    Ok(())
}

/// `slipway restore FILE [--force]`: the backup becomes the data file. An existing data file is
/// replaced only with `force`, and then kept beside it as `slipway.redb.replaced-<time>`.
pub fn restore(data_dir: &Path, file: &Path, force: bool) -> Result<(), String> {
    if !file.is_file() {
        return Err(format!("{} is not a file", file.display()));
    }
    let dir = DataDir::prepare(data_dir)?;
    let target = dir.path.join(DATA_FILE);
    if target.exists() {
        if !force {
            return Err(format!(
                "{} already holds a data file; `slipway restore --force` replaces it (the current file is kept beside it)",
                dir.path.display()
            ));
        }
        // Refused while a server has it open.
        drop(Engine::open(&target).map_err(|e| e.to_string())?);
    }
    let staged = dir.path.join(".restore.redb");
    let _ = fs::remove_file(&staged);
    fs::copy(file, &staged).map_err(|e| format!("cannot copy {}: {e}", file.display()))?;
    let checked = check_backup(&dir, &staged, file);
    let (counts, unreadable, new_key) = match checked {
        Ok(found) => found,
        Err(e) => {
            let _ = fs::remove_file(&staged);
            return Err(e);
        }
    };
    if target.exists() {
        let kept = dir.path.join(format!(
            "{DATA_FILE}.replaced-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
        fs::rename(&target, &kept)
            .map_err(|e| format!("cannot move {} aside: {e}", target.display()))?;
        eprintln!("the data file it replaces is kept as {}", kept.display());
    }
    fs::rename(&staged, &target).map_err(|e| format!("cannot put the backup in place: {e}"))?;
    if let Ok(d) = fs::File::open(&dir.path) {
        let _ = d.sync_all();
    }
    eprintln!(
        "restored {} rows from {} into {}: {counts}",
        counts.total(),
        file.display(),
        target.display()
    );
    if !unreadable.is_empty() {
        let whose = if new_key {
            "the new master key created for this data dir"
        } else {
            "this data dir's master key"
        };
        eprintln!(
            "warning: {whose} cannot open {} secret(s): {}. Put the master.key the backup was taken with in {} (or set SLIPWAY_MASTER_KEY), or set these secrets again.",
            unreadable.len(),
            unreadable.join(", "),
            dir.path.display()
        );
    }
    Ok(())
}

/// Opens the staged copy as a data file (which checks it is Slipway's) and tries the data dir's
/// master key on its secrets: its counts, the secrets that key cannot open, and whether the key
/// was created now.
fn check_backup(
    dir: &DataDir,
    staged: &Path,
    shown: &Path,
) -> Result<(engine::backup::TableCounts, Vec<String>, bool), String> {
    let engine = Engine::open(staged)
        .map_err(|e| format!("{} is not a Slipway backup: {e}", shown.display()))?;
    let counts = engine.table_counts().map_err(|e| e.to_string())?;
    let new_key =
        std::env::var_os("SLIPWAY_MASTER_KEY").is_none() && !dir.path.join("master.key").exists();
    let key = dir.master_key()?;
    let unreadable = engine.unreadable_secrets(&key).map_err(|e| e.to_string())?;
    Ok((counts, unreadable, new_key))
}

/// `slipway compact`: gives the file's free pages back to the file system.
pub fn compact(data_dir: &Path) -> Result<(), String> {
    let file = existing_data_file(data_dir)?;
    let (before, after) = engine::backup::compact(&file).map_err(|e| e.to_string())?;
    eprintln!(
        "compacted {}: {} → {}",
        file.display(),
        human(before),
        human(after)
    );
    Ok(())
}

/// `slipway export AUTOMATION [--with-test-databases]`: the export file on standard output.
pub fn export(data_dir: &Path, automation: &str, with_test_databases: bool) -> Result<(), String> {
    let engine = Engine::open(&existing_data_file(data_dir)?).map_err(|e| e.to_string())?;
    let text = engine
        .export(automation, with_test_databases)
        .map_err(|e| e.to_string())?;
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the export: {e}"))
}

/// `slipway import FILE [--as SLUG]`: what it did, and the secrets still to set, on stderr.
pub fn import(data_dir: &Path, file: &Path, as_slug: Option<&str>) -> Result<(), String> {
    let size = size_of(file);
    if size > model::transfer::MAX_IMPORT_BYTES as u64 {
        return Err(format!(
            "{} is {}; an import holds at most {} MiB",
            file.display(),
            human(size),
            model::transfer::MAX_IMPORT_BYTES >> 20
        ));
    }
    let text =
        fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let dir = DataDir::prepare(data_dir)?;
    let engine = dir.open_engine()?;
    let done = engine
        .import(&text, as_slug, "cli")
        .map_err(|e| format!("{}: {e}", file.display()))?;
    eprintln!("{}: {}", file.display(), done.summary());
    if done.records > 0 {
        eprintln!("Put {} records into its Test databases.", done.records);
    }
    for line in done.secrets_to_set() {
        eprintln!("{line}");
    }
    Ok(())
}
