//! Disclosure control: the one policy for every count an analyst or commissioner sees — on a
//! page, in a chart, a CSV or a printable report. Pure: no I/O.
//!
//! The rule (`docs/disclosure.md` says it in plain words):
//!
//! 1. **Primary suppression.** A count from 1 to the threshold (7) is not shown. Zero is shown.
//! 2. **Secondary (complementary) suppression.** Counts are published with their totals, so a
//!    hidden count could be worked out by subtraction. Each additive relation between published
//!    figures — a row or column with its total, a total repeated in another table, two
//!    breakdowns of the same people — is a *line*. Whenever a line has exactly one hidden
//!    figure, the smallest non-zero figure shown in that line (the total included, ties to the
//!    later one) is hidden too, and this is repeated until no line has exactly one. Then the
//!    whole system of lines is checked exactly (linear algebra over the hidden figures): if a
//!    hidden figure is still determined by the shown ones (for example through a chain of
//!    lines), the smallest figure near it that, with what the line rule then adds, leaves it
//!    undetermined is hidden as well, and the check runs again.
//! 3. **Derived values.** A rate, share, mean or interval made from a hidden count is hidden
//!    with it ([`Protected::derived`]).
//!
//! Zero is never hidden to protect another figure (the smallest figure in a line would then
//! often be a zero, and a reader who knows the rule would guess it). A figure the reader has
//! from elsewhere ([`Table::published`]) is never hidden; a hidden figure that such figures
//! give away on their own does not make more figures hidden (it would not help), and is listed
//! by [`Protected::exposed`].
//!
//! This is primary and secondary (complementary) cell suppression as in the ONS / Government
//! Statistical Service guidance on disclosure control for tables, and as NHS Digital applied it
//! to Hospital Episode Statistics until 2018 (small values hidden, then other values hidden so
//! that the small ones cannot be recalculated from totals). The marker `[c]` is the GSS symbol
//! for "confidential".

use std::collections::BTreeSet;

/// Counts from 1 to this are hidden in anything an analyst can see.
pub const THRESHOLD: u64 = 7;

/// The GSS symbol for a confidential (suppressed) value.
pub const CONFIDENTIAL: &str = "[c]";

/// How a hidden figure is written.
///
/// One marker, `[c]`, is the policy. The peer-support and education reports kept the word
/// their tests and users already knew, `suppressed`; it is rendered here so that no page spells
/// its own. Every hidden figure on a page is written the same way, whether it is small itself
/// or hidden to protect another: a reader who could tell them apart could sometimes work the
/// small one out (two hidden figures adding up to 9, one marked "1–7" and one "over 7", can
/// only be 1 and 8). That is also why a range such as `1–7*` is not a marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    /// `[c]` (outcomes dashboard, reach, statistics page, `alongside evaluate` reports).
    Confidential,
    /// `suppressed` (peer-support and education reports).
    Word,
}

/// The disclosure-control policy: threshold and marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Counts from 1 to this are hidden.
    pub threshold: u64,
    /// How a hidden figure is written.
    pub marker: Marker,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::STANDARD
    }
}

impl Policy {
    /// Threshold 7, marker `[c]`.
    pub const STANDARD: Policy = Policy {
        threshold: THRESHOLD,
        marker: Marker::Confidential,
    };

    /// The same policy written with another marker.
    pub const fn with_marker(self, marker: Marker) -> Policy {
        Policy {
            threshold: self.threshold,
            marker,
        }
    }

    /// The same policy with another threshold (`alongside evaluate --suppress N`).
    pub const fn with_threshold(self, threshold: u64) -> Policy {
        Policy {
            threshold,
            marker: self.marker,
        }
    }

    /// Primary suppression: true when `n` is from 1 to the threshold.
    pub fn is_small(&self, n: u64) -> bool {
        n >= 1 && n <= self.threshold
    }

    /// What a hidden figure is written as.
    pub fn marker(&self) -> String {
        match self.marker {
            Marker::Confidential => CONFIDENTIAL.to_string(),
            Marker::Word => "suppressed".to_string(),
        }
    }

    /// A protected figure as text: the number, or the marker when hidden.
    pub fn show(&self, v: Option<u64>) -> String {
        v.map(|n| n.to_string()).unwrap_or_else(|| self.marker())
    }

    /// A count that is in no line (no total, no breakdown of it is published): primary
    /// suppression alone protects it.
    pub fn lone(&self, n: u64) -> Option<u64> {
        (!self.is_small(n)).then_some(n)
    }
}

/// True when `count` must be hidden under `threshold` (`None` = no suppression): primary
/// suppression only. Use a [`Table`] for counts published with totals.
pub fn is_suppressed(count: u64, threshold: Option<u64>) -> bool {
    matches!(threshold, Some(t) if count >= 1 && count <= t)
}

/// The count if primary suppression lets it be shown, else `None`.
pub fn suppress_count(count: u64, threshold: Option<u64>) -> Option<u64> {
    (!is_suppressed(count, threshold)).then_some(count)
}

/// A value derived from `count` (a rate, share or interval bound) if it may be shown.
pub fn suppress_derived(count: u64, value: f64, threshold: Option<u64>) -> Option<f64> {
    (!is_suppressed(count, threshold)).then_some(value)
}

/// A figure in a [`Table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellId(usize);

/// Published counts and the additive relations (lines) between them.
///
/// Add every count a view shows with [`Table::count`] (the same figure shown twice is one
/// cell: reuse its id), every relation with [`Table::total`] or [`Table::equal_sums`], then
/// [`Table::protect`] once and render every figure from the result.
#[derive(Clone, Debug, Default)]
pub struct Table {
    values: Vec<u64>,
    published: Vec<bool>,
    /// Each line: cells with coefficients; the line says Σ coef·value = 0.
    lines: Vec<Vec<(usize, i8)>>,
}

/// The cells of a grid added by [`Table::grid`].
#[derive(Clone, Debug)]
pub struct Grid {
    /// `cells[r][c]`.
    pub cells: Vec<Vec<CellId>>,
    /// The total of each row.
    pub row_totals: Vec<CellId>,
    /// The total of each column.
    pub column_totals: Vec<CellId>,
    /// The total of everything.
    pub grand_total: CellId,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A count that may be hidden.
    pub fn count(&mut self, n: u64) -> CellId {
        self.values.push(n);
        self.published.push(false);
        CellId(self.values.len() - 1)
    }

    /// Several counts.
    pub fn counts(&mut self, ns: &[u64]) -> Vec<CellId> {
        ns.iter().map(|n| self.count(*n)).collect()
    }

    /// A figure the reader has anyway (it is published elsewhere without suppression): never
    /// hidden, but it takes part in the lines, so what it gives away is accounted for.
    pub fn published(&mut self, n: u64) -> CellId {
        let id = self.count(n);
        self.published[id.0] = true;
        id
    }

    /// `total` is the sum of `parts`.
    pub fn total(&mut self, total: CellId, parts: &[CellId]) {
        let mut line: Vec<(usize, i8)> = parts.iter().map(|p| (p.0, 1)).collect();
        line.push((total.0, -1));
        self.push_line(line);
    }

    /// The sum of `a` equals the sum of `b` (two breakdowns of the same people whose common
    /// total is not shown).
    pub fn equal_sums(&mut self, a: &[CellId], b: &[CellId]) {
        let mut line: Vec<(usize, i8)> = a.iter().map(|p| (p.0, 1)).collect();
        line.extend(b.iter().map(|p| (p.0, -1)));
        self.push_line(line);
    }

    fn push_line(&mut self, line: Vec<(usize, i8)>) {
        // Merge repeated cells (a cell on both sides cancels).
        let mut merged: Vec<(usize, i8)> = Vec::with_capacity(line.len());
        for (c, k) in line {
            match merged.iter_mut().find(|(m, _)| *m == c) {
                Some(e) => e.1 += k,
                None => merged.push((c, k)),
            }
        }
        merged.retain(|(_, k)| *k != 0);
        if !merged.is_empty() {
            self.lines.push(merged);
        }
    }

    /// A grid of counts with its row totals, column totals and grand total (the sums of
    /// `rows`), all related.
    pub fn grid(&mut self, rows: &[Vec<u64>]) -> Grid {
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let cells: Vec<Vec<CellId>> = rows.iter().map(|r| self.counts(r)).collect();
        let row_totals: Vec<CellId> = rows.iter().map(|r| self.count(r.iter().sum())).collect();
        let column_totals: Vec<CellId> = (0..width)
            .map(|c| self.count(rows.iter().filter_map(|r| r.get(c)).sum()))
            .collect();
        let grand_total = self.count(rows.iter().flatten().sum());
        for (r, t) in cells.iter().zip(&row_totals) {
            self.total(*t, r);
        }
        for (c, t) in column_totals.iter().enumerate() {
            let column: Vec<CellId> = cells.iter().filter_map(|r| r.get(c).copied()).collect();
            self.total(*t, &column);
        }
        self.total(grand_total, &row_totals);
        self.total(grand_total, &column_totals);
        Grid {
            cells,
            row_totals,
            column_totals,
            grand_total,
        }
    }

    /// The value of a cell as given.
    pub fn value(&self, id: CellId) -> u64 {
        self.values[id.0]
    }

    /// Applies the policy: primary suppression, then secondary suppression to a fixed point.
    pub fn protect(&self, policy: &Policy) -> Protected {
        let n = self.values.len();
        let primary: Vec<bool> = (0..n)
            .map(|i| !self.published[i] && policy.is_small(self.values[i]))
            .collect();
        // Cells that published figures (and zeros, which are never hidden) give away whatever
        // else is hidden: hiding more cannot protect them, so they do not make more hidden.
        let all: Vec<bool> = (0..n)
            .map(|i| !self.published[i] && self.values[i] > 0)
            .collect();
        let lost: BTreeSet<usize> = determined(&self.lines, &all).into_iter().collect();
        let mut hidden = primary.clone();
        let mut given_up = lost.clone();
        loop {
            self.line_rule(&mut hidden, &lost);
            let mut added = false;
            for i in determined(&self.lines, &hidden) {
                if given_up.contains(&i) {
                    continue;
                }
                match self.complement(i, &hidden, &lost) {
                    Some(h) => {
                        hidden = h;
                        added = true;
                        // The new hidden figures may settle the others: check again.
                        break;
                    }
                    None => {
                        given_up.insert(i);
                    }
                }
            }
            if !added {
                break;
            }
        }
        let exposed = determined(&self.lines, &hidden);
        Protected {
            values: self.values.clone(),
            hidden,
            primary,
            exposed: exposed.into_iter().map(CellId).collect(),
            policy: *policy,
        }
    }

    /// Whether a cell may be hidden to protect another: not published elsewhere, not zero.
    fn may_hide(&self, i: usize, hidden: &[bool]) -> bool {
        !hidden[i] && !self.published[i] && self.values[i] > 0
    }

    /// The cells that may be hidden among `cells`, smallest first (ties: the later cell).
    fn by_size(&self, cells: impl Iterator<Item = usize>, hidden: &[bool]) -> Vec<usize> {
        let mut c: Vec<usize> = cells.filter(|c| self.may_hide(*c, hidden)).collect();
        c.sort_by_key(|c| (self.values[*c], std::cmp::Reverse(*c)));
        c.dedup();
        c
    }

    /// Every line with exactly one hidden figure gets a second, until none has one (lines whose
    /// hidden figure is `lost` anyway are left as they are).
    fn line_rule(&self, hidden: &mut [bool], lost: &BTreeSet<usize>) {
        loop {
            let mut changed = false;
            for line in &self.lines {
                let mut h = line.iter().filter(|(c, _)| hidden[*c]);
                let (Some((only, _)), None) = (h.next(), h.next()) else {
                    continue;
                };
                if lost.contains(only) {
                    continue;
                }
                if let Some(c) = self.by_size(line.iter().map(|(c, _)| *c), hidden).first() {
                    hidden[*c] = true;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// More hidden figures so that the hidden cell `i` is no longer determined: the smallest
    /// figure (first among the lines through `i`, then among the lines of the hidden cells
    /// connected to it) which, with what the line rule then hides, leaves `i` undetermined;
    /// failing that, the smallest figure next to `i`, to try again from there. `None` when no
    /// figure may be hidden.
    fn complement(&self, i: usize, hidden: &[bool], lost: &BTreeSet<usize>) -> Option<Vec<bool>> {
        let through = |cell: usize| {
            self.lines
                .iter()
                .filter(move |l| l.iter().any(|(c, _)| *c == cell))
        };
        let near = self.by_size(through(i).flatten().map(|(c, _)| *c), hidden);
        let mut seen = BTreeSet::from([i]);
        let mut queue = vec![i];
        let mut shown = BTreeSet::new();
        while let Some(h) = queue.pop() {
            for (c, _) in through(h).flatten() {
                if hidden[*c] {
                    if seen.insert(*c) {
                        queue.push(*c);
                    }
                } else {
                    shown.insert(*c);
                }
            }
        }
        let far = self.by_size(shown.into_iter(), hidden);
        let with = |c: usize| {
            let mut trial = hidden.to_vec();
            trial[c] = true;
            self.line_rule(&mut trial, lost);
            trial
        };
        near.iter()
            .chain(far.iter())
            .map(|c| with(*c))
            .find(|trial| !determined(&self.lines, trial).contains(&i))
            .or_else(|| near.first().or(far.first()).map(|c| with(*c)))
    }
}

/// The hidden cells whose value the lines still determine from the shown cells: cell `i` is
/// determined exactly when the unit vector `e_i` lies in the row space of the lines restricted
/// to the hidden cells (known values move to the right-hand side and do not matter).
fn determined(lines: &[Vec<(usize, i8)>], hidden: &[bool]) -> Vec<usize> {
    let cols: Vec<usize> = (0..hidden.len()).filter(|i| hidden[*i]).collect();
    if cols.is_empty() {
        return Vec::new();
    }
    let mut index = vec![usize::MAX; hidden.len()];
    for (k, c) in cols.iter().enumerate() {
        index[*c] = k;
    }
    let mut rows: Vec<Vec<f64>> = lines
        .iter()
        .filter(|l| l.iter().any(|(c, _)| hidden[*c]))
        .map(|l| {
            let mut r = vec![0.0; cols.len()];
            for (c, k) in l {
                if hidden[*c] {
                    r[index[*c]] += f64::from(*k);
                }
            }
            r
        })
        .collect();
    // Reduced row echelon form with partial pivoting; entries start as small integers.
    const EPS: f64 = 1e-9;
    let mut pivots: Vec<(usize, usize)> = Vec::new(); // (row, column)
    let mut r = 0;
    for c in 0..cols.len() {
        if r == rows.len() {
            break;
        }
        let Some(p) = (r..rows.len())
            .filter(|i| rows[*i][c].abs() > EPS)
            .max_by(|a, b| rows[*a][c].abs().total_cmp(&rows[*b][c].abs()))
        else {
            continue;
        };
        rows.swap(r, p);
        let pv = rows[r][c];
        for x in rows[r].iter_mut() {
            *x /= pv;
        }
        let pivot_row = rows[r].clone();
        for (i, row) in rows.iter_mut().enumerate() {
            if i != r && row[c].abs() > EPS {
                let f = row[c];
                for (x, y) in row.iter_mut().zip(&pivot_row) {
                    *x -= f * y;
                }
            }
        }
        pivots.push((r, c));
        r += 1;
    }
    let pivot_cols: BTreeSet<usize> = pivots.iter().map(|p| p.1).collect();
    pivots
        .into_iter()
        .filter(|(row, col)| {
            rows[*row]
                .iter()
                .enumerate()
                .all(|(j, x)| j == *col || pivot_cols.contains(&j) || x.abs() <= EPS)
        })
        .map(|(_, col)| cols[col])
        .collect()
}

/// The result of [`Table::protect`]: which figures are shown.
#[derive(Clone, Debug)]
pub struct Protected {
    values: Vec<u64>,
    hidden: Vec<bool>,
    primary: Vec<bool>,
    exposed: Vec<CellId>,
    policy: Policy,
}

impl Protected {
    /// The figure if it may be shown.
    pub fn get(&self, id: CellId) -> Option<u64> {
        (!self.hidden[id.0]).then_some(self.values[id.0])
    }

    /// Whether the figure is hidden (primary or secondary).
    pub fn is_hidden(&self, id: CellId) -> bool {
        self.hidden[id.0]
    }

    /// Whether the figure is hidden because it is small itself.
    pub fn is_primary(&self, id: CellId) -> bool {
        self.primary[id.0]
    }

    /// The figure as text: the number or the policy's marker.
    pub fn text(&self, id: CellId) -> String {
        self.policy.show(self.get(id))
    }

    /// A value made from the counts `from` (a rate, share, mean or interval): `None` when any
    /// of them is hidden.
    pub fn derived<T>(&self, from: &[CellId], value: impl FnOnce() -> T) -> Option<T> {
        from.iter().all(|c| !self.hidden[c.0]).then(value)
    }

    /// Hidden figures that figures published elsewhere ([`Table::published`]) still determine.
    /// Empty unless a published figure leaves no way to protect them.
    pub fn exposed(&self) -> &[CellId] {
        &self.exposed
    }

    /// The policy applied.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many figures are hidden.
    pub fn hidden_count(&self) -> usize {
        self.hidden.iter().filter(|h| **h).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn threshold_boundaries() {
        let t = Some(THRESHOLD);
        assert_eq!(suppress_count(0, t), Some(0));
        assert_eq!(suppress_count(1, t), None);
        assert_eq!(suppress_count(7, t), None);
        assert_eq!(suppress_count(8, t), Some(8));
        assert_eq!(suppress_count(3, None), Some(3));
        assert_eq!(suppress_derived(5, 12.5, t), None);
        assert_eq!(suppress_derived(9, 12.5, t), Some(12.5));
        assert_eq!(suppress_count(10, Some(10)), None);
        assert_eq!(suppress_count(1, Some(0)), Some(1));
    }

    #[test]
    fn markers() {
        let p = Policy::STANDARD;
        assert_eq!(p.marker(), "[c]");
        assert_eq!(p.with_marker(Marker::Word).marker(), "suppressed");
        assert_eq!(p.show(Some(0)), "0");
        assert_eq!(p.show(None), "[c]");
        assert_eq!(p.lone(7), None);
        assert_eq!(p.lone(8), Some(8));
    }

    /// A line with its total; returns (parts, total, protected).
    fn line(parts: &[u64]) -> (Vec<CellId>, CellId, Protected) {
        let mut t = Table::new();
        let ids = t.counts(parts);
        let total = t.count(parts.iter().sum());
        t.total(total, &ids);
        let p = t.protect(&Policy::STANDARD);
        (ids, total, p)
    }

    #[test]
    fn one_small_cell_and_its_total_take_the_next_smallest_with_them() {
        // The outcomes dashboard's level table: 19, 19, 20, 3 and 61 in all.
        let (ids, total, p) = line(&[19, 19, 20, 3]);
        // Primary suppression alone: 61 − 19 − 19 − 20 = 3.
        let shown: Vec<Option<u64>> = ids
            .iter()
            .map(|c| (!Policy::STANDARD.is_small(p.values[c.0])).then_some(p.values[c.0]))
            .collect();
        let recovered = 61 - shown.iter().flatten().sum::<u64>();
        assert_eq!(recovered, 3, "recoverable with primary suppression only");
        // The policy hides the next smallest (ties: the later) and keeps the total.
        assert_eq!(
            ids.iter().map(|c| p.get(*c)).collect::<Vec<_>>(),
            vec![Some(19), None, Some(20), None]
        );
        assert_eq!(p.get(total), Some(61));
        assert!(p.is_primary(ids[3]) && !p.is_primary(ids[1]));
        assert!(p.exposed().is_empty());
    }

    #[test]
    fn zeros_are_not_hidden_to_protect_and_a_lone_small_cell_takes_its_total() {
        // 0, 0, 5 | 5: the total equals the cell, so it is small itself.
        let (ids, total, p) = line(&[0, 0, 5]);
        assert_eq!(p.get(ids[0]), Some(0));
        assert_eq!(p.get(ids[2]), None);
        assert_eq!(p.get(total), None);
        // 0, 9, 3 | 12: the 9 goes (never a zero).
        let (ids, total, p) = line(&[0, 9, 3]);
        assert_eq!(p.get(ids[0]), Some(0));
        assert_eq!(p.get(ids[1]), None);
        assert_eq!(p.get(total), Some(12));
        // Nothing small: nothing hidden.
        let (_, _, p) = line(&[8, 9, 0]);
        assert_eq!(p.hidden_count(), 0);
    }

    #[test]
    fn derived_values_go_with_their_counts() {
        let (ids, total, p) = line(&[30, 3, 40]);
        assert_eq!(
            p.derived(&[ids[0], total], || 30.0 / 73.0),
            None,
            "30 is the complement"
        );
        assert_eq!(p.derived(&[ids[2], total], || 1), Some(1));
        assert_eq!(p.text(ids[1]), "[c]");
    }

    #[test]
    fn a_published_total_is_never_hidden_and_what_it_exposes_is_reported() {
        let mut t = Table::new();
        let a = t.count(4);
        let b = t.count(0);
        let total = t.published(4);
        t.total(total, &[a, b]);
        let p = t.protect(&Policy::STANDARD);
        assert_eq!(p.get(total), Some(4));
        assert_eq!(p.get(a), None);
        assert_eq!(p.exposed(), &[a]);
    }

    #[test]
    fn two_breakdowns_of_the_same_people_protect_each_other() {
        // Participants by level (2, 30) and by programme (12, 20): Σ = Σ, total not shown.
        let mut t = Table::new();
        let levels = t.counts(&[2, 30]);
        let programmes = t.counts(&[12, 20]);
        t.equal_sums(&levels, &programmes);
        let p = t.protect(&Policy::STANDARD);
        assert_eq!(p.get(levels[0]), None);
        assert_eq!(p.get(programmes[0]), None, "the smallest other figure: 12");
        assert_eq!(p.get(levels[1]), Some(30));
    }

    /// Two hidden rectangles joined by one hidden cell: every line has two hidden cells, but
    /// the joining cell is still determined (a "bridge"). The exact check hides one more.
    #[test]
    fn a_cell_determined_through_a_chain_of_lines_is_protected_too() {
        // Hand-built 4 × 4 table with row and column totals; hidden pattern forced by values:
        // rows 0–1 × columns 0–1 small, rows 2–3 × columns 2–3 small, (0, 2) small.
        let big = 50;
        let rows = vec![
            vec![2, 3, 4, big],
            vec![3, 2, big, big],
            vec![big, big, 2, 3],
            vec![big, big, 3, 2],
        ];
        let mut t = Table::new();
        let g = t.grid(&rows);
        let p = t.protect(&Policy::STANDARD);
        assert!(determined(&t.lines, &p.hidden).is_empty());
        assert!(p.is_hidden(g.cells[0][2]));
        assert!(p.exposed().is_empty());
    }

    /// Random tables with row and column totals.
    fn tables() -> impl Strategy<Value = Vec<Vec<u64>>> {
        (1usize..=6, 1usize..=6).prop_flat_map(|(r, c)| {
            proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![3 => 0u64..=9, 2 => 8u64..=60, 1 => Just(0u64)],
                    c,
                ),
                r,
            )
        })
    }

    /// Independent of the linear algebra: in a table with totals, a hidden cell can take
    /// another value (all shown figures unchanged, every figure a whole number ≥ 0) exactly
    /// when it lies on a cycle of hidden cells in the graph of rows and columns (the total
    /// row and column included): add 1 and subtract 1 alternately round the cycle. Hidden
    /// cells are never 0, so subtracting 1 keeps them ≥ 0.
    fn on_hidden_cycle(hidden: &[Vec<bool>], r: usize, c: usize) -> bool {
        let (nr, nc) = (hidden.len(), hidden[0].len());
        // Nodes: rows 0..nr, columns nr..nr+nc; edges: hidden cells except (r, c).
        let mut seen = vec![false; nr + nc];
        let mut stack = vec![r];
        seen[r] = true;
        while let Some(node) = stack.pop() {
            let next: Vec<usize> = if node < nr {
                (0..nc)
                    .filter(|j| hidden[node][*j] && !(node == r && *j == c))
                    .map(|j| nr + j)
                    .collect()
            } else {
                let j = node - nr;
                (0..nr)
                    .filter(|i| hidden[*i][j] && !(*i == r && j == c))
                    .collect()
            };
            for m in next {
                if !seen[m] {
                    seen[m] = true;
                    stack.push(m);
                }
            }
        }
        seen[nr + c]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn no_hidden_cell_can_be_recovered_from_the_shown_cells_and_totals(rows in tables()) {
            check_table(&rows)?;
        }

        #[test]
        fn lines_keep_two_hidden_or_none(parts in proptest::collection::vec(0u64..40, 1..8)) {
            let (ids, total, p) = line(&parts);
            let hidden = ids.iter().chain([&total]).filter(|c| p.is_hidden(**c)).count();
            prop_assert!(hidden == 0 || hidden >= 2, "{parts:?}");
            for c in ids.iter().chain([&total]) {
                prop_assert!(p.is_hidden(*c) || !Policy::STANDARD.is_small(p.values[c.0]));
            }
        }
    }

    /// Found by the property test: two hidden rectangles joined by one hidden cell (row 3,
    /// column 1), which no single extra hidden figure can put on a cycle.
    #[test]
    fn a_bridge_that_needs_two_more_hidden_figures() {
        let rows = vec![
            vec![0, 1, 8, 1, 0],
            vec![0, 1, 0, 8, 0],
            vec![1, 0, 8, 0, 3],
            vec![8, 6, 8, 0, 5],
        ];
        check_table(&rows).unwrap();
    }

    fn check_table(rows: &[Vec<u64>]) -> Result<(), TestCaseError> {
        {
            let mut t = Table::new();
            let g = t.grid(rows);
            let p = t.protect(&Policy::STANDARD);
            // The full table with its totals as one (R + 1) × (C + 1) grid.
            let mut all: Vec<Vec<CellId>> = g
                .cells
                .iter()
                .zip(&g.row_totals)
                .map(|(r, t)| r.iter().copied().chain([*t]).collect())
                .collect();
            all.push(
                g.column_totals
                    .iter()
                    .copied()
                    .chain([g.grand_total])
                    .collect(),
            );
            let hidden: Vec<Vec<bool>> = all
                .iter()
                .map(|r| r.iter().map(|c| p.is_hidden(*c)).collect())
                .collect();
            for (i, row) in all.iter().enumerate() {
                for (j, c) in row.iter().enumerate() {
                    let v = t.value(*c);
                    // No figure shown is small.
                    prop_assert!(
                        p.is_hidden(*c) || !Policy::STANDARD.is_small(v),
                        "shown {v}"
                    );
                    if p.is_hidden(*c) {
                        prop_assert!(v > 0, "a zero is never hidden");
                        prop_assert!(
                            on_hidden_cycle(&hidden, i, j),
                            "cell ({i}, {j}) = {v} can be recovered in {rows:?}"
                        );
                    }
                }
            }
            // Every line with a hidden figure has at least two.
            for row in &hidden {
                let n = row.iter().filter(|h| **h).count();
                prop_assert!(n == 0 || n >= 2, "row {row:?}");
            }
            for j in 0..hidden[0].len() {
                let n = hidden.iter().filter(|r| r[j]).count();
                prop_assert!(n == 0 || n >= 2, "column {j}");
            }
            prop_assert!(p.exposed().is_empty());
        }
        Ok(())
    }
}
