//! The conformance battery on burn (NdArray and Flex devices), printed (run with `-- --nocapture`); no assertion
//! yet: the capability model the battery draws from is being refined.

use conv_oracle::conformance::{Config, check};
use zoo_burn::Burn;

#[test]
fn conformance_report() {
    for engine in [Burn::ndarray(), Burn::flex()] {
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
