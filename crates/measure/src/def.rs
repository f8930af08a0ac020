//! The instrument definition file format: plain serde types that mirror the JSON documented in
//! `docs/instruments.md`.
//!
//! These types are only the *shape* of a definition. They are checked and compiled into an
//! [`Instrument`](crate::Instrument) by [`Instrument::from_def`](crate::Instrument::from_def);
//! nothing else in the crate scores from an unchecked definition. This module must never contain
//! the content of any instrument (in particular never Patient Activation Measure text or
//! calibrations): instruments are data files, loaded at run time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Text in several languages: language tag (e.g. `en`, `pl`) → text.
///
/// Every declared language must be present, and no undeclared language may be.
pub type LangText = BTreeMap<String, String>;

/// The default reporting-scale change that counts as meaningful (points).
pub const DEFAULT_MEANINGFUL_CHANGE: f64 = 3.0;

/// The default number of score points an extreme raw score is moved toward the centre.
pub const DEFAULT_EXTREME_ADJUSTMENT: f64 = 0.3;

/// A whole instrument definition file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentDef {
    /// Stable machine identifier, e.g. `alongside-demo-activation`.
    pub id: String,
    /// Version of this definition (free text, e.g. `1.0.0`).
    pub version: String,
    /// Human title per language.
    pub title: LangText,
    /// Where the instrument came from and on what terms it may be used.
    pub source: String,
    /// The languages every text in the file is given in.
    pub languages: Languages,
    /// Optional instructions shown before the items, per language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<LangText>,
    /// The items (questions or statements), in presentation order.
    pub items: Vec<ItemDef>,
    /// How responses become a score.
    pub scoring: ScoringDef,
    /// Data-quality rules.
    pub quality: QualityDef,
    /// Reporting scale, change threshold and levels.
    pub reporting: ReportingDef,
}

/// Declared languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Languages {
    /// The language used when a requested language is not available.
    pub default: String,
    /// Further languages, each of which every text must also be given in.
    #[serde(default)]
    pub others: Vec<String>,
}

/// One item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemDef {
    /// Stable identifier (used as the CSV column name and in stored responses).
    pub link_id: String,
    /// Item text per language.
    pub text: LangText,
    /// Answer options in presentation order.
    pub options: Vec<OptionDef>,
    /// Codes (of options in `options`) that mean "not applicable": treated as missing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<String>,
}

/// One answer option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionDef {
    /// The stored answer code, unique within the item.
    pub code: String,
    /// Integer category score. Required for scored options; must be absent for
    /// not-applicable options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<i32>,
    /// Option label per language.
    pub label: LangText,
}

/// The scoring model and its parameters. `model` is one of `rasch`, `lookup`, `mean`; the other
/// fields belong to one model each and are rejected when given for another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringDef {
    /// `rasch`, `lookup` or `mean`.
    pub model: String,

    /// rasch: item calibrations, one entry per item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<RaschItemDef>>,
    /// rasch: step thresholds shared by every item that gives none of its own (rating scale
    /// model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_thresholds: Option<Vec<f64>>,
    /// rasch: accept thresholds that do not strictly increase (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_disordered_thresholds: Option<bool>,
    /// rasch: score points an extreme raw score is moved toward the centre (default 0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extreme_adjustment: Option<f64>,
    /// rasch: reported score = clamp(intercept + slope × measure, reporting.min, reporting.max).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intercept: Option<f64>,
    /// rasch: see `intercept`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope: Option<f64>,

    /// lookup: the number of answered items the table is for (responses with any other number
    /// are not scored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_items: Option<usize>,
    /// lookup: raw score → reported score, one row per possible raw score, ascending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<Vec<LookupRowDef>>,
}

/// Calibration of one item under the `rasch` model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaschItemDef {
    /// The item's `link_id`.
    pub link_id: String,
    /// Item difficulty δ in logits.
    pub difficulty: f64,
    /// Step thresholds τ_1..τ_m in logits, relative to the difficulty. May be omitted when
    /// `shared_thresholds` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Vec<f64>>,
}

/// One row of a `lookup` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRowDef {
    /// Raw score (sum of category scores).
    pub raw: i64,
    /// Reported score.
    pub score: f64,
    /// Optional standard error on the reported scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard_error: Option<f64>,
}

/// Data-quality rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityDef {
    /// Fewer answered items than this: not scored.
    pub min_answered: usize,
    /// Flag responses whose answers are all in the lowest (or all in the highest) category
    /// (default `true`).
    #[serde(default = "default_true")]
    pub flag_identical_extreme: bool,
}

fn default_true() -> bool {
    true
}

/// The reported scale and what is reported on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingDef {
    /// Lowest reportable score.
    pub min: f64,
    /// Highest reportable score.
    pub max: f64,
    /// Smallest change (points, one decimal place) that counts as meaningful. Default 3.0.
    #[serde(default = "default_meaningful_change")]
    pub meaningful_change: f64,
    /// Levels, lowest first. May be empty (no levels are reported).
    #[serde(default)]
    pub levels: Vec<LevelDef>,
}

fn default_meaningful_change() -> f64 {
    DEFAULT_MEANINGFUL_CHANGE
}

/// One reporting level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelDef {
    /// Level number: 1 for the first entry, 2 for the next, …
    pub level: u8,
    /// Inclusive upper bound on the reported scale (one decimal place); `null` for the last
    /// level only.
    pub upper: Option<f64>,
    /// Short name per language, e.g. "Level 1".
    pub name: LangText,
    /// Description for staff per language.
    pub description: LangText,
    /// Plain-language, kind text for the person per language.
    pub person_text: LangText,
}
