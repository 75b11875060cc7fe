use super::worker::{MAX_RUNAWAY_PER_OWNER, runaways_of};
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
