//! Test or Live: the UI takes the one definition from `model`.
pub use model::Mode;
