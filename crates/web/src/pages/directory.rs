//! The service directory (search, read, add, change), a person's referrals to directory
//! services (list, new, read, record a step) and the coordinator's overdue referrals.

use super::date_entry::{date_input, place_errors, DateBoxes, DateEntry};
use super::{html as respond, invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::access::{decide, Action, Target};
use alongside_core::audit::AuditAction;
use alongside_core::conditions::{self, CONDITIONS};
use alongside_core::directory::{
    next_steps, NewReferral, ReferralForm, ReferralStatus, ReferralStep, ServiceDetails,
    ServiceForm, ServiceKind, ServiceMode, StepForm, StepInput,
};
use alongside_core::ids::{ServiceId, ServiceReferralId};
use alongside_core::person::{language_label, LANGUAGES};
use alongside_core::time::{display_date, parse_iso_date, Timestamp};
use alongside_core::validation::ValidationErrors;
use alongside_core::PersonId;
use alongside_store::directory::{
    PersonReferrals, ReferralOptions, ServiceQuery, ServiceRecord, ServiceReferral,
};
use alongside_store::door::AuditAs;
use alongside_store::people::Source;
use alongside_store::StoreError;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

fn parse_person(s: &str) -> AppResult<PersonId> {
    s.parse().map_err(|_| AppError::NotFound)
}

fn parse_service(s: &str) -> AppResult<ServiceId> {
    s.parse().map_err(|_| AppError::NotFound)
}

fn parse_referral(s: &str) -> AppResult<ServiceReferralId> {
    s.parse().map_err(|_| AppError::NotFound)
}

/// An ISO date as people read it, or the text as stored.
pub(crate) fn show_date(iso: &str) -> String {
    parse_iso_date(iso)
        .map(display_date)
        .unwrap_or_else(|| iso.to_string())
}

/// A stored instant as a UK date and time (Europe/London, so GMT or BST as it was then).
pub(crate) fn show_instant(micros: i64) -> String {
    let dt = alongside_core::recurrence::utc_to_london(Timestamp(micros).to_datetime());
    format!(
        "{} at {:02}:{:02}",
        display_date(dt.date()),
        dt.hour(),
        dt.minute()
    )
}

fn can_manage_directory(user: &CurrentUser) -> bool {
    decide(
        &user.actor,
        Action::ManageDirectory,
        Target::Org(user.actor.org_id),
    )
    .allowed
}

fn kind_options() -> Vec<(&'static str, &'static str)> {
    ServiceKind::ALL
        .iter()
        .map(|k| (k.code(), k.label()))
        .collect()
}

fn status_tag(s: ReferralStatus) -> Markup {
    let class = match s {
        ReferralStatus::Drafted => "tag tag--grey",
        ReferralStatus::Sent => "tag tag--blue",
        ReferralStatus::Accepted => "tag tag--green",
        ReferralStatus::Completed => "tag tag--green",
        ReferralStatus::Declined | ReferralStatus::Withdrawn => "tag tag--red",
    };
    html! { strong class=(class) { (s.label()) } }
}

// ---- the directory ---------------------------------------------------------------------------

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let need = q.get("need");
    let condition = q.get("condition");
    let mode = q.get("mode");
    let language = q.get("language");
    let text: String = q.get("q").chars().take(200).collect();
    let query = ServiceQuery {
        kind: ServiceKind::parse(&need),
        condition: conditions::by_key(&condition).map(|c| c.key.to_string()),
        mode: ServiceMode::parse(&mode),
        language: LANGUAGES
            .iter()
            .find(|(c, _)| *c == language)
            .map(|(c, _)| c.to_string()),
        text: text.clone(),
        include_inactive: can_manage_directory(&user) && q.get("inactive") == "yes",
    };
    let services = state.store.search_services(&user.actor, &query).await?;
    let searched = query != ServiceQuery::default();
    let any = |v: Vec<(&'static str, &'static str)>| {
        let mut o = vec![("", "Any")];
        o.extend(v);
        o
    };
    let none = ValidationErrors::default();
    let conds: Vec<(&str, &str)> = CONDITIONS.iter().map(|c| (c.key, c.label)).collect();
    let modes: Vec<(&str, &str)> = ServiceMode::ALL
        .iter()
        .map(|m| (m.code(), m.label()))
        .collect();
    Ok(ok(layout::page(
        Some(&user),
        "Service directory",
        html! {
            h1 { "Service directory" }
            p.lede { "Services people can be referred to, or refer themselves to: stopping smoking, talking therapies, exercise, weight, debt and housing advice, carers' support, education and peer groups." }
            @if can_manage_directory(&user) {
                p { a.button href="/directory/new" { "Add a service" } }
            }
            form.search-form method="get" action="/directory" role="search" {
                (layout::select("need", "Need", &any(kind_options()), &need, &none))
                (layout::select("condition", "Condition", &any(conds), &condition, &none))
                (layout::select("mode", "How it is offered", &any(modes), &mode, &none))
                (layout::select("language", "Language", &any(LANGUAGES.to_vec()), &language, &none))
                (layout::text_input("q", "Words to look for", &text, &none, Input { kind: "search", hint: Some("For example, breathing, money, carers"), width: Some("input--width-20"), ..Default::default() }))
                @if can_manage_directory(&user) {
                    div.form-group { div.checkboxes { (layout::checkbox("inactive", "Include services not taking referrals", query.include_inactive)) } }
                }
                button.button type="submit" { "Search" }
            }
            h2 { @if searched { (services.len()) " " (if services.len() == 1 { "service matches" } else { "services match" }) } @else { "All services" } }
            @if services.is_empty() {
                p { "No services match. Try fewer choices, or other words." }
            } @else {
                ul.service-list {
                    @for s in &services {
                        li.service-list-item {
                            h3 { a href={ "/directory/" (s.id) } { (s.details.name) } }
                            p.secondary-text { (s.details.kind.label()) " · " (s.details.modes.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")) @if s.details.self_referral { " · You can refer yourself" } }
                            @if !s.details.active { p { strong.tag.tag--grey { "Not taking referrals" } } }
                            p { (s.details.description) }
                        }
                    }
                }
            }
        },
    )))
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_service(&id)?;
    let s = state.store.service(&user.actor, id).await?;
    let d = &s.details;
    Ok(ok(layout::page(
        Some(&user),
        &d.name,
        html! {
            span.caption { (d.kind.label()) }
            h1 { (d.name) }
            @if !d.active { p { strong.tag.tag--grey { "Not taking referrals" } } }
            p.lede { (d.description) }
            dl.summary-list {
                (layout::row("Who it is for", layout::or_not_recorded(d.eligibility.as_deref())))
                (layout::row("Conditions", if d.conditions.is_empty() { html! { "Any long-term condition" } } else { html! { ul { @for c in &d.conditions { @let cond = conditions::by_key(c); li { (cond.map(|c| c.label).unwrap_or(c)) @if let Some(code) = cond.and_then(|c| c.snomed) { span.secondary-text { " (SNOMED CT " (code) ")" } } } } } } }))
                (layout::row("People can refer themselves", html! { (if d.self_referral { "Yes" } else { "No" }) }))
                (layout::row("How to refer", layout::or_not_recorded(d.referral_method.as_deref())))
                (layout::row("How it is offered", html! { (d.modes.iter().map(|m| m.label()).collect::<Vec<_>>().join(", ")) }))
                (layout::row("Languages", html! { (d.languages.iter().map(|l| language_label(l)).collect::<Vec<_>>().join(", ")) }))
                (layout::row("Opening times", layout::or_not_recorded(d.opening_times.as_deref())))
                (layout::row("Telephone", layout::or_not_recorded(d.phone.as_deref())))
                (layout::row("Email", layout::or_not_recorded(d.email.as_deref())))
                (layout::row("Address", layout::or_not_recorded(d.address.as_deref())))
                (layout::row("Website", match &d.website { Some(w) => html! { a href=(w) rel="noopener noreferrer" { (w) } }, None => layout::or_not_recorded(None) }))
            }
            p.secondary-text { "Last changed " (show_instant(s.updated_at)) "." }
            div.no-print {
                @if can_manage_directory(&user) { a.button href={ "/directory/" (s.id) "/edit" } { "Change this service" } }
                a.button.button--secondary href="/directory" { "Back to the directory" }
            }
        },
    )))
}

fn service_form_from(f: &FormData) -> ServiceForm {
    ServiceForm {
        name: f.get("name"),
        kind: f.get("kind"),
        description: f.get("description"),
        eligibility: f.get("eligibility"),
        conditions: f.all("conditions"),
        self_referral: f.get("self_referral"),
        referral_method: f.get("referral_method"),
        email: f.get("email"),
        phone: f.get("phone"),
        address: f.get("address"),
        website: f.get("website"),
        opening_times: f.get("opening_times"),
        modes: f.all("modes"),
        languages: f.all("languages"),
        active: f.get("active"),
    }
}

const SERVICE_SINGLE: &[&str] = &[
    "name",
    "kind",
    "description",
    "eligibility",
    "self_referral",
    "referral_method",
    "email",
    "phone",
    "address",
    "website",
    "opening_times",
    "active",
    "version",
];

fn parse_service_form(
    data: &FormData,
    f: &ServiceForm,
) -> Result<ServiceDetails, ValidationErrors> {
    let e = data.repeated_errors(SERVICE_SINGLE);
    if !e.is_empty() {
        return Err(e);
    }
    ServiceDetails::parse(f)
}

fn service_fields(f: &ServiceForm, e: &ValidationErrors) -> Markup {
    let conds: Vec<(&str, &str)> = CONDITIONS.iter().map(|c| (c.key, c.label)).collect();
    let modes: Vec<(&str, &str)> = ServiceMode::ALL
        .iter()
        .map(|m| (m.code(), m.label()))
        .collect();
    let yes_no = [("yes", "Yes"), ("no", "No")];
    html! {
        (layout::text_input("name", "Name of the service", &f.name, e, Input { width: Some("input--width-30"), ..Default::default() }))
        (layout::radios("kind", "The need it meets", &kind_options(), &f.kind, e))
        (layout::textarea("description", "What the service offers", None, &f.description, e))
        (layout::textarea("eligibility", "Who it is for (optional)", Some("For example, adults registered with a Riverside practice who smoke."), &f.eligibility, e))
        (layout::checkboxes("conditions", "Conditions it is for (optional)", Some("Leave all unticked if it is for anyone with a long-term condition."), &conds, &f.conditions, e))
        (layout::radios("self_referral", "Can people refer themselves?", &yes_no, &f.self_referral, e))
        (layout::textarea("referral_method", "How to refer (optional)", Some("For example, the referral form on the website, or a letter from the GP."), &f.referral_method, e))
        (layout::checkboxes("modes", "How it is offered", Some("Select all that apply"), &modes, &f.modes, e))
        (layout::checkboxes("languages", "Languages it works in", Some("Select all that apply"), LANGUAGES, &f.languages, e))
        (layout::textarea("opening_times", "Opening times (optional)", None, &f.opening_times, e))
        (layout::text_input("phone", "Telephone (optional)", &f.phone, e, Input { kind: "tel", width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("email", "Email address (optional)", &f.email, e, Input { kind: "email", width: Some("input--width-20"), spellcheck_off: true, ..Default::default() }))
        (layout::textarea("address", "Address (optional)", None, &f.address, e))
        (layout::text_input("website", "Website (optional)", &f.website, e, Input { kind: "url", width: Some("input--width-30"), spellcheck_off: true, hint: Some("Starting with https://"), ..Default::default() }))
        (layout::radios("active", "Is it taking referrals?", &yes_no, &f.active, e))
    }
}

fn service_page(
    user: &CurrentUser,
    title: &str,
    action: &str,
    version: Option<i64>,
    f: &ServiceForm,
    e: &ValidationErrors,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            h1 { (title) }
            form method="post" action=(action) novalidate {
                (layout::csrf(&user.csrf))
                @if let Some(v) = version { input type="hidden" name="version" value=(v); }
                (service_fields(f, e))
                button.button type="submit" { "Save service" }
                a.button.button--secondary href="/directory" { "Cancel" }
            }
        },
    )
}

pub async fn new_form(user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageDirectory)?;
    let f = ServiceForm {
        languages: vec!["en".into()],
        self_referral: "no".into(),
        active: "yes".into(),
        ..Default::default()
    };
    Ok(ok(service_page(
        &user,
        "Add a service",
        "/directory",
        None,
        &f,
        &ValidationErrors::default(),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let f = service_form_from(&data);
    let details = match parse_service_form(&data, &f) {
        Ok(d) => d,
        Err(e) => {
            user.require(Action::ManageDirectory)?;
            return Ok(invalid(service_page(
                &user,
                "Add a service",
                "/directory",
                None,
                &f,
                &e,
            )));
        }
    };
    let id = state
        .store
        .create_service(&user.actor, details, source)
        .await?;
    Ok(see_other(&format!("/directory/{id}")))
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_service(&id)?;
    user.require(Action::ManageDirectory)?;
    let s: ServiceRecord = state.store.service(&user.actor, id).await?;
    Ok(ok(service_page(
        &user,
        "Change a service",
        &format!("/directory/{id}/edit"),
        Some(s.version),
        &ServiceForm::from_details(&s.details),
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
    let id = parse_service(&id)?;
    user.require(Action::ManageDirectory)?;
    let action = format!("/directory/{id}/edit");
    let f = service_form_from(&data);
    let version: i64 = data.get("version").parse().map_err(|_| {
        AppError::BadRequest(
            "The form is missing its version: reload the page and try again.".into(),
        )
    })?;
    let details = match parse_service_form(&data, &f) {
        Ok(d) => d,
        Err(e) => {
            state.store.service(&user.actor, id).await?;
            return Ok(invalid(service_page(
                &user,
                "Change a service",
                &action,
                Some(version),
                &f,
                &e,
            )));
        }
    };
    match state
        .store
        .update_service(&user.actor, id, version, details, source)
        .await
    {
        Ok(()) => Ok(see_other(&format!("/directory/{id}"))),
        Err(StoreError::StaleVersion) => {
            let latest = state.store.service(&user.actor, id).await?;
            let mut e = ValidationErrors::default();
            e.add("name", "Someone else changed this service while you were editing it. Nothing was saved: this form now shows their version.");
            Ok(respond(
                StatusCode::CONFLICT,
                service_page(
                    &user,
                    "Change a service",
                    &action,
                    Some(latest.version),
                    &ServiceForm::from_details(&latest.details),
                    &e,
                ),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

// ---- referrals to directory services -----------------------------------------------------------

fn referral_caption(user: &CurrentUser, person: PersonId, name: &str) -> Markup {
    html! { span.caption { @if user.actor.person_id == Some(person) { "Your referrals" } @else { (name) } } }
}

pub async fn person_list(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let r = state
        .store
        .person_referrals(&user.actor, person, source)
        .await?;
    Ok(ok(layout::page(
        Some(&user),
        "Referrals to other services",
        html! {
            (referral_caption(&user, person, &r.person_name))
            h1 { "Referrals to other services" }
            @if r.can_manage { p { a.button href={ "/people/" (person) "/referrals/new" } { "Refer to a service" } } }
            (referral_table(person, &r.referrals))
            p { a href={ "/people/" (person) "/plan" } { "Care and support plan" } " · " a href="/directory" { "Service directory" } }
        },
    )))
}

/// A table of referrals (also used on the plan page).
pub(crate) fn referral_table(person: PersonId, referrals: &[ServiceReferral]) -> Markup {
    html! {
        @if referrals.is_empty() {
            p { "No referrals to other services yet." }
        } @else {
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Referrals to other services" }
                    thead { tr { th scope="col" { "Service" } th scope="col" { "Status" } th scope="col" { "Reason" } th scope="col" { "Response expected by" } } }
                    tbody {
                        @for r in referrals {
                            tr {
                                td data-label="Service" { a href={ "/people/" (person) "/referrals/" (r.id) } { (r.service_name) } }
                                td data-label="Status" { (status_tag(r.status)) }
                                td data-label="Reason" { (r.reason) }
                                td data-label="Response expected by" { (r.respond_by.as_deref().map(show_date).unwrap_or_else(|| "Not set".into())) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn referral_form_from(f: &FormData) -> ReferralForm {
    ReferralForm {
        service: f.get("service"),
        reason: f.get("reason"),
        notes: f.get("notes"),
        respond_by: f.get("respond_by"),
        complete_by: f.get("complete_by"),
        send_now: f.get("send_now"),
    }
}

fn new_referral_page(
    user: &CurrentUser,
    person: PersonId,
    name: &str,
    services: &[ServiceRecord],
    f: &ReferralForm,
    e: &ValidationErrors,
) -> Markup {
    let mut opts: Vec<(String, String)> = vec![(String::new(), "Choose a service".into())];
    opts.extend(services.iter().map(|s| {
        (
            s.id.to_string(),
            format!("{} ({})", s.details.name, s.details.kind.label()),
        )
    }));
    let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    layout::page(
        Some(user),
        &layout::title_with_errors("Refer to a service", e),
        html! {
            (layout::error_summary(e))
            span.caption { (name) }
            h1 { "Refer to a service" }
            form method="post" action={ "/people/" (person) "/referrals" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::select("service", "Service", &opts_ref, &f.service, e))
                p { a href="/directory" { "Search the service directory" } " to find the right one." }
                (layout::textarea("reason", "Reason for the referral", Some("What the person would like help with, in their words if possible."), &f.reason, e))
                (layout::textarea("notes", "Notes (optional)", None, &f.notes, e))
                (layout::radios("send_now", "Has the referral been sent?", &[("yes", "Yes, it has been sent today"), ("no", "No, save it as a draft")], &f.send_now, e))
                (layout::text_input("respond_by", "Response expected by", &f.respond_by, e, Input { hint: Some("The date the service should answer by, for example 15/3/2027. Needed once it is sent."), width: Some("input--width-10"), ..Default::default() }))
                (layout::text_input("complete_by", "Support expected to be complete by (optional)", &f.complete_by, e, Input { hint: Some("For example, 30/6/2027"), width: Some("input--width-10"), ..Default::default() }))
                button.button type="submit" { "Save referral" }
                a.button.button--secondary href={ "/people/" (person) "/referrals" } { "Cancel" }
            }
        },
    )
}

async fn services_for_referral(
    state: &AppState,
    user: &CurrentUser,
) -> AppResult<Vec<ServiceRecord>> {
    Ok(state
        .store
        .search_services(&user.actor, &ServiceQuery::default())
        .await?)
}

/// The person's referrals for a page that goes on to refer them (refusal: 403, audited).
async fn managed(
    state: &AppState,
    user: &CurrentUser,
    person: PersonId,
    source: Source,
) -> AppResult<PersonReferrals> {
    Ok(state
        .store
        .person_referrals_for(&user.actor, person, Action::ManageServiceReferrals, source)
        .await?)
}

pub async fn new_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let r = managed(&state, &user, person, source).await?;
    let services = services_for_referral(&state, &user).await?;
    let pre = FormData::parse(raw.unwrap_or_default().as_bytes()).get("service");
    let f = ReferralForm {
        service: pre,
        send_now: "yes".into(),
        ..Default::default()
    };
    Ok(ok(new_referral_page(
        &user,
        person,
        &r.person_name,
        &services,
        &f,
        &ValidationErrors::default(),
    )))
}

const REFERRAL_SINGLE: &[&str] = &[
    "service",
    "reason",
    "notes",
    "respond_by",
    "complete_by",
    "send_now",
];

pub async fn create_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    // Refused (and audited) before the form is checked.
    state
        .store
        .authorise_person(
            &user.actor,
            Action::ManageServiceReferrals,
            person,
            AuditAs::new(AuditAction::ServiceReferralCreated).on("service_referral", None),
            &source,
        )
        .await?;
    let today = state.store.clock().today();
    let f = referral_form_from(&data);
    let mut parsed = {
        let e = data.repeated_errors(REFERRAL_SINGLE);
        if e.is_empty() {
            NewReferral::parse(&f, today)
        } else {
            Err(e)
        }
    };
    let service: Option<ServiceId> = f.service.parse().ok();
    if parsed.is_ok() && service.is_none() {
        let mut e = ValidationErrors::default();
        e.add("service", "Select a service from the directory");
        parsed = Err(e);
    }

    let new = match parsed {
        Ok(n) => n,
        Err(e) => {
            let r = managed(&state, &user, person, source).await?;
            let services = services_for_referral(&state, &user).await?;
            return Ok(invalid(new_referral_page(
                &user,
                person,
                &r.person_name,
                &services,
                &f,
                &e,
            )));
        }
    };
    let opts = ReferralOptions {
        notes: new.notes.clone(),
        respond_by: new.respond_by,
        complete_by: new.complete_by,
        send_now: new.send_now,
    };
    match state
        .store
        .create_service_referral(
            &user.actor,
            person,
            service.expect("checked"),
            &new.reason,
            opts,
            today,
            source.clone(),
        )
        .await
    {
        Ok(rid) => Ok(see_other(&format!(
            "/people/{person}/referrals/{rid}?created=1"
        ))),
        Err(StoreError::Conflict(m)) => {
            let r = managed(&state, &user, person, source).await?;
            let services = services_for_referral(&state, &user).await?;
            let mut e = ValidationErrors::default();
            e.add("service", m);
            Ok(invalid(new_referral_page(
                &user,
                person,
                &r.person_name,
                &services,
                &f,
                &e,
            )))
        }
        Err(other) => Err(other.into()),
    }
}

fn referral_page(
    user: &CurrentUser,
    person: PersonId,
    who: &PersonReferrals,
    r: &ServiceReferral,
    banner: Option<&str>,
    f: &StepForm,
    on: &DateBoxes,
    e: &ValidationErrors,
) -> Markup {
    let steps = next_steps(r.status);
    let step_opts: Vec<(&str, &str)> = steps.iter().map(|s| (s.code(), s.label())).collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(&r.service_name, e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { "Referral for " (who.person_name) }
            h1 { (r.service_name) }
            dl.summary-list {
                (layout::row("Status", status_tag(r.status)))
                (layout::row("Reason", html! { (r.reason) }))
                (layout::row("Notes", layout::or_not_recorded(r.notes.as_deref())))
                (layout::row("Response expected by", layout::or_not_recorded(r.respond_by.as_deref().map(show_date).as_deref())))
                (layout::row("Support expected to be complete by", layout::or_not_recorded(r.complete_by.as_deref().map(show_date).as_deref())))
                @if r.status == ReferralStatus::Completed { (layout::row("Outcome", layout::or_not_recorded(r.outcome.as_deref()))) }
            }
            h2 { "What has happened" }
            ol.timeline {
                @for s in &r.steps {
                    li { strong { (s.status.label()) } " on " (show_date(&s.on_date)) " by " (s.by_name) @if let Some(n) = &s.note { br; span { (n) } } }
                }
            }
            @if !who.can_manage || steps.is_empty() {
                // Where a refused step's error message leads when no step can be recorded.
                div id="step" {}
            } @else {
                    h2 { "Record what happened" }
                    form method="post" action={ "/people/" (person) "/referrals/" (r.id) } novalidate {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="version" value=(r.version);
                        (layout::radios("step", "What happened", &step_opts, &f.step, e))
                        (date_input("on", "Date it happened", "Leave blank for today, or for example 15 3 2027", on, e))
                        @if steps.contains(&ReferralStep::Send) && r.respond_by.is_none() {
                            (layout::text_input("respond_by", "Response expected by", &f.respond_by, e, Input { hint: Some("Needed when marking as sent, for example 15/3/2027"), width: Some("input--width-10"), ..Default::default() }))
                        }
                        @if steps.contains(&ReferralStep::Accept) {
                            (layout::text_input("complete_by", "Support expected to be complete by (when accepted, optional)", &f.complete_by, e, Input { width: Some("input--width-10"), ..Default::default() }))
                        }
                        @if steps.contains(&ReferralStep::Complete) {
                            (layout::textarea("outcome", "Outcome (needed to complete)", Some("What the support achieved, in the person's words if possible."), &f.outcome, e))
                        }
                        (layout::textarea("note", "Note (optional; needed when the service declined)", None, &f.note, e))
                        button.button type="submit" { "Save" }
                    }
            }
            p { a href={ "/people/" (person) "/referrals" } { "All referrals" } }
        },
    )
}

pub async fn show_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, rid)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let rid = parse_referral(&rid)?;
    let (who, r) = state
        .store
        .service_referral(&user.actor, person, rid, source)
        .await?;
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let banner = if q.has("created") {
        Some("Referral saved")
    } else if q.has("updated") {
        Some("Referral updated")
    } else {
        None
    };
    Ok(ok(referral_page(
        &user,
        person,
        &who,
        &r,
        banner,
        &StepForm::default(),
        &DateBoxes::default(),
        &ValidationErrors::default(),
    )))
}

const STEP_SINGLE: &[&str] = &[
    "step",
    "on",
    "on_day",
    "on_month",
    "on_year",
    "note",
    "outcome",
    "respond_by",
    "complete_by",
    "version",
];

pub async fn move_referral(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, rid)): Path<(String, String)>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let rid = parse_referral(&rid)?;
    // Refused (and audited) before the form is checked.
    state
        .store
        .authorise_person(
            &user.actor,
            Action::ManageServiceReferrals,
            person,
            AuditAs::new(AuditAction::ServiceReferralUpdated).on("service_referral", None),
            &source,
        )
        .await?;
    let on = DateEntry::from_form(&data, "on");
    let (on_text, on_problem) = match on.text("on", "The date it happened") {
        Ok(t) => (t, None),
        // The rules then find no date in "?", and the boxes' problem takes that error's place.
        Err(p) => ("?".to_string(), Some(p)),
    };
    let on_boxes = on.boxes();
    let f = StepForm {
        step: data.get("step"),
        on: on_text,
        note: data.get("note"),
        outcome: data.get("outcome"),
        respond_by: data.get("respond_by"),
        complete_by: data.get("complete_by"),
    };
    let version: i64 = data.get("version").parse().map_err(|_| {
        AppError::BadRequest(
            "The form is missing its version: reload the page and try again.".into(),
        )
    })?;
    let rerender = |status: StatusCode, e: ValidationErrors| {
        let state = state.clone();
        let user = user.clone();
        let source = source.clone();
        let f = f.clone();
        let on_boxes = on_boxes.clone();
        async move {
            let (who, r) = state
                .store
                .service_referral(&user.actor, person, rid, source)
                .await?;
            Ok::<_, AppError>(respond(
                status,
                referral_page(&user, person, &who, &r, None, &f, &on_boxes, &e),
            ))
        }
    };
    let parsed = {
        let e = data.repeated_errors(STEP_SINGLE);
        if e.is_empty() {
            StepInput::parse(&f, state.store.clock().today())
        } else {
            Err(e)
        }
    }
    .map_err(|mut e| {
        place_errors(&mut e, "on", &on, on_problem);
        e
    });
    let step = match parsed {
        Ok(s) => s,
        Err(e) => return rerender(StatusCode::UNPROCESSABLE_ENTITY, e).await,
    };
    match state
        .store
        .move_service_referral(&user.actor, person, rid, version, step, source.clone())
        .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/people/{person}/referrals/{rid}?updated=1"
        ))),
        Err(StoreError::Conflict(m)) => {
            let mut e = ValidationErrors::default();
            let field = if m.starts_with("Enter the date a response") {
                "respond_by"
            } else {
                "step"
            };
            e.add(field, m);
            rerender(StatusCode::UNPROCESSABLE_ENTITY, e).await
        }
        Err(StoreError::StaleVersion) => {
            let mut e = ValidationErrors::default();
            e.add("step", "Someone else changed this referral while you were looking at it. Nothing was saved: this page now shows the latest.");
            rerender(StatusCode::CONFLICT, e).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn overdue(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let rows = state
        .store
        .overdue_service_referrals(&user.actor, state.store.clock().today(), source)
        .await?;
    Ok(ok(layout::page(
        Some(&user),
        "Overdue referrals",
        html! {
            h1 { "Overdue referrals" }
            p.lede { "Referrals sent and not answered by the date a response was expected, and referrals accepted but not completed by the date expected — the longest overdue first." }
            @if rows.is_empty() {
                p { "No referrals are overdue." }
            } @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "Overdue referrals" }
                        thead { tr { th scope="col" { "Person" } th scope="col" { "Service" } th scope="col" { "Waiting for" } th scope="col" { "Expected by" } th scope="col" { "Days overdue" } } }
                        tbody {
                            @for o in &rows {
                                tr {
                                    td data-label="Person" { a href={ "/people/" (o.referral.person_id) "/referrals/" (o.referral.id) } { (o.person_name) } }
                                    td data-label="Service" { (o.referral.service_name) }
                                    td data-label="Waiting for" { (if o.referral.status == ReferralStatus::Sent { "A response" } else { "Completion" }) }
                                    td data-label="Expected by" { (show_date(&o.due)) }
                                    td data-label="Days overdue" { (o.days_overdue) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )))
}
