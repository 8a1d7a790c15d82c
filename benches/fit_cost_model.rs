//! Fits the coefficients of `CostModel` on this machine: times the FFT engine (whole and
//! overlap-add) and the direct engine on a grid of problems, then solves a non-negative least
//! squares problem in relative error for each engine family, and prints a `CostModel` literal
//! to paste into `CostModel::default` (src/engine/method.rs).
//!
//! `cargo bench --bench fit_cost_model` (about a minute; run it on an otherwise idle machine).

mod common;

use common::lcg_data;
use conv_oracle::engine::ConvEngine;
use conv_oracle::engine::direct::DirectEngine;
use conv_oracle::engine::fft::FftEngine;
use conv_oracle::engine::method::CostModel;
use conv_oracle::problem::Problem;
use conv_oracle::problem::{ConvSpec, Flip, Limits, Padding};
use std::hint::black_box;
use std::time::Instant;

/// Median seconds of `f` over at least 5 runs and 0.2 s.
fn time(mut f: impl FnMut()) -> f64 {
    f();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed().as_secs_f64() < 0.2 && times.len() < 200) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Non-negative least squares, minimising the relative error: every row is divided by its
/// measured time, then each subset of coefficients is solved by normal equations and the best
/// non-negative solution kept (the coefficient counts are tiny).
fn fit(rows: &[(Vec<f64>, f64)]) -> Vec<f64> {
    let k = rows[0].0.len();
    let mut best = (f64::INFINITY, vec![0.0; k]);
    for mask in 1u32..(1 << k) {
        let idx: Vec<usize> = (0..k).filter(|i| mask & (1 << i) != 0).collect();
        let m = idx.len();
        let mut a = vec![vec![0.0; m + 1]; m];
        for (x, t) in rows {
            for (r, &i) in idx.iter().enumerate() {
                for (c, &j) in idx.iter().enumerate() {
                    a[r][c] += x[i] / t * x[j] / t;
                }
                a[r][m] += x[i] / t;
            }
        }
        let Some(sol) = solve(a) else { continue };
        if sol.iter().any(|&v| v < 0.0) {
            continue;
        }
        let mut coef = vec![0.0; k];
        for (&i, &v) in idx.iter().zip(&sol) {
            coef[i] = v;
        }
        let err: f64 = rows
            .iter()
            .map(|(x, t)| {
                let p: f64 = x.iter().zip(&coef).map(|(a, b)| a * b).sum();
                (p / t - 1.0).powi(2)
            })
            .sum();
        if err < best.0 {
            best = (err, coef);
        }
    }
    best.1
}

/// Gaussian elimination on an augmented matrix.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        a.swap(c, p);
        if a[c][c].abs() < 1e-300 {
            return None;
        }
        let pivot = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                for (v, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *v -= f * p;
                }
            }
        }
    }
    Some((0..n).map(|i| a[i][n] / a[i][i]).collect())
}

fn report(name: &str, rows: &[(Vec<f64>, f64)], coef: &[f64]) {
    let mut worst = 0f64;
    for (x, t) in rows {
        let p: f64 = x.iter().zip(coef).map(|(a, b)| a * b).sum();
        worst = worst.max((p / t).max(t / p));
    }
    eprintln!(
        "{name}: {} problems, worst prediction off by a factor {worst:.2}",
        rows.len()
    );
}

fn main() {
    // criterion-style flags (`--bench`) are ignored.
    let limits = Limits {
        max_elements: 1 << 32,
        max_work: 1 << 40,
    };
    let spec = |padding: Padding| {
        ConvSpec::new()
            .flip(Flip::Convolution)
            .padding(padding)
            .limits(limits)
    };
    let mut problems: Vec<(Vec<usize>, Vec<usize>, Padding)> = Vec::new();
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        for k in [4usize, 16, 64, 256, 1024, 8192, 65536] {
            if k < n {
                problems.push((vec![1, 1, n], vec![1, 1, k], Padding::Full));
            }
        }
    }
    for n in [32usize, 64, 128, 256, 512] {
        for k in [3usize, 7, 15, 31, 63] {
            if k < n {
                problems.push((vec![1, 1, n, n], vec![1, 1, k, k], Padding::Full));
            }
        }
    }
    problems.push((vec![2, 4, 64, 64], vec![4, 4, 5, 5], Padding::SameUpper));
    problems.push((vec![1, 8, 32, 32], vec![8, 8, 3, 3], Padding::SameUpper));
    problems.push((vec![1, 1, 32, 32, 32], vec![1, 1, 5, 5, 5], Padding::Full));
    problems.push((vec![1, 1, 2048, 64], vec![1, 1, 31, 31], Padding::Full));

    let engines = [FftEngine::new(), FftEngine::overlap_add()];
    let direct = DirectEngine::new();
    let mut fft_rows = Vec::new();
    let mut direct_rows = Vec::new();
    for (xs, ws, padding) in &problems {
        // Seed increment 1: this bench's data as they always were.
        let x = lcg_data(xs, 1, 1);
        let w = lcg_data(ws, 2, 1);
        let p = Problem::new(x.view(), w.view()).spec(spec(padding.clone()));
        for e in &engines {
            let Ok(Some(features)) = e.cost_features(&p) else {
                continue;
            };
            let t = time(|| {
                black_box(e.conv(&p).expect("fft"));
            });
            eprintln!(
                "{:>14} {xs:?} x {ws:?}: {:.3} ms ({})",
                ConvEngine::<f64>::name(e),
                t * 1e3,
                e.plan(&p).map(|p| p.to_string()).unwrap_or_default()
            );
            fft_rows.push((features.to_vec(), t));
        }
        let geo = p.validate().expect("valid");
        let outputs =
            (xs[0] * ws[0]) as f64 * geo.axes.iter().map(|a| a.output as f64).product::<f64>();
        let macs = outputs * ws[1..].iter().map(|&k| k as f64).product::<f64>();
        if macs <= 3e8 {
            let t = time(|| {
                black_box(direct.conv(&p).expect("direct"));
            });
            eprintln!("{:>14} {xs:?} x {ws:?}: {:.3} ms", "direct", t * 1e3);
            direct_rows.push((CostModel::direct_features(macs, outputs).to_vec(), t));
        }
    }
    let f = fit(&fft_rows);
    let d = fit(&direct_rows);
    report("fft", &fft_rows, &f);
    report("direct", &direct_rows, &d);
    println!(
        "CostModel {{\n    fft_nlogn: {:.3e},\n    fft_transform: {:.3e},\n    fft_elementwise: {:.3e},\n    fft_row: {:.3e},\n    direct_mac: {:.3e},\n    direct_output: {:.3e},\n}}",
        f[0], f[1], f[2], f[3], d[0], d[1]
    );
}
