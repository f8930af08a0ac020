//! A person fills in the activation questionnaire on a phone (375×812) in a real browser
//! (headless Chromium through ChromeDriver): starts it from their home page, is told when they
//! forget to choose an answer, answers six questions, stops, signs out, signs back in, continues
//! from their record at question 7, finishes, checks their answers, sends them, sees their
//! level in plain language, and finds the measurement in their record.
//!
//! The organisation, instruments, people and the `person` account come from
//! `alongside demo --no-serve`, served by `alongside serve` on the same SQLite file.
//!
//! Needs Chromium and ChromeDriver (`ALONGSIDE_CHROMIUM`, `ALONGSIDE_CHROMEDRIVER`, by default
//! Debian's /usr/bin/chromium and /usr/bin/chromedriver). Without them the test fails: run
//! `scripts/test`, which installs them. Screenshots of every step are written to
//! `$ALONGSIDE_SCREENSHOTS/questionnaire-phone-375x812` when that variable is set (none are
//! taken otherwise).

use crate::support::webdriver::{squash, text_of};
use crate::support::webdriver::{Driver, WAIT};
use crate::support::{run_cli, Server};
use alongside_measure::{Instrument, Outcome};
use fantoccini::{Client, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Every demo account's password.
const DEMO_PASSWORD: &str = "demo-password-1";
const INSTRUMENT_TITLE: &str = "Alongside demonstration activation instrument — NOT VALIDATED";
const INSTRUMENT_JSON: &str =
    include_str!("../../../../instruments/alongside-demo-activation.json");
/// The answer to each of the 13 questions, by code (varied, so no data-quality flag is raised).
const ANSWERS: [&str; 13] = [
    "3", "4", "3", "2", "3", "na", "4", "3", "2", "3", "4", "3", "2",
];
/// Questions answered before stopping for now.
const BEFORE_BREAK: usize = 6;
const WIDTH: u32 = 375;
const HEIGHT: u32 = 812;

/// The browser, and where its screenshots go.
struct Phone {
    c: Client,
    base: String,
    shots: PathBuf,
    step: u32,
}

impl Phone {
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        if !alongside_testkit::screenshots_wanted() {
            return;
        }
        let png = self.c.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&path, png).expect("write screenshot");
    }

    async fn goto(&self, path: &str) {
        self.c
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
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

    async fn wait_for_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if ok(&path) {
                // The new page has loaded once its h1 is there.
                let _ = self
                    .c
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::Css("h1"))
                    .await;
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

    async fn is_checked(&self, id: &str) -> bool {
        self.find(&format!("#{id}"))
            .await
            .prop("checked")
            .await
            .expect("checked")
            .as_deref()
            == Some("true")
    }

    /// Clicks the label of a radio (as a person would) and checks it took effect.
    async fn tick(&self, id: &str) {
        self.find(&format!("label[for=\"{id}\"]"))
            .await
            .click()
            .await
            .expect("click label");
        assert!(
            self.is_checked(id).await,
            "clicking the label of #{id} did not tick it"
        );
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!(
            "//main//button[normalize-space()='{text}'] | //header//button[normalize-space()='{text}']"
        );
        self.xpath(&xpath, &format!("button {text:?}"))
            .await
            .click()
            .await
            .expect("click button");
    }

    /// The link in the main content whose text is exactly `text`.
    async fn link(&self, text: &str) -> fantoccini::elements::Element {
        self.xpath(
            &format!("//main//a[normalize-space()=\"{text}\"]"),
            &format!("link {text:?}"),
        )
        .await
    }

    /// At phone width, nothing may make the page scroll sideways.
    async fn assert_no_horizontal_scroll(&self, page: &str) {
        let v = self
            .c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("measure scroll width");
        let scroll = v[0].as_u64().expect("scrollWidth");
        let inner = v[1].as_u64().expect("innerWidth");
        assert_eq!(inner, u64::from(WIDTH), "viewport width on {page}");
        assert!(
            scroll <= u64::from(WIDTH),
            "{page} scrolls sideways at {WIDTH} px: scrollWidth {scroll}"
        );
    }

    async fn sign_in(&self, username: &str, display_name: Option<&str>) -> String {
        self.goto("/sign-in").await;
        assert!(self.h1().await.contains("Sign in"), "sign-in h1");
        self.assert_no_horizontal_scroll("sign-in").await;
        let user = self.find("#username").await;
        user.clear().await.expect("clear");
        user.send_keys(username).await.expect("type username");
        let pass = self.find("#password").await;
        pass.clear().await.expect("clear");
        pass.send_keys(DEMO_PASSWORD).await.expect("type password");
        self.click_button("Sign in").await;
        self.wait_for_path("the home page after signing in", |p| p == "/")
            .await;
        let h1 = self.h1().await;
        let name = h1
            .strip_prefix("Hello, ")
            .unwrap_or_else(|| panic!("home h1 does not greet the person: {h1:?}"))
            .to_string();
        if let Some(expected) = display_name {
            assert_eq!(
                name, expected,
                "greeted by another name after signing in again"
            );
        }
        assert!(
            self.text("main .caption").await.contains("Person"),
            "the home page names the role"
        );
        self.assert_no_horizontal_scroll("home").await;
        name
    }

    async fn sign_out(&self) {
        self.click_button("Sign out").await;
        self.wait_for_path("the sign-in page after signing out", |p| {
            p.starts_with("/sign-in")
        })
        .await;
        self.find("#username").await;
    }

    /// On question `n` (1-based): checks the page, ticks `code` by its label and continues,
    /// waiting for the next page.
    async fn answer(&mut self, aid: &str, n: usize, code: &str, ins: &Instrument) {
        let here = format!("/questionnaires/{aid}/questions/{n}");
        let path = self.path().await;
        assert_eq!(
            path.split('?').next(),
            Some(here.as_str()),
            "expected to be on question {n}"
        );
        assert_eq!(
            self.text("main .caption").await,
            format!("Question {n} of 13")
        );
        let item = &ins.items()[n - 1];
        assert_eq!(
            self.h1().await,
            squash(ins.localise(&item.text, "en")),
            "question {n} asks its statement"
        );
        let radios = self
            .c
            .find_all(Locator::Css("input[type=radio][name=answer]"))
            .await
            .expect("answer radios");
        assert_eq!(radios.len(), 5, "question {n} offers 4 answers and N/A");
        for id in ["answer-1", "answer-2", "answer-3", "answer-4", "answer-na"] {
            self.find(&format!("label[for=\"{id}\"]")).await;
        }
        self.assert_no_horizontal_scroll(&format!("question {n}"))
            .await;
        if n == 1 || n == BEFORE_BREAK + 1 || n == 13 {
            self.shot(&format!("question-{n}")).await;
        }
        self.tick(&format!("answer-{code}")).await;
        self.click_button("Continue").await;
        if n < 13 {
            let next = format!("/questionnaires/{aid}/questions/{}", n + 1);
            self.wait_for_path(&format!("question {}", n + 1), |p| {
                p.split('?').next() == Some(next.as_str())
            })
            .await;
        } else {
            let check = format!("/questionnaires/{aid}/check");
            self.wait_for_path("the check-your-answers page", |p| {
                p.split('?').next() == Some(check.as_str())
            })
            .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_takes_the_questionnaire_on_a_phone_stopping_half_way() {
    let ins = Instrument::from_json_str(INSTRUMENT_JSON).expect("the demo instrument");
    assert_eq!(ins.items().len(), 13);
    let Outcome::Scored(expected) = ins
        .score_answers(
            ins.items()
                .iter()
                .zip(ANSWERS)
                .map(|(i, c)| (i.link_id.as_str(), c)),
        )
        .expect("valid answers")
    else {
        panic!("the test's answers should be scored");
    };
    assert!(expected.flags.is_empty(), "answers chosen to raise no flag");
    let level = ins
        .level(expected.level.expect("a level"))
        .expect("level definition");
    let level_name = squash(ins.localise(&level.name, "en"));
    let level_text = squash(ins.localise(&level.person_text, "en"));
    let score_text = format!("{:.1}", alongside_measure::round_score(expected.score));

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
    let server = Server::start(&database).await;
    let driver = Driver::start().await;
    let shots = std::env::var_os("ALONGSIDE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("alongside-browser-screenshots"))
        .join("questionnaire-phone-375x812");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    eprintln!("screenshots: {}", shots.display());
    let profile = tempfile::tempdir().expect("profile dir");
    let mut j = Phone {
        c: driver.session(WIDTH, HEIGHT, profile.path()).await,
        base: server.url.clone(),
        shots,
        step: 0,
    };

    // Sign in; the home page offers the questionnaire.
    let name = j.sign_in("person", None).await;
    j.shot("home").await;
    let fill = j.link("Fill in a questionnaire").await;
    let href = fill.attr("href").await.expect("href").unwrap_or_default();
    let pid = href
        .strip_prefix("/people/")
        .and_then(|r| r.strip_suffix("/questionnaires/new"))
        .unwrap_or_else(|| panic!("'Fill in a questionnaire' links to {href}"))
        .to_string();
    assert!(
        uuid::Uuid::parse_str(&pid).is_ok(),
        "person id in {href} is not a UUID"
    );
    fill.click().await.expect("click Fill in a questionnaire");
    j.wait_for_path("the choose-a-questionnaire page", |p| p == href)
        .await;
    assert_eq!(j.h1().await, "Choose a questionnaire");
    j.assert_no_horizontal_scroll("choose a questionnaire")
        .await;
    let label = j
        .xpath(
            &format!("//main//label[starts-with(normalize-space(), '{INSTRUMENT_TITLE}')]"),
            "the demonstration instrument's label",
        )
        .await;
    let radio_id = label.attr("for").await.expect("for").unwrap_or_default();
    let radio = j.find(&format!("#{radio_id}")).await;
    assert_eq!(
        radio.attr("name").await.expect("name").as_deref(),
        Some("instrument")
    );
    j.tick(&radio_id).await;
    j.shot("choose").await;
    j.click_button("Start").await;
    let first = j
        .wait_for_path("question 1", |p| {
            p.starts_with("/questionnaires/") && p.ends_with("/questions/1")
        })
        .await;
    let aid = first
        .trim_start_matches("/questionnaires/")
        .trim_end_matches("/questions/1")
        .to_string();
    assert!(
        uuid::Uuid::parse_str(&aid).is_ok(),
        "assessment id in {first} is not a UUID"
    );
    assert!(
        j.page_text()
            .await
            .contains("There are no right or wrong answers"),
        "question 1 shows the instrument's instructions"
    );

    // Continue without choosing: an error summary linking to the answers, nothing saved.
    j.click_button("Continue").await;
    j.c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(".nhsuk-error-summary"))
        .await
        .unwrap_or_else(|_| panic!("no error summary after continuing without an answer"));
    assert_eq!(
        j.path().await,
        format!("/questionnaires/{aid}/questions/1"),
        "the question is shown again"
    );
    assert!(
        j.c.title().await.expect("title").starts_with("Error:"),
        "the title starts with Error:"
    );
    let links =
        j.c.find_all(Locator::Css(".nhsuk-error-summary a"))
            .await
            .expect("summary links");
    assert_eq!(links.len(), 1, "one error");
    assert_eq!(
        squash(&links[0].text().await.expect("text")),
        "Select an answer"
    );
    assert_eq!(
        links[0].attr("href").await.expect("href").as_deref(),
        Some("#answer")
    );
    j.find("#answer").await;
    assert!(
        j.text("#answer-error").await.contains("Select an answer"),
        "the message is next to the answers too"
    );
    for code in ["1", "2", "3", "4", "na"] {
        assert!(
            !j.is_checked(&format!("answer-{code}")).await,
            "nothing is ticked after the error"
        );
    }
    j.shot("question-1-error").await;
    j.assert_no_horizontal_scroll("question 1 with an error")
        .await;

    // Six answers, then stop for now.
    for (i, code) in ANSWERS.iter().enumerate().take(BEFORE_BREAK) {
        j.answer(&aid, i + 1, code, &ins).await;
    }
    j.link("Stop for now and come back later")
        .await
        .click()
        .await
        .expect("click Stop for now");
    j.wait_for_path("the home page after stopping", |p| p == "/")
        .await;
    j.sign_out().await;

    // Back again later: the record says how far they got, and continuing lands on question 7.
    j.sign_in("person", Some(&name)).await;
    j.link("Your record")
        .await
        .click()
        .await
        .expect("open record");
    let record = format!("/people/{pid}");
    j.wait_for_path("the person's record", |p| p == record)
        .await;
    let text = j.page_text().await;
    assert!(
        text.contains(&format!("has {BEFORE_BREAK} of 13 answers")),
        "the record does not say 'has {BEFORE_BREAK} of 13 answers': {text}"
    );
    j.shot("record-in-progress").await;
    j.assert_no_horizontal_scroll("record with a questionnaire in progress")
        .await;
    let cont = j.link("Continue the questionnaire").await;
    assert_eq!(
        cont.attr("href").await.expect("href").as_deref(),
        Some(format!("/questionnaires/{aid}").as_str())
    );
    cont.click()
        .await
        .expect("click Continue the questionnaire");
    let seventh = format!("/questionnaires/{aid}/questions/{}", BEFORE_BREAK + 1);
    j.wait_for_path("question 7 after continuing", |p| p == seventh)
        .await;
    for code in ["1", "2", "3", "4", "na"] {
        assert!(
            !j.is_checked(&format!("answer-{code}")).await,
            "question 7 was not answered yet, but answer-{code} is ticked"
        );
    }
    // The answers before the break were kept: "Back" shows question 6 as answered.
    j.link("Back").await.click().await.expect("click Back");
    let sixth = format!("/questionnaires/{aid}/questions/{BEFORE_BREAK}");
    j.wait_for_path("question 6 after Back", |p| {
        p.split('?').next() == Some(sixth.as_str())
    })
    .await;
    assert!(
        j.is_checked(&format!("answer-{}", ANSWERS[BEFORE_BREAK - 1]))
            .await,
        "question 6's saved answer is not ticked"
    );
    j.click_button("Continue").await;
    j.wait_for_path("question 7 again", |p| {
        p.split('?').next() == Some(seventh.as_str())
    })
    .await;
    for (i, code) in ANSWERS.iter().enumerate().skip(BEFORE_BREAK) {
        j.answer(&aid, i + 1, code, &ins).await;
    }

    // Check your answers: every answer, each with a Change link back to its question.
    assert_eq!(j.h1().await, "Check your answers");
    let rows =
        j.c.find_all(Locator::Css(".summary-list-row"))
            .await
            .expect("summary rows");
    assert_eq!(rows.len(), 13, "one row per question");
    for (i, row) in rows.iter().enumerate() {
        let item = &ins.items()[i];
        let key = squash(
            &row.find(Locator::Css("dt"))
                .await
                .expect("dt")
                .text()
                .await
                .expect("text"),
        );
        assert_eq!(key, squash(ins.localise(&item.text, "en")), "row {}", i + 1);
        let value = squash(
            &row.find(Locator::Css("dd"))
                .await
                .expect("dd")
                .text()
                .await
                .expect("text"),
        );
        let option = item
            .options
            .iter()
            .find(|o| o.code == ANSWERS[i])
            .expect("option");
        let label = squash(ins.localise(&option.label, "en"));
        assert!(
            value.starts_with(&label) && value.contains("Change"),
            "row {}: {value:?} should show {label:?} and a Change link",
            i + 1
        );
        let change = row
            .find(Locator::XPath(
                ".//a[starts-with(normalize-space(), 'Change')]",
            ))
            .await
            .expect("Change link");
        let href = change.attr("href").await.expect("href").unwrap_or_default();
        assert_eq!(
            href.split('?').next(),
            Some(format!("/questionnaires/{aid}/questions/{}", i + 1).as_str()),
            "row {}'s Change link",
            i + 1
        );
    }
    assert!(
        !j.page_text().await.contains("Not answered"),
        "every question was answered"
    );
    j.shot("check-answers").await;
    j.assert_no_horizontal_scroll("check your answers").await;

    // Send: the result in plain language.
    j.click_button("Send my answers").await;
    let result = format!("/questionnaires/{aid}");
    j.wait_for_path("the result page", |p| p == result).await;
    assert_eq!(j.h1().await, "Thank you for your answers");
    assert_eq!(j.text("main .card h2").await, level_name, "level name");
    assert_eq!(
        j.text("main .card p.lede").await,
        level_text,
        "the level's plain-language text"
    );
    let text = j.page_text().await;
    assert!(
        !text.contains("Measure (logits)"),
        "the person is not shown the staff details: {text}"
    );
    j.shot("result").await;
    j.assert_no_horizontal_scroll("result").await;

    // Back to the record: the new measurement is in the table, nothing in progress any more.
    j.link("Back to your record")
        .await
        .click()
        .await
        .expect("click Back to your record");
    j.wait_for_path("the record after sending", |p| p == record)
        .await;
    let text = j.page_text().await;
    assert!(
        !text.contains("of 13 answers") && !text.contains("Continue the questionnaire"),
        "the record still shows a questionnaire in progress: {text}"
    );
    let row = j
        .xpath(
            &format!("//main//table//tr[td//a[@href='/questionnaires/{aid}']]"),
            "the new measurement's row in the table",
        )
        .await;
    let row_text = squash(&row.text().await.expect("row text"));
    let today = time::OffsetDateTime::now_utc().date();
    let dates = [
        alongside_core::time::display_date(today),
        alongside_core::time::display_date(today.previous_day().expect("yesterday")),
    ];
    assert!(
        dates.iter().any(|d| row_text.contains(d.as_str())),
        "the measurement's row has no date of today ({dates:?}): {row_text}"
    );
    assert!(
        row_text.contains(&score_text) && row_text.contains(&level_name),
        "the measurement's row should show score {score_text} and {level_name}: {row_text}"
    );
    j.c.execute(
        "document.querySelector('main table a[href=\"/questionnaires/' + arguments[0] + '\"]').scrollIntoView();",
        vec![json!(aid)],
    )
    .await
    .expect("scroll to the row");
    j.shot("record-with-measurement").await;
    j.assert_no_horizontal_scroll("record with the new measurement")
        .await;
    j.c.close().await.expect("close browser");
    drop(server);
}
