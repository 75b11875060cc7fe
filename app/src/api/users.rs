use crate::error::AppError;
use leptos::prelude::*;
use model::wire::{Role, User};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};

#[server]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    require(Role::Admin)?;
    blocking(|e| e.list_users()).await
}

#[server]
pub async fn add_user(username: String, role: Role, password: String) -> Result<(), AppError> {
    let me = signed_in()?;
    blocking(move |e| {
        e.create_user_as(&me, &username, role, &password)
            .map(|_| ())
    })
    .await
}

#[server]
pub async fn delete_user(username: String) -> Result<(), AppError> {
    let me = signed_in()?;
    blocking(move |e| e.delete_user_as(&me, &username)).await
}
