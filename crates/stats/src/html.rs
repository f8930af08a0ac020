//! placeholder
use crate::report::Report;
impl Report {
    /// HTML.
    pub fn to_html(&self) -> String { String::new() }
}
