//! Taking a questionnaire: choosing one and starting it, one question per page (saved as you
//! go, in any of the instrument's languages), checking the answers, sending them, and the
//! result explained kindly with the tailored next steps.

use super::{active_instruments, flag_descriptions, parse, rules, stored_result, when};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::layout;
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::validation::ValidationErrors;
use alongside_core::{AssessmentId, InstrumentId, PersonId, Role};
use alongside_measure::Instrument;
use alongside_store::activation::{AssessmentRow, InstrumentRow, MODES};
use alongside_store::people::Source;
use alongside_store::StoreError;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

fn choose_page(
    user: &CurrentUser,
    person: PersonId,
    name: &str,
    instruments: &[InstrumentRow],
    e: &ValidationErrors,
    staff: bool,
) -> Markup {
    let opts: Vec<(String, String)> = instruments
        .iter()
        .map(|i| (i.id.as_text(), i.title.clone()))
        .collect();
    let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let modes: Vec<(&str, &str)> = MODES
        .iter()
        .filter(|(m, _)| *m != "self" && *m != "paper")
        .copied()
        .collect();
    layout::page(
        Some(user),
        &layout::title_with_errors("Choose a questionnaire", e),
        html! {
            (layout::error_summary(e))
            span.caption { (name) }
            h1 { "Choose a questionnaire" }
            form method="post" action={ "/people/" (person) "/questionnaires" } novalidate {
                (layout::csrf(&user.csrf))
                (layout::radios("instrument", "Which questionnaire?", &opts_ref, if opts.len() == 1 { &opts[0].0 } else { "" }, e))
                @if staff { (layout::radios("mode", "How are they answering?", &modes, "in_person", e)) }
                p { "One question at a time. Answers are saved as you go, so you can stop and come back." }
                button.button type="submit" { "Start" }
            }
        },
    )
}

pub async fn choose(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(person): Id<PersonId>,
) -> AppResult<Response> {
    // Allowed only to those who may start a questionnaire for this person (refusal audited).
    let view = state
        .store
        .read_person_for(&user.actor, person, Action::RecordAssessment, source)
        .await?;
    let instruments = active_instruments(&state, user.actor.org_id).await?;
    Ok(ok(choose_page(
        &user,
        person,
        &view.record.details.full_name(),
        &instruments,
        &ValidationErrors::default(),
        user.actor.role != Role::Person,
    )))
}

pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(person): Id<PersonId>,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let instruments = active_instruments(&state, user.actor.org_id).await?;
    let staff = user.actor.role != Role::Person;
    let mut e = ValidationErrors::default();
    let chosen = f
        .get("instrument")
        .parse::<InstrumentId>()
        .ok()
        .and_then(|i| instruments.iter().find(|r| r.id == i));
    if chosen.is_none() {
        e.add("instrument", "Select a questionnaire");
    }
    let mode = if staff {
        f.get("mode")
    } else {
        "self".to_string()
    };
    if staff && !["in_person", "telephone"].contains(&mode.as_str()) {
        e.add("mode", "Select how they are answering");
    }
    if !e.is_empty() {
        let view = state.store.read_person(&user.actor, person, source).await?;
        return Ok(invalid(choose_page(
            &user,
            person,
            &view.record.details.full_name(),
            &instruments,
            &e,
            staff,
        )));
    }
    let aid = state
        .store
        .start_assessment(
            &user.actor,
            person,
            chosen.expect("checked").id,
            &mode,
            source,
        )
        .await?;
    Ok(see_other(&format!("/questionnaires/{aid}/questions/1")))
}

// ----- one question per page ----------------------------------------------------------------

async fn load(
    state: &AppState,
    user: &CurrentUser,
    aid: AssessmentId,
    source: Source,
) -> AppResult<(AssessmentRow, Arc<Instrument>)> {
    let a = state.store.assessment(&user.actor, aid, source).await?;
    let ins = state.instrument(user.actor.org_id, a.instrument_id).await?;
    Ok((a, ins))
}

fn lang_for(user: &CurrentUser, ins: &Instrument, requested: Option<&str>) -> String {
    let _ = user;
    match requested {
        Some(l) if ins.languages().any(|x| x == l) => l.to_string(),
        _ => ins.definition().languages.default.clone(),
    }
}

#[derive(Deserialize, Default)]
pub struct LangParam {
    lang: Option<String>,
}

fn question_page(
    user: &CurrentUser,
    a: &AssessmentRow,
    ins: &Instrument,
    n: usize,
    lang: &str,
    e: &ValidationErrors,
) -> Markup {
    let item = &ins.items()[n - 1];
    let total = ins.items().len();
    let selected = a.answers.get(&item.link_id).cloned().unwrap_or_default();
    let opts: Vec<(String, String)> = item
        .options
        .iter()
        .map(|o| (o.code.clone(), ins.localise(&o.label, lang).to_string()))
        .collect();
    let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let other_langs: Vec<&str> = ins.languages().filter(|l| *l != lang).collect();
    layout::page(
        Some(user),
        &layout::title_with_errors(&format!("Question {n} of {total}"), e),
        html! {
            (layout::error_summary(e))
            @if n > 1 { p { a href={ "/questionnaires/" (a.id) "/questions/" (n - 1) "?lang=" (lang) } { "Back" } } }
            span.caption { "Question " (n) " of " (total) }
            progress value=(n - 1) max=(total) aria-label={ (a.answers.len()) " of " (total) " answered" } {}
            form method="post" action={ "/questionnaires/" (a.id) "/questions/" (n) } novalidate {
                (layout::csrf(&user.csrf))
                input type="hidden" name="lang" value=(lang);
                div.form-group.form-group--error[e.for_field("answer").is_some()] id="answer" {
                    fieldset.fieldset {
                        legend.fieldset-legend { h1.question-heading { (ins.localise(&item.text, lang)) } }
                        @if n == 1 { @if let Some(instr) = &ins.definition().instructions { div.hint { (ins.localise(instr, lang)) } } }
                        @if let Some(m) = e.for_field("answer") { span.error-message id="answer-error" { span.visually-hidden { "Error: " } (m) } }
                        div.radios {
                            @for (code, label) in &opts_ref {
                                @let rid = format!("answer-{code}");
                                div.radios-item {
                                    input.radios-input id=(rid) name="answer" type="radio" value=(code) checked[*code == selected];
                                    label.label.radios-label for=(rid) { (label) }
                                }
                            }
                        }
                    }
                }
                button.button type="submit" { "Continue" }
            }
            p { "Your answers are saved as you go. " a href="/" { "Stop for now and come back later" } }
            @if !other_langs.is_empty() {
                p.secondary-text { "Also available in: " @for l in &other_langs { a href={ "/questionnaires/" (a.id) "/questions/" (n) "?lang=" (l) } lang=(l) { (alongside_core::person::language_label(l)) } " " } }
            }
        },
    )
}

pub async fn resume(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<AssessmentId>,
) -> AppResult<Response> {
    let (a, ins) = load(&state, &user, id, source.clone()).await?;
    if a.completed {
        return result_page(&state, &user, &a, &ins, source).await;
    }
    let next = ins
        .items()
        .iter()
        .position(|i| !a.answers.contains_key(&i.link_id))
        .map(|p| p + 1);
    Ok(match next {
        Some(n) => see_other(&format!("/questionnaires/{}/questions/{n}", a.id)),
        None => see_other(&format!("/questionnaires/{}/check", a.id)),
    })
}

pub async fn question(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<LangParam>,
) -> AppResult<Response> {
    let n: usize = parse(&n)?;
    let (a, ins) = load(&state, &user, parse(&id)?, source).await?;
    if a.completed {
        return Ok(see_other(&format!("/questionnaires/{}", a.id)));
    }
    if n == 0 || n > ins.items().len() {
        return Err(AppError::NotFound);
    }
    let lang = lang_for(&user, &ins, q.lang.as_deref());
    Ok(ok(question_page(
        &user,
        &a,
        &ins,
        n,
        &lang,
        &ValidationErrors::default(),
    )))
}

pub async fn answer(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Path((id, n)): Path<(String, String)>,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let n: usize = parse(&n)?;
    let (a, ins) = load(&state, &user, parse(&id)?, source.clone()).await?;
    if n == 0 || n > ins.items().len() {
        return Err(AppError::NotFound);
    }
    let lang = lang_for(&user, &ins, Some(&f.get("lang")));
    let item = &ins.items()[n - 1];
    let code = f.get("answer");
    if !item.options.iter().any(|o| o.code == code) {
        let mut e = ValidationErrors::default();
        e.add(
            "answer",
            if code.is_empty() {
                "Select an answer"
            } else {
                "Select one of the answers shown"
            },
        );
        return Ok(invalid(question_page(&user, &a, &ins, n, &lang, &e)));
    }
    match state
        .store
        .save_answers(
            &user.actor,
            a.id,
            vec![(item.link_id.clone(), code)],
            source,
        )
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Ok(see_other(&format!("/questionnaires/{}", a.id))),
        Err(other) => return Err(other.into()),
    }
    Ok(if n < ins.items().len() {
        see_other(&format!(
            "/questionnaires/{}/questions/{}?lang={lang}",
            a.id,
            n + 1
        ))
    } else {
        see_other(&format!("/questionnaires/{}/check?lang={lang}", a.id))
    })
}

pub async fn check(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<AssessmentId>,
    Query(q): Query<LangParam>,
) -> AppResult<Response> {
    let (a, ins) = load(&state, &user, id, source).await?;
    if a.completed {
        return Ok(see_other(&format!("/questionnaires/{}", a.id)));
    }
    let lang = lang_for(&user, &ins, q.lang.as_deref());
    let missing = ins
        .items()
        .iter()
        .filter(|i| !a.answers.contains_key(&i.link_id))
        .count();
    Ok(ok(layout::page(
        Some(&user),
        "Check your answers",
        html! {
            h1 { "Check your answers" }
            dl.summary-list {
                @for (i, item) in ins.items().iter().enumerate() {
                    div.summary-list-row {
                        dt.summary-list-key { (ins.localise(&item.text, &lang)) }
                        dd.summary-list-value {
                            @match a.answers.get(&item.link_id).and_then(|c| item.options.iter().find(|o| &o.code == c)) {
                                Some(o) => { (ins.localise(&o.label, &lang)) }
                                None => { span.secondary-text { "Not answered" } }
                            }
                            " " a href={ "/questionnaires/" (a.id) "/questions/" (i + 1) "?lang=" (lang) } { "Change" span.visually-hidden { " your answer to: " (ins.localise(&item.text, &lang)) } }
                        }
                    }
                }
            }
            @if missing > 0 { div.inset { p { (missing) " questions are not answered. You can still send your answers; if too few are answered, no score can be worked out." } } }
            form method="post" action={ "/questionnaires/" (a.id) "/submit" } {
                (layout::csrf(&user.csrf))
                button.button type="submit" { "Send my answers" }
            }
        },
    )))
}

pub async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(id): Id<AssessmentId>,
    _: CsrfForm,
) -> AppResult<Response> {
    let (a, ins) = load(&state, &user, id, source.clone()).await?;
    if a.completed {
        return Ok(see_other(&format!("/questionnaires/{}", a.id)));
    }
    let outcome = ins
        .score_answers(a.answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    match state
        .store
        .complete_assessment(
            &user.actor,
            a.id,
            a.answers.clone(),
            stored_result(&outcome),
            source,
        )
        .await
    {
        Ok(()) | Err(StoreError::Conflict(_)) => {
            Ok(see_other(&format!("/questionnaires/{}", a.id)))
        }
        Err(other) => Err(other.into()),
    }
}

// ----- the result ---------------------------------------------------------------------------

async fn result_page(
    state: &AppState,
    user: &CurrentUser,
    a: &AssessmentRow,
    ins: &Instrument,
    source: Source,
) -> AppResult<Response> {
    let r = a.result.clone().unwrap_or_default();
    let own = user.actor.person_id == Some(a.person_id);
    let lang = ins.definition().languages.default.clone();
    let level = r.level.and_then(|l| ins.level(l as u8));
    // Allowed and audited as part of reading this assessment.
    let conditions = state
        .store
        .conditions_of(&user.actor, a.person_id, source)
        .await?;
    let rules = rules(state, user.actor.org_id).await?;
    let recs = r
        .level
        .map(|l| rules.recommend(l as u8, &conditions))
        .unwrap_or_default();
    Ok(ok(layout::page(
        Some(user),
        "Your result",
        html! {
            span.caption { (ins.title(&lang)) }
            h1 { @if own { "Thank you for your answers" } @else { "Questionnaire result" } }
            @if let Some(reason) = &r.not_scored_reason {
                div.inset { p { "We could not work out a score this time, because too few questions were answered. That is all right: you can fill it in again whenever you like." } p.secondary-text { (reason) } }
            } @else if let Some(l) = level {
                div.card {
                    h2 { (ins.localise(&l.name, &lang)) }
                    p.lede { (ins.localise(&l.person_text, &lang)) }
                    @if !own { p.secondary-text { (ins.localise(&l.description, &lang)) } }
                }
            }
            @if !own {
                dl.summary-list {
                    (layout::row("Completed", html! { (a.completed_at.map(when).unwrap_or_default()) }))
                    (layout::row("How", html! { (MODES.iter().find(|(m, _)| *m == a.mode).map(|(_, l)| *l).unwrap_or(&a.mode)) }))
                    (layout::row("Items answered", html! { (r.items_answered) " of " (ins.items().len()) }))
                    (layout::row("Score", html! { (r.score.map(|s| format!("{:.1}", alongside_measure::round_score(s))).unwrap_or_else(|| "Not scored".into())) @if let Some(se) = r.score_se { " (standard error " (format!("{se:.1}")) ")" } }))
                    @if let Some(m) = r.measure { (layout::row("Measure (logits)", html! { (format!("{m:.3}")) @if let Some(se) = r.standard_error { " ± " (format!("{se:.3}")) } })) }
                    (layout::row("Data quality", if r.flags.is_empty() { html! { "No concerns" } } else { html! { @for d in flag_descriptions(&r.flags) { strong.tag.tag--red { "Check" } " " (d) br; } } }))
                }
            } @else if !r.flags.is_empty() {
                p.secondary-text { "Your answers were all at one end of the scale. Your coach may talk them through with you." }
            }
            @if !recs.is_empty() {
                h2 { @if own { "Support that could help you" } @else { "Recommended next steps" } }
                ul { @for rec in &recs { li { strong { (rec.title) } br; @if own { (rec.person_text) } @else { span.secondary-text { (rec.staff_reason) } } } } }
                @if own { p { "Talk to your coordinator or coach about any of these, or ask at your GP practice." } }
            }
            p { a href={ "/people/" (a.person_id) "#activation" } { @if own { "Back to your record" } @else { "Back to their record" } } }
        },
    )))
}
