//! Converting a data file of an older format to the current one, in one write transaction
//! (a crash or a full disk during the conversion leaves the file as it was).
//!
//! Format 1 stored every JSON value as untyped bytes (`&[u8]`); format 2 stores the same JSON
//! under typed values ([`Json<T>`]), whose type names redb records. So the conversion copies
//! each table's bytes unchanged into a table of the same name and the new type: the old table
//! is renamed aside, its rows copied one by one (no table is held in memory whole), and then
//! deleted.

use super::codec::{Encoded, Json, Stored, encoded};
use super::{FORMAT_KEY, FORMAT_VALUE, META};
use crate::error::Result;
use crate::{accounts, audit, automations, databases, deployments, drafts, revisions, runs};
use crate::{scheduler, vault};
use redb::{Database, Key, ReadableTable, TableDefinition, TableHandle, WriteTransaction};

/// Untyped `&[u8]` values holding JSON.
pub(super) const FORMAT_1: &str = "1";

/// Converts a format-1 file to the current format.
pub(super) fn from_format_1(db: &Database) -> Result<()> {
    let w = db.begin_write()?;
    // Every table format 1 kept as JSON bytes. The rest were bytes and stay bytes: blobs and
    // revision manifests (their own encoding), active runs (empty values), meta (`&str`).
    // A fixed list: it is what format 1 was, whatever tables later formats add.
    typed(&w, automations::AUTOMATIONS)?;
    typed(&w, drafts::DRAFTS)?;
    typed(&w, revisions::REVISIONS)?;
    typed(&w, deployments::DEPLOYMENTS)?;
    typed(&w, runs::RUNS)?;
    typed(&w, runs::RUN_INDEX)?;
    typed(&w, databases::RECORDS)?;
    typed(&w, databases::DB_META)?;
    typed(&w, vault::SECRETS)?;
    typed(&w, accounts::USERS)?;
    typed(&w, accounts::SESSIONS)?;
    typed(&w, accounts::API_TOKENS)?;
    typed(&w, audit::AUDIT)?;
    typed(&w, scheduler::LAST_FIRED)?;
    w.open_table(META)?.insert(FORMAT_KEY, FORMAT_VALUE)?;
    w.commit()?;
    Ok(())
}

/// Gives `table`'s format-1 rows (if the file has the table) the typed value of `table`.
fn typed<K: Key + 'static, T: Stored>(
    w: &WriteTransaction,
    table: TableDefinition<K, Json<T>>,
) -> Result<()> {
    let name = table.name();
    if !w.list_tables()?.any(|t| t.name() == name) {
        // Written before this table existed; it is created typed with the others.
        return Ok(());
    }
    let aside_name = format!("{name}.format-1");
    let aside = TableDefinition::<K, &[u8]>::new(&aside_name);
    w.rename_table(TableDefinition::<K, &[u8]>::new(name), aside)?;
    {
        let old = w.open_table(aside)?;
        let mut new = w.open_table(encoded(&table))?;
        for row in old.iter()? {
            let (k, v) = row?;
            new.insert(k.value(), Encoded::trusted(v.value()))?;
        }
    }
    w.delete_table(aside)?;
    Ok(())
}
