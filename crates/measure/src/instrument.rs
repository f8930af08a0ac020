//! A loaded, checked instrument and the scoring of one response.
//!
//! [`Instrument`] can only be built through validation, so every method here may rely on the
//! definition being consistent. Scoring is exact and deterministic: the same response always
//! gives the same bits. This module must never hold instrument content (no PAM text or
//! calibrations): it only interprets definition files.

use std::collections::HashMap;
use std::io::Read;

use serde::Serialize;

use crate::change::Change;
use crate::def::{InstrumentDef, ItemDef, LangText, LevelDef};
use crate::error::{InstrumentError, ResponseError};
use crate::levels::{round_to_tenths, Cuts};
use crate::quality::{Flag, Flags, NotScoredReason};
use crate::rasch::{self, PcmItem};

const NO_OPTION: u16 = u16::MAX;

/// One answer option after compilation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompiledOption {
    pub(crate) code: String,
    /// `None` for not-applicable options.
    pub(crate) score: Option<i32>,
}

/// One item after compilation, with a fast code → option lookup.
#[derive(Debug, Clone)]
pub(crate) struct CompiledItem {
    pub(crate) link_id: String,
    pub(crate) options: Vec<CompiledOption>,
    pub(crate) min_score: i32,
    pub(crate) max_score: i32,
    /// Option index for each one-byte code.
    single: Box<[u16; 256]>,
    /// Longer codes.
    multi: Vec<(Box<[u8]>, u16)>,
}

impl CompiledItem {
    pub(crate) fn new(
        link_id: String,
        options: Vec<CompiledOption>,
        min_score: i32,
        max_score: i32,
    ) -> CompiledItem {
        let mut single = Box::new([NO_OPTION; 256]);
        let mut multi = Vec::new();
        for (j, o) in options.iter().enumerate() {
            let b = o.code.as_bytes();
            if b.len() == 1 {
                if single[b[0] as usize] == NO_OPTION {
                    single[b[0] as usize] = j as u16;
                }
            } else if !multi.iter().any(|(c, _): &(Box<[u8]>, u16)| &**c == b) {
                multi.push((b.to_vec().into_boxed_slice(), j as u16));
            }
        }
        CompiledItem {
            link_id,
            options,
            min_score,
            max_score,
            single,
            multi,
        }
    }

    /// Option index for an answer code (exact, case-sensitive match).
    #[inline]
    pub(crate) fn option_for(&self, code: &[u8]) -> Option<u16> {
        if code.len() == 1 {
            let j = self.single[code[0] as usize];
            return (j != NO_OPTION).then_some(j);
        }
        self.multi
            .iter()
            .find(|(c, _)| &**c == code)
            .map(|&(_, j)| j)
    }

    /// Category score of an option index (`None` = not applicable).
    #[inline]
    pub(crate) fn score_of(&self, option: u16) -> Option<i32> {
        self.options[option as usize].score
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RaschModel {
    pub(crate) items: Vec<PcmItem>,
    /// Complete-set measures per raw score, used as starting values.
    pub(crate) start: Vec<f64>,
    pub(crate) adjustment: f64,
    pub(crate) intercept: f64,
    pub(crate) slope: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct LookupModel {
    pub(crate) answered_items: usize,
    pub(crate) raw_min: i64,
    /// (score, standard error) for raw scores raw_min, raw_min + 1, …
    pub(crate) rows: Vec<(f64, Option<f64>)>,
}

#[derive(Debug, Clone)]
pub(crate) enum Model {
    Rasch(RaschModel),
    Lookup(LookupModel),
    Mean,
}

/// A checked instrument, ready to score responses. Build it with
/// [`Instrument::from_json_str`], [`Instrument::from_json_reader`] or [`Instrument::from_def`].
#[derive(Debug, Clone)]
pub struct Instrument {
    def: InstrumentDef,
    pub(crate) items: Vec<CompiledItem>,
    link_index: HashMap<String, usize>,
    pub(crate) model: Model,
    cuts: Cuts,
    change_tenths: i64,
}

/// A response to an instrument: for each item, the chosen option (or none). Not-applicable
/// answers are kept as given and count as missing when scored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Responses {
    options: Vec<Option<u16>>,
}

impl Responses {
    /// The chosen option index of item `i` (in definition order), if answered.
    pub fn option_index(&self, i: usize) -> Option<usize> {
        self.options.get(i).copied().flatten().map(usize::from)
    }

    /// Number of items in the instrument.
    pub fn len(&self) -> usize {
        self.options.len()
    }

    /// Whether the instrument has no items (never true for a loaded instrument).
    pub fn is_empty(&self) -> bool {
        self.options.is_empty()
    }
}

/// The result of scoring one response.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Scored (possibly with data-quality flags).
    Scored(Scored),
    /// Not scored, with the reason.
    NotScored(NotScored),
}

impl Outcome {
    /// The scored result, if any.
    pub fn scored(&self) -> Option<&Scored> {
        match self {
            Outcome::Scored(s) => Some(s),
            Outcome::NotScored(_) => None,
        }
    }

    /// Items answered (not-applicable answers excluded).
    pub fn items_answered(&self) -> usize {
        match self {
            Outcome::Scored(s) => s.items_answered,
            Outcome::NotScored(n) => n.items_answered,
        }
    }

    /// Sum of the category scores of the answered items.
    pub fn raw_score(&self) -> i64 {
        match self {
            Outcome::Scored(s) => s.raw_score,
            Outcome::NotScored(n) => n.raw_score,
        }
    }
}

/// A scored response.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scored {
    /// Items answered (not-applicable answers excluded).
    pub items_answered: usize,
    /// Sum of the category scores of the answered items (before any extreme adjustment).
    pub raw_score: i64,
    /// Person measure in logits (`rasch` only).
    pub measure: Option<f64>,
    /// Standard error of the measure in logits (`rasch` only).
    pub standard_error: Option<f64>,
    /// Reported score, unrounded.
    pub score: f64,
    /// Standard error on the reported scale, where the model gives one.
    pub score_standard_error: Option<f64>,
    /// Reporting level number (1 = lowest), if the instrument has levels.
    pub level: Option<u8>,
    /// Data-quality flags.
    pub flags: Flags,
}

impl Scored {
    /// The reported score rounded to one decimal place, as used for levels and change (see
    /// [`crate::levels`]).
    pub fn rounded_score(&self) -> f64 {
        crate::levels::round_score(self.score)
    }
}

/// A response that was not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NotScored {
    /// Items answered (not-applicable answers excluded).
    pub items_answered: usize,
    /// Sum of the category scores of the answered items.
    pub raw_score: i64,
    /// Why.
    pub reason: NotScoredReason,
}

impl Instrument {
    /// Parse and check a JSON definition.
    pub fn from_json_str(json: &str) -> Result<Instrument, InstrumentError> {
        let mut de = serde_json::Deserializer::from_str(json);
        let def: InstrumentDef = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
        de.end()
            .map_err(|e| InstrumentError::single("", e.to_string()))?;
        Instrument::from_def(def)
    }

    /// Parse and check a JSON definition from a reader (e.g. a file).
    pub fn from_json_reader<R: Read>(mut reader: R) -> Result<Instrument, InstrumentError> {
        let mut s = String::new();
        reader
            .read_to_string(&mut s)
            .map_err(|e| InstrumentError::single("", format!("could not read: {e}")))?;
        Instrument::from_json_str(&s)
    }

    /// Check an already-parsed definition.
    pub fn from_def(def: InstrumentDef) -> Result<Instrument, InstrumentError> {
        crate::validate::compile(def)
    }

    pub(crate) fn assemble(
        def: InstrumentDef,
        items: Vec<CompiledItem>,
        link_index: HashMap<String, usize>,
        model: Model,
        cuts: Cuts,
        change_tenths: i64,
    ) -> Instrument {
        Instrument {
            def,
            items,
            link_index,
            model,
            cuts,
            change_tenths,
        }
    }

    /// The definition this instrument was built from.
    pub fn definition(&self) -> &InstrumentDef {
        &self.def
    }

    /// The definition as pretty JSON (round-trips through [`Instrument::from_json_str`]).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.def).expect("definitions always serialise")
    }

    /// Stable id.
    pub fn id(&self) -> &str {
        &self.def.id
    }

    /// Definition version.
    pub fn version(&self) -> &str {
        &self.def.version
    }

    /// Title in `lang` (falling back to the default language).
    pub fn title(&self, lang: &str) -> &str {
        self.localise(&self.def.title, lang)
    }

    /// Source and licence note.
    pub fn source(&self) -> &str {
        &self.def.source
    }

    /// The scoring model name: `rasch`, `lookup` or `mean`.
    pub fn model_name(&self) -> &'static str {
        match self.model {
            Model::Rasch(_) => "rasch",
            Model::Lookup(_) => "lookup",
            Model::Mean => "mean",
        }
    }

    /// All declared languages, default first.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.def.languages.default.as_str())
            .chain(self.def.languages.others.iter().map(String::as_str))
    }

    /// Pick the text for `lang` from a language map of this instrument, falling back to the
    /// default language.
    pub fn localise<'a>(&self, text: &'a LangText, lang: &str) -> &'a str {
        text.get(lang)
            .or_else(|| text.get(&self.def.languages.default))
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The items in definition order.
    pub fn items(&self) -> &[ItemDef] {
        &self.def.items
    }

    /// Index of the item with this link id.
    pub fn item_index(&self, link_id: &str) -> Option<usize> {
        self.link_index.get(link_id).copied()
    }

    /// The reporting levels, lowest first (may be empty).
    pub fn levels(&self) -> &[LevelDef] {
        &self.def.reporting.levels
    }

    /// The definition of level `number` (1-based).
    pub fn level(&self, number: u8) -> Option<&LevelDef> {
        usize::from(number)
            .checked_sub(1)
            .and_then(|i| self.def.reporting.levels.get(i))
    }

    /// The level for a reported score (rounded to one decimal place first), or `None` if the
    /// instrument has no levels.
    pub fn level_for_score(&self, score: f64) -> Option<u8> {
        self.cuts.level_for_tenths(round_to_tenths(score))
    }

    /// The meaningful-change threshold on the reported scale.
    pub fn meaningful_change(&self) -> f64 {
        self.change_tenths as f64 / 10.0
    }

    pub(crate) fn change_tenths(&self) -> i64 {
        self.change_tenths
    }

    /// Reporting scale (min, max).
    pub fn reporting_range(&self) -> (f64, f64) {
        (self.def.reporting.min, self.def.reporting.max)
    }

    /// Build a response from (link id, answer code) pairs. Items not mentioned are unanswered;
    /// an empty code also means unanswered.
    pub fn responses<'a, I>(&self, answers: I) -> Result<Responses, ResponseError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut options = vec![None; self.items.len()];
        let mut seen = vec![false; self.items.len()];
        for (link_id, code) in answers {
            let i = self
                .item_index(link_id)
                .ok_or_else(|| ResponseError::UnknownItem {
                    link_id: link_id.to_string(),
                })?;
            if std::mem::replace(&mut seen[i], true) {
                return Err(ResponseError::DuplicateAnswer {
                    link_id: link_id.to_string(),
                });
            }
            if code.is_empty() {
                continue;
            }
            let j = self.items[i].option_for(code.as_bytes()).ok_or_else(|| {
                ResponseError::UnknownCode {
                    link_id: link_id.to_string(),
                    code: code.to_string(),
                }
            })?;
            options[i] = Some(j);
        }
        Ok(Responses { options })
    }

    /// Build a response from one code (or `None`) per item, in definition order.
    pub fn responses_in_order<S: AsRef<str>>(
        &self,
        codes: &[Option<S>],
    ) -> Result<Responses, ResponseError> {
        if codes.len() != self.items.len() {
            return Err(ResponseError::WrongLength {
                expected: self.items.len(),
                found: codes.len(),
            });
        }
        self.responses(
            self.items
                .iter()
                .zip(codes)
                .filter_map(|(it, c)| c.as_ref().map(|c| (it.link_id.as_str(), c.as_ref()))),
        )
    }

    /// The answers of a response as (link id, code) pairs in item order, e.g. for storage;
    /// unanswered items are left out.
    pub fn answer_codes<'a>(&'a self, responses: &Responses) -> Vec<(&'a str, &'a str)> {
        self.items
            .iter()
            .zip(&responses.options)
            .filter_map(|(item, o)| {
                o.map(|o| {
                    (
                        item.link_id.as_str(),
                        item.options[usize::from(o)].code.as_str(),
                    )
                })
            })
            .collect()
    }

    /// Score a response.
    pub fn score(&self, responses: &Responses) -> Outcome {
        let mut answered = 0usize;
        let mut raw = 0i64;
        for (item, opt) in self.items.iter().zip(&responses.options) {
            if let Some(s) = opt.and_then(|o| item.score_of(o)) {
                answered += 1;
                raw += i64::from(s);
            }
        }
        let opts = &responses.options;
        let items = &self.items;
        self.score_pattern(
            |i| {
                opts.get(i)
                    .copied()
                    .flatten()
                    .is_some_and(|o| items[i].score_of(o).is_some())
            },
            answered,
            raw,
        )
    }

    /// Convenience: [`Instrument::responses`] then [`Instrument::score`].
    pub fn score_answers<'a, I>(&self, answers: I) -> Result<Outcome, ResponseError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        Ok(self.score(&self.responses(answers)?))
    }

    /// Compare two scored results of this instrument (earlier first).
    pub fn compare(&self, earlier: &Scored, later: &Scored) -> Change {
        crate::change::compare(self, earlier, later)
    }

    /// Score from the set of answered (scored, not n/a) items and the raw score. Everything in
    /// an outcome depends on the response only through these two.
    pub(crate) fn score_pattern<F: Fn(usize) -> bool + Copy>(
        &self,
        answered: F,
        n_answered: usize,
        raw: i64,
    ) -> Outcome {
        let required = self.def.quality.min_answered;
        if n_answered < required {
            return Outcome::NotScored(NotScored {
                items_answered: n_answered,
                raw_score: raw,
                reason: NotScoredReason::TooFewAnswered {
                    answered: n_answered,
                    required,
                },
            });
        }
        // Indices of the answered items (on the stack for up to 64 items).
        let mut stack = [0u32; 64];
        let mut heap = Vec::new();
        let mut n = 0usize;
        let mut sum_min = 0i64;
        let mut sum_max = 0i64;
        for (i, item) in self.items.iter().enumerate() {
            if answered(i) {
                sum_min += i64::from(item.min_score);
                sum_max += i64::from(item.max_score);
                if n < stack.len() {
                    stack[n] = i as u32;
                } else {
                    if heap.is_empty() {
                        heap.extend_from_slice(&stack);
                    }
                    heap.push(i as u32);
                }
                n += 1;
            }
        }
        let answered_list: &[u32] = if n <= stack.len() { &stack[..n] } else { &heap };
        let mut flags = Flags::empty();
        if self.def.quality.flag_identical_extreme {
            if raw == sum_min {
                flags.insert(Flag::AllLowestCategory);
            } else if raw == sum_max {
                flags.insert(Flag::AllHighestCategory);
            }
        }
        let (measure, se, score, score_se) = match &self.model {
            Model::Rasch(m) => {
                // Category scores are 0..m_i, so sum_min = 0 and sum_max = M.
                let target = if raw <= sum_min {
                    m.adjustment
                } else if raw >= sum_max {
                    sum_max as f64 - m.adjustment
                } else {
                    raw as f64
                };
                let max_raw = sum_max as f64;
                let start = rasch::warm_start(&m.start, target, max_raw);
                let est = rasch::estimate_from(&m.items, answered_list, target, max_raw, start);
                let unclamped = m.intercept + m.slope * est.measure;
                let (lo, hi) = self.reporting_range();
                let score = unclamped.clamp(lo, hi);
                if score != unclamped {
                    flags.insert(Flag::ScoreClamped);
                }
                (
                    Some(est.measure),
                    Some(est.standard_error),
                    score,
                    Some(m.slope.abs() * est.standard_error),
                )
            }
            Model::Lookup(m) => {
                if n_answered != m.answered_items {
                    return Outcome::NotScored(NotScored {
                        items_answered: n_answered,
                        raw_score: raw,
                        reason: NotScoredReason::WrongNumberAnswered {
                            answered: n_answered,
                            required: m.answered_items,
                        },
                    });
                }
                let (score, se) = m.rows[(raw - m.raw_min) as usize];
                (None, None, score, se)
            }
            Model::Mean => (None, None, raw as f64 / n_answered as f64, None),
        };
        Outcome::Scored(Scored {
            items_answered: n_answered,
            raw_score: raw,
            measure,
            standard_error: se,
            score,
            score_standard_error: score_se,
            level: self.cuts.level_for_tenths(round_to_tenths(score)),
            flags,
        })
    }
}

fn path_error(e: serde_path_to_error::Error<serde_json::Error>) -> InstrumentError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    let path = if path == "." { String::new() } else { path };
    InstrumentError::single(path, inner.to_string())
}
