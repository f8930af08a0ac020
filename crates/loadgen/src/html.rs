//! Reading the server's answers: pages, redirects, CSRF tokens, links and form choices, by plain
//! string search (the pages are the server's own, server-rendered HTML).

use anyhow::{bail, Result};
use reqwest::{StatusCode, Url};

/// The distinct person ids linked from a page (`href="/people/{uuid}"`), in order.
pub(crate) fn person_ids(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let needle = "href=\"/people/";
    let mut rest = html;
    while let Some(i) = rest.find(needle) {
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        let id = &rest[..end];
        if uuid::Uuid::parse_str(id).is_ok() && !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
        rest = &rest[end..];
    }
    out
}

/// The value of the `instrument` radio whose label contains `word` (case-insensitive).
pub(crate) fn instrument_choice(html: &str, word: &str) -> Option<String> {
    let word = word.to_lowercase();
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag_rest = &rest[start..];
        let end = tag_rest.find('>')?;
        let tag = &tag_rest[..end];
        rest = &tag_rest[end..];
        if attr(tag, "name").as_deref() != Some("instrument") {
            continue;
        }
        let (Some(id), Some(value)) = (attr(tag, "id"), attr(tag, "value")) else {
            continue;
        };
        // Its label: <label … for="{id}">text</label>, anywhere in the page.
        let mut labels = html;
        while let Some(l) = labels.find("<label") {
            let label_rest = &labels[l..];
            let open_end = label_rest.find('>')?;
            let open = &label_rest[..open_end];
            let close = label_rest.find("</label>").unwrap_or(label_rest.len());
            labels = &label_rest[open_end..];
            if attr(open, "for").as_deref() == Some(id.as_str())
                && unescape(&label_rest[open_end + 1..close.max(open_end + 1)])
                    .to_lowercase()
                    .contains(&word)
            {
                return Some(value);
            }
        }
    }
    None
}

/// `/questionnaires/{id}` (optionally with a query), nothing further.
pub(crate) fn is_questionnaire_path(location: &str) -> bool {
    let path = location.split(['?', '#']).next().unwrap_or("");
    match path.strip_prefix("/questionnaires/") {
        Some(id) => !id.is_empty() && !id.contains('/'),
        None => false,
    }
}

pub(crate) async fn get_page(client: &reqwest::Client, url: &Url) -> Result<String> {
    let resp = client.get(url.clone()).send().await?;
    let status = resp.status();
    let body = resp.text().await?;
    if status != StatusCode::OK {
        bail!("GET {} answered {status}: {}", url.path(), snippet(&body));
    }
    Ok(body)
}

pub(crate) fn location(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `/people/{id}` (optionally with a query), where id is not a fixed page such as `new`.
pub(crate) fn is_person_path(location: &str) -> bool {
    let path = location.split(['?', '#']).next().unwrap_or("");
    match path.strip_prefix("/people/") {
        Some(id) => !id.is_empty() && id != "new" && !id.contains('/'),
        None => false,
    }
}

pub(crate) fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(200).collect()
}

/// The value of the first hidden `csrf_token` input in a page.
pub(crate) fn csrf_token(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(start) = rest.find("<input") {
        let tag_rest = &rest[start..];
        let end = tag_rest.find('>')?;
        let tag = &tag_rest[..end];
        if attr(tag, "name").as_deref() == Some("csrf_token") {
            return attr(tag, "value");
        }
        rest = &tag_rest[end..];
    }
    None
}

/// An attribute's (unescaped) value inside one tag's text.
pub(crate) fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        if let Some(i) = tag.find(&needle) {
            let value = &tag[i + needle.len()..];
            let value = &value[..value.find(quote)?];
            return Some(unescape(value));
        }
    }
    None
}

pub(crate) fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(crate) fn csrf_token_is_read_from_the_hidden_input() {
        let html = r#"<form><input type="text" name="q" value="x"><input type="hidden" name="csrf_token" value="a&amp;b"></form>"#;
        assert_eq!(csrf_token(html).as_deref(), Some("a&b"));
        assert_eq!(csrf_token("<input name=\"other\" value=\"1\">"), None);
    }

    #[test]
    pub(crate) fn person_paths() {
        assert!(is_person_path("/people/0190a3b4-1111"));
        assert!(is_person_path("/people/12?registered=1"));
        assert!(!is_person_path("/people/new"));
        assert!(!is_person_path("/people/"));
        assert!(!is_person_path("/sign-in"));
    }

    #[test]
    pub(crate) fn person_ids_are_read_from_record_links() {
        let html = r#"<a href="/people/new">Register</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000001">Ann</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000002?x=1">Bob</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000001">Ann again</a>
            <a href="/people/0190a3b4-1111-7000-8000-000000000003/edit">Edit</a>
            <a href="/people?q=a&amp;page=2">Next</a>"#;
        assert_eq!(
            person_ids(html),
            vec!["0190a3b4-1111-7000-8000-000000000001".to_string()]
        );
        assert!(person_ids("<p>There is nobody to show yet.</p>").is_empty());
    }

    #[test]
    pub(crate) fn the_demonstration_instrument_is_chosen_by_its_label() {
        let html = r#"<div class="radios-item"><input class="radios-input" id="instrument-aaa" name="instrument" type="radio" value="aaa"><label class="label radios-label" for="instrument-aaa">Self-Efficacy for Managing Chronic Disease 6-Item Scale</label></div>
<div class="radios-item"><input class="radios-input" id="instrument-bbb" name="instrument" type="radio" value="bbb"><label class="label radios-label" for="instrument-bbb">Alongside demonstration activation instrument &mdash; NOT VALIDATED</label></div>
<input class="radios-input" id="mode-paper" name="mode" type="radio" value="paper"><label for="mode-paper">On paper (demonstration)</label>"#;
        assert_eq!(
            instrument_choice(html, "demonstration").as_deref(),
            Some("bbb")
        );
        assert_eq!(
            instrument_choice(html, "Self-Efficacy").as_deref(),
            Some("aaa")
        );
        assert_eq!(instrument_choice(html, "PAM"), None);
        // Only radios named `instrument` count, even if another label matches.
        assert_eq!(instrument_choice(html, "On paper"), None);
    }

    #[test]
    pub(crate) fn questionnaire_paths() {
        assert!(is_questionnaire_path("/questionnaires/0190a3b4-1111"));
        assert!(!is_questionnaire_path(
            "/questionnaires/0190a3b4-1111/check"
        ));
        assert!(!is_questionnaire_path("/questionnaires/"));
        assert!(!is_questionnaire_path("/people/0190a3b4-1111"));
    }
}
