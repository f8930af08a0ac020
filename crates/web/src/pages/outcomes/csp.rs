//! The Content-Security-Policy of the printable report: the document's own inline styles by
//! hash and nothing else.

use crate::error::{AppError, AppResult};
use base64::Engine;
use sha2::{Digest, Sha256};

pub(super) fn csp_hash(s: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
    )
}

/// A CSP for a self-contained document: its `<style>` elements and `style` attributes by hash
/// (`'unsafe-hashes'` is needed for attributes), no scripts at all. Refuses a document with a
/// script, so a change in the report cannot silently weaken the policy.
pub fn report_csp(html: &str) -> AppResult<String> {
    if html.to_ascii_lowercase().contains("<script") {
        return Err(AppError::Internal("the report contains a script".into()));
    }
    let mut hashes = std::collections::BTreeSet::new();
    let mut rest = html;
    while let Some(i) = rest.find("<style>") {
        let after = &rest[i + 7..];
        let end = after
            .find("</style>")
            .ok_or_else(|| AppError::Internal("unclosed style".into()))?;
        hashes.insert(csp_hash(&after[..end]));
        rest = &after[end..];
    }
    let mut attrs = false;
    let mut rest = html;
    while let Some(i) = rest.find(" style=\"") {
        let after = &rest[i + 8..];
        let end = after
            .find('"')
            .ok_or_else(|| AppError::Internal("unclosed attribute".into()))?;
        hashes.insert(csp_hash(&after[..end]));
        attrs = true;
        rest = &after[end..];
    }
    let hashes: Vec<String> = hashes.into_iter().collect();
    Ok(format!(
        "default-src 'none'; script-src 'none'; style-src {}{}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        if attrs { "'unsafe-hashes' " } else { "" },
        hashes.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_names_each_style_by_hash_and_refuses_scripts() {
        let doc = "<html><style>body{color:red}</style><svg style=\"max-width:640px\"></svg><p style=\"max-width:640px\"></p></html>";
        let csp = report_csp(doc).unwrap();
        assert!(csp.contains(&csp_hash("body{color:red}")), "{csp}");
        assert!(csp.contains(&csp_hash("max-width:640px")), "{csp}");
        assert!(csp.contains("'unsafe-hashes'"));
        assert!(csp.contains("script-src 'none'"));
        assert_eq!(
            csp.matches("'sha256-").count(),
            2,
            "duplicates are listed once"
        );
        assert!(report_csp("<style>x</style><SCRIPT>1</SCRIPT>").is_err());
        // The known value for the empty string, so the encoding is the one browsers compute.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
