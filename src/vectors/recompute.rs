//! Checking a parsed file: every test recomputed with the correctly rounded reference.

use super::{Dtype, VectorElement, VectorFile, VectorGroup, VectorSpec, VectorTest};
use crate::engine::ConvEngine;
use crate::engine::exact::ExactEngine;
use crate::oracle::{abs_sums, exact_transpose, transpose_terms};
use crate::problem::{Problem, TransposeProblem};
use ndarray::{Array1, ArrayD, IxDyn};

/// One test whose expected output does not hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Disagreement {
    /// The test.
    pub tc_id: u64,
    /// What differs, with the expected and the got.
    pub problem: String,
}

/// What [`check`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckReport {
    /// Valid and acceptable tests whose output and bound scales were recomputed and agree.
    pub agreed: usize,
    /// Invalid tests that the reference refuses.
    pub refused: usize,
    /// Tests that do not hold.
    pub disagreements: Vec<Disagreement>,
}

/// Recomputes every test of a parsed file: a valid or acceptable test's output must be the
/// correctly rounded result bit for bit (any NaN matches any NaN), its `boundScale` the
/// problem's `sum |w||x| (+|b|)` and the group's `outputShape` and `terms` those of the
/// spec; an invalid test's spec must be refused.
pub fn check(file: &VectorFile) -> CheckReport {
    match file.dtype {
        Dtype::F32 => check_as::<f32>(file),
        Dtype::F64 => check_as::<f64>(file),
    }
}

fn check_as<T: VectorElement>(file: &VectorFile) -> CheckReport {
    let mut report = CheckReport::default();
    for (g, t) in file.tests() {
        match check_test::<T>(g, t) {
            Ok(true) => report.agreed += 1,
            Ok(false) => report.refused += 1,
            Err(problem) => report.disagreements.push(Disagreement {
                tc_id: t.tc_id,
                problem,
            }),
        }
    }
    report
}

fn array_of<T: VectorElement>(bits: &[u64], shape: &[usize]) -> Result<ArrayD<T>, String> {
    ArrayD::from_shape_vec(
        IxDyn(shape),
        bits.iter().map(|&b| T::from_bits64(b)).collect(),
    )
    .map_err(|e| e.to_string())
}

/// `Ok(true)`: a valid test that agrees; `Ok(false)`: an invalid test that is refused.
fn check_test<T: VectorElement>(g: &VectorGroup, t: &VectorTest) -> Result<bool, String> {
    let xs = t.input_shape.as_ref().unwrap_or(&g.input_shape);
    let ws = t.weight_shape.as_ref().unwrap_or(&g.weight_shape);
    let x = array_of::<T>(&t.input, xs)?;
    let w = array_of::<T>(&t.weight, ws)?;
    let b: Option<Array1<T>> = t
        .bias
        .as_ref()
        .map(|b| b.iter().map(|&v| T::from_bits64(v)).collect());
    let spec = t.spec.as_ref().or(g.spec.as_ref()).ok_or("no spec")?;
    let computed = match spec {
        VectorSpec::Conv(s) => {
            let mut p = Problem::new(x.view(), w.view()).spec(s.map_constant(T::from_bits64));
            p.bias = b.as_ref().map(|b| b.view());
            if g.invalid {
                return match p.validate() {
                    Err(_) => Ok(false),
                    Ok(_) => Err("an invalid test's spec and shapes are accepted".into()),
                };
            }
            let terms = ws[1..].iter().product::<usize>() + usize::from(b.is_some());
            ExactEngine::new()
                .conv(&p)
                .and_then(|y| Ok((y, abs_sums(&p)?, terms)))
        }
        VectorSpec::Transpose(s) => {
            let mut p = TransposeProblem::new(x.view(), w.view()).spec(s.clone());
            p.bias = b.as_ref().map(|b| b.view());
            if g.invalid {
                return match p.validate() {
                    Err(_) => Ok(false),
                    Ok(_) => Err("an invalid test's spec and shapes are accepted".into()),
                };
            }
            exact_transpose(&p)
                .and_then(|y| Ok((y, abs_sums(&p.as_conv()?.problem())?, transpose_terms(&p)?)))
        }
    };
    let (y, scale, terms) = computed.map_err(|e| format!("the spec is refused: {e}"))?;
    if y.shape() != g.output_shape.as_slice() {
        return Err(format!(
            "outputShape: expected {:?} (from the spec), got {:?}",
            y.shape(),
            g.output_shape
        ));
    }
    if terms != g.terms {
        return Err(format!("terms: expected {terms}, got {}", g.terms));
    }
    let want = t.output.as_deref().unwrap_or_default();
    for (i, (e, &v)) in y.iter().zip(want).enumerate() {
        let v = T::from_bits64(v);
        let same = e.bits() == v.bits() || (e.to_f64().is_nan() && v.to_f64().is_nan());
        if !same {
            return Err(format!(
                "output[{i}]: expected {:e} (correctly rounded), got {:e}",
                e.to_f64(),
                v.to_f64()
            ));
        }
    }
    let given = t.bound_scale.as_deref().unwrap_or_default();
    for (i, (a, b)) in scale.iter().zip(given).enumerate() {
        if a != b {
            return Err(format!("boundScale[{i}]: expected {a:e}, got {b:e}"));
        }
    }
    Ok(true)
}
