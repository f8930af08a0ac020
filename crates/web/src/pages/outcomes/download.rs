//! The dashboard's CSV download: the report's tidy rows, then reach and the activation
//! distributions in the same columns, through the one CSV writer (formulas neutralised) and
//! the one disclosure policy.

use super::figures::{Breakdown, ReachFigures};
use super::Evaluation;
use alongside_stats::report::CSV_COLUMNS;
use alongside_stats::CsvWriter;

/// The report's tidy CSV followed by the reach and activation distribution sections in the same
/// columns (`section,outcome,model,item,count,…`: the group or reach measure in `outcome`, the
/// measure or level in `item`).
pub(super) fn csv(e: &Evaluation, r: &ReachFigures) -> std::io::Result<String> {
    let mut w = CsvWriter::in_memory();
    w.header(&CSV_COLUMNS)?;
    if let Some(report) = &e.report {
        report.write_csv_rows(&mut w)?;
    }
    let f = &e.figures;
    for (item, id) in [("registered", f.registered), ("measured", f.measured)] {
        w.words(&["reach", "", "", item])
            .figure(&f.p, id)
            .empties(8)
            .end_row()?;
    }
    for (m, people, _) in &r.measures {
        w.words(&["reach", "", "", m.code()])
            .figure(&r.p, *people)
            .empties(8)
            .end_row()?;
    }
    w.words(&["reach", "", "", "peer_support_walk_in_attendances"])
        .figure(&r.p, r.walk_ins)
        .empties(8)
        .end_row()?;
    for (m, _, by_level) in &r.measures {
        for (l, n) in by_level.iter().enumerate() {
            let level = if l < 4 {
                format!("level_{}", l + 1)
            } else {
                "not_measured".into()
            };
            w.words(&["reach_by_activation_level", m.code(), "", &level])
                .figure(&r.p, *n)
                .empties(8)
                .end_row()?;
        }
    }
    let everyone = Breakdown {
        caption: "",
        section: "activation_level",
        rows: vec![("Everyone measured".into(), f.everyone, f.measured)],
    };
    for b in std::iter::once(&everyone).chain(&f.breakdowns) {
        for (k, cells, _) in &b.rows {
            for (l, n) in cells.iter().enumerate() {
                w.word(b.section)
                    .text(k)
                    .empty()
                    .word(&format!("level_{}", l + 1))
                    .figure(&f.p, *n)
                    .empties(8)
                    .end_row()?;
            }
        }
    }
    w.into_string()
}
