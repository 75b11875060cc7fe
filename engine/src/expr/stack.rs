//! Where a render runs: on a thread with a stack sized for its fuel, with a work budget of its own.

use super::*;
use std::cell::Cell;

/// Stack of the thread a render runs on, per unit of fuel. minijinja prints, serializes, compares
/// and drops values recursively, and fuel lets a template nest a value thousands of levels deep
/// (`{% set a = [a] %}` written out again and again); on a usual 2 MiB stack printing it aborts
/// the whole process. Measured in a debug build, such a value needs about 3 KiB of stack per
/// level and at least 2 units of fuel per level. Only touched pages are committed, so a generous
/// reservation costs nothing in the common case.
pub(super) const STACK_BYTES_PER_FUEL: usize = 4 << 10;
pub(super) const MIN_STACK_BYTES: usize = 64 << 20;
/// Past fuel 262,144 the stack stops growing and the margin above shrinks.
pub(super) const MAX_STACK_BYTES: usize = 1 << 30;

/// Most items (counted through nested lists and maps) a value may hold when it is printed or
/// handed to a builtin filter. minijinja's fuel counts instructions, not the work one filter or
/// one print does, and `[1] * 10**12` makes a cheap lazy list that `sum` or printing would walk
/// for hours.
pub(super) const MAX_ITEMS: usize = 1_000_000;

/// Items that filters and printing may walk in one render call, per unit of fuel: a second fuel
/// for the work inside builtins that minijinja's own fuel does not see.
pub(super) const WORK_PER_FUEL: u64 = 40;

thread_local! {
    /// (left, total) work of the render running on this thread; every render sets it afresh
    /// (see [`on_big_stack`]), so this is per call.
    pub(super) static WORK: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
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

/// Runs `f` on a scoped thread with a stack sized for `fuel` (see [`STACK_BYTES_PER_FUEL`]) and a
/// fresh work budget (see [`WORK_PER_FUEL`]); a panic inside becomes an error instead of
/// unwinding into the caller.
pub(super) fn on_big_stack<T: Send>(
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
