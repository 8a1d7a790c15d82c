//! The summation scheme the row loops run ([`Kernel`]) and the direct engine's own
//! ([`Plain`]).

use super::Element;

/// A summation scheme run over the direct engine's layout: what a weight becomes, what is
/// accumulated per output, how one source row's taps are added, and what an output is made
/// from its accumulator. The direct engine's scheme is [`Plain`] (the reference's sum); the
/// correctly rounded engine (`engine::exact`) runs certified error-free sums through the same
/// loops.
pub(crate) trait Kernel: Sync {
    /// The element type of the input and weight arrays.
    type In: Element;
    /// A weight as the inner loop uses it.
    type W: Copy + Send + Sync;
    /// The running state of one output.
    type Acc: Copy + Default + Send + Sync;
    /// What one output becomes.
    type Out: Copy + Default + Send + Sync;
    /// A weight in the loop's form.
    fn weight(&self, w: Self::In) -> Self::W;
    /// The state before any tap: the bias, or the empty sum.
    fn start(&self, bias: Option<Self::In>) -> Self::Acc;
    /// Adds the taps of several source rows, in order: for each `(src, w)` of `rows` in
    /// order, each tap `t` and each `j < acc.len()`, the product of `w[t]` and
    /// `src[offsets[t] + j]` into `acc[j]`.
    fn rows(&self, acc: &mut [Self::Acc], rows: &[RowPair<'_, Self>], offsets: &[usize]);
    /// The output from its final state.
    fn finish(&self, acc: Self::Acc) -> Self::Out;
    /// How many output channels of one group [`Kernel::rows_block`] computes together, so
    /// that each input value loaded serves all of them: 1 (the default) when the scheme has
    /// no block kernel (in this build).
    fn block(&self) -> usize {
        1
    }
    /// [`Kernel::rows`] for `block()` consecutive output channels of one group at once:
    /// `acc[b * pitch + j]` (`j < len`) is the state of output `j` of the block's channel
    /// `b`, and the weights of channel `b` for a row are `w[b * wstride..]` (`w` of the
    /// row's pair). Each output gets the same taps in the same order as from `rows`.
    fn rows_block(
        &self,
        acc: &mut [Self::Acc],
        pitch: usize,
        len: usize,
        rows: &[RowPair<'_, Self>],
        wstride: usize,
        offsets: &[usize],
    ) {
        rows_by_channel(self, acc, pitch, len, rows, wstride, offsets);
    }
}

/// [`Kernel::rows_block`] as one [`Kernel::rows`] call per channel of the block.
pub(crate) fn rows_by_channel<K: Kernel + ?Sized>(
    k: &K,
    acc: &mut [K::Acc],
    pitch: usize,
    len: usize,
    rows: &[RowPair<'_, K>],
    wstride: usize,
    offsets: &[usize],
) {
    let mut pairs: Vec<RowPair<'_, K>> = Vec::with_capacity(rows.len());
    for b in 0..k.block() {
        pairs.clear();
        pairs.extend(rows.iter().map(|&(src, w)| (src, &w[b * wstride..])));
        k.rows(&mut acc[b * pitch..][..len], &pairs, offsets);
    }
}

/// One source row and the weights of its taps.
pub(crate) type RowPair<'a, K> = (&'a [<K as Kernel>::In], &'a [<K as Kernel>::W]);

/// The direct engine's scheme: the reference's sum in its order ([`Element`]).
pub(crate) struct Plain<T>(pub(super) std::marker::PhantomData<T>);

impl<T: Element> Kernel for Plain<T> {
    type In = T;
    type W = T::W;
    type Acc = T::W;
    type Out = T;
    #[inline(always)]
    fn weight(&self, w: T) -> T::W {
        w.lift()
    }
    #[inline(always)]
    fn start(&self, bias: Option<T>) -> T::W {
        bias.map_or_else(T::W::default, Element::lift)
    }
    #[inline(always)]
    fn rows(&self, acc: &mut [T::W], rows: &[(&[T], &[T::W])], offsets: &[usize]) {
        T::rows(acc, rows, offsets);
    }
    #[inline(always)]
    fn finish(&self, acc: T::W) -> T {
        T::finish(acc)
    }
}
