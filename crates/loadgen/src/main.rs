//! `alongside-loadgen`: a load generator that drives a running Alongside server over real HTTP,
//! the way browsers would. A development tool for `BENCHMARKS.md`, built apart from the product
//! binary (`cargo run --release -p alongside-loadgen -- --help`).
//!
//! Each client signs in with its own session (cookie jar) and takes the CSRF token from the
//! "Register a person" form. Then, by scenario:
//!
//! - `register-person`: repeatedly POSTs valid, unique registrations. A registration counts as
//!   acknowledged when the server answers `303 See Other` to `/people/{id}`.
//! - `submit-questionnaire`: finds people (from `/people`) and the demonstration instrument
//!   (from a person's "Record questionnaire answers" page), then repeatedly POSTs a completed
//!   questionnaire with random answers to all items as staff paper/phone entry
//!   (`/people/{id}/questionnaires/record`): validated, scored, committed and audited by the
//!   server. It counts as acknowledged on `303 See Other` to `/questionnaires/{id}`. When the
//!   organisation has nobody registered yet, it registers a few people first.
//!
//! - `caseload-page`: a health coach (`--username`) loads their coaching caseload page
//!   (`/coaching/caseload`) again and again; acknowledged on `200` with the page's heading.
//! - `waiting-list`: a coordinator loads pages of the coaching waiting list
//!   (`/coaching/queue?page=N`, a random page each time); acknowledged on `200`.
//!
//! For the two coaching scenarios, `--prepare-database URL` first builds what they measure in
//! that database (the server's own; it may be running): a coach (the `--username`, created
//! with `--password` if missing) with 60 open episodes, each with two goals with steps, three
//! past sessions recorded with reviews and the next one booked; or 5,000 waiting referrals.
//! The people they need are added as new synthetic people. Nothing is built twice.
//!
//! The report gives throughput of acknowledged requests, latency percentiles and errors.
//!
//! It is bounded: it only talks to loopback addresses, and it always stops, after `--requests`
//! requests or `--duration` seconds, whichever comes first.

mod coaching_data;
mod forms;
mod html;
mod report;
mod session;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rand::{Rng, SeedableRng};
use report::Report;
use reqwest::Url;
use session::Session;
use std::net::IpAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default time limit when `--requests` is not given.
pub(crate) const DEFAULT_DURATION_SECS: u64 = 30;
/// Time limit when `--requests` is given without `--duration`.
pub(crate) const CEILING_DURATION_SECS: u64 = 600;
/// Longest a single request may take before it counts as an error.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many distinct error messages the report shows.
pub(crate) const ERRORS_SHOWN: usize = 5;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "alongside-loadgen",
    version,
    about = "Generate HTTP load against a running Alongside server and report throughput and latency"
)]
pub struct LoadgenArgs {
    /// Base URL of a running Alongside server. Only loopback addresses are accepted.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Sign-in name of an existing account allowed to register people (e.g. a coordinator).
    #[arg(long)]
    pub username: String,
    /// Password of that account.
    #[arg(long, env = "ALONGSIDE_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Number of concurrent clients, each with its own signed-in session.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub clients: u32,
    /// Stop after this many registration requests in total, across all clients.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub requests: Option<u64>,
    /// Stop after this many seconds [default: 30, or 600 when --requests is given].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: Option<u64>,
    /// What each client does in its loop.
    #[arg(long, value_enum, default_value_t = Scenario::RegisterPerson)]
    pub scenario: Scenario,
    /// For `caseload-page` and `waiting-list`: first build the scenario's data in this
    /// database (the server's), unless it is there already.
    #[arg(long)]
    pub prepare_database: Option<String>,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// Sign in, then register new people one after another.
    RegisterPerson,
    /// Sign in, then record completed questionnaires (13 answers, staff paper or phone entry)
    /// for people in the organisation, one after another.
    SubmitQuestionnaire,
    /// A health coach loads their coaching caseload page, again and again.
    CaseloadPage,
    /// A coordinator loads random pages of the coaching waiting list.
    WaitingList,
    /// Create a group (daily, 10,000 places a night), then sign walk-ins in at its door, as
    /// several devices at once would (the account must run peer support, e.g. a coordinator).
    DoorSignIn,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::RegisterPerson => "register-person",
            Scenario::SubmitQuestionnaire => "submit-questionnaire",
            Scenario::CaseloadPage => "caseload-page",
            Scenario::WaitingList => "waiting-list",
            Scenario::DoorSignIn => "door-sign-in",
        }
    }

    /// What one acknowledged request is, for the report.
    fn noun(self) -> &'static str {
        match self {
            Scenario::RegisterPerson => "registrations",
            Scenario::SubmitQuestionnaire => "questionnaires",
            Scenario::CaseloadPage => "caseload pages",
            Scenario::WaitingList => "waiting-list pages",
            Scenario::DoorSignIn => "sign-ins",
        }
    }
}

#[tokio::main]
pub(crate) async fn main() -> std::process::ExitCode {
    match run(LoadgenArgs::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs the load and prints the report. Fails when the server cannot be used (sign-in fails) or
/// when any registration was not acknowledged.
pub async fn run(args: LoadgenArgs) -> Result<()> {
    let base = loopback_base(&args.url)?;
    let limit = Duration::from_secs(args.duration.unwrap_or(if args.requests.is_some() {
        CEILING_DURATION_SECS
    } else {
        DEFAULT_DURATION_SECS
    }));
    let max_requests = args.requests.unwrap_or(u64::MAX);
    let scenario = args.scenario;

    println!(
        "Alongside load generator: scenario {}, {} clients, {}",
        scenario.name(),
        args.clients,
        base
    );
    match args.requests {
        Some(n) => println!(
            "Stops after {n} requests or {} s, whichever comes first.",
            limit.as_secs()
        ),
        None => println!("Stops after {} s.", limit.as_secs()),
    }

    if let Some(database) = &args.prepare_database {
        coaching_data::prepare(database, scenario, &args.username, &args.password).await?;
    }

    // Sign every client in before the clock starts.
    let sign_in_started = Instant::now();
    let mut sessions = Vec::with_capacity(args.clients as usize);
    {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..args.clients {
            let (base, user, pass) = (base.clone(), args.username.clone(), args.password.clone());
            set.spawn(async move {
                let s = Session::sign_in(&base, &user, &pass)
                    .await
                    .with_context(|| format!("client {i}: signing in as {user}"))?;
                Ok::<_, anyhow::Error>((i, s))
            });
        }
        while let Some(joined) = set.join_next().await {
            sessions.push(joined.context("sign-in task")??);
        }
    }
    sessions.sort_by_key(|(i, _)| *i);
    println!(
        "{} clients signed in in {:.2} s",
        sessions.len(),
        sign_in_started.elapsed().as_secs_f64()
    );

    let shared = Arc::new(Shared {
        issued: AtomicU64::new(0),
        max_requests,
        run_tag: rand::thread_rng().gen_range(0..26u64.pow(4)),
        nhs_base: rand::thread_rng().gen_range(0..1_000_000),
        errors: Mutex::new(Vec::new()),
    });
    // What the questionnaire scenario needs before the clock starts: people, and the instrument.
    let door = match scenario {
        Scenario::DoorSignIn => {
            let first = &sessions.first().context("at least one client")?.1;
            let d = first.door_target(&shared).await?;
            println!("Signing people in at the door of group {}", d.group);
            Some(Arc::new(d))
        }
        _ => None,
    };
    let target = match scenario {
        Scenario::RegisterPerson
        | Scenario::CaseloadPage
        | Scenario::WaitingList
        | Scenario::DoorSignIn => None,
        Scenario::SubmitQuestionnaire => {
            let first = &sessions.first().context("at least one client")?.1;
            let t = first.questionnaire_target(&shared).await?;
            println!(
                "Recording questionnaires for {} people with instrument {}",
                t.people.len(),
                t.instrument
            );
            Some(Arc::new(t))
        }
    };
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + limit;
    let mut set = tokio::task::JoinSet::new();
    for (_, session) in sessions {
        let shared = shared.clone();
        let target = target.clone();
        let door = door.clone();
        set.spawn(async move {
            match (scenario, target, door) {
                (_, _, Some(d)) => session.door_loop(&shared, &d, deadline).await,
                (Scenario::CaseloadPage, _, _) => {
                    session
                        .page_loop(
                            &shared,
                            deadline,
                            |_| "/coaching/caseload".into(),
                            "Your coaching caseload",
                        )
                        .await
                }
                (Scenario::WaitingList, _, _) => {
                    let pages = coaching_data::WAITING.div_ceil(50) as u32;
                    let mut rng = rand::rngs::StdRng::from_entropy();
                    session
                        .page_loop(
                            &shared,
                            deadline,
                            move |_| format!("/coaching/queue?page={}", rng.gen_range(1..=pages)),
                            "Coaching referrals",
                        )
                        .await
                }
                (_, None, None) => session.register_loop(&shared, deadline).await,
                (_, Some(t), None) => session.questionnaire_loop(&shared, &t, deadline).await,
            }
        });
    }
    let mut latencies_us: Vec<u64> = Vec::new();
    let mut errors = 0u64;
    while let Some(joined) = set.join_next().await {
        let outcome = joined.context("client task")?;
        latencies_us.extend(outcome.latencies_us);
        errors += outcome.errors;
    }
    let elapsed = started.elapsed();

    let report = Report::new(latencies_us, errors, elapsed, scenario.noun());
    print!("{report}");
    let messages = shared.errors.lock().expect("errors lock").clone();
    if !messages.is_empty() {
        println!("First errors:");
        for m in &messages {
            println!("  - {m}");
        }
    }
    let noun = scenario.noun();
    if report.acknowledged == 0 {
        bail!("none of the {noun} was acknowledged");
    }
    if errors > 0 {
        bail!(
            "{errors} of {} {noun} were not acknowledged",
            errors + report.acknowledged
        );
    }
    Ok(())
}

/// Parses the base URL and refuses anything that is not on this machine's loopback.
pub(crate) fn loopback_base(url: &str) -> Result<Url> {
    let url = Url::parse(url).with_context(|| format!("--url {url:?} is not a URL"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        bail!("--url must be http or https, not {}", url.scheme());
    }
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("the load generator only targets loopback addresses (127.0.0.0/8, ::1, localhost), not {url}");
    }
    Ok(url)
}

pub(crate) struct Shared {
    /// Registration requests started so far, across clients.
    issued: AtomicU64,
    max_requests: u64,
    /// Makes names unique to this run.
    run_tag: u64,
    /// Makes NHS numbers (in the 999 test range) vary between runs.
    nhs_base: u64,
    errors: Mutex<Vec<String>>,
}

impl Shared {
    fn note_error(&self, message: String) {
        let mut errors = self.errors.lock().expect("errors lock");
        if errors.len() < ERRORS_SHOWN && !errors.contains(&message) {
            errors.push(message);
        }
    }
}

pub(crate) struct Outcome {
    latencies_us: Vec<u64>,
    errors: u64,
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.1.2.3:1/",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(loopback_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://192.168.1.1",
            "http://example.com",
            "http://0.0.0.0:8080",
            "ftp://127.0.0.1",
            "not a url",
        ] {
            assert!(loopback_base(bad).is_err(), "{bad}");
        }
    }
}
