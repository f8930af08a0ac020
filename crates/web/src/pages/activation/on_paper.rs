//! Staff recording, on one page, a questionnaire a person completed in person, by telephone or
//! on paper.

use super::{active_instruments, stored_result};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{CsrfForm, Id};
use crate::form::FormData;
use crate::layout;
use crate::pages::{invalid, ok, see_other};
use crate::AppState;
use alongside_core::access::Action;
use alongside_core::audit::AuditAction;
use alongside_core::validation::ValidationErrors;
use alongside_core::{InstrumentId, PersonId};
use alongside_measure::Instrument;
use alongside_store::activation::{InstrumentRow, MODES};
use alongside_store::door::AuditAs;
use axum::extract::{Query, State};
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
pub struct RecordParams {
    instrument: Option<String>,
}

fn record_page(
    user: &CurrentUser,
    person: PersonId,
    name: &str,
    instruments: &[InstrumentRow],
    chosen: Option<(&InstrumentRow, &Instrument)>,
    f: &FormData,
    e: &ValidationErrors,
) -> Markup {
    let modes: Vec<(&str, &str)> = MODES
        .iter()
        .filter(|(m, _)| *m != "self")
        .copied()
        .collect();
    html! {
        (layout::error_summary(e))
        span.caption { (name) }
        h1 { "Record questionnaire answers" }
        @match chosen {
            None => {
                form method="get" action={ "/people/" (person) "/questionnaires/record" } {
                    @let opts: Vec<(String, String)> = instruments.iter().map(|i| (i.id.as_text(), i.title.clone())).collect();
                    @let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                    (layout::radios("instrument", "Which questionnaire?", &opts_ref, "", e))
                    button.button type="submit" { "Continue" }
                }
            }
            Some((row, ins)) => {
                form method="post" action={ "/people/" (person) "/questionnaires/record" } novalidate {
                    (layout::csrf(&user.csrf))
                    input type="hidden" name="instrument" value=(row.id);
                    (layout::radios("mode", "How were the answers given?", &modes, &f.get("mode"), e))
                    @for item in ins.items() {
                        @let opts: Vec<(String, String)> = std::iter::once((String::new(), "Not answered".to_string())).chain(item.options.iter().map(|o| (o.code.clone(), ins.localise(&o.label, "en").to_string()))).collect();
                        @let opts_ref: Vec<(&str, &str)> = opts.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                        (layout::select(&format!("item-{}", item.link_id), ins.localise(&item.text, "en"), &opts_ref, &f.get(&format!("item-{}", item.link_id)), e))
                    }
                    button.button type="submit" { "Save answers" }
                }
            }
        }
    }
}

pub async fn record_form(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(person): Id<PersonId>,
    Query(p): Query<RecordParams>,
) -> AppResult<Response> {
    // Staff recording answers given elsewhere (refusal audited).
    let view = state
        .store
        .read_person_for(
            &user.actor,
            person,
            Action::RecordAssessmentOnBehalf,
            source,
        )
        .await?;
    let instruments = active_instruments(&state, user.actor.org_id).await?;
    let chosen_row = p
        .instrument
        .as_deref()
        .and_then(|s| s.parse::<InstrumentId>().ok())
        .and_then(|i| instruments.iter().find(|r| r.id == i));
    let compiled = match chosen_row {
        Some(r) => Some(state.instrument(user.actor.org_id, r.id).await?),
        None => None,
    };
    let chosen = chosen_row.zip(compiled.as_deref());
    let page = layout::page(
        Some(&user),
        "Record questionnaire answers",
        record_page(
            &user,
            person,
            &view.record.details.full_name(),
            &instruments,
            chosen,
            &FormData::default(),
            &ValidationErrors::default(),
        ),
    );
    Ok(ok(page))
}

pub async fn record_submit(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
    Id(person): Id<PersonId>,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    // Staff recording answers given elsewhere; a refusal (or an unknown person) is audited.
    state
        .store
        .authorise_person(
            &user.actor,
            Action::RecordAssessmentOnBehalf,
            person,
            AuditAs::new(AuditAction::AssessmentCompleted).on("assessment", None),
            &source,
        )
        .await?;
    let instrument_id: InstrumentId = f.get("instrument").parse().map_err(|_| {
        AppError::BadRequest("Choose a questionnaire first: go back and try again.".into())
    })?;
    let ins = match state.instrument(user.actor.org_id, instrument_id).await {
        Ok(i) => i,
        Err(AppError::NotFound) => {
            return Err(AppError::BadRequest(
                "That questionnaire does not exist in your organisation.".into(),
            ))
        }
        Err(other) => return Err(other),
    };
    let mut e = ValidationErrors::default();
    let mode = f.get("mode");
    if !MODES.iter().any(|(m, _)| *m == mode && *m != "self") {
        e.add("mode", "Select how the answers were given");
    }
    let mut answers = BTreeMap::new();
    for item in ins.items() {
        let field = format!("item-{}", item.link_id);
        let code = f.get(&field);
        if code.is_empty() {
            continue;
        }
        if item.options.iter().any(|o| o.code == code) {
            answers.insert(item.link_id.clone(), code);
        } else {
            e.add(&field, "Select one of the answers in the list");
        }
    }
    if !e.is_empty() {
        let view = state.store.read_person(&user.actor, person, source).await?;
        let instruments = active_instruments(&state, user.actor.org_id).await?;
        let row = state
            .store
            .instrument(user.actor.org_id, instrument_id)
            .await?;
        let page = layout::page(
            Some(&user),
            &layout::title_with_errors("Record questionnaire answers", &e),
            record_page(
                &user,
                person,
                &view.record.details.full_name(),
                &instruments,
                Some((&row, &ins)),
                &f,
                &e,
            ),
        );
        return Ok(invalid(page));
    }
    let outcome = ins
        .score_answers(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let aid = state
        .store
        .record_assessment(
            &user.actor,
            person,
            instrument_id,
            &mode,
            answers,
            stored_result(&outcome),
            source,
        )
        .await?;
    Ok(see_other(&format!("/questionnaires/{aid}")))
}
