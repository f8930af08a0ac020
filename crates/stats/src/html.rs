//! Self-contained HTML rendering of a [`Report`]: one file, inline CSS with print styles,
//! accessible tables (captions, header scopes) and inline SVG charts (crude rates by level
//! with intervals; forest plot of adjusted rate ratios), each chart repeating what a table
//! beside it states so nothing depends on seeing the picture.
//!
//! It must never load anything from the network (no scripts, fonts or images), and never show
//! a value the report has suppressed.

use std::fmt::Write;

use crate::report::{CrudeRate, ModelReport, OutcomeReport, Report, SUPPRESSED};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        _ => "–".into(),
    }
}

fn pval(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "&lt;0.001".into(),
        Some(p) => format!("{p:.3}"),
        None => "–".into(),
    }
}

fn count(v: Option<u64>, suppressed: bool) -> String {
    if suppressed {
        SUPPRESSED.into()
    } else {
        v.map(group_digits).unwrap_or_else(|| "–".into())
    }
}

fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const CSS: &str = r#"
:root { --ink:#0b0c0c; --muted:#505a5f; --line:#b1b4b6; --blue:#005eb8; --dark:#003087; --warm:#ffeb3b; --bg:#f0f4f5; }
* { box-sizing: border-box; }
body { font-family: Arial, Helvetica, sans-serif; color: var(--ink); margin: 0; line-height: 1.45; background: #fff; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 2rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.5rem; margin-top: 2.5rem; border-top: 2px solid var(--line); padding-top: 1rem; }
h3 { font-size: 1.15rem; margin-top: 1.5rem; }
.caveat { border-left: 10px solid var(--blue); background: var(--bg); padding: 1rem 1.25rem; margin: 1rem 0 1.5rem; }
.caveat strong { display: block; font-size: 1.1rem; margin-bottom: .25rem; }
dl.meta { display: grid; grid-template-columns: 12rem 1fr; gap: .35rem 1rem; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .75rem 0 1.25rem; font-size: .95rem; }
caption { text-align: left; font-weight: bold; padding: .25rem 0 .5rem; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: right; vertical-align: top; }
th[scope=row], td.text, th.text { text-align: left; }
thead th { border-bottom: 2px solid var(--ink); }
.note { color: var(--muted); font-size: .9rem; }
.status { font-weight: bold; }
figure { margin: 1rem 0; }
figcaption { font-size: .9rem; color: var(--muted); }
svg text { font-family: Arial, Helvetica, sans-serif; font-size: 12px; fill: var(--ink); }
details { margin: .5rem 0 1rem; }
summary { cursor: pointer; color: var(--blue); }
a { color: var(--blue); }
:focus-visible { outline: 3px solid var(--warm); outline-offset: 2px; }
@media print {
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  h2 { break-before: page; border-top: none; }
  h2.first { break-before: auto; }
  table, figure { break-inside: avoid; }
  details > *:not(summary) { display: block; }
  summary { display: none; }
  a { color: inherit; text-decoration: none; }
  .caveat { border-left-color: #000; background: none; }
}
"#;

impl Report {
    /// Renders the report as one self-contained HTML document.
    pub fn to_html(&self) -> String {
        let mut h = String::with_capacity(64 * 1024);
        let title = escape(&self.title);
        let _ = write!(
            h,
            "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{title}</h1>\n"
        );
        let _ = writeln!(
            h,
            "<div class=\"caveat\" role=\"note\"><strong>Observational associations, not proof of effect</strong>{}</div>",
            escape(&self.interpretation)
        );
        // About the data.
        h.push_str(
            "<h2 class=\"first\" id=\"about\">About these figures</h2>\n<dl class=\"meta\">\n",
        );
        let meta = [
            ("Population", self.population.description.clone()),
            ("Period", self.period.description.clone()),
            ("Exposure", self.exposure_definition.clone()),
            ("Adjusted for", self.covariates.join("; ")),
            ("Methods", self.methods.join("; ")),
            ("Small numbers", self.suppression.rule.clone()),
        ];
        for (k, v) in meta {
            let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
        }
        h.push_str("</dl>\n");
        self.inputs_html(&mut h);
        // Population by level.
        h.push_str("<table>\n<caption>Observation periods and person-years by activation level</caption>\n<thead><tr><th scope=\"col\" class=\"text\">Activation level</th><th scope=\"col\">Periods</th><th scope=\"col\">Person-years</th></tr></thead>\n<tbody>\n");
        for l in &self.population.by_level {
            let _ = writeln!(
                h,
                "<tr><th scope=\"row\">Level {}</th><td>{}</td><td>{}</td></tr>",
                l.level,
                count(l.periods, l.suppressed),
                num(Some(l.person_years), 1)
            );
        }
        h.push_str("</tbody>\n</table>\n");
        // Contents.
        h.push_str("<nav aria-label=\"Outcomes\"><h2 id=\"contents\">Outcomes</h2><ul>\n");
        for o in &self.outcomes {
            let _ = writeln!(
                h,
                "<li><a href=\"#{}\">{}</a></li>",
                o.outcome,
                escape(o.label)
            );
        }
        if self.activation_change.is_some() {
            h.push_str("<li><a href=\"#activation\">Change in activation</a></li>\n");
        }
        h.push_str("</ul></nav>\n");
        for o in &self.outcomes {
            outcome_html(&mut h, o);
        }
        if let Some(a) = &self.activation_change {
            activation_html(&mut h, a);
        }
        h.push_str("</main>\n</body>\n</html>\n");
        h
    }

    fn inputs_html(&self, h: &mut String) {
        let i = &self.inputs;
        let _ = write!(
            h,
            "<table>\n<caption>Input rows</caption>\n<thead><tr><th scope=\"col\" class=\"text\">File</th><th scope=\"col\">Rows</th><th scope=\"col\">Rejected</th><th scope=\"col\" class=\"text\">Not counted</th></tr></thead>\n<tbody>\n\
             <tr><th scope=\"row\">people.csv</th><td>{}</td><td>{}</td><td class=\"text\">–</td></tr>\n\
             <tr><th scope=\"row\">events.csv</th><td>{}</td><td>{}</td><td class=\"text\">{} for people not in people.csv; {} outside observation periods; {} counted</td></tr>\n\
             <tr><th scope=\"row\">measurements.csv</th><td>{}</td><td>{}</td><td class=\"text\">–</td></tr>\n</tbody>\n</table>\n",
            group_digits(i.people_rows),
            group_digits(i.people_rejected),
            group_digits(i.event_rows),
            group_digits(i.events_rejected),
            group_digits(i.events_unknown_person),
            group_digits(i.events_outside_periods),
            group_digits(i.events_counted),
            group_digits(i.measurement_rows),
            group_digits(i.measurements_rejected),
        );
        if !i.rejected_rows.is_empty() {
            let _ = write!(
                h,
                "<details><summary>Rejected rows ({} listed{})</summary>\n<table>\n<caption>Rejected rows</caption>\n<thead><tr><th scope=\"col\" class=\"text\">File</th><th scope=\"col\">Line</th><th scope=\"col\" class=\"text\">Reason</th></tr></thead>\n<tbody>\n",
                i.rejected_rows.len(),
                if i.rejected_rows_truncated { ", more not listed" } else { "" }
            );
            for r in &i.rejected_rows {
                let _ = writeln!(
                    h,
                    "<tr><td class=\"text\">{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
                    r.file,
                    r.line,
                    escape(&r.reason)
                );
            }
            h.push_str("</tbody>\n</table>\n</details>\n");
        }
    }
}

fn level_name(l: Option<u8>) -> String {
    l.map(|l| format!("Level {l}"))
        .unwrap_or_else(|| "All levels".into())
}

fn outcome_html(h: &mut String, o: &OutcomeReport) {
    let _ = writeln!(
        h,
        "<section aria-labelledby=\"{0}\">\n<h2 id=\"{0}\">{1}</h2>",
        o.outcome,
        escape(o.label)
    );
    if o.status == "no_events" {
        h.push_str("<p class=\"status\">No events of this kind were recorded in the observation periods, so no rates or models are reported.</p>\n</section>\n");
        return;
    }
    let _ = writeln!(
        h,
        "<p>Events counted: {}.</p>",
        count(o.events, o.suppressed)
    );
    rates_chart(h, o);
    let _ = write!(
        h,
        "<table>\n<caption>{}: crude rates per 1,000 person-years (exact 95% intervals)</caption>\n<thead><tr><th scope=\"col\" class=\"text\">Activation level</th><th scope=\"col\">Events</th><th scope=\"col\">Person-years</th><th scope=\"col\">Rate</th><th scope=\"col\">95% interval</th></tr></thead>\n<tbody>\n",
        escape(o.label)
    );
    for c in &o.crude {
        let ci = if c.suppressed {
            SUPPRESSED.to_string()
        } else {
            format!("{} to {}", num(c.ci_low, 1), num(c.ci_high, 1))
        };
        let rate = if c.suppressed {
            SUPPRESSED.to_string()
        } else {
            num(c.rate_per_1000, 1)
        };
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            level_name(c.level),
            count(c.events, c.suppressed),
            num(Some(c.person_years), 1),
            rate,
            ci
        );
    }
    h.push_str("</tbody>\n</table>\n");
    if let Some(m) = &o.models {
        forest_chart(h, o, &m.poisson, &m.negative_binomial);
        let _ = write!(
            h,
            "<table>\n<caption>{}: adjusted rate ratios against level 1 (95% intervals)</caption>\n<thead><tr><th scope=\"col\" class=\"text\">Activation level</th><th scope=\"col\">Poisson (robust)</th><th scope=\"col\">p</th><th scope=\"col\">Negative binomial</th><th scope=\"col\">p</th></tr></thead>\n<tbody>\n",
            escape(o.label)
        );
        for lvl in 2..=4 {
            let name = format!("level_{lvl}");
            let cell = |mr: &ModelReport| -> (String, String) {
                match mr.terms.iter().find(|t| t.term == name) {
                    Some(t) if t.irr.is_some() => (
                        format!(
                            "{} ({} to {})",
                            num(t.irr, 2),
                            num(t.ci_low, 2),
                            num(t.ci_high, 2)
                        ),
                        pval(t.p),
                    ),
                    Some(t) => (
                        escape(t.note.as_deref().unwrap_or("not estimable")),
                        "–".into(),
                    ),
                    None => (
                        escape(mr.reason.as_deref().unwrap_or("not estimable")),
                        "–".into(),
                    ),
                }
            };
            let (pi, pp) = cell(&m.poisson);
            let (ni, np) = cell(&m.negative_binomial);
            let _ = writeln!(
                h,
                "<tr><th scope=\"row\">Level {lvl}</th><td>{pi}</td><td>{pp}</td><td>{ni}</td><td>{np}</td></tr>"
            );
        }
        h.push_str("</tbody>\n</table>\n");
        if let Some(a) = m.negative_binomial.alpha {
            let _ = writeln!(
                h,
                "<p class=\"note\">Negative binomial dispersion alpha = {} (SE {}). Poisson intervals use cluster-robust standard errors by person.</p>",
                num(Some(a), 4),
                num(m.negative_binomial.alpha_se, 4)
            );
        }
        for (label, mr) in [
            ("Poisson model, all terms", &m.poisson),
            ("Negative binomial model, all terms", &m.negative_binomial),
        ] {
            let _ = writeln!(h, "<details><summary>{label}</summary>");
            if mr.status != "ok" {
                let _ = writeln!(
                    h,
                    "<p class=\"status\">Not estimable: {}</p>",
                    escape(mr.reason.as_deref().unwrap_or(""))
                );
            } else {
                let _ = write!(
                    h,
                    "<table>\n<caption>{}: {}</caption>\n<thead><tr><th scope=\"col\" class=\"text\">Term</th><th scope=\"col\">Coefficient</th><th scope=\"col\">SE</th><th scope=\"col\">Rate ratio</th><th scope=\"col\">95% interval</th><th scope=\"col\">p</th></tr></thead>\n<tbody>\n",
                    escape(o.label),
                    label
                );
                for t in &mr.terms {
                    let _ = writeln!(
                        h,
                        "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        t.term,
                        num(t.coef, 4),
                        num(t.se, 4),
                        t.irr.map(|_| num(t.irr, 3)).unwrap_or_else(|| escape(t.note.as_deref().unwrap_or("–"))),
                        if t.irr.is_some() { format!("{} to {}", num(t.ci_low, 3), num(t.ci_high, 3)) } else { "–".into() },
                        pval(t.p)
                    );
                }
                h.push_str("</tbody>\n</table>\n<p class=\"note\">The intercept's ratio is the modelled rate per person-year for the reference group.</p>\n");
            }
            h.push_str("</details>\n");
        }
    }
    h.push_str("</section>\n");
}

/// Bar-free dot-and-interval chart of crude rates by level.
fn rates_chart(h: &mut String, o: &OutcomeReport) {
    let rows: Vec<&CrudeRate> = o.crude.iter().filter(|c| c.level.is_some()).collect();
    let max = rows.iter().filter_map(|c| c.ci_high).fold(0.0f64, f64::max);
    if max <= 0.0 {
        return;
    }
    let (w, left, right, top, row_h) = (560.0, 90.0, 30.0, 20.0, 34.0);
    let height = top + row_h * rows.len() as f64 + 40.0;
    let scale = |v: f64| left + (w - left - right) * v / (max * 1.05);
    let id = format!("rates-{}", o.outcome);
    let _ = write!(
        h,
        "<figure>\n<svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {w} {height}\" width=\"100%\" style=\"max-width:{w}px\">\n<title id=\"{id}-t\">{}: crude rate per 1,000 person-years by activation level</title>\n<desc id=\"{id}-d\">Dots show rates and lines their exact 95% intervals; the values are in the table below.</desc>\n",
        escape(o.label)
    );
    let axis_y = top + row_h * rows.len() as f64;
    let _ = writeln!(
        h,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{axis_y}\" stroke=\"#505a5f\"/>"
    );
    let _ = writeln!(
        h,
        "<line x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#505a5f\"/>",
        w - right
    );
    for k in 0..=4 {
        let v = max * 1.05 * k as f64 / 4.0;
        let x = scale(v);
        let _ = writeln!(
            h,
            "<line x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#505a5f\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            axis_y + 5.0,
            axis_y + 18.0,
            num(Some(v), 0)
        );
    }
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">per 1,000 person-years</text>",
        left + (w - left - right) / 2.0,
        axis_y + 34.0
    );
    for (i, c) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 4.0,
            level_name(c.level)
        );
        match (c.rate_per_1000, c.ci_low, c.ci_high) {
            (Some(r), Some(lo), Some(hi)) => {
                let _ = writeln!(
                    h,
                    "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#003087\" stroke-width=\"2\"/><circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"#005eb8\"/>",
                    scale(lo),
                    scale(hi),
                    scale(r)
                );
            }
            _ => {
                let _ = writeln!(
                    h,
                    "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                    left + 6.0,
                    y + 4.0,
                    if c.suppressed {
                        "[c] suppressed"
                    } else {
                        "no data"
                    }
                );
            }
        }
    }
    h.push_str("</svg>\n<figcaption>Crude rates by activation level with exact 95% intervals.</figcaption>\n</figure>\n");
}

/// Forest plot of level 2–4 rate ratios from both models on a log scale.
fn forest_chart(h: &mut String, o: &OutcomeReport, pois: &ModelReport, nb: &ModelReport) {
    let mut rows = Vec::new();
    for lvl in 2..=4 {
        let name = format!("level_{lvl}");
        for (label, mr, colour) in [
            ("Poisson", pois, "#005eb8"),
            ("Neg. binomial", nb, "#330072"),
        ] {
            if let Some(t) = mr.terms.iter().find(|t| t.term == name) {
                if let (Some(e), Some(lo), Some(hi)) = (t.irr, t.ci_low, t.ci_high) {
                    rows.push((format!("Level {lvl} · {label}"), e, lo, hi, colour));
                }
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    let lo_all = rows.iter().map(|r| r.2).fold(1.0f64, f64::min).min(0.5);
    let hi_all = rows.iter().map(|r| r.3).fold(1.0f64, f64::max).max(1.5);
    let (lmin, lmax) = (lo_all.ln(), hi_all.ln());
    let (w, left, right, top, row_h) = (560.0, 150.0, 30.0, 16.0, 24.0);
    let axis_y = top + row_h * rows.len() as f64;
    let height = axis_y + 44.0;
    let scale = |v: f64| left + (w - left - right) * (v.ln() - lmin) / (lmax - lmin);
    let id = format!("forest-{}", o.outcome);
    let _ = write!(
        h,
        "<figure>\n<svg role=\"img\" aria-labelledby=\"{id}-t {id}-d\" viewBox=\"0 0 {w} {height}\" width=\"100%\" style=\"max-width:{w}px\">\n<title id=\"{id}-t\">{}: adjusted rate ratios against activation level 1</title>\n<desc id=\"{id}-d\">Forest plot on a log scale with a reference line at 1; below 1 means fewer events than level 1. The values are in the table below.</desc>\n",
        escape(o.label)
    );
    let x1 = scale(1.0);
    let _ = writeln!(h, "<line x1=\"{x1:.1}\" y1=\"{top}\" x2=\"{x1:.1}\" y2=\"{axis_y}\" stroke=\"#0b0c0c\" stroke-dasharray=\"4 3\"/>");
    let _ = writeln!(
        h,
        "<line x1=\"{left}\" y1=\"{axis_y}\" x2=\"{}\" y2=\"{axis_y}\" stroke=\"#505a5f\"/>",
        w - right
    );
    for tick in [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0] {
        if tick < lo_all || tick > hi_all {
            continue;
        }
        let x = scale(tick);
        let _ = writeln!(
            h,
            "<line x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#505a5f\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{tick}</text>",
            axis_y + 5.0,
            axis_y + 18.0
        );
    }
    let _ = writeln!(
        h,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">rate ratio (log scale)</text>",
        left + (w - left - right) / 2.0,
        axis_y + 34.0
    );
    for (i, (label, e, lo, hi, colour)) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        let _ = writeln!(
            h,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text><line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/><rect x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\" fill=\"{colour}\"/>",
            left - 8.0,
            y + 4.0,
            scale(*lo),
            scale(*hi),
            scale(*e) - 4.5,
            y - 4.5
        );
    }
    h.push_str("</svg>\n<figcaption>Adjusted rate ratios with 95% intervals (log scale); the dashed line marks no difference from level 1.</figcaption>\n</figure>\n");
}

fn activation_html(h: &mut String, a: &crate::activation::ActivationChange) {
    h.push_str("<section aria-labelledby=\"activation\">\n<h2 id=\"activation\">Change in activation</h2>\n");
    let _ = writeln!(
        h,
        "<p>People measured at least once: {}. Measured on two or more dates: {}.</p>",
        group_digits(a.people_measured),
        count(a.people_measured_twice, a.suppressed)
    );
    let mean = if a.suppressed {
        SUPPRESSED.to_string()
    } else {
        format!(
            "{} (95% interval {} to {})",
            num(a.mean_change, 2),
            num(a.ci_low, 2),
            num(a.ci_high, 2)
        )
    };
    let share = if a.improvement.suppressed {
        SUPPRESSED.to_string()
    } else {
        a.improvement
            .share
            .map(|s| format!("{:.1}%", 100.0 * s))
            .unwrap_or_else(|| "–".into())
    };
    let _ = write!(
        h,
        "<table>\n<caption>Change in activation score</caption>\n<tbody>\n\
         <tr><th scope=\"row\">Mean change, last minus first</th><td>{mean}</td></tr>\n\
         <tr><th scope=\"row\">Improved by 3 points or more within 12 months</th><td>{} of {} ({share})</td></tr>\n\
         </tbody>\n</table>\n",
        count(a.improvement.improved, a.improvement.improved.is_none()),
        count(a.improvement.eligible, a.improvement.eligible.is_none()),
    );
    h.push_str("<table>\n<caption>Movement between activation levels, first to last measurement (people)</caption>\n<thead><tr><th scope=\"col\" class=\"text\">First level</th>");
    for j in 1..=4 {
        let _ = write!(h, "<th scope=\"col\">Last: level {j}</th>");
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, row) in a.movement.iter().enumerate() {
        let _ = write!(h, "<tr><th scope=\"row\">Level {}</th>", i + 1);
        for v in row {
            let _ = write!(h, "<td>{}</td>", count(*v, v.is_none()));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n<ul class=\"note\">\n");
    for d in &a.definitions {
        let _ = writeln!(h, "<li>{}</li>", escape(d));
    }
    h.push_str("</ul>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(group_digits(12), "12");
        assert_eq!(pval(Some(0.0004)), "&lt;0.001");
    }
}
