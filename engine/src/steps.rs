//! What each step kind does (PRODUCT.md §4), with the common keys: `timeout_ms`, `retry`
//! (attempts with exponential backoff) and `on_error`. Config fields are rendered first;
//! which fields are templates is `model::is_rendered_field`.

use crate::databases::DbWrite;
use crate::expr::{JsonScope, Renderer, Scope};
use crate::runner::Responded;
use crate::store::Engine;
use model::{Document, Mode, Step, StepKind};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const MAX_DELAY_MS: u64 = model::MAX_DELAY_MS;
/// HTTP response bodies above this are refused rather than kept in memory and in the run.
pub const MAX_RESPONSE_BYTES: usize = 10 << 20;

pub struct StepContext {
    pub engine: Engine,
    pub renderer: Arc<Renderer>,
    pub automation: String,
    pub mode: Mode,
    pub document: Arc<Document>,
    /// `{trigger, steps, secrets, env, now}` as the step's expressions see it.
    pub scope: StepScope,
    /// Set once a step of this run queued a database write: its database reads then wait for
    /// that write's commit first, so a run reads what it wrote.
    pub wrote: Arc<std::sync::atomic::AtomicBool>,
    /// The run this step belongs to, and its state when it has nothing on disk yet (see
    /// [`crate::runs::RunStake`]).
    pub run_id: String,
    pub unwritten: Option<Arc<crate::runs::Run>>,
}

impl StepContext {
    fn stake(&self) -> Option<crate::runs::RunStake> {
        Some(crate::runs::RunStake {
            run_id: self.run_id.clone(),
            unwritten: self.unwritten.clone(),
        })
    }
}

/// A run's context as it grows (PRODUCT.md §3): the trigger input, the outputs of finished
/// steps, the secrets and `env`, each converted for the expressions once (an output when its
/// step finishes) rather than for every field a step renders.
pub struct RunScope {
    trigger: Arc<Value>,
    steps: Arc<Map<String, Value>>,
    secrets: Arc<BTreeMap<String, String>>,
    env: Arc<Value>,
    jinja_trigger: minijinja::Value,
    jinja_steps: BTreeMap<String, minijinja::Value>,
    jinja_secrets: minijinja::Value,
    jinja_env: minijinja::Value,
}

impl RunScope {
    pub fn new(trigger: Value, secrets: Arc<BTreeMap<String, String>>, env: Value) -> RunScope {
        RunScope {
            jinja_trigger: minijinja::Value::from_serialize(&trigger),
            jinja_secrets: minijinja::Value::from_serialize(secrets.as_ref()),
            jinja_env: minijinja::Value::from_serialize(&env),
            jinja_steps: BTreeMap::new(),
            trigger: Arc::new(trigger),
            steps: Arc::new(Map::new()),
            secrets,
            env: Arc::new(env),
        }
    }

    /// A finished step's output, visible to the steps that start after this.
    pub fn insert_output(&mut self, name: &str, output: Value) {
        self.jinja_steps
            .insert(name.to_string(), minijinja::Value::from_serialize(&output));
        Arc::make_mut(&mut self.steps).insert(name.to_string(), output);
    }

    /// What a step starting now sees.
    pub fn for_step(&self, now: String) -> StepScope {
        let jinja = minijinja::context! {
            trigger => self.jinja_trigger.clone(),
            steps => minijinja::Value::from_iter(
                self.jinja_steps.iter().map(|(k, v)| (k.clone(), v.clone())),
            ),
            secrets => self.jinja_secrets.clone(),
            env => self.jinja_env.clone(),
            now => now.clone(),
        };
        StepScope {
            trigger: self.trigger.clone(),
            steps: self.steps.clone(),
            secrets: self.secrets.clone(),
            env: self.env.clone(),
            now,
            jinja,
        }
    }
}

/// One step's view of its run's context (see [`RunScope`]).
pub struct StepScope {
    pub trigger: Arc<Value>,
    pub steps: Arc<Map<String, Value>>,
    pub secrets: Arc<BTreeMap<String, String>>,
    pub env: Arc<Value>,
    pub now: String,
    jinja: minijinja::Value,
}

impl StepScope {
    /// For the renderer.
    pub fn expr(&self) -> Scope<'_> {
        Scope::new(self.jinja.clone(), self)
    }
}

impl JsonScope for StepScope {
    fn json(&self) -> std::borrow::Cow<'_, Value> {
        let mut m = Map::new();
        m.insert("trigger".into(), self.trigger.as_ref().clone());
        m.insert("steps".into(), Value::Object(self.steps.as_ref().clone()));
        m.insert(
            "secrets".into(),
            Value::Object(
                self.secrets
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        m.insert("env".into(), self.env.as_ref().clone());
        m.insert("now".into(), Value::String(self.now.clone()));
        std::borrow::Cow::Owned(Value::Object(m))
    }
}

impl StepContext {
    /// Waits until the database writes this run queued so far are committed (at once when it
    /// queued none): before the run reads a database, and before it tells the world anything
    /// (an `http` call may make someone else read what it wrote).
    pub async fn writes_committed(&self) -> Result<(), String> {
        if self.wrote.load(std::sync::atomic::Ordering::Acquire) {
            self.engine
                .runs()
                .flush_async()
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

pub struct Outcome {
    pub result: Result<Value, String>,
    /// The step's config with its expressions resolved.
    pub input: Value,
    pub attempts: u32,
    pub logs: Vec<String>,
    pub on_error_continue: bool,
}

struct Attempt {
    result: Result<Value, String>,
    input: Value,
    logs: Vec<String>,
}

/// A whole number from a rendered field: a template renders to text (`"{{ trigger.wait }}"`
/// gives `"500"`), so text that reads as a number counts. Not for the common keys, which are
/// never rendered (see [`model::CommonConfig`]).
fn u64_of(v: Option<&Value>) -> Option<u64> {
    v.and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

pub async fn run_step(ctx: &StepContext, step: &Step) -> Outcome {
    let common = model::CommonConfig::of(&step.config);
    let max_attempts = common.retry.max_attempts;
    let backoff_ms = common.retry.backoff_ms;
    // Validation refuses more; a draft saved with more still waits at most this in all.
    let mut backoff_left = model::MAX_TOTAL_BACKOFF_MS;
    let on_error_continue = common.on_error == model::OnError::Continue;
    let kind = step.step_kind();
    let timeout_ms = common.timeout_ms(kind);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let attempt = match tokio::time::timeout(
            Duration::from_millis(timeout_ms),
            attempt(ctx, step, kind, timeout_ms),
        )
        .await
        {
            Ok(a) => a,
            Err(_) => Attempt {
                result: Err(format!("timed out after {timeout_ms} ms")),
                input: Value::Null,
                logs: vec![],
            },
        };
        if attempt.result.is_ok() || attempts >= max_attempts {
            return Outcome {
                result: attempt.result,
                input: attempt.input,
                attempts,
                logs: attempt.logs,
                on_error_continue,
            };
        }
        let wait = model::backoff_before(backoff_ms, attempts + 1).min(backoff_left);
        backoff_left -= wait;
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}

/// The step's config with every template field rendered.
fn rendered(ctx: &StepContext, step: &Step, kind: Option<StepKind>) -> Result<Value, String> {
    let Some(obj) = step.config.as_object() else {
        return Ok(step.config.clone());
    };
    let mut out = serde_json::Map::new();
    let scope = ctx.scope.expr();
    for (k, v) in obj {
        if model::is_rendered_field(kind, k) {
            let r = ctx.renderer.render_in(v, &scope).map_err(|e| {
                if e.path.is_empty() {
                    format!("{k}: {}", e.message)
                } else if e.path.starts_with('[') {
                    format!("{k}{e}")
                } else {
                    format!("{k}.{e}")
                }
            })?;
            out.insert(k.clone(), r);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

async fn attempt(
    ctx: &StepContext,
    step: &Step,
    kind: Option<StepKind>,
    timeout_ms: u64,
) -> Attempt {
    let input = match rendered(ctx, step, kind) {
        Ok(i) => i,
        Err(e) => {
            return Attempt {
                result: Err(e),
                input: Value::Null,
                logs: vec![],
            };
        }
    };
    let mut logs = vec![];
    let result = match kind {
        None => Err(format!("unknown step kind `{}`", step.kind)),
        Some(StepKind::Transform) => Ok(input.get("value").cloned().unwrap_or(Value::Null)),
        Some(StepKind::Branch) => {
            let condition = step
                .config
                .get("condition")
                .and_then(Value::as_str)
                .unwrap_or("false");
            ctx.renderer
                .eval_condition_in(condition, &ctx.scope.expr())
                .map(|b| json!({ "result": b }))
                .map_err(|e| format!("condition: {}", e.message))
        }
        Some(StepKind::Delay) => match u64_of(input.get("ms")) {
            Some(ms) if ms <= MAX_DELAY_MS => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(json!({ "waited_ms": ms }))
            }
            Some(ms) => Err(format!("ms: {ms} is more than the limit of {MAX_DELAY_MS}")),
            None => Err("ms: must be a number of milliseconds".to_string()),
        },
        Some(StepKind::Respond) => respond(&input),
        Some(StepKind::Database) => database(ctx, &input).await,
        Some(StepKind::Code) => code(ctx, step, timeout_ms, &mut logs).await,
        Some(StepKind::Http) => crate::http_step::call(ctx, &input).await,
    };
    Attempt {
        result,
        input,
        logs,
    }
}

fn respond(input: &Value) -> Result<Value, String> {
    let status = match input.get("status") {
        None | Some(Value::Null) => 200,
        Some(v) => u64_of(Some(v))
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| format!("status: {v} is not an HTTP status"))?,
    };
    Ok(json!({
        "status": status,
        "headers": input.get("headers").cloned().unwrap_or(json!({})),
        "body": input.get("body").cloned().unwrap_or(Value::Null),
    }))
}

pub fn responded_of(output: &Value) -> Responded {
    Responded {
        status: output.get("status").and_then(Value::as_u64).unwrap_or(200) as u16,
        headers: header_map(output.get("headers")),
        body: output.get("body").cloned().unwrap_or(Value::Null),
    }
}

async fn database(ctx: &StepContext, input: &Value) -> Result<Value, String> {
    let text = |k: &str| input.get(k).map(text_of).unwrap_or_default();
    let op = text("op");
    let db = text("database");
    let key = text("key");
    // Stored as rendered: redaction is for run records and logs, never for a step's data (a
    // composer that writes a secret into a database stores it, as it would send it).
    let value = input.get("value").cloned().unwrap_or(Value::Null);
    let (automation, mode) = (ctx.automation.clone(), ctx.mode);
    // Writes ride the run writer's next commit (shared with the run records, no thread held).
    let write = match op.as_str() {
        "put" => DbWrite::put(automation, mode, db, key, &value, ctx.engine.now()),
        "delete" => DbWrite::delete(automation, mode, db, key),
        _ => {
            let prefix = text("prefix");
            let limit = u64_of(input.get("limit")).unwrap_or(100) as usize;
            return read_database(ctx, op, db, key, prefix, limit).await;
        }
    };
    let write = write.map_err(|e| e.to_string())?;
    ctx.wrote.store(true, std::sync::atomic::Ordering::Release);
    if matches!(write, DbWrite::Put { .. }) {
        // Checked already; nothing of its outcome is needed to go on, and the run's final
        // record is committed with it or after it.
        ctx.engine
            .runs()
            .db_write_queued(write, ctx.stake())
            .map_err(|e| e.to_string())?;
        return Ok(value);
    }
    match ctx.engine.runs().db_write(write, ctx.stake()).await {
        Ok(deleted) => Ok(json!({ "deleted": deleted })),
        Err(e) => Err(e.to_string()),
    }
}

/// `get`, `count` and `list` read a snapshot on a blocking thread.
async fn read_database(
    ctx: &StepContext,
    op: String,
    db: String,
    key: String,
    prefix: String,
    limit: usize,
) -> Result<Value, String> {
    let (automation, mode) = (ctx.automation.clone(), ctx.mode);
    ctx.writes_committed().await?;
    let engine = ctx.engine.clone();
    let done = tokio::task::spawn_blocking(move || -> crate::Result<Value> {
        Ok(match op.as_str() {
            "get" => engine
                .db_get(&automation, mode, &db, &key)?
                .unwrap_or(Value::Null),
            "count" => json!(engine.db_count(&automation, mode, &db)?),
            "list" => json!(
                engine
                    .db_list(&automation, mode, &db, &prefix, limit, None)?
                    .items
            ),
            other => {
                return Err(crate::Error::Invalid(format!(
                    "op: unknown operation `{other}`; use get, put, delete, list or count"
                )));
            }
        })
    })
    .await;
    match done {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(format!("the database step stopped: {e}")),
    }
}

async fn code(
    ctx: &StepContext,
    step: &Step,
    timeout_ms: u64,
    logs: &mut Vec<String>,
) -> Result<Value, String> {
    let source = step
        .config
        .get("source")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let input = json!({
        "trigger": ctx.scope.trigger.as_ref(),
        "steps": ctx.scope.steps.as_ref(),
        "env": ctx.scope.env.as_ref(),
    });
    let mut limits = crate::sandbox::CodeLimits::default();
    limits.timeout = limits.timeout.min(Duration::from_millis(timeout_ms));
    let owner = format!("{}/{}", ctx.automation, ctx.mode.as_str());
    let done = tokio::task::spawn_blocking(move || {
        crate::sandbox::run_code(&owner, &source, &input, &limits)
    })
    .await;
    match done {
        Ok(Ok(out)) => {
            *logs = out.logs;
            Ok(out.value)
        }
        Ok(Err(e)) => {
            *logs = e.logs.clone();
            Err(e.message)
        }
        Err(e) => Err(format!("the code step stopped: {e}")),
    }
}

/// A JSON value as text: strings as they are, anything else as JSON.
pub fn text_of(v: &Value) -> String {
    v.as_str()
        .map(String::from)
        .unwrap_or_else(|| v.to_string())
}

/// Headers as a flat string map (JSON objects of strings; other values are stringified).
pub fn header_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
        .unwrap_or_default()
}
