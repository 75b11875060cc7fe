//! One run of a code step inside QuickJS: the globals it gets, the wrapper around its source,
//! awaiting its promise, and turning what it returns or throws into JSON or a message.

use super::*;

/// The log lines of one run, capped in bytes.
pub(super) struct LogBuffer {
    lines: Vec<String>,
    bytes: usize,
    max_bytes: usize,
    truncated: bool,
}

impl LogBuffer {
    pub(super) fn new(max_bytes: usize) -> Self {
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

    pub(super) fn take_lines(&mut self) -> Vec<String> {
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
const SANDBOX_SETUP: &str = include_str!("prelude.js");

/// Opening of the wrapper around the user's source. Async so that `await` works in the body; a
/// body that never awaits behaves exactly like a plain function.
pub(super) const WRAPPER_START: &str = "(async function (input) {";
/// The newline keeps a `//` comment on the last line of the body from eating the closing brace.
pub(super) const WRAPPER_END: &str = "\n})";

/// What decides how a failure is reported.
pub(super) struct Run<'a> {
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
pub(super) fn execute(
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
pub(super) struct Session<'js, 'a> {
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
pub(super) fn read_text(object: &Object<'_>, key: &str) -> Option<String> {
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
pub(super) fn location(stack: &str, source_lines: usize) -> Option<String> {
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
