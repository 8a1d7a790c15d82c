//! Issue 5's performance targets for the correctly rounded engine
//! ([`conv_oracle::engine::exact::ExactEngine`]), one criterion group per problem.
//! `scripts/bench_exact_peers.py` runs this bench and onnxruntime (P1) in one run and prints
//! the ratios.
//!
//! - `exact_p1_f32`: float32 input `[8, 64, 56, 56]`, weight `[64, 64, 3, 3]`, explicit
//!   padding 1 on both spatial axes, stride 1, zero boundary, cross-correlation (PyTorch /
//!   ONNX `Conv`), no bias: 8 * 64 * 56 * 56 * 64 * 9 = 0.925e9 multiply-adds (1.85 GFLOP).
//! - `exact_p2_f64`: float64 input `[1, 1, 512, 512]`, weight `[1, 1, 15, 15]`, zero padding
//!   "same" as `Padding::Explicit([(7, 7), (7, 7)])` (output 512x512), true convolution
//!   (the image-processing convention of the `workloads` bench; flipping costs nothing),
//!   no bias: 512 * 512 * 225 = 59e6 multiply-adds.
//!
//! Functions (criterion ids `<group>/<function>`):
//!
//! | function | engine |
//! |---|---|
//! | `exact_t1`, `exact_t2` | `ExactEngine::new().threads(1 / 2)` on the problem's own type |
//! | `direct_f64_t1`, `direct_f64_t2` | `DirectEngine::new().threads(1 / 2)` on float64 data |
//! | `direct_f32_t1` (P1 only) | `DirectEngine::new()` on the float32 data |
//! | `reference_f64` | `ReferenceEngine` (the literal formula) on float64 data |
//!
//! For P1 the float64 problem is the float32 data widened to float64 (exactly), i.e. the same
//! problem; for P2 it is the problem itself. The data are uniform in [-1, 1) from a fixed-seed
//! 64-bit LCG (`lcg_data` of `benches/common/mod.rs`, shared with `benches/workloads.rs`),
//! rounded to float32 for P1.
//!
//! The reference is slow (10-15 million generic multiply-adds per second here). On P2 (a few
//! seconds per call) criterion samples it flat (10 samples of one call each,
//! `SamplingMode::Flat`). On P1 one call takes 1-2 minutes, so criterion's minimum of 10
//! samples plus a warm-up would take 15-20 minutes: instead, with
//! `EXACT_BENCH_P1_REFERENCE_REPS=N` the bench times N calls in a plain loop after the
//! criterion functions of P1 and prints the median (stderr) and writes it to
//! `CRITERION_HOME/exact_p1_f32/reference_f64.custom.json` (read by the script); unset, it is
//! skipped. The variable is not subject to criterion's filter. Everything else uses 10 samples
//! and 10 s of measurement (criterion's automatic choice: linear sampling for the fast
//! functions, flat where a call takes ~1 s).
//!
//! Before the first sample of `exact_t1` of a group, the bench prints (stderr) the
//! `ExactStats` of the problem: how many outputs the certified fast tier produced and how
//! many were recomputed with the exact accumulator.
//!
//! With `EXACT_BENCH_TIERS=1` the binary skips criterion and instead times the exact and
//! direct engines (median of 5 calls after a warm-up call) per problem, plus
//! `ExactEngine::fallback_only()` (every output through the exact accumulator) on a slice of
//! the outputs, scaled up, to show where the exact engine's time goes. Select the problems
//! with `EXACT_BENCH_TIERS=p1`, `=p2` or `=1` (both).
//!
//! `CARGO_TARGET_DIR=target-bench cargo bench --bench exact -- exact_p1_f32/exact_t1`

mod common;

use common::{LCG_INCREMENT, lcg_data};
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::exact::{ExactElement, ExactEngine};
use conv_oracle::engine::{ConvEngine, ReferenceEngine};
use conv_oracle::problem::Problem;
use conv_oracle::problem::{ConvSpec, Flip, Padding};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group};
use ndarray::{ArrayD, s};
use std::cell::Cell;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One problem's data: the float64 arrays and, for P1, the float32 ones they widen exactly.
struct Data {
    id: &'static str,
    what: &'static str,
    x64: ArrayD<f64>,
    w64: ArrayD<f64>,
    f32: Option<(ArrayD<f32>, ArrayD<f32>)>,
    flip: Flip,
    /// Explicit zero padding `(pad, pad)` on both spatial axes.
    pad: usize,
    /// The reference is timed by criterion (P2) or by [`reference_custom`] (P1).
    reference_in_criterion: bool,
    /// criterion's measurement time per function.
    measurement_secs: u64,
}

/// The problem's spec for element type `T` (stride 1, zero boundary, default limits: P1's
/// 0.925e9 multiply-adds are below the reference's 2^36 guard).
fn spec_for<T>(d: &Data, pads: [usize; 2]) -> ConvSpec<T> {
    ConvSpec::new()
        .flip(d.flip)
        .padding(Padding::Explicit(pads.iter().map(|&q| (q, q)).collect()))
}

fn problem<'a, T: Clone>(d: &Data, x: &'a ArrayD<T>, w: &'a ArrayD<T>) -> Problem<'a, T> {
    Problem::new(x.view(), w.view()).spec(spec_for(d, [d.pad, d.pad]))
}

fn p1() -> Data {
    // Rounded to f32 first; the f64 problem is the f32 data widened (exactly).
    let x32 = lcg_data(&[8, 64, 56, 56], 51, LCG_INCREMENT).mapv(|v| v as f32);
    let w32 = lcg_data(&[64, 64, 3, 3], 52, LCG_INCREMENT).mapv(|v| v as f32);
    Data {
        id: "exact_p1_f32",
        what: "P1: f32 [8,64,56,56] x [64,64,3,3], padding 1, cross-correlation",
        x64: x32.mapv(f64::from),
        w64: w32.mapv(f64::from),
        f32: Some((x32, w32)),
        flip: Flip::Correlation,
        pad: 1,
        reference_in_criterion: false,
        measurement_secs: 10,
    }
}

fn p2() -> Data {
    Data {
        id: "exact_p2_f64",
        what: "P2: f64 [1,1,512,512] x [1,1,15,15], zero padding (7,7) per axis ('same'), \
               true convolution",
        x64: lcg_data(&[1, 1, 512, 512], 53, LCG_INCREMENT),
        w64: lcg_data(&[1, 1, 15, 15], 54, LCG_INCREMENT),
        f32: None,
        flip: Flip::Convolution,
        pad: 7,
        reference_in_criterion: true,
        measurement_secs: 10,
    }
}

fn print_stats<T: ExactElement>(what: &str, p: &Problem<'_, T>) {
    let (_, st) = ExactEngine::new().conv_with_stats(p).expect("exact engine");
    eprintln!(
        "{what}: ExactStats {{ outputs: {}, certified: {} ({:.4}%), exact: {} }}",
        st.outputs,
        st.certified,
        100.0 * st.certified as f64 / st.outputs.max(1) as f64,
        st.exact
    );
}

/// `exact_t1`, `exact_t2` on the problem's own element type; the stats printed once.
fn bench_exact<T: ExactElement>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    what: &str,
    p: &Problem<'_, T>,
) {
    let printed = Cell::new(false);
    for t in [1, 2] {
        let e = ExactEngine::new().threads(t);
        g.bench_function(format!("exact_t{t}"), |b| {
            if !printed.replace(true) {
                print_stats(what, p);
            }
            b.iter(|| black_box(e.conv(black_box(p)).expect("exact")))
        });
    }
}

fn bench_group(c: &mut Criterion, d: &Data) {
    let p64 = problem(d, &d.x64, &d.w64);
    let mut g = c.benchmark_group(d.id);
    // 10 samples; criterion samples flat (one call per sample) where a call takes ~1 s.
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(d.measurement_secs));
    match &d.f32 {
        Some((x, w)) => {
            let p32 = problem(d, x, w);
            bench_exact(&mut g, d.what, &p32);
            let e = DirectEngine::new();
            g.bench_function("direct_f32_t1", |b| {
                b.iter(|| black_box(e.conv(black_box(&p32)).expect("direct f32")))
            });
        }
        None => bench_exact(&mut g, d.what, &p64),
    }
    for t in [1, 2] {
        let e = DirectEngine::new().threads(t);
        g.bench_function(format!("direct_f64_t{t}"), |b| {
            b.iter(|| black_box(e.conv(black_box(&p64)).expect("direct f64")))
        });
    }
    if d.reference_in_criterion {
        // Seconds per call: one call per sample (criterion still warms up with >= 1 call).
        g.sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_millis(1));
        g.bench_function("reference_f64", |b| {
            b.iter(|| black_box(ReferenceEngine.conv(black_box(&p64)).expect("reference")))
        });
    }
    g.finish();
    if !d.reference_in_criterion {
        reference_custom(d, &p64);
    }
}

/// criterion's output directory, found as criterion finds it (minus `cargo metadata`).
fn criterion_home() -> PathBuf {
    if let Some(h) = std::env::var_os("CRITERION_HOME") {
        PathBuf::from(h)
    } else if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        PathBuf::from(t).join("criterion")
    } else {
        PathBuf::from("target/criterion")
    }
}

/// The reference on P1 takes ~1-2 minutes per call: criterion's minimum of 10 samples plus a
/// warm-up call would take 15-20 minutes. Instead, when `EXACT_BENCH_P1_REFERENCE_REPS=N`
/// (N >= 1) is set, it is called N times in a plain loop (no warm-up call: the data are
/// already in memory, and one call is ~1e9 multiply-adds); the median, the times and the load
/// averages are printed and written to `CRITERION_HOME/<group>/reference_f64.custom.json`,
/// which `scripts/bench_exact_peers.py` reads. Unset or 0: skipped (with a note).
fn reference_custom(d: &Data, p64: &Problem<'_, f64>) {
    let reps: usize = std::env::var("EXACT_BENCH_P1_REFERENCE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if reps == 0 {
        eprintln!(
            "{}/reference_f64: skipped (~1-2 min per call; set EXACT_BENCH_P1_REFERENCE_REPS=N \
             to time N calls outside criterion)",
            d.id
        );
        return;
    }
    let before = load();
    let mut ns: Vec<u128> = (0..reps)
        .map(|i| {
            let t0 = Instant::now();
            black_box(ReferenceEngine.conv(black_box(p64)).expect("reference"));
            let t = t0.elapsed().as_nanos();
            eprintln!(
                "{}/reference_f64: call {} of {reps}: {:.1} s",
                d.id,
                i + 1,
                t as f64 / 1e9
            );
            t
        })
        .collect();
    let after = load();
    let times = format!("{ns:?}");
    ns.sort_unstable();
    let median = if reps % 2 == 1 {
        ns[reps / 2] as f64
    } else {
        (ns[reps / 2 - 1] + ns[reps / 2]) as f64 / 2.0
    };
    eprintln!(
        "{}/reference_f64 (custom loop, {reps} calls): median {:.3} s, min {:.3} s, max {:.3} s \
         (load {before} before, {after} after)",
        d.id,
        median / 1e9,
        ns[0] as f64 / 1e9,
        ns[reps - 1] as f64 / 1e9
    );
    let dir = criterion_home().join(d.id);
    let json = format!(
        "{{\"name\": \"reference_f64\", \"method\": \"custom loop, no warm-up\", \
         \"reps\": {reps}, \"median_ns\": {median}, \"min_ns\": {}, \"max_ns\": {}, \
         \"times_ns\": {times}, \"loadavg_before\": \"{before}\", \"loadavg_after\": \"{after}\"}}\n",
        ns[0],
        ns[reps - 1]
    );
    let path = dir.join("reference_f64.custom.json");
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, json)) {
        eprintln!("could not write {}: {e}", path.display());
    }
}

fn bench(c: &mut Criterion) {
    bench_group(c, &p1());
    bench_group(c, &p2());
}

// ------------------------------------------------------------------------- EXACT_BENCH_TIERS

fn tiers_mode() -> Option<String> {
    std::env::var("EXACT_BENCH_TIERS")
        .ok()
        .filter(|v| !v.is_empty() && v != "0")
}

/// Median of `reps` timed calls (after one untimed warm-up call if `warm`), in ms.
fn time_ms<R>(reps: usize, warm: bool, mut f: impl FnMut() -> R) -> f64 {
    if warm {
        black_box(f());
    }
    let mut ts: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            black_box(f());
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ts.sort_by(f64::total_cmp);
    ts[ts.len() / 2]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// One-shot timings (stdout) of the exact and direct engines on `p` (the reference is timed
/// by the bench proper), plus the exact engine with the fast tier
/// disabled (`fallback_only`) on `slice`, a `frac` part of the outputs, scaled up to the whole.
fn tiers<T: ExactElement>(d: &Data, p: &Problem<'_, T>, slice: &Problem<'_, T>, frac: f64) {
    let p64 = problem(d, &d.x64, &d.w64);
    let reps = 5;
    println!("{} (load {})", d.what, load());
    print_stats(d.what, p);
    let row = |name: &str, ms: f64| println!("  {name:<44} {ms:>12.2} ms");
    for t in [1, 2] {
        let e = ExactEngine::new().threads(t);
        row(
            &format!("exact t{t}"),
            time_ms(reps, true, || e.conv(p).unwrap()),
        );
    }
    for t in [1, 2] {
        let e = DirectEngine::new().threads(t);
        row(
            &format!("direct f64 t{t}"),
            time_ms(reps, true, || e.conv(&p64).unwrap()),
        );
    }
    if let Some((x, w)) = &d.f32 {
        let p32 = problem(d, x, w);
        let e = DirectEngine::new();
        row(
            "direct f32 t1",
            time_ms(reps, true, || e.conv(&p32).unwrap()),
        );
    }
    for t in [1, 2] {
        let e = ExactEngine::new().threads(t).fallback_only();
        let ms = time_ms(1, false, || e.conv(slice).unwrap());
        row(
            &format!("exact fallback_only t{t} (slice x{:.0})", 1.0 / frac),
            ms / frac,
        );
    }
    println!("  (load {})", load());
}

fn run_tiers(which: &str) {
    if which == "1" || which == "p1" {
        let d = p1();
        let (x, w) = d.f32.as_ref().expect("P1 is f32");
        // fallback_only on 1 of the 8 images: exactly 1/8 of the work.
        let xs = x.slice(s![0..1, .., .., ..]).into_dyn();
        let slice = Problem::new(xs, w.view()).spec(spec_for(&d, [1, 1]));
        tiers(&d, &problem(&d, x, w), &slice, 1.0 / 8.0);
    }
    if which == "1" || which == "p2" {
        let d = p2();
        // fallback_only on 64 of the 512 output rows: input rows 0..78 without row padding
        // (interior rows, every tap real: an upper bound for the edge rows).
        let xs = d.x64.slice(s![.., .., 0..78, ..]).into_dyn();
        let slice = Problem::new(xs, d.w64.view()).spec(spec_for(&d, [0, 7]));
        tiers(&d, &problem(&d, &d.x64, &d.w64), &slice, 64.0 / 512.0);
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Some(which) = tiers_mode() {
        run_tiers(&which);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
