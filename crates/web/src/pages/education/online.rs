//! Online self-paced programmes: content pages (limited markup, shown as escaped text), a
//! person marking pages done, and staff seeing who has completed how much.

use super::{programme_id, refuse_repeats, DeliveryMode};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::layout::{self, Input};
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::education::{blocks, Block, ContentPage};
use alongside_core::ids::ProgrammeId;
use alongside_core::validation::ValidationErrors;
use alongside_core::Role;
use alongside_store::education::{Page, Programme};
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};

async fn online_programme(
    state: &AppState,
    user: &CurrentUser,
    id: ProgrammeId,
) -> AppResult<Programme> {
    let p = state.store.programme(user.actor.org_id, id).await?;
    if p.details.mode != DeliveryMode::Online {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

struct PageForm {
    module_title: String,
    title: String,
    body: String,
    video_url: String,
    resources: String,
}

fn page_form(user: &CurrentUser, p: &Programme, f: &PageForm, e: &ValidationErrors) -> Markup {
    let title = "Add a page";
    layout::page(
        Some(user),
        &layout::title_with_errors(title, e),
        html! {
            (layout::error_summary(e))
            span.caption { (p.details.title) }
            h1 { (title) }
            form method="post" action={ "/courses/" (p.id) "/pages" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("module_title", "Module", &f.module_title, e, Input { hint: Some("Pages with the same module name are grouped together"), width: Some("input--width-30"), ..Default::default() }))
                (layout::text_input("title", "Page title", &f.title, e, Input { width: Some("input--width-30"), ..Default::default() }))
                (layout::textarea("body", "Text", Some("Plain text. A line starting ## is a heading, lines starting - make a list, a blank line starts a new paragraph."), &f.body, e))
                (layout::text_input("video_url", "Video link (optional)", &f.video_url, e, Input { hint: Some("A web address starting https://"), width: Some("input--width-30"), ..Default::default() }))
                (layout::textarea("resources", "Downloads (optional)", Some("One a line: a name, a | and a web address starting https://, for example Inhaler leaflet | https://example.org/leaflet.pdf"), &f.resources, e))
                button.button type="submit" { "Add page" }
            }
        },
    )
}

/// GET /courses/{id}/pages/new
pub async fn new_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Id(id): Id<ProgrammeId>,
) -> AppResult<Response> {
    let p = online_programme(&state, &user, id).await?;
    user.require(Action::ManageCourses)?;
    let f = PageForm {
        module_title: String::new(),
        title: String::new(),
        body: String::new(),
        video_url: String::new(),
        resources: String::new(),
    };
    Ok(ok(page_form(&user, &p, &f, &ValidationErrors::default())))
}

/// POST /courses/{id}/pages
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<ProgrammeId>,
    CsrfForm(d): CsrfForm,
) -> AppResult<Response> {
    let p = online_programme(&state, &user, id).await?;
    user.require(Action::ManageCourses)?;
    let f = PageForm {
        module_title: d.get("module_title"),
        title: d.get("title"),
        body: d.get("body"),
        video_url: d.get("video_url"),
        resources: d.get("resources"),
    };
    let parsed = refuse_repeats(
        &d,
        &["module_title", "title", "body", "video_url", "resources"],
    )
    .and_then(|_| {
        ContentPage::parse(
            &f.module_title,
            &f.title,
            &f.body,
            &f.video_url,
            &f.resources,
        )
    });
    match parsed {
        Err(e) => Ok(invalid(page_form(&user, &p, &f, &e))),
        Ok(page) => {
            state
                .store
                .add_page(&user.actor, p.id, page, source)
                .await?;
            Ok(see_other(&format!("/courses/{}", p.id)))
        }
    }
}

/// The page's text as headings, paragraphs and lists — every character escaped.
fn render_body(text: &str) -> Markup {
    html! {
        @for b in blocks(text) {
            @match b {
                Block::Heading(h) => h2 { (h) },
                Block::Paragraph(p) => p { (p) },
                Block::List(items) => ul { @for i in items { li { (i) } } },
            }
        }
    }
}

async fn find_page(
    state: &AppState,
    user: &CurrentUser,
    p: &Programme,
    n: &str,
) -> AppResult<(Page, Vec<Page>)> {
    let pages = state.store.pages(user.actor.org_id, p.id).await?;
    let n: i64 = n.parse().map_err(|_| AppError::NotFound)?;
    let page = pages
        .iter()
        .find(|g| g.position == n)
        .cloned()
        .ok_or(AppError::NotFound)?;
    Ok((page, pages))
}

/// GET /courses/{id}/pages/{n}
pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
) -> AppResult<Response> {
    let p = online_programme(&state, &user, programme_id(&id)?).await?;
    user.require(Action::BrowseCourses)?;
    let (page, pages) = find_page(&state, &user, &p, &n).await?;
    let done = state.store.my_progress(&user.actor, p.id, source).await?;
    let next = pages.iter().find(|g| g.position > page.position);
    let c = &page.content;
    Ok(ok(layout::page(
        Some(&user),
        &c.title,
        html! {
            span.caption { (p.details.title) ": " (c.module_title) }
            h1 { (c.title) }
            (render_body(&c.body))
            @if let Some(v) = &c.video_url {
                p { a href=(v) rel="noopener noreferrer" { "Watch the video (opens the video site)" } }
            }
            @if !c.resources.is_empty() {
                h2 { "Downloads" }
                ul { @for (label, url) in &c.resources { li { a href=(url) rel="noopener noreferrer" { (label) } } } }
            }
            @if user.actor.role == Role::Person {
                @if done.contains(&page.id) {
                    p { strong.tag.tag--green { "Done" } " You have finished this page." }
                } @else {
                    form method="post" action={ "/courses/" (p.id) "/pages/" (page.position) "/done" } {
                        (layout::csrf(&user.csrf))
                        button.button type="submit" { "Mark as done" }
                    }
                }
            }
            p {
                @if let Some(nx) = next { a href={ "/courses/" (p.id) "/pages/" (nx.position) } { "Next: " (nx.content.title) } " · " }
                a href={ "/courses/" (p.id) } { "All pages" }
            }
        },
    )))
}

/// POST /courses/{id}/pages/{n}/done
pub async fn done(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
    _: CsrfForm,
) -> AppResult<Response> {
    let p = online_programme(&state, &user, programme_id(&id)?).await?;
    let (page, pages) = find_page(&state, &user, &p, &n).await?;
    if user.actor.role != Role::Person || user.actor.person_id.is_none() {
        return Err(AppError::Forbidden(
            "only the person themselves saves their progress",
        ));
    }
    state
        .store
        .complete_page(&user.actor, p.id, page.id, source)
        .await?;
    let to = match pages.iter().find(|g| g.position > page.position) {
        Some(nx) => format!("/courses/{}/pages/{}", p.id, nx.position),
        None => format!("/courses/{}", p.id),
    };
    Ok(see_other(&to))
}

/// GET /courses/{id}/learners: who has started the programme and how far they are.
pub async fn learners(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<ProgrammeId>,
) -> AppResult<Response> {
    let p = online_programme(&state, &user, id).await?;
    user.require(Action::ReadCourseRoster)?;
    let total = state.store.pages(user.actor.org_id, p.id).await?.len() as i64;
    let people = state
        .store
        .online_learners(&user.actor, p.id, source)
        .await?;
    let complete = people
        .iter()
        .filter(|l| total > 0 && l.done >= total)
        .count();
    Ok(ok(layout::page(
        Some(&user),
        "Progress",
        html! {
            span.caption { (p.details.title) }
            h1 { "Progress" }
            p { (people.len()) " people have started; " (complete) " have done every page (" (total) " pages)." }
            @if !people.is_empty() {
                div.table-wrapper { table.responsive {
                    caption.visually-hidden { "Progress by person" }
                    thead { tr { th scope="col" { "Name" } th scope="col" { "Pages done" } th scope="col" { "Completed" } } }
                    tbody { @for l in &people { tr {
                        td data-label="Name" { a href={ "/people/" (l.person_id) "/courses" } { (l.given_name) " " (l.family_name) } }
                        td data-label="Pages done" { (l.done) " of " (total) }
                        td data-label="Completed" { @if total > 0 && l.done >= total { "Yes" } @else { "Not yet" } }
                    } } }
                } }
            }
        },
    )))
}
