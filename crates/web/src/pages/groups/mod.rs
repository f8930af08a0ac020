//! Peer support: finding groups, creating and changing them, their sessions (cancel, move),
//! booking ahead, the phone-friendly door sign-in page, what a person has coming up, and a
//! person's attendance history.

use super::peer_common::{
    door_page, door_section, load_group, load_session, may, parse_date, parse_group_id,
    session_panel, session_path, when,
};
use super::{html as respond, invalid, ok, see_other};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::AppState;
use alongside_core::conditions::{self, CONDITIONS};
use alongside_core::groups::{
    ClockTime, GroupDetails, GroupForm, Mode, ANY_CONDITION, TRAINING_COURSES, WEEKDAYS,
};
use alongside_core::time::display_date;
use alongside_core::validation::{clean_name, clean_text, ValidationErrors};
use alongside_core::{Action, GroupId, PersonId};
use alongside_store::groups::{
    BookOutcome, DoorEntry, GroupRow, OwnPlace, SessionChange, SessionState, SignInOutcome,
    Upcoming,
};
use alongside_store::people::Source;
use alongside_store::StoreError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use time::Date;

/// The account's own place in the group (and, for `session`, whether they hold a booking
/// there) when it is a person's own account that may book for itself — `None` for everyone
/// else. Both decided by the store.
async fn own_place(
    state: &AppState,
    user: &CurrentUser,
    group: GroupId,
    session: Option<Date>,
    source: Source,
) -> AppResult<Option<OwnPlace>> {
    let Some(pid) = user.actor.person_id else {
        return Ok(None);
    };
    if !state
        .store
        .may(&user.actor, Action::BookGroups, pid)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(
        state
            .store
            .own_place(&user.actor, group, session, source)
            .await?,
    ))
}

fn focus_label(focus: &str) -> &str {
    if focus == ANY_CONDITION {
        "Any long-term condition"
    } else {
        conditions::by_key(focus).map(|c| c.label).unwrap_or(focus)
    }
}

// ---- finding groups ------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct FindParams {
    condition: Option<String>,
    mode: Option<String>,
    day: Option<String>,
    time: Option<String>,
    place: Option<String>,
}

fn time_band(t: ClockTime) -> &'static str {
    match t.0 / 60 {
        0..=11 => "morning",
        12..=16 => "afternoon",
        _ => "evening",
    }
}

pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(p): Query<FindParams>,
) -> AppResult<Response> {
    user.require(Action::FindGroups)?;
    let today = state.store.clock().today();
    let condition = p.condition.unwrap_or_default();
    let mode = p.mode.unwrap_or_default();
    let day = p.day.unwrap_or_default();
    let band = p.time.unwrap_or_default();
    let place: String = p.place.unwrap_or_default().chars().take(100).collect();
    let all = state.store.groups(user.actor.org_id).await?;
    let groups: Vec<&GroupRow> = all
        .iter()
        .filter(|g| g.active)
        .filter(|g| {
            condition.is_empty() || g.details.focus == condition || g.details.focus == ANY_CONDITION
        })
        .filter(|g| mode.is_empty() || g.details.mode.code() == mode)
        .filter(|g| band.is_empty() || time_band(g.details.start_time) == band)
        .filter(|g| {
            let needle = place.trim().to_lowercase();
            needle.is_empty()
                || [&g.details.place, &g.details.venue].iter().any(|v| {
                    v.as_deref()
                        .is_some_and(|v| v.to_lowercase().contains(&needle))
                })
        })
        .filter(|g| {
            day.is_empty()
                || g.details
                    .occurrences(today, today.saturating_add(time::Duration::weeks(8)))
                    .iter()
                    .any(|d| {
                        WEEKDAYS
                            .iter()
                            .any(|(c, _, w)| *c == day && d.weekday() == *w)
                    })
        })
        .collect();
    let mut conds: Vec<(&str, &str)> = vec![("", "Any condition")];
    conds.extend(CONDITIONS.iter().map(|c| (c.key, c.label)));
    let mut days: Vec<(&str, &str)> = vec![("", "Any day")];
    days.extend(WEEKDAYS.iter().map(|(c, n, _)| (*c, *n)));
    let none = ValidationErrors::default();
    let manager = may(&user, Action::ManageGroups);
    let title = "Peer support groups";
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            h1 { (title) }
            p.lede { "People with shared experience supporting each other, face to face or online." }
            @if manager { p { a.button href="/groups/new" { "Create a group" } } }
            form.search-form method="get" action="/groups" role="search" {
                (layout::select("condition", "Condition", &conds, &condition, &none))
                (layout::select("mode", "How it meets", &[("", "Face to face or online"), ("in_person", "Face to face"), ("online", "Online")], &mode, &none))
                (layout::select("day", "Day", &days, &day, &none))
                (layout::select("time", "Time of day", &[("", "Any time"), ("morning", "Morning"), ("afternoon", "Afternoon"), ("evening", "Evening")], &band, &none))
                (layout::text_input("place", "Town or area", &place, &none, Input { width: Some("input--width-20"), ..Default::default() }))
                button.button type="submit" { "Find groups" }
            }
            @if groups.is_empty() {
                p { "No groups match. Try fewer choices." }
            } @else {
                p { (groups.len()) @if groups.len() == 1 { " group" } @else { " groups" } }
                ul.group-list {
                    @for g in &groups {
                        li.card {
                            h2 { a href={ "/groups/" (g.id) } { (g.details.name) } }
                            p { (g.details.describe_schedule()) ", " (g.details.start_time.text()) " to " (g.details.end_time.text()) }
                            p { (focus_label(&g.details.focus)) " · " (g.details.mode.label())
                                @if let Some(pl) = &g.details.place { " · " (pl) } }
                        }
                    }
                }
            }
        },
    )))
}

// ---- the group page --------------------------------------------------------------------------

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    user.require(Action::FindGroups)?;
    let g = load_group(&state, &user, &id).await?;
    let today = state.store.clock().today();
    let sessions = state
        .store
        .sessions(&g, today, today.saturating_add(time::Duration::days(13)))
        .await?;
    let own = own_place(&state, &user, g.id, None, source).await?;
    let member = own.is_some_and(|o| o.member);
    let d = &g.details;
    let manager = may(&user, Action::ManageGroups);
    let door = may(&user, Action::SignInAtDoor);
    // A volunteer is offered the door only at the sessions they are on the rota for.
    let door_at = if door {
        let dates: Vec<Date> = sessions.iter().map(|s| s.original_date).collect();
        state
            .store
            .sessions_allowing(&user.actor, Action::SignInAtDoor, g.id, &dates)
            .await?
    } else {
        Vec::new()
    };
    Ok(ok(layout::page(
        Some(&user),
        &d.name,
        html! {
            span.caption { "Peer support group" }
            h1 { (d.name) }
            @if manager { p { a href={ "/groups/" (g.id) "/edit" } { "Change this group" } " · " a href={ "/groups/" (g.id) "/activities" } { "Activities" } } }
            @if let Some(desc) = &d.description { p.lede { (desc) } }
            dl.summary-list {
                (layout::row("When", html! { (d.describe_schedule()) ", " (d.start_time.text()) " to " (d.end_time.text()) }))
                (layout::row("For", html! { (focus_label(&d.focus)) @if let Some(i) = &d.interest { " · " (i) } }))
                (layout::row("Run by", html! { @match (&d.kind, &d.peer_leader) {
                    (alongside_core::groups::GroupKind::Informal, Some(l)) => { "Peers, led by " (l) }
                    _ => { "Trained staff and volunteers" }
                } }))
                (layout::row("Where", html! { @match d.mode {
                    Mode::InPerson => { (d.venue.clone().unwrap_or_default()) @if let Some(p) = &d.place { ", " (p) } }
                    Mode::Online => { "Online" @if member || manager || door { ": " (d.joining_details.clone().unwrap_or_default()) } @else { " (joining details are shown to members)" } }
                } }))
                (layout::row("Who may join", html! { (d.who_may_join) }))
                (layout::row("Places", html! { (d.capacity) " a session" @if d.walk_in_places > 0 { ", of which " (d.walk_in_places) " are kept for people who just turn up" } }))
                @if let Some(c) = &d.code_of_conduct { (layout::row("Code of conduct", html! { (c) })) }
            }
            @if own.is_some() {
                @if member {
                    p { strong { "You are a member of this group." } }
                } @else {
                    form method="post" action={ "/groups/" (g.id) "/join" } {
                        (layout::csrf(&user.csrf))
                        button.button type="submit" { "Join this group" }
                    }
                }
            }
            h2 { "Next sessions" }
            @if sessions.is_empty() {
                p { "There are no sessions in the next two weeks." }
            } @else {
                ul {
                    @for s in &sessions {
                        li {
                            a href=(session_path(g.id, s.original_date)) { (when(s)) }
                            @if s.cancelled { " — " strong { "cancelled" } }
                            @else if s.moved() { " (moved from " (display_date(s.original_date)) ")" }
                            @if door && !s.cancelled && door_at.contains(&s.original_date) { " · " a href={ (session_path(g.id, s.original_date)) "/door" } { "Sign people in" } }
                        }
                    }
                }
            }
        },
    )))
}

pub async fn join(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let gid = parse_group_id(&id)?;
    // Only a person's own account joins: decided (and a refusal audited) by the store.
    state.store.join_group(&user.actor, gid, source).await?;
    Ok(see_other(&format!("/groups/{gid}")))
}

// ---- create and change ---------------------------------------------------------------------

const GROUP_SINGLE: &[&str] = &[
    "name",
    "description",
    "kind",
    "peer_leader",
    "focus",
    "interest",
    "mode",
    "venue",
    "place",
    "joining_details",
    "who_may_join",
    "code_of_conduct",
    "first_day",
    "first_month",
    "first_year",
    "start_time",
    "end_time",
    "repeat",
    "month_week",
    "month_day",
    "rrule",
    "until_day",
    "until_month",
    "until_year",
    "count",
    "closures",
    "capacity",
    "walk_in_places",
    "attendees_per_volunteer",
    "version",
];

fn group_form_from(f: &FormData) -> GroupForm {
    GroupForm {
        name: f.get("name"),
        description: f.get("description"),
        kind: f.get("kind"),
        peer_leader: f.get("peer_leader"),
        focus: f.get("focus"),
        interest: f.get("interest"),
        mode: f.get("mode"),
        venue: f.get("venue"),
        place: f.get("place"),
        joining_details: f.get("joining_details"),
        who_may_join: f.get("who_may_join"),
        code_of_conduct: f.get("code_of_conduct"),
        first_day: f.get("first_day"),
        first_month: f.get("first_month"),
        first_year: f.get("first_year"),
        start_time: f.get("start_time"),
        end_time: f.get("end_time"),
        repeat: f.get("repeat"),
        days: f.all("days"),
        month_week: f.get("month_week"),
        month_day: f.get("month_day"),
        rrule: f.get("rrule"),
        until_day: f.get("until_day"),
        until_month: f.get("until_month"),
        until_year: f.get("until_year"),
        count: f.get("count"),
        closures: f.get("closures"),
        capacity: f.get("capacity"),
        walk_in_places: f.get("walk_in_places"),
        attendees_per_volunteer: f.get("attendees_per_volunteer"),
        required_training: f.all("required_training"),
    }
}

fn parse_group(data: &FormData, form: &GroupForm) -> Result<GroupDetails, ValidationErrors> {
    data.repeated_errors(GROUP_SINGLE).into_result(())?;
    GroupDetails::parse(form)
}

fn group_fields(f: &GroupForm, e: &ValidationErrors) -> Markup {
    let mut conds: Vec<(&str, &str)> = vec![(ANY_CONDITION, "Any long-term condition")];
    conds.extend(CONDITIONS.iter().map(|c| (c.key, c.label)));
    let days: Vec<(&str, &str)> = WEEKDAYS.iter().map(|(c, n, _)| (*c, *n)).collect();
    let mut month_days: Vec<(&str, &str)> = vec![("", "Choose a day")];
    month_days.extend(days.iter().copied());
    let training: Vec<(&str, &str)> = TRAINING_COURSES.to_vec();
    html! {
        h2 { "About the group" }
        (layout::text_input("name", "Name of the group", &f.name, e, Input { width: Some("input--width-30"), ..Default::default() }))
        (layout::textarea("description", "Description (optional)", Some("What happens, in a sentence or two."), &f.description, e))
        (layout::radios("kind", "How it is run", &[("formal", "Formal: run by trained staff and volunteers"), ("informal", "Informal: run by peers, with a named peer leader")], &f.kind, e))
        (layout::text_input("peer_leader", "Peer leader's name (for an informal group)", &f.peer_leader, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::select("focus", "Who it is for", &conds, &f.focus, e))
        (layout::text_input("interest", "Interest or theme (optional)", &f.interest, e, Input { hint: Some("For example, creative writing, walking, carers"), width: Some("input--width-20"), ..Default::default() }))
        (layout::textarea("who_may_join", "Who may join", Some("For example, anyone over 18 living with a mental-health condition, and their carers."), &f.who_may_join, e))
        (layout::textarea("code_of_conduct", "Code of conduct (optional)", None, &f.code_of_conduct, e))
        h2 { "Where" }
        (layout::radios("mode", "How it meets", &[("in_person", "Face to face"), ("online", "Online")], &f.mode, e))
        (layout::text_input("venue", "Venue (face to face)", &f.venue, e, Input { width: Some("input--width-30"), ..Default::default() }))
        (layout::text_input("place", "Town or area (optional)", &f.place, e, Input { hint: Some("Helps people find groups near them"), width: Some("input--width-20"), ..Default::default() }))
        (layout::textarea("joining_details", "Joining details (online)", Some("For example, the meeting link. Only members see this."), &f.joining_details, e))
        h2 { "When" }
        (layout::date_input("first", "Date of the first session", "For example, 1 12 2026", &f.first_day, &f.first_month, &f.first_year, e))
        (layout::text_input("start_time", "Start time", &f.start_time, e, Input { hint: Some("For example, 18:00"), width: Some("input--width-5"), ..Default::default() }))
        (layout::text_input("end_time", "End time", &f.end_time, e, Input { hint: Some("For example, 23:00"), width: Some("input--width-5"), ..Default::default() }))
        (layout::radios("repeat", "How often", &[("daily", "Every day"), ("weekly", "Every week, on the days chosen below"), ("monthly", "Once a month, on the week and day chosen below"), ("custom", "A recurrence rule (RRULE), for other patterns")], &f.repeat, e))
        (layout::checkboxes("days", "Days of the week (weekly)", None, &days, &f.days, e))
        (layout::select("month_week", "Week of the month (monthly)", &[("", "Choose a week"), ("1", "First"), ("2", "Second"), ("3", "Third"), ("4", "Fourth"), ("-1", "Last")], &f.month_week, e))
        (layout::select("month_day", "Day (monthly)", &month_days, &f.month_day, e))
        (layout::text_input("rrule", "Recurrence rule (optional)", &f.rrule, e, Input { hint: Some("For example, FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;COUNT=10"), width: Some("input--width-30"), spellcheck_off: true, ..Default::default() }))
        (layout::date_input("until", "Last date sessions may fall on", "For example, 31 12 2027. Or give the number of sessions instead.", &f.until_day, &f.until_month, &f.until_year, e))
        (layout::text_input("count", "Number of sessions (instead of a last date)", &f.count, e, Input { width: Some("input--width-5"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::textarea("closures", "Closures (optional)", Some("Dates with no session, one per line, for example 25/12/2026."), &f.closures, e))
        h2 { "Places and staffing" }
        (layout::text_input("capacity", "Places at each session", &f.capacity, e, Input { width: Some("input--width-5"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::text_input("walk_in_places", "Places kept for people who just turn up", &f.walk_in_places, e, Input { hint: Some("These cannot be booked ahead. 0 if every place may be booked."), width: Some("input--width-5"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::text_input("attendees_per_volunteer", "People per volunteer on the rota", &f.attendees_per_volunteer, e, Input { hint: Some("The minimum staffing rule: at least one staff member, and one volunteer for this many people. Usually 15."), width: Some("input--width-5"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::checkboxes("required_training", "Training everyone on the rota must have", None, &training, &f.required_training, e))
    }
}

fn group_form_page(
    user: &CurrentUser,
    title: &str,
    action: &str,
    f: &GroupForm,
    version: Option<i64>,
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
                (group_fields(f, e))
                button.button type="submit" { "Save group" }
            }
        },
    )
}

pub async fn new_form(State(state): State<AppState>, user: CurrentUser) -> AppResult<Response> {
    user.require(Action::ManageGroups)?;
    let t = state.store.clock().today();
    let f = GroupForm {
        kind: "formal".into(),
        focus: ANY_CONDITION.into(),
        mode: "in_person".into(),
        repeat: "weekly".into(),
        first_day: t.day().to_string(),
        first_month: u8::from(t.month()).to_string(),
        first_year: t.year().to_string(),
        walk_in_places: "0".into(),
        attendees_per_volunteer: "15".into(),
        ..Default::default()
    };
    Ok(ok(group_form_page(
        &user,
        "Create a group",
        "/groups",
        &f,
        None,
        &ValidationErrors::default(),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    user.require(Action::ManageGroups)?;
    let form = group_form_from(&data);
    match parse_group(&data, &form) {
        Err(e) => Ok(invalid(group_form_page(
            &user,
            "Create a group",
            "/groups",
            &form,
            None,
            &e,
        ))),
        Ok(d) => {
            let id = state.store.create_group(&user.actor, d, source).await?;
            Ok(see_other(&format!("/groups/{id}")))
        }
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    user.require(Action::ManageGroups)?;
    let g = load_group(&state, &user, &id).await?;
    Ok(ok(group_form_page(
        &user,
        "Change the group",
        &format!("/groups/{}/edit", g.id),
        &g.details.to_form(),
        Some(g.version),
        &ValidationErrors::default(),
    )))
}

pub async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    user.require(Action::ManageGroups)?;
    let g = load_group(&state, &user, &id).await?;
    let action = format!("/groups/{}/edit", g.id);
    let form = group_form_from(&data);
    let version: i64 = data.get("version").parse().unwrap_or(-1);
    let details = match parse_group(&data, &form) {
        Ok(d) => d,
        Err(e) => {
            return Ok(invalid(group_form_page(
                &user,
                "Change the group",
                &action,
                &form,
                Some(version),
                &e,
            )))
        }
    };
    match state
        .store
        .update_group(
            &user.actor,
            g.id,
            version,
            details,
            state.store.clock().today(),
            source,
        )
        .await
    {
        Ok(()) => Ok(see_other(&format!("/groups/{}", g.id))),
        Err(StoreError::StaleVersion) => {
            let mut e = ValidationErrors::default();
            e.add("name", "Someone else changed this group while you were editing it. Nothing was saved: open it again to see their changes.");
            Ok(respond(
                StatusCode::CONFLICT,
                group_form_page(&user, "Change the group", &action, &form, Some(version), &e),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

// ---- a session -------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct SessionParams {
    booked: Option<String>,
    cancelled: Option<String>,
    changed: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn session_page(
    user: &CurrentUser,
    g: &GroupRow,
    s: &SessionState,
    today: Date,
    own: Option<OwnPlace>,
    banner: Option<&str>,
    e: &ValidationErrors,
    move_form: (&str, &str, &str, &str, &str),
    (door, people_who_run_it): (bool, Markup),
) -> Markup {
    let manager = may(user, Action::ManageGroups);
    let path = session_path(g.id, s.original_date);
    let past = s.date < today;
    let title = format!("{}: {}", g.details.name, display_date(s.date));
    layout::page(
        Some(user),
        &layout::title_with_errors(&title, e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            span.caption { a href={ "/groups/" (g.id) } { (g.details.name) } }
            h1 { (when(s)) }
            @if s.cancelled {
                div.warning-callout role="status" { p { strong { "This session is cancelled." } @if let Some(n) = &s.note { " " (n) } } }
            } @else if s.moved() {
                p { "Moved from " (display_date(s.original_date)) "." }
            }
            dl.summary-list {
                (layout::row("Where", html! { @match g.details.mode { Mode::InPerson => { (g.details.venue.clone().unwrap_or_default()) }, Mode::Online => { "Online" } } }))
                (layout::row("Places", html! { (s.capacity) }))
                (layout::row("Places left to book ahead", html! { (s.bookable_left()) }))
                @if door || manager { (layout::row("Signed in", html! { (s.signed_in) " of " (s.capacity) })) }
            }
            @if door && !s.cancelled { p { a.button href={ (path) "/door" } { "Sign people in at the door" } } }
            (people_who_run_it)
            @if let Some(own) = own.filter(|_| !s.cancelled && !past) {
                @if own.booked {
                    p { strong { "You have a place at this session." } }
                    form method="post" action={ (path) "/booking" } {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="cancel";
                        button.button.button--secondary type="submit" { "Cancel my booking" }
                    }
                } @else if s.bookable_left() > 0 {
                    form method="post" action={ (path) "/booking" } {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="book";
                        button.button type="submit" { "Book a place" }
                    }
                } @else {
                    p { "All the places that can be booked ahead are taken." @if s.walk_in_places > 0 { " Some places are kept for people who just turn up." } }
                }
            }
            @if manager {
                h2 { "Change this session" }
                @if s.cancelled {
                    form method="post" action={ (path) "/change" } {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="reinstate";
                        button.button.button--secondary type="submit" { "Reinstate this session" }
                    }
                } @else {
                    form method="post" action={ (path) "/change" } novalidate {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="cancel";
                        (layout::text_input("note", "Reason (optional, shown to people)", "", e, Input { width: Some("input--width-30"), ..Default::default() }))
                        button.button.button--warning type="submit" { "Cancel this session" }
                    }
                    form method="post" action={ (path) "/change" } novalidate {
                        (layout::csrf(&user.csrf))
                        input type="hidden" name="action" value="move";
                        (layout::date_input("move", "Move to", "For example, 2 12 2026", move_form.0, move_form.1, move_form.2, e))
                        (layout::text_input("move_start", "Start time", move_form.3, e, Input { width: Some("input--width-5"), ..Default::default() }))
                        (layout::text_input("move_end", "End time", move_form.4, e, Input { width: Some("input--width-5"), ..Default::default() }))
                        button.button.button--secondary type="submit" { "Move this session" }
                    }
                }
            }
        },
    )
}

pub async fn session(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    Query(p): Query<SessionParams>,
) -> AppResult<Response> {
    user.require(Action::FindGroups)?;
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let own = own_place(&state, &user, g.id, Some(s.original_date), source).await?;
    let is_booked = own.is_some_and(|o| o.booked);
    let banner = if p.booked.is_some() && is_booked {
        Some("Your place is booked")
    } else if p.cancelled.is_some() && !is_booked {
        Some("Your booking is cancelled")
    } else if p.changed.is_some() {
        Some("The session has been changed")
    } else {
        None
    };
    let start = s.start.text();
    let end = s.end.text();
    let panel = session_panel(&state, &user, &g, &s).await?;
    Ok(ok(session_page(
        &user,
        &g,
        &s,
        state.store.clock().today(),
        own,
        banner,
        &ValidationErrors::default(),
        ("", "", "", &start, &end),
        panel,
    )))
}

pub async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    user.require(Action::ManageGroups)?;
    let (g, s) = load_session(&state, &user, &id, &date).await?;
    let mut e = ValidationErrors::default();
    let change = match data.get("action").as_str() {
        "cancel" => {
            let note = clean_text(&mut e, "note", "the reason", &data.get("note"), 300, false);
            SessionChange::Cancel { note }
        }
        "reinstate" => SessionChange::Reinstate,
        "move" => {
            let date = alongside_core::groups::parse_loose_date(&format!(
                "{}/{}/{}",
                data.get("move_day").trim(),
                data.get("move_month").trim(),
                data.get("move_year").trim()
            ));
            if date.is_none() {
                e.add(
                    "move_day",
                    "Enter the date the session moves to, for example 2 12 2026",
                );
            }
            let start = ClockTime::parse(&data.get("move_start"));
            let end = ClockTime::parse(&data.get("move_end"));
            if start.is_none() {
                e.add("move_start", "Enter the start time, for example 18:00");
            }
            if end.is_none() {
                e.add("move_end", "Enter the end time, for example 23:00");
            }
            if let (Some(a), Some(b)) = (start, end) {
                if b <= a {
                    e.add("move_end", "The end time must be after the start time");
                }
            }
            match (date, start, end) {
                (Some(date), Some(start), Some(end)) if e.is_empty() => {
                    SessionChange::Move { date, start, end }
                }
                _ => SessionChange::Reinstate,
            }
        }
        _ => {
            return Err(AppError::BadRequest(
                "Choose what to change about the session.".into(),
            ))
        }
    };
    if !e.is_empty() {
        let (d, m, y, st, en) = (
            data.get("move_day"),
            data.get("move_month"),
            data.get("move_year"),
            data.get("move_start"),
            data.get("move_end"),
        );
        let panel = session_panel(&state, &user, &g, &s).await?;
        return Ok(invalid(session_page(
            &user,
            &g,
            &s,
            state.store.clock().today(),
            None,
            None,
            &e,
            (&d, &m, &y, &st, &en),
            panel,
        )));
    }
    state
        .store
        .change_session(&user.actor, g.id, s.original_date, change, source)
        .await?;
    Ok(see_other(&format!(
        "{}?changed=1",
        session_path(g.id, s.original_date)
    )))
}

pub async fn booking(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    let (gid, d) = (parse_group_id(&id)?, parse_date(&date)?);
    let path = session_path(gid, d);
    let problem = |status: StatusCode, title: &str, message: &str| {
        respond(
            status,
            layout::page(
                Some(&user),
                title,
                html! {
                    h1 { (title) }
                    p { (message) }
                    p { a href=(path) { "Back to the session" } }
                },
            ),
        )
    };
    // Only a person's own account books and cancels, and only at a session of a group of
    // their organisation: decided (a refusal audited) by the store, before anything else.
    match data.get("action").as_str() {
        "book" => match state
            .store
            .book_group_session(&user.actor, gid, d, state.store.clock().today(), source)
            .await?
        {
            BookOutcome::Booked | BookOutcome::AlreadyBooked => {
                Ok(see_other(&format!("{path}?booked=1")))
            }
            BookOutcome::Full => Ok(problem(
                StatusCode::CONFLICT,
                "No places left to book",
                "Every place that can be booked ahead has been taken. Nothing was booked.",
            )),
            BookOutcome::Cancelled => Ok(problem(
                StatusCode::CONFLICT,
                "This session is cancelled",
                "The session has been cancelled, so it cannot be booked.",
            )),
            BookOutcome::Past => Ok(problem(
                StatusCode::BAD_REQUEST,
                "This session has already happened",
                "Only sessions from today onwards can be booked.",
            )),
        },
        "cancel" => {
            state
                .store
                .cancel_group_booking(&user.actor, gid, d, source)
                .await?;
            Ok(see_other(&format!("{path}?cancelled=1")))
        }
        _ => Err(AppError::BadRequest(
            "Choose whether to book or cancel.".into(),
        )),
    }
}

// ---- the door ---------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub struct DoorParams {
    q: Option<String>,
    admitted: Option<String>,
    already: Option<String>,
    /// "activity:attendance" of an activity sign-up just made (pages/activities.rs).
    signed_up: Option<String>,
}

pub async fn door(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    Query(p): Query<DoorParams>,
) -> AppResult<Response> {
    user.require(Action::SignInAtDoor)?;
    let gid = parse_group_id(&id)?;
    let d = parse_date(&date)?;
    let q: String = p.q.unwrap_or_default().chars().take(50).collect();
    let view = state
        .store
        .door_view(&user.actor, gid, d, &q, source.clone())
        .await?;
    let activities =
        door_section(&state, &user, gid, d, &view, p.signed_up.as_deref(), source).await?;
    let banner = match &p.admitted {
        Some(aid) => view
            .attendees
            .iter()
            .find(|(id, _, _)| id == aid)
            .map(|(_, first, _)| format!("{first} is signed in")),
        None => None,
    };
    let notice = p.already.is_some().then_some("They are already signed in.");
    Ok(ok(door_page(
        &user,
        gid,
        &view,
        &q,
        banner,
        notice,
        &ValidationErrors::default(),
        ("", ""),
        activities,
    )))
}

pub async fn door_sign_in(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, date)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let data = FormData::parse(&body);
    user.check_csrf(&data.get("csrf_token"))?;
    user.require(Action::SignInAtDoor)?;
    let gid = parse_group_id(&id)?;
    let d = parse_date(&date)?;
    let path = format!("{}/door", session_path(gid, d));
    let mut e = data.repeated_errors(&["person", "first_name", "contact"]);
    let entry = if e.is_empty() && data.has("person") {
        match data.get("person").parse::<PersonId>() {
            Ok(p) => Some(DoorEntry::Person(p)),
            Err(_) => return Err(AppError::NotFound),
        }
    } else if e.is_empty() {
        let first = clean_name(
            &mut e,
            "first_name",
            "their first name",
            &data.get("first_name"),
            50,
        );
        let contact = clean_text(
            &mut e,
            "contact",
            "the phone or email",
            &data.get("contact"),
            200,
            false,
        );
        first.map(|first_name| DoorEntry::WalkIn {
            first_name,
            contact,
        })
    } else {
        None
    };
    let Some(entry) = entry.filter(|_| e.is_empty()) else {
        let view = state
            .store
            .door_view(&user.actor, gid, d, "", source.clone())
            .await?;
        let activities = door_section(&state, &user, gid, d, &view, None, source).await?;
        let (f, c) = (data.get("first_name"), data.get("contact"));
        return Ok(invalid(door_page(
            &user,
            gid,
            &view,
            "",
            None,
            None,
            &e,
            (&f, &c),
            activities,
        )));
    };
    match state
        .store
        .door_sign_in(&user.actor, gid, d, entry, source.clone())
        .await?
    {
        SignInOutcome::Admitted { attendance_id, .. } => {
            Ok(see_other(&format!("{path}?admitted={attendance_id}")))
        }
        SignInOutcome::AlreadySignedIn { .. } => Ok(see_other(&format!("{path}?already=1"))),
        SignInOutcome::Full { capacity } => {
            let view = state
                .store
                .door_view(&user.actor, gid, d, "", source.clone())
                .await?;
            let activities = door_section(&state, &user, gid, d, &view, None, source).await?;
            Ok(respond(
                StatusCode::CONFLICT,
                door_page(
                    &user,
                    gid,
                    &view,
                    "",
                    None,
                    Some(&format!("The session is full: all {capacity} places are taken. Nobody else can be signed in.")),
                    &ValidationErrors::default(),
                    ("", ""),
                    activities,
                ),
            ))
        }
        SignInOutcome::Cancelled => Err(AppError::BadRequest(
            "This session is cancelled, so nobody can be signed in.".into(),
        )),
    }
}

// ---- a person's own and staff views ---------------------------------------------------------

/// What the person has coming up. Courses (education) add their own section here: see
/// [`upcoming_sections`].
pub async fn my_upcoming(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    // A person's own account only: the one the access rules let book for itself.
    let pid = match user.actor.person_id {
        Some(pid)
            if state
                .store
                .may(&user.actor, Action::BookGroups, pid)
                .await? =>
        {
            pid
        }
        _ => {
            return Err(AppError::Forbidden(
                "only a person's own account has a list of what is coming up",
            ))
        }
    };
    let source_for_courses = source.clone();
    let items = state
        .store
        .upcoming_groups(&user.actor, pid, state.store.clock().today(), 14, source)
        .await?;
    let mut sections = upcoming_sections(&state, &user, &items).await?;
    // Self-management education: the person's course sessions in the same two weeks.
    sections.push(
        crate::pages::education::mine::upcoming_section(&state, &user, source_for_courses, 14)
            .await?,
    );
    Ok(ok(layout::page(
        Some(&user),
        "Coming up",
        html! {
            h1 { "Coming up" }
            @for s in sections { (s) }
            p { a href="/groups" { "Find a group" } }
        },
    )))
}

/// The sections of the "Coming up" page, in order. Another area (courses) appends its own
/// section here.
async fn upcoming_sections(
    _state: &AppState,
    _user: &CurrentUser,
    groups: &[Upcoming],
) -> AppResult<Vec<Markup>> {
    let group_section = html! {
        h2 { "Group sessions" }
        @if groups.is_empty() {
            p { "Nothing in the next two weeks. When you join a group or book a session, it appears here." }
        } @else {
            ul.upcoming {
                @for u in groups {
                    li {
                        a href=(u.link) { (u.title) }
                        ": " (u.date.weekday()) " " (display_date(u.date)) ", " (u.start.text()) " to " (u.end.text())
                        @if !u.where_.is_empty() { " · " (u.where_) }
                        @if u.booked { " · " strong { "booked" } }
                    }
                }
            }
        }
    };
    Ok(vec![group_section])
}

pub async fn person_attendance(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let pid: PersonId = id.parse().map_err(|_| AppError::NotFound)?;
    let items = state
        .store
        .attendance_history(&user.actor, pid, source)
        .await?;
    let own = user.actor.person_id == Some(pid);
    let title = if own {
        "Groups you have been to"
    } else {
        "Group attendance"
    };
    Ok(ok(layout::page(
        Some(&user),
        title,
        html! {
            span.caption { a href={ "/people/" (pid) } { "Back to the record" } }
            h1 { (title) }
            @if items.is_empty() {
                p { "No group sessions attended yet." }
            } @else {
                p { (items.len()) @if items.len() == 1 { " session" } @else { " sessions" } }
                div.table-wrapper {
                    table.responsive {
                        caption.visually-hidden { (title) }
                        thead { tr { th scope="col" { "Date" } th scope="col" { "Group" } th scope="col" { "Booked ahead" } } }
                        tbody {
                            @for i in &items {
                                tr {
                                    td data-label="Date" { (display_date(i.date)) }
                                    td data-label="Group" { a href={ "/groups/" (i.group_id) } { (i.group_name) } }
                                    td data-label="Booked ahead" { @if i.had_booking { "Yes" } @else { "No" } }
                                }
                            }
                        }
                    }
                }
            }
        },
    )))
}
