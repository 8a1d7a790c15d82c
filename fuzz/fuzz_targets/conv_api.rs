//! The public conv API with arbitrary specs and small arrays, through every engine
//! (reference, direct, FFT, overlap-add, exact, dense, method auto) and the transposed
//! convolution. Differential: every engine accepts exactly the problems the reference accepts
//! (up to its own resource limits) and returns the reference's shape; on integers every
//! engine is exact; on finite floats of moderate size the direct and dense results are within
//! the componentwise bound of the correctly rounded result, the transform results within the
//! FFT engine's normwise bound, and the exact engine's result is the judge's exact result. Non-finite and
//! extreme values only have to come back without a panic (their rules are pinned by
//! tests/edge_cases.rs).
#![no_main]

use conv_oracle::tolerance::{Float, Model};
use conv_oracle::oracle::{judge};
use conv_oracle::engine::dense::DenseEngine;
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::exact::{ExactElement, ExactEngine};
use conv_oracle::engine::fft::{FftElement, FftEngine};
use conv_oracle::engine::method::{Method, MethodEngine};
use conv_oracle::engine::{ConvEngine, ReferenceEngine};
use conv_oracle::layer::{TransposePadding, TransposeProblem, TransposeSpec, transpose_literal};
use conv_oracle::problem::{Boundary, ConvSpec, Flip, Limits, Padding};
use conv_oracle::{ConvError, Problem};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ndarray::{Array1, ArrayD, IxDyn};

#[derive(Arbitrary, Debug)]
struct Case {
    rank: u8,
    batch: u8,
    groups: u8,
    c_in: u8,
    c_out: u8,
    extents: [u8; 3],
    kernel: [u8; 3],
    stride: [u8; 3],
    dilation: [u8; 3],
    pads: [(u8, u8); 3],
    padding: u8,
    boundary: u8,
    flip: bool,
    bias: bool,
    dtype: u8,
    values: u8,
    data: Vec<u16>,
}

fuzz_target!(|c: Case| {
    let rank = usize::from(c.rank % 3) + 1;
    let groups = usize::from(c.groups % 3); // 0 must be refused
    let g = groups.max(1);
    let c_in = g * (usize::from(c.c_in % 3));
    let c_out = g * (usize::from(c.c_out % 2) + 1);
    let mut xs = vec![usize::from(c.batch % 3), c_in];
    xs.extend(c.extents[..rank].iter().map(|&n| usize::from(n % 8)));
    let mut ws = vec![c_out, c_in / g];
    ws.extend(c.kernel[..rank].iter().map(|&k| usize::from(k % 5)));
    let spec_pads: Vec<(usize, usize)> = c.pads[..rank]
        .iter()
        .map(|&(lo, hi)| (usize::from(lo % 9), usize::from(hi % 9)))
        .collect();
    let spec = |constant: f64| ConvSpec::<f64> {
        stride: per_axis(&c.stride, rank),
        dilation: per_axis(&c.dilation, rank),
        padding: match c.padding % 6 {
            0 => Padding::Explicit(spec_pads.clone()),
            1 => Padding::Valid,
            2 => Padding::Full,
            3 => Padding::SameUpper,
            4 => Padding::SameLower,
            _ => Padding::TorchSame,
        },
        boundary: match c.boundary % 6 {
            0 => Boundary::Zeros,
            1 => Boundary::Constant(constant),
            2 => Boundary::Reflect,
            3 => Boundary::Symmetric,
            4 => Boundary::Replicate,
            _ => Boundary::Circular,
        },
        flip: if c.flip {
            Flip::Convolution
        } else {
            Flip::Correlation
        },
        groups,
        limits: Limits {
            max_elements: 1 << 14,
            max_work: 1 << 18,
        },
    };
    let n_x: usize = xs.iter().product();
    let n_w: usize = ws.iter().product();
    let mut words = c.data.iter().copied().cycle();
    let mut next = || words.next().unwrap_or(0);
    // values: 0 small integers, 1 moderate floats, 2 anything (specials, subnormals, huge).
    let mode = c.values % 3;
    let mut value = || -> f64 {
        let a = next();
        match mode {
            0 => f64::from(a as i16 % 16),
            1 => {
                let m = f64::from(next()) / 65536.0 + f64::from(next() % 2);
                let e = i32::from(a % 41) - 20;
                let s = if a & 0x8000 != 0 { -1.0 } else { 1.0 };
                s * m * 2f64.powi(e)
            }
            _ => {
                f64::from_bits((u64::from(a) << 48) | (u64::from(next()) << 32) | u64::from(next()))
            }
        }
    };
    let x: Vec<f64> = (0..n_x).map(|_| value()).collect();
    let w: Vec<f64> = (0..n_w).map(|_| value()).collect();
    let b: Vec<f64> = (0..c_out).map(|_| value()).collect();
    let k = value();
    let x = ArrayD::from_shape_vec(IxDyn(&xs), x).expect("shape");
    let w = ArrayD::from_shape_vec(IxDyn(&ws), w).expect("shape");
    let b = Array1::from(b);
    match c.dtype % 3 {
        0 => run::<f64>(&x, &w, &b, spec(k), mode, c.bias),
        1 => run::<f32>(
            &x.mapv(|v| v as f32),
            &w.mapv(|v| v as f32),
            &b.mapv(|v| v as f32),
            spec(k).map_constant(|v| v as f32),
            mode,
            c.bias,
        ),
        _ => run_int(&x, &w, &b, spec(k), c.bias),
    }
    transpose(&x, &w, &b, &spec_pads, &c, rank);
});

/// Stride or dilation: 0 to 3 per axis (0 must be refused).
fn per_axis(v: &[u8; 3], rank: usize) -> Vec<usize> {
    v[..rank].iter().map(|&s| usize::from(s % 4)).collect()
}

#[derive(Clone, Copy)]
enum Kind {
    Direct,
    Exact,
    Fft,
    OverlapAdd,
    Auto,
}

fn same_outcome<T>(
    name: &str,
    reference: &Result<ArrayD<T>, ConvError>,
    got: &Result<ArrayD<T>, ConvError>,
) -> bool {
    match (reference, got) {
        (Ok(r), Ok(y)) => {
            assert_eq!(r.shape(), y.shape(), "{name}: shape");
            true
        }
        (Err(_), Err(_)) => false,
        // An engine's own working arrays may exceed the element limit where the reference's
        // do not (and the reference's multiply-add limit binds no transform).
        (_, Err(ConvError::LimitExceeded { .. })) | (Err(ConvError::LimitExceeded { .. }), _) => {
            false
        }
        (r, y) => panic!(
            "{name}: reference {:?} but engine {:?}",
            r.as_ref().err(),
            y.as_ref().err()
        ),
    }
}

fn run<T>(x: &ArrayD<T>, w: &ArrayD<T>, b: &Array1<T>, spec: ConvSpec<T>, mode: u8, bias: bool)
where
    T: Float + ExactElement + FftElement + conv_oracle::engine::direct::DirectElement,
    MethodEngine: ConvEngine<T>,
{
    let mut p = Problem::new(x.view(), w.view()).spec(spec);
    if bias {
        p = p.bias(b.view());
    }
    let reference = ReferenceEngine.conv(&p);
    let fft = FftEngine::new();
    let ola = FftEngine::overlap_add();
    let auto = MethodEngine::new(Method::Auto);
    let engines: [(&dyn ConvEngine<T>, Kind); 6] = [
        (&DirectEngine::new(), Kind::Direct),
        (&DenseEngine, Kind::Direct),
        (&ExactEngine::new(), Kind::Exact),
        (&fft, Kind::Fft),
        (&ola, Kind::OverlapAdd),
        (&auto, Kind::Auto),
    ];
    for (engine, kind) in engines {
        let got = engine.conv(&p);
        if !same_outcome(engine.name(), &reference, &got) || mode != 1 {
            continue;
        }
        let Ok(y) = got else { continue };
        let chosen = match kind {
            Kind::Auto => auto.plan(&p).map(|m| m.chosen).unwrap_or(Method::Direct),
            Kind::Fft => Method::Fft,
            Kind::OverlapAdd => Method::OverlapAdd,
            _ => Method::Direct,
        };
        let model = match (kind, chosen) {
            (Kind::Exact, _) => Model::Exact,
            (_, Method::Fft) => fft.normwise_model(&p).expect("model"),
            (_, Method::OverlapAdd) => ola.normwise_model(&p).expect("model"),
            _ => Model::Componentwise,
        };
        let report = judge(&p, y.view(), &model).expect("judge");
        assert!(report.passed(), "{}: {report:?}", engine.name());
    }
    if let Ok(r) = &reference
        && mode == 1
    {
        let report = judge(&p, r.view(), &Model::Componentwise).expect("judge");
        assert!(report.passed(), "reference: {report:?}");
    }
}

fn run_int(x: &ArrayD<f64>, w: &ArrayD<f64>, b: &Array1<f64>, spec: ConvSpec<f64>, bias: bool) {
    let (x, w, b) = (
        x.mapv(|v| v as i64),
        w.mapv(|v| v as i64),
        b.mapv(|v| v as i64),
    );
    let mut p = Problem::new(x.view(), w.view()).spec(spec.map_constant(|v| v as i64));
    if bias {
        p = p.bias(b.view());
    }
    let reference = ReferenceEngine.conv(&p);
    let fft = FftEngine::new();
    let auto = MethodEngine::new(Method::Auto);
    let engines: [&dyn ConvEngine<i64>; 4] = [&DirectEngine::new(), &DenseEngine, &fft, &auto];
    for engine in engines {
        let got = engine.conv(&p);
        if same_outcome(engine.name(), &reference, &got) {
            assert_eq!(
                reference.as_ref().ok(),
                got.as_ref().ok(),
                "{}",
                engine.name()
            );
        }
    }
}

/// The transposed convolution: the literal formula, the correctly rounded one and the
/// zero-stuffed equivalent through the direct engine agree on acceptance and shape.
fn transpose(
    x: &ArrayD<f64>,
    w: &ArrayD<f64>,
    b: &Array1<f64>,
    pads: &[(usize, usize)],
    c: &Case,
    rank: usize,
) {
    // ConvTranspose's weight is (C_in, C_out/groups, k...): reuse the data reshaped.
    let g = usize::from(c.groups % 3);
    let mut ws = vec![x.shape()[1], usize::from(c.c_out % 2) + 1];
    ws.extend(&w.shape()[2..]);
    let n: usize = ws.iter().product();
    let wt = ArrayD::from_shape_vec(IxDyn(&ws), w.iter().copied().cycle().take(n).collect())
        .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&ws)));
    let spec = TransposeSpec {
        stride: per_axis(&c.stride, rank),
        dilation: per_axis(&c.dilation, rank),
        padding: match c.padding % 3 {
            0 => TransposePadding::Explicit(pads.to_vec()),
            1 => TransposePadding::SameUpper,
            _ => TransposePadding::SameLower,
        },
        output_padding: c.pads[..rank]
            .iter()
            .map(|&(_, op)| usize::from(op % 3))
            .collect(),
        groups: g,
        // Tighter than the forward problem's: the correctly rounded transposed result sums
        // every literal term in a superaccumulator, about 100 times a multiply-add, and under
        // the sanitizer a 2^18-term problem ran past libFuzzer's 10 s timeout (a slow input,
        // not a hang: 5 s alone, 14 s on the shared machine).
        limits: Limits {
            max_elements: 1 << 14,
            max_work: 1 << 15,
        },
    };
    let bias: Array1<f64> = b.iter().copied().cycle().take(ws[1] * g.max(1)).collect();
    let mut p = TransposeProblem::new(x.view(), wt.view()).spec(spec);
    if c.bias {
        p = p.bias(bias.view());
    }
    let literal = transpose_literal(&p);
    let exact = conv_oracle::oracle::exact_transpose(&p);
    same_outcome("exact_transpose", &literal, &exact);
    let stuffed = p
        .as_conv()
        .and_then(|eq| DirectEngine::new().conv(&eq.problem()));
    same_outcome("zero-stuffed direct", &literal, &stuffed);
}
