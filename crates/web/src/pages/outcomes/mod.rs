//! The outcomes dashboard for analysts and commissioners (roles allowed `ReadAggregates`):
//! activation distribution, reach, change in activation and utilisation of care by activation
//! level, as accessible SVG charts each followed by its data table, a CSV download and a
//! printable report. Aggregates only, never identities. Every figure goes through the one
//! disclosure policy (`alongside_stats::disclosure`): counts from 1 to 7, the counts that would
//! let them be worked out from a total or a neighbouring table, and anything derived from
//! either are shown as `[c]`. Every view is audited by the store.
//!
//! The parts: `figures` (the protected counts), `charts`, `sections` (each chart with its
//! table), `download` (the CSV) and `csp` (the printable report's security policy).

mod charts;
mod csp;
mod download;
mod figures;
mod sections;
#[cfg(test)]
mod tests;

pub use csp::report_csp;

use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::layout;
use crate::pages::ok;
use crate::AppState;
use alongside_stats::disclosure::Policy;
use alongside_stats::report::Report;
use alongside_stats::{Day, EvalError, EvalOptions};
use alongside_store::outcomes::{OutcomeInputs, Requester, Window};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use figures::{figures, reach_figures, Figures};
use maud::html;
use sections::{activation_section, change_section, reach_section, utilisation_section};

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

/// Everything one view needs, computed once.
struct Evaluation {
    window: Window,
    inputs: OutcomeInputs,
    figures: Figures,
    report: Option<Report>,
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
            download::csv(&e, &reach_figures).map_err(|x| AppError::Internal(x.to_string()))?,
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
