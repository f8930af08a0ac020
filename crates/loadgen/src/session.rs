//! One signed-in client (its own cookie jar and CSRF token) and the loop each scenario runs in
//! it until the deadline or the request limit.

use crate::forms::{
    capitalise, letters, person_form, questionnaire_form, DEMO_INSTRUMENT_WORD, PEOPLE_TO_REGISTER,
};
use crate::html::{
    csrf_token, get_page, instrument_choice, is_person_path, is_questionnaire_path, location,
    person_ids, snippet,
};
use crate::{Outcome, Shared, REQUEST_TIMEOUT};
use anyhow::{anyhow, bail, Result};
use rand::{Rng, SeedableRng};
use reqwest::{redirect, StatusCode, Url};
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(crate) struct Session {
    client: reqwest::Client,
    base: Url,
    csrf_token: String,
}

impl Session {
    pub(crate) async fn sign_in(base: &Url, username: &str, password: &str) -> Result<Session> {
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

    pub(crate) async fn register_loop(
        self,
        shared: &Shared,
        deadline: tokio::time::Instant,
    ) -> Outcome {
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
pub(crate) struct DoorTarget {
    pub(crate) group: String,
    first_date: time::Date,
}

/// Sign-ins per session date before moving to the next date (well under its 10,000 places).
pub(crate) const SIGN_INS_PER_DATE: u64 = 5_000;

impl Session {
    /// Creates a daily group with 10,000 places a night for a year from today.
    pub(crate) async fn door_target(&self, shared: &Shared) -> Result<DoorTarget> {
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

    pub(crate) async fn door_loop(
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
    pub(crate) async fn page_loop(
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

pub(crate) struct QuestionnaireTarget {
    pub(crate) people: Vec<String>,
    pub(crate) instrument: String,
}

impl Session {
    /// Reads the people listed on `/people` (registering some first when there are none) and
    /// the demonstration instrument's id from the first person's paper-entry page.
    pub(crate) async fn questionnaire_target(
        &self,
        shared: &Shared,
    ) -> Result<QuestionnaireTarget> {
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

    pub(crate) async fn questionnaire_loop(
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
