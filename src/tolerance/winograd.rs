//! The componentwise error bound of Winograd (Toom-Cook) convolution, `F(m, r)` tiles.
//!
//! A Winograd engine computes each tile of `m` outputs per axis from `alpha = m + r - 1`
//! inputs as `Y = A^T [ sum_c (G g_c G^T) (.) (B^T d_c B) ] A` (in 1-D
//! `y = A^T sum_c (G g_c) (.) (B^T d_c)`), with transforms built from `alpha - 1` finite
//! interpolation points and the point at infinity. [`WinogradTile`] builds the three matrices
//! exactly (rational arithmetic) from the points and bounds the error of every output element:
//! `|y_hat - y| <= gamma_K W`, where `W` is the output computed with every matrix and value
//! replaced by its absolute value and every intermediate raised by the smallest normal number
//! once per rounding that produces it (underflow), and `K` counts the roundings along one path
//! through the computation. The bound is unchanged when a diagonal scaling moves between `G`
//! and `B^T` or between them and `A^T` (as the published forms of `F(2, 3)` and `F(4, 3)` do),
//! so it depends only on the points. docs/numerics.md section 8.9.

use super::float::{Float, U64, gamma};
use crate::problem::boundary::pad;
use crate::problem::{ConvError, Flip, Problem};
use ndarray::{ArrayD, Axis, IxDyn, Zip};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// A Winograd tile `F(m, r)`: `m` outputs from a kernel of `r` taps per axis, with its
/// interpolation points (`m + r - 2` distinct finite rationals and infinity).
#[derive(Clone, Debug, PartialEq)]
pub struct WinogradTile {
    m: usize,
    r: usize,
    points: Vec<(i64, i64)>,
    /// `A^T` (`m x alpha`), `G` (`alpha x r`), `B^T` (`alpha x alpha`), exact.
    a_t: Vec<Vec<BigRational>>,
    g: Vec<Vec<BigRational>>,
    b_t: Vec<Vec<BigRational>>,
}

/// The transform matrices of a tile, each entry the exact value rounded to the nearest `f64`
/// (rows of `A^T`, of `G` and of `B^T`): what an engine multiplies by.
#[derive(Clone, Debug, PartialEq)]
pub struct WinogradMatrices {
    /// The output transform `A^T`, `m x alpha`.
    pub a_t: Vec<Vec<f64>>,
    /// The kernel transform `G`, `alpha x r`.
    pub g: Vec<Vec<f64>>,
    /// The input transform `B^T`, `alpha x alpha`.
    pub b_t: Vec<Vec<f64>>,
}

/// The first finite points of the usual sequence `0, 1, -1, 2, -2, 1/2, -1/2, 3, -3, 1/3,
/// -1/3, ...` (the points of the published `F(2, 3)` and `F(4, 3)`).
fn standard_points(count: usize) -> Vec<(i64, i64)> {
    let mut points = vec![(0, 1)];
    let mut k = 1i64;
    while points.len() < count {
        points.extend([(k, 1), (-k, 1)]);
        if k > 1 {
            points.extend([(1, k), (-1, k)]);
        }
        k += 1;
    }
    points.truncate(count);
    points
}

fn rational((num, den): (i64, i64)) -> BigRational {
    BigRational::new(BigInt::from(num), BigInt::from(den))
}

/// The coefficients, lowest first, of `prod (x - p)` over `roots`.
fn poly_from_roots<'a>(roots: impl IntoIterator<Item = &'a BigRational>) -> Vec<BigRational> {
    let mut c = vec![BigRational::one()];
    for p in roots {
        let mut next = vec![BigRational::zero(); c.len() + 1];
        for (k, ck) in c.iter().enumerate() {
            next[k + 1] += ck;
            next[k] -= ck * p;
        }
        c = next;
    }
    c
}

/// An upper bound on `|q|` in `f64`.
fn abs_upper(q: &BigRational) -> f64 {
    let v = q.abs().to_f64().unwrap_or(f64::INFINITY);
    if q.is_zero() {
        0.0
    } else {
        v * (1.0 + 2f64.powi(-50))
    }
}

fn nearest(q: &BigRational) -> f64 {
    q.to_f64().unwrap_or(f64::NAN)
}

impl WinogradTile {
    /// `F(m, r)` on the usual points `0, 1, -1, 2, -2, 1/2, -1/2, 3, ...` and infinity (the
    /// points of the published `F(2, 3)` and `F(4, 3)`). Fails with
    /// [`ConvError::Unsupported`] for `m` or `r` of 0 or a tile wider than 16 inputs.
    pub fn new(m: usize, r: usize) -> Result<Self, ConvError> {
        let alpha = Self::alpha(m, r)?;
        Self::with_points(m, r, &standard_points(alpha - 1))
    }

    /// `F(m, r)` on the given finite points `(numerator, denominator)` and infinity: exactly
    /// `m + r - 2` distinct points, denominators not 0.
    pub fn with_points(m: usize, r: usize, points: &[(i64, i64)]) -> Result<Self, ConvError> {
        let alpha = Self::alpha(m, r)?;
        if points.len() != alpha - 1 {
            return Err(ConvError::unsupported(format!(
                "F({m}, {r}) takes {} finite points, got {}",
                alpha - 1,
                points.len()
            )));
        }
        if points.iter().any(|&(_, d)| d == 0) {
            return Err(ConvError::unsupported(
                "a Winograd point with denominator 0",
            ));
        }
        let p: Vec<BigRational> = points.iter().map(|&q| rational(q)).collect();
        for i in 0..p.len() {
            if p[..i].contains(&p[i]) {
                return Err(ConvError::unsupported(format!(
                    "Winograd points must be distinct: {}/{} repeats",
                    points[i].0, points[i].1
                )));
            }
        }
        let power = |x: &BigRational, k: usize| (0..k).fold(BigRational::one(), |a, _| a * x);
        let unit = |len: usize, at: usize| {
            (0..len)
                .map(|k| {
                    if k == at {
                        BigRational::one()
                    } else {
                        BigRational::zero()
                    }
                })
                .collect::<Vec<_>>()
        };
        // A^T: evaluation of the m output coefficients, transposed; the infinite point takes
        // the leading coefficient.
        let a_t: Vec<Vec<BigRational>> = (0..m)
            .map(|j| {
                let mut row: Vec<BigRational> = p.iter().map(|x| power(x, j)).collect();
                row.push(if j == m - 1 {
                    BigRational::one()
                } else {
                    BigRational::zero()
                });
                row
            })
            .collect();
        // G: evaluation of the kernel polynomial at the points.
        let mut g: Vec<Vec<BigRational>> = p
            .iter()
            .map(|x| (0..r).map(|k| power(x, k)).collect())
            .collect();
        g.push(unit(r, r - 1));
        // B^T: the interpolation matrix transposed: row i the Lagrange basis polynomial of
        // point i, the last row the product of (x - p) over every finite point.
        let mut b_t: Vec<Vec<BigRational>> = (0..p.len())
            .map(|i| {
                let others: Vec<&BigRational> = p
                    .iter()
                    .enumerate()
                    .filter(|&(l, _)| l != i)
                    .map(|(_, x)| x)
                    .collect();
                let den = others
                    .iter()
                    .fold(BigRational::one(), |a, &x| a * (&p[i] - x));
                let mut row: Vec<BigRational> = poly_from_roots(others.iter().copied())
                    .into_iter()
                    .map(|c| c / &den)
                    .collect();
                row.resize(alpha, BigRational::zero());
                row
            })
            .collect();
        b_t.push(poly_from_roots(p.iter()));
        Ok(WinogradTile {
            m,
            r,
            points: points.to_vec(),
            a_t,
            g,
            b_t,
        })
    }

    fn alpha(m: usize, r: usize) -> Result<usize, ConvError> {
        if m == 0 || r == 0 {
            return Err(ConvError::unsupported(format!(
                "F({m}, {r}): a Winograd tile needs at least one output and one tap"
            )));
        }
        let alpha = m + r - 1;
        if alpha > 16 {
            return Err(ConvError::unsupported(format!(
                "F({m}, {r}): tiles of more than 16 inputs are not modelled"
            )));
        }
        if alpha < 2 {
            return Err(ConvError::unsupported(
                "F(1, 1) is a product, not a Winograd tile: declare the direct algorithm",
            ));
        }
        Ok(alpha)
    }

    /// Outputs per tile and axis, `m`.
    pub fn outputs(&self) -> usize {
        self.m
    }

    /// Kernel taps per axis, `r`.
    pub fn taps(&self) -> usize {
        self.r
    }

    /// Inputs per tile and axis, `alpha = m + r - 1`.
    pub fn inputs(&self) -> usize {
        self.m + self.r - 1
    }

    /// The finite interpolation points `(numerator, denominator)`.
    pub fn points(&self) -> &[(i64, i64)] {
        &self.points
    }

    /// The transform matrices, each entry rounded to the nearest `f64`.
    pub fn matrices(&self) -> WinogradMatrices {
        let f = |m: &[Vec<BigRational>]| -> Vec<Vec<f64>> {
            m.iter()
                .map(|row| row.iter().map(nearest).collect())
                .collect()
        };
        WinogradMatrices {
            a_t: f(&self.a_t),
            g: f(&self.g),
            b_t: f(&self.b_t),
        }
    }

    /// `K` of the bound for `channels` input channels per group on `rank` spatial axes: per
    /// axis and per transform, the most non-zero entries in a row plus one (the products and
    /// sums of one row, and the rounding of the constant), then the `channels` products and
    /// sums of the transform-domain channel sum, plus one for a bias.
    pub fn terms(&self, rank: usize, channels: usize, bias: bool) -> usize {
        let widest = |m: &[Vec<BigRational>]| {
            m.iter()
                .map(|row| row.iter().filter(|q| !q.is_zero()).count())
                .max()
                .unwrap_or(0)
                + 1
        };
        rank * (widest(&self.b_t) + widest(&self.g) + widest(&self.a_t))
            + channels
            + usize::from(bias)
    }

    /// Whether a problem has the shape a tile computes: stride 1, dilation 1 and a kernel of
    /// `r` taps on every spatial axis. `Err` says why not.
    pub fn fits<T: Clone>(&self, p: &Problem<'_, T>) -> Result<(), ConvError> {
        let geo = p.validate_geometry()?;
        for (a, ax) in geo.axes.iter().enumerate() {
            if ax.stride != 1 || ax.dilation != 1 || ax.kernel != self.r {
                return Err(ConvError::unsupported(format!(
                    "F({m}, {r}) computes stride 1, dilation 1 and {r} taps; spatial axis {a} has stride {s}, dilation {d}, {k} taps",
                    m = self.m,
                    r = self.r,
                    s = ax.stride,
                    d = ax.dilation,
                    k = ax.kernel
                )));
            }
        }
        Ok(())
    }

    /// The bound on `|y_hat - y|` of every output element of `p` (row-major, shape
    /// `(N, O, out...)`), in the units of the data, for an engine that computes the tiles in
    /// `F` (each transform a product by the matrix, in any summation order, with or without
    /// FMA; the kernel transform may be computed once, in `F` or wider; tiles that reach past
    /// the padded input read zeros). Infinite where an intermediate value may overflow.
    /// Errors: those of [`Problem::validate`], and [`ConvError::Unsupported`] when the
    /// problem does not fit the tile ([`WinogradTile::fits`]).
    pub fn bounds<F: Float + crate::scalar::Ring>(
        &self,
        p: &Problem<'_, F>,
    ) -> Result<Vec<f64>, ConvError> {
        let geo = p.validate()?;
        self.fits(p)?;
        let (m, alpha) = (self.m, self.inputs());
        let rank = p.input.ndim() - 2;
        let mut pads = vec![(0, 0), (0, 0)];
        pads.extend(geo.pads());
        let x = pad(p.input.view(), &pads, &p.spec.boundary, &p.spec.limits)?;
        let x = x.mapv(|v| v.to_f64().abs());
        let mut w = p.weight.mapv(|v| v.to_f64().abs());
        if p.spec.flip == Flip::Convolution {
            for a in 0..rank {
                w.invert_axis(Axis(a + 2));
            }
        }
        let (batch, c_out, cg) = (x.shape()[0], w.shape()[0], w.shape()[1]);
        let og = c_out / p.spec.groups;
        let out = geo.output_shape();
        let tiles: Vec<usize> = out.iter().map(|&o| o.div_ceil(m)).collect();
        let abs = |mat: &[Vec<BigRational>]| -> Vec<Vec<f64>> {
            mat.iter()
                .map(|row| row.iter().map(abs_upper).collect())
                .collect()
        };
        let (a_t, g, b_t) = (abs(&self.a_t), abs(&self.g), abs(&self.b_t));
        let floor = F::NORMAL_MIN;
        let k = self.terms(rank, cg, p.bias.is_some());
        let gk = gamma(k, F::UNIT_ROUNDOFF);
        // Magnitudes at or above this may have overflowed on the way.
        let limit = F::MAX_FINITE / (1.0 + gk);

        // The kernel transforms |G| |g| |G|^T per (o, c), and their largest intermediate.
        let u: Vec<(ArrayD<f64>, f64)> = w
            .outer_iter()
            .flat_map(|wo| {
                wo.outer_iter()
                    .map(|wc| transform(wc.to_owned(), &g, floor))
                    .collect::<Vec<_>>()
            })
            .collect();
        let u_max = |o: usize| (0..cg).map(|c| u[o * cg + c].1).fold(0f64, f64::max);

        let mut bounds = ArrayD::<f64>::zeros(IxDyn(&[&[batch, c_out][..], &out].concat()));
        let tile_count: usize = tiles.iter().product();
        for n in 0..batch {
            for t in 0..tile_count {
                // The tile's origin, per axis.
                let mut origin = vec![0usize; rank];
                let mut rest = t;
                for a in (0..rank).rev() {
                    origin[a] = (rest % tiles[a]) * m;
                    rest /= tiles[a];
                }
                // |B^T| |d| |B| per input channel, zeros past the padded input.
                let v: Vec<(ArrayD<f64>, f64)> = (0..x.shape()[1])
                    .map(|c| {
                        let d = ArrayD::from_shape_fn(IxDyn(&vec![alpha; rank]), |ix| {
                            let mut at = vec![n, c];
                            for a in 0..rank {
                                at.push(origin[a] + ix[a]);
                            }
                            x.get(IxDyn(&at)).copied().unwrap_or(0.0)
                        });
                        transform(d, &b_t, floor)
                    })
                    .collect();
                for o in 0..c_out {
                    let group = o / og;
                    let mut largest = u_max(o);
                    let mut prod = ArrayD::<f64>::zeros(IxDyn(&vec![alpha; rank]));
                    for c in 0..cg {
                        let (vc, v_top) = &v[group * cg + c];
                        largest = largest.max(*v_top);
                        Zip::from(&mut prod)
                            .and(&u[o * cg + c].0)
                            .and(vc)
                            .for_each(|s, &uu, &vv| *s += uu * vv);
                    }
                    // The products and the channel sum: 2C roundings per element.
                    prod.mapv_inplace(|s| s + 2.0 * cg as f64 * floor);
                    largest = prod.iter().fold(largest, |a, &b| a.max(b));
                    let (y, y_top) = transform(prod, &a_t, floor);
                    largest = largest.max(y_top);
                    let bias = p.bias.as_ref().map_or(0.0, |b| b[o].to_f64().abs() + floor);
                    for (ix, &yv) in y.indexed_iter() {
                        let mut at = vec![n, o];
                        for a in 0..rank {
                            at.push(origin[a] + ix[a]);
                        }
                        if let Some(slot) = bounds.get_mut(IxDyn(&at)) {
                            let total = yv + bias;
                            *slot = if largest.max(total) >= limit || !total.is_finite() {
                                f64::INFINITY
                            } else {
                                // 2^-40 covers the f64 evaluation of the channel sum.
                                gk * total * (1.0 + 2f64.powi(-40))
                            };
                        }
                    }
                }
            }
        }
        Ok(bounds.into_iter().collect())
    }
}

/// Applies `|mat|` along every axis of a non-negative tile, adding the underflow floor of the
/// roundings of each row (its products and sums) after every pass; returns the result and its
/// largest intermediate value.
fn transform(mut t: ArrayD<f64>, mat: &[Vec<f64>], floor: f64) -> (ArrayD<f64>, f64) {
    let mut largest = t.iter().fold(0f64, |a, &b| a.max(b));
    for a in 0..t.ndim() {
        let mut shape = t.shape().to_vec();
        shape[a] = mat.len();
        let mut next = ArrayD::<f64>::zeros(IxDyn(&shape));
        Zip::from(next.lanes_mut(Axis(a)))
            .and(t.lanes(Axis(a)))
            .for_each(|mut out, inp| {
                for (o, row) in out.iter_mut().zip(mat) {
                    let nonzero = row.iter().filter(|&&c| c != 0.0).count();
                    let s: f64 = row.iter().zip(inp.iter()).map(|(c, v)| c * v).sum();
                    // Rounded up past the f64 evaluation of this row.
                    *o = s * (1.0 + gamma(row.len() + 2, U64)) + 2.0 * nonzero as f64 * floor;
                }
            });
        largest = next.iter().fold(largest, |m, &b| m.max(b));
        t = next;
    }
    (t, largest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f23_matches_the_published_matrices_up_to_row_scaling() {
        // Lavin and Gray (2016), F(2, 3): the same points 0, 1, -1 and infinity.
        let m = WinogradTile::new(2, 3).unwrap().matrices();
        assert_eq!(
            m.a_t,
            vec![vec![1.0, 1.0, 1.0, 0.0], vec![0.0, 1.0, -1.0, 1.0]]
        );
        assert_eq!(
            m.g,
            vec![
                vec![1.0, 0.0, 0.0],
                vec![1.0, 1.0, 1.0],
                vec![1.0, -1.0, 1.0],
                vec![0.0, 0.0, 1.0]
            ]
        );
        // Published B^T rows: [1,0,-1,0], [0,1,1,0], [0,-1,1,0], [0,1,0,-1]; here scaled by
        // 1, 1/2, 1/2, -1 (the published G carries the 1/2).
        assert_eq!(
            m.b_t,
            vec![
                vec![1.0, 0.0, -1.0, 0.0],
                vec![0.0, 0.5, 0.5, 0.0],
                vec![0.0, -0.5, 0.5, 0.0],
                vec![0.0, -1.0, 0.0, 1.0]
            ]
        );
    }

    /// The tile computed in f64 from its own matrices equals the direct correlation.
    fn check_identity(m: usize, r: usize) {
        let t = WinogradTile::new(m, r).unwrap();
        let mats = t.matrices();
        let alpha = t.inputs();
        let d: Vec<f64> = (0..alpha).map(|i| (i * 7 % 5) as f64 - 2.0).collect();
        let g: Vec<f64> = (0..r).map(|i| (i * 3 % 4) as f64 - 1.5).collect();
        let gg: Vec<f64> = mats
            .g
            .iter()
            .map(|row| row.iter().zip(&g).map(|(a, b)| a * b).sum())
            .collect();
        let bd: Vec<f64> = mats
            .b_t
            .iter()
            .map(|row| row.iter().zip(&d).map(|(a, b)| a * b).sum())
            .collect();
        for (j, row) in mats.a_t.iter().enumerate() {
            let y: f64 = row.iter().enumerate().map(|(i, a)| a * gg[i] * bd[i]).sum();
            let direct: f64 = (0..r).map(|k| g[k] * d[j + k]).sum();
            assert!(
                (y - direct).abs() <= 1e-9 * (1.0 + direct.abs()),
                "F({m}, {r}) output {j}: {y} against {direct}"
            );
        }
    }

    #[test]
    fn tiles_compute_the_correlation() {
        for (m, r) in [
            (2, 3),
            (4, 3),
            (6, 3),
            (2, 2),
            (3, 2),
            (2, 5),
            (4, 5),
            (1, 3),
        ] {
            check_identity(m, r);
        }
    }

    #[test]
    fn bad_tiles_are_refused() {
        for (m, r) in [(0, 3), (2, 0), (1, 1), (16, 3)] {
            assert!(matches!(
                WinogradTile::new(m, r),
                Err(ConvError::Unsupported { .. })
            ));
        }
        assert!(matches!(
            WinogradTile::with_points(2, 3, &[(0, 1), (1, 1), (2, 2)]),
            Err(ConvError::Unsupported { .. })
        ));
        assert!(matches!(
            WinogradTile::with_points(2, 3, &[(0, 1), (1, 0), (2, 1)]),
            Err(ConvError::Unsupported { .. })
        ));
    }

    #[test]
    fn wider_tiles_have_larger_bounds() {
        // The same problem under F(2, 3) and F(4, 3): the wider tile's transforms amplify more.
        let x = ndarray::Array::from_shape_fn(IxDyn(&[1, 1, 12]), |ix| ix[2] as f32 - 5.5);
        let w = ndarray::Array::from_shape_vec(IxDyn(&[1, 1, 3]), vec![1.0f32, -2.0, 0.5]).unwrap();
        let p = Problem::new(x.view(), w.view());
        let b2 = WinogradTile::new(2, 3).unwrap().bounds(&p).unwrap();
        let b4 = WinogradTile::new(4, 3).unwrap().bounds(&p).unwrap();
        assert_eq!(b2.len(), 10);
        let sum = |b: &[f64]| b.iter().sum::<f64>();
        assert!(sum(&b4) > sum(&b2), "{b4:?} against {b2:?}");
        // Every bound at least gamma_K of the direct sum |w| |x| of its output.
        for (i, b) in b2.iter().enumerate() {
            let a: f64 = (0..3)
                .map(|k| (w[[0, 0, k]] as f64 * x[[0, 0, i + k]] as f64).abs())
                .sum();
            assert!(*b >= gamma(3, f32::UNIT_ROUNDOFF) * a, "{i}: {b} < {a}");
        }
    }

    #[test]
    fn problems_the_tile_cannot_compute_are_refused() {
        let x = ndarray::ArrayD::<f32>::zeros(IxDyn(&[1, 1, 8]));
        let w = ndarray::ArrayD::<f32>::zeros(IxDyn(&[1, 1, 2]));
        let p = Problem::new(x.view(), w.view());
        assert!(matches!(
            WinogradTile::new(2, 3).unwrap().bounds(&p),
            Err(ConvError::Unsupported { .. })
        ));
    }
}
