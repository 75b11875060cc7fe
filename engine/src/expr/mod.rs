//! Expressions (PRODUCT.md §3): renders a step's config and evaluates branch conditions against a
//! run's context with minijinja, sandboxed (strict undefined, no template loading, fuel and an
//! output cap). Deciding *which* config keys are rendered is the caller's business
//! (`model::is_rendered_field`); this module renders whatever JSON it is given.

use std::fmt;
use std::io;

use base64::Engine as _;
use minijinja::value::{Rest, ValueKind};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::{Map, Value};

mod convert;
mod diagnose;
mod guards;
mod stack;
#[cfg(test)]
mod tests;

use convert::*;
use diagnose::*;
use guards::*;
use stack::*;
pub use stack::{RUNTIME_STACK_BYTES, mark_thread_big_stack};

/// Deepest JSON this module walks or produces. serde_json refuses to parse anything deeper, so a
/// config or context never legitimately exceeds it; a template-built value can (only through
/// tricks like `x|batch(1)|batch(1)|...`), and converting it must not recurse without end.
const MAX_DEPTH: usize = 128;

/// Why a value could not be rendered: where in the config, and what went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// JSON path of the failing leaf (`value.total`, `body.items[2]`); empty for the root or a
    /// condition.
    pub path: String,
    /// Readable message, such as `unknown variable steps.totl`.
    pub message: String,
}

impl ExprError {
    fn new(path: &str, message: impl Into<String>) -> ExprError {
        ExprError {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ExprError {}

/// Bounds on the work one rendering may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// minijinja fuel (roughly, instructions) for each template string or expression. It also
    /// sizes the work filters and printing may do in one call (40 items walked per unit) and
    /// the render thread's stack.
    pub fuel: u64,
    /// Total bytes that one `render_value` call may produce from templates and typed expressions
    /// (strings that are not templates are copied as they are and do not count).
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            fuel: 50_000,
            max_output_bytes: 1 << 20,
        }
    }
}

/// The JSON form of a run context, for the error messages that name what is missing (the only
/// use the renderer has for it); a runner builds it only when an error needs it.
pub trait JsonScope: Sync {
    fn json(&self) -> std::borrow::Cow<'_, Value>;
}

impl JsonScope for Value {
    fn json(&self) -> std::borrow::Cow<'_, Value> {
        std::borrow::Cow::Borrowed(self)
    }
}

/// What a render sees: the run context (`trigger`, `steps`, `secrets`, `env`, `now`) in
/// minijinja's form, and where its JSON form comes from. A runner converts each part of a run's
/// context once and reuses it for every field of every step.
pub struct Scope<'a> {
    jinja: minijinja::Value,
    json: &'a dyn JsonScope,
}

impl<'a> Scope<'a> {
    pub fn new(jinja: minijinja::Value, json: &'a dyn JsonScope) -> Scope<'a> {
        Scope { jinja, json }
    }

    /// Converts a whole JSON context.
    pub fn of(ctx: &'a Value) -> Scope<'a> {
        Scope {
            jinja: minijinja::Value::from_serialize(ctx),
            json: ctx,
        }
    }
}

/// A configured minijinja environment; build one and share it (it is `Send + Sync`).
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
    limits: Limits,
}

impl Default for Renderer {
    fn default() -> Renderer {
        Renderer::new(Limits::default())
    }
}

impl Renderer {
    /// Builds the environment once; rendering never changes it.
    pub fn new(limits: Limits) -> Renderer {
        // `new` (not `empty`) for the builtin filters, tests and `range`/`dict`; no loader is
        // set and no template is added, so include/import/extends find nothing.
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(limits.fuel));
        // Output is JSON data, not HTML: escaping would corrupt it.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // Without this minijinja drops a template's final newline ("Hi {{ x }}\n").
        env.set_keep_trailing_newline(true);
        // `namespace()` is the one mutable value: `{% set ns.x = ns %}` makes a cycle that
        // minijinja prints and serializes by unbounded recursion (a stack overflow aborts the
        // process). `debug()` dumps engine internals. Neither is needed to shape JSON.
        env.remove_global("namespace");
        env.remove_global("debug");
        // Printing walks the whole value (even past the output cap), so it is checked first.
        env.set_formatter(|out, state, value| {
            let mut budget = MAX_ITEMS;
            check_items(value, &mut budget)
                .map_err(|message| minijinja::Error::new(ErrorKind::InvalidOperation, message))?;
            minijinja::escape_formatter(out, state, value)
        });
        for name in GUARDED_FILTERS {
            if let Some(inner) = builtin_filter(name) {
                env.add_filter(*name, guard(name, inner.clone()));
                if *name == "tojson" {
                    env.add_filter("json", guard("json", inner));
                }
            }
        }
        env.add_filter("fromjson", fromjson);
        env.add_filter("b64encode", b64encode);
        env.add_filter("b64decode", b64decode);
        Renderer { env, limits }
    }

    /// The limits this renderer was built with.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Renders `template` leaf by leaf against `ctx` (the run context: `trigger`, `steps`,
    /// `secrets`, `env`, `now`). Object keys are kept as they are; a string that is exactly one
    /// `{{ expr }}` becomes the expression's typed value; other strings with template syntax
    /// render to strings; everything else is copied. Output is never rendered again.
    pub fn render_value(&self, template: &Value, ctx: &Value) -> Result<Value, ExprError> {
        if !has_template(template) {
            return Ok(template.clone());
        }
        self.render_in(template, &Scope::of(ctx))
    }

    /// [`Renderer::render_value`] against a context already converted.
    pub fn render_in(&self, template: &Value, scope: &Scope<'_>) -> Result<Value, ExprError> {
        if !has_template(template) {
            return Ok(template.clone());
        }
        on_big_stack(self.limits.fuel, || {
            let mut walk = Walk {
                renderer: self,
                json_ctx: scope.json,
                ctx: scope.jinja.clone(),
                remaining: self.limits.max_output_bytes,
                path: String::new(),
            };
            walk.node(template, 0)
        })
    }

    /// Evaluates a branch condition, a bare expression (`steps.total.total > 5`), to its
    /// truthiness. Errors have an empty path.
    pub fn eval_condition(&self, expr: &str, ctx: &Value) -> Result<bool, ExprError> {
        self.eval_condition_in(expr, &Scope::of(ctx))
    }

    /// [`Renderer::eval_condition`] against a context already converted.
    pub fn eval_condition_in(&self, expr: &str, scope: &Scope<'_>) -> Result<bool, ExprError> {
        model::check_condition_form(expr).map_err(|message| ExprError::new("", message))?;
        on_big_stack(self.limits.fuel, || {
            let jctx = scope.jinja.clone();
            let fail = |e: &minijinja::Error| {
                ExprError::new("", self.describe(e, expr, true, &scope.json.json()))
            };
            let compiled = self.env.compile_expression(expr).map_err(|e| fail(&e))?;
            let value = compiled.eval(&jctx).map_err(|e| fail(&e))?;
            if value.is_undefined() {
                // A missing name is an error in strict mode, but only once the value is used;
                // `x if c` without `else` is a deliberate (silent) undefined and is false.
                // Testing it in `{% if %}` tells the two apart.
                let check = format!("{{% if ({expr}) %}}{{% endif %}}");
                self.env.render_str(&check, &jctx).map_err(|e| fail(&e))?;
                return Ok(false);
            }
            Ok(value.is_true())
        })
    }

    /// minijinja's error as a sentence a user can act on. `expression` says whether `source` is a
    /// bare expression (rather than a template with tags).
    fn describe(
        &self,
        error: &minijinja::Error,
        source: &str,
        expression: bool,
        ctx: &Value,
    ) -> String {
        let line = error.line();
        let mut message = match error.kind() {
            ErrorKind::UndefinedError => match unknown_name(source, expression, line, ctx) {
                Some(name) => format!("unknown variable {name}"),
                None => format!("unknown variable in {}", snippet(source, expression, line)),
            },
            ErrorKind::OutOfFuel => format!(
                "ran out of fuel: the template does more than its limit of {} steps of work \
                 (a loop that is too large?)",
                self.limits.fuel
            ),
            ErrorKind::TemplateNotFound | ErrorKind::BadInclude => {
                "templates cannot include, import or extend other templates".to_owned()
            }
            kind => {
                let detail = error.detail().unwrap_or_default();
                let mut text = if detail.is_empty() {
                    kind.to_string()
                } else {
                    format!("{kind}: {detail}")
                };
                if detail == "range has too many elements" {
                    text.push_str(&format!(" (at most {MAX_RANGE})"));
                } else if detail.contains("undefined")
                    && let Some(name) = unknown_name(source, expression, line, ctx)
                {
                    text.push_str(&format!(" (unknown variable {name})"));
                }
                text
            }
        };
        if source.contains('\n')
            && let Some(line) = line
        {
            message.push_str(&format!(" (line {line})"));
        }
        message
    }
}

/// One `render_value` call: the context in both forms, the output budget left, and the JSON
/// path of the leaf being rendered (for errors).
struct Walk<'a> {
    renderer: &'a Renderer,
    json_ctx: &'a dyn JsonScope,
    ctx: minijinja::Value,
    remaining: usize,
    path: String,
}

impl Walk<'_> {
    fn node(&mut self, template: &Value, depth: usize) -> Result<Value, ExprError> {
        if depth > MAX_DEPTH {
            return Err(self.error("the config is nested too deeply"));
        }
        match template {
            Value::Object(map) => {
                let mut out = Map::with_capacity(map.len());
                for (key, value) in map {
                    let len = self.path.len();
                    if !self.path.is_empty() {
                        self.path.push('.');
                    }
                    self.path.push_str(key);
                    let rendered = self.node(value, depth + 1)?;
                    self.path.truncate(len);
                    out.insert(key.clone(), rendered);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    let len = self.path.len();
                    self.path.push_str(&format!("[{index}]"));
                    let rendered = self.node(item, depth + 1)?;
                    self.path.truncate(len);
                    out.push(rendered);
                }
                Ok(Value::Array(out))
            }
            Value::String(s) if model::has_expression(s) => match model::single_expression(s) {
                Some(expr) => self.typed(s, expr),
                None => self.template(s).map(Value::String),
            },
            other => Ok(other.clone()),
        }
    }

    /// A string that is exactly one `{{ expr }}`: the expression's value as JSON.
    fn typed(&mut self, source: &str, expr: &str) -> Result<Value, ExprError> {
        model::check_shape(expr, true).map_err(|message| self.error(message))?;
        let renderer = self.renderer;
        let env = &renderer.env;
        let compiled = env
            .compile_expression(expr)
            .map_err(|e| self.jinja_error(&e, expr, true))?;
        let value = compiled
            .eval(&self.ctx)
            .map_err(|e| self.jinja_error(&e, expr, true))?;
        if value.is_undefined() {
            // Strict mode only objects to a missing name once the value is printed; printing the
            // original string tells `steps.totl` (error) from `x if c` with no `else` (null).
            self.template(source)?;
            return Ok(Value::Null);
        }
        // Converting walks the whole value: refuse a huge (lazy) one before trying.
        let mut budget = MAX_ITEMS;
        check_items(&value, &mut budget).map_err(|message| self.error(message))?;
        let json = to_json(&value, 0).map_err(|message| self.error(message))?;
        let size = json_size(&json, self.remaining).ok_or_else(|| self.too_large())?;
        self.remaining -= size;
        Ok(json)
    }

    /// Any other template string: rendered to text, stopping as soon as the budget is spent.
    fn template(&mut self, source: &str) -> Result<String, ExprError> {
        model::check_shape(source, false).map_err(|message| self.error(message))?;
        let renderer = self.renderer;
        let env = &renderer.env;
        let template = env
            .template_from_str(source)
            .map_err(|e| self.jinja_error(&e, source, false))?;
        let mut out = CappedWriter {
            buf: Vec::new(),
            limit: self.remaining,
            overflowed: false,
        };
        if let Err(e) = template.render_captured_to(&self.ctx, &mut out) {
            return Err(if out.overflowed {
                self.too_large()
            } else {
                self.jinja_error(&e, source, false)
            });
        }
        self.remaining -= out.buf.len();
        // minijinja writes whole `str`s, so this is always valid UTF-8; lossy avoids a panic path.
        Ok(String::from_utf8(out.buf)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    fn jinja_error(&self, error: &minijinja::Error, source: &str, expression: bool) -> ExprError {
        self.error(
            self.renderer
                .describe(error, source, expression, &self.json_ctx.json()),
        )
    }

    fn too_large(&self) -> ExprError {
        self.error(format!(
            "output is larger than {} bytes",
            self.renderer.limits.max_output_bytes
        ))
    }

    fn error(&self, message: impl Into<String>) -> ExprError {
        ExprError::new(&self.path, message)
    }
}

/// Whether any string in `v` has template syntax (then it needs rendering at all).
fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => model::has_expression(s),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}
