//! The `person-page` scenario: a health coach opens the records of people on their caseload at
//! a steady rate, as people at work would, whatever the server is doing.
//!
//! The loops of the other scenarios send the next request when the last one is answered, so a
//! server that stalls for seconds delays only one request per client and the stall hardly shows
//! in the percentiles. Here each client has a timetable instead (`--rate` across all clients,
//! clients staggered): every request is sent when it is due, or at once if the client is still
//! waiting for an earlier answer, and its latency counts from when it was due. A stall of `s`
//! seconds then shows as the `s × rate` page views it delayed.

use crate::html::{location, snippet};
use crate::session::Session;
use crate::{Outcome, Shared, REQUEST_TIMEOUT};
use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// When one client's requests are due: every `interval`, from `offset` after the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schedule {
    interval: Duration,
    offset: Duration,
}

impl Schedule {
    /// Client `index` of `clients` sharing `rate` requests a second, staggered evenly.
    pub(crate) fn new(rate: u32, clients: u32, index: u32) -> Schedule {
        let interval = Duration::from_secs_f64(f64::from(clients) / f64::from(rate.max(1)));
        Schedule {
            interval,
            offset: interval / clients.max(1) * index,
        }
    }

    fn due(&self, start: tokio::time::Instant, k: u32) -> tokio::time::Instant {
        start + self.offset + self.interval * k
    }
}

/// Whether process `pid` is running (Linux: it has a `/proc` entry and is not a zombie).
pub(crate) fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may contain spaces.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The UUIDs linked as `href="{prefix}{uuid}…"` in a page, in order, without repeats.
fn linked_ids(html: &str, prefix: &str) -> Vec<String> {
    let needle = format!("href=\"{prefix}");
    let mut out: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        if let Some(id) = rest.get(..36) {
            if uuid::Uuid::parse_str(id).is_ok() && !out.iter().any(|o| o == id) {
                out.push(id.to_string());
            }
        }
    }
    out
}

impl Session {
    /// The people on the signed-in coach's caseload: the episodes linked from the caseload
    /// page, and the person each episode's page links to.
    pub(crate) async fn caseload_people(&self) -> Result<Vec<String>> {
        let caseload =
            crate::html::get_page(&self.client, &self.base.join("/coaching/caseload")?).await?;
        let episodes = linked_ids(&caseload, "/coaching/episodes/");
        let mut people = Vec::new();
        for e in &episodes {
            let url = self.base.join(&format!("/coaching/episodes/{e}"))?;
            let page = crate::html::get_page(&self.client, &url).await?;
            let person = linked_ids(&page, "/people/")
                .into_iter()
                .next()
                .with_context(|| format!("episode {e} links to nobody"))?;
            if !people.contains(&person) {
                people.push(person);
            }
        }
        if people.is_empty() {
            bail!(
                "nobody on this account's coaching caseload (sign in as a health coach with open \
                 episodes, e.g. the demo's `coach`)"
            );
        }
        Ok(people)
    }

    /// Opens a random caseload person's record whenever the schedule says, until the deadline,
    /// the request limit or the watched process's end; a view counts when it answers 200.
    pub(crate) async fn steady_page_loop(
        self,
        shared: &Shared,
        deadline: tokio::time::Instant,
        schedule: Schedule,
        people: &[String],
    ) -> Outcome {
        let mut out = Outcome {
            latencies_us: Vec::new(),
            errors: 0,
        };
        let mut rng = rand::rngs::StdRng::from_entropy();
        let start = tokio::time::Instant::now();
        for k in 0.. {
            let due = schedule.due(start, k);
            if due >= deadline || shared.done(deadline) {
                break;
            }
            if shared.issued.fetch_add(1, Ordering::Relaxed) >= shared.max_requests {
                break;
            }
            tokio::time::sleep_until(due).await;
            if shared.done(deadline) {
                break;
            }
            let path = format!("/people/{}", people[rng.gen_range(0..people.len())]);
            let url = match self.base.join(&path) {
                Ok(u) => u,
                Err(e) => {
                    shared.note_error(e.to_string());
                    out.errors += 1;
                    break;
                }
            };
            let sent = tokio::time::timeout(REQUEST_TIMEOUT, async {
                let resp = self.client.get(url).send().await?;
                let status = resp.status();
                let loc = location(&resp);
                let body = resp.text().await?;
                Ok::<_, reqwest::Error>((status, loc, body))
            })
            .await;
            // From when the view was due, not when it could be sent.
            let latency = due.elapsed();
            let micros = latency.as_micros() as u64;
            shared.timeline.lock().expect("timeline lock").push((
                due - shared.t0,
                latency,
                matches!(sent, Ok(Ok((StatusCode::OK, _, _)))),
            ));
            match sent {
                Ok(Ok((StatusCode::OK, _, _))) => out.latencies_us.push(micros),
                Ok(Ok((status, loc, body))) => {
                    out.errors += 1;
                    shared.note_error(format!(
                        "GET /people/{{id}} answered {status}, location {loc:?}: {}",
                        snippet(&body)
                    ));
                }
                Ok(Err(e)) => {
                    out.errors += 1;
                    shared.note_error(format!("GET /people/{{id}} failed: {e}"));
                }
                Err(_) => {
                    out.errors += 1;
                    shared.note_error("GET /people/{id} timed out".into());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_share_the_rate_staggered() {
        let s = Schedule::new(50, 4, 0);
        assert_eq!(s.interval, Duration::from_millis(80));
        assert_eq!(s.offset, Duration::ZERO);
        assert_eq!(Schedule::new(50, 4, 3).offset, Duration::from_millis(60));
        let start = tokio::time::Instant::now();
        assert_eq!(
            Schedule::new(50, 4, 1).due(start, 2),
            start + Duration::from_millis(20 + 160)
        );
    }

    #[test]
    fn ids_are_read_from_links_with_a_prefix() {
        let html = r#"<a href="/coaching/episodes/0190a3b4-1111-7000-8000-000000000001">Ann</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000002/coaching">Back</a>
            <a href="/coaching/episodes/0190a3b4-1111-7000-8000-000000000001">again</a>
            <a href="/coaching/episodes/new">New</a>"#;
        assert_eq!(
            linked_ids(html, "/coaching/episodes/"),
            vec!["0190a3b4-1111-7000-8000-000000000001".to_string()]
        );
        assert_eq!(
            linked_ids(html, "/people/"),
            vec!["0190a3b4-1111-7000-8000-000000000002".to_string()]
        );
    }

    #[test]
    fn this_process_is_running_and_a_missing_one_is_not() {
        assert!(is_running(std::process::id()));
        assert!(!is_running(u32::MAX - 1));
    }
}
