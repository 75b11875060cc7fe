use crate::error::AppError;
use leptos::prelude::*;
use model::wire::User;

/// The signed-in user, or None.
#[server]
pub async fn whoami() -> Result<Option<User>, AppError> {
    Ok(crate::session::optional_user())
}

#[server]
pub async fn login(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::session::*;
    let addr = client_addr();
    let user = blocking(move |e| e.verify_login(&username, &password, &addr)).await?;
    let name = user.username.clone();
    let token = blocking(move |e| e.create_session(&name)).await?;
    set_session_cookie(&token);
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Only same-site paths are followed after login, so a crafted link cannot send a user away.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

#[server]
pub async fn logout() -> Result<(), AppError> {
    use crate::session::*;
    if let Some(token) = request_session_token() {
        blocking(move |e| e.delete_session(&token)).await?;
    }
    clear_session_cookie();
    leptos_axum::redirect("/login");
    Ok(())
}

#[server]
pub async fn setup_valid(token: String) -> Result<bool, AppError> {
    crate::session::blocking(move |e| e.setup_token_valid(&token)).await
}

#[server]
pub async fn complete_setup(
    token: String,
    username: String,
    password: String,
) -> Result<(), AppError> {
    use crate::session::*;
    let user = blocking(move |e| e.complete_setup(&token, &username, &password)).await?;
    let token = blocking(move |e| e.create_session(&user.username)).await?;
    set_session_cookie(&token);
    leptos_axum::redirect("/");
    Ok(())
}
