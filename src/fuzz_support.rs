//! Harnesses for the fuzz targets in `fuzz/`, kept in the library so that a stable-toolchain
//! test (`tests/fuzz_corpora.rs`) replays every corpus file through exactly the code the
//! fuzzers run. Each harness feeds untrusted bytes to one decoder and panics only if the
//! decoder broke one of its promises (never on an `Err`): the fuzzer reports panics. With the
//! `server` feature, `wire_request` does the same for `tidestore serve`: untrusted bytes
//! made into an HTTP request, sent over loopback; and `partiql` makes them PartiQL
//! statements by a grammar, run by the server's handlers in this process.

use std::path::Path;

use crate::format::catalog::Catalog;
use crate::format::codec;
use crate::format::log_segment;
use crate::fs::sim::SimFs;
use crate::fs::Vfs;
use crate::model::value::{validate_item, Item};

#[cfg(feature = "server")]
mod documented_errors;
#[cfg(feature = "server")]
mod import_objects;
#[cfg(feature = "server")]
mod input;
#[cfg(feature = "server")]
mod partiql;
#[cfg(feature = "server")]
mod running_time;
#[cfg(feature = "server")]
mod transfers;
#[cfg(feature = "server")]
mod wire;
#[cfg(feature = "server")]
pub use partiql::partiql;
#[cfg(feature = "server")]
pub use wire::{wire_request, ANSWER_TIMEOUT};

/// Reads `bytes` as log segment 1 of database 7, as the last segment and as an older one.
/// Promises: no panic; the records returned have contiguous LSNs from the segment's first;
/// a seal ends the file; an older segment reads exactly what a last segment reads, unless
/// the header does not verify (which only a last segment holding nothing may have).
pub fn log_segment(bytes: &[u8]) {
    let fs = SimFs::new();
    let path = Path::new("/wal/00000000000000000001.wal");
    if fs.create_dir_all(Path::new("/wal")).is_err() || fs.set_file_bytes(path, bytes).is_err() {
        return;
    }
    let last = log_segment::read_segment(&fs, path, (1, 7), true, Vec::new());
    let older = log_segment::read_segment(&fs, path, (1, 7), false, Vec::new());
    if let Ok(contents) = &last {
        for (i, record) in contents.records.iter().enumerate() {
            assert_eq!(
                record.lsn,
                1 + i as u64,
                "records must have contiguous LSNs"
            );
        }
        assert!(contents.valid_len <= bytes.len() as u64);
        if contents.sealed {
            assert_eq!(
                contents.valid_len + log_segment::SEAL_LEN as u64,
                bytes.len() as u64,
                "nothing may follow a seal"
            );
        }
        match &older {
            Ok(older) => assert_eq!(
                (&older.records, older.valid_len, older.sealed),
                (&contents.records, contents.valid_len, contents.sealed),
                "an older segment must read what a last one reads"
            ),
            Err(_) => assert!(
                contents.version.is_none(),
                "an older segment must read what a last one reads, its header aside"
            ),
        }
    } else {
        assert!(
            older.is_err(),
            "an older segment must not accept what a last one refuses"
        );
    }
}

/// A structure-aware log fuzzer: `bytes` describes real records (their count and payloads)
/// and then damage to the segment they make — truncations, bit flips, overwritten spans,
/// zeroed spans, bytes appended. Promises: whatever the damage, reading the segment as the
/// last one either fails or returns a prefix of the records written, each one exactly as
/// written (never an altered record, never one that was not written); undamaged, it
/// returns them all.
pub fn log_mutations(bytes: &[u8]) {
    let mut input = bytes.iter().copied();
    let mut next = || input.next().unwrap_or(0);
    let count = usize::from(next() % 16);
    let mut written = Vec::with_capacity(count);
    let mut segment = log_segment::encode_segment_header(1, 7);
    for i in 0..count {
        let len = usize::from(next() % 64);
        let payload: Vec<u8> = (0..len).map(|_| next()).collect();
        let lsn = 1 + i as u64;
        let time = crate::model::clock::Timestamp(1_000 + lsn);
        // (Each record written once the ones before it were durable.)
        let synced = segment.len() as u64;
        log_segment::encode_record(&mut segment, (1, 7), lsn, time, synced, &payload);
        written.push((lsn, time, payload));
    }
    let clean = segment.clone();
    let mut damaged = false;
    for _ in 0..next() % 4 {
        let at = (usize::from(next()) << 8 | usize::from(next())) % (segment.len() + 1);
        match next() % 5 {
            0 => segment.truncate(at),
            1 if at < segment.len() => segment[at] ^= 1 << (next() % 8),
            2 => {
                let span = usize::from(next() % 16);
                for i in at..(at + span).min(segment.len()) {
                    segment[i] = next();
                }
            }
            3 => {
                let span = usize::from(next() % 32);
                for i in at..(at + span).min(segment.len()) {
                    segment[i] = 0;
                }
            }
            _ => segment.extend((0..next() % 32).map(|_| next())),
        }
        damaged |= segment != clean;
    }
    let fs = SimFs::new();
    let path = Path::new("/wal/00000000000000000001.wal");
    if fs.create_dir_all(Path::new("/wal")).is_err() || fs.set_file_bytes(path, &segment).is_err() {
        return;
    }
    match log_segment::read_segment(&fs, path, (1, 7), true, Vec::new()) {
        Ok(contents) => {
            let read: Vec<_> = contents
                .records
                .iter()
                .map(|r| (r.lsn, r.time, contents.payload(r).to_vec()))
                .collect();
            assert!(
                read.len() <= written.len() && read[..] == written[..read.len()],
                "a damaged segment decoded to records that were not written"
            );
            if !damaged {
                assert_eq!(read, written, "an undamaged segment lost records");
            }
        }
        Err(e) => assert!(damaged, "an undamaged segment failed to read: {e}"),
    }
}

/// An operation-sequence differential with a simulated crash, as redb fuzzes: `bytes`
/// picks operations (puts and deletes on two tables, batches, checkpoints, backups) run on a
/// database on the simulated file system, an I/O operation at which it crashes, and a crash
/// policy. Promises: after the crash the database opens, and equals the model after some
/// prefix of the operations that holds every acknowledged one (I1, I2); every acknowledged
/// backup is listed.
pub fn crash_differential(bytes: &[u8]) {
    use crate::api::items::{
        BatchWriteItemInput, DeleteItemInput, PutItemInput, ScanInput, WriteRequest,
    };
    use crate::api::tables::CreateTableInput;
    use crate::db::Database;
    use crate::fs::sim::CrashPolicy;
    use crate::model::value::AttributeValue;
    use std::collections::BTreeMap;
    use std::sync::Arc;

    type State = [BTreeMap<u8, u8>; 2];
    let mut input = bytes.iter().copied();
    let mut next = || input.next();
    let (Some(crash), Some(policy)) = (next(), next()) else {
        return;
    };
    let policy = CrashPolicy::ALL[usize::from(policy) % CrashPolicy::ALL.len()];
    let fs = SimFs::new();
    let options = |fs: &SimFs| crate::Options {
        fs: Arc::new(fs.clone()),
        segment_bytes: 4096,
        background_worker: false,
        clock: Arc::new(crate::model::clock::ManualClock::new(
            crate::model::clock::Timestamp(1),
        )),
        ..crate::Options::default()
    };
    let tables = ["one", "two"];
    let db = Database::open_with("/db", options(&fs)).expect("a fresh database opens");
    for t in tables {
        db.create_table(
            CreateTableInput::new(t)
                .hash_key("k", crate::ScalarAttributeType::N)
                .pay_per_request(),
        )
        .expect("create");
    }
    let key = |k: u8| crate::Item::from([("k".to_string(), AttributeValue::number(i64::from(k)))]);
    let item = |k: u8, v: u8| {
        let mut item = key(k);
        item.insert("v".into(), AttributeValue::number(i64::from(v)));
        item
    };
    // The model after each operation, and which operations were acknowledged.
    let mut states: Vec<State> = vec![Default::default()];
    let mut acked = 0usize;
    let mut backups = Vec::new();
    fs.crash_at(fs.op_count() + 1 + u64::from(crash) * 2);
    while let Some(op) = next() {
        let mut state = states.last().cloned().unwrap_or_default();
        let t = usize::from(op & 1);
        let (k, v) = (next().unwrap_or(0) % 16, next().unwrap_or(0));
        let result = match op % 8 {
            0..=3 => {
                state[t].insert(k, v);
                db.put_item(PutItemInput::new(tables[t], item(k, v)))
                    .map(drop)
            }
            4 => {
                state[t].remove(&k);
                db.delete_item(DeleteItemInput::new(tables[t], key(k)))
                    .map(drop)
            }
            5 => {
                let mut batch = BatchWriteItemInput::default();
                for j in 0..3u8 {
                    let kj = (k + j) % 16;
                    state[t].insert(kj, v);
                    batch
                        .request_items
                        .entry(tables[t].to_string())
                        .or_default()
                        .push(WriteRequest::Put { item: item(kj, v) });
                }
                db.batch_write_item(batch).map(drop)
            }
            6 => db.checkpoint(),
            _ => db
                .create_backup(tables[t], &format!("backup{}", states.len()))
                .map(|out| backups.push(out.backup_details.backup_name)),
        };
        states.push(state);
        if result.is_err() {
            break;
        }
        acked = states.len() - 1;
    }
    drop(db);
    let image = fs.after_crash(policy, u64::from(crash));
    let db = Database::open_with("/db", options(&image)).expect("the database opens after a crash");
    let mut recovered: State = Default::default();
    for (t, name) in tables.iter().enumerate() {
        let mut scan = ScanInput::new(*name);
        loop {
            let page = db.scan(scan.clone()).expect("scan");
            for item in &page.items {
                let n = |a: &str| item[a].as_n().map(|n| n.to_string().parse::<u8>().ok());
                if let (Some(Some(k)), Some(Some(v))) = (n("k"), n("v")) {
                    recovered[t].insert(k, v);
                }
            }
            match page.last_evaluated_key {
                Some(start) => scan.exclusive_start_key = Some(start),
                None => break,
            }
        }
    }
    assert!(
        states[acked..].contains(&recovered),
        "recovered a state that is not the model after {acked} or more operations (policy {policy:?})"
    );
    let listed: Vec<String> = db
        .list_backups(crate::ListBackupsInput::default())
        .expect("list_backups")
        .backup_summaries
        .into_iter()
        .map(|b| b.backup_name)
        .collect();
    for name in &backups {
        assert!(listed.contains(name), "acknowledged backup {name} is lost");
    }
}

/// Decodes `bytes` as a log record payload (a mutation). Promise: no panic.
pub fn log_record_payload(bytes: &[u8]) {
    let _ = codec::decode::<crate::format::mutation::Mutation>(bytes, "fuzz");
}

/// Loads `bytes` as a snapshot file. Promises: no panic; a loaded table's items all have
/// valid keys and sizes.
pub fn snapshot_file(bytes: &[u8]) {
    let fs = SimFs::new();
    let dir = Path::new("/db");
    let path = dir
        .join(crate::format::catalog::SNAPSHOT_DIR)
        .join("t.snap");
    if fs
        .create_dir_all(&dir.join(crate::format::catalog::SNAPSHOT_DIR))
        .is_err()
        || fs.set_file_bytes(&path, bytes).is_err()
    {
        return;
    }
    if let Ok((_, data)) = crate::storage::replay::load_snapshot(&fs, dir, "t.snap") {
        // Items are decoded as they are read; a block that does not decode ends the read.
        for (key, item) in data.items.iter().map_while(|entry| entry.ok()) {
            assert_eq!(
                data.schema
                    .key
                    .encode(&item.decode(), crate::model::key::KeyRole::Table)
                    .ok()
                    .as_deref(),
                Some(key.as_bytes())
            );
        }
    }
}

/// Reads `bytes` as a backup file, the way a restore does (header, every block, footer).
/// Promises: no panic; every item read has a valid key for the backup's schema, and the
/// file's header names a backup and its marker.
pub fn backup_file(bytes: &[u8]) {
    let fs = SimFs::new();
    let dir = Path::new("/db").join(crate::format::catalog::BACKUP_DIR);
    let path = dir.join("b.bkp");
    if fs.create_dir_all(&dir).is_err() || fs.set_file_bytes(&path, bytes).is_err() {
        return;
    }
    let Ok(mut reader) = crate::format::table_file::TableFileReader::open(
        &fs,
        &path,
        crate::format::backup::BACKUP_MAGIC,
    ) else {
        return;
    };
    let Ok(meta) = codec::decode::<crate::format::backup::BackupMeta>(reader.meta(), "fuzz") else {
        return;
    };
    while let Ok(Some(block)) = reader.next_block(&meta.schema.key) {
        for (key, item) in block {
            assert_eq!(
                meta.schema
                    .key
                    .encode(&item.decode(), crate::model::key::KeyRole::Table)
                    .ok()
                    .as_ref(),
                Some(&key)
            );
        }
    }
}

/// Decodes `bytes` as a catalog file. Promises: no panic; what decodes re-encodes to the
/// same bytes.
pub fn catalog_file(bytes: &[u8]) {
    if let Ok(catalog) = Catalog::decode(bytes) {
        assert_eq!(catalog.encode(), bytes, "a catalog must have one encoding");
    }
}

/// Parses `bytes` as a DynamoDB JSON item. Promises: no panic; what parses and validates
/// serializes back to JSON that parses to the same item.
pub fn item_json(bytes: &[u8]) {
    let Ok(item) = serde_json::from_slice::<Item>(bytes) else {
        return;
    };
    if validate_item(&item).is_ok() {
        let json = serde_json::to_string(&item)
            .unwrap_or_else(|e| panic!("a valid item must serialize: {e}"));
        let again: Item = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("serialized item must parse: {e}"));
        assert_eq!(again, item);
    }
}

/// The most bytes an import harness takes from a ZSTD input: 64 KiB of RLE blocks inflate
/// to 2 GiB, which would spend the fuzzer's time, not find more (the server bounds such a
/// file's memory, not its reading time: `server/compression.rs`).
#[cfg(feature = "server")]
const MAX_INFLATED: u64 = 4 << 20;

/// What an import harness reads from `bytes`: with the `server` feature, an input that
/// starts as a ZSTD file does (a frame's or a skippable frame's magic) is first decoded by
/// the server's ZSTD decoder, as `ImportTable` with `InputCompressionType` ZSTD reads a
/// file (its first [`MAX_INFLATED`] bytes); `None` when it is damaged, after checking the
/// decoder's promise: damage is an `InvalidData` error naming ZSTD, never a panic.
fn import_source(bytes: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    #[cfg(feature = "server")]
    {
        use crate::server::compression::{Compression, ZSTD_MAGIC};
        use std::io::Read;
        let skippable =
            bytes.len() >= 4 && bytes[0] & 0xF0 == 0x50 && bytes[1..4] == [0x2A, 0x4D, 0x18];
        if bytes.starts_with(&ZSTD_MAGIC) || skippable {
            let mut inflated = Vec::new();
            let read = Compression::Zstd
                .decoder(bytes)
                .take(MAX_INFLATED)
                .read_to_end(&mut inflated);
            return match read {
                Ok(_) => Some(inflated.into()),
                Err(e) => {
                    assert!(
                        e.kind() == std::io::ErrorKind::InvalidData
                            && e.to_string().contains("ZSTD"),
                        "a damaged ZSTD file is InvalidData naming ZSTD: {e:?}"
                    );
                    None
                }
            };
        }
    }
    Some(bytes.into())
}

/// Imports `bytes` as a file of DynamoDB JSON (one `{"Item": …}` a line) into a new table
/// of an in-memory database (a ZSTD file decoded first: [`import_source`]). Promise: never
/// a panic, and an import from bytes in memory always completes, as an oracle apart from
/// it says: each line (split on `\n`, a `\r` before it and a byte order mark before the
/// first taken off, blank ones skipped) put by `PutItem` into a table of the same
/// definition. Every line is counted (`ProcessedItemCount == ImportedItemCount +
/// ErrorCount`); `ImportedItemCount` is the lines `PutItem` takes (DynamoDB counts writes:
/// a line whose key an earlier one had counts too) and `ErrorCount` the others; and the
/// imported table holds what those puts leave, item for item (of each key, the last line).
pub fn import_json(bytes: &[u8]) {
    use crate::{
        CreateTableInput, Database, ImportTableInput, PutItemInput, ScalarAttributeType, ScanInput,
        MAX_IMPORT_ITEM_ERRORS, MAX_IMPORT_LINE_BYTES,
    };
    let Some(source) = import_source(bytes) else {
        return;
    };
    let bytes = &source[..];
    let db = Database::in_memory();
    let table = |name: &str| {
        CreateTableInput::new(name)
            .hash_key("pk", ScalarAttributeType::S)
            .range_key("sk", ScalarAttributeType::N)
            .global_index(
                "ByG",
                ("g", ScalarAttributeType::S),
                None,
                crate::Projection::all(),
            )
            .pay_per_request()
    };
    let description = db
        .import_table_from_dynamodb_json(ImportTableInput::new(table("Imported")), bytes)
        .unwrap_or_else(|e| panic!("an import from memory must complete: {e}"))
        .import_table_description;
    assert_eq!(
        description.imported_item_count + description.error_count,
        description.processed_item_count,
        "{description:?}"
    );
    assert_eq!(
        description.item_errors.len() as u64,
        description.error_count.min(MAX_IMPORT_ITEM_ERRORS as u64)
    );

    // The oracle: the lines put one by one.
    db.create_table(table("Oracle"))
        .expect("the oracle's table");
    let (mut put, mut refused) = (0u64, 0u64);
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    // (The mark is looked for on the first line that is not over-long, as the reader does.)
    let mut first = true;
    for raw in lines {
        if raw.len() > MAX_IMPORT_LINE_BYTES {
            refused += 1;
            continue;
        }
        let mut line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if std::mem::take(&mut first) {
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        let Ok(text) = std::str::from_utf8(line) else {
            refused += 1;
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let item = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(mut line)) if line.len() == 1 => line
                .remove("Item")
                .and_then(|item| serde_json::from_value::<Item>(item).ok()),
            _ => None,
        };
        match item.map(|item| db.put_item(PutItemInput::new("Oracle", item))) {
            Some(Ok(_)) => put += 1,
            _ => refused += 1,
        }
    }
    assert_eq!(
        (description.imported_item_count, description.error_count),
        (put, refused),
        "the import's counts against the lines PutItem takes and refuses"
    );
    let scan = |name: &str| {
        let mut items = Vec::new();
        let mut input = ScanInput::new(name);
        loop {
            let page = db.scan(input.clone()).expect("a table scans");
            items.extend(page.items);
            match page.last_evaluated_key {
                Some(key) => input.exclusive_start_key = Some(key),
                None => return items,
            }
        }
    };
    assert!(
        scan("Imported") == scan("Oracle"),
        "the imported table does not hold what the lines put one by one leave"
    );
}

/// Reads `bytes` as an Amazon Ion source of an import (`InputFormat` ION), then imports it
/// into a new table of an in-memory database. Promises: never a panic; every item the
/// reader gives, written again by the export's Ion writer, reads back as the same item; the
/// import either completes with the counts of [`import_json`] or fails with a
/// `ValidationException` saying the source is malformed (never another error: the bytes
/// are in memory). A ZSTD file is decoded first ([`import_source`]).
pub fn import_ion(bytes: &[u8]) {
    use crate::format::ion::{write_struct, IonItems, VERSION_MARKER};
    use crate::{CreateTableInput, Database, ImportTableInput, ScalarAttributeType};
    let Some(source) = import_source(bytes) else {
        return;
    };
    let bytes = &source[..];
    for item in IonItems::new(bytes).flatten().flatten() {
        let mut text = VERSION_MARKER.as_bytes().to_vec();
        text.extend_from_slice(b" {Item:");
        write_struct(&mut text, item.iter());
        text.extend_from_slice(b"}\n");
        let again: Vec<_> = IonItems::new(text.as_slice()).collect();
        assert!(
            matches!(again.as_slice(), [Ok(Ok(read))] if *read == item),
            "{item:?} written as {} reads back as {again:?}",
            String::from_utf8_lossy(&text)
        );
    }
    let db = Database::in_memory();
    let table = CreateTableInput::new("Imported")
        .hash_key("pk", ScalarAttributeType::S)
        .pay_per_request();
    match db.import_table_from_ion(ImportTableInput::new(table), [bytes]) {
        Ok(out) => {
            let description = out.import_table_description;
            assert_eq!(
                description.imported_item_count + description.error_count,
                description.processed_item_count,
                "{description:?}"
            );
        }
        Err(e) => assert!(
            e.exception_name() == "ValidationException" && e.message().contains("malformed"),
            "an Ion import from memory fails only as malformed: {e}"
        ),
    }
}

/// Checks a table name. Promise: an accepted name is one plain path component.
pub fn table_name(bytes: &[u8]) {
    let Ok(name) = std::str::from_utf8(bytes) else {
        return;
    };
    if crate::model::names::validate_table_name(name).is_ok() {
        let components: Vec<_> = Path::new(name).components().collect();
        assert!(
            matches!(components[..], [std::path::Component::Normal(_)]),
            "{name:?} is not one normal component"
        );
    }
}

/// Parses `bytes` as an expression: the first byte picks the kind (condition, filter, key
/// condition, update, projection), the rest is the text, against fixed substitution maps.
/// Promises: no panic and no stack overflow, whatever the nesting; an accepted expression,
/// written back by `ExpressionWriter`, parses to the same typed value (update actions
/// grouped by clause, as the writer groups them).
pub fn expression(bytes: &[u8]) {
    use crate::expr::syntax::{ExpressionKind, ExpressionWriter, Substitutions};
    use crate::expr::{Update, UpdateAction};
    use crate::model::value::AttributeValue;
    use std::collections::BTreeMap;

    let Some((&selector, text)) = bytes.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let names: BTreeMap<String, String> = [("#a", "a"), ("#b", "b.c"), ("#s", "size")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let values: Item = [
        (":n", AttributeValue::number(1)),
        (":s", AttributeValue::s("x")),
        (":l", AttributeValue::L(vec![AttributeValue::Null])),
        (":ss", AttributeValue::Ss(["y".to_owned()].into())),
        (":t", AttributeValue::s("N")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let kinds = [
        ExpressionKind::Condition,
        ExpressionKind::Filter,
        ExpressionKind::KeyCondition,
        ExpressionKind::Update,
        ExpressionKind::Projection,
    ];
    let kind = kinds[usize::from(selector) % kinds.len()];
    let reparse = |writer: ExpressionWriter, written: &str| {
        let (names, values) = writer.into_maps();
        let mut again = Substitutions::new(Some(&names), Some(&values))
            .unwrap_or_else(|e| panic!("written maps must be valid: {e}"));
        let parsed = match kind {
            ExpressionKind::Update => again.update(written).map(|u| format!("{u:?}")),
            ExpressionKind::Projection => again.projection(written).map(|p| format!("{p:?}")),
            _ => again.condition(kind, written).map(|c| format!("{c:?}")),
        };
        parsed.unwrap_or_else(|e| panic!("{written:?}, written back, must parse: {e}"))
    };
    let mut subs = match Substitutions::new(Some(&names), Some(&values)) {
        Ok(subs) => subs,
        Err(e) => panic!("the fixed maps are valid: {e}"),
    };
    let mut writer = ExpressionWriter::new();
    let (written, parsed) = match kind {
        ExpressionKind::Update => {
            let Ok(update) = subs.update(text) else {
                return;
            };
            let written = writer.update(&update);
            // The writer groups actions by clause in order of first appearance.
            let clause = |a: &UpdateAction| std::mem::discriminant(a);
            let mut actions = update.actions.clone();
            let first =
                |a: &UpdateAction| update.actions.iter().position(|b| clause(b) == clause(a));
            actions.sort_by_key(|a| first(a));
            (written, format!("{:?}", Update { actions }))
        }
        ExpressionKind::Projection => {
            let Ok(paths) = subs.projection(text) else {
                return;
            };
            (writer.projection(&paths), format!("{paths:?}"))
        }
        _ => {
            let Ok(condition) = subs.condition(kind, text) else {
                return;
            };
            (writer.condition(&condition), format!("{condition:?}"))
        }
    };
    // Placeholders can be longer than the names they replace.
    if written.len() <= crate::expr::syntax::MAX_EXPRESSION_BYTES {
        assert_eq!(
            reparse(writer, &written),
            parsed,
            "{text:?} was written as {written:?}"
        );
    }
}
