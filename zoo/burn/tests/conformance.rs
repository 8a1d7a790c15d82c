//! The conformance battery on burn (NdArray and Flex devices), printed (run with `-- --ignored --nocapture`). Ignored
//! until a first run has been read: the capabilities state the documented API, but whether
//! the only failures left are the confirmed findings (`tests/findings.rs`) is not yet known,
//! so nothing is asserted and the test does not run by default.

use conv_oracle::conformance::{Config, check};
use zoo_burn::Burn;

#[test]
#[ignore = "the first battery run is still to be read (zoo/README.md)"]
fn conformance_report() {
    for engine in [Burn::ndarray(), Burn::flex()] {
        let report = check::<f32>(&engine, &Config::default());
        println!("{report}");
    }
}
