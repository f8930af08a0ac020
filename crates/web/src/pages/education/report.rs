//! The education report: reach, enrolments, attendance and completion per programme, and
//! completion by activation level and by deprivation decile — tables, a CSV download and
//! simple SVG bar charts. Counts from 1 to 7 (and rates made from them) are suppressed.

use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::layout;
use crate::pages::ok;
use crate::AppState;
use alongside_stats::{is_suppressed, suppress_count};
use alongside_store::education::{EducationReport, ProgrammeFigures};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

/// Counts from 1 to this are suppressed.
pub const THRESHOLD: u64 = 7;

pub(crate) fn shown(n: u64) -> String {
    match suppress_count(n, Some(THRESHOLD)) {
        Some(v) => v.to_string(),
        None => "suppressed".into(),
    }
}

/// A percentage of `num` out of `den`, unless either count is suppressed (or `den` is 0).
pub(crate) fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0 && !is_suppressed(num, Some(THRESHOLD)) && !is_suppressed(den, Some(THRESHOLD)))
        .then(|| 100.0 * num as f64 / den as f64)
}

fn rate_text(num: u64, den: u64) -> String {
    match (den, rate(num, den)) {
        (0, _) => "no participants".into(),
        (_, Some(r)) => format!("{r:.0}%"),
        (_, None) => "suppressed".into(),
    }
}

/// Average attendances per session held, unless the counts are suppressed.
fn per_session(f: &ProgrammeFigures) -> String {
    if f.sessions_held == 0 {
        return "no sessions held".into();
    }
    if is_suppressed(f.attendances, Some(THRESHOLD)) {
        return "suppressed".into();
    }
    format!("{:.1}", f.attendances as f64 / f.sessions_held as f64)
}

const COMPLETING: &str = "Percentages completing";

const LEVELS: [&str; 5] = ["Level 1", "Level 2", "Level 3", "Level 4", "Not measured"];

fn decile_label(i: usize) -> String {
    if i == 10 {
        "Not recorded".into()
    } else {
        format!("{}", i + 1)
    }
}

/// Horizontal bars of percentages (0–100); a suppressed bar is drawn as none and says so.
/// `desc` says what the percentages are (the peer-support report uses it too).
pub(crate) fn bar_chart(
    id: &str,
    title: &str,
    desc: &str,
    bars: &[(String, Option<f64>)],
) -> Markup {
    let row = 26.0;
    let (w, pl, pr, pt) = (640.0, 220.0, 60.0, 8.0);
    let h = pt * 2.0 + row * bars.len().max(1) as f64;
    let x = |v: f64| pl + (w - pl - pr) * v / 100.0;
    html! {
        figure {
            svg width="100%" viewBox={ "0 0 " (w) " " (h) } role="img" aria-labelledby={ (id) "-t " (id) "-d" } xmlns="http://www.w3.org/2000/svg" {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (desc) "; suppressed groups have no bar. The figures are in the table." }
                @for (i, (label, v)) in bars.iter().enumerate() {
                    @let y = pt + row * i as f64;
                    text x=(pl - 8.0) y=(format!("{:.1}", y + 17.0)) text-anchor="end" font-size="13" fill="#212b32" { (label) }
                    @if let Some(v) = v {
                        rect x=(pl) y=(format!("{:.1}", y + 4.0)) width=(format!("{:.1}", x(*v) - pl)) height="18" fill="#005eb8" {}
                        text x=(format!("{:.1}", x(*v) + 6.0)) y=(format!("{:.1}", y + 17.0)) font-size="13" fill="#212b32" { (format!("{v:.0}%")) }
                    } @else {
                        text x=(pl + 4.0) y=(format!("{:.1}", y + 17.0)) font-size="12" fill="#4c6272" { "suppressed" }
                    }
                }
            }
        }
    }
}

/// (completed, participants) per group.
type Groups<const N: usize> = [(u64, u64); N];

fn totals(r: &EducationReport) -> (Groups<5>, Groups<11>) {
    let mut l = [(0, 0); 5];
    let mut d = [(0, 0); 11];
    for f in &r.programmes {
        for (t, x) in l.iter_mut().zip(f.by_level.iter()) {
            t.0 += x.0;
            t.1 += x.1;
        }
        for (t, x) in d.iter_mut().zip(f.by_decile.iter()) {
            t.0 += x.0;
            t.1 += x.1;
        }
    }
    (l, d)
}

pub(crate) fn csv_text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The report as CSV: one row per programme, then completion by level and by decile.
pub fn csv(r: &EducationReport) -> String {
    let mut s = String::from("section,programme,mode,group,people_reached,enrolments,waiting,withdrawn,attendances,sessions_held,average_attendance_per_session,completed,participants,completion_rate_percent\n");
    for f in &r.programmes {
        s.push_str(&format!(
            "programme,{},{},,{},{},{},{},{},{},{},{},{},{}\n",
            csv_text(&f.title),
            f.mode,
            shown(f.reached),
            shown(f.enrolments),
            shown(f.waiting),
            shown(f.withdrawn),
            shown(f.attendances),
            f.sessions_held,
            per_session(f),
            shown(f.completed),
            shown(f.enrolments),
            rate(f.completed, f.enrolments)
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "suppressed".into()),
        ));
    }
    let (l, d) = totals(r);
    for (i, (c, n)) in l.iter().enumerate() {
        s.push_str(&format!(
            "activation_level,,,{},,,,,,,,{},{},{}\n",
            LEVELS[i],
            shown(*c),
            shown(*n),
            rate(*c, *n)
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "suppressed".into())
        ));
    }
    for (i, (c, n)) in d.iter().enumerate() {
        s.push_str(&format!(
            "deprivation_decile,,,{},,,,,,,,{},{},{}\n",
            decile_label(i),
            shown(*c),
            shown(*n),
            rate(*c, *n)
                .map(|v| format!("{v:.1}"))
                .unwrap_or_else(|| "suppressed".into())
        ));
    }
    s
}

/// GET /reports/education
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let r = state.store.education_report(&user.actor, source).await?;
    let (l, d) = totals(&r);
    let prog_bars: Vec<(String, Option<f64>)> = r
        .programmes
        .iter()
        .map(|f| {
            (
                f.title.chars().take(30).collect(),
                rate(f.completed, f.enrolments),
            )
        })
        .collect();
    let level_bars: Vec<(String, Option<f64>)> = l
        .iter()
        .enumerate()
        .map(|(i, (c, n))| (LEVELS[i].to_string(), rate(*c, *n)))
        .collect();
    let decile_bars: Vec<(String, Option<f64>)> = d
        .iter()
        .enumerate()
        .map(|(i, (c, n))| {
            let label = if i == 10 {
                "Not recorded".to_string()
            } else {
                format!("Decile {}", i + 1)
            };
            (label, rate(*c, *n))
        })
        .collect();
    let group_table = |caption: &str, head: &str, rows: Vec<(String, (u64, u64))>| {
        html! {
            div.table-wrapper { table {
                caption { (caption) }
                thead { tr { th scope="col" { (head) } th scope="col" { "Participants" } th scope="col" { "Completed" } th scope="col" { "Completion rate" } } }
                tbody { @for (k, (c, n)) in &rows { tr { td { (k) } td { (shown(*n)) } td { (shown(*c)) } td { (rate_text(*c, *n)) } } } }
            } }
        }
    };
    Ok(ok(layout::page(
        Some(&user),
        "Education report",
        html! {
            h1 { "Education report" }
            p.lede { "Reach and use of self-management education in " (user.org_name) ". Counts from 1 to " (THRESHOLD) ", and rates made from them, are suppressed." }
            p { "People reached (with a place on a course or who started an online programme): " strong { (shown(r.people_reached)) } }
            p { a href="/reports/education.csv" download="education-report.csv" { "Download as CSV" } }
            h2 { "By programme" }
            div.table-wrapper { table {
                caption { "Reach, attendance and completion by programme" }
                thead { tr {
                    th scope="col" { "Programme" } th scope="col" { "People reached" } th scope="col" { "Enrolments" } th scope="col" { "Waiting" }
                    th scope="col" { "Withdrawn" } th scope="col" { "Attendances" } th scope="col" { "Average attendance per session" } th scope="col" { "Completion rate" }
                } }
                tbody { @for f in &r.programmes { tr {
                    td { (f.title) } td { (shown(f.reached)) } td { (shown(f.enrolments)) } td { (shown(f.waiting)) }
                    td { (shown(f.withdrawn)) } td { (shown(f.attendances)) } td { (per_session(f)) } td { (rate_text(f.completed, f.enrolments)) }
                } } }
            } }
            (bar_chart("chart-programme", "Completion rate by programme", COMPLETING, &prog_bars))
            h2 { "By activation level" }
            p { "Level from each participant's latest scored activation questionnaire." }
            (bar_chart("chart-level", "Completion rate by activation level", COMPLETING, &level_bars))
            (group_table("Completion by activation level", "Activation level", l.iter().enumerate().map(|(i, x)| (LEVELS[i].to_string(), *x)).collect()))
            h2 { "By deprivation decile" }
            p { "Decile 1 is the most deprived." }
            (bar_chart("chart-decile", "Completion rate by deprivation decile", COMPLETING, &decile_bars))
            (group_table("Completion by deprivation decile", "Decile", d.iter().enumerate().map(|(i, x)| (decile_label(i), *x)).collect()))
        },
    )))
}

/// GET /reports/education.csv
pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let r = state.store.education_report(&user.actor, source).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"education-report.csv\"",
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
    fn small_numbers_and_rates_from_them_are_suppressed() {
        assert_eq!(shown(7), "suppressed");
        assert_eq!(shown(8), "8");
        assert_eq!(shown(0), "0");
        assert_eq!(rate(3, 20), None);
        assert_eq!(rate(8, 5), None);
        assert_eq!(rate(8, 10), Some(80.0));
        assert_eq!(rate_text(0, 0), "no participants");
    }
}
