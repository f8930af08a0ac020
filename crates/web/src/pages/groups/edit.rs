//! Creating a group and changing it (its details, schedule, places and staffing rules).

use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::extract::{may, CsrfForm, Id, Require};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::pages::peer_common::load_group;
use crate::pages::{html as respond, invalid, ok, see_other};
use crate::AppState;
use alongside_core::conditions::CONDITIONS;
use alongside_core::groups::{GroupDetails, GroupForm, ANY_CONDITION, TRAINING_COURSES, WEEKDAYS};
use alongside_core::validation::ValidationErrors;
use alongside_core::GroupId;
use alongside_store::StoreError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};

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

pub async fn new_form(
    State(state): State<AppState>,
    user: Require<may::ManageGroups>,
) -> AppResult<Response> {
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
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
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
    user: Require<may::ManageGroups>,
    Id(id): Id<GroupId>,
) -> AppResult<Response> {
    let g = load_group(&state, &user, id).await?;
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
    user: Require<may::ManageGroups>,
    ClientSource(source): ClientSource,
    Id(id): Id<GroupId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let g = load_group(&state, &user, id).await?;
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
