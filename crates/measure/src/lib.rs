//! Questionnaire instruments as data, and their exact scoring.
//!
//! An instrument (e.g. an activation or self-efficacy questionnaire) is a JSON definition file
//! (format in `docs/instruments.md`, types in [`def`]). [`Instrument::from_json_str`] checks it
//! against every rule, naming the field path of each problem, and compiles it. Then:
//!
//! * [`Instrument::responses`] / [`Instrument::score`] score one response with the instrument's
//!   model: `rasch` (partial credit model, maximum likelihood; see [`rasch`]), `lookup` (raw score
//!   → reported score table) or `mean` (mean of answered item scores);
//! * data-quality rules give [`Outcome::NotScored`] with a [`NotScoredReason`], or [`Flags`] on a
//!   scored result;
//! * levels come from the definition's cut points (see [`levels`] for the exact rounding rule);
//! * [`Instrument::compare`] reports meaningful change between two results;
//! * [`score_csv`] scores a whole CSV file quickly.
//!
//! This crate is pure: no I/O except through the `Read`/`Write` values it is given, no async,
//! no database, no network, no global state. It must never contain the text or calibrations of
//! a proprietary instrument (in particular the Patient Activation Measure): licensees load their
//! own definition files.
//!
//! ```
//! use alongside_measure::{Instrument, Outcome};
//!
//! let json = alongside_measure::shipped::DEMO_ACTIVATION_JSON;
//! let instrument = Instrument::from_json_str(json).unwrap();
//! let outcome = instrument
//!     .score_answers([("demo-01", "3"), ("demo-02", "2"), ("demo-03", "na")])
//!     .unwrap();
//! // The demonstration instrument needs at least 7 answers, so this one is not scored.
//! assert!(matches!(outcome, Outcome::NotScored(_)));
//! ```

#![warn(missing_docs)]

pub mod batch;
pub mod change;
pub mod def;
pub mod error;
pub mod instrument;
pub mod levels;
pub mod quality;
pub mod rasch;
pub mod shipped;
mod validate;

pub use batch::{score_csv, BatchError, BatchSummary, RowError};
pub use change::{Change, Direction};
pub use def::InstrumentDef;
pub use error::{FieldError, InstrumentError, ResponseError};
pub use instrument::{Instrument, NotScored, Outcome, Responses, Scored};
pub use levels::round_score;
pub use quality::{Flag, Flags, NotScoredReason};
