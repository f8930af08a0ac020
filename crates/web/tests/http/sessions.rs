//! Sessions and sign-in: generic errors, audited failures, throttling, sign-out, deactivation,
//! password changes ending other sessions, cookie attributes, security headers and /health.

use crate::support::*;
use alongside_core::Role;
use alongside_store::{both_backends, Backend};
use alongside_web::Config;
use reqwest::StatusCode;

const GENERIC: &str = "Enter a correct user name and password";

/// `name=value` of the session cookie a sign-in response set.
fn session_cookie(p: &Page) -> String {
    let c = p
        .set_cookie("alongside_session")
        .unwrap_or_else(|| panic!("no session cookie in {:?}", p.set_cookies()));
    c.split(';').next().expect("pair").to_string()
}

async fn wrong_password_is_generic_and_audited(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let coordinator = w.account(Role::Coordinator);
    let b = app.browser();

    let wrong = b.sign_in("coordinator", "not-the-right-password").await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "wrong password");
    wrong.assert_error("username", GENERIC, "wrong password");
    assert!(wrong.set_cookie("alongside_session").is_none());
    assert_eq!(
        wrong.input_values("username"),
        vec!["coordinator".to_string()]
    );
    assert_eq!(
        wrong.input_values("password"),
        vec![String::new()],
        "the password is never shown back"
    );
    b.get("/")
        .await
        .assert_redirect("/sign-in", "still signed out");

    let failed: Vec<_> = app
        .audit(w.org_a)
        .await
        .into_iter()
        .filter(|e| e.action == "session.sign_in_failed")
        .collect();
    assert_eq!(failed.len(), 1, "one failed sign-in audited: {failed:?}");
    let e = &failed[0];
    assert_eq!(
        e.actor_user_id.as_deref(),
        Some(coordinator.id.to_string().as_str())
    );
    assert_eq!(e.actor_role.as_deref(), Some("coordinator"));
    assert_eq!(e.outcome, "refused");
    assert_eq!(e.source.as_deref(), Some("127.0.0.1"));
    assert_eq!(e.detail.as_deref(), Some("wrong password"));

    // An unknown user name gets exactly the same answer.
    let unknown = b.sign_in("nobody.at.all", "not-the-right-password").await;
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "unknown user");
    assert_eq!(unknown.error_summary(), wrong.error_summary());
    assert_eq!(unknown.h1(), wrong.h1());
    assert_eq!(
        app.count_audit(w.org_a, "session.sign_in_failed", None)
            .await,
        1,
        "an unknown name is not attributed to anyone"
    );
    assert_eq!(app.count_audit(w.org_a, "session.sign_in", None).await, 0);

    // User names are matched whatever their case and surrounding spaces.
    let ok = b.sign_in("  Coordinator ", PASSWORD).await;
    ok.assert_redirect("/", "sign in with a differently typed user name");
    let home = b.get("/").await;
    home.assert_status(StatusCode::OK, "home after sign-in");
    assert_eq!(home.h1(), "Hello, Corin Coordinator");
    let signed_in: Vec<_> = app
        .audit(w.org_a)
        .await
        .into_iter()
        .filter(|e| e.action == "session.sign_in")
        .collect();
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0].outcome, "allowed");
    assert_eq!(signed_in[0].source.as_deref(), Some("127.0.0.1"));
    app.assert_audit_verifies().await;
}

async fn sixth_failure_is_throttled(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.browser();
    for i in 1..=5 {
        let p = b
            .sign_in("health_coach", &format!("wrong-password-{i}"))
            .await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, &format!("failure {i}"));
        p.assert_error("username", GENERIC, &format!("failure {i}"));
    }
    let p = b.sign_in("health_coach", PASSWORD).await;
    p.assert_status(
        StatusCode::TOO_MANY_REQUESTS,
        "sixth attempt, right password",
    );
    p.assert_error(
        "username",
        "Too many failed attempts to sign in. Wait 15 minutes, then try again",
        "throttled",
    );
    assert!(
        p.set_cookie("alongside_session").is_none(),
        "throttled but signed in"
    );
    b.get("/").await.assert_redirect("/sign-in", "throttled");
    // The same name typed differently is the same name; another browser does not help.
    let other = app.browser();
    let p = other.sign_in("HEALTH_COACH", PASSWORD).await;
    p.assert_status(StatusCode::TOO_MANY_REQUESTS, "same name in capitals");
    // Another account is not locked out by someone else's failures.
    app.sign_in("coordinator", PASSWORD).await;
    assert_eq!(
        app.count_audit(w.org_a, "session.sign_in_failed", Some("refused"))
            .await,
        5
    );
    let coach = w.account(Role::HealthCoach).id.to_string();
    assert!(
        app.audit(w.org_a)
            .await
            .iter()
            .filter(|e| e.action == "session.sign_in")
            .all(|e| e.actor_user_id.as_deref() != Some(coach.as_str())),
        "the throttled account was never signed in"
    );
}

async fn sign_out_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let b = app.browser();
    let p = b.sign_in("coordinator", PASSWORD).await;
    p.assert_redirect("/", "sign in");
    let cookie = session_cookie(&p);
    let raw = Browser::without_cookies(&app.base);
    let record = format!("/people/{}", w.on_caseload.id);
    let before = raw.get_with_cookie(&record, &cookie).await;
    before.assert_status(StatusCode::OK, "the cookie works before signing out");
    assert_eq!(before.h1(), w.on_caseload.name());
    let token = b.csrf_token("/").await.expect("token");

    let out = b.sign_out().await;
    out.assert_redirect("/sign-in", "sign out");
    let cleared = out.set_cookie("alongside_session").expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    b.get("/")
        .await
        .assert_redirect("/sign-in", "browser after sign-out");

    // The old cookie, replayed, is dead — for pages and for forms.
    let after = raw.get_with_cookie(&record, &cookie).await;
    after.assert_redirect("/sign-in", "old cookie after sign-out");
    assert!(!after.body.contains(&w.on_caseload.family));
    let count = app.count_people(w.org_a).await;
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/people", app.base))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&with(
            &person_fields("Replayed", "Cookie"),
            &[("csrf_token", token.as_str())],
        )))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count_people(w.org_a).await,
        count,
        "old cookie wrote a person"
    );
    assert_eq!(app.count_audit(w.org_a, "session.sign_out", None).await, 1);
}

async fn deactivated_user_cannot_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let spare = &w.spare;
    let victim = app.sign_in(&spare.username, PASSWORD).await;
    victim
        .get("/")
        .await
        .assert_status(StatusCode::OK, "signed in");
    let admin = app.sign_in("administrator", PASSWORD).await;
    let path = format!("/admin/users/{}", spare.id);
    // Untick "They can sign in".
    let p = admin.post_form(&path, &[("role", "volunteer")]).await;
    p.assert_redirect("/admin/users", "deactivate");
    assert!(
        !app.store
            .user(spare.org, spare.id)
            .await
            .expect("user")
            .active
    );
    let list = admin.get("/admin/users").await;
    assert!(list.main_text().contains("Deactivated"));

    victim
        .get("/")
        .await
        .assert_redirect("/sign-in", "deactivation ends existing sessions");
    let p = app.browser().sign_in(&spare.username, PASSWORD).await;
    p.assert_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        "deactivated, right password",
    );
    p.assert_error("username", GENERIC, "deactivated");
    assert!(p.set_cookie("alongside_session").is_none());
    let failed = app
        .audit(w.org_a)
        .await
        .into_iter()
        .find(|e| e.action == "session.sign_in_failed")
        .expect("failure audited");
    assert_eq!(failed.detail.as_deref(), Some("account deactivated"));
    assert_eq!(
        failed.actor_user_id.as_deref(),
        Some(spare.id.to_string().as_str())
    );

    // Reactivated, they can sign in again.
    admin
        .post_form(&path, &[("role", "volunteer"), ("active", "yes")])
        .await
        .assert_redirect("/admin/users", "reactivate");
    app.sign_in(&spare.username, PASSWORD).await;
}

async fn password_change_ends_other_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let here = app.sign_in("volunteer", PASSWORD).await;
    let elsewhere = app.sign_in("volunteer", PASSWORD).await;
    elsewhere
        .get("/")
        .await
        .assert_status(StatusCode::OK, "second session");
    let new = "a-whole-new-passphrase";
    let p = here
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("confirm_password", new),
            ],
        )
        .await;
    p.assert_status(StatusCode::OK, "change password");
    assert!(p
        .main_text()
        .contains("Your password has been changed. Other devices have been signed out."));
    here.get("/")
        .await
        .assert_status(StatusCode::OK, "this session stays");
    elsewhere
        .get("/")
        .await
        .assert_redirect("/sign-in", "the other session ended");
    app.browser()
        .sign_in("volunteer", PASSWORD)
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY, "old password");
    app.sign_in("volunteer", new).await;
    let e = app
        .audit(w.org_a)
        .await
        .into_iter()
        .find(|e| e.action == "user.password_change")
        .expect("audited");
    assert_eq!(
        e.actor_user_id.as_deref(),
        Some(w.account(Role::Volunteer).id.to_string().as_str())
    );

    // An administrator setting someone's password signs them out everywhere.
    let spare = app.sign_in(&w.spare.username, PASSWORD).await;
    let admin = app.sign_in("administrator", PASSWORD).await;
    admin
        .post_form(
            &format!("/admin/users/{}", w.spare.id),
            &[
                ("role", "volunteer"),
                ("active", "yes"),
                ("password", "set-by-the-admin"),
            ],
        )
        .await
        .assert_redirect("/admin/users", "admin sets a password");
    spare.get("/").await.assert_redirect(
        "/sign-in",
        "sessions end when an administrator sets a password",
    );
    app.sign_in(&w.spare.username, "set-by-the-admin").await;
}

fn cookie_has(cookie: &str, attr: &str) -> bool {
    cookie
        .split(';')
        .any(|a| a.trim().eq_ignore_ascii_case(attr))
}

async fn cookies_are_http_only_and_same_site(backend: Backend) {
    let app = spawn_app(backend).await;
    let _w = world(&app).await;
    let b = app.browser();
    let form = b.get("/sign-in").await;
    let csrf = form.set_cookie("alongside_csrf").expect("csrf cookie");
    assert!(cookie_has(&csrf, "HttpOnly"), "{csrf}");
    assert!(
        cookie_has(&csrf, "SameSite=Strict") || cookie_has(&csrf, "SameSite=Lax"),
        "{csrf}"
    );
    assert!(cookie_has(&csrf, "Path=/"), "{csrf}");
    let p = b.sign_in("coordinator", PASSWORD).await;
    let session = p.set_cookie("alongside_session").expect("session cookie");
    assert!(cookie_has(&session, "HttpOnly"), "{session}");
    assert!(
        cookie_has(&session, "SameSite=Lax") || cookie_has(&session, "SameSite=Strict"),
        "{session}"
    );
    assert!(
        !cookie_has(&session, "Secure"),
        "plain HTTP by default: {session}"
    );
    // A new sign-in gets a new token (no fixation), and the token is long and random.
    let again = app.browser().sign_in("coordinator", PASSWORD).await;
    let first = session_cookie(&p);
    let second = session_cookie(&again);
    assert_ne!(first, second);
    assert!(first.len() > 40, "{first}");

    // Behind TLS: Secure cookies and HSTS.
    let tls = spawn_app_with(
        backend,
        Config {
            secure_cookies: true,
            ..Config::default()
        },
    )
    .await;
    let _w2 = world(&tls).await;
    let tb = tls.browser();
    let form = tb.get("/sign-in").await;
    assert!(cookie_has(
        &form.set_cookie("alongside_csrf").expect("csrf"),
        "Secure"
    ));
    assert!(form
        .header("strict-transport-security")
        .is_some_and(|h| h.contains("max-age=")));
    let token = form.csrf_token().expect("token");
    // The cookie store will not send a Secure cookie over http: send it by hand.
    let csrf_pair = form
        .set_cookie("alongside_csrf")
        .expect("csrf")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/sign-in", tls.base))
        .header("cookie", csrf_pair)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(&[
            ("csrf_token", token.as_str()),
            ("username", "coordinator"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .expect("sign in");
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let session = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("alongside_session="))
        .expect("session cookie")
        .to_string();
    assert!(cookie_has(&session, "Secure"), "{session}");
    assert!(cookie_has(&session, "HttpOnly"), "{session}");
}

fn assert_security_headers(p: &Page, ctx: &str) {
    let csp = p
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{ctx}: no Content-Security-Policy"));
    assert!(
        !csp.contains("unsafe-inline"),
        "{ctx}: CSP allows inline: {csp}"
    );
    assert!(
        !csp.contains("unsafe-eval"),
        "{ctx}: CSP allows eval: {csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{ctx}: {csp}");
    assert!(csp.contains("default-src 'self'"), "{ctx}: {csp}");
    assert_eq!(p.header("x-content-type-options"), Some("nosniff"), "{ctx}");
    let referrer = p.header("referrer-policy").unwrap_or("");
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer),
        "{ctx}: Referrer-Policy {referrer:?}"
    );
    assert_eq!(p.header("x-frame-options"), Some("DENY"), "{ctx}");
}

async fn security_headers_on_every_kind_of_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let anon = app.browser();
    let coordinator = app.sign_in("coordinator", PASSWORD).await;
    let analyst = app.sign_in("analyst", PASSWORD).await;
    let record = format!("/people/{}", w.on_caseload.id);
    let pages = vec![
        ("sign-in page", anon.get("/sign-in").await),
        ("redirect to sign-in", anon.get("/people").await),
        ("health", anon.get("/health").await),
        ("asset", anon.get("/assets/alongside.css").await),
        ("missing asset", anon.get("/assets/nothing.js").await),
        ("404", anon.get("/no-such-page").await),
        ("record", coordinator.get(&record).await),
        ("403", analyst.get(&record).await),
        (
            "422",
            coordinator
                .post_form_from("/people/new", "/people", &[("given_name", "")])
                .await,
        ),
        (
            "CSRF refusal",
            coordinator
                .post_pairs("/people", &[("given_name", "x")])
                .await,
        ),
        (
            "413",
            coordinator
                .post_pairs("/people", &[("what_matters", "x".repeat(300 * 1024))])
                .await,
        ),
        ("405", {
            let p = coordinator.post_pairs("/health", &[("a", "b")]).await;
            assert_eq!(p.status, StatusCode::METHOD_NOT_ALLOWED);
            p
        }),
    ];
    for (ctx, p) in &pages {
        p.assert_not_5xx(ctx);
        assert_security_headers(p, ctx);
    }
    // Pages with personal data are never cached.
    let p = coordinator.get(&record).await;
    assert!(
        p.header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "record page cache-control {:?}",
        p.header("cache-control")
    );
    // No inline script or style for the CSP to block.
    for (ctx, p) in &pages {
        let doc = p.html();
        let inline_scripts = doc
            .select(&scraper::Selector::parse("script:not([src])").expect("selector"))
            .count();
        let styled = doc
            .select(&scraper::Selector::parse("[style], style").expect("selector"))
            .count();
        assert_eq!(inline_scripts + styled, 0, "{ctx}: inline script or style");
    }
}

async fn health_returns_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let p = app.browser().get("/health").await;
    p.assert_status(StatusCode::OK, "health");
    assert!(
        p.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{:?}",
        p.header("content-type")
    );
    let v: serde_json::Value = serde_json::from_str(&p.body).expect("JSON");
    assert_eq!(v["status"], "ok", "{v}");
    assert_eq!(v["database"], "ok", "{v}");
}

async fn sign_in_only_follows_local_next(backend: Backend) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    let record = format!("/people/{}", w.on_caseload.id);
    let anon = app.browser();
    let p = anon.get(&record).await;
    let loc = p.location().expect("location").to_string();
    assert_eq!(
        loc,
        format!("/sign-in?next=%2Fpeople%2F{}", w.on_caseload.id)
    );
    let form = anon.get(&loc).await;
    let fields = with(
        &form.form_values("/sign-in"),
        &[("username", "coordinator"), ("password", PASSWORD)],
    );
    anon.post_pairs("/sign-in", &fields)
        .await
        .assert_redirect(&record, "back to the page asked for");
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let b = app.browser();
        let p = b
            .post_form(
                "/sign-in",
                &[
                    ("username", "coordinator"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        p.assert_status(StatusCode::SEE_OTHER, next);
        assert_eq!(p.location(), Some("/"), "next={next:?} followed");
    }
}

async fn sessions_expire(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Config {
            session_seconds: 1,
            ..Config::default()
        },
    )
    .await;
    let _w = world(&app).await;
    let b = app.sign_in("coordinator", PASSWORD).await;
    b.get("/")
        .await
        .assert_status(StatusCode::OK, "fresh session");
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    b.get("/people")
        .await
        .assert_redirect("/sign-in", "expired session");
}

both_backends!(
    wrong_password_is_generic_and_audited,
    sixth_failure_is_throttled,
    sign_out_ends_the_session,
    deactivated_user_cannot_sign_in,
    password_change_ends_other_sessions,
    cookies_are_http_only_and_same_site,
    security_headers_on_every_kind_of_answer,
    health_returns_json,
    sign_in_only_follows_local_next,
    sessions_expire,
);
