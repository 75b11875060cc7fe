//! `cargo xtask`: the project's build, run, test, dist and bench commands. Owns the build pipeline
//! (site WASM → wasm-bindgen → wasm-opt → static files → server) so that nothing outside cargo, node
//! and Debian's packages is needed. Depends on no crate of the project.

mod bench;
mod build;
mod dist;
mod http;
mod npm;
mod process;
mod test;
mod util;

use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use build::Profile;

/// The project's build, run, test, dist and bench commands.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    disable_version_flag = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Build the site (WASM) into target/site, then the server.
    Build {
        #[arg(long)]
        release: bool,
    },
    /// Build, then run `slipway serve` (default data dir ./slipway-data).
    Run {
        #[arg(long)]
        release: bool,
        /// Passed to `slipway serve` (after `--`).
        #[arg(last = true)]
        serve_args: Vec<String>,
    },
    /// fmt, clippy, build, unit/integration tests, end-to-end tests.
    Test {
        /// Everything but the end-to-end tests.
        #[arg(long)]
        no_e2e: bool,
        #[command(subcommand)]
        only: Option<TestOnly>,
    },
    /// Release build, stripped executable in dist/slipway.
    Dist,
    /// Measure the budgets of PRODUCT.md §13 (builds dist first). Env SLIPWAY_BENCH_EXE=PATH
    /// measures that executable, building nothing; SLIPWAY_BENCH_REFERENCE_EXE=PATH adds its
    /// saturation and the ratio.
    Bench {
        /// Measure the executable built last.
        #[arg(long)]
        no_build: bool,
        /// The 10-minute soak with retention (only it, unless groups are named too).
        #[arg(long)]
        soak: bool,
        /// Groups to measure (all but the soak when none).
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(bench::GROUPS.into_iter().chain(bench::LONG_GROUPS)))]
        groups: Vec<String>,
    },
    /// The property tests with CASES cases each, and 5,000 simulated power losses.
    Fuzz {
        #[arg(default_value_t = 20_000)]
        cases: u64,
    },
}

#[derive(Debug, Subcommand)]
enum TestOnly {
    /// Build, then only the end-to-end tests.
    E2e {
        /// Passed to `playwright test` (after `--`).
        #[arg(last = true)]
        playwright_args: Vec<String>,
    },
}

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Build {
        profile: Profile,
    },
    Run {
        profile: Profile,
        serve_args: Vec<String>,
    },
    Test(test::Selection),
    Dist,
    Bench {
        build: bool,
        groups: Vec<String>,
    },
    Fuzz {
        cases: u64,
    },
    Help,
}

fn profile(release: bool) -> Profile {
    if release {
        Profile::Release
    } else {
        Profile::Debug
    }
}

/// The command `args` (without the program name) ask for; `--help` is an error that prints it.
fn parse(args: &[String]) -> Result<Command, clap::Error> {
    let cli =
        Cli::try_parse_from(std::iter::once("xtask".to_string()).chain(args.iter().cloned()))?;
    Ok(match cli.command {
        None => Command::Help,
        Some(Sub::Build { release }) => Command::Build {
            profile: profile(release),
        },
        Some(Sub::Run {
            release,
            serve_args,
        }) => Command::Run {
            profile: profile(release),
            serve_args,
        },
        Some(Sub::Test { no_e2e, only }) => Command::Test(match (no_e2e, only) {
            (false, None) => test::Selection::All,
            (true, None) => test::Selection::AllButE2e,
            (false, Some(TestOnly::E2e { playwright_args })) => {
                test::Selection::OnlyE2e { playwright_args }
            }
            (true, Some(_)) => {
                return Err(Cli::command().error(
                    clap::error::ErrorKind::ArgumentConflict,
                    "`--no-e2e` and `e2e` exclude each other",
                ));
            }
        }),
        Some(Sub::Dist) => Command::Dist,
        Some(Sub::Bench {
            no_build,
            soak,
            mut groups,
        }) => Command::Bench {
            build: !no_build,
            groups: {
                if soak {
                    groups.push("soak".into());
                }
                groups
            },
        },
        Some(Sub::Fuzz { cases }) => Command::Fuzz { cases },
    })
}

fn run(command: Command) -> Result<ExitCode> {
    let done = match command {
        Command::Build { profile } => build::build(profile),
        Command::Run {
            profile,
            serve_args,
        } => process::run_server(profile, &serve_args),
        Command::Test(selection) => {
            // Stage failures are reported by `test` itself, ahead of its summary line.
            let passed = test::test(selection)?;
            return Ok(if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Dist => dist::dist().map(|_| ()),
        Command::Bench { build, groups } => {
            let within = bench::bench(build, &groups)?;
            return Ok(if within {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Fuzz { cases } => {
            let cases = cases.to_string();
            for args in [
                &["test", "-p", "model", "--test", "props"][..],
                &["test", "-p", "engine", "--test", "props"][..],
                &[
                    "test",
                    "-p",
                    "engine",
                    "--lib",
                    "durability",
                    "--",
                    "--nocapture",
                ][..],
            ] {
                util::run(
                    util::cargo()
                        .args(args)
                        .env("PROPTEST_CASES", &cases)
                        .env("SLIPWAY_POWER_LOSS_ROUNDS", "5000"),
                )?;
            }
            return Ok(ExitCode::SUCCESS);
        }
        Command::Help => Cli::command().print_help().map_err(Into::into),
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse(&args) {
        Ok(command) => command,
        Err(err) => err.exit(),
    };
    match run(command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Command, clap::Error> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_the_documented_commands() {
        assert_eq!(
            p(&["build"]).unwrap(),
            Command::Build {
                profile: Profile::Debug
            }
        );
        assert_eq!(
            p(&["build", "--release"]).unwrap(),
            Command::Build {
                profile: Profile::Release
            }
        );
        assert_eq!(
            p(&["run", "--release", "--", "--addr", "0.0.0.0:80"]).unwrap(),
            Command::Run {
                profile: Profile::Release,
                serve_args: vec!["--addr".into(), "0.0.0.0:80".into()]
            }
        );
        assert_eq!(p(&["test"]).unwrap(), Command::Test(test::Selection::All));
        assert_eq!(
            p(&["test", "--no-e2e"]).unwrap(),
            Command::Test(test::Selection::AllButE2e)
        );
        assert_eq!(
            p(&["test", "e2e", "--", "-g", "login"]).unwrap(),
            Command::Test(test::Selection::OnlyE2e {
                playwright_args: vec!["-g".into(), "login".into()]
            })
        );
        assert_eq!(p(&["dist"]).unwrap(), Command::Dist);
        assert_eq!(
            p(&["bench"]).unwrap(),
            Command::Bench {
                build: true,
                groups: vec![]
            }
        );
        assert_eq!(
            p(&["bench", "--no-build", "load", "editor"]).unwrap(),
            Command::Bench {
                build: false,
                groups: vec!["load".into(), "editor".into()]
            }
        );
        assert_eq!(p(&[]).unwrap(), Command::Help);
    }

    #[test]
    fn rejects_what_it_does_not_know() {
        assert!(p(&["deploy"]).is_err());
        assert!(p(&["build", "--fast"]).is_err());
        assert!(p(&["test", "--release"]).is_err());
        assert!(p(&["test", "unit"]).is_err());
        assert!(p(&["dist", "--", "x"]).is_err());
        assert!(p(&["bench", "speed"]).is_err());
        assert!(p(&["test", "--no-e2e", "e2e"]).is_err());
        assert!(p(&["fuzz", "many"]).is_err());
    }
}
