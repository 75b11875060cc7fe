//! The site in target/site is embedded into the executable; it is built by `cargo xtask build`
//! before the server. An empty folder lets the server compile (and be tested) without it.
fn main() {
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    let _ = std::fs::create_dir_all(&site);
    println!("cargo:rerun-if-changed=../target/site");
    println!("cargo:rerun-if-changed=../target/site/pkg");
}
