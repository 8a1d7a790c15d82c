//! `conv-oracle check-vectors`: read and check test-vector files.

use crate::*;

/// `check-vectors`: every file is parsed before any is checked, so a malformed file stops the
/// run with exit 2 before a verdict is printed.
pub(crate) fn check_vectors(files: &[PathBuf]) -> ExitCode {
    let mut parsed = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let text = match read_text(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("conv-oracle: error: {}", cli_io::one_line(&e));
                return ExitCode::from(2);
            }
        };
        match conv_oracle::vectors::parse(&name, &text) {
            Ok(f) => parsed.push(f),
            Err(e) => {
                eprintln!("conv-oracle: error: {}", cli_io::one_line(e.to_string()));
                return ExitCode::from(2);
            }
        }
    }
    let mut all = true;
    for f in &parsed {
        let r = conv_oracle::vectors::check(f);
        outln!(
            "{}: {} tests: {} agree, {} invalid refused, {} disagree",
            f.name,
            r.agreed + r.refused + r.disagreements.len(),
            r.agreed,
            r.refused,
            r.disagreements.len()
        );
        for d in &r.disagreements {
            outln!("  tcId {}: {}", d.tc_id, d.problem);
        }
        all &= r.disagreements.is_empty();
    }
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A text file of at most `--max-memory` / 32 bytes (its parsed JSON takes several times its
/// text, as a `--stream` line's does; the committed vector files are under 1 MiB).
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    let name = path.display();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{name}: cannot open: {e}"))?
        .len();
    let max = cli_io::max_memory() / 32;
    if len > max {
        return Err(format!(
            "{name}: {} of text, over the {} that --max-memory {} allows for a vector file (1/32)",
            cli_io::show_bytes(u128::from(len)),
            cli_io::show_bytes(u128::from(max)),
            cli_io::show_bytes(u128::from(cli_io::max_memory()))
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
