//! Shared builders for the store's tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fiscal_model::{
    CashMovement, CashMovementKind, Item, Kopecks, OperationBody, OperationRequest, Payments,
    Quantity, ReceiptParts, ReceiptType, Routing, TaxationSystem, VatRate,
};
use queue::{NewOperation, OperationId, RegisterId, Store, StoreConfig};

pub fn open(dir: &std::path::Path) -> Store {
    Store::open(&dir.join("ops"), StoreConfig::default()).expect("open store")
}

pub fn receipt(total: u64) -> OperationRequest {
    let receipt = ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items: vec![Item {
            name: "Молоко".into(),
            quantity: Quantity::ONE,
            price: Kopecks(total),
            vat: VatRate::Vat22,
            attributes: Default::default(),
            line_sum: None,
            notes: Vec::new(),
        }],
        payments: Payments {
            cash: Kopecks(total),
            ..Payments::default()
        },
        total: Kopecks(total),
        buyer: None,
        print: true,
    }
    .build()
    .expect("balanced receipt");
    OperationRequest {
        body: OperationBody::Receipt(receipt),
        routing: Routing::default(),
    }
}

pub fn cash_in(amount: u64) -> OperationRequest {
    OperationRequest {
        body: OperationBody::Cash(CashMovement {
            kind: CashMovementKind::In,
            amount: Kopecks(amount),
        }),
        routing: Routing::default(),
    }
}

pub fn id(s: &str) -> OperationId {
    OperationId::new(s).unwrap()
}

pub fn reg(s: &str) -> RegisterId {
    RegisterId::new(s)
}

pub fn new_op(op_id: &str, register: &str, request: OperationRequest) -> NewOperation {
    NewOperation {
        id: id(op_id),
        register: reg(register),
        request,
    }
}

/// A receipt's fiscal result with fiscal sign `sign` from FN `fn_number`.
pub fn fiscal(sign: u32, fn_number: &str, not_printed: bool) -> fiscal_model::Completion {
    fiscal_model::Completion::Receipt(fiscal_model::FiscalResult {
        fd_number: 17,
        fiscal_sign: sign,
        receipt_number_in_shift: 3,
        shift_number: 5,
        fn_number: fn_number.into(),
        rnm: "0000000001012345".into(),
        date_time: chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        not_printed,
        marking_checks: Vec::new(),
    })
}
