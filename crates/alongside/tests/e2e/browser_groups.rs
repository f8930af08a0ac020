//! Peer support in a real browser (headless Chromium through ChromeDriver) at phone size
//! (375×812): a volunteer signs people in at the door of a session until it is full, and a
//! person finds the evening peer-support café, books a place, sees it in "Coming up", and
//! cancels.
//!
//! The organisation, the café and the accounts come from `alongside demo --no-serve`; the
//! small group for the door is created by the peer-support lead through the same form staff
//! use. Needs Chromium and ChromeDriver (see tests/support/webdriver.rs): without them the test
//! fails, it never skips.

use crate::support::webdriver::squash;
use crate::support::webdriver::{Driver, WAIT};
use crate::support::{run_cli, Server};
use fantoccini::{Client, Locator};
use std::time::{Duration, Instant};

const DEMO_PASSWORD: &str = "demo-password-1";
const WIDTH: u32 = alongside_testkit::PHONE.0;
const HEIGHT: u32 = alongside_testkit::PHONE.1;

struct Phone {
    c: Client,
    base: String,
}

impl Phone {
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

    async fn main_text(&self) -> String {
        match self.c.find(Locator::Css("main")).await {
            Ok(m) => squash(&m.text().await.unwrap_or_default()),
            Err(_) => String::new(),
        }
    }

    async fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if ok(&path) {
                let _ = self
                    .c
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::Css("h1"))
                    .await;
                return path;
            }
            assert!(
                started.elapsed() < WAIT,
                "expected {what}, still at {path}: {}",
                self.main_text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no element {css} on {} ({e}): {}",
                self.path().await,
                self.main_text().await
            ),
        }
    }

    /// The h1's text (retried while a page is still being replaced).
    async fn h1(&self) -> String {
        let started = Instant::now();
        loop {
            if let Ok(e) = self.c.find(Locator::Css("h1")).await {
                if let Ok(t) = e.text().await {
                    return squash(&t);
                }
            }
            assert!(started.elapsed() < WAIT, "no h1 on {}", self.path().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn type_into(&self, id: &str, text: &str) {
        let e = self.find(&format!("#{id}")).await;
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    async fn click_label(&self, id: &str) {
        self.find(&format!("label[for=\"{id}\"]"))
            .await
            .click()
            .await
            .expect("click label");
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!("//main//button[normalize-space()='{text}'] | //header//button[normalize-space()='{text}']");
        match self.c.find(Locator::XPath(&xpath)).await {
            Ok(b) => b.click().await.expect("click button"),
            Err(e) => panic!(
                "no button {text:?} on {} ({e}): {}",
                self.path().await,
                self.main_text().await
            ),
        }
    }

    async fn click_link(&self, text: &str) {
        let xpath = format!("//main//a[normalize-space()=\"{text}\"] | //nav[contains(@class,'header-nav--narrow')]//a[normalize-space()=\"{text}\"]");
        match self.c.find(Locator::XPath(&xpath)).await {
            Ok(a) => {
                let href = a.attr("href").await.ok().flatten().unwrap_or_default();
                self.goto(&href).await;
            }
            Err(e) => panic!(
                "no link {text:?} on {} ({e}): {}",
                self.path().await,
                self.main_text().await
            ),
        }
    }

    async fn assert_no_horizontal_scroll(&self, page: &str) {
        let v = self
            .c
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("measure");
        let (scroll, inner) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
        assert_eq!(inner, u64::from(WIDTH), "viewport width on {page}");
        assert!(
            scroll <= u64::from(WIDTH),
            "{page} scrolls sideways at {WIDTH} px: {scroll}"
        );
    }

    async fn sign_in(&self, username: &str) {
        self.goto("/sign-in").await;
        self.type_into("username", username).await;
        self.type_into("password", DEMO_PASSWORD).await;
        self.click_button("Sign in").await;
        self.wait_for("the home page", |p| p == "/").await;
    }

    async fn sign_out(&self) {
        self.click_button("Sign out").await;
        self.wait_for("the sign-in page", |p| p.starts_with("/sign-in"))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn door_sign_in_until_full_and_a_person_books_and_cancels_on_a_phone() {
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
    let profile = tempfile::tempdir().expect("profile dir");
    let p = Phone {
        c: driver.session(WIDTH, HEIGHT, profile.path()).await,
        base: server.url.clone(),
    };

    // The peer-support lead creates a small group meeting every morning, 4 places.
    p.sign_in("peerlead").await;
    p.goto("/groups/new").await;
    assert_eq!(p.h1().await, "Create a group");
    p.assert_no_horizontal_scroll("create a group").await;
    p.type_into("name", "Phone door test group").await;
    p.type_into("venue", "Community hall").await;
    p.type_into("who_may_join", "Anyone").await;
    // A morning group: the demo volunteer is on the café's rota every evening, and nobody can
    // be on two rotas at overlapping times.
    p.type_into("start_time", "10:00").await;
    p.type_into("end_time", "13:00").await;
    p.click_label("repeat-daily").await;
    p.type_into("count", "30").await;
    p.type_into("capacity", "4").await;
    p.click_button("Save group").await;
    let group = p
        .wait_for("the new group's page", |x| {
            x.starts_with("/groups/") && !x.ends_with("/new")
        })
        .await;
    assert_eq!(p.h1().await, "Phone door test group");
    // Volunteers may only use the door of sessions they are on the rota for: the lead puts
    // the volunteer on today's rota.
    let first_session = p
        .find("main a[href*='/sessions/']")
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("a session link");
    p.goto(&format!("{first_session}/rota")).await;
    assert_eq!(p.h1().await, "Rota: Phone door test group");
    p.assert_no_horizontal_scroll("rota").await;
    p.c.find(Locator::XPath(
        "//main//label[starts-with(normalize-space(), 'Val Volunteer')]",
    ))
    .await
    .expect("the volunteer on the rota form")
    .click()
    .await
    .expect("choose the volunteer");
    p.click_label("duty-volunteer").await;
    p.click_button("Add to the rota").await;
    p.wait_for("the rota after adding", |x| x.contains("added=1"))
        .await;
    assert!(p.main_text().await.contains("Val Volunteer"));
    p.sign_out().await;

    // The volunteer opens the door page from the group page and signs people in until full.
    p.sign_in("volunteer").await;
    p.goto(&group).await;
    p.click_link("Sign people in").await;
    let door = p.wait_for("the door page", |x| x.ends_with("/door")).await;
    assert_eq!(p.h1().await, "0 of 4 signed in");
    p.assert_no_horizontal_scroll("door").await;
    for (n, name) in ["Ada", "Ben", "Cleo", "Dev"].iter().enumerate() {
        p.type_into("first_name", name).await;
        p.click_button("Sign in").await;
        p.wait_for("the door after signing in", |x| x.contains("admitted="))
            .await;
        assert_eq!(p.h1().await, format!("{} of 4 signed in", n + 1));
        assert!(p
            .main_text()
            .await
            .contains(&format!("{name} is signed in")));
    }
    assert!(
        p.main_text().await.contains("Full — every place is taken"),
        "{}",
        p.main_text().await
    );
    p.assert_no_horizontal_scroll("door when full").await;
    // One more is refused, plainly.
    p.type_into("first_name", "Eve").await;
    p.click_button("Sign in").await;
    let started = Instant::now();
    while !p.main_text().await.contains("The session is full") {
        assert!(
            started.elapsed() < WAIT,
            "no 'full' message: {}",
            p.main_text().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(p.h1().await, "4 of 4 signed in");
    assert!(
        !p.main_text().await.contains("Eve"),
        "the refused walk-in was not signed in"
    );
    let _ = door;
    p.sign_out().await;

    // A person finds the café, books a place, sees it coming up, and cancels.
    p.sign_in("person").await;
    p.click_link("Find a group").await;
    p.wait_for("the group finder", |x| x.starts_with("/groups"))
        .await;
    p.find("#condition option[value=\"depression\"]")
        .await
        .click()
        .await
        .expect("choose condition");
    p.find("#time option[value=\"evening\"]")
        .await
        .click()
        .await
        .expect("choose time");
    p.click_button("Find groups").await;
    p.wait_for("the filtered list", |x| x.contains("condition=depression"))
        .await;
    p.assert_no_horizontal_scroll("find a group").await;
    p.click_link("Evening peer-support café").await;
    p.wait_for("the café", |x| x.starts_with("/groups/")).await;
    assert_eq!(p.h1().await, "Evening peer-support café");
    let first_session =
        p.c.find(Locator::XPath(
            "//main//h2[normalize-space()='Next sessions']/following-sibling::ul[1]//a[1]",
        ))
        .await
        .expect("a next session link");
    let href = first_session
        .attr("href")
        .await
        .ok()
        .flatten()
        .expect("session href");
    p.goto(&href).await;
    p.click_button("Book a place").await;
    p.wait_for("the booked session", |x| x.contains("booked=1"))
        .await;
    assert!(p.main_text().await.contains("Your place is booked"));
    assert!(p
        .main_text()
        .await
        .contains("You have a place at this session."));
    p.click_link("Coming up").await;
    p.wait_for("coming up", |x| x == "/my/upcoming").await;
    let coming = p.main_text().await;
    assert!(
        coming.contains("Evening peer-support café") && coming.contains("booked"),
        "{coming}"
    );
    p.assert_no_horizontal_scroll("coming up").await;
    p.goto(&href).await;
    p.click_button("Cancel my booking").await;
    p.wait_for("the cancelled booking", |x| x.contains("cancelled=1"))
        .await;
    assert!(p.main_text().await.contains("Your booking is cancelled"));
    p.find("form[action$=\"/booking\"] button").await;
    assert!(p.main_text().await.contains("Book a place"));
    drop(server);
}
