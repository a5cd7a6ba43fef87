//! The QR code a receipt carries for the FNS check service, and its PNG.

use fiscal_model::ReceiptType;
use qrcode::{Color, QrCode};

use crate::{money, ReceiptView, RenderError};

/// Pixels per QR module in the PNG: big enough for a phone's camera off a screen.
const MODULE_PX: usize = 4;
/// The quiet zone around the code, in modules (ISO/IEC 18004 §6.3.8).
const QUIET_MODULES: usize = 4;

/// `t=YYYYMMDDTHHMM&s=RUB.KK&fn=…&i=FD&fp=FPD&n=…`, the FNS receipt string.
pub fn data(view: &ReceiptView) -> String {
    let n = match view.receipt.receipt_type {
        ReceiptType::Sale => 1,
        ReceiptType::SaleReturn => 2,
        ReceiptType::Purchase => 3,
        ReceiptType::PurchaseReturn => 4,
    };
    format!(
        "t={}&s={}&fn={}&i={}&fp={}&n={n}",
        view.fiscal.date_time.format("%Y%m%dT%H%M"),
        money(view.receipt.total),
        view.fiscal.fn_number.trim(),
        view.fiscal.fd_number,
        view.fiscal.fiscal_sign,
    )
}

/// The QR code of `text` as an 8-bit greyscale PNG.
pub fn png(text: &str) -> Result<Vec<u8>, RenderError> {
    let (side, pixels) = bitmap(text)?;
    let side = u32::try_from(side).map_err(|e| RenderError::Qr(e.to_string()))?;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let qr = |e: png::EncodingError| RenderError::Qr(e.to_string());
    let mut writer = encoder.write_header().map_err(qr)?;
    writer.write_image_data(&pixels).map_err(qr)?;
    writer.finish().map_err(qr)?;
    Ok(out)
}

/// The code's modules with the quiet zone, one byte a pixel (0 dark, 255 light), scaled by
/// [`MODULE_PX`]; and the side in pixels.
pub fn bitmap(text: &str) -> Result<(usize, Vec<u8>), RenderError> {
    let (modules, dark) = matrix(text)?;
    let side = (modules + 2 * QUIET_MODULES) * MODULE_PX;
    let mut pixels = vec![255u8; side * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / MODULE_PX, y / MODULE_PX);
            let inside = QUIET_MODULES..QUIET_MODULES + modules;
            if inside.contains(&mx)
                && inside.contains(&my)
                && dark[(my - QUIET_MODULES) * modules + mx - QUIET_MODULES]
            {
                pixels[y * side + x] = 0;
            }
        }
    }
    Ok((side, pixels))
}

/// The code's modules, row by row, `true` for dark; and the side in modules.
pub fn matrix(text: &str) -> Result<(usize, Vec<bool>), RenderError> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| RenderError::Qr(e.to_string()))?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use crate::sample;

    #[test]
    fn the_string_is_the_fns_format() {
        let view = sample::view();
        assert_eq!(
            view.qr_data(),
            "t=20261204T1640&s=276.00&fn=7380440700076549&i=1234&fp=3849573054&n=1"
        );
        let mut refund = view.clone();
        refund.receipt.receipt_type = fiscal_model::ReceiptType::PurchaseReturn;
        assert!(refund.qr_data().ends_with("&n=4"));
    }

    #[test]
    fn the_png_decodes_to_a_square_of_whole_modules() {
        let bytes = sample::view().qr_png().unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buf).unwrap();
        assert_eq!(frame.width, frame.height);
        let (modules, _) = super::matrix(&sample::view().qr_data()).unwrap();
        assert_eq!(
            frame.width as usize,
            (modules + 2 * super::QUIET_MODULES) * super::MODULE_PX
        );
        assert_eq!(frame.color_type, png::ColorType::Grayscale);
        // The corner is quiet zone, the finder pattern's corner is dark.
        assert_eq!(buf[0], 255);
        let first_dark = super::QUIET_MODULES * super::MODULE_PX;
        assert_eq!(buf[first_dark * frame.width as usize + first_dark], 0);
    }
}
