//! The conformance battery on candle-core, printed (run with `-- --nocapture`); no assertion
//! yet: the capability model the battery draws from is being refined.

use conv_oracle::conformance::{Config, check};
use zoo_candle::Candle;

#[test]
fn conformance_report() {
    for engine in [Candle] {
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
