//! The education report: reach, enrolments, attendance and completion per programme by
//! activation level and deprivation decile (counts only; the caller suppresses), and the per-person
//! levels, deciles and their slots that the peer-support report and reach use too.

use crate::door::{AuditAs, Source};
use crate::{Result, Store};
use alongside_core::access::{Action, Actor};
use alongside_core::audit::AuditAction;
use alongside_core::education::CompletionRule;
use alongside_core::OrgId;
use sqlx::Row;
use std::collections::BTreeMap;

/// Counts for the education report (suppressed by the caller before display).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProgrammeFigures {
    pub programme_id: String,
    pub title: String,
    pub mode: String,
    /// People with a place (enrolled) or online progress.
    pub reached: u64,
    pub enrolments: u64,
    pub waiting: u64,
    pub withdrawn: u64,
    pub attendances: u64,
    /// Sessions with a register taken.
    pub sessions_held: u64,
    pub completed: u64,
    /// (completed, participants) by activation level 1–4 and "not measured" (index 4).
    pub by_level: [(u64, u64); 5],
    /// (completed, participants) by deprivation decile 1–10 and "not recorded" (index 10).
    pub by_decile: [(u64, u64); 11],
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EducationReport {
    pub programmes: Vec<ProgrammeFigures>,
    /// Distinct people reached across all programmes.
    pub people_reached: u64,
}

/// Per person (id text): their latest scored activation level, and their deprivation decile —
/// the breakdowns of the education and peer-support reports.
pub(crate) async fn levels_and_deciles(
    pool: &sqlx::AnyPool,
    org: OrgId,
) -> Result<(BTreeMap<String, i64>, BTreeMap<String, i64>)> {
    levels_and_deciles_before(pool, org, None).await
}

/// As [`levels_and_deciles`], but with `before` (UTC microseconds) the level is each person's
/// latest scored questionnaire completed before that instant (the outcomes dashboard's reach
/// uses the end of its window).
pub(crate) async fn levels_and_deciles_before(
    pool: &sqlx::AnyPool,
    org: OrgId,
    before: Option<i64>,
) -> Result<(BTreeMap<String, i64>, BTreeMap<String, i64>)> {
    let org = org.as_text();
    let mut level: BTreeMap<String, i64> = BTreeMap::new();
    let rows = match before {
        None => sqlx::query("SELECT person_id, level FROM assessments WHERE org_id = $1 AND status = 'completed' AND level IS NOT NULL ORDER BY completed_at, id")
            .bind(&org)
            .fetch_all(pool)
            .await?,
        Some(t) => sqlx::query("SELECT person_id, level FROM assessments WHERE org_id = $1 AND status = 'completed' AND level IS NOT NULL AND completed_at < $2 ORDER BY completed_at, id")
            .bind(&org)
            .bind(t)
            .fetch_all(pool)
            .await?,
    };
    for r in rows {
        level.insert(r.try_get("person_id")?, r.try_get("level")?);
    }
    let mut decile: BTreeMap<String, i64> = BTreeMap::new();
    for r in sqlx::query("SELECT id, deprivation_decile FROM people WHERE org_id = $1 AND deprivation_decile IS NOT NULL")
        .bind(&org)
        .fetch_all(pool)
        .await?
    {
        decile.insert(r.try_get("id")?, r.try_get("deprivation_decile")?);
    }
    Ok((level, decile))
}

/// A person's (level, decile) slots: levels 1–4 as 0–3 and 4 for not measured; deciles 1–10
/// as 0–9 and 10 for not recorded.
pub(crate) fn slot(
    p: &str,
    level: &BTreeMap<String, i64>,
    decile: &BTreeMap<String, i64>,
) -> (usize, usize) {
    let l = level
        .get(p)
        .filter(|l| (1..=4).contains(*l))
        .map(|l| *l as usize - 1)
        .unwrap_or(4);
    let d = decile
        .get(p)
        .filter(|d| (1..=10).contains(*d))
        .map(|d| *d as usize - 1)
        .unwrap_or(10);
    (l, d)
}

impl Store {
    /// Reach, enrolments, attendance and completion per programme, by activation level (latest
    /// scored questionnaire) and deprivation decile. Counts only; the caller suppresses small
    /// numbers. Audited as a view of aggregates: the decision and its audit entry commit before
    /// the counts are read.
    pub async fn education_report(&self, actor: &Actor, source: Source) -> Result<EducationReport> {
        self.write_as(actor, &source, |tx| {
            Box::pin(async move {
                let audit_as = AuditAs::new(AuditAction::AggregatesRead)
                    .on("organisation", Some(tx.org().as_text()))
                    .detail("education report");
                let g = tx.org_action(Action::ReadAggregates, audit_as.clone())?;
                tx.log_org(&g, None, audit_as).await
            })
        })
        .await?;
        let org = actor.org_id.as_text();
        let pool = self.reader();
        let (level, decile) = levels_and_deciles(pool, actor.org_id).await?;
        let programmes = self.programmes(actor.org_id).await?;
        let mut figures: BTreeMap<String, ProgrammeFigures> = programmes
            .iter()
            .map(|p| {
                (
                    p.id.as_text(),
                    ProgrammeFigures {
                        programme_id: p.id.as_text(),
                        title: p.details.title.clone(),
                        mode: p.details.mode.code().into(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        let rule: BTreeMap<String, (u32, i64)> = programmes
            .iter()
            .map(|p| {
                (
                    p.id.as_text(),
                    (p.details.completion_min, i64::from(p.details.sessions)),
                )
            })
            .collect();
        // Attendance per (run, person).
        let mut attended: BTreeMap<(String, String), u32> = BTreeMap::new();
        for r in sqlx::query("SELECT run_id, person_id, COUNT(*) AS n FROM edu_attendance WHERE org_id = $1 AND present = 1 GROUP BY run_id, person_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            attended.insert(
                (r.try_get("run_id")?, r.try_get("person_id")?),
                r.try_get::<i64, _>("n")? as u32,
            );
        }
        for r in sqlx::query("SELECT r.programme_id, COUNT(DISTINCT a.run_id || ':' || CAST(a.n AS TEXT)) AS held FROM edu_attendance a JOIN edu_runs r ON r.org_id = a.org_id AND r.id = a.run_id WHERE a.org_id = $1 GROUP BY r.programme_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            if let Some(f) = figures.get_mut(&r.try_get::<String, _>("programme_id")?) {
                f.sessions_held = r.try_get::<i64, _>("held")? as u64;
            }
        }
        let mut reached_all: std::collections::BTreeSet<String> = Default::default();
        let mut reached: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
        for r in sqlx::query("SELECT r.programme_id, e.run_id, e.person_id, e.status FROM edu_enrolments e JOIN edu_runs r ON r.org_id = e.org_id AND r.id = e.run_id WHERE e.org_id = $1")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            let prog: String = r.try_get("programme_id")?;
            let run: String = r.try_get("run_id")?;
            let person: String = r.try_get("person_id")?;
            let status: String = r.try_get("status")?;
            let Some(f) = figures.get_mut(&prog) else {
                continue;
            };
            match status.as_str() {
                "waiting" => f.waiting += 1,
                "withdrawn" => f.withdrawn += 1,
                _ => {}
            }
            let n = attended.get(&(run.clone(), person.clone())).copied().unwrap_or(0);
            f.attendances += u64::from(n);
            if status == "enrolled" {
                f.enrolments += 1;
                reached.entry(prog.clone()).or_default().insert(person.clone());
                reached_all.insert(person.clone());
                let (min, _) = rule[&prog];
                let done = CompletionRule { min_attended: min, sessions: 0 }.completed(n);
                let (l, d) = slot(&person, &level, &decile);
                f.by_level[l].1 += 1;
                f.by_decile[d].1 += 1;
                if done {
                    f.completed += 1;
                    f.by_level[l].0 += 1;
                    f.by_decile[d].0 += 1;
                }
            }
        }
        // Online programmes: reached = started; completed = every page done.
        let mut pages: BTreeMap<String, i64> = BTreeMap::new();
        for r in sqlx::query("SELECT programme_id, COUNT(*) AS n FROM edu_pages WHERE org_id = $1 GROUP BY programme_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            pages.insert(r.try_get("programme_id")?, r.try_get("n")?);
        }
        for r in sqlx::query("SELECT programme_id, person_id, COUNT(*) AS n FROM edu_progress WHERE org_id = $1 GROUP BY programme_id, person_id")
            .bind(&org)
            .fetch_all(pool)
            .await?
        {
            let prog: String = r.try_get("programme_id")?;
            let person: String = r.try_get("person_id")?;
            let n: i64 = r.try_get("n")?;
            let Some(f) = figures.get_mut(&prog) else {
                continue;
            };
            f.enrolments += 1;
            reached.entry(prog.clone()).or_default().insert(person.clone());
            reached_all.insert(person.clone());
            let (l, d) = slot(&person, &level, &decile);
            f.by_level[l].1 += 1;
            f.by_decile[d].1 += 1;
            if pages.get(&prog).is_some_and(|p| n >= *p && *p > 0) {
                f.completed += 1;
                f.by_level[l].0 += 1;
                f.by_decile[d].0 += 1;
            }
        }
        for (prog, people) in reached {
            if let Some(f) = figures.get_mut(&prog) {
                f.reached = people.len() as u64;
            }
        }
        let mut out: Vec<ProgrammeFigures> = figures.into_values().collect();
        out.sort_by(|a, b| a.title.cmp(&b.title));
        Ok(EducationReport {
            programmes: out,
            people_reached: reached_all.len() as u64,
        })
    }
}
