//! Plots of a results folder, drawn from its files alone (so `dccsim plot`
//! can redraw any folder): SVG, written atomically like every result file.
//!
//! * `latency_cdf.svg`: end-to-end latency distribution per request type
//!   (from the `.hgrm` percentile files).
//! * `queues.svg`: longest queue per minute at the DSP, the CSPs and the
//!   SOC (from `timeseries.csv`).
//! * `timeline.svg`: meters off supply, megawatts disconnected and system
//!   frequency per second, with the attack's start, detection, containment
//!   and 95% restoration marked (from `timeline.csv` and `summary.json`).

pub mod risk;

use plotters::prelude::*;
use serde_json::Value;
use std::path::Path;

/// What went wrong drawing a plot.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A file is not in the expected format.
    #[error("{0}")]
    Format(String),
}

fn read(dir: &Path, name: &str) -> Result<String, PlotError> {
    std::fs::read_to_string(dir.join(name)).map_err(|source| PlotError::Io {
        path: dir.join(name).display().to_string(),
        source,
    })
}

fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Format(format!("drawing failed: {e:?}"))
}

/// Renders an SVG into a string with `f`, then writes it atomically.
fn svg(
    dir: &Path,
    name: &str,
    size: (u32, u32),
    f: impl FnOnce(DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), PlotError>,
) -> Result<String, PlotError> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        f(root.clone())?;
        root.present().map_err(draw_err)?;
    }
    crate::workflow::results::write_atomic(&dir.join(name), text.as_bytes()).map_err(|source| {
        PlotError::Io {
            path: dir.join(name).display().to_string(),
            source,
        }
    })?;
    Ok(name.to_string())
}

const COLOURS: [RGBColor; 13] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
    RGBColor(174, 199, 232),
    RGBColor(255, 187, 120),
];

/// A legend entry: a short line in the series' colour.
fn legend_line(col: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], col.stroke_width(2))
}

/// Draws a chart's legend, boxed on a translucent white background.
fn draw_legend<'a, DB, CT>(
    c: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> Result<(), PlotError>
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    c.configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(draw_err)
}

/// `(latency ms, percentile)` points of a `.hgrm` file.
pub fn parse_hgrm(text: &str) -> Vec<(f64, f64)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let v: f64 = it.next()?.parse().ok()?;
            let p: f64 = it.next()?.parse().ok()?;
            Some((v, p))
        })
        .collect()
}

/// Redraws every plot the folder's files allow; returns the files written.
pub fn plot_all(dir: &Path) -> Result<Vec<String>, PlotError> {
    let mut out = Vec::new();
    if dir.join("summary.json").exists() && dir.join("timeseries.csv").exists() {
        out.push(latency_cdf(dir)?);
        out.push(queues(dir)?);
    }
    if dir.join("timeline.csv").exists() {
        out.push(timeline(dir)?);
    }
    if dir.join("sweep.csv").exists() {
        out.extend(sweep(dir)?);
    }
    if dir.join("years.csv").exists() && dir.join("tornado.csv").exists() {
        out.extend(risk::plot_study(dir)?);
    }
    if out.is_empty() {
        return Err(PlotError::Format(format!(
            "{}: no results to plot (summary.json with timeseries.csv, timeline.csv, sweep.csv, or a risk study's years.csv and tornado.csv)",
            dir.display()
        )));
    }
    Ok(out)
}

fn latency_cdf(dir: &Path) -> Result<String, PlotError> {
    let mut series = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|source| PlotError::Io {
        path: dir.display().to_string(),
        source,
    })? {
        let name = e
            .map_err(|source| PlotError::Io {
                path: dir.display().to_string(),
                source,
            })?
            .file_name()
            .to_string_lossy()
            .into_owned();
        let Some(kind) = name
            .strip_prefix("latency_")
            .and_then(|s| s.strip_suffix(".hgrm"))
        else {
            continue;
        };
        // End-to-end files only (per-hop files have a hop suffix).
        if crate::models::system::stats::Hop::ALL
            .iter()
            .any(|h| kind.ends_with(h.as_str()))
        {
            continue;
        }
        let pts: Vec<(f64, f64)> = parse_hgrm(&read(dir, &name)?)
            .into_iter()
            .filter(|(v, _)| *v > 0.0)
            .map(|(v, p)| (v / 1e3, p))
            .collect();
        if pts.len() >= 2 {
            series.push((kind.to_string(), pts));
        }
    }
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let (lo, hi) = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|x| x.0))
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo.is_finite() {
        (lo * 0.8, hi * 1.25)
    } else {
        (0.01, 100.0)
    };
    svg(dir, "latency_cdf.svg", (900, 560), |root| {
        let mut c = ChartBuilder::on(&root)
            .caption(
                "End-to-end latency by request type (CDF)",
                ("sans-serif", 22),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..1.0)
            .map_err(draw_err)?;
        c.configure_mesh()
            .x_desc("latency, seconds (log scale)")
            .y_desc("fraction completed within")
            .draw()
            .map_err(draw_err)?;
        for (i, (kind, pts)) in series.iter().enumerate() {
            let col = COLOURS[i % COLOURS.len()];
            c.draw_series(LineSeries::new(pts.iter().copied(), col.stroke_width(2)))
                .map_err(draw_err)?
                .label(kind.clone())
                .legend(legend_line(col));
        }
        draw_legend(&mut c, SeriesLabelPosition::LowerRight)?;
        Ok(())
    })
}

fn queues(dir: &Path) -> Result<String, PlotError> {
    let text = read(dir, "timeseries.csv")?;
    let mut by: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f.len() == 4 && f[2] == "queue_len_max" {
            let (Ok(t), Ok(v)) = (f[0].parse::<f64>(), f[3].parse::<f64>()) else {
                return Err(PlotError::Format(format!("timeseries.csv: bad row {l:?}")));
            };
            by.entry(f[1].to_string()).or_default().push((t / 60.0, v));
        }
    }
    let tmax = by
        .values()
        .flat_map(|v| v.iter().map(|p| p.0))
        .fold(0.0f64, f64::max)
        .max(1.0 / 60.0);
    let tmin = by
        .values()
        .flat_map(|v| v.iter().map(|p| p.0))
        .fold(tmax, f64::min);
    let vmax = by
        .values()
        .flat_map(|v| v.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    svg(dir, "queues.svg", (900, 520), |root| {
        let mut c = ChartBuilder::on(&root)
            .caption("Longest queue per minute", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(tmin..tmax, 0.0..(vmax * 1.1).max(1.0))
            .map_err(draw_err)?;
        c.configure_mesh()
            .x_desc("clock time, hours")
            .y_desc("jobs waiting")
            .draw()
            .map_err(draw_err)?;
        for (i, (name, pts)) in by.iter().enumerate() {
            let col = COLOURS[i % COLOURS.len()];
            c.draw_series(LineSeries::new(pts.iter().copied(), col.stroke_width(2)))
                .map_err(draw_err)?
                .label(name.clone())
                .legend(legend_line(col));
        }
        draw_legend(&mut c, SeriesLabelPosition::UpperRight)?;
        Ok(())
    })
}

/// Columns of `timeline.csv` by name.
fn columns(text: &str) -> Result<std::collections::HashMap<String, Vec<f64>>, PlotError> {
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| PlotError::Format("timeline.csv is empty".into()))?
        .split(',')
        .map(str::to_string)
        .collect();
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); header.len()];
    for l in lines {
        for (i, f) in l.split(',').enumerate() {
            let v = f
                .parse::<f64>()
                .map_err(|_| PlotError::Format(format!("timeline.csv: bad value {f:?}")))?;
            if let Some(c) = cols.get_mut(i) {
                c.push(v);
            }
        }
    }
    Ok(header.into_iter().zip(cols).collect())
}

/// Vertical marks of the timeline plot: the attack's start, detection,
/// containment and 95% restoration, in clock hours.
fn timeline_marks(summary: &Value) -> Vec<(&'static str, f64, RGBColor)> {
    let start = summary["attack"]["start_clock_s"].as_f64();
    let mut marks: Vec<(&'static str, f64, RGBColor)> = Vec::new();
    if let Some(s) = start {
        marks.push(("attack", s / 3600.0, RGBColor(214, 39, 40)));
        for (k, label, col) in [
            ("time_to_detect_s", "detect", RGBColor(255, 127, 14)),
            ("time_to_contain_s", "contain", RGBColor(148, 103, 189)),
            (
                "time_to_restore_95pct_s",
                "95% restored",
                RGBColor(44, 160, 44),
            ),
        ] {
            if let Some(d) = summary[k].as_f64() {
                marks.push((label, (s + d) / 3600.0, col));
            }
        }
    }
    marks
}

fn timeline(dir: &Path) -> Result<String, PlotError> {
    let cols = columns(&read(dir, "timeline.csv")?)?;
    let get = |k: &str| {
        cols.get(k)
            .cloned()
            .ok_or_else(|| PlotError::Format(format!("timeline.csv has no column {k}")))
    };
    let (t, all_off, off, mw, fmin, fmax) = (
        get("time_s")?,
        get("meters_off")?,
        get("meters_off_by_attack")?,
        get("mw_off_by_attack")?,
        get("frequency_min_hz")?,
        get("frequency_max_hz")?,
    );
    let hours: Vec<f64> = t.iter().map(|s| s / 3600.0).collect();
    let summary: Value = read(dir, "summary.json")
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null);
    let marks = timeline_marks(&summary);
    let (t0, t1) = (
        hours.first().copied().unwrap_or(0.0),
        hours
            .last()
            .copied()
            .unwrap_or(1.0)
            .max(hours.first().copied().unwrap_or(0.0) + 1e-3),
    );
    let title = format!(
        "{}: meters off, MW disconnected, frequency",
        summary["attack"]["kind"].as_str().unwrap_or("run")
    );
    svg(dir, "timeline.svg", (1000, 900), |root| {
        let root = root.titled(&title, ("sans-serif", 22)).map_err(draw_err)?;
        let panels = root.split_evenly((3, 1));
        let fmin_v = fmin
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
            .min(49.95);
        let fmax_v = fmax
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
            .max(50.05);
        type Panel<'a> = (&'a str, &'a [f64], Option<&'a [f64]>, f64, f64);
        let specs: [Panel<'_>; 3] = [
            (
                "meters off (by attack; all causes)",
                &off,
                Some(&all_off),
                0.0,
                all_off
                    .iter()
                    .chain(off.iter())
                    .copied()
                    .fold(1.0, f64::max)
                    * 1.1,
            ),
            (
                "MW disconnected by attack",
                &mw,
                None,
                0.0,
                mw.iter().copied().fold(1e-3, f64::max) * 1.1,
            ),
            (
                "frequency, Hz (min and max per second)",
                &fmin,
                Some(&fmax),
                fmin_v,
                fmax_v,
            ),
        ];
        for (panel, (label, ys, ys2, lo, hi)) in panels.iter().zip(specs) {
            let mut c = ChartBuilder::on(panel)
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(75)
                .build_cartesian_2d(t0..t1, lo..hi)
                .map_err(draw_err)?;
            c.configure_mesh()
                .x_desc("clock time, hours")
                .y_desc(label)
                .draw()
                .map_err(draw_err)?;
            c.draw_series(LineSeries::new(
                hours.iter().copied().zip(ys.iter().copied()),
                COLOURS[0].stroke_width(2),
            ))
            .map_err(draw_err)?;
            if let Some(ys2) = ys2 {
                c.draw_series(LineSeries::new(
                    hours.iter().copied().zip(ys2.iter().copied()),
                    COLOURS[1].stroke_width(1),
                ))
                .map_err(draw_err)?;
            }
            for (name, x, col) in &marks {
                let col = *col;
                c.draw_series(LineSeries::new([(*x, lo), (*x, hi)], col.stroke_width(2)))
                    .map_err(draw_err)?
                    .label(*name)
                    .legend(legend_line(col));
            }
            if !marks.is_empty() {
                draw_legend(&mut c, SeriesLabelPosition::UpperRight)?;
            }
        }
        Ok(())
    })
}

/// Sweep plots: each metric's mean against the first varied key, with 95%
/// confidence intervals, one line per setting of the other keys.
fn sweep(dir: &Path) -> Result<Vec<String>, PlotError> {
    let text = read(dir, "sweep.csv")?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let idx = |k: &str| {
        header
            .iter()
            .position(|h| *h == k)
            .ok_or_else(|| PlotError::Format(format!("sweep.csv has no column {k}")))
    };
    let (im, imean, ilo, ihi) = (
        idx("metric")?,
        idx("mean")?,
        idx("ci95_low")?,
        idx("ci95_high")?,
    );
    let ix = 0; // the first varied key
    let xname = header[ix].to_string();
    type Rows = std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, Vec<(f64, f64, f64, f64)>>,
    >;
    let mut by: Rows = Default::default();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        let Ok(x) = f[ix].parse::<f64>() else {
            continue; // non-numeric settings are not plotted
        };
        let num = |i: usize| f[i].parse::<f64>().unwrap_or(f64::NAN);
        let rest: Vec<&str> = f[1..im].to_vec();
        by.entry(f[im].to_string())
            .or_default()
            .entry(rest.join(" "))
            .or_default()
            .push((x, num(imean), num(ilo), num(ihi)));
    }
    let mut out = Vec::new();
    for metric in [
        "meters_disconnected_max",
        "mw_disconnected_max",
        "time_to_contain_s",
        // Capacity: where the knee is (reads queue at the DSP like
        // everything else, and never wait for a gas meter's wake-up).
        "requests.scheduled_read.latency_ms_p99",
        "components.dsp.utilisation_peak",
    ] {
        let Some(groups) = by.get(metric) else {
            continue;
        };
        let pts: Vec<&(f64, f64, f64, f64)> = groups.values().flatten().collect();
        let (xlo, xhi) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
            (a.0.min(p.0), a.1.max(p.0))
        });
        let yhi = pts
            .iter()
            .map(|p| if p.3.is_finite() { p.3 } else { p.1 })
            .fold(0.0f64, f64::max);
        let pad = ((xhi - xlo) * 0.05).max(0.5);
        let name = format!("sweep_{metric}.svg");
        let xname = xname.clone();
        out.push(svg(dir, &name, (900, 560), |root| {
            let mut c = ChartBuilder::on(&root)
                .caption(
                    format!("{metric} against {xname} (mean, 95% CI)"),
                    ("sans-serif", 20),
                )
                .margin(15)
                .x_label_area_size(45)
                .y_label_area_size(80)
                .build_cartesian_2d((xlo - pad)..(xhi + pad), 0.0..(yhi * 1.1).max(1.0))
                .map_err(draw_err)?;
            c.configure_mesh()
                .x_desc(xname.as_str())
                .y_desc(metric)
                .draw()
                .map_err(draw_err)?;
            for (i, (label, pts)) in groups.iter().enumerate() {
                let col = COLOURS[i % COLOURS.len()];
                let mut pts = pts.clone();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                let s = c
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.0, p.1)),
                        col.stroke_width(2),
                    ))
                    .map_err(draw_err)?;
                if !label.is_empty() {
                    s.label(label.clone()).legend(legend_line(col));
                }
                c.draw_series(
                    pts.iter()
                        .filter(|p| p.2.is_finite())
                        .map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, col.filled(), 10)),
                )
                .map_err(draw_err)?;
            }
            if groups.len() > 1 {
                draw_legend(&mut c, SeriesLabelPosition::UpperLeft)?;
            }
            Ok(())
        })?);
    }
    Ok(out)
}
