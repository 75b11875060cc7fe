//! minijinja values to JSON, and the filters Slipway adds (`fromjson`, `b64encode`, `b64decode`).

use super::*;

/// A minijinja value as JSON: numbers stay numbers, maps become objects (keys as strings),
/// none/undefined become null, anything else becomes its text.
pub(super) fn to_json(value: &minijinja::Value, depth: usize) -> Result<Value, String> {
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

pub(super) fn number_to_json(value: &minijinja::Value) -> Value {
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
pub(super) fn fromjson(text: &str) -> Result<minijinja::Value, minijinja::Error> {
    let parsed: Value = serde_json::from_str(text).map_err(|e| {
        minijinja::Error::new(ErrorKind::InvalidOperation, format!("fromjson: {e}"))
    })?;
    Ok(minijinja::Value::from_serialize(&parsed))
}

/// `{{ (user ~ ":" ~ password) | b64encode }}`, as Basic authentication wants.
pub(super) fn b64encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// `{{ encoded | b64decode }}`: standard base64 (padding optional) to UTF-8 text.
pub(super) fn b64decode(text: &str) -> Result<String, minijinja::Error> {
    let invalid = |why: String| minijinja::Error::new(ErrorKind::InvalidOperation, why);
    let trimmed = text.trim().trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the result is not UTF-8 text".into()))
}
