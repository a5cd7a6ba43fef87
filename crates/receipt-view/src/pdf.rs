//! The receipt as a one-page PDF the width of a till roll (or of a sheet): the tape's text
//! in DejaVu Sans Mono, embedded whole (no subsetting), and the QR code under it.
//!
//! The font is a CID-keyed TrueType font with the identity encoding: each character is
//! written as its glyph id, and a ToUnicode map gives text extraction (copy, search,
//! `pdftotext`) the Cyrillic back.

use std::collections::BTreeMap;
use std::path::PathBuf;

use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str};

use crate::{qr, ReceiptView, RenderError};

/// Where the DejaVu fonts are when the Debian package fonts-dejavu-core is installed.
pub const FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";
/// The environment variable naming another directory to read the font from.
pub const FONT_DIR_ENV: &str = "FISCAL_GATEWAY_FONT_DIR";
/// The file of the monospace font the text is set in.
pub const MONO_FONT: &str = "DejaVuSansMono.ttf";

/// Points in a millimetre.
const PT_PER_MM: f32 = 72.0 / 25.4;
/// Page margin on every side.
const MARGIN_MM: f32 = 3.0;
/// The font size the number of characters per line is chosen for; the size is then
/// stretched so the line fills the page's width.
const NOMINAL_SIZE: f32 = 8.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.25;
/// The QR code's largest side.
const QR_MAX_MM: f32 = 40.0;
/// zlib level for the font and image streams.
const DEFLATE_LEVEL: u8 = 6;

/// The font's file: [`FONT_DIR_ENV`]'s directory when set, else [`FONT_DIR`].
pub fn font_path() -> PathBuf {
    let dir = std::env::var_os(FONT_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(FONT_DIR));
    dir.join(MONO_FONT)
}

fn read_font() -> Result<(PathBuf, Vec<u8>), RenderError> {
    let path = font_path();
    match std::fs::read(&path) {
        Ok(bytes) => Ok((path, bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(RenderError::FontMissing { path })
        }
        Err(e) => Err(RenderError::FontUnusable {
            reason: e.to_string(),
            path,
        }),
    }
}

/// The font's metrics the page needs, in thousandths of an em (PDF glyph space).
struct Metrics {
    advance: f32,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    bbox: Rect,
}

pub fn render(view: &ReceiptView, width_mm: u32) -> Result<Vec<u8>, RenderError> {
    let (path, font) = read_font()?;
    let unusable = |reason: String| RenderError::FontUnusable {
        path: path.clone(),
        reason,
    };
    let face = ttf_parser::Face::parse(&font, 0).map_err(|e| unusable(e.to_string()))?;
    let per_em = 1000.0 / f32::from(face.units_per_em());
    let zero = face
        .glyph_index('0')
        .and_then(|g| face.glyph_hor_advance(g))
        .ok_or_else(|| unusable("has no glyph for '0'".into()))?;
    let b = face.global_bounding_box();
    let metrics = Metrics {
        advance: f32::from(zero) * per_em,
        ascent: f32::from(face.ascender()) * per_em,
        descent: f32::from(face.descender()) * per_em,
        cap_height: f32::from(face.capital_height().unwrap_or(face.ascender())) * per_em,
        bbox: Rect::new(
            f32::from(b.x_min) * per_em,
            f32::from(b.y_min) * per_em,
            f32::from(b.x_max) * per_em,
            f32::from(b.y_max) * per_em,
        ),
    };

    // The page: as many characters a line as fit at the nominal size, then the size that
    // makes exactly that many fill the width.
    let page_width = width_mm as f32 * PT_PER_MM;
    let margin = MARGIN_MM * PT_PER_MM;
    let usable = page_width - 2.0 * margin;
    let char_width_at = |size: f32| metrics.advance / 1000.0 * size;
    let chars = ((usable / char_width_at(NOMINAL_SIZE)).floor() as usize).clamp(24, 80);
    let size = usable / (chars as f32 * metrics.advance / 1000.0);
    let leading = size * LEADING;
    let text = view.text(chars);
    let lines: Vec<&str> = text.lines().collect();
    let qr_side = usable.min(QR_MAX_MM * PT_PER_MM);
    let page_height = 2.0 * margin + lines.len() as f32 * leading + margin + qr_side;

    // Glyph ids for every character used, and the characters each stands for.
    let mut glyphs: BTreeMap<u16, char> = BTreeMap::new();
    let encoded: Vec<Vec<u8>> = lines
        .iter()
        .map(|line| {
            let mut bytes = Vec::with_capacity(line.len() * 2);
            for c in line.chars() {
                let gid = face.glyph_index(c).map(|g| g.0).unwrap_or(0);
                if gid != 0 {
                    glyphs.entry(gid).or_insert(c);
                }
                bytes.extend_from_slice(&gid.to_be_bytes());
            }
            bytes
        })
        .collect();

    let (side_px, pixels) = qr::bitmap(&view.qr_data())?;
    let side_px = i32::try_from(side_px).map_err(|e| RenderError::Pdf(e.to_string()))?;

    let catalog_id = Ref::new(1);
    let pages_id = Ref::new(2);
    let page_id = Ref::new(3);
    let content_id = Ref::new(4);
    let font_id = Ref::new(5);
    let cid_font_id = Ref::new(6);
    let descriptor_id = Ref::new(7);
    let font_file_id = Ref::new(8);
    let to_unicode_id = Ref::new(9);
    let image_id = Ref::new(10);
    let font_name = Name(b"F1");
    let image_name = Name(b"Im1");
    let base_font = Name(b"DejaVuSansMono");

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(pages_id);
    pdf.pages(pages_id).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, page_width, page_height));
    page.parent(pages_id);
    page.contents(content_id);
    let mut resources = page.resources();
    resources.fonts().pair(font_name, font_id);
    resources.x_objects().pair(image_name, image_id);
    resources.finish();
    page.finish();

    pdf.type0_font(font_id)
        .base_font(base_font)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font_id)
        .to_unicode(to_unicode_id);
    let mut cid = pdf.cid_font(cid_font_id);
    cid.subtype(CidFontType::Type2)
        .base_font(base_font)
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        })
        .font_descriptor(descriptor_id)
        .default_width(metrics.advance)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let mut widths = cid.widths();
    for gid in glyphs.keys() {
        let advance = face
            .glyph_hor_advance(ttf_parser::GlyphId(*gid))
            .map(|a| f32::from(a) * per_em)
            .unwrap_or(metrics.advance);
        widths.consecutive(*gid, [advance]);
    }
    widths.finish();
    cid.finish();
    pdf.font_descriptor(descriptor_id)
        .name(base_font)
        .flags(FontFlags::FIXED_PITCH | FontFlags::NON_SYMBOLIC)
        .bbox(metrics.bbox)
        .italic_angle(0.0)
        .ascent(metrics.ascent)
        .descent(metrics.descent)
        .cap_height(metrics.cap_height)
        .stem_v(80.0)
        .font_file2(font_file_id);
    let compressed_font = compress_to_vec_zlib(&font, DEFLATE_LEVEL);
    let font_length = i32::try_from(font.len()).map_err(|e| RenderError::Pdf(e.to_string()))?;
    pdf.stream(font_file_id, &compressed_font)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), font_length);

    let mut cmap = UnicodeCmap::new(
        Name(b"DejaVuSansMono-UCS"),
        SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"UCS"),
            supplement: 0,
        },
    );
    for (gid, c) in &glyphs {
        cmap.pair(*gid, *c);
    }
    let cmap = cmap.finish();
    pdf.cmap(to_unicode_id, &cmap);

    let compressed_image = compress_to_vec_zlib(&pixels, DEFLATE_LEVEL);
    let mut image = pdf.image_xobject(image_id, &compressed_image);
    image.filter(Filter::FlateDecode);
    image.width(side_px);
    image.height(side_px);
    image.color_space().device_gray();
    image.bits_per_component(8);
    image.finish();

    let mut content = Content::new();
    content.begin_text();
    content.set_font(font_name, size);
    // The first baseline sits one ascent below the top margin.
    let first_baseline = page_height - margin - metrics.ascent / 1000.0 * size;
    content.next_line(margin, first_baseline);
    for (index, line) in encoded.iter().enumerate() {
        if index > 0 {
            content.next_line(0.0, -leading);
        }
        content.show(Str(line));
    }
    content.end_text();
    content.save_state();
    content.transform([
        qr_side,
        0.0,
        0.0,
        qr_side,
        (page_width - qr_side) / 2.0,
        margin,
    ]);
    content.x_object(image_name);
    content.restore_state();
    let content = content.finish();
    pdf.stream(content_id, &content);
    Ok(pdf.finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::sample;

    #[test]
    fn a_page_with_the_font_embedded() {
        let pdf = sample::view().pdf(80).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("/DejaVuSansMono"));
        assert!(text.contains("/ToUnicode"));
        // 80 mm wide: 226.77 pt.
        assert!(text.contains("/MediaBox [0 0 226.77"), "media box");
    }
}
