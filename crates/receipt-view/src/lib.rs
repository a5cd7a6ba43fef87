//! A fiscalized receipt as a person reads it, whichever API dialect asked: monospace text,
//! a self-contained HTML page, a PDF page and the FNS QR code, all from one [`ReceiptView`].
//!
//! A view is built from a finished queue operation and the seller's and register's facts
//! ([`ReceiptView::of`]); it shows every requisite a receipt carries under 54-ФЗ and FFD 1.2
//! in the order the register's own tape prints them. Nothing here talks to a register or to
//! the network: the only input read at render time is the DejaVu font a PDF embeds, and its
//! absence is [`RenderError::FontMissing`], not a panic.

mod html;
mod pdf;
mod qr;
mod text;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};
use fiscal_model::{
    BuyerContact, BuyerDetails, Completion, Correction, FiscalResult, Item, Kopecks, OperationBody,
    Receipt, ReceiptCashier, ReceiptText, ReceiptType, TaxationSystem, VatRate,
};

pub use pdf::{FONT_DIR, FONT_DIR_ENV, MONO_FONT};

/// The seller and the register as a receipt names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seller {
    /// The organisation or individual entrepreneur (tag 1048).
    pub name: Option<String>,
    /// The seller's INN (tag 1018).
    pub inn: Option<String>,
    /// Address of settlement (tag 1009).
    pub address: Option<String>,
    /// Place of settlement (tag 1187): a shop's name, a web site.
    pub place: Option<String>,
}

/// What identifies the register that fiscalized a receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterFacts {
    /// The register's model name.
    pub model: Option<String>,
    /// The register's serial number, ЗН ККТ (tag 1013).
    pub kkt_serial: Option<String>,
    /// Registration number, РН ККТ (tag 1037).
    pub rnm: Option<String>,
    /// FN serial number (tag 1041).
    pub fn_number: Option<String>,
}

/// The VAT of one rate on a receipt: the turnover at that rate and the VAT it includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatLine {
    /// The rate.
    pub rate: VatRate,
    /// The sum of the items at this rate.
    pub base: Kopecks,
    /// The VAT included in `base`, rounded half up; `None` for 0 % and "no VAT", where the
    /// receipt shows the turnover instead.
    pub vat: Option<Kopecks>,
}

/// Everything a Russian receipt shows (a fiscalized one).
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiptView {
    /// Who sells.
    pub seller: Seller,
    /// The register; `rnm` and `fn_number` are the fiscal result's when it names them.
    pub register: RegisterFacts,
    /// The settlement as fiscalized: type, items, payments, cashier, buyer, text lines.
    pub receipt: Receipt,
    /// Why a correction receipt corrects; `None` for an ordinary receipt.
    pub correction: Option<Correction>,
    /// What the register reported: FD, FPD, shift, number in shift, FN.
    pub fiscal: FiscalResult,
    /// The document's date and time, register local, with the register's UTC offset.
    pub date_time: DateTime<FixedOffset>,
    /// VAT per rate, in the order the rates first appear among the items.
    pub vat: Vec<VatLine>,
}

/// Why a view could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The font a PDF embeds is not where it is looked for.
    #[error("font file {} is missing: install the Debian package fonts-dejavu-core or point FISCAL_GATEWAY_FONT_DIR at a directory holding it", path.display())]
    FontMissing {
        /// The file looked for.
        path: std::path::PathBuf,
    },
    /// The font file is there but is not a usable TrueType font.
    #[error("font file {}: {reason}", path.display())]
    FontUnusable {
        /// The file read.
        path: std::path::PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// The QR code could not be made or encoded as PNG.
    #[error("QR code: {0}")]
    Qr(String),
    /// The PDF could not be made.
    #[error("PDF: {0}")]
    Pdf(String),
}

impl ReceiptView {
    /// A Done receipt or correction receipt operation; None for anything else (not done, cash, prints).
    pub fn of(
        op: &queue::Operation,
        seller: &Seller,
        register: &RegisterFacts,
        offset: FixedOffset,
    ) -> Option<ReceiptView> {
        let queue::OpState::Done {
            completion: Completion::Receipt(fiscal),
        } = &op.state
        else {
            return None;
        };
        let (receipt, correction) = match &op.request.body {
            OperationBody::Receipt(r) => (r.clone(), None),
            OperationBody::Correction(c) => (c.receipt.clone(), Some(c.correction.clone())),
            _ => return None,
        };
        Some(ReceiptView::from_parts(
            receipt,
            correction,
            fiscal.clone(),
            seller,
            register,
            offset,
        ))
    }

    /// A view of `receipt` closed in the FN as `fiscal` says.
    pub fn from_parts(
        receipt: Receipt,
        correction: Option<Correction>,
        fiscal: FiscalResult,
        seller: &Seller,
        register: &RegisterFacts,
        offset: FixedOffset,
    ) -> ReceiptView {
        let mut register = register.clone();
        // The fiscal result names the FN and registration the document was actually made
        // with; a register's facts read earlier may predate an FN replacement.
        if !fiscal.fn_number.trim().is_empty() {
            register.fn_number = Some(fiscal.fn_number.trim().to_string());
        }
        if !fiscal.rnm.trim().is_empty() {
            register.rnm = Some(fiscal.rnm.trim().to_string());
        }
        let date_time = local(fiscal.date_time, offset);
        let vat = vat_lines(&receipt.items);
        ReceiptView {
            seller: seller.clone(),
            register,
            receipt,
            correction,
            fiscal,
            date_time,
            vat,
        }
    }

    /// Monospace text at `width` characters per line (clamped 24..=80).
    pub fn text(&self, width: usize) -> String {
        text::render(self, width.clamp(text::MIN_WIDTH, text::MAX_WIDTH))
    }

    /// The FNS receipt QR string `t=YYYYMMDDTHHMM&s=RUB.KK&fn=…&i=FD&fp=FPD&n=1..4` (n: 1 sale, 2 sale return, 3 purchase, 4 purchase return).
    pub fn qr_data(&self) -> String {
        qr::data(self)
    }

    /// The QR code of [`ReceiptView::qr_data`] as a greyscale PNG, a quiet zone of four
    /// modules around it.
    pub fn qr_png(&self) -> Result<Vec<u8>, RenderError> {
        qr::png(&self.qr_data())
    }

    /// A PDF page `width_mm` wide (clamped 48..=210) with the text in DejaVu Sans Mono/Sans (Cyrillic), and the QR image.
    pub fn pdf(&self, width_mm: u32) -> Result<Vec<u8>, RenderError> {
        pdf::render(self, width_mm.clamp(48, 210))
    }

    /// A self-contained HTML page (inline CSS, the QR as a data: PNG), nothing external loaded.
    pub fn html(&self) -> String {
        html::render(self)
    }

    /// The receipt type (tag 1054).
    pub fn receipt_type(&self) -> ReceiptType {
        self.receipt.receipt_type
    }

    /// The taxation system (tag 1055).
    pub fn taxation(&self) -> TaxationSystem {
        self.receipt.taxation
    }

    /// The receipt's items.
    pub fn items(&self) -> &[Item] {
        &self.receipt.items
    }

    /// Non-fiscal header and footer lines.
    pub fn text_lines(&self) -> &ReceiptText {
        &self.receipt.text
    }

    /// The cashier the receipt names, when it names one.
    pub fn cashier(&self) -> Option<&ReceiptCashier> {
        self.receipt.cashier.as_ref()
    }

    /// Where the electronic receipt went (tag 1008).
    pub fn buyer(&self) -> Option<&BuyerContact> {
        self.receipt.buyer.as_ref()
    }

    /// The buyer's name and INN (tags 1227/1228).
    pub fn buyer_details(&self) -> Option<&BuyerDetails> {
        self.receipt.buyer_details.as_ref()
    }
}

/// `naive` read as local time at `offset`. A fixed offset maps every local time to exactly
/// one instant, so the fallback (reading it as UTC) is never taken.
fn local(naive: NaiveDateTime, offset: FixedOffset) -> DateTime<FixedOffset> {
    offset
        .from_local_datetime(&naive)
        .single()
        .unwrap_or_else(|| naive.and_utc().fixed_offset())
}

/// VAT per rate from the items' sums: rate/(100+rate) of each rate's turnover, rounded half
/// up once per rate, as the FN totals it (tags 1102–1107, 1115–1120).
fn vat_lines(items: &[Item]) -> Vec<VatLine> {
    let mut lines: Vec<VatLine> = Vec::new();
    for item in items {
        let sum = item.sum().unwrap_or_default();
        match lines.iter_mut().find(|l| l.rate == item.vat) {
            Some(line) => line.base = Kopecks(line.base.0.saturating_add(sum.0)),
            None => lines.push(VatLine {
                rate: item.vat,
                base: sum,
                vat: None,
            }),
        }
    }
    for line in &mut lines {
        let percent = u128::from(line.rate.table6_rate() / 100);
        if percent > 0 {
            let base = u128::from(line.base.0);
            let divisor = 100 + percent;
            let vat = (base * percent * 2 + divisor) / (2 * divisor);
            line.vat = Some(Kopecks(u64::try_from(vat).unwrap_or(u64::MAX)));
        }
    }
    lines
}

/// Money as a receipt prints it: `1234.50`.
pub(crate) fn money(k: Kopecks) -> String {
    k.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod sample;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn vat_is_rate_over_hundred_plus_rate_rounded_half_up_per_rate() {
        let view = sample::view();
        // 2 × 45.50 + 120.00 at 22 %: 211.00 × 22 / 122 = 38.049… → 38.05.
        assert_eq!(
            view.vat[0],
            VatLine {
                rate: VatRate::Vat22,
                base: Kopecks(21100),
                vat: Some(Kopecks(3805))
            }
        );
        // 10 % of 55.00 included: 5.00.
        assert_eq!(view.vat[1].vat, Some(Kopecks(500)));
        // No VAT shows its turnover only.
        assert_eq!(view.vat[2].rate, VatRate::NoVat);
        assert_eq!(view.vat[2].base, Kopecks(1000));
        assert_eq!(view.vat[2].vat, None);
    }

    #[test]
    fn half_a_kopeck_rounds_up() {
        // 20 % included in 0.03 is 0.005: up to 0.01; in 0.02 it is 0.0033: down to 0.00.
        let item = sample::item("x", 1, 3, VatRate::Vat20);
        assert_eq!(vat_lines(&[item])[0].vat, Some(Kopecks(1)));
        let item = sample::item("x", 1, 2, VatRate::Vat20);
        assert_eq!(vat_lines(&[item])[0].vat, Some(Kopecks(0)));
    }

    #[test]
    fn fiscal_result_names_the_fn_and_rnm() {
        let view = sample::view();
        assert_eq!(view.register.fn_number.as_deref(), Some("7380440700076549"));
        assert_eq!(view.register.rnm.as_deref(), Some("0000000001012345"));
        assert_eq!(view.register.kkt_serial.as_deref(), Some("0012345678"));
        assert_eq!(view.date_time.to_rfc3339(), "2026-12-04T16:40:00+03:00");
    }
}
