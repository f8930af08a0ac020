//! Measuring activation: taking a questionnaire (one question per page, saved as you go),
//! staff recording one completed in person, by telephone or on paper, the result explained
//! kindly, a person's activation history with its chart, and the coordinators' lists (due for
//! re-measurement, outreach).

use super::{html as html_response, invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Require};
use crate::form::FormData;
use crate::layout;
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::recommend::Rules;
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::ValidationErrors;
use alongside_core::{AssessmentId, InstrumentId, OrgId, PersonId, Role};
use alongside_measure::{Flag, Flags, Instrument, Outcome, Scored};
use alongside_store::activation::{
    AssessmentRow, InstrumentRow, LatestMeasure, StoredResult, MODES,
};
use alongside_store::door::AuditAs;
use alongside_store::people::Source;
use alongside_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Months after the last measurement at which a person is due to be measured again, unless
/// the organisation has set `remeasure_months`.
pub const DEFAULT_REMEASURE_MONTHS: u32 = 6;

fn parse<T: std::str::FromStr>(s: &str) -> AppResult<T> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// The result of scoring, in the form the store keeps.
pub fn stored_result(outcome: &Outcome) -> StoredResult {
    match outcome {
        Outcome::Scored(s) => StoredResult {
            items_answered: s.items_answered as i64,
            raw_score: s.raw_score,
            measure: s.measure,
            standard_error: s.standard_error,
            score: Some(s.score),
            score_se: s.score_standard_error,
            level: s.level.map(i64::from),
            flags: s
                .flags
                .iter()
                .map(|f| f.code())
                .collect::<Vec<_>>()
                .join(";"),
            not_scored_reason: None,
        },
        Outcome::NotScored(n) => StoredResult {
            items_answered: n.items_answered as i64,
            raw_score: n.raw_score,
            not_scored_reason: Some(n.reason.to_string()),
            ..Default::default()
        },
    }
}

/// A stored result back as a `Scored` value, for comparing two measurements.
fn as_scored(r: &StoredResult) -> Option<Scored> {
    let mut flags = Flags::default();
    for code in r.flags.split(';').filter(|c| !c.is_empty()) {
        if let Some(f) = Flag::from_code(code) {
            flags.insert(f);
        }
    }
    Some(Scored {
        items_answered: r.items_answered as usize,
        raw_score: r.raw_score,
        measure: r.measure,
        standard_error: r.standard_error,
        score: r.score?,
        score_standard_error: r.score_se,
        level: r.level.map(|l| l as u8),
        flags,
    })
}

fn flag_descriptions(flags: &str) -> Vec<&'static str> {
    flags
        .split(';')
        .filter_map(Flag::from_code)
        .map(|f| f.description())
        .collect()
}

fn when(micros: i64) -> String {
    display_date(Timestamp(micros).date())
}

pub async fn rules(state: &AppState, org: OrgId) -> AppResult<Rules> {
    Ok(
        match state.store.setting(org, "recommendation_rules").await? {
            Some(json) => Rules::parse(&json).unwrap_or_else(|_| Rules::default_rules()),
            None => Rules::default_rules(),
        },
    )
}

pub async fn remeasure_months(state: &AppState, org: OrgId) -> AppResult<u32> {
    Ok(state
        .store
        .setting(org, "remeasure_months")
        .await?
        .and_then(|v| v.parse().ok())
        .filter(|m| (1..=36).contains(m))
        .unwrap_or(DEFAULT_REMEASURE_MONTHS))
}

/// When a person is next due to fill in their questionnaire: `months` after the last one, or
/// on the day a coaching episode ended when that is sooner and after the last one (so every
/// episode's end is measured). `None` for someone never measured and never coached.
pub fn due_date(
    last_completed: Option<i64>,
    months: u32,
    coaching_due: Option<time::Date>,
) -> Option<time::Date> {
    let last = last_completed.map(|t| Timestamp(t).date());
    let regular = last.map(|d| add_months(d, months));
    match coaching_due {
        Some(c) if last.is_none_or(|l| l < c) => Some(regular.map_or(c, |r| r.min(c))),
        _ => regular,
    }
}

/// The date `months` calendar months after `from` (clamped to the month's last day).
pub fn add_months(from: time::Date, months: u32) -> time::Date {
    let total = from.year() * 12 + (from.month() as i32 - 1) + months as i32;
    let (y, m) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(m).expect("1..=12");
    let last = month.length(y);
    time::Date::from_calendar_date(y, month, from.day().min(last)).expect("valid date")
}

// ----- the activation section of a person's record -----------------------------------------

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

// ----- starting a questionnaire -------------------------------------------------------------

async fn active_instruments(state: &AppState, org: OrgId) -> AppResult<Vec<InstrumentRow>> {
    Ok(state
        .store
        .instruments(org)
        .await?
        .into_iter()
        .filter(|i| i.active)
        .collect())
}

fn choose_page(
    user: &CurrentUser,
    person: PersonId,
    name: &str,
    instruments: &[InstrumentRow],
    e: &ValidationErrors,
    staff: bool,
) -> Markup {
    let opts: Vec<(String, String)> = instruments
        .iter()
        .map(|i| (i.id.as_text(), i.title.clone()))
        .collect();
    let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let modes: Vec<(&str, &str)> = MODES
        .iter()
        .filter(|(m, _)| *m != "self" && *m != "paper")
        .copied()
        .collect();
    layout::page(
        Some(user),
        &layout::title_with_errors("Choose a questionnaire", e),
        html! {
            (layout::error_summary(e))
            span.caption { (name) }
            h1 { "Choose a questionnaire" }
            form method="post" action={ "/people/" (person) "/questionnaires" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::radios("instrument", "Which questionnaire?", &opts_ref, if opts.len() == 1 { &opts[0].0 } else { "" }, e))
                @if staff { (layout::radios("mode", "How are they answering?", &modes, "in_person", e)) }
                p { "One question at a time. Answers are saved as you go, so you can stop and come back." }
                button.button type="submit" { "Start" }
            }
        },
    )
}

pub async fn choose(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let person: PersonId = parse(&id)?;
    // Allowed only to those who may start a questionnaire for this person (refusal audited).
    let view = state
        .store
        .read_person_for(&user.actor, person, Action::RecordAssessment, source)
        .await?;
    let instruments = active_instruments(&state, user.actor.org_id).await?;
    Ok(ok(choose_page(
        &user,
        person,
        &view.record.details.full_name(),
        &instruments,
        &ValidationErrors::default(),
        user.actor.role != Role::Person,
    )))
}

pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let person: PersonId = parse(&id)?;
    let instruments = active_instruments(&state, user.actor.org_id).await?;
    let staff = user.actor.role != Role::Person;
    let mut e = ValidationErrors::default();
    let chosen = f
        .get("instrument")
        .parse::<InstrumentId>()
        .ok()
        .and_then(|i| instruments.iter().find(|r| r.id == i));
    if chosen.is_none() {
        e.add("instrument", "Select a questionnaire");
    }
    let mode = if staff {
        f.get("mode")
    } else {
        "self".to_string()
    };
    if staff && !["in_person", "telephone"].contains(&mode.as_str()) {
        e.add("mode", "Select how they are answering");
    }
    if !e.is_empty() {
        let view = state.store.read_person(&user.actor, person, source).await?;
        return Ok(invalid(choose_page(
            &user,
            person,
            &view.record.details.full_name(),
            &instruments,
            &e,
            staff,
        )));
    }
    let aid = state
        .store
        .start_assessment(
            &user.actor,
            person,
            chosen.expect("checked").id,
            &mode,
            source,
        )
        .await?;
    Ok(see_other(&format!("/questionnaires/{aid}/questions/1")))
}

// ----- one question per page ----------------------------------------------------------------

async fn load(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    source: Source,
) -> AppResult<(AssessmentRow, Arc<Instrument>)> {
    let aid: AssessmentId = parse(id)?;
    let a = state.store.assessment(&user.actor, aid, source).await?;
    let ins = state.instrument(user.actor.org_id, a.instrument_id).await?;
    Ok((a, ins))
}

fn lang_for(user: &CurrentUser, ins: &Instrument, requested: Option<&str>) -> String {
    let _ = user;
    match requested {
        Some(l) if ins.languages().any(|x| x == l) => l.to_string(),
        _ => ins.definition().languages.default.clone(),
    }
}

#[derive(Deserialize, Default)]
pub struct LangParam {
    lang: Option<String>,
}

fn question_page(
    user: &CurrentUser,
    a: &AssessmentRow,
    ins: &Instrument,
    n: usize,
    lang: &str,
    e: &ValidationErrors,
) -> Markup {
    let item = &ins.items()[n - 1];
    let total = ins.items().len();
    let selected = a.answers.get(&item.link_id).cloned().unwrap_or_default();
    let opts: Vec<(String, String)> = item
        .options
        .iter()
        .map(|o| (o.code.clone(), ins.localise(&o.label, lang).to_string()))
        .collect();
    let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let other_langs: Vec<&str> = ins.languages().filter(|l| *l != lang).collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(&format!("Question {n} of {total}"), e),
        html! {
            (layout::error_summary(e))
            @if n > 1 { p { a href={ "/questionnaires/" (a.id) "/questions/" (n - 1) "?lang=" (lang) } { "Back" } } }
            span.caption { "Question " (n) " of " (total) }
            progress value=(n - 1) max=(total) aria-label={ (a.answers.len()) " of " (total) " answered" } {}
            form method="post" action={ "/questionnaires/" (a.id) "/questions/" (n) } novalidate {
                (layout::csrf(&user.csrf))
                input type="hidden" name="lang" value=(lang);
                div.form-group.form-group--error[e.for_field("answer").is_some()] id="answer" {
                    fieldset.fieldset {
                        legend.fieldset-legend { h1.question-heading { (ins.localise(&item.text, lang)) } }
                        @if n == 1 { @if let Some(instr) = &ins.definition().instructions { div.hint { (ins.localise(instr, lang)) } } }
                        @if let Some(m) = e.for_field("answer") { span.error-message id="answer-error" { span.visually-hidden { "Error: " } (m) } }
                        div.radios {
                            @for (code, label) in &opts_ref {
                                @let rid = format!("answer-{code}");
                                div.radios-item {
                                    input.radios-input id=(rid) name="answer" type="radio" value=(code) checked[*code == selected];
                                    label.label.radios-label for=(rid) { (label) }
                                }
                            }
                        }
                    }
                }
                button.button type="submit" { "Continue" }
            }
            p { "Your answers are saved as you go. " a href="/" { "Stop for now and come back later" } }
            @if !other_langs.is_empty() {
                p.secondary-text { "Also available in: " @for l in &other_langs { a href={ "/questionnaires/" (a.id) "/questions/" (n) "?lang=" (l) } lang=(l) { (alongside_core::person::language_label(l)) } " " } }
            }
        },
    )
}

pub async fn resume(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (a, ins) = load(&state, &user, &id, source.clone()).await?;
    if a.completed {
        return result_page(&state, &user, &a, &ins, source).await;
    }
    let next = ins
        .items()
        .iter()
        .position(|i| !a.answers.contains_key(&i.link_id))
        .map(|p| p + 1);
    Ok(match next {
        Some(n) => see_other(&format!("/questionnaires/{}/questions/{n}", a.id)),
        None => see_other(&format!("/questionnaires/{}/check", a.id)),
    })
}

pub async fn question(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<LangParam>,
) -> AppResult<Response> {
    let n: usize = parse(&n)?;
    let (a, ins) = load(&state, &user, &id, source).await?;
    if a.completed {
        return Ok(see_other(&format!("/questionnaires/{}", a.id)));
    }
    if n == 0 || n > ins.items().len() {
        return Err(AppError::NotFound);
    }
    let lang = lang_for(&user, &ins, q.lang.as_deref());
    Ok(ok(question_page(
        &user,
        &a,
        &ins,
        n,
        &lang,
        &ValidationErrors::default(),
    )))
}

pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let n: usize = parse(&n)?;
    let (a, ins) = load(&state, &user, &id, source.clone()).await?;
    if n == 0 || n > ins.items().len() {
        return Err(AppError::NotFound);
    }
    let lang = lang_for(&user, &ins, Some(&f.get("lang")));
    let item = &ins.items()[n - 1];
    let code = f.get("answer");
    if !item.options.iter().any(|o| o.code == code) {
        let mut e = ValidationErrors::default();
        e.add(
            "answer",
            if code.is_empty() {
                "Select an answer"
            } else {
                "Select one of the answers shown"
            },
        );
        return Ok(invalid(question_page(&user, &a, &ins, n, &lang, &e)));
    }
    match state
        .store
        .save_answers(
            &user.actor,
            a.id,
            vec![(item.link_id.clone(), code)],
            source,
        )
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Ok(see_other(&format!("/questionnaires/{}", a.id))),
        Err(other) => return Err(other.into()),
    }
    Ok(if n < ins.items().len() {
        see_other(&format!(
            "/questionnaires/{}/questions/{}?lang={lang}",
            a.id,
            n + 1
        ))
    } else {
        see_other(&format!("/questionnaires/{}/check?lang={lang}", a.id))
    })
}

pub async fn check(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    Query(q): Query<LangParam>,
) -> AppResult<Response> {
    let (a, ins) = load(&state, &user, &id, source).await?;
    if a.completed {
        return Ok(see_other(&format!("/questionnaires/{}", a.id)));
    }
    let lang = lang_for(&user, &ins, q.lang.as_deref());
    let missing = ins
        .items()
        .iter()
        .filter(|i| !a.answers.contains_key(&i.link_id))
        .count();
    Ok(ok(layout::page(
        Some(&user),
        "Check your answers",
        html! {
            h1 { "Check your answers" }
            dl.summary-list {
                @for (i, item) in ins.items().iter().enumerate() {
                    div.summary-list-row {
                        dt.summary-list-key { (ins.localise(&item.text, &lang)) }
                        dd.summary-list-value {
                            @match a.answers.get(&item.link_id).and_then(|c| item.options.iter().find(|o| &o.code == c)) {
                                Some(o) => { (ins.localise(&o.label, &lang)) }
                                None => { span.secondary-text { "Not answered" } }
                            }
                            " " a href={ "/questionnaires/" (a.id) "/questions/" (i + 1) "?lang=" (lang) } { "Change" span.visually-hidden { " your answer to: " (ins.localise(&item.text, &lang)) } }
                        }
                    }
                }
            }
            @if missing > 0 { div.inset { p { (missing) " questions are not answered. You can still send your answers; if too few are answered, no score can be worked out." } } }
            form method="post" action={ "/questionnaires/" (a.id) "/submit" } {
                (layout::csrf(&user.csrf))
                button.button type="submit" { "Send my answers" }
            }
        },
    )))
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    _: CsrfForm,
) -> AppResult<Response> {
    let (a, ins) = load(&state, &user, &id, source.clone()).await?;
    if a.completed {
        return Ok(see_other(&format!("/questionnaires/{}", a.id)));
    }
    let outcome = ins
        .score_answers(a.answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    match state
        .store
        .complete_assessment(
            &user.actor,
            a.id,
            a.answers.clone(),
            stored_result(&outcome),
            source,
        )
        .await
    {
        Ok(()) | Err(StoreError::Conflict(_)) => {
            Ok(see_other(&format!("/questionnaires/{}", a.id)))
        }
        Err(other) => Err(other.into()),
    }
}

// ----- the result ---------------------------------------------------------------------------

async fn result_page(
    state: &AppState,
    user: &CurrentUser,
    a: &AssessmentRow,
    ins: &Instrument,
    source: Source,
) -> AppResult<Response> {
    let r = a.result.clone().unwrap_or_default();
    let own = user.actor.person_id == Some(a.person_id);
    let lang = ins.definition().languages.default.clone();
    let level = r.level.and_then(|l| ins.level(l as u8));
    // Allowed and audited as part of reading this assessment.
    let conditions = state
        .store
        .conditions_of(&user.actor, a.person_id, source)
        .await?;
    let rules = rules(state, user.actor.org_id).await?;
    let recs = r
        .level
        .map(|l| rules.recommend(l as u8, &conditions))
        .unwrap_or_default();
    Ok(ok(layout::page(
        Some(user),
        "Your result",
        html! {
            span.caption { (ins.title(&lang)) }
            h1 { @if own { "Thank you for your answers" } @else { "Questionnaire result" } }
            @if let Some(reason) = &r.not_scored_reason {
                div.inset { p { "We could not work out a score this time, because too few questions were answered. That is all right: you can fill it in again whenever you like." } p.secondary-text { (reason) } }
            } @else if let Some(l) = level {
                div.card {
                    h2 { (ins.localise(&l.name, &lang)) }
                    p.lede { (ins.localise(&l.person_text, &lang)) }
                    @if !own { p.secondary-text { (ins.localise(&l.description, &lang)) } }
                }
            }
            @if !own {
                dl.summary-list {
                    (layout::row("Completed", html! { (a.completed_at.map(when).unwrap_or_default()) }))
                    (layout::row("How", html! { (MODES.iter().find(|(m, _)| *m == a.mode).map(|(_, l)| *l).unwrap_or(&a.mode)) }))
                    (layout::row("Items answered", html! { (r.items_answered) " of " (ins.items().len()) }))
                    (layout::row("Score", html! { (r.score.map(|s| format!("{:.1}", alongside_measure::round_score(s))).unwrap_or_else(|| "Not scored".into())) @if let Some(se) = r.score_se { " (standard error " (format!("{se:.1}")) ")" } }))
                    @if let Some(m) = r.measure { (layout::row("Measure (logits)", html! { (format!("{m:.3}")) @if let Some(se) = r.standard_error { " ± " (format!("{se:.3}")) } })) }
                    (layout::row("Data quality", if r.flags.is_empty() { html! { "No concerns" } } else { html! { @for d in flag_descriptions(&r.flags) { strong.tag.tag--red { "Check" } " " (d) br; } } }))
                }
            } @else if !r.flags.is_empty() {
                p.secondary-text { "Your answers were all at one end of the scale. Your coach may talk them through with you." }
            }
            @if !recs.is_empty() {
                h2 { @if own { "Support that could help you" } @else { "Recommended next steps" } }
                ul { @for rec in &recs { li { strong { (rec.title) } br; @if own { (rec.person_text) } @else { span.secondary-text { (rec.staff_reason) } } } } }
                @if own { p { "Talk to your coordinator or coach about any of these, or ask at your GP practice." } }
            }
            p { a href={ "/people/" (a.person_id) "#activation" } { @if own { "Back to your record" } @else { "Back to their record" } } }
        },
    )))
}

// ----- staff recording a completed questionnaire on one page ---------------------------------

#[derive(Deserialize, Default)]
pub struct RecordParams {
    instrument: Option<String>,
}

fn record_page(
    user: &CurrentUser,
    person: PersonId,
    name: &str,
    instruments: &[InstrumentRow],
    chosen: Option<(&InstrumentRow, &Instrument)>,
    f: &FormData,
    e: &ValidationErrors,
) -> Markup {
    let modes: Vec<(&str, &str)> = MODES
        .iter()
        .filter(|(m, _)| *m != "self")
        .copied()
        .collect();
    html! {
        (layout::error_summary(e))
        span.caption { (name) }
        h1 { "Record questionnaire answers" }
        @match chosen {
            None => {
                form method="get" action={ "/people/" (person) "/questionnaires/record" } {
                    @let opts: Vec<(String, String)> = instruments.iter().map(|i| (i.id.as_text(), i.title.clone())).collect();
                    @let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                    (layout::radios("instrument", "Which questionnaire?", &opts_ref, "", e))
                    button.button type="submit" { "Continue" }
                }
            }
            Some((row, ins)) => {
                form method="post" action={ "/people/" (person) "/questionnaires/record" } novalidate {
                    (layout::csrf(&user.csrf))
                    input type="hidden" name="instrument" value=(row.id);
                    (layout::radios("mode", "How were the answers given?", &modes, &f.get("mode"), e))
                    @for item in ins.items() {
                        @let opts: Vec<(String, String)> = std::iter::once((String::new(), "Not answered".to_string())).chain(item.options.iter().map(|o| (o.code.clone(), ins.localise(&o.label, "en").to_string()))).collect();
                        @let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                        (layout::select(&format!("item-{}", item.link_id), ins.localise(&item.text, "en"), &opts_ref, &f.get(&format!("item-{}", item.link_id)), e))
                    }
                    button.button type="submit" { "Save answers" }
                }
            }
        }
    }
}

pub async fn record_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    Query(p): Query<RecordParams>,
) -> AppResult<Response> {
    let person: PersonId = parse(&id)?;
    // Staff recording answers given elsewhere (refusal audited).
    let view = state
        .store
        .read_person_for(
            &user.actor,
            person,
            Action::RecordAssessmentOnBehalf,
            source,
        )
        .await?;
    let instruments = active_instruments(&state, user.actor.org_id).await?;
    let chosen_row = p
        .instrument
        .as_deref()
        .and_then(|s| s.parse::<InstrumentId>().ok())
        .and_then(|i| instruments.iter().find(|r| r.id == i));
    let compiled = match chosen_row {
        Some(r) => Some(state.instrument(user.actor.org_id, r.id).await?),
        None => None,
    };
    let chosen = chosen_row.zip(compiled.as_deref());
    let page = layout::page(
        Some(&user),
        "Record questionnaire answers",
        record_page(
            &user,
            person,
            &view.record.details.full_name(),
            &instruments,
            chosen,
            &FormData::default(),
            &ValidationErrors::default(),
        ),
    );
    Ok(ok(page))
}

pub async fn record_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let person: PersonId = parse(&id)?;
    // Staff recording answers given elsewhere; a refusal (or an unknown person) is audited.
    state
        .store
        .authorise_person(
            &user.actor,
            Action::RecordAssessmentOnBehalf,
            person,
            AuditAs::new(AuditAction::AssessmentCompleted).on("assessment", None),
            &source,
        )
        .await?;
    let instrument_id: InstrumentId = f.get("instrument").parse().map_err(|_| {
        AppError::BadRequest("Choose a questionnaire first: go back and try again.".into())
    })?;
    let ins = match state.instrument(user.actor.org_id, instrument_id).await {
        Ok(i) => i,
        Err(AppError::NotFound) => {
            return Err(AppError::BadRequest(
                "That questionnaire does not exist in your organisation.".into(),
            ))
        }
        Err(other) => return Err(other),
    };
    let mut e = ValidationErrors::default();
    let mode = f.get("mode");
    if !MODES.iter().any(|(m, _)| *m == mode && *m != "self") {
        e.add("mode", "Select how the answers were given");
    }
    let mut answers = BTreeMap::new();
    for item in ins.items() {
        let field = format!("item-{}", item.link_id);
        let code = f.get(&field);
        if code.is_empty() {
            continue;
        }
        if item.options.iter().any(|o| o.code == code) {
            answers.insert(item.link_id.clone(), code);
        } else {
            e.add(&field, "Select one of the answers in the list");
        }
    }
    if !e.is_empty() {
        let view = state.store.read_person(&user.actor, person, source).await?;
        let instruments = active_instruments(&state, user.actor.org_id).await?;
        let row = state
            .store
            .instrument(user.actor.org_id, instrument_id)
            .await?;
        let page = layout::page(
            Some(&user),
            &layout::title_with_errors("Record questionnaire answers", &e),
            record_page(
                &user,
                person,
                &view.record.details.full_name(),
                &instruments,
                Some((&row, &ins)),
                &f,
                &e,
            ),
        );
        return Ok(invalid(page));
    }
    let outcome = ins
        .score_answers(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let aid = state
        .store
        .record_assessment(
            &user.actor,
            person,
            instrument_id,
            &mode,
            answers,
            stored_result(&outcome),
            source,
        )
        .await?;
    Ok(see_other(&format!("/questionnaires/{aid}")))
}

// ----- coordinators' lists ------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct OutreachParams {
    condition: Option<String>,
    level: Option<String>,
    practice: Option<String>,
    format: Option<String>,
}

/// A text cell of the outreach CSV (the one CSV writer's: quoted, formulas neutralised).
#[cfg(test)]
fn csv_field(s: &str) -> String {
    alongside_stats::csv_writer::text_field(s)
}

pub async fn outreach(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<OutreachParams>,
) -> AppResult<Response> {
    let csv = p.format.as_deref() == Some("csv");
    let mut rows = state
        .store
        .latest_measures(
            &user.actor,
            if csv {
                "outreach list (CSV download)"
            } else {
                "outreach list"
            },
            source,
        )
        .await?;
    let condition = p.condition.clone().unwrap_or_default();
    let level: Option<i64> = p.level.as_deref().and_then(|l| l.parse().ok());
    let practice = p.practice.clone().unwrap_or_default();
    // The practice filter's choices come from the same read, before any filter applies.
    let practices: std::collections::BTreeSet<String> =
        rows.iter().filter_map(|r| r.gp_practice.clone()).collect();
    rows.retain(|r| r.score.is_some());
    rows.retain(|r| condition.is_empty() || r.conditions.contains(&condition));
    rows.retain(|r| level.is_none() || r.level == level);
    rows.retain(|r| practice.is_empty() || r.gp_practice.as_deref() == Some(practice.as_str()));
    // Those who would benefit most first: lowest level, then the most recent unplanned care
    // (A&E or emergency admission; none last), then lowest score, then longest since measured.
    rows.sort_by(|a, b| {
        a.level
            .unwrap_or(9)
            .cmp(&b.level.unwrap_or(9))
            .then_with(|| b.last_unplanned.cmp(&a.last_unplanned))
            .then(
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.completed_at.cmp(&b.completed_at))
    });
    if csv {
        let write = || -> std::io::Result<String> {
            let mut w = alongside_stats::CsvWriter::in_memory();
            w.header(&[
                "person_id",
                "given_name",
                "family_name",
                "gp_practice",
                "conditions",
                "level",
                "score",
                "measured_on",
                "last_unplanned_care",
            ])?;
            for r in &rows {
                w.text(&r.person_id.as_text())
                    .text(&r.given_name)
                    .text(&r.family_name)
                    .text(r.gp_practice.as_deref().unwrap_or(""))
                    .text(&r.conditions.join(";"));
                match r.level {
                    Some(l) => w.int(l),
                    None => w.empty(),
                };
                match r.score {
                    Some(s) => w.fixed(alongside_measure::round_score(s), 1),
                    None => w.empty(),
                };
                w.word(
                    &r.completed_at
                        .map(|t| alongside_core::time::iso_date(Timestamp(t).date()))
                        .unwrap_or_default(),
                )
                .word(r.last_unplanned.as_deref().unwrap_or(""))
                .end_row()?;
            }
            w.into_string()
        };
        let out = write().map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"outreach.csv\"",
                ),
            ],
            out,
        )
            .into_response());
    }
    let cond_opts: Vec<(&str, &str)> = std::iter::once(("", "Any condition"))
        .chain(
            alongside_core::conditions::CONDITIONS
                .iter()
                .map(|c| (c.key, c.label)),
        )
        .collect();
    let level_opts = [
        ("", "Any level"),
        ("1", "Level 1"),
        ("2", "Level 2"),
        ("3", "Level 3"),
        ("4", "Level 4"),
    ];
    let prac_opts: Vec<(&str, &str)> = std::iter::once(("", "Any practice"))
        .chain(practices.iter().map(|p| (p.as_str(), p.as_str())))
        .collect();
    let none = ValidationErrors::default();
    let query = format!(
        "condition={}&level={}&practice={}",
        form_urlencoded::byte_serialize(condition.as_bytes()).collect::<String>(),
        p.level.clone().unwrap_or_default(),
        form_urlencoded::byte_serialize(practice.as_bytes()).collect::<String>()
    );
    Ok(ok(layout::page(
        Some(&user),
        "Outreach",
        html! {
            h1 { "Who would benefit most" }
            p.lede { "People with the lowest activation first; within a level, those with the most recent unplanned care (A&E or an emergency admission), then the lowest score." }
            form.search-form method="get" action="/activation/outreach" {
                (layout::select("condition", "Condition", &cond_opts, &condition, &none))
                (layout::select("level", "Level", &level_opts, p.level.as_deref().unwrap_or(""), &none))
                (layout::select("practice", "GP practice", &prac_opts, &practice, &none))
                button.button type="submit" { "Filter" }
            }
            p { (rows.len()) " people. " a href={ "/activation/outreach?" (query) "&format=csv" } { "Download as CSV" } }
            (measure_table(&rows, 200))
        },
    )))
}

fn measure_table(rows: &[LatestMeasure], max: usize) -> Markup {
    html! {
        div.table-wrapper {
            table.responsive {
                caption.visually-hidden { "People" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Level" } th.numeric scope="col" { "Score" } th scope="col" { "Last measured" } th scope="col" { "Last unplanned care" } th scope="col" { "GP practice" } } }
                tbody {
                    @for r in rows.iter().take(max) {
                        tr {
                            td data-label="Name" { a href={ "/people/" (r.person_id) } { (r.given_name) " " (r.family_name) } }
                            td data-label="Level" { (r.level.map(|l| l.to_string()).unwrap_or_else(|| "—".into())) }
                            td.numeric data-label="Score" { (r.score.map(|s| format!("{:.1}", alongside_measure::round_score(s))).unwrap_or_else(|| "—".into())) }
                            td data-label="Last measured" { (r.completed_at.map(when).unwrap_or_else(|| "Never".into())) }
                            td data-label="Last unplanned care" { (r.last_unplanned.as_deref().and_then(alongside_core::time::parse_iso_date).map(display_date).unwrap_or_else(|| "None recorded".into())) }
                            td data-label="GP practice" { (r.gp_practice.clone().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
        @if rows.len() > max { p { "Showing the first " (max) ". Download the CSV for everyone." } }
    }
}

pub async fn due(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let rows = state
        .store
        .latest_measures(&user.actor, "due for re-measurement", source.clone())
        .await?;
    let months = remeasure_months(&state, user.actor.org_id).await?;
    let today = alongside_core::coaching::london_local(state.config.clock.now()).0;
    let soon = today + time::Duration::days(30);
    let coaching = state
        .store
        .coaching_remeasure_dates(&user.actor, source)
        .await?;
    let mut overdue: Vec<LatestMeasure> = Vec::new();
    let mut due_soon: Vec<LatestMeasure> = Vec::new();
    for r in rows {
        let coaching_due = coaching
            .get(&r.person_id)
            .and_then(|d| alongside_core::time::parse_iso_date(d));
        let Some(d) = due_date(r.completed_at, months, coaching_due) else {
            continue;
        };
        if d < today {
            overdue.push(r);
        } else if d <= soon {
            due_soon.push(r);
        }
    }
    overdue.sort_by_key(|r| r.completed_at);
    due_soon.sort_by_key(|r| r.completed_at);
    Ok(ok(layout::page(
        Some(&user),
        "Due for re-measurement",
        html! {
            h1 { "Due for re-measurement" }
            p.lede { "People are measured again " (months) " months after their last questionnaire, and at the end of any coaching." }
            h2 { "Overdue (" (overdue.len()) ")" }
            (measure_table(&overdue, 200))
            h2 { "Due in the next 30 days (" (due_soon.len()) ")" }
            (measure_table(&due_soon, 200))
        },
    )))
}

// ----- administering instruments ------------------------------------------------------------

fn instruments_page(
    user: &CurrentUser,
    list: &[InstrumentRow],
    json: &str,
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Questionnaires", e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            h1 { "Questionnaires" }
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Loaded instruments" }
                    thead { tr { th scope="col" { "Title" } th scope="col" { "Identifier" } th scope="col" { "Version" } th scope="col" { "Status" } } }
                    tbody {
                        @for i in list {
                            tr {
                                td data-label="Title" { (i.title) }
                                td data-label="Identifier" { (i.key) }
                                td data-label="Version" { (i.version) }
                                td data-label="Status" {
                                    @if i.active { strong.tag.tag--green { "In use" } } @else {
                                        span.tag.tag--grey { "Earlier version" }
                                        form method="post" action={ "/admin/instruments/" (i.id) "/rescore" } {
                                            (layout::csrf(&user.csrf))
                                            button.link-button.link-button--dark type="submit" { "Re-score its results with the version in use" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Load an instrument" }
            p { "Paste an instrument definition (JSON, described in docs/instruments.md). Organisations holding a licence for a proprietary instrument, such as the Patient Activation Measure, load their own definition here. A new version of an existing instrument becomes the one in use; results keep the version they were scored with." }
            form method="post" action="/admin/instruments" novalidate {
                (layout::csrf(&user.csrf))
                (layout::textarea("definition", "Instrument definition (JSON)", None, json, e))
                button.button type="submit" { "Load instrument" }
            }
        },
    )
}

pub async fn admin_list(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageInstruments)?;
    let list = state.store.instruments(user.actor.org_id).await?;
    Ok(ok(instruments_page(
        &user,
        &list,
        "",
        &ValidationErrors::default(),
        None,
    )))
}

pub async fn admin_import(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
    ClientSource(source): ClientSource,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let json = f.get("definition");
    let mut e = ValidationErrors::default();
    let list = state.store.instruments(user.actor.org_id).await?;
    if json.trim().is_empty() {
        e.add("definition", "Paste an instrument definition");
        return Ok(invalid(instruments_page(&user, &list, &json, &e, None)));
    }
    let ins = match Instrument::from_json_str(&json) {
        Ok(i) => i,
        Err(err) => {
            for fe in err.errors.iter().take(20) {
                e.add("definition", format!("{}: {}", fe.path, fe.message));
            }
            if e.is_empty() {
                e.add("definition", err.to_string());
            }
            return Ok(invalid(instruments_page(&user, &list, &json, &e, None)));
        }
    };
    let title = ins.title(&ins.definition().languages.default).to_string();
    match state
        .store
        .install_instrument(
            user.actor.org_id,
            ins.id(),
            ins.version(),
            &title,
            &json,
            Some(user.actor.clone()),
            source,
        )
        .await
    {
        Ok((_, created)) => {
            let list = state.store.instruments(user.actor.org_id).await?;
            let msg = if created {
                format!("Loaded {title}, version {}", ins.version())
            } else {
                format!("{title}, version {}, was already loaded", ins.version())
            };
            Ok(html_response(
                StatusCode::OK,
                instruments_page(&user, &list, "", &ValidationErrors::default(), Some(&msg)),
            ))
        }
        Err(StoreError::Conflict(m)) => {
            e.add("definition", m);
            Ok(invalid(instruments_page(&user, &list, &json, &e, None)))
        }
        Err(other) => Err(other.into()),
    }
}

fn settings_page(
    user: &CurrentUser,
    months: &str,
    rules: &str,
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Measurement settings", e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            h1 { "Measurement settings" }
            form method="post" action="/admin/settings" novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("remeasure_months", "Months between measurements", months, e, layout::Input { hint: Some("People are due to fill in their questionnaire again this many months after the last one (1 to 36). The usual interval is 6."), width: Some("input--width-2"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::textarea("rules", "Tailored next steps (rules as JSON)", Some("Each rule names the activation levels (1 to 4) it applies to, optionally the conditions, what is offered, a reason for staff and plain words for the person. Rules are shown in this order."), rules, e))
                button.button type="submit" { "Save settings" }
            }
        },
    )
}

pub async fn settings(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageInstruments)?;
    let org = user.actor.org_id;
    let months = remeasure_months(&state, org).await?.to_string();
    let rules = state
        .store
        .setting(org, "recommendation_rules")
        .await?
        .unwrap_or_else(|| alongside_core::recommend::DEFAULT_RULES_JSON.to_string());
    Ok(ok(settings_page(
        &user,
        &months,
        &rules,
        &ValidationErrors::default(),
        None,
    )))
}

pub async fn save_settings(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
    ClientSource(source): ClientSource,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let (months, rules) = (f.get("remeasure_months"), f.get("rules"));
    let mut e = ValidationErrors::default();
    match months.trim().parse::<u32>() {
        Ok(m) if (1..=36).contains(&m) => {}
        _ => e.add(
            "remeasure_months",
            "Months between measurements must be a whole number from 1 to 36",
        ),
    }
    if let Err(err) = Rules::parse(&rules) {
        e.add(
            "rules",
            format!("The rules could not be used: {}: {}", err.path, err.message),
        );
    }
    if !e.is_empty() {
        return Ok(invalid(settings_page(&user, &months, &rules, &e, None)));
    }
    let values = vec![
        ("remeasure_months".to_string(), months.trim().to_string()),
        ("recommendation_rules".to_string(), rules.clone()),
    ];
    state
        .store
        .set_settings(&user.actor, values, source)
        .await?;
    Ok(ok(settings_page(
        &user,
        months.trim(),
        &rules,
        &ValidationErrors::default(),
        Some("Settings saved"),
    )))
}

/// Re-scores every result stored with an earlier version using the version now in use: an
/// explicit, audited operation (results otherwise keep the version they were scored with).
pub async fn admin_rescore(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    _: CsrfForm,
) -> AppResult<Response> {
    let from_id: InstrumentId = parse(&id)?;
    let org = user.actor.org_id;
    let from = state.store.instrument(org, from_id).await?;
    let list = state.store.instruments(org).await?;
    let Some(to) = list.iter().find(|i| i.key == from.key && i.active) else {
        return Err(AppError::BadRequest(
            "No version of this instrument is in use.".into(),
        ));
    };
    if to.id == from.id {
        return Err(AppError::BadRequest(
            "This is the version in use: there is nothing to re-score.".into(),
        ));
    }
    let ins = state.instrument(org, to.id).await?;
    let scorer = move |answers: &BTreeMap<String, String>| match ins
        .score_answers(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        Ok(o) => stored_result(&o),
        Err(e) => StoredResult {
            not_scored_reason: Some(format!("not scored with the new version: {e}")),
            ..Default::default()
        },
    };
    let n = state
        .store
        .rescore_assessments(&user.actor, from.id, to.id, scorer, source)
        .await?;
    let list = state.store.instruments(org).await?;
    let msg = format!(
        "Re-scored {n} results from version {} with version {}",
        from.version, to.version
    );
    Ok(ok(instruments_page(
        &user,
        &list,
        "",
        &ValidationErrors::default(),
        Some(&msg),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months(date!(2026 - 05 - 22), 6), date!(2026 - 11 - 22));
        assert_eq!(add_months(date!(2026 - 08 - 31), 6), date!(2027 - 02 - 28));
        assert_eq!(add_months(date!(2027 - 08 - 31), 6), date!(2028 - 02 - 29));
        assert_eq!(add_months(date!(2026 - 12 - 01), 1), date!(2027 - 01 - 01));
    }

    #[test]
    fn csv_fields_are_quoted_and_formula_safe() {
        assert_eq!(csv_field("Nowak"), "\"Nowak\"");
        assert_eq!(csv_field("O\"Neill"), "\"O\"\"Neill\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
