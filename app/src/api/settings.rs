use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::Role;

/// The egress lists of Settings → Network, one range per line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct NetworkView {
    pub deny: String,
    pub allow: String,
}

#[server]
pub async fn get_network() -> Result<NetworkView, AppError> {
    require(Role::Admin)?;
    let n = blocking(|e| e.network_settings()).await?;
    Ok(NetworkView {
        deny: n.deny.join("\n"),
        allow: n.allow.join("\n"),
    })
}

/// Replaces the egress lists (ranges separated by lines, commas or spaces).
#[server]
pub async fn set_network(deny: String, allow: String) -> Result<(), AppError> {
    let user = signed_in()?;
    // The engine splits and parses the lists (each text is one entry of ranges here).
    let settings = engine::egress::NetworkSettings {
        deny: vec![deny],
        allow: vec![allow],
    };
    blocking(move |e| e.set_network_settings(&user, settings).map(|_| ())).await
}
