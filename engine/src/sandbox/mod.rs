//! The code step sandbox: JavaScript on QuickJS with memory and time limits (PRODUCT.md §4).
//!
//! This module owns running the `source` of a `code` step: a fresh QuickJS runtime per call, with
//! only the standard ECMAScript intrinsics plus a `console` that writes to the step's logs, and
//! the limits on memory, time, native stack, output size and log size. Nothing of the host (files,
//! network, environment, modules, timers) is reachable from the code.
//!
//! [`worker`] runs the code on a thread of its own and stops it (or gives it up) at its timeout;
//! [`session`] is one run inside QuickJS; `prelude.js` is the JavaScript set up before the code.

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

mod session;
#[cfg(test)]
pub(crate) mod tests;
mod worker;

pub use worker::run_code;

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

pub(super) fn timeout_message(limits: &CodeLimits) -> String {
    format!("the code ran longer than {} ms", limits.timeout.as_millis())
}

pub(super) fn memory_message(limits: &CodeLimits) -> String {
    format!(
        "the code used more than {} of memory",
        format_bytes(limits.memory_bytes)
    )
}

/// A configured size: "64 MiB", "256 KiB" or "1000 bytes".
pub(super) fn format_bytes(bytes: usize) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// A measured size: "2.0 MiB", "12.5 KiB" or "100 bytes".
pub(super) fn format_size(bytes: usize) -> String {
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}
