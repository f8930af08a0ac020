//! The personalised care and support plan: read, edit (every save a new version), the list of
//! versions with a field-by-field comparison, one version, a printable page (A4) and a
//! FHIR R4 CarePlan download.

use super::directory::{referral_table, show_date, show_instant};
use super::{html as respond, invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::CsrfForm;
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::careplan::{self, ActionRow, PlanContent, PlanForm, SupportKind, MAX_ACTIONS};
use alongside_core::directory::ReferralStatus;
use alongside_core::time::Timestamp;
use alongside_core::validation::ValidationErrors;
use alongside_core::PersonId;
use alongside_store::careplan::{PlanPurpose, PlanVersion, PlanView};
use alongside_store::StoreError;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

fn parse_person(s: &str) -> AppResult<PersonId> {
    s.parse().map_err(|_| AppError::NotFound)
}

fn own(user: &CurrentUser, person: PersonId) -> bool {
    user.actor.person_id == Some(person)
}

fn title(user: &CurrentUser, person: PersonId) -> &'static str {
    if own(user, person) {
        "Your care and support plan"
    } else {
        "Care and support plan"
    }
}

fn text_block(v: &str) -> Markup {
    html! {
        @if v.trim().is_empty() {
            span.secondary-text { "Not recorded" }
        } @else {
            @for line in v.lines() { (line) br; }
        }
    }
}

/// The plan's content as summary rows, with the person's referrals beside the support.
fn plan_body(person: PersonId, v: &PlanVersion, view: &PlanView) -> Markup {
    let c = &v.content;
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    html! {
        dl.summary-list {
            (layout::row("What matters to me", text_block(&c.what_matters)))
            (layout::row("My strengths", text_block(&o(&c.strengths))))
            (layout::row("My needs", text_block(&o(&c.needs))))
            (layout::row("My preferences", text_block(&o(&c.preferences))))
            (layout::row("My goals", html! {
                (text_block(&o(&c.goals)))
                // Hook: the coaching goals, in the person's own words, with their steps and reviews.
                p.secondary-text.no-print { "Goals set with a health coach, with their steps and reviews, are kept with the " a href=(careplan::GOALS_HOOK.replace("{id}", &person.to_string())) { "coaching record" } "." }
            }))
        }
        h2 { "Agreed actions" }
        @if c.actions.is_empty() {
            p { "No actions agreed yet." }
        } @else {
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Agreed actions" }
                    thead { tr { th scope="col" { "Action" } th scope="col" { "Who" } th scope="col" { "By when" } } }
                    tbody {
                        @for a in &c.actions {
                            tr {
                                td data-label="Action" { (a.what) }
                                td data-label="Who" { (a.who) }
                                td data-label="By when" { (a.by.as_deref().map(show_date).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Support I receive" }
        @if c.support.is_empty() { p { "None recorded." } } @else {
            ul { @for s in &c.support { li { (s.label()) } } }
        }
        @if let Some(n) = &c.support_notes { p { (text_block(n)) } }
        h3 { "Referrals to other services" }
        (referral_table(person, &view.referrals))
        h2 { "If things get worse" }
        p { (text_block(&o(&c.contingency))) }
        dl.summary-list {
            (layout::row("Review date", html! { (show_date(&c.review_date)) }))
            (layout::row("Agreed with me", html! { @if c.agreed { "Yes" @if let Some(d) = &c.agreed_on { ", on " (show_date(d)) } } @else { "Not yet" } }))
        }
    }
}

fn saved_line(v: &PlanVersion) -> Markup {
    html! { p.secondary-text { "Version " (v.version) ", saved by " (v.author_name) " on " (show_instant(v.created_at)) "." } }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let view = state
        .store
        .care_plan(&user.actor, person, PlanPurpose::View, source)
        .await?;
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let t = title(&user, person);
    Ok(ok(layout::page(
        Some(&user),
        t,
        html! {
            @if let Some(n) = q.opt("saved") { (layout::success_banner(&format!("Plan saved as version {n}"))) }
            span.caption { (view.person_name) }
            h1 { (t) }
            @match view.latest() {
                None => {
                    p { "There is no care and support plan yet." }
                    @if view.can_edit { p { a.button href={ "/people/" (person) "/plan/edit" } { "Write the plan" } } }
                    h2 { "Referrals to other services" }
                    (referral_table(person, &view.referrals))
                }
                Some(v) => {
                    (saved_line(v))
                    div.no-print {
                        @if view.can_edit { a.button href={ "/people/" (person) "/plan/edit" } { "Change the plan" } }
                        a.button.button--secondary href={ "/people/" (person) "/plan/print" } { "Print" }
                        a.button.button--secondary href={ "/people/" (person) "/plan/download" } { "Download (FHIR JSON)" }
                    }
                    (plan_body(person, v, &view))
                    p.no-print { a href={ "/people/" (person) "/plan/versions" } { "Earlier versions and what changed (" (view.versions.len()) " in all)" } }
                }
            }
            p.no-print { a href={ "/people/" (person) "/referrals" } { "Referrals to other services" } }
        },
    )))
}

// ---- editing ---------------------------------------------------------------------------------

const PLAN_SINGLE: &[&str] = &[
    "what_matters",
    "strengths",
    "needs",
    "preferences",
    "goals",
    "support_notes",
    "contingency",
    "review_day",
    "review_month",
    "review_year",
    "agreed",
    "agreed_day",
    "agreed_month",
    "agreed_year",
    "base_version",
    "action_rows",
];

fn plan_form_from(f: &FormData) -> PlanForm {
    let rows: usize = f
        .get("action_rows")
        .parse()
        .unwrap_or(0)
        .min(MAX_ACTIONS + 5);
    let mut actions = Vec::new();
    for n in 1..=rows.max(1) {
        actions.push(ActionRow {
            what: f.get(&format!("action_what_{n}")),
            who: f.get(&format!("action_who_{n}")),
            by: f.get(&format!("action_by_{n}")),
        });
    }
    PlanForm {
        what_matters: f.get("what_matters"),
        strengths: f.get("strengths"),
        needs: f.get("needs"),
        preferences: f.get("preferences"),
        goals: f.get("goals"),
        actions,
        support: f.all("support"),
        support_notes: f.get("support_notes"),
        contingency: f.get("contingency"),
        review_day: f.get("review_day"),
        review_month: f.get("review_month"),
        review_year: f.get("review_year"),
        agreed: f.get("agreed"),
        agreed_day: f.get("agreed_day"),
        agreed_month: f.get("agreed_month"),
        agreed_year: f.get("agreed_year"),
    }
}

fn edit_page(
    user: &CurrentUser,
    view: &PlanView,
    base_version: i64,
    f: &PlanForm,
    e: &ValidationErrors,
    unsaved: Option<&PlanForm>,
) -> Markup {
    let person = view.person_id;
    let supports: Vec<(&str, &str)> = SupportKind::ALL
        .iter()
        .map(|s| (s.code(), s.label()))
        .collect();
    // Every filled row plus blank ones to add more, up to the most a plan holds.
    let filled = f
        .actions
        .iter()
        .filter(|a| !(a.what.is_empty() && a.who.is_empty() && a.by.is_empty()))
        .count();
    let rows = (filled + 3).clamp(3, MAX_ACTIONS);
    let mut actions: Vec<ActionRow> = f
        .actions
        .iter()
        .filter(|a| !(a.what.is_empty() && a.who.is_empty() && a.by.is_empty()))
        .cloned()
        .collect();
    // Keep the submitted row numbers when there are errors, so messages point at the right row.
    if !e.is_empty() {
        actions = f.actions.clone();
    }
    actions.resize(rows.max(actions.len()), ActionRow::default());
    let t = if view.latest().is_some() {
        "Change the care and support plan"
    } else {
        "Write the care and support plan"
    };
    layout::page(
        Some(user),
        &layout::title_with_errors(t, e),
        html! {
            (layout::error_summary(e))
            span.caption { (view.person_name) }
            h1 { (t) }
            @if let Some(u) = unsaved {
                div.inset {
                    h2 { "Your changes were not saved" }
                    p { "Below is the latest version. What you had written is here so you can add it again:" }
                    dl.summary-list {
                        @for (label, value) in careplan_fields_of_form(u) { (layout::row(label, text_block(&value))) }
                    }
                }
            }
            p { "Write it with the person, in their words. Saving keeps every earlier version." }
            form method="post" action={ "/people/" (person) "/plan/edit" } novalidate {
                (layout::csrf(&user.csrf))
                input type="hidden" name="base_version" value=(base_version);
                input type="hidden" name="action_rows" value=(actions.len());
                (layout::textarea("what_matters", "What matters to me", Some("What they want to be able to do; what is important in their life."), &f.what_matters, e))
                (layout::textarea("strengths", "My strengths (optional)", Some("What they are good at, and who and what helps them."), &f.strengths, e))
                (layout::textarea("needs", "My needs (optional)", None, &f.needs, e))
                (layout::textarea("preferences", "My preferences (optional)", Some("For example, how and when they like to be contacted; face to face or by phone."), &f.preferences, e))
                (layout::textarea("goals", "My goals (optional)", Some("A short summary. Goals set with a health coach are kept in the coaching record."), &f.goals, e))
                h2 { "Agreed actions" }
                p.hint { "One row per action: what will be done, who does it, and by when. Leave rows you do not need empty." }
                @for (i, a) in actions.iter().enumerate() {
                    @let n = i + 1;
                    fieldset.fieldset.action-row {
                        legend.fieldset-legend { "Action " (n) }
                        (layout::text_input(&format!("action_what_{n}"), "What", &a.what, e, Input { width: Some("input--width-30"), ..Default::default() }))
                        (layout::text_input(&format!("action_who_{n}"), "Who", &a.who, e, Input { width: Some("input--width-20"), hint: Some("For example, Me, my coach, my daughter"), ..Default::default() }))
                        (layout::text_input(&format!("action_by_{n}"), "By when (optional)", &a.by, e, Input { width: Some("input--width-10"), hint: Some("For example, 15/3/2027"), ..Default::default() }))
                    }
                }
                h2 { "Support" }
                (layout::checkboxes("support", "Support I receive", Some("Select all that apply. Referrals to other services are listed on the plan automatically."), &supports, &f.support, e))
                (layout::textarea("support_notes", "About my support (optional)", None, &f.support_notes, e))
                (layout::textarea("contingency", "If things get worse (optional)", Some("What to do and who to contact, for example out of hours."), &f.contingency, e))
                (layout::date_input("review", "Review date", "When the plan will be looked at again, for example 15 3 2027", &f.review_day, &f.review_month, &f.review_year, e))
                (layout::radios("agreed", "Has the person agreed this plan?", &[("yes", "Yes"), ("no", "Not yet")], &f.agreed, e))
                (layout::date_input("agreed", "Date agreed (if agreed)", "For example, 20 11 2026", &f.agreed_day, &f.agreed_month, &f.agreed_year, e))
                button.button type="submit" { "Save as a new version" }
                a.button.button--secondary href={ "/people/" (person) "/plan" } { "Cancel" }
            }
        },
    )
}

fn careplan_fields_of_form(f: &PlanForm) -> Vec<(&'static str, String)> {
    vec![
        ("What matters to me", f.what_matters.clone()),
        ("My strengths", f.strengths.clone()),
        ("My needs", f.needs.clone()),
        ("My preferences", f.preferences.clone()),
        ("My goals", f.goals.clone()),
        (
            "Agreed actions",
            f.actions
                .iter()
                .filter(|a| !a.what.is_empty())
                .map(|a| format!("{} — {} {}", a.what, a.who, a.by))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        ("About my support", f.support_notes.clone()),
        ("If things get worse", f.contingency.clone()),
    ]
}

fn form_for(view: &PlanView) -> PlanForm {
    match view.latest() {
        Some(v) => PlanForm::from_content(&v.content),
        None => PlanForm {
            agreed: "no".into(),
            ..Default::default()
        },
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let view = state
        .store
        .care_plan(&user.actor, person, PlanPurpose::Edit, source)
        .await?;
    Ok(ok(edit_page(
        &user,
        &view,
        view.current_version(),
        &form_for(&view),
        &ValidationErrors::default(),
        None,
    )))
}

pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let base: i64 = data.get("base_version").parse().map_err(|_| {
        AppError::BadRequest(
            "The form is missing the version it was based on: reload the page and try again."
                .into(),
        )
    })?;
    let f = plan_form_from(&data);
    let parsed = {
        let mut e = data.repeated_errors(PLAN_SINGLE);
        for n in 1..=f.actions.len() {
            for k in [
                format!("action_what_{n}"),
                format!("action_who_{n}"),
                format!("action_by_{n}"),
            ] {
                if data.all(&k).len() > 1 {
                    e.add(&k, crate::form::REPEATED);
                }
            }
        }
        if e.is_empty() {
            PlanContent::parse(&f, state.store.clock().today())
        } else {
            Err(e)
        }
    };
    let content = match parsed {
        Ok(c) => c,
        Err(e) => {
            let view = state
                .store
                .care_plan(&user.actor, person, PlanPurpose::Edit, source)
                .await?;
            return Ok(invalid(edit_page(&user, &view, base, &f, &e, None)));
        }
    };
    match state
        .store
        .save_care_plan(&user.actor, person, base, content, source.clone())
        .await
    {
        Ok(n) => Ok(see_other(&format!("/people/{person}/plan?saved={n}"))),
        Err(StoreError::StaleVersion) => {
            let view = state
                .store
                .care_plan(&user.actor, person, PlanPurpose::Edit, source)
                .await?;
            let mut e = ValidationErrors::default();
            e.add("what_matters", format!("Someone else changed this plan (it is now at version {}) while you were editing it. Nothing was saved: here is the latest.", view.current_version()));
            Ok(respond(
                StatusCode::CONFLICT,
                edit_page(
                    &user,
                    &view,
                    view.current_version(),
                    &form_for(&view),
                    &e,
                    Some(&f),
                ),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

// ---- versions ----------------------------------------------------------------------------------

fn comparison(a: &PlanVersion, b: &PlanVersion) -> Markup {
    let changes = careplan::diff(&a.content, &b.content);
    html! {
        h2 { "What changed from version " (a.version) " to version " (b.version) }
        @if changes.is_empty() {
            p { "Nothing changed." }
        } @else {
            div.table-wrapper {
                table.responsive.comparison {
                    caption.visually-hidden { "Changes between the versions" }
                    thead { tr { th scope="col" { "Part of the plan" } th scope="col" { "Version " (a.version) } th scope="col" { "Version " (b.version) } } }
                    tbody {
                        @for c in &changes {
                            tr {
                                th scope="row" data-label="Part of the plan" { (c.field) }
                                td data-label={ "Version " (a.version) } { (text_block(&c.before)) }
                                td data-label={ "Version " (b.version) } { (text_block(&c.after)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn versions(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let q = FormData::parse(raw.unwrap_or_default().as_bytes());
    let from: Option<i64> = q.get("from").parse().ok();
    let to: Option<i64> = q.get("to").parse().ok();
    let purpose = match (from, to) {
        (Some(a), Some(b)) => PlanPurpose::Compare(a, b),
        _ => PlanPurpose::Versions,
    };
    let view = state
        .store
        .care_plan(&user.actor, person, purpose, source)
        .await?;
    let pair = match (from, to) {
        (Some(a), Some(b)) => match (view.version(a), view.version(b)) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => return Err(AppError::NotFound),
        },
        _ => None,
    };
    let opts: Vec<(String, String)> = view
        .versions
        .iter()
        .map(|v| (v.version.to_string(), format!("Version {}", v.version)))
        .collect();
    let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let none = ValidationErrors::default();
    let n = view.versions.len() as i64;
    let from_s = from.unwrap_or((n - 1).max(1)).to_string();
    let to_s = to.unwrap_or(n).to_string();
    Ok(ok(layout::page(
        Some(&user),
        "Versions of the plan",
        html! {
            span.caption { (view.person_name) }
            h1 { "Versions of the plan" }
            @if view.versions.is_empty() {
                p { "There is no care and support plan yet." }
            } @else {
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { "Versions, newest first" }
                        thead { tr { th scope="col" { "Version" } th scope="col" { "Saved by" } th scope="col" { "Saved on" } th scope="col" { "Agreed with the person" } } }
                        tbody {
                            @for v in view.versions.iter().rev() {
                                tr {
                                    td data-label="Version" { a href={ "/people/" (person) "/plan/versions/" (v.version) } { "Version " (v.version) } @if Some(v.version) == view.latest().map(|l| l.version) { " (current)" } }
                                    td data-label="Saved by" { (v.author_name) }
                                    td data-label="Saved on" { (show_instant(v.created_at)) }
                                    td data-label="Agreed with the person" { (if v.content.agreed { "Yes" } else { "Not yet" }) }
                                }
                            }
                        }
                    }
                }
                @if view.versions.len() > 1 {
                    form.search-form method="get" action={ "/people/" (person) "/plan/versions" } {
                        h2 { "Compare two versions" }
                        (layout::select("from", "From", &opts_ref, &from_s, &none))
                        (layout::select("to", "To", &opts_ref, &to_s, &none))
                        button.button type="submit" { "Compare" }
                    }
                }
                @if let Some((a, b)) = pair { (comparison(a, b)) }
            }
            p { a href={ "/people/" (person) "/plan" } { "Back to the plan" } }
        },
    )))
}

pub async fn version(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let n: i64 = n.parse().map_err(|_| AppError::NotFound)?;
    let view = state
        .store
        .care_plan(&user.actor, person, PlanPurpose::Version(n), source)
        .await?;
    let v = view.version(n).ok_or(AppError::NotFound)?;
    let previous = view.version(n - 1);
    let current = view.current_version() == n;
    Ok(ok(layout::page(
        Some(&user),
        &format!("Version {n} of the plan"),
        html! {
            span.caption { (view.person_name) }
            h1 { "Version " (n) " of the plan" }
            (saved_line(v))
            @if !current { div.inset { p { "This is an earlier version. " a href={ "/people/" (person) "/plan" } { "See the current plan" } "." } } }
            @if let Some(p) = previous { (comparison(p, v)) }
            h2 { "The plan as it was" }
            (plan_body(person, v, &view))
            p { a href={ "/people/" (person) "/plan/versions" } { "All versions" } }
        },
    )))
}

// ---- print and download ------------------------------------------------------------------------

/// The printable page's own stylesheet: fits one or two A4 pages.
const PRINT_CSS: &str = "
@page { size: A4; margin: 15mm 14mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 11pt; line-height: 1.35; color: #212b32; margin: 0 auto; max-width: 182mm; padding: 8mm 0; }
h1 { font-size: 18pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 5mm 0 1.5mm; border-bottom: 1px solid #aeb7bd; padding-bottom: 0.5mm; }
p, dd, li, td { margin: 0 0 1.5mm; }
.meta { color: #4c6272; font-size: 9.5pt; }
dl { display: grid; grid-template-columns: 42mm 1fr; gap: 1mm 4mm; margin: 0; }
dt { font-weight: bold; }
dd { margin: 0; white-space: pre-line; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; }
th, td { border: 1px solid #aeb7bd; padding: 1mm 2mm; text-align: left; vertical-align: top; }
.box { border: 2px solid #212b32; padding: 2mm 3mm; margin-top: 3mm; }
.back { margin-top: 6mm; }
@media print {
  body { padding: 0; max-width: none; }
  .back { display: none; }
  h2 { break-after: avoid; }
  tr, .box, dl > * { break-inside: avoid; }
}
";

fn print_document(view: &PlanView, v: &PlanVersion, back: Option<&str>) -> String {
    let c = &v.content;
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    let doc = html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Care and support plan – " (view.person_name) }
                style { (PreEscaped(PRINT_CSS)) }
            }
            body {
                h1 { "My care and support plan" }
                p.meta {
                    strong { (view.person_name) }
                    " · born " (show_date(&view.date_of_birth))
                    @if let Some(n) = &view.nhs_number { " · NHS number " (format!("{} {} {}", &n[..3.min(n.len())], &n[3.min(n.len())..6.min(n.len())], &n[6.min(n.len())..])) }
                    br;
                    "Version " (v.version) ", saved by " (v.author_name) " on " (show_instant(v.created_at)) " · review by " (show_date(&c.review_date))
                    " · " @if c.agreed { "agreed with me" @if let Some(d) = &c.agreed_on { " on " (show_date(d)) } } @else { "not yet agreed with me" }
                }
                h2 { "About me" }
                dl {
                    dt { "What matters to me" } dd { (c.what_matters) }
                    @if let Some(s) = &c.strengths { dt { "My strengths" } dd { (s) } }
                    @if let Some(s) = &c.needs { dt { "My needs" } dd { (s) } }
                    @if let Some(s) = &c.preferences { dt { "My preferences" } dd { (s) } }
                    @if let Some(s) = &c.goals { dt { "My goals" } dd { (s) } }
                }
                h2 { "What we agreed to do" }
                @if c.actions.is_empty() { p { "No actions agreed yet." } } @else {
                    table {
                        thead { tr { th { "Action" } th { "Who" } th { "By when" } } }
                        tbody { @for a in &c.actions { tr { td { (a.what) } td { (a.who) } td { (a.by.as_deref().map(show_date).unwrap_or_default()) } } } }
                    }
                }
                h2 { "Support I receive" }
                p { @if c.support.is_empty() { "None recorded." } @else { (c.support.iter().map(|s| s.label()).collect::<Vec<_>>().join(", ")) } }
                @if let Some(n) = &c.support_notes { p { (n) } }
                @let live: Vec<_> = view.referrals.iter().filter(|r| !matches!(r.status, ReferralStatus::Withdrawn | ReferralStatus::Declined)).collect();
                @if !live.is_empty() {
                    p { "Referrals: " (live.iter().map(|r| format!("{} ({})", r.service_name, r.status.label().to_lowercase())).collect::<Vec<_>>().join("; ")) }
                }
                div.box {
                    h2 { "If things get worse" }
                    p { (if o(&c.contingency).is_empty() { "Contact your GP practice. In an emergency call 999; for urgent help that is not an emergency, call 111.".to_string() } else { o(&c.contingency) }) }
                }
                @if let Some(b) = back { p.back { a href=(b) { "Back to the plan" } } }
            }
        }
    };
    doc.into_string()
}

pub async fn print(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let view = state
        .store
        .care_plan(&user.actor, person, PlanPurpose::Print, source)
        .await?;
    let Some(v) = view.latest() else {
        return Err(AppError::NotFound);
    };
    let doc = print_document(&view, v, Some(&format!("/people/{person}/plan")));
    let csp = super::outcomes::report_csp(&doc)?;
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        doc,
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).map_err(|x| AppError::Internal(x.to_string()))?,
    );
    Ok(resp)
}

fn referral_activity_status(s: ReferralStatus) -> &'static str {
    match s {
        ReferralStatus::Drafted => "not-started",
        ReferralStatus::Sent => "scheduled",
        ReferralStatus::Accepted => "in-progress",
        ReferralStatus::Completed => "completed",
        ReferralStatus::Declined | ReferralStatus::Withdrawn => "cancelled",
    }
}

/// The current version as a FHIR R4 CarePlan resource.
pub fn fhir_care_plan(view: &PlanView, v: &PlanVersion) -> serde_json::Value {
    use serde_json::json;
    let c = &v.content;
    let first = view
        .versions
        .first()
        .map(|f| f.created_at)
        .unwrap_or(v.created_at);
    let mut notes = Vec::new();
    for (label, value) in [
        ("What matters to me", Some(c.what_matters.clone())),
        ("My strengths", c.strengths.clone()),
        ("My needs", c.needs.clone()),
        ("My preferences", c.preferences.clone()),
        ("My goals", c.goals.clone()),
        ("About my support", c.support_notes.clone()),
        ("If things get worse", c.contingency.clone()),
        ("Review date", Some(c.review_date.clone())),
        (
            "Agreed with me",
            Some(match (&c.agreed, &c.agreed_on) {
                (true, Some(d)) => format!("yes, on {d}"),
                (true, None) => "yes".into(),
                _ => "not yet".into(),
            }),
        ),
    ] {
        if let Some(value) = value.filter(|s| !s.trim().is_empty()) {
            notes.push(json!({ "text": format!("{label}: {value}") }));
        }
    }
    let mut activity = Vec::new();
    for a in &c.actions {
        let mut detail = json!({
            "kind": "Task",
            "status": "not-started",
            "description": a.what,
            "performer": [{ "display": a.who }],
        });
        if let Some(by) = &a.by {
            detail["scheduledString"] = json!(format!("by {by}"));
        }
        activity.push(json!({ "detail": detail }));
    }
    for s in &c.support {
        activity
            .push(json!({ "detail": { "code": { "text": s.label() }, "status": "in-progress" } }));
    }
    for r in &view.referrals {
        activity.push(json!({ "detail": {
            "kind": "ServiceRequest",
            "status": referral_activity_status(r.status),
            "description": format!("Referral to {}: {}", r.service_name, r.reason),
        } }));
    }
    let mut subject =
        json!({ "reference": format!("Patient/{}", view.person_id), "display": view.person_name });
    if let Some(n) = &view.nhs_number {
        subject["identifier"] =
            json!({ "system": "https://fhir.nhs.uk/Id/nhs-number", "value": n });
    }
    let mut plan = json!({
        "resourceType": "CarePlan",
        "id": v.id,
        "meta": { "versionId": v.version.to_string(), "lastUpdated": Timestamp(v.created_at).rfc3339() },
        "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", v.id) }],
        "status": "active",
        "intent": "plan",
        "category": [{ "text": "Personalised care and support plan" }],
        "title": "Personalised care and support plan",
        "description": c.what_matters,
        "subject": subject,
        "created": Timestamp(first).rfc3339(),
        "author": { "display": v.author_name },
        "note": notes,
    });
    if !activity.is_empty() {
        plan["activity"] = json!(activity);
    }
    plan
}

pub async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let person = parse_person(&id)?;
    let view = state
        .store
        .care_plan(&user.actor, person, PlanPurpose::Download, source)
        .await?;
    let Some(v) = view.latest() else {
        return Err(AppError::NotFound);
    };
    let body = serde_json::to_string_pretty(&fhir_care_plan(&view, v))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let disposition = format!(
        "attachment; filename=\"care-plan-{person}-v{}.json\"",
        v.version
    );
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "application/fhir+json; charset=utf-8".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// Links from a person's record to their plan and referrals, for those who may read them.
pub fn record_links(user: &CurrentUser, person: PersonId, can_read: bool) -> Markup {
    html! {
        @if can_read {
            h2 { "Care and support" }
            ul.no-print {
                li { a href={ "/people/" (person) "/plan" } { (title(user, person)) } }
                li { a href={ "/people/" (person) "/referrals" } { "Referrals to other services" } }
            }
        }
    }
}
