//! `conv-oracle pad`: symbolic padding in a peer's dialect, with its limits.

use crate::*;

/// Parses MODE in a dialect; returns the mode and the peer whose limits to report.
pub(crate) fn parse_mode(
    mode: &str,
    dialect: Option<Dialect>,
) -> Result<(Boundary<String>, Option<Peer>), String> {
    let (name, value) = match mode.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (mode, None),
    };
    let lower = name.to_ascii_lowercase();
    let constant =
        |default: &str| Boundary::Constant(value.clone().unwrap_or_else(|| default.to_string()));
    let unknown = |names: &str| {
        Err(format!(
            "unknown mode '{mode}' for dialect {}: expected one of {names}",
            dialect_name(dialect)
        ))
    };
    let m = match dialect {
        None => match lower.as_str() {
            "zeros" => Boundary::Zeros,
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            "replicate" => Boundary::Replicate,
            "circular" => Boundary::Circular,
            _ => return unknown("zeros, constant=V, reflect, symmetric, replicate, circular"),
        },
        Some(Dialect::Numpy) => match lower.as_str() {
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            "edge" => Boundary::Replicate,
            "wrap" => Boundary::Circular,
            _ => return unknown("constant[=V], reflect, symmetric, edge, wrap"),
        },
        Some(Dialect::Torch) => match lower.as_str() {
            "zeros" => Boundary::Zeros,
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "replicate" => Boundary::Replicate,
            "circular" => Boundary::Circular,
            _ => return unknown("zeros, constant[=V], reflect, replicate, circular"),
        },
        Some(Dialect::Ndimage) => match lower.as_str() {
            "constant" | "grid-constant" => constant("0"),
            "reflect" => Boundary::Symmetric,
            "mirror" => Boundary::Reflect,
            "nearest" => Boundary::Replicate,
            "wrap" | "grid-wrap" => Boundary::Circular,
            _ => return unknown("constant[=V], reflect, mirror, nearest, wrap"),
        },
        Some(Dialect::Tf) => match lower.as_str() {
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "symmetric" => Boundary::Symmetric,
            _ => return unknown("CONSTANT[=V], REFLECT, SYMMETRIC"),
        },
        Some(Dialect::Onnx) => match lower.as_str() {
            "constant" => constant("0"),
            "reflect" => Boundary::Reflect,
            "edge" => Boundary::Replicate,
            "wrap" => Boundary::Circular,
            _ => return unknown("constant[=V], reflect, edge, wrap"),
        },
    };
    if value.is_some() && !matches!(m, Boundary::Constant(_)) {
        return Err(format!(
            "mode '{name}' takes no value (only constant=V does)"
        ));
    }
    let peer = match dialect {
        Some(Dialect::Torch) => Some(Peer::Torch),
        Some(Dialect::Tf) => Some(Peer::TensorFlow),
        Some(Dialect::Onnx) => Some(Peer::OnnxRuntime),
        _ => None,
    };
    Ok((m, peer))
}

pub(crate) fn dialect_name(d: Option<Dialect>) -> &'static str {
    match d {
        None => "conv-oracle",
        Some(Dialect::Numpy) => "numpy",
        Some(Dialect::Torch) => "torch",
        Some(Dialect::Ndimage) => "ndimage",
        Some(Dialect::Tf) => "tf",
        Some(Dialect::Onnx) => "onnx",
    }
}

pub(crate) fn parse_pads(s: &str) -> Result<(usize, usize), String> {
    let num = |t: &str| {
        t.trim().parse::<usize>().map_err(|_| {
            format!("--pad '{s}': '{t}' is not a non-negative integer (expected LO or LO,HI)")
        })
    };
    match s.split_once(',') {
        Some((lo, hi)) => Ok((num(lo)?, num(hi)?)),
        None => {
            let p = num(s)?;
            Ok((p, p))
        }
    }
}

pub(crate) fn pad_command(
    mode: &str,
    pads: &str,
    dialect: Option<Dialect>,
    items: &[String],
) -> Result<(), String> {
    let (mode, peer) = parse_mode(mode, dialect)?;
    let (lo, hi) = parse_pads(pads)?;
    let fill = match &mode {
        Boundary::Constant(v) => v.clone(),
        _ => "0".to_string(),
    };
    // Pad the item indices; -1 marks the constant.
    let index_mode: Boundary<i64> = match &mode {
        Boundary::Zeros | Boundary::Constant(_) => Boundary::Constant(-1),
        Boundary::Reflect => Boundary::Reflect,
        Boundary::Symmetric => Boundary::Symmetric,
        Boundary::Replicate => Boundary::Replicate,
        Boundary::Circular => Boundary::Circular,
    };
    let idx = Array1::from_iter(0..items.len() as i64).into_dyn();
    let padded =
        pad(idx.view(), &[(lo, hi)], &index_mode, &Limits::default()).map_err(|e| e.to_string())?;
    let text: Vec<&str> = padded
        .iter()
        .map(|&i| {
            if i < 0 {
                fill.as_str()
            } else {
                items[i as usize].as_str()
            }
        })
        .collect();
    let n = items.len();
    let line = [&text[..lo], &text[lo..lo + n], &text[lo + n..]]
        .iter()
        .map(|part| part.join(" "))
        .collect::<Vec<_>>()
        .join(" | ");
    outln!("{}", line.trim());
    if let Some(peer) = peer {
        let verdict = peer_acceptance(peer, &mode, n, (lo, hi));
        if !verdict.accepted {
            outln!(
                "note: {} would refuse this pad: {}",
                peer.name(),
                verdict.message
            );
        }
    }
    Ok(())
}
