//! Amazon Ion text, as DynamoDB's export to S3 writes it (`ExportFormat` ION) and its
//! import from S3 reads it (`InputFormat` ION): the writer of an export's data lines and a
//! small, strict reader of the subset of Ion text they are made of.
//!
//! DynamoDB's developer guide ("DynamoDB table export output format", Amazon Ion) gives the
//! shape: "Items in an Ion export are delimited by newlines. Each line begins with an Ion
//! version marker, followed by an item in Ion format", with the example
//!
//! ```text
//!   $ion_1_0 {Item:{Authors:$dynamodb_SS::["Author1","Author2"],Dimensions:"8.5 x 11.0 x 1.5",
//!                   Id:103.,InPublication:false,PageCount:6d2,Price:2d3,…}}
//! ```
//!
//! and its import page ("Amazon S3 import formats for DynamoDB", Amazon Ion) the same items,
//! also as one list after one version marker (`$ion_1_0 [{Item:{…}},{Item:{…}}]`). Both are
//! read. The type mapping (the two pages' tables, and what they leave out):
//!
//! ```text
//!   DynamoDB          Ion (written)                        Ion (read)
//!   S                 string "…"                           string, short or long ('''…''')
//!   N                 decimal: 103. 6d2 1.5 15d-9          decimal or int (103, -7)
//!   B                 blob {{base64}}                      blob
//!   BOOL              true / false                         the same
//!   NULL              null          (pages silent)         null, null.null
//!   SS / NS / BS      $dynamodb_SS:: / $dynamodb_NS:: /    the same, each member a string /
//!                     $dynamodb_BS:: [ … ]                 decimal or int / blob
//!   L                 list [ … ]                           list without annotation
//!   M                 struct { name: value, … }            struct
//! ```
//!
//! Numbers: DynamoDB's example writes an integer as a decimal with a point (`103.`) and one
//! with trailing zeros in the exponent form (`6d2` for 600, `2d3` for 2000); the pages show
//! no fraction, so one is written with its point (`1.5`, `0.0012`), or in the exponent form
//! when it has more than [`MAX_LEADING_FRACTION_ZEROS`] zeros after the point (`15d-9`): all
//! exact, at most 38 digits. A field name is written bare when it is an identifier that
//! cannot be read as anything else (as `Item`, `Authors`), otherwise as a quoted symbol
//! (`'my name'`, `'$x'`, `'null'`).
//!
//! # The grammar read
//!
//! ```text
//!   stream   := (ws | '$ion_1_0' | wrapper | '[' wrapper (',' wrapper)* ','? ']')*
//!   wrapper  := struct                    one field, Item, a struct: one item
//!   value    := annot* (null | bool | number | string | blob | list | struct)
//!   annot    := symbol '::'               only $dynamodb_SS, $dynamodb_NS, $dynamodb_BS, alone
//!   null     := 'null' | 'null.null'
//!   bool     := 'true' | 'false'
//!   number   := '-'? ('0' | [1-9][0-9]*) ('.' [0-9]*)? ([dD] [+-]? [0-9]+)?
//!   string   := '"' (char | escape)* '"'  |  ("'''" (char | newline | escape)* "'''")+
//!   escape   := \0 \a \b \t \n \f \r \v \" \' \? \\ \/ \xHH \uHHHH \UHHHHHHHH, \ newline
//!   blob     := '{{' (base64 | ws)* '}}'
//!   list     := '[' (value (',' value)* ','?)? ']'
//!   struct   := '{' (name ':' value (',' name ':' value)* ','?)? '}'
//!   name     := identifier | 'quoted symbol' | string
//!   ws       := space, tab, \n, \r, \v, \f, // comment to the line's end, /* comment */
//! ```
//!
//! Outside it, refused: symbol tables and symbol ids (`$ion_symbol_table`, `$10`),
//! s-expressions, clobs, timestamps, hex and binary ints, `+inf` / `-inf`. Those are Ion
//! text no DynamoDB export holds; each is a malformed source, which fails the import.
//! Valid Ion that is not a DynamoDB value (a float `1e0`, a symbol, a typed null
//! `null.string`, another annotation, a set member of the wrong type, a field twice, a
//! number past DynamoDB's 38 digits or range) is an item in error, read past, and the
//! import goes on, as for a line of DynamoDB JSON that is not an item.
//!
//! The input is untrusted: no value nests deeper than [`MAX_ION_DEPTH`], no item's text is
//! longer than [`MAX_IMPORT_LINE_BYTES`] nor holds more than [`MAX_ITEM_SIZE`] values (each
//! costs DynamoDB at least a byte), so an item being read holds at most that much; nothing
//! is allocated by a length read from the input (Ion text has none).

use std::collections::BTreeMap;
use std::io::BufRead;

use base64::Engine as _;

use crate::api::imports::{MAX_IMPORT_LINE_BYTES, MAX_ION_DEPTH};
use crate::error::{io_error, Error, Result};
use crate::model::number::Number;
use crate::model::value::{collect_set, AttributeValue, Item, ValueType, MAX_ITEM_SIZE};

/// The version marker every line of an Ion export starts with.
pub(crate) const VERSION_MARKER: &str = "$ion_1_0";
/// The most zeros after the point a fraction is written with (`0.000001`); past them,
/// the exponent form (`1d-7`). The pages are silent on fractions; either form is Ion's.
pub(crate) const MAX_LEADING_FRACTION_ZEROS: i64 = 5;

const SET_ANNOTATIONS: [(&str, ValueType); 3] = [
    ("$dynamodb_SS", ValueType::Ss),
    ("$dynamodb_NS", ValueType::Ns),
    ("$dynamodb_BS", ValueType::Bs),
];

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Appends `value` in Ion text.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &AttributeValue) {
    match value {
        AttributeValue::S(s) => write_string(out, s, b'"'),
        AttributeValue::N(n) => write_number(out, n),
        AttributeValue::B(b) => write_blob(out, b),
        AttributeValue::Bool(true) => out.extend_from_slice(b"true"),
        AttributeValue::Bool(false) => out.extend_from_slice(b"false"),
        AttributeValue::Null => out.extend_from_slice(b"null"),
        AttributeValue::L(values) => write_list(out, values.iter(), write_value),
        AttributeValue::M(fields) => write_struct(out, fields.iter()),
        AttributeValue::Ss(set) => {
            out.extend_from_slice(b"$dynamodb_SS::");
            write_list(out, set.iter(), |out, s| write_string(out, s, b'"'));
        }
        AttributeValue::Ns(set) => {
            out.extend_from_slice(b"$dynamodb_NS::");
            write_list(out, set.iter(), write_number);
        }
        AttributeValue::Bs(set) => {
            out.extend_from_slice(b"$dynamodb_BS::");
            write_list(out, set.iter(), |out, b| write_blob(out, b));
        }
    }
}

/// Appends a struct of `fields` (an item, a map): `{name:value,…}`.
pub(crate) fn write_struct<'a>(
    out: &mut Vec<u8>,
    fields: impl Iterator<Item = (&'a String, &'a AttributeValue)>,
) {
    out.push(b'{');
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_field_name(out, name);
        write_value(out, value);
    }
    out.push(b'}');
}

/// Appends `name:`, bare when it is an identifier that reads back as this field name only.
pub(crate) fn write_field_name(out: &mut Vec<u8>, name: &str) {
    let bare = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !matches!(name, "null" | "true" | "false" | "nan");
    match bare {
        true => out.extend_from_slice(name.as_bytes()),
        false => write_string(out, name, b'\''),
    }
    out.push(b':');
}

fn write_list<T>(
    out: &mut Vec<u8>,
    values: impl Iterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, value);
    }
    out.push(b']');
}

/// Appends `text` between `quote`s (`"` a string, `'` a symbol), escaped per the Ion spec:
/// the quote, `\` and every control character; the rest as it is (Ion text is UTF-8).
fn write_string(out: &mut Vec<u8>, text: &str, quote: u8) {
    out.push(quote);
    for &b in text.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            q if q == quote => {
                out.push(b'\\');
                out.push(q);
            }
            c if c < 0x20 || c == 0x7f => {
                out.extend_from_slice(format!("\\x{c:02x}").as_bytes());
            }
            _ => out.push(b),
        }
    }
    out.push(quote);
}

fn write_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(b"{{");
    out.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(bytes)
            .as_bytes(),
    );
    out.extend_from_slice(b"}}");
}

/// Appends `n` as an Ion decimal (never an int or a float, which would read back as other
/// types): `103.`, `6d2`, `1.5`, `-0.25`, `15d-9` (module docs).
pub(crate) fn write_number(out: &mut Vec<u8>, n: &Number) {
    let (negative, coef, exp) = n.parts();
    if negative {
        out.push(b'-');
    }
    let digits = coef.to_string();
    let exp = i64::from(exp);
    // Where the point falls, counted from the digits' left.
    let point = digits.len() as i64 + exp;
    let text = if exp == 0 {
        format!("{digits}.")
    } else if exp > 0 {
        format!("{digits}d{exp}")
    } else if point > 0 {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    } else if -point <= MAX_LEADING_FRACTION_ZEROS {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        format!("{digits}d{exp}")
    };
    out.extend_from_slice(text.as_bytes());
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

/// The items of an Ion source, in order. Each is an `Ok(Ok(item))`, an `Ok(Err(why))` for
/// valid Ion that is not an item (the reading goes on), or an `Err` that ends them: an I/O
/// error, or text that is not Ion of the subset read (module docs), named with its line.
pub(crate) struct IonItems<R> {
    reader: Reader<R>,
    /// Inside a top-level list of items.
    in_list: bool,
    /// An item of the list was read: a `,` or `]` comes next.
    after_element: bool,
    done: bool,
}

impl<R: BufRead> IonItems<R> {
    /// The items of `source`.
    pub(crate) fn new(source: R) -> IonItems<R> {
        IonItems {
            reader: Reader {
                source,
                line: 1,
                budget: usize::MAX,
                values: 0,
                invalid: None,
            },
            in_list: false,
            after_element: false,
            done: false,
        }
    }

    /// The next item, or `None` at the end of the source.
    fn item(&mut self) -> Result<Option<Result<Item>>> {
        let r = &mut self.reader;
        loop {
            r.budget = usize::MAX;
            r.skip_ws()?;
            let Some(b) = r.peek()? else {
                if self.in_list {
                    return Err(r.malformed("the source ends inside a list of items"));
                }
                return Ok(None);
            };
            if self.in_list {
                match (b, self.after_element) {
                    (b']', _) => {
                        r.bump()?;
                        self.in_list = false;
                        continue;
                    }
                    (b',', true) => {
                        r.bump()?;
                        self.after_element = false;
                        continue;
                    }
                    (b'{', false) => {}
                    _ => {
                        return Err(r.malformed(
                            "a list of items holds structs {Item:{…}} separated by commas",
                        ))
                    }
                }
            }
            match b {
                b'{' => {
                    r.budget = MAX_IMPORT_LINE_BYTES;
                    r.values = 0;
                    r.invalid = None;
                    r.bump()?;
                    let wrapper = r.fields(1)?;
                    self.after_element = self.in_list;
                    if let Some(why) = r.invalid.take() {
                        return Ok(Some(Err(Error::validation(why))));
                    }
                    return Ok(Some(unwrap_item(wrapper)));
                }
                b'[' => {
                    r.bump()?;
                    self.in_list = true;
                    self.after_element = false;
                }
                b if is_identifier_start(b) => {
                    // Bounded as an item is: a symbol's text is held whole.
                    r.budget = MAX_IMPORT_LINE_BYTES;
                    let symbol = r.identifier()?;
                    r.budget = usize::MAX;
                    r.skip_ws()?;
                    if r.peek()? == Some(b':') {
                        return Err(r.malformed(
                            "a top-level value with annotations (such as a local symbol table) is not read: Ion of DynamoDB's export has none",
                        ));
                    }
                    if symbol != VERSION_MARKER {
                        return Err(r.malformed(&format!(
                            "the top-level symbol {} is not the version marker {VERSION_MARKER}",
                            clipped(&symbol)
                        )));
                    }
                }
                _ => {
                    return Err(r.malformed(
                        "a top-level value must be the version marker $ion_1_0, a struct {Item:{…}} or a list of them",
                    ))
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for IonItems<R> {
    type Item = Result<Result<Item>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.item();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }
}

/// The item of a wrapper struct `{Item:{…}}`, or why it is not one.
fn unwrap_item(mut wrapper: BTreeMap<String, AttributeValue>) -> Result<Item> {
    match (wrapper.len(), wrapper.remove("Item")) {
        (1, Some(AttributeValue::M(item))) => Ok(item),
        _ => Err(Error::validation(
            "One or more parameter values were invalid: an Ion value of the import must be a struct with one field, Item, a struct of the item's attributes",
        )),
    }
}

fn is_identifier_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_identifier_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// A byte reader with the bounds of the item being read.
struct Reader<R> {
    source: R,
    /// The line being read, from 1, for messages.
    line: u64,
    /// The bytes the item being read may still take.
    budget: usize,
    /// The values the item being read holds so far.
    values: usize,
    /// Why the item being read is not a DynamoDB item, once known (it is read to its end).
    invalid: Option<String>,
}

impl<R: BufRead> Reader<R> {
    /// The import fails: the text is not Ion of the subset read.
    fn malformed(&self, why: &str) -> Error {
        Error::validation(format!(
            "One or more parameter values were invalid: the Ion source is malformed at line {}: {why}",
            self.line
        ))
    }

    /// The item being read is in error (the first reason is kept); the reading goes on.
    fn not_an_item(&mut self, why: impl FnOnce() -> String) {
        if self.invalid.is_none() {
            self.invalid = Some(format!(
                "One or more parameter values were invalid: {}",
                why()
            ));
        }
    }

    fn peek(&mut self) -> Result<Option<u8>> {
        let buf = self
            .source
            .fill_buf()
            .map_err(io_error("reading the import's source"))?;
        Ok(buf.first().copied())
    }

    /// Takes the byte `peek` saw, counted against the item's budget.
    fn bump(&mut self) -> Result<()> {
        if self.budget == 0 {
            return Err(self.malformed(&format!(
                "an item's Ion text is longer than {MAX_IMPORT_LINE_BYTES} bytes"
            )));
        }
        self.budget -= 1;
        if self.peek()? == Some(b'\n') {
            self.line += 1;
        }
        self.source.consume(1);
        Ok(())
    }

    /// The next byte, taken; the source ending here is malformed (`what` was being read).
    fn take(&mut self, what: &str) -> Result<u8> {
        match self.peek()? {
            Some(b) => {
                self.bump()?;
                Ok(b)
            }
            None => Err(self.malformed(&format!("the source ends inside {what}"))),
        }
    }

    /// Takes `expected`, or the text is malformed.
    fn expect(&mut self, expected: u8, what: &str) -> Result<()> {
        match self.take(what)? {
            b if b == expected => Ok(()),
            b => Err(self.malformed(&format!(
                "{what}: expected '{}', found {}",
                expected as char,
                shown(b)
            ))),
        }
    }

    /// Skips white space and comments.
    fn skip_ws(&mut self) -> Result<()> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) => self.bump()?,
                Some(b'/') => {
                    self.bump()?;
                    match self.take("a comment")? {
                        b'/' => {
                            while let Some(b) = self.peek()? {
                                self.bump()?;
                                if b == b'\n' {
                                    break;
                                }
                            }
                        }
                        b'*' => {
                            let mut star = false;
                            loop {
                                let b = self.take("a /* comment */")?;
                                if star && b == b'/' {
                                    break;
                                }
                                star = b == b'*';
                            }
                        }
                        b => {
                            return Err(self.malformed(&format!(
                                "'/' starts a comment // or /*, not '/' then {}",
                                shown(b)
                            )))
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// An identifier (`[A-Za-z_$][A-Za-z0-9_$]*`), taken.
    fn identifier(&mut self) -> Result<String> {
        let mut text = String::new();
        while let Some(b) = self.peek()? {
            if !is_identifier_part(b) {
                break;
            }
            self.bump()?;
            text.push(b as char);
        }
        Ok(text)
    }

    /// Counts a value of the item, refusing more than an item can hold.
    fn count_value(&mut self) -> Result<()> {
        self.values += 1;
        if self.values > MAX_ITEM_SIZE {
            return Err(self.malformed(&format!(
                "an item holds more than {MAX_ITEM_SIZE} values, more than DynamoDB's largest item could"
            )));
        }
        Ok(())
    }

    /// A struct's fields, its `{` taken, to its `}`. `depth` is the struct's.
    fn fields(&mut self, depth: usize) -> Result<BTreeMap<String, AttributeValue>> {
        if depth > MAX_ION_DEPTH {
            return Err(self.malformed(&format!("values nest deeper than {MAX_ION_DEPTH} levels")));
        }
        self.count_value()?;
        let mut fields = BTreeMap::new();
        loop {
            self.skip_ws()?;
            if self.peek()? == Some(b'}') {
                self.bump()?;
                return Ok(fields);
            }
            let name = self.field_name()?;
            self.skip_ws()?;
            self.expect(b':', "a struct's field")?;
            let value = self.value(depth + 1)?;
            if fields.contains_key(&name) {
                self.not_an_item(|| format!("a struct has the field {:?} twice", clipped(&name)));
            }
            fields.insert(name, value);
            self.skip_ws()?;
            match self.take("a struct")? {
                b',' => {}
                b'}' => return Ok(fields),
                b => {
                    return Err(self.malformed(&format!(
                        "a struct's fields are separated by ',' and end with '}}', not {}",
                        shown(b)
                    )))
                }
            }
        }
    }

    /// A field's name: an identifier, a quoted symbol or a string.
    fn field_name(&mut self) -> Result<String> {
        match self.peek()? {
            Some(b'"') => {
                self.bump()?;
                self.short_text(b'"')
            }
            Some(b'\'') => {
                self.bump()?;
                self.quoted_or_long()
            }
            Some(b) if is_identifier_start(b) => {
                let name = self.identifier()?;
                if matches!(name.as_str(), "null" | "true" | "false" | "nan") {
                    return Err(self.malformed(&format!(
                        "the keyword {name} cannot name a field unquoted: write '{name}'"
                    )));
                }
                self.no_symbol_id(&name)?;
                Ok(name)
            }
            Some(b) => Err(self.malformed(&format!(
                "a struct's field begins with its name, not {}",
                shown(b)
            ))),
            None => Err(self.malformed("the source ends inside a struct")),
        }
    }

    /// Refuses a symbol id (`$10`): it names an entry of a symbol table, which this reader
    /// does not take.
    fn no_symbol_id(&self, symbol: &str) -> Result<()> {
        let id = symbol.strip_prefix('$').unwrap_or("");
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.malformed(&format!(
                "the symbol id {} needs a symbol table, which Ion of DynamoDB's export has none of",
                clipped(symbol)
            )));
        }
        Ok(())
    }

    /// After a `'`: a quoted symbol's text, or a long string's (its segments joined).
    /// Returns the text; `long` tells which it was.
    fn quoted_or_long_text(&mut self) -> Result<(String, bool)> {
        if self.peek()? != Some(b'\'') {
            return Ok((self.short_text(b'\'')?, false));
        }
        self.bump()?;
        if self.peek()? != Some(b'\'') {
            // `''`: the empty symbol.
            return Ok((String::new(), false));
        }
        self.bump()?;
        let mut text = Vec::new();
        loop {
            self.long_segment(&mut text)?;
            self.skip_ws()?;
            if self.peek()? != Some(b'\'') {
                break;
            }
            // Only another segment may follow a long string inside a list or struct.
            for _ in 0..3 {
                self.expect(b'\'', "a long string ''' … '''")?;
            }
        }
        Ok((self.utf8(text)?, true))
    }

    fn quoted_or_long(&mut self) -> Result<String> {
        Ok(self.quoted_or_long_text()?.0)
    }

    /// A short string's or quoted symbol's text, its opening `quote` taken.
    fn short_text(&mut self, quote: u8) -> Result<String> {
        let what = if quote == b'"' {
            "a string"
        } else {
            "a quoted symbol"
        };
        let mut text = Vec::new();
        loop {
            match self.take(what)? {
                b if b == quote => return self.utf8(text),
                b'\\' => self.escape(&mut text, what)?,
                b'\n' | b'\r' => {
                    return Err(self.malformed(&format!(
                        "{what} holds a raw line break: write \\n, or use a long string '''…'''"
                    )))
                }
                b => text.push(b),
            }
        }
    }

    /// One segment of a long string, its opening `'''` taken, to its closing `'''`.
    fn long_segment(&mut self, text: &mut Vec<u8>) -> Result<()> {
        let mut quotes = 0;
        loop {
            let b = self.take("a long string ''' … '''")?;
            if b == b'\'' {
                quotes += 1;
                if quotes == 3 {
                    return Ok(());
                }
                continue;
            }
            // Fewer than three quotes are text.
            text.extend(std::iter::repeat_n(b'\'', quotes));
            quotes = 0;
            match b {
                b'\\' => self.escape(text, "a long string")?,
                b => text.push(b),
            }
        }
    }

    /// An escape's character, its `\` taken, appended to `text` as UTF-8.
    fn escape(&mut self, text: &mut Vec<u8>, what: &str) -> Result<()> {
        let c = match self.take(what)? {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'f' => '\x0c',
            b'r' => '\r',
            b'v' => '\x0b',
            b'"' => '"',
            b'\'' => '\'',
            b'?' => '?',
            b'\\' => '\\',
            b'/' => '/',
            // A line continuation: nothing.
            b'\n' => return Ok(()),
            b'\r' => {
                if self.peek()? == Some(b'\n') {
                    self.bump()?;
                }
                return Ok(());
            }
            b'x' => self.hex_char(2, what)?,
            b'u' => {
                let high = self.hex(4, what)?;
                if (0xd800..0xdc00).contains(&high) {
                    // A surrogate pair, as two escapes.
                    self.expect(b'\\', "a surrogate pair's second half")?;
                    self.expect(b'u', "a surrogate pair's second half")?;
                    let low = self.hex(4, what)?;
                    if !(0xdc00..0xe000).contains(&low) {
                        return Err(self.malformed(&format!(
                            "the escape \\u{high:04x} is half a surrogate pair without its second half"
                        )));
                    }
                    let c = 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
                    char::from_u32(c).ok_or_else(|| self.malformed("a bad surrogate pair"))?
                } else {
                    self.scalar(high)?
                }
            }
            b'U' => self.hex_char(8, what)?,
            b => {
                return Err(self.malformed(&format!(
                    "\\{} is not an escape of Ion text in {what}",
                    shown(b).trim_matches('\'')
                )))
            }
        };
        let mut utf8 = [0; 4];
        text.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }

    fn hex(&mut self, digits: usize, what: &str) -> Result<u32> {
        let mut value = 0u32;
        for _ in 0..digits {
            let b = self.take(what)?;
            let digit = (b as char).to_digit(16).ok_or_else(|| {
                self.malformed(&format!(
                    "an escape in {what} needs {digits} hex digits, not {}",
                    shown(b)
                ))
            })?;
            value = value << 4 | digit;
        }
        Ok(value)
    }

    fn hex_char(&mut self, digits: usize, what: &str) -> Result<char> {
        let value = self.hex(digits, what)?;
        self.scalar(value)
    }

    fn scalar(&self, value: u32) -> Result<char> {
        char::from_u32(value).ok_or_else(|| {
            self.malformed(&format!(
                "the escape of {value:#x} is not a Unicode scalar value"
            ))
        })
    }

    fn utf8(&self, text: Vec<u8>) -> Result<String> {
        String::from_utf8(text).map_err(|_| self.malformed("text that is not UTF-8"))
    }

    /// A value, at `depth` (that of the struct or list holding it, plus one).
    fn value(&mut self, depth: usize) -> Result<AttributeValue> {
        if depth > MAX_ION_DEPTH {
            return Err(self.malformed(&format!("values nest deeper than {MAX_ION_DEPTH} levels")));
        }
        // Annotations, each `symbol::`.
        let mut annotations = Vec::new();
        let mut annotation_count = 0usize;
        let value = loop {
            self.skip_ws()?;
            let b = self
                .peek()?
                .ok_or_else(|| self.malformed("the source ends where a value belongs"))?;
            let symbol = match b {
                b'\'' => {
                    self.bump()?;
                    let (text, long) = self.quoted_or_long_text()?;
                    if long {
                        self.count_value()?;
                        break AttributeValue::S(text);
                    }
                    text
                }
                b if is_identifier_start(b) => {
                    let text = self.identifier()?;
                    self.no_symbol_id(&text)?;
                    if let Some(value) = self.keyword(&text)? {
                        break value;
                    }
                    text
                }
                _ => break self.plain_value(b, depth)?,
            };
            self.skip_ws()?;
            if self.peek()? == Some(b':') {
                self.bump()?;
                self.expect(b':', "an annotation symbol::")?;
                // (Two tell all a message needs: more are counted, not held.)
                if annotations.len() < 2 {
                    annotations.push(symbol);
                }
                annotation_count += 1;
                continue;
            }
            // A symbol value: Ion's, not DynamoDB's.
            self.count_value()?;
            self.not_an_item(|| {
                format!(
                    "the Ion symbol {} is not a DynamoDB value (a string is \"…\")",
                    clipped(&symbol)
                )
            });
            break AttributeValue::Null;
        };
        match annotations.as_slice() {
            [] => Ok(value),
            [one] => match SET_ANNOTATIONS.iter().find(|(name, _)| name == one) {
                Some((_, ty)) => Ok(self.set(*ty, value)),
                None => {
                    self.not_an_item(|| {
                        format!("the Ion annotation {} is not one of DynamoDB's: $dynamodb_SS, $dynamodb_NS, $dynamodb_BS", clipped(one))
                    });
                    Ok(AttributeValue::Null)
                }
            },
            _ => {
                self.not_an_item(|| {
                    let first: Vec<_> = annotations.iter().map(|a| clipped(a)).collect();
                    format!("a value has {annotation_count} Ion annotations ({}, …): DynamoDB's values have at most one", first.join(", "))
                });
                Ok(AttributeValue::Null)
            }
        }
    }

    /// A value named by a keyword (`null`, `null.type`, `true`, `false`, `nan`), if `word`
    /// is one.
    fn keyword(&mut self, word: &str) -> Result<Option<AttributeValue>> {
        let value = match word {
            "true" => AttributeValue::Bool(true),
            "false" => AttributeValue::Bool(false),
            "null" if self.peek()? == Some(b'.') => {
                self.bump()?;
                let ty = self.identifier()?;
                let known = [
                    "null",
                    "bool",
                    "int",
                    "float",
                    "decimal",
                    "timestamp",
                    "symbol",
                    "string",
                    "clob",
                    "blob",
                    "list",
                    "sexp",
                    "struct",
                ];
                if !known.contains(&ty.as_str()) {
                    return Err(
                        self.malformed(&format!("null.{} is not an Ion null", clipped(&ty)))
                    );
                }
                if ty != "null" {
                    self.not_an_item(|| {
                        format!(
                            "the typed Ion null null.{} is not a DynamoDB value (NULL is null)",
                            clipped(&ty)
                        )
                    });
                }
                AttributeValue::Null
            }
            "null" => AttributeValue::Null,
            "nan" => {
                self.not_an_item(|| {
                    "the Ion float nan is not a DynamoDB number (numbers are Ion decimals)".into()
                });
                AttributeValue::Null
            }
            _ => return Ok(None),
        };
        self.count_value()?;
        Ok(Some(value))
    }

    /// A value that starts with `b` and is neither a symbol nor a keyword.
    fn plain_value(&mut self, b: u8, depth: usize) -> Result<AttributeValue> {
        match b {
            b'"' => {
                self.bump()?;
                self.count_value()?;
                Ok(AttributeValue::S(self.short_text(b'"')?))
            }
            b'[' => {
                self.bump()?;
                self.count_value()?;
                let mut values = Vec::new();
                loop {
                    self.skip_ws()?;
                    if self.peek()? == Some(b']') {
                        self.bump()?;
                        return Ok(AttributeValue::L(values));
                    }
                    values.push(self.value(depth + 1)?);
                    self.skip_ws()?;
                    match self.take("a list")? {
                        b',' => {}
                        b']' => return Ok(AttributeValue::L(values)),
                        b => {
                            return Err(self.malformed(&format!(
                                "a list's values are separated by ',' and end with ']', not {}",
                                shown(b)
                            )))
                        }
                    }
                }
            }
            b'{' => {
                self.bump()?;
                if self.peek()? == Some(b'{') {
                    self.bump()?;
                    self.count_value()?;
                    return Ok(AttributeValue::B(self.blob()?));
                }
                Ok(AttributeValue::M(self.fields(depth)?))
            }
            b'-' | b'0'..=b'9' => {
                self.count_value()?;
                self.number()
            }
            b'(' => Err(self.malformed(
                "s-expressions ( … ) are Ion, but no DynamoDB value; Ion of DynamoDB's export has none",
            )),
            b => Err(self.malformed(&format!("{} does not begin a value", shown(b)))),
        }
    }

    /// A blob's bytes, its `{{` taken, to its `}}`.
    fn blob(&mut self) -> Result<Vec<u8>> {
        let mut base64 = Vec::new();
        loop {
            // (Comments are not white space inside a blob.)
            match self.take("a blob {{ … }}")? {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {}
                b'}' => {
                    self.expect(b'}', "a blob's end '}}'")?;
                    break;
                }
                b'"' | b'\'' => return Err(self.malformed(
                    "clobs {{\"…\"}} are Ion, but no DynamoDB value: a binary is a blob {{base64}}",
                )),
                b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') => base64.push(b),
                b => return Err(self.malformed(&format!("a blob holds base64, not {}", shown(b)))),
            }
        }
        base64::engine::general_purpose::STANDARD
            .decode(&base64)
            .map_err(|e| self.malformed(&format!("a blob's base64 is not valid: {e}")))
    }

    /// A number: an int or a decimal is a DynamoDB number; a float is Ion, but not one.
    fn number(&mut self) -> Result<AttributeValue> {
        let mut text = String::new();
        while let Some(b) = self.peek()? {
            if !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_')) {
                break;
            }
            self.bump()?;
            text.push(b as char);
        }
        let b = text.as_bytes();
        let mut i = usize::from(b.first() == Some(&b'-'));
        let int_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int = &text[int_start..i];
        let malformed = |why: &str| self.malformed(&format!("{} is {why}", clipped(&text)));
        if int.is_empty() {
            return Err(malformed("not an Ion number"));
        }
        if int.len() > 1 && int.starts_with('0') {
            return Err(malformed(
                "not a number of the Ion subset read: an int or decimal has no leading zeros",
            ));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        let mantissa_end = i;
        let exponent = b.get(i).copied();
        if matches!(exponent, Some(b'd' | b'D' | b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let digits = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if digits == i {
                return Err(malformed("not an Ion number: its exponent has no digits"));
            }
        }
        if i != b.len() {
            return Err(malformed(
                "not a number of the Ion subset read (ints and decimals, such as 103, 103., 1.5, 6d2; no hex or binary ints, underscores or timestamps)",
            ));
        }
        if matches!(exponent, Some(b'e' | b'E')) {
            self.not_an_item(|| {
                format!("the Ion float {} is not a DynamoDB number (numbers are Ion decimals, such as 1.5 or 15d-1)", clipped(&text))
            });
            return Ok(AttributeValue::Null);
        }
        let dynamodb = format!(
            "{}{}",
            &text[..mantissa_end],
            match mantissa_end < text.len() {
                true => format!("E{}", &text[mantissa_end + 1..]),
                false => String::new(),
            }
        );
        match Number::parse(&dynamodb) {
            Ok(n) => Ok(AttributeValue::N(n)),
            Err(e) => {
                self.not_an_item(|| e.to_string());
                Ok(AttributeValue::Null)
            }
        }
    }

    /// A set of type `ty` from the list `value` its annotation was on, or Null with the item
    /// in error.
    fn set(&mut self, ty: ValueType, value: AttributeValue) -> AttributeValue {
        let members = match value {
            AttributeValue::L(members) => members,
            other => {
                self.not_an_item(|| {
                    format!(
                        "the annotation $dynamodb_{ty} is on a {}, not a list",
                        other.value_type()
                    )
                });
                return AttributeValue::Null;
            }
        };
        let wrong = |member: &AttributeValue| {
            format!("a $dynamodb_{ty} set holds a {}", member.value_type())
        };
        let made = match ty {
            ValueType::Ss => members
                .into_iter()
                .map(|m| match m {
                    AttributeValue::S(s) => Ok(s),
                    other => Err(wrong(&other)),
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|m| collect_set(ty, m, String::clone).map(AttributeValue::Ss)),
            ValueType::Ns => members
                .into_iter()
                .map(|m| match m {
                    AttributeValue::N(n) => Ok(n),
                    other => Err(wrong(&other)),
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|m| collect_set(ty, m, Number::to_string).map(AttributeValue::Ns)),
            _ => members
                .into_iter()
                .map(|m| match m {
                    AttributeValue::B(b) => Ok(b),
                    other => Err(wrong(&other)),
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(|m| {
                    let show = |b: &Vec<u8>| base64::engine::general_purpose::STANDARD.encode(b);
                    collect_set(ty, m, show).map(AttributeValue::Bs)
                }),
        };
        match made {
            Ok(Ok(set)) => set,
            Ok(Err(e)) => {
                // (DynamoDB's own words, already with their prefix.)
                if self.invalid.is_none() {
                    self.invalid = Some(e.message());
                }
                AttributeValue::Null
            }
            Err(why) => {
                self.not_an_item(|| why);
                AttributeValue::Null
            }
        }
    }
}

/// The most characters of a symbol, a name or a number a message shows: the input is
/// untrusted, and an item's first error becomes an import's `FailureMessage`.
const SHOWN_CHARS: usize = 64;

/// `text` for a message: its first [`SHOWN_CHARS`] characters, then `…` if there are more.
fn clipped(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// `b` for a message: the character quoted, or its hex.
fn shown(b: u8) -> String {
    match b {
        0x21..=0x7e => format!("'{}'", b as char),
        _ => format!("the byte {b:#04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the reader makes of `text`: each item, or its error's message; a fatal error
    /// last, as `Err`.
    fn read(text: &str) -> Vec<std::result::Result<std::result::Result<Item, String>, String>> {
        IonItems::new(text.as_bytes())
            .map(|r| {
                r.map(|i| i.map_err(|e| e.message()))
                    .map_err(|e| e.message())
            })
            .collect()
    }

    fn one_item(text: &str) -> Item {
        match read(text).as_slice() {
            [Ok(Ok(item))] => item.clone(),
            other => panic!("{text}: {other:?}"),
        }
    }

    fn item_error(text: &str) -> String {
        match read(text).as_slice() {
            [Ok(Err(why))] => why.clone(),
            other => panic!("{text}: {other:?}"),
        }
    }

    fn malformed(text: &str) -> String {
        match read(text).last() {
            Some(Err(why)) => why.clone(),
            other => panic!("{text}: {other:?}"),
        }
    }

    fn json_item(json: &str) -> Item {
        serde_json::from_str(json).expect("DynamoDB JSON")
    }

    fn line(item: &Item) -> String {
        let mut out = VERSION_MARKER.as_bytes().to_vec();
        out.extend_from_slice(b" {Item:");
        write_struct(&mut out, item.iter());
        out.extend_from_slice(b"}\n");
        String::from_utf8(out).expect("UTF-8")
    }

    const DOCS_ITEM_JSON: &str = r#"{"Authors":{"SS":["Author1","Author2"]},"Dimensions":{"S":"8.5 x 11.0 x 1.5"},"ISBN":{"S":"333-3333333333"},"Id":{"N":"103"},"InPublication":{"BOOL":false},"PageCount":{"N":"600"},"Price":{"N":"2000"},"ProductCategory":{"S":"Book"},"Title":{"S":"Book 103 Title"}}"#;

    /// The developer guide's item (export page), written on one line as an export writes
    /// it: the same text, character for character, as the guide's example with its layout
    /// spaces taken out.
    #[test]
    fn the_guides_item_is_written_as_its_ion_example() {
        let expected = "$ion_1_0 {Item:{Authors:$dynamodb_SS::[\"Author1\",\"Author2\"],Dimensions:\"8.5 x 11.0 x 1.5\",ISBN:\"333-3333333333\",Id:103.,InPublication:false,PageCount:6d2,Price:2d3,ProductCategory:\"Book\",Title:\"Book 103 Title\"}}\n";
        assert_eq!(line(&json_item(DOCS_ITEM_JSON)), expected);
    }

    /// Both of the guide's examples read as its DynamoDB JSON item: the export page's (one
    /// struct after the marker, laid out over lines) and the import page's (a list of them).
    #[test]
    fn the_guides_examples_read_as_its_items() {
        let export = "$ion_1_0 {\n    Item:{\n        Authors:$dynamodb_SS::[\"Author1\",\"Author2\"],\n        Dimensions:\"8.5 x 11.0 x 1.5\",\n        ISBN:\"333-3333333333\",\n        Id:103.,\n        InPublication:false,\n        PageCount:6d2,\n        Price:2d3,\n        ProductCategory:\"Book\",\n        Title:\"Book 103 Title\"\n    }\n}\n";
        assert_eq!(one_item(export), json_item(DOCS_ITEM_JSON));
        let body = &export["$ion_1_0 ".len()..];
        let list = format!(
            "$ion_1_0\n[\n  {body},\n  {}\n]\n",
            body.replace("103", "104")
        );
        let items = read(&list);
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0], Ok(Ok(json_item(DOCS_ITEM_JSON))));
        let second = json_item(&DOCS_ITEM_JSON.replace("103", "104"));
        assert_eq!(items[1], Ok(Ok(second)));
    }

    fn number_text(n: &str) -> String {
        let mut out = Vec::new();
        write_number(&mut out, &Number::parse(n).expect("a number"));
        String::from_utf8(out).expect("ASCII")
    }

    #[test]
    fn numbers_are_written_as_exact_ion_decimals() {
        for (n, ion) in [
            ("103", "103."),
            ("600", "6d2"),
            ("2000", "2d3"),
            ("0", "0."),
            ("-7", "-7."),
            ("1.5", "1.5"),
            ("-0.25", "-0.25"),
            ("0.000012", "0.000012"),
            ("0.0000012", "0.0000012"),
            ("0.00000012", "12d-8"),
            ("1E-130", "1d-130"),
            (
                "9.9999999999999999999999999999999999999E+125",
                "99999999999999999999999999999999999999d88",
            ),
        ] {
            assert_eq!(number_text(n), ion, "{n}");
        }
    }

    /// Every Ion text form of a decimal or int reads as the exact number: a point with or
    /// without digits after it, either exponent letter, signs on the exponent, trailing
    /// zeros, negative zero.
    #[test]
    fn ion_number_forms_read_exactly() {
        for (ion, n) in [
            ("1.5", "1.5"),
            ("15d-1", "1.5"),
            ("15D-1", "1.5"),
            ("1.", "1"),
            ("1", "1"),
            ("1.50", "1.5"),
            ("0.1d+1", "1"),
            ("-0.", "0"),
            ("-0d5", "0"),
            ("6d2", "600"),
            (
                "12345678901234567890123456789012345678",
                "12345678901234567890123456789012345678",
            ),
        ] {
            let item = one_item(&format!("$ion_1_0 {{Item:{{n:{ion}}}}}"));
            assert_eq!(
                item["n"],
                AttributeValue::N(Number::parse(n).expect("a number")),
                "{ion}"
            );
        }
    }

    /// Escapes of the Ion spec, long strings joined across white space and comments,
    /// quoted symbols and strings as field names, comments anywhere white space goes.
    #[test]
    fn strings_read_with_every_escape_and_long_form() {
        let text = r#"$ion_1_0 // a comment
            { /* fields */ Item : {
              'quoted name': "a\"b\\c\/d\?e\'f\0\a\b\t\n\f\r\v\x41\u00e9\U0001F600\ud83d\ude00",
              "string name": '''one ''' /* joined */ '''two''' // and
                '''three\
 continued''',
              "": "",
              'null': null.null,
            }, }"#;
        let item = one_item(text);
        assert_eq!(
            item["quoted name"],
            AttributeValue::S(
                "a\"b\\c/d?e'f\0\x07\x08\t\n\x0c\r\x0bA\u{e9}\u{1F600}\u{1F600}".into()
            )
        );
        assert_eq!(
            item["string name"],
            AttributeValue::S("one twothree continued".into())
        );
        assert_eq!(item[""], AttributeValue::S(String::new()));
        assert_eq!(item["null"], AttributeValue::Null);
    }

    /// Valid Ion that is not a DynamoDB item is an item in error, with DynamoDB's words where
    /// it has them, and the items after it are read.
    #[test]
    fn ion_that_is_no_dynamodb_item_is_an_item_error_and_reading_goes_on() {
        for (value, words) in [
            (
                "$dynamodb_XS::[\"a\"]",
                "annotation $dynamodb_XS is not one of DynamoDB's",
            ),
            ("$dynamodb_SS::$dynamodb_SS::[\"a\"]", "at most one"),
            ("$dynamodb_SS::[\"a\",1.]", "set holds a N"),
            ("$dynamodb_SS::\"a\"", "not a list"),
            (
                "$dynamodb_SS::[\"a\",\"a\"]",
                "Input collection [a, a] contains duplicates.",
            ),
            ("$dynamodb_NS::[]", "may not be empty"),
            ("1.5e0", "float 1.5e0 is not a DynamoDB number"),
            ("nan", "float nan"),
            ("sym", "symbol sym is not a DynamoDB value"),
            ("null.string", "typed Ion null null.string"),
            ("1d126", "Number overflow"),
            (
                "123456789012345678901234567890123456789",
                "38 significant digits",
            ),
        ] {
            let text = format!("$ion_1_0 {{Item:{{v:{value}}}}}\n$ion_1_0 {{Item:{{ok:1}}}}");
            let got = read(&text);
            assert_eq!(got.len(), 2, "{value}: {got:?}");
            assert!(
                got[0]
                    .as_ref()
                    .is_ok_and(|i| i.as_ref().is_err_and(|e| e.contains(words))),
                "{value}: {got:?}"
            );
            assert_eq!(got[1], Ok(Ok(json_item(r#"{"ok":{"N":"1"}}"#))));
        }
        assert!(item_error("{Item:{a:1},Other:{}}").contains("one field, Item"));
        assert!(item_error("{Metadata:{}}").contains("one field, Item"));
        assert!(item_error("{Item:{a:1,a:2}}").contains("field \"a\" twice"));
    }

    /// Text that is not Ion of the subset read fails the import, naming the line.
    #[test]
    fn malformed_ion_fails_naming_its_line() {
        for (text, words) in [
            ("$ion_1_0 {Item:{a:\"open", "ends inside a string"),
            ("$ion_1_0 {Item:{a:1", "ends inside a struct"),
            ("$ion_1_0 {Item:{a:'''open", "ends inside a long string"),
            ("$ion_1_0 {Item:{a:[1,", "ends where a value belongs"),
            ("$ion_1_0 [{Item:{a:1}}", "ends inside a list of items"),
            ("$ion_1_0 {Item:{a:\"\\q\"}}", "\\q is not an escape"),
            ("$ion_1_0 {Item:{a:\"\\x4\"}}", "2 hex digits"),
            ("$ion_1_0 {Item:{a:\"\\ud800\"}}", "surrogate pair"),
            (
                "$ion_1_0 {Item:{a:\"\\U00110000\"}}",
                "not a Unicode scalar",
            ),
            ("$ion_1_0 {Item:{a:\"line\nbreak\"}}", "raw line break"),
            ("$ion_1_0 {Item:{a:{{not base64!}}}}", "base64"),
            ("$ion_1_0 {Item:{a:{{\"clob\"}}}}", "clobs"),
            ("$ion_1_0 {Item:{a:(sexp)}}", "s-expressions"),
            (
                "$ion_1_0 {Item:{a:2024-01-01T}}",
                "not a number of the Ion subset",
            ),
            ("$ion_1_0 {Item:{a:0x1f}}", "no hex or binary ints"),
            ("$ion_1_0 {Item:{a:007}}", "leading zeros"),
            ("$ion_1_0 {Item:{$10:1}}", "symbol id $10"),
            ("$ion_1_0 {Item:{null:1}}", "keyword null"),
            ("$ion_1_0 {Item:{a:1 b:2}}", "separated by ','"),
            ("$ion_1_0 {Item:{a:[1 2]}}", "separated by ','"),
            (
                "$ion_1_0 $ion_symbol_table::{symbols:[\"a\"]}",
                "annotations",
            ),
            ("$ion_2_0 {Item:{}}", "not the version marker"),
            ("\"top\"", "a top-level value must be"),
            ("$ion_1_0 {Item:{a:1}} / x", "starts a comment"),
            (
                "$ion_1_0 [{Item:{a:1}} {Item:{a:2}}]",
                "separated by commas",
            ),
        ] {
            let why = malformed(text);
            assert!(why.contains(words), "{text}: {why}");
            let line = 1 + text.matches('\n').count();
            assert!(
                why.contains(&format!("malformed at line {line}")),
                "{text}: {why}"
            );
        }
        let why = malformed("$ion_1_0 {Item:{a:1}}\n\n$ion_1_0 {Item:{a:\"\\q\"}}");
        assert!(why.contains("at line 3"), "{why}");
    }

    /// Nesting past the bound is refused before it is read further; at the bound it reads.
    #[test]
    fn nesting_deeper_than_the_bound_is_malformed() {
        // The wrapper is depth 1 and the item 2: lists from depth 3.
        let lists = MAX_ION_DEPTH - 2;
        let nested =
            |n: usize| format!("$ion_1_0 {{Item:{{a:{}{}}}}}", "[".repeat(n), "]".repeat(n));
        assert!(matches!(read(&nested(lists)).as_slice(), [Ok(Ok(_))]));
        let why = malformed(&nested(lists + 1));
        assert!(why.contains("nest deeper than"), "{why}");
        // A bomb is refused without reading it all, and without the stack.
        let why = malformed(&nested(1_000_000));
        assert!(why.contains("nest deeper than"), "{why}");
    }

    /// An item's text longer than the line limit, or with more values than an item can
    /// hold, is refused once it passes the bound, never held whole.
    #[test]
    fn an_item_past_the_size_bounds_is_malformed() {
        let long = format!(
            "$ion_1_0 {{Item:{{a:\"{}\"}}}}",
            "x".repeat(MAX_IMPORT_LINE_BYTES)
        );
        let why = malformed(&long);
        assert!(why.contains("longer than"), "{why}");
        let many = format!("$ion_1_0 {{Item:{{a:[{}]}}}}", "1,".repeat(MAX_ITEM_SIZE));
        let why = malformed(&many);
        assert!(why.contains("more than 409600 values"), "{why}");
        // The bound is per item: items of a list, each under it, are read.
        let item = format!(
            "{{Item:{{a:\"{}\"}}}}",
            "x".repeat(MAX_IMPORT_LINE_BYTES / 2)
        );
        let list = format!("$ion_1_0 [{item},{item},{item}]");
        assert_eq!(
            read(&list)
                .iter()
                .filter(|r| matches!(r, Ok(Ok(_))))
                .count(),
            3
        );
    }

    /// A top-level symbol (where only the version marker `$ion_1_0` may stand) longer than
    /// an item may be is refused once it passes the bound, never held whole.
    #[test]
    fn a_top_level_symbol_past_the_size_bound_is_malformed() {
        let long = format!("$ion_1_0 {}", "a".repeat(MAX_IMPORT_LINE_BYTES + 1));
        let why = malformed(&long);
        assert!(why.contains("longer than"), "{why}");
    }

    /// Long strings count as values: an item of more long strings than an item can hold
    /// is refused, as one of as many short strings is.
    #[test]
    fn long_strings_count_against_the_values_bound() {
        let many = format!(
            "$ion_1_0 {{Item:{{a:[{}]}}}}",
            "'''''',".repeat(MAX_ITEM_SIZE)
        );
        let why = malformed(&many);
        assert!(why.contains("more than 409600 values"), "{why}");
    }

    /// The messages name the set annotations as they are written (`$dynamodb_SS`).
    #[test]
    fn set_messages_name_the_annotation_as_written() {
        let why = item_error("$ion_1_0 {Item:{v:$dynamodb_SS::[\"a\",1.]}}");
        assert!(why.contains("a $dynamodb_SS set holds a N"), "{why}");
        let why = item_error("$ion_1_0 {Item:{v:$dynamodb_NS::true}}");
        assert!(
            why.contains("annotation $dynamodb_NS is on a BOOL, not a list"),
            "{why}"
        );
    }

    /// Messages show at most a clipped piece of a symbol, a name or a number from the
    /// input, never megabytes of it (the first item error becomes the import's
    /// `FailureMessage`, kept in its record).
    #[test]
    fn messages_clip_the_input_they_quote() {
        let long = "a".repeat(1 << 20);
        let digits = "1".repeat(1 << 20);
        let annotations = "$x::".repeat(1 << 18);
        for value in [
            long.clone(),
            format!("{long}::1"),
            format!("{annotations}1"),
            format!("null.{long}"),
            format!("{digits}e0"),
            format!("{digits}x"),
            format!("${digits}"),
        ] {
            let text = format!("$ion_1_0 {{Item:{{v:{value}}}}}");
            let why = match read(&text).pop() {
                Some(Ok(Err(why)) | Err(why)) => why,
                other => panic!("{other:?}"),
            };
            assert!(why.len() < 1000, "{}: {}", why.len(), &why[..200]);
        }
        for text in [
            format!("$ion_1_0 {{Item:{{'{long}':1,'{long}':2}}}}"),
            format!("$ion_1_0 {long}"),
        ] {
            let why = match read(&text).pop() {
                Some(Ok(Err(why)) | Err(why)) => why,
                other => panic!("{other:?}"),
            };
            assert!(why.len() < 1000, "{}: {}", why.len(), &why[..200]);
        }
    }

    /// Every prefix of a valid source is read without a panic: whole items, then either the
    /// end or a malformed source (never an item that was not there).
    #[test]
    fn every_truncation_is_whole_items_then_an_error() {
        let item = json_item(DOCS_ITEM_JSON);
        let text = format!("{}{}", line(&item), line(&item));
        for cut in 0..text.len() {
            let Some(prefix) = text.get(..cut) else {
                continue;
            };
            for got in read(prefix) {
                match got {
                    Ok(Ok(read)) => assert_eq!(read, item, "cut at {cut}"),
                    Ok(Err(why)) => panic!("cut at {cut}: an item error {why}"),
                    Err(why) => assert!(why.contains("malformed"), "cut at {cut}: {why}"),
                }
            }
        }
    }

    fn number() -> impl Strategy<Value = Number> {
        (any::<i64>(), -140i32..140, 0u32..30).prop_filter_map("in range", |(m, e, extra)| {
            // Up to 38 digits: the mantissa's, and a run of others.
            let digits = format!("{}{}", m, "7".repeat(extra as usize));
            Number::parse(&format!("{digits}e{e}")).ok()
        })
    }

    /// Names and strings of any characters: quotes, backslashes, controls, keywords,
    /// symbol-like names, non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{0,4}",
            Just("null".to_owned()),
            Just("$ion_1_0".to_owned()),
            Just("$10".to_owned()),
            Just("'''".to_owned()),
            "\\PC{0,6}",
            proptest::collection::vec(any::<char>(), 0..6).prop_map(|c| c.into_iter().collect()),
        ]
    }

    fn value() -> impl Strategy<Value = AttributeValue> {
        use proptest::collection::{btree_map, btree_set, vec};
        let leaf = prop_oneof![
            text().prop_map(AttributeValue::S),
            number().prop_map(AttributeValue::N),
            vec(any::<u8>(), 0..5).prop_map(AttributeValue::B),
            any::<bool>().prop_map(AttributeValue::Bool),
            Just(AttributeValue::Null),
            btree_set(text(), 1..4).prop_map(AttributeValue::Ss),
            btree_set(number(), 1..4).prop_map(AttributeValue::Ns),
            btree_set(vec(any::<u8>(), 0..4), 1..4).prop_map(AttributeValue::Bs),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
                btree_map(text(), inner, 0..4).prop_map(AttributeValue::M),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// What the writer writes, the reader reads back: every type, every character.
        #[test]
        fn any_item_written_in_ion_reads_back_the_same(
            items in proptest::collection::vec(
                proptest::collection::btree_map(text(), value(), 0..5), 1..4)
        ) {
            let text: String = items.iter().map(line).collect();
            let got: Vec<_> = read(&text);
            prop_assert_eq!(got, items.into_iter().map(|i| Ok(Ok(i))).collect::<Vec<_>>(), "{}", text);
        }

        /// Any text made of Ion's pieces (and stray bytes) after the start of an item:
        /// items, item errors, or one malformed error at the end; never a panic.
        #[test]
        fn any_ion_like_text_is_read_without_a_panic(pieces in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(vec![
                    "{", "}", "[", "]", ",", ":", "::", "Item:", "a:", "'q':", "\"s\":",
                    "\"a\\u00e9\\ud83d\\ude00\"", "\"\\U00110000\"", "\"\\ud800\"",
                    "'''x'''", "'''", "$dynamodb_SS::", "$dynamodb_NS::", "$x::", "1.5", "6d2",
                    "-0.", "1e0", "007", "1d99999", "{{aGk=}}", "{{\"c\"}}", "null.string",
                    "null", "true", "nan", "sym", "$10", "$ion_1_0", "/*", "*/", "//", "\n",
                    " ", "(",
                ]).prop_map(|p| p.as_bytes().to_vec()),
                proptest::collection::vec(any::<u8>(), 1..3),
            ],
            0..40,
        )) {
            let mut text = b"$ion_1_0 {Item:{a:".to_vec();
            text.extend(pieces.concat());
            let got: Vec<_> = IonItems::new(text.as_slice()).collect();
            prop_assert!(got.iter().rev().skip(1).all(|r| r.is_ok()));
        }
    }
}
