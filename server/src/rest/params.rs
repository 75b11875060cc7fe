//! The path parameters of the REST routes, named as in the paths, so handlers extract them by
//! name and the OpenAPI document describes them from the same types.

use model::Mode;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AutomationPath {
    /// The automation's slug.
    pub a: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RevisionPath {
    /// The automation's slug.
    pub a: String,
    /// The revision number.
    pub n: u64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeploymentPath {
    /// The automation's slug.
    pub a: String,
    /// The deployment number.
    pub n: u64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BackupPath {
    /// The automation's slug.
    pub a: String,
    /// The deployment that replaced the database and kept its contents.
    pub n: u64,
    /// The database's name.
    pub db: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ComposerPath {
    /// The automation's slug.
    pub a: String,
    /// The composer's slug.
    pub c: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RunPath {
    /// The run's id.
    pub id: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ModePath {
    /// The automation's slug.
    pub a: String,
    pub mode: Mode,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SecretPath {
    /// The automation's slug.
    pub a: String,
    pub mode: Mode,
    /// The secret's name.
    pub name: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DatabasePath {
    /// The automation's slug.
    pub a: String,
    pub mode: Mode,
    /// The database's name.
    pub db: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordPath {
    /// The automation's slug.
    pub a: String,
    pub mode: Mode,
    /// The database's name.
    pub db: String,
    /// The record's key.
    pub key: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HookPath {
    /// The automation's slug.
    pub automation: String,
    /// The composer's slug.
    pub composer: String,
}
