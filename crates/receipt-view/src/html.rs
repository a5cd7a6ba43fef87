//! The receipt as one self-contained HTML page: the tape's text in a monospace block and
//! the QR code as an inline PNG, nothing fetched from anywhere.

use base64::Engine;

use crate::ReceiptView;

/// Characters per line of the page's text: an 80 mm roll's.
const HTML_WIDTH: usize = 42;

/// `text` safe inside HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(view: &ReceiptView) -> String {
    let title = format!(
        "Кассовый чек № {} (ФД {})",
        view.fiscal.receipt_number_in_shift, view.fiscal.fd_number
    );
    let text = escape(&view.text(HTML_WIDTH));
    // A QR code that cannot be made (data too long cannot happen for this short string)
    // leaves the page without the picture rather than without the receipt.
    let qr = match view.qr_png() {
        Ok(png) => format!(
            "<img class=\"qr\" alt=\"{}\" src=\"data:image/png;base64,{}\">",
            escape(&view.qr_data()),
            base64::engine::general_purpose::STANDARD.encode(png)
        ),
        Err(_) => String::new(),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"ru\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ background: #eee; margin: 0; padding: 1em; }}\n\
         .receipt {{ background: #fff; color: #000; width: max-content; margin: 0 auto; padding: 1em 1.2em; box-shadow: 0 1px 4px rgba(0,0,0,.2); }}\n\
         pre {{ font-family: \"DejaVu Sans Mono\", \"Liberation Mono\", monospace; font-size: 13px; line-height: 1.3; margin: 0; }}\n\
         .qr {{ display: block; margin: 1em auto 0; width: 164px; height: 164px; image-rendering: pixelated; }}\n\
         @media print {{ body {{ background: #fff; padding: 0; }} .receipt {{ box-shadow: none; }} }}\n\
         </style>\n</head>\n<body>\n<main class=\"receipt\">\n<pre>{text}</pre>\n{qr}\n</main>\n</body>\n</html>\n",
        title = escape(&title),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::sample;

    #[test]
    fn names_are_escaped_and_nothing_is_loaded_from_outside() {
        let html = sample::view().html();
        assert!(html.contains("Хлеб &lt;ржаной&gt; &amp; Co"), "{html}");
        assert!(!html.contains("<ржаной>"));
        assert!(html.contains("src=\"data:image/png;base64,"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("<link") && !html.contains("<script"));
        assert!(html.contains("www.nalog.gov.ru"));
        assert!(html.starts_with("<!DOCTYPE html>"));
    }
}
