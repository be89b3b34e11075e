//! CSV sources of an import, as DynamoDB's import from S3 reads them (developer guide,
//! "Amazon S3 import formats for DynamoDB" and "Import format quotas and validation"):
//!
//! - a file holds one item a line, its values separated by the delimiter (`,` unless
//!   `CsvOptions::delimiter` says otherwise);
//! - without `HeaderList` the first line of *each* file names its columns; with it, every
//!   file's first line is data, and a line must have as many values as there are names;
//! - the columns of the table's and its indexes' keys (the `AttributeDefinitions`) take the
//!   type defined there (`N` parsed as a number, `B` as base64); every other column is a
//!   string;
//! - a double quote in a value is escaped by doubling it inside a quoted value (RFC 4180):
//!   `"say ""hi"""` is `say "hi"`. A quoted value may hold the delimiter and line breaks.
//!
//! What the guide leaves open, decided here: an empty value of a key column is no attribute
//! (a missing table key is then an item in error, as in the guide's example; a missing index
//! key leaves the item out of that index), an empty value of another column the empty string;
//! blank lines are skipped and not counted; `\r\n` line ends and a byte order mark at the
//! start of a file are taken; a line that cannot be read as CSV (a stray quote, a quoted
//! value not closed, text after a closing quote, not UTF-8, longer than
//! [`MAX_IMPORT_LINE_BYTES`], more values than an item can have columns: 409,600) or whose
//! values do not fit the header is an item in error,
//! counted and listed, and the next line is read. A header that cannot name the columns
//! (malformed, an empty or repeated name) is one error, and the rest of its file is skipped,
//! as the guide says DynamoDB may skip the rest of a malformed object.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Read};

use crate::api::imports::{CsvOptions, CSV_DELIMITERS, MAX_IMPORT_LINE_BYTES};
use crate::error::{Error, Result};
use crate::model::schema::ScalarAttributeType;
use crate::model::value::{AttributeValue, Item, MAX_ITEM_SIZE};

/// The most names in a `HeaderList` (the model's `CsvHeaderList`).
const MAX_HEADERS: usize = 255;
/// The longest name in a `HeaderList` (the model's `CsvHeader`).
const MAX_HEADER_LEN: usize = 65_536;

/// Checks `options` as DynamoDB checks `InputFormatOptions.Csv`.
pub(crate) fn validate(options: &CsvOptions) -> Result<()> {
    let refusal = |value: &str, path: &str, constraint: &str| {
        Err(Error::validation(format!(
            "1 validation error detected: Value '{value}' at 'inputFormatOptions.csv.{path}' failed to satisfy constraint: Member must {constraint}"
        )))
    };
    if !CSV_DELIMITERS.contains(&options.delimiter) {
        return refusal(
            &options.delimiter.to_string(),
            "delimiter",
            "satisfy regular expression pattern: [,;:|\\t ]",
        );
    }
    let Some(names) = &options.header_list else {
        return Ok(());
    };
    let shown = || format!("[{}]", names.join(", "));
    if names.is_empty() {
        return refusal(
            &shown(),
            "headerList",
            "have length greater than or equal to 1",
        );
    }
    if names.len() > MAX_HEADERS {
        return refusal(
            &shown(),
            "headerList",
            &format!("have length less than or equal to {MAX_HEADERS}"),
        );
    }
    for (i, name) in names.iter().enumerate() {
        let path = format!("headerList.{}.member", i + 1);
        if name.is_empty() {
            return refusal(name, &path, "have length greater than or equal to 1");
        }
        if name.len() > MAX_HEADER_LEN {
            return refusal(
                name,
                &path,
                &format!("have length less than or equal to {MAX_HEADER_LEN}"),
            );
        }
        // `[\x20-\x21\x23-\x2B\x2D-\x7E]*`: printable ASCII but `"` and `,`.
        if !name
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b',')
        {
            return refusal(
                name,
                &path,
                "satisfy regular expression pattern: [\\x20-\\x21\\x23-\\x2B\\x2D-\\x7E]*",
            );
        }
    }
    if let Some(name) = repeated(names) {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: the HeaderList names the column {name} twice"
        )));
    }
    Ok(())
}

/// The first name that appears twice in `names`, if any.
fn repeated(names: &[String]) -> Option<&str> {
    let mut seen = HashSet::new();
    names
        .iter()
        .find(|n| !seen.insert(n.as_str()))
        .map(String::as_str)
}

/// The items of CSV files, one file after another: each an item or why a line is not one;
/// a failure to read a file ends them (and fails the import).
pub(crate) struct CsvItems<I: Iterator> {
    files: I,
    current: Option<Records<I::Item>>,
    options: CsvOptions,
    /// The key columns' types (every attribute the table defines is a key of it or of an
    /// index).
    types: BTreeMap<String, ScalarAttributeType>,
    /// The current file's column names, read from its first line (without `HeaderList`).
    header: Option<Vec<String>>,
    /// A file failed to read: the items end.
    failed: bool,
}

impl<I> CsvItems<I>
where
    I: Iterator,
    I::Item: BufRead,
{
    pub(crate) fn new(
        files: I,
        options: CsvOptions,
        types: BTreeMap<String, ScalarAttributeType>,
    ) -> CsvItems<I> {
        CsvItems {
            files,
            current: None,
            options,
            types,
            header: None,
            failed: false,
        }
    }

    /// Line `values` as an item of columns `header`. Its size is reckoned before anything is
    /// copied: the names come from the header, so a short line can name megabytes (a
    /// `HeaderList` of 255 names of 65,536 characters is 16 MiB), which must not be copied
    /// for every line only to find the item too large.
    fn item(&self, header: &[String], values: Vec<String>) -> Result<Item> {
        if values.len() != header.len() {
            return Err(Error::validation(format!(
                "One or more parameter values were invalid: a line of CSV has {} values and its header {} columns",
                values.len(),
                header.len()
            )));
        }
        // Never more than the item's DynamoDB size (a typed key's value, not yet read, counts
        // 0), so an item refused here is one `validate_item` would refuse.
        let least: usize = (header.iter().zip(&values))
            .filter_map(|(name, value)| match self.types.get(name) {
                Some(_) if value.is_empty() => None,
                Some(ScalarAttributeType::S) | None => Some(name.len() + value.len()),
                Some(_) => Some(name.len()),
            })
            .sum();
        if least > MAX_ITEM_SIZE {
            return Err(Error::validation(format!(
                "Item size has exceeded the maximum allowed size of {MAX_ITEM_SIZE} bytes (this item is at least {least} bytes)"
            )));
        }
        let mut item = Item::new();
        for (name, value) in header.iter().zip(values) {
            let value = match self.types.get(name) {
                // An empty key value is no attribute: a missing key (an error) or an item
                // that stays out of an index.
                Some(_) if value.is_empty() => continue,
                Some(ScalarAttributeType::S) | None => AttributeValue::S(value),
                // DynamoDB JSON's reading of the value: its checks and its words.
                Some(ScalarAttributeType::N) => typed("N", value)?,
                Some(ScalarAttributeType::B) => typed("B", value)?,
            };
            item.insert(name.clone(), value);
        }
        Ok(item)
    }
}

/// `value` read as DynamoDB JSON's `{ty: value}` reads it.
fn typed(ty: &str, value: String) -> Result<AttributeValue> {
    serde_json::from_value(serde_json::json!({ ty: value })).map_err(Error::validation)
}

impl<I> Iterator for CsvItems<I>
where
    I: Iterator,
    I::Item: BufRead,
{
    type Item = std::io::Result<Result<Item>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let Some(records) = &mut self.current else {
                let file = self.files.next()?;
                self.current = Some(Records::new(file, self.options.delimiter));
                self.header = None;
                continue;
            };
            let values = match records.next() {
                None => {
                    self.current = None;
                    continue;
                }
                Some(Err(e)) => {
                    // The import fails: nothing more is read.
                    self.failed = true;
                    self.current = None;
                    return Some(Err(e));
                }
                Some(Ok(values)) => values,
            };
            // (`HeaderList` is borrowed, never copied: it may be 16 MiB, and there may be
            // 50,000 files.)
            let header = match (&self.options.header_list, &self.header) {
                (Some(header), _) | (None, Some(header)) => header,
                (None, None) => {
                    // The file's first line names its columns.
                    match values.and_then(header_of) {
                        Ok(header) => self.header = Some(header),
                        Err(e) => {
                            // Nothing after it can be read as items of this file.
                            self.current = None;
                            return Some(Ok(Err(e)));
                        }
                    }
                    continue;
                }
            };
            return Some(Ok(values.and_then(|values| self.item(header, values))));
        }
    }
}

/// A file's first line as its column names.
fn header_of(values: Vec<String>) -> Result<Vec<String>> {
    if values.iter().any(String::is_empty) {
        return Err(Error::validation(
            "One or more parameter values were invalid: the header line of a CSV file has an empty column name",
        ));
    }
    if let Some(name) = repeated(&values) {
        return Err(Error::validation(format!(
            "One or more parameter values were invalid: the header line of a CSV file names the column {name} twice"
        )));
    }
    Ok(values)
}

/// The most values a record keeps: no item has more columns than `MAX_ITEM_SIZE` bytes (each
/// column but an empty key is an attribute of at least a one-byte name), so a line with more
/// is an item in error, and the values past these are not kept (an empty value costs 24
/// bytes: a line of 8 MiB of delimiters held 200 MB).
const MAX_VALUES: usize = MAX_ITEM_SIZE;

/// Ends the value being read: kept in `values`, or dropped once there are [`MAX_VALUES`].
fn end_value(values: &mut Vec<Vec<u8>>, value: &mut Vec<u8>, error: &mut Option<&str>) {
    if values.len() < MAX_VALUES {
        values.push(std::mem::take(value));
    } else {
        value.clear();
        error.get_or_insert("has more values than an item can have columns (409,600)");
    }
}

/// Where the reader is in a line (RFC 4180's grammar, one byte at a time).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a value: a `"` opens a quoted one.
    Start,
    /// In a value that did not start with `"`: a `"` here is an error.
    Plain,
    /// In a quoted value: everything is data (delimiters, line breaks) but `"`.
    Quoted,
    /// Just after a `"` in a quoted value: `"` again is a quote in the data, the delimiter
    /// or the line's end closes the value, anything else is an error.
    QuoteInQuoted,
}

/// A physical line of a file: its bytes and whether a line end followed them, or one too
/// long to hold (skipped).
enum Line {
    Text(Vec<u8>, bool),
    TooLong,
}

/// The lines (records) of one CSV file, each split into its values.
struct Records<R> {
    source: R,
    delimiter: u8,
    first: bool,
    done: bool,
}

impl<R: BufRead> Records<R> {
    fn new(source: R, delimiter: char) -> Records<R> {
        Records {
            source,
            // (Every delimiter DynamoDB takes is ASCII: checked by `validate`.)
            delimiter: u8::try_from(delimiter).unwrap_or(b','),
            first: true,
            done: false,
        }
    }

    /// The next physical line, without its `\n` (and a `\r` before it), and whether it had
    /// a line end; `None` at the end of the file. A line longer than the limit is skipped
    /// to its end and answered as `Err`.
    fn line(&mut self) -> std::io::Result<Option<Line>> {
        let mut line = Vec::new();
        let read = (&mut self.source)
            .take(MAX_IMPORT_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(None);
        }
        // (A line of exactly the limit is read with its `\n`, one byte past it: its end is
        // not to be looked for, which would skip the whole next line.)
        if line.len() > MAX_IMPORT_LINE_BYTES && !line.ends_with(b"\n") {
            // The rest of the line is skipped, never held.
            self.source.skip_until(b'\n')?;
            return Ok(Some(Line::TooLong));
        }
        if std::mem::take(&mut self.first) && line.starts_with("\u{feff}".as_bytes()) {
            line.drain(..3);
        }
        let ended = line.ends_with(b"\n");
        if ended {
            line.pop();
        }
        Ok(Some(Line::Text(line, ended)))
    }
}

impl<R: BufRead> Iterator for Records<R> {
    /// A line's values, or why it has none; an I/O error ends the file.
    type Item = std::io::Result<Result<Vec<String>>>;

    fn next(&mut self) -> Option<Self::Item> {
        let malformed = |why: &str| {
            Error::validation(format!(
                "One or more parameter values were invalid: a line of CSV {why}"
            ))
        };
        if self.done {
            return None;
        }
        let mut values: Vec<Vec<u8>> = Vec::new();
        let mut value = Vec::new();
        let mut state = State::Start;
        let mut error: Option<&str> = None;
        let mut size = 0;
        loop {
            let (mut line, ended) = match self.line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(None) if state == State::Quoted => {
                    self.done = true;
                    return Some(Ok(Err(malformed(
                        "has a quoted value not closed before the end of its file",
                    ))));
                }
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Ok(Some(Line::TooLong)) => {
                    return Some(Ok(Err(malformed(&format!(
                        "is longer than {MAX_IMPORT_LINE_BYTES} bytes"
                    )))));
                }
                Ok(Some(Line::Text(line, ended))) => (line, ended),
            };
            // The `\r` of a `\r\n` line end is part of a quoted value only.
            let cr = ended && line.last() == Some(&b'\r');
            if cr {
                line.pop();
            }
            // A blank line between records is no record (not counted).
            if line.is_empty() && state == State::Start && values.is_empty() {
                continue;
            }
            size += line.len();
            if size > MAX_IMPORT_LINE_BYTES {
                // A quoted value that runs on: cut here, and read on from the next line.
                return Some(Ok(Err(malformed(&format!(
                    "is longer than {MAX_IMPORT_LINE_BYTES} bytes"
                )))));
            }
            for &b in &line {
                state = match (state, b) {
                    (State::Start, b'"') => State::Quoted,
                    (State::Start | State::Plain, d) if d == self.delimiter => {
                        end_value(&mut values, &mut value, &mut error);
                        State::Start
                    }
                    (State::Plain, b'"') => {
                        error.get_or_insert("has a double quote in a value not quoted (write it doubled, in a quoted value)");
                        State::Plain
                    }
                    (State::Start | State::Plain, b) => {
                        value.push(b);
                        State::Plain
                    }
                    (State::Quoted, b'"') => State::QuoteInQuoted,
                    (State::Quoted, b) => {
                        value.push(b);
                        State::Quoted
                    }
                    (State::QuoteInQuoted, b'"') => {
                        value.push(b'"');
                        State::Quoted
                    }
                    (State::QuoteInQuoted, d) if d == self.delimiter => {
                        end_value(&mut values, &mut value, &mut error);
                        State::Start
                    }
                    (State::QuoteInQuoted, b) => {
                        error.get_or_insert("has text after the closing quote of a value");
                        value.push(b);
                        State::Plain
                    }
                };
            }
            if state == State::Quoted && ended {
                // The line break is the quoted value's.
                if cr {
                    value.push(b'\r');
                }
                value.push(b'\n');
                size += 1 + usize::from(cr);
                continue;
            }
            if state == State::Quoted {
                self.done = true;
                return Some(Ok(Err(malformed(
                    "has a quoted value not closed before the end of its file",
                ))));
            }
            end_value(&mut values, &mut value, &mut error);
            if let Some(why) = error {
                return Some(Ok(Err(malformed(why))));
            }
            let text: std::result::Result<Vec<String>, _> =
                values.into_iter().map(String::from_utf8).collect();
            return Some(Ok(text.map_err(|_| malformed("is not UTF-8"))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(
        text: &(impl AsRef<[u8]> + ?Sized),
        delimiter: char,
    ) -> Vec<std::result::Result<Vec<String>, String>> {
        Records::new(text.as_ref(), delimiter)
            .map(|r| r.expect("reads").map_err(|e| e.message()))
            .collect()
    }

    fn ok(values: &[&str]) -> std::result::Result<Vec<String>, String> {
        Ok(values.iter().map(|v| v.to_string()).collect())
    }

    /// RFC 4180's quoting: doubled quotes, delimiters and line breaks (either kind) in
    /// quoted values, empty values, `\r\n` line ends, a last line without its end, blank
    /// lines skipped, a byte order mark taken.
    #[test]
    fn quoted_values_hold_quotes_delimiters_and_line_breaks() {
        let text = "\u{feff}a,b,c\r\n\"say \"\"hi\"\"\",\"x,y\",\"two\nlines\"\n\n,,\r\n\"\",\"crlf\r\nkept\",z";
        assert_eq!(
            records(text, ','),
            vec![
                ok(&["a", "b", "c"]),
                ok(&["say \"hi\"", "x,y", "two\nlines"]),
                ok(&["", "", ""]),
                ok(&["", "crlf\r\nkept", "z"]),
            ]
        );
        assert_eq!(
            records("a\tb c\n\"t\tab\"\tq\n", '\t'),
            vec![ok(&["a", "b c"]), ok(&["t\tab", "q"])]
        );
    }

    /// A stray quote, text after a closing quote, bytes that are not UTF-8: that line is in
    /// error and the next one is read; a quoted value never closed ends the file in error.
    #[test]
    fn malformed_lines_are_errors_and_reading_goes_on() {
        let got = records(b"a\"b,c\n\"a\"b,c\nok,1\n\xff,2\n\"open,3\nmore\n", ',');
        assert_eq!(got.len(), 5, "{got:?}");
        assert!(got[0].as_ref().is_err_and(|e| e.contains("double quote")));
        assert!(got[1]
            .as_ref()
            .is_err_and(|e| e.contains("after the closing quote")));
        assert_eq!(got[2], ok(&["ok", "1"]));
        assert!(got[3].as_ref().is_err_and(|e| e.contains("UTF-8")));
        assert!(got[4].as_ref().is_err_and(|e| e.contains("not closed")));
    }

    /// A quoted value that runs on past the line limit is cut there, never held whole.
    #[test]
    fn a_quoted_value_longer_than_the_limit_is_an_error() {
        let mut text = String::from("\"");
        let line = format!("{}\n", "x".repeat(1 << 20));
        for _ in 0..(MAX_IMPORT_LINE_BYTES >> 20) + 1 {
            text.push_str(&line);
        }
        text.push_str("\"\nnext,1\n");
        let got = records(&text, ',');
        assert!(
            got[0].as_ref().is_err_and(|e| e.contains("longer than")),
            "{:?}",
            got[0].as_ref().err()
        );
    }

    /// A line of exactly the limit (8 MiB before its `\n`) is read whole, and so is the line
    /// after it: the limit's check once took the `\n` just past it for a longer line's and
    /// skipped the whole next line as that line's rest, an item lost and not counted.
    #[test]
    fn a_line_of_exactly_the_limit_is_read_and_so_is_the_next() {
        let mut text = "x".repeat(MAX_IMPORT_LINE_BYTES);
        text.push_str("\nnext,1\n");
        let got = records(&text, ',');
        assert_eq!(
            got.len(),
            2,
            "{:?}",
            got.iter()
                .map(|r| r.as_ref().map(|v| v.len()))
                .collect::<Vec<_>>()
        );
        assert_eq!(got[0], Ok(vec!["x".repeat(MAX_IMPORT_LINE_BYTES)]));
        assert_eq!(got[1], ok(&["next", "1"]));
    }

    #[test]
    fn options_are_checked_as_the_model_says() {
        assert!(validate(&CsvOptions::default()).is_ok());
        for d in CSV_DELIMITERS {
            assert!(validate(&CsvOptions::default().delimiter(d)).is_ok());
        }
        for (options, words) in [
            (
                CsvOptions::default().delimiter('x'),
                "inputFormatOptions.csv.delimiter",
            ),
            (
                CsvOptions::default().header_list(Vec::<String>::new()),
                "greater than or equal to 1",
            ),
            (
                CsvOptions::default().header_list(["a", ""]),
                "headerList.2.member",
            ),
            (
                CsvOptions::default().header_list(["a\"b"]),
                "regular expression",
            ),
            (
                CsvOptions::default().header_list(["a,b"]),
                "regular expression",
            ),
            (CsvOptions::default().header_list(["a", "a"]), "twice"),
            (
                CsvOptions::default().header_list((0..256).map(|i| format!("c{i}"))),
                "less than or equal to 255",
            ),
        ] {
            let message = validate(&options).expect_err("refused").message();
            assert!(message.contains(words), "{message}");
        }
    }
}
