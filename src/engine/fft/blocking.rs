//! The axis plans: transform length and overlap-add blocks per spatial axis ([`Blocking`]),
//! chosen with the cost model.

use super::element::FftElement;
use super::path::Fallback;
use super::transforms::Work;
use super::transforms::axis_len;
use super::{FftEngine, Mutation};
use crate::engine::cost::{CostModel, FftShape};
use crate::problem::geometry::{Geometry, product};
use crate::problem::{Boundary, ConvError, Problem};

/// How the engine splits the signal along each spatial axis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Blocking {
    /// One transform covering the whole signal on every axis.
    #[default]
    Whole,
    /// Overlap-add: on each axis, blocks of the transform length the cost model predicts to be
    /// fastest for the whole problem (an axis stays whole when that is fastest).
    OverlapAdd,
    /// Overlap-add with transform lengths of at most this many points per axis where possible
    /// (bounded memory; also how the tests force blocks on small problems). An axis whose
    /// kernel needs a longer transform uses the shortest one it can.
    Capped(usize),
}

/// One spatial axis of the FFT computation.
#[derive(Clone, Copy, Debug)]
pub(super) struct AxisPlan {
    /// Length of the signal (padded input for non-zero boundaries, input for zeros).
    pub(super) signal: usize,
    /// Kernel taps and dilation.
    pub(super) kernel: usize,
    pub(super) dilation: usize,
    pub(super) stride: usize,
    /// Leading zero pad not materialised (zero boundary), else 0.
    shift: usize,
    /// Output length.
    pub(super) out: usize,
    /// Outputs `first..=last` read the linear convolution inside its support; the others
    /// read only zeros. `first > last`: none does.
    pub(super) first: usize,
    pub(super) last: usize,
    /// Transform length.
    pub(super) len: usize,
    /// Signal samples per block: `signal` when the axis is transformed whole.
    pub(super) block: usize,
}

/// The outputs one block writes on one axis: outputs `p0 .. p0 + count` read elements
/// `z0, z0 + stride, ...` of the block's inverse transform.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    pub(super) p0: usize,
    pub(super) count: usize,
    pub(super) z0: usize,
}

impl AxisPlan {
    pub(super) fn extent(&self) -> usize {
        self.dilation * (self.kernel - 1) + 1
    }

    pub(super) fn blocks(&self) -> usize {
        self.signal.div_ceil(self.block)
    }

    /// Most blocks whose windows cover one output (`k_a` of docs/numerics.md section 10.8).
    pub(super) fn overlap(&self) -> usize {
        if self.blocks() == 1 {
            1
        } else {
            (self.block + self.extent() - 2) / self.block + 1
        }
    }

    /// The outputs block `b` contributes to. Output `p` reads element
    /// `p * stride + extent - 1 - shift` of the linear convolution; block `b` (samples
    /// `start .. start + n`) covers elements `start ..= start + n + extent - 2` of it.
    pub(super) fn window(&self, b: usize, mutation: Mutation) -> Option<Window> {
        let (e, sh, st) = (
            self.extent() as i128,
            self.shift as i128,
            self.stride as i128,
        );
        let start = (b * self.block) as i128;
        let n = (self.block.min(self.signal - b * self.block)) as i128;
        let p_lo = (start - (e - 1) + sh).max(0);
        let p_lo = ((p_lo + st - 1) / st).max(self.first as i128);
        let p_hi = ((start + n - 1 + sh) / st).min(self.last as i128);
        if p_lo > p_hi {
            return None;
        }
        let mut z0 = p_lo * st + e - 1 - sh - start;
        if mutation.crop_off_by_one() {
            z0 += 1;
        }
        Some(Window {
            p0: usize::try_from(p_lo).ok()?,
            count: usize::try_from(p_hi - p_lo + 1).ok()?,
            z0: usize::try_from(z0).ok()?,
        })
    }
}

/// The plan of one axis, transformed whole, or `None` when its transform length would exceed
/// `max_len` (then the engine uses the reference). All length arithmetic is done in `i128`:
/// absurd dilations and pads pass validation and must not overflow here.
fn axis_plan(
    geo: &crate::problem::geometry::AxisGeometry,
    zero_boundary: bool,
    real_last: bool,
    mutation: Mutation,
    max_len: u128,
) -> Option<AxisPlan> {
    let (signal, shift) = if zero_boundary {
        (geo.input, geo.pad_lo)
    } else {
        // Cannot overflow: the geometry computed this padded length.
        (geo.input + geo.pad_lo + geo.pad_hi, 0)
    };
    let extent = geo.effective_kernel();
    let mut a = AxisPlan {
        signal,
        kernel: geo.kernel,
        dilation: geo.dilation,
        stride: geo.stride,
        shift,
        out: geo.output,
        first: 0,
        last: 0,
        len: 1,
        block: signal,
    };
    let (s, e, sh, st) = (
        signal as i128,
        extent as i128,
        shift as i128,
        geo.stride as i128,
    );
    // Support of the linear convolution: 0 ..= signal + extent - 2. Output p reads
    // p * stride + extent - 1 - shift.
    let top = s + e - 2;
    let first = if sh > e - 1 {
        (sh - (e - 1) + st - 1) / st
    } else {
        0
    };
    let last = ((s - 1 + sh) / st).min(geo.output as i128 - 1);
    if first > last {
        a.first = 1;
        a.last = 0;
        return Some(a);
    }
    a.first = usize::try_from(first).ok()?;
    a.last = usize::try_from(last).ok()?;
    let read = |p: usize| (p as i128) * st + e - 1 - sh;
    let (lo, hi) = (read(a.first), read(a.last));
    // No alias of a read index may fall inside the support: L > hi and L > top - lo; and
    // signal and (dilated) kernel must fit, so that they are placed without aliasing.
    let needed = if mutation.short_transform() {
        s.max(e)
    } else {
        (hi + 1).max(top + 1 - lo).max(e).max(s)
    };
    if needed as u128 > max_len {
        return None;
    }
    a.len = axis_len(usize::try_from(needed).ok()?, real_last)?;
    Some(a)
}

/// Candidate blockings of one axis for overlap-add: the whole axis, and transform lengths
/// `2^a` and `3 * 2^a` from twice the kernel extent up to the whole-axis length.
fn block_candidates(a: &AxisPlan, real_last: bool) -> Vec<AxisPlan> {
    let mut out = vec![*a];
    if a.first > a.last {
        return out;
    }
    let e = a.extent();
    let mut len = 4usize;
    while len < a.len {
        for l in [len, len / 2 * 3] {
            if l >= 2 * e && l < a.len && (!real_last || l % 2 == 0) {
                let block = l - e + 1;
                if block < a.signal {
                    out.push(AxisPlan {
                        len: l,
                        block,
                        ..*a
                    });
                }
            }
        }
        len = match len.checked_mul(2) {
            Some(l) => l,
            None => break,
        };
    }
    out
}

/// Batch and channel counts, for the cost model.
#[derive(Clone, Copy, Debug)]
struct Channels {
    batch: usize,
    c_in: usize,
    c_out: usize,
    cg: usize,
    real: bool,
}

/// Overlap-add: the combination of per-axis blockings with the least predicted time.
/// `cap`: keep only candidates whose transform length is at most `cap` (the shortest one
/// when there is none).
fn choose_blocks(axes: &[AxisPlan], ch: Channels, cost: &CostModel, cap: usize) -> Vec<AxisPlan> {
    let rank = axes.len();
    let candidates: Vec<Vec<AxisPlan>> = axes
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let all = block_candidates(a, ch.real && i + 1 == rank);
            let within: Vec<AxisPlan> = all.iter().copied().filter(|c| c.len <= cap).collect();
            if within.is_empty() {
                all.into_iter().min_by_key(|c| c.len).into_iter().collect()
            } else {
                within
            }
        })
        .collect();
    let mut best: Vec<AxisPlan> = candidates.iter().map(|c| c[0]).collect();
    let mut best_cost = predict(&best, ch, cost);
    let mut idx = vec![0usize; rank];
    // At most a few dozen candidates per axis; bound the search for high ranks.
    let combos: usize = candidates.iter().map(|c| c.len()).product();
    if combos > 100_000 {
        return best;
    }
    loop {
        let pick: Vec<AxisPlan> = idx.iter().zip(&candidates).map(|(&i, c)| c[i]).collect();
        let t = predict(&pick, ch, cost);
        if t < best_cost {
            best_cost = t;
            best = pick;
        }
        let mut a = rank;
        loop {
            if a == 0 {
                return best;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < candidates[a].len() {
                break;
            }
            idx[a] = 0;
        }
    }
}

/// The cost model's prediction (seconds) for transforms with these axis plans.
fn predict(axes: &[AxisPlan], ch: Channels, cost: &CostModel) -> f64 {
    cost.fft_seconds(&shape_of(axes, ch))
}

fn shape_of(axes: &[AxisPlan], ch: Channels) -> FftShape {
    FftShape {
        lengths: axes.iter().map(|a| a.len).collect(),
        real: ch.real,
        blocks: axes.iter().map(|a| a.blocks() as f64).product(),
        batch: ch.batch,
        c_in: ch.c_in,
        c_out: ch.c_out,
        cg: ch.cg,
        outputs: axes.iter().map(|a| a.out as f64).product(),
    }
}

impl FftEngine {
    /// The predicted time of the transform path for a problem, in seconds of this machine
    /// ([`CostModel`]), or `None` when the problem takes the reference path.
    pub fn predicted_seconds<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<Option<f64>, ConvError> {
        let geo = p.validate_geometry()?;
        let Ok(axes) = self.layout(p, &geo) else {
            return Ok(None);
        };
        let ch = Channels {
            batch: p.input.shape()[0],
            c_in: p.input.shape()[1],
            c_out: p.weight.shape()[0],
            cg: p.weight.shape()[1],
            real: <T::W as Work>::REAL,
        };
        Ok(Some(predict(&axes, ch, &self.cost)))
    }

    /// The features of [`CostModel::fft_features`] for this problem with the transform
    /// lengths and blocks this engine would use (`None` when it takes the reference path for
    /// a reason visible in the geometry). For fitting the cost model.
    pub fn cost_features<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
    ) -> Result<Option<[f64; 4]>, ConvError> {
        let geo = p.validate_geometry()?;
        let Ok(axes) = self.layout(p, &geo) else {
            return Ok(None);
        };
        let ch = Channels {
            batch: p.input.shape()[0],
            c_in: p.input.shape()[1],
            c_out: p.weight.shape()[0],
            cg: p.weight.shape()[1],
            real: <T::W as Work>::REAL,
        };
        Ok(Some(CostModel::fft_features(&shape_of(&axes, ch))))
    }

    /// The axis plans (transform lengths and blocks) of a validated problem: geometry only,
    /// no data is read.
    pub(super) fn layout<T: FftElement>(
        &self,
        p: &Problem<'_, T>,
        geo: &Geometry,
    ) -> Result<Vec<AxisPlan>, Fallback> {
        let mutation = self.mutation;
        let rank = geo.axes.len();
        if rank == 0 {
            return Err(Fallback::NoSpatialAxes);
        }
        let zero_boundary = is_zero_boundary(&p.spec.boundary);
        let real = <T::W as Work>::REAL;
        let max_len = p.spec.limits.max_elements;
        let axes: Option<Vec<AxisPlan>> = geo
            .axes
            .iter()
            .enumerate()
            .map(|(i, g)| axis_plan(g, zero_boundary, real && i + 1 == rank, mutation, max_len))
            .collect();
        let Some(mut axes) = axes else {
            return Err(Fallback::Memory);
        };
        let (batch, c_in) = (p.input.shape()[0], p.input.shape()[1]);
        let (c_out, cg) = (p.weight.shape()[0], p.weight.shape()[1]);
        if self.blocking != Blocking::Whole {
            let shape = Channels {
                batch,
                c_in,
                c_out,
                cg,
                real,
            };
            let cap = match self.blocking {
                Blocking::Capped(cap) => cap,
                _ => usize::MAX,
            };
            axes = choose_blocks(&axes, shape, &self.cost, cap);
        }
        // Memory: the kernel and input spectra, two work buffers and the data buffers.
        let spectrum = product(axes.iter().enumerate().map(|(i, a)| {
            if real && i + 1 == rank {
                a.len / 2 + 1
            } else {
                a.len
            }
        }));
        let full = product(axes.iter().map(|a| a.len));
        let outputs = product(axes.iter().map(|a| a.out));
        let needed = spectrum
            .and_then(|s| s.checked_mul((c_out * cg + c_in + 4) as u128))
            .zip(full.and_then(|f| f.checked_mul(2)))
            .zip(outputs.and_then(|o| o.checked_mul(c_out as u128)))
            .map(|((a, b), c)| a.max(b).max(c));
        match needed {
            Some(n) if n <= p.spec.limits.max_elements => {}
            _ => return Err(Fallback::Memory),
        }
        Ok(axes)
    }
}

/// Zero padding (an index shift, never materialised).
pub(super) fn is_zero_boundary<T: FftElement>(b: &Boundary<T>) -> bool {
    match b {
        Boundary::Zeros => true,
        Boundary::Constant(c) => c.lift().magnitude() == 0.0,
        _ => false,
    }
}
