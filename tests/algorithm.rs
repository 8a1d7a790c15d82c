//! Declared algorithms: engines written the way other crates write them (a single-precision
//! FFT on rustfft at power-of-two lengths, Winograd F(2, 3) and F(4, 3) tiles with the
//! published matrices) pass the battery under the model of the algorithm they declare, fail it
//! under the direct model they do not obey, and fail it for the right reason when they carry a
//! planted bug, declare the wrong precision, or declare an algorithm that cannot compute the
//! problem.

use conv_oracle::conformance::{self, Config, ConformanceReport, Tolerance};
use conv_oracle::engine::fft::{FftEngine, declared_model, linear_lengths};
use conv_oracle::engine::{Algorithm, Capabilities, ConvEngine, TransformPrecision, WinogradTile};
use conv_oracle::problem::boundary::pad;
use conv_oracle::testing::Kind;
use conv_oracle::tolerance::Model;
use conv_oracle::{ConvError, Flip, Problem};
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use num_complex::Complex;
use rustfft::FftPlanner;

// ------------------------------------------------------------------- a single-precision FFT

/// How the FFT below goes wrong, if it does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum FftFlaw {
    None,
    /// Keeps 12 significant bits of every output.
    ShortMantissa,
    /// Declares double-precision transforms while computing in single.
    ClaimsDouble,
    /// Declares transforms of half the length it uses.
    ShortDeclaration,
}

/// An FFT convolution as a third party writes one: f32 throughout, complex transforms along
/// each axis at the next power of two above the linear convolution, products summed over
/// channels in the frequency domain, strided outputs picked from the full result.
struct SingleFft {
    flaw: FftFlaw,
}

fn fft_along(a: &mut ArrayD<Complex<f32>>, inverse: bool, planner: &mut FftPlanner<f32>) {
    for axis in 0..a.ndim() {
        let n = a.shape()[axis];
        let fft = if inverse {
            planner.plan_fft_inverse(n)
        } else {
            planner.plan_fft_forward(n)
        };
        for mut lane in a.lanes_mut(Axis(axis)) {
            let mut buf: Vec<Complex<f32>> = lane.iter().copied().collect();
            fft.process(&mut buf);
            for (l, b) in lane.iter_mut().zip(buf) {
                *l = b;
            }
        }
    }
}

/// `src` (real) placed at the origin of a zero array of shape `lengths`.
fn embed(src: ndarray::ArrayViewD<'_, f32>, lengths: &[usize]) -> ArrayD<Complex<f32>> {
    let mut a = ArrayD::<Complex<f32>>::zeros(IxDyn(lengths));
    for (ix, &v) in src.indexed_iter() {
        a[ix] = Complex::new(v, 0.0);
    }
    a
}

impl SingleFft {
    fn lengths(p: &Problem<'_, f32>) -> Result<Vec<usize>, ConvError> {
        Ok(linear_lengths(p)?
            .into_iter()
            .map(usize::next_power_of_two)
            .collect())
    }
}

impl ConvEngine<f32> for SingleFft {
    fn name(&self) -> &str {
        "single-precision fft"
    }

    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        let geo = p.validate()?;
        let lengths = Self::lengths(p)?;
        let rank = lengths.len();
        let mut pads = vec![(0, 0), (0, 0)];
        pads.extend(geo.pads());
        let x = pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits)?;
        let (batch, c_out, cg) = (x.shape()[0], p.weight.shape()[0], p.weight.shape()[1]);
        let og = c_out / p.spec.groups;
        let mut planner = FftPlanner::<f32>::new();
        // Dilated kernels, reversed for cross-correlation, transformed once per (o, c).
        let kernels: Vec<ArrayD<Complex<f32>>> = p
            .weight
            .outer_iter()
            .flat_map(|wo| wo.outer_iter().map(|w| w.to_owned()).collect::<Vec<_>>())
            .map(|w| {
                let mut k = ArrayD::<f32>::zeros(IxDyn(
                    &geo.axes
                        .iter()
                        .map(|a| a.effective_kernel())
                        .collect::<Vec<_>>(),
                ));
                for (ix, &v) in w.indexed_iter() {
                    let at: Vec<usize> = (0..rank).map(|a| ix[a] * geo.axes[a].dilation).collect();
                    k[IxDyn(&at)] = v;
                }
                if p.spec.flip == Flip::Correlation {
                    for a in 0..rank {
                        k.invert_axis(Axis(a));
                    }
                }
                let mut f = embed(k.view(), &lengths);
                fft_along(&mut f, false, &mut planner);
                f
            })
            .collect();
        let scale = 1.0 / lengths.iter().product::<usize>() as f32;
        let out = geo.output_shape();
        let mut y = ArrayD::<f32>::zeros(IxDyn(&[&[batch, c_out][..], &out].concat()));
        for n in 0..batch {
            let spectra: Vec<ArrayD<Complex<f32>>> = x
                .index_axis(Axis(0), n)
                .outer_iter()
                .map(|xc| {
                    let mut f = embed(xc, &lengths);
                    fft_along(&mut f, false, &mut planner);
                    f
                })
                .collect();
            for o in 0..c_out {
                let g = o / og;
                let mut acc = ArrayD::<Complex<f32>>::zeros(IxDyn(&lengths));
                for c in 0..cg {
                    Zip::from(&mut acc)
                        .and(&spectra[g * cg + c])
                        .and(&kernels[o * cg + c])
                        .for_each(|a, &s, &k| *a += s * k);
                }
                fft_along(&mut acc, true, &mut planner);
                let bias = p.bias.as_ref().map_or(0.0, |b| b[o]);
                for (ix, v) in y
                    .index_axis_mut(Axis(0), n)
                    .index_axis_mut(Axis(0), o)
                    .indexed_iter_mut()
                {
                    let at: Vec<usize> = (0..rank)
                        .map(|a| ix[a] * geo.axes[a].stride + geo.axes[a].effective_kernel() - 1)
                        .collect();
                    let mut r = acc[IxDyn(&at)].re * scale + bias;
                    if self.flaw == FftFlaw::ShortMantissa {
                        r = f32::from_bits(r.to_bits() & !0xfff);
                    }
                    *v = r;
                }
            }
        }
        Ok(y)
    }

    fn capabilities(&self) -> Capabilities {
        // NaN and infinities spread through a transform to every output.
        Capabilities {
            special_values: false,
            ..Capabilities::all()
        }
    }

    fn algorithm(&self, p: &Problem<'_, f32>) -> Algorithm {
        let Ok(lengths) = Self::lengths(p) else {
            return Algorithm::Direct;
        };
        match self.flaw {
            FftFlaw::ClaimsDouble => Algorithm::fft(TransformPrecision::Double, lengths),
            FftFlaw::ShortDeclaration => Algorithm::fft(
                TransformPrecision::Single,
                lengths.iter().map(|l| l / 2).collect(),
            ),
            _ => Algorithm::fft(TransformPrecision::Single, lengths),
        }
    }
}

fn config(cases: u32) -> Config<f32> {
    Config {
        cases,
        ..Config::default()
    }
}

/// The report fails on a bound, against the oracle, and every failure is a wrong number: a
/// bound exceeded, or two runs of a metamorphic relation that disagree.
fn fails_as_numbers(r: &ConformanceReport) {
    assert!(r.failures().any(|c| c.kind == Kind::BoundExceeded), "{r}");
    for c in r.failures() {
        assert!(
            matches!(c.kind, Kind::BoundExceeded | Kind::Mismatch),
            "{}: {r}",
            c.kind.name()
        );
    }
}

/// Problems judged under `feature` in the report's coverage.
fn judged_under(r: &ConformanceReport, feature: &str) -> usize {
    r.coverage
        .iter()
        .find(|f| f.feature == feature)
        .map_or(0, |f| f.checked)
}

#[test]
fn a_single_precision_fft_passes_under_its_declared_model() {
    let r = conformance::check(
        &SingleFft {
            flaw: FftFlaw::None,
        },
        &config(128),
    );
    r.assert_passed();
    assert!(judged_under(&r, "algorithm fft") >= 128, "{r}");
}

#[test]
fn the_same_fft_fails_the_direct_model_it_does_not_obey() {
    let direct = Config {
        tolerance: Tolerance::Model(Model::Componentwise),
        ..config(128)
    };
    let r = conformance::check(
        &SingleFft {
            flaw: FftFlaw::None,
        },
        &direct,
    );
    assert!(
        r.failures().any(|c| c.kind == Kind::BoundExceeded),
        "an f32 FFT obeys no componentwise bound on cancelling data:\n{r}"
    );
}

#[test]
fn an_fft_that_drops_output_bits_exceeds_its_bound() {
    let r = conformance::check(
        &SingleFft {
            flaw: FftFlaw::ShortMantissa,
        },
        &config(128),
    );
    fails_as_numbers(&r);
}

#[test]
fn an_fft_that_claims_double_precision_exceeds_the_double_bound() {
    let r = conformance::check(
        &SingleFft {
            flaw: FftFlaw::ClaimsDouble,
        },
        &config(128),
    );
    fails_as_numbers(&r);
}

#[test]
fn lengths_that_cannot_hold_the_input_are_misdeclared() {
    let r = conformance::check(
        &SingleFft {
            flaw: FftFlaw::ShortDeclaration,
        },
        &config(64),
    );
    assert!(r.failures().any(|c| c.kind == Kind::Misdeclared), "{r}");
    for c in r.failures() {
        assert!(
            c.detail.contains("cannot hold its padded input"),
            "{}",
            c.detail
        );
    }
}

#[test]
fn the_bound_grows_with_the_declared_lengths_and_precision() {
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 20]), |ix| (ix[2] as f32 - 9.5) / 3.0);
    let w = ArrayD::from_shape_fn(IxDyn(&[3, 2, 5]), |ix| ix[0] as f32 - ix[2] as f32);
    let p = Problem::new(x.view(), w.view());
    let bound = |precision, len| match declared_model(&p, precision, &[len], 1).unwrap() {
        Model::Normwise { bound } => bound,
        m => panic!("{m:?}"),
    };
    let single = TransformPrecision::Single;
    assert!(bound(single, 32) < bound(single, 1024));
    assert!(bound(TransformPrecision::Double, 32) < bound(single, 32));
    // Shorter than the input (20): one transform cannot hold it.
    assert!(matches!(
        declared_model(&p, single, &[16], 1),
        Err(ConvError::Unsupported { .. })
    ));
    // Single-precision transforms of f64 data are not modelled.
    let x64 = x.mapv(f64::from);
    let w64 = w.mapv(f64::from);
    let p64 = Problem::new(x64.view(), w64.view());
    assert!(matches!(
        declared_model(&p64, single, &[32], 1),
        Err(ConvError::Unsupported { .. })
    ));
}

/// The crate's FFT engine declares its own lengths, and the declared model at those lengths
/// is the engine's own normwise model.
#[test]
fn the_fft_engine_declares_the_lengths_it_plans() {
    let x = ArrayD::from_shape_fn(IxDyn(&[2, 3, 7, 9]), |ix| {
        ((ix[1] * 31 + ix[2] * 7 + ix[3]) % 13) as f64 - 6.0
    });
    let w = ArrayD::from_shape_fn(IxDyn(&[4, 3, 3, 2]), |ix| ix[0] as f64 - ix[3] as f64 + 0.5);
    let p = Problem::new(x.view(), w.view());
    let engine = FftEngine::default();
    let declared = engine.algorithm(&p);
    assert!(matches!(declared, Algorithm::Fft { .. }), "{declared:?}");
    assert_eq!(
        declared.model(&p).unwrap(),
        engine.normwise_model(&p).unwrap()
    );
}

// ------------------------------------------------------------------------------ Winograd

/// A matrix as rows.
type Matrix = Vec<Vec<f32>>;

/// A tile's `A^T`, `G` and `B^T`.
type Transforms = (Matrix, Matrix, Matrix);

/// The published F(2, 3) matrices (Lavin and Gray, 2016): `A^T`, `G`, `B^T`.
fn f23() -> Transforms {
    (
        vec![vec![1.0, 1.0, 1.0, 0.0], vec![0.0, 1.0, -1.0, -1.0]],
        vec![
            vec![1.0, 0.0, 0.0],
            vec![0.5, 0.5, 0.5],
            vec![0.5, -0.5, 0.5],
            vec![0.0, 0.0, 1.0],
        ],
        vec![
            vec![1.0, 0.0, -1.0, 0.0],
            vec![0.0, 1.0, 1.0, 0.0],
            vec![0.0, -1.0, 1.0, 0.0],
            vec![0.0, 1.0, 0.0, -1.0],
        ],
    )
}

/// The published F(4, 3) matrices (Lavin and Gray, 2016).
fn f43(g_sixth: f32) -> Transforms {
    let s = g_sixth;
    (
        vec![
            vec![1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
            vec![0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
            vec![0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
            vec![0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
        ],
        vec![
            vec![0.25, 0.0, 0.0],
            vec![-s, -s, -s],
            vec![-s, s, -s],
            vec![1.0 / 24.0, 1.0 / 12.0, s],
            vec![1.0 / 24.0, -1.0 / 12.0, s],
            vec![0.0, 0.0, 1.0],
        ],
        vec![
            vec![4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
            vec![0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
            vec![0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
            vec![0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
            vec![0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
            vec![0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
        ],
    )
}

/// Multiplies every axis of `t` by `mat` (rows x `t`'s length), in f32.
fn along(mut t: ArrayD<f32>, mat: &[Vec<f32>]) -> ArrayD<f32> {
    for a in 0..t.ndim() {
        let mut shape = t.shape().to_vec();
        shape[a] = mat.len();
        let mut next = ArrayD::<f32>::zeros(IxDyn(&shape));
        Zip::from(next.lanes_mut(Axis(a)))
            .and(t.lanes(Axis(a)))
            .for_each(|mut out, inp| {
                for (o, row) in out.iter_mut().zip(mat) {
                    *o = row.iter().zip(inp.iter()).map(|(c, v)| c * v).sum();
                }
            });
        t = next;
    }
    t
}

/// A Winograd engine in f32: tiles of `m` outputs for 3-tap kernels with stride and dilation
/// 1 in ranks 1 and 2; direct f32 sums for everything else.
struct Winograd {
    m: usize,
    mats: Transforms,
    /// Declares this tile for every problem, whatever it computes.
    declare_always: bool,
}

impl Winograd {
    fn f23() -> Self {
        Winograd {
            m: 2,
            mats: f23(),
            declare_always: false,
        }
    }
    fn f43() -> Self {
        Winograd {
            m: 4,
            mats: f43(1.0 / 6.0),
            declare_always: false,
        }
    }
    fn tile(&self) -> WinogradTile {
        WinogradTile::new(self.m, 3).expect("a valid tile")
    }
    fn tiled(&self, p: &Problem<'_, f32>) -> bool {
        p.input.ndim() <= 4 && self.tile().fits(p).is_ok()
    }
}

impl ConvEngine<f32> for Winograd {
    fn name(&self) -> &str {
        "winograd"
    }

    fn conv(&self, p: &Problem<'_, f32>) -> Result<ArrayD<f32>, ConvError> {
        let geo = p.validate()?;
        let rank = geo.axes.len();
        let mut pads = vec![(0, 0), (0, 0)];
        pads.extend(geo.pads());
        let x = pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits)?;
        let mut w = p.weight.to_owned();
        if p.spec.flip == Flip::Convolution {
            for a in 0..rank {
                w.invert_axis(Axis(a + 2));
            }
        }
        let (batch, c_out, cg) = (x.shape()[0], w.shape()[0], w.shape()[1]);
        let og = c_out / p.spec.groups;
        let out = geo.output_shape();
        let mut y = ArrayD::<f32>::zeros(IxDyn(&[&[batch, c_out][..], &out].concat()));
        if !self.tiled(p) {
            // Direct f32 sums.
            for (ix, v) in y.indexed_iter_mut() {
                let (n, o) = (ix[0], ix[1]);
                let g = o / og;
                let mut s = p.bias.as_ref().map_or(0.0, |b| b[o]);
                for (kx, &wv) in w.index_axis(Axis(0), o).indexed_iter() {
                    let mut at = vec![n, g * cg + kx[0]];
                    for a in 0..rank {
                        at.push(ix[a + 2] * geo.axes[a].stride + kx[a + 1] * geo.axes[a].dilation);
                    }
                    s += wv * x[IxDyn(&at)];
                }
                *v = s;
            }
            return Ok(y);
        }
        let (a_t, g_m, b_t) = &self.mats;
        let alpha = self.m + 2;
        let u: Vec<ArrayD<f32>> = w
            .outer_iter()
            .flat_map(|wo| {
                wo.outer_iter()
                    .map(|k| along(k.to_owned(), g_m))
                    .collect::<Vec<_>>()
            })
            .collect();
        let tiles: Vec<usize> = out.iter().map(|&o| o.div_ceil(self.m)).collect();
        let count: usize = tiles.iter().product();
        for n in 0..batch {
            for t in 0..count {
                let mut origin = vec![0; rank];
                let mut rest = t;
                for a in (0..rank).rev() {
                    origin[a] = (rest % tiles[a]) * self.m;
                    rest /= tiles[a];
                }
                let v: Vec<ArrayD<f32>> = (0..x.shape()[1])
                    .map(|c| {
                        let d = ArrayD::from_shape_fn(IxDyn(&vec![alpha; rank]), |ix| {
                            let mut at = vec![n, c];
                            at.extend((0..rank).map(|a| origin[a] + ix[a]));
                            x.get(IxDyn(&at)).copied().unwrap_or(0.0)
                        });
                        along(d, b_t)
                    })
                    .collect();
                for o in 0..c_out {
                    let g = o / og;
                    let mut m = ArrayD::<f32>::zeros(IxDyn(&vec![alpha; rank]));
                    for c in 0..cg {
                        Zip::from(&mut m)
                            .and(&u[o * cg + c])
                            .and(&v[g * cg + c])
                            .for_each(|s, &a, &b| *s += a * b);
                    }
                    let tile = along(m, a_t);
                    let bias = p.bias.as_ref().map_or(0.0, |b| b[o]);
                    for (ix, &val) in tile.indexed_iter() {
                        let mut at = vec![n, o];
                        at.extend((0..rank).map(|a| origin[a] + ix[a]));
                        if let Some(slot) = y.get_mut(IxDyn(&at)) {
                            *slot = val + bias;
                        }
                    }
                }
            }
        }
        Ok(y)
    }

    fn capabilities(&self) -> Capabilities {
        // Infinities meet the transforms' zeros: NaN where the definition has none.
        Capabilities {
            special_values: false,
            ..Capabilities::all()
        }
    }

    fn algorithm(&self, p: &Problem<'_, f32>) -> Algorithm {
        if self.declare_always || self.tiled(p) {
            Algorithm::Winograd(self.tile())
        } else {
            Algorithm::Direct
        }
    }
}

/// Problems Winograd computes: 3-tap kernels, stride and dilation 1, ranks 1 and 2.
fn winograd_config(cases: u32) -> Config<f32> {
    config(cases)
}

#[test]
fn winograd_tiles_pass_under_their_declared_model() {
    for engine in [Winograd::f23(), Winograd::f43()] {
        let r = conformance::check(&engine, &winograd_config(128));
        r.assert_passed();
        let tiled = format!("algorithm winograd F({}, 3)", engine.m);
        assert!(judged_under(&r, &tiled) >= 20, "{tiled}: {r}");
        assert!(judged_under(&r, "algorithm direct") >= 20, "{r}");
    }
}

/// Shows the tiles are exercised: on a 3x3 problem the engine is not the direct sum.
#[test]
fn winograd_tiles_are_taken_and_differ_from_direct_sums() {
    let x = ArrayD::from_shape_fn(IxDyn(&[1, 2, 9, 9]), |ix| {
        1.0 + ((ix[1] * 37 + ix[2] * 11 + ix[3] * 5) % 17) as f32 / 7.0
    });
    let w = ArrayD::from_shape_fn(IxDyn(&[2, 2, 3, 3]), |ix| {
        ((ix[0] + ix[1] * 3 + ix[2] * 2 + ix[3]) % 5) as f32 / 3.0 - 0.6
    });
    let p = Problem::new(x.view(), w.view());
    let engine = Winograd::f43();
    assert!(engine.tiled(&p));
    let tiled = engine.conv(&p).unwrap();
    let exact = conv_oracle::engine::exact::ExactEngine::default()
        .conv(&p)
        .unwrap();
    let model = engine.algorithm(&p).model(&p).unwrap();
    let report = conv_oracle::oracle::judge(&p, tiled.view(), &model).unwrap();
    assert!(report.passed(), "{report}");
    assert_ne!(tiled, exact, "F(4, 3) in f32 is not correctly rounded here");
}

#[test]
fn winograd_f43_fails_the_direct_model_it_does_not_obey() {
    let direct = Config {
        tolerance: Tolerance::Model(Model::Componentwise),
        ..winograd_config(128)
    };
    let r = conformance::check(&Winograd::f43(), &direct);
    assert!(
        r.failures().any(|c| c.kind == Kind::BoundExceeded),
        "F(4, 3) amplifies rounding errors beyond any direct summation:\n{r}"
    );
}

#[test]
fn a_wrong_transform_constant_exceeds_the_winograd_bound() {
    // 1/6 stored with 12 significant bits instead of 24.
    let sixth = f32::from_bits((1.0f32 / 6.0).to_bits() & !0xfff);
    let engine = Winograd {
        mats: f43(sixth),
        ..Winograd::f43()
    };
    let r = conformance::check(&engine, &winograd_config(128));
    fails_as_numbers(&r);
}

#[test]
fn a_tile_declared_for_a_kernel_it_cannot_compute_is_misdeclared() {
    let engine = Winograd {
        declare_always: true,
        ..Winograd::f23()
    };
    let r = conformance::check(&engine, &winograd_config(64));
    assert!(r.failures().any(|c| c.kind == Kind::Misdeclared), "{r}");
}

/// The declared bounds are not vacuous: on uniform data in (-1, 1) with four channels and
/// 3x3 kernels, the worst observed error reaches 1e-4 of each bound (measured: about
/// 1e-2 for F(2, 3), 5e-3 for F(4, 3), 8e-4 for the single-precision FFT), and every output
/// passes.
#[test]
fn declared_bounds_are_approached() {
    let mut worst = [0f64; 3];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0
    };
    for _ in 0..200 {
        let x = ArrayD::from_shape_fn(IxDyn(&[1, 4, 12, 12]), |_| next() as f32);
        let w = ArrayD::from_shape_fn(IxDyn(&[2, 4, 3, 3]), |_| next() as f32);
        let p = Problem::new(x.view(), w.view());
        let engines: [&dyn ConvEngine<f32>; 3] = [
            &Winograd::f23(),
            &Winograd::f43(),
            &SingleFft {
                flaw: FftFlaw::None,
            },
        ];
        for (slot, e) in worst.iter_mut().zip(engines) {
            let y = e.conv(&p).unwrap();
            let model = e.algorithm(&p).model(&p).unwrap();
            let r = conv_oracle::oracle::judge(&p, y.view(), &model).unwrap();
            assert!(r.passed(), "{}: {r}", e.name());
            *slot = slot.max(r.max_ratio);
        }
    }
    println!(
        "worst error / bound: F(2, 3) {:.2e}, F(4, 3) {:.2e}, fft {:.2e}",
        worst[0], worst[1], worst[2]
    );
    for (w, name) in worst.iter().zip(["F(2, 3)", "F(4, 3)", "fft"]) {
        assert!(*w >= 1e-4, "{name}: worst ratio {w:e}");
    }
}

// ------------------------------------------------------------------- transposed convolution

/// A transposed convolution computed by an FFT or a Winograd engine on its zero-stuffed direct
/// form declares that engine's algorithm there, and the transposed battery holds it to that
/// model: both pass, and F(4, 3) fails the direct model of the scatter's sums.
#[test]
fn transposed_engines_are_judged_by_their_declared_algorithm() {
    use conformance::transpose::check_transpose;
    use conv_oracle::engine::Stuffed;
    let fft = check_transpose(
        &Stuffed::new(SingleFft {
            flaw: FftFlaw::None,
        }),
        &config(64),
    );
    fft.assert_passed();
    assert!(judged_under(&fft, "algorithm fft") >= 64, "{fft}");
    let tiles = check_transpose(&Stuffed::new(Winograd::f43()), &config(64));
    tiles.assert_passed();
    assert!(
        judged_under(&tiles, "algorithm winograd F(4, 3)") > 0,
        "{tiles}"
    );
    let direct = Config {
        tolerance: Tolerance::Model(Model::Componentwise),
        ..config(64)
    };
    let r = check_transpose(&Stuffed::new(Winograd::f43()), &direct);
    assert!(r.failures().any(|c| c.kind == Kind::BoundExceeded), "{r}");
}
