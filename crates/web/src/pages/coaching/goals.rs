//! Goals set in coaching: adding one (with first small steps), ticking steps and changing
//! it; the goal list shown on a person's coaching and an episode.

use super::{repeated, store_outcome};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::form::FormData;
use crate::layout::{self, Input};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::coaching::{attainment_label, GoalCategory, GoalDetails, GoalForm};
use alongside_core::time::{display_date, Timestamp};
use alongside_core::validation::{clean_text, ValidationErrors};
use alongside_core::{EpisodeId, GoalId, PersonId};
use alongside_store::coaching::GoalView;
use alongside_store::door::{AuditAs, Source};
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

const GOAL_FIELDS: [&str; 8] = [
    "own_words",
    "category",
    "what",
    "how_much",
    "when",
    "how_often",
    "importance",
    "confidence",
];

fn goal_form(data: &FormData) -> GoalForm {
    GoalForm {
        own_words: data.get("own_words"),
        category: data.get("category"),
        what: data.get("what"),
        how_much: data.get("how_much"),
        when: data.get("when"),
        how_often: data.get("how_often"),
        importance: data.get("importance"),
        confidence: data.get("confidence"),
    }
}

fn form_of(d: &GoalDetails) -> GoalForm {
    GoalForm {
        own_words: d.own_words.clone(),
        category: d.category.code().into(),
        what: d.what.clone().unwrap_or_default(),
        how_much: d.how_much.clone().unwrap_or_default(),
        when: d.when.clone().unwrap_or_default(),
        how_often: d.how_often.clone().unwrap_or_default(),
        importance: d.importance.to_string(),
        confidence: d.confidence.to_string(),
    }
}

fn goal_fields(f: &GoalForm, e: &ValidationErrors, own: bool) -> Markup {
    html! {
        (layout::textarea("own_words", if own { "Your goal, in your own words" } else { "The goal, in the person's own words" }, Some("For example: walk to the allotment without stopping"), &f.own_words, e))
        (layout::radios("category", "What is it about?", &GoalCategory::options(), &f.category, e))
        (layout::text_input("what", "What exactly? (optional)", &f.what, e, Input { width: Some("input--width-30"), ..Default::default() }))
        (layout::text_input("how_much", "How much? (optional)", &f.how_much, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("when", "When? (optional)", &f.when, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("how_often", "How often? (optional)", &f.how_often, e, Input { width: Some("input--width-20"), ..Default::default() }))
        (layout::text_input("importance", if own { "How important is it to you, from 0 to 10?" } else { "How important is it to them, from 0 to 10?" }, &f.importance, e, Input { width: Some("input--width-2"), inputmode: Some("numeric"), ..Default::default() }))
        (layout::text_input("confidence", if own { "How confident are you that you can do it, from 0 to 10?" } else { "How confident are they, from 0 to 10?" }, &f.confidence, e, Input { width: Some("input--width-2"), inputmode: Some("numeric"), ..Default::default() }))
    }
}

#[derive(Deserialize, Default)]
pub struct NewGoalParams {
    episode: Option<String>,
}

fn new_goal_page(
    user: &CurrentUser,
    pid: PersonId,
    episode: Option<EpisodeId>,
    f: &GoalForm,
    steps: &str,
    e: &ValidationErrors,
) -> Markup {
    let own = user.actor.person_id == Some(pid);
    let title = if own {
        "Add a goal"
    } else {
        "Add a goal with the person"
    };
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            p { a.back-link href={ "/people/" (pid) "/coaching" } { "Back to coaching" } }
            h1 { (title) }
            form method="post" action={ "/people/" (pid) "/goals" } novalidate {
                (layout::csrf(&user.csrf))
                @if let Some(ep) = episode { input type="hidden" name="episode" value=(ep); }
                (goal_fields(f, e, own))
                (layout::textarea("steps", "First small steps (optional)", Some("One step per line"), steps, e))
                button.button type="submit" { "Save goal" }
            }
        },
    )
}

/// Refuses (403, audited) unless the actor may change the person's goals; another
/// organisation's record (or none) is not found.
async fn goals_allowed(
    state: &AppState,
    user: &CurrentUser,
    pid: PersonId,
    source: &Source,
) -> AppResult<()> {
    let audit = AuditAs::new(AuditAction::GoalChanged).on("goal", None);
    Ok(state
        .store
        .authorise_person(&user.actor, Action::UpdateGoals, pid, audit, source)
        .await?)
}

pub async fn new_goal_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
    Query(p): Query<NewGoalParams>,
) -> AppResult<Response> {
    goals_allowed(&state, &user, pid, &source).await?;
    let episode = p.episode.as_deref().and_then(|e| e.parse().ok());
    Ok(ok(new_goal_page(
        &user,
        pid,
        episode,
        &GoalForm::default(),
        "",
        &ValidationErrors::default(),
    )))
}

fn steps_from(e: &mut ValidationErrors, text: &str) -> Vec<String> {
    let mut steps = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(s) = clean_text(e, "steps", "each step", line, 300, true) {
            steps.push(s);
        }
    }
    if steps.len() > 20 {
        e.add("steps", "Enter 20 steps or fewer");
    }
    steps
}

pub async fn new_goal(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(pid): Id<PersonId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let f = goal_form(&data);
    let episode: Option<EpisodeId> = match data.get("episode").trim() {
        "" => None,
        s => Some(
            s.parse()
                .map_err(|_| AppError::BadRequest("The episode reference is not valid".into()))?,
        ),
    };
    let mut keys = GOAL_FIELDS.to_vec();
    keys.extend(["steps", "episode"]);
    let mut e = repeated(&data, &keys).unwrap_or_default();
    let steps = steps_from(&mut e, &data.get("steps"));
    let details = f.validate();
    let e = match (details, e.is_empty()) {
        (Ok(d), true) => match store_outcome(
            state
                .store
                .add_goal(&user.actor, pid, episode, d, steps, source.clone())
                .await,
        )? {
            Ok(g) => return Ok(see_other(&format!("/goals/{g}?saved=1"))),
            Err(x) => x,
        },
        (Err(mut x), _) => {
            x.0.extend(e.0);
            x
        }
        (Ok(_), false) => e,
    };
    goals_allowed(&state, &user, pid, &source).await?;
    Ok(invalid(new_goal_page(
        &user,
        pid,
        episode,
        &f,
        &data.get("steps"),
        &e,
    )))
}

#[derive(Deserialize, Default)]
pub struct SavedParams {
    saved: Option<String>,
}

fn goal_page(
    user: &CurrentUser,
    g: &GoalView,
    f: &GoalForm,
    new_step: &str,
    e: &ValidationErrors,
    saved: bool,
) -> Markup {
    let own = user.actor.person_id == Some(g.person_id);
    let title = format!("\u{201c}{}\u{201d}", g.details.own_words);
    let editable = g.outcome.is_none();
    layout::page(
        Some(user),
        &layout::title_with_errors("Goal", e),
        html! {
            @if saved { (layout::success_banner("Goal saved")) }
            (layout::error_summary(e))
            p { a.back-link href={ "/people/" (g.person_id) "/coaching" } { "Back to coaching" } }
            span.caption { @if own { "Your goal" } @else { "Goal" } }
            h1 { (title) }
            dl.summary-list {
                (layout::row("About", html! { (g.details.category.label()) }))
                (layout::row("Importance", html! { (g.details.importance) " out of 10" }))
                (layout::row("Confidence", html! { (g.details.confidence) " out of 10" }))
                @if let Some(o) = g.outcome { (layout::row("Outcome", html! { (o.label()) })) }
            }
            h2 { "Reviews" }
            @if g.reviews.is_empty() { p { "Not reviewed yet." } }
            @else {
                ul.list { @for r in &g.reviews { li { (display_date(Timestamp(r.reviewed_at).date())) ": " (attainment_label(r.attainment)) @if let Some(n) = &r.note { " – " (n) } } } }
            }
            @if editable {
                h2 { "Steps and changes" }
                form method="post" action={ "/goals/" (g.id) } novalidate {
                    (layout::csrf(&user.csrf))
                    div.form-group id="done" {
                        fieldset.fieldset {
                            legend.fieldset-legend { "Small steps: tick the ones done" }
                            @if g.steps.is_empty() { p { "No steps yet." } }
                            div.checkboxes {
                                @for s in &g.steps {
                                    @let sid = format!("done-{}", s.id);
                                    div.checkboxes-item {
                                        input.checkboxes-input id=(sid) name="done" type="checkbox" value=(s.id) checked[s.done];
                                        label.label.checkboxes-label for=(sid) { (s.step) }
                                    }
                                }
                            }
                        }
                    }
                    (layout::text_input("new_step", "Add a small step (optional)", new_step, e, Input { width: Some("input--width-30"), ..Default::default() }))
                    (goal_fields(f, e, own))
                    button.button type="submit" { "Save changes" }
                }
            } @else {
                h2 { "Steps" }
                ul.list { @for s in &g.steps { li { (s.step) @if s.done { " (done)" } } } }
            }
        },
    )
}

pub async fn goal(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(gid): Id<GoalId>,
    Query(p): Query<SavedParams>,
) -> AppResult<Response> {
    let g = state.store.goal(&user.actor, gid, source).await?;
    let f = form_of(&g.details);
    Ok(ok(goal_page(
        &user,
        &g,
        &f,
        "",
        &ValidationErrors::default(),
        p.saved.is_some(),
    )))
}

pub async fn update_goal(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(gid): Id<GoalId>,
    CsrfForm(data): CsrfForm,
) -> AppResult<Response> {
    let f = goal_form(&data);
    let mut keys = GOAL_FIELDS.to_vec();
    keys.push("new_step");
    let mut e = repeated(&data, &keys).unwrap_or_default();
    let new_step = clean_text(
        &mut e,
        "new_step",
        "the step",
        &data.get("new_step"),
        300,
        false,
    );
    let mut done = Vec::new();
    for d in data.all("done") {
        match d.parse() {
            Ok(s) => done.push(s),
            Err(_) => e.add("done", "Tick steps from the list"),
        }
    }
    let e = match (f.validate(), e.is_empty()) {
        (Ok(d), true) => match store_outcome(
            state
                .store
                .update_goal(&user.actor, gid, d, new_step, done, source.clone())
                .await,
        )? {
            Ok(()) => return Ok(see_other(&format!("/goals/{gid}?saved=1"))),
            Err(x) => x,
        },
        (Err(mut x), _) => {
            x.0.extend(e.0);
            x
        }
        (Ok(_), false) => e,
    };
    let g = state.store.goal(&user.actor, gid, source).await?;
    Ok(invalid(goal_page(
        &user,
        &g,
        &f,
        &data.get("new_step"),
        &e,
        false,
    )))
}

pub(super) fn goal_list(goals: &[GoalView]) -> Markup {
    html! {
        ul.list {
            @for g in goals {
                li {
                    a href={ "/goals/" (g.id) } { "\u{201c}" (g.details.own_words) "\u{201d}" }
                    " – " (g.details.category.label())
                    @if let Some(o) = g.outcome { " " strong.tag.tag--grey { (o.label()) } }
                    @else {
                        ". Steps done: " (g.steps.iter().filter(|s| s.done).count()) " of " (g.steps.len())
                        @if let Some(a) = g.latest_attainment() { ". Last review: " (attainment_label(a)) }
                    }
                }
            }
        }
    }
}
