//! The education report: reach, enrolments, attendance and completion per programme, and
//! completion by activation level and by deprivation decile — tables, a CSV download and
//! simple SVG bar charts. Every figure goes through the one disclosure policy
//! (`alongside_stats::disclosure`), written "suppressed" here: counts from 1 to 7, the counts
//! that would let one be worked out (participants and completions by level, and by decile, add
//! up to the programmes' enrolments and completions), and rates made from either.

use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::layout;
use crate::pages::ok;
use crate::AppState;
use alongside_stats::disclosure::{CellId, Marker, Policy, Protected, Table};
use alongside_stats::CsvWriter;
use alongside_store::education::EducationReport;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

/// The one policy, written "suppressed" here.
pub const POLICY: Policy = Policy::STANDARD.with_marker(Marker::Word);

/// Counts from 1 to this are suppressed.
pub const THRESHOLD: u64 = POLICY.threshold;

/// One programme's cells.
#[derive(Clone, Copy)]
struct ProgrammeIds {
    reached: CellId,
    enrolments: CellId,
    waiting: CellId,
    withdrawn: CellId,
    attendances: CellId,
    completed: CellId,
}

/// (completed, participants) of one group.
type Group = (CellId, CellId);

/// The report's counts, protected together.
struct Figures {
    p: Protected,
    people_reached: CellId,
    programmes: Vec<ProgrammeIds>,
    by_level: Vec<Group>,
    by_decile: Vec<Group>,
}

fn figures(r: &EducationReport) -> Figures {
    let mut t = Table::new();
    let people_reached = t.count(r.people_reached);
    let programmes: Vec<ProgrammeIds> = r
        .programmes
        .iter()
        .map(|f| ProgrammeIds {
            reached: t.count(f.reached),
            enrolments: t.count(f.enrolments),
            waiting: t.count(f.waiting),
            withdrawn: t.count(f.withdrawn),
            attendances: t.count(f.attendances),
            completed: t.count(f.completed),
        })
        .collect();
    let (l, d) = totals(r);
    let enrolments: Vec<CellId> = programmes.iter().map(|p| p.enrolments).collect();
    let completed: Vec<CellId> = programmes.iter().map(|p| p.completed).collect();
    let mut groups = |g: &[(u64, u64)]| -> Vec<Group> {
        let ids: Vec<Group> = g.iter().map(|(c, n)| (t.count(*c), t.count(*n))).collect();
        // Every participant is in one group: the groups add up to the programmes.
        let n: Vec<CellId> = ids.iter().map(|x| x.1).collect();
        t.equal_sums(&n, &enrolments);
        let c: Vec<CellId> = ids.iter().map(|x| x.0).collect();
        t.equal_sums(&c, &completed);
        ids
    };
    let by_level = groups(&l);
    let by_decile = groups(&d);
    Figures {
        p: t.protect(&POLICY),
        people_reached,
        programmes,
        by_level,
        by_decile,
    }
}

/// A percentage of `num` out of `den`, unless either count is suppressed (or `den` is 0).
fn rate(p: &Protected, (num, den): Group) -> Option<f64> {
    // Made from both counts: hidden when either is.
    p.get(num)
        .zip(p.get(den))
        .filter(|(_, d)| *d > 0)
        .map(|(n, d)| 100.0 * n as f64 / d as f64)
}

fn rate_text(p: &Protected, g: Group) -> String {
    match (p.get(g.1), rate(p, g)) {
        (Some(0), _) => "no participants".into(),
        (_, Some(r)) => format!("{r:.0}%"),
        (_, None) => POLICY.marker(),
    }
}

/// Average attendances per session held, unless the attendances are suppressed.
fn per_session(p: &Protected, f: ProgrammeIds, sessions_held: u64) -> Result<f64, String> {
    if sessions_held == 0 {
        return Err("no sessions held".into());
    }
    p.get(f.attendances)
        .map(|a| a as f64 / sessions_held as f64)
        .ok_or_else(|| POLICY.marker())
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

/// The report as CSV: one row per programme, then completion by level and by decile.
pub fn csv(r: &EducationReport) -> std::io::Result<String> {
    let f = figures(r);
    let p = &f.p;
    let mut w = CsvWriter::in_memory();
    w.header(&[
        "section",
        "programme",
        "mode",
        "group",
        "people_reached",
        "enrolments",
        "waiting",
        "withdrawn",
        "attendances",
        "sessions_held",
        "average_attendance_per_session",
        "completed",
        "participants",
        "completion_rate_percent",
    ])?;
    let rate_cell = |w: &mut CsvWriter<Vec<u8>>, g: Group| match rate(p, g) {
        Some(v) => {
            w.fixed(v, 1);
        }
        None => {
            w.word(&POLICY.marker());
        }
    };
    for (prog, ids) in r.programmes.iter().zip(&f.programmes) {
        w.word("programme")
            .text(&prog.title)
            .word(&prog.mode)
            .empty()
            .figure(p, ids.reached)
            .figure(p, ids.enrolments)
            .figure(p, ids.waiting)
            .figure(p, ids.withdrawn)
            .figure(p, ids.attendances)
            .int(prog.sessions_held);
        match per_session(p, *ids, prog.sessions_held) {
            Ok(v) => w.fixed(v, 1),
            Err(e) => w.word(&e),
        };
        w.figure(p, ids.completed).figure(p, ids.enrolments);
        rate_cell(&mut w, (ids.completed, ids.enrolments));
        w.end_row()?;
    }
    for (section, groups, label) in [
        (
            "activation_level",
            &f.by_level,
            &(|i: usize| LEVELS[i].to_string()) as &dyn Fn(usize) -> String,
        ),
        ("deprivation_decile", &f.by_decile, &decile_label),
    ] {
        for (i, g) in groups.iter().enumerate() {
            w.words(&[section, "", "", &label(i)])
                .empties(7)
                .figure(p, g.0)
                .figure(p, g.1);
            rate_cell(&mut w, *g);
            w.end_row()?;
        }
    }
    w.into_string()
}

/// GET /reports/education
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let r = state.store.education_report(&user.actor, source).await?;
    let f = figures(&r);
    let p = &f.p;
    let prog_bars: Vec<(String, Option<f64>)> = r
        .programmes
        .iter()
        .zip(&f.programmes)
        .map(|(prog, ids)| {
            (
                prog.title.chars().take(30).collect(),
                rate(p, (ids.completed, ids.enrolments)),
            )
        })
        .collect();
    let level_bars: Vec<(String, Option<f64>)> = f
        .by_level
        .iter()
        .enumerate()
        .map(|(i, g)| (LEVELS[i].to_string(), rate(p, *g)))
        .collect();
    let decile_bars: Vec<(String, Option<f64>)> = f
        .by_decile
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let label = if i == 10 {
                "Not recorded".to_string()
            } else {
                format!("Decile {}", i + 1)
            };
            (label, rate(p, *g))
        })
        .collect();
    let group_table = |caption: &str, head: &str, rows: Vec<(String, Group)>| {
        html! {
            div.table-wrapper { table {
                caption { (caption) }
                thead { tr { th scope="col" { (head) } th scope="col" { "Participants" } th scope="col" { "Completed" } th scope="col" { "Completion rate" } } }
                tbody { @for (k, g) in &rows { tr { td { (k) } td { (p.text(g.1)) } td { (p.text(g.0)) } td { (rate_text(p, *g)) } } } }
            } }
        }
    };
    let per_session_text = |ids: ProgrammeIds, held: u64| match per_session(p, ids, held) {
        Ok(v) => format!("{v:.1}"),
        Err(e) => e,
    };
    Ok(ok(layout::page(
        Some(&user),
        "Education report",
        html! {
            h1 { "Education report" }
            p.lede { "Reach and use of self-management education in " (user.org_name) ". Counts from 1 to " (THRESHOLD) ", counts that would give one away, and rates made from either, are suppressed." }
            p { "People reached (with a place on a course or who started an online programme): " strong { (p.text(f.people_reached)) } }
            p { a href="/reports/education.csv" download="education-report.csv" { "Download as CSV" } }
            h2 { "By programme" }
            div.table-wrapper { table {
                caption { "Reach, attendance and completion by programme" }
                thead { tr {
                    th scope="col" { "Programme" } th scope="col" { "People reached" } th scope="col" { "Enrolments" } th scope="col" { "Waiting" }
                    th scope="col" { "Withdrawn" } th scope="col" { "Attendances" } th scope="col" { "Average attendance per session" } th scope="col" { "Completion rate" }
                } }
                tbody { @for (prog, ids) in r.programmes.iter().zip(&f.programmes) { tr {
                    td { (prog.title) } td { (p.text(ids.reached)) } td { (p.text(ids.enrolments)) } td { (p.text(ids.waiting)) }
                    td { (p.text(ids.withdrawn)) } td { (p.text(ids.attendances)) } td { (per_session_text(*ids, prog.sessions_held)) } td { (rate_text(p, (ids.completed, ids.enrolments))) }
                } } }
            } }
            (bar_chart("chart-programme", "Completion rate by programme", COMPLETING, &prog_bars))
            h2 { "By activation level" }
            p { "Level from each participant's latest scored activation questionnaire." }
            (bar_chart("chart-level", "Completion rate by activation level", COMPLETING, &level_bars))
            (group_table("Completion by activation level", "Activation level", f.by_level.iter().enumerate().map(|(i, g)| (LEVELS[i].to_string(), *g)).collect()))
            h2 { "By deprivation decile" }
            p { "Decile 1 is the most deprived." }
            (bar_chart("chart-decile", "Completion rate by deprivation decile", COMPLETING, &decile_bars))
            (group_table("Completion by deprivation decile", "Decile", f.by_decile.iter().enumerate().map(|(i, g)| (decile_label(i), *g)).collect()))
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
        csv(&r).map_err(|e| crate::error::AppError::Internal(e.to_string()))?,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alongside_store::education::ProgrammeFigures;

    fn programme(title: &str, enrolments: u64, completed: u64) -> ProgrammeFigures {
        let mut by_level = [(0, 0); 5];
        by_level[4] = (completed, enrolments);
        let mut by_decile = [(0, 0); 11];
        by_decile[10] = (completed, enrolments);
        ProgrammeFigures {
            programme_id: title.into(),
            title: title.into(),
            mode: "group".into(),
            reached: enrolments,
            enrolments,
            waiting: 0,
            withdrawn: 0,
            attendances: 4 * enrolments,
            sessions_held: 4,
            completed,
            by_level,
            by_decile,
        }
    }

    #[test]
    fn small_numbers_and_rates_from_them_are_suppressed() {
        let one = |n: u64| POLICY.show(POLICY.lone(n));
        assert_eq!(one(7), "suppressed");
        assert_eq!(one(8), "8");
        assert_eq!(one(0), "0");
        let r = EducationReport {
            programmes: vec![
                programme("A", 20, 3),
                programme("B", 10, 8),
                programme("C", 0, 0),
            ],
            people_reached: 30,
        };
        let f = figures(&r);
        let g = |i: usize| (f.programmes[i].completed, f.programmes[i].enrolments);
        assert_eq!(rate(&f.p, g(0)), None, "3 of 20");
        assert_eq!(rate(&f.p, g(1)), None, "8 of 10: 8 would give the 3 away");
        assert_eq!(rate_text(&f.p, g(2)), "no participants");
    }

    #[test]
    fn a_suppressed_count_cannot_be_recovered_from_the_others_and_the_total() {
        // The HTTP fixture's case: 12 enrolled on one programme, 3 on another, all 15 not
        // measured. Primary suppression alone: 15 participants not measured − 12 = 3.
        let r = EducationReport {
            programmes: vec![
                programme("Breathing Space", 12, 10),
                programme("Sugar Smart", 3, 0),
            ],
            people_reached: 12,
        };
        let f = figures(&r);
        let p = &f.p;
        let enrolments: Vec<Option<u64>> =
            f.programmes.iter().map(|x| p.get(x.enrolments)).collect();
        assert_eq!(enrolments, vec![None, None], "12 goes with the 3");
        assert_eq!(p.get(f.by_level[4].1), Some(15));
        // Two unknowns, one equation: x + y = 15 does not give either.
        assert_eq!(enrolments.iter().filter(|e| e.is_none()).count(), 2);
        // The CSV writes the same, and a title that is a formula is neutralised.
        let mut r = r;
        r.programmes[1].title = "@SUM(A1:A9)".into();
        let csv = csv(&r).unwrap();
        assert!(csv.contains("\nprogramme,\"Breathing Space\",group,,12,suppressed,0,0,48,4,12.0,10,suppressed,suppressed\n"), "{csv}");
        assert!(csv.contains("\nprogramme,\"'@SUM(A1:A9)\",group,,suppressed,suppressed,0,0,12,4,3.0,0,suppressed,suppressed\n"), "{csv}");
        assert!(
            csv.contains("\nactivation_level,,,Not measured,,,,,,,,10,15,66.7\n"),
            "{csv}"
        );
    }
}
