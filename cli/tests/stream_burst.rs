//! Load: `judge --stream` under a burst of 10,000 requests mixing valid and invalid ones
//! answers each in order, one line per request, keeps memory flat, and never dies on a bad
//! line.
//!
//! The requests come from a fixed-seed generator written here (SplitMix64, no crate): valid
//! convolutions and transposed convolutions of small integers whose outputs an independent
//! direct summation in f64 computes exactly (so the oracle must say `pass`), the same with one
//! output perturbed by 1000 or replaced by NaN (`fail`), and every kind of bad line (`error`).
//! Each request carries a unique `id` where it has one; an answer is matched to its request by
//! its position, and echoes the `id` wherever the line parsed as a JSON object.
//!
//! What the binary does with lines that are not requests, pinned here:
//! - an empty or whitespace-only line (`str::trim`, so Unicode spaces such as U+00A0 count,
//!   and so does 1 MB of spaces) is skipped: no answer at all;
//! - a line that is not JSON (bare words, truncated objects, `NaN`, `1e400`, nesting past
//!   serde_json's recursion limit, trailing characters, a byte-order mark) is answered with
//!   `{"id": null, "verdict": "error", "error": "not a JSON object: ..."}`;
//! - JSON that is not an object: `{"id": null, "verdict": "error", "error": "a request must be
//!   a JSON object"}`;
//! - an object that is not a good request: the error with the request's `id`.
//!
//! - a line that is not UTF-8: `{"id": null, "verdict": "error", "error": "request line is
//!   not UTF-8 ..."}` (`burst_with_non_utf8_lines_answers_every_line`; the stream used to end
//!   there).

use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const REQUESTS: usize = 10_000;
const SEED: u64 = 0x5eed_0c0f_fee0_2024;
/// The whole burst must be answered within this (it takes about a second in release).
const DEADLINE: Duration = Duration::from_secs(300);
/// With every request written, this long without an answer means one is missing.
const SILENCE: Duration = Duration::from_secs(10);
/// Long lines (about 1 MB each) go at these intervals, and twice as often in the first tenth
/// of the burst (so that memory has risen to what they need before it is watched).
const LONG_EVERY: usize = 1000;

// ------------------------------------------------------------------------------ generator

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// A small integer in `-4..=4`.
    fn small(&mut self) -> f64 {
        self.below(9) as f64 - 4.0
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// A convolution (or a transposed one) of small integers.
struct Case {
    f32: bool,
    transpose: bool,
    groups: usize,
    /// `(N, C, spatial...)`.
    x_shape: Vec<usize>,
    /// `(O, C/groups, k...)`, or `(C_in, C_out/groups, k...)` transposed.
    w_shape: Vec<usize>,
    stride: Vec<usize>,
    dilation: Vec<usize>,
    pads: Vec<(usize, usize)>,
    output_padding: Vec<usize>,
    x: Vec<f64>,
    w: Vec<f64>,
    bias: Option<Vec<f64>>,
}

fn product(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The multi-index of row-major flat index `i`.
fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (k, &n) in shape.iter().enumerate().rev() {
        idx[k] = i % n;
        i /= n;
    }
    idx
}

/// The row-major flat index of `idx`.
fn flat(idx: &[usize], shape: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &n)| acc * n + i)
}

impl Case {
    /// Random shapes and spec, integer data in -4..=4; with `special`, one input element NaN
    /// or an infinity.
    fn random(rng: &mut Rng, transpose: bool, special: bool) -> Case {
        let rank = if rng.chance(70) { 1 } else { 2 };
        let groups = rng.range(1, 2);
        let (cin_per, out_per) = (rng.range(1, 2), rng.range(1, 2));
        let (c, o) = (groups * cin_per, groups * out_per);
        let n = rng.range(1, 2);
        let mut x_shape = vec![n, c];
        let mut w_shape = if transpose {
            vec![c, out_per]
        } else {
            vec![o, cin_per]
        };
        let (mut stride, mut dilation, mut pads, mut output_padding) =
            (vec![], vec![], vec![], vec![]);
        for _ in 0..rank {
            let k = rng.range(1, 3);
            let s = rng.range(1, 2);
            let d = rng.range(1, 2);
            let (mut lo, mut hi) = (rng.range(0, 2), rng.range(0, 2));
            let extent = d * (k - 1) + 1;
            let len = if transpose {
                let len = rng.range(1, 4);
                let op = rng.below(s);
                // The output (len - 1) * s - lo - hi + extent + op must be at least 1.
                if (len - 1) * s + extent + op < lo + hi + 1 {
                    (lo, hi) = (0, 0);
                }
                output_padding.push(op);
                len
            } else {
                let least = extent.saturating_sub(lo + hi).max(1);
                rng.range(least, least + 4)
            };
            x_shape.push(len);
            w_shape.push(k);
            stride.push(s);
            dilation.push(d);
            pads.push((lo, hi));
        }
        let mut x: Vec<f64> = (0..product(&x_shape)).map(|_| rng.small()).collect();
        if special {
            let i = rng.below(x.len());
            x[i] = rng.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        }
        let w = (0..product(&w_shape)).map(|_| rng.small()).collect();
        let bias_len = if transpose { groups * out_per } else { o };
        let bias = rng
            .chance(30)
            .then(|| (0..bias_len).map(|_| rng.small()).collect());
        Case {
            f32: rng.chance(40),
            transpose,
            groups,
            x_shape,
            w_shape,
            stride,
            dilation,
            pads,
            output_padding,
            x,
            w,
            bias,
        }
    }

    /// The output shape and values by direct summation (exact: small integers; NaN and the
    /// infinities propagate as in IEEE arithmetic, which is what the oracle's exact sum does).
    fn expected(&self) -> (Vec<usize>, Vec<f64>) {
        if self.transpose {
            self.expected_transpose()
        } else {
            self.expected_conv()
        }
    }

    fn expected_conv(&self) -> (Vec<usize>, Vec<f64>) {
        let (xs, ws) = (&self.x_shape, &self.w_shape);
        let rank = xs.len() - 2;
        let ks = &ws[2..];
        let mut out_shape = vec![xs[0], ws[0]];
        for a in 0..rank {
            let (lo, hi) = self.pads[a];
            let extent = self.dilation[a] * (ks[a] - 1) + 1;
            out_shape.push((xs[a + 2] + lo + hi - extent) / self.stride[a] + 1);
        }
        let (cg, og) = (ws[1], ws[0] / self.groups);
        let out = (0..product(&out_shape))
            .map(|f| {
                let idx = unravel(f, &out_shape);
                let (b, oc) = (idx[0], idx[1]);
                let mut acc = self.bias.as_ref().map_or(0.0, |b| b[oc]);
                for ci in 0..cg {
                    let c = (oc / og) * cg + ci;
                    'taps: for kf in 0..product(ks) {
                        let k = unravel(kf, ks);
                        let mut xi = vec![b, c];
                        for a in 0..rank {
                            let p = idx[a + 2] * self.stride[a] + k[a] * self.dilation[a];
                            match p.checked_sub(self.pads[a].0) {
                                Some(p) if p < xs[a + 2] => xi.push(p),
                                _ => continue 'taps, // zero padding
                            }
                        }
                        let mut wi = vec![oc, ci];
                        wi.extend(&k);
                        acc += self.w[flat(&wi, ws)] * self.x[flat(&xi, xs)];
                    }
                }
                acc
            })
            .collect();
        (out_shape, out)
    }

    fn expected_transpose(&self) -> (Vec<usize>, Vec<f64>) {
        let (xs, ws) = (&self.x_shape, &self.w_shape);
        let rank = xs.len() - 2;
        let ks = &ws[2..];
        let mut out_shape = vec![xs[0], ws[1] * self.groups];
        for a in 0..rank {
            let (lo, hi) = self.pads[a];
            let extent = self.dilation[a] * (ks[a] - 1) + 1;
            out_shape
                .push((xs[a + 2] - 1) * self.stride[a] + extent + self.output_padding[a] - lo - hi);
        }
        let mut out: Vec<f64> = (0..product(&out_shape))
            .map(|f| {
                let oc = unravel(f, &out_shape)[1];
                self.bias.as_ref().map_or(0.0, |b| b[oc])
            })
            .collect();
        let cg = xs[1] / self.groups;
        for f in 0..product(xs) {
            let idx = unravel(f, xs);
            let (b, c) = (idx[0], idx[1]);
            for co in 0..ws[1] {
                let oc = (c / cg) * ws[1] + co;
                'taps: for kf in 0..product(ks) {
                    let k = unravel(kf, ks);
                    let mut oi = vec![b, oc];
                    for a in 0..rank {
                        let p = idx[a + 2] * self.stride[a] + k[a] * self.dilation[a];
                        match p.checked_sub(self.pads[a].0) {
                            Some(p) if p < out_shape[a + 2] => oi.push(p),
                            _ => continue 'taps, // cropped by the padding
                        }
                    }
                    let mut wi = vec![c, co];
                    wi.extend(&k);
                    out[flat(&oi, &out_shape)] += self.x[f] * self.w[flat(&wi, ws)];
                }
            }
        }
        (out_shape, out)
    }

    /// The request's keys, `output` excepted, in the forms a request may use.
    fn request(&self, rng: &mut Rng) -> Map<String, Value> {
        let mut r = Map::new();
        r.insert("input".into(), self.array(&self.x_shape, &self.x, rng));
        r.insert("weight".into(), self.array(&self.w_shape, &self.w, rng));
        if let Some(b) = &self.bias {
            r.insert("bias".into(), self.array(&[b.len()], b, rng));
        }
        let axes = |v: &[usize], rng: &mut Rng| {
            if v.iter().all(|&s| s == v[0]) && rng.chance(50) {
                json!(v[0])
            } else {
                json!(v)
            }
        };
        if self.stride.iter().any(|&s| s != 1) || rng.chance(20) {
            r.insert("stride".into(), axes(&self.stride, rng));
        }
        if self.dilation.iter().any(|&d| d != 1) || rng.chance(20) {
            r.insert("dilation".into(), axes(&self.dilation, rng));
        }
        let symmetric: Vec<usize> = self.pads.iter().map(|p| p.0).collect();
        let padding = if self.pads.iter().all(|&(lo, hi)| lo == 0 && hi == 0) && rng.chance(30) {
            json!("valid")
        } else if self.pads.iter().all(|&(lo, hi)| lo == hi) && rng.chance(60) {
            axes(&symmetric, rng)
        } else if rng.chance(50) {
            let pairs: Vec<String> = self.pads.iter().map(|(l, h)| format!("{l}:{h}")).collect();
            json!(pairs.join(","))
        } else {
            json!(
                self.pads
                    .iter()
                    .map(|&(l, h)| vec![l, h])
                    .collect::<Vec<_>>()
            )
        };
        r.insert("padding".into(), padding);
        if self.groups > 1 || rng.chance(10) {
            r.insert("groups".into(), json!(self.groups));
        }
        if self.transpose {
            r.insert("transpose".into(), json!(true));
            if self.output_padding.iter().any(|&p| p != 0) || rng.chance(20) {
                r.insert("output_padding".into(), axes(&self.output_padding, rng));
            }
        } else {
            if rng.chance(10) {
                r.insert("transpose".into(), json!(false));
            }
            if rng.chance(10) {
                r.insert("kernel_layout".into(), json!("oihw"));
            }
        }
        if rng.chance(10) {
            r.insert("layout".into(), json!("nchw"));
        }
        if rng.chance(10) {
            r.insert("padding_mode".into(), json!("zeros"));
        }
        let tolerances = [
            "componentwise",
            "exact",
            "ulp:0",
            "normwise",
            "normwise:single",
            "tosa",
            "torch",
            "numpy",
        ];
        if rng.chance(50) {
            r.insert("tolerance".into(), json!(rng.pick(&tolerances)));
        }
        r
    }

    /// `{dtype, shape, data}` with each value a number, a numeric string or a bit pattern.
    fn array(&self, shape: &[usize], data: &[f64], rng: &mut Rng) -> Value {
        let data: Vec<Value> = data.iter().map(|&v| self.value(v, rng)).collect();
        let mut a = json!({"shape": shape, "data": data});
        if self.f32 {
            a["dtype"] = json!("float32");
        } else if rng.chance(50) {
            a["dtype"] = json!("float64");
        }
        a
    }

    fn value(&self, v: f64, rng: &mut Rng) -> Value {
        if v.is_nan() {
            return json!(rng.pick(&["nan", "NaN"]));
        }
        if v.is_infinite() {
            return json!(if v > 0.0 { "inf" } else { "-inf" });
        }
        match rng.below(10) {
            0 => json!(format!("{v}")),
            1 if self.f32 => json!(format!("0x{:08x}", (v as f32).to_bits())),
            1 => json!(format!("0x{:016x}", v.to_bits())),
            2 => json!(v),
            _ => json!(v as i64),
        }
    }
}

/// What the answer to one line must be.
struct Expect {
    id: Value,
    verdict: &'static str,
    /// For an error: a part of its message.
    error_has: &'static str,
    /// For a pass or a fail: the number of outputs judged.
    elements: Option<usize>,
}

struct Req {
    kind: Kind,
    /// The line, without its end.
    line: Vec<u8>,
    /// `\n` or `\r\n`.
    end: &'static str,
    /// `None`: a line the binary skips, without an answer.
    expect: Option<Expect>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    // Valid requests.
    Pass,
    PassSpecial,
    PassTranspose,
    PassCrlf,
    PassNoId,
    PassOddId,
    PassNonStringDtype,
    Fail,
    FailNan,
    FailTranspose,
    // Blank lines: skipped.
    Empty,
    Whitespace,
    CarriageReturn,
    UnicodeSpace,
    // Not JSON.
    NotJson,
    Truncated,
    BareNan,
    OutOfRange,
    DeepNesting,
    Trailing,
    ByteOrderMark,
    // JSON, not an object.
    NotObject,
    // Objects that are not good requests.
    MissingKey,
    InputRank1,
    WrongOutputShape,
    ChannelMismatch,
    BiasLength,
    BiasRank,
    NegativeShape,
    DataNotList,
    ArrayNotObject,
    UnknownDtype,
    LengthMismatch,
    MixedDtypes,
    NegativeStride,
    ZeroStride,
    NanStride,
    NanShape,
    NotANumber,
    BadBits,
    NullValue,
    HugePadding,
    OverflowPadding,
    MissingFile,
    UnknownKey,
    UnknownTolerance,
    TransposeOnlyFlag,
    TransposeFull,
    BadPaddingMode,
    EmptyAxis,
    // About 1 MB long, at fixed positions only.
    LongDigits,
    LongWhitespaceThenValid,
    LongWhitespaceOnly,
    LongStringId,
    LongData,
    // Only in burst_with_non_utf8_lines_answers_every_line.
    NonUtf8,
}

/// Drawn at random (with the weight given), after each has been drawn once.
const MIXED: &[(Kind, usize)] = &[
    (Kind::Pass, 30),
    (Kind::PassSpecial, 4),
    (Kind::PassTranspose, 8),
    (Kind::PassCrlf, 2),
    (Kind::PassNoId, 1),
    (Kind::PassOddId, 2),
    (Kind::PassNonStringDtype, 1),
    (Kind::Fail, 8),
    (Kind::FailNan, 2),
    (Kind::FailTranspose, 3),
    (Kind::Empty, 1),
    (Kind::Whitespace, 1),
    (Kind::CarriageReturn, 1),
    (Kind::UnicodeSpace, 1),
    (Kind::NotJson, 2),
    (Kind::Truncated, 3),
    (Kind::BareNan, 1),
    (Kind::OutOfRange, 1),
    (Kind::DeepNesting, 1),
    (Kind::Trailing, 1),
    (Kind::ByteOrderMark, 1),
    (Kind::NotObject, 2),
    (Kind::MissingKey, 2),
    (Kind::InputRank1, 1),
    (Kind::WrongOutputShape, 2),
    (Kind::ChannelMismatch, 1),
    (Kind::BiasLength, 1),
    (Kind::BiasRank, 1),
    (Kind::NegativeShape, 1),
    (Kind::DataNotList, 1),
    (Kind::ArrayNotObject, 1),
    (Kind::UnknownDtype, 1),
    (Kind::LengthMismatch, 2),
    (Kind::MixedDtypes, 1),
    (Kind::NegativeStride, 1),
    (Kind::ZeroStride, 1),
    (Kind::NanStride, 1),
    (Kind::NanShape, 1),
    (Kind::NotANumber, 1),
    (Kind::BadBits, 1),
    (Kind::NullValue, 1),
    (Kind::HugePadding, 1),
    (Kind::OverflowPadding, 1),
    (Kind::MissingFile, 1),
    (Kind::UnknownKey, 1),
    (Kind::UnknownTolerance, 1),
    (Kind::TransposeOnlyFlag, 1),
    (Kind::TransposeFull, 1),
    (Kind::BadPaddingMode, 1),
    (Kind::EmptyAxis, 1),
];

const LONG: &[Kind] = &[
    Kind::LongDigits,
    Kind::LongWhitespaceThenValid,
    Kind::LongWhitespaceOnly,
    Kind::LongStringId,
    Kind::LongData,
];

const MB: usize = 1 << 20;

fn error(id: Value, error_has: &'static str) -> Option<Expect> {
    Some(Expect {
        id,
        verdict: "error",
        error_has,
        elements: None,
    })
}

/// A request `{"id": id, ...}` for `case`, its output perturbed by `spoil`.
fn judged(
    rng: &mut Rng,
    case: &Case,
    id: Option<Value>,
    spoil: Option<fn(&mut Rng, &mut [f64])>,
) -> (Map<String, Value>, Option<Expect>) {
    let (shape, mut out) = case.expected();
    let verdict = match spoil {
        Some(spoil) => {
            spoil(rng, &mut out);
            "fail"
        }
        None => "pass",
    };
    let mut r = case.request(rng);
    r.insert("output".into(), case.array(&shape, &out, rng));
    if let Some(id) = &id {
        r.insert("id".into(), id.clone());
    }
    let expect = Some(Expect {
        id: id.unwrap_or(Value::Null),
        verdict,
        error_has: "",
        elements: Some(out.len()),
    });
    (r, expect)
}

fn off_by_1000(rng: &mut Rng, out: &mut [f64]) {
    let i = rng.below(out.len());
    out[i] += if rng.chance(50) { 1000.0 } else { -1000.0 };
}

fn nan(rng: &mut Rng, out: &mut [f64]) {
    let i = rng.below(out.len());
    out[i] = f64::NAN;
}

fn line(r: &Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec(r).expect("serializes")
}

/// One request of `kind` with id `i`.
fn make(kind: Kind, rng: &mut Rng, i: usize) -> Req {
    let id = json!(i);
    let mut end = "\n";
    let valid = |rng: &mut Rng| {
        let case = Case::random(rng, false, false);
        judged(rng, &case, Some(json!(i)), None)
    };
    // A valid float64 request with one thing spoilt (float64, the default dtype: arrays the
    // edit writes without a dtype match the others).
    let spoilt = |rng: &mut Rng, edit: fn(&mut Map<String, Value>)| {
        let mut case = Case::random(rng, false, false);
        case.f32 = false;
        let (mut r, _) = judged(rng, &case, Some(json!(i)), None);
        edit(&mut r);
        line(&r)
    };
    let (line, expect): (Vec<u8>, Option<Expect>) = match kind {
        Kind::Pass => {
            let (r, e) = valid(rng);
            (line(&r), e)
        }
        Kind::PassSpecial => {
            let transpose = rng.chance(30);
            let case = Case::random(rng, transpose, true);
            let (r, e) = judged(rng, &case, Some(id), None);
            (line(&r), e)
        }
        Kind::PassTranspose => {
            let case = Case::random(rng, true, false);
            let (r, e) = judged(rng, &case, Some(id), None);
            (line(&r), e)
        }
        Kind::PassCrlf => {
            end = "\r\n";
            let (r, e) = valid(rng);
            (line(&r), e)
        }
        Kind::PassNoId => {
            let case = Case::random(rng, false, false);
            let (r, e) = judged(rng, &case, None, None);
            (line(&r), e)
        }
        Kind::PassOddId => {
            // An id of every JSON type is echoed as given.
            let odd = match rng.below(9) {
                0 => json!(format!("req-{i}")),
                1 => json!(i as f64 + 0.25),
                2 => json!(-(i as i64)),
                3 => json!(u64::MAX - i as u64),
                4 => json!([i, "x", null]),
                5 => json!({"n": i, "nested": {"ok": true}}),
                6 => json!(rng.chance(50)),
                7 => Value::Null,
                _ => json!(""),
            };
            let case = Case::random(rng, false, false);
            let (r, e) = judged(rng, &case, Some(odd), None);
            (line(&r), e)
        }
        Kind::PassNonStringDtype => {
            // A dtype that is not a string is taken as float64 (not refused).
            let mut case = Case::random(rng, false, false);
            case.f32 = false;
            let (mut r, e) = judged(rng, &case, Some(id), None);
            r["input"]["dtype"] = json!(64);
            (line(&r), e)
        }
        Kind::Fail => {
            let case = Case::random(rng, false, false);
            let (r, e) = judged(rng, &case, Some(id), Some(off_by_1000));
            (line(&r), e)
        }
        Kind::FailNan => {
            let transpose = rng.chance(30);
            let case = Case::random(rng, transpose, false);
            let (r, e) = judged(rng, &case, Some(id), Some(nan));
            (line(&r), e)
        }
        Kind::FailTranspose => {
            let case = Case::random(rng, true, false);
            let (r, e) = judged(rng, &case, Some(id), Some(off_by_1000));
            (line(&r), e)
        }
        Kind::Empty => (vec![], None),
        Kind::Whitespace => (b" \t  \t".to_vec(), None),
        Kind::CarriageReturn => {
            end = "\r\n";
            (vec![], None)
        }
        Kind::UnicodeSpace => ("\u{a0}\u{2003}\u{3000}".as_bytes().to_vec(), None),
        Kind::NotJson => (
            format!("not json {i}").into_bytes(),
            error(Value::Null, "not a JSON object: expected"),
        ),
        Kind::Truncated => {
            let (r, _) = valid(rng);
            let mut l = line(&r);
            l.truncate(rng.range(1, l.len() - 1));
            (
                l,
                error(Value::Null, "not a JSON object: EOF while parsing"),
            )
        }
        Kind::BareNan => (
            format!(r#"{{"id": {i}, "input": NaN}}"#).into_bytes(),
            error(Value::Null, "not a JSON object: expected value"),
        ),
        Kind::OutOfRange => (
            format!(r#"{{"id": {i}, "stride": 1e400}}"#).into_bytes(),
            error(Value::Null, "not a JSON object: number out of range"),
        ),
        Kind::DeepNesting => (
            format!(
                r#"{{"id": {i}, "input": {}{}}}"#,
                "[".repeat(200),
                "]".repeat(200)
            )
            .into_bytes(),
            error(Value::Null, "not a JSON object: recursion limit exceeded"),
        ),
        Kind::Trailing => {
            let (r, _) = valid(rng);
            let mut l = line(&r);
            l.extend_from_slice(if rng.chance(50) { b" {}" } else { b"}" });
            (
                l,
                error(Value::Null, "not a JSON object: trailing characters"),
            )
        }
        Kind::ByteOrderMark => {
            let (r, _) = valid(rng);
            let mut l = "\u{feff}".as_bytes().to_vec();
            l.extend(line(&r));
            (l, error(Value::Null, "not a JSON object: expected value"))
        }
        Kind::NotObject => {
            let l = match rng.below(6) {
                0 => format!("[{i}]"),
                1 => format!("\"request {i}\""),
                2 => format!("{i}"),
                3 => "true".to_string(),
                4 => "null".to_string(),
                _ => format!("[{{\"id\": {i}}}]"),
            };
            (
                l.into_bytes(),
                error(Value::Null, "a request must be a JSON object"),
            )
        }
        Kind::MissingKey => {
            let (mut r, _) = valid(rng);
            let key = rng.pick(&["input", "weight", "output"]);
            r.remove(key);
            (line(&r), error(id, "is required"))
        }
        Kind::InputRank1 => {
            let l = spoilt(rng, |r| {
                let data = r["input"]["data"].clone();
                let n = data.as_array().map_or(0, Vec::len);
                r["input"] = json!({"shape": [n], "data": data});
            });
            (
                l,
                error(id, "expected (N, C, spatial...) with at least 2 axes"),
            )
        }
        Kind::WrongOutputShape => {
            let l = spoilt(rng, |r| {
                let mut shape: Vec<u64> = serde_json::from_value(r["output"]["shape"].clone())
                    .expect("the output's shape");
                let mut data = r["output"]["data"].as_array().cloned().unwrap_or_default();
                let last = shape.len() - 1;
                let row = data.len() / shape[last] as usize;
                shape[last] += 1;
                data.extend(std::iter::repeat_n(json!(0), row));
                r["output"]["shape"] = json!(shape);
                r["output"]["data"] = json!(data);
            });
            (l, error(id, "but the problem's output is"))
        }
        Kind::ChannelMismatch => {
            // A weight with one more input channel than the input has.
            let mut case = Case::random(rng, false, false);
            case.groups = 1;
            case.f32 = false;
            case.w_shape[1] = case.x_shape[1] + 1;
            case.w = vec![1.0; product(&case.w_shape)];
            let mut r = case.request(rng);
            r.remove("groups");
            r.insert("output".into(), json!({"shape": [1, 1, 1], "data": [0]}));
            r.insert("id".into(), id.clone());
            (line(&r), error(id, "channel mismatch"))
        }
        Kind::BiasLength => {
            let l = spoilt(rng, |r| {
                let o = r["weight"]["shape"][0].as_u64().unwrap_or(1) as usize;
                let dtype = r["input"].get("dtype").cloned().unwrap_or(json!("float64"));
                r.insert(
                    "bias".into(),
                    json!({"dtype": dtype, "shape": [o + 1], "data": vec![1; o + 1]}),
                );
            });
            (l, error(id, "bias has"))
        }
        Kind::BiasRank => {
            let l = spoilt(rng, |r| {
                r.insert("bias".into(), json!({"shape": [1, 1], "data": [1]}));
            });
            (l, error(id, "bias must be 1-D"))
        }
        Kind::NegativeShape => {
            let l = spoilt(rng, |r| r["weight"]["shape"][0] = json!(-1));
            (l, error(id, "'shape' must be a list of whole numbers"))
        }
        Kind::DataNotList => {
            let l = spoilt(rng, |r| r["input"]["data"] = json!("1 2 3"));
            (l, error(id, "'data' must be a list"))
        }
        Kind::ArrayNotObject => {
            let l = spoilt(rng, |r| {
                let data = r["weight"]["data"].clone();
                r.insert("weight".into(), data);
            });
            (l, error(id, "expected a .npy path or {dtype, shape, data}"))
        }
        Kind::UnknownDtype => {
            let dtype = rng.pick(&["float16", "int32", "bfloat16", "Float64", ""]);
            let (mut r, _) = valid(rng);
            r["output"]["dtype"] = json!(dtype);
            (line(&r), error(id, "(float32 or float64)"))
        }
        Kind::LengthMismatch => {
            let l = spoilt(rng, |r| {
                if let Some(d) = r["input"]["data"].as_array_mut() {
                    d.pop();
                }
            });
            (l, error(id, "values, got"))
        }
        Kind::MixedDtypes => {
            let mut case = Case::random(rng, false, false);
            case.f32 = false;
            let (mut r, _) = judged(rng, &case, Some(id.clone()), None);
            r["weight"] = json!({"dtype": "float32", "shape": case.w_shape, "data": case.w});
            (line(&r), error(id, "judge needs every array in one dtype"))
        }
        Kind::NegativeStride => {
            let l = spoilt(rng, |r| {
                r.insert("stride".into(), json!(-1));
            });
            (l, error(id, "'stride': expected a whole number"))
        }
        Kind::ZeroStride => {
            let l = spoilt(rng, |r| {
                r.insert("stride".into(), json!(0));
            });
            (l, error(id, "it must be at least 1"))
        }
        Kind::NanStride => {
            let l = spoilt(rng, |r| {
                r.insert("stride".into(), json!("nan"));
            });
            (l, error(id, "'stride': expected a whole number"))
        }
        Kind::NanShape => {
            let l = spoilt(rng, |r| r["input"]["shape"][0] = json!("nan"));
            (l, error(id, "'shape' must be a list of whole numbers"))
        }
        Kind::NotANumber => {
            let l = spoilt(rng, |r| r["weight"]["data"][0] = json!("nanx"));
            (l, error(id, "is not a number"))
        }
        Kind::BadBits => {
            let l = spoilt(rng, |r| r["weight"]["data"][0] = json!("0xnot-hex"));
            (l, error(id, "bad bit pattern"))
        }
        Kind::NullValue => {
            let l = spoilt(rng, |r| r["input"]["data"][0] = Value::Null);
            (l, error(id, "null is not a number"))
        }
        Kind::HugePadding => {
            // An output of 10^12 elements and more is refused before anything is allocated
            // (over the limit on output elements).
            let l = spoilt(rng, |r| {
                r.insert("padding".into(), json!(1_000_000_000_000u64));
                r.remove("transpose");
            });
            (l, error(id, "output elements would be"))
        }
        Kind::OverflowPadding => {
            let l = spoilt(rng, |r| {
                r.insert("padding".into(), json!(u64::MAX));
                r.remove("transpose");
            });
            (l, error(id, "size overflow"))
        }
        Kind::MissingFile => {
            let l = spoilt(rng, |r| {
                r.insert("weight".into(), json!("/nonexistent/conv-oracle/w.npy"));
            });
            (l, error(id, "cannot open"))
        }
        Kind::UnknownKey => {
            let l = spoilt(rng, |r| {
                r.insert("strides".into(), json!(1));
            });
            (l, error(id, "unknown key 'strides'"))
        }
        Kind::UnknownTolerance => {
            let l = spoilt(rng, |r| {
                r.insert("tolerance".into(), json!("bogus"));
            });
            (l, error(id, "--tolerance 'bogus'"))
        }
        Kind::TransposeOnlyFlag => {
            let l = spoilt(rng, |r| {
                r.insert("output_padding".into(), json!(1));
                r.remove("transpose");
            });
            (l, error(id, "need --transpose"))
        }
        Kind::TransposeFull => {
            let case = Case::random(rng, true, false);
            let (mut r, _) = judged(rng, &case, Some(id.clone()), None);
            r.insert("padding".into(), json!("full"));
            (line(&r), error(id, "is not defined for --transpose"))
        }
        Kind::BadPaddingMode => {
            let l = spoilt(rng, |r| {
                r.insert("padding_mode".into(), json!("mirror-ish"));
            });
            (l, error(id, "'padding_mode': invalid variant"))
        }
        Kind::EmptyAxis => {
            let l = spoilt(rng, |r| {
                let mut shape = r["input"]["shape"].clone();
                if let Some(s) = shape.as_array_mut() {
                    s[2] = json!(0);
                }
                r.insert("input".into(), json!({"shape": shape, "data": []}));
            });
            (l, error(id, "input is empty along axis 2"))
        }
        Kind::LongDigits => (
            "7".repeat(MB).into_bytes(),
            error(Value::Null, "not a JSON object: number out of range"),
        ),
        Kind::LongWhitespaceThenValid => {
            let (r, e) = valid(rng);
            let mut l = " \t".repeat(MB / 2).into_bytes();
            l.extend(line(&r));
            (l, e)
        }
        Kind::LongWhitespaceOnly => (" ".repeat(MB).into_bytes(), None),
        Kind::LongStringId => {
            let long = json!(format!("{i}:{}", "x".repeat(MB)));
            let case = Case::random(rng, false, false);
            let (r, e) = judged(rng, &case, Some(long), None);
            (line(&r), e)
        }
        Kind::LongData => {
            let l = spoilt(rng, |r| {
                r["input"]["data"] = json!(vec![1; MB / 2]);
            });
            (l, error(id, "values, got 524288"))
        }
        Kind::NonUtf8 => {
            let (r, _) = valid(rng);
            let mut l = line(&r);
            // A stray continuation byte or a truncated sequence, inside a string or not.
            let at = rng.below(l.len());
            let bad: &[u8] = rng.pick(&[b"\xff", b"\xc3", b"\x80\x80", b"\xed\xa0\x80"]);
            l.splice(at..at, bad.iter().copied());
            (l, error(Value::Null, ""))
        }
    };
    Req {
        kind,
        line,
        end,
        expect,
    }
}

/// The burst: every kind once (in order), then kinds drawn by weight, with the long lines at
/// fixed positions; `extra` kinds join the draw with weight 1 each.
fn burst(n: usize, extra: &[Kind]) -> Vec<Req> {
    let mut rng = Rng(SEED);
    let mut kinds: Vec<(Kind, usize)> = MIXED.to_vec();
    kinds.extend(extra.iter().map(|&k| (k, 1)));
    let total: usize = kinds.iter().map(|k| k.1).sum();
    (0..n)
        .map(|i| {
            let kind = if i < kinds.len() {
                kinds[i].0
            } else if i < n / 10 && i % (n / 10 / (2 * LONG.len())).max(1) == 50 {
                LONG[(i / (n / 10 / (2 * LONG.len())).max(1)) % LONG.len()]
            } else if i % LONG_EVERY == LONG_EVERY / 2 {
                LONG[(i / LONG_EVERY) % LONG.len()]
            } else {
                let mut r = rng.below(total);
                kinds
                    .iter()
                    .find(|&&(_, w)| {
                        let hit = r < w;
                        r = r.saturating_sub(w);
                        hit
                    })
                    .expect("a kind")
                    .0
            };
            make(kind, &mut rng, i)
        })
        .collect()
}

// ------------------------------------------------------------------------------ running

struct Outcome {
    answers: Vec<Vec<u8>>,
    status: ExitStatus,
    stderr: String,
    /// VmRSS (KiB) after each tenth of the answers (the last: after all of them), and VmHWM
    /// at the end; empty / `None` where /proc does not tell.
    rss: Vec<u64>,
    peak: Option<u64>,
}

/// A field of /proc/PID/status in KiB (Linux only).
fn proc_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `judge --stream` on the requests: a thread writes them all while this one reads the
/// answers (a child blocked on a full stdout pipe would otherwise never drain its stdin).
/// Standard input stays open until every expected answer is in, so the child's memory can be
/// read while it is still running.
fn run_stream(requests: &[Req]) -> Outcome {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conv-oracle"))
        .args(["judge", "--stream"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn conv-oracle");
    let pid = child.id();
    let mut payload = Vec::new();
    for r in requests {
        payload.extend_from_slice(&r.line);
        payload.extend_from_slice(r.end.as_bytes());
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        // A child that died early makes this fail (broken pipe); the answers show it.
        let _ = stdin.write_all(&payload).and_then(|()| stdin.flush());
        stdin
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let out_reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut l = Vec::new();
            match r.read_until(b'\n', &mut l) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let wanted = requests.iter().filter(|r| r.expect.is_some()).count();
    let start = Instant::now();
    let mut last_answer = Instant::now();
    let mut answers = Vec::with_capacity(wanted);
    let (mut rss, mut peak) = (Vec::new(), None);
    let mut writer = Some(writer);
    loop {
        // Close stdin once every answer is in (reading the memory first), or once everything
        // is written and the answers have stopped coming (a missing answer); then read to the
        // end: any further line is an extra answer.
        let stalled =
            writer.as_ref().is_some_and(|w| w.is_finished()) && last_answer.elapsed() > SILENCE;
        if (answers.len() >= wanted || stalled)
            && let Some(w) = writer.take()
        {
            rss.extend(proc_kib(pid, "VmRSS"));
            peak = proc_kib(pid, "VmHWM");
            drop(w.join().expect("writer thread"));
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "judge --stream hung: {} of {wanted} answers after {DEADLINE:?}",
                answers.len()
            );
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                answers.push(l);
                last_answer = Instant::now();
                if answers.len() < wanted && answers.len() % (wanted / 10).max(1) == 0 {
                    rss.extend(proc_kib(pid, "VmRSS"));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
    if let Some(w) = writer.take() {
        drop(w.join().expect("writer thread"));
    }
    let status = child.wait().expect("wait");
    out_reader.join().expect("stdout reader");
    Outcome {
        answers,
        status,
        stderr: err_reader.join().expect("stderr reader"),
        rss,
        peak,
    }
}

// ------------------------------------------------------------------------------ checking

/// The first 200 characters of a line, for messages.
fn shown(l: &[u8]) -> String {
    let s = String::from_utf8_lossy(l);
    let s: String = s.chars().take(200).collect();
    if l.len() > 200 {
        format!("{s}... ({} bytes)", l.len())
    } else {
        s
    }
}

/// What is wrong with `got` as the answer to `req`, if anything.
fn check(req: &Req, got: &[u8]) -> Option<String> {
    let want = req.expect.as_ref()?;
    let Some(body) = got.strip_suffix(b"\n") else {
        return Some("an answer without its newline".into());
    };
    let v: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Some("an answer that is not a JSON object".into()),
        Err(e) => return Some(format!("an answer that is not JSON: {e}")),
    };
    let mut wrong = Vec::new();
    if v["verdict"] != want.verdict {
        wrong.push(format!("verdict {} (want {})", v["verdict"], want.verdict));
    }
    if v["id"] != want.id {
        wrong.push(format!(
            "id {} (want {})",
            shown(v["id"].to_string().as_bytes()),
            { shown(want.id.to_string().as_bytes()) }
        ));
    }
    if want.verdict == "error" {
        let e = v["error"].as_str().unwrap_or("");
        if e.is_empty() || !e.contains(want.error_has) {
            wrong.push(format!(
                "error {e:?} (want it to contain {:?})",
                want.error_has
            ));
        }
    }
    if let Some(n) = want.elements {
        if v["elements"] != n {
            wrong.push(format!("elements {} (want {n})", v["elements"]));
        }
        // A pass has no failed element and no reason; a fail has a reason (under a normwise
        // model the norm fails, with no element counted as failed).
        let failed = v["failed"].as_u64();
        let reason = v["reason"].as_str().unwrap_or("");
        let ok = if want.verdict == "pass" {
            failed == Some(0) && v["reason"].is_null()
        } else {
            failed.is_some() && !reason.is_empty()
        };
        if !ok {
            wrong.push(format!(
                "failed {} and reason {} with verdict {}",
                v["failed"], v["reason"], want.verdict
            ));
        }
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

/// Every request answered in order by exactly one line, each as expected; no extra line;
/// exit status 2 (some requests were bad); nothing on stderr.
fn check_outcome(requests: &[Req], o: &Outcome) {
    let answered: Vec<&Req> = requests.iter().filter(|r| r.expect.is_some()).collect();
    let mut problems = Vec::new();
    for (k, (req, got)) in answered.iter().zip(&o.answers).enumerate() {
        if let Some(p) = check(req, got) {
            problems.push(format!(
                "answer {k} ({:?}): {p}\n  request: {}\n  answer: {}",
                req.kind,
                shown(&req.line),
                shown(got)
            ));
        }
    }
    let missing = answered.len().saturating_sub(o.answers.len());
    if missing > 0 {
        let first = answered[o.answers.len()];
        problems.push(format!(
            "{missing} of {} answers missing, from the {:?} request {}",
            answered.len(),
            first.kind,
            shown(&first.line)
        ));
    }
    for extra in o.answers.iter().skip(answered.len()) {
        problems.push(format!("an extra answer: {}", shown(extra)));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) (exit {:?}, stderr {:?}); the first:\n{}",
        problems.len(),
        o.status.code(),
        o.stderr,
        problems[..problems.len().min(10)].join("\n")
    );
    assert_eq!(o.status.code(), Some(2), "stderr: {}", o.stderr);
    assert!(o.stderr.is_empty(), "stderr: {}", o.stderr);
}

/// The issue's burst: 10,000 requests, valid and invalid, answered one line each, in order,
/// with the expected verdict; memory stays flat (no growth from the first tenth of the
/// answers to the last, and a small peak).
#[test]
fn burst_of_mixed_requests_answers_every_line_in_order() {
    let requests = burst(REQUESTS, &[]);
    let kinds: std::collections::HashSet<Kind> = requests.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds.len(),
        MIXED.len() + LONG.len(),
        "every kind is in the burst"
    );
    let count = |v: &str| {
        requests
            .iter()
            .filter(|r| r.expect.as_ref().is_some_and(|e| e.verdict == v))
            .count()
    };
    let (pass, fail, error) = (count("pass"), count("fail"), count("error"));
    let skipped = requests.iter().filter(|r| r.expect.is_none()).count();
    assert!(pass > 3000 && fail > 1000 && error > 3000 && skipped > 200);
    assert_eq!(pass + fail + error + skipped, REQUESTS);

    let o = run_stream(&requests);
    check_outcome(&requests, &o);

    // Flat memory (Linux, where /proc tells). The resident set rises once, to what the
    // largest request needs (the 1 MB lines, each kind twice in the first tenth: the allocator
    // keeps some freed heap), and then must not grow: from the first tenth of the answers to
    // the end it stays within 4 MiB, and the whole burst peaks low.
    if let (Some(&tenth), Some(&end), Some(peak)) = (o.rss.first(), o.rss.last(), o.peak) {
        assert!(
            end <= tenth + 4 * 1024,
            "VmRSS grew from {tenth} KiB after a tenth of the burst to {end} KiB at the end \
             (KiB per tenth: {:?})",
            o.rss
        );
        assert!(
            peak <= 128 * 1024,
            "VmHWM {peak} KiB (VmRSS per tenth: {:?})",
            o.rss
        );
    }
    eprintln!(
        "VmRSS (KiB) per tenth of the burst: {:?}; VmHWM {:?} KiB",
        o.rss, o.peak
    );
}

/// A line that is not UTF-8 is a bad line like any other: answered with an error (id null,
/// as for any line that does not parse) and the stream goes on. The binary used to stop at the
/// first such line (`reading stdin: stream did not contain valid UTF-8`, exit 2), leaving it
/// and every later request unanswered.
#[test]
fn burst_with_non_utf8_lines_answers_every_line() {
    let requests = burst(REQUESTS, &[Kind::NonUtf8]);
    assert!(requests.iter().any(|r| r.kind == Kind::NonUtf8));
    check_outcome(&requests, &run_stream(&requests));
}

/// A request of a few hundred bytes whose spec implies a big (under the 2^28 element limit)
/// output, with an `output` of the wrong shape, is refused without computing that output:
/// memory proportional to the request, not to the implied geometry. The correctly rounded
/// output (and with `normwise` the FFT model) used to be computed before the shapes were
/// compared: padding 10^7 cost about 0.8 GB and a second, 10^8 about 6 GB and two minutes.
#[test]
fn implied_output_is_not_computed_before_the_shape_check() {
    let requests: Vec<Req> = [10_000_000u64, 10_000_000, 5_000_000]
        .iter()
        .zip(["componentwise", "normwise", "exact"])
        .enumerate()
        .map(|(i, (&p, tolerance))| Req {
            kind: Kind::WrongOutputShape,
            line: json!({"id": i, "padding": p, "tolerance": tolerance,
                         "input": {"shape": [1, 1, 3], "data": [1, 2, 3]},
                         "weight": {"shape": [1, 1, 2], "data": [1, 1]},
                         "output": {"shape": [1, 1, 2], "data": [3, 5]}})
            .to_string()
            .into_bytes(),
            end: "\n",
            expect: error(json!(i), "but the problem's output is"),
        })
        .collect();
    let o = run_stream(&requests);
    check_outcome(&requests, &o);
    if let Some(peak) = o.peak {
        assert!(
            peak <= 64 * 1024,
            "VmHWM {peak} KiB for three tiny requests"
        );
    }
}
