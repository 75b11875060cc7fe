use crate::error::AppError;
use leptos::prelude::*;
use model::transfer::Imported;

#[cfg(feature = "ssr")]
use crate::session::{blocking, signed_in};

/// Imports an export file's text (Settings → Automation → Import) as `as_slug`, or as the slug
/// the file names when that is empty (editors; the engine checks the file).
#[server]
pub async fn import_automation(text: String, as_slug: String) -> Result<Imported, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.import_as(&user, &text, Some(&as_slug))).await
}
