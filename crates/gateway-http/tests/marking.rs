//! A position's marking code (issue 9 part 3): `markingCode` as scanned (GS as `\u001d`) or
//! `markingCodeBase64`, stored byte for byte; a bad code, both fields at once, or a marked
//! position outside sale and sale-return is a 400 naming the field, with nothing queued.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use fiscal_model::Receipt;
use serde_json::{json, Value};
use support::*;

const CODE: &[u8] = b"0104601234567890215abcDE\x1d93ABCD";

fn code_of(r: &Receipt, i: usize) -> Option<Vec<u8>> {
    r.items[i]
        .attributes
        .marking_code
        .as_ref()
        .map(|c| c.as_bytes().to_vec())
}

#[tokio::test]
async fn a_code_as_text_or_base64_is_stored_byte_for_byte() {
    let rig = rig();
    let text = std::str::from_utf8(CODE).unwrap();
    let b = seed_with("m-1", &[("/positions/0/markingCode", json!(text))]);
    // The JSON carries the GS as \u001d.
    assert!(serde_json::to_string(&b).unwrap().contains("\\u001d"));
    let (code, answer) = rig.post("formReceipt", &b).await;
    assert_eq!(code, 200, "{answer}");
    let r = stored_receipt(&rig, "m-1").await;
    assert_eq!(code_of(&r, 0).as_deref(), Some(CODE));
    assert_eq!(code_of(&r, 1), None);

    // "0104601234567890215abcDE\x1d93ABCD" in standard base64, without padding too.
    let encoded = "MDEwNDYwMTIzNDU2Nzg5MDIxNWFiY0RFHTkzQUJDRA==";
    for (id, value) in [("m-2", encoded), ("m-3", encoded.trim_end_matches('='))] {
        let b = seed_with(id, &[("/positions/1/markingCodeBase64", json!(value))]);
        let (code, answer) = rig.post("formReceipt", &b).await;
        assert_eq!(code, 200, "{answer}");
        assert_eq!(
            code_of(&stored_receipt(&rig, id).await, 1).as_deref(),
            Some(CODE)
        );
    }
}

#[tokio::test]
async fn bad_codes_are_a_400_naming_the_field() {
    let rig = rig();
    let text = std::str::from_utf8(CODE).unwrap();
    let cases: Vec<(Vec<(&str, Value)>, &str)> = vec![
        (
            vec![("/positions/0/markingCode", json!("0104601234567890215абв"))],
            "positions[0].markingCode",
        ),
        (
            vec![("/positions/0/markingCode", json!("01 02"))],
            "positions[0].markingCode",
        ),
        (
            vec![("/positions/0/markingCode", json!("0".repeat(201)))],
            "positions[0].markingCode",
        ),
        (
            vec![("/positions/0/markingCode", json!(5))],
            "positions[0].markingCode",
        ),
        (
            vec![("/positions/1/markingCodeBase64", json!("not base64!"))],
            "positions[1].markingCodeBase64",
        ),
        (
            vec![
                ("/positions/0/markingCode", json!(text)),
                ("/positions/0/markingCodeBase64", json!("MDE=")),
            ],
            "positions[0].markingCodeBase64",
        ),
        (
            vec![
                ("/positions/0/markingCode", json!(text)),
                ("/receiptType", json!(3)),
            ],
            "positions[0].markingCode",
        ),
        (
            vec![
                ("/positions/0/markingCode", json!(text)),
                ("/receiptType", json!(4)),
            ],
            "positions[0].markingCode",
        ),
    ];
    for (i, (changes, field)) in cases.iter().enumerate() {
        let (code, answer) = rig.post("formReceipt", &seed_with("b-1", changes)).await;
        assert_eq!(code, 400, "case {i} ({field}): {answer}");
        assert_eq!(
            assert_error_shape(&answer).as_deref(),
            Some(*field),
            "case {i}: {answer}"
        );
    }
    assert_eq!(rig.status("b-1").await.0, 404, "nothing was queued");

    // A sale return takes marked items.
    let b = seed_with(
        "r-1",
        &[
            ("/positions/0/markingCode", json!(text)),
            ("/receiptType", json!(2)),
        ],
    );
    assert_eq!(rig.post("formReceipt", &b).await.0, 200);
}
