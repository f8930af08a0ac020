//! The peer-support report: people reached, attendances (walk-ins included), sessions held and
//! average attendance per session, per group and by activation level and deprivation decile,
//! over a date range — tables, a CSV download and simple SVG bar charts.
//!
//! Every figure goes through the one disclosure policy (`alongside_stats::disclosure`), written
//! "suppressed" on this page: counts from 1 to the threshold (7), the counts that would let one
//! be worked out from a total (group attendances add up to all attendances; the people and
//! attendances by level and by decile add up to the people reached and all attendances), and
//! figures derived from either. This page must never name or link to anyone.

use super::date_entry::{date_input, DateBoxes, DateEntry};
use super::education::report::bar_chart;
use super::{invalid, ok};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, Require};
use crate::layout;
use crate::AppState;
use alongside_core::time::{display_date, iso_date, parse_iso_date};
use alongside_core::validation::ValidationErrors;
use alongside_stats::disclosure::{CellId, Marker, Policy, Protected, Table};
use alongside_stats::CsvWriter;
use alongside_store::peer_report::{Cell, PeerFigures, PeerReport};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

/// The range: from the date inputs' boxes (`from_day`, …) or — in links such as the CSV
/// download's — as ISO dates (`from`, `to`).
#[derive(Deserialize, Default)]
pub struct Params {
    from: Option<String>,
    from_day: Option<String>,
    from_month: Option<String>,
    from_year: Option<String>,
    to: Option<String>,
    to_day: Option<String>,
    to_month: Option<String>,
    to_year: Option<String>,
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
    let mut parse = |default: Date, field: &str, what: &str| {
        let entry = p.date(field);
        let text = match entry.text(field, &format!("The {what} date")) {
            Ok(text) => text,
            Err(problem) => {
                e.0.push(problem);
                return None;
            }
        };
        match text.trim() {
            "" => Some(default),
            s => {
                let d = parse_iso_date(s);
                if d.is_none() {
                    e.add(
                        &entry.error_field(field),
                        format!("The {what} date must be a real date written like 2026-01-31"),
                    );
                }
                d
            }
        }
    };
    let from = parse(t.saturating_sub(time::Duration::days(364)), "from", "start");
    let to = parse(t, "to", "end");
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            e.add(
                &p.date("to").error_field("to"),
                "The end date must be on or after the start date",
            );
        }
    }
    match (from, to) {
        (Some(f), Some(t)) if e.is_empty() => Ok((f, t)),
        _ => Err(e),
    }
}

/// The one policy, written "suppressed" here.
pub const POLICY: Policy = Policy::STANDARD.with_marker(Marker::Word);

/// Counts from 1 to this are suppressed.
pub const THRESHOLD: u64 = POLICY.threshold;

/// The cells of one set of figures (the total or a group).
#[derive(Clone, Copy)]
struct FigureIds {
    reached: CellId,
    attendances: CellId,
    walk_ins: CellId,
}

/// A breakdown row: label, people (not known for walk-ins), attendances.
type Row = (String, Option<CellId>, CellId);

/// The report's counts, protected together.
struct Figures {
    p: Protected,
    total: FigureIds,
    groups: Vec<FigureIds>,
    by_level: Vec<Row>,
    by_decile: Vec<Row>,
}

fn figures(r: &PeerReport) -> Figures {
    let mut t = Table::new();
    let mut ids = |f: &PeerFigures| FigureIds {
        reached: t.count(f.reached),
        attendances: t.count(f.attendances),
        walk_ins: t.count(f.walk_ins),
    };
    let total = ids(&r.total);
    let groups: Vec<FigureIds> = r.groups.iter().map(|(_, f)| ids(f)).collect();
    // Attendances and walk-ins add up over groups; people reached do not (one person may go
    // to several groups).
    let att: Vec<CellId> = groups.iter().map(|g| g.attendances).collect();
    t.total(total.attendances, &att);
    let walk: Vec<CellId> = groups.iter().map(|g| g.walk_ins).collect();
    t.total(total.walk_ins, &walk);
    let mut breakdown = |cells: &[Cell], label: &dyn Fn(usize) -> String| -> Vec<Row> {
        let mut rows: Vec<Row> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| (label(i), Some(t.count(c.people)), t.count(c.attendances)))
            .collect();
        // Each registered person is in one row; walk-ins are the last row's attendances.
        let people: Vec<CellId> = rows.iter().filter_map(|r| r.1).collect();
        t.total(total.reached, &people);
        rows.push((NOT_KNOWN.into(), None, total.walk_ins));
        let attendances: Vec<CellId> = rows.iter().map(|r| r.2).collect();
        t.total(total.attendances, &attendances);
        rows
    };
    let by_level = breakdown(&r.by_level, &|i| LEVELS[i].to_string());
    let by_decile = breakdown(&r.by_decile, &decile_label);
    Figures {
        p: t.protect(&POLICY),
        total,
        groups,
        by_level,
        by_decile,
    }
}

/// Average attendances per session held, unless the attendances are suppressed.
fn average(p: &Protected, f: FigureIds, sessions_held: u64) -> Result<f64, String> {
    if sessions_held == 0 {
        return Err("no sessions held".into());
    }
    p.get(f.attendances)
        .map(|a| a as f64 / sessions_held as f64)
        .ok_or_else(|| POLICY.marker())
}

/// A percentage of all attendances, unless either count is suppressed (or there are none).
fn share(p: &Protected, n: CellId, total: CellId) -> Option<f64> {
    // Made from both counts: hidden when either is.
    p.get(n)
        .zip(p.get(total))
        .filter(|(_, t)| *t > 0)
        .map(|(n, t)| 100.0 * n as f64 / t as f64)
}

fn text(v: Result<f64, String>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|e| e)
}

fn share_text(v: Option<f64>) -> String {
    text(v.ok_or_else(|| POLICY.marker()))
}

/// The report as CSV: totals, one row per group, then the two breakdowns.
pub fn csv(r: &PeerReport) -> std::io::Result<String> {
    let f = figures(r);
    let p = &f.p;
    let mut w = CsvWriter::in_memory();
    w.header(&[
        "section",
        "group",
        "breakdown",
        "people_reached",
        "attendances",
        "walk_ins",
        "sessions_held",
        "average_attendance_per_session",
        "share_of_attendances_percent",
    ])?;
    let number = |w: &mut CsvWriter<Vec<u8>>, v: Result<f64, String>| match v {
        Ok(x) => {
            w.fixed(x, 1);
        }
        Err(e) => {
            w.word(&e);
        }
    };
    let rows = std::iter::once(("total", None, &r.total, f.total)).chain(
        r.groups
            .iter()
            .zip(&f.groups)
            .map(|((name, fig), ids)| ("group", Some(name), fig, *ids)),
    );
    for (section, name, fig, ids) in rows {
        w.word(section);
        match name {
            Some(n) => w.text(n),
            None => w.empty(),
        };
        w.empty()
            .figure(p, ids.reached)
            .figure(p, ids.attendances)
            .figure(p, ids.walk_ins)
            .int(fig.sessions_held);
        number(&mut w, average(p, ids, fig.sessions_held));
        number(
            &mut w,
            share(p, ids.attendances, f.total.attendances).ok_or_else(|| POLICY.marker()),
        );
        w.end_row()?;
    }
    for (section, rows) in [
        ("activation_level", &f.by_level),
        ("deprivation_decile", &f.by_decile),
    ] {
        for (label, people, n) in rows {
            w.word(section).empty().text(label);
            match people {
                Some(c) => w.figure(p, *c),
                None => w.word("not known"),
            };
            w.figure(p, *n).empties(3);
            number(
                &mut w,
                share(p, *n, f.total.attendances).ok_or_else(|| POLICY.marker()),
            );
            w.end_row()?;
        }
    }
    w.into_string()
}

fn query(from: Date, to: Date) -> String {
    format!("from={}&to={}", iso_date(from), iso_date(to))
}

fn filter_form(from: &DateBoxes, to: &DateBoxes, e: &ValidationErrors) -> Markup {
    html! {
        form.search-form method="get" action="/reports/peer-support" novalidate {
            (date_input("from", "From", "For example, 1 1 2026", from, e))
            (date_input("to", "To", "For example, 31 12 2026", to, e))
            button.button type="submit" { "Show" }
        }
    }
}

fn breakdown_table(f: &Figures, caption: &str, head: &str, rows: &[Row]) -> Markup {
    let p = &f.p;
    html! {
        div.table-wrapper { table {
            caption { (caption) }
            thead { tr { th scope="col" { (head) } th scope="col" { "People reached" } th scope="col" { "Attendances" } th scope="col" { "Share of attendances" } } }
            tbody { @for (label, people, n) in rows {
                @let s = share(p, *n, f.total.attendances);
                tr {
                    td { (label) }
                    td { (people.map(|c| p.text(c)).unwrap_or_else(|| "not known".into())) }
                    td { (p.text(*n)) }
                    td { (share_text(s)) @if s.is_some() { "%" } }
                }
            } }
        } }
    }
}

fn bars(f: &Figures, rows: &[Row]) -> Vec<(String, Option<f64>)> {
    rows.iter()
        .map(|(label, _, n)| {
            (
                label.chars().take(30).collect(),
                share(&f.p, *n, f.total.attendances),
            )
        })
        .collect()
}

fn report_page(user: &CurrentUser, r: &PeerReport) -> Markup {
    const SHARE: &str = "Percentages of all attendances";
    let f = figures(r);
    let p = &f.p;
    let t = f.total;
    let decile = |label: &str| match label.parse::<u8>() {
        Ok(d) => format!("Decile {d}"),
        Err(_) => label.to_string(),
    };
    let deciles: Vec<Row> = f
        .by_decile
        .iter()
        .map(|(l, people, n)| (decile(l), *people, *n))
        .collect();
    let group_bars: Vec<(String, Option<f64>)> = r
        .groups
        .iter()
        .zip(&f.groups)
        .map(|((name, _), ids)| {
            (
                name.chars().take(30).collect(),
                share(p, ids.attendances, t.attendances),
            )
        })
        .collect();
    html! {
        h1 { "Peer support report" }
        p.lede { "Reach and use of peer-support groups in " (user.org_name) ", for sessions from " (display_date(r.from)) " to " (display_date(r.to)) ". Counts from 1 to " (THRESHOLD) ", counts that would give one away from a total, and figures made from either, are suppressed." }
        (filter_form(&DateBoxes::of(r.from), &DateBoxes::of(r.to), &ValidationErrors::default()))
        p { a href={ "/reports/peer-support.csv?" (query(r.from, r.to)) } download="peer-support-report.csv" { "Download as CSV" } }
        dl.summary-list {
            (layout::row("People reached", html! { (p.text(t.reached)) }))
            (layout::row("Attendances", html! { (p.text(t.attendances)) }))
            (layout::row("Of which walk-ins", html! { (p.text(t.walk_ins)) }))
            (layout::row("Sessions held", html! { (r.total.sessions_held) }))
            (layout::row("Average attendance per session", html! { (text(average(p, t, r.total.sessions_held))) }))
        }
        p { "People reached counts registered people once, however often they came; people who walked in are counted in attendances only." }
        h2 { "By group" }
        div.table-wrapper { table {
            caption { "Reach and attendance by group" }
            thead { tr {
                th scope="col" { "Group" } th scope="col" { "People reached" } th scope="col" { "Attendances" } th scope="col" { "Walk-ins" }
                th scope="col" { "Sessions held" } th scope="col" { "Average attendance per session" }
            } }
            tbody { @for ((name, fig), ids) in r.groups.iter().zip(&f.groups) { tr {
                td { (name) } td { (p.text(ids.reached)) } td { (p.text(ids.attendances)) } td { (p.text(ids.walk_ins)) }
                td { (fig.sessions_held) } td { (text(average(p, *ids, fig.sessions_held))) }
            } } }
        } }
        (bar_chart("chart-group", "Share of attendances by group", SHARE, &group_bars))
        h2 { "By activation level" }
        p { "Level from each registered attendee's latest scored activation questionnaire." }
        (bar_chart("chart-level", "Share of attendances by activation level", SHARE, &bars(&f, &f.by_level)))
        (breakdown_table(&f, "Attendance by activation level", "Activation level", &f.by_level))
        h2 { "By deprivation decile" }
        p { "Decile 1 is the most deprived." }
        (bar_chart("chart-decile", "Share of attendances by deprivation decile", SHARE, &bars(&f, &deciles)))
        (breakdown_table(&f, "Attendance by deprivation decile", "Decile", &deciles))
    }
}

/// GET /reports/peer-support
pub async fn show(
    State(state): State<AppState>,
    user: Require<may::ReadPeerSupportReport>,
    ClientSource(source): ClientSource,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let (from, to) = match range(&p, state.store.clock().today()) {
        Ok(r) => r,
        Err(e) => {
            return Ok(invalid(layout::page(
                Some(&*user),
                &layout::title_with_errors("Peer support report", &e),
                html! {
                    (layout::error_summary(&e))
                    h1 { "Peer support report" }
                    (filter_form(&p.date("from").boxes(), &p.date("to").boxes(), &e))
                },
            )))
        }
    };
    let r = state
        .store
        .peer_support_report(&user.actor, from, to, source)
        .await?;
    Ok(ok(layout::page(
        Some(&*user),
        "Peer support report",
        report_page(&user, &r),
    )))
}

/// GET /reports/peer-support.csv
pub async fn download(
    State(state): State<AppState>,
    user: Require<may::ReadPeerSupportReport>,
    ClientSource(source): ClientSource,
    Query(p): Query<Params>,
) -> AppResult<Response> {
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
        csv(&r).map_err(|e| AppError::Internal(e.to_string()))?,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(groups: &[(u64, u64, u64)], by_level: &[(u64, u64)]) -> PeerReport {
        let fig = |(reached, attendances, walk_ins): (u64, u64, u64)| PeerFigures {
            reached,
            attendances,
            walk_ins,
            sessions_held: 2,
        };
        let mut levels = [Cell::default(); 5];
        for (c, (people, attendances)) in levels.iter_mut().zip(by_level) {
            *c = Cell {
                people: *people,
                attendances: *attendances,
            };
        }
        // Everyone measured is in decile 3; the not measured have no decile.
        let mut deciles = [Cell::default(); 11];
        for (i, l) in levels.iter().enumerate() {
            let d = if i == 4 { 10 } else { 2 };
            deciles[d].people += l.people;
            deciles[d].attendances += l.attendances;
        }
        let sum = |k: fn(&(u64, u64, u64)) -> u64| groups.iter().map(k).sum::<u64>();
        PeerReport {
            from: time::macros::date!(2026 - 01 - 01),
            to: time::macros::date!(2026 - 01 - 31),
            total: PeerFigures {
                reached: by_level.iter().map(|l| l.0).sum(),
                attendances: sum(|g| g.1),
                walk_ins: sum(|g| g.2),
                sessions_held: 2 * groups.len() as u64,
            },
            groups: groups
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("Group {i}"), fig(*g)))
                .collect(),
            by_level: levels,
            by_decile: deciles,
        }
    }

    #[test]
    fn averages_from_small_counts_are_suppressed() {
        // 7 attendances in a group (2 sessions each): suppressed with its average; 8 goes with
        // it (it would give the 7 away from the total); 9 is shown.
        let r = report(&[(3, 7, 0), (5, 8, 0), (9, 9, 0)], &[(17, 24)]);
        let f = figures(&r);
        assert_eq!(text(average(&f.p, f.groups[0], 2)), "suppressed");
        assert_eq!(text(average(&f.p, f.groups[1], 2)), "suppressed");
        assert_eq!(text(average(&f.p, f.groups[2], 2)), "4.5");
        assert_eq!(text(average(&f.p, f.total, 0)), "no sessions held");
        // Shares of 40 attendances: 3 suppressed, 8 with it, 10 shown.
        let r = report(&[(2, 3, 0), (4, 8, 0), (5, 10, 0), (9, 19, 0)], &[(20, 40)]);
        let f = figures(&r);
        let s = |i: usize| share_text(share(&f.p, f.groups[i].attendances, f.total.attendances));
        assert_eq!(s(0), "suppressed");
        assert_eq!(s(1), "suppressed");
        assert_eq!(s(2), "25.0");
    }

    /// What a reader can work out of a hidden count from the rest of its line and its total.
    fn recover(cells: &[String], total: &str) -> Option<u64> {
        let hidden = cells.iter().filter(|c| c.as_str() == "suppressed").count();
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
        // Attendances: 26 at one group, 1 at another, 27 in all (the HTTP fixture's case);
        // people by level: 9 at level 2 and 3 not measured, 12 reached.
        let r = report(
            &[(12, 26, 5), (1, 1, 0)],
            &[(0, 0), (9, 19), (0, 0), (0, 0), (3, 3)],
        );
        // Primary suppression alone: 27 − 26 = 1 and 12 − 9 = 3.
        let primary = |n: u64| POLICY.show(POLICY.lone(n));
        assert_eq!(recover(&[primary(26), primary(1)], &primary(27)), Some(1));
        assert_eq!(recover(&[primary(9), primary(3)], &primary(12)), Some(3));
        let f = figures(&r);
        let p = &f.p;
        let groups: Vec<String> = f.groups.iter().map(|g| p.text(g.attendances)).collect();
        assert_eq!(groups, vec!["suppressed", "suppressed"]);
        assert_eq!(recover(&groups, &p.text(f.total.attendances)), None);
        let people: Vec<String> = f
            .by_level
            .iter()
            .filter_map(|r| r.1)
            .map(|c| p.text(c))
            .collect();
        assert_eq!(people, vec!["0", "suppressed", "0", "0", "suppressed"]);
        assert_eq!(recover(&people, &p.text(f.total.reached)), None);
        let attendances: Vec<String> = f.by_level.iter().map(|r| p.text(r.2)).collect();
        assert_eq!(recover(&attendances, &p.text(f.total.attendances)), None);
        // The CSV says the same, and a group name that is a formula is neutralised.
        let mut r = r;
        r.groups[0].0 = "=HYPERLINK(\"http://x\")".into();
        let csv = csv(&r).unwrap();
        assert!(csv.contains("\ngroup,\"'=HYPERLINK(\"\"http://x\"\")\",,12,suppressed,suppressed,2,suppressed,suppressed\n"), "{csv}");
        assert!(
            csv.contains("\nactivation_level,,\"Level 2\",suppressed,19,,,,70.4\n"),
            "{csv}"
        );
    }
}
