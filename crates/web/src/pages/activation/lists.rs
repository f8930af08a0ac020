//! The coordinators' lists: who would benefit most (outreach, with its CSV download) and who
//! is due to be measured again.

use super::{due_date, remeasure_months, when};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::layout;
use crate::pages::ok;
use crate::AppState;
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::ValidationErrors;
use alongside_store::activation::LatestMeasure;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formula_safe() {
        assert_eq!(csv_field("Nowak"), "\"Nowak\"");
        assert_eq!(csv_field("O\"Neill"), "\"O\"\"Neill\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
