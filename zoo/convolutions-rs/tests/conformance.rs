//! The conformance battery on convolutions-rs, printed (run with `-- --nocapture`); no assertion
//! yet: the capability model the battery draws from is being refined.

use conv_oracle::conformance::{Config, check};
use zoo_convolutions_rs::ConvolutionsRs;

#[test]
fn conformance_report() {
    for engine in [ConvolutionsRs] {
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
