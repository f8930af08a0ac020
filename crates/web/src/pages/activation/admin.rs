//! Administering instruments and measurement settings: loading an instrument definition,
//! re-scoring results with the version in use, the re-measurement interval and the tailored
//! next-step rules.

use super::{remeasure_months, stored_result};
use crate::auth::{ClientSource, CurrentUser};
use crate::error::{AppError, AppResult};
use crate::extract::{may, CsrfForm, Id, Require};
use crate::layout;
use crate::pages::{html as html_response, invalid, ok};
use crate::AppState;
use alongside_core::recommend::Rules;
use alongside_core::validation::ValidationErrors;
use alongside_core::InstrumentId;
use alongside_measure::Instrument;
use alongside_store::activation::{InstrumentRow, StoredResult};
use alongside_store::StoreError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use std::collections::BTreeMap;

fn instruments_page(
    user: &CurrentUser,
    list: &[InstrumentRow],
    json: &str,
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Questionnaires", e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            h1 { "Questionnaires" }
            div.table-wrapper {
                table.responsive {
                    caption.visually-hidden { "Loaded instruments" }
                    thead { tr { th scope="col" { "Title" } th scope="col" { "Identifier" } th scope="col" { "Version" } th scope="col" { "Status" } } }
                    tbody {
                        @for i in list {
                            tr {
                                td data-label="Title" { (i.title) }
                                td data-label="Identifier" { (i.key) }
                                td data-label="Version" { (i.version) }
                                td data-label="Status" {
                                    @if i.active { strong.tag.tag--green { "In use" } } @else {
                                        span.tag.tag--grey { "Earlier version" }
                                        form method="post" action={ "/admin/instruments/" (i.id) "/rescore" } {
                                            (layout::csrf(&user.csrf))
                                            button.link-button.link-button--dark type="submit" { "Re-score its results with the version in use" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Load an instrument" }
            p { "Paste an instrument definition (JSON, described in docs/instruments.md). Organisations holding a licence for a proprietary instrument, such as the Patient Activation Measure, load their own definition here. A new version of an existing instrument becomes the one in use; results keep the version they were scored with." }
            form method="post" action="/admin/instruments" novalidate {
                (layout::csrf(&user.csrf))
                (layout::textarea("definition", "Instrument definition (JSON)", None, json, e))
                button.button type="submit" { "Load instrument" }
            }
        },
    )
}

pub async fn admin_list(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
) -> AppResult<Response> {
    let list = state.store.instruments(user.actor.org_id).await?;
    Ok(ok(instruments_page(
        &user,
        &list,
        "",
        &ValidationErrors::default(),
        None,
    )))
}

pub async fn admin_import(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
    ClientSource(source): ClientSource,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let json = f.get("definition");
    let mut e = ValidationErrors::default();
    let list = state.store.instruments(user.actor.org_id).await?;
    if json.trim().is_empty() {
        e.add("definition", "Paste an instrument definition");
        return Ok(invalid(instruments_page(&user, &list, &json, &e, None)));
    }
    let ins = match Instrument::from_json_str(&json) {
        Ok(i) => i,
        Err(err) => {
            for fe in err.errors.iter().take(20) {
                e.add("definition", format!("{}: {}", fe.path, fe.message));
            }
            if e.is_empty() {
                e.add("definition", err.to_string());
            }
            return Ok(invalid(instruments_page(&user, &list, &json, &e, None)));
        }
    };
    let title = ins.title(&ins.definition().languages.default).to_string();
    match state
        .store
        .install_instrument(
            user.actor.org_id,
            ins.id(),
            ins.version(),
            &title,
            &json,
            Some(user.actor.clone()),
            source,
        )
        .await
    {
        Ok((_, created)) => {
            let list = state.store.instruments(user.actor.org_id).await?;
            let msg = if created {
                format!("Loaded {title}, version {}", ins.version())
            } else {
                format!("{title}, version {}, was already loaded", ins.version())
            };
            Ok(html_response(
                StatusCode::OK,
                instruments_page(&user, &list, "", &ValidationErrors::default(), Some(&msg)),
            ))
        }
        Err(StoreError::Conflict(m)) => {
            e.add("definition", m);
            Ok(invalid(instruments_page(&user, &list, &json, &e, None)))
        }
        Err(other) => Err(other.into()),
    }
}

fn settings_page(
    user: &CurrentUser,
    months: &str,
    rules: &str,
    e: &ValidationErrors,
    banner: Option<&str>,
) -> Markup {
    layout::page(
        Some(user),
        &layout::title_with_errors("Measurement settings", e),
        html! {
            (layout::error_summary(e))
            @if let Some(b) = banner { (layout::success_banner(b)) }
            h1 { "Measurement settings" }
            form method="post" action="/admin/settings" novalidate {
                (layout::csrf(&user.csrf))
                (layout::text_input("remeasure_months", "Months between measurements", months, e, layout::Input { hint: Some("People are due to fill in their questionnaire again this many months after the last one (1 to 36). The usual interval is 6."), width: Some("input--width-2"), inputmode: Some("numeric"), ..Default::default() }))
                (layout::textarea("rules", "Tailored next steps (rules as JSON)", Some("Each rule names the activation levels (1 to 4) it applies to, optionally the conditions, what is offered, a reason for staff and plain words for the person. Rules are shown in this order."), rules, e))
                button.button type="submit" { "Save settings" }
            }
        },
    )
}

pub async fn settings(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
) -> AppResult<Response> {
    let org = user.actor.org_id;
    let months = remeasure_months(&state, org).await?.to_string();
    let rules = state
        .store
        .setting(org, "recommendation_rules")
        .await?
        .unwrap_or_else(|| alongside_core::recommend::DEFAULT_RULES_JSON.to_string());
    Ok(ok(settings_page(
        &user,
        &months,
        &rules,
        &ValidationErrors::default(),
        None,
    )))
}

pub async fn save_settings(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
    ClientSource(source): ClientSource,
    CsrfForm(f): CsrfForm,
) -> AppResult<Response> {
    let (months, rules) = (f.get("remeasure_months"), f.get("rules"));
    let mut e = ValidationErrors::default();
    match months.trim().parse::<u32>() {
        Ok(m) if (1..=36).contains(&m) => {}
        _ => e.add(
            "remeasure_months",
            "Months between measurements must be a whole number from 1 to 36",
        ),
    }
    if let Err(err) = Rules::parse(&rules) {
        e.add(
            "rules",
            format!("The rules could not be used: {}: {}", err.path, err.message),
        );
    }
    if !e.is_empty() {
        return Ok(invalid(settings_page(&user, &months, &rules, &e, None)));
    }
    let values = vec![
        ("remeasure_months".to_string(), months.trim().to_string()),
        ("recommendation_rules".to_string(), rules.clone()),
    ];
    state
        .store
        .set_settings(&user.actor, values, source)
        .await?;
    Ok(ok(settings_page(
        &user,
        months.trim(),
        &rules,
        &ValidationErrors::default(),
        Some("Settings saved"),
    )))
}

/// Re-scores every result stored with an earlier version using the version now in use: an
/// explicit, audited operation (results otherwise keep the version they were scored with).
pub async fn admin_rescore(
    State(state): State<AppState>,
    user: Require<may::ManageInstruments>,
    ClientSource(source): ClientSource,
    Id(from_id): Id<InstrumentId>,
    _: CsrfForm,
) -> AppResult<Response> {
    let org = user.actor.org_id;
    let from = state.store.instrument(org, from_id).await?;
    let list = state.store.instruments(org).await?;
    let Some(to) = list.iter().find(|i| i.key == from.key && i.active) else {
        return Err(AppError::BadRequest(
            "No version of this instrument is in use.".into(),
        ));
    };
    if to.id == from.id {
        return Err(AppError::BadRequest(
            "This is the version in use: there is nothing to re-score.".into(),
        ));
    }
    let ins = state.instrument(org, to.id).await?;
    let scorer = move |answers: &BTreeMap<String, String>| match ins
        .score_answers(answers.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    {
        Ok(o) => stored_result(&o),
        Err(e) => StoredResult {
            not_scored_reason: Some(format!("not scored with the new version: {e}")),
            ..Default::default()
        },
    };
    let n = state
        .store
        .rescore_assessments(&user.actor, from.id, to.id, scorer, source)
        .await?;
    let list = state.store.instruments(org).await?;
    let msg = format!(
        "Re-scored {n} results from version {} with version {}",
        from.version, to.version
    );
    Ok(ok(instruments_page(
        &user,
        &list,
        "",
        &ValidationErrors::default(),
        Some(&msg),
    )))
}
