//! Masking: replacing a mention's own words by a mask token, so the model must read the
//! context and the KB signals rather than only the surface string.

/// The token that stands in for a masked mention.
pub const MASK_TOKEN: &str = "[MASK]";

/// `text` with code points `[start, end)` replaced by `token`, and the token's span.
pub fn mask_span(text: &str, start: usize, end: usize, token: &str) -> (String, usize, usize) {
    let mut out = String::with_capacity(text.len());
    out.extend(text.chars().take(start));
    out.push_str(token);
    out.extend(text.chars().skip(end));
    (out, start, start + token.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_the_rest_and_spans_the_token() {
        let text = "Zürich lies on the Limmat.";
        let (masked, s, e) = mask_span(text, 19, 25, MASK_TOKEN);
        assert_eq!(masked, "Zürich lies on the [MASK].");
        let span: String = masked.chars().skip(s).take(e - s).collect();
        assert_eq!(span, MASK_TOKEN);
        let (masked, s, e) = mask_span(text, 0, 6, MASK_TOKEN);
        assert_eq!(masked, "[MASK] lies on the Limmat.");
        assert_eq!((s, e), (0, 6));
    }
}
