//! The peer-support report: people reached, attendances (walk-ins included), sessions held and
//! average attendance per session, per group and by activation level and deprivation decile,
//! over a date range — tables, a CSV download and simple SVG bar charts.
//!
//! Counts from 1 to the threshold (7), and figures derived from them, are suppressed, with the
//! education report's helpers. This page must never name or link to anyone.

use super::education::report::{bar_chart, csv_text, rate, shown, THRESHOLD};
use super::{invalid, ok};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::time::{display_date, iso_date, parse_iso_date};
use alongside_core::validation::ValidationErrors;
use alongside_core::Action;
use alongside_stats::is_suppressed;
use alongside_store::peer_report::{Cell, PeerFigures, PeerReport};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

#[derive(Deserialize, Default)]
pub struct Params {
    from: Option<String>,
    to: Option<String>,
}

const LEVELS: [&str; 5] = ["Level 1", "Level 2", "Level 3", "Level 4", "Not measured"];
const NOT_KNOWN: &str = "Not known (walk-ins)";

fn decile_label(i: usize) -> String {
    if i == 10 {
        "Not recorded".into()
    } else {
        format!("{}", i + 1)
    }
}

/// The date range: the last 12 months to today unless given; field-named errors otherwise.
fn range(p: &Params, t: Date) -> Result<(Date, Date), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let mut parse = |v: &Option<String>, default: Date, field: &str, what: &str| match v
        .as_deref()
        .map(str::trim)
    {
        None | Some("") => Some(default),
        Some(s) => {
            let d = parse_iso_date(s);
            if d.is_none() {
                e.add(
                    field,
                    format!("The {what} date must be a real date written like 2026-01-31"),
                );
            }
            d
        }
    };
    let from = parse(
        &p.from,
        t.saturating_sub(time::Duration::days(364)),
        "from",
        "start",
    );
    let to = parse(&p.to, t, "to", "end");
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            e.add("to", "The end date must be on or after the start date");
        }
    }
    match (from, to) {
        (Some(f), Some(t)) if e.is_empty() => Ok((f, t)),
        _ => Err(e),
    }
}

/// Average attendances per session held, unless the attendances are suppressed.
fn average(f: &PeerFigures) -> String {
    if f.sessions_held == 0 {
        return "no sessions held".into();
    }
    if is_suppressed(f.attendances, Some(THRESHOLD)) {
        return "suppressed".into();
    }
    format!("{:.1}", f.attendances as f64 / f.sessions_held as f64)
}

fn share(n: u64, total: u64) -> String {
    rate(n, total)
        .map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "suppressed".into())
}

/// The breakdown rows: (label, people reached or `None` when not known, attendances).
fn breakdown(
    cells: &[Cell],
    label: impl Fn(usize) -> String,
    walk_ins: u64,
) -> Vec<(String, Option<u64>, u64)> {
    let mut rows: Vec<(String, Option<u64>, u64)> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| (label(i), Some(c.people), c.attendances))
        .collect();
    rows.push((NOT_KNOWN.into(), None, walk_ins));
    rows
}

/// The report as CSV: totals, one row per group, then the two breakdowns.
pub fn csv(r: &PeerReport) -> String {
    let mut s = String::from("section,group,breakdown,people_reached,attendances,walk_ins,sessions_held,average_attendance_per_session,share_of_attendances_percent\n");
    let fig = |section: &str, name: &str, f: &PeerFigures| {
        format!(
            "{section},{},,{},{},{},{},{},{}\n",
            if name.is_empty() {
                String::new()
            } else {
                csv_text(name)
            },
            shown(f.reached),
            shown(f.attendances),
            shown(f.walk_ins),
            f.sessions_held,
            average(f),
            share(f.attendances, r.total.attendances),
        )
    };
    s.push_str(&fig("total", "", &r.total));
    for (name, f) in &r.groups {
        s.push_str(&fig("group", name, f));
    }
    for (section, rows) in [
        (
            "activation_level",
            breakdown(&r.by_level, |i| LEVELS[i].to_string(), r.total.walk_ins),
        ),
        (
            "deprivation_decile",
            breakdown(&r.by_decile, decile_label, r.total.walk_ins),
        ),
    ] {
        for (label, people, n) in rows {
            s.push_str(&format!(
                "{section},,{},{},{},,,,{}\n",
                csv_text(&label),
                people.map(shown).unwrap_or_else(|| "not known".into()),
                shown(n),
                share(n, r.total.attendances),
            ));
        }
    }
    s
}

fn query(from: Date, to: Date) -> String {
    format!("from={}&to={}", iso_date(from), iso_date(to))
}

fn filter_form(from: &str, to: &str, e: &ValidationErrors) -> Markup {
    html! {
        form.search-form method="get" action="/reports/peer-support" novalidate {
            (layout::text_input("from", "From", from, e, Input { hint: Some("For example, 2026-01-01"), width: Some("input--width-10"), ..Default::default() }))
            (layout::text_input("to", "To", to, e, Input { hint: Some("For example, 2026-12-31"), width: Some("input--width-10"), ..Default::default() }))
            button.button type="submit" { "Show" }
        }
    }
}

fn breakdown_table(
    caption: &str,
    head: &str,
    rows: &[(String, Option<u64>, u64)],
    total: u64,
) -> Markup {
    html! {
        div.table-wrapper { table {
            caption { (caption) }
            thead { tr { th scope="col" { (head) } th scope="col" { "People reached" } th scope="col" { "Attendances" } th scope="col" { "Share of attendances" } } }
            tbody { @for (label, people, n) in rows { tr {
                td { (label) }
                td { (people.map(shown).unwrap_or_else(|| "not known".into())) }
                td { (shown(*n)) }
                td { (share(*n, total)) @if rate(*n, total).is_some() { "%" } }
            } } }
        } }
    }
}

fn bars(rows: &[(String, Option<u64>, u64)], total: u64) -> Vec<(String, Option<f64>)> {
    rows.iter()
        .map(|(label, _, n)| (label.chars().take(30).collect(), rate(*n, total)))
        .collect()
}

fn report_page(user: &CurrentUser, r: &PeerReport) -> Markup {
    const SHARE: &str = "Percentages of all attendances";
    let t = &r.total;
    let levels = breakdown(&r.by_level, |i| LEVELS[i].to_string(), t.walk_ins);
    let deciles = breakdown(
        &r.by_decile,
        |i| {
            if i == 10 {
                "Not recorded".into()
            } else {
                format!("Decile {}", i + 1)
            }
        },
        t.walk_ins,
    );
    let group_bars: Vec<(String, Option<f64>)> = r
        .groups
        .iter()
        .map(|(name, f)| {
            (
                name.chars().take(30).collect(),
                rate(f.attendances, t.attendances),
            )
        })
        .collect();
    html! {
        h1 { "Peer support report" }
        p.lede { "Reach and use of peer-support groups in " (user.org_name) ", for sessions from " (display_date(r.from)) " to " (display_date(r.to)) ". Counts from 1 to " (THRESHOLD) ", and figures made from them, are suppressed." }
        (filter_form(&iso_date(r.from), &iso_date(r.to), &ValidationErrors::default()))
        p { a href={ "/reports/peer-support.csv?" (query(r.from, r.to)) } download="peer-support-report.csv" { "Download as CSV" } }
        dl.summary-list {
            (layout::row("People reached", html! { (shown(t.reached)) }))
            (layout::row("Attendances", html! { (shown(t.attendances)) }))
            (layout::row("Of which walk-ins", html! { (shown(t.walk_ins)) }))
            (layout::row("Sessions held", html! { (t.sessions_held) }))
            (layout::row("Average attendance per session", html! { (average(t)) }))
        }
        p { "People reached counts registered people once, however often they came; people who walked in are counted in attendances only." }
        h2 { "By group" }
        div.table-wrapper { table {
            caption { "Reach and attendance by group" }
            thead { tr {
                th scope="col" { "Group" } th scope="col" { "People reached" } th scope="col" { "Attendances" } th scope="col" { "Walk-ins" }
                th scope="col" { "Sessions held" } th scope="col" { "Average attendance per session" }
            } }
            tbody { @for (name, f) in &r.groups { tr {
                td { (name) } td { (shown(f.reached)) } td { (shown(f.attendances)) } td { (shown(f.walk_ins)) }
                td { (f.sessions_held) } td { (average(f)) }
            } } }
        } }
        (bar_chart("chart-group", "Share of attendances by group", SHARE, &group_bars))
        h2 { "By activation level" }
        p { "Level from each registered attendee's latest scored activation questionnaire." }
        (bar_chart("chart-level", "Share of attendances by activation level", SHARE, &bars(&levels, t.attendances)))
        (breakdown_table("Attendance by activation level", "Activation level", &levels, t.attendances))
        h2 { "By deprivation decile" }
        p { "Decile 1 is the most deprived." }
        (bar_chart("chart-decile", "Share of attendances by deprivation decile", SHARE, &bars(&deciles, t.attendances)))
        (breakdown_table("Attendance by deprivation decile", "Decile", &deciles, t.attendances))
    }
}

/// GET /reports/peer-support
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    user.require(Action::ReadPeerSupportReport)?;
    let (from, to) = match range(&p, state.store.clock().today()) {
        Ok(r) => r,
        Err(e) => {
            return Ok(invalid(layout::page(
                Some(&user),
                &layout::title_with_errors("Peer support report", &e),
                html! {
                    (layout::error_summary(&e))
                    h1 { "Peer support report" }
                    (filter_form(p.from.as_deref().unwrap_or(""), p.to.as_deref().unwrap_or(""), &e))
                },
            )))
        }
    };
    let r = state
        .store
        .peer_support_report(&user.actor, from, to, source)
        .await?;
    Ok(ok(layout::page(
        Some(&user),
        "Peer support report",
        report_page(&user, &r),
    )))
}

/// GET /reports/peer-support.csv
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    user.require(Action::ReadPeerSupportReport)?;
    let (from, to) =
        range(&p, state.store.clock().today()).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let r = state
        .store
        .peer_support_report(&user.actor, from, to, source)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"peer-support-report.csv\"",
            ),
        ],
        csv(&r),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_from_small_counts_are_suppressed() {
        let f = |attendances, sessions_held| PeerFigures {
            reached: 0,
            attendances,
            walk_ins: 0,
            sessions_held,
        };
        assert_eq!(average(&f(7, 2)), "suppressed");
        assert_eq!(average(&f(9, 2)), "4.5");
        assert_eq!(average(&f(0, 0)), "no sessions held");
        assert_eq!(share(3, 40), "suppressed");
        assert_eq!(share(10, 40), "25.0");
    }
}
