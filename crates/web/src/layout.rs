//! Page layout and form components in the NHS design system's style: skip link, header,
//! one `h1` per page, error summary at the top of a form linking to each field, labels, hints
//! and per-field messages. No inline script or style (the CSP forbids both).

use crate::auth::CurrentUser;
use alongside_core::validation::ValidationErrors;
use alongside_core::Role;
use maud::{html, Markup, PreEscaped, DOCTYPE};

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " – Alongside" }
            link rel="stylesheet" href="/assets/alongside.css";
            link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
        }
    }
}

fn nav_links(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![("/", "Home")];
    match role {
        Role::Administrator => v.extend([
            ("/people", "People"),
            ("/admin/users", "Users"),
            ("/admin/instruments", "Questionnaires"),
            ("/admin/settings", "Settings"),
            ("/audit", "Audit log"),
            ("/statistics", "Statistics"),
            ("/outcomes", "Outcomes"),
        ]),
        Role::Coordinator => v.extend([
            ("/people", "People"),
            ("/people/new", "Register a person"),
            ("/coaching/queue", "Coaching referrals"),
            ("/activation/outreach", "Outreach"),
            ("/activation/due", "Due for re-measurement"),
            ("/statistics", "Statistics"),
            ("/outcomes", "Outcomes"),
        ]),
        Role::HealthCoach => v.extend([
            ("/coaching/caseload", "Coaching"),
            ("/people", "My caseload"),
            ("/people/new", "Register a person"),
        ]),
        Role::Analyst => v.extend([("/statistics", "Statistics"), ("/outcomes", "Outcomes")]),
        Role::Person => v.push(("/my/coaching", "Your coaching")),
        Role::Educator | Role::PeerSupportLead | Role::Volunteer => {}
    }
    // Peer support.
    match role {
        Role::Person => v.extend([("/groups", "Find a group"), ("/my/upcoming", "Coming up")]),
        Role::Volunteer => v.push(("/groups", "Sessions")),
        Role::Administrator | Role::Coordinator | Role::PeerSupportLead => v.extend([
            ("/groups", "Peer support"),
            ("/rota/people", "Session team"),
        ]),
        _ => {}
    }
    // The service directory is open to everyone; overdue referrals to coordinators.
    v.push(("/directory", "Service directory"));
    if role == Role::Coordinator {
        v.push(("/referrals/overdue", "Overdue referrals"));
    }
    // Self-management education.
    match role {
        Role::Person => v.push(("/my/courses", "Your courses")),
        _ => v.push(("/courses", "Courses")),
    }
    if matches!(
        role,
        Role::Administrator | Role::Coordinator | Role::Analyst
    ) {
        v.push(("/reports/education", "Education report"));
    }
    if matches!(
        role,
        Role::Administrator | Role::Coordinator | Role::PeerSupportLead | Role::Analyst
    ) {
        v.push(("/reports/peer-support", "Peer support report"));
    }
    v.push(("/account/password", "Change password"));
    v
}

/// A full page for a signed-in (or anonymous) user.
pub fn page(user: Option<&CurrentUser>, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(title))
            body {
                a.skip-link href="#main-content" { "Skip to main content" }
                header.header role="banner" {
                    div.width-container.header-inner {
                        a.header-logo href="/" aria-label="Alongside home" { span.logo-mark { "A" } span.logo-text { "Alongside" } }
                        @if let Some(u) = user {
                            div.header-account {
                                span.header-user { (u.user.display_name) span.header-role { " · " (u.user.role.label()) " · " (u.org_name) } }
                                form method="post" action="/sign-out" {
                                    input type="hidden" name="csrf_token" value=(u.csrf);
                                    button.link-button type="submit" { "Sign out" }
                                }
                            }
                        }
                    }
                    @if let Some(u) = user {
                        nav.header-nav.header-nav--wide aria-label="Primary navigation" {
                            ul.width-container {
                                @for (href, label) in nav_links(u.user.role) { li { a href=(href) { (label) } } }
                            }
                        }
                        // On a phone the same links fold into a menu that opens without JavaScript.
                        nav.header-nav.header-nav--narrow aria-label="Primary navigation" {
                            details.width-container {
                                summary { "Menu" }
                                ul { @for (href, label) in nav_links(u.user.role) { li { a href=(href) { (label) } } } }
                            }
                        }
                    }
                }
                div.width-container {
                    main.main-wrapper id="main-content" role="main" { (content) }
                }
                footer role="contentinfo" {
                    div.width-container.footer-inner {
                        p { "Alongside — supported self-management. Every view and change of a person's record is recorded." }
                    }
                }
            }
        }
    }
}

/// A page with no account header (errors, sign-in).
pub fn bare(title: &str, content: Markup) -> Markup {
    page(None, title, content)
}

pub fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name="csrf_token" value=(token); }
}

/// The error summary: a heading and one link per error, to the field's id.
pub fn error_summary(errors: &ValidationErrors) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.error-summary.nhsuk-error-summary aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
                h2.error-summary-title id="error-summary-title" { "There is a problem" }
                ul.error-summary-list {
                    @for e in &errors.0 { li { a href={ "#" (e.field) } { (e.message) } } }
                }
            }
        }
    }
}

pub fn title_with_errors(title: &str, errors: &ValidationErrors) -> String {
    if errors.is_empty() {
        title.to_string()
    } else {
        format!("Error: {title}")
    }
}

fn field_error(name: &str, errors: &ValidationErrors) -> Markup {
    html! {
        @if let Some(m) = errors.for_field(name) {
            span.error-message id={ (name) "-error" } { span.visually-hidden { "Error: " } (m) }
        }
    }
}

fn describedby(name: &str, hint: Option<&str>, errors: &ValidationErrors) -> Option<String> {
    let mut ids = Vec::new();
    if hint.is_some() {
        ids.push(format!("{name}-hint"));
    }
    if errors.for_field(name).is_some() {
        ids.push(format!("{name}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// Options for a text input.
#[derive(Default, Clone, Copy)]
pub struct Input<'a> {
    pub hint: Option<&'a str>,
    pub kind: &'a str,
    pub autocomplete: Option<&'a str>,
    pub width: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    pub spellcheck_off: bool,
}

pub fn text_input(
    name: &str,
    label: &str,
    value: &str,
    errors: &ValidationErrors,
    o: Input,
) -> Markup {
    let err = errors.for_field(name).is_some();
    let kind = if o.kind.is_empty() { "text" } else { o.kind };
    html! {
        div.form-group.form-group--error[err] {
            label.label for=(name) { (label) }
            @if let Some(h) = o.hint { div.hint id={ (name) "-hint" } { (h) } }
            (field_error(name, errors))
            input class={ "input" @if err { " input--error" } @if let Some(w) = o.width { " " (w) } } id=(name) name=(name) type=(kind) value=(value)
                autocomplete=[o.autocomplete] inputmode=[o.inputmode] spellcheck=[o.spellcheck_off.then_some("false")]
                aria-describedby=[describedby(name, o.hint, errors)];
        }
    }
}

pub fn textarea(
    name: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    errors: &ValidationErrors,
) -> Markup {
    let err = errors.for_field(name).is_some();
    html! {
        div.form-group.form-group--error[err] {
            label.label for=(name) { (label) }
            @if let Some(h) = hint { div.hint id={ (name) "-hint" } { (h) } }
            (field_error(name, errors))
            textarea.textarea.input--error[err] id=(name) name=(name) rows="5" aria-describedby=[describedby(name, hint, errors)] { (value) }
        }
    }
}

/// A date as three inputs (day, month, year) in one fieldset; errors may be on any part.
pub fn date_input(
    prefix: &str,
    legend: &str,
    hint: &str,
    d: &str,
    m: &str,
    y: &str,
    errors: &ValidationErrors,
) -> Markup {
    let names = [
        format!("{prefix}_day"),
        format!("{prefix}_month"),
        format!("{prefix}_year"),
    ];
    let err = names.iter().any(|n| errors.for_field(n).is_some());
    html! {
        div.form-group.form-group--error[err] {
            fieldset.fieldset role="group" aria-describedby={ (prefix) "-hint" } {
                legend.fieldset-legend { (legend) }
                div.hint id={ (prefix) "-hint" } { (hint) }
                @for n in &names { (field_error(n, errors)) }
                div.date-input {
                    @for (n, label, v, w) in [(&names[0], "Day", d, "input--width-2"), (&names[1], "Month", m, "input--width-2"), (&names[2], "Year", y, "input--width-4")] {
                        @let e = errors.for_field(n).is_some();
                        div.date-input-item {
                            label.label for=(n) { (label) }
                            input class={ "input " (w) @if e { " input--error" } } id=(n) name=(n) type="text" inputmode="numeric" value=(v);
                        }
                    }
                }
            }
        }
    }
}

pub fn radios(
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    selected: &str,
    errors: &ValidationErrors,
) -> Markup {
    let err = errors.for_field(name).is_some();
    html! {
        div.form-group.form-group--error[err] id=(name) {
            fieldset.fieldset {
                legend.fieldset-legend { (legend) }
                (field_error(name, errors))
                div.radios {
                    @for (value, label) in options {
                        @let id = format!("{name}-{value}");
                        div.radios-item {
                            input.radios-input id=(id) name=(name) type="radio" value=(value) checked[*value == selected];
                            label.label.radios-label for=(id) { (label) }
                        }
                    }
                }
            }
        }
    }
}

pub fn checkbox(name: &str, label: &str, checked: bool) -> Markup {
    html! {
        div.checkboxes-item {
            input.checkboxes-input id=(name) name=(name) type="checkbox" value="yes" checked[checked];
            label.label.checkboxes-label for=(name) { (label) }
        }
    }
}

pub fn checkboxes(
    name: &str,
    legend: &str,
    hint: Option<&str>,
    options: &[(&str, &str)],
    selected: &[String],
    errors: &ValidationErrors,
) -> Markup {
    let err = errors.for_field(name).is_some();
    html! {
        div.form-group.form-group--error[err] id=(name) {
            fieldset.fieldset {
                legend.fieldset-legend { (legend) }
                @if let Some(h) = hint { div.hint { (h) } }
                (field_error(name, errors))
                div.checkboxes {
                    @for (value, label) in options {
                        @let id = format!("{name}-{value}");
                        div.checkboxes-item {
                            input.checkboxes-input id=(id) name=(name) type="checkbox" value=(value) checked[selected.iter().any(|s| s == value)];
                            label.label.checkboxes-label for=(id) { (label) }
                        }
                    }
                }
            }
        }
    }
}

pub fn select(
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
    errors: &ValidationErrors,
) -> Markup {
    let err = errors.for_field(name).is_some();
    html! {
        div.form-group.form-group--error[err] {
            label.label for=(name) { (label) }
            (field_error(name, errors))
            select.select id=(name) name=(name) {
                @for (value, text) in options { option value=(value) selected[*value == selected] { (text) } }
            }
        }
    }
}

/// A green confirmation banner.
pub fn success_banner(message: &str) -> Markup {
    html! {
        div.notification-banner.notification-banner--success role="status" aria-labelledby="banner-title" {
            h2.visually-hidden id="banner-title" { "Success" }
            p.notification-banner-heading { (message) }
        }
    }
}

/// A summary list row (`dt`/`dd`).
pub fn row(key: &str, value: Markup) -> Markup {
    html! { div.summary-list-row { dt.summary-list-key { (key) } dd.summary-list-value { (value) } } }
}

pub fn or_not_recorded(v: Option<&str>) -> Markup {
    match v {
        Some(s) if !s.is_empty() => html! { (s) },
        _ => html! { span.secondary-text { "Not recorded" } },
    }
}

pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}
