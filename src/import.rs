//! `ImportTable`: a new table made from a whole set of items at once — DynamoDB's answer to
//! a bulk load, and the fast way to fill a table here.
//!
//! Writes, however batched, each insert into the live table's ordered map, log the item and
//! later write it again in a snapshot. An import does none of that: it checks and encodes
//! every item, sorts them by key once, and writes the new table's first snapshot in key
//! order, which one log record then commits, as a restore does (`restore.rs`): a crash
//! leaves either no table or the whole imported one, and the items reach the disk once.
//!
//! DynamoDB's rules for its imports from S3 hold: the table is new (an existing name is
//! `ResourceInUse`); an item that is not valid in it is left out and counted as an error,
//! not a reason to fail the import; items with the same key replace one another until one
//! remains (here, deterministically, the last handed over), are not errors and each counts
//! as imported (DynamoDB counts writes, not the items the table ends with). All items are
//! held in memory, encoded (about the size of the snapshot file), until the snapshot is
//! written; the table is then loaded from the file, as an open loads it.

use std::cell::Cell;
use std::io::{BufRead, Read};
use std::sync::Arc;

mod csv;

use crate::api::imports::*;
use crate::api::tables::TableStatus;
use crate::engine::Engine;
use crate::error::{io_error, Error, Result};
use crate::format::catalog::{snapshot_name, SNAPSHOT_DIR};
use crate::format::codec;
use crate::format::ion::IonItems;
use crate::format::item::StoredItem;
use crate::format::table_file::{SnapshotMeta, TableFileWriter, SNAPSHOT_MAGIC};
use crate::model::key::KeyRole;
use crate::model::schema::TableSchema;
use crate::model::value::{item_size, validate_item, Item};
use crate::restore::commit_new_table;
use crate::state::table::TableData;
use crate::storage::replay::load_snapshot;

/// The service behind [`Database::import_table`](crate::Database::import_table).
pub(crate) fn import_table(
    engine: &Engine,
    input: ImportTableInput,
    items: impl IntoIterator<Item = Item>,
) -> Result<ImportTableOutput> {
    import(
        engine,
        input,
        items.into_iter().map(|item| Ok(Ok(item))),
        None,
    )
}

/// The service behind
/// [`Database::import_table_from_dynamodb_json`](crate::Database::import_table_from_dynamodb_json).
pub(crate) fn import_table_from_dynamodb_json(
    engine: &Engine,
    input: ImportTableInput,
    source: impl BufRead,
) -> Result<ImportTableOutput> {
    let bytes = Cell::new(0);
    let lines = Lines {
        source: Counted {
            inner: source,
            bytes: &bytes,
        },
        first: true,
        done: false,
    }
    .filter(|line| !matches!(line, Ok(Ok(text)) if text.trim().is_empty()))
    .map(|line| {
        line.map(|text| text.and_then(|text| exported_item(&text)))
            .map_err(io_error("reading the import's source"))
    });
    import(engine, input, lines, Some(&bytes))
}

/// The service behind
/// [`Database::import_table_from_ion`](crate::Database::import_table_from_ion): the files
/// read one after another, each a stream of Ion values (`format/ion.rs`).
pub(crate) fn import_table_from_ion<R: BufRead>(
    engine: &Engine,
    input: ImportTableInput,
    files: impl IntoIterator<Item = R>,
) -> Result<ImportTableOutput> {
    // (A file that is not Ion fails the import: `import` stops at the first outer error.)
    let bytes = Cell::new(0);
    let items = (files.into_iter())
        .map(|inner| Counted {
            inner,
            bytes: &bytes,
        })
        .flat_map(IonItems::new);
    import(engine, input, items, Some(&bytes))
}

/// Checks `options` as DynamoDB checks `InputFormatOptions.Csv` (for a caller that refuses
/// a request before it starts the import: the server's ImportTable).
#[cfg(feature = "server")]
pub(crate) fn validate_csv_options(options: &CsvOptions) -> Result<()> {
    csv::validate(options)
}

/// The service behind
/// [`Database::import_table_from_csv`](crate::Database::import_table_from_csv).
pub(crate) fn import_table_from_csv<R: BufRead>(
    engine: &Engine,
    input: ImportTableInput,
    options: CsvOptions,
    files: impl IntoIterator<Item = R>,
) -> Result<ImportTableOutput> {
    csv::validate(&options)?;
    let types = (input.table_creation_parameters.attribute_definitions.iter())
        .map(|d| (d.attribute_name.clone(), d.attribute_type))
        .collect();
    let bytes = Cell::new(0);
    let files = (files.into_iter()).map(|inner| Counted {
        inner,
        bytes: &bytes,
    });
    let items = csv::CsvItems::new(files, options, types)
        .map(|item| item.map_err(io_error("reading the import's source")));
    import(engine, input, items, Some(&bytes))
}

/// The lines of a DynamoDB JSON source: each a line's text (its `\n` or `\r\n` taken off,
/// and a byte order mark before the first), or why it is not one (not UTF-8, longer than
/// [`MAX_IMPORT_LINE_BYTES`]); an I/O error ends them.
struct Lines<R> {
    source: R,
    first: bool,
    done: bool,
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = std::io::Result<Result<String>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut line = Vec::new();
        let read = (&mut self.source)
            .take(MAX_IMPORT_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) => self.done = true,
            // (A line of exactly the limit is read with its `\n`, one byte past it: its end
            // is not to be looked for, which would skip the whole next line.)
            Ok(_) if line.len() > MAX_IMPORT_LINE_BYTES && !line.ends_with(b"\n") => {
                // The rest of the line is skipped, never held.
                return Some(self.source.skip_until(b'\n').map(|_| {
                    Err(Error::validation(format!(
                        "One or more parameter values were invalid: a line of DynamoDB JSON is longer than {MAX_IMPORT_LINE_BYTES} bytes"
                    )))
                }));
            }
            Ok(_) => {}
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        }
        if self.done {
            return None;
        }
        if line.ends_with(b"\n") {
            line.pop();
            if line.ends_with(b"\r") {
                line.pop();
            }
        }
        if std::mem::take(&mut self.first) && line.starts_with("\u{feff}".as_bytes()) {
            line.drain(..3);
        }
        Some(Ok(String::from_utf8(line).map_err(|_| {
            Error::validation(
                "One or more parameter values were invalid: a line of DynamoDB JSON is not UTF-8",
            )
        })))
    }
}

/// An item of a file in DynamoDB JSON, as DynamoDB's export to S3 writes it and its import
/// reads it: one `{"Item": {…}}` a line.
fn exported_item(line: &str) -> Result<Item> {
    let not_an_item = || {
        Error::validation(
            "One or more parameter values were invalid: a line of DynamoDB JSON must be one object with one member, Item",
        )
    };
    let value: serde_json::Value = serde_json::from_str(line).map_err(Error::validation)?;
    match value {
        serde_json::Value::Object(mut line) if line.len() == 1 => {
            let item = line.remove("Item").ok_or_else(not_an_item)?;
            serde_json::from_value(item).map_err(Error::validation)
        }
        _ => Err(not_an_item()),
    }
}

/// A source of an import whose bytes are counted as its reader takes them (read, or
/// consumed from the buffer): DynamoDB's `ProcessedSizeBytes` is the source's bytes, not the
/// items' size (ScyllaDB's test_import, run against AWS).
struct Counted<'a, R> {
    inner: R,
    bytes: &'a Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.set(self.bytes.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.bytes.set(self.bytes.get() + n as u64);
    }
}

/// Imports the items of `source`: an item in error is counted and listed, an outer error
/// (reading the source) fails the import before anything is committed. `source_bytes`, when
/// the items are read from bytes, counts those bytes: `ProcessedSizeBytes` (else the items'
/// DynamoDB size).
fn import(
    engine: &Engine,
    input: ImportTableInput,
    source: impl Iterator<Item = Result<Result<Item>>>,
    source_bytes: Option<&Cell<u64>>,
) -> Result<ImportTableOutput> {
    let start = engine.options.clock.now();
    let table = &input.table_creation_parameters;
    // DynamoDB's `TableCreationParameters` has neither; here both would need records of
    // their own beside the one that commits the import.
    if table.stream_specification.is_some() || !table.tags.is_empty() {
        return Err(Error::validation(
            "One or more parameter values were invalid: an imported table is created without a stream and without tags (TableCreationParameters has neither): enable the stream with UpdateTable and add tags with TagResource after the import",
        ));
    }
    let mut schema = table.to_schema(start)?;
    if let Some(id) = &input.table_id {
        schema.id = id.clone();
    }
    let schema = Arc::new(schema);
    let _claim = {
        let _ddl = engine.ddl.lock();
        // (Checked again at the commit: tables may be created while the items are read.)
        engine.check_table_limit(engine.tables.read().len())?;
        // As `CreateTable` answers for a name in use (a restore's is `TableAlreadyExists`).
        engine
            .claim_table_name(&schema.name)
            .map_err(|_| Error::ResourceInUse(format!("Table already exists: {}", schema.name)))?
    };

    let table_arn = engine.scope.table_arn(&schema.name);
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let mut description = ImportTableDescription {
        import_arn: format!("{table_arn}/import/{:014}-{}", start.0, &suffix[..8]),
        import_status: ImportStatus::Completed,
        table_arn,
        table_id: schema.id.clone(),
        table_creation_parameters: input.table_creation_parameters.clone(),
        start_time: start,
        end_time: start,
        processed_item_count: 0,
        processed_size_bytes: 0,
        imported_item_count: 0,
        error_count: 0,
        item_errors: Vec::new(),
    };

    // (A size hint is not a promise: a wrong one must not allocate the heap away.)
    let mut batch = Batch::with_capacity(source.size_hint().0.min(1 << 20));
    for (number, item) in source.enumerate() {
        description.processed_item_count += 1;
        let pushed = item?.and_then(|item| {
            description.processed_size_bytes += item_size(&item) as u64;
            batch.push(&schema, &item, number)
        });
        if let Err(e) = pushed {
            description.error_count += 1;
            if description.item_errors.len() < MAX_IMPORT_ITEM_ERRORS {
                description.item_errors.push(ImportItemError {
                    item_number: number as u64,
                    error_code: e.exception_name().to_owned(),
                    message: e.message(),
                });
            }
        }
    }
    // As DynamoDB counts (ScyllaDB's test_import, run against AWS: 5 lines of 3 keys import
    // 5): every item written, an item a later one of its key replaced too.
    description.imported_item_count = description.processed_item_count - description.error_count;
    if let Some(bytes) = source_bytes {
        description.processed_size_bytes = bytes.get();
    }
    batch.sort();

    let file = snapshot_name(&schema.id, 0);
    let data = match &engine.store {
        // The table is loaded from the file just written, as an open loads it: its blocks
        // become leaves as they are, decoded when first read (`state/items.rs`).
        Some(store) => {
            let fs = &*store.fs;
            let dir = store.dir.join(SNAPSHOT_DIR);
            let tmp = dir.join(format!("{file}.tmp"));
            let written = write_snapshot(fs, &tmp, &schema, &batch).and_then(|()| {
                crate::fs::install(fs, &tmp, &dir.join(&file))
                    .map_err(io_error(format!("installing imported snapshot {file}")))
            });
            if let Err(e) = written {
                let _ = fs.remove_file(&tmp);
                return Err(e);
            }
            // Not held beside the table it becomes.
            drop(batch);
            let loaded = load_snapshot(fs, &store.dir, &file);
            if loaded.is_err() {
                let _ = fs.remove_file(&dir.join(&file));
            }
            loaded?.1
        }
        None => {
            let mut data = TableData::new(Arc::clone(&schema), TableStatus::Active);
            for (key, encoding, size) in batch.items() {
                data.apply_write(key.to_vec(), Some(StoredItem::encoded(size, encoding)))?;
            }
            data
        }
    };
    commit_new_table(engine, data, file)?;
    description.end_time = engine.options.clock.now();
    Ok(ImportTableOutput {
        import_table_description: description,
    })
}

/// The items to import, checked and encoded: keys and encodings side by side in one
/// buffer, so that a million items are not a million allocations (made in the source's
/// order and freed in the key order, scattered over the heap, they were a third of an
/// import).
///
/// ```text
///   bytes    [ key 0 | item 0 | key 1 | item 1 | … ]      in the source's order
///   entries  [ (prefix, number, at, lens, size) … ]      sorted by key, then number
/// ```
struct Batch {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

/// Where an item is in [`Batch::bytes`], with what sorts it.
struct Entry {
    /// The key's first eight bytes (zeros past its end) as a big-endian number: ordered as
    /// the keys are, where they differ. (Comparing these first, without reaching for the
    /// keys, halved the time the sort takes.)
    prefix: u64,
    /// Its place in the source.
    number: usize,
    /// Where its key starts; its encoding follows the key.
    at: usize,
    key_len: u32,
    encoding_len: u32,
    /// Its DynamoDB size.
    size: u32,
}

impl Batch {
    fn with_capacity(items: usize) -> Batch {
        Batch {
            bytes: Vec::new(),
            entries: Vec::with_capacity(items),
        }
    }

    /// Adds item `number` of the source, checked as a `PutItem` of it would be (its size
    /// and nesting, its key, the types of its index keys).
    fn push(&mut self, schema: &TableSchema, item: &Item, number: usize) -> Result<()> {
        validate_item(item)?;
        let key = schema.key.encode(item, KeyRole::Table)?;
        for index in schema.indexes() {
            index.key.encode_index_entry(&index.name, item, &key)?;
        }
        let at = self.bytes.len();
        self.bytes.extend_from_slice(&key);
        codec::encode_into(item, &mut self.bytes);
        let mut prefix = [0u8; 8];
        let n = key.len().min(8);
        prefix[..n].copy_from_slice(&key[..n]);
        self.entries.push(Entry {
            prefix: u64::from_be_bytes(prefix),
            number,
            at,
            // (An item is at most 400 KB, so are its key and encoding.)
            key_len: key.len() as u32,
            encoding_len: (self.bytes.len() - at - key.len()) as u32,
            size: item_size(item) as u32,
        });
        Ok(())
    }

    fn key(&self, entry: &Entry) -> &[u8] {
        &self.bytes[entry.at..entry.at + entry.key_len as usize]
    }

    /// Puts the entries in key order and keeps, of items with the same key, the last one
    /// handed over: sorted after its key, the later first, where `dedup_by` keeps it.
    fn sort(&mut self) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.sort_unstable_by(|a, b| {
            (a.prefix.cmp(&b.prefix))
                .then_with(|| self.key(a).cmp(self.key(b)))
                .then_with(|| b.number.cmp(&a.number))
        });
        entries.dedup_by(|later, kept| self.key(later) == self.key(kept));
        self.entries = entries;
    }

    /// Each item's key, encoding and size, in the entries' order.
    fn items(&self) -> impl Iterator<Item = (&[u8], &[u8], u32)> + '_ {
        self.entries.iter().map(|e| {
            let key_end = e.at + e.key_len as usize;
            let end = key_end + e.encoding_len as usize;
            (
                &self.bytes[e.at..key_end],
                &self.bytes[key_end..end],
                e.size,
            )
        })
    }
}

/// Writes and syncs the imported table's first snapshot at `tmp` from `entries` (in key
/// order, each key once).
fn write_snapshot(
    fs: &dyn crate::fs::Vfs,
    tmp: &std::path::Path,
    schema: &TableSchema,
    batch: &Batch,
) -> Result<()> {
    // An imported table starts with no settings, as a created one does.
    let meta = SnapshotMeta {
        table_id: schema.id.clone(),
        lsn: 0,
        schema: schema.clone(),
        settings: Arc::default(),
    };
    let mut writer = TableFileWriter::create(fs, tmp, SNAPSHOT_MAGIC, &codec::encode(&meta))?;
    for (key, encoding, size) in batch.items() {
        writer.push_encoded(key, encoding, size)?;
    }
    writer.finish().map(|_| ())
}
