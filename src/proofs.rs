//! Executable proofs of section 6.1 of Dive into Deep Learning ("From fully connected layers
//! to convolutions"): one page per derivation or exercise, each with the claim, a human
//! proof and code that checks it (the pages are the submodules below; their code blocks run
//! as doctests). The claims the pages prove by polynomial identity are also in [`claims`],
//! which `conv-oracle prove` runs.
//!
//! A claim is checked for every shape up to its stated bound (the page's human proof covers
//! every size) by running the computation on
//! [`crate::symbolic`] inputs (one variable per entry) and comparing polynomials: equal
//! polynomials are equal for every input of those shapes in every commutative ring (complex
//! numbers included; floating point excluded: its sums depend on their order). A claim that
//! is false is listed as such and must be refuted: its check finds a counterexample and prints
//! the two polynomials that differ.
//!
//! The pages: [`dense_to_convolution`] (01), [`locality`] (02),
//! [`convolution_vs_correlation`] (03), [`dice`] (04), [`multichannel`] (05), [`one_by_one`]
//! (06), [`invariance`] (07), [`boundary`] (08), [`audio`] (09), [`text`] (10),
//! [`commutativity`] (11), [`convolution_theorem`] (12). Their index, `proofs/README.md`:
#![doc = include_str!("../proofs/README.md")]

use crate::api::layer::{LayerSpec, PaddingMode};
use crate::api::signal::{Boundary2d, Mode, convolve, convolve2d, correlate};
use crate::problem::Padding;
use crate::problem::{InputLayout, KernelLayout};
use crate::scalar::Ring;
use crate::symbolic::{Poly, variables};
use ndarray::{Array1, Array2, ArrayD, Axis, Ix1, Ix2, IxDyn};

#[doc = include_str!("../proofs/01-dense-to-convolution.md")]
pub mod dense_to_convolution {}

#[doc = include_str!("../proofs/02-locality.md")]
pub mod locality {}

#[doc = include_str!("../proofs/03-convolution-vs-correlation.md")]
pub mod convolution_vs_correlation {}

#[doc = include_str!("../proofs/04-dice.md")]
pub mod dice {}

#[doc = include_str!("../proofs/05-multichannel.md")]
pub mod multichannel {}

#[doc = include_str!("../proofs/06-one-by-one.md")]
pub mod one_by_one {}

#[doc = include_str!("../proofs/07-invariance.md")]
pub mod invariance {}

#[doc = include_str!("../proofs/08-boundary.md")]
pub mod boundary {}

#[doc = include_str!("../proofs/09-audio.md")]
pub mod audio {}

#[doc = include_str!("../proofs/10-text.md")]
pub mod text {}

#[doc = include_str!("../proofs/11-commutativity.md")]
pub mod commutativity {}

#[doc = include_str!("../proofs/12-convolution-theorem.md")]
pub mod convolution_theorem {}

/// Whether a claim is true (checked up to its bound; its page proves it) or false (to be refuted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// The identity holds for every shape up to the bound.
    Holds,
    /// The identity is false: a counterexample must be found.
    Fails,
}

/// One side of a claim evaluated on one shape: the two arrays of polynomials that must be
/// equal.
#[derive(Clone, Debug)]
pub struct Sides {
    /// The shapes, printed (`f: [3], g: [2]`).
    pub shapes: String,
    /// The left-hand side, one polynomial per output.
    pub left: Vec<Poly>,
    /// The right-hand side.
    pub right: Vec<Poly>,
}

impl Sides {
    fn agree(&self) -> bool {
        self.left == self.right
    }

    /// The first output index where the sides differ.
    pub fn first_difference(&self) -> Option<usize> {
        if self.left.len() != self.right.len() {
            return Some(self.left.len().min(self.right.len()));
        }
        self.left.iter().zip(&self.right).position(|(a, b)| a != b)
    }
}

/// A claim `conv-oracle prove` checks.
#[derive(Clone, Copy, Debug)]
pub struct Claim {
    /// Short name (`conv-oracle prove NAME`).
    pub name: &'static str,
    /// The statement.
    pub statement: &'static str,
    /// Which shapes the check covers.
    pub covers: &'static str,
    /// True or false.
    pub expect: Expect,
    /// The page (in `proofs/`) that proves it.
    pub page: &'static str,
    /// Every shape the check covers, the two sides each (the first one is the smallest, the
    /// one `--show` prints).
    pub cases: fn() -> Vec<Sides>,
}

/// What checking a claim found.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The claim.
    pub claim: Claim,
    /// Shapes checked.
    pub shapes: usize,
    /// The first shape where the sides differ, if any.
    pub counterexample: Option<Sides>,
}

impl Verdict {
    /// Checked (a true claim whose sides agree on every shape the check covers) or refuted (a
    /// false claim with a counterexample).
    pub fn passed(&self) -> bool {
        match self.claim.expect {
            Expect::Holds => self.counterexample.is_none(),
            Expect::Fails => self.counterexample.is_some(),
        }
    }
}

impl Claim {
    /// Runs the check on every shape it covers.
    pub fn check(&self) -> Verdict {
        let cases = (self.cases)();
        let shapes = cases.len();
        let counterexample = cases.into_iter().find(|s| !s.agree());
        Verdict {
            claim: *self,
            shapes,
            counterexample,
        }
    }
}

/// Every claim, in page order.
pub fn claims() -> Vec<Claim> {
    vec![
        Claim {
            name: "circular-convolution-is-equivariant",
            statement: "conv(shift(x)) = shift(conv(x)) for a convolution layer with circular \
                        padding ('same' output), every shift",
            covers: "2-D inputs up to 5x5, kernels up to 3x3, every circular shift",
            expect: Expect::Holds,
            page: "01-dense-to-convolution.md",
            cases: circular_equivariance,
        },
        Claim {
            name: "dense-is-equivariant",
            statement: "W shift(x) = shift(W x) for a general dense layer W (false: only \
                        circulant W, i.e. shared weights, commute with shifts)",
            covers: "1-D, lengths 1..=5, shift by one",
            expect: Expect::Fails,
            page: "01-dense-to-convolution.md",
            cases: dense_equivariance,
        },
        Claim {
            name: "receptive-field",
            statement: "output i of a layer (stride s, dilation d, zero pads lo, hi) reads \
                        exactly the inputs i*s + k*d - lo, k < K, that lie inside the input",
            covers: "1-D, inputs 1..=8, kernels 1..=3, stride and dilation 1..=2, pads 0..=2 (every \
                     combination with an output)",
            expect: Expect::Holds,
            page: "02-locality.md",
            cases: receptive_field_cases,
        },
        Claim {
            name: "stacked-receptive-field",
            statement: "L stacked 'valid' layers of K taps: output i reads exactly the inputs \
                        i ..= i + L (K - 1)",
            covers: "1-D, 1..=3 layers of 1..=3 taps, inputs up to 10",
            expect: Expect::Holds,
            page: "02-locality.md",
            cases: stacked_cases,
        },
        Claim {
            name: "notes-slip",
            statement: "sum_m f(m) g(n-m) = sum_m f(m) g(n+m) (the notes' equation; false: the \
                        right-hand side is a cross-correlation)",
            covers: "1-D, lengths 1..=6 each, every n",
            expect: Expect::Fails,
            page: "03-convolution-vs-correlation.md",
            cases: notes_slip,
        },
        Claim {
            name: "correlation-is-convolution-with-reflected-conjugate",
            statement: "correlate(f, g) = convolve(f, conj(reverse(g))), full mode",
            covers: "1-D, lengths 1..=6 each",
            expect: Expect::Holds,
            page: "03-convolution-vs-correlation.md",
            cases: correlation_as_convolution,
        },
        Claim {
            name: "correlation-reflection",
            statement: "correlate(f, g)[k] = conj(correlate(g, f)[N + M - 2 - k]), full mode",
            covers: "1-D, lengths 1..=6 each",
            expect: Expect::Holds,
            page: "03-convolution-vs-correlation.md",
            cases: correlation_reflection,
        },
        Claim {
            name: "sum-of-independent-variables",
            statement: "P(A + B = s) = sum_(a + b = s) p(a) q(b) (enumeration of outcomes) is \
                        the convolution (p * q)(s)",
            covers: "distributions on 0..n and 0..m, n, m up to 6",
            expect: Expect::Holds,
            page: "04-dice.md",
            cases: dice_cases,
        },
        Claim {
            name: "multichannel-formula",
            statement: "H(i,j,d) = sum_a sum_b sum_c V(a,b,c,d) X(i+a,j+b,c) + b(d) with V \
                        [k_h, k_w, C_in, C_out] is the layer (channels last, HWIO), and the \
                        same layer in NCHW / OIHW",
            covers: "inputs up to 5x5, kernels up to 3x3, 1..=2 input and output channels",
            expect: Expect::Holds,
            page: "05-multichannel.md",
            cases: multichannel_cases,
        },
        Claim {
            name: "one-by-one-is-dense",
            statement: "a 1x1 convolution is the dense layer y[:, i, j] = W x[:, i, j] + b \
                        applied to every pixel",
            covers: "1..=3 input and output channels, images up to 5x5",
            expect: Expect::Holds,
            page: "06-one-by-one.md",
            cases: one_by_one_cases,
        },
        Claim {
            name: "global-pooling-is-invariant",
            statement: "the sum over all outputs of a circular convolution layer is the same \
                        for x and for every shift of x (equivariance + global pooling = \
                        invariance)",
            covers: "2-D inputs up to 5x5, kernels up to 3x3, every circular shift",
            expect: Expect::Holds,
            page: "07-invariance.md",
            cases: global_pooling_cases,
        },
        Claim {
            name: "constant-image-stays-constant",
            statement: "with reflect, symmetric, replicate or circular padding ('same'), a \
                        constant image c gives the constant c * sum(w) everywhere",
            covers: "2-D images up to 5x5, kernels up to 3x3, the four modes",
            expect: Expect::Holds,
            page: "08-boundary.md",
            cases: constant_image_cases,
        },
        Claim {
            name: "zero-padding-keeps-constants",
            statement: "with zero padding ('same'), a constant image gives a constant output \
                        (false: the border darkens)",
            covers: "2-D images up to 5x5, kernels up to 3x3",
            expect: Expect::Fails,
            page: "08-boundary.md",
            cases: zero_padding_constant_cases,
        },
        Claim {
            name: "audio-time-shift",
            statement: "dropping the first s frames of a [T, C_in] signal drops the first s \
                        frames of the layer's [T', C_out] output (kernel [k_t, C_in, C_out], \
                        'valid')",
            covers: "T up to 7, k_t up to 3, 1..=2 channels each way, s up to 3",
            expect: Expect::Holds,
            page: "09-audio.md",
            cases: audio_cases,
        },
        Claim {
            name: "spectrogram-time-shift",
            statement: "the same for a [T, F, C_in] spectrogram with a 2-D kernel: a shift \
                        in time shifts the output in time",
            covers: "T and F up to 5, kernels up to 3x3, 1..=2 channels each way, s up to 2",
            expect: Expect::Holds,
            page: "09-audio.md",
            cases: spectrogram_cases,
        },
        Claim {
            name: "text-window",
            statement: "for text [L, d] and a filter [k, d], output t reads exactly the \
                        embeddings of tokens t ..= t + k - 1, every dimension",
            covers: "L up to 6, d up to 3, k up to 3",
            expect: Expect::Holds,
            page: "10-text.md",
            cases: text_cases,
        },
        Claim {
            name: "commutativity",
            statement: "f * g = g * f (true convolution, full mode)",
            covers: "1-D lengths 1..=6 each; 2-D inputs up to 5x5 with kernels up to 3x3",
            expect: Expect::Holds,
            page: "11-commutativity.md",
            cases: commutativity_cases,
        },
        Claim {
            name: "correlation-commutes",
            statement: "correlate(f, g) = correlate(g, f) (false: cross-correlation is not \
                        commutative)",
            covers: "1-D, lengths 1..=6 each",
            expect: Expect::Fails,
            page: "11-commutativity.md",
            cases: correlation_swapped,
        },
        Claim {
            name: "convolution-theorem",
            statement: "DFT(f (*) g) = DFT(f) DFT(g) for the circular convolution (*) of length \
                        N, in Z[f, g, omega] / (omega^N - 1) (omega = exp(-2 pi i / N))",
            covers: "N = 1..=6",
            expect: Expect::Holds,
            page: "12-convolution-theorem.md",
            cases: convolution_theorem_cases,
        },
        Claim {
            name: "padded-circular-is-linear",
            statement: "the circular convolution of f and g zero-padded to L >= N + M - 1 is \
                        their linear (full) convolution, padded",
            covers: "N, M = 1..=5, L = N + M - 1 and N + M",
            expect: Expect::Holds,
            page: "12-convolution-theorem.md",
            cases: padded_circular_cases,
        },
        Claim {
            name: "unpadded-circular-is-linear",
            statement: "the circular convolution at length max(N, M) (no zero padding) is the \
                        linear convolution, cropped (false: the tail wraps around)",
            covers: "N, M = 1..=5",
            expect: Expect::Fails,
            page: "12-convolution-theorem.md",
            cases: unpadded_circular_cases,
        },
    ]
}

/// The claims named `name` (all when `None`); `None` when no claim has that name.
pub fn find(name: Option<&str>) -> Option<Vec<Claim>> {
    let all = claims();
    match name {
        None => Some(all),
        Some(n) => {
            let picked: Vec<Claim> = all.into_iter().filter(|c| c.name == n).collect();
            (!picked.is_empty()).then_some(picked)
        }
    }
}

/// The variables `f[0..n]` as a 1-D array.
pub fn signal(name: &str, n: usize) -> Array1<Poly> {
    variables(name, &[n])
        .into_dimensionality::<Ix1>()
        .unwrap_or_else(|_| Array1::from_elem(0, Poly::zero()))
}

/// The variables `name[i, j]` as a 2-D array.
pub fn image(name: &str, shape: [usize; 2]) -> Array2<Poly> {
    variables(name, &shape)
        .into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| Array2::from_elem((0, 0), Poly::zero()))
}

fn pairs_1d() -> impl Iterator<Item = (usize, usize)> {
    (1..=6).flat_map(|n| (1..=6).map(move |m| (n, m)))
}

fn shapes_1d(n: usize, m: usize) -> String {
    format!("f: [{n}], g: [{m}]")
}

/// `sum_m f(m) g(n - m)` (left) against `sum_m f(m) g(n + m)` (right), for every `n` where
/// either sum has a term (`n` from `-(M-1)` to `N + M - 2`).
fn notes_slip() -> Vec<Sides> {
    pairs_1d()
        .map(|(nf, ng)| {
            let (f, g) = (signal("f", nf), signal("g", ng));
            let term = |m: usize, j: isize| -> Option<Poly> {
                let j = usize::try_from(j).ok().filter(|&j| j < ng)?;
                Some(f[m].times(&g[j]))
            };
            let sum = |n: isize, sign: isize| -> Poly {
                (0..nf)
                    .filter_map(|m| term(m, n + sign * m as isize))
                    .fold(Poly::zero(), |a, t| a.plus(&t))
            };
            let range = -(ng as isize - 1)..=(nf + ng) as isize - 2;
            Sides {
                shapes: shapes_1d(nf, ng),
                left: range.clone().map(|n| sum(n, -1)).collect(),
                right: range.map(|n| sum(n, 1)).collect(),
            }
        })
        .collect()
}

/// `convolve` or `correlate` on 1-D symbolic arrays.
type Op1d = fn(
    ndarray::ArrayView1<'_, Poly>,
    ndarray::ArrayView1<'_, Poly>,
    Mode,
) -> Result<Array1<Poly>, crate::problem::ConvError>;

fn full_1d(op: Op1d, a: &Array1<Poly>, b: &Array1<Poly>) -> Vec<Poly> {
    op(a.view(), b.view(), Mode::Full)
        .map(|y| y.to_vec())
        .unwrap_or_default()
}

fn correlation_as_convolution() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            let mut reflected = g.mapv(|p| p.conj());
            reflected.invert_axis(Axis(0));
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(correlate, &f, &g),
                right: full_1d(convolve, &f, &reflected),
            }
        })
        .collect()
}

fn correlation_reflection() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            let mut right: Vec<Poly> = full_1d(correlate, &g, &f).iter().map(Ring::conj).collect();
            right.reverse();
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(correlate, &f, &g),
                right,
            }
        })
        .collect()
}

fn correlation_swapped() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(correlate, &f, &g),
                right: full_1d(correlate, &g, &f),
            }
        })
        .collect()
}

fn commutativity_cases() -> Vec<Sides> {
    let mut out: Vec<Sides> = pairs_1d()
        .map(|(n, m)| {
            let (f, g) = (signal("f", n), signal("g", m));
            Sides {
                shapes: shapes_1d(n, m),
                left: full_1d(convolve, &f, &g),
                right: full_1d(convolve, &g, &f),
            }
        })
        .collect();
    for a in 1..=5 {
        for b in 1..=5 {
            for p in 1..=3 {
                for q in 1..=3 {
                    let (f, g) = (image("f", [a, b]), image("g", [p, q]));
                    let run = |x: &Array2<Poly>, y: &Array2<Poly>| -> Vec<Poly> {
                        let zero = Boundary2d::Fill(Poly::zero());
                        convolve2d(x.view(), y.view(), Mode::Full, zero)
                            .map(|z| z.iter().cloned().collect())
                            .unwrap_or_default()
                    };
                    out.push(Sides {
                        shapes: format!("f: [{a}, {b}], g: [{p}, {q}]"),
                        left: run(&f, &g),
                        right: run(&g, &f),
                    });
                }
            }
        }
    }
    out
}

/// The layer (cross-correlation, PyTorch semantics) on symbolic arrays; empty when the
/// layer refuses the shapes.
fn layer(
    x: &ArrayD<Poly>,
    w: &ArrayD<Poly>,
    b: Option<&Array1<Poly>>,
    spec: &LayerSpec,
) -> Vec<Poly> {
    crate::api::layer::conv(x.view(), w.view(), b.map(|b| b.view()), spec)
        .map(|y| y.iter().cloned().collect())
        .unwrap_or_default()
}

/// `x` rolled by `shift` along its last two axes (circularly): `y[.., i, j] =
/// x[.., i - s0, j - s1]`.
fn roll2(x: &ArrayD<Poly>, shift: [usize; 2]) -> ArrayD<Poly> {
    let nd = x.ndim();
    let (h, w) = (x.shape()[nd - 2], x.shape()[nd - 1]);
    ArrayD::from_shape_fn(x.raw_dim(), |i| {
        let mut j = i.clone();
        j[nd - 2] = (i[nd - 2] + h - shift[0] % h) % h;
        j[nd - 1] = (i[nd - 1] + w - shift[1] % w) % w;
        x[j].clone()
    })
}

fn circular_equivariance() -> Vec<Sides> {
    let mut out = Vec::new();
    let spec = LayerSpec {
        padding: Padding::SameUpper,
        padding_mode: PaddingMode::Circular,
        ..LayerSpec::default()
    };
    for (h, w) in (1..=5).flat_map(|a| (1..=5).map(move |b| (a, b))) {
        for (p, q) in (1..=3).flat_map(|a| (1..=3).map(move |b| (a, b))) {
            let x = variables("x", &[1, 1, h, w]);
            let k = variables("w", &[1, 1, p, q]);
            if crate::api::layer::conv(x.view(), k.view(), None, &spec).is_err() {
                continue; // a circular pad wider than the input: refused, not covered
            }
            for shift in (0..h).flat_map(|a| (0..w).map(move |b| [a, b])) {
                let shifted_in = layer(&roll2(&x, shift), &k, None, &spec);
                let y = layer(&x, &k, None, &spec);
                let y = ArrayD::from_shape_vec(IxDyn(&[1, 1, h, w]), y).unwrap_or_default();
                out.push(Sides {
                    shapes: format!("x: [{h}, {w}], w: [{p}, {q}], shift {shift:?}"),
                    left: shifted_in,
                    right: roll2(&y, shift).iter().cloned().collect(),
                });
            }
        }
    }
    out
}

fn dense_equivariance() -> Vec<Sides> {
    (1..=5)
        .map(|n| {
            let w = image("W", [n, n]);
            let x = signal("x", n);
            let dense = |v: &Array1<Poly>| -> Vec<Poly> {
                (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| w[[i, j]].times(&v[j]))
                            .fold(Poly::zero(), |a, t| a.plus(&t))
                    })
                    .collect()
            };
            let roll = |v: &[Poly]| -> Array1<Poly> {
                Array1::from_shape_fn(n, |i| v[(i + n - 1) % n].clone())
            };
            let y = dense(&x);
            Sides {
                shapes: format!("W: [{n}, {n}], x: [{n}], shift 1"),
                left: dense(&roll(&x.to_vec())),
                right: roll(&y).to_vec(),
            }
        })
        .collect()
}

fn multichannel_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for (h, w) in (1..=5).flat_map(|a| (1..=5).map(move |b| (a, b))) {
        for (kh, kw) in (1..=h.min(3)).flat_map(|a| (1..=w.min(3)).map(move |b| (a, b))) {
            for (ci, co) in (1..=2).flat_map(|a| (1..=2).map(move |b| (a, b))) {
                let x = variables("X", &[1, h, w, ci]); // N, H, W, C_in
                let v = variables("V", &[kh, kw, ci, co]); // k_h, k_w, C_in, C_out
                let b = signal("b", co);
                let spec = LayerSpec {
                    input_layout: InputLayout::ChannelsLast,
                    kernel_layout: KernelLayout::Hwio,
                    ..LayerSpec::default()
                };
                let (oh, ow) = (h - kh + 1, w - kw + 1);
                // The chapter's formula, output (N, H', W', C_out) in row-major order.
                let mut formula = Vec::new();
                for i in 0..oh {
                    for j in 0..ow {
                        for d in 0..co {
                            let mut sum = b[d].clone();
                            for a in 0..kh {
                                for bb in 0..kw {
                                    for c in 0..ci {
                                        let t = v[[a, bb, c, d]].times(&x[[0, i + a, j + bb, c]]);
                                        sum = sum.plus(&t);
                                    }
                                }
                            }
                            formula.push(sum);
                        }
                    }
                }
                let shapes = format!("X: [{h}, {w}, {ci}], V: [{kh}, {kw}, {ci}, {co}]");
                out.push(Sides {
                    shapes: shapes.clone(),
                    left: layer(&x, &v, Some(&b), &spec),
                    right: formula.clone(),
                });
                // The same layer in NCHW / OIHW, its output read back in (N, H', W', C_out).
                let nchw = x
                    .clone()
                    .permuted_axes(IxDyn(&[0, 3, 1, 2]))
                    .as_standard_layout()
                    .to_owned();
                let oihw = v
                    .clone()
                    .permuted_axes(IxDyn(&[3, 2, 0, 1]))
                    .as_standard_layout()
                    .to_owned();
                let y = crate::api::layer::conv(
                    nchw.view(),
                    oihw.view(),
                    Some(b.view()),
                    &LayerSpec::default(),
                )
                .map(|y| {
                    y.permuted_axes(IxDyn(&[0, 2, 3, 1]))
                        .iter()
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
                out.push(Sides {
                    shapes: format!("{shapes}, as NCHW / OIHW"),
                    left: y,
                    right: formula,
                });
            }
        }
    }
    out
}

fn one_by_one_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for (ci, co) in (1..=3).flat_map(|a| (1..=3).map(move |b| (a, b))) {
        for (h, w) in (1..=5).flat_map(|a| (1..=5).map(move |b| (a, b))) {
            let x = variables("x", &[1, ci, h, w]);
            let k = variables("W", &[co, ci, 1, 1]);
            let b = signal("b", co);
            let dense = ArrayD::from_shape_fn(IxDyn(&[1, co, h, w]), |i| {
                (0..ci).fold(b[i[1]].clone(), |acc, c| {
                    acc.plus(&k[[i[1], c, 0, 0]].times(&x[[0, c, i[2], i[3]]]))
                })
            });
            out.push(Sides {
                shapes: format!("x: [{ci}, {h}, {w}], W: [{co}, {ci}]"),
                left: layer(&x, &k, Some(&b), &LayerSpec::default()),
                right: dense.iter().cloned().collect(),
            });
        }
    }
    out
}

/// The sum of the distinct `x` variables in the polynomials (each once): the set of inputs
/// an output reads, as a polynomial that compares as a set.
fn inputs_read(ps: &[&Poly]) -> Poly {
    let mut seen = std::collections::BTreeSet::new();
    for p in ps {
        for (m, _) in p.terms() {
            for (v, _) in m.factors() {
                if v.name() == "x" {
                    seen.insert(v.index().to_vec());
                }
            }
        }
    }
    seen.iter()
        .fold(Poly::zero(), |a, i| a.plus(&Poly::var("x", i)))
}

fn receptive_field_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for n in 1..=8 {
        for k in 1..=3 {
            for (s, d) in (1..=2).flat_map(|s| (1..=2).map(move |d| (s, d))) {
                for (lo, hi) in (0..=2).flat_map(|a| (0..=2).map(move |b| (a, b))) {
                    let x = variables("x", &[1, 1, n]);
                    let w = variables("w", &[1, 1, k]);
                    let spec = LayerSpec {
                        stride: vec![s],
                        dilation: vec![d],
                        padding: Padding::Explicit(vec![(lo, hi)]),
                        ..LayerSpec::default()
                    };
                    let y = layer(&x, &w, None, &spec);
                    if y.is_empty() {
                        continue; // no output (window longer than the padded input)
                    }
                    let left = y.iter().map(|p| inputs_read(&[p])).collect();
                    let right = (0..y.len())
                        .map(|i| {
                            (0..k)
                                .filter_map(|t| (i * s + t * d).checked_sub(lo).filter(|&j| j < n))
                                .fold(Poly::zero(), |a, j| a.plus(&Poly::var("x", &[0, 0, j])))
                        })
                        .collect();
                    out.push(Sides {
                        shapes: format!(
                            "x: [{n}], w: [{k}], stride {s}, dilation {d}, pads ({lo}, {hi})"
                        ),
                        left,
                        right,
                    });
                }
            }
        }
    }
    out
}

fn stacked_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for layers in 1..=3 {
        for k in 1..=3 {
            let reach = layers * (k - 1);
            for n in (reach + 1)..=10 {
                let mut y = variables("x", &[1, 1, n]);
                for l in 0..layers {
                    let w = variables(&format!("w{l}"), &[1, 1, k]);
                    y = crate::api::layer::conv(y.view(), w.view(), None, &LayerSpec::default())
                        .unwrap_or_else(|_| ArrayD::from_elem(IxDyn(&[1, 1, 0]), Poly::zero()));
                }
                let left = y.iter().map(|p| inputs_read(&[p])).collect();
                let right = (0..n - reach)
                    .map(|i| {
                        (i..=i + reach)
                            .fold(Poly::zero(), |a, j| a.plus(&Poly::var("x", &[0, 0, j])))
                    })
                    .collect();
                out.push(Sides {
                    shapes: format!("{layers} layers of {k} taps, x: [{n}]"),
                    left,
                    right,
                });
            }
        }
    }
    out
}

fn dice_cases() -> Vec<Sides> {
    pairs_1d()
        .map(|(n, m)| {
            let (p, q) = (signal("p", n), signal("q", m));
            // Enumerate the outcomes (a, b), adding p(a) q(b) to the total a + b.
            let mut by_sum = vec![Poly::zero(); n + m - 1];
            for a in 0..n {
                for b in 0..m {
                    by_sum[a + b] = by_sum[a + b].plus(&p[a].times(&q[b]));
                }
            }
            Sides {
                shapes: format!("p: [{n}], q: [{m}]"),
                left: by_sum,
                right: full_1d(convolve, &p, &q),
            }
        })
        .collect()
}

fn same_2d(mode: PaddingMode) -> LayerSpec {
    LayerSpec {
        padding: Padding::SameUpper,
        padding_mode: mode,
        ..LayerSpec::default()
    }
}

/// A constant image `c` (one variable everywhere) through a 'same' layer in each mode; the
/// right side is `c * sum(w)` at every output.
fn constant_cases(modes: &[PaddingMode]) -> Vec<Sides> {
    let mut out = Vec::new();
    for &mode in modes {
        for (h, w) in (1..=5).flat_map(|a| (1..=5).map(move |b| (a, b))) {
            for (p, q) in (1..=3).flat_map(|a| (1..=3).map(move |b| (a, b))) {
                let c = Poly::var("c", &[]);
                let x = ArrayD::from_elem(IxDyn(&[1, 1, h, w]), c.clone());
                let k = variables("w", &[1, 1, p, q]);
                let y = layer(&x, &k, None, &same_2d(mode));
                if y.is_empty() {
                    continue; // the mode refuses pads this wide on this image
                }
                let total = k.iter().fold(Poly::zero(), |a, t| a.plus(t));
                out.push(Sides {
                    shapes: format!("{mode:?}, image [{h}, {w}], kernel [{p}, {q}]"),
                    right: vec![c.times(&total); y.len()],
                    left: y,
                });
            }
        }
    }
    out
}

fn constant_image_cases() -> Vec<Sides> {
    constant_cases(&[
        PaddingMode::Reflect,
        PaddingMode::Symmetric,
        PaddingMode::Replicate,
        PaddingMode::Circular,
    ])
}

fn zero_padding_constant_cases() -> Vec<Sides> {
    constant_cases(&[PaddingMode::Zeros])
}

/// `omega^e` reduced modulo `omega^n - 1`, times the rest of each term.
fn reduce_omega(p: &Poly, n: usize) -> Poly {
    let mut out = Poly::zero();
    for (m, c) in p.terms() {
        let mut term = Poly::constant(c.clone());
        for (v, e) in m.factors() {
            let e = if v.name() == "omega" {
                *e as usize % n
            } else {
                *e as usize
            };
            let factor = Poly::var(v.name(), v.index());
            for _ in 0..e {
                term = term.times(&factor);
            }
        }
        out = out.plus(&term);
    }
    out
}

/// `sum_j v[j] omega^(j k)` for `k = 0..n`, reduced modulo `omega^n - 1`.
fn dft(v: &[Poly], n: usize) -> Vec<Poly> {
    let omega = Poly::var("omega", &[]);
    (0..n)
        .map(|k| {
            let mut sum = Poly::zero();
            for (j, x) in v.iter().enumerate() {
                let mut t = x.clone();
                for _ in 0..(j * k) % n {
                    t = t.times(&omega);
                }
                sum = sum.plus(&t);
            }
            reduce_omega(&sum, n)
        })
        .collect()
}

/// The circular convolution of two length-`n` sequences, folded from our full convolution:
/// `(f (*) g)[i] = full[i] + full[i + n]`.
fn circular(f: &Array1<Poly>, g: &Array1<Poly>, n: usize) -> Vec<Poly> {
    let full = full_1d(convolve, f, g);
    (0..n)
        .map(|i| {
            let mut s = Poly::zero();
            let mut j = i;
            while j < full.len() {
                s = s.plus(&full[j]);
                j += n;
            }
            s
        })
        .collect()
}

fn convolution_theorem_cases() -> Vec<Sides> {
    (1..=6)
        .map(|n| {
            let (f, g) = (signal("f", n), signal("g", n));
            let left = dft(&circular(&f, &g, n), n);
            let (ff, gg) = (dft(&f.to_vec(), n), dft(&g.to_vec(), n));
            let right = ff
                .iter()
                .zip(&gg)
                .map(|(a, b)| reduce_omega(&a.times(b), n))
                .collect();
            Sides {
                shapes: format!("N = {n}"),
                left,
                right,
            }
        })
        .collect()
}

fn padded(v: &Array1<Poly>, len: usize) -> Array1<Poly> {
    Array1::from_shape_fn(len, |i| v.get(i).cloned().unwrap_or_else(Poly::zero))
}

fn padded_circular_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for (n, m) in (1..=5).flat_map(|n| (1..=5).map(move |m| (n, m))) {
        for len in [n + m - 1, n + m] {
            let (f, g) = (signal("f", n), signal("g", m));
            let linear = padded(&Array1::from(full_1d(convolve, &f, &g)), len);
            out.push(Sides {
                shapes: format!("f: [{n}], g: [{m}], L = {len}"),
                left: circular(&padded(&f, len), &padded(&g, len), len),
                right: linear.to_vec(),
            });
        }
    }
    out
}

fn unpadded_circular_cases() -> Vec<Sides> {
    (1..=5)
        .flat_map(|n| (1..=5).map(move |m| (n, m)))
        .map(|(n, m)| {
            let len = n.max(m);
            let (f, g) = (signal("f", n), signal("g", m));
            let linear = full_1d(convolve, &f, &g);
            Sides {
                shapes: format!("f: [{n}], g: [{m}], L = {len}"),
                left: circular(&padded(&f, len), &padded(&g, len), len),
                right: linear[..len].to_vec(),
            }
        })
        .collect()
}

fn global_pooling_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    let spec = same_2d(PaddingMode::Circular);
    for (h, w) in (1..=5).flat_map(|a| (1..=5).map(move |b| (a, b))) {
        for (p, q) in (1..=3).flat_map(|a| (1..=3).map(move |b| (a, b))) {
            let x = variables("x", &[1, 1, h, w]);
            let k = variables("w", &[1, 1, p, q]);
            let pooled = |x: &ArrayD<Poly>| {
                layer(x, &k, None, &spec)
                    .iter()
                    .fold(Poly::zero(), |a, t| a.plus(t))
            };
            let plain = pooled(&x);
            for shift in (0..h).flat_map(|a| (0..w).map(move |b| [a, b])) {
                out.push(Sides {
                    shapes: format!("x: [{h}, {w}], w: [{p}, {q}], shift {shift:?}"),
                    left: vec![pooled(&roll2(&x, shift))],
                    right: vec![plain.clone()],
                });
            }
        }
    }
    out
}

/// The layer on channels-last input with an HWIO-style kernel (`(k..., C_in, C_out)`).
fn channels_last() -> LayerSpec {
    LayerSpec {
        input_layout: InputLayout::ChannelsLast,
        kernel_layout: KernelLayout::Hwio,
        ..LayerSpec::default()
    }
}

/// `x` without its first `s` entries along axis 1 (time).
fn drop_frames(x: &ArrayD<Poly>, s: usize) -> ArrayD<Poly> {
    x.slice_axis(Axis(1), ndarray::Slice::from(s..)).to_owned()
}

/// Dropping the first `s` frames (axis 1) of a channels-last input `x_shape` against dropping
/// them from the output, for a kernel `w_shape`; `None` when the layer refuses the shapes.
fn time_shift(x_shape: &[usize], w_shape: &[usize], s: usize) -> Option<Sides> {
    let x = variables("x", x_shape);
    let w = variables("w", w_shape);
    let y = crate::api::layer::conv(x.view(), w.view(), None, &channels_last()).ok()?;
    Some(Sides {
        shapes: format!("x: {:?}, w: {w_shape:?}, s = {s}", &x_shape[1..]),
        left: layer(&drop_frames(&x, s), &w, None, &channels_last()),
        right: drop_frames(&y, s).iter().cloned().collect(),
    })
}

fn audio_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for t in 1..=7 {
        for k in 1..=t.min(3) {
            for (ci, co) in (1..=2).flat_map(|a| (1..=2).map(move |b| (a, b))) {
                for s in 1..=3.min(t - k) {
                    out.extend(time_shift(&[1, t, ci], &[k, ci, co], s));
                }
            }
        }
    }
    out
}

fn spectrogram_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for (t, f) in (1..=5).flat_map(|a| (1..=5).map(move |b| (a, b))) {
        for (kt, kf) in (1..=t.min(3)).flat_map(|a| (1..=f.min(3)).map(move |b| (a, b))) {
            for (ci, co) in (1..=2).flat_map(|a| (1..=2).map(move |b| (a, b))) {
                for s in 1..=2.min(t - kt) {
                    out.extend(time_shift(&[1, t, f, ci], &[kt, kf, ci, co], s));
                }
            }
        }
    }
    out
}

fn text_cases() -> Vec<Sides> {
    let mut out = Vec::new();
    for (l, d) in (1..=6).flat_map(|a| (1..=3).map(move |b| (a, b))) {
        for k in 1..=l.min(3) {
            let x = variables("x", &[1, l, d]); // tokens x embedding dimensions
            let w = variables("w", &[k, d, 1]); // one filter
            let y = layer(&x, &w, None, &channels_last());
            let left = y.iter().map(|p| inputs_read(&[p])).collect();
            let right = (0..l - k + 1)
                .map(|t| {
                    (t..t + k)
                        .flat_map(|i| (0..d).map(move |c| (i, c)))
                        .fold(Poly::zero(), |a, (i, c)| {
                            a.plus(&Poly::var("x", &[0, i, c]))
                        })
                })
                .collect();
            out.push(Sides {
                shapes: format!("text: [{l}, {d}], filter: [{k}, {d}]"),
                left,
                right,
            });
        }
    }
    out
}

/// What `conv-oracle prove` prints for a list of claims, and how many were not as expected.
#[derive(Clone, Debug)]
pub struct ProveReport {
    /// One block per claim, then a summary line.
    pub text: String,
    /// Claims whose check did not come out as expected (a true claim with a counterexample,
    /// or a false claim without one).
    pub failed: usize,
}

/// Checks every claim and reports each as what was checked: a true claim "holds" on the
/// shapes its check covered (the page's human proof covers every size), a false claim is
/// "refuted" by its counterexample, and anything else "FAILED".
pub fn report(claims: &[Claim]) -> ProveReport {
    use std::fmt::Write;
    let mut text = String::new();
    let mut failed = 0;
    for claim in claims {
        let v = claim.check();
        let status = match (claim.expect, v.passed()) {
            (Expect::Holds, true) => "HOLDS",
            (Expect::Fails, true) => "REFUTED",
            (_, false) => "FAILED",
        };
        failed += usize::from(!v.passed());
        let _ = writeln!(text, "{status:<8} {}: {}", claim.name, claim.statement);
        let _ = match (claim.expect, v.passed()) {
            (Expect::Holds, true) => writeln!(
                text,
                "         holds for {} shapes ({}); every size: the proof on page proofs/{}",
                v.shapes, claim.covers, claim.page
            ),
            _ => writeln!(
                text,
                "         {} shapes ({}); page proofs/{}",
                v.shapes, claim.covers, claim.page
            ),
        };
        if let Some(bad) = &v.counterexample {
            let k = bad.first_difference().unwrap_or(0);
            let side = |s: &[Poly]| {
                s.get(k)
                    .map_or_else(|| "(none)".to_string(), Poly::to_string)
            };
            let _ = writeln!(
                text,
                "         {} at {}, output {k}: {} != {}",
                if claim.expect == Expect::Fails {
                    "counterexample (expected: the claim is false)"
                } else {
                    "COUNTEREXAMPLE"
                },
                bad.shapes,
                side(&bad.left),
                side(&bad.right)
            );
        } else if claim.expect == Expect::Fails {
            let _ = writeln!(
                text,
                "         no counterexample found, but the claim is false"
            );
        }
    }
    let _ = writeln!(
        text,
        "prove: {} claims, {} as expected, {failed} not",
        claims.len(),
        claims.len() - failed
    );
    ProveReport { text, failed }
}

/// The text `conv-oracle prove --show NAME` prints: the claim and, for its smallest shape
/// with at least two terms per side (or its counterexample), each output's polynomials on
/// both sides.
pub fn show(claim: &Claim) -> String {
    use std::fmt::Write as _;
    let verdict = claim.check();
    let cases = (claim.cases)();
    let sides = verdict.counterexample.clone().unwrap_or_else(|| {
        cases
            .iter()
            .find(|s| s.left.iter().any(|p| p.len() >= 2))
            .or(cases.first())
            .cloned()
            .unwrap_or(Sides {
                shapes: String::new(),
                left: Vec::new(),
                right: Vec::new(),
            })
    });
    let mut out = format!("{}: {}\n{}\n", claim.name, claim.statement, sides.shapes);
    for (k, (l, r)) in sides.left.iter().zip(&sides.right).enumerate() {
        let mark = if l == r { "=" } else { "!=" };
        let _ = writeln!(out, "  [{k}] {l}\n      {mark} {r}");
    }
    if sides.left.len() != sides.right.len() {
        let _ = writeln!(
            out,
            "  (left has {} outputs, right {})",
            sides.left.len(),
            sides.right.len()
        );
    }
    out
}
