//! A PDF asked for where the font is not installed names the file and the package. Its own
//! test binary: it changes the process environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{FixedOffset, NaiveDate};
use fiscal_model::{
    FiscalResult, Item, ItemAttributes, Kopecks, Payments, Quantity, ReceiptParts, ReceiptType,
    TaxationSystem, VatRate,
};
use receipt_view::{ReceiptView, RegisterFacts, RenderError, Seller, FONT_DIR_ENV, MONO_FONT};

#[test]
fn a_missing_font_is_named_with_its_package() {
    let receipt = ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items: vec![Item {
            name: "Чай".into(),
            quantity: Quantity::ONE,
            price: Kopecks(100),
            vat: VatRate::Vat22,
            attributes: ItemAttributes::default(),
            line_sum: None,
            notes: vec![],
        }],
        payments: Payments {
            cash: Kopecks(100),
            ..Payments::default()
        },
        total: Kopecks(100),
        buyer: None,
        print: true,
    }
    .build()
    .unwrap();
    let fiscal = FiscalResult {
        fd_number: 1,
        fiscal_sign: 2,
        receipt_number_in_shift: 1,
        shift_number: 1,
        fn_number: "1".into(),
        rnm: "1".into(),
        date_time: NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap(),
        not_printed: false,
        marking_checks: vec![],
    };
    let view = ReceiptView::from_parts(
        receipt,
        None,
        fiscal,
        &Seller::default(),
        &RegisterFacts::default(),
        FixedOffset::east_opt(0).unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var(FONT_DIR_ENV, dir.path());
    let err = view.pdf(80).unwrap_err();
    assert!(
        matches!(&err, RenderError::FontMissing { path } if *path == dir.path().join(MONO_FONT)),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains(MONO_FONT), "{message}");
    assert!(message.contains("fonts-dejavu-core"), "{message}");
    // Text, HTML and the QR code need no font.
    assert!(view.text(32).contains("Чай"));
    assert!(view.html().contains("Чай"));
    assert!(view.qr_png().is_ok());
}
