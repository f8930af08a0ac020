//! People: list and search, register, view and change a person's record.

use super::{invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::conditions::{self, CONDITIONS};
use alongside_core::person::{language_label, PersonDetails, PersonForm, Sex, LANGUAGES};
use alongside_core::time::{display_date, parse_iso_date};
use alongside_core::validation::ValidationErrors;
use alongside_core::{PersonId, Role};
use alongside_store::people::{PeopleQuery, PersonView};
use alongside_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct ListParams {
    q: Option<String>,
    page: Option<u32>,
}

fn parse_id(s: &str) -> AppResult<PersonId> {
    s.parse().map_err(|_| AppError::NotFound)
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Query(p): Query<ListParams>,
) -> AppResult<Response> {
    let q =
        p.q.unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>();
    let page = p.page.unwrap_or(0).min(10_000);
    let query = PeopleQuery::parse(&q);
    let (people, more) = state
        .store
        .list_people(&user.actor, &query, page, source)
        .await?;
    let caseload = user.actor.role == Role::HealthCoach;
    let title = if caseload { "My caseload" } else { "People" };
    let link = |p: u32| {
        format!(
            "/people?q={}&page={p}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        )
    };
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            h1 { (title) }
            @if matches!(user.actor.role, Role::Coordinator | Role::HealthCoach) {
                p { a.button href="/people/new" { "Register a person" } }
            }
            form.search-form method="get" action="/people" role="search" {
                div.form-group {
                    label.label for="q" { "Search by name, NHS number or date of birth" }
                    div.hint id="q-hint" { "For example, Amira Nowak, 943 476 5919 or 7/3/1958" }
                    input.input id="q" name="q" type="search" value=(q) aria-describedby="q-hint";
                }
                button.button type="submit" { "Search" }
            }
            @if people.is_empty() {
                p { @if q.is_empty() { "There is nobody to show yet." } @else { "No one matches “" (q) "”. Check the spelling, or search by NHS number or date of birth." } }
            } @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { (title) }
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Date of birth" } th scope="col" { "NHS number" } th scope="col" { "Postcode" } } }
                        tbody {
                            @for p in &people {
                                tr {
                                    td data-label="Name" { a href={ "/people/" (p.id) } { (p.given_name) " " (p.family_name) } }
                                    td data-label="Date of birth" { (parse_iso_date(&p.date_of_birth).map(display_date).unwrap_or_default()) }
                                    td data-label="NHS number" { (p.nhs_number.as_deref().map(fmt_nhs).unwrap_or_default()) }
                                    td data-label="Postcode" { (p.postcode.clone().unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
                nav.pagination aria-label="Pages" {
                    span { @if page > 0 { a href=(link(page - 1)) { "Previous page" } } }
                    span { @if more { a href=(link(page + 1)) { "Next page" } } }
                }
            }
        },
    )))
}

fn fmt_nhs(n: &str) -> String {
    if n.len() == 10 {
        format!("{} {} {}", &n[..3], &n[3..6], &n[6..])
    } else {
        n.to_string()
    }
}

fn person_form_from(f: &FormData) -> PersonForm {
    PersonForm {
        nhs_number: f.get("nhs_number"),
        given_name: f.get("given_name"),
        family_name: f.get("family_name"),
        dob_day: f.get("dob_day"),
        dob_month: f.get("dob_month"),
        dob_year: f.get("dob_year"),
        sex: f.get("sex"),
        postcode: f.get("postcode"),
        email: f.get("email"),
        phone: f.get("phone"),
        consent_phone: f.opt("consent_phone"),
        consent_sms: f.opt("consent_sms"),
        consent_email: f.opt("consent_email"),
        consent_post: f.opt("consent_post"),
        preferred_language: f.get("preferred_language"),
        interpreter_needed: f.opt("interpreter_needed"),
        communication_needs: f.get("communication_needs"),
        conditions: f.all("conditions"),
        what_matters: f.get("what_matters"),
        deprivation_decile: f.get("deprivation_decile"),
        gp_practice: f.get("gp_practice"),
    }
}

/// The person form's fields that take one value (everything but the condition checkboxes).
const SINGLE_VALUED: &[&str] = &[
    "nhs_number",
    "given_name",
    "family_name",
    "dob_day",
    "dob_month",
    "dob_year",
    "sex",
    "postcode",
    "email",
    "phone",
    "consent_phone",
    "consent_sms",
    "consent_email",
    "consent_post",
    "preferred_language",
    "interpreter_needed",
    "communication_needs",
    "what_matters",
    "deprivation_decile",
    "gp_practice",
    "version",
];

/// Validates a submitted person form: a field sent twice is ambiguous and refused.
fn parse_person(
    data: &FormData,
    form: &PersonForm,
    today: time::Date,
) -> Result<PersonDetails, ValidationErrors> {
    data.repeated_errors(SINGLE_VALUED).into_result(())?;
    PersonDetails::parse(form, today)
}

fn person_fields(f: &PersonForm, e: &ValidationErrors) -> Markup {
    let sexes: Vec<(&str, &str)> = Sex::ALL.iter().map(|s| (s.code(), s.label())).collect();
    let conds: Vec<(&str, &str)> = CONDITIONS.iter().map(|c| (c.key, c.label)).collect();
    let mut langs: Vec<(&str, &str)> = LANGUAGES.to_vec();
    if !f.preferred_language.is_empty()
        && !LANGUAGES.iter().any(|(c, _)| *c == f.preferred_language)
    {
        langs.push((f.preferred_language.as_str(), f.preferred_language.as_str()));
    }
    let deciles: Vec<(String, String)> = std::iter::once((String::new(), "Not known".to_string()))
        .chain((1..=10).map(|d| {
            (
                d.to_string(),
                format!(
                    "{d}{}",
                    match d {
                        1 => " (most deprived)",
                        10 => " (least deprived)",
                        _ => "",
                    }
                ),
            )
        }))
        .collect();
    let deciles_ref: Vec<(&str, &str)> = deciles
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    html! {
        h2 { "About the person" }
        (layout::text_input("given_name", "First name", &f.given_name, e, Input { autocomplete: Some("off"), width: Some("input--width-20"), spellcheck_off: true, ..Default::default() }))
        (layout::text_input("family_name", "Last name", &f.family_name, e, Input { autocomplete: Some("off"), width: Some("input--width-20"), spellcheck_off: true, ..Default::default() }))
        (layout::date_input("dob", "Date of birth", "For example, 27 3 1958", &f.dob_day, &f.dob_month, &f.dob_year, e))
        (layout::radios("sex", "Sex", &sexes, &f.sex, e))
        (layout::text_input("nhs_number", "NHS number (optional)", &f.nhs_number, e, Input { hint: Some("A 10 digit number, like 943 476 5919. Leave blank if you do not have it to hand."), width: Some("input--width-10"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::checkboxes("conditions", "Long-term conditions", Some("Select all that apply"), &conds, &f.conditions, e))
        (layout::textarea("what_matters", "What matters to them", Some("In their own words: what they want to be able to do, what is important in their life."), &f.what_matters, e))
        h2 { "Contact" }
        (layout::text_input("postcode", "Postcode (optional)", &f.postcode, e, Input { width: Some("input--width-10"), autocomplete: Some("off"), ..Default::default() }))
        (layout::text_input("phone", "Telephone (optional)", &f.phone, e, Input { kind: "tel", width: Some("input--width-20"), autocomplete: Some("off"), ..Default::default() }))
        (layout::text_input("email", "Email address (optional)", &f.email, e, Input { kind: "email", width: Some("input--width-20"), autocomplete: Some("off"), spellcheck_off: true, ..Default::default() }))
        div.form-group {
            fieldset.fieldset {
                legend.fieldset-legend { "They agree to be contacted by" }
                div.hint { "Only tick what they have agreed to." }
                div.checkboxes {
                    (layout::checkbox("consent_phone", "Telephone call", f.consent_phone.is_some()))
                    (layout::checkbox("consent_sms", "Text message", f.consent_sms.is_some()))
                    (layout::checkbox("consent_email", "Email", f.consent_email.is_some()))
                    (layout::checkbox("consent_post", "Letter", f.consent_post.is_some()))
                }
            }
        }
        h2 { "Communication" }
        (layout::select("preferred_language", "Preferred language", &langs, if f.preferred_language.is_empty() { "en" } else { &f.preferred_language }, e))
        div.form-group { div.checkboxes { (layout::checkbox("interpreter_needed", "They need an interpreter", f.interpreter_needed.is_some())) } }
        (layout::textarea("communication_needs", "Communication and accessibility needs (optional)", Some("For example, large print, British Sign Language, easy read, a hearing loop."), &f.communication_needs, e))
        h2 { "For reporting" }
        (layout::select("deprivation_decile", "Deprivation decile (Index of Multiple Deprivation)", &deciles_ref, &f.deprivation_decile, e))
        (layout::text_input("gp_practice", "GP practice (optional)", &f.gp_practice, e, Input { width: Some("input--width-20"), ..Default::default() }))
    }
}

fn new_page(user: &CurrentUser, f: &PersonForm, e: &ValidationErrors) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Register a person", e),
        html! {
            (layout::error_summary(e))
            h1 { "Register a person" }
            form method="post" action="/people" novalidate {
                (layout::csrf(&user.csrf))
                (person_fields(f, e))
                button.button type="submit" { "Register person" }
            }
        },
    )
}

pub async fn new_form(user: CurrentUser) -> AppResult<Response> {
    user.require(alongside_core::Action::RegisterPerson)?;
    Ok(ok(new_page(
        &user,
        &PersonForm {
            preferred_language: "en".into(),
            ..Default::default()
        },
        &ValidationErrors::default(),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let form = person_form_from(&data);
    let details = match parse_person(&data, &form, state.store.clock().today()) {
        Ok(d) => d,
        Err(e) => {
            user.require(alongside_core::Action::RegisterPerson)?;
            return Ok(invalid(new_page(&user, &form, &e)));
        }
    };
    match state
        .store
        .register_person(&user.actor, details, source)
        .await
    {
        Ok(id) => Ok(see_other(&format!("/people/{id}?registered=1"))),
        Err(StoreError::Conflict(m)) => {
            let mut e = ValidationErrors::default();
            e.add("nhs_number", m);
            Ok(invalid(new_page(&user, &form, &e)))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ShowParams {
    registered: Option<String>,
    updated: Option<String>,
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

fn record_page(
    user: &CurrentUser,
    view: &PersonView,
    banner: Option<&str>,
    activation: Markup,
    today: time::Date,
) -> Markup {
    let d = &view.record.details;
    let age = alongside_core::time::age_on(d.date_of_birth, today);
    let consents: Vec<&str> = [
        (d.consent_phone, "telephone"),
        (d.consent_sms, "text message"),
        (d.consent_email, "email"),
        (d.consent_post, "letter"),
    ]
    .iter()
    .filter(|(b, _)| *b)
    .map(|(_, l)| *l)
    .collect();
    let own = user.actor.person_id == Some(view.record.id);
    html! {
        @if let Some(b) = banner { (layout::success_banner(b)) }
        span.caption { @if own { "Your record" } @else { "Person" } }
        h1 { (d.full_name()) }
        dl.summary-list {
            (layout::row("Date of birth", html! { (display_date(d.date_of_birth)) " (" (age) " years)" }))
            (layout::row("Sex", html! { (d.sex.label()) }))
            (layout::row("NHS number", layout::or_not_recorded(d.nhs_number.as_ref().map(|n| n.formatted()).as_deref())))
            (layout::row("Long-term conditions", if d.conditions.is_empty() { layout::or_not_recorded(None) } else { html! { ul { @for c in &d.conditions { li { (conditions::by_key(c).map(|c| c.label).unwrap_or(c)) } } } } }))
            (layout::row("What matters to them", layout::or_not_recorded(d.what_matters.as_deref())))
        }
        (activation)
        h2 { "Contact and communication" }
        dl.summary-list {
            (layout::row("Postcode", layout::or_not_recorded(d.postcode.as_deref())))
            (layout::row("Telephone", layout::or_not_recorded(d.phone.as_deref())))
            (layout::row("Email", layout::or_not_recorded(d.email.as_deref())))
            (layout::row("Agrees to contact by", if consents.is_empty() { html! { "No contact agreed" } } else { html! { (consents.join(", ")) } }))
            (layout::row("Preferred language", html! { (language_label(&d.preferred_language)) }))
            (layout::row("Needs an interpreter", html! { (yes_no(d.interpreter_needed)) }))
            (layout::row("Communication and accessibility needs", layout::or_not_recorded(d.communication_needs.as_deref())))
        }
        h2 { "For reporting" }
        dl.summary-list {
            (layout::row("Deprivation decile", layout::or_not_recorded(d.deprivation_decile.map(|x| x.to_string()).as_deref())))
            (layout::row("GP practice", layout::or_not_recorded(d.gp_practice.as_deref())))
        }
        @if view.can_read_coaching {
            h2 { "Coaching and goals" }
            p { a href={ "/people/" (view.record.id) "/coaching" } { @if own { "Your coaching and goals" } @else { "Coaching, goals and referrals" } } }
        }
        // Everyone who may read the record may see the person's courses (access::ReadEnrolments).
        h2 { "Courses" }
        p { a href={ "/people/" (view.record.id) "/courses" } { @if own { "Your courses" } @else { "Courses: enrolments, attendance and enrolling by referral" } } }
        // Peer support: attendance follows the record's read rule (access::ReadAttendance).
        h2 { "Peer support" }
        p { a href={ "/people/" (view.record.id) "/attendance" } { @if own { "Groups you have been to" } @else { "Group attendance" } } }
        div.no-print {
            @if view.can_edit { a.button href={ "/people/" (view.record.id) "/edit" } { "Change details" } }
            @if view.can_view_audit { a.button.button--secondary href={ "/people/" (view.record.id) "/audit" } { "Who has viewed this record" } }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    Query(p): Query<ShowParams>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let view = state
        .store
        .read_person(&user.actor, id, source.clone())
        .await?;
    let banner = if p.registered.is_some() {
        Some("Person registered")
    } else if p.updated.is_some() {
        Some("Details saved")
    } else {
        None
    };
    let name = view.record.details.full_name();
    let can_record = view.may(alongside_core::Action::RecordAssessment);
    let activation = super::activation::record_section(
        &state,
        &user,
        id,
        &view.record.details.conditions,
        can_record,
        source,
    )
    .await?;
    let can_read_plan = view.may(alongside_core::Action::ReadCarePlan);
    let activation = html! {
        (activation)
        (super::careplan::record_links(&user, id, can_read_plan))
    };
    Ok(ok(layout::page(
        Some(&user),
        &name,
        record_page(
            &user,
            &view,
            banner,
            activation,
            state.store.clock().today(),
        ),
    )))
}

fn edit_page(
    user: &CurrentUser,
    id: PersonId,
    version: i64,
    f: &PersonForm,
    e: &ValidationErrors,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Change details", e),
        html! {
            (layout::error_summary(e))
            span.caption { (f.given_name) " " (f.family_name) }
            h1 { "Change details" }
            form method="post" action={ "/people/" (id) "/edit" } novalidate {
                (layout::csrf(&user.csrf))
                input type="hidden" name="version" value=(version);
                (person_fields(f, e))
                button.button type="submit" { "Save changes" }
                a.button.button--secondary href={ "/people/" (id) } { "Cancel" }
            }
        },
    )
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let record = state.store.person_for_edit(&user.actor, id, source).await?;
    Ok(ok(edit_page(
        &user,
        id,
        record.version,
        &PersonForm::from_details(&record.details),
        &ValidationErrors::default(),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let form = person_form_from(&data);
    let version: i64 = data.get("version").parse().map_err(|_| {
        AppError::BadRequest(
            "The form is missing its version: reload the page and try again.".into(),
        )
    })?;
    let details = match parse_person(&data, &form, state.store.clock().today()) {
        Ok(d) => d,
        Err(e) => {
            // Errors are shown only to someone who may edit this record.
            state.store.person_for_edit(&user.actor, id, source).await?;
            return Ok(invalid(edit_page(&user, id, version, &form, &e)));
        }
    };
    match state
        .store
        .update_person(&user.actor, id, version, details, source)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/people/{id}?updated=1"))),
        Err(StoreError::Conflict(m)) => {
            let mut e = ValidationErrors::default();
            e.add("nhs_number", m);
            Ok(invalid(edit_page(&user, id, version, &form, &e)))
        }
        Err(StoreError::StaleVersion) => {
            let mut e = ValidationErrors::default();
            e.add("given_name", "Someone else changed this record while you were editing it. Nothing was saved: open the record again to see their changes.");
            Ok(super::html(
                axum::http::StatusCode::CONFLICT,
                edit_page(&user, id, version, &form, &e),
            ))
        }
        Err(other) => Err(other.into()),
    }
}
