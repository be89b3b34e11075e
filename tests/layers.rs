//! The source tree's layers: every top-level module of `src/` imports only modules below it
//! (the order of `LAYERS`), so a reader learns the crate bottom-up and a service cannot
//! reach into the log's internals. The one circle allowed is the error type with the data
//! model (an error can carry an item; the model's validation returns errors).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Top-level modules, bottom first.
const LAYERS: &[&str] = &[
    "error",
    "model",
    "expr",
    "api",
    "fs",
    "options",
    "format",
    "state",
    "storage",
    "engine",
    "restore",
    "import",
    "backup",
    "pitr",
    "export",
    "streams",
    "db",
    "server",
    "fuzz_support",
    "lib",
    "bin",
];

/// The imports that may point up: `error` names the data model's `Item`.
const ALLOWED_UPWARD: &[(&str, &str)] = &[("error", "model")];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<module>` paths per top-level module of `src/`.
fn imports() -> BTreeMap<String, BTreeMap<String, usize>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut imports: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let text = fs::read_to_string(&file).expect("read a source file");
        for (i, _) in text.match_indices("crate::") {
            let target: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !target.is_empty() && target != first {
                *imports
                    .entry(first.clone())
                    .or_default()
                    .entry(target)
                    .or_default() += 1;
            }
        }
    }
    imports
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut upward = Vec::new();
    for (module, targets) in imports() {
        let from = rank(&module)
            .unwrap_or_else(|| panic!("src/{module} is not in LAYERS: give it its layer"));
        for (target, count) in targets {
            let to = rank(&target)
                .unwrap_or_else(|| panic!("crate::{target} (from {module}) is not in LAYERS"));
            if to > from && !ALLOWED_UPWARD.contains(&(module.as_str(), target.as_str())) {
                upward.push(format!("{module} -> {target} ({count} paths)"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports that point up a layer:\n{}",
        upward.join("\n")
    );
}
