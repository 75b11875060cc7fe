//! Splitting a template into text and tags, as minijinja's lexer would (quotes inside tags
//! honoured, `{% raw %}` bodies kept as text).

/// A piece of a template string, as minijinja's lexer would split it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplatePart<'a> {
    /// Literal text (including the body of a `{% raw %}` block, and an unterminated tag).
    Text(&'a str),
    /// The inside of `{{ ... }}`, without whitespace-control markers.
    Expression(&'a str),
    /// The inside of `{% ... %}`, without whitespace-control markers.
    Statement(&'a str),
    /// The inside of `{# ... #}`.
    Comment(&'a str),
}

/// Whether minijinja would treat any part of `s` as template syntax. Strings without it must be
/// used as they are: rendering would only risk changing them (minijinja drops a trailing newline).
pub fn has_expression(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Splits `s` into text and tags. Quotes inside tags are honoured, so `{{ "}}" }}` is one expression.
pub fn template_parts(s: &str) -> Vec<TemplatePart<'_>> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some((before, tag, inner, after)) = next_tag(rest) {
        if !before.is_empty() {
            parts.push(TemplatePart::Text(before));
        }
        rest = after;
        match tag {
            b'{' => parts.push(TemplatePart::Expression(inner)),
            b'#' => parts.push(TemplatePart::Comment(inner)),
            _ => {
                parts.push(TemplatePart::Statement(inner));
                if inner.trim() == "raw" {
                    let (body, after_raw) = split_raw(rest);
                    if !body.is_empty() {
                        parts.push(TemplatePart::Text(body));
                    }
                    rest = after_raw;
                }
            }
        }
    }
    if !rest.is_empty() {
        parts.push(TemplatePart::Text(rest));
    }
    parts
}

/// The expression when `s` is exactly one `{{ expr }}` (nothing around it, not even spaces):
/// such a string yields the expression's typed value instead of text.
pub fn single_expression(s: &str) -> Option<&str> {
    match template_parts(s).as_slice() {
        [TemplatePart::Expression(inner)] => Some(inner.trim()),
        _ => None,
    }
}

/// The next `{{`, `{%` or `{#` tag in `s`: (text before, tag byte, inner, text after).
/// `None` when there is none, or it is not closed (then it is all text).
fn next_tag(s: &str) -> Option<(&str, u8, &str, &str)> {
    let bytes = s.as_bytes();
    let mut search = 0;
    loop {
        let open = search + s[search..].find('{')?;
        let tag = *bytes.get(open + 1)?;
        let close: &[u8] = match tag {
            b'{' => b"}}",
            b'%' => b"%}",
            b'#' => b"#}",
            _ => {
                search = open + 1;
                continue;
            }
        };
        let body_start = open + 2;
        let body_end = find_close(bytes, body_start, close, tag != b'#')?;
        let inner = strip_markers(&s[body_start..body_end], tag != b'#');
        return Some((&s[..open], tag, inner, &s[body_end + 2..]));
    }
}

fn find_close(bytes: &[u8], from: usize, close: &[u8], honour_quotes: bool) -> Option<usize> {
    let mut i = from;
    while i + 1 < bytes.len() {
        let c = bytes[i];
        if honour_quotes && (c == b'"' || c == b'\'') {
            i = skip_string(bytes, i);
        } else if bytes[i..].starts_with(close) {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// Drops whitespace-control markers (`{{-`, `-}}`, `{%+`, ...).
fn strip_markers(inner: &str, active: bool) -> &str {
    if !active {
        return inner;
    }
    let inner = inner
        .strip_prefix('-')
        .or_else(|| inner.strip_prefix('+'))
        .unwrap_or(inner);
    inner
        .strip_suffix('-')
        .or_else(|| inner.strip_suffix('+'))
        .unwrap_or(inner)
}

/// After `{% raw %}`: the verbatim body and what follows `{% endraw %}`.
fn split_raw(s: &str) -> (&str, &str) {
    let mut search = 0;
    while let Some(offset) = s[search..].find("{%") {
        let open = search + offset;
        if let Some((_, b'%', inner, after)) = next_tag(&s[open..])
            && inner.trim() == "endraw"
        {
            return (&s[..open], after);
        }
        search = open + 2;
    }
    (s, "")
}

/// `bytes[start]` is a quote; returns the index just past the closing quote, or the end of input
/// when the string is not closed.
fn skip_string(bytes: &[u8], start: usize) -> usize {
    string_end(bytes, start).unwrap_or(bytes.len())
}

/// `bytes[start]` is a quote; the index just past its closing quote, if there is one.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = *bytes.get(start)?;
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}
