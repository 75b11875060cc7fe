use crate::error::AppError;
use leptos::prelude::*;
use model::wire::ApiTokenInfo;

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::Role;

/// The signed-in user's API tokens (never the tokens themselves).
#[server]
pub async fn list_tokens() -> Result<Vec<ApiTokenInfo>, AppError> {
    let user = require(Role::Viewer)?;
    blocking(move |e| e.list_api_tokens(&user.username)).await
}

/// Creates an API token for the signed-in user; the token is returned once.
#[server]
pub async fn create_token(name: String) -> Result<String, AppError> {
    let user = signed_in()?;
    let new = blocking(move |e| e.create_api_token_as(&user, &name)).await?;
    Ok(new.token)
}

#[server]
pub async fn revoke_token(id: String) -> Result<(), AppError> {
    let user = signed_in()?;
    blocking(move |e| e.revoke_api_token_as(&user, &id)).await
}
