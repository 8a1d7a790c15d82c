//! The heatmap of `judge --plot`: per output element, its error over its bound, one panel per
//! (sample, channel), because a broken border or a shifted channel shows at a glance.

use std::fmt::Write;

/// Panels drawn at most (the first ones in `(N, O)` order).
pub const MAX_PANELS: usize = 32;

/// Cells per panel side at most; larger outputs are shown by the largest ratio of each block.
const MAX_CELLS: usize = 128;

/// Panels per row of the picture.
const PER_ROW: usize = 4;

/// Pixels from one legend swatch to the next.
const LEGEND_STEP: usize = 110;

/// The colour of one ratio: white for 0 (no error), blue within the bound (darker as it gets
/// closer: `1e-4` and below white, 1 darkest), red outside it (orange just above 1, dark red
/// from 1000), black for a non-finite mismatch.
fn colour(r: f64) -> (u8, u8, u8) {
    let mix = |a: (f64, f64, f64), b: (f64, f64, f64), t: f64| {
        let t = t.clamp(0.0, 1.0);
        (
            (a.0 + (b.0 - a.0) * t).round() as u8,
            (a.1 + (b.1 - a.1) * t).round() as u8,
            (a.2 + (b.2 - a.2) * t).round() as u8,
        )
    };
    if !r.is_finite() {
        (0, 0, 0)
    } else if r <= 0.0 {
        (255, 255, 255)
    } else if r <= 1.0 {
        mix(
            (255.0, 255.0, 255.0),
            (49.0, 99.0, 206.0),
            (r.log10() + 4.0) / 4.0,
        )
    } else {
        mix((253.0, 174.0, 97.0), (165.0, 0.0, 38.0), r.log10() / 3.0)
    }
}

/// The SVG picture of `ratios` (row-major over `shape = (N, O, spatial...)`): one panel per
/// `(n, o)` up to [`MAX_PANELS`], each a grid of the spatial positions (rows: every axis but
/// the last, flattened; columns: the last), `title` on top and a legend below.
pub fn heatmap_svg(ratios: &[f64], shape: &[usize], title: &str) -> String {
    let (batch, channels) = (
        shape.first().copied().unwrap_or(1),
        shape.get(1).copied().unwrap_or(1),
    );
    let spatial = shape.get(2..).unwrap_or(&[]);
    let cols = spatial.last().copied().unwrap_or(1).max(1);
    let rows = (spatial.iter().product::<usize>() / cols).max(1);
    let per_panel = rows * cols;
    // Blocks of `f x f` elements become one cell (their largest ratio).
    let f = rows.max(cols).div_ceil(MAX_CELLS).max(1);
    let (cr, cc) = (rows.div_ceil(f), cols.div_ceil(f));
    let cell = (240 / cr.max(cc)).clamp(2, 24);
    let (pw, ph) = (cc * cell, cr * cell);
    let panels = (batch * channels).min(MAX_PANELS);
    let grid_cols = panels.clamp(1, PER_ROW);
    let grid_rows = panels.div_ceil(PER_ROW).max(1);
    let (gap, label, top) = (16, 16, 40);
    let width = (grid_cols * (pw + gap) + gap).max(2 * gap + 7 * LEGEND_STEP);
    let height = top + grid_rows * (ph + label + gap) + 70;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="{width}" height="{height}" fill="white"/><text x="{gap}" y="20">{}</text>"#,
        escape(title)
    );
    for k in 0..panels {
        let (n, o) = (k / channels, k % channels);
        let (px, py) = (
            gap + (k % PER_ROW) * (pw + gap),
            top + (k / PER_ROW) * (ph + label + gap),
        );
        let panel =
            &ratios[(k * per_panel).min(ratios.len())..((k + 1) * per_panel).min(ratios.len())];
        let worst = panel.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            s,
            r#"<text x="{px}" y="{}">n {n}, channel {o}: max {}</text>"#,
            py + 12,
            if worst.is_finite() {
                format!("{worst:.3}")
            } else {
                "inf".to_string()
            }
        );
        let y0 = py + label;
        let _ = writeln!(
            s,
            r##"<rect x="{px}" y="{y0}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>"##
        );
        for bi in 0..cr {
            for bj in 0..cc {
                let mut r = 0.0f64;
                for i in bi * f..((bi + 1) * f).min(rows) {
                    for j in bj * f..((bj + 1) * f).min(cols) {
                        let v = panel.get(i * cols + j).copied().unwrap_or(0.0);
                        r = if v.is_nan() || r.is_nan() {
                            f64::NAN
                        } else {
                            r.max(v)
                        };
                    }
                }
                if r == 0.0 {
                    continue;
                }
                let (red, green, blue) = colour(r);
                let _ = writeln!(
                    s,
                    r#"<rect x="{}" y="{}" width="{cell}" height="{cell}" fill="rgb({red},{green},{blue})"/>"#,
                    px + bj * cell,
                    y0 + bi * cell
                );
            }
        }
    }
    let ly = top + grid_rows * (ph + label + gap) + 10;
    let swatches = [
        (0.0, "0"),
        (1e-3, "1e-3"),
        (0.1, "0.1"),
        (1.0, "1 (the bound)"),
        (10.0, "10"),
        (1000.0, "1000"),
        (f64::INFINITY, "non-finite"),
    ];
    for (i, (r, name)) in swatches.iter().enumerate() {
        let (red, green, blue) = colour(*r);
        let x = gap + i * LEGEND_STEP;
        let _ = writeln!(
            s,
            r##"<rect x="{x}" y="{ly}" width="14" height="14" fill="rgb({red},{green},{blue})" stroke="#888"/><text x="{}" y="{}">{name}</text>"##,
            x + 18,
            ly + 12
        );
    }
    let more = if batch * channels > panels {
        format!("; {} of {} panels shown", panels, batch * channels)
    } else {
        String::new()
    };
    let block = if f > 1 {
        format!("; each cell is the largest of {f}x{f} elements")
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        r#"<text x="{gap}" y="{}">error / bound per element (rows: spatial axes but the last; columns: the last){more}{block}</text>"#,
        ly + 40
    );
    s.push_str("</svg>\n");
    s
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
