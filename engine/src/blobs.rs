//! Content-addressed storage for revision contents: each composer head, step, link list and
//! connection is stored once under the hash of its JSON, so a revision after a one-step edit
//! adds one small blob and a manifest of hashes, never a copy of the whole automation.

use crate::error::{Error, Result};
use model::{Composer, Connection, Document, Link, Step};
use redb::{ReadableTable, Table, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

/// hash (16 bytes of sha256) -> JSON bytes.
pub(crate) const BLOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("blobs");

/// 128 bits of sha256 is plenty to tell documents apart, and halves the manifests.
pub(crate) type Hash = [u8; 16];

fn hash_of(bytes: &[u8]) -> Hash {
    let full = Sha256::digest(bytes);
    let mut h = [0u8; 16];
    h.copy_from_slice(&full[..16]);
    h
}

/// A composer without its steps and links: what changes rarely.
#[derive(Serialize, Deserialize)]
struct ComposerHead {
    slug: String,
    name: String,
    trigger: model::Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trigger_position: Option<model::Position>,
}

/// A document as hashes: compact binary, a few bytes per step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Manifest {
    composers: Vec<(Hash, Hash, Vec<Hash>)>, // head, links, steps
    connections: Vec<Hash>,
}

fn put<T: Serialize>(t: &mut Table<&[u8], &[u8]>, v: &T) -> Result<Hash> {
    let bytes = serde_json::to_vec(v)?;
    let h = hash_of(&bytes);
    if t.get(h.as_slice())?.is_none() {
        t.insert(h.as_slice(), bytes.as_slice())?;
    }
    Ok(h)
}

fn get<T: DeserializeOwned>(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    h: &Hash,
) -> Result<T> {
    let v = t
        .get(h.as_slice())?
        .ok_or_else(|| Error::Storage("a revision refers to missing content".into()))?;
    Ok(serde_json::from_slice(v.value())?)
}

impl Manifest {
    /// Stores every part of `doc` not stored yet and returns its manifest.
    pub fn store(t: &mut Table<&[u8], &[u8]>, doc: &Document) -> Result<Manifest> {
        let mut composers = Vec::with_capacity(doc.composers.len());
        for c in &doc.composers {
            let head = put(
                t,
                &ComposerHead {
                    slug: c.slug.clone(),
                    name: c.name.clone(),
                    trigger: c.trigger.clone(),
                    trigger_position: c.trigger_position,
                },
            )?;
            let links = put(t, &c.links)?;
            let steps = c
                .steps
                .iter()
                .map(|s| put(t, s))
                .collect::<Result<Vec<_>>>()?;
            composers.push((head, links, steps));
        }
        let connections = doc
            .connections
            .iter()
            .map(|c| put(t, c))
            .collect::<Result<Vec<_>>>()?;
        Ok(Manifest {
            composers,
            connections,
        })
    }

    pub fn load(&self, t: &impl ReadableTable<&'static [u8], &'static [u8]>) -> Result<Document> {
        let mut doc = Document::new_empty();
        for (head, links, steps) in &self.composers {
            let head: ComposerHead = get(t, head)?;
            let links: Vec<Link> = get(t, links)?;
            let steps = steps
                .iter()
                .map(|h| get::<Step>(t, h))
                .collect::<Result<Vec<_>>>()?;
            doc.composers.push(Composer {
                slug: head.slug,
                name: head.name,
                trigger: head.trigger,
                trigger_position: head.trigger_position,
                steps,
                links,
            });
        }
        doc.connections = self
            .connections
            .iter()
            .map(|h| get::<Connection>(t, h))
            .collect::<Result<Vec<_>>>()?;
        Ok(doc)
    }

    /// `[n composers u32] { head links [n steps u32] steps* }* [n connections u32] connections*`
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            8 + self
                .composers
                .iter()
                .map(|c| 36 + c.2.len() * 16)
                .sum::<usize>(),
        );
        out.extend((self.composers.len() as u32).to_le_bytes());
        for (head, links, steps) in &self.composers {
            out.extend(head);
            out.extend(links);
            out.extend((steps.len() as u32).to_le_bytes());
            for s in steps {
                out.extend(s);
            }
        }
        out.extend((self.connections.len() as u32).to_le_bytes());
        for c in &self.connections {
            out.extend(c);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Manifest> {
        let mut r = Reader { bytes, at: 0 };
        let bad = || Error::Storage("a revision manifest is damaged".into());
        let n = r.u32().ok_or_else(bad)?;
        let mut composers = vec![];
        for _ in 0..n {
            let head = r.hash().ok_or_else(bad)?;
            let links = r.hash().ok_or_else(bad)?;
            let k = r.u32().ok_or_else(bad)?;
            let steps = (0..k)
                .map(|_| r.hash().ok_or_else(bad))
                .collect::<Result<Vec<_>>>()?;
            composers.push((head, links, steps));
        }
        let n = r.u32().ok_or_else(bad)?;
        let connections = (0..n)
            .map(|_| r.hash().ok_or_else(bad))
            .collect::<Result<Vec<_>>>()?;
        Ok(Manifest {
            composers,
            connections,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn hash(&mut self) -> Option<Hash> {
        self.take(16)?.try_into().ok()
    }
}
