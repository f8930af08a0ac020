//! De-identified statistics for analysts, coordinators and administrators, with small-number
//! suppression: no identities, and no count from 1 to the threshold is shown.

use super::ok;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::layout;
use crate::AppState;
use alongside_core::conditions;
use alongside_core::person::Sex;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

/// Counts from 1 to this are suppressed in anything an analyst can see.
pub const SUPPRESS_AT_OR_BELOW: i64 = 7;

/// A count as it may be shown: suppressed when between 1 and the threshold.
pub fn shown(n: i64) -> String {
    if (1..=SUPPRESS_AT_OR_BELOW).contains(&n) {
        format!("1–{SUPPRESS_AT_OR_BELOW}*")
    } else {
        n.to_string()
    }
}

fn table(caption: &str, head: &str, rows: &[(String, i64)]) -> Markup {
    html! {
        div.table-wrapper {
            table {
                caption { (caption) }
                thead { tr { th scope="col" { (head) } th.numeric scope="col" { "People" } } }
                tbody { @for (k, n) in rows { tr { td { (k) } td.numeric { (shown(*n)) } } } }
            }
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    ClientSource(source): ClientSource,
) -> AppResult<Response> {
    let a = state.store.aggregates(&user.actor, source).await?;
    let by_condition: Vec<(String, i64)> = a
        .by_condition
        .iter()
        .map(|(k, n)| {
            (
                conditions::by_key(k)
                    .map(|c| c.label.to_string())
                    .unwrap_or_else(|| k.clone()),
                *n,
            )
        })
        .collect();
    let by_sex: Vec<(String, i64)> = a
        .by_sex
        .iter()
        .map(|(k, n)| {
            (
                Sex::parse(k)
                    .map(|s| s.label().to_string())
                    .unwrap_or_else(|| k.clone()),
                *n,
            )
        })
        .collect();
    Ok(ok(layout::page(
        Some(&user),
        "Statistics",
        html! {
            h1 { "Statistics" }
            p.lede { (shown(a.total)) " people registered in " (user.org_name) "." }
            div.inset { p { "Counts from 1 to " (SUPPRESS_AT_OR_BELOW) " are shown as “1–" (SUPPRESS_AT_OR_BELOW) "*” so that nobody can be identified." } }
            (table("People by long-term condition (a person may have several)", "Condition", &by_condition))
            (table("People by age band", "Age", &a.by_age))
            (table("People by sex", "Sex", &by_sex))
            (table("People by deprivation decile (1 = most deprived)", "Decile", &a.by_decile))
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_boundaries() {
        assert_eq!(shown(0), "0");
        assert_eq!(shown(1), "1–7*");
        assert_eq!(shown(7), "1–7*");
        assert_eq!(shown(8), "8");
    }
}
