//! The main journey in a real browser (headless Chromium through ChromeDriver), at a phone size
//! (375×812) and a desktop size (1280×900): sign in, register a person making mistakes first,
//! correct them, find the person by searching, open their record and sign out.
//!
//! Needs Chromium and ChromeDriver (`ALONGSIDE_CHROMIUM`, `ALONGSIDE_CHROMEDRIVER`, by default
//! Debian's /usr/bin/chromium and /usr/bin/chromedriver). Without them the test fails: run
//! `scripts/test`, which installs them. Screenshots of every step are written to
//! `$ALONGSIDE_SCREENSHOTS` (screenshots are taken only when that variable is set).

use crate::support::webdriver::text_of;
use crate::support::webdriver::{Driver, WAIT};
use crate::support::{add_user, Server, PASSWORD};
use fantoccini::{Client, Locator};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// One run of the journey: a browser session at one size, with screenshots.
struct Journey {
    c: Client,
    base: String,
    label: &'static str,
    width: u32,
    shots: PathBuf,
    step: u32,
}

impl Journey {
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        if !alongside_testkit::screenshots_wanted() {
            return;
        }
        let png = self.c.screenshot().await.expect("screenshot");
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&path, png).expect("write screenshot");
    }

    async fn path(&self) -> String {
        let url = self.c.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    async fn wait_for_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            if started.elapsed() > WAIT {
                let source = self.c.source().await.unwrap_or_default();
                panic!(
                    "[{}] expected {what}, still at {path}. Page:\n{}",
                    self.label,
                    text_of(&source)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.c.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => {
                let path = self.path().await;
                let source = self.c.source().await.unwrap_or_default();
                panic!(
                    "[{}] no element {css} on {path} ({e}). Page:\n{}",
                    self.label,
                    text_of(&source)
                )
            }
        }
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("value")
            .unwrap_or_default()
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.expect("clear field");
        e.send_keys(text).await.expect("type into field");
    }

    /// Clicks the label of a radio or checkbox (as a person would) and checks it took effect.
    async fn tick(&self, id: &str) {
        self.find(&format!("label[for=\"{id}\"]"))
            .await
            .click()
            .await
            .expect("click label");
        let checked = self.find(&format!("#{id}")).await.prop("checked").await;
        assert_eq!(
            checked.expect("checked").as_deref(),
            Some("true"),
            "[{}] clicking the label of #{id} did not tick it",
            self.label
        );
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!("//main//button[normalize-space()='{text}'] | //header//button[normalize-space()='{text}']");
        let button = self
            .c
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("[{}] no button {text:?} ({e})", self.label));
        button.click().await.expect("click button");
    }

    async fn h1(&self) -> String {
        self.text("h1").await
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
        assert_eq!(inner, u64::from(self.width), "viewport width");
        assert!(
            scroll <= u64::from(self.width),
            "[{}] {page} scrolls sideways: scrollWidth {scroll} > {}",
            self.label,
            self.width
        );
    }
}

struct Person {
    given: &'static str,
    family: &'static str,
    /// A valid NHS number, and the same with a wrong check digit, as typed.
    nhs: &'static str,
    bad_nhs: &'static str,
}

async fn journey(
    driver: &Driver,
    server: &Server,
    label: &'static str,
    width: u32,
    height: u32,
    who: Person,
    shots: &Path,
) {
    let profile = tempfile::tempdir().expect("profile dir");
    let shots = shots.join(label);
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let mut j = Journey {
        c: driver.session(width, height, profile.path()).await,
        base: server.url.clone(),
        label,
        width,
        shots,
        step: 0,
    };
    let phone = width < 400;
    let full_name = format!("{} {}", who.given, who.family);

    // Sign in.
    j.c.goto(&format!("{}/sign-in", j.base))
        .await
        .expect("open sign-in");
    assert!(j.h1().await.contains("Sign in"), "[{label}] sign-in h1");
    j.shot("sign-in").await;
    if phone {
        j.assert_no_horizontal_scroll("sign-in").await;
    }
    j.fill("#username", "casey").await;
    j.fill("#password", PASSWORD).await;
    j.click_button("Sign in").await;
    j.wait_for_path("the home page after signing in", |p| p == "/")
        .await;
    let home = j.c.source().await.expect("home source");
    assert!(
        home.contains("Care coordinator"),
        "[{label}] home page does not name the role: {}",
        text_of(&home)
    );
    assert!(
        j.h1().await.contains("Casey Coordinator"),
        "[{label}] home h1: {}",
        j.h1().await
    );
    j.shot("home").await;
    if phone {
        j.assert_no_horizontal_scroll("home").await;
    }

    // People → Register a person.
    j.c.goto(&format!("{}/people", j.base))
        .await
        .expect("open people");
    j.shot("people-empty-or-list").await;
    let register =
        j.c.find(Locator::XPath(
            "//main//a[normalize-space()='Register a person']",
        ))
        .await
        .unwrap_or_else(|e| panic!("[{label}] /people has no 'Register a person' link: {e}"));
    assert_eq!(
        register.attr("href").await.expect("href").as_deref(),
        Some("/people/new")
    );
    register.click().await.expect("click Register a person");
    j.wait_for_path("the register form", |p| p == "/people/new")
        .await;
    assert_eq!(j.h1().await, "Register a person");
    if phone {
        j.assert_no_horizontal_scroll("register form").await;
    }

    // First attempt, with a wrong NHS number check digit and a date of birth in the future.
    let next_year = (time::OffsetDateTime::now_utc().year() + 1).to_string();
    j.fill("#given_name", who.given).await;
    j.fill("#family_name", who.family).await;
    j.fill("#dob_day", "7").await;
    j.fill("#dob_month", "3").await;
    j.fill("#dob_year", &next_year).await;
    j.tick("sex-female").await;
    j.fill("#nhs_number", who.bad_nhs).await;
    j.tick("conditions-copd").await;
    j.tick("conditions-type2_diabetes").await;
    j.fill(
        "#what_matters",
        "Walking to the allotment and back without stopping.",
    )
    .await;
    j.fill("#postcode", "LS1 4AP").await;
    j.fill("#phone", "07700 900982").await;
    j.tick("consent_phone").await;
    j.tick("consent_sms").await;
    j.find("#preferred_language")
        .await
        .select_by_value("cy")
        .await
        .expect("choose Welsh");
    j.shot("register-filled").await;
    // Inputs are sized to what they hold (NHS design system width classes): a day box is a few
    // characters wide, a name box about 20, never the whole page width on a desktop.
    for (css, max_px) in [
        ("#dob_day", 120.0),
        ("#dob_month", 120.0),
        ("#dob_year", 160.0),
        ("#nhs_number", 300.0),
        ("#given_name", 520.0),
        ("#family_name", 520.0),
    ] {
        let (_, _, w, _) = j.find(css).await.rectangle().await.expect("element size");
        assert!(
            w <= max_px,
            "[{label}] {css} is {w:.0} px wide (at most {max_px} expected): its width class is not applied"
        );
    }
    j.click_button("Register person").await;

    // The form comes back with an error summary linking to each wrong field, values kept.
    let summary =
        j.c.wait()
            .at_most(WAIT)
            .for_element(Locator::Css(".nhsuk-error-summary"))
            .await;
    assert!(
        summary.is_ok(),
        "[{label}] no error summary after a wrong NHS number and future date of birth: {}",
        text_of(&j.c.source().await.unwrap_or_default())
    );
    assert_eq!(
        j.path().await,
        "/people",
        "[{label}] errors are shown by re-rendering the form"
    );
    assert!(
        j.c.title().await.expect("title").starts_with("Error:"),
        "[{label}] title should start with Error:"
    );
    let links =
        j.c.find_all(Locator::Css(".nhsuk-error-summary a"))
            .await
            .expect("summary links");
    let mut hrefs = Vec::new();
    for a in &links {
        hrefs.push(a.attr("href").await.expect("href").unwrap_or_default());
    }
    assert!(
        hrefs.iter().any(|h| h == "#nhs_number"),
        "[{label}] summary links: {hrefs:?}"
    );
    assert!(
        hrefs.iter().any(|h| h.starts_with("#dob_")),
        "[{label}] summary has no date of birth error: {hrefs:?}"
    );
    assert_eq!(
        hrefs.len(),
        2,
        "[{label}] only the two mistakes are errors: {hrefs:?}"
    );
    // Each link points at a field that exists on the page.
    for h in &hrefs {
        j.find(h).await;
    }
    let nhs_error = j.text("#nhs_number-error").await;
    assert!(
        nhs_error.contains("NHS number"),
        "[{label}] NHS number message: {nhs_error}"
    );
    let summary_text = j.text(".nhsuk-error-summary").await;
    assert!(
        summary_text.contains(nhs_error.trim_start_matches("Error:").trim()),
        "[{label}] the summary repeats the field message: {summary_text}"
    );
    assert_eq!(
        j.value("#given_name").await,
        who.given,
        "[{label}] typed first name kept"
    );
    assert_eq!(
        j.value("#family_name").await,
        who.family,
        "[{label}] typed last name kept"
    );
    assert_eq!(
        j.value("#nhs_number").await,
        who.bad_nhs,
        "[{label}] typed NHS number kept"
    );
    assert_eq!(j.value("#dob_year").await, next_year);
    assert_eq!(
        j.value("#preferred_language").await,
        "cy",
        "[{label}] language kept"
    );
    for id in [
        "sex-female",
        "conditions-copd",
        "conditions-type2_diabetes",
        "consent_phone",
        "consent_sms",
    ] {
        let checked = j
            .find(&format!("#{id}"))
            .await
            .prop("checked")
            .await
            .expect("checked");
        assert_eq!(
            checked.as_deref(),
            Some("true"),
            "[{label}] #{id} stays ticked"
        );
    }
    j.shot("register-errors").await;
    if phone {
        j.assert_no_horizontal_scroll("register form with errors")
            .await;
    }

    // Correct the mistakes and submit.
    j.fill("#nhs_number", who.nhs).await;
    j.fill("#dob_year", "1958").await;
    j.click_button("Register person").await;
    let record_path = j
        .wait_for_path("the new person's page", |p| {
            p.starts_with("/people/") && !p.starts_with("/people/new")
        })
        .await;
    let id = record_path
        .trim_start_matches("/people/")
        .split('?')
        .next()
        .expect("id")
        .to_string();
    assert_eq!(j.h1().await, full_name, "[{label}] record page h1");
    let page = j.c.source().await.expect("record source");
    assert!(
        page.contains("Person registered"),
        "[{label}] no success banner: {}",
        text_of(&page)
    );
    let page_text = text_of(&page);
    for expected in [
        "7 March 1958",
        "COPD",
        "Type 2 diabetes",
        "Welsh",
        "allotment",
    ] {
        assert!(
            page_text.contains(expected),
            "[{label}] record page lacks {expected:?}: {page_text}"
        );
    }
    assert!(
        page_text.contains(who.nhs),
        "[{label}] record page lacks NHS number {}: {page_text}",
        who.nhs
    );
    j.shot("registered").await;
    if phone {
        j.assert_no_horizontal_scroll("person record").await;
    }

    // Find them again by searching on /people, and open the record from the results.
    j.c.goto(&format!("{}/people", j.base))
        .await
        .expect("open people");
    j.fill("#q", who.family).await;
    j.click_button("Search").await;
    j.wait_for_path("search results", |p| p.starts_with("/people?"))
        .await;
    let table = j.find("table").await;
    let link = table
        .find(Locator::XPath(&format!(
            ".//a[normalize-space()=\"{full_name}\"]"
        )))
        .await
        .unwrap_or_else(|e| {
            panic!(
                "[{label}] search for {:?} did not list {full_name:?} ({e})",
                who.family
            )
        });
    assert_eq!(
        link.attr("href").await.expect("href").as_deref(),
        Some(format!("/people/{id}").as_str())
    );
    j.shot("search-results").await;
    if phone {
        j.assert_no_horizontal_scroll("search results").await;
    }
    link.click().await.expect("open from results");
    j.wait_for_path("the record opened from the results", |p| {
        p == format!("/people/{id}")
    })
    .await;
    assert_eq!(j.h1().await, full_name);
    let page = j.c.source().await.expect("record source");
    assert!(
        !page.contains("Person registered"),
        "[{label}] banner shown again on a plain visit"
    );

    // Sign out: back to the sign-in page, and the session is gone.
    j.click_button("Sign out").await;
    j.wait_for_path("the sign-in page after signing out", |p| {
        p.starts_with("/sign-in")
    })
    .await;
    j.find("#username").await;
    assert!(j.h1().await.contains("Sign in"));
    j.shot("signed-out").await;
    j.c.goto(&format!("{}/people/{id}", j.base))
        .await
        .expect("open record");
    j.wait_for_path("the sign-in page for a signed-out visitor", |p| {
        p.starts_with("/sign-in")
    })
    .await;
    let page = j.c.source().await.expect("source");
    assert!(
        !page.contains(who.family),
        "[{label}] a signed-out visitor sees the person's name"
    );
    j.c.close().await.expect("close browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_find_and_sign_out_at_phone_and_desktop_sizes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = crate::support::sqlite_url(dir.path());
    add_user(&database, "casey", "coordinator", "Casey Coordinator");
    let server = Server::start(&database).await;
    let driver = Driver::start().await;
    let shots = std::env::var_os("ALONGSIDE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("alongside-browser-screenshots"));
    eprintln!("screenshots: {}", shots.display());

    journey(
        &driver,
        &server,
        "phone-375x812",
        375,
        812,
        Person {
            given: "Siân",
            family: "Pritchard",
            nhs: "999 000 0018",
            bad_nhs: "999 000 0019",
        },
        &shots,
    )
    .await;
    journey(
        &driver,
        &server,
        "desktop-1280x900",
        1280,
        900,
        Person {
            given: "Margaret",
            family: "O'Neill-Okafor",
            nhs: "943 476 5919",
            bad_nhs: "943 476 5918",
        },
        &shots,
    )
    .await;
}
