//! Reach of health coaching, self-management education and peer support over the outcomes
//! dashboard's window: how many distinct people each service reached, in total and by their
//! activation level at the end of the window.
//!
//! Counts only: this module must never return who was reached (no ids, names or dates leave
//! it). It does not audit and does not decide access: like [`Store::outcome_inputs`], callers
//! audit and check first with [`Store::audit_evaluation`]. Suppressing small numbers is the
//! caller's job when the figures are shown or exported (see `web/pages/outcomes.rs`).
//!
//! Definitions (window `[from, to]` inclusive, UTC days, like the evaluation's window):
//! - referred to coaching: a referral (by staff or the person's own request) received in the
//!   window, whatever happened to it after;
//! - started coaching: a coaching episode opened (a coach accepted) in the window;
//! - had a coaching session: a session recorded as attended that started in the window;
//! - enrolled on a course: a place (enrolled, not waiting or withdrawn) on a course run with at
//!   least one session in the window;
//! - completed a course: the programme's completion rule ([`CompletionRule`]) was met by a
//!   session in the window (met by its end, not yet met before its start); online programmes
//!   (no runs) are not counted in either course row;
//! - attended peer support: registered people signed in at a group session dated in the
//!   window; walk-ins are not identifiable people, so their attendances are counted apart.
//!
//! The activation level is each person's latest scored questionnaire completed by the end of
//! the window (the education and peer-support reports' lookup, cut at the window's end), or
//! "not measured".

use crate::education::{levels_and_deciles_before, slot};
use crate::outcomes::Window;
use crate::{Result, Store};
use alongside_core::education::CompletionRule;
use alongside_core::OrgId;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

/// The measures, in the order the dashboard shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    ReferredToCoaching,
    StartedCoaching,
    HadCoachingSession,
    EnrolledOnCourse,
    CompletedCourse,
    AttendedPeerSupport,
}

impl Measure {
    pub const ALL: [Measure; 6] = [
        Measure::ReferredToCoaching,
        Measure::StartedCoaching,
        Measure::HadCoachingSession,
        Measure::EnrolledOnCourse,
        Measure::CompletedCourse,
        Measure::AttendedPeerSupport,
    ];

    /// The stable name used in the CSV download.
    pub fn code(self) -> &'static str {
        match self {
            Measure::ReferredToCoaching => "referred_to_coaching",
            Measure::StartedCoaching => "started_coaching",
            Measure::HadCoachingSession => "had_coaching_session",
            Measure::EnrolledOnCourse => "enrolled_on_course",
            Measure::CompletedCourse => "completed_course",
            Measure::AttendedPeerSupport => "attended_peer_support",
        }
    }

    /// Plain English, for the dashboard.
    pub fn label(self) -> &'static str {
        match self {
            Measure::ReferredToCoaching => "Referred to health coaching (or asked for it)",
            Measure::StartedCoaching => "Started health coaching (a coach took them on)",
            Measure::HadCoachingSession => "Had at least one coaching session",
            Measure::EnrolledOnCourse => "Had a place on a self-management education course",
            Measure::CompletedCourse => "Completed a self-management education course",
            Measure::AttendedPeerSupport => "Attended peer support (registered people)",
        }
    }
}

/// Distinct people per measure: in total and by activation level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReachCount {
    pub people: u64,
    /// Levels 1–4, then "not measured by the end of the window" (index 4).
    pub by_level: [u64; 5],
}

/// The reach of every service over one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub window: Window,
    /// One entry per [`Measure::ALL`], in that order.
    pub measures: Vec<(Measure, ReachCount)>,
    /// Peer-support attendances by people who walked in without being registered (not
    /// people: the same person may walk in twice).
    pub walk_in_attendances: u64,
}

impl Reach {
    pub fn get(&self, m: Measure) -> ReachCount {
        self.measures
            .iter()
            .find(|(x, _)| *x == m)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }
}

const DAY_MICROS: i64 = 86_400_000_000;

impl Store {
    /// The reach of coaching, education and peer support in `org` over `window` (callers
    /// audit and check access first with [`Store::audit_evaluation`]). Counts only.
    pub async fn reach(&self, org: OrgId, window: Window) -> Result<Reach> {
        let pool = self.reader();
        let o = org.as_text();
        let start = i64::from(window.from.0) * DAY_MICROS;
        let end = (i64::from(window.to.0) + 1) * DAY_MICROS; // exclusive
        let (from_iso, to_iso) = (window.from.to_string(), window.to.to_string());
        let (level, decile) = levels_and_deciles_before(pool, org, Some(end)).await?;

        let people = |sql: &'static str| {
            let o = o.clone();
            async move {
                let mut out = BTreeSet::new();
                for r in sqlx::query(sql)
                    .bind(&o)
                    .bind(start)
                    .bind(end)
                    .fetch_all(pool)
                    .await?
                {
                    out.insert(r.try_get::<String, _>("person_id")?);
                }
                Ok::<_, crate::StoreError>(out)
            }
        };
        let referred = people("SELECT DISTINCT person_id FROM coaching_referrals WHERE org_id = $1 AND received_at >= $2 AND received_at < $3").await?;
        let started = people("SELECT DISTINCT person_id FROM coaching_episodes WHERE org_id = $1 AND opened_at >= $2 AND opened_at < $3").await?;
        let sessions = people("SELECT DISTINCT person_id FROM coaching_sessions WHERE org_id = $1 AND status = 'attended' AND starts_at >= $2 AND starts_at < $3").await?;
        let enrolled = people(
            "SELECT DISTINCT e.person_id FROM edu_enrolments e WHERE e.org_id = $1 AND e.status = 'enrolled' \
             AND EXISTS (SELECT 1 FROM edu_sessions s WHERE s.org_id = e.org_id AND s.run_id = e.run_id AND s.starts_at >= $2 AND s.starts_at < $3)",
        )
        .await?;

        // Completion: per (run, person) enrolled, the attended sessions' start times, and the
        // programme's rule; completed in the window when the rule is met by its end but was
        // not met before its start.
        let mut rule: BTreeMap<String, CompletionRule> = BTreeMap::new();
        for r in sqlx::query("SELECT r.id, p.completion_min, p.sessions FROM edu_runs r JOIN edu_programmes p ON p.org_id = r.org_id AND p.id = r.programme_id WHERE r.org_id = $1")
            .bind(&o)
            .fetch_all(pool)
            .await?
        {
            rule.insert(
                r.try_get("id")?,
                CompletionRule {
                    min_attended: r.try_get::<i64, _>("completion_min")?.clamp(0, i64::from(u32::MAX)) as u32,
                    sessions: r.try_get::<i64, _>("sessions")?.clamp(0, i64::from(u32::MAX)) as u32,
                },
            );
        }
        let mut attended: BTreeMap<(String, String), (u32, u32)> = BTreeMap::new();
        for r in sqlx::query(
            "SELECT a.run_id, a.person_id, s.starts_at FROM edu_attendance a \
             JOIN edu_sessions s ON s.org_id = a.org_id AND s.run_id = a.run_id AND s.n = a.n \
             JOIN edu_enrolments e ON e.org_id = a.org_id AND e.run_id = a.run_id AND e.person_id = a.person_id \
             WHERE a.org_id = $1 AND a.present = 1 AND e.status = 'enrolled' AND s.starts_at < $2",
        )
        .bind(&o)
        .bind(end)
        .fetch_all(pool)
        .await?
        {
            let at: i64 = r.try_get("starts_at")?;
            let e = attended
                .entry((r.try_get("run_id")?, r.try_get("person_id")?))
                .or_default();
            e.1 += 1;
            if at < start {
                e.0 += 1;
            }
        }
        let completed: BTreeSet<String> = attended
            .into_iter()
            .filter(|((run, _), (before, by_end))| {
                rule.get(run)
                    .is_some_and(|r| r.completed(*by_end) && !r.completed(*before))
            })
            .map(|((_, person), _)| person)
            .collect();

        let mut peer = BTreeSet::new();
        let mut walk_ins = 0u64;
        for r in sqlx::query(
            "SELECT a.person_id FROM session_attendance a \
             JOIN group_sessions s ON s.org_id = a.org_id AND s.id = a.session_id \
             WHERE a.org_id = $1 AND s.session_date >= $2 AND s.session_date <= $3",
        )
        .bind(&o)
        .bind(&from_iso)
        .bind(&to_iso)
        .fetch_all(pool)
        .await?
        {
            match r.try_get::<Option<String>, _>("person_id")? {
                Some(p) => {
                    peer.insert(p);
                }
                None => walk_ins += 1,
            }
        }

        let count = |set: &BTreeSet<String>| {
            let mut c = ReachCount {
                people: set.len() as u64,
                ..Default::default()
            };
            for p in set {
                c.by_level[slot(p, &level, &decile).0] += 1;
            }
            c
        };
        let measures = Measure::ALL
            .iter()
            .map(|m| {
                let set = match m {
                    Measure::ReferredToCoaching => &referred,
                    Measure::StartedCoaching => &started,
                    Measure::HadCoachingSession => &sessions,
                    Measure::EnrolledOnCourse => &enrolled,
                    Measure::CompletedCourse => &completed,
                    Measure::AttendedPeerSupport => &peer,
                };
                (*m, count(set))
            })
            .collect();
        Ok(Reach {
            window,
            measures,
            walk_in_attendances: walk_ins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_have_distinct_codes_in_order() {
        let codes: BTreeSet<&str> = Measure::ALL.iter().map(|m| m.code()).collect();
        assert_eq!(codes.len(), Measure::ALL.len());
        let mut sorted = Measure::ALL;
        sorted.sort();
        assert_eq!(sorted, Measure::ALL);
        let day = alongside_stats::Day(20_000);
        let empty = Reach {
            window: Window { from: day, to: day },
            measures: Vec::new(),
            walk_in_attendances: 0,
        };
        assert_eq!(empty.get(Measure::CompletedCourse), ReachCount::default());
    }
}
