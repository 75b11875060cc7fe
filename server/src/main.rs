//! The `slipway` executable: command line, then the server or a data-dir command.
#![recursion_limit = "256"]

mod assets;
mod auth;
mod datadir;
mod error;
mod hooks;
mod metrics;
mod offline;
mod rest;
mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's number for its purge delay (`mi_option_purge_delay` in the mimalloc 3 header that
/// libmimalloc-sys bundles; the crate leaves option numbers unnamed on purpose).
const MI_OPTION_PURGE_DELAY: i32 = 15;

/// mimalloc purges freed memory only when it next allocates, so an idle server would keep what a
/// burst used (a login's 19 MiB argon2 buffer, a busy minute's run records): purge at once. (Its
/// transparent huge pages are off at build time, `no_thp`: each touched 2 MiB page cost RSS and
/// zeroing.)
fn tune_allocator() {
    // SAFETY: a plain setter of one of mimalloc's global options, called first thing in main
    // while only this thread runs.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}

#[derive(Parser)]
#[command(
    name = "slipway",
    version,
    about = "Self-hosted automation studio: Test and Live on one small instance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the studio and its webhooks.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "SLIPWAY_ADDR", default_value = "127.0.0.1:7400")]
        addr: String,
        /// Folder holding slipway.redb and master.key; created if missing.
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
    /// Write a backup of a stopped server's data dir to FILE, a new file.
    Backup {
        file: PathBuf,
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
    /// Make the backup FILE the data of a stopped server's data dir.
    Restore {
        file: PathBuf,
        /// Replace the data dir's data file (it is kept beside it, renamed).
        #[arg(long)]
        force: bool,
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
    /// Shrink a stopped server's data file, giving its free pages back.
    Compact {
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
    /// Print AUTOMATION of a stopped server's data dir as an export file (canonical JSON for git;
    /// secrets by name only).
    Export {
        automation: String,
        /// Include the records of its Test databases.
        #[arg(long)]
        with_test_databases: bool,
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
    /// Import an export file into a stopped server's data dir: a new automation, or the draft of
    /// an existing one (its draft kept as a backup revision first).
    Import {
        file: PathBuf,
        /// The slug to import as (a bare document needs one); the file's own unless given.
        #[arg(long = "as", value_name = "SLUG")]
        as_slug: Option<String>,
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
    /// Manage user accounts (on a stopped server's data dir).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long, default_value = "editor")]
        role: String,
        #[arg(long, env = "SLIPWAY_DATA_DIR", default_value = "./slipway-data")]
        data_dir: PathBuf,
    },
}

fn main() {
    tune_allocator();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { addr, data_dir } => serve::run(&addr, &data_dir),
        Command::Backup { file, data_dir } => offline::backup(&data_dir, &file),
        Command::Restore {
            file,
            force,
            data_dir,
        } => offline::restore(&data_dir, &file, force),
        Command::Compact { data_dir } => offline::compact(&data_dir),
        Command::Export {
            automation,
            with_test_databases,
            data_dir,
        } => offline::export(&data_dir, &automation, with_test_databases),
        Command::Import {
            file,
            as_slug,
            data_dir,
        } => offline::import(&data_dir, &file, as_slug.as_deref()),
        Command::User {
            command:
                UserCommand::Add {
                    name,
                    role,
                    data_dir,
                },
        } => add_user(&name, &role, &data_dir),
    };
    if let Err(message) = result {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn add_user(name: &str, role: &str, data_dir: &std::path::Path) -> Result<(), String> {
    let role: engine::Role = role
        .parse()
        .map_err(|e: model::wire::UnknownRole| e.to_string())?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']);
    let dir = datadir::DataDir::prepare(data_dir)?;
    let engine = dir.open_engine()?;
    engine
        .create_user(name, role, password, "cli")
        .map_err(|e| e.to_string())?;
    eprintln!("added {role} `{name}`");
    Ok(())
}
