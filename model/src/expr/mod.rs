//! Expressions and templates (PRODUCT.md §3) as far as a document needs them without running anything:
//! where they are, whether they parse, which config fields are rendered, and which secrets and
//! databases a document refers to.
//!
//! Parsing is minijinja's own (a plain `Environment`, compiled and thrown away), so what validates
//! here is exactly what the engine can render, and code is read with minijinja's own tokenizer
//! ([`code_tokens`]), for finding references here and for the engine's diagnosis. Finding
//! references does not evaluate anything, so a name built at run time (`secrets[name]`) is not
//! seen.

mod parts;
mod references;
#[cfg(test)]
pub(crate) mod tests;
mod tokens;

pub use parts::{TemplatePart, has_expression, single_expression, template_parts};
pub use references::{referenced_databases, referenced_secrets};
pub use tokens::{CodeToken, code_tokens};

use minijinja::Environment;

use crate::document::StepKind;

/// Config keys every step kind reads literally, before anything is rendered.
pub const COMMON_KEYS: [&str; 3] = ["timeout_ms", "retry", "on_error"];

/// Most operators, filters, tests, attribute lookups and opening brackets one `{{ }}` or `{% %}`
/// tag (or a bare condition) may hold. minijinja parses, compiles and drops a chain of them
/// (`- - - 1`, `1 + 1 + 1`, `x|abs|abs`) by recursion, one level per operator, without a limit of
/// its own: measured in a debug build, 500 of them need about 1 MiB of stack, a million overflow
/// any thread's stack and abort the process. Real expressions use a handful.
pub const MAX_TAG_OPERATORS: usize = 300;

/// Most `{% elif %}` branches one template may hold (minijinja nests each in the one before, at
/// about 2.3 KiB of stack a level in a debug build).
pub const MAX_ELIFS: usize = 100;

/// Whether `source` (a template, or with `in_expr` a bare expression) stays within the shape
/// minijinja can parse on a modest stack (see [`MAX_TAG_OPERATORS`] and [`MAX_ELIFS`]); the rest
/// of its nesting (brackets, blocks) minijinja limits itself. Uses minijinja's own tokenizer, which
/// does not recurse, so what is counted is exactly what its parser would see. A tokenizing error
/// ends the count: the parser stops at the same token.
pub fn check_shape(source: &str, in_expr: bool) -> Result<(), String> {
    use minijinja::machinery::{Token, WhitespaceConfig, tokenize};
    let mut operators = 0usize;
    let mut elifs = 0usize;
    let mut after_block_start = false;
    for item in tokenize(
        source,
        in_expr,
        Default::default(),
        WhitespaceConfig::default(),
    ) {
        let Ok((token, _)) = item else { break };
        // A closing tag in a bare expression: minijinja 2.24 pops its tokenizer's last state
        // there and then panics ("empty lexer stack", found by the property tests), so it is
        // refused before minijinja parses it.
        if in_expr && matches!(token, Token::VariableEnd | Token::BlockEnd) {
            return Err(
                "syntax error: unexpected end of tag (`}}` or `%}`) in an expression".into(),
            );
        }
        let starts_block = matches!(token, Token::BlockStart);
        match token {
            Token::VariableStart | Token::BlockStart | Token::VariableEnd | Token::BlockEnd => {
                operators = 0;
            }
            Token::Ident("elif") if after_block_start => {
                elifs += 1;
                if elifs > MAX_ELIFS {
                    return Err(format!(
                        "the template has more than {MAX_ELIFS} elif branches (split it up)"
                    ));
                }
            }
            Token::Ident("not" | "and" | "or" | "if" | "else" | "is" | "in")
            | Token::Plus
            | Token::Minus
            | Token::Mul
            | Token::Div
            | Token::FloorDiv
            | Token::Pow
            | Token::Mod
            | Token::Dot
            | Token::Tilde
            | Token::Pipe
            | Token::BracketOpen
            | Token::ParenOpen
            | Token::BraceOpen => {
                operators += 1;
                if operators > MAX_TAG_OPERATORS {
                    return Err(format!(
                        "the expression is too complex: more than {MAX_TAG_OPERATORS} operators, \
                         filters, lookups and brackets in one tag (split it into several steps)"
                    ));
                }
            }
            _ => {}
        }
        after_block_start = starts_block;
    }
    Ok(())
}

/// Whether `s` parses as a minijinja template; the error is minijinja's message.
pub fn check_template(s: &str) -> Result<(), String> {
    check_shape(s, false)?;
    let env = Environment::empty();
    env.template_from_str(s)
        .map(|_| ())
        .map_err(|e| describe(&e, s))
}

/// What every condition must be before it is parsed: not empty, not wrapped in `{{ }}` (the
/// message shows the user's own condition unwrapped), and of a shape minijinja can parse within
/// its limits. Validation and the runner both ask this.
pub fn check_condition_form(s: &str) -> Result<(), String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err("condition is empty".to_owned());
    }
    if let Some(inner) = trimmed.strip_prefix("{{") {
        let inner = inner.strip_suffix("}}").unwrap_or(inner).trim();
        let shown: String = inner.chars().take(80).collect();
        let shown = if shown.is_empty() {
            "steps.total.total > 5".to_owned()
        } else {
            shown
        };
        return Err(format!(
            "a condition is a bare expression: write {shown} without {{{{ }}}}"
        ));
    }
    check_shape(s, true)
}

/// Whether `s` parses as a bare expression, as branch conditions are written.
pub fn check_condition(s: &str) -> Result<(), String> {
    check_condition_form(s)?;
    let env = Environment::empty();
    env.compile_expression(s)
        .map(|_| ())
        .map_err(|e| describe(&e, s))
}

/// minijinja's message without its "(in <string>:1)" suffix, which names no file a user has.
fn describe(error: &minijinja::Error, source: &str) -> String {
    let mut message = match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    };
    if source.contains('\n')
        && let Some(line) = error.line()
    {
        message.push_str(&format!(" (line {line})"));
    }
    message
}

/// Whether the engine renders this top-level config key of a step of `kind` as a template.
/// Code is JavaScript and a branch condition is an expression of its own; the common keys and
/// an http step's `connection` are read before rendering.
pub fn is_rendered_field(kind: Option<StepKind>, key: &str) -> bool {
    if COMMON_KEYS.contains(&key) {
        return false;
    }
    !matches!(
        (kind, key),
        (Some(StepKind::Code), "source")
            | (Some(StepKind::Branch), "condition")
            | (Some(StepKind::Http), "connection")
    )
}
