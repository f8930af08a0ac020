//! Bad input on every form — register person, edit person, sign in, change password, add user,
//! edit user: missing, malformed, oversized, hostile and repeated values, missing or wrong CSRF
//! tokens and invalid UTF-8. Each answer must say clearly what is wrong (error summary text and
//! a link to the field), write nothing, never be a server error, and never echo markup raw.

use crate::support::*;
use alongside_core::Role;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;

/// Form fields as submitted.
type Fields = Vec<(String, String)>;
/// Expected `(field, message)` pairs of an error summary.
type Errors<'a> = Vec<(&'a str, &'a str)>;
/// Form fields given as string slices.
type Pairs<'a> = Vec<(&'a str, &'a str)>;

const SCRIPT: &str = "<script>alert(1)</script>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const SQL: &str = "'; DROP TABLE people;--";

fn next_year() -> String {
    (time::OffsetDateTime::now_utc().year() + 1).to_string()
}

fn long(n: usize) -> String {
    "a".repeat(n)
}

/// Asserts nothing raw from a hostile submission comes back, and no server error.
fn safe(p: &Page, ctx: &str) {
    p.assert_not_5xx(ctx);
    assert!(
        !p.body.contains(SCRIPT),
        "{ctx}: the page echoes a script tag unescaped"
    );
}

/// More than the 256 KB limit: refused before any handler runs.
fn assert_too_large(p: &Page, ctx: &str) {
    p.assert_status(StatusCode::PAYLOAD_TOO_LARGE, ctx);
}

struct Registration<'a> {
    app: &'a TestApp,
    w: &'a World,
    b: &'a Browser,
}

impl Registration<'_> {
    async fn counts(&self) -> (i64, usize) {
        (
            self.app.count_people(self.w.org_a).await,
            self.app
                .count_audit(self.w.org_a, "person.create", None)
                .await,
        )
    }

    /// Submits the registration form and expects `status` with these errors and no write.
    async fn rejected(
        &self,
        ctx: &str,
        fields: &[(String, String)],
        status: StatusCode,
        errors: &[(&str, &str)],
    ) -> Page {
        let before = self.counts().await;
        let p = self
            .b
            .post_form_from("/people/new", "/people", fields)
            .await;
        safe(&p, ctx);
        p.assert_status(status, ctx);
        for (field, message) in errors {
            p.assert_error(field, message, ctx);
        }
        assert_eq!(
            self.counts().await,
            before,
            "{ctx}: a rejected registration wrote a person or a person.create entry"
        );
        p
    }

    /// Submits the registration form and expects it to be saved; returns the record page.
    async fn accepted(&self, ctx: &str, fields: &[(String, String)]) -> Page {
        let before = self.counts().await;
        let p = self
            .b
            .post_form_from("/people/new", "/people", fields)
            .await;
        safe(&p, ctx);
        p.assert_status(StatusCode::SEE_OTHER, ctx);
        let after = self.counts().await;
        assert_eq!(after.0, before.0 + 1, "{ctx}: person not written");
        let record = self.b.get(p.location().expect("location")).await;
        record.assert_status(StatusCode::OK, ctx);
        safe(&record, ctx);
        record
    }
}

async fn register_person_rejects_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let r = Registration {
        app: &app,
        w: &w,
        b: &b,
    };
    let valid = person_fields("Ines", "Validova");
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    r.rejected(
        "nothing filled in",
        &[],
        unprocessable,
        &[
            ("given_name", "Enter first name"),
            ("family_name", "Enter last name"),
            ("dob_day", "Enter date of birth"),
            ("sex", "Select the person's sex"),
        ],
    )
    .await;
    r.rejected(
        "blank names (spaces only)",
        &with(&valid, &[("given_name", "   "), ("family_name", "\t")]),
        unprocessable,
        &[
            ("given_name", "Enter first name"),
            ("family_name", "Enter last name"),
        ],
    )
    .await;
    r.rejected(
        "101-character first name",
        &with(&valid, &[("given_name", &long(101))]),
        unprocessable,
        &[("given_name", "First name must be 100 characters or fewer")],
    )
    .await;
    r.rejected(
        "101-character last name (multi-byte)",
        &with(&valid, &[("family_name", &"ł".repeat(101))]),
        unprocessable,
        &[("family_name", "Last name must be 100 characters or fewer")],
    )
    .await;
    r.rejected(
        "100 KB of what matters",
        &with(&valid, &[("what_matters", &"x".repeat(100 * 1024))]),
        unprocessable,
        &[(
            "what_matters",
            "What matters to the person must be 2000 characters or fewer",
        )],
    )
    .await;
    let p = r
        .rejected(
            "script tag as a first name",
            &with(&valid, &[("given_name", SCRIPT)]),
            unprocessable,
            &[(
                "given_name",
                "First name must only include letters, spaces, hyphens and apostrophes",
            )],
        )
        .await;
    assert!(
        p.body.contains(SCRIPT_ESCAPED),
        "the rejected value should be shown back escaped"
    );
    assert_eq!(p.input_values("given_name"), vec![SCRIPT.to_string()]);
    r.rejected(
        "digits in a name",
        &with(&valid, &[("family_name", "Smith2")]),
        unprocessable,
        &[(
            "family_name",
            "Last name must only include letters, spaces, hyphens and apostrophes",
        )],
    )
    .await;
    r.rejected(
        "NHS number with a wrong check digit (943 476 5918)",
        &with(&valid, &[("nhs_number", "943 476 5918")]),
        unprocessable,
        &[(
            "nhs_number",
            "Enter a valid NHS number: the check digit does not match",
        )],
    )
    .await;
    r.rejected(
        "NHS number too short",
        &with(&valid, &[("nhs_number", "943 476 591")]),
        unprocessable,
        &[("nhs_number", "NHS number must be 10 digits")],
    )
    .await;
    r.rejected(
        "NHS number with letters",
        &with(&valid, &[("nhs_number", "943 476 591X")]),
        unprocessable,
        &[(
            "nhs_number",
            "NHS number must contain only digits and spaces",
        )],
    )
    .await;
    r.rejected(
        "date of birth in the future",
        &with(
            &valid,
            &[
                ("dob_day", "1"),
                ("dob_month", "1"),
                ("dob_year", &next_year()),
            ],
        ),
        unprocessable,
        &[("dob_day", "Date of birth must be today or in the past")],
    )
    .await;
    r.rejected(
        "30 February",
        &with(
            &valid,
            &[("dob_day", "30"), ("dob_month", "2"), ("dob_year", "1980")],
        ),
        unprocessable,
        &[("dob_day", "Date of birth must be a real date")],
    )
    .await;
    r.rejected(
        "month 13",
        &with(&valid, &[("dob_month", "13")]),
        unprocessable,
        &[(
            "dob_month",
            "Date of birth must be a real date: month must be from 1 to 12",
        )],
    )
    .await;
    r.rejected(
        "two-digit year",
        &with(&valid, &[("dob_year", "58")]),
        unprocessable,
        &[("dob_year", "Year must include 4 numbers")],
    )
    .await;
    r.rejected(
        "words for a day",
        &with(&valid, &[("dob_day", "seventh")]),
        unprocessable,
        &[(
            "dob_day",
            "Date of birth must be a real date, like 27 3 1958",
        )],
    )
    .await;
    r.rejected(
        "born 200 years ago",
        &with(&valid, &[("dob_year", "1825")]),
        unprocessable,
        &[(
            "dob_year",
            "Date of birth must be within the last 125 years",
        )],
    )
    .await;
    r.rejected(
        "unknown sex",
        &with(&valid, &[("sex", "robot")]),
        unprocessable,
        &[("sex", "Select the person's sex")],
    )
    .await;
    r.rejected(
        "unknown condition",
        &with(&valid, &[("conditions", "lycanthropy")]),
        unprocessable,
        &[("conditions", "Select conditions from the list")],
    )
    .await;
    r.rejected(
        "malformed postcode",
        &with(&valid, &[("postcode", "NOT A POSTCODE")]),
        unprocessable,
        &[("postcode", "Enter a real UK postcode, like LS1 4AP")],
    )
    .await;
    r.rejected(
        "malformed email",
        &with(&valid, &[("email", "no-at-sign.example.com")]),
        unprocessable,
        &[(
            "email",
            "Enter an email address in the correct format, like name@example.com",
        )],
    )
    .await;
    r.rejected(
        "malformed phone",
        &with(&valid, &[("phone", "call me maybe")]),
        unprocessable,
        &[(
            "phone",
            "Enter a UK telephone number, like 01632 960 001 or 07700 900 982",
        )],
    )
    .await;
    r.rejected(
        "consent to email with no email address",
        &with(&valid, &[("consent_email", "yes")]),
        unprocessable,
        &[(
            "email",
            "Enter an email address, or untick consent to contact by email",
        )],
    )
    .await;
    r.rejected(
        "deprivation decile 11",
        &with(&valid, &[("deprivation_decile", "11")]),
        unprocessable,
        &[(
            "deprivation_decile",
            "Deprivation decile must be a whole number from 1 to 10",
        )],
    )
    .await;
    r.rejected(
        "control character in free text",
        &with(&valid, &[("what_matters", "bell \u{7} here")]),
        unprocessable,
        &[(
            "what_matters",
            "What matters to the person must not contain control characters",
        )],
    )
    .await;
    r.rejected(
        "language that is not a code",
        &with(&valid, &[("preferred_language", SCRIPT)]),
        unprocessable,
        &[("preferred_language", "Select a language from the list")],
    )
    .await;

    // Malformed bodies: stray separators, keys without values, broken percent escapes.
    let before = r.counts().await;
    let token = b.csrf_token("/people/new").await.expect("token");
    let p = b
        .post_raw(
            "/people",
            format!("&&=&csrf_token={token}&given_name&%zz=%&family_name=%E2%82&dob_day==7")
                .into_bytes(),
        )
        .await;
    safe(&p, "malformed body");
    p.assert_status(unprocessable, "malformed body");
    p.assert_error(
        "dob_day",
        "Date of birth must be a real date, like 27 3 1958",
        "malformed body",
    );
    p.assert_error("given_name", "Enter first name", "malformed body");
    assert_eq!(r.counts().await, before, "malformed body wrote something");

    // More than the 256 KB body limit.
    let p = b
        .post_form_from(
            "/people/new",
            "/people",
            &with(&valid, &[("what_matters", &"x".repeat(300 * 1024))]),
        )
        .await;
    assert_too_large(&p, "300 KB registration");
    assert_eq!(r.counts().await, before, "oversized body wrote something");

    // CSRF: missing, wrong, and another session's token.
    let p = b.post_pairs("/people", &valid).await;
    assert_csrf_refused(&p, "registration without a CSRF token");
    let p = b
        .post_pairs("/people", &with(&valid, &[("csrf_token", "forged-token")]))
        .await;
    assert_csrf_refused(&p, "registration with a wrong CSRF token");
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let coach_token = coach.csrf_token("/people/new").await.expect("coach token");
    let p = b
        .post_pairs("/people", &with(&valid, &[("csrf_token", &coach_token)]))
        .await;
    assert_csrf_refused(&p, "registration with another session's CSRF token");
    let p = b
        .post_pairs("/people", &with(&valid, &[("csrf_token", "")]))
        .await;
    assert_csrf_refused(&p, "registration with an empty CSRF token");
    assert_eq!(r.counts().await, before, "a CSRF refusal wrote something");
    app.assert_audit_verifies().await;
}

fn assert_csrf_refused(p: &Page, ctx: &str) {
    p.assert_not_5xx(ctx);
    p.assert_status(StatusCode::FORBIDDEN, ctx);
    assert_eq!(p.h1(), "The form has expired", "{ctx}");
    assert!(
        p.main_text().contains("Nothing was saved"),
        "{ctx}: should say nothing was saved"
    );
}

async fn register_person_accepts_unicode_and_escapes_markup(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let r = Registration {
        app: &app,
        w: &w,
        b: &b,
    };
    let record = r
        .accepted("Unicode name", &person_fields("Zoë", "Łukasz-O'Brien"))
        .await;
    assert_eq!(record.h1(), "Zoë Łukasz-O'Brien");
    let list = b.get("/people?q=%C5%81ukasz").await;
    assert!(
        list.main_text().contains("Zoë Łukasz-O'Brien"),
        "search by a Unicode name finds the person"
    );

    let record = r
        .accepted(
            "100-character first name",
            &person_fields(&long(100), "Boundary"),
        )
        .await;
    assert_eq!(record.h1(), format!("{} Boundary", long(100)));

    // Free text may hold anything printable: it is stored as typed and shown escaped.
    let record = r
        .accepted(
            "markup and SQL in free text",
            &with(
                &person_fields("Tess", "Freetext"),
                &[
                    ("what_matters", &format!("{SCRIPT} {SQL}")),
                    ("communication_needs", "<b>large print</b> & \"easy read\""),
                ],
            ),
        )
        .await;
    assert!(record.body.contains(SCRIPT_ESCAPED), "script shown escaped");
    assert!(
        record.main_text().contains(&format!("{SCRIPT} {SQL}")),
        "free text shown as typed"
    );
    assert!(!record.body.contains("<b>large print</b>"));
    assert!(record
        .main_text()
        .contains("<b>large print</b> & \"easy read\""));
    // The people table is still there and counts every registration.
    assert_eq!(app.count_people(w.org_a).await, 3 + 3);
    app.assert_audit_verifies().await;
}

/// The policy: every bad input gets a clear message — a body over the 256 KB limit too gets an
/// error page that says what happened, not a bare framework string.
async fn oversized_body_gets_a_clear_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let _w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let p = b
        .post_form_from(
            "/people/new",
            "/people",
            &with(
                &person_fields("Ines", "Toolarge"),
                &[("what_matters", &"x".repeat(300 * 1024))],
            ),
        )
        .await;
    assert_too_large(&p, "300 KB registration");
    assert!(
        p.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "413 answered as {:?}: {:?}",
        p.header("content-type"),
        p.body
    );
    assert!(!p.h1().is_empty(), "413 page has no heading: {:?}", p.body);
    assert!(
        p.main_text().to_lowercase().contains("too large")
            || p.main_text().to_lowercase().contains("too long"),
        "413 page should say the form was too large: {:?}",
        p.main_text()
    );
}

/// The policy: hostile values in names are refused with a clear message and nothing written.
async fn hostile_names_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let r = Registration {
        app: &app,
        w: &w,
        b: &b,
    };
    r.rejected(
        "SQL in a last name",
        &with(&person_fields("Robert", "Tables"), &[("family_name", SQL)]),
        StatusCode::UNPROCESSABLE_ENTITY,
        &[(
            "family_name",
            "Last name must only include letters, spaces, hyphens and apostrophes",
        )],
    )
    .await;
}

/// The policy: a form with a single-valued field given twice is ambiguous; it is refused with a
/// clear message and nothing is written (rather than silently keeping the first value).
async fn repeated_fields_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let r = Registration {
        app: &app,
        w: &w,
        b: &b,
    };
    let mut fields = person_fields("Ann", "Twice");
    fields.push(("given_name".into(), "Bob".into()));
    let before = r.counts().await;
    let p = b.post_form_from("/people/new", "/people", &fields).await;
    safe(&p, "repeated first name");
    assert_eq!(
        r.counts().await,
        before,
        "a form with two first names (Ann, Bob) was saved ({} {:?})",
        p.status,
        p.location()
    );
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "repeated first name");
    assert!(!p.error_summary().is_empty());
}

/// The policy: invalid UTF-8 in a body is refused with a clear message and nothing written,
/// never silently replaced with U+FFFD and stored.
async fn invalid_utf8_is_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let r = Registration {
        app: &app,
        w: &w,
        b: &b,
    };
    let token = b.csrf_token("/people/new").await.expect("token");
    let valid = encode(&person_fields("Placeholder", "Utfeight"));
    for (ctx, body) in [
        (
            "percent-encoded invalid UTF-8 in a name",
            format!(
                "csrf_token={token}&{}",
                valid.replace("Placeholder", "%FF%FE")
            )
            .into_bytes(),
        ),
        ("raw invalid UTF-8 bytes in a name", {
            let mut v = format!("csrf_token={token}&").into_bytes();
            v.extend(valid.replace("Placeholder", "\u{1}").into_bytes());
            let i = v.iter().position(|&c| c == 1).expect("marker");
            v.splice(i..=i, [0xC3, 0x28, 0xFF]);
            v
        }),
    ] {
        let before = r.counts().await;
        let p = b.post_raw("/people", body).await;
        safe(&p, ctx);
        assert_eq!(
            r.counts().await,
            before,
            "{ctx}: saved ({} {:?})",
            p.status,
            p.location()
        );
        assert!(p.status.is_client_error(), "{ctx}: {}", p.status);
        assert!(!p.error_summary().is_empty(), "{ctx}: no error summary");
    }
}

async fn edit_person_rejects_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    let admin = w.account(Role::Administrator);
    let person = &w.on_caseload;
    let path = format!("/people/{}/edit", person.id);
    let form = b.get(&path).await;
    form.assert_status(StatusCode::OK, "edit form");
    let current = form.form_values(&path);
    assert!(
        current.iter().any(|(k, _)| k == "version"),
        "form carries its version"
    );
    let before = app.record(admin, person.id).await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    let cases: Vec<(&str, Fields, StatusCode, Errors)> = vec![
        (
            "names removed",
            without(&current, &["given_name", "family_name"]),
            unprocessable,
            vec![
                ("given_name", "Enter first name"),
                ("family_name", "Enter last name"),
            ],
        ),
        (
            "101-character first name",
            with(&current, &[("given_name", &long(101))]),
            unprocessable,
            vec![("given_name", "First name must be 100 characters or fewer")],
        ),
        (
            "script tag as a last name",
            with(&current, &[("family_name", SCRIPT)]),
            unprocessable,
            vec![(
                "family_name",
                "Last name must only include letters, spaces, hyphens and apostrophes",
            )],
        ),
        (
            "NHS number 943 476 5918",
            with(&current, &[("nhs_number", "943 476 5918")]),
            unprocessable,
            vec![(
                "nhs_number",
                "Enter a valid NHS number: the check digit does not match",
            )],
        ),
        (
            "date of birth in the future",
            with(&current, &[("dob_year", &next_year())]),
            unprocessable,
            vec![("dob_day", "Date of birth must be today or in the past")],
        ),
        (
            "30 February",
            with(&current, &[("dob_day", "30"), ("dob_month", "2")]),
            unprocessable,
            vec![("dob_day", "Date of birth must be a real date")],
        ),
        (
            "100 KB of what matters",
            with(&current, &[("what_matters", &"y".repeat(100 * 1024))]),
            unprocessable,
            vec![(
                "what_matters",
                "What matters to the person must be 2000 characters or fewer",
            )],
        ),
    ];
    for (ctx, fields, status, errors) in cases {
        let p = b.post_pairs(&path, &fields).await;
        safe(&p, ctx);
        p.assert_status(status, ctx);
        for (field, message) in errors {
            p.assert_error(field, message, ctx);
        }
        assert_eq!(
            p.input_values("version"),
            vec![before.version.to_string()],
            "{ctx}: the re-shown form keeps the version it was opened at"
        );
        assert_eq!(
            app.record(admin, person.id).await,
            before,
            "{ctx}: a rejected edit changed the record"
        );
    }
    // The script came back escaped in the re-shown form.
    let p = b
        .post_pairs(&path, &with(&current, &[("family_name", SCRIPT)]))
        .await;
    assert!(p.body.contains(SCRIPT_ESCAPED));

    for (ctx, fields) in [
        ("version missing", without(&current, &["version"])),
        (
            "version not a number",
            with(&current, &[("version", "latest")]),
        ),
    ] {
        let p = b.post_pairs(&path, &fields).await;
        safe(&p, ctx);
        p.assert_status(StatusCode::BAD_REQUEST, ctx);
        assert!(
            p.main_text()
                .contains("The form is missing its version: reload the page and try again."),
            "{ctx}: {}",
            p.snippet()
        );
        assert_eq!(app.record(admin, person.id).await, before, "{ctx}");
    }

    let p = b
        .post_pairs(
            &path,
            &with(&current, &[("what_matters", &"z".repeat(300 * 1024))]),
        )
        .await;
    assert_too_large(&p, "300 KB edit");
    for (ctx, fields) in [
        (
            "edit without a CSRF token",
            without(&current, &["csrf_token"]),
        ),
        (
            "edit with a wrong CSRF token",
            with(&current, &[("csrf_token", "forged")]),
        ),
    ] {
        let fields = with(&fields, &[("what_matters", "Forged change")]);
        let p = b.post_pairs(&path, &fields).await;
        assert_csrf_refused(&p, ctx);
    }
    assert_eq!(
        app.record(admin, person.id).await,
        before,
        "nothing was changed"
    );
    assert_eq!(
        app.count_audit(w.org_a, "person.update", None).await,
        0,
        "no change was audited"
    );
    app.assert_audit_verifies().await;
}

async fn sign_in_rejects_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let _w = world(&app).await;
    let sessions = |app: &TestApp| {
        let org = _w.org_a;
        let store = app.store.clone();
        async move {
            store
                .audit_page(org, None, 100_000)
                .await
                .expect("audit")
                .iter()
                .filter(|e| e.action == "session.sign_in")
                .count()
        }
    };
    let b = app.browser();

    let p = b
        .post_form("/sign-in", &[("username", ""), ("password", "")])
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "empty sign-in");
    p.assert_error("username", "Enter your user name", "empty sign-in");
    p.assert_error("password", "Enter your password", "empty sign-in");

    let p = b
        .post_form("/sign-in", &[("username", "coordinator")])
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "no password field");
    p.assert_error("password", "Enter your password", "no password field");
    assert_eq!(p.input_values("username"), vec!["coordinator".to_string()]);

    let p = b
        .post_form(
            "/sign-in",
            &[("username", SCRIPT), ("password", "whatever-it-is")],
        )
        .await;
    safe(&p, "script as a user name");
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "script as a user name");
    p.assert_error(
        "username",
        "Enter a correct user name and password",
        "script user name",
    );
    assert!(p.body.contains(SCRIPT_ESCAPED));

    let huge = "u".repeat(100 * 1024);
    let p = b
        .post_form(
            "/sign-in",
            &[("username", huge.as_str()), ("password", "whatever-it-is")],
        )
        .await;
    safe(&p, "100 KB user name");
    p.assert_error(
        "username",
        "Enter a correct user name and password",
        "100 KB user name",
    );
    assert!(
        p.body.len() < 50 * 1024,
        "the huge user name is not echoed in full"
    );

    let p = b
        .post_form(
            "/sign-in",
            &[
                ("username", "coordinator"),
                ("password", &"p".repeat(300 * 1024)),
            ],
        )
        .await;
    assert_too_large(&p, "300 KB sign-in");

    // Invalid UTF-8 in the password of a real account: a failed sign-in, not an error.
    let token = b.csrf_token("/sign-in").await.expect("token");
    let mut body = format!("csrf_token={token}&username=coordinator&password=").into_bytes();
    body.extend([0xFF, 0xFE, 0xC3, 0x28]);
    let p = b.post_raw("/sign-in", body).await;
    safe(&p, "invalid UTF-8 password");
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "invalid UTF-8 password");
    p.assert_error(
        "username",
        "Enter a correct user name and password",
        "invalid UTF-8",
    );

    // CSRF: the right password never signs in without the form's token and cookie.
    for (ctx, browser, fields) in [
        (
            "no token",
            b.clone(),
            vec![("username", "coordinator"), ("password", PASSWORD)],
        ),
        (
            "wrong token",
            b.clone(),
            vec![
                ("username", "coordinator"),
                ("password", PASSWORD),
                ("csrf_token", "0123456789abcdef0123456789abcdef0123"),
            ],
        ),
        (
            "token but no cookie",
            app.browser(),
            vec![
                ("username", "coordinator"),
                ("password", PASSWORD),
                ("csrf_token", token.as_str()),
            ],
        ),
    ] {
        let p = browser.post_pairs("/sign-in", &fields).await;
        assert_csrf_refused(&p, ctx);
        assert!(
            p.set_cookie("alongside_session").is_none(),
            "{ctx}: session cookie set"
        );
        let home = browser.get("/").await;
        home.assert_redirect("/sign-in", ctx);
    }
    assert_eq!(sessions(&app).await, 0, "no sign-in happened");
    app.assert_audit_verifies().await;
}

async fn change_password_rejects_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let spare = &w.spare;
    let b = app.sign_in(&spare.username, PASSWORD).await;
    let before = app
        .store
        .password_hash(spare.org, spare.id)
        .await
        .expect("hash");
    let p129 = "p".repeat(129);
    let cases: Vec<(&str, [&str; 3], Errors)> = vec![
        (
            "nothing filled in",
            ["", "", ""],
            vec![
                ("current_password", "Enter your current password"),
                ("new_password", "Password must be 10 characters or more"),
            ],
        ),
        (
            "wrong current password",
            [
                "not-the-password",
                "a-fine-new-passphrase",
                "a-fine-new-passphrase",
            ],
            vec![("current_password", "Your current password is not correct")],
        ),
        (
            "new password too short",
            [PASSWORD, "short", "short"],
            vec![("new_password", "Password must be 10 characters or more")],
        ),
        (
            "new password 129 characters",
            [PASSWORD, &p129, &p129],
            vec![("new_password", "Password must be 128 characters or fewer")],
        ),
        (
            "new password is the user name",
            [PASSWORD, "Spare.Volunteer", "Spare.Volunteer"],
            vec![(
                "new_password",
                "Password must not be the same as the user name",
            )],
        ),
        (
            "common password",
            [PASSWORD, "password123", "password123"],
            vec![(
                "new_password",
                "Password is too common: choose something harder to guess",
            )],
        ),
        (
            "confirmation differs",
            [PASSWORD, "a-fine-new-passphrase", "a-fine-new-passphrasf"],
            vec![("confirm_password", "The passwords do not match")],
        ),
        (
            "script tag",
            [SCRIPT, SCRIPT, SCRIPT],
            vec![("current_password", "Your current password is not correct")],
        ),
    ];
    for (ctx, [current, new, confirm], errors) in cases {
        let p = b
            .post_form(
                "/account/password",
                &[
                    ("current_password", current),
                    ("new_password", new),
                    ("confirm_password", confirm),
                ],
            )
            .await;
        safe(&p, ctx);
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, ctx);
        for (field, message) in errors {
            p.assert_error(field, message, ctx);
        }
        // Passwords are never shown back.
        assert!(
            p.input_values("new_password").iter().all(|v| v.is_empty()),
            "{ctx}"
        );
        assert_eq!(
            app.store
                .password_hash(spare.org, spare.id)
                .await
                .expect("hash"),
            before,
            "{ctx}: the password changed"
        );
    }
    let fields = [
        ("current_password", PASSWORD),
        ("new_password", "a-fine-new-passphrase"),
        ("confirm_password", "a-fine-new-passphrase"),
    ];
    let p = b.post_pairs("/account/password", &fields).await;
    assert_csrf_refused(&p, "password change without a CSRF token");
    let mut forged = fields.to_vec();
    forged.push(("csrf_token", "forged"));
    let p = b.post_pairs("/account/password", &forged).await;
    assert_csrf_refused(&p, "password change with a wrong CSRF token");
    assert_eq!(
        app.store
            .password_hash(spare.org, spare.id)
            .await
            .expect("hash"),
        before,
        "a refused change changed the password"
    );
    assert_eq!(
        app.count_audit(w.org_a, "user.password_change", None).await,
        0
    );
}

async fn add_user_rejects_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("administrator", PASSWORD).await;
    let valid: Vec<(String, String)> = [
        ("display_name", "Nia Newstarter"),
        ("username", "nia.newstarter"),
        ("role", "health_coach"),
        ("password", "a-long-enough-passphrase"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let other_org_person = w.other_org.id.to_string();
    let own_person = w.off_caseload.id.to_string();
    let cases: Vec<(&str, Fields, Errors)> = vec![
        (
            "nothing filled in",
            vec![],
            vec![
                ("display_name", "Enter their full name"),
                (
                    "username",
                    "User name must be 3 to 64 letters, numbers, dots, hyphens, underscores or @",
                ),
                ("role", "Select a role"),
                ("password", "Password must be 10 characters or more"),
            ],
        ),
        (
            "101-character full name",
            with(&valid, &[("display_name", &long(101))]),
            vec![("display_name", "Their full name must be 100 characters or fewer")],
        ),
        (
            "user name with spaces and markup",
            with(&valid, &[("username", "<b>nia newstarter</b>")]),
            vec![(
                "username",
                "User name must be 3 to 64 letters, numbers, dots, hyphens, underscores or @",
            )],
        ),
        (
            "user name of 65 characters",
            with(&valid, &[("username", &long(65))]),
            vec![(
                "username",
                "User name must be 3 to 64 letters, numbers, dots, hyphens, underscores or @",
            )],
        ),
        (
            "user name already taken (in another case)",
            with(&valid, &[("username", "Coordinator")]),
            vec![("username", "That user name is already taken: choose another")],
        ),
        (
            "user name taken in another organisation",
            with(&valid, &[("username", "hillside.admin")]),
            vec![("username", "That user name is already taken: choose another")],
        ),
        (
            "unknown role",
            with(&valid, &[("role", "root")]),
            vec![("role", "Select a role")],
        ),
        (
            "person role with no record",
            with(&valid, &[("role", "person")]),
            vec![(
                "person_id",
                "Enter the reference of the person's record, for a person's own account",
            )],
        ),
        (
            "person role linked to another organisation's record",
            with(&valid, &[("role", "person"), ("person_id", &other_org_person)]),
            vec![(
                "person_id",
                "There is no record with that reference in your organisation",
            )],
        ),
        (
            "staff role linked to a record",
            with(&valid, &[("person_id", &own_person)]),
            vec![(
                "person_id",
                "Only a person's own account can be linked to a record: clear this box or choose that role",
            )],
        ),
        (
            "password too short",
            with(&valid, &[("password", "short")]),
            vec![("password", "Password must be 10 characters or more")],
        ),
        (
            "control characters in the name",
            with(&valid, &[("display_name", "Nia\u{0}Newstarter")]),
            vec![(
                "display_name",
                "Their full name must not contain control characters",
            )],
        ),
    ];
    let users_before = app.store.users(w.org_a).await.expect("users");
    for (ctx, fields, errors) in cases {
        let p = b
            .post_form_from("/admin/users/new", "/admin/users", &fields)
            .await;
        safe(&p, ctx);
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, ctx);
        for (field, message) in errors {
            p.assert_error(field, message, ctx);
        }
        assert!(
            p.input_values("password").iter().all(|v| v.is_empty()),
            "{ctx}: the password is shown back"
        );
        assert_eq!(
            app.store.users(w.org_a).await.expect("users"),
            users_before,
            "{ctx}: a user was written"
        );
    }
    let p = b.post_pairs("/admin/users", &valid).await;
    assert_csrf_refused(&p, "add user without a CSRF token");
    let p = b
        .post_pairs("/admin/users", &with(&valid, &[("csrf_token", "forged")]))
        .await;
    assert_csrf_refused(&p, "add user with a wrong CSRF token");
    let p = b
        .post_form_from(
            "/admin/users/new",
            "/admin/users",
            &with(&valid, &[("display_name", &"n".repeat(300 * 1024))]),
        )
        .await;
    assert_too_large(&p, "300 KB add user");
    assert_eq!(app.store.users(w.org_a).await.expect("users"), users_before);
    assert_eq!(app.count_audit(w.org_a, "user.create", None).await, 0);
    assert!(app
        .store
        .find_login("nia.newstarter")
        .await
        .expect("login")
        .is_none());

    // A display name with markup, if accepted, is only ever shown escaped.
    let p = b
        .post_form_from(
            "/admin/users/new",
            "/admin/users",
            &with(&valid, &[("display_name", SCRIPT)]),
        )
        .await;
    safe(&p, "script as a full name");
    let list = b.get("/admin/users").await;
    safe(&list, "user list after a script-named user");
    if p.status == StatusCode::SEE_OTHER {
        assert!(list.body.contains(SCRIPT_ESCAPED));
    }
}

/// The policy: hostile values are refused on every name field, staff names included.
async fn hostile_user_names_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("administrator", PASSWORD).await;
    let users_before = app.store.users(w.org_a).await.expect("users").len();
    for (i, name) in [SCRIPT, SQL].into_iter().enumerate() {
        let username = format!("hostile.{i}");
        let p = b
            .post_form_from(
                "/admin/users/new",
                "/admin/users",
                &[
                    ("display_name", name),
                    ("username", username.as_str()),
                    ("role", "volunteer"),
                    ("password", "a-long-enough-passphrase"),
                ],
            )
            .await;
        safe(&p, name);
        assert_eq!(
            p.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "full name {name:?} was accepted"
        );
        assert!(!p.error_summary().is_empty());
    }
    assert_eq!(
        app.store.users(w.org_a).await.expect("users").len(),
        users_before
    );
}

async fn edit_user_rejects_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.sign_in("administrator", PASSWORD).await;
    let admin = w.account(Role::Administrator);
    let person_account = w.account(Role::Person);
    let spare = &w.spare;
    let path = |id: &alongside_core::UserId| format!("/admin/users/{id}");
    let snapshot = |app: &TestApp| {
        let store = app.store.clone();
        let org = w.org_a;
        async move { store.users(org).await.expect("users") }
    };
    let before = snapshot(&app).await;
    let hash_before = app
        .store
        .password_hash(spare.org, spare.id)
        .await
        .expect("hash");
    let cases: Vec<(&str, String, Pairs, (&str, &str))> = vec![
        (
            "no role",
            path(&spare.id),
            vec![("active", "yes")],
            ("role", "Select a role"),
        ),
        (
            "unknown role",
            path(&spare.id),
            vec![("role", "superuser"), ("active", "yes")],
            ("role", "Select a role"),
        ),
        (
            "person role for a staff account",
            path(&spare.id),
            vec![("role", "person"), ("active", "yes")],
            (
                "role",
                "Only an account linked to a person's record can have the person role: add a new user instead",
            ),
        ),
        (
            "staff role for a person's account",
            path(&person_account.id),
            vec![("role", "coordinator"), ("active", "yes")],
            (
                "role",
                "This account belongs to a person and is linked to their record: it cannot become a staff account",
            ),
        ),
        (
            "new password too short",
            path(&spare.id),
            vec![("role", "volunteer"), ("active", "yes"), ("password", "short")],
            ("password", "Password must be 10 characters or more"),
        ),
        (
            "administrator deactivating themself",
            path(&admin.id),
            vec![("role", "administrator")],
            (
                "role",
                "You cannot remove your own administrator access or deactivate yourself: ask another administrator",
            ),
        ),
        (
            "administrator demoting themself",
            path(&admin.id),
            vec![("role", "volunteer"), ("active", "yes")],
            (
                "role",
                "You cannot remove your own administrator access or deactivate yourself: ask another administrator",
            ),
        ),
    ];
    for (ctx, target, fields, (field, message)) in cases {
        let p = b.post_form(&target, &fields).await;
        safe(&p, ctx);
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, ctx);
        p.assert_error(field, message, ctx);
        assert_eq!(snapshot(&app).await, before, "{ctx}: a user was changed");
    }
    let p = b
        .post_pairs(
            &path(&spare.id),
            &[("role", "administrator"), ("active", "yes")],
        )
        .await;
    assert_csrf_refused(&p, "edit user without a CSRF token");
    let p = b
        .post_pairs(
            &path(&spare.id),
            &[
                ("role", "administrator"),
                ("active", "yes"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_csrf_refused(&p, "edit user with a wrong CSRF token");
    let p = b.get("/admin/users/not-a-uuid").await;
    p.assert_status(StatusCode::NOT_FOUND, "malformed user id");
    let p = b
        .post_form("/admin/users/not-a-uuid", &[("role", "administrator")])
        .await;
    p.assert_status(StatusCode::NOT_FOUND, "malformed user id (POST)");
    let p = b
        .post_form(
            &path(&spare.id),
            &[("role", "volunteer"), ("password", &"q".repeat(300 * 1024))],
        )
        .await;
    assert_too_large(&p, "300 KB edit user");
    assert_eq!(snapshot(&app).await, before, "nothing was changed");
    assert_eq!(
        app.store
            .password_hash(spare.org, spare.id)
            .await
            .expect("hash"),
        hash_before
    );
    assert_eq!(app.count_audit(w.org_a, "user.update", None).await, 0);
}

async fn malformed_ids_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let _w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    for path in [
        "/people/not-a-uuid",
        "/people/not-a-uuid/edit",
        "/people/not-a-uuid/audit",
        "/people/00000000-0000-0000-0000-000000000000",
        "/people/%3Cscript%3E",
        "/no-such-page",
    ] {
        let p = b.get(path).await;
        safe(&p, path);
        p.assert_status(StatusCode::NOT_FOUND, path);
        assert_eq!(p.h1(), "Page not found", "{path}");
    }
    let p = b
        .post_form("/people/not-a-uuid/edit", &person_fields("Ann", "Other"))
        .await;
    p.assert_status(StatusCode::NOT_FOUND, "edit of a malformed id");
    // Search input of any shape is answered, never an error.
    for q in [
        "%27%3B%20DROP%20TABLE%20people%3B--",
        "%25%5F%5C",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ] {
        let p = b.get(&format!("/people?q={q}")).await;
        safe(&p, q);
        p.assert_status(StatusCode::OK, q);
        assert!(
            p.main_text().contains("No one matches"),
            "{q}: {}",
            p.snippet()
        );
    }
    let p = b.get(&format!("/people?q={}", "w".repeat(10_000))).await;
    p.assert_status(StatusCode::OK, "10 000 character search");
    let p = b.get("/people?page=not-a-number").await;
    p.assert_not_5xx("page not a number");
    assert_eq!(app.count_people(_w.org_a).await, 3);
}

both_backends!(
    register_person_rejects_bad_input,
    register_person_accepts_unicode_and_escapes_markup,
    edit_person_rejects_bad_input,
    sign_in_rejects_bad_input,
    change_password_rejects_bad_input,
    add_user_rejects_bad_input,
    edit_user_rejects_bad_input,
    malformed_ids_are_not_found,
);

both_backends!(
    oversized_body_gets_a_clear_page,
    hostile_names_are_rejected,
    hostile_user_names_are_rejected,
    repeated_fields_are_rejected,
    invalid_utf8_is_rejected,
);
