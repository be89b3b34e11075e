//! The objects an `ImportTable` of `transfers.rs` reads, and the table they should make.
//!
//! A case picks the new table's shape ([`ImportSchema`]: a hash key `pk`, sometimes a
//! number range key `sk`, sometimes a global secondary index `byG` on a string `g`), then
//! items for it: keys unique by HASH+RANGE (several items share a `pk`), other attributes
//! of every type — numbers at DynamoDB's edges, all three sets, lists and maps nested a few
//! levels — and now and then an item DynamoDB's import must refuse: a table key missing or
//! of the wrong type, an index key of the wrong type, a CSV key cell that is empty or no
//! number. The objects hold them in DynamoDB JSON, Ion, or CSV with any of its delimiters,
//! quoted as RFC 4180 says where a cell holds the delimiter or a quote, its columns named by
//! each file's first line or by the request's `HeaderList`.
//!
//! Now and then an item takes an earlier one's key: DynamoDB's guide says items of one key
//! overwrite each other until one remains (tidestore keeps the last), and each is counted in
//! `ImportedItemCount`, which counts writes (ScyllaDB's test_import, run against AWS).
//!
//! The model ([`ImportModel`]) is what DynamoDB's developer guide ("Import format quotas
//! and validation") says the import leaves: the valid items, by key (of each key the last),
//! and the count of invalid ones, which are skipped. With none the import COMPLETES; with some it is FAILED
//! with `ItemValidationError` and the table keeps the valid items (`server/imports/job.rs`).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Map, Value};

use super::input::Input;
use crate::Item;

/// The delimiters `InputFormatOptions.Csv.Delimiter` takes (the model's `CsvDelimiter`
/// pattern `[,;:|\t ]`).
pub(super) const CSV_DELIMITERS: [char; 6] = [',', ';', ':', '|', '\t', ' '];

/// The new table of an import: its key and whether it has the index `byG`.
#[derive(Clone, Copy, Debug)]
pub(super) struct ImportSchema {
    /// A number range key `sk` besides the string hash key `pk`.
    pub(super) range: bool,
    /// A global secondary index `byG` on the string `g` (projection ALL).
    pub(super) index: bool,
}

impl ImportSchema {
    /// One of the shapes, from the input.
    pub(super) fn generated(input: &mut Input<'_>) -> ImportSchema {
        ImportSchema {
            range: input.rarely(50),
            index: input.rarely(40),
        }
    }

    /// `TableCreationParameters` for a table named `name` of this shape.
    pub(super) fn creation_parameters(self, name: &str) -> Value {
        let mut definitions = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
        let mut key = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        if self.range {
            definitions.push(json!({"AttributeName": "sk", "AttributeType": "N"}));
            key.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        }
        let mut parameters = json!({
            "TableName": name,
            "AttributeDefinitions": definitions,
            "KeySchema": key,
            "BillingMode": "PAY_PER_REQUEST",
        });
        if self.index {
            parameters["AttributeDefinitions"]
                .as_array_mut()
                .expect("a list")
                .push(json!({"AttributeName": "g", "AttributeType": "S"}));
            parameters["GlobalSecondaryIndexes"] = json!([{
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }]);
        }
        parameters
    }

    /// The columns of a CSV object for this shape: the keys, `c`, and the index key.
    pub(super) fn csv_columns(self) -> Vec<&'static str> {
        let mut columns = vec!["pk"];
        if self.range {
            columns.push("sk");
        }
        columns.push("c");
        if self.index {
            columns.push("g");
        }
        columns
    }
}

/// A table's item key as the model holds it: `pk`, and `sk`'s number as written (always an
/// integer written plainly, so that it is the form a `Scan` answers).
pub(super) type ModelKey = (String, Option<String>);

/// What an import of the generated objects must leave (see the module's doc).
#[derive(Default)]
pub(super) struct ImportModel {
    /// The valid items, by key (of items of one key, the last).
    pub(super) items: BTreeMap<ModelKey, Item>,
    /// How many items the import must refuse.
    pub(super) invalid: u64,
    /// How many items (valid or not) were written.
    pub(super) written: u64,
}

/// One item for an object: its DynamoDB JSON (in CSV, its cells instead) and whether the
/// import must refuse it.
pub(super) struct GeneratedItem {
    /// The item as DynamoDB JSON, for the JSON and Ion objects and for the model.
    pub(super) json: Value,
    /// The CSV cells, by column, for a CSV object.
    pub(super) cells: BTreeMap<&'static str, String>,
    /// DynamoDB's import refuses it.
    pub(super) invalid: bool,
}

impl ImportModel {
    /// The next item of a table of `schema`, recorded in the model; in CSV's terms when
    /// `csv` (every attribute a string, but for the key and index columns, which take
    /// their definitions' types).
    pub(super) fn next_item(
        &mut self,
        input: &mut Input<'_>,
        schema: ImportSchema,
        csv: bool,
    ) -> GeneratedItem {
        // Keys of their own, but now and then an earlier item's (a duplicate, which replaces
        // it: the model keeps the last valid one, as the import does); with a range key,
        // pairs of items share a hash key.
        let mut n = self.written;
        self.written += 1;
        if n > 0 && input.rarely(10) {
            n = input.below(n as usize) as u64;
        }
        let pk = match schema.range {
            true => format!("k{}", n / 2),
            false => format!("k{n}"),
        };
        let sk = schema.range.then(|| n.to_string());
        let invalid = input.rarely(12);
        let generated = match csv {
            true => csv_item(input, schema, &pk, sk.as_deref(), invalid),
            false => json_item(input, schema, &pk, sk.as_deref(), invalid),
        };
        if generated.invalid {
            self.invalid += 1;
        } else {
            let typed: Item =
                serde_json::from_value(generated.json.clone()).expect("a generated item");
            self.items.insert((pk, sk), typed);
        }
        generated
    }
}

/// An item of any attribute types; when `invalid`, with one key spoiled.
fn json_item(
    input: &mut Input<'_>,
    schema: ImportSchema,
    pk: &str,
    sk: Option<&str>,
    invalid: bool,
) -> GeneratedItem {
    let mut item = Map::new();
    item.insert("pk".into(), json!({"S": pk}));
    if let Some(sk) = sk {
        item.insert("sk".into(), json!({"N": sk}));
    }
    if schema.index && input.chance(80) {
        item.insert("g".into(), json!({"S": input.pick(&["g1", "g2", "é"])}));
    }
    for name in ["a", "b", "c"] {
        if input.chance(60) {
            item.insert(name.into(), generated_value(input, 3));
        }
    }
    if invalid {
        // A key missing or of the wrong type (the index's only when there is one).
        match input.below(4) {
            0 if schema.range => drop(item.remove("sk")),
            1 if schema.range => drop(item.insert("sk".into(), json!({"S": "x"}))),
            2 if schema.index => drop(item.insert("g".into(), json!({"N": "1"}))),
            3 => drop(item.remove("pk")),
            _ => drop(item.insert("pk".into(), json!({"N": "7"}))),
        }
    }
    GeneratedItem {
        json: Value::Object(item),
        cells: BTreeMap::new(),
        invalid,
    }
}

/// An item of CSV cells (a string `c` that may need quoting, the index key `g` sometimes
/// empty: then no attribute, and no index entry); when `invalid`, a key cell empty or (a
/// number's) not a number.
fn csv_item(
    input: &mut Input<'_>,
    schema: ImportSchema,
    pk: &str,
    sk: Option<&str>,
    invalid: bool,
) -> GeneratedItem {
    let mut cells = BTreeMap::new();
    let mut item = Map::new();
    cells.insert("pk", pk.to_owned());
    item.insert("pk".into(), json!({"S": pk}));
    if let Some(sk) = sk {
        cells.insert("sk", sk.to_owned());
        item.insert("sk".into(), json!({"N": sk}));
    }
    let c = input.pick(&[
        "a",
        "bc",
        "x y",
        "say \"hi\"",
        "semi;colon",
        "pipe|colon:",
        "tab\there",
        "two\nlines",
        "",
    ]);
    cells.insert("c", c.to_owned());
    item.insert("c".into(), json!({"S": c}));
    if schema.index {
        let g = input.pick(&["g1", "g2", ""]);
        cells.insert("g", g.to_owned());
        if !g.is_empty() {
            item.insert("g".into(), json!({"S": g}));
        }
    }
    if invalid {
        match input.below(3) {
            0 if schema.range => drop(cells.insert("sk", "x1".into())),
            1 if schema.range => drop(cells.insert("sk", String::new())),
            _ => drop(cells.insert("pk", String::new())),
        }
    }
    GeneratedItem {
        json: Value::Object(item),
        cells,
        invalid,
    }
}

/// A valid attribute value of any type, nested at most `depth` more levels.
fn generated_value(input: &mut Input<'_>, depth: usize) -> Value {
    match input.below(if depth == 0 { 8 } else { 11 }) {
        0 => json!({"S": input.pick(&["x", "", "é\"\\\n", "long text here", "𝄞"])}),
        1 => json!({"N": input.pick(&[
            "0",
            "-1.5",
            "12345678901234567890123456789012345678",
            "1E+5",
            "9.9999999999999999999999999999999999999E+125",
            "-1E-130",
            "0.000100",
        ])}),
        2 => json!({"BOOL": input.chance(50)}),
        3 => json!({"NULL": true}),
        4 => json!({"B": input.pick(&["AAEC", "/w==", ""])}),
        5 => json!({"SS": input.pick(&[&["a", "b"][..], &["é"], &["x", "y z"]])}),
        6 => json!({"NS": input.pick(&[&["1", "2.5"][..], &["-0.5"], &["1E+10", "3"]])}),
        7 => json!({"BS": input.pick(&[&["AAEC", "/w=="][..], &["AA=="]])}),
        8 => {
            let list: Vec<Value> = (0..input.below(4))
                .map(|_| generated_value(input, depth - 1))
                .collect();
            json!({ "L": list })
        }
        _ => {
            let mut map = Map::new();
            for name in ["k", "l", "m"] {
                if input.chance(50) {
                    map.insert(name.into(), generated_value(input, depth - 1));
                }
            }
            json!({ "M": map })
        }
    }
}

/// How a CSV object is written: its delimiter, and its columns named by its first line or
/// (`header_list`) by the request.
#[derive(Clone, Debug)]
pub(super) struct CsvLayout {
    /// The delimiter between values.
    pub(super) delimiter: char,
    /// The columns, in order.
    pub(super) columns: Vec<&'static str>,
    /// The request names the columns (`HeaderList`); the files have no header line.
    pub(super) header_list: bool,
}

impl CsvLayout {
    /// A layout for `schema`: any delimiter, the columns in one of two orders, with a
    /// header line or a `HeaderList`.
    pub(super) fn generated(input: &mut Input<'_>, schema: ImportSchema) -> CsvLayout {
        let delimiter = match input.rarely(60) {
            true => input.pick(&CSV_DELIMITERS),
            false => ',',
        };
        let mut columns = schema.csv_columns();
        if input.chance(50) {
            columns.reverse();
        }
        CsvLayout {
            delimiter,
            columns,
            header_list: input.rarely(50),
        }
    }

    /// `InputFormatOptions.Csv` for this layout (the delimiter left out, sometimes, when it
    /// is the default).
    pub(super) fn options(&self, input: &mut Input<'_>) -> Option<Value> {
        let mut csv = Map::new();
        if self.delimiter != ',' || input.rarely(30) {
            csv.insert("Delimiter".into(), json!(self.delimiter.to_string()));
        }
        if self.header_list {
            csv.insert("HeaderList".into(), json!(self.columns));
        }
        (!csv.is_empty()).then(|| json!({ "Csv": csv }))
    }

    /// `cell` as written in a file: quoted (a quote doubled) when it holds the delimiter,
    /// a quote or a line break.
    fn written_cell(&self, cell: &str) -> String {
        if cell.contains([self.delimiter, '"', '\n', '\r']) {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell.to_owned()
        }
    }

    /// A CSV object holding `items`.
    fn object(&self, items: &[GeneratedItem]) -> Vec<u8> {
        let separator = self.delimiter.to_string();
        let mut out = String::new();
        if !self.header_list {
            out.push_str(&self.columns.join(&separator));
            out.push('\n');
        }
        for item in items {
            let cells: Vec<String> = (self.columns.iter())
                .map(|column| self.written_cell(item.cells.get(column).map_or("", |c| c)))
                .collect();
            out.push_str(&cells.join(&separator));
            out.push('\n');
        }
        out.into_bytes()
    }
}

/// `items` in `format`'s file layout: DynamoDB JSON lines, Ion values, or CSV as `csv` says.
pub(super) fn encoded(format: &str, csv: &CsvLayout, items: &[GeneratedItem]) -> Vec<u8> {
    let mut out = Vec::new();
    match format {
        "DYNAMODB_JSON" => {
            for item in items {
                out.extend_from_slice(json!({ "Item": item.json }).to_string().as_bytes());
                out.push(b'\n');
            }
        }
        "ION" => {
            out.extend_from_slice(b"$ion_1_0 ");
            for item in items {
                // An invalid item is still a valid Ion struct: the keys are what is wrong.
                let typed: Item = serde_json::from_value(item.json.clone()).expect("an item");
                out.extend_from_slice(b"{Item:");
                crate::format::ion::write_struct(&mut out, typed.iter());
                out.extend_from_slice(b"}\n");
            }
        }
        _ => out = csv.object(items),
    }
    out
}

/// `bytes` compressed as `compression` (`NONE`, `GZIP` or `ZSTD`) names.
pub(super) fn compressed(compression: &str, bytes: Vec<u8>) -> Vec<u8> {
    match compression {
        "GZIP" => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let _ = encoder.write_all(&bytes);
            encoder.finish().unwrap_or_default()
        }
        "ZSTD" => ruzstd::encoding::compress_to_vec(
            &bytes[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ),
        _ => bytes,
    }
}
