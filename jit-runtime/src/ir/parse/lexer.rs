//! The lexer of the IR text: identifiers, unsigned numbers and punctuation, with 1-based positions. Whitespace and
//! `#` comments (to the end of the line) separate tokens and are dropped.

use crate::error::{Error, Result};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    /// `[A-Za-z_][A-Za-z0-9_]*`: value names, op names, dtypes, keywords, `true`, `nan`, ...
    Ident,
    /// Unsigned decimal digits.
    Int,
    /// Unsigned digits with a fraction and/or an exponent (`1.5`, `1e-7`, `2.5E+10`).
    Float,
    /// `-` (signs are separate tokens; the parser joins them to the number that follows).
    Minus,
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Semi,
    Dot,
    Comma,
    Eq,
    /// The end of the text.
    Eof,
}

impl Tok {
    /// How an error message names this kind of token.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Tok::Ident => "a name",
            Tok::Int => "an integer",
            Tok::Float => "a number",
            Tok::Minus => "`-`",
            Tok::LBrace => "`{`",
            Tok::RBrace => "`}`",
            Tok::LParen => "`(`",
            Tok::RParen => "`)`",
            Tok::LBracket => "`[`",
            Tok::RBracket => "`]`",
            Tok::Colon => "`:`",
            Tok::Semi => "`;`",
            Tok::Dot => "`.`",
            Tok::Comma => "`,`",
            Tok::Eq => "`=`",
            Tok::Eof => "the end of the text",
        }
    }
}

/// A token, its text and where it starts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token<'a> {
    pub kind: Tok,
    pub text: &'a str,
    pub line: usize,
    pub column: usize,
}

impl Token<'_> {
    /// The token as an error message shows it: its text in backticks, or what it is.
    pub(super) fn show(&self) -> String {
        match self.kind {
            Tok::Ident | Tok::Int | Tok::Float => format!("`{}`", self.text),
            k => k.describe().to_string(),
        }
    }

    /// A parse error at this token.
    pub(super) fn error(&self, message: impl Into<String>) -> Error {
        Error::Parse { line: self.line, column: self.column, message: message.into() }
    }
}

struct Cursor<'a> {
    text: &'a str,
    /// Byte offset of the next char.
    at: usize,
    line: usize,
    column: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.text[self.at..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.at += c.len_utf8();
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }

    fn eat_digits(&mut self) -> usize {
        let mut n = 0;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
            n += 1;
        }
        n
    }

    fn error(&self, message: impl Into<String>) -> Error {
        Error::Parse { line: self.line, column: self.column, message: message.into() }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits `text` into tokens, ending with one [`Tok::Eof`].
pub(super) fn lex(text: &str) -> Result<Vec<Token<'_>>> {
    let mut cur = Cursor { text, at: 0, line: 1, column: 1 };
    let mut tokens = Vec::new();
    loop {
        // Whitespace and comments.
        while let Some(c) = cur.peek() {
            if c.is_whitespace() {
                cur.bump();
            } else if c == '#' {
                while cur.peek().is_some_and(|c| c != '\n') {
                    cur.bump();
                }
            } else {
                break;
            }
        }
        let (start, line, column) = (cur.at, cur.line, cur.column);
        let Some(c) = cur.peek() else {
            tokens.push(Token { kind: Tok::Eof, text: "", line, column });
            return Ok(tokens);
        };
        let kind = if c.is_ascii_alphabetic() || c == '_' {
            while cur.peek().is_some_and(is_ident_char) {
                cur.bump();
            }
            Tok::Ident
        } else if c.is_ascii_digit() {
            let mut kind = Tok::Int;
            cur.eat_digits();
            if cur.peek() == Some('.') && cur.peek2().is_some_and(|c| c.is_ascii_digit()) {
                cur.bump();
                cur.eat_digits();
                kind = Tok::Float;
            }
            if matches!(cur.peek(), Some('e' | 'E')) {
                cur.bump();
                if matches!(cur.peek(), Some('+' | '-')) {
                    cur.bump();
                }
                if cur.eat_digits() == 0 {
                    return Err(cur.error("malformed number: expected digits in the exponent"));
                }
                kind = Tok::Float;
            }
            if cur.peek().is_some_and(is_ident_char) {
                return Err(cur.error(format!("malformed number `{}`", &text[start..cur.at])));
            }
            kind
        } else {
            let kind = match c {
                '-' => Tok::Minus,
                '{' => Tok::LBrace,
                '}' => Tok::RBrace,
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                '[' => Tok::LBracket,
                ']' => Tok::RBracket,
                ':' => Tok::Colon,
                ';' => Tok::Semi,
                '.' => Tok::Dot,
                ',' => Tok::Comma,
                '=' => Tok::Eq,
                _ => return Err(cur.error(format!("unexpected character {c:?}"))),
            };
            cur.bump();
            kind
        };
        tokens.push(Token { kind, text: &text[start..cur.at], line, column });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Tok, &str)> {
        lex(text).unwrap().into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn numbers_and_punctuation() {
        assert_eq!(
            kinds("f32[3]. 1.5e-7 -2 1e16 x_1 # comment\n,"),
            vec![
                (Tok::Ident, "f32"),
                (Tok::LBracket, "["),
                (Tok::Int, "3"),
                (Tok::RBracket, "]"),
                (Tok::Dot, "."),
                (Tok::Float, "1.5e-7"),
                (Tok::Minus, "-"),
                (Tok::Int, "2"),
                (Tok::Float, "1e16"),
                (Tok::Ident, "x_1"),
                (Tok::Comma, ","),
                (Tok::Eof, ""),
            ]
        );
    }

    #[test]
    fn positions_are_one_based_chars() {
        let toks = lex("é\n  ab").unwrap_err();
        assert!(matches!(toks, Error::Parse { line: 1, column: 1, .. }));
        let toks = lex("{\n  ab").unwrap();
        assert_eq!((toks[1].line, toks[1].column), (2, 3));
        assert_eq!((toks[2].line, toks[2].column), (2, 5));
    }

    #[test]
    fn malformed_numbers() {
        assert!(matches!(lex("1e+"), Err(Error::Parse { line: 1, column: 4, .. })));
        assert!(matches!(lex(" 3x"), Err(Error::Parse { line: 1, column: 3, .. })));
    }
}
