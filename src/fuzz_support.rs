//! Harnesses for the fuzz targets in `fuzz/`, kept in the library so that a stable-toolchain
//! test (`tests/fuzz_corpora.rs`) replays every corpus file through exactly the code the
//! fuzzers run. Each harness feeds untrusted bytes to one decoder and panics only if the
//! decoder broke one of its promises (never on an `Err`): the fuzzer reports panics.

use std::path::Path;

use crate::catalog::Catalog;
use crate::codec;
use crate::fs::Vfs;
use crate::simfs::SimFs;
use crate::value::{validate_item, Item};
use crate::wal;

/// Reads `bytes` as log segment 1 of database 7, as the last segment and as an older one.
/// Promises: no panic; the records returned have contiguous LSNs from the segment's first;
/// an older segment accepts exactly what a last segment accepts without a torn tail.
pub fn log_segment(bytes: &[u8]) {
    let fs = SimFs::new();
    let path = Path::new("/wal/00000000000000000001.wal");
    if fs.create_dir_all(Path::new("/wal")).is_err() || fs.set_file_bytes(path, bytes).is_err() {
        return;
    }
    let last = wal::read_segment(&fs, path, 1, 7, true);
    let older = wal::read_segment(&fs, path, 1, 7, false);
    if let Ok(contents) = &last {
        for (i, record) in contents.records.iter().enumerate() {
            assert_eq!(
                record.lsn,
                1 + i as u64,
                "records must have contiguous LSNs"
            );
        }
        assert!(contents.valid_len <= bytes.len() as u64);
        let clean = contents.valid_len == bytes.len() as u64;
        if let Ok(older) = &older {
            assert!(clean, "an older segment must not accept a torn tail");
            assert_eq!(older.records, contents.records);
        }
    } else {
        assert!(
            older.is_err(),
            "an older segment must not accept what a last one refuses"
        );
    }
}

/// Decodes `bytes` as a log record payload (a mutation). Promise: no panic.
pub fn log_record_payload(bytes: &[u8]) {
    let _ = codec::decode::<crate::commit::Mutation>(bytes, "fuzz");
}

/// Loads `bytes` as a snapshot file. Promises: no panic; a loaded table's items all have
/// valid keys and sizes.
pub fn snapshot_file(bytes: &[u8]) {
    let fs = SimFs::new();
    let dir = Path::new("/db");
    let path = dir.join(crate::catalog::SNAPSHOT_DIR).join("t.snap");
    if fs
        .create_dir_all(&dir.join(crate::catalog::SNAPSHOT_DIR))
        .is_err()
        || fs.set_file_bytes(&path, bytes).is_err()
    {
        return;
    }
    if let Ok((_, data)) = crate::replay::load_snapshot(&fs, dir, "t.snap") {
        for (key, item) in &data.items {
            assert_eq!(
                data.schema
                    .key
                    .encode(item, crate::key::KeyRole::Table)
                    .ok()
                    .as_ref(),
                Some(key)
            );
        }
    }
}

/// Reads `bytes` as a backup file, the way a restore does (header, every block, footer).
/// Promises: no panic; every item read has a valid key for the backup's schema, and the
/// file's header names a backup and its marker.
pub fn backup_file(bytes: &[u8]) {
    let fs = SimFs::new();
    let dir = Path::new("/db").join(crate::catalog::BACKUP_DIR);
    let path = dir.join("b.bkp");
    if fs.create_dir_all(&dir).is_err() || fs.set_file_bytes(&path, bytes).is_err() {
        return;
    }
    let Ok(mut reader) =
        crate::snapshot::TableFileReader::open(&fs, &path, crate::snapshot::BACKUP_MAGIC)
    else {
        return;
    };
    let Ok(meta) = codec::decode::<crate::backup::BackupMeta>(reader.meta(), "fuzz") else {
        return;
    };
    while let Ok(Some(block)) = reader.next_block(&meta.schema.key) {
        for (key, item) in block {
            assert_eq!(
                meta.schema
                    .key
                    .encode(&item, crate::key::KeyRole::Table)
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

/// Checks a table name. Promise: an accepted name is one plain path component.
pub fn table_name(bytes: &[u8]) {
    let Ok(name) = std::str::from_utf8(bytes) else {
        return;
    };
    if crate::names::validate_table_name(name).is_ok() {
        let components: Vec<_> = Path::new(name).components().collect();
        assert!(
            matches!(components[..], [std::path::Component::Normal(_)]),
            "{name:?} is not one normal component"
        );
    }
}
