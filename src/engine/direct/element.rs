//! The element types: the accumulator each one sums in, its exact widening and final
//! rounding, and the tiled row kernel of the direct engine's sum.

use crate::scalar::Ring;
use num_complex::Complex;

type C64 = Complex<f64>;

/// The accumulator domain: `f64`, `Complex<f64>` or `i64`.
pub trait Acc: Copy + Default + Send + Sync + 'static {
    /// `self + w * x`: the reference's `acc.plus(&w.times(x))`, the same operations.
    fn madd(self, w: Self, x: Self) -> Self;
}

impl Acc for f64 {
    #[inline(always)]
    fn madd(self, w: f64, x: f64) -> f64 {
        self + w * x
    }
}

impl Acc for C64 {
    #[inline(always)]
    fn madd(self, w: C64, x: C64) -> C64 {
        // num_complex: (w.re x.re - w.im x.im, w.re x.im + w.im x.re), then the sum.
        self + w * x
    }
}

impl Acc for i64 {
    #[inline(always)]
    fn madd(self, w: i64, x: i64) -> i64 {
        self.wrapping_add(w.wrapping_mul(x))
    }
}

/// An element type: its accumulator, the conversions, and the row kernel.
pub trait Element: Ring + Copy + Default + Send + Sync {
    /// Where sums are accumulated.
    type W: Acc;
    /// Exact widening.
    fn lift(self) -> Self::W;
    /// The result from the accumulated value (one rounding for the f32 types).
    fn finish(w: Self::W) -> Self;
    /// Adds the taps of several source rows, in order: for each `(src, w)` of `rows` in
    /// order, each tap `t` and each `j < acc.len()`,
    /// `acc[j] = acc[j].madd(w[t], lift(src[offsets[t] + j]))`.
    fn rows(acc: &mut [Self::W], rows: &[(&[Self], &[Self::W])], offsets: &[usize]);
}

/// Tiles of `L` outputs from `j` on that stay in registers while every tap of every row
/// is added (the order per output is unchanged); returns where the tiles stopped.
#[inline(always)]
fn pass<T: Element, const L: usize>(
    acc: &mut [T::W],
    mut j: usize,
    rows: &[(&[T], &[T::W])],
    offsets: &[usize],
) -> usize {
    while j + L <= acc.len() {
        let mut a = [T::W::default(); L];
        a.copy_from_slice(&acc[j..j + L]);
        for &(src, w) in rows {
            for (&wt, &off) in w.iter().zip(offsets) {
                let x = &src[off + j..off + j + L];
                for (a, &x) in a.iter_mut().zip(x) {
                    *a = a.madd(wt, x.lift());
                }
            }
        }
        acc[j..j + L].copy_from_slice(&a);
        j += L;
    }
    j
}

/// [`Element::rows`] in tiles of `L`, then `L / 4`, then single outputs.
#[inline(always)]
fn tiled<T: Element, const L: usize, const M: usize>(
    acc: &mut [T::W],
    rows: &[(&[T], &[T::W])],
    offsets: &[usize],
) {
    let j = pass::<T, L>(acc, 0, rows, offsets);
    let j = pass::<T, M>(acc, j, rows, offsets);
    pass::<T, 1>(acc, j, rows, offsets);
}

macro_rules! element {
    ($t:ty, $w:ty, $tile:literal, |$l:ident| $lift:expr, |$f:ident| $finish:expr) => {
        impl Element for $t {
            type W = $w;
            #[inline(always)]
            fn lift(self) -> $w {
                let $l = self;
                $lift
            }
            #[inline(always)]
            fn finish(w: $w) -> $t {
                let $f = w;
                $finish
            }
            #[inline(always)]
            fn rows(acc: &mut [$w], rows: &[(&[$t], &[$w])], offsets: &[usize]) {
                tiled::<$t, $tile, { $tile / 4 }>(acc, rows, offsets);
            }
        }
    };
}

element!(f64, f64, 32, |v| v, |w| w);
element!(f32, f64, 32, |v| f64::from(v), |w| w as f32);
element!(C64, C64, 8, |v| v, |w| w);
element!(
    Complex<f32>,
    C64,
    8,
    |v| Complex::new(f64::from(v.re), f64::from(v.im)),
    |w| Complex::new(w.re as f32, w.im as f32)
);
element!(i64, i64, 16, |v| v, |w| w);
