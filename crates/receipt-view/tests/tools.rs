//! The renderers' output read back by independent tools: `zbarimg` decodes the QR PNG and
//! `pdftotext` extracts the PDF's text (Debian's zbar-tools and poppler-utils, installed by
//! scripts/install-test-deps).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use chrono::{FixedOffset, NaiveDate};
use fiscal_model::{
    FiscalResult, Item, ItemAttributes, Kopecks, Payments, Quantity, ReceiptParts, ReceiptType,
    TaxationSystem, VatRate,
};
use receipt_view::{ReceiptView, RegisterFacts, Seller};

fn view() -> ReceiptView {
    let receipt = ReceiptParts {
        receipt_type: ReceiptType::SaleReturn,
        taxation: TaxationSystem::SimplifiedIncome,
        items: vec![Item {
            name: "Сыр «Российский» 0,5 кг".into(),
            quantity: Quantity(3_000_000),
            price: Kopecks(34990),
            vat: VatRate::Vat10,
            attributes: ItemAttributes::default(),
            line_sum: None,
            notes: vec![],
        }],
        payments: Payments {
            cashless: Kopecks(104970),
            ..Payments::default()
        },
        total: Kopecks(104970),
        buyer: None,
        print: true,
    }
    .build()
    .unwrap();
    let fiscal = FiscalResult {
        fd_number: 98765,
        fiscal_sign: 1122334455,
        receipt_number_in_shift: 3,
        shift_number: 41,
        fn_number: "9999078900012345".into(),
        rnm: "0000000002054321".into(),
        date_time: NaiveDate::from_ymd_opt(2026, 3, 9)
            .unwrap()
            .and_hms_opt(8, 5, 30)
            .unwrap(),
        not_printed: false,
        marking_checks: vec![],
    };
    let seller = Seller {
        name: Some("ИП Сидоров".into()),
        inn: Some("500100732259".into()),
        address: Some("г. Тверь, пр. Ленина, 5".into()),
        place: None,
    };
    ReceiptView::from_parts(
        receipt,
        None,
        fiscal,
        &seller,
        &RegisterFacts::default(),
        FixedOffset::east_opt(3 * 3600).unwrap(),
    )
}

fn tool(name: &str, package: &str) {
    let found = Command::new(name).arg("--version").output().is_ok()
        || Command::new(name).arg("-v").output().is_ok();
    if !found {
        panic!("{name} is needed: run scripts/install-test-deps (Debian package {package})");
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn qr_data_is_known() {
    assert_eq!(
        view().qr_data(),
        "t=20260309T0805&s=1049.70&fn=9999078900012345&i=98765&fp=1122334455&n=2"
    );
}

#[test]
fn zbarimg_reads_the_qr_png_back() {
    tool("zbarimg", "zbar-tools");
    let view = view();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "qr.png", &view.qr_png().unwrap());
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "zbarimg: {out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        view.qr_data()
    );
}

#[test]
fn pdftotext_finds_the_cyrillic_item_and_the_fiscal_sign() {
    tool("pdftotext", "poppler-utils");
    let view = view();
    let dir = tempfile::tempdir().unwrap();
    for width_mm in [58, 80, 210] {
        let path = write(dir.path(), "receipt.pdf", &view.pdf(width_mm).unwrap());
        let out = Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output()
            .unwrap();
        assert!(out.status.success(), "pdftotext: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Сыр «Российский»"), "{width_mm} mm:\n{text}");
        assert!(text.contains("1122334455"), "{width_mm} mm:\n{text}");
        assert!(text.contains("ВОЗВРАТ ПРИХОДА"), "{width_mm} mm:\n{text}");
        assert!(text.contains("УСН ДОХОД"), "{width_mm} mm:\n{text}");
    }
}
