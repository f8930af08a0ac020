//! The route table: every route with the access it needs, in one list that both builds the
//! router and is exported for the authorization-matrix test, so a route cannot be added
//! without appearing in the test.

use crate::pages::education as edu;
use crate::pages::{
    account, activation, activities, admin, audit, careplan, coaching, directory, groups, home,
    outcomes, peer_report, people, rota, signin, stats,
};
use crate::{assets, AppState};
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What a route needs before its handler runs. Finer decisions (role and relationship) are
/// made in the handler through `alongside_core::access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone, signed in or not.
    Public,
    /// A live session; the handler then asks the access rules.
    SignedIn,
}

#[derive(Debug, Clone, Copy)]
pub struct RouteDef {
    pub method: &'static str,
    pub path: &'static str,
    pub gate: Gate,
}

/// Every route of the application.
pub fn routes() -> Vec<(RouteDef, MethodRouter<AppState>)> {
    use Gate::*;
    let r = |method, path, gate| RouteDef { method, path, gate };
    vec![
        (r("GET", "/health", Public), get(health)),
        (r("GET", "/assets/{file}", Public), get(assets::asset)),
        (r("GET", "/sign-in", Public), get(signin::show)),
        (r("POST", "/sign-in", Public), post(signin::submit)),
        (r("POST", "/sign-out", SignedIn), post(signin::sign_out)),
        (r("GET", "/", SignedIn), get(home::home)),
        (r("GET", "/account/password", SignedIn), get(account::show)),
        (
            r("POST", "/account/password", SignedIn),
            post(account::submit),
        ),
        (r("GET", "/people", SignedIn), get(people::list)),
        (r("GET", "/people/new", SignedIn), get(people::new_form)),
        (r("POST", "/people", SignedIn), post(people::create)),
        (r("GET", "/people/{id}", SignedIn), get(people::show)),
        (
            r("GET", "/people/{id}/edit", SignedIn),
            get(people::edit_form),
        ),
        (
            r("POST", "/people/{id}/edit", SignedIn),
            post(people::update),
        ),
        (
            r("GET", "/people/{id}/audit", SignedIn),
            get(audit::person_history),
        ),
        (r("GET", "/audit", SignedIn), get(audit::org_log)),
        (r("GET", "/admin/users", SignedIn), get(admin::list)),
        (r("GET", "/admin/users/new", SignedIn), get(admin::new_form)),
        (r("POST", "/admin/users", SignedIn), post(admin::create)),
        (
            r("GET", "/admin/users/{id}", SignedIn),
            get(admin::edit_form),
        ),
        (
            r("POST", "/admin/users/{id}", SignedIn),
            post(admin::update),
        ),
        // Health coaching.
        (
            r("GET", "/people/{id}/coaching", SignedIn),
            get(coaching::person_coaching),
        ),
        (
            r("GET", "/people/{id}/coaching/refer", SignedIn),
            get(coaching::refer_form),
        ),
        (
            r("POST", "/people/{id}/coaching/refer", SignedIn),
            post(coaching::refer_submit),
        ),
        (
            r("GET", "/my/coaching", SignedIn),
            get(coaching::my_coaching),
        ),
        (
            r("GET", "/coaching/refer-myself", SignedIn),
            get(coaching::self_refer_form),
        ),
        (
            r("POST", "/coaching/refer-myself", SignedIn),
            post(coaching::self_refer_submit),
        ),
        (r("GET", "/coaching/queue", SignedIn), get(coaching::queue)),
        (
            r("GET", "/coaching/referrals/{id}", SignedIn),
            get(coaching::referral),
        ),
        (
            r("POST", "/coaching/referrals/{id}/allocate", SignedIn),
            post(coaching::allocate),
        ),
        (
            r("POST", "/coaching/referrals/{id}/accept", SignedIn),
            post(coaching::accept),
        ),
        (
            r("POST", "/coaching/referrals/{id}/decline", SignedIn),
            post(coaching::decline),
        ),
        (
            r("POST", "/coaching/referrals/{id}/withdraw", SignedIn),
            post(coaching::withdraw),
        ),
        (
            r("GET", "/coaching/coaches/{id}", SignedIn),
            get(coaching::coach_edit_form),
        ),
        (
            r("POST", "/coaching/coaches/{id}", SignedIn),
            post(coaching::coach_edit),
        ),
        (
            r("GET", "/coaching/episodes/{id}", SignedIn),
            get(coaching::episode),
        ),
        (
            r("GET", "/coaching/episodes/{id}/book", SignedIn),
            get(coaching::book_form),
        ),
        (
            r("POST", "/coaching/episodes/{id}/book", SignedIn),
            post(coaching::book),
        ),
        (
            r("GET", "/coaching/episodes/{id}/discharge", SignedIn),
            get(coaching::discharge_form),
        ),
        (
            r("POST", "/coaching/episodes/{id}/discharge", SignedIn),
            post(coaching::discharge),
        ),
        (
            r("POST", "/coaching/episodes/{id}/reopen", SignedIn),
            post(coaching::reopen),
        ),
        (
            r("GET", "/coaching/sessions/{id}", SignedIn),
            get(coaching::session),
        ),
        (
            r("POST", "/coaching/sessions/{id}", SignedIn),
            post(coaching::record),
        ),
        (
            r("GET", "/people/{id}/goals/new", SignedIn),
            get(coaching::new_goal_form),
        ),
        (
            r("POST", "/people/{id}/goals", SignedIn),
            post(coaching::new_goal),
        ),
        (r("GET", "/goals/{id}", SignedIn), get(coaching::goal)),
        (
            r("POST", "/goals/{id}", SignedIn),
            post(coaching::update_goal),
        ),
        (
            r("GET", "/coaching/caseload", SignedIn),
            get(coaching::caseload),
        ),
        (
            r("GET", "/coaching/calendar", SignedIn),
            get(coaching::calendar_page),
        ),
        (
            r("POST", "/coaching/calendar", SignedIn),
            post(coaching::calendar_change),
        ),
        (
            r("GET", "/calendar/{org}/{token}", Public),
            get(coaching::calendar_feed),
        ),
        (r("GET", "/statistics", SignedIn), get(stats::show)),
        (r("GET", "/outcomes", SignedIn), get(outcomes::show)),
        (
            r("GET", "/outcomes/report", SignedIn),
            get(outcomes::report),
        ),
        (
            r("GET", "/people/{id}/questionnaires/new", SignedIn),
            get(activation::choose),
        ),
        (
            r("POST", "/people/{id}/questionnaires", SignedIn),
            post(activation::start),
        ),
        (
            r("GET", "/people/{id}/questionnaires/record", SignedIn),
            get(activation::record_form),
        ),
        (
            r("POST", "/people/{id}/questionnaires/record", SignedIn),
            post(activation::record_submit),
        ),
        (
            r("GET", "/questionnaires/{id}", SignedIn),
            get(activation::resume),
        ),
        (
            r("GET", "/questionnaires/{id}/questions/{n}", SignedIn),
            get(activation::question),
        ),
        (
            r("POST", "/questionnaires/{id}/questions/{n}", SignedIn),
            post(activation::answer),
        ),
        (
            r("GET", "/questionnaires/{id}/check", SignedIn),
            get(activation::check),
        ),
        (
            r("POST", "/questionnaires/{id}/submit", SignedIn),
            post(activation::submit),
        ),
        (r("GET", "/activation/due", SignedIn), get(activation::due)),
        (
            r("GET", "/activation/outreach", SignedIn),
            get(activation::outreach),
        ),
        (
            r("GET", "/admin/instruments", SignedIn),
            get(activation::admin_list),
        ),
        (
            r("POST", "/admin/instruments", SignedIn),
            post(activation::admin_import),
        ),
        (
            r("POST", "/admin/instruments/{id}/rescore", SignedIn),
            post(activation::admin_rescore),
        ),
        (
            r("GET", "/admin/settings", SignedIn),
            get(activation::settings),
        ),
        (
            r("POST", "/admin/settings", SignedIn),
            post(activation::save_settings),
        ),
        // Peer support: groups, sessions, booking, the door, attendance.
        (r("GET", "/groups", SignedIn), get(groups::list)),
        (r("GET", "/groups/new", SignedIn), get(groups::new_form)),
        (r("POST", "/groups", SignedIn), post(groups::create)),
        (r("GET", "/groups/{id}", SignedIn), get(groups::show)),
        (
            r("GET", "/groups/{id}/edit", SignedIn),
            get(groups::edit_form),
        ),
        (
            r("POST", "/groups/{id}/edit", SignedIn),
            post(groups::update),
        ),
        (r("POST", "/groups/{id}/join", SignedIn), post(groups::join)),
        (
            r("GET", "/groups/{id}/sessions/{date}", SignedIn),
            get(groups::session),
        ),
        (
            r("POST", "/groups/{id}/sessions/{date}/change", SignedIn),
            post(groups::change),
        ),
        (
            r("POST", "/groups/{id}/sessions/{date}/booking", SignedIn),
            post(groups::booking),
        ),
        (
            r("GET", "/groups/{id}/sessions/{date}/door", SignedIn),
            get(groups::door),
        ),
        (
            r("POST", "/groups/{id}/sessions/{date}/door", SignedIn),
            post(groups::door_sign_in),
        ),
        (r("GET", "/my/upcoming", SignedIn), get(groups::my_upcoming)),
        // Activities within a session (pages/activities).
        (
            r("GET", "/groups/{id}/activities", SignedIn),
            get(activities::list),
        ),
        (
            r("POST", "/groups/{id}/activities", SignedIn),
            post(activities::change),
        ),
        (
            r("POST", "/groups/{id}/sessions/{date}/activities", SignedIn),
            post(activities::sign_up),
        ),
        (
            r("GET", "/people/{id}/attendance", SignedIn),
            get(groups::person_attendance),
        ),
        // Peer support: the people who run it (training, rotas), booking on someone's behalf.
        (r("GET", "/rota/people", SignedIn), get(rota::team)),
        (r("GET", "/rota/people/{id}", SignedIn), get(rota::person)),
        (
            r("POST", "/rota/people/{id}/training", SignedIn),
            post(rota::record_training),
        ),
        (
            r("GET", "/groups/{id}/sessions/{date}/rota", SignedIn),
            get(rota::rota),
        ),
        (
            r("POST", "/groups/{id}/sessions/{date}/rota", SignedIn),
            post(rota::rota_add),
        ),
        (
            r(
                "POST",
                "/groups/{id}/sessions/{date}/rota/{entry}/remove",
                SignedIn,
            ),
            post(rota::rota_remove),
        ),
        (
            r("GET", "/groups/{id}/sessions/{date}/bookings", SignedIn),
            get(rota::bookings),
        ),
        (
            r("POST", "/groups/{id}/sessions/{date}/bookings", SignedIn),
            post(rota::book),
        ),
        // Service directory, referrals to other services, care and support plans.
        (r("GET", "/directory", SignedIn), get(directory::list)),
        (
            r("GET", "/directory/new", SignedIn),
            get(directory::new_form),
        ),
        (r("POST", "/directory", SignedIn), post(directory::create)),
        (r("GET", "/directory/{id}", SignedIn), get(directory::show)),
        (
            r("GET", "/directory/{id}/edit", SignedIn),
            get(directory::edit_form),
        ),
        (
            r("POST", "/directory/{id}/edit", SignedIn),
            post(directory::update),
        ),
        (
            r("GET", "/referrals/overdue", SignedIn),
            get(directory::overdue),
        ),
        (
            r("GET", "/people/{id}/referrals", SignedIn),
            get(directory::person_list),
        ),
        (
            r("GET", "/people/{id}/referrals/new", SignedIn),
            get(directory::new_referral),
        ),
        (
            r("POST", "/people/{id}/referrals", SignedIn),
            post(directory::create_referral),
        ),
        (
            r("GET", "/people/{id}/referrals/{rid}", SignedIn),
            get(directory::show_referral),
        ),
        (
            r("POST", "/people/{id}/referrals/{rid}", SignedIn),
            post(directory::move_referral),
        ),
        (r("GET", "/people/{id}/plan", SignedIn), get(careplan::show)),
        (
            r("GET", "/people/{id}/plan/edit", SignedIn),
            get(careplan::edit_form),
        ),
        (
            r("POST", "/people/{id}/plan/edit", SignedIn),
            post(careplan::save),
        ),
        (
            r("GET", "/people/{id}/plan/versions", SignedIn),
            get(careplan::versions),
        ),
        (
            r("GET", "/people/{id}/plan/versions/{n}", SignedIn),
            get(careplan::version),
        ),
        (
            r("GET", "/people/{id}/plan/print", SignedIn),
            get(careplan::print),
        ),
        (
            r("GET", "/people/{id}/plan/download", SignedIn),
            get(careplan::download),
        ),
        // Self-management education (pages/education).
        (r("GET", "/courses", SignedIn), get(edu::catalogue)),
        (r("GET", "/courses/new", SignedIn), get(edu::new_form)),
        (r("POST", "/courses", SignedIn), post(edu::create)),
        (r("GET", "/courses/{id}", SignedIn), get(edu::show)),
        (
            r("GET", "/courses/{id}/edit", SignedIn),
            get(edu::edit_form),
        ),
        (r("POST", "/courses/{id}/edit", SignedIn), post(edu::update)),
        (
            r("GET", "/courses/{id}/runs/new", SignedIn),
            get(edu::runs::new_form),
        ),
        (
            r("POST", "/courses/{id}/runs", SignedIn),
            post(edu::runs::create),
        ),
        (
            r("GET", "/courses/{id}/pages/new", SignedIn),
            get(edu::online::new_form),
        ),
        (
            r("POST", "/courses/{id}/pages", SignedIn),
            post(edu::online::create),
        ),
        (
            r("GET", "/courses/{id}/pages/{n}", SignedIn),
            get(edu::online::show),
        ),
        (
            r("POST", "/courses/{id}/pages/{n}/done", SignedIn),
            post(edu::online::done),
        ),
        (
            r("GET", "/courses/{id}/learners", SignedIn),
            get(edu::online::learners),
        ),
        (
            r("GET", "/course-runs/{id}", SignedIn),
            get(edu::runs::show),
        ),
        (
            r("POST", "/course-runs/{id}/enrol", SignedIn),
            post(edu::runs::enrol_self),
        ),
        (
            r("POST", "/course-runs/{id}/withdraw", SignedIn),
            post(edu::runs::withdraw_self),
        ),
        (
            r("GET", "/course-runs/{id}/sessions/{n}", SignedIn),
            get(edu::runs::register_form),
        ),
        (
            r("POST", "/course-runs/{id}/sessions/{n}", SignedIn),
            post(edu::runs::register_save),
        ),
        (
            r("GET", "/course-runs/{id}/feedback", SignedIn),
            get(edu::runs::feedback_form),
        ),
        (
            r("POST", "/course-runs/{id}/feedback", SignedIn),
            post(edu::runs::feedback_save),
        ),
        // Changing a run once it exists (pages/education/changes.rs).
        (
            r("GET", "/course-runs/{id}/edit", SignedIn),
            get(edu::changes::edit_form),
        ),
        (
            r("POST", "/course-runs/{id}/edit", SignedIn),
            post(edu::changes::update),
        ),
        (
            r("POST", "/course-runs/{id}/move", SignedIn),
            post(edu::changes::move_session),
        ),
        (
            r("POST", "/course-runs/{id}/cancel", SignedIn),
            post(edu::changes::cancel),
        ),
        (
            r("GET", "/my/courses", SignedIn),
            get(edu::mine::my_courses),
        ),
        (
            r("GET", "/people/{id}/courses", SignedIn),
            get(edu::mine::person_courses),
        ),
        (
            r("POST", "/people/{id}/courses", SignedIn),
            post(edu::mine::enrol),
        ),
        (
            r("POST", "/people/{id}/courses/withdraw", SignedIn),
            post(edu::mine::withdraw),
        ),
        (
            r("POST", "/people/{id}/courses/refer", SignedIn),
            post(edu::mine::refer),
        ),
        (
            r("GET", "/reports/education", SignedIn),
            get(edu::report::show),
        ),
        (
            r("GET", "/reports/education.csv", SignedIn),
            get(edu::report::download),
        ),
        // The peer-support report (pages/peer_report).
        (
            r("GET", "/reports/peer-support", SignedIn),
            get(peer_report::show),
        ),
        (
            r("GET", "/reports/peer-support.csv", SignedIn),
            get(peer_report::download),
        ),
    ]
}

/// Whether the service can do its work: the database answers a read and the writer takes and
/// commits a job (a writer that has stopped turns this red, not green).
async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let h = state.store.health(std::time::Duration::from_secs(5)).await;
    let ok = h.database && h.writer;
    let status = if ok {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "unavailable" },
        "database": if h.database { "ok" } else { "unreachable" },
        "writer": if h.writer { "ok" } else { "not committing" },
        "version": env!("CARGO_PKG_VERSION"),
    });
    (status, axum::Json(body)).into_response()
}

/// Whether a path is an API route, answered in JSON (errors as problem details) rather than
/// pages: `/health` and everything under `/api/` and `/fhir/`.
pub fn is_api(path: &str) -> bool {
    path == "/health" || path.starts_with("/api/") || path.starts_with("/fhir/")
}

/// On API routes, turns an error page into RFC 9457 problem details
/// (`application/problem+json`: type, title, status, detail) from the [`ErrorInfo`] the error
/// response carries; pages keep their HTML.
///
/// [`ErrorInfo`]: crate::error::ErrorInfo
async fn problem_details(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let api = is_api(req.uri().path());
    let response = next.run(req).await;
    if !api {
        return response;
    }
    let Some(info) = response
        .extensions()
        .get::<crate::error::ErrorInfo>()
        .cloned()
    else {
        return response;
    };
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": info.title,
        "status": info.status.as_u16(),
    });
    if let Some(d) = info.detail {
        body["detail"] = serde_json::Value::String(d);
    }
    let mut out = (
        info.status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response();
    // Keep what other layers read (the refusal marker for the audit).
    if let Some(r) = response.extensions().get::<crate::error::WebRefusal>() {
        out.extensions_mut().insert(*r);
    }
    out
}

/// Audits every refusal decided in the web layer (an [`AppError::Forbidden`] response) as a
/// refused page, naming the actor, the route template and the reason. Refusals decided by the
/// store's door are audited there, in the transaction that refused them.
///
/// [`AppError::Forbidden`]: crate::error::AppError::Forbidden
async fn audit_refusals(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use alongside_core::audit::{AuditAction, AuditEvent, Outcome};
    use axum::response::IntoResponse;
    let slot = crate::auth::ActorSlot::default();
    req.extensions_mut().insert(slot.clone());
    let route = format!(
        "{} {}",
        req.method(),
        req.extensions()
            .get::<MatchedPath>()
            .map(|p| p.as_str())
            .unwrap_or("unmatched")
    );
    let response = next.run(req).await;
    let Some(crate::error::WebRefusal(reason)) = response
        .extensions()
        .get::<crate::error::WebRefusal>()
        .copied()
    else {
        return response;
    };
    let who = slot.0.lock().expect("actor slot").take();
    let Some((actor, source)) = who else {
        return response;
    };
    let event = AuditEvent {
        org_id: actor.org_id,
        actor_user_id: Some(actor.user_id),
        actor_role: Some(actor.role),
        action: AuditAction::PageRefused,
        outcome: Outcome::Refused,
        resource_type: "page",
        resource_id: Some(route),
        person_id: None,
        source: source.0,
        detail: Some(reason.to_string()),
    };
    match state.store.audit(event).await {
        Ok(_) => response,
        // A refusal that cannot be recorded is not shown as a refusal either.
        Err(e) => {
            crate::error::AppError::Internal(format!("auditing a refusal: {e}")).into_response()
        }
    }
}

/// Replaces the bare 413 of the body limit with a page that says what happened.
async fn too_large_page(resp: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;
    if resp.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return resp;
    }
    let page = crate::layout::bare(
        "The form is too large",
        maud::html! {
            h1 { "The form is too large" }
            p { "What you sent is longer than Alongside accepts (256 KB). Nothing was saved." }
            p { "Go back, shorten the longest answers, and try again." }
            p { a href="/" { "Go to your home page" } }
        },
    );
    (
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page.into_string(),
    )
        .into_response()
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The router with `extra` routes inside the same layers (tests use it to add a route that
/// panics, to check the panic page).
pub fn router_with(state: AppState, extra: Router<AppState>) -> Router {
    let mut router: Router<AppState> = extra;
    for (def, handler) in routes() {
        // The router itself keeps signed-in routes from anyone without a live session.
        let handler = match def.gate {
            Gate::Public => handler,
            Gate::SignedIn => handler.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::auth::require_session,
            )),
        };
        router = router.route(def.path, handler);
    }
    let secure = state.config.secure_cookies;
    let mut app = router
        .fallback(|| async { crate::error::AppError::NotFound })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit_refusals,
        ))
        .with_state(state)
        .layer(CatchPanicLayer::custom(crate::error::panic_page))
        .layer(axum::middleware::from_fn(problem_details))
        .layer(RequestBodyLimitLayer::new(256 * 1024))
        .layer(axum::middleware::map_response(too_large_page))
        // if_not_present: the printable outcomes report sets a stricter policy of its own
        // (no scripts, its inline styles allowed by hash only).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "unmatched".into());
            tracing::info_span!("request", method = %req.method(), route = %route)
        }));
    if secure {
        app = app.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    app
}
