//! The outcomes dashboard for analysts and commissioners (roles allowed `ReadAggregates`):
//! activation distribution, reach, change in activation and utilisation of care by activation
//! level, as accessible SVG charts each followed by its data table, a CSV download and a
//! printable report. Aggregates only, never identities. Every figure goes through the one
//! disclosure policy (`alongside_stats::disclosure`): counts from 1 to 7, the counts that would
//! let them be worked out from a total or a neighbouring table, and anything derived from
//! either are shown as `[c]`. Every view is audited by the store.

use super::ok;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::layout;
use crate::AppState;
use alongside_stats::disclosure::{CellId, Policy, Protected, Table};
use alongside_stats::report::{OutcomeReport, Report, CSV_COLUMNS};
use alongside_stats::{CsvWriter, Day, EvalError, EvalOptions};
use alongside_store::outcomes::{level_table, OutcomeInputs, Requester, Window};
use alongside_store::reach::{Measure, Reach};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use maud::{html, Markup};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The one policy; hidden figures are `[c]` here.
pub const POLICY: Policy = Policy::STANDARD;

/// Counts from 1 to this are suppressed in everything shown, downloaded or printed here.
pub const THRESHOLD: u64 = POLICY.threshold;

#[derive(serde::Deserialize, Default)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// Today in Europe/London by the application's clock, as a day number.
fn today(state: &AppState) -> Day {
    let d = state.store.clock().today();
    Day::from_ymd(d.year(), u32::from(d.month() as u8), u32::from(d.day()))
        .expect("a calendar date is a day")
}

fn window(p: &Params, today: Day) -> AppResult<Window> {
    let default = Window::last_full_year(today);
    let parse = |s: &Option<String>, d: Day, what: &str| -> AppResult<Day> {
        match s.as_deref().map(str::trim) {
            None | Some("") => Ok(d),
            Some(v) => Day::parse_iso(v.as_bytes()).ok_or_else(|| {
                AppError::BadRequest(format!(
                    "The {what} date must be a real date written like 2025-01-31."
                ))
            }),
        }
    };
    let w = Window {
        from: parse(&p.from, default.from, "start")?,
        to: parse(&p.to, default.to, "end")?,
    };
    if w.to < w.from {
        return Err(AppError::BadRequest(
            "The end date must be on or after the start date.".into(),
        ));
    }
    Ok(w)
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| POLICY.marker())
}

/// Everything one view needs, computed once.
struct Evaluation {
    window: Window,
    inputs: OutcomeInputs,
    figures: Figures,
    report: Option<Report>,
}

/// A breakdown of the measured people by activation level.
struct Breakdown {
    /// Table caption (the group's name).
    caption: &'static str,
    /// CSV section.
    section: &'static str,
    /// (group, levels 1–4, all levels).
    rows: Vec<(String, [CellId; 4], CellId)>,
}

/// The dashboard's counts of people, protected together. Lines: registered = measured + not
/// measured; measured = in the model + each exclusion; measured = the four levels; each
/// breakdown's rows add up across levels; the deprivation and GP practice breakdowns (one
/// group per person) add up down each level to everyone measured. Conditions do not (a person
/// may have several). The number registered (on the statistics page) and the number in the
/// model (in the report) are published, so the number not measured is exposed when every
/// exclusion is zero (`docs/disclosure.md`, limits).
struct Figures {
    p: Protected,
    registered: CellId,
    measured: CellId,
    /// Not measured, sex other or not known, no decile, no condition, age outside 18–120.
    excluded: [CellId; 5],
    /// Everyone measured, by level (their total is `measured`).
    everyone: [CellId; 4],
    breakdowns: Vec<Breakdown>,
}

fn figures(inputs: &OutcomeInputs) -> Figures {
    let mut t = Table::new();
    // The statistics page publishes the number registered unless it is small itself.
    let registered = if POLICY.is_small(inputs.people_registered) {
        t.count(inputs.people_registered)
    } else {
        t.published(inputs.people_registered)
    };
    let measured = t.count(inputs.people_measured);
    let x = &inputs.excluded;
    let excluded = [
        x.no_activation,
        x.sex_not_female_or_male,
        x.no_deprivation_decile,
        x.no_long_term_condition,
        x.age_outside_18_120,
    ]
    .map(|n| t.count(n));
    t.total(registered, &[measured, excluded[0]]);
    // The number in the model is stated in the report without suppression.
    let modelled = t.published(inputs.records.len() as u64);
    t.total(
        measured,
        &[modelled, excluded[1], excluded[2], excluded[3], excluded[4]],
    );
    let (all, groups) = distributions(inputs);
    let everyone = all
        .values()
        .next()
        .copied()
        .unwrap_or_default()
        .map(|n| t.count(n));
    t.total(measured, &everyone);
    let breakdowns = groups
        .into_iter()
        .map(|(caption, section, partition, rows)| {
            let rows: Vec<(String, [CellId; 4], CellId)> = rows
                .into_iter()
                .map(|(k, c)| {
                    let cells = c.map(|n| t.count(n));
                    let all = t.count(c.iter().sum());
                    t.total(all, &cells);
                    (k, cells, all)
                })
                .collect();
            if partition {
                for (l, total) in everyone.iter().enumerate() {
                    let column: Vec<CellId> = rows.iter().map(|r| r.1[l]).collect();
                    t.total(*total, &column);
                }
                let alls: Vec<CellId> = rows.iter().map(|r| r.2).collect();
                t.total(measured, &alls);
            }
            Breakdown {
                caption,
                section,
                rows,
            }
        })
        .collect();
    Figures {
        p: t.protect(&POLICY),
        registered,
        measured,
        excluded,
        everyone,
        breakdowns,
    }
}

/// Reach, protected: each measure's people with their split by level (levels 1–4 and not
/// measured add up to the people), and the walk-in attendances.
struct ReachFigures {
    p: Protected,
    measures: Vec<(Measure, CellId, [CellId; 5])>,
    walk_ins: CellId,
}

fn reach_figures(reach: &Reach) -> ReachFigures {
    let mut t = Table::new();
    let measures = reach
        .measures
        .iter()
        .map(|(m, c)| {
            let people = t.count(c.people);
            let by_level = c.by_level.map(|n| t.count(n));
            t.total(people, &by_level);
            (*m, people, by_level)
        })
        .collect();
    let walk_ins = t.count(reach.walk_in_attendances);
    ReachFigures {
        p: t.protect(&POLICY),
        measures,
        walk_ins,
    }
}

async fn evaluate(
    state: &AppState,
    user: &CurrentUser,
    p: &Params,
    what: &str,
    source: alongside_store::people::Source,
) -> AppResult<Evaluation> {
    let w = window(p, today(state))?;
    let org = user.actor.org_id;
    state
        .store
        .audit_evaluation(org, &Requester::User(user.actor.clone()), w, what, source)
        .await?;
    let inputs = state.store.outcome_inputs(org, w, true).await?;
    let figures = figures(&inputs);
    let label = population_label(&user.org_name, &inputs, &figures);
    let records = inputs.records.clone();
    let measurements = inputs.measurements.clone();
    let report = tokio::task::spawn_blocking(move || {
        alongside_stats::evaluate_records(
            &records,
            Some(&measurements),
            &EvalOptions {
                suppress: Some(THRESHOLD),
                population_label: Some(label),
                study_period: Some((w.from, w.to)),
                ..Default::default()
            },
        )
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let report = match report {
        Ok(r) => Some(r),
        Err(EvalError::NoPeriods) => None,
        Err(e) => return Err(AppError::Internal(e.to_string())),
    };
    Ok(Evaluation {
        window: w,
        inputs,
        figures,
        report,
    })
}

fn population_label(org_name: &str, inputs: &OutcomeInputs, f: &Figures) -> String {
    let x = f.excluded.map(|c| f.p.text(c));
    format!(
        "people registered with {org_name} with a scored activation questionnaire by {} and complete covariates (not included: {} not measured by then, {} with sex recorded as other or not known, {} without a deprivation decile, {} without a recorded long-term condition, {} aged under 18 or over 120; each count suppressed when 1–{THRESHOLD} or when it would give such a count away)",
        inputs.window.to, x[0], x[1], x[2], x[3], x[4],
    )
}

fn query_string(w: &Window) -> String {
    format!("from={}&to={}", w.from, w.to)
}

// ----- charts --------------------------------------------------------------------------------

const BLUE: &str = "#005eb8";
const TEXT: &str = "#212b32";
const GREY: &str = "#4c6272";

/// A bar: label, value (`None` when suppressed), optional interval.
type Bar = (String, Option<f64>, Option<(f64, f64)>);
/// Level counts (levels 1–4) per group.
type LevelTable = BTreeMap<String, [u64; 4]>;

/// Vertical bars with optional interval whiskers; `None` values (suppressed) draw no bar and
/// say so under the axis.
fn bar_chart(id: &str, title: &str, desc: &str, bars: &[Bar]) -> Markup {
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
fn forest_plot(id: &str, rows: &[(String, f64, f64, f64)]) -> Markup {
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

// ----- sections ------------------------------------------------------------------------------

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

/// A breakdown: caption, CSV section, whether each person is in exactly one group, the rows.
type Distribution = (&'static str, &'static str, bool, LevelTable);

fn distributions(inputs: &OutcomeInputs) -> (LevelTable, Vec<Distribution>) {
    let all = level_table(&inputs.latest, |_| vec!["Everyone measured".to_string()]);
    let by_condition = level_table(&inputs.latest, |l| {
        l.conditions
            .iter()
            .map(|c| {
                alongside_core::conditions::by_key(c)
                    .map(|x| x.label.to_string())
                    .unwrap_or_else(|| c.clone())
            })
            .collect()
    });
    let by_decile = level_table(&inputs.latest, |l| {
        vec![match l.deprivation_decile {
            Some(d) => format!("Decile {d:02}"),
            None => "Not recorded".into(),
        }]
    });
    let by_practice = level_table(&inputs.latest, |l| {
        vec![l
            .gp_practice
            .clone()
            .unwrap_or_else(|| "Not recorded".into())]
    });
    (
        all,
        vec![
            (
                "Long-term condition (a person may have several)",
                "activation_by_condition",
                false,
                by_condition,
            ),
            (
                "Deprivation decile (1 = most deprived)",
                "activation_by_deprivation_decile",
                true,
                by_decile,
            ),
            (
                "GP practice",
                "activation_by_gp_practice",
                true,
                by_practice,
            ),
        ],
    )
}

fn activation_section(inputs: &OutcomeInputs, f: &Figures) -> Markup {
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

fn reach_section(f: &Figures, reach: &Reach, r: &ReachFigures) -> Markup {
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

fn change_section(report: &Report) -> Markup {
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

fn utilisation_section(report: &Report) -> Markup {
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

// ----- handlers ------------------------------------------------------------------------------

/// The report's tidy CSV followed by the reach and activation distribution sections in the same
/// columns (`section,outcome,model,item,count,…`: the group or reach measure in `outcome`, the
/// measure or level in `item`).
fn csv(e: &Evaluation, r: &ReachFigures) -> std::io::Result<String> {
    let mut w = CsvWriter::in_memory();
    w.header(&CSV_COLUMNS)?;
    if let Some(report) = &e.report {
        report.write_csv_rows(&mut w)?;
    }
    let f = &e.figures;
    for (item, id) in [("registered", f.registered), ("measured", f.measured)] {
        w.words(&["reach", "", "", item])
            .figure(&f.p, id)
            .empties(8)
            .end_row()?;
    }
    for (m, people, _) in &r.measures {
        w.words(&["reach", "", "", m.code()])
            .figure(&r.p, *people)
            .empties(8)
            .end_row()?;
    }
    w.words(&["reach", "", "", "peer_support_walk_in_attendances"])
        .figure(&r.p, r.walk_ins)
        .empties(8)
        .end_row()?;
    for (m, _, by_level) in &r.measures {
        for (l, n) in by_level.iter().enumerate() {
            let level = if l < 4 {
                format!("level_{}", l + 1)
            } else {
                "not_measured".into()
            };
            w.words(&["reach_by_activation_level", m.code(), "", &level])
                .figure(&r.p, *n)
                .empties(8)
                .end_row()?;
        }
    }
    let everyone = Breakdown {
        caption: "",
        section: "activation_level",
        rows: vec![("Everyone measured".into(), f.everyone, f.measured)],
    };
    for b in std::iter::once(&everyone).chain(&f.breakdowns) {
        for (k, cells, _) in &b.rows {
            for (l, n) in cells.iter().enumerate() {
                w.word(b.section)
                    .text(k)
                    .empty()
                    .word(&format!("level_{}", l + 1))
                    .figure(&f.p, *n)
                    .empties(8)
                    .end_row()?;
            }
        }
    }
    w.into_string()
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let want_csv = p.format.as_deref() == Some("csv");
    let e = evaluate(
        &state,
        &user,
        &p,
        if want_csv {
            "outcomes CSV download"
        } else {
            "outcomes dashboard"
        },
        source,
    )
    .await?;
    let reach = state.store.reach(user.actor.org_id, e.window).await?;
    let reach_figures = reach_figures(&reach);
    if want_csv {
        return Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"outcomes.csv\"",
                ),
            ],
            csv(&e, &reach_figures).map_err(|x| AppError::Internal(x.to_string()))?,
        )
            .into_response());
    }
    let q = query_string(&e.window);
    Ok(ok(layout::page(
        Some(&user),
        "Outcomes",
        html! {
            h1 { "Outcomes" }
            p.lede { "Activation, reach and use of care in " (user.org_name) " between " (e.window.from) " and " (e.window.to) ". Counts only: nobody can be identified here." }
            form.search-form method="get" action="/outcomes" {
                div.form-group { label.label for="from" { "From" } div.hint id="from-hint" { "For example, 2025-01-01" } input.input id="from" name="from" type="text" value=(e.window.from) aria-describedby="from-hint"; }
                div.form-group { label.label for="to" { "To (inclusive)" } div.hint id="to-hint" { "For example, 2025-12-31" } input.input id="to" name="to" type="text" value=(e.window.to) aria-describedby="to-hint"; }
                button.button type="submit" { "Show" }
            }
            p {
                a href={ "/outcomes?" (q) "&format=csv" } { "Download all figures as CSV" }
                " · "
                a href={ "/outcomes/report?" (q) } { "Printable report" }
            }
            div.inset { p { "Counts from 1 to " (THRESHOLD) " are shown as " (POLICY.marker()) ", and so is the next smallest count wherever a total or another table would otherwise give one away; rates, shares and intervals made from a hidden count are hidden with it. Nobody can be identified." } }
            (reach_section(&e.figures, &reach, &reach_figures))
            (activation_section(&e.inputs, &e.figures))
            @match &e.report {
                Some(r) => { (change_section(r)) (utilisation_section(r)) }
                None => { h2 { "Use of care by activation level" } p { "Nobody has an observation period in this window: no one was measured by its end with complete details. Choose another window." } }
            }
        },
    )))
}

/// The stats crate's self-contained printable report, served with a Content-Security-Policy
/// that allows exactly its own inline styles (by hash) and nothing else.
pub async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let e = evaluate(&state, &user, &p, "outcomes printable report", source).await?;
    let Some(r) = e.report else {
        return Ok(ok(layout::page(
            Some(&user),
            "Outcomes report",
            html! {
                h1 { "Outcomes report" }
                p { "Nobody has an observation period between " (e.window.from) " and " (e.window.to) ": no one was measured by its end with complete details, so there is no report. " a href="/outcomes" { "Choose another window" } "." }
            },
        )));
    };
    let html = r.to_html();
    let csp = report_csp(&html)?;
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).map_err(|x| AppError::Internal(x.to_string()))?,
    );
    Ok(resp)
}

fn csp_hash(s: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
    )
}

/// A CSP for a self-contained document: its `<style>` elements and `style` attributes by hash
/// (`'unsafe-hashes'` is needed for attributes), no scripts at all. Refuses a document with a
/// script, so a change in the report cannot silently weaken the policy.
pub fn report_csp(html: &str) -> AppResult<String> {
    if html.to_ascii_lowercase().contains("<script") {
        return Err(AppError::Internal("the report contains a script".into()));
    }
    let mut hashes = std::collections::BTreeSet::new();
    let mut rest = html;
    while let Some(i) = rest.find("<style>") {
        let after = &rest[i + 7..];
        let end = after
            .find("</style>")
            .ok_or_else(|| AppError::Internal("unclosed style".into()))?;
        hashes.insert(csp_hash(&after[..end]));
        rest = &after[end..];
    }
    let mut attrs = false;
    let mut rest = html;
    while let Some(i) = rest.find(" style=\"") {
        let after = &rest[i + 8..];
        let end = after
            .find('"')
            .ok_or_else(|| AppError::Internal("unclosed attribute".into()))?;
        hashes.insert(csp_hash(&after[..end]));
        attrs = true;
        rest = &after[end..];
    }
    let hashes: Vec<String> = hashes.into_iter().collect();
    Ok(format!(
        "default-src 'none'; script-src 'none'; style-src {}{}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        if attrs { "'unsafe-hashes' " } else { "" },
        hashes.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_names_each_style_by_hash_and_refuses_scripts() {
        let doc = "<html><style>body{color:red}</style><svg style=\"max-width:640px\"></svg><p style=\"max-width:640px\"></p></html>";
        let csp = report_csp(doc).unwrap();
        assert!(csp.contains(&csp_hash("body{color:red}")), "{csp}");
        assert!(csp.contains(&csp_hash("max-width:640px")), "{csp}");
        assert!(csp.contains("'unsafe-hashes'"));
        assert!(csp.contains("script-src 'none'"));
        assert_eq!(
            csp.matches("'sha256-").count(),
            2,
            "duplicates are listed once"
        );
        assert!(report_csp("<style>x</style><SCRIPT>1</SCRIPT>").is_err());
        // The known value for the empty string, so the encoding is the one browsers compute.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    use alongside_stats::report::SUPPRESSED;
    use alongside_store::outcomes::LatestLevel;

    /// A count in no line.
    fn shown(n: u64) -> String {
        POLICY.show(POLICY.lone(n))
    }

    /// 61 measured (19, 19, 20 and 3 at levels 1–4) of 64 registered, nobody excluded, in
    /// two practices, one named like a formula; reach: 10 referred, 9 at level 2 and 1 not
    /// measured.
    fn case() -> (Evaluation, ReachFigures) {
        let day = |s: &str| Day::parse_iso(s.as_bytes()).unwrap();
        let window = Window {
            from: day("2025-01-01"),
            to: day("2025-12-31"),
        };
        let latest: Vec<LatestLevel> = [19, 19, 20, 3]
            .iter()
            .enumerate()
            .flat_map(|(l, n)| {
                (0..*n).map(move |i| LatestLevel {
                    level: l as u8 + 1,
                    deprivation_decile: Some(1 + (i % 10) as u8),
                    gp_practice: Some(if i % 2 == 0 {
                        "Riverside Surgery".into()
                    } else {
                        "=HYPERLINK(\"http://x\")".into()
                    }),
                    conditions: vec!["asthma".into()],
                })
            })
            .collect();
        let record = alongside_stats::PeriodRecord {
            person_key: 0,
            age: 50,
            sex: alongside_stats::Sex::Female,
            deprivation_decile: 1,
            ltc_count: 1,
            activation_level: 1,
            exposure_days: 365,
            counts: [0; 7],
        };
        let inputs = OutcomeInputs {
            window,
            people_registered: 64,
            people_measured: 61,
            records: vec![record; 61],
            measurements: Vec::new(),
            excluded: alongside_store::outcomes::Exclusions {
                no_activation: 3,
                ..Default::default()
            },
            events_not_counted: 0,
            latest,
            events_in_window: 0,
        };
        let mut measures: Vec<(Measure, alongside_store::reach::ReachCount)> = Measure::ALL
            .iter()
            .map(|m| (*m, Default::default()))
            .collect();
        measures[0].1 = alongside_store::reach::ReachCount {
            people: 10,
            by_level: [0, 9, 0, 0, 1],
        };
        let reach = Reach {
            window,
            measures,
            walk_in_attendances: 0,
        };
        let figures = figures(&inputs);
        (
            Evaluation {
                window,
                inputs,
                figures,
                report: None,
            },
            reach_figures(&reach),
        )
    }

    /// What a reader can work out of a hidden figure in a line from the others and the total.
    fn recover(cells: &[String], total: &str) -> Option<u64> {
        let hidden = cells.iter().filter(|c| c.as_str() == "[c]").count();
        let total: u64 = total.parse().ok()?;
        (hidden == 1).then(|| {
            total
                - cells
                    .iter()
                    .filter_map(|c| c.parse::<u64>().ok())
                    .sum::<u64>()
        })
    }

    #[test]
    fn a_suppressed_count_cannot_be_recovered_from_the_others_and_the_total() {
        let (e, r) = case();
        let f = &e.figures;
        // Primary suppression alone (the page before): 61 − 19 − 19 − 20 = 3, and reach:
        // 10 referred − 9 at level 2 = 1 not measured.
        let primary: Vec<String> = [19, 19, 20, 3].map(shown).to_vec();
        assert_eq!(recover(&primary, "61"), Some(3));
        assert_eq!(recover(&[0, 9, 0, 0, 1].map(shown), "10"), Some(1));
        // Now.
        let levels: Vec<String> = f.everyone.iter().map(|c| f.p.text(*c)).collect();
        assert_eq!(levels, vec!["19", "[c]", "20", "[c]"]);
        assert_eq!(recover(&levels, &f.p.text(f.measured)), None);
        let (_, _, referred) = r.measures[0];
        let by_level: Vec<String> = referred.iter().map(|c| r.p.text(*c)).collect();
        assert_eq!(by_level, vec!["0", "[c]", "0", "0", "[c]"]);
        assert_eq!(recover(&by_level, &r.p.text(r.measures[0].1)), None);
        // Every breakdown row and every level column of the decile and practice tables.
        for b in &f.breakdowns {
            for (k, cells, all) in &b.rows {
                let row: Vec<String> = cells.iter().map(|c| f.p.text(*c)).collect();
                assert_eq!(
                    recover(&row, &f.p.text(*all)),
                    None,
                    "{} {k}: {row:?}",
                    b.caption
                );
            }
            if b.section != "activation_by_condition" {
                for l in 0..4 {
                    let column: Vec<String> = b.rows.iter().map(|r| f.p.text(r.1[l])).collect();
                    let total = f.p.text(f.everyone[l]);
                    assert_eq!(
                        recover(&column, &total),
                        None,
                        "{} level {}",
                        b.caption,
                        l + 1
                    );
                }
            }
        }
        // Not measured = 64 registered − 61 in the model, both published: exposed, and said so.
        assert_eq!(f.p.text(f.excluded[0]), "[c]");
        assert_eq!(f.p.exposed(), &[f.excluded[0]]);
    }

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_neutralised() {
        let (e, r) = case();
        let csv = csv(&e, &r).unwrap();
        assert!(
            csv.contains("\nactivation_by_gp_practice,\"'=HYPERLINK(\"\"http://x\"\")\",,level_1,"),
            "{csv}"
        );
        assert!(!csv.contains(",=") && !csv.contains(",\"="), "{csv}");
        assert!(csv.contains("\nreach_by_activation_level,referred_to_coaching,,level_2,[c],"));
    }

    #[test]
    fn small_counts_are_suppressed() {
        assert_eq!(shown(0), "0");
        assert_eq!(shown(1), SUPPRESSED);
        assert_eq!(shown(7), SUPPRESSED);
        assert_eq!(shown(8), "8");
    }
}
