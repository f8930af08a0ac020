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
use crate::pages::date_entry::{date_input, DateBoxes, DateEntry};
use crate::pages::{invalid, ok};
use crate::AppState;
use alongside_core::validation::ValidationErrors;
use alongside_stats::disclosure::Policy;
use alongside_stats::report::Report;
use alongside_stats::{Day, EvalError, EvalOptions};
use alongside_store::outcomes::{OutcomeInputs, Requester, Window};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use figures::{figures, reach_figures, Figures};
use maud::{html, Markup};
use sections::{activation_section, change_section, reach_section, utilisation_section};

/// The one policy; hidden figures are `[c]` here.
pub const POLICY: Policy = Policy::STANDARD;

/// Counts from 1 to this are suppressed in everything shown, downloaded or printed here.
pub const THRESHOLD: u64 = POLICY.threshold;

/// The dashboard's query: the window, from the date inputs' boxes (`from_day`, …) or — in
/// links such as the CSV download's — as ISO dates (`from`, `to`), and the format.
#[derive(serde::Deserialize, Default)]
pub struct Params {
    from: Option<String>,
    from_day: Option<String>,
    from_month: Option<String>,
    from_year: Option<String>,
    to: Option<String>,
    to_day: Option<String>,
    to_month: Option<String>,
    to_year: Option<String>,
    format: Option<String>,
}

impl Params {
    /// The start (`from`) or end (`to`) date as sent.
    fn date(&self, name: &str) -> DateEntry {
        DateEntry::read(
            |k| match k {
                "from" => self.from.clone(),
                "from_day" => self.from_day.clone(),
                "from_month" => self.from_month.clone(),
                "from_year" => self.from_year.clone(),
                "to" => self.to.clone(),
                "to_day" => self.to_day.clone(),
                "to_month" => self.to_month.clone(),
                "to_year" => self.to_year.clone(),
                _ => None,
            },
            name,
        )
    }
}

/// Today in Europe/London by the application's clock, as a day number.
fn today(state: &AppState) -> Day {
    let d = state.store.clock().today();
    Day::from_ymd(d.year(), u32::from(d.month() as u8), u32::from(d.day()))
        .expect("a calendar date is a day")
}

/// A window the dashboard cannot use: an ISO date in a link that is no date, or an end before
/// the start there (400, as always); or date boxes that make no date, or an end before the
/// start (the form again, the error on the box).
enum BadWindow {
    Refused(AppError),
    Invalid(ValidationErrors),
}

/// One end of the window: `default` when left empty; `None` when the boxes make no date (the
/// error is in `e`).
fn window_day(
    p: &Params,
    name: &str,
    label: &str,
    what: &str,
    default: Day,
    e: &mut ValidationErrors,
) -> Result<Option<Day>, AppError> {
    let entry = p.date(name);
    let text = match entry.text(name, label) {
        Ok(t) => t,
        Err(problem) => {
            e.0.push(problem);
            return Ok(None);
        }
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(Some(default));
    }
    match (Day::parse_iso(text.as_bytes()), &entry) {
        (Some(d), _) => Ok(Some(d)),
        (None, DateEntry::Single(_)) => Err(AppError::BadRequest(format!(
            "The {what} date must be a real date written like 2025-01-31."
        ))),
        (None, DateEntry::Boxes(_)) => {
            e.add(
                &entry.error_field(name),
                format!("{label} must be a real date"),
            );
            Ok(None)
        }
    }
}

fn window(p: &Params, today: Day) -> Result<Window, BadWindow> {
    let default = Window::last_full_year(today);
    let mut e = ValidationErrors::default();
    let from = window_day(p, "from", "The start date", "start", default.from, &mut e)
        .map_err(BadWindow::Refused)?;
    let to = window_day(p, "to", "The end date", "end", default.to, &mut e)
        .map_err(BadWindow::Refused)?;
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            let (f, t) = (p.date("from"), p.date("to"));
            if matches!((&f, &t), (DateEntry::Single(_), DateEntry::Single(_))) {
                return Err(BadWindow::Refused(AppError::BadRequest(
                    "The end date must be on or after the start date.".into(),
                )));
            }
            e.add(
                &t.error_field("to"),
                "The end date must be on or after the start date",
            );
        }
    }
    match (from, to) {
        (Some(from), Some(to)) if e.is_empty() => Ok(Window { from, to }),
        _ => Err(BadWindow::Invalid(e)),
    }
}

/// The boxes showing a day of the window.
fn boxes(d: Day) -> DateBoxes {
    let (y, m, d) = d.ymd();
    DateBoxes {
        day: d.to_string(),
        month: m.to_string(),
        year: y.to_string(),
    }
}

/// The window's form: the start and end dates as date inputs.
fn window_form(from: &DateBoxes, to: &DateBoxes, e: &ValidationErrors) -> Markup {
    html! {
        form.search-form method="get" action="/outcomes" novalidate {
            (date_input("from", "From", "For example, 1 1 2025", from, e))
            (date_input("to", "To (inclusive)", "For example, 31 12 2025", to, e))
            button.button type="submit" { "Show" }
        }
    }
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
    w: Window,
    what: &str,
    source: alongside_store::people::Source,
) -> AppResult<Evaluation> {
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
    let w = match window(&p, today(&state)) {
        Ok(w) => w,
        Err(BadWindow::Refused(err)) => return Err(err),
        Err(BadWindow::Invalid(e)) => {
            return Ok(invalid(layout::page(
                Some(&user),
                &layout::title_with_errors("Outcomes", &e),
                html! {
                    (layout::error_summary(&e))
                    h1 { "Outcomes" }
                    (window_form(&p.date("from").boxes(), &p.date("to").boxes(), &e))
                },
            )))
        }
    };
    let e = evaluate(
        &state,
        &user,
        w,
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
            (window_form(&boxes(e.window.from), &boxes(e.window.to), &ValidationErrors::default()))
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
    let w = match window(&p, today(&state)) {
        Ok(w) => w,
        Err(BadWindow::Refused(err)) => return Err(err),
        Err(BadWindow::Invalid(e)) => {
            return Err(AppError::BadRequest(
                e.0.first().map(|x| x.message.clone()).unwrap_or_default(),
            ))
        }
    };
    let e = evaluate(&state, &user, w, "outcomes printable report", source).await?;
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
