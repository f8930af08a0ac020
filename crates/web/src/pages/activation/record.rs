//! A person's record, activation part: their questionnaires in progress, every measurement with
//! its change since the one before (and a chart when there are two or more), when they are due
//! again, and the tailored next steps for their latest level.

use super::{as_scored, due_date, flag_descriptions, remeasure_months, rules, when};
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::AppState;
use alongside_core::time::display_date;
use alongside_core::PersonId;
use alongside_measure::{Instrument, Scored};
use alongside_store::activation::{AssessmentRow, MODES};
use alongside_store::people::Source;
use maud::{html, Markup};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The activation part of a person's record page. The caller has already been allowed to read
/// the record (and that read was audited).
pub async fn record_section(
    state: &AppState,
    user: &CurrentUser,
    person: PersonId,
    conditions: &[String],
    can_record: bool,
    source: Source,
) -> AppResult<Markup> {
    let org = user.actor.org_id;
    let all = state
        .store
        .assessments_of(&user.actor, person, source.clone())
        .await?;
    let mut done: Vec<(AssessmentRow, Arc<Instrument>)> = Vec::new();
    let mut in_progress = Vec::new();
    for a in all {
        let ins = state.instrument(org, a.instrument_id).await?;
        if a.completed {
            done.push((a, ins));
        } else {
            in_progress.push((a, ins));
        }
    }
    let own = user.actor.person_id == Some(person);
    let months = remeasure_months(state, org).await?;
    let today = alongside_core::coaching::london_local(state.config.clock.now()).0;
    let last = done
        .iter()
        .rev()
        .find(|(a, _)| a.result.as_ref().and_then(|r| r.score).is_some());
    let coaching_due = state
        .store
        .coaching_remeasure_due(&user.actor, person, source)
        .await?
        .and_then(|d| alongside_core::time::parse_iso_date(&d));
    let due = due_date(last.and_then(|(a, _)| a.completed_at), months, coaching_due);
    let rules = rules(state, org).await?;
    let latest_level = last
        .and_then(|(a, _)| a.result.as_ref()?.level)
        .map(|l| l as u8);
    let recs = latest_level
        .map(|l| rules.recommend(l, conditions))
        .unwrap_or_default();
    // Group scored measurements per instrument for the trend.
    let mut by_instrument: BTreeMap<String, Vec<(&AssessmentRow, &Arc<Instrument>)>> =
        BTreeMap::new();
    for (a, i) in &done {
        by_instrument
            .entry(i.id().to_string())
            .or_default()
            .push((a, i));
    }
    Ok(html! {
        h2 id="activation" { @if own { "Your questionnaires" } @else { "Activation" } }
        @for (a, ins) in &in_progress {
            div.inset {
                p { "A " (ins.title("en")) " questionnaire was started on " (when(a.started_at)) " and has " (a.answers.len()) " of " (ins.items().len()) " answers." }
                @if can_record { p { a href={ "/questionnaires/" (a.id) } { "Continue the questionnaire" } } }
            }
        }
        @if done.is_empty() {
            p { @if own { "You have not filled in a questionnaire yet." } @else { "No questionnaire has been completed yet." } }
            @if let Some(d) = due { p { "Due after coaching: " strong { (display_date(d)) } } }
        } @else {
            @if let Some(d) = due {
                p { "Next measurement due: " strong { (display_date(d)) }
                    @if d < today { " " strong.tag.tag--red { "Overdue" } } }
            }
            @for (key, rows) in &by_instrument {
                @let ins = rows[0].1;
                @let scored: Vec<(&AssessmentRow, Scored)> = rows.iter().filter_map(|(a, _)| Some((*a, as_scored(a.result.as_ref()?)?))).collect();
                h3 { (ins.title("en")) }
                @if scored.len() >= 2 { (trend_chart(key, ins, &scored)) }
                div.table-wrapper {
                    table.responsive {
                        caption { "Measurements" @if scored.len() >= 2 { " (the chart above as a table)" } }
                        thead { tr { th scope="col" { "Date" } th scope="col" { "Score" } th scope="col" { "Level" } th scope="col" { "Change since the one before" } th scope="col" { "Notes" } } }
                        tbody {
                            @for (i, (a, _)) in rows.iter().enumerate() {
                                @let r = a.result.clone().unwrap_or_default();
                                @let prev = rows[..i].iter().rev().find_map(|(p, _)| as_scored(p.result.as_ref()?));
                                tr {
                                    td data-label="Date" { a href={ "/questionnaires/" (a.id) } { (a.completed_at.map(when).unwrap_or_default()) } }
                                    td data-label="Score" { (r.score.map(|s| format!("{:.1}", alongside_measure::round_score(s))).unwrap_or_else(|| "Not scored".into())) }
                                    td data-label="Level" { (r.level.and_then(|l| ins.level(l as u8)).map(|l| ins.localise(&l.name, "en").to_string()).unwrap_or_default()) }
                                    td data-label="Change" {
                                        @if let (Some(p), Some(s)) = (prev, as_scored(&r)) {
                                            @let c = ins.compare(&p, &s);
                                            (format!("{:+.1}", c.difference)) " "
                                            @if c.meaningful { strong.tag.tag--green { "Meaningful" } } @else { span.tag.tag--grey { "Not meaningful" } }
                                            br;
                                            span.secondary-text {
                                                @match (c.meaningful, c.beyond_measurement_error) {
                                                    (true, Some(false)) => { (c.threshold) " points or more, though within measurement error" }
                                                    (false, Some(true)) => { "under " (c.threshold) " points, though beyond measurement error" }
                                                    (true, _) => { (c.threshold) " points or more" }
                                                    (false, _) => { "under " (c.threshold) " points" }
                                                }
                                            }
                                        }
                                    }
                                    td data-label="Notes" {
                                        (MODES.iter().find(|(m, _)| *m == a.mode).map(|(_, l)| *l).unwrap_or(&a.mode))
                                        @if let Some(reason) = &r.not_scored_reason { br; (reason) }
                                        @for d in flag_descriptions(&r.flags) { br; strong.tag.tag--red { "Check" } " " (d) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !recs.is_empty() {
                h3 { @if own { "Support that could help you" } @else { "Recommended next steps" } }
                ul {
                    @for r in &recs {
                        li { strong { (r.title) } br; @if own { (r.person_text) } @else { span.secondary-text { (r.staff_reason) } } }
                    }
                }
            }
        }
        @if can_record {
            p.no-print {
                @if own { a.button href={ "/people/" (person) "/questionnaires/new" } { "Fill in a questionnaire" } }
                @else {
                    a.button href={ "/people/" (person) "/questionnaires/new" } { "Start a questionnaire with them" }
                    a.button.button--secondary href={ "/people/" (person) "/questionnaires/record" } { "Record answers given on paper or by phone" }
                }
            }
        }
    })
}

/// An accessible SVG line chart of the reported score over time, with the level bands.
fn trend_chart(key: &str, ins: &Instrument, points: &[(&AssessmentRow, Scored)]) -> Markup {
    let (lo, hi) = ins.reporting_range();
    let (w, h, pad_l, pad_r, pad_t, pad_b) = (640.0, 240.0, 48.0, 16.0, 16.0, 36.0);
    let t0 = points
        .first()
        .and_then(|(a, _)| a.completed_at)
        .unwrap_or(0) as f64;
    let t1 = points.last().and_then(|(a, _)| a.completed_at).unwrap_or(1) as f64;
    let span = (t1 - t0).max(1.0);
    let x = |t: f64| pad_l + (t - t0) / span * (w - pad_l - pad_r);
    let y = |s: f64| pad_t + (1.0 - (s - lo) / (hi - lo).max(1e-9)) * (h - pad_t - pad_b);
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (a, s))| {
            format!(
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                x(a.completed_at.unwrap_or(0) as f64),
                y(s.score)
            )
        })
        .collect();
    let mut bands = Vec::new();
    let mut lower = lo;
    for l in ins.levels() {
        let upper = l.upper.unwrap_or(hi);
        bands.push((l.level, lower, upper.min(hi)));
        lower = upper;
    }
    let first = points.first().map(|(_, s)| s.score).unwrap_or(0.0);
    let last = points.last().map(|(_, s)| s.score).unwrap_or(0.0);
    let title_id = format!("chart-{key}-title");
    let desc_id = format!("chart-{key}-desc");
    html! {
        figure.no-break {
            svg width="100%" viewBox={ "0 0 " (w) " " (h) } role="img" aria-labelledby={ (title_id) " " (desc_id) } xmlns="http://www.w3.org/2000/svg" {
                title id=(title_id) { "Score over time" }
                desc id=(desc_id) { (points.len()) " measurements from " (format!("{first:.1}")) " to " (format!("{last:.1}")) ". The same figures are in the table below." }
                @for (i, (level, a, b)) in bands.iter().enumerate() {
                    rect x=(pad_l) y=(y(*b)) width=(w - pad_l - pad_r) height=((y(*a) - y(*b)).max(0.0)) fill=(if i % 2 == 0 { "#f0f4f5" } else { "#e8edee" }) {}
                    text x=(w - pad_r - 4.0) y=(y(*b) + 14.0) text-anchor="end" font-size="12" fill="#4c6272" { "Level " (level) }
                }
                line x1=(pad_l) y1=(pad_t) x2=(pad_l) y2=(h - pad_b) stroke="#4c6272" {}
                line x1=(pad_l) y1=(h - pad_b) x2=(w - pad_r) y2=(h - pad_b) stroke="#4c6272" {}
                @for v in [lo, (lo + hi) / 2.0, hi] { text x=(pad_l - 6.0) y=(y(v) + 4.0) text-anchor="end" font-size="12" fill="#212b32" { (format!("{v:.0}")) } }
                path d=(path.join(" ")) fill="none" stroke="#005eb8" stroke-width="3" {}
                @for (a, s) in points {
                    circle cx=(format!("{:.1}", x(a.completed_at.unwrap_or(0) as f64))) cy=(format!("{:.1}", y(s.score))) r="5" fill="#005eb8" {}
                }
                text x=(pad_l) y=(h - 10.0) font-size="12" fill="#212b32" { (points.first().and_then(|(a, _)| a.completed_at).map(when).unwrap_or_default()) }
                text x=(w - pad_r) y=(h - 10.0) text-anchor="end" font-size="12" fill="#212b32" { (points.last().and_then(|(a, _)| a.completed_at).map(when).unwrap_or_default()) }
            }
        }
    }
}
