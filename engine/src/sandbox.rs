//! The code step sandbox: JavaScript on QuickJS with memory and time limits (PRODUCT.md §4).
//!
//! This module owns running the `source` of a `code` step: a fresh QuickJS runtime per call, with
//! only the standard ECMAScript intrinsics plus a `console` that writes to the step's logs, and
//! the limits on memory, time, native stack, output size and log size. Nothing of the host (files,
//! network, environment, modules, timers) is reachable from the code.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::context::intrinsic::{
    Date, Eval, Json, MapSet, Promise as PromiseIntrinsic, Proxy, RegExp, RegExpCompiler,
    TypedArrays, WeakRef,
};
use rquickjs::promise::PromiseState;
use rquickjs::{Coerced, Context, Ctx, Function, Object, Runtime, Type, Value};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Native stack QuickJS may use for JavaScript recursion before it throws a stack overflow.
const JS_STACK_BYTES: usize = MIB;
/// Stack of the worker thread. Far above `JS_STACK_BYTES` because QuickJS checks its limit only
/// at certain points (calls, parser, regexp compiler) and the native code between checks, plus
/// our own frames, must never reach the real end of the thread's stack.
const THREAD_STACK_BYTES: usize = 8 * MIB;
/// How long past the timeout `run_code` waits for the worker before giving up on it. The
/// interrupt handler stops the code at the timeout, inside regular expressions too (QuickJS-ng
/// checks it while backtracking); this is a safety net for native work that never checks it.
const HARD_TIMEOUT_GRACE: Duration = Duration::from_secs(1);
/// Abandoned workers (see `HARD_TIMEOUT_GRACE`) still running, process-wide. Each holds up to its
/// memory limit and burns a core, so past this many, new runs are refused until some finish.
const MAX_RUNAWAY_WORKERS: usize = 16;
/// Abandoned workers one owner (an automation in a mode) may have: past this its own code steps
/// are refused, and nobody else's (one automation's runaway code never denies another's).
const MAX_RUNAWAY_PER_OWNER: usize = 2;
static RUNAWAY_WORKERS: AtomicUsize = AtomicUsize::new(0);
static RUNAWAY_BY_OWNER: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// Counts an abandoned worker of `owner`.
fn runaway_started(owner: &str) {
    RUNAWAY_WORKERS.fetch_add(1, Ordering::SeqCst);
    *RUNAWAY_BY_OWNER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(owner.to_owned())
        .or_default() += 1;
}

/// An abandoned worker of `owner` finished after all.
fn runaway_finished(owner: &str) {
    RUNAWAY_WORKERS.fetch_sub(1, Ordering::SeqCst);
    let mut by_owner = RUNAWAY_BY_OWNER
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(n) = by_owner.get_mut(owner) {
        *n -= 1;
        if *n == 0 {
            by_owner.remove(owner);
        }
    }
}

fn runaways_of(owner: &str) -> usize {
    RUNAWAY_BY_OWNER
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(owner)
        .copied()
        .unwrap_or(0)
}
/// The last log line once `max_log_bytes` is reached.
const LOGS_TRUNCATED: &str = "… logs truncated";

/// The limits one `code` step runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLimits {
    /// Memory of the whole QuickJS runtime (code, values, input). 0 means no limit (QuickJS's
    /// convention), so never pass 0 for user code.
    pub memory_bytes: usize,
    /// Wall-clock time from the start of the run until the result is converted.
    pub timeout: Duration,
    /// Size of the returned value as JSON text.
    pub max_output_bytes: usize,
    /// Total size of the log lines kept; later lines are replaced by one `… logs truncated`.
    pub max_log_bytes: usize,
}

impl Default for CodeLimits {
    fn default() -> Self {
        CodeLimits {
            memory_bytes: 64 * MIB,
            timeout: Duration::from_secs(5),
            max_output_bytes: MIB,
            max_log_bytes: 256 * KIB,
        }
    }
}

/// What a successful run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeOutput {
    /// The returned value (`undefined` becomes `null`).
    pub value: serde_json::Value,
    /// One entry per `console.*` call, in order.
    pub logs: Vec<String>,
}

/// Why a run failed, with the logs written before it failed so the user can see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeError {
    pub message: String,
    pub logs: Vec<String>,
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CodeError {}

/// Runs `source` as the body of `async function (input) { ... }` with `input`, and returns the
/// value it returns (awaited if it is a promise) as JSON.
///
/// Blocking: it runs the code on a dedicated thread (QuickJS recurses on the native stack and
/// needs a bigger stack than an arbitrary caller's) and waits for it, at most `limits.timeout`
/// plus one second. Call it from a blocking thread, not from an async task.
///
/// `owner` (an automation and mode) is whose code it is: code that cannot be stopped counts
/// against its owner only (see [`MAX_RUNAWAY_PER_OWNER`]).
pub fn run_code(
    owner: &str,
    source: &str,
    input: &serde_json::Value,
    limits: &CodeLimits,
) -> Result<CodeOutput, CodeError> {
    let fail = |message: String| CodeError {
        message,
        logs: Vec::new(),
    };
    if runaways_of(owner) >= MAX_RUNAWAY_PER_OWNER {
        return Err(fail(
            "too many code steps of this automation are still running past their timeout; \
             try again later"
                .to_owned(),
        ));
    }
    if RUNAWAY_WORKERS.load(Ordering::SeqCst) >= MAX_RUNAWAY_WORKERS {
        return Err(fail(
            "too many code steps are still running past their timeout; try again later".to_owned(),
        ));
    }
    let input_json = serde_json::to_string(input)
        .map_err(|e| fail(format!("could not pass the input to the code: {e}")))?;

    let logs = Arc::new(Mutex::new(LogBuffer::new(limits.max_log_bytes)));
    let state = Arc::new(AtomicU8::new(RUNNING));
    let (sender, receiver) = mpsc::sync_channel(1);
    let worker_source = source.to_owned();
    let worker_limits = *limits;
    let worker_logs = Arc::clone(&logs);
    let worker_state = Arc::clone(&state);
    let worker_owner = owner.to_owned();
    let spawned = thread::Builder::new()
        .name("slipway-code".to_owned())
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            // Dropped last, even on a panic: tells an abandoning run_code that we are done.
            let _finished = FinishGuard(worker_state, worker_owner);
            let result = execute(&worker_source, &input_json, &worker_limits, &worker_logs);
            // The receiver is gone only if run_code gave up on us; nobody wants the result then.
            let _ = sender.send(result);
        });
    let worker = spawned.map_err(|e| fail(format!("could not start the code sandbox: {e}")))?;

    let wait = limits.timeout.saturating_add(HARD_TIMEOUT_GRACE);
    let outcome = match receiver.recv_timeout(wait) {
        Ok(result) => {
            // The worker has already torn its runtime down and only returns now.
            let _ = worker.join();
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // Counted before the state changes so the worker's decrement can never come first.
            runaway_started(owner);
            if state
                .compare_exchange(RUNNING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                // Something QuickJS cannot interrupt is running. A thread cannot be killed, so it
                // is left to finish on its own (its memory stays under the runtime's limit); the
                // step fails now so the run does not hang.
                tracing::warn!(
                    timeout_ms = limits.timeout.as_millis() as u64,
                    "code step did not stop at its timeout; its thread is left running"
                );
                Err(timeout_message(limits))
            } else {
                // It finished right at the deadline: its result is already in the channel.
                runaway_finished(owner);
                let _ = worker.join();
                receiver
                    .try_recv()
                    .unwrap_or_else(|_| Err("the code sandbox crashed".to_owned()))
            }
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked (a bug on our side, not in the user's code).
            let _ = worker.join();
            Err("the code sandbox crashed".to_owned())
        }
    };

    let logs = logs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take_lines();
    match outcome {
        Ok(value) => Ok(CodeOutput { value, logs }),
        Err(message) => Err(CodeError { message, logs }),
    }
}

const RUNNING: u8 = 0;
const FINISHED: u8 = 1;
const ABANDONED: u8 = 2;

/// Marks a worker finished, and takes it off `RUNAWAY_WORKERS` if run_code had given up on it.
struct FinishGuard(Arc<AtomicU8>, String);

impl Drop for FinishGuard {
    fn drop(&mut self) {
        if self.0.swap(FINISHED, Ordering::SeqCst) == ABANDONED {
            runaway_finished(&self.1);
        }
    }
}

/// The log lines of one run, capped in bytes.
struct LogBuffer {
    lines: Vec<String>,
    bytes: usize,
    max_bytes: usize,
    truncated: bool,
}

impl LogBuffer {
    fn new(max_bytes: usize) -> Self {
        LogBuffer {
            lines: Vec::new(),
            bytes: 0,
            max_bytes,
            truncated: false,
        }
    }

    fn push(&mut self, line: String) {
        if self.truncated {
            return;
        }
        let room = self.max_bytes - self.bytes;
        if line.len() <= room {
            self.bytes += line.len();
            self.lines.push(line);
            return;
        }
        // Keep what fits of the line that overflows, so a single huge line still shows its start.
        let mut end = room;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        if end > 0 {
            self.bytes += end;
            self.lines.push(line[..end].to_owned());
        }
        self.lines.push(LOGS_TRUNCATED.to_owned());
        self.truncated = true;
    }

    fn take_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.lines)
    }
}

/// Prepares the global object before the code runs; called with the Rust log sink, it returns
/// the safe `JSON.stringify` that Rust then uses too.
///
/// QuickJS's native JSON.stringify recurses on the native stack without checking it, so
/// stringifying a value nested a few ten thousand levels deep would overflow the worker's stack
/// and abort the whole process. Every call into a function does check the stack, so the
/// replacement always hands the native one a replacer function: too deep then ends in a
/// catchable RangeError. (An array replacer is turned into an equivalent function.)
///
/// The sink stays in this closure, so the code reaches it only through `console`. Helpers are
/// captured here, before the code can replace them.
const SANDBOX_SETUP: &str = r#"(function (sink) {
  'use strict';
  const nativeStringify = JSON.stringify;
  const isArray = Array.isArray;
  const defineProperty = Object.defineProperty;
  const objectToString = Object.prototype.toString;
  const apply = Reflect.apply;
  const toText = String;
  const ErrorType = Error;

  const tagOf = function (value) { return apply(objectToString, value, []); };
  const keep = function (key, value) { return value; };
  const propertyList = function (replacer) {
    const list = [];
    const length = replacer.length;
    for (let i = 0; i < length; i++) {
      const item = replacer[i];
      let name;
      if (typeof item === 'string') name = item;
      else if (typeof item === 'number') name = toText(item);
      else if (item !== null && typeof item === 'object') {
        const tag = tagOf(item);
        if (tag === '[object String]' || tag === '[object Number]') name = toText(item);
      }
      if (name === undefined) continue;
      let seen = false;
      for (let j = 0; j < list.length; j++) if (list[j] === name) { seen = true; break; }
      if (!seen) list[list.length] = name;
    }
    return list;
  };
  const pick = function (list) {
    return function (key, value) {
      if (value === null || typeof value !== 'object' || isArray(value)) return value;
      const tag = tagOf(value);
      if (tag === '[object Number]' || tag === '[object String]' ||
          tag === '[object Boolean]' || tag === '[object BigInt]') return value;
      const picked = {};
      for (let i = 0; i < list.length; i++) {
        defineProperty(picked, list[i], {
          value: value[list[i]], writable: true, enumerable: true, configurable: true,
        });
      }
      return picked;
    };
  };
  const stringify = function stringify(value, replacer, space) {
    let replace = keep;
    if (typeof replacer === 'function') replace = replacer;
    else if (isArray(replacer)) replace = pick(propertyList(replacer));
    return nativeStringify(value, replace, space);
  };
  defineProperty(JSON, 'stringify', {
    value: stringify, writable: true, enumerable: false, configurable: true,
  });

  const format = function (value) {
    if (typeof value === 'string') return value;
    if (value instanceof ErrorType) {
      try { return toText(value); } catch (_) { return '[error]'; }
    }
    if (value !== null && typeof value === 'object') {
      try {
        const json = stringify(value);
        if (typeof json === 'string') return json;
      } catch (_) { }
    }
    try { return toText(value); } catch (_) { return '[unprintable]'; }
  };
  const write = function () {
    let line = '';
    for (let i = 0; i < arguments.length; i++) {
      if (i > 0) line += ' ';
      line += format(arguments[i]);
    }
    sink(line);
  };
  const console = {};
  const names = ['log', 'info', 'warn', 'error', 'debug'];
  for (let i = 0; i < names.length; i++) console[names[i]] = write;
  defineProperty(globalThis, 'console', {
    value: console, writable: true, enumerable: false, configurable: true,
  });
  // QuickJS adds this host (WHATWG) function; code steps get only ECMAScript globals.
  delete globalThis.queueMicrotask;
  return stringify;
})"#;

/// Opening of the wrapper around the user's source. Async so that `await` works in the body; a
/// body that never awaits behaves exactly like a plain function.
const WRAPPER_START: &str = "(async function (input) {";
/// The newline keeps a `//` comment on the last line of the body from eating the closing brace.
const WRAPPER_END: &str = "\n})";

/// What decides how a failure is reported.
struct Run<'a> {
    limits: &'a CodeLimits,
    /// Set by the interrupt handler when it stopped the code.
    timed_out: &'a AtomicBool,
    deadline: Option<Instant>,
    /// Lines of the user's source, to tell errors at the wrapper's closing brace apart.
    source_lines: usize,
}

impl Run<'_> {
    fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// Runs the code in a fresh runtime on the current thread. The runtime and every JavaScript value
/// are gone when this returns.
fn execute(
    source: &str,
    input_json: &str,
    limits: &CodeLimits,
    logs: &Arc<Mutex<LogBuffer>>,
) -> Result<serde_json::Value, String> {
    let deadline = Instant::now().checked_add(limits.timeout);
    let runtime = Runtime::new().map_err(|e| format!("could not start the code sandbox: {e}"))?;
    runtime.set_memory_limit(limits.memory_bytes);
    runtime.set_max_stack_size(JS_STACK_BYTES);
    let timed_out = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&timed_out);
    // QuickJS calls this every few thousand bytecode operations; returning true raises an
    // exception JavaScript cannot catch, so `while (true) {}` and `try {} catch {}` loops end.
    runtime.set_interrupt_handler(Some(Box::new(move || {
        let expired = deadline.is_some_and(|d| Instant::now() >= d);
        if expired {
            handler_flag.store(true, Ordering::Relaxed);
        }
        expired
    })));

    // Only the ECMAScript intrinsics: no `performance` (a host API) and nothing of quickjs-libc
    // (`std`, `os`, module loader), which rquickjs never adds to a context anyway. BigInt is part
    // of QuickJS-ng's base objects.
    let context = Context::custom::<(
        Date,
        Eval,
        RegExpCompiler,
        RegExp,
        Json,
        Proxy,
        MapSet,
        TypedArrays,
        PromiseIntrinsic,
        WeakRef,
    )>(&runtime)
    .map_err(|e| format!("could not start the code sandbox: {e}"))?;

    let run = Run {
        limits,
        timed_out: &timed_out,
        deadline,
        source_lines: source.split('\n').count(),
    };
    context.with(|ctx| {
        let mut session = Session {
            ctx,
            run: &run,
            stringify: None,
        };
        session.run(source, input_json, logs)
    })
}

/// One run inside the context.
struct Session<'js, 'a> {
    ctx: Ctx<'js>,
    run: &'a Run<'a>,
    /// The safe JSON.stringify from `SANDBOX_SETUP`, once installed.
    stringify: Option<Function<'js>>,
}

impl<'js> Session<'js, '_> {
    fn run(
        &mut self,
        source: &str,
        input_json: &str,
        logs: &Arc<Mutex<LogBuffer>>,
    ) -> Result<serde_json::Value, String> {
        let stringify = self
            .prepare_globals(logs)
            .map_err(|e| self.failure(e, Some("could not start the code sandbox")))?;
        self.stringify = Some(stringify);

        if source.contains('\0') {
            return Err("the code contains a NUL character".to_owned());
        }
        let wrapped = format!("{WRAPPER_START}{source}{WRAPPER_END}");
        let mut options = EvalOptions::default();
        // Sloppy mode, as for any plain script; the body can still start with 'use strict'.
        options.strict = false;
        let function: Value<'js> = self
            .ctx
            .eval_with_options(wrapped, options)
            .map_err(|e| self.failure(e, None))?;
        let Some(function) = function.into_function() else {
            // Only possible when the source closes the wrapper's braces itself.
            return Err("the code must be the body of a function".to_owned());
        };

        let input = self.ctx.json_parse(input_json).map_err(|e| {
            let message = self.failure(e, Some("could not pass the input to the code"));
            if message.starts_with(&memory_message(self.run.limits)) {
                format!(
                    "the step's input does not fit in the code's {} of memory",
                    format_bytes(self.run.limits.memory_bytes)
                )
            } else {
                message
            }
        })?;

        let result: Value<'js> = function.call((input,)).map_err(|e| self.failure(e, None))?;
        let result = self.settle(result)?;
        self.to_json(result)
    }

    fn prepare_globals(&self, logs: &Arc<Mutex<LogBuffer>>) -> rquickjs::Result<Function<'js>> {
        // Pushed below the last line of the user's code, so that stack frames of these helpers
        // (on lines past it) are never taken for lines of the code.
        let padding = "\n".repeat(self.run.source_lines + 1);
        let setup: Function = self.ctx.eval(format!("{padding}{SANDBOX_SETUP}"))?;
        let logs = Arc::clone(logs);
        // The one Rust function the code can reach (through `console`): it appends a line,
        // nothing else. A non-string is ignored rather than converted, so no user code runs here.
        let sink = Function::new(self.ctx.clone(), move |line: Value<'_>| {
            let mut logs = logs.lock().unwrap_or_else(PoisonError::into_inner);
            if logs.truncated {
                return;
            }
            if let Some(line) = line.as_string().and_then(|s| s.to_string().ok()) {
                // Tests stand in for native work QuickJS cannot interrupt with this line.
                #[cfg(test)]
                if let Some(ms) = line.strip_prefix(tests::NATIVE_BLOCK) {
                    drop(logs);
                    thread::sleep(Duration::from_millis(ms.parse().unwrap_or(0)));
                    return;
                }
                logs.push(line);
            }
        })?;
        setup.call((sink,))
    }

    /// Waits for a returned promise by running the job queue; anything else is returned as is.
    fn settle(&self, value: Value<'js>) -> Result<Value<'js>, String> {
        let Some(promise) = value.as_promise().cloned() else {
            return Ok(value);
        };
        loop {
            match promise.state() {
                PromiseState::Resolved => {
                    return match promise.result::<Value<'js>>() {
                        Some(Ok(value)) => Ok(value),
                        Some(Err(e)) => Err(self.failure(e, None)),
                        None => Err("the code's promise lost its value".to_owned()),
                    };
                }
                PromiseState::Rejected => {
                    // `result` re-throws the rejection value so it is reported like any throw.
                    return match promise.result::<Value<'js>>() {
                        Some(Err(e)) => Err(self.failure(e, None)),
                        _ => Err("the code's promise was rejected".to_owned()),
                    };
                }
                PromiseState::Pending => {
                    if self.run.timed_out() {
                        return Err(timeout_message(self.run.limits));
                    }
                    if !self.ctx.execute_pending_job() {
                        return Err("the code returned a promise that never settles \
                                    (code steps have no timers or I/O to wait for)"
                            .to_owned());
                    }
                    // Promise jobs turn ordinary throws into rejections; a job itself fails only
                    // on the uncatchable interrupt or when memory runs out.
                    let pending = self.ctx.catch();
                    if !matches!(pending.type_of(), Type::Uninitialized | Type::Undefined) {
                        return Err(self.describe_thrown(pending, None));
                    }
                }
            }
        }
    }

    /// Converts the result with the safe JSON.stringify in the context, then parses the text in
    /// Rust.
    fn to_json(&self, value: Value<'js>) -> Result<serde_json::Value, String> {
        const NOT_JSON: &str = "the code returned a value that is not JSON";
        if value.is_undefined() {
            return Ok(serde_json::Value::Null);
        }
        let Some(stringify) = &self.stringify else {
            return Err("the code sandbox is not prepared".to_owned());
        };
        let json: Value<'js> = stringify
            .call((value.clone(),))
            .map_err(|e| self.failure(e, Some(NOT_JSON)))?;
        let Some(json) = json.as_string() else {
            // JSON.stringify gives undefined for functions and symbols.
            return Err(format!("{NOT_JSON}: a {}", value.type_name()));
        };
        let json = json.to_string().map_err(|e| format!("{NOT_JSON}: {e}"))?;
        if json.len() > self.run.limits.max_output_bytes {
            return Err(format!(
                "the code's output is larger than {} ({} of JSON)",
                format_bytes(self.run.limits.max_output_bytes),
                format_size(json.len())
            ));
        }
        serde_json::from_str(&json).map_err(|e| {
            if e.to_string().starts_with("recursion limit exceeded") {
                "the code returned a value nested more than 128 levels deep".to_owned()
            } else {
                format!("the code's output could not be read: {e}")
            }
        })
    }

    /// Describes a failed rquickjs call. `context`, when given, prefixes what is not a limit.
    fn failure(&self, error: rquickjs::Error, context: Option<&str>) -> String {
        if self.run.timed_out() {
            // Drop the pending "interrupted" exception; the timeout says it better.
            let _ = self.ctx.catch();
            return timeout_message(self.run.limits);
        }
        match error {
            rquickjs::Error::Exception => self.describe_thrown(self.ctx.catch(), context),
            other => format!("{}: {other}", context.unwrap_or("the code failed")),
        }
    }

    /// Describes a thrown JavaScript value, recognising the engine's own limit errors.
    fn describe_thrown(&self, thrown: Value<'js>, context: Option<&str>) -> String {
        let limits = self.run.limits;
        if self.run.timed_out() {
            return timeout_message(limits);
        }
        let Some(error) = thrown.as_object().filter(|o| o.is_error()) else {
            if thrown.is_null() {
                // QuickJS throws null when memory is so short that even its out-of-memory error
                // cannot be allocated; a deliberate `throw null` looks the same.
                return format!("{} (or it threw null)", memory_message(limits));
            }
            let value = self.display_value(&thrown);
            return match context {
                Some(context) => format!("{context}: it threw {value}"),
                None => format!("the code threw {value}"),
            };
        };
        let name = read_text(error, "name").unwrap_or_else(|| "Error".to_owned());
        let message = read_text(error, "message").unwrap_or_default();
        let location = read_text(error, "stack")
            .and_then(|stack| location(&stack, self.run.source_lines))
            .map(|location| format!(" ({location})"))
            .unwrap_or_default();
        let text = match (name.as_str(), message.as_str()) {
            ("InternalError", "out of memory") => return memory_message(limits),
            ("RangeError", "Maximum call stack size exceeded") => {
                return format!(
                    "stack overflow: the code recursed or nested values too deeply \
                     (over {} of stack){location}",
                    format_bytes(JS_STACK_BYTES),
                );
            }
            _ if message.is_empty() => format!("{name}{location}"),
            _ => format!("{name}: {message}{location}"),
        };
        match context {
            Some(context) => format!("{context}: {text}"),
            None => text,
        }
    }

    /// A thrown non-Error value: text as is, anything else as JSON when possible.
    fn display_value(&self, value: &Value<'js>) -> String {
        if let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) {
            return text;
        }
        let fallback = || format!("a {}", value.type_name());
        let Some(stringify) = &self.stringify else {
            return fallback();
        };
        match stringify.call::<_, Value<'js>>((value.clone(),)) {
            Ok(json) => match json.as_string().map(|s| s.to_string()) {
                Some(Ok(json)) if json.len() <= 1000 => json,
                _ => fallback(),
            },
            Err(_) => {
                // Leave no exception pending from the failed stringify.
                let _ = self.ctx.catch();
                fallback()
            }
        }
    }
}

/// Reads a property as text without failing; user-defined getters run under the same deadline.
fn read_text(object: &Object<'_>, key: &str) -> Option<String> {
    match object.get::<_, Option<Coerced<String>>>(key) {
        Ok(text) => text.map(|text| text.0),
        Err(_) => {
            // Leave no exception pending from a throwing getter or toString.
            let _ = object.ctx().catch();
            None
        }
    }
}

/// The user's line from the first frame of a QuickJS stack that points into the code, as
/// "line 3". The wrapper adds no line before the source, so lines match; the line just past the
/// source is the wrapper's closing brace, reached when the source ends too early; lines further
/// down belong to the sandbox's own helpers (see `prepare_globals`) and are skipped. Columns are
/// left out: QuickJS often reports the end of an expression rather than its start.
fn location(stack: &str, source_lines: usize) -> Option<String> {
    stack.lines().find_map(|frame| {
        let start = frame.find("eval_script:")? + "eval_script:".len();
        let digits: String = frame[start..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let line: usize = digits.parse().ok()?;
        if line <= source_lines {
            Some(format!("line {line}"))
        } else if line == source_lines + 1 {
            Some("at the end of the code".to_owned())
        } else {
            None
        }
    })
}

fn timeout_message(limits: &CodeLimits) -> String {
    format!("the code ran longer than {} ms", limits.timeout.as_millis())
}

fn memory_message(limits: &CodeLimits) -> String {
    format!(
        "the code used more than {} of memory",
        format_bytes(limits.memory_bytes)
    )
}

/// A configured size: "64 MiB", "256 KiB" or "1000 bytes".
fn format_bytes(bytes: usize) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A measured size: "2.0 MiB", "12.5 KiB" or "100 bytes".
fn format_size(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// `console.log(NATIVE_BLOCK + ms)` blocks the worker natively for `ms`, where no interrupt
    /// reaches it (see the console sink).
    pub(crate) const NATIVE_BLOCK: &str = "\u{0}test-native-block:";

    fn run(source: &str) -> Result<CodeOutput, CodeError> {
        run_code("test", source, &json!({}), &CodeLimits::default())
    }

    fn value(source: &str) -> serde_json::Value {
        match run(source) {
            Ok(output) => output.value,
            Err(e) => panic!("{source:?} failed: {e}"),
        }
    }

    fn error(source: &str, limits: &CodeLimits) -> CodeError {
        match run_code("test", source, &json!({}), limits) {
            Ok(output) => panic!("{source:?} returned {:?}", output.value),
            Err(e) => e,
        }
    }

    /// The sandbox still works after a run ended on a limit.
    fn assert_healthy() {
        assert_eq!(value("return [1, 2].map(x => x * 2)"), json!([2, 4]));
    }

    #[test]
    fn sandbox_reads_input() {
        let output = run_code(
            "test",
            "return input.steps.total.total * 2",
            &json!({"steps": {"total": {"total": 6}}}),
            &CodeLimits::default(),
        )
        .unwrap();
        assert_eq!(output.value, json!(12));
        assert!(output.logs.is_empty());
    }

    #[test]
    fn sandbox_input_is_a_plain_copy() {
        let input = json!({"a": [1, {"b": null}], "s": "é\u{0}x", "n": 1.5});
        let output = run_code("test", "return input", &input, &CodeLimits::default()).unwrap();
        assert_eq!(output.value, input);
        assert_eq!(
            value("return Object.getPrototypeOf(input) === Object.prototype"),
            json!(true)
        );
    }

    #[test]
    fn sandbox_returns_json_values() {
        assert_eq!(
            value("return {a: 1, b: [true, null, 'x'], c: {d: 2.5}}"),
            json!({"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}})
        );
        assert_eq!(value("return [1, 'two', [3]]"), json!([1, "two", [3]]));
        assert_eq!(value("return 'hello'"), json!("hello"));
        assert_eq!(value("return null"), json!(null));
        assert_eq!(value("return undefined"), json!(null));
        assert_eq!(value(""), json!(null));
        assert_eq!(value("// only a comment"), json!(null));
        assert_eq!(
            value("return new Date(0)"),
            json!("1970-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn sandbox_awaits_promises() {
        assert_eq!(value("return await Promise.resolve(5)"), json!(5));
        assert_eq!(
            value("const xs = await Promise.all([1, 2].map(async x => x + 1)); return xs"),
            json!([2, 3])
        );
        assert_eq!(
            value("return new Promise(resolve => resolve('later'))"),
            json!("later")
        );
        let e = error(
            "await null; throw new Error('async boom')",
            &CodeLimits::default(),
        );
        assert!(e.message.starts_with("Error: async boom"), "{e}");
        let e = error("return Promise.reject('nope')", &CodeLimits::default());
        assert!(e.message.contains("nope"), "{e}");
        let e = error("return new Promise(() => {})", &CodeLimits::default());
        assert!(e.message.contains("never settles"), "{e}");
    }

    #[test]
    fn sandbox_captures_console() {
        let output = run("console.log('hello', 42, {a: [1]}, null, undefined);\n\
             console.info('info'); console.warn('warn'); console.error(new Error('bad'));\n\
             console.log(); console.log(1n, Symbol('s'), () => 1);\n\
             const cyc = {}; cyc.self = cyc; console.log(cyc);\n\
             return 1")
        .unwrap();
        assert_eq!(output.value, json!(1));
        assert_eq!(
            output.logs,
            vec![
                "hello 42 {\"a\":[1]} null undefined",
                "info",
                "warn",
                "Error: bad",
                "",
                "1 Symbol(s) () => 1",
                "[object Object]",
            ]
        );
    }

    #[test]
    fn sandbox_caps_logs() {
        let limits = CodeLimits {
            max_log_bytes: 100,
            ..CodeLimits::default()
        };
        let output = run_code(
            "test",
            "for (let i = 0; i < 1000; i++) console.log('line ' + i); return 'done'",
            &json!({}),
            &limits,
        )
        .unwrap();
        assert_eq!(output.value, json!("done"));
        assert_eq!(output.logs.last().map(String::as_str), Some(LOGS_TRUNCATED));
        let kept: usize = output.logs[..output.logs.len() - 1]
            .iter()
            .map(String::len)
            .sum();
        assert!(kept <= 100, "{kept}");
        assert_eq!(output.logs[0], "line 0");
        assert_eq!(
            output.logs.iter().filter(|l| *l == LOGS_TRUNCATED).count(),
            1
        );
    }

    #[test]
    fn sandbox_keeps_logs_of_failed_runs() {
        let e = error(
            "console.log('before'); throw new Error('boom')",
            &CodeLimits::default(),
        );
        assert_eq!(e.logs, vec!["before"]);
        assert!(e.message.starts_with("Error: boom"), "{e}");
    }

    #[test]
    fn sandbox_reports_thrown_errors_with_location() {
        let e = error(
            "const x = 1;\nthrow new TypeError('bad ' + x)",
            &CodeLimits::default(),
        );
        assert_eq!(e.message, "TypeError: bad 1 (line 2)");
        assert_eq!(e.to_string(), e.message);
        let e = error("null.x", &CodeLimits::default());
        assert!(e.message.starts_with("TypeError: "), "{e}");
        assert!(e.message.contains("line 1"), "{e}");
        let e = error("throw 'plain'", &CodeLimits::default());
        assert_eq!(e.message, "the code threw plain");
        let e = error("throw {code: 7}", &CodeLimits::default());
        assert_eq!(e.message, "the code threw {\"code\":7}");
    }

    #[test]
    fn sandbox_locates_errors_in_the_code_not_in_its_helpers() {
        let e = error(
            "const o = {};\nconst x = 1n;\nreturn JSON.stringify({x})",
            &CodeLimits::default(),
        );
        assert!(e.message.starts_with("TypeError: "), "{e}");
        assert!(e.message.ends_with("(line 3)"), "{e}");
        let e = error(
            "\nJSON.stringify({a: 1}, () => {\n  throw new Error('in replacer')\n})",
            &CodeLimits::default(),
        );
        assert_eq!(e.message, "Error: in replacer (line 3)");
        let output = run(
            "console.log({toJSON() { return 1 }, get x() { return 2 }}, [1]);\n\
             console.log(Object.create(null), {get x() { throw new Error('getter') }});\n\
             return 'ok'",
        )
        .unwrap();
        assert_eq!(output.logs, vec!["1 [1]", "{} [object Object]"]);
        let output = run("return 10n").unwrap_err();
        assert!(
            output
                .message
                .starts_with("the code returned a value that is not JSON: TypeError: "),
            "{output}"
        );
    }

    #[test]
    fn sandbox_reports_syntax_errors() {
        let e = error("let x = ;\nreturn x", &CodeLimits::default());
        assert!(e.message.starts_with("SyntaxError: "), "{e}");
        assert!(e.message.contains("(line 1"), "{e}");
        let e = error("return 1;\n\nreturn (", &CodeLimits::default());
        assert!(e.message.starts_with("SyntaxError: "), "{e}");
        assert!(e.message.ends_with("(at the end of the code)"), "{e}");
        let e = error("let a = 1;\nlet a = 2;\nreturn a", &CodeLimits::default());
        assert!(e.message.starts_with("SyntaxError: "), "{e}");
        assert!(e.message.ends_with("(line 2)"), "{e}");
        // Closing the wrapper early cannot make the step run anything but a function body.
        let e = error("}); 42; ({", &CodeLimits::default());
        assert_eq!(e.message, "the code must be the body of a function");
        let e = error("return 1\0", &CodeLimits::default());
        assert!(e.message.contains("NUL"), "{e}");
    }

    #[test]
    fn sandbox_rejects_values_that_are_not_json() {
        for source in [
            "return () => 1",
            "return 10n",
            "const a = {}; a.a = a; return a",
            "return Symbol('x')",
        ] {
            let e = error(source, &CodeLimits::default());
            assert!(
                e.message
                    .starts_with("the code returned a value that is not JSON: "),
                "{source}: {e}"
            );
        }
        assert_healthy();
    }

    #[test]
    fn sandbox_limits_output_size() {
        let e = error("return 'x'.repeat(2e6)", &CodeLimits::default());
        assert!(e.message.contains("output is larger than 1 MiB"), "{e}");
        assert_healthy();
    }

    #[test]
    fn sandbox_stops_endless_loops() {
        let limits = CodeLimits {
            timeout: Duration::from_millis(300),
            ..CodeLimits::default()
        };
        for source in [
            "while (true) {}",
            "while (true) { try { for (;;) {} } catch (e) {} }",
            "async function f() { await null; return f() } return f()",
            "console.log('spinning'); for (;;) {}",
        ] {
            let started = Instant::now();
            let e = error(source, &limits);
            let elapsed = started.elapsed();
            assert_eq!(e.message, "the code ran longer than 300 ms", "{source}");
            assert!(elapsed < Duration::from_secs(5), "{source}: {elapsed:?}");
        }
        let e = error("console.log('spinning'); for (;;) {}", &limits);
        assert_eq!(e.logs, vec!["spinning"]);
        assert_healthy();
    }

    #[test]
    fn sandbox_stops_memory_bombs() {
        // Generous timeout: these must end on memory, however busy the machine is.
        let limits = CodeLimits {
            memory_bytes: 16 * MIB,
            timeout: Duration::from_secs(30),
            ..CodeLimits::default()
        };
        for source in [
            "let a = []; while (true) a.push(new Array(1e6).fill(1))",
            "let s = 'x'; while (true) s += s",
            "let a = []; while (true) a.push({n: a.length, s: 'item' + a.length})",
            "let m = new Map(); for (let i = 0; ; i++) m.set(i, [i])",
        ] {
            let e = error(source, &limits);
            // QuickJS-ng concatenates strings as ropes: doubling one reaches its length limit
            // before it uses the memory.
            assert!(
                e.message
                    .starts_with("the code used more than 16 MiB of memory")
                    || e.message.starts_with("InternalError: string too long"),
                "{source}: {e}"
            );
            assert_healthy();
        }
        let e = error(
            "let a = []; while (true) a.push(new Array(1e6).fill(1))",
            &limits,
        );
        assert_eq!(e.message, "the code used more than 16 MiB of memory");
        // Code that catches its out-of-memory errors and goes on is stopped by the timeout.
        let limits = CodeLimits {
            timeout: Duration::from_millis(500),
            ..limits
        };
        let e = error(
            "let a = []; while (true) { try { a.push(new Array(1e5).fill(1)) } catch (e) {} }",
            &limits,
        );
        assert_eq!(e.message, "the code ran longer than 500 ms");
        assert_healthy();
    }

    #[test]
    fn sandbox_stops_deep_recursion() {
        let e = error(
            "function f() { return f() } return f()",
            &CodeLimits::default(),
        );
        assert!(e.message.starts_with("stack overflow"), "{e}");
        let e = error(
            "function f(n) { return [f(n + 1)] } return f(0)",
            &CodeLimits::default(),
        );
        assert!(e.message.starts_with("stack overflow"), "{e}");
        // Deep data is refused cleanly too, in JSON.stringify or in parsing the output.
        let e = error(
            "let v = []; for (let i = 0; i < 100000; i++) v = [v]; return v",
            &CodeLimits::default(),
        );
        assert!(!e.message.is_empty());
        assert_healthy();
        // Ordinary recursion depth still works.
        assert_eq!(
            value("function sum(n) { return n === 0 ? 0 : n + sum(n - 1) } return sum(200)"),
            json!(20100)
        );
    }

    #[test]
    fn sandbox_survives_deeply_nested_values() {
        // QuickJS's own JSON.stringify would recurse natively until the thread's stack overflows
        // and the process aborts; the sandbox's JSON.stringify stops at the stack limit instead.
        let deep = "let v = []; for (let i = 0; i < 60000; i++) v = [v];";
        assert_eq!(
            value(&format!(
                "{deep} try {{ JSON.stringify(v); return 'no error' }} \
                 catch (e) {{ return e instanceof RangeError }}"
            )),
            json!(true)
        );
        let output = run(&format!("{deep} console.log(v); return 1")).unwrap();
        assert_eq!(output.logs, vec!["[unprintable]"]);
        let e = error(&format!("{deep} return v"), &CodeLimits::default());
        assert!(e.message.starts_with("stack overflow"), "{e}");
        let e = error(
            "let v = []; for (let i = 0; i < 200; i++) v = [v]; return v",
            &CodeLimits::default(),
        );
        assert_eq!(
            e.message,
            "the code returned a value nested more than 128 levels deep"
        );
        assert_healthy();
    }

    #[test]
    fn sandbox_json_stringify_keeps_its_behaviour() {
        assert_eq!(
            value(
                "const o = {b: 1, a: [1, {c: 2, d: 3}], n: new Number(4), u: undefined, \
                 f() {}, t: {toJSON(key) { return 'T:' + key }}};\n\
                 return [\n\
                   JSON.stringify(o),\n\
                   JSON.stringify(o, ['a', 'c', 'b', 'a']),\n\
                   JSON.stringify(o, (k, v) => typeof v === 'number' ? v * 10 : v),\n\
                   JSON.stringify([1, [2]], null, 1),\n\
                   JSON.stringify('s'), JSON.stringify(undefined) === undefined,\n\
                   JSON.stringify({__proto__: null, x: 1}, ['__proto__', 'x']),\n\
                   JSON.stringify.name, JSON.stringify.length,\n\
                 ]"
            ),
            json!([
                r#"{"b":1,"a":[1,{"c":2,"d":3}],"n":4,"t":"T:t"}"#,
                r#"{"a":[1,{"c":2}],"b":1}"#,
                r#"{"b":10,"a":[10,{"c":20,"d":30}],"n":4,"t":"T:t"}"#,
                "[\n 1,\n [\n  2\n ]\n]",
                "\"s\"",
                true,
                r#"{"x":1}"#,
                "stringify",
                3
            ])
        );
    }

    #[test]
    fn sandbox_stops_catastrophic_regular_expressions_at_the_timeout() {
        // QuickJS-ng's regular expression engine calls the interrupt handler while it
        // backtracks (QuickJS before it did not: such a run went on for minutes, and four of them
        // refused every code step of the server; issue 10, finding 2).
        let limits = CodeLimits {
            timeout: Duration::from_millis(200),
            ..CodeLimits::default()
        };
        let started = Instant::now();
        let e = error(
            "console.log('before'); return /^(a+)+$/.test('a'.repeat(31) + 'b')",
            &limits,
        );
        let elapsed = started.elapsed();
        assert_eq!(e.message, "the code ran longer than 200 ms");
        assert_eq!(e.logs, vec!["before"]);
        assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
        // Stopped, not abandoned: nothing keeps running behind.
        assert_eq!(runaways_of("test"), 0);
        assert_healthy();
        // Many at once leave every later code step working.
        let handles: Vec<_> = (0..8)
            .map(|_| {
                thread::spawn(move || {
                    error("return /^(a+)+$/.test('a'.repeat(40) + 'b')", &limits).message
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), "the code ran longer than 200 ms");
        }
        assert_healthy();
        assert_eq!(
            run_code("test", "return 'ok'", &json!({}), &CodeLimits::default())
                .unwrap()
                .value,
            json!("ok")
        );
    }

    #[test]
    fn code_that_cannot_be_stopped_denies_only_its_own_automation() {
        let limits = CodeLimits {
            timeout: Duration::from_millis(100),
            ..CodeLimits::default()
        };
        let block = "console.log('before'); console.log('\\u0000test-native-block:3000')";
        let started = Instant::now();
        for _ in 0..MAX_RUNAWAY_PER_OWNER {
            let e = run_code("runaway/test", block, &json!({}), &limits).unwrap_err();
            assert_eq!(e.message, "the code ran longer than 100 ms");
            assert_eq!(e.logs, vec!["before"]);
        }
        // Given up a second after the timeout, not when the native work ends.
        assert!(started.elapsed() < Duration::from_millis(2900));
        let e = run_code("runaway/test", "return 1", &json!({}), &limits).unwrap_err();
        assert!(e.message.contains("of this automation"), "{e}");
        // Another automation's code runs as usual.
        let other = run_code("other/test", "return 2", &json!({}), &limits).unwrap();
        assert_eq!(other.value, json!(2));
        // Once the abandoned workers end, the automation runs code again.
        let deadline = Instant::now() + Duration::from_secs(10);
        while runaways_of("runaway/test") > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        let again = run_code("runaway/test", "return 3", &json!({}), &limits).unwrap();
        assert_eq!(again.value, json!(3));
    }

    #[test]
    fn sandbox_cannot_block_the_thread() {
        // Atomics.wait would park the worker where no interrupt reaches it.
        let started = Instant::now();
        let e = error(
            "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)",
            &CodeLimits::default(),
        );
        assert!(e.message.starts_with("TypeError: "), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn sandbox_reports_input_too_large_for_memory() {
        let limits = CodeLimits {
            memory_bytes: 2 * MIB,
            ..CodeLimits::default()
        };
        let input = json!({"big": "x".repeat(4 * MIB)});
        let e = run_code("test", "return 1", &input, &limits).unwrap_err();
        assert_eq!(
            e.message,
            "the step's input does not fit in the code's 2 MiB of memory"
        );
        assert_eq!(
            run_code(
                "test",
                "return input.big.length",
                &json!({"big": "xy"}),
                &limits
            )
            .unwrap()
            .value,
            json!(2)
        );
    }

    #[test]
    fn sandbox_has_no_host_objects() {
        for name in [
            "require",
            "process",
            "fetch",
            "std",
            "os",
            "XMLHttpRequest",
            "module",
            "exports",
            "Deno",
            "Bun",
            "setTimeout",
            "setInterval",
            "performance",
            "navigator",
            "print",
            "scriptArgs",
            "WebAssembly",
            "importScripts",
        ] {
            assert_eq!(
                value(&format!("return typeof {name}")),
                json!("undefined"),
                "{name}"
            );
        }
        let e = error("return import('os')", &CodeLimits::default());
        assert!(!e.message.is_empty());
    }

    #[test]
    fn sandbox_globals_are_only_standard_intrinsics() {
        // ECMAScript globals (with Annex B escape/unescape), QuickJS's InternalError (its
        // error type for engine limits) and our console. Anything else is a host object.
        const ALLOWED: &[&str] = &[
            "globalThis",
            "Infinity",
            "NaN",
            "undefined",
            "eval",
            "isFinite",
            "isNaN",
            "parseFloat",
            "parseInt",
            "decodeURI",
            "decodeURIComponent",
            "encodeURI",
            "encodeURIComponent",
            "escape",
            "unescape",
            "AggregateError",
            "Array",
            "ArrayBuffer",
            "Atomics",
            "BigInt",
            "BigInt64Array",
            "BigUint64Array",
            "Boolean",
            "DataView",
            "Date",
            "Error",
            "EvalError",
            "FinalizationRegistry",
            "Float16Array",
            "Float32Array",
            "Float64Array",
            "Function",
            "Int8Array",
            "Int16Array",
            "Int32Array",
            "Iterator",
            "JSON",
            "Map",
            "Math",
            "Number",
            "Object",
            "Promise",
            "Proxy",
            "RangeError",
            "ReferenceError",
            "Reflect",
            "RegExp",
            "Set",
            "SharedArrayBuffer",
            "String",
            "Symbol",
            "SyntaxError",
            "TypeError",
            "Uint8Array",
            "Uint8ClampedArray",
            "Uint16Array",
            "Uint32Array",
            "URIError",
            "WeakMap",
            "WeakRef",
            "WeakSet",
            "InternalError",
            // ES2026 explicit resource management (QuickJS-ng): plain objects, no host access.
            "SuppressedError",
            "DisposableStack",
            "AsyncDisposableStack",
            "console",
        ];
        let names = value("return Object.getOwnPropertyNames(globalThis)");
        let names: Vec<&str> = names
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let unexpected: Vec<&&str> = names.iter().filter(|n| !ALLOWED.contains(n)).collect();
        assert!(unexpected.is_empty(), "unexpected globals: {unexpected:?}");
        assert!(names.contains(&"console"));
        assert!(names.contains(&"JSON"));

        // The classic escape to the global object finds the same, sandboxed one.
        assert_eq!(
            value(
                "const g = this.constructor.constructor('return this')();\n\
                 return [g === globalThis, Object.getOwnPropertyNames(g).length \
                 === Object.getOwnPropertyNames(globalThis).length, typeof g.require]"
            ),
            json!([true, true, "undefined"])
        );
        // Symbol-keyed globals are standard too.
        assert_eq!(
            value("return Object.getOwnPropertySymbols(globalThis).map(String)"),
            json!(["Symbol(Symbol.toStringTag)"])
        );
    }

    #[test]
    fn sandbox_runs_are_isolated() {
        assert_eq!(value("globalThis.leak = 1; return 1"), json!(1));
        assert_eq!(value("return typeof leak"), json!("undefined"));
        assert_eq!(
            value("console.log = null; Array.prototype.map = null; return 1"),
            json!(1)
        );
        assert_healthy();
    }

    #[test]
    fn sandbox_console_sink_only_takes_strings() {
        // Replacing the formatter's helpers cannot hand the sink anything but strings.
        let output = run("String = () => ({}); JSON.stringify = () => { throw 1 };\n\
             console.log({a: 1}, 2); return 1")
        .unwrap();
        assert_eq!(output.logs, vec!["{\"a\":1} 2"]);
    }

    #[test]
    fn sandbox_sizes_are_readable() {
        assert_eq!(format_bytes(64 * MIB), "64 MiB");
        assert_eq!(format_bytes(256 * KIB), "256 KiB");
        assert_eq!(format_bytes(1000), "1000 bytes");
        assert_eq!(format_size(2_000_002), "1.9 MiB");
        assert_eq!(CodeLimits::default().memory_bytes, 64 * MIB);
        assert_eq!(CodeLimits::default().timeout, Duration::from_secs(5));
    }
}
