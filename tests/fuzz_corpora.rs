//! Replays the fuzz corpora (TESTING.md section 2.3) on the stable toolchain: every file
//! under `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` goes through the same
//! `tidestore::fuzz_support` harness the cargo-fuzz target runs, so the decoders keep their
//! promises on every input a fuzzer once found interesting, even where cargo-fuzz is absent.
//! The corpora are grown and minimised by `scripts/fuzz` and `cargo fuzz cmin`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tidestore::fuzz_support;

/// A harness: panics only if the decoder it feeds broke a promise.
type Harness = fn(&[u8]);

/// Every fuzz target and its harness; a target in `fuzz/fuzz_targets/` missing here fails.
fn targets() -> Vec<(&'static str, Harness)> {
    #[cfg_attr(not(feature = "server"), allow(unused_mut))]
    let mut targets: Vec<(&'static str, Harness)> = vec![
        ("log_segment", fuzz_support::log_segment),
        ("log_mutations", fuzz_support::log_mutations),
        ("crash_differential", fuzz_support::crash_differential),
        ("log_record_payload", fuzz_support::log_record_payload),
        ("snapshot_file", fuzz_support::snapshot_file),
        ("backup_file", fuzz_support::backup_file),
        ("catalog_file", fuzz_support::catalog_file),
        ("item_json", fuzz_support::item_json),
        ("import_json", fuzz_support::import_json),
        ("import_ion", fuzz_support::import_ion),
        ("table_name", fuzz_support::table_name),
        ("expression", fuzz_support::expression),
    ];
    #[cfg(feature = "server")]
    targets.push(("wire_request", fuzz_support::wire_request));
    #[cfg(feature = "server")]
    targets.push(("partiql", fuzz_support::partiql));
    targets
}

/// Targets whose harness needs a feature this build lacks: `wire_request` and `partiql`
/// fuzz `tidestore serve`, and are replayed by `cargo test --features server --test
/// fuzz_corpora` (which `scripts/test` runs).
const NEEDS_SERVER: &[&str] = &["wire_request", "partiql"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The regular files directly in `dir` (libFuzzer's corpora are flat), sorted; hidden
/// files (cmin's leftovers) are skipped.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .filter(|path| {
            path.is_file()
                && !path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_fuzz_target_has_a_replayed_harness() {
    let dir = fuzz_dir().join("fuzz_targets");
    for path in files_in(&dir) {
        let Some(name) = path.file_stem().and_then(|n| n.to_str()) else {
            continue;
        };
        assert!(
            targets().iter().any(|(t, _)| *t == name)
                || (cfg!(not(feature = "server")) && NEEDS_SERVER.contains(&name)),
            "fuzz target {name} has no entry in tests/fuzz_corpora.rs targets()"
        );
    }
}

#[test]
fn replay_fuzz_corpora() {
    let start = Instant::now();
    let mut total = 0;
    let mut failures = Vec::new();
    let targets = targets();
    for (target, harness) in &targets {
        let corpus = fuzz_dir().join("corpus").join(target);
        assert!(
            corpus.is_dir(),
            "missing corpus {} (see scripts/fuzz)",
            corpus.display()
        );
        let mut files = files_in(&corpus);
        assert!(
            !files.is_empty(),
            "empty corpus {}: the replay would test nothing",
            corpus.display()
        );
        let regressions = fuzz_dir().join("regressions").join(target);
        if regressions.is_dir() {
            files.extend(files_in(&regressions));
        }
        for file in files {
            let bytes = std::fs::read(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
            total += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| harness(&bytes))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target}: {}: {message}", file.display()));
            }
        }
    }
    println!(
        "FUZZ replay files={total} targets={} ms={}",
        targets.len(),
        start.elapsed().as_millis()
    );
    assert!(
        failures.is_empty(),
        "{} corpus file(s) broke a decoder's promise:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
