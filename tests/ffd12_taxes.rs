//! FFD 1.2 on the wire, end to end (the built gateway, the built virtual register on a pty, a
//! POS over HTTP): every API VAT type lands in its own VAT sum of the FN archive (the register
//! decodes each FF46 tax byte to its table-6 row, addendum §2; the archive keeps the byte as
//! received, checked against the addendum's codes); a register on older firmware
//! refuses 22 % at once with the rate named; `printReceipt: false` makes a receipt in the FN
//! and nothing on the tape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{json, Value};
use support::{write_config, Gateway, GatewayOptions, Pos, Register, Rig, CASHBOX};

fn receipts(archive: &[Value]) -> Vec<Value> {
    archive
        .iter()
        .filter(|d| d["doc_type"] == 3)
        .cloned()
        .collect()
}

/// A cash sale of one 1.00 × `code` item per API taxType in `codes`.
fn sale(id: &str, codes: &[u64], print: bool) -> Value {
    let positions: Vec<Value> = codes
        .iter()
        .map(|c| json!({"name": format!("Позиция {c}"), "quantity": 1, "price": c, "taxType": c}))
        .collect();
    let total: u64 = codes.iter().sum();
    json!({
        "operationId": id,
        "receiptType": 1,
        "printReceipt": print,
        "taxationSystem": 1,
        "buyerEmail": "customer@example.com",
        "positions": positions,
        "cashPaymentSum": total,
        "cashlessPaymentSum": 0,
        "totalSum": total,
        "cashboxId": CASHBOX
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn every_vat_type_lands_in_its_own_vat_sum() {
    let rig = Rig::start(GatewayOptions::default());
    let codes: Vec<u64> = (1..=14).collect();
    let (code, body) = rig
        .pos
        .post("formReceipt", &sale("all-vat", &codes, true))
        .await;
    assert_eq!(code, 200, "{body}");
    let done = rig.pos.settled("all-vat").await;
    assert_eq!(done["status"], 2, "{done}");

    let docs = receipts(&rig.register.archive());
    let doc = docs.last().unwrap();
    // API taxType → row of the 2026 table 6 (addendum §2.3; 13 and 14 are 3 and 6 again).
    let row_of = [3, 2, 11, 4, 6, 12, 7, 8, 9, 10, 1, 5, 11, 12];
    let rows: Vec<u64> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tax_group"].as_u64().unwrap())
        .collect();
    assert_eq!(
        rows, row_of,
        "each position's tax byte decoded to its rate's row"
    );
    // The bytes on the wire, as the addendum's §2.3 codes (classic model): never row numbers.
    let on_wire: Vec<u64> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["tax_byte"].as_u64().unwrap())
        .collect();
    let codes_2026 = [
        0x04, 0x02, 0xCB, 0x08, 0x20, 0xCC, 0x81, 0x82, 0x84, 0x88, 0x01, 0x10, 0xCB, 0xCC,
    ];
    assert_eq!(on_wire, codes_2026);
    // Each row's sum holds exactly its positions: 1.00 × code each.
    let mut want = [0u64; 13];
    for (code, row) in codes.iter().zip(row_of) {
        want[row as usize] += code * 100;
    }
    let got: Vec<(u64, u64, String)> = doc["vat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["row"].as_u64().unwrap(),
                v["turnover"].as_u64().unwrap(),
                v["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let names = [
        "НДС 20%",
        "НДС 10%",
        "НДС 0%",
        "БЕЗ НДС",
        "НДС 20/120",
        "НДС 10/110",
        "НДС 5%",
        "НДС 7%",
        "НДС 5/105%",
        "НДС 7/107%",
        "НДС 22%",
        "НДС 22/122",
    ];
    let expect: Vec<(u64, u64, String)> = (1..=12u64)
        .map(|r| (r, want[r as usize], names[r as usize - 1].to_string()))
        .collect();
    assert_eq!(got, expect, "{doc}");
    // 22 % included in 16.00 (positions 3 and 13): 2.89.
    assert_eq!(doc["vat"][10]["amount"], 289, "{doc}");
    assert_eq!(doc["total"], 10500);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_register_without_22_percent_refuses_it_at_once_naming_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::start(dir.path(), &["--tax-table", "2021"]);
    let config = write_config(dir.path(), &register.tty, &GatewayOptions::default());
    let gateway = Gateway::start(dir.path(), &config);
    let pos = Pos::new(&gateway.base);

    let (code, body) = pos
        .post("formReceipt", &sale("vat-22", &[2, 3], true))
        .await;
    assert_eq!(code, 200, "{body}");
    let failed = pos.settled("vat-22").await;
    assert_eq!(failed["status"], 3, "{failed}");
    assert_eq!(failed["errorCode"], "NO_TAX_GROUP", "{failed}");
    let message = failed["errorMessage"].as_str().unwrap_or_default();
    assert!(message.contains("НДС 22%"), "{failed}");
    assert!(
        receipts(&register.archive()).is_empty(),
        "no receipt was made"
    );

    // 20 % (extension code 11) and 10 % are in this table: rows 1 and 2.
    let (code, body) = pos
        .post("formReceipt", &sale("vat-20", &[11, 2], true))
        .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(pos.settled("vat-20").await["status"], 2);
    let docs = receipts(&register.archive());
    let rows: Vec<&Value> = docs[0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["tax_group"])
        .collect();
    assert_eq!(rows, [1, 2]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_electronic_receipt_is_in_the_fn_and_not_on_the_tape() {
    let rig = Rig::start(GatewayOptions::default());
    let (code, body) = rig.pos.post("formReceipt", &sale("e-1", &[3], false)).await;
    assert_eq!(code, 200, "{body}");
    let done = rig.pos.settled("e-1").await;
    assert_eq!(done["status"], 2, "{done}");
    let docs = receipts(&rig.register.archive());
    assert_eq!(docs.len(), 1);
    assert_eq!(
        done["fiscalParams"]["fiscalDocumentNumber"], docs[0]["fd"],
        "{done}"
    );
    let contact = docs[0]["tlvs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == 1008)
        .expect("tag 1008 sent");
    let bytes: Vec<u8> = contact["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(bytes, b"customer@example.com");
    assert!(
        !rig.register.tape().contains("Позиция 3"),
        "{}",
        rig.register.tape()
    );

    // The next receipt is printed again.
    let (code, body) = rig.pos.post("formReceipt", &sale("p-1", &[2], true)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(rig.pos.settled("p-1").await["status"], 2);
    let printed = rig.register.tape();
    assert!(printed.contains("Позиция 2"), "{printed}");
    assert!(!printed.contains("Позиция 3"), "{printed}");
}
