//! ImportTable's `InputCompressionType` on the wire (`src/server/compression.rs`): ZSTD files
//! of every `InputFormat` import as the same table as their plain files; a damaged ZSTD file
//! fails its import as the same damage to a GZIP file does; a ZSTD bomb fails cleanly with
//! the process's memory far below what it inflates to; and a tidestore export, its GZIP data
//! files recompressed as ZSTD, imports back as the exported table.
//!
//! The ZSTD files are made by ruzstd's encoder (a dev-dependency), so no `zstd` program is
//! needed; the bomb is drawn by hand (RLE blocks), as no encoder writes one that small.
//!
//! Built with the `server` feature: `cargo test --features server --test wire_import_compression`.
#![cfg(feature = "server")]

#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/serving.rs"]
mod serving;
mod support;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use http_client::Connection;
use ruzstd::encoding::{compress_to_vec, CompressionLevel};
use serde_json::{json, Value};
use serving::Serving;
use support::TempDir;
use tidestore::server::Config;

/// One test at a time: the bomb's test measures the process's peak memory, which another
/// test's server running meanwhile would add to.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A server on a database with an `--s3-dir` (fresh ones, removed on drop, unless started
/// with [`Server::start_in`]), stopped on drop.
struct Server {
    addr: SocketAddr,
    // (Stopped before its directories are removed: fields drop in this order.)
    serving: Serving,
    s3: PathBuf,
    _dirs: Option<(TempDir, TempDir)>,
}

impl Server {
    fn start() -> Server {
        let data = TempDir::new("wire-zstd-db");
        let s3 = TempDir::new("wire-zstd-s3");
        let mut server = Server::start_in(data.path(), s3.path());
        server._dirs = Some((data, s3));
        server
    }

    /// A server on the database in `data`, with the `--s3-dir` `s3`, both kept on drop.
    fn start_in(data: &Path, s3: &Path) -> Server {
        std::fs::create_dir_all(s3).expect("the S3 directory");
        let mut config = Config::new(data);
        config.s3_dir = Some(s3.into());
        let serving = Serving::start(config);
        Server {
            addr: serving.addr,
            serving,
            s3: s3.into(),
            _dirs: None,
        }
    }

    /// A call answered 200: its body.
    fn ok(&self, operation: &str, body: Value) -> Value {
        let (status, answer) = self.call(operation, body);
        assert_eq!(status, 200, "{operation}: {answer}");
        answer
    }

    fn call(&self, operation: &str, body: Value) -> (u16, Value) {
        let mut connection =
            Connection::open(self.addr, Duration::from_secs(60)).expect("connects");
        let (status, body) = connection
            .call(operation, body.to_string().as_bytes())
            .expect("answered");
        (
            status,
            serde_json::from_slice(&body).expect("a JSON answer"),
        )
    }

    /// Writes `bytes` as the object `key` of `bucket`.
    fn put_object(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let path = self.s3.join(bucket).join(key);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folders");
        std::fs::write(path, bytes).expect("an object");
    }

    fn bucket(&self, bucket: &str) -> PathBuf {
        self.s3.join(bucket)
    }

    /// Imports the objects under `prefix` of the bucket `bucket` into table `table` (key `pk`, a
    /// string) and waits for the import's end: its description.
    fn import(&self, table: &str, prefix: &str, format: &str, compression: &str) -> Value {
        let mut request = json!({
            // (DynamoDB requires one; each import its own.)
            "ClientToken": unique_token(),
            "S3BucketSource": {"S3Bucket": "bucket", "S3KeyPrefix": prefix},
            "InputFormat": format,
            "InputCompressionType": compression,
            "TableCreationParameters": {
                "TableName": table,
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        });
        if format == "CSV" {
            request["InputFormatOptions"] = json!({"Csv": {"Delimiter": ","}});
        }
        let started = self.ok("ImportTable", request);
        let arn = started["ImportTableDescription"]["ImportArn"].clone();
        assert_eq!(
            started["ImportTableDescription"]["InputCompressionType"],
            compression
        );
        self.wait_import(arn)
    }

    fn wait_import(&self, arn: Value) -> Value {
        for _ in 0..1200 {
            let described = self.ok("DescribeImport", json!({ "ImportArn": arn }));
            let description = &described["ImportTableDescription"];
            if description["ImportStatus"] != "IN_PROGRESS" {
                return description.clone();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the import {arn} is still IN_PROGRESS after a minute");
    }

    /// Every item of `table`, sorted by their JSON; `None` if there is no such table.
    fn items(&self, table: &str) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        let mut request = json!({ "TableName": table });
        loop {
            let (status, page) = self.call("Scan", request.clone());
            if status != 200 {
                let kind = page["__type"].as_str().unwrap_or_default();
                assert!(kind.ends_with("#ResourceNotFoundException"), "{page}");
                return None;
            }
            items.extend(page["Items"].as_array().expect("items").iter().cloned());
            match page.get("LastEvaluatedKey") {
                Some(key) => request["ExclusiveStartKey"] = key.clone(),
                None => break,
            }
        }
        items.sort_by_key(|item| item.to_string());
        Some(items)
    }
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    compress_to_vec(bytes, CompressionLevel::Fastest)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// The input formats, each with two files' contents: `count` items from `first` each,
/// with keys `k{i}`, a number and a string that repeats (so that it compresses).
fn files(format: &str) -> [Vec<u8>; 2] {
    let text = |first: usize, count: usize| -> Vec<u8> {
        let mut out = String::new();
        if format == "CSV" {
            out.push_str("pk,n,note\n");
        }
        for i in first..first + count {
            let note = format!("note {} of the import", i % 7);
            out.push_str(&match format {
                "DYNAMODB_JSON" => json!({"Item": {"pk": {"S": format!("k{i:05}")}, "n": {"N": i.to_string()}, "note": {"S": note}}}).to_string(),
                "ION" => format!("$ion_1_0 {{Item:{{pk:\"k{i:05}\",n:{i},note:\"{note}\"}}}}"),
                _ => format!("k{i:05},{i},{note}"),
            });
            out.push('\n');
        }
        out.into_bytes()
    };
    [text(0, 700), text(700, 500)]
}

const FORMATS: [&str; 3] = ["DYNAMODB_JSON", "ION", "CSV"];

/// Each input format: two plain files, and the same two as ZSTD (the second written as two
/// frames with a skippable one between, as `cat a.zst b.zst` would make it), import as the
/// same table, with the same counts.
#[test]
fn zstd_files_of_every_input_format_import_as_their_plain_files_do() {
    let _one = one_at_a_time();
    let server = Server::start();
    for format in FORMATS {
        let [first, second] = files(format);
        server.put_object("bucket", &format!("plain-{format}/0"), &first);
        server.put_object("bucket", &format!("plain-{format}/1"), &second);
        server.put_object("bucket", &format!("zstd-{format}/0.zst"), &zstd(&first));
        // CSV's second file keeps its header in the first frame.
        let half = second.len() / 2
            + second[second.len() / 2..]
                .iter()
                .position(|&b| b == b'\n')
                .expect("a line")
            + 1;
        let mut frames = zstd(&second[..half]);
        frames.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        frames.extend(zstd(&second[half..]));
        server.put_object("bucket", &format!("zstd-{format}/1.zst"), &frames);

        let plain = server.import(
            &format!("Plain{format}"),
            &format!("plain-{format}/"),
            format,
            "NONE",
        );
        let zstd = server.import(
            &format!("Zstd{format}"),
            &format!("zstd-{format}/"),
            format,
            "ZSTD",
        );
        assert_eq!(zstd["ImportStatus"], "COMPLETED", "{format}: {zstd}");
        assert_eq!(zstd["InputCompressionType"], "ZSTD");
        for count in [
            "ProcessedItemCount",
            "ImportedItemCount",
            "ErrorCount",
            "ProcessedSizeBytes",
        ] {
            assert_eq!(zstd[count], plain[count], "{format}: {count}");
        }
        assert_eq!(zstd["ImportedItemCount"], 1200, "{format}");
        let imported = server.items(&format!("Zstd{format}")).expect("a table");
        assert_eq!(imported.len(), 1200, "{format}");
        assert_eq!(
            Some(imported),
            server.items(&format!("Plain{format}")),
            "{format}"
        );
    }
}

/// How a file is damaged: cut in its middle, a byte changed in its middle, or not
/// compressed at all.
fn damage(file: &[u8], how: &str, plain: &[u8]) -> Vec<u8> {
    let middle = file.len() / 2;
    match how {
        "cut" => file[..middle].to_vec(),
        "changed" => {
            let mut changed = file.to_vec();
            changed[middle] ^= 0x5A;
            changed
        }
        _ => plain.to_vec(),
    }
}

/// A ZSTD file cut short, with a byte changed, or not compressed at all, fails its import as
/// the same damage to a GZIP file does (today's behaviour, mirrored): FAILED with the same
/// `FailureCode` (the read's error, InternalServerError), the damage named, no table made;
/// in every input format.
#[test]
fn a_damaged_zstd_file_fails_its_import_as_a_damaged_gzip_file_does() {
    let _one = one_at_a_time();
    let server = Server::start();
    let mut n = 0;
    for format in FORMATS {
        let [first, _] = files(format);
        for how in ["cut", "changed", "plain"] {
            let mut outcomes = Vec::new();
            for (compression, file) in [("GZIP", gzip(&first)), ("ZSTD", zstd(&first))] {
                n += 1;
                let prefix = format!("damaged-{n}/");
                server.put_object("bucket", &format!("{prefix}0"), &damage(&file, how, &first));
                let table = format!("Damaged{n}");
                let done = server.import(&table, &prefix, format, compression);
                assert_eq!(
                    done["ImportStatus"], "FAILED",
                    "{format} {how} {compression}: {done}"
                );
                assert_eq!(
                    server.items(&table),
                    None,
                    "{format} {how} {compression}: no table"
                );
                outcomes.push(done);
            }
            assert_eq!(
                outcomes[1]["FailureCode"], outcomes[0]["FailureCode"],
                "{format} {how}: ZSTD {} and GZIP {}",
                outcomes[1], outcomes[0]
            );
            // Where the GZIP file's failure is the read's (not its format reader's, which
            // decoded garbage may reach before the end's checksum), the ZSTD one names ZSTD.
            let message = outcomes[1]["FailureMessage"].as_str().unwrap_or_default();
            println!(
                "{format} {how}: GZIP {} / ZSTD {message}",
                outcomes[0]["FailureMessage"]
            );
            if outcomes[0]["FailureCode"] == "InternalServerError" {
                let why = match how {
                    "cut" => "cut short",
                    "plain" => "magic number",
                    _ => "ZSTD",
                };
                assert!(message.contains(why), "{format} {how}: {message}");
            }
        }
    }
}

/// A ZSTD frame of `prefix` (a raw block), then `blocks` RLE blocks of 128 KiB of `byte`:
/// a few bytes of file per 128 KiB of content.
///
/// ```text
///   magic 28 B5 2F FD | descriptor 00 | window descriptor 38 (window log 17: 128 KiB)
///   raw block  [ header (size << 3 | type 0 << 1 | last) u24 LE | prefix ]
///   RLE block  [ header (131072 << 3 | type 1 << 1 | last) u24 LE | byte ]  × blocks
/// ```
fn bomb(prefix: &[u8], byte: u8, blocks: usize) -> Vec<u8> {
    let header = |size: usize, kind: usize, last: bool| {
        let word = (size << 3) | (kind << 1) | usize::from(last);
        [word as u8, (word >> 8) as u8, (word >> 16) as u8]
    };
    let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38];
    frame.extend(header(prefix.len(), 0, false));
    frame.extend_from_slice(prefix);
    for i in 0..blocks {
        frame.extend(header(128 << 10, 1, i + 1 == blocks));
        frame.push(byte);
    }
    frame
}

/// The process's peak resident memory (VmHWM), in bytes.
fn peak_memory() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("a number");
    kib << 10
}

/// A ZSTD bomb — a file of 32 KiB that inflates to 1 GiB with no line end — fails its
/// import cleanly in every format: its one line, past the 8 MiB a line may have, is one item
/// in error in DYNAMODB_JSON and CSV (`ItemValidationError`) and a malformed source in ION
/// (`ValidationException`); no format holds it, so the process's peak memory stays a
/// fraction of one bomb. A frame asking for a window past 128 MiB fails from its header.
#[cfg(target_os = "linux")]
#[test]
fn a_zstd_bomb_fails_its_import_cleanly_without_being_held() {
    let _one = one_at_a_time();
    const GIB_BLOCKS: usize = 8192;
    let server = Server::start();
    // The peak measured is this test's (Linux resets VmHWM on a write of 5 to clear_refs).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    for (format, prefix, code) in [
        (
            "DYNAMODB_JSON",
            &b"{\"Item\": {\"pk\": {\"S\": \""[..],
            "ItemValidationError",
        ),
        ("CSV", b"pk\n", "ItemValidationError"),
        ("ION", b"$ion_1_0 {Item:{pk:\"", "ValidationException"),
    ] {
        let file = bomb(prefix, b'x', GIB_BLOCKS);
        assert!(file.len() < 40 << 10, "{}", file.len());
        server.put_object("bucket", &format!("bomb-{format}/0.zst"), &file);
        let table = format!("Bomb{format}");
        let done = server.import(&table, &format!("bomb-{format}/"), format, "ZSTD");
        assert_eq!(
            (&done["ImportStatus"], &done["FailureCode"]),
            (&json!("FAILED"), &json!(code)),
            "{format}: {done}"
        );
        let message = done["FailureMessage"].as_str().unwrap_or_default();
        assert!(message.contains("longer than"), "{format}: {message}");
    }
    let peak = peak_memory();
    assert!(
        peak < 256 << 20,
        "peak memory {peak} bytes, for bombs of 1 GiB each"
    );
    println!("ZSTD_BOMB inflated=3x1GiB peak_rss={peak}");

    // Window log 30 (1 GiB), then an empty last block.
    let mut greedy = vec![0x28, 0xB5, 0x2F, 0xFD, 0x00, (30 - 10) << 3];
    greedy.extend_from_slice(&[0x01, 0x00, 0x00]);
    server.put_object("bucket", "greedy/0.zst", &greedy);
    let done = server.import("Greedy", "greedy/", "DYNAMODB_JSON", "ZSTD");
    assert_eq!(done["ImportStatus"], "FAILED", "{done}");
    let message = done["FailureMessage"].as_str().unwrap_or_default();
    assert!(message.contains("window of 1073741824 bytes"), "{message}");
    assert_eq!(server.items("Greedy"), None);
}

/// A tidestore export (ExportTableToPointInTime, DYNAMODB_JSON and ION: `data/*.gz`), its
/// data files decompressed and compressed again as ZSTD, imports back with
/// `InputCompressionType` ZSTD as the exported table, item for item.
#[test]
fn a_tidestore_export_recompressed_as_zstd_imports_back_as_the_same_table() {
    let _one = one_at_a_time();
    let server = Server::start();
    let table = json!({
        "TableName": "Source",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    let arn = server.ok("CreateTable", table)["TableDescription"]["TableArn"].clone();
    for chunk in 0..8 {
        let puts: Vec<Value> = (chunk * 25..chunk * 25 + 25)
            .map(|i| {
                json!({"PutRequest": {"Item": {
                    "pk": {"S": format!("p{i}")}, "n": {"N": format!("{i}.5")},
                    "b": {"B": "AAEC/w=="}, "ss": {"SS": ["a", format!("s{i}")]},
                    "m": {"M": {"l": {"L": [{"BOOL": i % 2 == 0}, {"NULL": true}]}}},
                }}})
            })
            .collect();
        server.ok("BatchWriteItem", json!({"RequestItems": {"Source": puts}}));
    }
    server.ok(
        "UpdateContinuousBackups",
        json!({"TableName": "Source", "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    );
    std::fs::create_dir_all(server.bucket("bucket")).expect("the bucket");
    let source = server.items("Source").expect("the source");
    assert_eq!(source.len(), 200);
    for format in ["DYNAMODB_JSON", "ION"] {
        let started = server.ok(
            "ExportTableToPointInTime",
            json!({"TableArn": arn, "S3Bucket": "bucket", "S3Prefix": format!("export-{format}"), "ExportFormat": format}),
        );
        let describe = json!({"ExportArn": started["ExportDescription"]["ExportArn"]});
        let mut done = json!(null);
        for _ in 0..1200 {
            done = server.ok("DescribeExport", describe.clone())["ExportDescription"].clone();
            if done["ExportStatus"] != "IN_PROGRESS" {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(done["ExportStatus"], "COMPLETED", "{done}");
        let manifest = server
            .bucket("bucket")
            .join(done["ExportManifest"].as_str().expect("a key"));
        let data = manifest.with_file_name("data");
        let recompressed = format!("zstd-export-{format}/");
        let mut files = 0;
        for entry in std::fs::read_dir(&data).expect("the data files") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).expect("a name");
            let stem = name.strip_suffix(".gz").expect("a gzip'd data file");
            server.put_object(
                "bucket",
                &format!("{recompressed}{stem}.zst"),
                &zstd(&gunzip(&path)),
            );
            files += 1;
        }
        assert!(files > 0);
        let imported = format!("Imported{format}");
        let done = server.import(&imported, &recompressed, format, "ZSTD");
        assert_eq!(
            (&done["ImportStatus"], &done["ImportedItemCount"]),
            (&json!("COMPLETED"), &json!(200)),
            "{done}"
        );
        assert_eq!(server.items(&imported).as_ref(), Some(&source), "{format}");
    }
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).expect("a file"))
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

/// A stop cancels an import reading a ZSTD file that is endless yet never hands a byte to
/// the format's reader: a frame's header, then a terabyte of zeros (sparse), which a ZSTD
/// decoder reads as empty raw blocks, three bytes each. The server stops promptly, and after
/// a restart the import is FAILED in the words of the cancellation (not as a corrupt
/// frame), with no table.
#[cfg(unix)]
#[test]
fn a_stop_cancels_an_import_reading_an_endless_zstd_frame_of_empty_blocks() {
    let _one = one_at_a_time();
    let data = TempDir::new("wire-zstd-cancel-db");
    let s3 = TempDir::new("wire-zstd-cancel-s3");
    let mut server = Server::start_in(data.path(), s3.path());
    server.put_object(
        "bucket",
        "endless/0.zst",
        &[0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38],
    );
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(server.bucket("bucket").join("endless/0.zst"))
        .expect("the file");
    file.set_len(1 << 40).expect("a sparse terabyte");
    drop(file);
    let started = server.ok(
        "ImportTable",
        json!({
            "ClientToken": unique_token(),
            "S3BucketSource": {"S3Bucket": "bucket", "S3KeyPrefix": "endless/"},
            "InputFormat": "DYNAMODB_JSON",
            "InputCompressionType": "ZSTD",
            "TableCreationParameters": {
                "TableName": "Endless",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        }),
    );
    let arn = started["ImportTableDescription"]["ImportArn"].clone();
    std::thread::sleep(Duration::from_millis(300));
    let described = server.ok("DescribeImport", json!({ "ImportArn": arn }));
    assert_eq!(
        described["ImportTableDescription"]["ImportStatus"],
        "IN_PROGRESS"
    );
    assert!(
        server.serving.stop_within(Duration::from_secs(30)),
        "the stop waited for the import"
    );
    drop(server);

    let server = Server::start_in(data.path(), s3.path());
    let described = server.ok("DescribeImport", json!({ "ImportArn": arn }));
    let description = &described["ImportTableDescription"];
    assert_eq!(description["ImportStatus"], "FAILED", "{description}");
    assert_eq!(
        description["FailureMessage"],
        "the server stopped: the import was cancelled before its table was made"
    );
    assert_eq!(server.items("Endless"), None);
}

/// A `ClientToken` no other import of this process has.
fn unique_token() -> String {
    static TOKENS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = TOKENS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("token-{}-{n}", std::process::id())
}
