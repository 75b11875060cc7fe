//! The data directory: its checks, `slipway.redb`, and `master.key` (created 0600 on first start,
//! or taken from SLIPWAY_MASTER_KEY).

use engine::Engine;
use engine::vault::MasterKey;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The data file's name in a data dir.
pub const DATA_FILE: &str = "slipway.redb";

pub struct DataDir {
    pub path: PathBuf,
}

impl DataDir {
    /// Creates the folder if its parent exists, and checks that it is a writable folder.
    pub fn prepare(path: &Path) -> Result<DataDir, String> {
        let shown = path.display();
        match fs::metadata(path) {
            Ok(m) if !m.is_dir() => return Err(format!("data dir {shown} is not a directory")),
            Ok(_) => {}
            Err(_) => fs::create_dir(path).map_err(|e| {
                format!("data dir {shown} does not exist and cannot be created: {e}")
            })?,
        }
        let probe = path.join(".slipway-write-check");
        fs::write(&probe, b"ok")
            .and_then(|_| fs::remove_file(&probe))
            .map_err(|e| format!("data dir {shown} is not writable: {e}"))?;
        Ok(DataDir {
            path: path.to_path_buf(),
        })
    }

    pub fn open_engine(&self) -> Result<Engine, String> {
        Engine::open(&self.path.join(DATA_FILE)).map_err(|e| e.to_string())
    }

    /// The master key that encrypts secrets: from the environment, or `master.key`, created
    /// with mode 0600 when missing.
    pub fn master_key(&self) -> Result<MasterKey, String> {
        if let Ok(text) = std::env::var("SLIPWAY_MASTER_KEY") {
            return MasterKey::parse(&text)
                .map_err(|_| "SLIPWAY_MASTER_KEY must be 64 hexadecimal characters".to_string());
        }
        let file = self.path.join("master.key");
        match fs::read_to_string(&file) {
            Ok(text) => MasterKey::parse(&text).map_err(|_| {
                format!(
                    "{} is damaged: expected 64 hexadecimal characters",
                    file.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                write_private(&file, key.to_hex().as_bytes())
                    .map_err(|e| format!("cannot create {}: {e}", file.display()))?;
                Ok(key)
            }
            Err(e) => Err(format!("cannot read {}: {e}", file.display())),
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}
