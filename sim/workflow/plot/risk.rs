//! Plots of a risk study, drawn from its files alone:
//!
//! * `exceedance.svg`: the probability that a year's meter-hours off
//!   exceed x, against x (both log scales), from `years.csv` (for
//!   `dccsim assess`, the base and the proposal overlaid).
//! * `tornado.svg`: expected annual meter-hours off with each assumed rate
//!   or factor at -50% and +50%, widest swing at the top, from `tornado.csv`.

use super::{draw_err, draw_legend, legend_line, read, svg, PlotError, COLOURS};
use plotters::prelude::*;
use std::path::Path;

/// Draws `exceedance.svg` and `tornado.svg` into a study's folder.
pub fn plot_study(dir: &Path) -> Result<Vec<String>, PlotError> {
    Ok(vec![exceedance(dir, &[("study", dir)])?, tornado(dir)?])
}

/// Annual meter-hours off of a `years.csv`.
fn annual_meter_hours(dir: &Path) -> Result<Vec<f64>, PlotError> {
    let text = read(dir, "years.csv")?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let i = header
        .iter()
        .position(|h| *h == "meter_hours_off")
        .ok_or_else(|| PlotError::Format("years.csv has no column meter_hours_off".into()))?;
    Ok(lines
        .filter_map(|l| l.split(',').nth(i)?.parse::<f64>().ok())
        .collect())
}

/// `exceedance.svg` in `out`, one curve per `(label, study folder)`.
pub fn exceedance(out: &Path, studies: &[(&str, &Path)]) -> Result<String, PlotError> {
    let mut curves = Vec::new();
    for (label, dir) in studies {
        let mut v = annual_meter_hours(dir)?;
        let n = v.len().max(1) as f64;
        v.retain(|x| *x > 0.0);
        v.sort_by(|a, b| b.total_cmp(a));
        // P(X >= v_k) = k / n for the k-th largest.
        let pts: Vec<(f64, f64)> = v
            .iter()
            .enumerate()
            .map(|(k, x)| (*x, (k + 1) as f64 / n))
            .collect();
        curves.push((label.to_string(), pts, n));
    }
    let all = curves.iter().flat_map(|c| c.1.iter());
    let (xlo, xhi) = all
        .clone()
        .fold((f64::INFINITY, 0.0f64), |a, p| (a.0.min(p.0), a.1.max(p.0)));
    let ylo = curves.iter().map(|c| 1.0 / c.2).fold(1.0, f64::min);
    let (xlo, xhi) = if xlo.is_finite() {
        (xlo * 0.8, xhi * 1.25)
    } else {
        (1.0, 10.0)
    };
    svg(out, "exceedance.svg", (900, 560), |root| {
        let mut c = ChartBuilder::on(&root)
            .caption("Annual meter-hours off: exceedance", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d((xlo..xhi).log_scale(), (ylo * 0.8..1.0f64).log_scale())
            .map_err(draw_err)?;
        c.configure_mesh()
            .x_desc("meter-hours off in a year (x)")
            .y_desc("P(annual meter-hours off >= x)")
            .draw()
            .map_err(draw_err)?;
        for (i, (label, pts, _)) in curves.iter().enumerate() {
            let col = COLOURS[i % COLOURS.len()];
            // A step function: each point holds until the next smaller value.
            let mut step = Vec::new();
            for (j, &(x, p)) in pts.iter().enumerate() {
                if j > 0 {
                    step.push((x, pts[j - 1].1));
                }
                step.push((x, p));
            }
            c.draw_series(LineSeries::new(step, col.stroke_width(2)))
                .map_err(draw_err)?
                .label(if pts.is_empty() {
                    format!("{label} (no year with impact)")
                } else {
                    label.clone()
                })
                .legend(legend_line(col));
        }
        draw_legend(&mut c, SeriesLabelPosition::UpperRight)
    })
}

/// `tornado.svg` from `tornado.csv`.
fn tornado(dir: &Path) -> Result<String, PlotError> {
    let text = read(dir, "tornado.csv")?;
    let mut rows: Vec<(String, f64, f64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let p = |i: usize| f.get(i)?.parse::<f64>().ok();
            Some((f[0].to_string(), p(2)?, p(3)?, p(4)?))
        })
        .collect();
    rows.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
    let base = rows.first().map(|r| r.3).unwrap_or(0.0);
    let lo = rows.iter().map(|r| r.1.min(r.2)).fold(base, f64::min);
    let hi = rows.iter().map(|r| r.1.max(r.2)).fold(base, f64::max);
    let pad = ((hi - lo) * 0.1).max(1e-9);
    let n = rows.len();
    svg(dir, "tornado.svg", (900, 120 + 32 * n as u32), |root| {
        let mut c = ChartBuilder::on(&root)
            .caption(
                "Expected annual meter-hours off: each assumption at -50% / +50%",
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(200)
            .build_cartesian_2d(lo - pad..hi + pad, (0..n as i32).into_segmented())
            .map_err(draw_err)?;
        // Row 0 at the bottom: the widest swing (rows[0]) is drawn at the top.
        let name_at = |i: i32| rows[n - 1 - i as usize].0.clone();
        c.configure_mesh()
            .disable_y_mesh()
            .y_labels(n + 1)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) if (0..n as i32).contains(i) => name_at(*i),
                _ => String::new(),
            })
            .x_desc("expected meter-hours off per year")
            .draw()
            .map_err(draw_err)?;
        for (i, (_, at_lo, at_hi, _)) in rows.iter().enumerate() {
            let y = (n - 1 - i) as i32;
            for (v, col, label) in [(*at_lo, COLOURS[0], "-50%"), (*at_hi, COLOURS[3], "+50%")] {
                let s = c
                    .draw_series(std::iter::once(Rectangle::new(
                        [
                            (base.min(v), SegmentValue::Exact(y)),
                            (base.max(v), SegmentValue::Exact(y + 1)),
                        ],
                        col.filled(),
                    )))
                    .map_err(draw_err)?;
                if i == 0 {
                    s.label(label).legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 18, y + 5)], col.filled())
                    });
                }
            }
        }
        let axis = vec![
            (base, SegmentValue::Exact(0)),
            (base, SegmentValue::Exact(n as i32)),
        ];
        c.draw_series(LineSeries::new(axis, BLACK))
            .map_err(draw_err)?;
        draw_legend(&mut c, SeriesLabelPosition::LowerRight)
    })
}
