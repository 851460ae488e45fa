//! Letter case for people's text (filters, emails typed in a form, the server's
//! messages). In the browser it is JavaScript's `toLowerCase`/`toUpperCase`, so the
//! wasm carries no Unicode case tables of its own (about 20 KB); on the host, where
//! the pages' rules are tested, it is std's. Both apply Unicode's default case
//! mapping, with no locale.

/// `text` in lower case.
pub fn lower(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_lowercase()
    }
}

/// `text` in upper case.
pub fn upper(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_upper_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_uppercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_follows_unicode_beyond_ascii() {
        assert_eq!(lower("Émile.Zoë@Example.COM"), "émile.zoë@example.com");
        assert_eq!(upper("ß"), "SS");
        // A final sigma is written ς.
        assert_eq!(lower("ΟΔΟΣ"), "οδος");
    }
}
