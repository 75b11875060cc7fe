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

use anyhow::{Result, bail};

use build::Profile;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  build [--release]              build the site (WASM) into target/site, then the server
  run [--release] [-- ARGS...]   build, then run `slipway serve` (default data dir ./slipway-data);
                                 ARGS are passed to `slipway serve`
  test [--no-e2e]                fmt, clippy, build, unit/integration tests, end-to-end tests
  test e2e [-- ARGS...]          build, then only the end-to-end tests (ARGS go to `playwright test`)
  dist                           release build, stripped executable in dist/slipway
  bench [--no-build] [GROUP...]  measure the budgets of PRODUCT.md §13 (builds dist first);
                                 GROUPs: size, startup, editor, load, durability (all). Env
                                 SLIPWAY_BENCH_EXE=PATH measures that executable, building nothing;
                                 SLIPWAY_BENCH_REFERENCE_EXE=PATH adds its saturation and the ratio
  fuzz [CASES]                   the property tests with CASES cases each (default 20000)
                                 and 5,000 simulated power losses
  help                           this text
";

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

fn parse(args: &[String]) -> Result<Command> {
    let Some((cmd, rest)) = args.split_first() else {
        return Ok(Command::Help);
    };
    // Everything after `--` is passed through untouched.
    let (opts, passthrough) = match rest.iter().position(|a| a == "--") {
        Some(i) => (&rest[..i], rest[i + 1..].to_vec()),
        None => (rest, Vec::new()),
    };
    let mut release = false;
    let mut no_e2e = false;
    let mut no_build = false;
    let mut positional = Vec::new();
    for opt in opts {
        match opt.as_str() {
            "--release" if matches!(cmd.as_str(), "build" | "run") => release = true,
            "--no-e2e" if cmd == "test" => no_e2e = true,
            "--no-build" if cmd == "bench" => no_build = true,
            "-h" | "--help" => return Ok(Command::Help),
            o if o.starts_with('-') => bail!("unknown option `{o}` for `{cmd}`\n\n{USAGE}"),
            o => positional.push(o),
        }
    }
    let profile = if release {
        Profile::Release
    } else {
        Profile::Debug
    };
    let no_passthrough = |command: Command| {
        if passthrough.is_empty() {
            Ok(command)
        } else {
            bail!("`{cmd}` takes no arguments after `--`\n\n{USAGE}")
        }
    };
    let command = match (cmd.as_str(), positional.as_slice()) {
        ("build", []) => no_passthrough(Command::Build { profile })?,
        ("run", []) => Command::Run {
            profile,
            serve_args: passthrough,
        },
        ("test", []) => no_passthrough(Command::Test(if no_e2e {
            test::Selection::AllButE2e
        } else {
            test::Selection::All
        }))?,
        ("test", ["e2e"]) if !no_e2e => Command::Test(test::Selection::OnlyE2e {
            playwright_args: passthrough,
        }),
        ("dist", []) => no_passthrough(Command::Dist)?,
        ("bench", groups) => {
            for g in groups {
                if !bench::GROUPS.contains(g) {
                    bail!(
                        "unknown bench group `{g}` (one of {:?})\n\n{USAGE}",
                        bench::GROUPS
                    );
                }
            }
            no_passthrough(Command::Bench {
                build: !no_build,
                groups: groups.iter().map(|g| g.to_string()).collect(),
            })?
        }
        ("fuzz", []) => no_passthrough(Command::Fuzz { cases: 20_000 })?,
        ("fuzz", [n]) => no_passthrough(Command::Fuzz {
            cases: n
                .parse()
                .map_err(|_| anyhow::anyhow!("`{n}` is not a number of cases"))?,
        })?,
        ("help" | "-h" | "--help", _) => Command::Help,
        (_, []) => bail!("unknown command `{cmd}`\n\n{USAGE}"),
        (_, extra) => bail!("unexpected argument(s) {extra:?} for `{cmd}`\n\n{USAGE}"),
    };
    Ok(command)
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
        Command::Help => {
            print!("{USAGE}");
            Ok(())
        }
    };
    done.map(|()| ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args).and_then(run) {
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

    fn p(args: &[&str]) -> Result<Command> {
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
    }
}
