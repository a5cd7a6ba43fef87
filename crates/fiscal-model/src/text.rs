//! Text a register prints: what CP1251 (the code page of every printed field, protocol notes
//! §3) can carry and what it cannot. A character outside it would be printed as `?`, and an
//! invisible one (zero-width, bidi control) would change the printed line without showing, so
//! both are refused up front, naming the character, instead of printing a receipt that differs
//! from what the till sent.

use encoding_rs::{IBM866, WINDOWS_1251};

/// Characters per line assumed when a register has not reported its width: the narrowest tape
/// of the Shtrih-M models (57 mm, font 1), so a line that fits it prints on one line on any.
pub const DEFAULT_PRINT_WIDTH: u16 = 32;

/// The first character of `text` a register cannot print faithfully, if any: a control
/// character, an invisible formatting character (zero-width space and joiners, bidi controls,
/// word joiner, byte-order mark, soft hyphen) or anything CP1251 has no byte for (emoji, CJK,
/// most accented Latin). Typographic characters CP1251 has (« » – — … № €) pass.
pub fn unprintable(text: &str) -> Option<char> {
    text.chars().find(|&c| !printable(c))
}

fn printable(c: char) -> bool {
    if c.is_ascii() {
        return !c.is_ascii_control();
    }
    if c.is_control() || invisible(c) {
        return false;
    }
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = WINDOWS_1251.encode(c.encode_utf8(&mut buf));
    !unmappable && bytes.len() == 1
}

/// The first character of `text` that cannot go into an FN tag as the register sends strings
/// there (CP866, addendum §3.6) and print (CP1251): [`unprintable`] ones, and those CP866 has
/// no byte for (« » – — … € are in CP1251 only; № is in both).
pub fn unsendable(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        if !printable(c) {
            return true;
        }
        if c.is_ascii() {
            return false;
        }
        let mut buf = [0u8; 4];
        let (bytes, _, unmappable) = IBM866.encode(c.encode_utf8(&mut buf));
        unmappable || bytes.len() != 1
    })
}

/// Formatting characters that print as nothing but change what is shown.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                  // soft hyphen (CP1251 has it; it prints as nothing or "-")
        | '\u{200B}'..='\u{200F}'   // zero-width space, non-joiner, joiner; LRM, RLM
        | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{2064}'   // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'   // bidi isolates
        | '\u{FEFF}'                // byte-order mark / zero-width no-break space
    )
}

/// A character for a message: its code point, with the character itself when it is visible.
pub fn describe(c: char) -> String {
    let code = format!("U+{:04X}", u32::from(c));
    let name = match c {
        '\u{00AD}' => Some("soft hyphen"),
        '\u{200B}' => Some("zero-width space"),
        '\u{200C}' => Some("zero-width non-joiner"),
        '\u{200D}' => Some("zero-width joiner"),
        '\u{200E}' | '\u{200F}' => Some("direction mark"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some("bidirectional control"),
        '\u{2060}' => Some("word joiner"),
        '\u{FEFF}' => Some("zero-width no-break space"),
        _ => None,
    };
    match name {
        Some(name) => format!("{code} ({name})"),
        None if c.is_control() || invisible(c) => code,
        None => format!("{code} \"{c}\""),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn russian_and_typographic_text_is_printable() {
        for text in [
            "Молоко коровье 3,2% 1 л",
            "«Ёлочка» — 2 шт. … № 5 – €",
            "Hello, world! (ABC-123) [x] {y} @#$",
        ] {
            assert_eq!(unprintable(text), None, "{text}");
        }
    }

    #[test]
    fn tag_strings_need_both_code_pages() {
        assert_eq!(unsendable("Иванова А. № 5"), None);
        assert_eq!(unsendable("ООО «Ромашка»"), Some('«'));
        assert_eq!(unsendable("a\u{200B}b"), Some('\u{200B}'));
    }

    #[test]
    fn what_cp1251_cannot_carry_is_found() {
        for (text, bad) in [
            ("Сок 🍊", '🍊'),
            ("Хлеб\u{200B}ржаной", '\u{200B}'),
            ("a\u{200C}b", '\u{200C}'),
            ("a\u{200D}b", '\u{200D}'),
            ("abc\u{202E}def", '\u{202E}'),
            ("abc\u{202A}def", '\u{202A}'),
            ("x\u{2066}y", '\u{2066}'),
            ("x\u{2069}y", '\u{2069}'),
            ("\u{FEFF}Товар", '\u{FEFF}'),
            ("Crème brûlée", 'è'),
            ("茶", '茶'),
            ("tab\there", '\t'),
        ] {
            assert_eq!(unprintable(text), Some(bad), "{text:?}");
        }
        assert_eq!(describe('\u{200D}'), "U+200D (zero-width joiner)");
        assert_eq!(describe('🍊'), "U+1F34A \"🍊\"");
    }
}
