//! A receipt whose every requisite is known, for the renderers' tests.

use chrono::{FixedOffset, NaiveDate};
use fiscal_model::{
    BuyerContact, BuyerDetails, FiscalResult, Item, ItemAttributes, Kopecks, MarkingCode,
    PaymentObject, Payments, Quantity, ReceiptCashier, ReceiptParts, ReceiptText, ReceiptType,
    TaxationSystem, VatRate,
};

use crate::{ReceiptView, RegisterFacts, Seller};

pub fn item(name: &str, units: u64, price: u64, vat: VatRate) -> Item {
    Item {
        name: name.to_string(),
        quantity: Quantity(units * 1_000_000),
        price: Kopecks(price),
        vat,
        attributes: ItemAttributes::default(),
        line_sum: None,
        notes: Vec::new(),
    }
}

pub fn fiscal() -> FiscalResult {
    FiscalResult {
        fd_number: 1234,
        fiscal_sign: 3849573054,
        receipt_number_in_shift: 7,
        shift_number: 12,
        fn_number: "7380440700076549".into(),
        rnm: "0000000001012345".into(),
        date_time: NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_opt(16, 40, 0)
            .unwrap(),
        not_printed: false,
        marking_checks: Vec::new(),
    }
}

pub fn seller() -> Seller {
    Seller {
        name: Some("ООО «Ромашка»".into()),
        inn: Some("7701234567".into()),
        address: Some("г. Москва, ул. Примерная, д. 1".into()),
        place: Some("Магазин у дома".into()),
    }
}

pub fn register() -> RegisterFacts {
    RegisterFacts {
        model: Some("ШТРИХ-М-01Ф".into()),
        kkt_serial: Some("0012345678".into()),
        rnm: None,
        fn_number: None,
    }
}

pub fn view() -> ReceiptView {
    let mut milk = item("Молоко «Домик»", 2, 4550, VatRate::Vat22);
    milk.notes = vec!["Скидка по карте 0.00".into()];
    let mut bread = item("Хлеб <ржаной> & Co", 1, 12000, VatRate::Vat22);
    bread.attributes.marking_code =
        Some(MarkingCode::new(b"0104600439931256215Ab".to_vec(), "m").unwrap());
    let mut delivery = item("Доставка", 1, 5500, VatRate::Vat10);
    delivery.attributes.payment_object = PaymentObject::from_code(4, "o").unwrap();
    let bag = item("Пакет", 1, 1000, VatRate::NoVat);
    let receipt = ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items: vec![milk, bread, delivery, bag],
        payments: Payments {
            cash: Kopecks(10000),
            cashless: Kopecks(17600),
            ..Payments::default()
        },
        total: Kopecks(27600),
        buyer: Some(BuyerContact::Email("buyer@example.ru".into())),
        print: true,
    }
    .build()
    .unwrap()
    .with_cashier(Some(ReceiptCashier {
        name: "Иванова А.".into(),
        inn: Some("500100732259".into()),
    }))
    .with_buyer_details(Some(BuyerDetails {
        name: Some("ИП Петров".into()),
        inn: None,
    }))
    .with_text(ReceiptText {
        header: vec!["Касса 2".into()],
        footer: vec!["Спасибо за покупку!".into()],
    })
    .unwrap();
    ReceiptView::from_parts(
        receipt,
        None,
        fiscal(),
        &seller(),
        &register(),
        FixedOffset::east_opt(3 * 3600).unwrap(),
    )
}
