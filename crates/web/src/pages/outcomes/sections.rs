//! The dashboard's sections, each a chart followed by its table: reach, activation (with its
//! breakdowns), change in activation, and use of care by activation level.

use super::charts::{bar_chart, forest_plot, Bar};
use super::figures::{Figures, ReachFigures};
use super::POLICY;
use alongside_stats::disclosure::{CellId, Protected};
use alongside_stats::report::{OutcomeReport, Report};
use alongside_store::outcomes::OutcomeInputs;
use alongside_store::reach::{Measure, Reach};
use maud::{html, Markup};

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| POLICY.marker())
}

fn level_cells(p: &Protected, cells: &[CellId; 4], all: CellId) -> Markup {
    html! { @for c in cells { td.numeric { (p.text(*c)) } } td.numeric { (p.text(all)) } }
}

fn distribution_table(
    p: &Protected,
    caption: &str,
    head: &str,
    rows: &[(String, [CellId; 4], CellId)],
) -> Markup {
    html! {
        div.table-wrapper {
            table {
                caption { (caption) }
                thead { tr { th scope="col" { (head) } @for l in 1..=4 { th.numeric scope="col" { "Level " (l) } } th.numeric scope="col" { "All" } } }
                tbody { @for (k, c, all) in rows { tr { th scope="row" { (k) } (level_cells(p, c, *all)) } } }
            }
        }
    }
}

pub(super) fn activation_section(inputs: &OutcomeInputs, f: &Figures) -> Markup {
    let p = &f.p;
    let bars: Vec<Bar> = f
        .everyone
        .iter()
        .enumerate()
        .map(|(l, c)| {
            (
                format!("Level {}", l + 1),
                p.get(*c).map(|n| n as f64),
                None,
            )
        })
        .collect();
    let everyone = [("Everyone measured".to_string(), f.everyone, f.measured)];
    html! {
        h2 id="activation" { "Activation" }
        p { "Each person's latest scored questionnaire on or before " (inputs.window.to) "." }
        (bar_chart("chart-levels", "People by activation level", "Bar chart of the number of people at each activation level.", &bars))
        (distribution_table(p, "People by activation level", "Group", &everyone))
        @for b in &f.breakdowns {
            (distribution_table(p, &format!("Activation level by {}", b.caption.to_lowercase()), b.caption, &b.rows))
        }
    }
}

/// A share of the registered population, suppressed when either count is.
fn share_of_registered(n: Option<u64>, registered: Option<u64>) -> String {
    match (n, registered) {
        (Some(_), Some(0)) => "–".into(),
        (Some(n), Some(r)) => format!("{:.1}%", 100.0 * n as f64 / r as f64),
        _ => POLICY.marker(),
    }
}

/// Short labels for the reach chart's bars (the table gives the full wording).
fn reach_bar_label(m: Measure) -> &'static str {
    match m {
        Measure::ReferredToCoaching => "Referred",
        Measure::StartedCoaching => "Started",
        Measure::HadCoachingSession => "Session",
        Measure::EnrolledOnCourse => "Course place",
        Measure::CompletedCourse => "Completed",
        Measure::AttendedPeerSupport => "Peer support",
    }
}

pub(super) fn reach_section(f: &Figures, reach: &Reach, r: &ReachFigures) -> Markup {
    let registered = f.p.get(f.registered);
    let bars: Vec<Bar> = r
        .measures
        .iter()
        .map(|(m, people, _)| {
            (
                reach_bar_label(*m).to_string(),
                r.p.get(*people).map(|n| n as f64),
                None,
            )
        })
        .collect();
    html! {
        h2 id="reach" { "Reach" }
        p { "Distinct people reached by health coaching, self-management education and peer support between " (reach.window.from) " and " (reach.window.to) ". A person reached by several services counts once in each row." }
        (bar_chart("chart-reach", "People reached by coaching, education and peer support", "Bar chart of the number of distinct people referred to health coaching, starting it, having a coaching session, having a place on a course, completing a course and attending peer support in the window; suppressed counts have no bar.", &bars))
        div.table-wrapper {
            table id="reach-table" {
                caption { "Reach between " (reach.window.from) " and " (reach.window.to) }
                thead { tr { th scope="col" { "Measure" } th.numeric scope="col" { "People" } th.numeric scope="col" { "Share of registered" } } }
                tbody {
                    tr { th scope="row" { "Registered" } td.numeric { (f.p.text(f.registered)) } td.numeric { "100%" } }
                    tr { th scope="row" { "With at least one scored activation questionnaire" } td.numeric { (f.p.text(f.measured)) } td.numeric { (share_of_registered(f.p.get(f.measured), registered)) } }
                    @for (m, people, _) in &r.measures {
                        tr { th scope="row" { (m.label()) } td.numeric { (r.p.text(*people)) } td.numeric { (share_of_registered(r.p.get(*people), registered)) } }
                    }
                }
            }
        }
        p id="reach-walk-ins" { "Peer-support attendances by people who walked in without being registered (not counted as people above, since they cannot be told apart): " (r.p.text(r.walk_ins)) "." }
        div.table-wrapper {
            table id="reach-by-level" {
                caption { "Reach by activation level (each person's latest scored questionnaire by " (reach.window.to) ")" }
                thead { tr { th scope="col" { "Measure" } @for l in 1..=4 { th.numeric scope="col" { "Level " (l) } } th.numeric scope="col" { "Not measured" } th.numeric scope="col" { "All" } } }
                tbody {
                    @for (m, people, by_level) in &r.measures {
                        tr { th scope="row" { (m.label()) } @for n in by_level { td.numeric { (r.p.text(*n)) } } td.numeric { (r.p.text(*people)) } }
                    }
                }
            }
        }
        h3 { "How reach is counted" }
        ul {
            li { "Referred: a referral into health coaching (by staff or the person's own request) received in the window." }
            li { "Started: a coaching episode opened (a coach took the person on) in the window." }
            li { "Session: at least one coaching session recorded as attended that started in the window." }
            li { "Course place: a place (not waiting or withdrawn) on a course run with a session in the window. Online programmes are not counted." }
            li { "Completed: the programme's completion rule (attending its minimum number of sessions) was met at a session in the window." }
            li { "Peer support: registered people signed in at a group session in the window; walk-ins are counted as attendances, not people." }
        }
    }
}

pub(super) fn change_section(report: &Report) -> Markup {
    let Some(ch) = &report.activation_change else {
        return html! {};
    };
    html! {
        h2 id="change" { "Change in activation" }
        div.table-wrapper {
            table {
                caption { "Change in activation score, people measured on two or more dates" }
                tbody {
                    tr { th scope="row" { "People measured on two or more dates" } td.numeric { (ch.people_measured_twice.map(|n| n.to_string()).unwrap_or_else(|| POLICY.marker())) } }
                    tr { th scope="row" { "Mean change, last − first (95% interval)" } td.numeric { (num(ch.mean_change, 1)) " (" (num(ch.ci_low, 1)) " to " (num(ch.ci_high, 1)) ")" } }
                    tr { th scope="row" { "Gained 3 points or more within 12 months" } td.numeric { (ch.improvement.improved.map(|n| n.to_string()).unwrap_or_else(|| POLICY.marker())) " of " (ch.improvement.eligible.map(|n| n.to_string()).unwrap_or_else(|| POLICY.marker())) " (" (ch.improvement.share.map(|s| format!("{:.1}%", 100.0 * s)).unwrap_or_else(|| POLICY.marker())) ")" } }
                }
            }
        }
        div.table-wrapper {
            table id="movement" {
                caption { "Movement between levels: level at first measurement (rows) to level at last measurement (columns)" }
                thead { tr { th scope="col" { "First \\ last" } @for l in 1..=4 { th.numeric scope="col" { "Level " (l) } } } }
                tbody {
                    @for (i, row) in ch.movement.iter().enumerate() {
                        tr { th scope="row" { "Level " (i + 1) } @for c in row { td.numeric { (c.map(|n| n.to_string()).unwrap_or_else(|| POLICY.marker())) } } }
                    }
                }
            }
        }
    }
}

fn rate_table(o: &OutcomeReport) -> Markup {
    html! {
        div.table-wrapper {
            table {
                caption { (o.label) ": crude rate per 1,000 person-years by activation level" }
                thead { tr { th scope="col" { "Level" } th.numeric scope="col" { "Events" } th.numeric scope="col" { "Person-years" } th.numeric scope="col" { "Rate per 1,000" } th.numeric scope="col" { "95% interval" } } }
                tbody {
                    @for c in &o.crude {
                        tr {
                            th scope="row" { (c.level.map(|l| format!("Level {l}")).unwrap_or_else(|| "All levels".into())) }
                            td.numeric { (c.events.map(|n| n.to_string()).unwrap_or_else(|| POLICY.marker())) }
                            td.numeric { (format!("{:.1}", c.person_years)) }
                            td.numeric { (num(c.rate_per_1000, 1)) }
                            td.numeric { (num(c.ci_low, 1)) " – " (num(c.ci_high, 1)) }
                        }
                    }
                }
            }
        }
    }
}

fn level_terms(
    o: &OutcomeReport,
) -> Vec<(
    &'static str,
    u8,
    Option<&alongside_stats::report::Term>,
    Option<&alongside_stats::report::Term>,
)> {
    (2u8..=4)
        .map(|l| {
            let name = ["level_2", "level_3", "level_4"][usize::from(l - 2)];
            fn find<'a>(
                m: &'a alongside_stats::report::ModelReport,
                name: &str,
            ) -> Option<&'a alongside_stats::report::Term> {
                m.terms.iter().find(|t| t.term == name)
            }
            let (p, nb) = match &o.models {
                Some(m) => (find(&m.poisson, name), find(&m.negative_binomial, name)),
                None => (None, None),
            };
            (o.label, l, p, nb)
        })
        .collect()
}

pub(super) fn utilisation_section(report: &Report) -> Markup {
    let mut forest = Vec::new();
    for o in &report.outcomes {
        for (label, l, p, _) in level_terms(o) {
            if let Some(t) = p {
                if let (Some(i), Some(a), Some(b)) = (t.irr, t.ci_low, t.ci_high) {
                    forest.push((format!("{label}, level {l}"), i, a, b));
                }
            }
        }
    }
    let ratio = |t: Option<&alongside_stats::report::Term>| match t
        .and_then(|t| t.irr.zip(t.ci_low).zip(t.ci_high))
    {
        Some(((i, a), b)) => format!("{i:.2} ({a:.2} to {b:.2})"),
        None => "not estimable".into(),
    };
    html! {
        h2 id="utilisation" { "Use of care by activation level" }
        div.inset {
            p { strong { "These are observational associations, not effects. " } (report.interpretation) }
            p { "Population: " (report.population.description) "." }
            p { "Period: " (report.period.description) "." }
            p { "Adjusted for: " (report.covariates.join("; ")) "." }
            p { (report.exposure_definition) "." }
        }
        @for (i, o) in report.outcomes.iter().enumerate() {
            h3 { (o.label) }
            @let bars: Vec<Bar> = o.crude.iter().filter(|c| c.level.is_some()).map(|c| (format!("Level {}", c.level.unwrap_or(0)), c.rate_per_1000, c.ci_low.zip(c.ci_high))).collect();
            (bar_chart(&format!("chart-rate-{i}"), &format!("{}: crude rate per 1,000 person-years by activation level", o.label), "Bars show crude rates and lines their exact 95% intervals; suppressed levels have no bar.", &bars))
            (rate_table(o))
        }
        h3 { "Adjusted rate ratios" }
        (forest_plot("chart-forest", &forest))
        div.table-wrapper {
            table id="rate-ratios" {
                caption { "Adjusted rate ratios against level 1 (95% interval): Poisson with cluster-robust errors, and negative binomial" }
                thead { tr { th scope="col" { "Outcome" } th scope="col" { "Level" } th.numeric scope="col" { "Poisson" } th.numeric scope="col" { "Negative binomial" } } }
                tbody {
                    @for o in &report.outcomes {
                        @for (label, l, p, nb) in level_terms(o) {
                            tr { th scope="row" { (label) } td { "Level " (l) } td.numeric { (ratio(p)) } td.numeric { (ratio(nb)) } }
                        }
                    }
                }
            }
        }
    }
}
