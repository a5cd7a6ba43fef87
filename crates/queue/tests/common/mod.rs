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
