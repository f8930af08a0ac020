//! De-identified statistics for analysts, coordinators and administrators, under the one
//! disclosure policy (`alongside_stats::disclosure`): no identities, no count from 1 to the
//! threshold, and no count that would let one be worked out from the total (the age bands,
//! sexes and deciles each add up to the people registered).

use super::ok;
use crate::auth::{ClientSource, CurrentUser};
use crate::error::AppResult;
use crate::layout;
use crate::AppState;
use alongside_core::conditions;
use alongside_core::person::Sex;
use alongside_stats::disclosure::{CellId, Policy, Protected, Table};
use alongside_store::people::Aggregates;
use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};

/// The one policy, with its marker `[c]`. (This page used to write `1–7*`: a range is not a
/// marker once larger counts are hidden to protect small ones — see
/// `alongside_stats::disclosure::Marker`.)
pub const POLICY: Policy = Policy::STANDARD;

/// Counts from 1 to this are suppressed in anything an analyst can see.
pub const SUPPRESS_AT_OR_BELOW: i64 = POLICY.threshold as i64;

/// A count in no line as it may be shown: suppressed when between 1 and the threshold.
pub fn shown(n: i64) -> String {
    POLICY.show(POLICY.lone(n.max(0) as u64))
}

/// The page's figures, protected together: (label, cell) rows per table and the total.
struct Figures {
    p: Protected,
    total: CellId,
    by_condition: Vec<(String, CellId)>,
    by_age: Vec<(String, CellId)>,
    by_sex: Vec<(String, CellId)>,
    by_decile: Vec<(String, CellId)>,
}

fn figures(a: &Aggregates) -> Figures {
    let mut t = Table::new();
    let total = t.count(a.total.max(0) as u64);
    let mut rows = |rows: &[(String, i64)], label: &dyn Fn(&str) -> String, adds_up: bool| {
        let cells: Vec<(String, CellId)> = rows
            .iter()
            .map(|(k, n)| (label(k), t.count((*n).max(0) as u64)))
            .collect();
        if adds_up {
            let ids: Vec<CellId> = cells.iter().map(|c| c.1).collect();
            t.total(total, &ids);
        }
        cells
    };
    let condition = |k: &str| {
        conditions::by_key(k)
            .map(|c| c.label.to_string())
            .unwrap_or_else(|| k.to_string())
    };
    let sex = |k: &str| {
        Sex::parse(k)
            .map(|s| s.label().to_string())
            .unwrap_or_else(|| k.to_string())
    };
    let same = |k: &str| k.to_string();
    // A person may have several conditions: that table does not add up to the total.
    let by_condition = rows(&a.by_condition, &condition, false);
    let by_age = rows(&a.by_age, &same, true);
    let by_sex = rows(&a.by_sex, &sex, true);
    let by_decile = rows(&a.by_decile, &same, true);
    Figures {
        p: t.protect(&POLICY),
        total,
        by_condition,
        by_age,
        by_sex,
        by_decile,
    }
}

fn table(p: &Protected, caption: &str, head: &str, rows: &[(String, CellId)]) -> Markup {
    html! {
        div.table-wrapper {
            table {
                caption { (caption) }
                thead { tr { th scope="col" { (head) } th.numeric scope="col" { "People" } } }
                tbody { @for (k, c) in rows { tr { td { (k) } td.numeric { (p.text(*c)) } } } }
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
    let f = figures(&a);
    let p = &f.p;
    Ok(ok(layout::page(
        Some(&user),
        "Statistics",
        html! {
            h1 { "Statistics" }
            p.lede { (p.text(f.total)) " people registered in " (user.org_name) "." }
            div.inset { p { "Counts from 1 to " (SUPPRESS_AT_OR_BELOW) " are shown as " (POLICY.marker()) ", and so is the next smallest count in a table whose total would otherwise give one away, so that nobody can be identified." } }
            (table(p, "People by long-term condition (a person may have several)", "Condition", &f.by_condition))
            (table(p, "People by age band", "Age", &f.by_age))
            (table(p, "People by sex", "Sex", &f.by_sex))
            (table(p, "People by deprivation decile (1 = most deprived)", "Decile", &f.by_decile))
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppression_boundaries() {
        assert_eq!(shown(0), "0");
        assert_eq!(shown(1), "[c]");
        assert_eq!(shown(7), "[c]");
        assert_eq!(shown(8), "8");
    }

    /// One small age band: the others and the total would give it away, so the next smallest
    /// band goes with it; the total stays.
    #[test]
    fn a_small_band_cannot_be_recovered_from_the_others_and_the_total() {
        let rows = |v: &[(&str, i64)]| v.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        let a = Aggregates {
            total: 60,
            by_condition: rows(&[("asthma", 3), ("copd", 58)]),
            by_age: rows(&[("18–39", 30), ("40–49", 27), ("50–59", 3)]),
            by_sex: rows(&[("female", 30), ("male", 30)]),
            by_decile: rows(&[("1", 60)]),
        };
        // Primary suppression alone: 60 − 30 − 27 = 3.
        let primary: Vec<String> = a.by_age.iter().map(|(_, n)| shown(*n)).collect();
        assert_eq!(primary, vec!["30", "27", "[c]"]);
        let f = figures(&a);
        let ages: Vec<String> = f.by_age.iter().map(|(_, c)| f.p.text(*c)).collect();
        assert_eq!(ages, vec!["30", "[c]", "[c]"]);
        assert_eq!(f.p.text(f.total), "60");
        let hidden = f.by_age.iter().filter(|(_, c)| f.p.is_hidden(*c)).count();
        assert!(hidden >= 2, "two unknowns in one line: not recoverable");
        // Conditions do not add up to the total (several per person): only primary.
        let conditions: Vec<String> = f.by_condition.iter().map(|(_, c)| f.p.text(*c)).collect();
        assert_eq!(conditions, vec!["[c]", "58"]);
    }
}
