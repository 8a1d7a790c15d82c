//! The conformance battery on ndarray-conv, printed (run with `-- --nocapture`); no assertion
//! yet: the capability model the battery draws from is being refined.

use conv_oracle::conformance::{Config, check};
use zoo_ndarray_conv::NdarrayConv;

#[test]
fn conformance_report() {
    for engine in [NdarrayConv::direct(), NdarrayConv::fft()] {
        let report = check::<f32>(
            &engine,
            &Config {
                cases: 64,
                ..Default::default()
            },
        );
        println!("{report}");
    }
}
