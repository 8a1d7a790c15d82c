//! Snapshot tests a person checks by eye against docs/semantics.md sections 2-4: padding with
//! symbolic letters, the input index each output tap reads, resolved SAME pads, and which peers
//! accept a pad. Every table is integers and letters; no float dumps.
//!
//! Letters come from index-valued arrays: element `i` of the input holds `i + 1`, so a padded or
//! convolved result names the input index it read, and `0` can only mean the zero pad.

use conv_oracle::ConvError;
use conv_oracle::problem::boundary::{Peer, pad, peer_acceptance, source_index};
use conv_oracle::problem::geometry::{output_len, resolve_pads};
use conv_oracle::problem::{Boundary, Limits, Padding};
use conv_oracle::signal::{Boundary2d, Mode, convolve, convolve2d, correlate, correlate2d};
use ndarray::{Array1, Array2, ArrayD, ArrayView2, Axis, IxDyn};
use std::fmt::Write as _;

/// The constant used for `Boundary::Constant` in the 1-D tables (printed as itself).
const K: i64 = 9;

/// Every boundary mode over `i64`, with a printable name.
fn modes(constant: i64) -> Vec<(String, Boundary<i64>)> {
    vec![
        ("zeros".into(), Boundary::Zeros),
        (
            format!("constant({constant})"),
            Boundary::Constant(constant),
        ),
        ("reflect".into(), Boundary::Reflect),
        ("symmetric".into(), Boundary::Symmetric),
        ("replicate".into(), Boundary::Replicate),
        ("circular".into(), Boundary::Circular),
    ]
}

/// Letter for a 1-based index value `v` in `1..=n`; other values print as `fill`.
fn letter(v: i64, n: usize, fill: &str) -> String {
    if (1..=n as i64).contains(&v) {
        ((b'a' + (v - 1) as u8) as char).to_string()
    } else {
        fill.to_string()
    }
}

/// Letters of `[a b c d ...]` (length `n`) padded by `(lo, hi)`, computed twice: through
/// `source_index` and through `pad` on the 1-based index array. Both must agree.
fn padded_row(mode: &Boundary<i64>, n: usize, (lo, hi): (usize, usize)) -> Vec<String> {
    let fill = match mode {
        Boundary::Constant(c) => c.to_string(),
        _ => "0".to_string(),
    };
    let by_index: Vec<String> = (-(lo as i128)..(n + hi) as i128)
        .map(|i| match source_index(mode, i, n) {
            Some(s) => letter(s as i64 + 1, n, "?"),
            None => fill.clone(),
        })
        .collect();
    let x = ArrayD::from_shape_fn(IxDyn(&[n]), |i| i[0] as i64 + 1);
    let padded = pad(x.view(), &[(lo, hi)], mode, &Limits::default()).unwrap();
    let by_pad: Vec<String> = padded.iter().map(|&v| letter(v, n, &fill)).collect();
    assert_eq!(by_index, by_pad, "source_index and pad disagree");
    by_pad
}

/// One `LEFT | a b c d | RIGHT` line, the first `|` aligned at column `width`.
fn row_line(cells: &[String], n: usize, (lo, hi): (usize, usize), width: usize) -> String {
    let left = cells[..lo].join(" ");
    let mid = cells[lo..lo + n].join(" ");
    let right = cells[lo + n..lo + n + hi].join(" ");
    format!("({lo},{hi})  {left:>width$} | {mid} | {right}")
        .trim_end()
        .to_string()
}

fn pads_1d() -> Vec<(usize, usize)> {
    let mut pads: Vec<(usize, usize)> = (0..=9).map(|p| (p, p)).collect();
    pads.extend([(0, 5), (5, 0), (2, 7), (9, 1), (1, 9), (3, 8)]);
    pads
}

#[test]
fn boundary_1d() {
    let n = 4;
    for (name, mode) in modes(K) {
        let mut s = format!("mode {name} on [a b c d], (lo,hi) then LEFT | input | RIGHT\n");
        for p in pads_1d() {
            let cells = padded_row(&mode, n, p);
            writeln!(s, "{}", row_line(&cells, n, p, 17)).unwrap();
        }
        let slug = name.split('(').next().unwrap_or_default();
        insta::assert_snapshot!(format!("boundary_1d_{slug}"), s);
    }
}

/// Short axes (n = 1, 2, 3) padded by 5 each side: the periodic extension at its smallest.
#[test]
fn boundary_1d_short_axes() {
    let mut s = String::new();
    for (name, mode) in modes(K) {
        writeln!(s, "{name}").unwrap();
        for n in 1..=3 {
            let cells = padded_row(&mode, n, (5, 5));
            writeln!(s, "  n={n} {}", row_line(&cells, n, (5, 5), 9)).unwrap();
        }
    }
    insta::assert_snapshot!("boundary_1d_short_axes", s);
}

/// Draws a padded 2-D grid of letters with the original block framed by `|` and `-`.
fn grid(
    cells: &Array2<i64>,
    (top, bottom): (usize, usize),
    (left, right): (usize, usize),
) -> String {
    let (rows, cols) = cells.dim();
    let cell = |v: i64| match v {
        0 => "0".to_string(),
        -1 => "#".to_string(),
        v => letter(v, 9, "?"),
    };
    let mut s = String::new();
    let rule = {
        let l = "-".repeat(2 * left);
        let m = "-".repeat(2 * (cols - left - right) + 1);
        let r = "-".repeat(2 * right);
        format!("{l}+{m}+{r}")
    };
    for r in 0..rows {
        if (r == top && top > 0) || (r == rows - bottom && bottom > 0) {
            writeln!(s, "{}", rule.trim_end()).unwrap();
        }
        let part = |range: std::ops::Range<usize>| -> String {
            range
                .map(|c| cell(cells[[r, c]]))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let l = part(0..left);
        let m = part(left..cols - right);
        let rr = part(cols - right..cols);
        let l = if left > 0 { format!("{l} ") } else { l };
        writeln!(s, "{l}| {m} | {rr}").unwrap();
    }
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}

fn boundary_2d_case(name: &str, rows_pad: (usize, usize), cols_pad: (usize, usize)) {
    // 3x3 input a..i, stored 1-based (a = 1); constant mode fills -1, printed '#'.
    let x = ArrayD::from_shape_fn(IxDyn(&[3, 3]), |i| (i[0] * 3 + i[1]) as i64 + 1);
    let mut s = format!(
        "3x3 input [[a b c] [d e f] [g h i]], pads top {} bottom {} left {} right {}\n",
        rows_pad.0, rows_pad.1, cols_pad.0, cols_pad.1
    );
    for (mode_name, mode) in modes(-1) {
        let shown = if mode_name == "constant(-1)" {
            "constant(-1), shown as #".to_string()
        } else {
            mode_name
        };
        let p = pad(x.view(), &[rows_pad, cols_pad], &mode, &Limits::default()).unwrap();
        let p = p.into_dimensionality::<ndarray::Ix2>().unwrap();
        writeln!(s, "\n{shown}:\n{}", grid(&p, rows_pad, cols_pad)).unwrap();
    }
    insta::assert_snapshot!(name, s);
}

#[test]
fn boundary_2d() {
    boundary_2d_case("boundary_2d_t2_b1_l1_r3", (2, 1), (1, 3));
    boundary_2d_case("boundary_2d_t4_b2_l5_r1", (4, 2), (5, 1));
}

/// Which input index each tap of each output reads, found with one-hot kernels: for every
/// mode and kernel length M, `f(x, e_j, mode)` runs with `x[i] = i + 1`, so each result value v
/// names `x[v-1]` (0 = the zero pad).
fn tap_table(f: impl Fn(&Array1<i64>, &Array1<i64>, Mode) -> Array1<i64>) -> String {
    let n = 5;
    let x = Array1::from_shape_fn(n, |i| i as i64 + 1);
    let mut s = String::new();
    for mode in [Mode::Full, Mode::Same, Mode::Valid] {
        for m in 1..=4 {
            let per_tap: Vec<Array1<i64>> = (0..m)
                .map(|j| {
                    let g = Array1::from_shape_fn(m, |t| i64::from(t == j));
                    f(&x, &g, mode)
                })
                .collect();
            let out_len = per_tap[0].len();
            writeln!(s, "\n{} M={m} (output length {out_len})", mode.name()).unwrap();
            for o in 0..out_len {
                let cells: Vec<String> = per_tap
                    .iter()
                    .enumerate()
                    .map(|(j, y)| {
                        let v = y[o];
                        assert!((0..=n as i64).contains(&v), "not a one-hot read: {v}");
                        let src = if v == 0 {
                            "pad".to_string()
                        } else {
                            format!("x[{}]", v - 1)
                        };
                        format!("k{j}<-{src:<4}")
                    })
                    .collect();
                writeln!(s, "  out[{o}]: {}", cells.join(" ").trim_end()).unwrap();
            }
        }
    }
    s
}

/// A 1-D array as a 1 x N row (`axis` 0) or an N x 1 column (`axis` 1).
fn as_2d(v: &Array1<i64>, axis: usize) -> Array2<i64> {
    v.clone().insert_axis(Axis(axis))
}

/// The signature of `convolve2d` and `correlate2d` on `i64`.
type Signal2d = fn(
    ArrayView2<'_, i64>,
    ArrayView2<'_, i64>,
    Mode,
    Boundary2d<i64>,
) -> Result<Array2<i64>, ConvError>;

/// Runs a scipy.signal 2-D function on a row (`axis` 0) or column (`axis` 1) with zero fill.
fn along(f: Signal2d, axis: usize) -> impl Fn(&Array1<i64>, &Array1<i64>, Mode) -> Array1<i64> {
    move |x, g, m| {
        let y = f(
            as_2d(x, axis).view(),
            as_2d(g, axis).view(),
            m,
            Boundary2d::Fill(0),
        )
        .unwrap();
        y.index_axis_move(Axis(axis), 0)
    }
}

const TAPS_HEADER: &str =
    "input x[0..5] (N = 5), kernel taps k0..k(M-1); `k1<-x[2]` means out[o] adds k[1] * x[2]";

#[test]
fn signal_taps() {
    let conv_t = tap_table(|x, g, m| convolve(x.view(), g.view(), m).unwrap());
    let corr_t = tap_table(|x, g, m| correlate(x.view(), g.view(), m).unwrap());
    let corr2_t = tap_table(along(correlate2d, 0));
    // convolve2d shares convolve's 'same' centre, so it gets no snapshot of its own: its table
    // must equal convolve's, along rows and along columns.
    assert_eq!(tap_table(along(convolve2d, 0)), conv_t, "convolve2d rows");
    assert_eq!(
        tap_table(along(convolve2d, 1)),
        conv_t,
        "convolve2d columns"
    );
    assert_eq!(
        tap_table(along(correlate2d, 1)),
        corr2_t,
        "correlate2d columns"
    );

    let conv_t = format!(
        "convolve (scipy.signal.convolve; convolve2d is identical)\n{TAPS_HEADER}\n{conv_t}"
    );
    insta::assert_snapshot!("signal_taps_convolve", conv_t);
    let corr_t = format!("correlate (scipy.signal.correlate)\n{TAPS_HEADER}\n{corr_t}");
    insta::assert_snapshot!("signal_taps_correlate", corr_t);
    let corr2_t = format!(
        "correlate2d (scipy.signal.correlate2d, boundary fill 0, rows and columns)\n{TAPS_HEADER}\n{corr2_t}"
    );
    insta::assert_snapshot!("signal_taps_correlate2d", corr2_t);
}

#[test]
fn same_pads() {
    for n in [7, 8] {
        let mut s = format!(
            "n={n}: (lo,hi) -> output length. eff = d*(k-1)+1; SAME out = ceil(n/s), torch out = n\n"
        );
        writeln!(
            s,
            "{:<11} {:>4}  {:<16} {:<16} torch same",
            "k s d", "eff", "SAME_UPPER", "SAME_LOWER"
        )
        .unwrap();
        for s_ in 1..=3 {
            for k in 1..=5 {
                for d in 1..=2 {
                    let eff = d * (k - 1) + 1;
                    let show = |padding: &Padding| -> String {
                        match resolve_pads(padding, n, k, s_, d, 0) {
                            Ok(p) => {
                                let out = output_len(n, k, s_, d, p, 0).unwrap();
                                format!("({},{}) -> {out}", p.0, p.1)
                            }
                            Err(e) => format!("error: {e}"),
                        }
                    };
                    let upper = show(&Padding::SameUpper);
                    let lower = show(&Padding::SameLower);
                    let torch = show(&Padding::TorchSame);
                    writeln!(
                        s,
                        "k={k} s={s_} d={d} {eff:>4}  {upper:<16} {lower:<16} {torch}"
                    )
                    .unwrap();
                }
            }
        }
        insta::assert_snapshot!(format!("same_pads_n{n}"), s);
    }
}

#[test]
fn peer_limits() {
    let n = 4;
    let mut s =
        format!("Peer pad limits on an axis of length n={n} (numpy.pad accepts every row)\n");
    for (name, mode) in modes(K) {
        writeln!(s, "\n{name}").unwrap();
        for p in [(1, 1), (3, 3), (4, 4), (5, 5), (3, 4), (0, 8)] {
            let verdicts: Vec<_> = Peer::ALL
                .iter()
                .map(|&peer| peer_acceptance(peer, &mode, n, p))
                .collect();
            let summary: Vec<String> = verdicts
                .iter()
                .map(|v| {
                    let word = if v.accepted { "ok" } else { "REFUSED" };
                    format!("{}: {word:<7}", v.peer.name())
                })
                .collect();
            writeln!(
                s,
                "  pads {:<6}  {}",
                format!("({},{})", p.0, p.1),
                summary.join("  ").trim_end()
            )
            .unwrap();
            for v in verdicts.iter().filter(|v| !v.accepted) {
                writeln!(s, "      {}: {}", v.peer.name(), v.message).unwrap();
            }
            for v in verdicts.iter().filter(|v| v.accepted) {
                assert!(v.message.is_empty(), "accepted with a message: {v:?}");
            }
        }
    }
    insta::assert_snapshot!("peer_limits", s);
}
