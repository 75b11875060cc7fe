//! The limits inside a render that minijinja's fuel does not see: filter arguments that would
//! walk or allocate without bound, printf widths, output size.

use super::*;

/// Largest count `batch` and `slice` accept (they allocate it up front).
pub(super) const MAX_COUNT: i64 = 100_000;

/// Largest indentation (`indent`, `tojson(indent=...)`) or printf width and precision (`format`):
/// each allocates its size up front, and a huge allocation aborts the process.
pub(super) const MAX_WIDTH: i64 = 1_000;

/// Builtin filters re-registered behind [`check_filter_args`]: those that walk a whole list or
/// allocate a size they are given. (`length`, `first` and the string filters do neither.)
pub(super) const GUARDED_FILTERS: &[&str] = &[
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
pub(super) const SNIPPET_CHARS: usize = 100;

/// minijinja's cap on `range()`, restated so the error can say it.
pub(super) const MAX_RANGE: usize = 100_000;

/// Collects rendered text, refusing to grow past `limit` bytes.
pub(super) struct CappedWriter {
    pub(super) buf: Vec<u8>,
    pub(super) limit: usize,
    pub(super) overflowed: bool,
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
pub(super) struct CountingWriter {
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
pub(super) fn json_size(value: &Value, limit: usize) -> Option<usize> {
    let mut counter = CountingWriter { count: 0, limit };
    serde_json::to_writer(&mut counter, value).ok()?;
    Some(counter.count)
}

/// The builtin filter `name` as a callable value, for [`guard`] to wrap.
pub(super) fn builtin_filter(name: &str) -> Option<minijinja::Value> {
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
pub(super) fn guard(
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
pub(super) fn check_filter_args(name: &str, args: &[minijinja::Value]) -> Result<(), String> {
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
pub(super) fn check_items(value: &minijinja::Value, budget: &mut usize) -> Result<(), String> {
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
pub(super) fn spend_work() -> Result<(), String> {
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
pub(super) fn check_printf_widths(format: &str) -> Result<(), String> {
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
