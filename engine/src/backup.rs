//! Backup, restore checks and compaction of the data file (PRODUCT.md §15).
//!
//! A backup is a new redb file holding a copy of every table (see [`each_table`]) read in one
//! read transaction: a consistent snapshot of one instant, taken while writers go on (redb's
//! readers do not block its writer). Rows are copied as stored (JSON values are not decoded),
//! in write transactions of [`CHUNK`] rows so that a large file is never held in memory. The
//! `sessions` table is left out: whoever restores a backup signs in again. The master key is
//! not in a backup; [`Engine::unreadable_secrets`] says which secrets the key at hand cannot
//! open.

use crate::error::{Error, Result};
use crate::store::{CACHE_BYTES, EachTable, Engine, Json, Stored, each_table, encoded};
use redb::{
    Database, Durability, Key, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableHandle, Value,
};
use std::collections::BTreeMap;
use std::path::Path;

/// Rows per write transaction of a backup.
const CHUNK: u64 = 20_000;

/// What a backup holds: rows per table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableCounts(pub BTreeMap<String, u64>);

impl TableCounts {
    pub fn get(&self, table: &str) -> u64 {
        self.0.get(table).copied().unwrap_or(0)
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }
}

impl std::fmt::Display for TableCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

struct Copy<'a> {
    read: &'a ReadTransaction,
    out: &'a Database,
    counts: TableCounts,
}

impl Copy<'_> {
    fn rows<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<()> {
        let src = self.read.open_table(table)?;
        let mut rows = src.iter()?;
        let mut copied = 0u64;
        loop {
            let mut w = self.out.begin_write()?;
            w.set_durability(Durability::None)
                .map_err(|e| Error::Storage(e.to_string()))?;
            let mut more = false;
            {
                let mut dst = w.open_table(table)?;
                let mut in_chunk = 0;
                for row in rows.by_ref() {
                    let (k, v) = row?;
                    dst.insert(k.value(), v.value())?;
                    copied += 1;
                    in_chunk += 1;
                    if in_chunk == CHUNK {
                        more = true;
                        break;
                    }
                }
            }
            w.commit()?;
            if !more {
                break;
            }
        }
        self.counts.0.insert(table.name().to_string(), copied);
        Ok(())
    }
}

impl EachTable for Copy<'_> {
    fn plain<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<()> {
        self.rows(table)
    }

    fn json<K: Key + 'static, T: Stored>(
        &mut self,
        table: TableDefinition<K, Json<T>>,
    ) -> Result<()> {
        if table.name() == crate::accounts::SESSIONS.name() {
            self.counts.0.insert(table.name().to_string(), 0);
            return Ok(());
        }
        // As stored: nothing decoded or encoded again.
        self.rows(encoded(&table))
    }
}

struct Count<'a> {
    read: &'a ReadTransaction,
    counts: TableCounts,
}

impl EachTable for Count<'_> {
    fn plain<K: Key + 'static, V: Value + 'static>(
        &mut self,
        table: TableDefinition<K, V>,
    ) -> Result<()> {
        let n = self.read.open_table(table)?.len()?;
        self.counts.0.insert(table.name().to_string(), n);
        Ok(())
    }

    fn json<K: Key + 'static, T: Stored>(
        &mut self,
        table: TableDefinition<K, Json<T>>,
    ) -> Result<()> {
        self.plain(table)
    }
}

impl Engine {
    /// Writes a backup to `path`, a new file (an existing one is never replaced), and answers
    /// what it holds. Webhooks, runs and saves go on meanwhile; what they commit after the
    /// snapshot's instant is not in it.
    pub fn backup_to(&self, path: &Path) -> Result<TableCounts> {
        if path.exists() {
            return Err(Error::Invalid(format!(
                "{} exists already: a backup is written to a new file",
                path.display()
            )));
        }
        let read = self.db().begin_read()?;
        let out = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| Error::Storage(format!("cannot create {}: {e}", path.display())))?;
        let mut copy = Copy {
            read: &read,
            out: &out,
            counts: TableCounts::default(),
        };
        let written = each_table(&mut copy).and_then(|()| {
            // The chunks were committed without fsync; this commit makes them all durable.
            let mut w = out.begin_write()?;
            w.set_durability(Durability::Immediate)
                .map_err(|e| Error::Storage(e.to_string()))?;
            w.commit()?;
            Ok(())
        });
        if let Err(e) = written {
            drop(out);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(copy.counts)
    }

    /// [`Engine::backup_to`] by a person over the API: admins only, and audited.
    pub fn backup_as(&self, by: &crate::User, path: &Path) -> Result<TableCounts> {
        by.require(crate::Role::Admin)?;
        let counts = self.backup_to(path)?;
        self.audit(
            &by.username,
            crate::AuditAction::Backup,
            None,
            format!("{} rows: {counts}", counts.total()),
        )?;
        Ok(counts)
    }

    /// Rows per table, now.
    pub fn table_counts(&self) -> Result<TableCounts> {
        let read = self.db().begin_read()?;
        let mut count = Count {
            read: &read,
            counts: TableCounts::default(),
        };
        each_table(&mut count)?;
        Ok(count.counts)
    }
}

/// Compacts the data file at `path` (no server may have it open): freed pages are given back to
/// the file system. Answers the file's size before and after.
pub fn compact(path: &Path) -> Result<(u64, u64)> {
    let shown = path.display().to_string();
    let size = || {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| Error::Storage(format!("cannot read {shown}: {e}")))
    };
    let before = size()?;
    {
        // Opening it checks (and if need be converts) the format, like any start.
        let engine = Engine::open(path)?;
        drop(engine);
    }
    let mut db = Database::builder()
        .create(path)
        .map_err(|e| Error::Storage(format!("cannot open {shown}: {e}")))?;
    while db
        .compact()
        .map_err(|e| Error::Storage(format!("cannot compact {shown}: {e}")))?
    {}
    drop(db);
    Ok((before, size()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MasterKey;
    use crate::{DeployRequest, Role};
    use model::{Document, Mode};
    use serde_json::json;

    const DOC: &str = r#"{"format": 1, "composers": [{"slug": "hello", "name": "Hello",
        "trigger": {"kind": "manual"},
        "steps": [{"name": "greet", "kind": "transform", "config": {"value": "hi"}}],
        "links": [{"from": "trigger", "to": "greet"}]}]}"#;

    /// An engine on a real file holding a bit of everything, and its master key.
    fn filled(dir: &Path) -> (Engine, MasterKey) {
        let engine = Engine::open(&dir.join("slipway.redb")).unwrap();
        let key = MasterKey::generate();
        engine.set_master_key(key.clone());
        let ann = engine
            .create_user("ann", Role::Admin, "password-123", "test")
            .unwrap();
        engine.create_session("ann").unwrap();
        engine.create_automation("orders", "Orders", "ann").unwrap();
        let doc = Document::from_json(DOC).unwrap();
        engine.save_draft("orders", 1, doc, "ann").unwrap();
        engine
            .set_secret(&key, "orders", Mode::Test, "TOKEN", "s3cret-value", "ann")
            .unwrap();
        engine
            .create_database_as(&ann, "orders", Mode::Test, "customers")
            .unwrap();
        for i in 0..50 {
            engine
                .put_record_as(
                    &ann,
                    "orders",
                    Mode::Test,
                    "customers",
                    &format!("c{i:03}"),
                    json!({"n": i}),
                )
                .unwrap();
        }
        let request = DeployRequest {
            secrets: vec!["TOKEN".into()],
            ..DeployRequest::default()
        };
        engine.deploy_as(&ann, "orders", &request).unwrap();
        (engine, key)
    }

    #[test]
    fn a_backup_holds_every_table_but_sessions_and_opens_as_a_data_file() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, key) = filled(dir.path());
        let before = engine.table_counts().unwrap();
        let file = dir.path().join("backup.redb");
        let counts = engine.backup_to(&file).unwrap();

        assert_eq!(counts.get("sessions"), 0, "sessions stay behind");
        assert_eq!(before.get("sessions"), 1);
        for (table, n) in &before.0 {
            if table != "sessions" {
                assert_eq!(counts.get(table), *n, "{table}");
            }
        }
        assert_eq!(counts.get("db_records"), 50);
        assert!(counts.get("revisions") >= 1 && counts.get("deployments") == 1);

        let copy = Engine::open(&file).unwrap();
        copy.set_master_key(key.clone());
        assert_eq!(copy.table_counts().unwrap(), counts);
        assert_eq!(
            copy.list_automations().unwrap(),
            engine.list_automations().unwrap()
        );
        assert_eq!(
            copy.get_draft("orders").unwrap(),
            engine.get_draft("orders").unwrap()
        );
        assert_eq!(
            copy.list_deployments("orders").unwrap(),
            engine.list_deployments("orders").unwrap()
        );
        assert_eq!(
            copy.db_get("orders", Mode::Test, "customers", "c049")
                .unwrap(),
            Some(json!({"n": 49}))
        );
        assert_eq!(
            copy.secret_values(&key, "orders", Mode::Live).unwrap()["TOKEN"],
            "s3cret-value"
        );
        assert!(copy.unreadable_secrets(&key).unwrap().is_empty());
        assert_eq!(copy.list_users().unwrap(), engine.list_users().unwrap());
    }

    #[test]
    fn another_master_key_names_the_secrets_it_cannot_open() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, _key) = filled(dir.path());
        let other = MasterKey::generate();
        let mut unreadable = engine.unreadable_secrets(&other).unwrap();
        unreadable.sort();
        assert_eq!(unreadable, ["orders/live/TOKEN", "orders/test/TOKEN"]);
    }

    #[test]
    fn a_backup_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, _) = filled(dir.path());
        let file = dir.path().join("taken");
        std::fs::write(&file, b"keep me").unwrap();
        let err = engine.backup_to(&file).unwrap_err();
        assert!(err.to_string().contains("exists already"), "{err}");
        assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
    }

    #[test]
    fn a_backup_is_one_instant_while_writers_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, _) = filled(dir.path());
        let ann = engine.list_users().unwrap().remove(0);
        let writer = {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for i in 0..400 {
                    engine
                        .put_record_as(
                            &ann,
                            "orders",
                            Mode::Test,
                            "customers",
                            &format!("w{i:04}"),
                            json!(i),
                        )
                        .unwrap();
                }
            })
        };
        let mut backups = vec![];
        for n in 0..3 {
            let file = dir.path().join(format!("b{n}.redb"));
            engine.backup_to(&file).unwrap();
            backups.push(file);
        }
        writer.join().unwrap();
        for file in backups {
            let copy = Engine::open(&file).unwrap();
            let counts = copy.table_counts().unwrap();
            // The records and the database's own count agree: no half-applied write.
            let listed = copy.db_count("orders", Mode::Test, "customers").unwrap();
            assert_eq!(counts.get("db_records"), listed);
            assert!((50..=450).contains(&listed), "{listed}");
        }
    }

    #[test]
    fn compact_keeps_the_data_and_does_not_grow_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slipway.redb");
        {
            let (engine, _) = filled(dir.path());
            let ann = engine.list_users().unwrap().remove(0);
            for i in 0..2_000 {
                let big = json!({"pad": "x".repeat(512), "i": i});
                engine
                    .put_record_as(
                        &ann,
                        "orders",
                        Mode::Test,
                        "customers",
                        &format!("z{i}"),
                        big,
                    )
                    .unwrap();
            }
            for i in 0..2_000 {
                engine
                    .delete_record_as(&ann, "orders", Mode::Test, "customers", &format!("z{i}"))
                    .unwrap();
            }
        }
        let (before, after) = compact(&path).unwrap();
        assert!(after < before, "{before} -> {after}");
        let engine = Engine::open(&path).unwrap();
        assert_eq!(
            engine.db_count("orders", Mode::Test, "customers").unwrap(),
            50
        );
        assert_eq!(engine.list_automations().unwrap().len(), 1);
    }

    #[test]
    fn compact_refuses_a_file_another_engine_has_open() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, _) = filled(dir.path());
        let err = compact(&dir.path().join("slipway.redb")).unwrap_err();
        assert!(matches!(err, Error::AlreadyOpen(_)), "{err}");
        drop(engine);
    }
}
