//! The CLI's .npy reader (cli/src/cli_io.rs, the code the binary runs) on arbitrary bytes: it
//! must return an array whose size the file holds, or an error naming the file; never
//! panic, and never allocate for data the file does not contain.
#![no_main]

#[allow(dead_code)]
#[path = "../../cli/src/cli_io.rs"]
mod cli_io;

use cli_io::{Data, read_data_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let r = read_data_from("fuzz.npy", std::io::Cursor::new(bytes), bytes.len() as u64);
    match r {
        Ok(d) => {
            let (n, item) = match &d {
                Data::I64(a) => (a.len(), 8),
                Data::F32(a) => (a.len(), 4),
                Data::F64(a) => (a.len(), 8),
                Data::C128(a) => (a.len(), 16),
            };
            // Every element came from the file's bytes.
            assert!(
                n * item <= bytes.len(),
                "{n} elements from {} bytes",
                bytes.len()
            );
        }
        Err(e) => {
            assert!(
                e.starts_with("fuzz.npy: "),
                "error does not name the file: {e}"
            );
            assert!(!e.contains('\n'), "error is not one line: {e}");
        }
    }
});
