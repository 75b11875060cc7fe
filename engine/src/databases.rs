//! Databases: named document stores per automation and mode (PRODUCT.md §1) — their records
//! (string key → JSON value), their metadata (creation time, exact record count), the rules on
//! names, keys and values, paging, and JSON Lines export/import.
//!
//! Keys are redb tuples `(automation, mode, database, key)`: redb encodes every element but the
//! last with its length, so no choice of characters in one element can make a key fall into
//! another automation's, mode's or database's range (string concatenation could).
//!
//! The `*_in` functions take a [`WriteTransaction`] so the runner can group several database
//! steps into one commit; the [`Engine`] methods wrap each in a transaction of its own.

use crate::automations::AUTOMATIONS;
use crate::error::{Error, Result};
use crate::store::{Decode, Encoded, Engine, Json, JsonEncoded, Stored, encoded};
use chrono::{DateTime, Utc};
use model::Mode;
use model::names::{NameKind, is_valid_database_name};
use redb::{
    ReadTransaction, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::Bound;

type RecordKey = (&'static str, &'static str, &'static str, &'static str);
type MetaKey = (&'static str, &'static str, &'static str);

/// (automation, mode, database, key) -> the value. Written [`encoded`]: values are encoded
/// once, when their size is checked ([`value_bytes`]), and copied without decoding.
pub(crate) const RECORDS: TableDefinition<RecordKey, Json<Value>> =
    TableDefinition::new("db_records");
/// (automation, mode, database) -> [`DbMeta`].
pub(crate) const DB_META: TableDefinition<MetaKey, Json<DbMeta>> = TableDefinition::new("db_meta");

pub const MAX_KEY_BYTES: usize = 1024;
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// The most records one page of [`Engine::db_list`] holds.
pub const MAX_PAGE: usize = 1000;

pub use model::wire::{DatabaseInfo, Record, RecordPage};

/// Kept beside the records so listing databases with their counts reads one row each.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct DbMeta {
    created_at: DateTime<Utc>,
    count: u64,
}

impl Stored for DbMeta {
    const NAME: &'static str = "DbMeta";
}

fn check_name(database: &str) -> Result<()> {
    if is_valid_database_name(database) {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "`{database}` is not a valid database name: {}",
        NameKind::Database.rule()
    )))
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(Error::Invalid(format!(
            "a key has 1 to {MAX_KEY_BYTES} bytes; this one has {}",
            key.len()
        )));
    }
    Ok(())
}

fn value_bytes(value: &Value) -> Result<Encoded<'static, Value>> {
    let bytes = Encoded::new(value)?;
    if bytes.len() > MAX_VALUE_BYTES {
        return Err(Error::Invalid(format!(
            "the value is {} bytes; the limit is 1 MiB",
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn missing(database: &str, mode: Mode) -> Error {
    Error::NotFound(format!("database `{database}` does not exist in {mode}"))
}

/// The smallest string greater than `s`, so the tuple range `(.., s, "")..(.., s\0, "")` holds
/// exactly the keys whose element is `s` (and none whose element merely starts with `s`).
fn after_all_of(s: &str) -> String {
    format!("{s}\0")
}

fn read_meta(
    meta: &impl ReadableTable<MetaKey, Json<DbMeta>>,
    automation: &str,
    mode: Mode,
    database: &str,
) -> Result<Option<DbMeta>> {
    meta.get((automation, mode.as_str(), database))?
        .map(|v| v.decode())
        .transpose()
}

fn write_meta(
    meta: &mut Table<MetaKey, Json<DbMeta>>,
    automation: &str,
    mode: Mode,
    database: &str,
    m: &DbMeta,
) -> Result<()> {
    meta.insert((automation, mode.as_str(), database), m)?;
    Ok(())
}

/// The database's metadata, creating it (for an existing automation) when missing.
fn ensure(
    w: &WriteTransaction,
    meta: &Table<MetaKey, Json<DbMeta>>,
    automation: &str,
    mode: Mode,
    database: &str,
    now: DateTime<Utc>,
) -> Result<DbMeta> {
    if let Some(m) = read_meta(meta, automation, mode, database)? {
        return Ok(m);
    }
    if w.open_table(AUTOMATIONS)?.get(automation)?.is_none() {
        return Err(Error::NotFound(format!(
            "automation `{automation}` does not exist"
        )));
    }
    Ok(DbMeta {
        created_at: now,
        count: 0,
    })
}

/// Writes one record; true when the key was new.
fn insert_record(
    records: &mut Table<RecordKey, JsonEncoded<Value>>,
    automation: &str,
    mode: Mode,
    database: &str,
    key: &str,
    bytes: &Encoded<Value>,
) -> Result<bool> {
    let old = records.insert((automation, mode.as_str(), database, key), bytes)?;
    Ok(old.is_none())
}

fn get_from(
    records: &impl ReadableTable<RecordKey, Json<Value>>,
    automation: &str,
    mode: Mode,
    database: &str,
    key: &str,
) -> Result<Option<Value>> {
    records
        .get((automation, mode.as_str(), database, key))?
        .map(|v| v.decode())
        .transpose()
}

fn list_from(
    records: &impl ReadableTable<RecordKey, Json<Value>>,
    automation: &str,
    mode: Mode,
    database: &str,
    prefix: &str,
    limit: usize,
    after: Option<&str>,
) -> Result<RecordPage> {
    let limit = limit.clamp(1, MAX_PAGE);
    let m = mode.as_str();
    let start = match after {
        Some(cursor) if cursor >= prefix => Bound::Excluded((automation, m, database, cursor)),
        _ => Bound::Included((automation, m, database, prefix)),
    };
    let end_db = after_all_of(database);
    let end = Bound::Excluded((automation, m, end_db.as_str(), ""));
    let mut page = RecordPage {
        items: vec![],
        next_cursor: None,
    };
    for row in records.range((start, end))? {
        let (k, v) = row?;
        let key = k.value().3;
        if !key.starts_with(prefix) {
            break;
        }
        if page.items.len() == limit {
            page.next_cursor = page.items.last().map(|r| r.key.clone());
            break;
        }
        page.items.push(Record {
            key: key.to_string(),
            value: v.decode()?,
        });
    }
    Ok(page)
}

/// The database's metadata, or NotFound.
fn meta_or_missing(
    r: &ReadTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
) -> Result<DbMeta> {
    check_name(database)?;
    let meta = r.open_table(DB_META)?;
    read_meta(&meta, automation, mode, database)?.ok_or_else(|| missing(database, mode))
}

/// The value under `key`, or `None`; the database must exist.
#[cfg(test)]
pub(crate) fn get_in(
    w: &WriteTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
    key: &str,
) -> Result<Option<Value>> {
    check_name(database)?;
    if read_meta(&w.open_table(DB_META)?, automation, mode, database)?.is_none() {
        return Err(missing(database, mode));
    }
    get_from(&w.open_table(RECORDS)?, automation, mode, database, key)
}

/// Stores `value` under `key`, creating the database on its first put; true when the key was new.
pub(crate) fn put_in(
    w: &WriteTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
    key: &str,
    value: &Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    check_name(database)?;
    check_key(key)?;
    let bytes = value_bytes(value)?;
    let mut meta = w.open_table(DB_META)?;
    let mut m = ensure(w, &meta, automation, mode, database, now)?;
    let added = insert_record(
        &mut w.open_table(encoded(&RECORDS))?,
        automation,
        mode,
        database,
        key,
        &bytes,
    )?;
    m.count += u64::from(added);
    write_meta(&mut meta, automation, mode, database, &m)?;
    Ok(added)
}

/// A database write of a running step (PRODUCT.md §4 `database`: `put`, `delete`), made in
/// the run writer's next commit. Built with [`DbWrite::put`], which checks the name, key and
/// value and serializes the value on the caller's thread.
#[derive(Debug)]
pub(crate) enum DbWrite {
    Put {
        automation: String,
        mode: Mode,
        database: String,
        key: String,
        bytes: Encoded<'static, Value>,
        now: DateTime<Utc>,
    },
    Delete {
        automation: String,
        mode: Mode,
        database: String,
        key: String,
    },
}

impl DbWrite {
    pub(crate) fn put(
        automation: String,
        mode: Mode,
        database: String,
        key: String,
        value: &Value,
        now: DateTime<Utc>,
    ) -> Result<DbWrite> {
        check_name(&database)?;
        check_key(&key)?;
        let bytes = value_bytes(value)?;
        Ok(DbWrite::Put {
            automation,
            mode,
            database,
            key,
            bytes,
            now,
        })
    }

    pub(crate) fn delete(
        automation: String,
        mode: Mode,
        database: String,
        key: String,
    ) -> Result<DbWrite> {
        check_name(&database)?;
        Ok(DbWrite::Delete {
            automation,
            mode,
            database,
            key,
        })
    }
}

/// Makes `writes` inside `w`, in order, with the tables opened once and each database's
/// metadata read and written once. Each write has its own result (`put`: whether the key was
/// new; `delete`: whether there was a record); a write refused for what it asks (a missing
/// database or automation) changed nothing. The outer error is a storage error.
pub(crate) fn apply_step_writes<'a>(
    w: &WriteTransaction,
    writes: impl IntoIterator<Item = &'a DbWrite>,
) -> Result<Vec<Result<bool>>> {
    let mut meta = w.open_table(DB_META)?;
    let mut records = w.open_table(encoded(&RECORDS))?;
    // (automation, mode, database) -> its metadata as it is now, and whether it changed.
    let mut metas: HashMap<(String, Mode, String), (DbMeta, bool)> = HashMap::new();
    let mut results = Vec::new();
    for write in writes {
        let (automation, mode, database) = match write {
            DbWrite::Put {
                automation,
                mode,
                database,
                ..
            }
            | DbWrite::Delete {
                automation,
                mode,
                database,
                ..
            } => (automation, *mode, database),
        };
        let (m, changed) = match metas.entry((automation.clone(), mode, database.clone())) {
            Entry::Occupied(cached) => cached.into_mut(),
            Entry::Vacant(slot) => {
                let found = match write {
                    // A put creates the database, as `put_in` does.
                    DbWrite::Put { now, .. } => {
                        match ensure(w, &meta, automation, mode, database, *now) {
                            Err(e) if !matches!(e, Error::NotFound(_)) => return Err(e),
                            found => found,
                        }
                    }
                    DbWrite::Delete { .. } => read_meta(&meta, automation, mode, database)?
                        .ok_or_else(|| missing(database, mode)),
                };
                match found {
                    Ok(m) => slot.insert((m, false)),
                    Err(refused) => {
                        results.push(Err(refused));
                        continue;
                    }
                }
            }
        };
        match write {
            DbWrite::Put { key, bytes, .. } => {
                let added = insert_record(&mut records, automation, mode, database, key, bytes)?;
                if added {
                    m.count += 1;
                    *changed = true;
                }
                results.push(Ok(added));
            }
            DbWrite::Delete { key, .. } => {
                let removed = records
                    .remove((
                        automation.as_str(),
                        mode.as_str(),
                        database.as_str(),
                        key.as_str(),
                    ))?
                    .is_some();
                if removed {
                    m.count = m.count.saturating_sub(1);
                    *changed = true;
                }
                results.push(Ok(removed));
            }
        }
    }
    for ((automation, mode, database), (m, changed)) in &metas {
        if *changed {
            write_meta(&mut meta, automation, *mode, database, m)?;
        }
    }
    Ok(results)
}

/// Removes the record under `key`; true when there was one. The database must exist.
pub(crate) fn delete_in(
    w: &WriteTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
    key: &str,
) -> Result<bool> {
    check_name(database)?;
    let mut meta = w.open_table(DB_META)?;
    let mut m =
        read_meta(&meta, automation, mode, database)?.ok_or_else(|| missing(database, mode))?;
    let removed = w
        .open_table(encoded(&RECORDS))?
        .remove((automation, mode.as_str(), database, key))?
        .is_some();
    if removed {
        m.count = m.count.saturating_sub(1);
        write_meta(&mut meta, automation, mode, database, &m)?;
    }
    Ok(removed)
}

/// Puts `rows` into the database inside `w` (created if needed), all or nothing: a bad key or
/// value is an error that `named(i)` says where (row `i` of `rows`). Returns how many were put.
pub(crate) fn put_records_in(
    w: &WriteTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
    rows: &[Record],
    now: DateTime<Utc>,
    named: impl Fn(usize) -> String,
) -> Result<u64> {
    check_name(database)?;
    let mut checked = Vec::with_capacity(rows.len());
    for (i, record) in rows.iter().enumerate() {
        let at = |e: Error| Error::Invalid(format!("{}: {e}", named(i)));
        check_key(&record.key).map_err(at)?;
        checked.push((record.key.as_str(), value_bytes(&record.value).map_err(at)?));
    }
    let mut meta = w.open_table(DB_META)?;
    let mut m = ensure(w, &meta, automation, mode, database, now)?;
    let mut records = w.open_table(encoded(&RECORDS))?;
    for (key, bytes) in &checked {
        m.count += u64::from(insert_record(
            &mut records,
            automation,
            mode,
            database,
            key,
            bytes,
        )?);
    }
    write_meta(&mut meta, automation, mode, database, &m)?;
    Ok(checked.len() as u64)
}

/// One page of records whose keys start with `prefix`, in key order, after the cursor `after`.
#[cfg(test)]
pub(crate) fn list_in(
    w: &WriteTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
    prefix: &str,
    limit: usize,
    after: Option<&str>,
) -> Result<RecordPage> {
    check_name(database)?;
    if read_meta(&w.open_table(DB_META)?, automation, mode, database)?.is_none() {
        return Err(missing(database, mode));
    }
    let records = w.open_table(RECORDS)?;
    list_from(&records, automation, mode, database, prefix, limit, after)
}

#[allow(dead_code, reason = "for the runner's grouped writes; not called yet")]
pub(crate) fn count_in(
    w: &WriteTransaction,
    automation: &str,
    mode: Mode,
    database: &str,
) -> Result<u64> {
    check_name(database)?;
    read_meta(&w.open_table(DB_META)?, automation, mode, database)?
        .map(|m| m.count)
        .ok_or_else(|| missing(database, mode))
}

/// Removes every database of `automation`, both modes, for when the automation is deleted.
pub(crate) fn delete_all(w: &WriteTransaction, automation: &str) -> Result<()> {
    // Encoded: the rows go without being decoded.
    let end = after_all_of(automation);
    w.open_table(encoded(&RECORDS))?.retain_in(
        (automation, "", "", "")..(end.as_str(), "", "", ""),
        |_, _| false,
    )?;
    w.open_table(encoded(&DB_META))?
        .retain_in((automation, "", "")..(end.as_str(), "", ""), |_, _| false)?;
    Ok(())
}

/// Where a deploy keeps the live contents of `database` that deployment `number` replaced: a
/// mode-like partition of its own, invisible to the Test and Live listings.
fn backup_partition(number: u64) -> String {
    format!("backup-{number}")
}

/// Replaces database `database` in partition `to` with a copy of the one in `from` (records and
/// count); `None` when `from` has no such database (nothing is changed then).
fn copy_partition_in(
    w: &WriteTransaction,
    automation: &str,
    from: &str,
    to: &str,
    database: &str,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let mut meta = w.open_table(DB_META)?;
    let found = meta.get((automation, from, database))?;
    let Some(mut m) = found.map(|v| v.decode()).transpose()? else {
        return Ok(None);
    };
    m.created_at = now;
    let end = after_all_of(database);
    // Encoded: records are copied as they are stored, without decoding them.
    let mut records = w.open_table(encoded(&RECORDS))?;
    records.retain_in(
        (automation, to, database, "")..(automation, to, end.as_str(), ""),
        |_, _| false,
    )?;
    let mut rows = Vec::new();
    for row in
        records.range((automation, from, database, "")..(automation, from, end.as_str(), ""))?
    {
        let (k, v) = row?;
        rows.push((k.value().3.to_string(), v.value().into_owned()));
    }
    for (key, bytes) in &rows {
        records.insert((automation, to, database, key.as_str()), bytes)?;
    }
    m.count = rows.len() as u64;
    meta.insert((automation, to, database), &m)?;
    Ok(Some(m.count))
}

/// A deploy's copy of test database `database` to Live. The live contents it replaces (if Live
/// had that database) are kept as deployment `number`'s backup; true when they were.
pub(crate) fn copy_to_live_in(
    w: &WriteTransaction,
    automation: &str,
    database: &str,
    number: u64,
    now: DateTime<Utc>,
) -> Result<bool> {
    check_name(database)?;
    let backup = backup_partition(number);
    let backed_up = copy_partition_in(w, automation, "live", &backup, database, now)?.is_some();
    if copy_partition_in(w, automation, "test", "live", database, now)?.is_none() {
        return Err(missing(database, Mode::Test));
    }
    Ok(backed_up)
}

/// Puts back the live contents of `database` that deployment `number` replaced; returns the
/// record count restored.
pub(crate) fn restore_backup_in(
    w: &WriteTransaction,
    automation: &str,
    database: &str,
    number: u64,
    now: DateTime<Utc>,
) -> Result<u64> {
    check_name(database)?;
    copy_partition_in(
        w,
        automation,
        &backup_partition(number),
        "live",
        database,
        now,
    )?
    .ok_or_else(|| {
        Error::NotFound(format!(
            "deployment {number} kept no backup of live database `{database}`"
        ))
    })
}

/// People change test databases; live databases change only through live runs and deploys.
pub(crate) fn check_user_may_change(mode: Mode) -> Result<()> {
    match mode {
        Mode::Test => Ok(()),
        Mode::Live => Err(Error::LiveReadOnly(
            "live databases change only through live runs and deploys".into(),
        )),
    }
}

impl Engine {
    /// What a person may do to records by hand: editors, in Test only (Live's databases change
    /// through live runs and deploys). Every adapter's change of records goes through here.
    fn check_records_change(by: &crate::User, mode: Mode) -> Result<()> {
        by.require(crate::Role::Editor)?;
        check_user_may_change(mode)
    }

    /// [`Engine::create_database`] by a person (see [`Engine::check_records_change`]).
    pub fn create_database_as(
        &self,
        by: &crate::User,
        automation: &str,
        mode: Mode,
        name: &str,
    ) -> Result<DatabaseInfo> {
        Self::check_records_change(by, mode)?;
        self.get_automation(automation)?;
        self.create_database(automation, mode, name)
    }

    /// [`Engine::db_put`] by a person.
    pub fn put_record_as(
        &self,
        by: &crate::User,
        automation: &str,
        mode: Mode,
        database: &str,
        key: &str,
        value: Value,
    ) -> Result<Value> {
        Self::check_records_change(by, mode)?;
        self.get_automation(automation)?;
        self.db_put(automation, mode, database, key, value)
    }

    /// [`Engine::db_delete`] by a person.
    pub fn delete_record_as(
        &self,
        by: &crate::User,
        automation: &str,
        mode: Mode,
        database: &str,
        key: &str,
    ) -> Result<bool> {
        Self::check_records_change(by, mode)?;
        self.db_delete(automation, mode, database, key)
    }

    /// [`Engine::import_jsonl`] by a person.
    pub fn import_records_as(
        &self,
        by: &crate::User,
        automation: &str,
        mode: Mode,
        database: &str,
        text: &str,
    ) -> Result<u64> {
        Self::check_records_change(by, mode)?;
        self.get_automation(automation)?;
        self.import_jsonl(automation, mode, database, text)
    }

    /// Creates an empty database; a database also comes into existence on its first put.
    pub(crate) fn create_database(
        &self,
        automation: &str,
        mode: Mode,
        name: &str,
    ) -> Result<DatabaseInfo> {
        check_name(name)?;
        let w = self.db().begin_write()?;
        let m = {
            let mut meta = w.open_table(DB_META)?;
            if read_meta(&meta, automation, mode, name)?.is_some() {
                return Err(Error::AlreadyExists(format!(
                    "database `{name}` already exists in {mode}"
                )));
            }
            let m = ensure(&w, &meta, automation, mode, name, self.now())?;
            write_meta(&mut meta, automation, mode, name, &m)?;
            m
        };
        w.commit()?;
        Ok(DatabaseInfo {
            name: name.to_string(),
            count: m.count,
            created_at: m.created_at,
        })
    }

    /// Removes the database with all its records.
    pub fn delete_database(&self, automation: &str, mode: Mode, name: &str) -> Result<()> {
        check_name(name)?;
        let w = self.db().begin_write()?;
        {
            let m = mode.as_str();
            if w.open_table(DB_META)?
                .remove((automation, m, name))?
                .is_none()
            {
                return Err(missing(name, mode));
            }
            let end = after_all_of(name);
            w.open_table(encoded(&RECORDS))?.retain_in(
                (automation, m, name, "")..(automation, m, end.as_str(), ""),
                |_, _| false,
            )?;
        }
        w.commit()?;
        Ok(())
    }

    /// The databases of one automation in one mode, by name, with their record counts.
    pub fn list_databases(&self, automation: &str, mode: Mode) -> Result<Vec<DatabaseInfo>> {
        self.get_automation(automation)?;
        let r = self.db().begin_read()?;
        let meta = r.open_table(DB_META)?;
        let m = mode.as_str();
        let end = after_all_of(m);
        let mut out = vec![];
        for row in meta.range((automation, m, "")..(automation, end.as_str(), ""))? {
            let (k, v) = row?;
            let info = v.decode()?;
            out.push(DatabaseInfo {
                name: k.value().2.to_string(),
                count: info.count,
                created_at: info.created_at,
            });
        }
        Ok(out)
    }

    pub fn db_get(
        &self,
        automation: &str,
        mode: Mode,
        database: &str,
        key: &str,
    ) -> Result<Option<Value>> {
        let r = self.db().begin_read()?;
        meta_or_missing(&r, automation, mode, database)?;
        get_from(&r.open_table(RECORDS)?, automation, mode, database, key)
    }

    /// Stores `value` under `key` (creating the database if needed) and returns it.
    pub(crate) fn db_put(
        &self,
        automation: &str,
        mode: Mode,
        database: &str,
        key: &str,
        value: Value,
    ) -> Result<Value> {
        let w = self.db().begin_write()?;
        put_in(&w, automation, mode, database, key, &value, self.now())?;
        w.commit()?;
        Ok(value)
    }

    /// True when a record was removed.
    pub(crate) fn db_delete(
        &self,
        automation: &str,
        mode: Mode,
        database: &str,
        key: &str,
    ) -> Result<bool> {
        let w = self.db().begin_write()?;
        let removed = delete_in(&w, automation, mode, database, key)?;
        w.commit()?;
        Ok(removed)
    }

    pub fn db_count(&self, automation: &str, mode: Mode, database: &str) -> Result<u64> {
        let r = self.db().begin_read()?;
        Ok(meta_or_missing(&r, automation, mode, database)?.count)
    }

    /// Records whose keys start with `prefix`, in key order, strictly after the cursor `after`;
    /// `limit` is held to 1..=[`MAX_PAGE`].
    pub fn db_list(
        &self,
        automation: &str,
        mode: Mode,
        database: &str,
        prefix: &str,
        limit: usize,
        after: Option<&str>,
    ) -> Result<RecordPage> {
        let r = self.db().begin_read()?;
        meta_or_missing(&r, automation, mode, database)?;
        let records = r.open_table(RECORDS)?;
        list_from(&records, automation, mode, database, prefix, limit, after)
    }

    /// Every record of the database, in key order.
    pub(crate) fn all_records(
        &self,
        automation: &str,
        mode: Mode,
        database: &str,
    ) -> Result<Vec<Record>> {
        let r = self.db().begin_read()?;
        meta_or_missing(&r, automation, mode, database)?;
        let records = r.open_table(RECORDS)?;
        let m = mode.as_str();
        let end = after_all_of(database);
        let mut out = vec![];
        for row in
            records.range((automation, m, database, "")..(automation, m, end.as_str(), ""))?
        {
            let (k, v) = row?;
            out.push(Record {
                key: k.value().3.to_string(),
                value: v.decode()?,
            });
        }
        Ok(out)
    }

    /// Every record as one `{"key":..,"value":..}` line, in key order.
    pub fn export_jsonl(&self, automation: &str, mode: Mode, database: &str) -> Result<String> {
        let mut out = String::new();
        for record in self.all_records(automation, mode, database)? {
            out.push_str(&serde_json::to_string(&record)?);
            out.push('\n');
        }
        Ok(out)
    }

    /// Puts every `{"key":..,"value":..}` line of `text` (blank lines skipped), creating the
    /// database if needed, all or nothing. Returns the number of records written.
    pub(crate) fn import_jsonl(
        &self,
        automation: &str,
        mode: Mode,
        database: &str,
        text: &str,
    ) -> Result<u64> {
        check_name(database)?;
        let (mut rows, mut lines) = (vec![], vec![]);
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(line)
                .map_err(|e| Error::Invalid(format!("line {}: {e}", i + 1)))?;
            rows.push(record);
            lines.push(i + 1);
        }
        let w = self.db().begin_write()?;
        let named = |i: usize| format!("line {}", lines[i]);
        let n = put_records_in(&w, automation, mode, database, &rows, self.now(), named)?;
        w.commit()?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::orders;
    use serde_json::json;

    const T: Mode = Mode::Test;
    const L: Mode = Mode::Live;

    fn keys(page: &RecordPage) -> Vec<&str> {
        page.items.iter().map(|r| r.key.as_str()).collect()
    }

    fn all_keys(e: &Engine, a: &str, mode: Mode, db: &str) -> Vec<String> {
        let page = e.db_list(a, mode, db, "", MAX_PAGE, None).unwrap();
        assert_eq!(page.next_cursor, None);
        page.items.into_iter().map(|r| r.key).collect()
    }

    #[test]
    fn step_writes_in_one_batch_keep_counts_and_fail_alone() {
        let e = orders();
        let now = e.now();
        let put = |db: &str, key: &str, v: Value| {
            DbWrite::put("orders".into(), T, db.into(), key.into(), &v, now).unwrap()
        };
        let del = |db: &str, key: &str| {
            DbWrite::delete("orders".into(), T, db.into(), key.into()).unwrap()
        };
        let writes = [
            put("fresh", "a", json!(1)),
            put("fresh", "a", json!(2)),
            del("nowhere", "a"),
            put("fresh", "b", json!(3)),
            del("fresh", "b"),
            del("fresh", "b"),
            DbWrite::put(
                "ghost".into(),
                T,
                "fresh".into(),
                "x".into(),
                &json!(0),
                now,
            )
            .unwrap(),
        ];
        let w = e.db().begin_write().unwrap();
        let results = apply_step_writes(&w, &writes).unwrap();
        w.commit().unwrap();
        let shown: Vec<String> = results
            .iter()
            .map(|r| match r {
                Ok(b) => b.to_string(),
                Err(e) => e.to_string(),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "true",
                "false",
                "database `nowhere` does not exist in test",
                "true",
                "true",
                "false",
                "automation `ghost` does not exist",
            ]
        );
        assert_eq!(e.db_count("orders", T, "fresh").unwrap(), 1);
        assert_eq!(e.db_get("orders", T, "fresh", "a").unwrap(), Some(json!(2)));
        assert!(e.db_count("orders", T, "nowhere").is_err());
        // Checked before anything is queued.
        assert!(
            DbWrite::put("orders".into(), T, "Bad".into(), "k".into(), &json!(1), now).is_err()
        );
        assert!(
            DbWrite::put(
                "orders".into(),
                T,
                "ok".into(),
                String::new(),
                &json!(1),
                now
            )
            .is_err()
        );
    }

    fn invalid(err: Error) -> String {
        match err {
            Error::Invalid(m) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn put_get_delete_with_exact_counts() {
        let e = orders();
        let v = json!({"id": 7, "items": [1, 2], "note": null});
        assert_eq!(e.db_put("orders", T, "carts", "c1", v.clone()).unwrap(), v);
        assert_eq!(e.db_get("orders", T, "carts", "c1").unwrap(), Some(v));
        assert_eq!(e.db_get("orders", T, "carts", "nope").unwrap(), None);
        assert_eq!(e.db_count("orders", T, "carts").unwrap(), 1);

        e.db_put("orders", T, "carts", "c1", json!(2)).unwrap();
        assert_eq!(e.db_count("orders", T, "carts").unwrap(), 1, "overwrite");
        assert_eq!(
            e.db_get("orders", T, "carts", "c1").unwrap(),
            Some(json!(2))
        );
        e.db_put("orders", T, "carts", "c2", Value::Null).unwrap();
        assert_eq!(
            e.db_get("orders", T, "carts", "c2").unwrap(),
            Some(Value::Null),
            "a stored null is not a missing record"
        );
        assert_eq!(e.db_count("orders", T, "carts").unwrap(), 2);

        assert!(e.db_delete("orders", T, "carts", "c1").unwrap());
        assert!(!e.db_delete("orders", T, "carts", "c1").unwrap());
        assert_eq!(e.db_count("orders", T, "carts").unwrap(), 1);
        assert_eq!(e.db_get("orders", T, "carts", "c1").unwrap(), None);

        let dbs = e.list_databases("orders", T).unwrap();
        assert_eq!(
            dbs.iter()
                .map(|d| (d.name.as_str(), d.count))
                .collect::<Vec<_>>(),
            [("carts", 1)]
        );
    }

    #[test]
    fn create_list_and_delete_databases() {
        let e = orders();
        let info = e.create_database("orders", T, "zeta").unwrap();
        assert_eq!((info.name.as_str(), info.count), ("zeta", 0));
        let dup = e.create_database("orders", T, "zeta").unwrap_err();
        assert!(matches!(dup, Error::AlreadyExists(_)), "{dup}");
        e.db_put("orders", T, "alpha", "k", json!(1)).unwrap();
        let dbs = e.list_databases("orders", T).unwrap();
        assert_eq!(
            dbs.iter()
                .map(|d| (d.name.as_str(), d.count))
                .collect::<Vec<_>>(),
            [("alpha", 1), ("zeta", 0)],
            "by name"
        );
        assert_eq!(dbs[1], info);

        e.db_put("orders", T, "alpha_2", "k", json!(2)).unwrap();
        e.delete_database("orders", T, "alpha").unwrap();
        let err = e.db_get("orders", T, "alpha", "k").unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        assert_eq!(err.to_string(), "database `alpha` does not exist in test");
        assert_eq!(
            e.db_get("orders", T, "alpha_2", "k").unwrap(),
            Some(json!(2)),
            "a database whose name extends the deleted one is untouched"
        );
        assert!(matches!(
            e.delete_database("orders", T, "alpha"),
            Err(Error::NotFound(_))
        ));
        e.db_put("orders", T, "alpha", "other", json!(3)).unwrap();
        assert_eq!(
            all_keys(&e, "orders", T, "alpha"),
            ["other"],
            "recreated empty"
        );
        assert_eq!(e.db_count("orders", T, "alpha").unwrap(), 1);
    }

    #[test]
    fn missing_databases_and_automations() {
        let e = orders();
        for err in [
            e.db_get("orders", L, "carts", "k").unwrap_err(),
            e.db_count("orders", L, "carts").unwrap_err(),
            e.db_list("orders", L, "carts", "", 10, None).unwrap_err(),
            e.export_jsonl("orders", L, "carts").unwrap_err(),
            e.db_delete("orders", L, "carts", "k").unwrap_err(),
        ] {
            assert!(matches!(err, Error::NotFound(_)), "{err}");
            assert_eq!(err.to_string(), "database `carts` does not exist in live");
        }
        for err in [
            e.db_put("ghost", T, "carts", "k", json!(1)).unwrap_err(),
            e.create_database("ghost", T, "carts").unwrap_err(),
            e.list_databases("ghost", T).unwrap_err(),
            e.import_jsonl("ghost", T, "carts", "").unwrap_err(),
        ] {
            assert_eq!(err.to_string(), "automation `ghost` does not exist");
        }
        assert_eq!(e.list_databases("orders", T).unwrap(), []);
    }

    #[test]
    fn database_names_follow_the_rule() {
        let e = orders();
        for bad in [
            "",
            "Orders",
            "1a",
            "_a",
            "a-b",
            "a b",
            "a/b",
            &"a".repeat(64),
        ] {
            let msg = invalid(e.db_put("orders", T, bad, "k", json!(1)).unwrap_err());
            assert!(msg.contains("starting with a letter"), "{bad}: {msg}");
            assert!(matches!(
                e.create_database("orders", T, bad),
                Err(Error::Invalid(_))
            ));
            assert!(matches!(
                e.db_get("orders", T, bad, "k"),
                Err(Error::Invalid(_))
            ));
        }
        assert_eq!(
            invalid(e.create_database("orders", T, "Orders").unwrap_err()),
            "`Orders` is not a valid database name: use lowercase letters, digits and _, starting with a letter, at most 63 characters"
        );
    }

    #[test]
    fn keys_have_1_to_1024_bytes() {
        let e = orders();
        let cases = [
            (String::new(), 0),
            ("k".repeat(1025), 1025),
            ("é".repeat(5120), 10240),
        ];
        for (key, n) in cases {
            assert_eq!(
                invalid(e.db_put("orders", T, "db", &key, json!(1)).unwrap_err()),
                format!("a key has 1 to 1024 bytes; this one has {n}")
            );
        }
        assert!(
            e.list_databases("orders", T).unwrap().is_empty(),
            "a refused put creates nothing"
        );
        let longest = "é".repeat(512);
        e.db_put("orders", T, "db", &longest, json!(1)).unwrap();
        e.db_put("orders", T, "db", "x", json!(1)).unwrap();
        assert_eq!(all_keys(&e, "orders", T, "db"), ["x", longest.as_str()]);
    }

    #[test]
    fn values_are_at_most_one_mib() {
        let e = orders();
        // A JSON string is its text plus two quotes.
        let fits = Value::String("v".repeat(MAX_VALUE_BYTES - 2));
        e.db_put("orders", T, "db", "big", fits.clone()).unwrap();
        assert_eq!(e.db_get("orders", T, "db", "big").unwrap(), Some(fits));
        let over = Value::String("v".repeat(MAX_VALUE_BYTES - 1));
        assert_eq!(
            invalid(e.db_put("orders", T, "db", "big", over).unwrap_err()),
            "the value is 1048577 bytes; the limit is 1 MiB"
        );
        assert_eq!(e.db_count("orders", T, "db").unwrap(), 1);
    }

    #[test]
    fn test_and_live_never_share_records() {
        let e = orders();
        e.db_put("orders", T, "carts", "k", json!("test")).unwrap();
        let err = e.db_get("orders", L, "carts", "k").unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
        e.db_put("orders", L, "carts", "k", json!("live")).unwrap();
        e.db_put("orders", L, "carts", "k2", json!("live")).unwrap();
        assert_eq!(
            e.db_get("orders", T, "carts", "k").unwrap(),
            Some(json!("test"))
        );
        assert_eq!(
            e.db_get("orders", L, "carts", "k").unwrap(),
            Some(json!("live"))
        );
        assert_eq!(e.db_count("orders", T, "carts").unwrap(), 1);
        assert_eq!(e.db_count("orders", L, "carts").unwrap(), 2);
        e.delete_database("orders", L, "carts").unwrap();
        assert_eq!(
            e.db_get("orders", T, "carts", "k").unwrap(),
            Some(json!("test"))
        );
        assert!(e.list_databases("orders", L).unwrap().is_empty());
        assert_eq!(e.list_databases("orders", T).unwrap().len(), 1);
    }

    /// Every pair here would collide, or one would be a prefix of the other, if the parts were
    /// joined into one string with `/`, `:`, `_`, `-` or NUL.
    #[test]
    fn separators_in_keys_never_cross_into_another_range() {
        let e = crate::testing::engine();
        for a in ["a", "a-b", "a-b-c"] {
            e.create_automation(a, a, "ann").unwrap();
        }
        let rows: &[(&str, Mode, &str, &str)] = &[
            ("a", T, "b", "c_k"),
            ("a", T, "b_c", "k"),
            ("a", T, "b", "c-k"),
            ("a-b", T, "c", "k"),
            ("a-b", T, "c", "-k"),
            ("a-b-c", T, "k", "k"),
            ("a", T, "b", "c/k"),
            ("a", T, "b", "c:k"),
            ("a", T, "b", "c\0k"),
            ("a", T, "b", "\0"),
            ("a", T, "b", "test:b:k"),
            ("a", T, "b", "/live/b/k"),
            ("a", L, "b", "k"),
            ("a", L, "b_c", "k"),
            ("a", T, "b", "ключ/é:\u{1F600}"),
            ("a", T, "b_c", "ключ"),
        ];
        for &(a, mode, db, key) in rows {
            e.db_put(a, mode, db, key, json!([a, mode, db, key]))
                .unwrap();
        }
        for &(a, mode, db, key) in rows {
            assert_eq!(
                e.db_get(a, mode, db, key).unwrap(),
                Some(json!([a, mode, db, key]))
            );
            let mut expected: Vec<&str> = rows
                .iter()
                .filter(|r| (r.0, r.1, r.2) == (a, mode, db))
                .map(|r| r.3)
                .collect();
            expected.sort();
            let listed = e.db_list(a, mode, db, "", MAX_PAGE, None).unwrap();
            assert_eq!(keys(&listed), expected, "{a} {mode} {db}");
            for r in &listed.items {
                assert_eq!(r.value, json!([a, mode, db, r.key]));
            }
            assert_eq!(e.db_count(a, mode, db).unwrap(), expected.len() as u64);
            let exported = e.export_jsonl(a, mode, db).unwrap();
            assert_eq!(exported.lines().count(), expected.len(), "{a} {mode} {db}");
        }
        assert!(e.db_get("a", T, "b", "c").unwrap().is_none());
        assert!(e.db_get("a", T, "b", "c_").unwrap().is_none());
        let names = |a, mode| -> Vec<String> {
            e.list_databases(a, mode)
                .unwrap()
                .into_iter()
                .map(|d| d.name)
                .collect()
        };
        assert_eq!(names("a", T), ["b", "b_c"]);
        assert_eq!(names("a", L), ["b", "b_c"]);
        assert_eq!(names("a-b", T), ["c"]);
        assert!(names("a-b", L).is_empty());

        e.delete_database("a", T, "b").unwrap();
        assert_eq!(all_keys(&e, "a", T, "b_c"), ["k", "ключ"]);
        assert_eq!(all_keys(&e, "a", L, "b"), ["k"]);
        assert_eq!(all_keys(&e, "a-b", T, "c"), ["-k", "k"]);
    }

    #[test]
    fn lists_page_by_prefix_and_cursor() {
        let e = orders();
        for i in 0..25 {
            e.db_put("orders", T, "db", &format!("user:{i:03}"), json!(i))
                .unwrap();
        }
        for k in ["order:1", "user", "user;", "users:1", "v"] {
            e.db_put("orders", T, "db", k, json!(k)).unwrap();
        }
        let mut seen = vec![];
        let mut cursor: Option<String> = None;
        loop {
            let page = e
                .db_list("orders", T, "db", "user:", 10, cursor.as_deref())
                .unwrap();
            assert!(page.items.len() <= 10);
            seen.extend(page.items.iter().map(|r| r.value.clone()));
            match page.next_cursor {
                Some(c) => {
                    assert_eq!(Some(&c), page.items.last().map(|r| &r.key));
                    cursor = Some(c);
                }
                None => break,
            }
        }
        assert_eq!(seen, (0..25).map(|i| json!(i)).collect::<Vec<_>>());

        let page = e
            .db_list("orders", T, "db", "user:", 5, Some("user:020"))
            .unwrap();
        assert_eq!(
            keys(&page),
            ["user:021", "user:022", "user:023", "user:024"]
        );
        assert_eq!(page.next_cursor, None);
        let page = e.db_list("orders", T, "db", "user:", 5, Some("a")).unwrap();
        assert_eq!(page.items[0].key, "user:000", "a cursor before the prefix");
        let page = e
            .db_list("orders", T, "db", "user:", 5, Some("user:999"))
            .unwrap();
        assert!(page.items.is_empty());
        let page = e.db_list("orders", T, "db", "zzz", 5, None).unwrap();
        assert!(page.items.is_empty());
        let page = e.db_list("orders", T, "db", "", 0, None).unwrap();
        assert_eq!(keys(&page), ["order:1"], "limit 0 reads as 1");
        assert_eq!(page.next_cursor.as_deref(), Some("order:1"));
        let page = e.db_list("orders", T, "db", "users", 5, None).unwrap();
        assert_eq!(keys(&page), ["users:1"]);
    }

    #[test]
    fn a_page_holds_at_most_1000_records() {
        let e = orders();
        let text: String = (0..1005)
            .map(|i| format!("{{\"key\":\"k{i:04}\",\"value\":{i}}}\n"))
            .collect();
        assert_eq!(e.import_jsonl("orders", T, "db", &text).unwrap(), 1005);
        let page = e.db_list("orders", T, "db", "", usize::MAX, None).unwrap();
        assert_eq!(page.items.len(), 1000);
        assert_eq!(page.next_cursor.as_deref(), Some("k0999"));
        let rest = e
            .db_list(
                "orders",
                T,
                "db",
                "",
                usize::MAX,
                page.next_cursor.as_deref(),
            )
            .unwrap();
        assert_eq!(keys(&rest), ["k1000", "k1001", "k1002", "k1003", "k1004"]);
        assert_eq!(rest.next_cursor, None);
    }

    #[test]
    fn export_then_import_round_trips() {
        let e = orders();
        let rows = [
            ("a", json!({"nested": {"x": [1, 2.5, "three"]}})),
            ("b\nnewline", json!("line\nbreak")),
            ("ключ\0", json!(null)),
            ("z", json!(true)),
        ];
        for (k, v) in &rows {
            e.db_put("orders", T, "src", k, v.clone()).unwrap();
        }
        let text = e.export_jsonl("orders", T, "src").unwrap();
        assert_eq!(text.lines().count(), 4);
        let first: Record = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(
            first,
            Record {
                key: "a".into(),
                value: rows[0].1.clone()
            }
        );

        assert_eq!(e.import_jsonl("orders", L, "copy", &text).unwrap(), 4);
        assert_eq!(e.export_jsonl("orders", L, "copy").unwrap(), text);
        assert_eq!(e.db_count("orders", L, "copy").unwrap(), 4);
        // Importing again overwrites: the count stays exact.
        assert_eq!(e.import_jsonl("orders", L, "copy", &text).unwrap(), 4);
        assert_eq!(e.db_count("orders", L, "copy").unwrap(), 4);
        assert_eq!(e.import_jsonl("orders", T, "empty", "\n  \n").unwrap(), 0);
        assert_eq!(e.db_count("orders", T, "empty").unwrap(), 0);
        assert_eq!(e.export_jsonl("orders", T, "empty").unwrap(), "");
    }

    #[test]
    fn an_import_with_a_bad_line_changes_nothing() {
        let e = orders();
        e.db_put("orders", T, "db", "keep", json!(1)).unwrap();
        let before = e.export_jsonl("orders", T, "db").unwrap();
        let good = "{\"key\":\"keep\",\"value\":2}\n{\"key\":\"new\",\"value\":3}\n";
        let long_key = "k".repeat(2000);
        let cases = [
            (format!("{good}not json\n"), "line 3: "),
            (format!("{good}\n{{\"key\":\"x\"}}\n"), "line 4: "),
            (
                format!("{good}{{\"key\":\"\",\"value\":1}}\n"),
                "line 3: a key has 1 to 1024 bytes; this one has 0",
            ),
            (
                format!("{{\"key\":\"{long_key}\",\"value\":1}}\n{good}"),
                "line 1: a key has 1 to 1024 bytes; this one has 2000",
            ),
        ];
        for (text, start) in cases {
            let msg = invalid(e.import_jsonl("orders", T, "db", &text).unwrap_err());
            assert!(msg.starts_with(start), "{msg}");
            assert_eq!(e.export_jsonl("orders", T, "db").unwrap(), before);
            assert_eq!(e.db_count("orders", T, "db").unwrap(), 1);
        }
        assert!(matches!(
            e.import_jsonl("orders", T, "other", "nope"),
            Err(Error::Invalid(_))
        ));
        assert_eq!(
            e.list_databases("orders", T).unwrap().len(),
            1,
            "a failed import creates no database"
        );
    }

    #[test]
    fn writes_grouped_in_one_transaction_commit_together() {
        let e = orders();
        let now = e.now();
        let w = e.db().begin_write().unwrap();
        assert!(put_in(&w, "orders", T, "db", "a", &json!(1), now).unwrap());
        assert!(put_in(&w, "orders", T, "db", "b", &json!(2), now).unwrap());
        assert!(!put_in(&w, "orders", T, "db", "a", &json!(3), now).unwrap());
        assert_eq!(get_in(&w, "orders", T, "db", "a").unwrap(), Some(json!(3)));
        assert!(delete_in(&w, "orders", T, "db", "b").unwrap());
        assert_eq!(count_in(&w, "orders", T, "db").unwrap(), 1);
        let page = list_in(&w, "orders", T, "db", "", 10, None).unwrap();
        assert_eq!(keys(&page), ["a"]);
        drop(w);
        assert!(
            e.list_databases("orders", T).unwrap().is_empty(),
            "an uncommitted transaction leaves nothing"
        );

        let w = e.db().begin_write().unwrap();
        put_in(&w, "orders", T, "db", "a", &json!(1), now).unwrap();
        put_in(&w, "orders", L, "db", "b", &json!(2), now).unwrap();
        w.commit().unwrap();
        assert_eq!(e.db_count("orders", T, "db").unwrap(), 1);
        assert_eq!(e.db_count("orders", L, "db").unwrap(), 1);
    }

    #[test]
    fn delete_all_removes_one_automations_databases() {
        let e = orders();
        e.create_automation("orders-2", "Orders 2", "ann").unwrap();
        for a in ["orders", "orders-2"] {
            e.db_put(a, T, "db", "k", json!(1)).unwrap();
            e.db_put(a, L, "db", "k", json!(1)).unwrap();
        }
        let w = e.db().begin_write().unwrap();
        delete_all(&w, "orders").unwrap();
        w.commit().unwrap();
        assert!(e.list_databases("orders", T).unwrap().is_empty());
        assert!(e.list_databases("orders", L).unwrap().is_empty());
        assert_eq!(e.db_count("orders-2", T, "db").unwrap(), 1);
        assert_eq!(e.db_count("orders-2", L, "db").unwrap(), 1);
    }
}
