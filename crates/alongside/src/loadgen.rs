//! `alongside loadgen`: a load generator that drives a running Alongside server over real HTTP,
//! the way browsers would.
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

use anyhow::{anyhow, bail, Context, Result};
use rand::{Rng, SeedableRng};
use reqwest::{redirect, StatusCode, Url};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Default time limit when `--requests` is not given.
const DEFAULT_DURATION_SECS: u64 = 30;
/// Time limit when `--requests` is given without `--duration`.
const CEILING_DURATION_SECS: u64 = 600;
/// Longest a single request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How many distinct error messages the report shows.
const ERRORS_SHOWN: usize = 5;

#[derive(clap::Args, Debug, Clone)]
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

/// The instrument the questionnaire scenario records: the shipped demonstration instrument.
const DEMO_INSTRUMENT_WORD: &str = "demonstration";
/// Its items' link ids are `demo-01` … `demo-13`.
const DEMO_ITEMS: usize = 13;
/// Its answer codes.
const DEMO_CODES: &[&str] = &["1", "2", "3", "4", "na"];
/// The paper/phone modes staff may record.
const RECORD_MODES: &[&str] = &["paper", "in_person", "telephone"];
/// How many people to register when the organisation has none, for the questionnaire scenario.
const PEOPLE_TO_REGISTER: u64 = 20;

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
fn loopback_base(url: &str) -> Result<Url> {
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

struct Shared {
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

struct Outcome {
    latencies_us: Vec<u64>,
    errors: u64,
}

struct Session {
    client: reqwest::Client,
    base: Url,
    csrf_token: String,
}

impl Session {
    async fn sign_in(base: &Url, username: &str, password: &str) -> Result<Session> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        let page = get_page(&client, &base.join("/sign-in")?).await?;
        let token = csrf_token(&page).ok_or_else(|| anyhow!("no csrf_token on /sign-in"))?;
        let resp = client
            .post(base.join("/sign-in")?)
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await?;
        let status = resp.status();
        let location = location(&resp);
        if status != StatusCode::SEE_OTHER || location.as_deref().unwrap_or("").contains("sign-in")
        {
            bail!(
                "sign-in was not accepted: {status}, location {location:?}: {}",
                snippet(&resp.text().await.unwrap_or_default())
            );
        }
        // The session's token is in every signed-in page's forms; /people/new has one for
        // roles that register people, the home page's sign-out form for everyone else.
        let form = get_page(&client, &base.join("/people/new")?).await?;
        let csrf_token = match csrf_token(&form) {
            Some(t) => t,
            None => csrf_token(&get_page(&client, &base.join("/")?).await?)
                .ok_or_else(|| anyhow!("no csrf_token on /people/new or /"))?,
        };
        Ok(Session {
            client,
            base: base.clone(),
            csrf_token,
        })
    }

    async fn register_loop(self, shared: &Shared, deadline: tokio::time::Instant) -> Outcome {
        let mut out = Outcome {
            latencies_us: Vec::new(),
            errors: 0,
        };
        let url = match self.base.join("/people") {
            Ok(u) => u,
            Err(e) => {
                shared.note_error(e.to_string());
                out.errors += 1;
                return out;
            }
        };
        loop {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            let n = shared.issued.fetch_add(1, Ordering::Relaxed);
            if n >= shared.max_requests {
                break;
            }
            let form = person_form(n, shared.run_tag, shared.nhs_base, &self.csrf_token);
            let started = Instant::now();
            let sent = tokio::time::timeout_at(
                deadline + REQUEST_TIMEOUT,
                self.client.post(url.clone()).form(&form).send(),
            )
            .await;
            let result = match sent {
                Err(_) => Err("timed out".to_string()),
                Ok(Err(e)) => Err(format!("request failed: {e}")),
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let loc = location(&resp);
                    match loc {
                        Some(l) if status == StatusCode::SEE_OTHER && is_person_path(&l) => Ok(()),
                        _ => {
                            let body = resp.text().await.unwrap_or_default();
                            Err(format!(
                                "POST /people answered {status}, location {loc:?}: {}",
                                snippet(&body)
                            ))
                        }
                    }
                }
            };
            let micros = started.elapsed().as_micros() as u64;
            match result {
                Ok(()) => out.latencies_us.push(micros),
                Err(message) => {
                    out.errors += 1;
                    shared.note_error(message);
                }
            }
        }
        out
    }
}

/// The door the door-sign-in scenario signs people in at.
struct DoorTarget {
    group: String,
    first_date: time::Date,
}

/// Sign-ins per session date before moving to the next date (well under its 10,000 places).
const SIGN_INS_PER_DATE: u64 = 5_000;

impl Session {
    /// Creates a daily group with 10,000 places a night for a year from today.
    async fn door_target(&self, shared: &Shared) -> Result<DoorTarget> {
        // The load generator is a client of a running server: the wall clock's London date.
        let today = alongside_store::clock::Clock::default().today();
        let until = today.saturating_add(time::Duration::days(364));
        let name = format!("Loadgen door {}", letters(shared.run_tag, 4));
        let (td, tm, ty) = (
            today.day().to_string(),
            u8::from(today.month()).to_string(),
            today.year().to_string(),
        );
        let (ud, um, uy) = (
            until.day().to_string(),
            u8::from(until.month()).to_string(),
            until.year().to_string(),
        );
        let form: Vec<(&str, &str)> = vec![
            ("csrf_token", self.csrf_token.as_str()),
            ("name", name.as_str()),
            ("kind", "formal"),
            ("focus", "any"),
            ("mode", "in_person"),
            ("venue", "Load test hall"),
            ("who_may_join", "Anyone"),
            ("first_day", td.as_str()),
            ("first_month", tm.as_str()),
            ("first_year", ty.as_str()),
            ("start_time", "18:00"),
            ("end_time", "23:00"),
            ("repeat", "daily"),
            ("until_day", ud.as_str()),
            ("until_month", um.as_str()),
            ("until_year", uy.as_str()),
            ("capacity", "10000"),
            ("walk_in_places", "0"),
            ("attendees_per_volunteer", "15"),
        ];
        let resp = self
            .client
            .post(self.base.join("/groups")?)
            .form(&form)
            .send()
            .await?;
        let status = resp.status();
        let loc = location(&resp);
        match loc.as_deref().and_then(|l| l.strip_prefix("/groups/")) {
            Some(id) if status == StatusCode::SEE_OTHER => Ok(DoorTarget {
                group: id.to_string(),
                first_date: today,
            }),
            _ => bail!(
                "creating the group answered {status}, location {loc:?}: {}",
                snippet(&resp.text().await.unwrap_or_default())
            ),
        }
    }

    async fn door_loop(
        self,
        shared: &Shared,
        target: &DoorTarget,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let mut out = Outcome {
            latencies_us: Vec::new(),
            errors: 0,
        };
        loop {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            let n = shared.issued.fetch_add(1, Ordering::Relaxed);
            if n >= shared.max_requests {
                break;
            }
            let date = target
                .first_date
                .saturating_add(time::Duration::days((n / SIGN_INS_PER_DATE) as i64 % 365));
            let path = format!(
                "/groups/{}/sessions/{}/door",
                target.group,
                alongside_core::time::iso_date(date)
            );
            let url = match self.base.join(&path) {
                Ok(u) => u,
                Err(e) => {
                    shared.note_error(e.to_string());
                    out.errors += 1;
                    break;
                }
            };
            let first = capitalise(&letters(n, 3));
            let form = [
                ("csrf_token", self.csrf_token.as_str()),
                ("first_name", first.as_str()),
            ];
            let started = Instant::now();
            let sent = tokio::time::timeout_at(
                deadline + REQUEST_TIMEOUT,
                self.client.post(url).form(&form).send(),
            )
            .await;
            let result = match sent {
                Err(_) => Err("timed out".to_string()),
                Ok(Err(e)) => Err(format!("request failed: {e}")),
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let loc = location(&resp);
                    match loc {
                        Some(l)
                            if status == StatusCode::SEE_OTHER && l.contains("/door?admitted=") =>
                        {
                            Ok(())
                        }
                        _ => {
                            let body = resp.text().await.unwrap_or_default();
                            Err(format!(
                                "POST {path} answered {status}, location {loc:?}: {}",
                                snippet(&body)
                            ))
                        }
                    }
                }
            };
            let micros = started.elapsed().as_micros() as u64;
            match result {
                Ok(()) => out.latencies_us.push(micros),
                Err(message) => {
                    out.errors += 1;
                    shared.note_error(message);
                }
            }
        }
        out
    }
}

/// Whom to record questionnaires for, and with which instrument.
impl Session {
    /// GETs the page `next` names, again and again, until the deadline or the request limit;
    /// a request counts when it answers 200 with `heading` in its `<h1>`.
    async fn page_loop(
        self,
        shared: &Shared,
        deadline: tokio::time::Instant,
        mut next: impl FnMut(u64) -> String,
        heading: &str,
    ) -> Outcome {
        let mut out = Outcome {
            latencies_us: Vec::new(),
            errors: 0,
        };
        let h1 = format!("<h1>{heading}</h1>");
        loop {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            let n = shared.issued.fetch_add(1, Ordering::Relaxed);
            if n >= shared.max_requests {
                break;
            }
            let path = next(n);
            let url = match self.base.join(&path) {
                Ok(u) => u,
                Err(e) => {
                    shared.note_error(e.to_string());
                    out.errors += 1;
                    break;
                }
            };
            let started = Instant::now();
            let sent = tokio::time::timeout_at(deadline + REQUEST_TIMEOUT, async {
                let resp = self.client.get(url).send().await?;
                let status = resp.status();
                let body = resp.text().await?;
                Ok::<_, reqwest::Error>((status, body))
            })
            .await;
            let micros = started.elapsed().as_micros() as u64;
            match sent {
                Ok(Ok((StatusCode::OK, body))) if body.contains(&h1) => {
                    out.latencies_us.push(micros)
                }
                Ok(Ok((status, body))) => {
                    out.errors += 1;
                    shared.note_error(format!("GET {path} answered {status}: {}", snippet(&body)));
                }
                Ok(Err(e)) => {
                    out.errors += 1;
                    shared.note_error(format!("GET {path} failed: {e}"));
                }
                Err(_) => {
                    out.errors += 1;
                    shared.note_error(format!("GET {path} timed out"));
                }
            }
        }
        out
    }
}

struct QuestionnaireTarget {
    people: Vec<String>,
    instrument: String,
}

impl Session {
    /// Reads the people listed on `/people` (registering some first when there are none) and
    /// the demonstration instrument's id from the first person's paper-entry page.
    async fn questionnaire_target(&self, shared: &Shared) -> Result<QuestionnaireTarget> {
        let list_url = self.base.join("/people")?;
        let mut people = person_ids(&get_page(&self.client, &list_url).await?);
        if people.is_empty() {
            println!("Nobody is registered yet: registering {PEOPLE_TO_REGISTER} people first");
            for n in 0..PEOPLE_TO_REGISTER {
                let form = person_form(n, shared.run_tag, shared.nhs_base, &self.csrf_token);
                let resp = self
                    .client
                    .post(list_url.clone())
                    .form(&form)
                    .send()
                    .await?;
                let status = resp.status();
                let loc = location(&resp);
                match loc {
                    Some(l) if status == StatusCode::SEE_OTHER && is_person_path(&l) => {}
                    _ => bail!(
                        "registering a person answered {status}, location {loc:?}: {}",
                        snippet(&resp.text().await.unwrap_or_default())
                    ),
                }
            }
            people = person_ids(&get_page(&self.client, &list_url).await?);
            if people.is_empty() {
                bail!("/people lists nobody, even after registering {PEOPLE_TO_REGISTER} people");
            }
        }
        let record = self
            .base
            .join(&format!("/people/{}/questionnaires/record", people[0]))?;
        let page = get_page(&self.client, &record).await?;
        let instrument = instrument_choice(&page, DEMO_INSTRUMENT_WORD).ok_or_else(|| {
            anyhow!(
                "{} offers no instrument whose title contains {DEMO_INSTRUMENT_WORD:?}: {}",
                record.path(),
                snippet(&page)
            )
        })?;
        Ok(QuestionnaireTarget { people, instrument })
    }

    async fn questionnaire_loop(
        self,
        shared: &Shared,
        target: &QuestionnaireTarget,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let mut out = Outcome {
            latencies_us: Vec::new(),
            errors: 0,
        };
        let mut urls = Vec::with_capacity(target.people.len());
        for p in &target.people {
            match self
                .base
                .join(&format!("/people/{p}/questionnaires/record"))
            {
                Ok(u) => urls.push(u),
                Err(e) => {
                    shared.note_error(e.to_string());
                    out.errors += 1;
                    return out;
                }
            }
        }
        let mut rng = rand::rngs::StdRng::from_entropy();
        loop {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            let n = shared.issued.fetch_add(1, Ordering::Relaxed);
            if n >= shared.max_requests {
                break;
            }
            let url = &urls[rng.gen_range(0..urls.len())];
            let form = questionnaire_form(&mut rng, &target.instrument, &self.csrf_token);
            let started = Instant::now();
            let sent = tokio::time::timeout_at(
                deadline + REQUEST_TIMEOUT,
                self.client.post(url.clone()).form(&form).send(),
            )
            .await;
            let result = match sent {
                Err(_) => Err("timed out".to_string()),
                Ok(Err(e)) => Err(format!("request failed: {e}")),
                Ok(Ok(resp)) => {
                    let status = resp.status();
                    let loc = location(&resp);
                    match loc {
                        Some(l) if status == StatusCode::SEE_OTHER && is_questionnaire_path(&l) => {
                            Ok(())
                        }
                        _ => {
                            let body = resp.text().await.unwrap_or_default();
                            Err(format!(
                                "POST /people/{{id}}/questionnaires/record answered {status}, location {loc:?}: {}",
                                snippet(&body)
                            ))
                        }
                    }
                }
            };
            let micros = started.elapsed().as_micros() as u64;
            match result {
                Ok(()) => out.latencies_us.push(micros),
                Err(message) => {
                    out.errors += 1;
                    shared.note_error(message);
                }
            }
        }
        out
    }
}

/// A completed paper/phone entry of the demonstration instrument with random answers to all
/// items.
fn questionnaire_form(
    rng: &mut impl Rng,
    instrument: &str,
    csrf_token: &str,
) -> Vec<(String, String)> {
    let mut form = vec![
        ("csrf_token".to_string(), csrf_token.to_string()),
        ("instrument".to_string(), instrument.to_string()),
        (
            "mode".to_string(),
            RECORD_MODES[rng.gen_range(0..RECORD_MODES.len())].to_string(),
        ),
    ];
    for i in 1..=DEMO_ITEMS {
        form.push((
            format!("item-demo-{i:02}"),
            DEMO_CODES[rng.gen_range(0..DEMO_CODES.len())].to_string(),
        ));
    }
    form
}

/// The distinct person ids linked from a page (`href="/people/{uuid}"`), in order.
fn person_ids(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let needle = "href=\"/people/";
    let mut rest = html;
    while let Some(i) = rest.find(needle) {
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        let id = &rest[..end];
        if uuid::Uuid::parse_str(id).is_ok() && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// The value of the `instrument` radio whose label contains `word` (case-insensitive).
fn instrument_choice(html: &str, word: &str) -> Option<String> {
    let word = word.to_lowercase();
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag_rest = &rest[start..];
        let end = tag_rest.find('>')?;
        let tag = &tag_rest[..end];
        rest = &tag_rest[end..];
        if attr(tag, "name").as_deref() != Some("instrument") {
            continue;
        }
        let (Some(id), Some(value)) = (attr(tag, "id"), attr(tag, "value")) else {
            continue;
        };
        // Its label: <label … for="{id}">text</label>, anywhere in the page.
        let mut labels = html;
        while let Some(l) = labels.find("<label") {
            let label_rest = &labels[l..];
            let open_end = label_rest.find('>')?;
            let open = &label_rest[..open_end];
            let close = label_rest.find("</label>").unwrap_or(label_rest.len());
            labels = &label_rest[open_end..];
            if attr(open, "for").as_deref() == Some(id.as_str())
                && unescape(&label_rest[open_end + 1..close.max(open_end + 1)])
                    .to_lowercase()
                    .contains(&word)
            {
                return Some(value);
            }
        }
    }
    None
}

/// `/questionnaires/{id}` (optionally with a query), nothing further.
fn is_questionnaire_path(location: &str) -> bool {
    let path = location.split(['?', '#']).next().unwrap_or("");
    match path.strip_prefix("/questionnaires/") {
        Some(id) => !id.is_empty() && !id.contains('/'),
        None => false,
    }
}

async fn get_page(client: &reqwest::Client, url: &Url) -> Result<String> {
    let resp = client.get(url.clone()).send().await?;
    let status = resp.status();
    let body = resp.text().await?;
    if status != StatusCode::OK {
        bail!("GET {} answered {status}: {}", url.path(), snippet(&body));
    }
    Ok(body)
}

fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `/people/{id}` (optionally with a query), where id is not a fixed page such as `new`.
fn is_person_path(location: &str) -> bool {
    let path = location.split(['?', '#']).next().unwrap_or("");
    match path.strip_prefix("/people/") {
        Some(id) => !id.is_empty() && id != "new" && !id.contains('/'),
        None => false,
    }
}

fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(200).collect()
}

/// The value of the first hidden `csrf_token` input in a page.
pub(crate) fn csrf_token(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag_rest = &rest[start..];
        let end = tag_rest.find('>')?;
        let tag = &tag_rest[..end];
        if attr(tag, "name").as_deref() == Some("csrf_token") {
            return attr(tag, "value");
        }
        rest = &tag_rest[end..];
    }
    None
}

/// An attribute's (unescaped) value inside one tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        if let Some(i) = tag.find(&needle) {
            let value = &tag[i + needle.len()..];
            let value = &value[..value.find(quote)?];
            return Some(unescape(value));
        }
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Letters only (names may not contain digits): `n` written in base 26, at least `width` long.
fn letters(mut n: u64, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 || out.len() < width {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ascii")
}

const GIVEN: &[&str] = &[
    "Amira",
    "Bethan",
    "Chidi",
    "Dafydd",
    "Eilidh",
    "Farah",
    "Gareth",
    "Harpreet",
    "Ioana",
    "Jamal",
    "Kerry",
    "Liam",
    "Mei",
    "Niamh",
    "Oluwaseun",
    "Priya",
];
const CONDITIONS: &[&str] = &["copd", "type2_diabetes", "asthma", "hypertension"];

/// A valid register-person form, unique to (`run_tag`, `n`). NHS numbers are in the 999 range
/// set aside for testing, and left blank when the nine digits have no valid check digit.
fn person_form(
    n: u64,
    run_tag: u64,
    nhs_base: u64,
    csrf_token: &str,
) -> Vec<(&'static str, String)> {
    let given = GIVEN[(n % GIVEN.len() as u64) as usize];
    let family = format!(
        "Loadtest {}",
        capitalise(&letters(run_tag * 1_000_000_007 + n, 8))
    );
    let six = (nhs_base + n) % 1_000_000;
    let nhs = nhs_number(999_000_000 + six).unwrap_or_default();
    let mut form = vec![
        ("csrf_token", csrf_token.to_string()),
        ("given_name", given.to_string()),
        ("family_name", family),
        ("nhs_number", nhs),
        ("dob_day", (1 + n % 28).to_string()),
        ("dob_month", (1 + n % 12).to_string()),
        ("dob_year", (1940 + n % 60).to_string()),
        (
            "sex",
            ["female", "male", "other", "unknown"][(n % 4) as usize].to_string(),
        ),
        ("postcode", "LS1 4AP".to_string()),
        ("email", format!("person{n}@example.com")),
        ("phone", "07700 900982".to_string()),
        ("consent_phone", "yes".to_string()),
        ("consent_email", "yes".to_string()),
        ("preferred_language", "en".to_string()),
        ("conditions", CONDITIONS[(n % 4) as usize].to_string()),
        (
            "what_matters",
            "Walking to the shops without getting out of breath.".to_string(),
        ),
    ];
    if n.is_multiple_of(3) {
        form.push(("conditions", "depression".to_string()));
    }
    form
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Ten-digit NHS number for nine leading digits, or `None` when no check digit is valid.
fn nhs_number(nine: u64) -> Option<String> {
    let digits: Vec<u32> = format!("{nine:09}")
        .chars()
        .map(|c| c.to_digit(10).unwrap_or(0))
        .collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        d => d,
    };
    Some(format!("{nine:09}{check}"))
}

struct Report {
    noun: &'static str,
    acknowledged: u64,
    errors: u64,
    elapsed: Duration,
    sorted_us: Vec<u64>,
}

impl Report {
    fn new(
        mut latencies_us: Vec<u64>,
        errors: u64,
        elapsed: Duration,
        noun: &'static str,
    ) -> Report {
        latencies_us.sort_unstable();
        Report {
            noun,
            acknowledged: latencies_us.len() as u64,
            errors,
            elapsed,
            sorted_us: latencies_us,
        }
    }

    /// Nearest-rank percentile in milliseconds.
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.sorted_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.sorted_us.len() as f64).ceil() as usize;
        let i = rank.clamp(1, self.sorted_us.len()) - 1;
        self.sorted_us[i] as f64 / 1000.0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(f, "Duration       {secs:.2} s")?;
        writeln!(f, "Acknowledged   {} {}", self.acknowledged, self.noun)?;
        writeln!(f, "Errors         {}", self.errors)?;
        writeln!(
            f,
            "Throughput     {:.1} {}/s",
            self.acknowledged as f64 / secs.max(1e-9),
            self.noun
        )?;
        writeln!(
            f,
            "Latency (ms)   p50 {:.1}   p95 {:.1}   p99 {:.1}   max {:.1}",
            self.percentile_ms(50.0),
            self.percentile_ms(95.0),
            self.percentile_ms(99.0),
            self.percentile_ms(100.0)
        )
    }
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

    #[test]
    fn csrf_token_is_read_from_the_hidden_input() {
        let html = r#"<form><input type="text" name="q" value="x"><input type="hidden" name="csrf_token" value="a&amp;b"></form>"#;
        assert_eq!(csrf_token(html).as_deref(), Some("a&b"));
        assert_eq!(csrf_token("<input name=\"other\" value=\"1\">"), None);
    }

    #[test]
    fn generated_nhs_numbers_have_valid_check_digits() {
        // 943 476 5919 is the well-known valid example.
        assert_eq!(nhs_number(943_476_591).as_deref(), Some("9434765919"));
        let mut valid = 0;
        for nine in 999_000_000..999_000_200u64 {
            if let Some(n) = nhs_number(nine) {
                valid += 1;
                assert!(n.starts_with("999") && n.len() == 10);
                let core = alongside_core::nhs_number::NhsNumber::parse(&n);
                assert!(core.is_ok(), "{n} rejected by core: {core:?}");
            }
        }
        assert!(valid > 150, "{valid}");
    }

    #[test]
    fn forms_are_unique_and_valid() {
        let today = time::macros::date!(2026 - 12 - 03);
        let mut names = std::collections::HashSet::new();
        for n in 0..500 {
            let form = person_form(n, 7, 0, "t");
            let get = |k: &str| {
                form.iter()
                    .filter(|(f, _)| *f == k)
                    .map(|(_, v)| v.clone())
                    .collect::<Vec<_>>()
            };
            let one = |k: &str| get(k).into_iter().next().unwrap_or_default();
            let parsed = alongside_core::person::PersonForm {
                nhs_number: one("nhs_number"),
                given_name: one("given_name"),
                family_name: one("family_name"),
                dob_day: one("dob_day"),
                dob_month: one("dob_month"),
                dob_year: one("dob_year"),
                sex: one("sex"),
                postcode: one("postcode"),
                email: one("email"),
                phone: one("phone"),
                consent_phone: Some(one("consent_phone")),
                consent_email: Some(one("consent_email")),
                preferred_language: one("preferred_language"),
                conditions: get("conditions"),
                what_matters: one("what_matters"),
                ..Default::default()
            };
            let details = alongside_core::person::PersonDetails::parse(&parsed, today);
            assert!(details.is_ok(), "form {n} invalid: {details:?}");
            assert!(names.insert(format!("{} {}", one("given_name"), one("family_name"))));
        }
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let r = Report::new(
            (1..=100).map(|x| x * 1000).collect(),
            0,
            Duration::from_secs(1),
            "registrations",
        );
        assert_eq!(r.percentile_ms(50.0), 50.0);
        assert_eq!(r.percentile_ms(95.0), 95.0);
        assert_eq!(r.percentile_ms(100.0), 100.0);
        assert_eq!(r.acknowledged, 100);
    }

    #[test]
    fn person_paths() {
        assert!(is_person_path("/people/0190a3b4-1111"));
        assert!(is_person_path("/people/12?registered=1"));
        assert!(!is_person_path("/people/new"));
        assert!(!is_person_path("/people/"));
        assert!(!is_person_path("/sign-in"));
    }

    #[test]
    fn person_ids_are_read_from_record_links() {
        let html = r#"<a href="/people/new">Register</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000001">Ann</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000002?x=1">Bob</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000001">Ann again</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000003/edit">Edit</a>
            <a href="/people?q=a&amp;page=2">Next</a>"#;
        assert_eq!(
            person_ids(html),
            vec!["0190a3b4-1111-7000-8000-000000000001".to_string()]
        );
        assert!(person_ids("<p>There is nobody to show yet.</p>").is_empty());
    }

    #[test]
    fn the_demonstration_instrument_is_chosen_by_its_label() {
        let html = r#"<div class="radios-item"><input class="radios-input" id="instrument-aaa" name="instrument" type="radio" value="aaa"><label class="label radios-label" for="instrument-aaa">Self-Efficacy for Managing Chronic Disease 6-Item Scale</label></div>
<div class="radios-item"><input class="radios-input" id="instrument-bbb" name="instrument" type="radio" value="bbb"><label class="label radios-label" for="instrument-bbb">Alongside demonstration activation instrument &mdash; NOT VALIDATED</label></div>
<input class="radios-input" id="mode-paper" name="mode" type="radio" value="paper"><label for="mode-paper">On paper (demonstration)</label>"#;
        assert_eq!(
            instrument_choice(html, "demonstration").as_deref(),
            Some("bbb")
        );
        assert_eq!(
            instrument_choice(html, "Self-Efficacy").as_deref(),
            Some("aaa")
        );
        assert_eq!(instrument_choice(html, "PAM"), None);
        // Only radios named `instrument` count, even if another label matches.
        assert_eq!(instrument_choice(html, "On paper"), None);
    }

    #[test]
    fn questionnaire_forms_answer_every_item_with_valid_codes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut modes = std::collections::HashSet::new();
        let mut codes = std::collections::HashSet::new();
        for _ in 0..200 {
            let form = questionnaire_form(&mut rng, "ins-id", "tok");
            let get = |k: &str| {
                form.iter()
                    .find(|(f, _)| f == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            assert_eq!(get("csrf_token"), "tok");
            assert_eq!(get("instrument"), "ins-id");
            assert!(RECORD_MODES.contains(&get("mode").as_str()));
            modes.insert(get("mode"));
            let items: Vec<_> = form
                .iter()
                .filter(|(f, _)| f.starts_with("item-"))
                .collect();
            assert_eq!(items.len(), 13);
            for (i, (field, code)) in items.iter().enumerate() {
                assert_eq!(*field, format!("item-demo-{:02}", i + 1));
                assert!(DEMO_CODES.contains(&code.as_str()), "{code}");
                codes.insert(code.clone());
            }
        }
        assert_eq!(modes.len(), 3);
        assert_eq!(codes.len(), 5);
    }

    #[test]
    fn the_demo_instrument_matches_what_the_form_sends() {
        let json = include_str!("../../../instruments/alongside-demo-activation.json");
        let ins = alongside_measure::Instrument::from_json_str(json).expect("demo instrument");
        assert!(ins.title("en").contains(DEMO_INSTRUMENT_WORD));
        assert_eq!(ins.items().len(), DEMO_ITEMS);
        for (i, item) in ins.items().iter().enumerate() {
            assert_eq!(item.link_id, format!("demo-{:02}", i + 1));
            let codes: Vec<&str> = item.options.iter().map(|o| o.code.as_str()).collect();
            assert_eq!(codes, DEMO_CODES);
        }
    }

    #[test]
    fn questionnaire_paths() {
        assert!(is_questionnaire_path("/questionnaires/0190a3b4-1111"));
        assert!(!is_questionnaire_path(
            "/questionnaires/0190a3b4-1111/check"
        ));
        assert!(!is_questionnaire_path("/questionnaires/"));
        assert!(!is_questionnaire_path("/people/0190a3b4-1111"));
    }
}

/// The data the coaching scenarios measure, built through the store's own use cases (so every
/// rule and audit entry applies), in the database the server uses.
mod coaching_data {
    use super::Scenario;
    use alongside_core::coaching::{
        london_instant, london_local, BookingForm, ContactMode, GoalCategory, GoalDetails,
        ReferralDetails, ReferralSource, SessionStatus, Urgency, WorkingHours,
    };
    use alongside_core::time::Timestamp;
    use alongside_core::{Actor, PersonId, Role, UserId};
    use alongside_store::coaching::{ReviewInput, SessionRecord};
    use alongside_store::people::Source;
    use alongside_store::users::NewUser;
    use alongside_store::Store;
    use anyhow::{bail, Context, Result};
    use rand::{Rng, SeedableRng};

    /// Open episodes of the measured coach.
    pub const CASELOAD: usize = 60;
    /// Waiting referrals on the measured list.
    pub const WAITING: usize = 5_000;

    fn src() -> Source {
        Source(Some("loadgen".into()))
    }

    /// `n` new synthetic people (no NHS numbers, so they never collide with existing ones).
    async fn new_people(
        store: &Store,
        org: alongside_core::OrgId,
        n: usize,
        seed: u64,
    ) -> Result<Vec<PersonId>> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let today = store.clock().today();
        let mut ids = Vec::with_capacity(n);
        let mut batch = Vec::with_capacity(n);
        for i in 0..n {
            let mut d = crate::demo::synthetic_person(&mut rng, i, today);
            d.nhs_number = None;
            let id = PersonId::new();
            ids.push(id);
            batch.push((id, d, None));
        }
        for chunk in batch.chunks(1000) {
            store
                .insert_people_unaudited_actor(org, chunk.to_vec(), "loadgen data")
                .await?;
        }
        Ok(ids)
    }

    pub async fn prepare(
        database: &str,
        scenario: Scenario,
        username: &str,
        password: &str,
    ) -> Result<()> {
        if !matches!(scenario, Scenario::CaseloadPage | Scenario::WaitingList) {
            bail!("--prepare-database is for the caseload-page and waiting-list scenarios");
        }
        let started = std::time::Instant::now();
        let store = Store::open(database)
            .await
            .with_context(|| format!("opening {database}"))?;
        let orgs = store.organisations().await?;
        let org = orgs
            .iter()
            .find(|o| o.name == crate::demo::DEMO_ORG)
            .or(orgs.first())
            .context("no organisation: run `alongside demo --no-serve` first")?
            .id;
        let users = store.users(org).await?;
        let coordinator = users
            .iter()
            .find(|u| u.role == Role::Coordinator && u.active)
            .context("the organisation has no coordinator")?;
        let coord = Actor {
            user_id: coordinator.id,
            org_id: org,
            role: Role::Coordinator,
            person_id: None,
        };
        match scenario {
            Scenario::CaseloadPage => {
                let coach = match users.iter().find(|u| u.username == username) {
                    Some(u) if u.role == Role::HealthCoach => u.id,
                    Some(u) => bail!("{username} is a {}, not a health coach", u.role.label()),
                    None => {
                        let hash = alongside_web::auth::hash_password(password.to_string())
                            .await
                            .map_err(|e| anyhow::anyhow!("{e}"))?;
                        store
                            .create_user_by_system(
                                NewUser {
                                    org_id: org,
                                    username: username.into(),
                                    display_name: "Bench Coach".into(),
                                    role: Role::HealthCoach,
                                    person_id: None,
                                    password_hash: hash,
                                },
                                "loadgen",
                            )
                            .await?
                    }
                };
                let have = store.coach(org, coach).await?.in_use as usize;
                if have >= CASELOAD {
                    println!("The coach already has {have} people: nothing to build.");
                    return Ok(());
                }
                build_caseload(&store, org, &coord, coach, CASELOAD - have).await?;
            }
            _ => {
                let waiting = store
                    .coaching_queue(&coord, 1, 1, src())
                    .await?
                    .waiting_total as usize;
                if waiting >= WAITING {
                    println!("{waiting} referrals are waiting already: nothing to build.");
                    return Ok(());
                }
                let people = new_people(&store, org, WAITING - waiting, 5_000).await?;
                let now = store.now();
                let urgencies = [
                    Urgency::Routine,
                    Urgency::Routine,
                    Urgency::Soon,
                    Urgency::Urgent,
                ];
                let mut set = tokio::task::JoinSet::new();
                for (i, pid) in people.into_iter().enumerate() {
                    let (store, coord) = (store.clone(), coord.clone());
                    let details = ReferralDetails {
                        source: ReferralSource::Clinician,
                        referrer: None,
                        reason: "Would like help to manage day to day".into(),
                        urgency: urgencies[i % urgencies.len()],
                        modes: vec![ContactMode::Telephone],
                        times: None,
                        language: None,
                    };
                    set.spawn(async move {
                        let rid = store.create_referral(&coord, pid, details, src()).await?;
                        // Received over the last six months.
                        let back = (i as i64 * 3_111) % (180 * 86_400) * 1_000_000;
                        store.backdate_coaching(org, rid, now - back, None).await?;
                        Ok::<_, anyhow::Error>(())
                    });
                    while set.len() >= 64 {
                        set.join_next().await.context("task")???;
                    }
                }
                while let Some(r) = set.join_next().await {
                    r.context("task")??;
                }
            }
        }
        store.close().await;
        println!(
            "Built the {} data in {:.1} s.",
            scenario.name(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// `n` open episodes for the coach, each on its own weekly slot (Monday to Friday,
    /// 08:00 to 20:00): three past sessions, recorded with a review of both goals, and the
    /// next one booked.
    async fn build_caseload(
        store: &Store,
        org: alongside_core::OrgId,
        coord: &Actor,
        coach: UserId,
        n: usize,
    ) -> Result<()> {
        let me = Actor {
            user_id: coach,
            org_id: org,
            role: Role::HealthCoach,
            person_id: None,
        };
        store
            .set_coach_profile(
                coord,
                coach,
                80,
                WorkingHours::from_text("mon=08:00-20:00;tue=08:00-20:00;wed=08:00-20:00;thu=08:00-20:00;fri=08:00-20:00;sat=08:00-20:00")
                    .context("hours")?,
                src(),
            )
            .await?;
        let people = new_people(store, org, n, 60).await?;
        let now = store.now();
        let day = 86_400_000_000i64;
        let (today, _) = london_local(Timestamp(now));
        let monday =
            today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for (i, pid) in people.into_iter().enumerate() {
            let rid = store
                .create_referral(
                    coord,
                    pid,
                    ReferralDetails {
                        source: ReferralSource::Coordinator,
                        referrer: None,
                        reason: "Would like help to get more active".into(),
                        urgency: Urgency::Soon,
                        modes: vec![ContactMode::Telephone],
                        times: None,
                        language: None,
                    },
                    src(),
                )
                .await?;
            store.allocate_referral(coord, rid, coach, src()).await?;
            let eid = store.accept_referral(&me, rid, src()).await?;
            let mut goals = Vec::new();
            for (words, cat) in [
                (
                    "Walk to the shops without stopping",
                    GoalCategory::PhysicalActivity,
                ),
                ("Sleep through the night", GoalCategory::Rest),
            ] {
                goals.push(
                    store
                        .add_goal(
                            &me,
                            pid,
                            Some(eid),
                            GoalDetails {
                                own_words: words.into(),
                                category: cat,
                                what: None,
                                how_much: None,
                                when: None,
                                how_often: Some("Most days".into()),
                                importance: 8,
                                confidence: 5,
                            },
                            vec![
                                "First small step".into(),
                                "Second step".into(),
                                "Third step".into(),
                            ],
                            src(),
                        )
                        .await?,
                );
            }
            let weekday = (i / 12) as i64;
            let minutes = (8 + (i % 12) as u32) * 60;
            let booking = |date: time::Date| {
                BookingForm {
                    date: alongside_core::time::iso_date(date),
                    time: format!("{:02}:{:02}", minutes / 60, minutes % 60),
                    minutes: "60".into(),
                    mode: "telephone".into(),
                    ..Default::default()
                }
                .validate()
                .map_err(|e| anyhow::anyhow!("booking: {e}"))
            };
            for w in (1..=3).rev() {
                let b = booking(monday + time::Duration::days(weekday - 7 * w))?;
                let starts = b.starts_at;
                let sid = store
                    .book_session(&me, eid, b, Timestamp(starts.0 - day), src())
                    .await?;
                let reviews = goals
                    .iter()
                    .map(|g| ReviewInput {
                        goal_id: *g,
                        attainment: rng.gen_range(-2..=2),
                        note: None,
                    })
                    .collect();
                store
                    .record_session(
                        &me,
                        sid,
                        SessionRecord {
                            status: SessionStatus::Attended,
                            notes: Some("Talked about the next small step.".into()),
                            notes_shared: false,
                            cancel_reason: None,
                            reviews,
                        },
                        Timestamp(starts.0 + 3_600_000_000),
                        src(),
                    )
                    .await?;
            }
            let mut next = monday + time::Duration::days(weekday);
            while london_instant(next, minutes).0 <= now {
                next += time::Duration::weeks(1);
            }
            store
                .book_session(&me, eid, booking(next)?, Timestamp(now), src())
                .await?;
        }
        Ok(())
    }
}
