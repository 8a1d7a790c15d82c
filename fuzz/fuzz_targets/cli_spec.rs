//! The CLI's spec grammar (cli/src/flags.rs, the code the binary runs): the layer flags parsed by
//! clap from arbitrary values, `--tolerance`, and `judge --stream` request keys and inline
//! arrays from arbitrary JSON text. Every outcome must be a spec or a one-line error, never
//! a panic; a spec that parses is then checked against a small problem under tight limits
//! (so a huge padding is refused by the limits, not by running out of memory).
#![no_main]

#[allow(dead_code)]
#[path = "../../cli/src/cli_io.rs"]
mod cli_io;
#[allow(dead_code)]
#[path = "../../cli/src/flags.rs"]
mod flags;

use clap::Parser;
use conv_oracle::engine::ReferenceEngine;
use conv_oracle::layer::{TransposeProblem, conv_using, input_as_nchw};
use conv_oracle::problem::Limits;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ndarray::{ArrayD, IxDyn};

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    layer: flags::LayerArgs,
    #[arg(long, default_value = "componentwise")]
    tolerance: String,
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// (flag index, value) pairs.
    flags: Vec<(u8, String)>,
    rank: u8,
    channels: u8,
    extent: u8,
    kernel: u8,
    request: String,
}

const FLAGS: [&str; 12] = [
    "--stride",
    "--dilation",
    "--padding",
    "--padding-mode",
    "--groups",
    "--layout",
    "--kernel-layout",
    "--transpose",
    "--output-padding",
    "--output-shape",
    "--tolerance",
    "--bias",
];

fn one_line(e: &str) {
    assert!(
        !e.is_empty() && !e.contains('\n'),
        "not a one-line error: {e:?}"
    );
}

fuzz_target!(|input: Input| {
    let mut argv = vec!["conv-oracle".to_string()];
    for (i, v) in input.flags.iter().take(12) {
        let flag = FLAGS[usize::from(*i) % FLAGS.len()];
        argv.push(flag.to_string());
        if flag != "--transpose" {
            argv.push(v.clone());
        }
    }
    let rank = usize::from(input.rank % 3) + 1;
    let limits = Limits {
        max_elements: 1 << 14,
        max_work: 1 << 18,
    };
    if let Ok(f) = Flags::try_parse_from(&argv) {
        check_layer(&f.layer, &f.tolerance, rank, &input, limits);
    }
    // A --stream request's keys on top of the defaults.
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str(&input.request) {
        let mut layer = Flags::try_parse_from(["conv-oracle"])
            .expect("defaults")
            .layer;
        let mut tolerance = "componentwise".to_string();
        match flags::request_keys(&obj, &mut layer, &mut tolerance) {
            Ok(()) => check_layer(&layer, &tolerance, rank, &input, limits),
            Err(e) => one_line(&e),
        }
        for key in ["input", "weight", "output"] {
            if let Some(v) = obj.get(key) {
                match flags::inline_array(key, v) {
                    Ok(_) => {}
                    Err(e) => one_line(&e),
                }
            }
        }
    }
});

fn check_layer(
    layer: &flags::LayerArgs,
    tolerance: &str,
    rank: usize,
    input: &Input,
    limits: Limits,
) {
    for dtype in ["f32", "f64"] {
        if let Err(e) = flags::tolerance_model(tolerance, dtype) {
            one_line(&e);
        }
    }
    if let Err(e) = layer.check_transpose_flags() {
        one_line(&e);
        return;
    }
    let c = usize::from(input.channels % 4) + 1;
    let n = usize::from(input.extent % 6);
    let k = usize::from(input.kernel % 4);
    let mut xs = vec![1, c];
    xs.extend(std::iter::repeat_n(n, rank));
    let x = ArrayD::<f64>::zeros(IxDyn(&xs));
    if layer.transpose {
        match layer.transpose_spec(rank) {
            Err(e) => one_line(&e),
            Ok(mut spec) => {
                spec.limits = limits;
                let mut ws = vec![c, 2];
                ws.extend(std::iter::repeat_n(k, rank));
                let w = ArrayD::<f64>::zeros(IxDyn(&ws));
                if let Ok(xv) = input_as_nchw(x.view(), layer.input_layout()) {
                    let p = TransposeProblem::new(xv, w.view()).spec(spec);
                    if let Err(e) = conv_oracle::layer::transpose_literal(&p) {
                        one_line(&e.to_string());
                    }
                }
            }
        }
    } else {
        match layer.spec(rank) {
            Err(e) => one_line(&e),
            Ok(mut spec) => {
                spec.limits = limits;
                let mut ws = vec![2, c / spec.groups.max(1)];
                ws.extend(std::iter::repeat_n(k, rank));
                let w = ArrayD::<f64>::zeros(IxDyn(&ws));
                if let Err(e) = conv_using(&ReferenceEngine, x.view(), w.view(), None, &spec) {
                    one_line(&e.to_string());
                }
            }
        }
    }
}
