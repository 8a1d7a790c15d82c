//! The library's layers point one way: every `crate::` path in a module's code names a module
//! of its own layer or of a layer below (README, "Architecture"). Read from the source text, so
//! a new import that runs back up fails here, with the file and the path. Comments are not
//! code: a doc link may point up to a user of the item.

use std::path::{Path, PathBuf};

/// The layers from the bottom up; a module may use its own layer and those before it.
const LAYERS: &[&[&str]] = &[
    &["scalar"],
    &["problem"],
    &["reference", "tolerance", "symbolic"],
    &["engine"],
    &["oracle"],
    &["api", "layer", "signal"],
    &["vectors"],
    &["testing"],
    &["conformance", "conv_conformance_tests"],
    &["verify"],
    &["proofs"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/engine/fft/mod.rs` -> `engine`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src/");
    let first = rel.components().next().expect("a path component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// The top-level modules a line names through `crate::` (code and doc links alike).
fn named_modules(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            out.push(name);
        }
        rest = after;
    }
    out
}

#[test]
fn no_module_names_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    let mut unplaced = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            unplaced.push(module);
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a source file");
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for named in named_modules(line) {
                seen.insert((module.clone(), named.clone()));
                match layer_of(&named) {
                    Some(l) if l <= own => {}
                    Some(_) => upward.push(format!(
                        "{}:{}: {module} names crate::{named}",
                        file.display(),
                        n + 1
                    )),
                    None => unplaced.push(named),
                }
            }
        }
    }
    assert!(unplaced.is_empty(), "modules with no layer: {unplaced:?}");
    assert!(
        upward.is_empty(),
        "paths that run up a layer:\n{}",
        upward.join("\n")
    );
    // The scan read the code: imports known to be there were seen.
    for (from, to) in [
        ("engine", "tolerance"),
        ("oracle", "engine"),
        ("verify", "testing"),
    ] {
        assert!(
            seen.contains(&(from.to_string(), to.to_string())),
            "the scan missed {from} -> {to}"
        );
    }
}

#[test]
fn the_scan_sees_an_upward_path() {
    assert_eq!(named_modules("use crate::verify::fft::Case;"), ["verify"]);
    assert_eq!(
        named_modules("/// see [`crate::oracle::judge`] and crate::ConvError"),
        ["oracle"]
    );
    assert!(layer_of("verify") > layer_of("engine"));
}
