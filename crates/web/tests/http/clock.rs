//! One clock: moving the application's clock in a test moves every feature with it — people's
//! ages and record stamps, the outcomes dashboard's default window, the peer-support report's
//! default range, coaching's "is this session in the future?" and the re-measurement lists.

use crate::support::*;
use alongside_core::time::Timestamp;
use alongside_store::Backend;
use alongside_web::{Clock, Config};
use reqwest::StatusCode;

async fn moving_the_clock_moves_every_feature(backend: Backend) {
    // 08:00 UTC on 10 March 2031: years after the real date, so anything still on the system
    // clock shows.
    let clock = Clock::default();
    let when = alongside_core::time::parse_iso_date("2031-03-10").expect("date");
    clock.set(Timestamp::from_datetime(when.midnight().assume_utc()).plus_seconds(8 * 3600));
    let app = spawn_app_with(
        backend,
        Config {
            clock: clock.clone(),
            ..Config::default()
        },
    )
    .await;
    let w = world(&app).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;

    // People: registered today by the clock; the record page gives the age on that day.
    let made = coord
        .post_form_from(
            "/people/new",
            "/people",
            &person_fields("Tamsin", "Clockwell"),
        )
        .await;
    made.assert_status(StatusCode::SEE_OTHER, "register");
    let path = made
        .location()
        .expect("redirect to the record")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = coord.get(&path).await;
    page.assert_status(StatusCode::OK, "record");
    // Born 7 March 1958: 73 on 10 March 2031.
    assert!(
        page.main_text().contains("(73 years)"),
        "age by the clock: {}",
        page.main_text()
    );
    let id: alongside_core::PersonId = path.rsplit('/').next().unwrap().parse().expect("id");
    let admin = w.account(alongside_core::Role::Administrator);
    let record = app.record(admin, id).await;
    let stamped = Timestamp(record.created_at).date();
    assert_eq!(
        stamped.year(),
        2031,
        "the record is stamped by the clock: {stamped}"
    );

    // The outcomes dashboard's default window: the last full 12 months before the clock's day.
    let analyst = app.sign_in("analyst", PASSWORD).await;
    let dash = analyst.get("/outcomes").await;
    dash.assert_status(StatusCode::OK, "outcomes");
    let text = dash.main_text();
    assert!(
        text.contains("2030-03-01") && text.contains("2031-02-28"),
        "the dashboard's default window by the clock: {text}"
    );

    // The peer-support report's default range ends on the clock's day.
    let report = coord.get("/reports/peer-support").await;
    report.assert_status(StatusCode::OK, "peer-support report");
    assert_eq!(
        ["to_day", "to_month", "to_year"].map(|p| report.input_values(p).concat()),
        ["10", "3", "2031"]
    );

    // Moving the clock on moves them all again.
    clock.advance_days(365);
    let page = coord.get(&path).await;
    assert!(
        page.main_text().contains("(74 years)"),
        "{}",
        page.main_text()
    );
    let report = coord.get("/reports/peer-support").await;
    assert_eq!(
        ["to_day", "to_month", "to_year"].map(|p| report.input_values(p).concat()),
        ["9", "3", "2032"]
    );
}

alongside_store::both_backends!(moving_the_clock_moves_every_feature);
