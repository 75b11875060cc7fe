//! How engine tables hold their values: JSON, under type names of Slipway's own.
//!
//! A table of [`Json<T>`] reads and writes `T` itself (`t.insert(key, &draft)`,
//! `t.get(key)?.map(|v| v.decode()).transpose()?`); [`JsonEncoded<T>`] is the same table seen as
//! the bytes of a `T` already encoded, for the writers that encode once ([`Encoded`]) and for
//! moving or dropping rows without decoding them.
//!
//! redb records each table's key and value type names in the file and refuses to open a table
//! under another name (`TableTypeMismatch`). So the name comes from [`Stored::NAME`], never from
//! [`std::any::type_name`] (which changes when a module or type moves); changing a `NAME` needs
//! a data format change and a migration, like the one from format 1 in [`super::migrate`].

use crate::error::{Error, Result};
use redb::{AccessGuard, Key, TableDefinition, TableHandle, TypeName, Value};
use serde::{Serialize, de::DeserializeOwned};
use std::borrow::Cow;
use std::fmt::{self, Debug};
use std::marker::PhantomData;

/// A type stored as JSON in an engine table.
pub(crate) trait Stored: Serialize + DeserializeOwned + Debug + 'static {
    /// Its name in the data file (as `slipway::Json<NAME>`). Never change it (see the module).
    const NAME: &'static str;
}

fn type_name<T: Stored>() -> TypeName {
    TypeName::new(&format!("slipway::Json<{}>", T::NAME))
}

/// What reading an undecodable row says, and the error [`Decode::decode`] answers with.
fn undecodable<T: Stored>(e: &serde_json::Error) -> String {
    format!(
        "a stored {} cannot be read ({e}): the row does not hold the JSON of that type",
        T::NAME
    )
}

/// The value type of a table of `T`, stored as JSON.
///
/// redb's [`Value::from_bytes`] cannot fail, so a row that does not decode as a `T` unwinds
/// (with [`std::panic::resume_unwind`], so the panic hook prints nothing) carrying a message
/// that names the type. The engine reads typed rows with [`Decode::decode`], which turns that
/// unwind back into an [`Error::Storage`], the error such a row gave before tables were typed;
/// a bare `.value()` would carry it up to the request or run boundary, which answers 500 or
/// fails the run. Encoding cannot fail for the stored types (their maps have string keys); if
/// it did, that is a bug, and [`Value::as_bytes`] panics.
///
/// redb's `insert` calls `as_bytes` more than once (to check the size, then to store), so an
/// insert of a `Json<T>` encodes twice; hot writers use [`JsonEncoded`] instead.
pub(crate) struct Json<T>(PhantomData<T>);

impl<T> Debug for Json<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Json")
    }
}

impl<T: Stored> Value for Json<T> {
    type SelfType<'a>
        = T
    where
        Self: 'a;

    type AsBytes<'a>
        = Vec<u8>
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> T
    where
        Self: 'a,
    {
        match serde_json::from_slice(data) {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(Box::new(undecodable::<T>(&e))),
        }
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a T) -> Vec<u8>
    where
        Self: 'b,
    {
        serde_json::to_vec(value)
            .unwrap_or_else(|e| panic!("a {} cannot be encoded as JSON: {e}", T::NAME))
    }

    fn type_name() -> TypeName {
        type_name::<T>()
    }
}

/// Reading a typed row as a [`Result`].
pub(crate) trait Decode<T> {
    /// The row's value; a row that is not the JSON of a `T` is an [`Error::Storage`] naming the
    /// type (see [`Json`]).
    fn decode(&self) -> Result<T>;
}

impl<T: Stored> Decode<T> for AccessGuard<'_, Json<T>> {
    fn decode(&self) -> Result<T> {
        // Only `from_bytes` runs inside, and it changes nothing before it unwinds.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.value()))
            .map_err(|unwound| Error::Storage(crate::panic_message(unwound.as_ref())))
    }
}

/// The JSON of a `T`, encoded once: what a [`JsonEncoded<T>`] table holds.
pub(crate) struct Encoded<'a, T> {
    bytes: Cow<'a, [u8]>,
    of: PhantomData<fn() -> T>,
}

impl<T: Stored> Encoded<'static, T> {
    pub(crate) fn new(value: &T) -> Result<Self> {
        Ok(Encoded {
            bytes: Cow::Owned(serde_json::to_vec(value)?),
            of: PhantomData,
        })
    }
}

impl<'a, T: Stored> Encoded<'a, T> {
    /// Bytes known to be the JSON of a `T` (a row of the same table stored by an older format),
    /// or, in tests, bytes that are not.
    pub(crate) fn trusted(bytes: &'a [u8]) -> Self {
        Encoded {
            bytes: Cow::Borrowed(bytes),
            of: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn decode(&self) -> Result<T> {
        serde_json::from_slice(&self.bytes).map_err(|e| Error::Storage(undecodable::<T>(&e)))
    }

    pub(crate) fn into_owned(self) -> Encoded<'static, T> {
        Encoded {
            bytes: Cow::Owned(self.bytes.into_owned()),
            of: PhantomData,
        }
    }
}

impl<T: Stored> Debug for Encoded<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Encoded<{}>({} bytes)", T::NAME, self.bytes.len())
    }
}

/// A [`Json<T>`] table seen as encoded rows: the same type name, so the same table, with
/// values that are [`Encoded<T>`] bytes. Inserting one does not encode (or re-encode) anything,
/// and reading one does not decode.
pub(crate) struct JsonEncoded<T>(PhantomData<T>);

impl<T> Debug for JsonEncoded<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JsonEncoded")
    }
}

impl<T: Stored> Value for JsonEncoded<T> {
    type SelfType<'a>
        = Encoded<'a, T>
    where
        Self: 'a;

    type AsBytes<'a>
        = &'a [u8]
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> Encoded<'a, T>
    where
        Self: 'a,
    {
        Encoded::trusted(data)
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a Encoded<'b, T>) -> &'a [u8]
    where
        Self: 'b,
    {
        &value.bytes
    }

    fn type_name() -> TypeName {
        type_name::<T>()
    }
}

/// `table` as a [`JsonEncoded`] table (the same table in the file).
pub(crate) fn encoded<'d, K: Key + 'static, T: Stored>(
    table: &'d TableDefinition<'_, K, Json<T>>,
) -> TableDefinition<'d, K, JsonEncoded<T>> {
    TableDefinition::new(table.name())
}

/// Stored types that are not the engine's own.
macro_rules! stored {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        impl Stored for $t {
            const NAME: &'static str = $name;
        }
    )*};
}

stored!(
    serde_json::Value => "JsonValue",
    chrono::DateTime<chrono::Utc> => "DateTime<Utc>",
    model::wire::Revision => "Revision",
    model::wire::Deployment => "Deployment",
    model::wire::Run => "Run",
    model::wire::AuditEntry => "AuditEntry",
    model::wire::ApiTokenInfo => "ApiTokenInfo",
);
