//! The `slipway` executable: command line, then the server or a data-dir command.
#![recursion_limit = "256"]

mod assets;
mod auth;
mod datadir;
mod error;
mod hooks;
mod rest;
mod serve;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;

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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { addr, data_dir } => serve::run(&addr, &data_dir),
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
    let role: engine::Role = role.parse().map_err(|e: engine::Error| e.to_string())?;
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
