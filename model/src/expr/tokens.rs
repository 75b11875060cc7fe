//! The code inside a tag (or a bare condition) as minijinja's own tokenizer reads it: the one
//! tokenizer behind finding references here and the engine's "which name is missing" diagnosis.

use std::borrow::Cow;

use minijinja::machinery::{Token, WhitespaceConfig, tokenize};

/// What the readers of code need to tell apart; everything else is [`CodeToken::Other`].
#[derive(Clone, Debug, PartialEq)]
pub enum CodeToken<'a> {
    Ident(&'a str),
    /// A string literal's value (escapes resolved).
    Str(Cow<'a, str>),
    Int(i64),
    Dot,
    Pipe,
    Comma,
    /// `=` (not `==`).
    Assign,
    BracketOpen,
    BracketClose,
    ParenOpen,
    ParenClose,
    Other,
}

/// The tokens of `code`, up to the first one minijinja cannot read. A closing `}}` or `%}` ends
/// them too: it does not belong inside code, and minijinja's tokenizer must not read on past it
/// (2.24 panics with an empty lexer stack).
pub fn code_tokens(code: &str) -> Vec<CodeToken<'_>> {
    let mut out = Vec::new();
    for item in tokenize(code, true, Default::default(), WhitespaceConfig::default()) {
        let Ok((token, _)) = item else { break };
        out.push(match token {
            Token::VariableEnd | Token::BlockEnd => break,
            Token::Ident(name) => CodeToken::Ident(name),
            Token::Str(s) => CodeToken::Str(Cow::Borrowed(s)),
            Token::String(s) => CodeToken::Str(Cow::Owned(s.into())),
            Token::Int(n) => i64::try_from(n).map_or(CodeToken::Other, CodeToken::Int),
            Token::Dot => CodeToken::Dot,
            Token::Pipe => CodeToken::Pipe,
            Token::Comma => CodeToken::Comma,
            Token::Assign => CodeToken::Assign,
            Token::BracketOpen => CodeToken::BracketOpen,
            Token::BracketClose => CodeToken::BracketClose,
            Token::ParenOpen => CodeToken::ParenOpen,
            Token::ParenClose => CodeToken::ParenClose,
            _ => CodeToken::Other,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use CodeToken::*;

    #[test]
    fn code_reads_as_minijinja_reads_it() {
        assert_eq!(
            code_tokens(r#" steps.total["a b"][0] | default(1.5) == x "#),
            [
                Ident("steps"),
                Dot,
                Ident("total"),
                BracketOpen,
                Str("a b".into()),
                BracketClose,
                BracketOpen,
                Int(0),
                BracketClose,
                Pipe,
                Ident("default"),
                ParenOpen,
                Other,
                ParenClose,
                Other,
                Ident("x"),
            ]
        );
        assert_eq!(
            code_tokens("a.0.b"),
            [Ident("a"), Dot, Int(0), Dot, Ident("b")]
        );
        assert_eq!(code_tokens(r#"'it\'s'"#), [Str("it's".into())]);
        assert_eq!(
            code_tokens("set x = 1"),
            [Ident("set"), Ident("x"), Assign, Int(1)]
        );
    }

    #[test]
    fn reading_stops_at_what_cannot_be_read() {
        assert_eq!(code_tokens("a }} b"), [Ident("a")]);
        // In an expression `%}` is `%` and `}`: read on, without harm.
        assert_eq!(code_tokens("a %} b").last(), Some(&Ident("b")));
        assert_eq!(code_tokens("a 'open"), [Ident("a")]);
        assert!(code_tokens("}}{{").is_empty());
    }
}
