//! A person finds and books a course on a phone (375×812) in a real browser (headless
//! Chromium through ChromeDriver): sees the course they are booked on under "Your courses",
//! filters the catalogue by condition, opens a full course run, joins its waiting list, is told
//! their place in the queue, and leaves it again.
//!
//! The organisation, courses and the `person` account come from `alongside demo --no-serve`
//! (400 people, so the spring COPD run is full with three people waiting), served by
//! `alongside serve` on the same SQLite file. Needs Chromium and ChromeDriver, as
//! `browser_questionnaire.rs`. Screenshots go to
//! `$ALONGSIDE_SCREENSHOTS/courses-phone-375x812` when that variable is set.

use crate::support::webdriver::{squash, text_of};
use crate::support::webdriver::{Driver, WAIT};
use crate::support::{run_cli, Server};
use fantoccini::{Client, Locator};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const DEMO_PASSWORD: &str = "demo-password-1";
const WIDTH: u32 = alongside_testkit::PHONE.0;
const HEIGHT: u32 = alongside_testkit::PHONE.1;

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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_finds_a_course_joins_its_waiting_list_and_leaves_it_on_a_phone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = crate::support::sqlite_url(dir.path());
    let (ok, out, err) = run_cli(
        &[
            "demo",
            "--no-serve",
            "--people",
            "400",
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
        .join("courses-phone-375x812");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let profile = tempfile::tempdir().expect("profile dir");
    let mut j = Phone {
        c: driver.session(WIDTH, HEIGHT, profile.path()).await,
        base: server.url.clone(),
        shots,
        step: 0,
    };

    // Home: the courses card; "Your courses" shows the demo booking.
    j.sign_in("person", None).await;
    j.link("Your courses")
        .await
        .click()
        .await
        .expect("click Your courses");
    j.wait_for_path("your courses", |p| p == "/my/courses")
        .await;
    assert_eq!(j.h1().await, "Your courses");
    let text = j.page_text().await;
    assert!(
        text.contains("Sugar Smart: your type 2 diabetes course") && text.contains("Place booked"),
        "the demo booking should be listed: {text}"
    );
    j.shot("your-courses").await;
    j.assert_no_horizontal_scroll("your courses").await;

    // Find a COPD course.
    j.link("Find a course")
        .await
        .click()
        .await
        .expect("click Find a course");
    j.wait_for_path("the catalogue", |p| p == "/courses").await;
    assert_eq!(j.h1().await, "Courses");
    j.find("#condition option[value=copd]")
        .await
        .click()
        .await
        .expect("choose COPD");
    j.click_button("Find courses").await;
    j.wait_for_path("the filtered catalogue", |p| {
        p.starts_with("/courses?") && p.contains("condition=copd")
    })
    .await;
    let text = j.page_text().await;
    assert!(
        text.contains("Breathing Space: living well with COPD"),
        "COPD course listed: {text}"
    );
    assert!(
        !text.contains("Sugar Smart"),
        "the diabetes course is filtered out: {text}"
    );
    j.shot("catalogue-copd").await;
    j.assert_no_horizontal_scroll("catalogue").await;

    // The spring run is full: join its waiting list.
    let run = j.link("Spring, Thursday afternoons").await;
    let href = run.attr("href").await.expect("href").unwrap_or_default();
    run.click().await.expect("click the run");
    j.wait_for_path("the run page", |p| p == href).await;
    assert_eq!(j.h1().await, "Spring, Thursday afternoons");
    let text = j.page_text().await;
    assert!(
        text.contains("Full") && text.contains("3 on the waiting list"),
        "{text}"
    );
    assert!(text.contains("Thursday"), "session days shown: {text}");
    j.assert_no_horizontal_scroll("run").await;
    j.click_button("Join the waiting list").await;
    j.wait_for_path("the run after joining the list", |p| {
        p.ends_with("waiting=1")
    })
    .await;
    let text = j.page_text().await;
    assert!(
        text.contains("You are number 4 on the waiting list."),
        "{text}"
    );
    j.shot("waiting-list").await;
    j.assert_no_horizontal_scroll("run, waiting").await;

    // Leave it again.
    j.click_button("Leave the waiting list").await;
    j.wait_for_path("the run after leaving", |p| p.ends_with("withdrawn=1"))
        .await;
    let text = j.page_text().await;
    assert!(
        text.contains("You have withdrawn from this course"),
        "{text}"
    );
    assert!(text.contains("3 on the waiting list"), "{text}");
    j.find("main form button").await;
    j.shot("left-waiting-list").await;
    j.c.close().await.expect("close browser");
    drop(server);
}
