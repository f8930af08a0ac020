//! Each role's home page: what they can do, and their own work first.

use super::ok;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::layout;
use crate::AppState;
use alongside_core::Role;
use alongside_store::people::PeopleQuery;
use axum::extract::State;
use axum::response::Response;
use maud::html;

pub async fn home(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let role = user.actor.role;
    let education_block = if role == Role::Person {
        crate::pages::education::mine::home_notices(&state, &user, source.clone()).await
    } else {
        html! {}
    };
    let body = match role {
        Role::Administrator => html! {
            p.lede { "You manage who can use Alongside in " (user.org_name) ", and you can check who has looked at people's records." }
            div.card-group {
                div.card { h2 { a href="/admin/users" { "Users" } } p { "Add accounts, change roles, and stop people signing in." } }
                div.card { h2 { a href="/audit" { "Audit log" } } p { "Every view and change of a person's record, and every sign-in." } }
                div.card { h2 { a href="/people" { "People" } } p { "Find a person's record, for example to answer a request for their data." } }
                div.card { h2 { a href="/statistics" { "Statistics" } } p { "How many people are registered, by condition, age, sex and deprivation." } }
                div.card { h2 { a href="/admin/instruments" { "Questionnaires" } } p { "The instruments in use, and loading your own licensed ones." } }
            }
        },
        Role::Coordinator => {
            let total = state.store.count_people(user.actor.org_id).await?;
            html! {
                p.lede { "There are " (total) " people registered in " (user.org_name) "." }
                div.card-group {
                    div.card { h2 { a href="/people" { "Find a person" } } p { "Search by name, NHS number or date of birth." } }
                    div.card { h2 { a href="/people/new" { "Register a person" } } p { "Add someone who has been referred or has referred themselves." } }
                    div.card { h2 { a href="/activation/outreach" { "Outreach" } } p { "People who would benefit most from support, lowest activation first." } }
                    div.card { h2 { a href="/activation/due" { "Due for re-measurement" } } p { "Who is due or overdue to fill in their questionnaire again." } }
                    div.card { h2 { a href="/statistics" { "Statistics" } } p { "Who is registered, by condition, age and deprivation." } }
                    div.card { h2 { a href="/referrals/overdue" { "Overdue referrals" } } p { "Referrals to other services waiting too long for an answer or to finish." } }
                    div.card { h2 { a href="/directory" { "Service directory" } } p { "Services to refer people to, searchable by need, condition, language and how they are offered." } }
                }
            }
        }
        Role::HealthCoach => {
            let (people, more) = state
                .store
                .list_people(&user.actor, &PeopleQuery::All, 0, source)
                .await?;
            html! {
                h2 { "Your caseload" }
                @if people.is_empty() {
                    p { "Nobody is on your caseload yet. When a coordinator allocates someone to you, or you register someone, they appear here." }
                } @else {
                    ul {
                        @for p in &people { li { a href={ "/people/" (p.id) } { (p.given_name) " " (p.family_name) } } }
                    }
                    @if more { p { a href="/people" { "See your whole caseload" } } }
                }
                p { a.button href="/people/new" { "Register a person" } }
            }
        }
        Role::Educator => html! {
            p.lede { "Self-management education: courses that build knowledge, skills and confidence." }
            div.card-group {
                div.card { h2 { a href="/courses" { "Courses" } } p { "The programme catalogue, course runs, registers, waiting lists and feedback." } }
            }
        },
        Role::PeerSupportLead => html! {
            p.lede { "Peer support: people with shared experience supporting each other." }
            div.card-group {
                div.card { h2 { a href="/groups" { "Peer support groups" } } p { "Create groups, cancel or move sessions, and sign people in at the door." } }
                div.card { h2 { a href="/groups/new" { "Create a group" } } p { "A formal or peer-led group, face to face or online, with its own schedule and places." } }
            }
        },
        Role::Volunteer => html! {
            p.lede { "Thank you for volunteering." }
            div.card-group {
                div.card { h2 { a href="/groups" { "Sessions" } } p { "Open a group's session and sign people in at the door. You see first names only — what you need to help on the night." } }
            }
        },
        Role::Analyst => html! {
            p.lede { "You see counts and rates for " (user.org_name) ", never who people are." }
            div.card-group {
                div.card { h2 { a href="/statistics" { "Statistics" } } p { "Registered people by condition, age band, sex and deprivation decile, with small numbers suppressed." } }
                div.card { h2 { a href="/outcomes" { "Outcomes" } } p { "Activation, reach, change in activation and use of GP, A&E, admission and outpatient care by activation level, with a printable report." } }
            }
        },
        Role::Person => html! {
            p.lede { "This is your space in Alongside." }
            @if let Some(pid) = user.actor.person_id {
                div.card-group {
                    div.card { h2 { a href={ "/people/" (pid) } { "Your record" } } p { "What we hold about you, including what matters to you, and your questionnaires." } }
                    div.card { h2 { a href={ "/people/" (pid) "/questionnaires/new" } { "Fill in a questionnaire" } } p { "A few questions about managing your health. It takes about five minutes, and you can stop and come back." } }
                    div.card { h2 { a href={ "/people/" (pid) "/plan" } { "Your care and support plan" } } p { "What matters to you, what you agreed to do, and what to do if things get worse. You can print it or download it." } }
                    div.card { h2 { a href={ "/people/" (pid) "/referrals" } { "Your referrals" } } p { "Services you have been referred to, and where each referral has got to." } }
                }
                (education_block)
            } @else {
                div.inset { p { "Your account is not linked to a record yet. Ask your coordinator to link it." } }
            }
        },
    };
    Ok(ok(layout::page(
        Some(&user),
        "Home",
        html! {
            span.caption { (role.label()) }
            h1 { "Hello, " (user.user.display_name) }
            (body)
        },
    )))
}
