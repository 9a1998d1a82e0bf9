//! The report's plots, drawn by plotters into SVG strings for inlining in the HTML: grouped bars
//! (a value per category per series, with an optional interval as a whisker) and curves (a
//! value per ordered category per series). Categories sit on integer x positions and are
//! labelled by hand, so every category gets its label whatever its count.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Series colours, in system order; a colour-blind-safe set.
const COLOURS: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
];

/// Height of the legend strip between the caption and the plot.
const LEGEND_ROW: u32 = 24;

/// One bar: the value and its interval `(low, high)` where known.
#[derive(Debug, Clone, Copy)]
pub struct Bar {
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

pub struct Series<T> {
    pub name: String,
    pub values: Vec<T>,
}

type Draw = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn width_for(categories: usize, per: u32) -> u32 {
    (160 + categories as u32 * per).clamp(480, 1600)
}

/// Grouped bars on a 0–1 scale: categories along x, one bar per series in each.
pub fn grouped_bars(
    title: &str,
    y_desc: &str,
    categories: &[String],
    series: &[Series<Bar>],
) -> Result<String, String> {
    let per = 16 * series.len().max(1) as u32 + 14;
    let mut svg = String::new();
    draw_bars(&mut svg, title, y_desc, categories, series, per)?;
    Ok(svg)
}

fn draw_bars(
    svg: &mut String,
    title: &str,
    y_desc: &str,
    categories: &[String],
    series: &[Series<Bar>],
    per: u32,
) -> Draw {
    let size = (width_for(categories.len(), per), 480);
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(170)
        .y_label_area_size(48)
        .set_label_area_size(LabelAreaPosition::Top, LEGEND_ROW)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..1.05)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;

    let width = 0.8 / series.len().max(1) as f64;
    for (s, line) in series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        let x0 = |c: usize| c as f64 - 0.4 + s as f64 * width;
        chart
            .draw_series(line.values.iter().enumerate().map(|(c, bar)| {
                Rectangle::new(
                    [(x0(c), 0.0), (x0(c) + width * 0.9, bar.value)],
                    colour.filled(),
                )
            }))
            .map_err(err)?;
        chart
            .draw_series(line.values.iter().enumerate().filter_map(|(c, bar)| {
                let (low, high) = bar.interval?;
                let x = x0(c) + width * 0.45;
                Some(PathElement::new(
                    vec![(x, low), (x, high)],
                    BLACK.stroke_width(1),
                ))
            }))
            .map_err(err)?;
    }
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    finish(&root, &chart, categories, &names, Swatch::Bar)
}

/// Curves on a 0–`y_max` scale over ordered categories, a point per value.
pub fn curves(
    title: &str,
    y_desc: &str,
    y_max: f64,
    categories: &[String],
    series: &[Series<f64>],
) -> Result<String, String> {
    let mut svg = String::new();
    draw_curves(&mut svg, title, y_desc, y_max, categories, series)?;
    Ok(svg)
}

fn draw_curves(
    svg: &mut String,
    title: &str,
    y_desc: &str,
    y_max: f64,
    categories: &[String],
    series: &[Series<f64>],
) -> Draw {
    let size = (width_for(categories.len(), 90), 440);
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let n = categories.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(170)
        .y_label_area_size(48)
        .set_label_area_size(LabelAreaPosition::Top, LEGEND_ROW)
        .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..y_max.max(1e-9) * 1.05)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_desc)
        .draw()
        .map_err(err)?;
    for (s, line) in series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        let points: Vec<(f64, f64)> = line
            .values
            .iter()
            .enumerate()
            .map(|(c, &v)| (c as f64, v))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(err)?;
    }
    let names: Vec<&str> = series.iter().map(|s| s.name.as_str()).collect();
    finish(&root, &chart, categories, &names, Swatch::Line)
}

/// How a series is drawn, and so its mark in the legend.
#[derive(Clone, Copy)]
enum Swatch {
    Bar,
    Line,
}

/// Category names, the legend and the drawing written out: how every plot ends.
fn finish<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    categories: &[String],
    series: &[&str],
    swatch: Swatch,
) -> Draw {
    label_categories(root, chart, categories)?;
    legend_row(root, chart, series, swatch)?;
    root.present().map_err(err)
}

/// The legend as one row in the strip above the plot, from its left edge: on screen however
/// wide the chart is (a wide chart's right edge can be beyond the window), and never over a bar
/// or a point.
fn legend_row<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    series: &[&str],
    swatch: Swatch,
) -> Draw {
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let y = ys.start - LEGEND_ROW as i32 / 2;
    let style = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let mut x = xs.start;
    for (s, name) in series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        match swatch {
            Swatch::Bar => root.draw(&Rectangle::new(
                [(x, y - 5), (x + 10, y + 5)],
                colour.filled(),
            )),
            Swatch::Line => root.draw(&PathElement::new(
                vec![(x, y), (x + 14, y)],
                colour.stroke_width(2),
            )),
        }
        .map_err(err)?;
        root.draw(&Text::new(name.to_string(), (x + 18, y), style.clone()))
            .map_err(err)?;
        // Text is not measured without a font backend: about 8 px a character at this size.
        x += 18 + 8 * name.chars().count() as i32 + 20;
    }
    Ok(())
}

/// Category names under the x axis, rotated so long names fit.
fn label_categories<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    categories: &[String],
) -> Draw {
    let style = ("sans-serif", 11)
        .into_font()
        .transform(FontTransform::Rotate270)
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (c, name) in categories.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(c as f64, 0.0));
        root.draw(&Text::new(name.clone(), (x, y + 8), style.clone()))
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_svg_with_every_category_and_series() {
        let cats = vec!["tail (1–10)".to_string(), "> 1000".to_string()];
        let bars = grouped_bars(
            "F1",
            "accuracy",
            &cats,
            &[Series {
                name: "prior".into(),
                values: vec![
                    Bar {
                        value: 0.5,
                        interval: Some((0.3, 0.7)),
                    },
                    Bar {
                        value: 0.9,
                        interval: None,
                    },
                ],
            }],
        )
        .unwrap();
        assert!(bars.starts_with("<svg"), "{}", &bars[..80]);
        assert!(
            bars.contains("tail (1–10)") && bars.contains("&gt; 1000") && bars.contains("prior")
        );
        let line = curves(
            "recall",
            "recall",
            1.0,
            &cats,
            &[Series {
                name: "kore50".into(),
                values: vec![0.2, 0.8],
            }],
        )
        .unwrap();
        assert!(
            line.contains("<polyline") || line.contains("<path"),
            "{line}"
        );
    }
}
