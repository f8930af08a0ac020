//! Health coaching, the whole journey in a real browser (headless Chromium through
//! ChromeDriver): a person on a phone (375×812) asks for a coach; on a desktop (1280×900) the
//! coordinator allocates the referral, the coach accepts it, sets a goal in the person's own
//! words with small steps, and books six sessions — the seventh is refused, the reason shown
//! in the error summary, linked to its field. The server is then restarted on the same
//! database seven weeks later (`ALONGSIDE_TEST_NOW`, read by debug builds only), the coach
//! records each session with a review of the goal and ends the episode, and the person, on
//! the phone again, sees their goal with its outcome and the episode ended.
//!
//! Every page is checked to carry no script (the service works without JavaScript: links and
//! forms only), error summaries link to fields that exist, and the person's pages never
//! scroll sideways at phone width. Screenshots go to
//! `$ALONGSIDE_SCREENSHOTS/coaching` when that variable is set (none are taken otherwise).
//!
//! Needs Chromium and ChromeDriver, like the other browser tests: run `scripts/test`.

use crate::support::webdriver::{squash, text_of};
use crate::support::webdriver::{Driver, WAIT};
use crate::support::{run_cli, Server};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const DEMO_PASSWORD: &str = "demo-password-1";
const DEMO_ORG: &str = "Riverside Primary Care Network (demo)";
const GIVEN: &str = "Nadia";
const FAMILY: &str = "Brightwater";
const GOAL: &str = "Walk to my daughter's house without stopping";
const SESSIONS: usize = 6;

/// One browser window and where its screenshots go.
struct Tab {
    c: Client,
    base: String,
    width: u32,
    phone: bool,
    shots: PathBuf,
    name: &'static str,
    step: u32,
}

impl Tab {
    async fn shot(&mut self, what: &str) {
        self.step += 1;
        if !alongside_testkit::screenshots_wanted() {
            return;
        }
        let png = self.c.screenshot().await.expect("screenshot");
        let path = self
            .shots
            .join(format!("{}-{:02}-{what}.png", self.name, self.step));
        std::fs::write(&path, png).expect("write screenshot");
    }

    async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.loaded(path).await;
    }

    async fn path(&self) -> String {
        let url = self.c.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn page_text(&self) -> String {
        text_of(&self.c.source().await.unwrap_or_default())
    }

    /// Checks what every page must be: no script at all, and (on the phone) no sideways
    /// scrolling.
    async fn loaded(&self, what: &str) {
        let _ = self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("h1"))
            .await;
        let source = self.c.source().await.expect("page source");
        assert!(
            !source.to_ascii_lowercase().contains("<script"),
            "{what} carries a script: the service must work without JavaScript"
        );
        if self.phone {
            let v = self
                .c
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth];",
                    vec![],
                )
                .await
                .expect("measure scroll width");
            let scroll = v[0].as_u64().expect("scrollWidth");
            assert_eq!(
                v[1].as_u64(),
                Some(u64::from(self.width)),
                "viewport on {what}"
            );
            assert!(
                scroll <= u64::from(self.width),
                "{what} scrolls sideways at {} px: scrollWidth {scroll}",
                self.width
            );
        }
    }

    async fn wait_for_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if ok(&path) {
                self.loaded(what).await;
                return path;
            }
            if started.elapsed() > WAIT {
                panic!(
                    "expected {what}, still at {path}. Page:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no element {css} on {} ({e}). Page:\n{}",
                self.path().await,
                self.page_text().await
            ),
        }
    }

    async fn xpath(&self, xpath: &str, what: &str) -> fantoccini::elements::Element {
        match self.c.find(Locator::XPath(xpath)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no {what} on {} ({e}). Page:\n{}",
                self.path().await,
                self.page_text().await
            ),
        }
    }

    async fn text(&self, css: &str) -> String {
        squash(&self.find(css).await.text().await.expect("element text"))
    }

    async fn h1(&self) -> String {
        self.text("h1").await
    }

    async fn main_text(&self) -> String {
        self.text("main").await
    }

    /// Clicks the label of a radio or checkbox (as a person would) and checks it took effect.
    async fn tick(&self, id: &str) {
        self.find(&format!("label[for=\"{id}\"]"))
            .await
            .click()
            .await
            .expect("click label");
        let checked = self
            .find(&format!("#{id}"))
            .await
            .prop("checked")
            .await
            .expect("checked");
        assert_eq!(
            checked.as_deref(),
            Some("true"),
            "clicking the label of #{id} did not tick it"
        );
    }

    async fn type_into(&self, id: &str, text: &str) {
        let e = self.find(&format!("#{id}")).await;
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    /// Sets a date or time input's value (their typed form depends on the browser's locale).
    async fn set_value(&self, id: &str, value: &str) {
        let e = self.find(&format!("#{id}")).await;
        self.c
            .execute(
                "arguments[0].value = arguments[1];",
                vec![serde_json::to_value(&e).expect("element"), json!(value)],
            )
            .await
            .expect("set value");
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!(
            "//main//button[normalize-space()=\"{text}\"] | //header//button[normalize-space()=\"{text}\"]"
        );
        self.xpath(&xpath, &format!("button {text:?}"))
            .await
            .click()
            .await
            .expect("click button");
    }

    async fn click_link(&self, text: &str) {
        self.xpath(
            &format!("//main//a[normalize-space()=\"{text}\"]"),
            &format!("link {text:?}"),
        )
        .await
        .click()
        .await
        .expect("click link");
    }

    /// Follows a link of the primary navigation: on a phone, through the "Menu" disclosure
    /// (which opens without JavaScript).
    async fn nav(&self, text: &str) {
        let nav = if self.phone {
            self.find("nav.header-nav--narrow summary")
                .await
                .click()
                .await
                .expect("open the menu");
            "header-nav--narrow"
        } else {
            "header-nav--wide"
        };
        self.xpath(
            &format!("//nav[contains(@class, '{nav}')]//a[normalize-space()=\"{text}\"]"),
            &format!("menu link {text:?}"),
        )
        .await
        .click()
        .await
        .expect("click menu link");
    }

    /// The error summary's links as (href, text); checks each links to an element on the page.
    async fn error_summary(&self) -> Vec<(String, String)> {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(".error-summary"))
            .await
            .unwrap_or_else(|_| panic!("no error summary on {}", self.name));
        assert!(
            self.c.title().await.expect("title").starts_with("Error:"),
            "the title of a page with errors starts with Error:"
        );
        let mut out = Vec::new();
        for a in self
            .c
            .find_all(Locator::Css(".error-summary a"))
            .await
            .expect("summary links")
        {
            let href = a.attr("href").await.expect("href").unwrap_or_default();
            let text = squash(&a.text().await.expect("text"));
            let id = href.trim_start_matches('#');
            assert!(
                self.c.find(Locator::Id(id)).await.is_ok(),
                "the error summary links to {href}, which is not on the page"
            );
            out.push((href, text));
        }
        out
    }

    async fn sign_in(&self, username: &str) {
        self.goto("/sign-in").await;
        self.type_into("username", username).await;
        self.type_into("password", DEMO_PASSWORD).await;
        self.click_button("Sign in").await;
        self.wait_for_path("the home page", |p| p == "/").await;
    }

    async fn sign_out(&self) {
        self.click_button("Sign out").await;
        self.wait_for_path("the sign-in page", |p| p.starts_with("/sign-in"))
            .await;
    }
}

/// The id after `prefix` in `path` (`/coaching/episodes/ID?…` → `ID`).
fn id_after(path: &str, prefix: &str) -> String {
    let rest = path
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{path} does not start with {prefix}"));
    let id: String = rest
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "no id in {path}");
    id
}

/// Registers the person over HTTP as the demo coordinator and gives them an account.
async fn register_person(base: &str, database: &str) -> String {
    let client = crate::support::http_client();
    let page = crate::support::get_ok(&client, &format!("{base}/sign-in")).await;
    let token = crate::support::csrf_token(&page).expect("sign-in token");
    let resp = client
        .post(format!("{base}/sign-in"))
        .form(&[
            ("username", "coordinator"),
            ("password", DEMO_PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(
        resp.status(),
        reqwest::StatusCode::SEE_OTHER,
        "coordinator sign-in"
    );
    let form = crate::support::get_ok(&client, &format!("{base}/people/new")).await;
    let csrf = crate::support::csrf_token(&form).expect("register token");
    let (_, _, mut fields) = crate::support::person_form(4242, &csrf);
    for (k, v) in fields.iter_mut() {
        match *k {
            "given_name" => *v = GIVEN.into(),
            "family_name" => *v = FAMILY.into(),
            _ => {}
        }
    }
    let resp = client
        .post(format!("{base}/people"))
        .form(&fields)
        .send()
        .await
        .expect("register");
    let loc = crate::support::location(&resp).unwrap_or_default();
    assert_eq!(
        resp.status(),
        reqwest::StatusCode::SEE_OTHER,
        "registering {GIVEN} {FAMILY}: {}",
        resp.text().await.unwrap_or_default()
    );
    let pid = id_after(&loc, "/people/");
    let (ok, out, err) = run_cli(
        &[
            "user",
            "add",
            "nadia",
            "--role",
            "person",
            "--name",
            &format!("{GIVEN} {FAMILY}"),
            "--organisation",
            DEMO_ORG,
            "--person-id",
            &pid,
            "--database",
            database,
        ],
        &[("ALONGSIDE_PASSWORD", DEMO_PASSWORD)],
    );
    assert!(ok, "user add nadia failed.\nstdout: {out}\nstderr: {err}");
    pid
}

/// Monday 07:00 UTC at least a day from now: the journey's "today".
fn journey_start() -> time::OffsetDateTime {
    let mut d = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
    while d.weekday() != time::Weekday::Monday {
        d += time::Duration::days(1);
    }
    d.with_hms(7, 0, 0).expect("time").assume_utc()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coaching_from_self_referral_to_discharge_in_the_browser() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = crate::support::sqlite_url(dir.path());
    let (ok, out, err) = run_cli(
        &[
            "demo",
            "--no-serve",
            "--people",
            "20",
            "--database",
            &database,
        ],
        &[],
    );
    assert!(
        ok,
        "alongside demo --no-serve failed.\nstdout: {out}\nstderr: {err}"
    );
    let t0 = journey_start();
    let server = Server::start_with_env(&database, &[("ALONGSIDE_TEST_NOW", &rfc3339(t0))]).await;
    let pid = register_person(&server.url, &database).await;

    let driver = Driver::start().await;
    let shots = std::env::var_os("ALONGSIDE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("alongside-browser-screenshots"))
        .join("coaching");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    eprintln!("screenshots: {}", shots.display());
    let phone_profile = tempfile::tempdir().expect("profile");
    let desk_profile = tempfile::tempdir().expect("profile");
    let mut phone = Tab {
        c: driver.session(375, 812, phone_profile.path()).await,
        base: server.url.clone(),
        width: 375,
        phone: true,
        shots: shots.clone(),
        name: "person-375",
        step: 0,
    };
    let mut desk = Tab {
        c: driver.session(1280, 900, desk_profile.path()).await,
        base: server.url.clone(),
        width: 1280,
        phone: false,
        shots,
        name: "staff-1280",
        step: 0,
    };

    // ---- The person asks for a coach, on their phone. --------------------------------------
    phone.sign_in("nadia").await;
    phone.nav("Your coaching").await;
    let own = format!("/people/{pid}/coaching");
    phone
        .wait_for_path("the person's coaching page", |p| p == own)
        .await;
    assert_eq!(phone.h1().await, "Your coaching");
    phone.shot("no-coach-yet").await;
    phone.click_link("Ask for a health coach").await;
    phone
        .wait_for_path("the self-referral form", |p| p == "/coaching/refer-myself")
        .await;
    assert_eq!(phone.h1().await, "Ask for a health coach");
    phone.click_button("Send").await;
    let errors = phone.error_summary().await;
    assert_eq!(
        errors,
        vec![(
            "#reason".to_string(),
            "Enter what you would like help with".to_string()
        )],
        "an empty request names the field"
    );
    phone.shot("self-referral-error").await;
    phone
        .type_into(
            "reason",
            "I get breathless and have stopped going out. I would like to visit my daughter again.",
        )
        .await;
    phone.tick("modes-telephone").await;
    phone.type_into("times", "Weekday afternoons").await;
    phone.click_button("Send").await;
    let referral = phone
        .wait_for_path("the request", |p| p.starts_with("/coaching/referrals/"))
        .await;
    let rid = id_after(&referral, "/coaching/referrals/");
    assert_eq!(phone.h1().await, "Your request for a health coach");
    assert!(phone.main_text().await.contains("Request sent"));
    assert!(phone.main_text().await.contains("Waiting"));
    phone.shot("request-sent").await;
    phone.sign_out().await;

    // ---- The coordinator allocates it, on a desktop. ----------------------------------------
    desk.sign_in("coordinator").await;
    desk.nav("Coaching referrals").await;
    desk.wait_for_path("the coaching queue", |p| p == "/coaching/queue")
        .await;
    assert_eq!(desk.h1().await, "Coaching referrals");
    assert!(
        desk.main_text().await.contains("Kofi Coach"),
        "coaches' capacity"
    );
    desk.shot("queue").await;
    // The waiting list is paged; the new request is found by its link.
    let mut page = 1;
    loop {
        if desk
            .c
            .find(Locator::Css(&format!(
                "a[href=\"/coaching/referrals/{rid}\"]"
            )))
            .await
            .is_ok()
        {
            break;
        }
        page += 1;
        assert!(page < 10, "the request is not on the waiting list");
        desk.goto(&format!("/coaching/queue?page={page}")).await;
    }
    desk.find(&format!("a[href=\"/coaching/referrals/{rid}\"]"))
        .await
        .click()
        .await
        .expect("open the referral");
    desk.wait_for_path("the referral", |p| p.starts_with("/coaching/referrals/"))
        .await;
    assert_eq!(desk.h1().await, format!("Referral for {GIVEN} {FAMILY}"));
    desk.click_button("Allocate").await;
    let errors = desk.error_summary().await;
    assert_eq!(
        errors,
        vec![("#coach".to_string(), "Select a coach".to_string())]
    );
    let kofi = desk
        .xpath(
            "//main//label[starts-with(normalize-space(), 'Kofi Coach')]",
            "Kofi Coach's radio",
        )
        .await
        .attr("for")
        .await
        .expect("for")
        .expect("label for");
    desk.tick(&kofi).await;
    desk.shot("allocate").await;
    desk.click_button("Allocate").await;
    desk.wait_for_path("the queue after allocating", |p| {
        p == "/coaching/queue?allocated=1"
    })
    .await;
    assert!(desk
        .main_text()
        .await
        .contains(&format!("{GIVEN} {FAMILY} – Kofi Coach")));
    desk.sign_out().await;

    // ---- The coach accepts, sets a goal with the person and books six sessions. ------------
    desk.sign_in("coach").await;
    desk.goto("/coaching/caseload").await;
    assert_eq!(desk.h1().await, "Your coaching caseload");
    desk.click_link(&format!("{GIVEN} {FAMILY}")).await;
    desk.wait_for_path("the offered referral", |p| {
        p.starts_with("/coaching/referrals/")
    })
    .await;
    desk.click_button("Accept and open an episode").await;
    let episode = desk
        .wait_for_path("the new episode", |p| p.starts_with("/coaching/episodes/"))
        .await;
    let eid = id_after(&episode, "/coaching/episodes/");
    assert_eq!(desk.h1().await, format!("Coaching: {GIVEN} {FAMILY}"));
    assert!(desk.main_text().await.contains("0 of 6"));
    desk.click_link("Add a goal").await;
    desk.wait_for_path("the goal form", |p| p.contains("/goals/new"))
        .await;
    desk.click_button("Save goal").await;
    let errors = desk.error_summary().await;
    for field in ["#own_words", "#category", "#importance", "#confidence"] {
        assert!(
            errors.iter().any(|(h, _)| h == field),
            "the empty goal form should name {field}: {errors:?}"
        );
    }
    desk.type_into("own_words", GOAL).await;
    desk.tick("category-physical_activity").await;
    desk.type_into("how_often", "Three times a week").await;
    desk.type_into("importance", "9").await;
    desk.type_into("confidence", "5").await;
    desk.type_into(
        "steps",
        "Walk to the post box and back\nWalk to the bus stop",
    )
    .await;
    desk.shot("goal").await;
    desk.click_button("Save goal").await;
    let goal = desk
        .wait_for_path("the goal", |p| p.starts_with("/goals/"))
        .await;
    let gid = id_after(&goal, "/goals/");
    assert_eq!(desk.h1().await, format!("\u{201c}{GOAL}\u{201d}"));
    assert!(desk.main_text().await.contains("Walk to the bus stop"));

    // Tuesdays at 14:00 (UK time), from the journey's first week on.
    let tuesday = t0.date() + time::Duration::days(1);
    for k in 0..=SESSIONS {
        desk.goto(&format!("/coaching/episodes/{eid}/book")).await;
        assert_eq!(
            desk.h1().await,
            format!("Book a session with {GIVEN} {FAMILY}")
        );
        let date = tuesday + time::Duration::weeks(k as i64);
        desk.type_into("date_day", &date.day().to_string()).await;
        desk.type_into("date_month", &u8::from(date.month()).to_string())
            .await;
        desk.type_into("date_year", &date.year().to_string()).await;
        desk.set_value("time", "14:00").await;
        desk.tick("mode-telephone").await;
        desk.click_button("Book session").await;
        if k < SESSIONS {
            desk.wait_for_path(&format!("session {} booked", k + 1), |p| {
                p == format!("/coaching/episodes/{eid}?booked=1")
            })
            .await;
            assert!(desk.main_text().await.contains(&format!("{} of 6", k + 1)));
        } else {
            // The seventh: refused, the message in the error summary, linked to its field.
            let errors = desk.error_summary().await;
            assert_eq!(
                errors,
                vec![(
                    "#extra_reason".to_string(),
                    "This episode has used 6 of 6 sessions. A care coordinator must record a reason to add another".to_string()
                )]
            );
            assert!(desk
                .text("#extra_reason-error")
                .await
                .contains("A care coordinator must record a reason"));
            desk.shot("seventh-refused").await;
        }
    }
    desk.goto(&format!("/coaching/episodes/{eid}")).await;
    assert!(
        desk.main_text().await.contains("6 of 6"),
        "still six sessions"
    );
    let sessions: Vec<String> = {
        let mut v = Vec::new();
        for a in desk
            .c
            .find_all(Locator::Css("main a[href^=\"/coaching/sessions/\"]"))
            .await
            .expect("session links")
        {
            v.push(a.attr("href").await.expect("href").unwrap_or_default());
        }
        v
    };
    assert_eq!(sessions.len(), SESSIONS, "six sessions listed");
    desk.shot("six-booked").await;

    desk.sign_out().await;

    // ---- Seven weeks later (the server restarted on the same database). -------------------
    drop(server);
    let later = t0 + time::Duration::weeks(7);
    let server =
        Server::start_with_env(&database, &[("ALONGSIDE_TEST_NOW", &rfc3339(later))]).await;
    phone.base = server.url.clone();
    desk.base = server.url.clone();
    desk.sign_in("coach").await;
    for (k, s) in sessions.iter().enumerate() {
        desk.goto(s).await;
        assert!(desk.h1().await.starts_with("Session on "), "session page");
        if k == 0 {
            desk.click_button("Save").await;
            let errors = desk.error_summary().await;
            assert_eq!(
                errors,
                vec![(
                    "#status".to_string(),
                    "Select what happened at the session".to_string()
                )]
            );
        }
        desk.tick("status-attended").await;
        desk.type_into(
            "notes",
            &format!(
                "Session {}: talked about pacing and the next small step.",
                k + 1
            ),
        )
        .await;
        if k == SESSIONS - 1 {
            desk.tick("notes_shared").await;
        }
        let review = desk.find(&format!("#review-{gid}")).await;
        let attainment = ["-1", "-1", "0", "0", "1", "2"][k];
        review
            .select_by_value(attainment)
            .await
            .expect("choose progress");
        if k == 0 {
            desk.shot("record").await;
        }
        desk.click_button("Save").await;
        desk.wait_for_path("the episode after recording", |p| {
            p == format!("/coaching/episodes/{eid}?recorded=1")
        })
        .await;
    }
    let text = desk.main_text().await;
    assert_eq!(
        text.matches("Attended").count(),
        SESSIONS,
        "every session shows as attended: {text}"
    );
    desk.goto(&format!("/goals/{gid}")).await;
    let text = desk.main_text().await;
    assert!(
        text.contains("Much more than expected"),
        "the last review shows on the goal: {text}"
    );
    desk.goto(&format!("/coaching/episodes/{eid}")).await;
    desk.click_link("End the episode").await;
    desk.wait_for_path("the discharge form", |p| p.ends_with("/discharge"))
        .await;
    assert_eq!(
        desk.h1().await,
        format!("End coaching with {GIVEN} {FAMILY}")
    );
    desk.click_button("End the episode").await;
    let errors = desk.error_summary().await;
    assert!(
        errors.iter().any(|(h, _)| h == "#summary")
            && errors.iter().any(|(h, _)| h == &format!("#outcome-{gid}")),
        "the summary and the goal's outcome are asked for: {errors:?}"
    );
    desk.type_into(
        "summary",
        "Nadia now walks to her daughter's house twice a week and knows how to pace herself.",
    )
    .await;
    desk.tick(&format!("outcome-{gid}-met")).await;
    desk.type_into("onward", "Tuesday walking group").await;
    desk.shot("discharge").await;
    desk.click_button("End the episode").await;
    desk.wait_for_path("the ended episode", |p| {
        p == format!("/coaching/episodes/{eid}?discharged=1")
    })
    .await;
    let text = desk.main_text().await;
    assert!(text.contains("Episode ended") && text.contains("Ended"));
    desk.shot("ended").await;
    desk.sign_out().await;

    // ---- The person sees their goal, its outcome and the episode ended. --------------------
    phone.sign_in("nadia").await;
    phone.nav("Your coaching").await;
    phone
        .wait_for_path("the person's coaching page", |p| p == own)
        .await;
    let text = phone.main_text().await;
    assert!(
        text.contains(&format!("\u{201c}{GOAL}\u{201d}")) && text.contains("Met"),
        "the goal and its outcome: {text}"
    );
    assert!(
        text.contains("ended"),
        "the episode is shown as ended: {text}"
    );
    assert!(text.contains("No sessions booked."), "nothing left booked");
    phone.shot("goals-and-outcome").await;
    phone
        .find(&format!("main a[href=\"/coaching/episodes/{eid}\"]"))
        .await
        .click()
        .await
        .expect("open the episode");
    phone
        .wait_for_path("the person's episode", |p| {
            p.starts_with("/coaching/episodes/")
        })
        .await;
    assert_eq!(phone.h1().await, "Your coaching with Kofi Coach");
    let text = phone.main_text().await;
    assert!(text.contains("Ended") && text.contains("Discharge summary"));
    assert!(text.contains("twice a week"), "the discharge summary shows");
    phone.shot("episode-ended").await;
    phone.goto(&sessions[SESSIONS - 1]).await;
    let text = phone.main_text().await;
    assert!(
        text.contains("Notes your coach shared") && text.contains("Session 6"),
        "the shared note shows: {text}"
    );
    phone.goto(&sessions[0]).await;
    assert!(
        !phone.main_text().await.contains("Session 1:"),
        "a note that was not shared stays with the team"
    );
    phone.goto(&format!("/goals/{gid}")).await;
    let text = phone.main_text().await;
    assert!(text.contains("Your goal") && text.contains("Outcome") && text.contains("Met"));
    phone.shot("goal").await;
    phone.c.close().await.expect("close phone");
    desk.c.close().await.expect("close desktop");
}
