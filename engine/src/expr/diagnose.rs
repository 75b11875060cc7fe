//! Saying which name a failing template reads that the context does not have, read with
//! minijinja's own tokenizer ([`model::code_tokens`]).

use super::*;
use model::{CodeToken as Token, code_tokens};

/// Words that are syntax, not variables.
pub(super) const KEYWORDS: &[&str] = &[
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
pub(super) const IMPLICIT: &[&str] = &["loop", "caller", "varargs", "kwargs", "self"];

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Segment {
    Key(String),
    Index(i64),
}

/// Names a statement binds: `for a, b in`, `set x =`, `with x = ...`, `macro m(p, q=1)`.
pub(super) fn bound_names<'a>(statement: &[Token<'a>], bound: &mut Vec<&'a str>) {
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
                    if *first == "macro" || next == Some(&Token::Assign) {
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
pub(super) fn name_paths(code: &[Token<'_>]) -> Vec<Vec<Segment>> {
    let mut paths = Vec::new();
    let mut i = 0;
    while i < code.len() {
        let Token::Ident(name) = code[i] else {
            i += 1;
            continue;
        };
        let previous = i.checked_sub(1).map(|p| &code[p]);
        let before_previous = i.checked_sub(2).map(|p| &code[p]);
        let is_attribute = previous == Some(&Token::Dot);
        let is_filter = previous == Some(&Token::Pipe);
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
                (Some(Token::Dot), Some(Token::Ident(key)), _) => {
                    path.push(Segment::Key((*key).to_owned()));
                    j += 2;
                }
                (Some(Token::Dot), Some(Token::Int(index)), _) => {
                    path.push(Segment::Index(*index));
                    j += 2;
                }
                (Some(Token::BracketOpen), Some(Token::Str(key)), Some(Token::BracketClose)) => {
                    path.push(Segment::Key(key.to_string()));
                    j += 3;
                }
                (Some(Token::BracketOpen), Some(Token::Int(index)), Some(Token::BracketClose)) => {
                    path.push(Segment::Index(*index));
                    j += 3;
                }
                _ => break,
            }
        }
        match code.get(j) {
            Some(Token::ParenOpen) => {
                path.pop();
            }
            Some(Token::Assign) if path.len() == 1 => {
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
pub(super) fn first_missing(ctx: &Value, path: &[Segment]) -> Option<usize> {
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

pub(super) fn path_text(path: &[Segment]) -> String {
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
pub(super) fn code_pieces(source: &str, expression: bool, line: Option<usize>) -> Vec<&str> {
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

pub(super) fn unknown_name(
    source: &str,
    expression: bool,
    line: Option<usize>,
    ctx: &Value,
) -> Option<String> {
    let mut bound: Vec<&str> = Vec::new();
    if !expression {
        for part in model::template_parts(source) {
            if let model::TemplatePart::Statement(code) = part {
                bound_names(&code_tokens(code), &mut bound);
            }
        }
    }
    let root = |path: &[Segment]| match path.first() {
        Some(Segment::Key(root)) => root.clone(),
        _ => String::new(),
    };
    let paths: Vec<Vec<Segment>> = code_pieces(source, expression, line)
        .into_iter()
        .flat_map(|code| name_paths(&code_tokens(code)))
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
pub(super) fn snippet(source: &str, expression: bool, line: Option<usize>) -> String {
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
