//! The automation document and its rules: types, validation, diff, expression parsing.
//! Pure (no I/O, no async) so the engine and the browser share one implementation.

mod common_config;
pub mod deploy;
pub mod diff;
pub mod document;
pub mod edit;
pub mod expr;
pub mod json;
mod links;
mod mode;
pub mod names;
pub mod problem;
pub mod schedule;
mod step_config;
pub mod transfer;
mod validate;
pub mod wire;

pub use common_config::{
    CommonConfig, CommonProblem, DEFAULT_BACKOFF_MS, DEFAULT_TIMEOUT_MS, MAX_ATTEMPTS,
    MAX_TIMEOUT_MS, MAX_TOTAL_BACKOFF_MS, ON_ERROR, OnError, Retry, backoff_before, total_backoff,
};
pub use deploy::missing_in_live;
pub use diff::{ComposerChange, DocumentDiff, ItemChange, Mark, StepChange, diff};
pub use document::{
    Composer, Connection, Document, DocumentError, FORMAT, Link, Position, Step, StepKind, TRIGGER,
    Trigger, UnknownStepKind,
};
pub use expr::{
    CodeToken, MAX_ELIFS, MAX_TAG_OPERATORS, TemplatePart, check_condition, check_condition_form,
    check_shape, check_template, code_tokens, has_expression, is_rendered_field,
    referenced_databases, referenced_secrets, single_expression, template_parts,
};
pub use json::check_integers;
pub use links::{BRANCH_PORTS, branch_port};
pub use mode::Mode;
pub use names::{NameError, NameKind, slugify, unique_slug, unique_step_name};
pub use problem::{Problem, Severity, has_errors};
pub use schedule::parse_cron;
pub use step_config::{DATABASE_OPS, HTTP_METHODS, MAX_DELAY_MS};
pub use validate::{CONNECTION_KINDS, WEBHOOK_METHODS};
