//! Expressions (PRODUCT.md §3): renders a step's config and evaluates branch conditions against a
//! run's context with minijinja, sandboxed (strict undefined, no template loading, fuel and an
//! output cap). Deciding *which* config keys are rendered is the caller's business
//! (`model::is_rendered_field`); this module renders whatever JSON it is given.

use std::cell::Cell;
use std::fmt;
use std::io;

use base64::Engine as _;
use minijinja::value::{Rest, ValueKind};
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::{Map, Value};

/// Deepest JSON this module walks or produces. serde_json refuses to parse anything deeper, so a
/// config or context never legitimately exceeds it; a template-built value can (only through
/// tricks like `x|batch(1)|batch(1)|...`), and converting it must not recurse without end.
const MAX_DEPTH: usize = 128;

/// Stack of the thread a render runs on, per unit of fuel. minijinja prints, serializes, compares
/// and drops values recursively, and fuel lets a template nest a value thousands of levels deep
/// (`{% set a = [a] %}` written out again and again); on a usual 2 MiB stack printing it aborts
/// the whole process. Measured in a debug build, such a value needs about 3 KiB of stack per
/// level and at least 2 units of fuel per level. Only touched pages are committed, so a generous
/// reservation costs nothing in the common case.
const STACK_BYTES_PER_FUEL: usize = 4 << 10;
const MIN_STACK_BYTES: usize = 64 << 20;
/// Past fuel 262,144 the stack stops growing and the margin above shrinks.
const MAX_STACK_BYTES: usize = 1 << 30;

/// Most items (counted through nested lists and maps) a value may hold when it is printed or
/// handed to a builtin filter. minijinja's fuel counts instructions, not the work one filter or
/// one print does, and `[1] * 10**12` makes a cheap lazy list that `sum` or printing would walk
/// for hours.
const MAX_ITEMS: usize = 1_000_000;

/// Items that filters and printing may walk in one render call, per unit of fuel: a second fuel
/// for the work inside builtins that minijinja's own fuel does not see.
const WORK_PER_FUEL: u64 = 40;

thread_local! {
    /// (left, total) work of the render running on this thread; every render sets it afresh
    /// (see [`on_big_stack`]), so this is per call.
    static WORK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// Whether this thread was started with [`RUNTIME_STACK_BYTES`] of stack.
    static BIG_STACK: Cell<bool> = const { Cell::new(false) };
}

/// The stack the server gives its runtime threads, enough for a render at the default fuel:
/// renders on those threads run in place instead of on a thread of their own.
pub const RUNTIME_STACK_BYTES: usize = 256 << 20;

/// Called at the start of each runtime thread that was given [`RUNTIME_STACK_BYTES`].
pub fn mark_thread_big_stack() {
    BIG_STACK.with(|b| b.set(true));
}

/// Largest count `batch` and `slice` accept (they allocate it up front).
const MAX_COUNT: i64 = 100_000;

/// Largest indentation (`indent`, `tojson(indent=...)`) or printf width and precision (`format`):
/// each allocates its size up front, and a huge allocation aborts the process.
const MAX_WIDTH: i64 = 1_000;

/// Builtin filters re-registered behind [`check_filter_args`]: those that walk a whole list or
/// allocate a size they are given. (`length`, `first` and the string filters do neither.)
const GUARDED_FILTERS: &[&str] = &[
    "batch",
    "chain",
    "dictsort",
    "format",
    "groupby",
    "indent",
    "items",
    "join",
    "last",
    "list",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "reverse",
    "select",
    "selectattr",
    "slice",
    "sort",
    "string",
    "sum",
    "tojson",
    "unique",
    "zip",
];

/// How many characters of a template an error message quotes.
const SNIPPET_CHARS: usize = 100;

/// minijinja's cap on `range()`, restated so the error can say it.
const MAX_RANGE: usize = 100_000;

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

/// Runs `f` on a scoped thread with a stack sized for `fuel` (see [`STACK_BYTES_PER_FUEL`]) and a
/// fresh work budget (see [`WORK_PER_FUEL`]); a panic inside becomes an error instead of
/// unwinding into the caller.
fn on_big_stack<T: Send>(
    fuel: u64,
    f: impl FnOnce() -> Result<T, ExprError> + Send,
) -> Result<T, ExprError> {
    let work = fuel.saturating_mul(WORK_PER_FUEL);
    let f = move || {
        WORK.with(|cell| cell.set((work, work)));
        f()
    };
    let needed = usize::try_from(fuel)
        .unwrap_or(usize::MAX)
        .saturating_mul(STACK_BYTES_PER_FUEL)
        .clamp(MIN_STACK_BYTES, MAX_STACK_BYTES);
    // Starting a thread per render costs more than most renders; runtime threads already
    // have the stack a render needs.
    if BIG_STACK.with(Cell::get) && needed <= RUNTIME_STACK_BYTES {
        return f();
    }
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("expr".to_owned())
            .stack_size(needed)
            .spawn_scoped(scope, f)
            .map_err(|e| ExprError::new("", format!("could not start rendering: {e}")))?;
        handle
            .join()
            .unwrap_or_else(|_| Err(ExprError::new("", "rendering failed unexpectedly")))
    })
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

/// Collects rendered text, refusing to grow past `limit` bytes.
struct CappedWriter {
    buf: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            self.overflowed = true;
            return Err(io::Error::other("output limit reached"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts bytes without storing them, failing once past `limit`.
struct CountingWriter {
    count: usize,
    limit: usize,
}

impl io::Write for CountingWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.count += data.len();
        if self.count > self.limit {
            return Err(io::Error::other("output limit reached"));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The compact JSON size of `value`, or `None` when it exceeds `limit`.
fn json_size(value: &Value, limit: usize) -> Option<usize> {
    let mut counter = CountingWriter { count: 0, limit };
    serde_json::to_writer(&mut counter, value).ok()?;
    Some(counter.count)
}

/// A minijinja value as JSON: numbers stay numbers, maps become objects (keys as strings),
/// none/undefined become null, anything else becomes its text.
fn to_json(value: &minijinja::Value, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "the value is nested too deeply (more than {MAX_DEPTH} levels)"
        ));
    }
    Ok(match value.kind() {
        ValueKind::Undefined | ValueKind::None => Value::Null,
        ValueKind::Bool => Value::Bool(value.is_true()),
        ValueKind::Number => number_to_json(value),
        ValueKind::String => Value::String(value.as_str().unwrap_or_default().to_owned()),
        ValueKind::Bytes => Value::String(
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned(),
        ),
        ValueKind::Seq | ValueKind::Iterable => {
            let items = value.try_iter().map_err(|e| e.to_string())?;
            Value::Array(
                items
                    .map(|item| to_json(&item, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        ValueKind::Map => {
            let mut map = Map::new();
            for key in value.try_iter().map_err(|e| e.to_string())? {
                let item = value.get_item(&key).map_err(|e| e.to_string())?;
                let key = match key.as_str() {
                    Some(s) => s.to_owned(),
                    None => key.to_string(),
                };
                map.insert(key, to_json(&item, depth + 1)?);
            }
            Value::Object(map)
        }
        ValueKind::Invalid => return Err(format!("invalid value: {value}")),
        // Plain objects (functions, macros, loop state) and kinds added later: their text.
        _ => Value::String(value.to_string()),
    })
}

fn number_to_json(value: &minijinja::Value) -> Value {
    if let Some(i) = value.as_i64() {
        return Value::from(i);
    }
    if let Ok(u) = u64::try_from(value.clone()) {
        return Value::from(u);
    }
    // Floats and 128-bit integers; NaN and infinities have no JSON form.
    f64::try_from(value.clone())
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// `{{ text | fromjson }}`: parses JSON text (a webhook body that arrived as a string).
fn fromjson(text: &str) -> Result<minijinja::Value, minijinja::Error> {
    let parsed: Value = serde_json::from_str(text).map_err(|e| {
        minijinja::Error::new(ErrorKind::InvalidOperation, format!("fromjson: {e}"))
    })?;
    Ok(minijinja::Value::from_serialize(&parsed))
}

/// `{{ (user ~ ":" ~ password) | b64encode }}`, as Basic authentication wants.
fn b64encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `{{ encoded | b64decode }}`: standard base64 (padding optional) to UTF-8 text.
fn b64decode(text: &str) -> Result<String, minijinja::Error> {
    let invalid = |why: String| minijinja::Error::new(ErrorKind::InvalidOperation, why);
    let trimmed = text.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the result is not UTF-8 text".into()))
}

/// The builtin filter `name` as a callable value, for [`guard`] to wrap.
fn builtin_filter(name: &str) -> Option<minijinja::Value> {
    use minijinja::filters as f;
    let filter = match name {
        "batch" => minijinja::Value::from_function(f::batch),
        "chain" => minijinja::Value::from_function(f::chain),
        "dictsort" => minijinja::Value::from_function(f::dictsort),
        "format" => minijinja::Value::from_function(f::format),
        "groupby" => minijinja::Value::from_function(f::groupby),
        "indent" => minijinja::Value::from_function(f::indent),
        "items" => minijinja::Value::from_function(f::items),
        "join" => minijinja::Value::from_function(f::join),
        "last" => minijinja::Value::from_function(f::last),
        "list" => minijinja::Value::from_function(f::list),
        "map" => minijinja::Value::from_function(f::map),
        "max" => minijinja::Value::from_function(f::max),
        "min" => minijinja::Value::from_function(f::min),
        "pprint" => minijinja::Value::from_function(f::pprint),
        "reject" => minijinja::Value::from_function(f::reject),
        "rejectattr" => minijinja::Value::from_function(f::rejectattr),
        "reverse" => minijinja::Value::from_function(f::reverse),
        "select" => minijinja::Value::from_function(f::select),
        "selectattr" => minijinja::Value::from_function(f::selectattr),
        "slice" => minijinja::Value::from_function(f::slice),
        "sort" => minijinja::Value::from_function(f::sort),
        "string" => minijinja::Value::from_function(f::string),
        "sum" => minijinja::Value::from_function(f::sum),
        "tojson" => minijinja::Value::from_function(f::tojson),
        "unique" => minijinja::Value::from_function(f::unique),
        "zip" => minijinja::Value::from_function(f::zip),
        _ => return None,
    };
    Some(filter)
}

type FilterResult = Result<minijinja::Value, minijinja::Error>;

/// `inner` behind [`check_filter_args`].
fn guard(
    name: &'static str,
    inner: minijinja::Value,
) -> impl Fn(&minijinja::State<'_, '_>, Rest<minijinja::Value>) -> FilterResult + Send + Sync + 'static
{
    move |state, args| {
        check_filter_args(name, &args)
            .map_err(|message| minijinja::Error::new(ErrorKind::InvalidOperation, message))?;
        inner.call(state, &args)
    }
}

/// Refuses filter arguments that would make one filter call do unbounded work: lists too large
/// to walk (see [`MAX_ITEMS`]) and sizes too large to allocate.
fn check_filter_args(name: &str, args: &[minijinja::Value]) -> Result<(), String> {
    let mut budget = MAX_ITEMS;
    for (index, arg) in args.iter().enumerate() {
        check_items(arg, &mut budget).map_err(|message| format!("{name}: {message}"))?;
        // Keyword arguments arrive as one map-like value; their values count like positional ones.
        let values: Vec<minijinja::Value> = if arg.is_kwargs() {
            arg.try_iter()
                .map(|keys| keys.filter_map(|key| arg.get_item(&key).ok()).collect())
                .unwrap_or_default()
        } else if index > 0 {
            vec![arg.clone()]
        } else {
            Vec::new()
        };
        let limit = match name {
            "batch" | "slice" => MAX_COUNT,
            "indent" | "tojson" | "json" => MAX_WIDTH,
            _ => continue,
        };
        for value in values {
            if value.kind() == ValueKind::Number && value.as_i64().is_none_or(|n| n > limit) {
                return Err(format!("{name}: {value} is too large (at most {limit})"));
            }
        }
    }
    if name == "format"
        && let Some(format) = args.first().and_then(|f| f.as_str())
    {
        check_printf_widths(format)?;
    }
    Ok(())
}

/// Fails when `value` holds more than `budget` items in all, nested ones included, or when the
/// render's work budget runs out; never walks more than `budget` items to find out.
fn check_items(value: &minijinja::Value, budget: &mut usize) -> Result<(), String> {
    let is_map = match value.kind() {
        ValueKind::Map => true,
        ValueKind::Seq | ValueKind::Iterable => false,
        _ => return Ok(()),
    };
    let too_many = || format!("the value has more than {MAX_ITEMS} items");
    if value.len().is_some_and(|len| len > *budget) {
        return Err(too_many());
    }
    let Ok(items) = value.try_iter() else {
        return Ok(());
    };
    for item in items {
        *budget = budget.checked_sub(1).ok_or_else(too_many)?;
        spend_work()?;
        let child = if is_map {
            value.get_item(&item).unwrap_or_default()
        } else {
            item
        };
        check_items(&child, budget)?;
    }
    Ok(())
}

/// Takes one unit from the render's work budget.
fn spend_work() -> Result<(), String> {
    WORK.with(|cell| {
        let (left, total) = cell.get();
        match left.checked_sub(1) {
            Some(left) => {
                cell.set((left, total));
                Ok(())
            }
            None => Err(format!(
                "ran out of fuel: filters and printing walked more than {total} items"
            )),
        }
    })
}

/// Refuses printf widths and precisions (`%99999999d`, `%.99999999f`) above [`MAX_WIDTH`].
fn check_printf_widths(format: &str) -> Result<(), String> {
    let bytes = format.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if bytes.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        if bytes.get(i) == Some(&b'(') {
            while i < bytes.len() && bytes[i] != b')' {
                i += 1;
            }
            i += 1;
        }
        while i < bytes.len() && b"#0- +".contains(&bytes[i]) {
            i += 1;
        }
        for part in 0..2 {
            if part == 1 {
                if bytes.get(i) != Some(&b'.') {
                    break;
                }
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let digits = format.get(start..i).unwrap_or("");
            if !digits.is_empty() && digits.parse::<i64>().map_or(true, |n| n > MAX_WIDTH) {
                return Err(format!(
                    "format: width {digits} is too large (at most {MAX_WIDTH})"
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Naming the unknown variable. minijinja (without its `debug` feature) does not say which name was
// undefined, only the line. So the code around the failure is scanned for name paths
// (`steps.totl.x`, `trigger["body"][0]`) and each is looked up in the context: the first one that
// does not resolve, cut just after its first missing segment, is the culprit. Names bound inside
// the template (loop variables, `set`) cannot be checked and are skipped. Best effort: when nothing
// is found the message quotes the code instead.
// ---------------------------------------------------------------------------------------------

/// Words that are syntax, not variables.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "endif",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "for",
    "endfor",
    "set",
    "endset",
    "with",
    "endwith",
    "macro",
    "endmacro",
    "call",
    "endcall",
    "filter",
    "endfilter",
    "recursive",
    "as",
    "import",
    "from",
    "block",
];

/// Names that exist inside templates without being in the context.
const IMPLICIT: &[&str] = &["loop", "caller", "varargs", "kwargs", "self"];

#[derive(Clone, Debug, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    Str(&'a str),
    Int(i64),
    Other,
    Punct(u8),
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(i64),
}

fn tokens(code: &str) -> Vec<Token<'_>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' || c == b'\'' {
            let start = i + 1;
            let mut j = start;
            while j < bytes.len() && bytes[j] != c {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push(Token::Str(
                code.get(start..j.min(bytes.len())).unwrap_or(""),
            ));
            i = j + 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            // A float (`1.5`) continues with `.digits`; it is nothing we look up.
            let is_float =
                bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit());
            if is_float {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Token::Other);
            } else {
                out.push(code[start..i].parse().map_or(Token::Other, Token::Int));
            }
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token::Ident(&code[start..i]));
        } else {
            out.push(Token::Punct(c));
            // Skip a whole UTF-8 character so `i` stays on a boundary.
            i += code[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// Names a statement binds: `for a, b in`, `set x =`, `with x = ...`, `macro m(p, q=1)`.
fn bound_names<'a>(statement: &[Token<'a>], bound: &mut Vec<&'a str>) {
    let Some(Token::Ident(first)) = statement.first() else {
        return;
    };
    let rest = &statement[1..];
    match *first {
        "for" => {
            for token in rest {
                match token {
                    Token::Ident("in") => break,
                    Token::Ident(name) => bound.push(name),
                    _ => {}
                }
            }
        }
        "set" => {
            if let Some(Token::Ident(name)) = rest.first() {
                bound.push(name);
            }
        }
        "with" | "macro" | "call" => {
            // Every identifier followed by `=` or inside a macro's parameter list.
            for (i, token) in rest.iter().enumerate() {
                if let Token::Ident(name) = token {
                    let next = rest.get(i + 1);
                    if *first == "macro"
                        || (next == Some(&Token::Punct(b'='))
                            && rest.get(i + 2) != Some(&Token::Punct(b'=')))
                    {
                        bound.push(name);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Name paths in `code` that are read from the context: `steps.total["x"][0]`. Filters, tests,
/// keyword arguments and the final segment of a call (`x.items()`) are left out.
fn name_paths(code: &[Token<'_>]) -> Vec<Vec<Segment>> {
    let mut paths = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let Token::Ident(name) = code[i] else {
            i += 1;
            continue;
        };
        let previous = i.checked_sub(1).map(|p| &code[p]);
        let before_previous = i.checked_sub(2).map(|p| &code[p]);
        let is_attribute = previous == Some(&Token::Punct(b'.'));
        let is_filter = previous == Some(&Token::Punct(b'|'));
        let is_test = previous == Some(&Token::Ident("is"))
            || (previous == Some(&Token::Ident("not"))
                && before_previous == Some(&Token::Ident("is")));
        if is_attribute || is_filter || is_test || KEYWORDS.contains(&name) {
            i += 1;
            continue;
        }
        let mut path = vec![Segment::Key(name.to_owned())];
        let mut j = i + 1;
        loop {
            match (code.get(j), code.get(j + 1), code.get(j + 2)) {
                (Some(Token::Punct(b'.')), Some(Token::Ident(key)), _) => {
                    path.push(Segment::Key((*key).to_owned()));
                    j += 2;
                }
                (Some(Token::Punct(b'.')), Some(Token::Int(index)), _) => {
                    path.push(Segment::Index(*index));
                    j += 2;
                }
                (Some(Token::Punct(b'[')), Some(Token::Str(key)), Some(Token::Punct(b']'))) => {
                    path.push(Segment::Key((*key).to_owned()));
                    j += 3;
                }
                (Some(Token::Punct(b'[')), Some(Token::Int(index)), Some(Token::Punct(b']'))) => {
                    path.push(Segment::Index(*index));
                    j += 3;
                }
                _ => break,
            }
        }
        match code.get(j) {
            Some(Token::Punct(b'(')) => {
                path.pop();
            }
            Some(Token::Punct(b'='))
                if path.len() == 1 && code.get(j + 1) != Some(&Token::Punct(b'=')) =>
            {
                path.clear();
            }
            _ => {}
        }
        if !path.is_empty() {
            paths.push(path);
        }
        i = j.max(i + 1);
    }
    paths
}

/// Index of the first segment of `path` that `ctx` does not have.
fn first_missing(ctx: &Value, path: &[Segment]) -> Option<usize> {
    let mut current = ctx;
    for (i, segment) in path.iter().enumerate() {
        let next = match (current, segment) {
            (Value::Object(map), Segment::Key(key)) => map.get(key),
            (Value::Array(items), Segment::Index(index)) => {
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let at = if *index < 0 { len + index } else { *index };
                usize::try_from(at).ok().and_then(|at| items.get(at))
            }
            _ => None,
        };
        match next {
            Some(value) => current = value,
            None => return Some(i),
        }
    }
    None
}

fn path_text(path: &[Segment]) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) if text.is_empty() => text.push_str(key),
            Segment::Key(key)
                if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !key.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                text.push('.');
                text.push_str(key);
            }
            Segment::Key(key) => text.push_str(&format!("[{key:?}]")),
            Segment::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

/// The pieces of code to blame: the whole expression, or the tags of a template on the failing
/// line (all of them when the line is unknown).
fn code_pieces(source: &str, expression: bool, line: Option<usize>) -> Vec<&str> {
    if expression {
        return vec![source];
    }
    let parts = model::template_parts(source);
    let tags = parts.iter().filter_map(|part| match part {
        model::TemplatePart::Expression(code) | model::TemplatePart::Statement(code) => Some(*code),
        _ => None,
    });
    match line {
        Some(line) if source.contains('\n') => tags
            .filter(|code| {
                // Tags are slices of `source`: their offset gives their lines.
                let offset = (code.as_ptr() as usize).saturating_sub(source.as_ptr() as usize);
                let first = 1 + source.get(..offset).unwrap_or("").matches('\n').count();
                let last = first + code.matches('\n').count();
                (first..=last).contains(&line)
            })
            .collect(),
        _ => tags.collect(),
    }
}

fn unknown_name(
    source: &str,
    expression: bool,
    line: Option<usize>,
    ctx: &Value,
) -> Option<String> {
    let mut bound: Vec<&str> = Vec::new();
    if !expression {
        for part in model::template_parts(source) {
            if let model::TemplatePart::Statement(code) = part {
                bound_names(&tokens(code), &mut bound);
            }
        }
    }
    let root = |path: &[Segment]| match path.first() {
        Some(Segment::Key(root)) => root.clone(),
        _ => String::new(),
    };
    let paths: Vec<Vec<Segment>> = code_pieces(source, expression, line)
        .into_iter()
        .flat_map(|code| name_paths(&tokens(code)))
        .filter(|path| !IMPLICIT.contains(&root(path).as_str()))
        .collect();
    let in_context = paths
        .iter()
        .filter(|path| !bound.contains(&root(path).as_str()))
        .find_map(|path| first_missing(ctx, path).map(|at| path_text(&path[..=at])));
    // A name bound inside the template cannot be looked up; an attribute read from one (a loop
    // variable's field) is then the likely culprit.
    in_context.or_else(|| {
        paths
            .iter()
            .find(|path| path.len() > 1 && bound.contains(&root(path).as_str()))
            .map(|path| path_text(path))
    })
}

/// The code an error quotes when no name could be blamed.
fn snippet(source: &str, expression: bool, line: Option<usize>) -> String {
    let pieces = code_pieces(source, expression, line);
    let text = match pieces.as_slice() {
        [one] => one.trim(),
        _ => source.trim(),
    };
    if text.chars().count() > SNIPPET_CHARS {
        let cut: String = text.chars().take(SNIPPET_CHARS).collect();
        format!("{cut}…")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;

    fn ctx() -> Value {
        json!({
            "trigger": {"body": {"items": [1, 2, 3], "name": "ada"}, "query": {}},
            "steps": {"total": {"total": 6}, "list": {"names": ["a", "b"], "empty": []}},
            "secrets": {"X": "s3cret"},
            "env": {"mode": "test", "run_id": "r1"},
            "now": "2024-01-01T00:00:00Z",
        })
    }

    fn render(template: Value) -> Result<Value, ExprError> {
        Renderer::default().render_value(&template, &ctx())
    }

    fn render_str(template: &str) -> Result<Value, ExprError> {
        render(json!(template))
    }

    fn err(template: Value) -> String {
        render(template).unwrap_err().to_string()
    }

    fn condition(expr: &str) -> Result<bool, ExprError> {
        Renderer::default().eval_condition(expr, &ctx())
    }

    /// Runs a hostile input: it must come back (error or harmless output), not hang. The bound
    /// is generous because test machines are noisy; a hang would take far longer.
    fn probe(template: &str) -> Result<Value, ExprError> {
        let start = Instant::now();
        let result = render_str(template);
        let took = start.elapsed();
        assert!(took < Duration::from_secs(15), "{template:?} took {took:?}");
        result
    }

    #[test]
    fn single_expressions_are_typed() {
        assert_eq!(render_str("{{ steps.total.total }}"), Ok(json!(6)));
        assert_eq!(render_str("{{steps.total.total}}"), Ok(json!(6)));
        assert_eq!(
            render_str("{{ trigger.body }}"),
            Ok(json!({"items": [1, 2, 3], "name": "ada"}))
        );
        assert_eq!(render_str("{{ trigger.body.items }}"), Ok(json!([1, 2, 3])));
        assert_eq!(render_str("{{ steps.total.total / 4 }}"), Ok(json!(1.5)));
        assert_eq!(render_str("{{ steps.total.total > 5 }}"), Ok(json!(true)));
        assert_eq!(render_str("{{ none }}"), Ok(Value::Null));
        assert_eq!(render_str("{{ 'x' ~ 1 }}"), Ok(json!("x1")));
        assert_eq!(render_str("{{ range(3) }}"), Ok(json!([0, 1, 2])));
        assert_eq!(render_str("{{ dict(a=1) }}"), Ok(json!({"a": 1})));
        assert_eq!(render_str("{{ trigger.body.items[-1] }}"), Ok(json!(3)));
        // A deliberate undefined (`if` without `else`) is null, not an error.
        assert_eq!(render_str("{{ 1 if false }}"), Ok(Value::Null));
        // Functions and other opaque values become their text.
        assert_eq!(render_str("{{ range }}"), Ok(json!("function")));
    }

    #[test]
    fn objects_and_arrays_render_leaf_by_leaf() {
        let template = json!({
            "value": {"total": "{{ steps.total.total }}", "label": "n={{ steps.total.total }}"},
            "list": ["{{ trigger.body.name }}", 7, null, true, ["{{ trigger.body.items | length }}"]],
            "{{ steps.total.total }}": "key is kept",
        });
        assert_eq!(
            render(template),
            Ok(json!({
                "value": {"total": 6, "label": "n=6"},
                "list": ["ada", 7, null, true, [3]],
                "{{ steps.total.total }}": "key is kept",
            }))
        );
    }

    #[test]
    fn plain_strings_are_untouched() {
        for s in [
            "hello",
            "line\n",
            "{ not: a template }",
            "50% off }}",
            "",
            "  spaced  ",
        ] {
            assert_eq!(render_str(s), Ok(json!(s)), "{s:?}");
        }
    }

    #[test]
    fn other_strings_render_to_text() {
        assert_eq!(
            render_str("Total: {{ steps.total.total }}!"),
            Ok(json!("Total: 6!"))
        );
        assert_eq!(render_str(" {{ steps.total.total }}"), Ok(json!(" 6")));
        assert_eq!(
            render_str("Hi {{ trigger.body.name }}\n"),
            Ok(json!("Hi ada\n"))
        );
        assert_eq!(
            render_str("{% for n in steps.list.names %}{{ n }},{% endfor %}"),
            Ok(json!("a,b,"))
        );
        assert_eq!(
            render_str("{{ trigger.body }}!"),
            Ok(json!(r#"{"items": [1, 2, 3], "name": "ada"}!"#))
        );
        // No HTML escaping: the output is data.
        assert_eq!(render_str("{{ '<a & b>' }} "), Ok(json!("<a & b> ")));
        assert_eq!(render_str("{# just a note #}"), Ok(json!("")));
    }

    #[test]
    fn filters() {
        assert_eq!(render_str("{{ trigger.body.items | sum }}"), Ok(json!(6)));
        assert_eq!(
            render_str("{{ trigger.body.items | length }}"),
            Ok(json!(3))
        );
        assert_eq!(
            render_str("{{ trigger.body.name | upper }}"),
            Ok(json!("ADA"))
        );
        assert_eq!(
            render_str("{{ trigger.body.items | tojson }}"),
            Ok(json!("[1,2,3]"))
        );
        assert_eq!(
            render_str("{{ trigger.body | json }}"),
            Ok(json!(r#"{"items":[1,2,3],"name":"ada"}"#))
        );
        assert_eq!(
            render_str(r#"{{ '{"a": [1, {"b": null}]}' | fromjson }}"#),
            Ok(json!({"a": [1, {"b": null}]}))
        );
        assert_eq!(
            render_str("{{ 'ada:pw' | b64encode }}"),
            Ok(json!("YWRhOnB3"))
        );
        assert_eq!(
            render_str("{{ 'YWRhOnB3' | b64decode }}"),
            Ok(json!("ada:pw"))
        );
        assert_eq!(
            render_str("{{ 'YWRhOnB3Pw' | b64decode }}"),
            Ok(json!("ada:pw?"))
        );
        assert!(
            err(json!("{{ 'not json' | fromjson }}")).starts_with("invalid operation: fromjson:")
        );
        assert!(err(json!("{{ '%%%' | b64decode }}")).starts_with("invalid operation: b64decode:"));
        assert_eq!(
            err(json!("{{ 1 | no_such }}")),
            "unknown filter: filter no_such is unknown"
        );
    }

    #[test]
    fn conditions() {
        assert_eq!(condition("steps.total.total > 5"), Ok(true));
        assert_eq!(condition("steps.total.total > 6"), Ok(false));
        assert_eq!(
            condition("  steps.total.total == 6 and env.mode == 'test' "),
            Ok(true)
        );
        assert_eq!(condition("trigger.body.name"), Ok(true));
        assert_eq!(condition("''"), Ok(false));
        assert_eq!(condition("steps.list.names"), Ok(true));
        assert_eq!(condition("steps.list.empty"), Ok(false));
        assert_eq!(condition("steps.totl is defined"), Ok(false));
        assert_eq!(condition("1 if false"), Ok(false));
        assert_eq!(
            condition("steps.totl").unwrap_err().to_string(),
            "unknown variable steps.totl"
        );
        assert_eq!(
            condition("steps.totl > 5").unwrap_err().to_string(),
            "unknown variable steps.totl"
        );
        assert_eq!(condition(" ").unwrap_err().message, "condition is empty");
        assert!(
            condition("{{ x }}")
                .unwrap_err()
                .message
                .contains("bare expression")
        );
        assert!(
            condition("steps.total.total >")
                .unwrap_err()
                .message
                .starts_with("syntax error")
        );
    }

    #[test]
    fn errors_name_the_leaf_and_the_unknown_variable() {
        assert_eq!(
            err(json!({"value": {"total": "{{ steps.totl }}"}})),
            "value.total: unknown variable steps.totl"
        );
        assert_eq!(
            err(json!({"body": {"items": [1, 2, "sum: {{ steps.totl }}"]}})),
            "body.items[2]: unknown variable steps.totl"
        );
        assert_eq!(
            err(json!("{{ steps.totl.x }}")),
            "unknown variable steps.totl"
        );
        assert_eq!(err(json!("{{ stepz.total }}")), "unknown variable stepz");
        assert_eq!(
            err(json!("{{ steps.total.totl | upper }}")),
            "unknown variable steps.total.totl"
        );
        assert_eq!(
            err(json!("{{ trigger['body'].itemz[0] }}")),
            "unknown variable trigger.body.itemz"
        );
        assert_eq!(
            err(json!("a\n{{ trigger.body.name }}\n{{ steps.nope }}")),
            "unknown variable steps.nope (line 3)"
        );
        assert_eq!(
            err(json!("{{ steps.total.total + nope }}")),
            "invalid operation: tried to use + operator on unsupported types number and \
             undefined (unknown variable nope)"
        );
        // A loop variable cannot be checked against the context: its attribute is blamed.
        assert_eq!(
            err(json!(
                "{% for n in steps.list.names %}{{ loop.index }}{{ n.first }}{% endfor %}"
            )),
            "unknown variable n.first"
        );
        // Nothing to blame: the code is quoted.
        assert_eq!(
            err(json!("x {{ ''.__class__ }}")),
            "unknown variable in ''.__class__"
        );
        assert!(err(json!("{{ steps.total")).starts_with("syntax error: "));
        assert_eq!(
            ExprError::new("", "unknown variable x").to_string(),
            "unknown variable x"
        );
    }

    #[test]
    fn rendered_output_is_never_rendered_again() {
        let context = json!({"trigger": {"body": "{{ secrets.X }}"}, "secrets": {"X": "s3cret"}});
        let renderer = Renderer::default();
        assert_eq!(
            renderer.render_value(&json!("{{ trigger.body }}"), &context),
            Ok(json!("{{ secrets.X }}"))
        );
        assert_eq!(
            renderer.render_value(&json!("got {{ trigger.body }}"), &context),
            Ok(json!("got {{ secrets.X }}"))
        );
        assert_eq!(
            renderer.render_value(&json!({"a": ["{{ trigger }}"]}), &context),
            Ok(json!({"a": [{"body": "{{ secrets.X }}"}]}))
        );
    }

    #[test]
    fn output_is_capped() {
        let renderer = Renderer::new(Limits {
            max_output_bytes: 100,
            ..Limits::default()
        });
        let big = "{% for i in range(1000) %}x{% endfor %}";
        assert_eq!(
            renderer
                .render_value(&json!({"a": big}), &ctx())
                .unwrap_err()
                .to_string(),
            "a: output is larger than 100 bytes"
        );
        assert_eq!(
            renderer
                .render_value(&json!("{{ range(100) }}"), &ctx())
                .unwrap_err()
                .message,
            "output is larger than 100 bytes"
        );
        assert_eq!(
            renderer
                .render_value(&json!("{{ 'x' * 1000 }}"), &ctx())
                .unwrap_err()
                .message,
            "output is larger than 100 bytes"
        );
        // The budget is shared by all leaves of one call, and only rendered leaves count.
        let sixty = "{% for i in range(60) %}x{% endfor %}";
        assert!(renderer.render_value(&json!([sixty]), &ctx()).is_ok());
        assert_eq!(
            renderer
                .render_value(&json!([sixty, sixty]), &ctx())
                .unwrap_err()
                .to_string(),
            "[1]: output is larger than 100 bytes"
        );
        let plain = "y".repeat(500);
        assert_eq!(
            renderer.render_value(&json!(plain), &ctx()),
            Ok(json!(plain))
        );
    }

    #[test]
    fn fuel_stops_runaway_loops() {
        let result = probe(
            "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}",
        );
        let message = result.unwrap_err().message;
        assert!(
            message.contains("fuel") && message.contains("50000"),
            "{message}"
        );
        let small = Renderer::new(Limits {
            fuel: 10,
            ..Limits::default()
        });
        assert!(
            small
                .render_value(&json!("{{ steps.total.total }}"), &ctx())
                .is_ok()
        );
        assert!(
            small
                .render_value(
                    &json!("{% for i in range(100) %}{{ i }}{% endfor %}"),
                    &ctx()
                )
                .unwrap_err()
                .message
                .contains("fuel")
        );
    }

    #[test]
    fn python_introspection_goes_nowhere() {
        for template in [
            "{{ ''.__class__ }}",
            "{{ ''.__class__.__mro__ }}",
            "{{ cycler.__init__.__globals__ }}",
            "x {{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ self }}",
            "{{ config }}",
            "{{ lipsum.__globals__ }}",
        ] {
            let error = probe(template).unwrap_err();
            assert!(error.message.starts_with("unknown "), "{template}: {error}");
        }
        assert_eq!(
            probe("{{ cycler.__init__.__globals__ }}")
                .unwrap_err()
                .message,
            "unknown variable cycler"
        );
    }

    #[test]
    fn huge_ranges_are_refused() {
        assert_eq!(
            probe("{{ range(100000000) }}").unwrap_err().message,
            "invalid operation: range has too many elements (at most 100000)"
        );
        assert!(probe("{% for i in range(100000000) %}{% endfor %}").is_err());
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        for (open, close) in [("(", ")"), ("[", "]")] {
            // minijinja's own limit on nesting (150) ...
            let deep = format!("{{{{ {}1{} }}}}", open.repeat(200), close.repeat(200));
            let message = probe(&deep).unwrap_err().message;
            assert!(message.contains("recursion"), "{message}");
            // ... and ours on the operators and brackets of one tag.
            let deep = format!("{{{{ {}1{} }}}}", open.repeat(1000), close.repeat(1000));
            let message = probe(&deep).unwrap_err().message;
            assert!(message.contains("too complex"), "{message}");
        }
        let loops = format!(
            "{}x{}",
            "{% for a in range(10) %}".repeat(100),
            "{% endfor %}".repeat(100)
        );
        assert!(probe(&loops).unwrap_err().message.contains("fuel"));
        let macros = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
        assert!(
            probe(macros)
                .unwrap_err()
                .message
                .contains("recursion limit")
        );
    }

    #[test]
    fn flat_operator_chains_are_refused_when_rendered() {
        // A draft saved before validation refused these, or a test run of an invalid draft,
        // still reaches the renderer: it refuses them too instead of overflowing the stack.
        let m = 1_000_000;
        for template in [
            format!("{{{{ {}1 }}}}", "-".repeat(m)),
            format!("x {{{{ 1{} }}}}", " + 1".repeat(m)),
            format!("{{{{ 1{} }}}}", "|abs".repeat(2 * m)),
        ] {
            let message = probe(&template).unwrap_err().message;
            assert!(message.contains("too complex"), "{message}");
        }
        let renderer = Renderer::default();
        let chain = format!("true{}", " and true".repeat(m));
        let message = renderer
            .eval_condition(&chain, &json!({}))
            .unwrap_err()
            .message;
        assert!(message.contains("too complex"), "{message}");
    }

    #[test]
    fn values_built_deep_do_not_crash() {
        // Nested far deeper than a 2 MiB stack allows, it survives printing and serializing.
        let deep = |n: usize, tail: &str| {
            format!(
                "{{% set a = [1] %}}{}{{{{ a{tail} }}}}",
                "{% set a = [a] %}".repeat(n)
            )
        };
        assert!(probe(&deep(10_000, "")).is_ok());
        assert!(probe(&deep(10_000, " | tojson")).is_ok());
        assert_eq!(probe(&deep(10_000, " | length")), Ok(json!("1")));
        // As deep as fuel allows: the render runs out of fuel, then drops the value.
        let message = probe(&deep(30_000, "")).unwrap_err().message;
        assert!(message.contains("fuel"), "{message}");
        // A typed value deeper than JSON allows is refused.
        let chain = format!("{{{{ [1]{} }}}}", "|batch(1)".repeat(140));
        let message = probe(&chain).unwrap_err().message;
        assert!(message.contains("nested too deeply"), "{message}");
        // A chain of filters that long is refused before it is parsed.
        let chain = format!("{{{{ [1]{} }}}}", "|batch(1)".repeat(20_000));
        let message = probe(&chain).unwrap_err().message;
        assert!(message.contains("too complex"), "{message}");
        // `namespace()` (the only way to make a cycle) is not available.
        let cycle = "{% set ns = namespace() %}{% set ns.x = ns %}{{ ns }}";
        assert!(probe(cycle).unwrap_err().message.contains("namespace"));
    }

    #[test]
    fn builtins_cannot_do_unbounded_work() {
        for (template, expected) in [
            ("{{ [1] | batch(1000000000000) }}", "at most 100000"),
            (
                "{{ [1] | batch(1000000000, 0) | length }}",
                "at most 100000",
            ),
            ("{{ [1] | slice(1000000000) | length }}", "at most 100000"),
            ("{{ 'a' | indent(1000000000000) }}", "at most 1000"),
            ("{{ [1] | tojson(indent=1000000000000) }}", "at most 1000"),
            ("{{ [1] | json(1000000000000) }}", "at most 1000"),
            ("{{ '%1000000000000d' | format(1) }}", "width 1000000000000"),
            ("{{ '%.99999f' | format(1) }}", "width 99999"),
            (
                "{{ ([1] * 1000000000000) | sum }}",
                "more than 1000000 items",
            ),
            (
                "{{ [[1] * 1000000000000] | tojson }}",
                "more than 1000000 items",
            ),
            ("{{ [1] * 1000000000000 }}", "more than 1000000 items"),
            ("x{{ [1] * 1000000000000 }}", "more than 1000000 items"),
            (
                "{% for i in range(1000) %}{{ range(100000) | sum }}{% endfor %}",
                "ran out of fuel",
            ),
        ] {
            let message = probe(template).unwrap_err().message;
            assert!(message.contains(expected), "{template}: {message}");
        }
        // Ordinary use still works, keyword arguments included.
        assert_eq!(
            render_str("{{ [1, 2, 3] | batch(2) | list }}"),
            Ok(json!([[1, 2], [3]]))
        );
        assert_eq!(
            render_str("{{ {'a': 1} | tojson(indent=2) }}"),
            Ok(json!("{\n  \"a\": 1\n}"))
        );
        assert_eq!(
            render_str("{{ '%5.1f|%-3s|%%' | format(2.25, 'x') }}"),
            Ok(json!("  2.2|x  |%"))
        );
        assert_eq!(
            render_str("{{ ([1] * 1000000000000) | length }}"),
            Ok(json!(1_000_000_000_000_u64))
        );
        assert_eq!(render_str("{{ steps.totl | default(3) }}"), Ok(json!(3)));
        assert_eq!(
            render_str("{{ trigger.body.items | map('string') | join(',') }}"),
            Ok(json!("1,2,3"))
        );
    }

    #[test]
    fn templates_cannot_load_templates() {
        for template in [
            "{% include 'x' %}",
            "{% import 'x' as y %}",
            "{% extends 'x' %}",
        ] {
            assert_eq!(
                probe(template).unwrap_err().message,
                "templates cannot include, import or extend other templates"
            );
        }
    }
}
