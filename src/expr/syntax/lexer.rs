//! Splits an expression string into tokens, each with its byte span in the source so that a
//! syntax error can quote the text around it as DynamoDB does.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A bare word: an attribute name, a keyword (`AND`, `SET`, …) or a function name.
    Word,
    /// `#name`: an entry of `ExpressionAttributeNames`.
    NameRef,
    /// `:value`: an entry of `ExpressionAttributeValues`.
    ValueRef,
    /// Decimal digits: a list index.
    Digits,
    /// Punctuation or an operator: `( ) [ ] , . = <> < <= > >= + -`.
    Symbol,
    /// A character no token starts with.
    Unknown,
    /// The end of the expression.
    End,
}

/// One token: its kind and where it is in the source.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token's text in `source`; `<EOF>` for the end, as DynamoDB names it.
    pub fn text<'s>(&self, source: &'s str) -> &'s str {
        match self.kind {
            Kind::End => "<EOF>",
            _ => &source[self.start..self.end],
        }
    }
}

/// Every token of `source`, then one `End`. Whitespace separates tokens and is dropped.
pub(super) fn tokenize(source: &str) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    let word_byte = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let run_from = |from: usize, ok: &dyn Fn(u8) -> bool| {
        from + bytes[from..].iter().take_while(|&&b| ok(b)).count()
    };
    while at < bytes.len() {
        let b = bytes[at];
        if b.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        let (kind, end) = match b {
            b'a'..=b'z' | b'A'..=b'Z' => (Kind::Word, run_from(at, &word_byte)),
            b'0'..=b'9' => (Kind::Digits, run_from(at, &|b: u8| b.is_ascii_digit())),
            b'#' | b':' => {
                let end = run_from(at + 1, &word_byte);
                match (end > at + 1, b) {
                    (false, _) => (Kind::Unknown, at + 1),
                    (true, b'#') => (Kind::NameRef, end),
                    (true, _) => (Kind::ValueRef, end),
                }
            }
            b'<' if bytes.get(at + 1) == Some(&b'>') => (Kind::Symbol, at + 2),
            b'<' | b'>' if bytes.get(at + 1) == Some(&b'=') => (Kind::Symbol, at + 2),
            b'(' | b')' | b'[' | b']' | b',' | b'.' | b'=' | b'<' | b'>' | b'+' | b'-' => {
                (Kind::Symbol, at + 1)
            }
            _ => {
                // One whole character, so that the error quotes it intact.
                let len = source[at..].chars().next().map_or(1, char::len_utf8);
                (Kind::Unknown, at + len)
            }
        };
        tokens.push(Token {
            kind,
            start: at,
            end,
        });
        at = end;
    }
    tokens.push(Token {
        kind: Kind::End,
        start: bytes.len(),
        end: bytes.len(),
    });
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_texts(source: &str) -> Vec<(Kind, &str)> {
        tokenize(source)
            .iter()
            .map(|t| (t.kind, t.text(source)))
            .collect()
    }

    #[test]
    fn tokens_carry_their_kind_and_text() {
        use Kind::*;
        assert_eq!(
            kinds_and_texts("a.#b[12] <>:v_1 AND ab_9<=x"),
            vec![
                (Word, "a"),
                (Symbol, "."),
                (NameRef, "#b"),
                (Symbol, "["),
                (Digits, "12"),
                (Symbol, "]"),
                (Symbol, "<>"),
                (ValueRef, ":v_1"),
                (Word, "AND"),
                (Word, "ab_9"),
                (Symbol, "<="),
                (Word, "x"),
                (End, "<EOF>"),
            ]
        );
    }

    #[test]
    fn a_bare_sigil_or_a_foreign_character_is_one_unknown_token() {
        use Kind::*;
        assert_eq!(
            kinds_and_texts("# :é$"),
            vec![
                (Unknown, "#"),
                (Unknown, ":"),
                (Unknown, "é"),
                (Unknown, "$"),
                (End, "<EOF>")
            ]
        );
    }
}
