//! The service directory, referrals to other services and care and support plans, through
//! HTTP on both backends: every page's content, bad input on every form (field messages,
//! nothing written), access (coach off caseload refused and audited, a person sees only their
//! own plan, analyst and volunteer refused, another organisation's record not found), versions
//! and the refusal of a save based on an out-of-date version, the referral life cycle and the
//! overdue list. Also the fixtures and checks the authorization matrix uses for these routes.

use crate::support::*;
use alongside_core::careplan::{PlanContent, PlanForm};
use alongside_core::directory::{ReferralStep, ServiceDetails, ServiceForm, StepInput};
use alongside_core::ids::{ServiceId, ServiceReferralId};
use alongside_core::{PersonId, Role};
use alongside_store::careplan::PlanPurpose;
use alongside_store::directory::{ReferralOptions, ServiceQuery};
use alongside_store::people::Source;
use alongside_store::{both_backends, Backend};
use reqwest::StatusCode;
use time::{Date, Duration};

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn src() -> Source {
    Source(Some("fixture".into()))
}

pub fn service_details(name: &str, kind: &str) -> ServiceDetails {
    ServiceDetails::parse(&ServiceForm {
        name: name.into(),
        kind: kind.into(),
        description: format!("{name}: support close to home."),
        eligibility: "Adults registered with a Riverside practice".into(),
        conditions: vec!["copd".into()],
        self_referral: "yes".into(),
        email: "hello@example.org".into(),
        phone: "01632 960 001".into(),
        website: "https://example.org/service".into(),
        modes: vec!["face_to_face".into()],
        languages: vec!["en".into()],
        active: "yes".into(),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("fixture service {name}: {e}"))
}

pub fn plan_content(what_matters: &str, contingency: &str) -> PlanContent {
    let review = today() + Duration::days(90);
    PlanContent::parse(
        &PlanForm {
            what_matters: what_matters.into(),
            strengths: "Determined; a supportive neighbour".into(),
            actions: vec![alongside_core::careplan::ActionRow {
                what: "Walk to the end of the road each morning".into(),
                who: "Me".into(),
                by: String::new(),
            }],
            support: vec!["coaching".into()],
            contingency: contingency.into(),
            review_day: review.day().to_string(),
            review_month: (review.month() as u8).to_string(),
            review_year: review.year().to_string(),
            agreed: "no".into(),
            ..Default::default()
        },
        today(),
    )
    .expect("fixture plan")
}

/// What the matrix needs for these routes: a service in each organisation, a referral and a
/// two-version plan for each person target.
pub struct Fixture {
    pub service_a: ServiceId,
    pub service_b: ServiceId,
    /// `(person, referral)` for each person target.
    pub referrals: Vec<(PersonId, ServiceReferralId)>,
    pub coord_b: Account,
}

pub async fn fixture(app: &TestApp, w: &World, coord_b: &Account) -> Fixture {
    let coord_a = w.account(Role::Coordinator).actor();
    let service_a = app
        .store
        .create_service(
            &coord_a,
            service_details("Breathe Easy Riverside", "peer_groups"),
            src(),
        )
        .await
        .expect("service a");
    let service_b = app
        .store
        .create_service(
            &coord_b.actor(),
            service_details("Hillside Quit Team", "smoking_cessation"),
            src(),
        )
        .await
        .expect("service b");
    let mut referrals = Vec::new();
    for p in w.people() {
        let (actor, service) = if p.org == w.org_a {
            (coord_a.clone(), service_a)
        } else {
            (coord_b.actor(), service_b)
        };
        let rid = app
            .store
            .create_service_referral(
                &actor,
                p.id,
                service,
                "Would like to meet others with a lung condition",
                ReferralOptions {
                    respond_by: Some(today() + Duration::days(14)),
                    send_now: true,
                    ..Default::default()
                },
                today(),
                src(),
            )
            .await
            .expect("fixture referral");
        referrals.push((p.id, rid));
        for (base, text) in [
            (0, "First: walking to the shops"),
            (1, "Walking to the allotment again"),
        ] {
            app.store
                .save_care_plan(
                    &actor,
                    p.id,
                    base,
                    plan_content(text, "Ring the practice nurse"),
                    src(),
                )
                .await
                .expect("fixture plan version");
        }
    }
    Fixture {
        service_a,
        service_b,
        referrals,
        coord_b: coord_b.clone(),
    }
}

impl Fixture {
    fn referral(&self, person: PersonId) -> ServiceReferralId {
        self.referrals
            .iter()
            .find(|(p, _)| *p == person)
            .map(|(_, r)| *r)
            .expect("referral for person")
    }
}

/// The path for a template of these routes, or `None` for other routes.
pub fn path(
    f: &Fixture,
    person: Option<&Person>,
    template: &str,
    same_org_service: Option<bool>,
) -> Option<String> {
    if template.starts_with("/directory/{id}") {
        let id = if same_org_service? {
            f.service_a
        } else {
            f.service_b
        };
        return Some(template.replace("{id}", &id.to_string()));
    }
    if template.contains("{rid}") || template.contains("/plan/versions/{n}") {
        let p = person?;
        return Some(
            template
                .replace("{id}", &p.id.to_string())
                .replace("{rid}", &f.referral(p.id).to_string())
                .replace("{n}", "1"),
        );
    }
    None
}

/// Whether the matrix's POST cells for this template are run here.
pub fn posts(template: &str) -> bool {
    matches!(
        template,
        "/directory"
            | "/directory/{id}/edit"
            | "/people/{id}/referrals"
            | "/people/{id}/referrals/{rid}"
            | "/people/{id}/plan/edit"
    )
}

macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            return Err(format!($($arg)*));
        }
    };
}

async fn plan_version(app: &TestApp, w: &World, f: &Fixture, p: &Person) -> i64 {
    let actor = if p.org == w.org_a {
        w.account(Role::Coordinator).actor()
    } else {
        f.coord_b.actor()
    };
    app.store
        .care_plan(
            &actor,
            p.id,
            PlanPurpose::View,
            Source(Some("test-verifier".into())),
        )
        .await
        .expect("verifier plan read")
        .current_version()
}

async fn referral_state(
    app: &TestApp,
    w: &World,
    f: &Fixture,
    p: &Person,
    rid: ServiceReferralId,
) -> (String, i64, usize) {
    let actor = if p.org == w.org_a {
        w.account(Role::Coordinator).actor()
    } else {
        f.coord_b.actor()
    };
    let (_, r) = app
        .store
        .service_referral(&actor, p.id, rid, Source(Some("test-verifier".into())))
        .await
        .expect("verifier referral read");
    (r.status.code().to_string(), r.version, r.steps.len())
}

async fn referral_count(app: &TestApp, w: &World, f: &Fixture, p: &Person) -> usize {
    let actor = if p.org == w.org_a {
        w.account(Role::Coordinator).actor()
    } else {
        f.coord_b.actor()
    };
    app.store
        .person_referrals(&actor, p.id, Source(Some("test-verifier".into())))
        .await
        .expect("verifier referrals")
        .referrals
        .len()
}

async fn service_names(app: &TestApp, w: &World) -> Vec<String> {
    let actor = w.account(Role::Coordinator).actor();
    app.store
        .search_services(
            &actor,
            &ServiceQuery {
                include_inactive: true,
                ..Default::default()
            },
        )
        .await
        .expect("services")
        .into_iter()
        .map(|s| s.details.name)
        .collect()
}

/// One matrix POST cell: when allowed, the change is made and visible; when not, nothing is
/// written (the caller checks the refusal page).
#[allow(clippy::too_many_arguments)]
pub async fn matrix_post(
    app: &TestApp,
    w: &World,
    f: &Fixture,
    b: &Browser,
    role: Option<Role>,
    template: &str,
    person: Option<&Person>,
    allowed: bool,
    path: &str,
) -> Result<Page, String> {
    let tag = role.map(|r| r.code()).unwrap_or("anonymous");
    match template {
        "/directory" => {
            let name = format!("Matrix service by {tag}");
            let fields = vec![
                ("name", name.as_str()),
                ("kind", "exercise_referral"),
                ("description", "Gentle exercise classes"),
                ("self_referral", "no"),
                ("modes", "online"),
                ("languages", "en"),
                ("active", "yes"),
            ];
            let p = b.post_form_from("/directory", "/directory", &fields).await;
            let created = service_names(app, w).await.contains(&name);
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location().is_some_and(|l| l.starts_with("/directory/")),
                    "adding a service should be 303 to it, got {} {:?}: {}",
                    p.status,
                    p.location(),
                    p.snippet()
                );
                ensure!(created, "the service was not stored");
            } else {
                ensure!(!created, "a refused request added a service");
            }
            Ok(p)
        }
        "/directory/{id}/edit" => {
            let before = service_names(app, w).await;
            let p = if allowed {
                let form = b.get(path).await;
                ensure!(
                    form.status == StatusCode::OK,
                    "service form should open, got {}",
                    form.status
                );
                let fields = with(
                    &form.form_values(path),
                    &[("opening_times", &format!("Changed by {tag}"))],
                );
                b.post_pairs(path, &fields).await
            } else {
                b.post_form_from(
                    "/directory",
                    path,
                    &[("name", "Hijacked"), ("version", "1")],
                )
                .await
            };
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER,
                    "saving a service should be 303, got {}: {}",
                    p.status,
                    p.snippet()
                );
                let shown = b.get(p.location().unwrap_or("/")).await;
                ensure!(
                    shown.main_text().contains(&format!("Changed by {tag}")),
                    "the change is not shown"
                );
            } else {
                ensure!(
                    service_names(app, w).await == before,
                    "a refused request changed the directory"
                );
            }
            Ok(p)
        }
        "/people/{id}/referrals" => {
            let person = person.expect("person target");
            let before = referral_count(app, w, f, person).await;
            let service = if person.org == w.org_a {
                f.service_a
            } else {
                f.service_b
            };
            let respond = (today() + Duration::days(10)).to_string();
            let p = b
                .post_form_from(
                    "/directory",
                    path,
                    &[
                        ("service", service.to_string().as_str()),
                        ("reason", "Wants to be more active"),
                        ("send_now", "yes"),
                        ("respond_by", respond.as_str()),
                    ],
                )
                .await;
            let after = referral_count(app, w, f, person).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location().is_some_and(|l| l.ends_with("?created=1")),
                    "creating a referral should be 303, got {} {:?}: {}",
                    p.status,
                    p.location(),
                    p.snippet()
                );
                ensure!(after == before + 1, "no referral was stored");
            } else {
                ensure!(after == before, "a refused request stored a referral");
            }
            Ok(p)
        }
        "/people/{id}/referrals/{rid}" => {
            let person = person.expect("person target");
            if allowed {
                // A fresh draft, so the shared referral keeps its state for the other cells.
                let actor = w.account(Role::Coordinator).actor();
                let rid = app
                    .store
                    .create_service_referral(
                        &actor,
                        person.id,
                        f.service_a,
                        "Matrix draft",
                        ReferralOptions::default(),
                        today(),
                        src(),
                    )
                    .await
                    .map_err(|e| format!("fresh referral: {e}"))?;
                let path = format!("/people/{}/referrals/{rid}", person.id);
                let form = b.get(&path).await;
                ensure!(
                    form.status == StatusCode::OK,
                    "referral page should open, got {}",
                    form.status
                );
                let respond = (today() + Duration::days(7)).to_string();
                let fields = with(
                    &form.form_values(&path),
                    &[("step", "send"), ("respond_by", respond.as_str())],
                );
                let p = b.post_pairs(&path, &fields).await;
                ensure!(
                    p.status == StatusCode::SEE_OTHER,
                    "recording a step should be 303, got {}: {}",
                    p.status,
                    p.snippet()
                );
                let (status, _, steps) = referral_state(app, w, f, person, rid).await;
                ensure!(
                    status == "sent" && steps == 2,
                    "the step was not recorded: {status} with {steps} steps"
                );
                Ok(p)
            } else {
                let rid = f.referral(person.id);
                let before = referral_state(app, w, f, person, rid).await;
                let p = b
                    .post_form_from(
                        "/directory",
                        path,
                        &[("step", "withdraw"), ("version", &before.1.to_string())],
                    )
                    .await;
                ensure!(
                    referral_state(app, w, f, person, rid).await == before,
                    "a refused step changed the referral"
                );
                Ok(p)
            }
        }
        "/people/{id}/plan/edit" => {
            let person = person.expect("person target");
            let before = plan_version(app, w, f, person).await;
            let marker = format!("Plan changed by {tag}");
            let p = if allowed {
                let form = b.get(path).await;
                ensure!(
                    form.status == StatusCode::OK,
                    "plan form should open, got {}",
                    form.status
                );
                let fields = with(&form.form_values(path), &[("contingency", marker.as_str())]);
                b.post_pairs(path, &fields).await
            } else {
                let mut fields: Vec<(String, String)> = plan_fields("Hijacked plan");
                fields.push(("base_version".into(), before.to_string()));
                b.post_form_from("/directory", path, &fields).await
            };
            let after = plan_version(app, w, f, person).await;
            if allowed {
                ensure!(
                    p.status == StatusCode::SEE_OTHER
                        && p.location()
                            == Some(&format!("/people/{}/plan?saved={}", person.id, before + 1)),
                    "saving the plan should be 303 to it, got {} {:?}: {}",
                    p.status,
                    p.location(),
                    p.snippet()
                );
                ensure!(after == before + 1, "no new version: {before} -> {after}");
                let shown = b.get(&format!("/people/{}/plan", person.id)).await;
                ensure!(
                    shown.main_text().contains(&marker),
                    "the saved plan does not show the change"
                );
            } else {
                ensure!(
                    after == before,
                    "a refused save wrote a version: {before} -> {after}"
                );
            }
            Ok(p)
        }
        other => Err(format!("no POST exerciser for {other}")),
    }
}

/// A valid plan form as a browser would submit it (no CSRF token, no base version).
pub fn plan_fields(what_matters: &str) -> Vec<(String, String)> {
    let review = today() + Duration::days(60);
    [
        ("what_matters", what_matters.to_string()),
        ("strengths", "Good with routines".to_string()),
        ("action_rows", "2".to_string()),
        ("action_what_1", "Join the walking group".to_string()),
        ("action_who_1", "Me, with my coach".to_string()),
        ("action_by_1", String::new()),
        ("action_what_2", String::new()),
        ("action_who_2", String::new()),
        ("action_by_2", String::new()),
        ("support", "coaching".to_string()),
        ("contingency", "Call the practice".to_string()),
        ("review_day", review.day().to_string()),
        ("review_month", (review.month() as u8).to_string()),
        ("review_year", review.year().to_string()),
        ("agreed", "no".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Content checks for the matrix's allowed GET pages of these routes; `None` for other routes.
pub fn check_page(
    f: &Fixture,
    role: Role,
    template: &str,
    person: Option<&Person>,
    same_org_service: Option<bool>,
    p: &Page,
) -> Option<Result<(), String>> {
    let check = || -> Result<(), String> {
        let own = role == Role::Person;
        match template {
            "/directory" => {
                ensure!(p.h1() == "Service directory", "h1 {:?}", p.h1());
                ensure!(
                    p.main_text().contains("Breathe Easy Riverside"),
                    "the directory should list the organisation's service"
                );
                ensure!(
                    !p.body.contains("Hillside Quit Team"),
                    "the directory shows another organisation's service"
                );
            }
            "/directory/new" => ensure!(p.h1() == "Add a service", "h1 {:?}", p.h1()),
            "/directory/{id}" => {
                ensure!(
                    same_org_service == Some(true),
                    "another organisation's service was served"
                );
                ensure!(p.h1() == "Breathe Easy Riverside", "h1 {:?}", p.h1());
                ensure!(
                    p.main_text().contains("SNOMED CT 13645005"),
                    "conditions should show their SNOMED codes"
                );
            }
            "/directory/{id}/edit" => {
                ensure!(p.h1() == "Change a service", "h1 {:?}", p.h1());
                ensure!(
                    p.input_values("name")
                        .first()
                        .is_some_and(|n| n.starts_with("Breathe Easy")),
                    "form name {:?}",
                    p.input_values("name")
                );
                let _ = f;
            }
            "/referrals/overdue" => ensure!(p.h1() == "Overdue referrals", "h1 {:?}", p.h1()),
            "/people/{id}/referrals" => {
                ensure!(p.h1() == "Referrals to other services", "h1 {:?}", p.h1());
                ensure!(
                    p.main_text().contains("Breathe Easy Riverside"),
                    "the list should show the referral"
                );
                let person = person.expect("person");
                ensure!(
                    own || p.main_text().contains(&person.name()),
                    "the page should name the person"
                );
            }
            "/people/{id}/referrals/new" => {
                ensure!(p.h1() == "Refer to a service", "h1 {:?}", p.h1());
                ensure!(
                    p.body.contains("Breathe Easy Riverside"),
                    "the service should be offered"
                );
            }
            "/people/{id}/referrals/{rid}" => {
                ensure!(p.h1() == "Breathe Easy Riverside", "h1 {:?}", p.h1());
                ensure!(
                    p.main_text().contains("Would like to meet others"),
                    "the reason should show"
                );
                ensure!(p.main_text().contains("Sent on"), "the steps should show");
                ensure!(
                    p.body.contains("name=\"step\"")
                        == matches!(role, Role::Coordinator | Role::HealthCoach),
                    "step form shown exactly to those who may record steps"
                );
            }
            "/people/{id}/plan" => {
                let expected = if own {
                    "Your care and support plan"
                } else {
                    "Care and support plan"
                };
                ensure!(p.h1() == expected, "h1 {:?}, expected {expected:?}", p.h1());
                ensure!(
                    p.main_text().contains("Walking to the allotment again"),
                    "the current version should show"
                );
                // Version 2 from the fixture, or later after the matrix's own saves.
                ensure!(
                    p.main_text().contains(", saved by "),
                    "the version should be named"
                );
            }
            "/people/{id}/plan/edit" => {
                ensure!(
                    p.h1() == "Change the care and support plan",
                    "h1 {:?}",
                    p.h1()
                );
                let base = p.input_values("base_version");
                ensure!(
                    base.len() == 1 && base[0].parse::<i64>().is_ok_and(|v| v >= 2),
                    "base version {base:?}"
                );
            }
            "/people/{id}/plan/versions" => {
                ensure!(p.h1() == "Versions of the plan", "h1 {:?}", p.h1());
                ensure!(
                    p.main_text().contains("Version 1") && p.main_text().contains("Version 2"),
                    "both versions should be listed"
                );
            }
            "/people/{id}/plan/versions/{n}" => {
                ensure!(p.h1() == "Version 1 of the plan", "h1 {:?}", p.h1());
                ensure!(
                    p.main_text().contains("First: walking to the shops"),
                    "version 1's content should show"
                );
            }
            "/people/{id}/plan/print" => {
                ensure!(p.h1() == "My care and support plan", "h1 {:?}", p.h1());
                ensure!(
                    p.body.contains("@page") && p.body.contains("size: A4"),
                    "print page without A4 rules"
                );
            }
            "/people/{id}/plan/download" => {
                let v: serde_json::Value = serde_json::from_str(&p.body)
                    .map_err(|e| format!("download is not JSON: {e}"))?;
                ensure!(
                    v["resourceType"] == "CarePlan",
                    "resourceType {:?}",
                    v["resourceType"]
                );
                ensure!(
                    p.header("content-disposition")
                        .is_some_and(|d| d.starts_with("attachment")),
                    "download should be an attachment"
                );
            }
            other => return Err(format!("no content check for {other}")),
        }
        Ok(())
    };
    let handled = template.starts_with("/directory")
        || template.starts_with("/referrals")
        || template.contains("/referrals")
        || template.contains("/plan");
    handled.then(check)
}

// ---- behaviour tests --------------------------------------------------------------------------

async fn setup(backend: Backend) -> (TestApp, World) {
    let app = spawn_app(backend).await;
    let w = world(&app).await;
    (app, w)
}

async fn add_service(app: &TestApp, w: &World, name: &str, kind: &str) -> ServiceId {
    app.store
        .create_service(
            &w.account(Role::Coordinator).actor(),
            service_details(name, kind),
            src(),
        )
        .await
        .expect("service")
}

fn plan_path(p: &Person) -> String {
    format!("/people/{}/plan", p.id)
}

async fn care_plan_versions_and_stale_saves(backend: Backend) {
    let (app, w) = setup(backend).await;
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let person = &w.on_caseload;
    let edit = format!("{}/edit", plan_path(person));

    let empty = coach.get(&plan_path(person)).await;
    empty.assert_status(StatusCode::OK, "no plan yet");
    assert!(empty
        .main_text()
        .contains("There is no care and support plan yet"));
    let form = coach.get(&edit).await;
    assert_eq!(form.h1(), "Write the care and support plan");
    assert_eq!(form.input_values("base_version"), vec!["0"]);

    // Version 1, written by the coach.
    let mut fields = plan_fields("Dancing at my granddaughter's wedding");
    fields.push(("base_version".into(), "0".into()));
    let saved = coach.post_form(&edit, &fields).await;
    saved.assert_redirect(&format!("{}?saved=1", plan_path(person)), "first save");
    let shown = coach.get(&format!("{}?saved=1", plan_path(person))).await;
    assert!(shown.main_text().contains("Plan saved as version 1"));
    assert!(shown
        .main_text()
        .contains("Dancing at my granddaughter's wedding"));
    assert!(shown.main_text().contains("Version 1, saved by Hana Coach"));
    assert!(shown.main_text().contains("Join the walking group"));

    // Version 2 from the form as the browser shows it, one field changed.
    let form = coach.get(&edit).await;
    assert_eq!(form.input_values("base_version"), vec!["1"]);
    let fields = with(
        &form.form_values(&edit),
        &[("contingency", "Use my rescue pack and ring the COPD nurse")],
    );
    coach
        .post_pairs(&edit, &fields)
        .await
        .assert_redirect(&format!("{}?saved=2", plan_path(person)), "second save");

    // The coordinator opens the form at version 2; the coach saves version 3 first.
    let stale_form = coord.get(&edit).await;
    assert_eq!(stale_form.input_values("base_version"), vec!["2"]);
    let form = coach.get(&edit).await;
    let fields = with(
        &form.form_values(&edit),
        &[("needs", "Help with the stairs at home")],
    );
    coach
        .post_pairs(&edit, &fields)
        .await
        .assert_redirect(&format!("{}?saved=3", plan_path(person)), "third save");
    let refused_before = app
        .count_audit(w.org_a, "care_plan.save", Some("refused"))
        .await;
    let fields = with(
        &stale_form.form_values(&edit),
        &[("what_matters", "Coordinator's overwrite")],
    );
    let stale = coord.post_pairs(&edit, &fields).await;
    stale.assert_status(StatusCode::CONFLICT, "stale save");
    stale.assert_error(
        "what_matters",
        "Someone else changed this plan (it is now at version 3) while you were editing it. Nothing was saved: here is the latest.",
        "stale save",
    );
    assert_eq!(
        stale.input_values("base_version"),
        vec!["3"],
        "the form is now based on the latest"
    );
    assert!(
        stale.body.contains("Help with the stairs at home"),
        "the latest version is shown"
    );
    assert!(
        stale.main_text().contains("Your changes were not saved")
            && stale.main_text().contains("Coordinator's overwrite"),
        "their unsaved text is shown back"
    );
    assert_eq!(
        app.count_audit(w.org_a, "care_plan.save", Some("refused"))
            .await,
        refused_before + 1
    );
    let view = app
        .store
        .care_plan(
            &w.account(Role::Coordinator).actor(),
            person.id,
            PlanPurpose::View,
            src(),
        )
        .await
        .unwrap();
    assert_eq!(
        view.versions.len(),
        3,
        "nothing was written by the stale save"
    );
    assert_eq!(
        view.versions[0].content.what_matters, "Dancing at my granddaughter's wedding",
        "version 1 was never overwritten"
    );
    assert_eq!(
        view.versions[2].content.needs.as_deref(),
        Some("Help with the stairs at home")
    );

    // The list of versions, one old version, and a comparison.
    let list = coord.get(&format!("{}/versions", plan_path(person))).await;
    list.assert_status(StatusCode::OK, "versions");
    for n in 1..=3 {
        assert!(
            list.main_text().contains(&format!("Version {n}")),
            "version {n} listed"
        );
    }
    assert!(list.main_text().contains("Version 3 (current)"));
    let v1 = coord
        .get(&format!("{}/versions/1", plan_path(person)))
        .await;
    assert_eq!(v1.h1(), "Version 1 of the plan");
    assert!(v1.main_text().contains("This is an earlier version"));
    assert!(
        !v1.main_text().contains("rescue pack"),
        "version 1 shows version 1's content"
    );
    let cmp = coord
        .get(&format!("{}/versions?from=1&to=2", plan_path(person)))
        .await;
    assert!(cmp
        .main_text()
        .contains("What changed from version 1 to version 2"));
    let rows: Vec<String> = {
        let doc = cmp.html();
        let sel = scraper::Selector::parse("table.comparison tbody th").unwrap();
        doc.select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    };
    assert_eq!(
        rows,
        vec!["If things get worse"],
        "only the changed field is compared"
    );
    assert!(
        cmp.main_text().contains("Call the practice")
            && cmp
                .main_text()
                .contains("Use my rescue pack and ring the COPD nurse")
    );
    coord
        .get(&format!("{}/versions?from=1&to=9", plan_path(person)))
        .await
        .assert_status(StatusCode::NOT_FOUND, "missing version compared");
    coord
        .get(&format!("{}/versions/9", plan_path(person)))
        .await
        .assert_status(StatusCode::NOT_FOUND, "missing version");
    app.assert_audit_verifies().await;
}

async fn care_plan_access_is_decided_and_audited(backend: Backend) {
    let (app, w) = setup(backend).await;
    let coord = w.account(Role::Coordinator).actor();
    for p in [&w.on_caseload, &w.off_caseload, &w.own] {
        app.store
            .save_care_plan(
                &coord,
                p.id,
                0,
                plan_content(&format!("What matters to {}", p.given), "Ring 111"),
                src(),
            )
            .await
            .unwrap();
    }
    // A coach off the caseload: refused, and the refusal is in the audit log with whose plan.
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let before = app
        .count_audit(w.org_a, "care_plan.read", Some("refused"))
        .await;
    let p = coach.get(&plan_path(&w.off_caseload)).await;
    p.assert_status(StatusCode::FORBIDDEN, "coach off caseload");
    assert!(!p.body.contains("What matters to Octavian"));
    let audit = app.audit(w.org_a).await;
    let refusal = audit
        .iter()
        .find(|e| e.action == "care_plan.read" && e.outcome == "refused")
        .expect("refusal audited");
    assert_eq!(
        refusal.person_id.as_deref(),
        Some(w.off_caseload.id.to_string().as_str())
    );
    assert_eq!(
        app.count_audit(w.org_a, "care_plan.read", Some("refused"))
            .await,
        before + 1
    );
    let p = coach
        .post_form_from(
            &plan_path(&w.on_caseload),
            &format!("{}/edit", plan_path(&w.off_caseload)),
            &with(&plan_fields("Coach overwrite"), &[("base_version", "1")]),
        )
        .await;
    p.assert_status(StatusCode::FORBIDDEN, "coach saving off caseload");
    coach
        .get(&plan_path(&w.on_caseload))
        .await
        .assert_status(StatusCode::OK, "coach on caseload");

    // The person: their own plan (and versions, print, download), never anyone else's.
    let person = app.sign_in("person", PASSWORD).await;
    let home = person.get("/").await;
    assert!(
        home.body
            .contains(&format!("href=\"{}\"", plan_path(&w.own)))
            && home.main_text().contains("Your care and support plan"),
        "the person's home page links to their plan"
    );
    let reads_before = app
        .count_audit(w.org_a, "care_plan.read", Some("allowed"))
        .await;
    let mine = person.get(&plan_path(&w.own)).await;
    mine.assert_status(StatusCode::OK, "own plan");
    assert_eq!(mine.h1(), "Your care and support plan");
    assert!(mine.main_text().contains("What matters to Selwyn"));
    assert!(
        !mine.body.contains(&format!("{}/edit", plan_path(&w.own))),
        "a person is not offered to edit"
    );
    for suffix in ["/versions", "/versions/1", "/print"] {
        person
            .get(&format!("{}{suffix}", plan_path(&w.own)))
            .await
            .assert_status(StatusCode::OK, suffix);
    }
    assert_eq!(
        app.count_audit(w.org_a, "care_plan.read", Some("allowed"))
            .await,
        reads_before + 4,
        "every read is audited"
    );
    person
        .get(&format!("{}/download", plan_path(&w.own)))
        .await
        .assert_status(StatusCode::OK, "own download");
    assert_eq!(
        app.count_audit(w.org_a, "care_plan.download", Some("allowed"))
            .await,
        1
    );
    person
        .get(&plan_path(&w.on_caseload))
        .await
        .assert_status(StatusCode::FORBIDDEN, "someone else's plan");
    person
        .get(&format!("{}/edit", plan_path(&w.own)))
        .await
        .assert_status(StatusCode::FORBIDDEN, "a person does not edit");
    let before = app
        .store
        .care_plan(&coord, w.own.id, PlanPurpose::View, src())
        .await
        .unwrap()
        .versions
        .len();
    person
        .post_form_from(
            &plan_path(&w.own),
            &format!("{}/edit", plan_path(&w.own)),
            &with(&plan_fields("My own rewrite"), &[("base_version", "1")]),
        )
        .await
        .assert_status(StatusCode::FORBIDDEN, "person saving");
    assert_eq!(
        app.store
            .care_plan(&coord, w.own.id, PlanPurpose::View, src())
            .await
            .unwrap()
            .versions
            .len(),
        before
    );

    // Analyst and volunteer: refused; another organisation: not found.
    for role in ["analyst", "volunteer", "educator"] {
        let b = app.sign_in(role, PASSWORD).await;
        let p = b.get(&plan_path(&w.own)).await;
        p.assert_status(StatusCode::FORBIDDEN, role);
        assert!(!p.body.contains("What matters to Selwyn"));
        b.get(&format!("/people/{}/referrals", w.own.id))
            .await
            .assert_status(StatusCode::FORBIDDEN, role);
    }
    let other = app.sign_in("hillside.admin", PASSWORD).await;
    for suffix in ["", "/versions", "/print", "/download"] {
        other
            .get(&format!("{}{suffix}", plan_path(&w.own)))
            .await
            .assert_status(StatusCode::NOT_FOUND, "other organisation");
    }
    app.assert_audit_verifies().await;
}

async fn care_plan_bad_input(backend: Backend) {
    let (app, w) = setup(backend).await;
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let person = &w.on_caseload;
    let edit = format!("{}/edit", plan_path(person));
    let coord = w.account(Role::Coordinator).actor();
    let count = || async {
        app.store
            .care_plan(&coord, person.id, PlanPurpose::View, src())
            .await
            .unwrap()
            .versions
            .len()
    };
    let good = with(
        &plan_fields("Seeing the sea again"),
        &[("base_version", "0")],
    );
    let past = today() - Duration::days(3);
    type Case<'a> = (&'a str, Vec<(String, String)>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "empty what matters",
            with(&good, &[("what_matters", "   ")]),
            vec![("what_matters", "Enter what matters to the person")],
        ),
        (
            "action without who",
            with(&good, &[("action_what_2", "Book a flu jab")]),
            vec![("action_who_2", "Enter who will do action 2")],
        ),
        (
            "bad action date",
            with(&good, &[("action_by_1", "31/2/2027")]),
            vec![(
                "action_by_1",
                "The date for action 1 must be a real date, like 15/3/2027",
            )],
        ),
        (
            "review date in the past",
            with(
                &good,
                &[
                    ("review_day", &past.day().to_string()),
                    ("review_month", &(past.month() as u8).to_string()),
                    ("review_year", &past.year().to_string()),
                ],
            ),
            vec![(
                "review_day",
                "The review date must be today or in the future",
            )],
        ),
        (
            "no review date",
            with(
                &good,
                &[
                    ("review_day", ""),
                    ("review_month", ""),
                    ("review_year", ""),
                ],
            ),
            vec![("review_day", "Enter the review date")],
        ),
        (
            "agreed without a date",
            with(&good, &[("agreed", "yes")]),
            vec![("agreed_day", "Enter the date the person agreed the plan")],
        ),
        (
            "agreed not chosen",
            without(&good, &["agreed"]),
            vec![("agreed", "Select whether the person has agreed this plan")],
        ),
        (
            "unknown support",
            with(&good, &[("support", "astrology")]),
            vec![("support", "Select the support they receive from the list")],
        ),
        (
            "too long",
            with(&good, &[("strengths", &"a".repeat(4001))]),
            vec![(
                "strengths",
                "Their strengths must be 4000 characters or fewer",
            )],
        ),
        (
            "repeated field",
            {
                let mut f = good.clone();
                f.push(("what_matters".into(), "A second answer".into()));
                f
            },
            vec![(
                "what_matters",
                "This was sent more than once: enter it once and try again",
            )],
        ),
    ];
    for (ctx, fields, errors) in cases {
        let p = coach.post_form(&edit, &fields).await;
        p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, ctx);
        for (field, message) in errors {
            p.assert_error(field, message, ctx);
        }
        assert_eq!(count().await, 0, "{ctx}: nothing written");
    }
    // Hostile text is stored as text and shown escaped.
    let p = coach
        .post_form(
            &edit,
            &with(&good, &[("what_matters", "<script>alert(1)</script>")]),
        )
        .await;
    p.assert_redirect(&plan_path(person), "hostile text saved as text");
    let shown = coach.get(&plan_path(person)).await;
    assert!(
        !shown.body.contains("<script>alert(1)</script>") && shown.body.contains("&lt;script&gt;")
    );
    // No CSRF token, no base version: refused, nothing written.
    let p = coach.post_pairs(&edit, &good).await;
    p.assert_status(StatusCode::FORBIDDEN, "no CSRF token");
    let p = coach
        .post_form(&edit, &without(&good, &["base_version"]))
        .await;
    p.assert_status(StatusCode::BAD_REQUEST, "no base version");
    assert_eq!(count().await, 1);
}

async fn care_plan_print_and_fhir_download(backend: Backend) {
    let (app, w) = setup(backend).await;
    let coord_actor = w.account(Role::Coordinator).actor();
    let service = add_service(
        &app,
        &w,
        "Riverside Stop Smoking Service",
        "smoking_cessation",
    )
    .await;
    app.store
        .create_service_referral(
            &coord_actor,
            w.own.id,
            service,
            "Wants to stop smoking",
            ReferralOptions {
                respond_by: Some(today() + Duration::days(14)),
                send_now: true,
                ..Default::default()
            },
            today(),
            src(),
        )
        .await
        .unwrap();
    app.store
        .save_care_plan(
            &coord_actor,
            w.own.id,
            0,
            plan_content(
                "Gardening without getting breathless",
                "Use the rescue pack; call 111",
            ),
            src(),
        )
        .await
        .unwrap();
    let person = app.sign_in("person", PASSWORD).await;

    let print = person.get(&format!("{}/print", plan_path(&w.own))).await;
    print.assert_status(StatusCode::OK, "print");
    assert_eq!(print.h1(), "My care and support plan");
    for needle in [
        "@page",
        "size: A4",
        "@media print",
        "Gardening without getting breathless",
        "Use the rescue pack; call 111",
        "Riverside Stop Smoking Service (sent)",
        "Walk to the end of the road each morning",
    ] {
        assert!(print.body.contains(needle), "print page lacks {needle:?}");
    }
    let csp = print.header("content-security-policy").expect("CSP");
    assert!(
        csp.contains("style-src 'sha256-") && csp.contains("script-src 'none'"),
        "the print page's CSP allows its own style by hash only: {csp}"
    );

    let dl = person.get(&format!("{}/download", plan_path(&w.own))).await;
    dl.assert_status(StatusCode::OK, "download");
    assert!(dl
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/fhir+json")));
    let disposition = dl.header("content-disposition").expect("disposition");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"care-plan-{}-v1.json\"", w.own.id)
    );
    let v: serde_json::Value = serde_json::from_str(&dl.body).expect("JSON");
    assert_eq!(v["resourceType"], "CarePlan");
    assert_eq!(v["status"], "active");
    assert_eq!(v["intent"], "plan");
    assert_eq!(v["meta"]["versionId"], "1");
    assert_eq!(v["subject"]["reference"], format!("Patient/{}", w.own.id));
    assert_eq!(v["description"], "Gardening without getting breathless");
    let notes: Vec<&str> = v["note"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert!(
        notes.contains(&"If things get worse: Use the rescue pack; call 111"),
        "{notes:?}"
    );
    let activity = v["activity"].as_array().unwrap();
    assert!(activity.iter().any(|a| a["detail"]["kind"] == "Task"
        && a["detail"]["description"] == "Walk to the end of the road each morning"
        && a["detail"]["performer"][0]["display"] == "Me"));
    assert!(activity
        .iter()
        .any(|a| a["detail"]["kind"] == "ServiceRequest" && a["detail"]["status"] == "scheduled"));
    validate_with_fhir_resources(&dl.body);
}

/// Validates a CarePlan with the Python `fhir.resources` package (R4B models, whose CarePlan
/// is R4's), installed by `scripts/test`.
fn validate_with_fhir_resources(json: &str) {
    let python = std::env::var("ALONGSIDE_PYTHON").unwrap_or_else(|_| "python3".into());
    let path = std::env::temp_dir().join(format!("alongside-careplan-{}.json", uuid_like()));
    std::fs::write(&path, json).expect("write JSON");
    let code = "import sys, json\nfrom fhir.resources.R4B.careplan import CarePlan\ndata = open(sys.argv[1]).read()\nm = CarePlan.model_validate_json(data) if hasattr(CarePlan, 'model_validate_json') else CarePlan.parse_raw(data)\nprint('valid', type(m).__name__, len(m.activity or []))\n";
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(code)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}. Run scripts/test (which installs fhir.resources) or set ALONGSIDE_PYTHON."));
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "fhir.resources refused the CarePlan (or is not installed: run scripts/test, or pip install fhir.resources and set ALONGSIDE_PYTHON): {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        json
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("valid CarePlan"), "{stdout}");
}

fn uuid_like() -> String {
    format!("{}-{}", std::process::id(), PersonId::new())
}

async fn referral_life_cycle_and_overdue(backend: Backend) {
    let (app, w) = setup(backend).await;
    let service = add_service(&app, &w, "Riverside Talking Therapies", "talking_therapies").await;
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let person = &w.on_caseload;
    let list = format!("/people/{}/referrals", person.id);

    // A draft, created through the form.
    let new = coach.get(&format!("{list}/new")).await;
    assert_eq!(new.h1(), "Refer to a service");
    assert!(new.body.contains("Riverside Talking Therapies"));
    let p = coach
        .post_form_from(
            &format!("{list}/new"),
            &list,
            &[
                ("service", service.to_string().as_str()),
                ("reason", "Low mood since the winter"),
                ("send_now", "no"),
            ],
        )
        .await;
    p.assert_status(StatusCode::SEE_OTHER, "draft");
    let page_path = p.location().unwrap().split('?').next().unwrap().to_string();
    let rid: ServiceReferralId = page_path.rsplit('/').next().unwrap().parse().unwrap();
    let state = || async {
        let (_, r) = app
            .store
            .service_referral(&w.account(Role::Coordinator).actor(), person.id, rid, src())
            .await
            .unwrap();
        (
            r.status.code().to_string(),
            r.steps.len(),
            r.outcome.clone(),
        )
    };
    assert_eq!(state().await, ("drafted".into(), 1, None));
    let page = coach.get(&page_path).await;
    assert_eq!(page.h1(), "Riverside Talking Therapies");
    assert!(page.main_text().contains("Drafted on") && page.main_text().contains("by Hana Coach"));

    // Completing a draft is refused with a clear message, nothing written.
    let version = |p: &Page| {
        p.input_values("version")
            .first()
            .cloned()
            .unwrap_or_default()
    };
    let v = version(&page);
    let p = coach
        .post_form(
            &page_path,
            &[
                ("step", "complete"),
                ("outcome", "Finished"),
                ("version", &v),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "complete a draft");
    p.assert_error(
        "step",
        "This referral has not been sent yet: mark it as sent first",
        "complete a draft",
    );
    assert_eq!(state().await, ("drafted".into(), 1, None));
    // Sending needs a response date.
    let p = coach
        .post_form(&page_path, &[("step", "send"), ("version", &v)])
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "send without date");
    p.assert_error(
        "respond_by",
        "Enter the date a response is expected by, so an unanswered referral is noticed",
        "send without date",
    );
    assert_eq!(state().await.0, "drafted");
    // Send, accept, then complete (the outcome is required).
    let respond = (today() + Duration::days(14)).to_string();
    coach
        .post_form(
            &page_path,
            &[
                ("step", "send"),
                ("respond_by", respond.as_str()),
                ("version", &v),
            ],
        )
        .await
        .assert_redirect(&page_path, "send");
    // The same (now stale) form again: refused as changed by someone else.
    let p = coach
        .post_form(&page_path, &[("step", "withdraw"), ("version", &v)])
        .await;
    p.assert_status(StatusCode::CONFLICT, "stale step");
    assert_eq!(state().await.0, "sent");
    let page = coach.get(&page_path).await;
    let v = version(&page);
    let p = coach
        .post_form(&page_path, &[("step", "decline"), ("version", &v)])
        .await;
    p.assert_error(
        "note",
        "Enter why the service declined the referral",
        "decline without reason",
    );
    coach
        .post_form(&page_path, &[("step", "accept"), ("version", &v)])
        .await
        .assert_redirect(&page_path, "accept");
    let v = version(&coach.get(&page_path).await);
    let future = (today() + Duration::days(2)).to_string();
    let p = coach
        .post_form(
            &page_path,
            &[
                ("step", "complete"),
                ("version", &v),
                ("on", future.as_str()),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "complete without outcome");
    p.assert_error(
        "outcome",
        "Enter the outcome of the referral to complete it",
        "complete without outcome",
    );
    p.assert_error(
        "on",
        "The date it happened must be today or in the past",
        "future date",
    );
    assert_eq!(state().await.0, "accepted");
    coach
        .post_form(
            &page_path,
            &[
                ("step", "complete"),
                ("version", &v),
                ("outcome", "Six sessions; sleeping better"),
            ],
        )
        .await
        .assert_redirect(&page_path, "complete");
    assert_eq!(
        state().await,
        (
            "completed".into(),
            4,
            Some("Six sessions; sleeping better".into())
        )
    );
    let done = coach.get(&page_path).await;
    for needle in [
        "Drafted on",
        "Sent on",
        "Accepted on",
        "Completed on",
        "Six sessions; sleeping better",
    ] {
        assert!(done.main_text().contains(needle), "{needle}");
    }
    assert!(
        !done.body.contains("name=\"step\""),
        "a completed referral offers no more steps"
    );
    // A closed referral's page has no form: the stored version after three steps is 4.
    let p = coach
        .post_form(&page_path, &[("step", "withdraw"), ("version", "4")])
        .await;
    p.assert_error(
        "step",
        "This referral is completed: it cannot be changed any more",
        "closed",
    );
    assert_eq!(
        app.count_audit(w.org_a, "service_referral.update", Some("allowed"))
            .await,
        3
    );

    // Bad input on the new-referral form.
    let before = app
        .store
        .person_referrals(&w.account(Role::Coordinator).actor(), person.id, src())
        .await
        .unwrap()
        .referrals
        .len();
    let p = coach
        .post_form_from(
            &format!("{list}/new"),
            &list,
            &[
                ("service", ""),
                ("reason", ""),
                ("send_now", "yes"),
                ("respond_by", "1/1/2020"),
            ],
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad referral");
    p.assert_error("service", "Select the service to refer to", "bad referral");
    p.assert_error(
        "reason",
        "Enter the reason for the referral",
        "bad referral",
    );
    p.assert_error(
        "respond_by",
        "The date a response is expected by must be today or in the future",
        "bad referral",
    );
    let p = coach
        .post_form_from(
            &format!("{list}/new"),
            &list,
            &[
                ("service", PersonId::new().to_string().as_str()),
                ("reason", "x"),
                ("send_now", "no"),
            ],
        )
        .await;
    p.assert_error(
        "service",
        "Select a service from the directory",
        "unknown service",
    );
    assert_eq!(
        app.store
            .person_referrals(&w.account(Role::Coordinator).actor(), person.id, src())
            .await
            .unwrap()
            .referrals
            .len(),
        before
    );

    // The person sees their own referrals, and cannot record steps.
    app.store
        .add_to_caseload(w.org_a, w.account(Role::HealthCoach).id, w.own.id)
        .await
        .unwrap();
    let rid_own = app
        .store
        .create_service_referral(
            &w.account(Role::HealthCoach).actor(),
            w.own.id,
            service,
            "Worry about money",
            ReferralOptions::default(),
            today(),
            src(),
        )
        .await
        .unwrap();
    let me = app.sign_in("person", PASSWORD).await;
    let mine = me.get(&format!("/people/{}/referrals", w.own.id)).await;
    assert!(
        mine.main_text().contains("Your referrals")
            && mine.main_text().contains("Riverside Talking Therapies")
    );
    let own_path = format!("/people/{}/referrals/{rid_own}", w.own.id);
    me.post_form(
        &own_path,
        &[
            ("step", "send"),
            ("version", "1"),
            ("respond_by", respond.as_str()),
        ],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN, "person recording a step");
    me.get(&list)
        .await
        .assert_status(StatusCode::FORBIDDEN, "someone else's referrals");

    // Overdue: sent and unanswered, accepted and not complete; oldest first, with days.
    let coord = w.account(Role::Coordinator).actor();
    let mk = |who: PersonId, respond: i64, complete: Option<i64>| {
        let store = app.store.clone();
        let coord = coord.clone();
        async move {
            store
                .create_service_referral(
                    &coord,
                    who,
                    service,
                    "overdue test",
                    ReferralOptions {
                        respond_by: Some(today() + Duration::days(respond)),
                        complete_by: complete.map(|c| today() + Duration::days(c)),
                        send_now: true,
                        ..Default::default()
                    },
                    today(),
                    src(),
                )
                .await
                .unwrap()
        }
    };
    mk(w.off_caseload.id, -10, None).await;
    mk(w.own.id, -3, None).await;
    mk(w.on_caseload.id, 5, None).await; // not yet due
    let accepted = mk(w.on_caseload.id, 5, Some(-5)).await;
    app.store
        .move_service_referral(
            &coord,
            w.on_caseload.id,
            accepted,
            1,
            StepInput {
                step: ReferralStep::Accept,
                on: today(),
                note: None,
                outcome: None,
                respond_by: None,
                complete_by: None,
            },
            src(),
        )
        .await
        .unwrap();
    let b = app.sign_in("coordinator", PASSWORD).await;
    let overdue = b.get("/referrals/overdue").await;
    overdue.assert_status(StatusCode::OK, "overdue");
    let rows: Vec<Vec<String>> = {
        let doc = overdue.html();
        let tr = scraper::Selector::parse("tbody tr").unwrap();
        let td = scraper::Selector::parse("td").unwrap();
        doc.select(&tr)
            .map(|r| {
                r.select(&td)
                    .map(|c| c.text().collect::<String>().trim().to_string())
                    .collect()
            })
            .collect()
    };
    let summary: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[2].clone(), r[4].clone()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                w.off_caseload.name(),
                "A response".to_string(),
                "10".to_string()
            ),
            (
                w.on_caseload.name(),
                "Completion".to_string(),
                "5".to_string()
            ),
            (w.own.name(), "A response".to_string(), "3".to_string()),
        ]
    );
    app.sign_in("health_coach", PASSWORD)
        .await
        .get("/referrals/overdue")
        .await
        .assert_status(StatusCode::FORBIDDEN, "coach");
    assert_eq!(
        app.count_audit(w.org_a, "service_referral.overdue", Some("refused"))
            .await,
        1
    );
    app.assert_audit_verifies().await;
}

async fn directory_search_edit_and_bad_input(backend: Backend) {
    let (app, w) = setup(backend).await;
    let coord = app.sign_in("coordinator", PASSWORD).await;
    let add = |fields: Vec<(&'static str, &'static str)>| {
        let coord = coord.clone();
        async move {
            coord
                .post_form_from("/directory/new", "/directory", &fields)
                .await
        }
    };
    let p = add(vec![
        ("name", "Breathe Easy Riverside"),
        ("kind", "peer_groups"),
        (
            "description",
            "A friendly group for people with lung conditions",
        ),
        ("conditions", "copd"),
        ("conditions", "asthma"),
        ("self_referral", "yes"),
        ("modes", "face_to_face"),
        ("languages", "en"),
        ("languages", "pl"),
        ("active", "yes"),
        ("phone", "01632 960 101"),
        ("email", "breathe@example.org"),
    ])
    .await;
    p.assert_redirect("/directory/", "add a service");
    let breathe = p.location().unwrap().to_string();
    add(vec![
        ("name", "MoneyWise Riverside"),
        ("kind", "debt_housing"),
        ("description", "Free debt and benefits advice"),
        ("self_referral", "yes"),
        ("modes", "telephone"),
        ("modes", "online"),
        ("languages", "en"),
        ("languages", "ur"),
        ("active", "yes"),
    ])
    .await
    .assert_redirect("/directory/", "add another");
    add(vec![
        ("name", "Closed Gym Scheme"),
        ("kind", "exercise_referral"),
        ("description", "No longer running"),
        ("self_referral", "no"),
        ("modes", "face_to_face"),
        ("languages", "en"),
        ("active", "no"),
    ])
    .await
    .assert_redirect("/directory/", "an inactive one");

    // Anyone signed in searches it, by need, condition, mode, language and words.
    let vol = app.sign_in("volunteer", PASSWORD).await;
    let names = |p: &Page| -> Vec<String> {
        let doc = p.html();
        let sel = scraper::Selector::parse(".service-list h3").unwrap();
        doc.select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    };
    let all = vol.get("/directory").await;
    assert_eq!(all.h1(), "Service directory");
    assert_eq!(
        names(&all),
        vec!["Breathe Easy Riverside", "MoneyWise Riverside"],
        "inactive services are not listed"
    );
    for (query, expected) in [
        ("need=debt_housing", vec!["MoneyWise Riverside"]),
        (
            "condition=copd",
            vec!["Breathe Easy Riverside", "MoneyWise Riverside"],
        ),
        ("condition=depression", vec!["MoneyWise Riverside"]),
        ("mode=online", vec!["MoneyWise Riverside"]),
        ("language=pl", vec!["Breathe Easy Riverside"]),
        ("q=LUNG+friendly", vec!["Breathe Easy Riverside"]),
        ("q=100%25", vec![]),
        ("need=debt_housing&language=pl", vec![]),
        (
            "need=nonsense&mode=%3Cscript%3E",
            vec!["Breathe Easy Riverside", "MoneyWise Riverside"],
        ),
    ] {
        let p = vol.get(&format!("/directory?{query}")).await;
        p.assert_status(StatusCode::OK, query);
        assert_eq!(names(&p), expected, "{query}");
    }
    let with_inactive = coord.get("/directory?inactive=yes").await;
    assert!(names(&with_inactive).contains(&"Closed Gym Scheme".to_string()));
    let shown = vol.get(&breathe).await;
    assert_eq!(shown.h1(), "Breathe Easy Riverside");
    assert!(
        shown.main_text().contains("SNOMED CT 13645005")
            && shown.main_text().contains("Polish")
            && shown.main_text().contains("01632 960 101")
    );
    assert!(
        !shown.body.contains(&format!("{breathe}/edit")),
        "a volunteer is not offered to change it"
    );
    vol.get("/directory/new")
        .await
        .assert_status(StatusCode::FORBIDDEN, "volunteer adding");
    let other = app.sign_in("hillside.admin", PASSWORD).await;
    other
        .get(&breathe)
        .await
        .assert_status(StatusCode::NOT_FOUND, "other organisation");
    assert!(!other.get("/directory").await.body.contains("Breathe Easy"));

    // Bad input: named fields, nothing written.
    let count = || async {
        app.store
            .search_services(
                &w.account(Role::Coordinator).actor(),
                &ServiceQuery {
                    include_inactive: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .len()
    };
    let before = count().await;
    let p = add(vec![
        ("name", ""),
        ("kind", "astrology"),
        ("description", ""),
        ("self_referral", "maybe"),
        ("email", "not-an-email"),
        ("phone", "ring me"),
        ("website", "javascript:alert(1)"),
        ("conditions", "flu"),
        ("languages", "xx"),
        ("active", "yes"),
    ])
    .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad service");
    for (field, message) in [
        ("name", "Enter the name of the service"),
        ("kind", "Select the need the service meets"),
        ("description", "Enter what the service offers"),
        ("conditions", "Select conditions from the list"),
        (
            "self_referral",
            "Select whether people can refer themselves",
        ),
        (
            "email",
            "Enter an email address in the correct format, like name@example.org",
        ),
        (
            "phone",
            "Enter a telephone number, like 01632 960 001 or +44 1632 960 001",
        ),
        (
            "website",
            "Enter a website address starting with https://, like https://example.org",
        ),
        (
            "modes",
            "Select how the service is offered: face to face, by telephone or online",
        ),
        ("languages", "Select languages from the list"),
    ] {
        p.assert_error(field, message, "bad service");
    }
    let p = add(vec![
        ("name", "Twice"),
        ("name", "Twice again"),
        ("kind", "other"),
        ("description", "x"),
        ("self_referral", "no"),
        ("modes", "online"),
        ("languages", "en"),
        ("active", "yes"),
    ])
    .await;
    p.assert_error(
        "name",
        "This was sent more than once: enter it once and try again",
        "repeated name",
    );
    assert_eq!(count().await, before, "nothing written");

    // Changing a service; a stale form is refused with the latest shown.
    let edit = format!("{breathe}/edit");
    let form = coord.get(&edit).await;
    assert_eq!(form.h1(), "Change a service");
    let stale = form.form_values(&edit);
    // Bad input on the change form: named, nothing written.
    let p = coord
        .post_pairs(
            &edit,
            &with(&stale, &[("name", ""), ("website", "example.org")]),
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "bad change");
    p.assert_error("name", "Enter the name of the service", "bad change");
    p.assert_error(
        "website",
        "Enter a website address starting with https://, like https://example.org",
        "bad change",
    );
    assert_eq!(
        coord.get(&breathe).await.h1(),
        "Breathe Easy Riverside",
        "nothing changed"
    );
    let p = coord
        .post_pairs(&edit, &without(&stale, &["version"]))
        .await;
    p.assert_status(StatusCode::BAD_REQUEST, "no version");
    coord
        .post_pairs(
            &edit,
            &with(&stale, &[("opening_times", "Tuesdays 10:00 to 12:00")]),
        )
        .await
        .assert_redirect(&breathe, "change");
    assert!(coord
        .get(&breathe)
        .await
        .main_text()
        .contains("Tuesdays 10:00 to 12:00"));
    let p = coord
        .post_pairs(&edit, &with(&stale, &[("opening_times", "Mondays")]))
        .await;
    p.assert_status(StatusCode::CONFLICT, "stale service edit");
    assert!(
        p.body.contains("Tuesdays 10:00 to 12:00")
            && p.main_text().contains("Someone else changed this service")
    );
    assert_eq!(
        app.count_audit(w.org_a, "service.update", Some("allowed"))
            .await,
        1
    );
    assert_eq!(
        app.count_audit(w.org_a, "service.create", Some("allowed"))
            .await,
        3
    );
}

both_backends!(
    care_plan_versions_and_stale_saves,
    care_plan_access_is_decided_and_audited,
    care_plan_bad_input,
    care_plan_print_and_fhir_download,
    referral_life_cycle_and_overdue,
    directory_search_edit_and_bad_input,
);

/// Saves racing from two application instances (two stores, each with its own writer, on one
/// database), all based on the same version: exactly one wins, every other is refused as
/// stale, and one version is written — on SQLite and on PostgreSQL.
async fn concurrent_saves_from_two_instances_one_wins(backend: Backend) {
    use alongside_store::testing::TestDatabase;
    use alongside_store::{Store, StoreError};
    let db = TestDatabase::new(backend).await;
    let first = Store::open(&db.url).await.expect("open");
    let second = Store::open(&db.url).await.expect("open again");
    let org = first
        .create_organisation("Riverside Primary Care Network", "pcn")
        .await
        .unwrap();
    let person = PersonId::new();
    first
        .insert_people_unaudited_actor(
            org,
            vec![(person, details("Rhea", "Racewell"), None)],
            "fixture",
        )
        .await
        .unwrap();
    let coordinator = first
        .create_user(
            alongside_store::users::NewUser {
                org_id: org,
                username: "coordinator".into(),
                display_name: "Corin Coordinator".into(),
                role: Role::Coordinator,
                person_id: None,
                password_hash: "x".into(),
            },
            None,
        )
        .await
        .unwrap();
    let actor = alongside_core::access::Actor {
        user_id: coordinator,
        org_id: org,
        role: Role::Coordinator,
        person_id: None,
    };
    for round in 0..3i64 {
        let mut tasks = Vec::new();
        for i in 0..8 {
            let store = if i % 2 == 0 {
                first.clone()
            } else {
                second.clone()
            };
            let actor = actor.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .save_care_plan(
                        &actor,
                        person,
                        round,
                        plan_content(&format!("Round {round}, writer {i}"), "Ring 111"),
                        src(),
                    )
                    .await
            }));
        }
        let mut won = Vec::new();
        let mut stale = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(v) => won.push(v),
                Err(StoreError::StaleVersion) => stale += 1,
                Err(e) => panic!("{backend:?}: unexpected error {e}"),
            }
        }
        assert_eq!(
            won,
            vec![round + 1],
            "{backend:?} round {round}: exactly one save wins"
        );
        assert_eq!(
            stale, 7,
            "{backend:?} round {round}: every other save is refused as stale"
        );
    }
    let view = first
        .care_plan(&actor, person, PlanPurpose::Versions, src())
        .await
        .unwrap();
    assert_eq!(
        view.versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(
        first.verify_audit().await.unwrap().ok(),
        "audit chain intact"
    );
    first.close().await;
    second.close().await;
}

both_backends!(concurrent_saves_from_two_instances_one_wins);

/// The printable plan, full of realistic text (every field filled, eight agreed actions, three
/// referrals), printed by headless Chromium: A4 pages, and no more than two of them.
async fn printed_plan_fits_on_two_a4_pages(backend: Backend) {
    let (app, w) = setup(backend).await;
    let coord = w.account(Role::Coordinator).actor();
    for (name, kind) in [
        ("Riverside Stop Smoking Service", "smoking_cessation"),
        ("Riverside Pulmonary Rehabilitation", "education"),
        ("MoneyWise Riverside", "debt_housing"),
    ] {
        let s = add_service(&app, &w, name, kind).await;
        app.store
            .create_service_referral(
                &coord,
                w.own.id,
                s,
                "Agreed at the last review",
                ReferralOptions {
                    respond_by: Some(today() + Duration::days(14)),
                    send_now: true,
                    ..Default::default()
                },
                today(),
                src(),
            )
            .await
            .unwrap();
    }
    let para = |topic: &str| {
        format!("{topic}: I want to be able to get out to the allotment twice a week, see my grandchildren at the weekend without needing to sit down every few minutes, and feel less anxious when my breathing gets bad in the evenings. My daughter helps with shopping on Saturdays, and my neighbour checks in most days.")
    };
    let review = today() + Duration::days(90);
    let form = PlanForm {
        what_matters: para("What matters"),
        strengths: para("Strengths"),
        needs: para("Needs"),
        preferences: para("Preferences"),
        goals: para("Goals"),
        actions: (1..=8)
            .map(|i| alongside_core::careplan::ActionRow { what: format!("Action {i}: walk a little further each day, and write down how my breathing feels afterwards"), who: "Me, with my coach".into(), by: String::new() })
            .collect(),
        support: vec!["coaching".into(), "education".into(), "peer_support".into(), "other_services".into()],
        support_notes: para("Support"),
        contingency: para("If things get worse"),
        review_day: review.day().to_string(),
        review_month: (review.month() as u8).to_string(),
        review_year: review.year().to_string(),
        agreed: "no".into(),
        ..Default::default()
    };
    let content = PlanContent::parse(&form, today()).expect("full plan");
    app.store
        .save_care_plan(&coord, w.own.id, 0, content, src())
        .await
        .unwrap();
    let person = app.sign_in("person", PASSWORD).await;
    let print = person.get(&format!("{}/print", plan_path(&w.own))).await;
    print.assert_status(StatusCode::OK, "print");
    let dir = std::env::temp_dir().join(format!("alongside-print-{}", uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("plan.html");
    let pdf = dir.join("plan.pdf");
    std::fs::write(&html, &print.body).unwrap();
    let chromium =
        std::env::var("ALONGSIDE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let out = std::process::Command::new(&chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap_or_else(|e| panic!("run {chromium} ({e}): run scripts/test, which installs Chromium, or set ALONGSIDE_CHROMIUM"));
    let bytes = std::fs::read(&pdf).unwrap_or_else(|e| {
        panic!(
            "no PDF from {chromium} ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&bytes);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    eprintln!("printed plan on {backend:?}: {pages} A4 page(s)");
    assert!(
        (1..=2).contains(&pages),
        "the printed plan takes {pages} pages; it must fit on one or two"
    );
    let boxes: Vec<&str> = text
        .match_indices("/MediaBox [")
        .map(|(i, _)| &text[i..i + 40])
        .collect();
    assert!(!boxes.is_empty(), "no page size in the PDF");
    for b in boxes {
        let nums: Vec<f64> = b["/MediaBox [".len()..]
            .split(']')
            .next()
            .unwrap()
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        assert!(
            nums.len() == 4 && (nums[2] - 595.3).abs() < 2.0 && (nums[3] - 841.9).abs() < 2.0,
            "page is not A4 portrait: {b}"
        );
    }
}

both_backends!(printed_plan_fits_on_two_a4_pages);

/// The date a referral's step happened is an NHS date input: a problem goes on the box that is
/// wrong, and the boxes' date is recorded.
async fn referral_step_date_is_a_date_input(backend: Backend) {
    let (app, w) = setup(backend).await;
    let service = add_service(&app, &w, "Riverside Talking Therapies", "talking_therapies").await;
    let coach = app.sign_in("health_coach", PASSWORD).await;
    let person = &w.on_caseload;
    let list = format!("/people/{}/referrals", person.id);
    let p = coach
        .post_form_from(
            &format!("{list}/new"),
            &list,
            &[
                ("service", service.to_string().as_str()),
                ("reason", "Low mood since the winter"),
                ("send_now", "no"),
            ],
        )
        .await;
    p.assert_status(StatusCode::SEE_OTHER, "draft");
    let page_path = p.location().unwrap().split('?').next().unwrap().to_string();
    let rid: ServiceReferralId = page_path.rsplit('/').next().unwrap().parse().unwrap();
    let page = coach.get(&page_path).await;
    assert_eq!(page.input_values("on_day"), vec![String::new()]);
    let v = page.input_values("version").first().cloned().unwrap();
    let respond = (today() + Duration::days(14)).to_string();
    let send = |d: String, m: String, y: String| {
        vec![
            ("step", "send".to_string()),
            ("respond_by", respond.clone()),
            ("version", v.clone()),
            ("on_day", d),
            ("on_month", m),
            ("on_year", y),
        ]
    };
    let p = coach
        .post_form(&page_path, &send("1".into(), "2".into(), String::new()))
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "no year");
    p.assert_error(
        "on_year",
        "The date it happened must include a year",
        "no year",
    );
    let future = today() + Duration::days(2);
    let p = coach
        .post_form(
            &page_path,
            &send(
                future.day().to_string(),
                u8::from(future.month()).to_string(),
                future.year().to_string(),
            ),
        )
        .await;
    p.assert_status(StatusCode::UNPROCESSABLE_ENTITY, "future");
    p.assert_error(
        "on_day",
        "The date it happened must be today or in the past",
        "future",
    );
    let yesterday = today() - Duration::days(1);
    coach
        .post_form(
            &page_path,
            &send(
                yesterday.day().to_string(),
                u8::from(yesterday.month()).to_string(),
                yesterday.year().to_string(),
            ),
        )
        .await
        .assert_redirect(&page_path, "sent");
    let (_, r) = app
        .store
        .service_referral(&w.account(Role::Coordinator).actor(), person.id, rid, src())
        .await
        .unwrap();
    assert_eq!(r.status.code(), "sent");
    assert_eq!(
        r.steps.last().unwrap().on_date,
        alongside_core::time::iso_date(yesterday)
    );
}

both_backends!(referral_step_date_is_a_date_input);
