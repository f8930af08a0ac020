//! The dashboard's accessible SVG charts: vertical bars with interval whiskers, and the forest
//! plot of adjusted rate ratios. Each is followed on the page by a table of the same figures.

use maud::{html, Markup};

const BLUE: &str = "#005eb8";
const TEXT: &str = "#212b32";
const GREY: &str = "#4c6272";

/// A bar: label, value (`None` when suppressed), optional interval.
pub(super) type Bar = (String, Option<f64>, Option<(f64, f64)>);

/// Vertical bars with optional interval whiskers; `None` values (suppressed) draw no bar and
/// say so under the axis.
pub(super) fn bar_chart(id: &str, title: &str, desc: &str, bars: &[Bar]) -> Markup {
    let (w, h, pl, pr, pt, pb) = (640.0, 260.0, 64.0, 16.0, 16.0, 48.0);
    let max = bars
        .iter()
        .filter_map(|(_, v, ci)| ci.map(|c| c.1).or(*v))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let slot = (w - pl - pr) / bars.len().max(1) as f64;
    let y = |v: f64| pt + (1.0 - v / max) * (h - pt - pb);
    html! {
        figure.no-break {
            svg width="100%" viewBox={ "0 0 " (w) " " (h) } role="img" aria-labelledby={ (id) "-t " (id) "-d" } xmlns="http://www.w3.org/2000/svg" {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (desc) " The figures are in the table below." }
                line x1=(pl) y1=(pt) x2=(pl) y2=(h - pb) stroke=(GREY) {}
                line x1=(pl) y1=(h - pb) x2=(w - pr) y2=(h - pb) stroke=(GREY) {}
                @for v in [0.0, max / 2.0, max] {
                    text x=(pl - 6.0) y=(y(v) + 4.0) text-anchor="end" font-size="12" fill=(TEXT) { (format!("{v:.0}")) }
                }
                @for (i, (label, v, ci)) in bars.iter().enumerate() {
                    @let cx = pl + slot * (i as f64 + 0.5);
                    @if let Some(v) = v {
                        rect x=(format!("{:.1}", cx - slot * 0.3)) y=(format!("{:.1}", y(*v))) width=(format!("{:.1}", slot * 0.6)) height=(format!("{:.1}", (h - pb - y(*v)).max(0.0))) fill=(BLUE) {}
                    } @else {
                        text x=(format!("{cx:.1}")) y=(h - pb - 6.0) text-anchor="middle" font-size="12" fill=(GREY) { "suppressed" }
                    }
                    @if let Some((lo, hi)) = ci {
                        line x1=(format!("{cx:.1}")) x2=(format!("{cx:.1}")) y1=(format!("{:.1}", y(*lo))) y2=(format!("{:.1}", y(*hi))) stroke=(TEXT) stroke-width="2" {}
                        line x1=(format!("{:.1}", cx - 8.0)) x2=(format!("{:.1}", cx + 8.0)) y1=(format!("{:.1}", y(*lo))) y2=(format!("{:.1}", y(*lo))) stroke=(TEXT) stroke-width="2" {}
                        line x1=(format!("{:.1}", cx - 8.0)) x2=(format!("{:.1}", cx + 8.0)) y1=(format!("{:.1}", y(*hi))) y2=(format!("{:.1}", y(*hi))) stroke=(TEXT) stroke-width="2" {}
                    }
                    text x=(format!("{cx:.1}")) y=(h - pb + 18.0) text-anchor="middle" font-size="13" fill=(TEXT) { (label) }
                }
            }
        }
    }
}

/// Forest plot of adjusted rate ratios (log scale) with a reference line at 1.
pub(super) fn forest_plot(id: &str, rows: &[(String, f64, f64, f64)]) -> Markup {
    let row_h = 22.0;
    let (w, pl, pr, pt, pb) = (640.0, 260.0, 24.0, 16.0, 36.0);
    let h = pt + pb + row_h * rows.len() as f64;
    let lo = rows
        .iter()
        .map(|r| r.2)
        .fold(0.5f64, f64::min)
        .max(0.05)
        .ln();
    let hi = rows
        .iter()
        .map(|r| r.3)
        .fold(1.5f64, f64::max)
        .min(20.0)
        .ln();
    let x = |v: f64| pl + (v.clamp(lo.exp(), hi.exp()).ln() - lo) / (hi - lo) * (w - pl - pr);
    html! {
        figure.no-break {
            svg width="100%" viewBox={ "0 0 " (w) " " (h) } role="img" aria-labelledby={ (id) "-t " (id) "-d" } xmlns="http://www.w3.org/2000/svg" {
                title id={ (id) "-t" } { "Adjusted rate ratios against activation level 1 (Poisson model, cluster-robust 95% intervals)" }
                desc id={ (id) "-d" } { "Forest plot on a log scale with a reference line at 1; a ratio below 1 means fewer events than people at level 1 with the same age band, sex, deprivation and number of conditions. Observational associations, not effects. The figures are in the table below." }
                line x1=(format!("{:.1}", x(1.0))) x2=(format!("{:.1}", x(1.0))) y1=(pt) y2=(h - pb) stroke=(GREY) stroke-dasharray="4 3" {}
                @for v in [0.25, 0.5, 1.0, 2.0, 4.0] {
                    @if v >= lo.exp() && v <= hi.exp() {
                        text x=(format!("{:.1}", x(v))) y=(h - pb + 18.0) text-anchor="middle" font-size="12" fill=(TEXT) { (v) }
                    }
                }
                @for (i, (label, irr, l, u)) in rows.iter().enumerate() {
                    @let cy = pt + row_h * (i as f64 + 0.5);
                    text x="4" y=(format!("{:.1}", cy + 4.0)) font-size="12" fill=(TEXT) { (label) }
                    line x1=(format!("{:.1}", x(*l))) x2=(format!("{:.1}", x(*u))) y1=(format!("{cy:.1}")) y2=(format!("{cy:.1}")) stroke=(TEXT) stroke-width="2" {}
                    circle cx=(format!("{:.1}", x(*irr))) cy=(format!("{cy:.1}")) r="5" fill=(BLUE) {}
                }
            }
        }
    }
}
