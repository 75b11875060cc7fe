//! The build pipeline (ARCHITECTURE.md, "Build pipeline"): the `frontend` crate to WASM,
//! wasm-bindgen (library, pinned with `wasm-bindgen`), wasm-opt from npm's binaryen in release,
//! `style/` and `public/` copied in, all into `target/site`; then the server, which embeds it.
//! The site is always built before the server, never in parallel.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use wasm_bindgen_cli_support::Bindgen;

use crate::{npm, util};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
        }
    }

    /// Folder of the profile's host artifacts under the target dir.
    fn host_dir(self) -> &'static str {
        self.name()
    }

    /// Cargo arguments selecting the profile of the wasm build.
    fn wasm_profile_args(self) -> &'static [&'static str] {
        match self {
            Profile::Debug => &[],
            Profile::Release => &["--profile", "wasm-release"],
        }
    }

    fn wasm_dir(self) -> &'static str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "wasm-release",
        }
    }
}

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// getrandom needs its JS backend chosen on wasm32-unknown-unknown. Given through the target-specific
/// variable so the host builds keep their flags (and their cache). `erase_components` must match
/// the host builds' flag in `.cargo/config.toml`: the server renders what the WASM hydrates.
pub const WASM_RUSTFLAGS_VAR: &str = "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS";
pub const WASM_RUSTFLAGS: &str = "--cfg getrandom_backend=\"wasm_js\" --cfg erase_components";

/// Adds the wasm RUSTFLAGS to a cargo command for the wasm32 target.
pub fn wasm_env(cmd: &mut Command) -> &mut Command {
    if std::env::var_os("RUSTFLAGS").is_some()
        || std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_some()
    {
        eprintln!(
            "warning: RUSTFLAGS is set and overrides {WASM_RUSTFLAGS_VAR}; the wasm build may need {WASM_RUSTFLAGS}"
        );
    }
    cmd.env(WASM_RUSTFLAGS_VAR, WASM_RUSTFLAGS)
}

/// `target/<profile>/slipway`.
pub fn server_exe(profile: Profile) -> PathBuf {
    util::target_dir().join(profile.host_dir()).join("slipway")
}

/// Records which profile the current `target/site` was built with (a note for whoever looks).
fn site_profile_marker() -> PathBuf {
    util::xtask_dir().join("site-profile")
}

pub fn build(profile: Profile) -> Result<()> {
    build_site(profile)?;
    build_server(profile)?;
    println!(
        "\nbuilt {} ({})",
        server_exe(profile).display(),
        profile.name()
    );
    Ok(())
}

pub fn build_site(profile: Profile) -> Result<()> {
    ensure_wasm_target()?;
    let root = util::root();

    util::stage(&format!("site: frontend → WASM ({})", profile.name()));
    let mut cargo = util::cargo();
    wasm_env(&mut cargo)
        .args(["build", "-p", "frontend", "--lib", "--target", WASM_TARGET])
        .args(profile.wasm_profile_args());
    if profile == Profile::Release {
        // `wasm-release` inherits `strip = true`, which drops the `target_features` section that
        // wasm-bindgen reads to know which WASM features are in use. The name section is removed by
        // wasm-bindgen and wasm-opt instead.
        cargo.env("CARGO_PROFILE_WASM_RELEASE_STRIP", "false");
    }
    util::run(&mut cargo)?;
    let wasm = util::target_dir()
        .join(WASM_TARGET)
        .join(profile.wasm_dir())
        .join("frontend.wasm");
    if !wasm.is_file() {
        bail!(
            "{} is missing after the build (is `frontend` a cdylib?)",
            wasm.display()
        );
    }

    let staging = util::xtask_dir().join("site-staging");
    if staging.exists() {
        fs::remove_dir_all(&staging)
            .with_context(|| format!("could not clear {}", staging.display()))?;
    }
    let pkg = staging.join("pkg");
    fs::create_dir_all(&pkg)?;

    util::stage("site: wasm-bindgen → pkg/slipway.js, pkg/slipway_bg.wasm");
    let release = profile == Profile::Release;
    Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .map_err(|e| anyhow::anyhow!("{e:#}"))?
        .out_name("slipway")
        .typescript(false)
        .remove_name_section(release)
        .remove_producers_section(release)
        .generate(&pkg)
        .map_err(|e| anyhow::anyhow!("wasm-bindgen failed on {}: {e:#}", wasm.display()))?;
    let bg_wasm = pkg.join("slipway_bg.wasm");
    println!(
        "slipway_bg.wasm: {}",
        util::human_bytes(fs::metadata(&bg_wasm)?.len())
    );

    if release {
        util::stage("site: wasm-opt -Oz (binaryen from npm)");
        wasm_opt(&bg_wasm)?;
    }

    util::stage("site: style/ → pkg/, public/ → site");
    let styles = util::copy_tree(&root.join("style"), &pkg)?;
    let statics = util::copy_tree(&root.join("public"), &staging)?;
    println!("{styles} style file(s), {statics} public file(s)");

    util::stage("site: gzip the WASM, JS and CSS (the server sends them as stored)");
    let level = if release {
        Compression::best()
    } else {
        Compression::fast()
    };
    let (files, before, after) = gzip_site(&staging, level)?;
    println!(
        "{files} file(s): {} → {}",
        util::human_bytes(before),
        util::human_bytes(after)
    );

    let site = util::site_dir();
    let (written, removed) = util::sync_tree(&staging, &site)?;
    fs::write(site_profile_marker(), profile.name())?;
    println!(
        "{}: {written} file(s) updated, {removed} stale file(s) removed",
        site.display()
    );
    Ok(())
}

/// Replaces every `.wasm`, `.js` and `.css` file under `dir` by its gzip (`name.gz`); returns how
/// many, and their bytes before and after.
fn gzip_site(dir: &Path, level: Compression) -> Result<(usize, u64, u64)> {
    let (mut files, mut before, mut after) = (0, 0, 0);
    for rel in util::files_under(dir)? {
        let compressible = matches!(
            rel.extension().and_then(|e| e.to_str()),
            Some("wasm" | "js" | "css")
        );
        if !compressible {
            continue;
        }
        let path = dir.join(&rel);
        let bytes =
            fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
        let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), level);
        encoder.write_all(&bytes)?;
        let zipped = encoder.finish()?;
        let mut name = path.clone().into_os_string();
        name.push(".gz");
        fs::write(&name, &zipped)?;
        fs::remove_file(&path)?;
        files += 1;
        before += bytes.len() as u64;
        after += zipped.len() as u64;
    }
    Ok((files, before, after))
}

pub fn build_server(profile: Profile) -> Result<()> {
    util::stage(&format!("server: slipway ({})", profile.name()));
    let mut cmd = util::cargo();
    cmd.args(["build", "-p", "server"]);
    if profile == Profile::Release {
        cmd.arg("--release");
    }
    util::run(&mut cmd)?;
    let exe = server_exe(profile);
    if !exe.is_file() {
        bail!("{} is missing after the build", exe.display());
    }
    Ok(())
}

/// Features rustc's wasm32 output uses by default (LLVM's "generic" CPU); wasm-opt must accept them
/// or it rejects the module.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-call-indirect-overlong",
];

/// Optimizes `wasm` in place. wasm-opt (binaryen compiled to JS) is slow, so the result is cached by
/// the exact input bytes.
fn wasm_opt(wasm: &Path) -> Result<()> {
    let input = fs::read(wasm)?;
    let cache = util::xtask_dir().join("wasm-opt-cache");
    let (cached_in, cached_out) = (cache.join("in.wasm"), cache.join("out.wasm"));
    if cached_out.is_file() && fs::read(&cached_in).ok().as_deref() == Some(input.as_slice()) {
        fs::copy(&cached_out, wasm)?;
        println!("unchanged input: reusing the cached wasm-opt output");
    } else {
        let tools = util::root().join("xtask").join("npm");
        npm::ensure_installed(&tools)?;
        let bin = tools.join("node_modules").join(".bin").join("wasm-opt");
        if !bin.is_file() {
            bail!(
                "{} is missing: run `npm ci` in {}",
                bin.display(),
                tools.display()
            );
        }
        let out = wasm.with_extension("opt.wasm");
        util::run(
            Command::new(&bin)
                .arg("-Oz")
                .args(WASM_OPT_FEATURES)
                .args(["--strip-debug", "--strip-producers"])
                .arg(wasm)
                .arg("-o")
                .arg(&out)
                .stdin(Stdio::null()),
        )
        .context("wasm-opt failed")?;
        fs::rename(&out, wasm)?;
        fs::create_dir_all(&cache)?;
        fs::write(&cached_in, &input)?;
        fs::copy(wasm, &cached_out)?;
    }
    println!(
        "slipway_bg.wasm after wasm-opt: {} (was {})",
        util::human_bytes(fs::metadata(wasm)?.len()),
        util::human_bytes(input.len() as u64)
    );
    Ok(())
}

/// Installs the wasm32 target with rustup when missing: every command that builds the site calls
/// this first, so `cargo xtask run` works on a machine that has only Rust.
pub fn ensure_wasm_target() -> Result<()> {
    if util::on_path("rustup").is_none() {
        // A toolchain without rustup: the target's std must already be in the sysroot.
        let sysroot = util::output(Command::new("rustc").args(["--print", "sysroot"]))?;
        let lib = Path::new(sysroot.trim())
            .join("lib/rustlib")
            .join(WASM_TARGET);
        if lib.is_dir() {
            return Ok(());
        }
        bail!("no rustup and no {WASM_TARGET} std in {}", lib.display());
    }
    let installed = util::output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("{WASM_TARGET} is installed");
    } else {
        util::run(
            Command::new("rustup")
                .args(["target", "add", WASM_TARGET])
                .stdin(Stdio::null()),
        )?;
    }
    Ok(())
}
