//! The test-vector reader (`conv_oracle::vectors::parse`) on arbitrary text: a parsed file or
//! an error naming the file and the field in one line, never a panic; a file that parses is
//! then checked (`conv_oracle::vectors::check`), which must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match conv_oracle::vectors::parse("fuzz.json", text) {
        Ok(file) => {
            let _ = conv_oracle::vectors::check(&file);
        }
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.starts_with("fuzz.json: "),
                "error does not name the file: {e}"
            );
            assert!(!e.contains('\n'), "not one line: {e}");
        }
    }
});
