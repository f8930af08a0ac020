//! What Alongside's HTTP tests (`crates/web/tests/http`) and browser tests
//! (`crates/alongside/tests/e2e`) share: scraping a page for its CSRF token and text, NHS
//! numbers in the test range, names made of letters, and the viewport sizes the browser tests
//! use. A dev-dependency only; the product never links it.

/// The phone viewport of the browser tests (width, height in CSS pixels).
pub const PHONE: (u32, u32) = (375, 812);
/// The desktop viewport of the browser tests.
pub const DESKTOP: (u32, u32) = (1280, 900);

/// Whether the browser tests should save screenshots of each step: only when
/// `ALONGSIDE_SCREENSHOTS` names a directory (taking them costs seconds per journey).
pub fn screenshots_wanted() -> bool {
    std::env::var_os("ALONGSIDE_SCREENSHOTS").is_some()
}

/// The value of the first `csrf_token` input in a page.
pub fn csrf_token(html: &str) -> Option<String> {
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

fn attr(tag: &str, name: &str) -> Option<String> {
    for quote in ['"', '\''] {
        let needle = format!(" {name}={quote}");
        if let Some(i) = tag.find(&needle) {
            let value = &tag[i + needle.len()..];
            let value = &value[..value.find(quote)?];
            return Some(html_unescape(value));
        }
    }
    None
}

/// Undoes the HTML escaping of an attribute value.
pub fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Collapses runs of whitespace to single spaces.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The visible text of a page, roughly (tags dropped, whitespace squashed, the first 3,000
/// characters), for failure messages.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    squash(&out).chars().take(3000).collect()
}

/// Letters only (names may not contain digits): `n` in base 26, at least `width` letters, the
/// first one capital.
pub fn letters(mut n: u64, width: usize) -> String {
    let mut out = Vec::new();
    while n > 0 || out.len() < width {
        out.push(b'a' + (n % 26) as u8);
        n /= 26;
    }
    out.reverse();
    out[0] = out[0].to_ascii_uppercase();
    String::from_utf8(out).expect("ascii")
}

/// Ten-digit NHS number in the 999 test range for `n`, or `None` when that number has no valid
/// check digit (modulus 11).
pub fn test_nhs_number(n: u64) -> Option<String> {
    let nine = 999_000_000 + n % 1_000_000;
    let digits: Vec<u32> = format!("{nine:09}")
        .chars()
        .map(|c| c.to_digit(10).expect("digit"))
        .collect();
    let sum: u32 = digits.iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return None,
        d => d,
    };
    Some(format!("{nine:09}{check}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrapes_the_token_and_unescapes_it() {
        let html = r#"<form><input type="hidden" name="other" value="x"><input type="hidden" name="csrf_token" value="a&amp;b"></form>"#;
        assert_eq!(csrf_token(html).as_deref(), Some("a&b"));
        assert_eq!(csrf_token("<p>no form</p>"), None);
    }

    #[test]
    fn test_nhs_numbers_carry_a_valid_check_digit() {
        // 943 476 5919 is the NHS's own example of a valid number; the test range is 999.
        let n = test_nhs_number(1).expect("a number");
        assert!(n.starts_with("999") && n.len() == 10, "{n}");
        let d: Vec<u32> = n.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(a, w)| a * w).sum();
        assert_eq!((11 - sum % 11) % 11, d[9]);
        assert!((0..20).filter_map(test_nhs_number).count() >= 15);
    }

    #[test]
    fn text_of_drops_tags() {
        assert_eq!(text_of("<p>Hello <b>there</b></p>"), "Hello there");
        assert_eq!(letters(0, 3), "Aaa");
    }
}
