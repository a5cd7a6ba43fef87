//! The SmartOne Cashbox dialect end to end: the real gateway process on its own SmartOne
//! listener, the virtual register on a pty. Bodies are signed as SmartOne clients sign them
//! (`data=<Base64 JSON>&sign=…`, only `=` escaped), with the reference's own merchantID, so
//! the reference's worked example is accepted verbatim.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use support::{token, until, DevGateway, GatewayOptions, Rig};

/// The merchantID of the reference's worked example (§2.2).
const MERCHANT: &str = "9662a13f5b4f46dbb1751bbbf86ed402";
const RECEIPT: u64 = 3;

struct SmartOne {
    http: reqwest::Client,
    base: String,
}

impl SmartOne {
    fn of(rig: &Rig) -> SmartOne {
        let base = rig.gateway.proc.wait_line("smartone: http://");
        SmartOne {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap(),
            base,
        }
    }

    /// The body a SmartOne client sends for `json`.
    fn body(json: &Value) -> String {
        Self::signed(json, MERCHANT)
    }

    fn signed(json: &Value, merchant: &str) -> String {
        let data = base64::engine::general_purpose::STANDARD.encode(json.to_string());
        let sign = gateway_http::smartone::sign(&data, merchant);
        format!(
            "data={}&sign={}",
            data.replace('=', "%3D"),
            sign.replace('=', "%3D")
        )
    }

    async fn raw(&self, route: &str, body: String) -> Result<Value, reqwest::Error> {
        let r = self
            .http
            .post(format!("http://{}{route}", self.base))
            .header("Content-Type", "text/plain;")
            .body(body)
            .send()
            .await?;
        assert_eq!(r.status().as_u16(), 200, "{route}");
        Ok(r.json().await.unwrap())
    }

    async fn post(&self, route: &str, json: &Value) -> Value {
        self.raw(route, Self::body(json)).await.unwrap()
    }

    /// A plain JSON body (not the signed form), with the gateway's token when given.
    async fn plain_json(&self, route: &str, bearer: Option<&str>, json: &Value) -> Value {
        let mut request = self.http.post(format!("http://{}{route}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request
            .json(json)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

fn rig(answer_within: u64) -> Rig {
    Rig::start(GatewayOptions {
        extra_toml: format!(
            "\n[smartone]\nlisten = \"127.0.0.1:0\"\nmerchant_id = \"{MERCHANT}\"\nanswer_within_seconds = {answer_within}\n"
        ),
        ..GatewayOptions::default()
    })
}

fn receipts(rig: &Rig) -> Vec<Value> {
    rig.register.documents(RECEIPT)
}

/// `text` in CP866, the code page of the FN's text tags.
fn cp866(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            'А'..='п' => (c as u32 - 'А' as u32 + 0x80) as u8,
            'р'..='я' => (c as u32 - 'р' as u32 + 0xE0) as u8,
            'Ё' => 0xF0,
            'ё' => 0xF1,
            _ => c as u8,
        })
        .collect()
}

fn tag(doc: &Value, tag: u64) -> Option<Vec<u8>> {
    doc["tlvs"]
        .as_array()?
        .iter()
        .find(|t| t["tag"] == tag)
        .map(|t| serde_json::from_value(t["value"].clone()).unwrap())
}

/// The seed's `/sale` fields, two items (one with a discount), every payment kind.
fn seed_sale(doc_number: &str) -> Value {
    json!({
        "docTime": "2026-12-04 10:15:00",
        "docNumber": doc_number,
        "wsName": "3",
        "departmentName": "Магазин у дома",
        "employeeName": "Иванов Иван",
        "amount": 30000,
        "currency": "RUB",
        "items": [
            {"itemId": "1111", "itemName": "Семечки", "itemAttr": 0, "itemQRCode": "",
             "itemQty": 2000, "itemAmount": 15000, "discount": 500,
             "itemTaxes": [{"taxName": "НДС", "taxPrc": 2200, "calcType": 1}],
             "itemMarginSum": null, "itemMarginPrice": null},
            {"itemId": "2222", "itemName": "Сыр весовой", "itemQty": 1500, "itemAmount": 15000,
             "discount": 0, "itemTaxes": [{"taxName": "НДС", "taxPrc": 1000}]}
        ],
        "payments": {"cashAmount": 10000, "cashlessAmount": 8000, "creditAmount": 0,
                     "bonusesAmount": 2000, "prepaymentAmount": 4000, "installmentAmount": 6000},
        "printFooter": "Спасибо за покупку!"
    })
}

fn small_sale(doc_number: &str, amount: u64) -> Value {
    json!({
        "docTime": "2026-12-04 11:00:00",
        "docNumber": doc_number,
        "employeeName": "Иванов Иван",
        "amount": amount,
        "currency": "RUB",
        "items": [{"itemName": "Вода", "itemQty": 1000, "itemAmount": amount,
                   "itemTaxes": [{"taxPrc": 2200}]}],
        "payments": {"cashAmount": amount}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_sale_reaches_the_fn_with_its_items_taxes_payments_and_cashier() {
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    let answer = so.post("/sale", &seed_sale("S-1")).await;
    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(answer["code"], 0);
    assert_eq!(answer["docStatus"], 1);
    let docs = receipts(&rig);
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(answer["fiscalID"], doc["fiscal_sign"].to_string());
    assert_eq!(answer["fiscalNum"], doc["fd"].to_string());
    assert_eq!(
        answer["checkNum"],
        doc["receipt_number_in_shift"].to_string()
    );
    assert!(answer["documentID"].is_u64());
    assert_eq!(doc["total"], 30000);
    let items = doc["items"].as_array().unwrap();
    let sums: Vec<u64> = items.iter().map(|i| i["sum"].as_u64().unwrap()).collect();
    assert_eq!(sums.iter().sum::<u64>(), 30000, "{items:?}");
    assert_eq!(items[0]["name"], "Семечки");
    assert_eq!(items[0]["sum"], 15000);
    // 1.5 × 100.00: the price is derived from what is paid.
    let cheese: Vec<&Value> = items
        .iter()
        .filter(|i| i["name"] == "Сыр весовой")
        .collect();
    assert_eq!(
        cheese
            .iter()
            .map(|i| i["sum"].as_u64().unwrap())
            .sum::<u64>(),
        15000
    );
    // Each line's turnover on the table-6 row of its rate: 150.00 at 22 % (VAT 27.05 included),
    // 150.00 at 10 % (13.64).
    let vat: Vec<(u64, u64, u64)> = doc["vat"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["turnover"].as_u64().unwrap() > 0)
        .map(|v| {
            (
                v["rate"].as_u64().unwrap(),
                v["turnover"].as_u64().unwrap(),
                v["amount"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(vat.contains(&(2200, 15000, 2705)), "{vat:?}");
    assert!(vat.contains(&(1000, 15000, 1364)), "{vat:?}");
    // Credit and installment: partly on credit (tag 1214 = 5).
    assert_eq!(items[0]["payment_method"], 5);
    let payments: Vec<u64> = serde_json::from_value(doc["payments"].clone()).unwrap();
    assert_eq!(payments[0], 10000, "cash");
    assert_eq!(payments[1..13].iter().sum::<u64>(), 8000, "cashless");
    assert_eq!(payments[13], 4000, "prepayment (1215)");
    assert_eq!(payments[14], 6000, "credit + installment (1216)");
    assert_eq!(payments[15], 2000, "bonuses as counter-provision (1217)");
    assert_eq!(tag(doc, 1021), Some(cp866("Иванов Иван")));
    let tape = rig.register.tape();
    for text in [
        "Магазин у дома",
        "Касса: 3",
        "Скидка",
        "Спасибо за покупку!",
    ] {
        assert!(tape.contains(text), "{text:?} not on the tape:\n{tape}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_references_example_verifies_and_tampering_or_no_token_is_code_1() {
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    // Reference §2.2 verbatim: the signature verifies; the AZN document is then refused on
    // its currency (code 3), not on its signature.
    let data = "eyJkb2NOdW1iZXIiOiAgIjEyMyIsImVtcGxveWVlTmFtZSI6ICLQmNCy0LDQvdC+0LIiLCJhbW91bnQiOiAgMTUwMDAsImN1cnJlbmN5IjogIkFaTiIsCiAiaXRlbXMiOiBbeyJpdGVtSWQiOiAiMTExMSIsICJpdGVtTmFtZSI6ICLQodC10LzQtdGH0LrQuCIsICJpdGVtUVJDb2RlIjogIiIsICJpdGVtUXR5IjogMjAwMCwKICJpdGVtQW1vdW50IjogMTUwMDAsImRpc2NvdW50IjogMCwiaXRlbVRheGVzIjogW3sidGF4TmFtZSI6ICLQndCU0KEiLCJ0YXhQcmMiOiAxODAwfV19XSwKICJwYXltZW50cyIgOiB7ImNhc2hBbW91bnQiOiAxNTAwMCwiY2FzaGxlc3NBbW91bnQiOiAwLCJvdGhlckFtb3VudCI6IDB9fQ%3D%3D";
    let sign = "ZmNlOTU1MjlkNzI0NjYxOTE2ODNlMDJiMTdhOGIxMjA0YzE2NWE0OQ%3D%3D";
    let answer = so
        .raw("/sale", format!("data={data}&sign={sign}"))
        .await
        .unwrap();
    assert_eq!(answer["code"], 3, "{answer}");
    assert!(answer["message"].as_str().unwrap().starts_with("currency"));

    let tampered_data = format!("data={}&sign={sign}", data.replacen("eyJk", "eyJl", 1));
    assert_eq!(so.raw("/sale", tampered_data).await.unwrap()["code"], 1);
    let tampered_sign = format!("data={data}&sign={}", sign.replacen("ZmNl", "ZmNm", 1));
    assert_eq!(so.raw("/sale", tampered_sign).await.unwrap()["code"], 1);
    let body = SmartOne::body(&small_sale("J-1", 100));
    assert_eq!(
        so.raw("/sale", body.replace("sign=", "sig="))
            .await
            .unwrap()["code"],
        1
    );

    // A plain JSON body as the seed prints it: only with the gateway's token.
    let no_token = so.plain_json("/check_shift", None, &json!({})).await;
    assert_eq!(no_token["code"], 1, "{no_token}");
    let bad_token = so
        .plain_json("/check_shift", Some("not-a-token"), &json!({}))
        .await;
    assert_eq!(bad_token["code"], 1);
    let sale = so
        .plain_json("/sale", Some(&token(json!({}))), &small_sale("J-2", 100))
        .await;
    assert_eq!(sale["code"], 0, "{sale}");
    assert_eq!(
        receipts(&rig).len(),
        1,
        "only the token's sale was fiscalized"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_repeated_document_prints_a_copy_and_never_a_second_fiscal_document() {
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    let first = so.post("/sale", &small_sale("R-1", 5000)).await;
    assert_eq!(first["code"], 0, "{first}");
    let copies_before = rig.register.tape().matches("КОПИЯ").count();
    let again = so.post("/sale", &small_sale("R-1", 5000)).await;
    assert_eq!(again["code"], 0, "{again}");
    for field in ["fiscalID", "fiscalNum", "documentID", "checkNum"] {
        assert_eq!(again[field], first[field], "{field}");
    }
    assert_eq!(receipts(&rig).len(), 1);
    assert!(
        rig.register.tape().matches("КОПИЯ").count() > copies_before,
        "no copy printed"
    );

    // The same docTime + docNumber with another amount is another document.
    let other = so.post("/sale", &small_sale("R-1", 5100)).await;
    assert_eq!(other["code"], 0);
    assert_ne!(other["fiscalNum"], first["fiscalNum"]);

    // `fiscalID` in the request asks for a copy of that document.
    let mut copy = small_sale("R-9", 100);
    copy["fiscalID"] = first["fiscalID"].clone();
    let copied = so.post("/sale", &copy).await;
    assert_eq!(copied["fiscalNum"], first["fiscalNum"]);
    assert_eq!(receipts(&rig).len(), 2);

    // Two identical requests at once: one fiscal document, one answer for both.
    let body = small_sale("R-2", 7000);
    let (a, b) = tokio::join!(so.post("/sale", &body), so.post("/sale", &body));
    assert_eq!(a["code"], 0, "{a}");
    assert_eq!(b["code"], 0, "{b}");
    assert_eq!(a["fiscalID"], b["fiscalID"]);
    let docs = receipts(&rig);
    assert_eq!(docs.len(), 3);
    assert_eq!(docs.iter().filter(|d| d["total"] == 7000).count(), 1);

    // Status and copy by the gateway's documentID.
    let status = so
        .post("/check_status", &json!({"documentID": first["documentID"]}))
        .await;
    assert_eq!(status["fiscalID"], first["fiscalID"], "{status}");
    let by_key = so
        .post(
            "/last_document",
            &json!({"docTime": "2026-12-04 11:00:00", "docNumber": "R-1", "amount": 5000}),
        )
        .await;
    assert_eq!(by_key["fiscalNum"], first["fiscalNum"], "{by_key}");
    let copy = so
        .post("/check_copy", &json!({"documentID": first["documentID"]}))
        .await;
    assert_eq!(copy["code"], 0, "{copy}");
    assert_eq!(copy["items"][0]["itemName"], "Вода");
    assert_eq!(receipts(&rig).len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refund_returns_only_what_was_sold_and_not_yet_returned() {
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    let mut sale = small_sale("F-1", 3000);
    sale["items"][0]["itemQty"] = json!(3000);
    let sold = so.post("/sale", &sale).await;
    assert_eq!(sold["code"], 0, "{sold}");
    let refund = |doc: &str, qty: u64, amount: u64, name: &str| {
        json!({
            "docTime": "2026-12-04 12:00:00", "docNumber": doc, "amount": amount,
            "parentDocID": sold["fiscalID"],
            "items": [{"itemName": name, "itemQty": qty, "itemAmount": amount,
                       "itemTaxes": [{"taxPrc": 2200}]}],
            "payments": {"cashAmount": amount}
        })
    };
    let first = so.post("/refund", &refund("B-1", 2000, 2000, "Вода")).await;
    assert_eq!(first["code"], 0, "{first}");
    let docs = receipts(&rig);
    let returned = docs
        .iter()
        .find(|d| {
            d["fiscal_sign"].as_u64().map(|n| n.to_string()).as_deref()
                == first["fiscalID"].as_str()
        })
        .unwrap();
    assert_eq!(returned["operation"], 2, "a sale return");
    let too_many = so.post("/refund", &refund("B-2", 2000, 2000, "Вода")).await;
    assert_eq!(too_many["code"], 19, "{too_many}");
    let not_sold = so.post("/refund", &refund("B-3", 1000, 1000, "Хлеб")).await;
    assert_eq!(not_sold["code"], 18, "{not_sold}");
    let mut unknown = refund("B-4", 1000, 1000, "Вода");
    unknown["parentDocID"] = json!("12345");
    assert_eq!(so.post("/refund", &unknown).await["code"], 9);
    let last = so.post("/refund", &refund("B-5", 1000, 1000, "Вода")).await;
    assert_eq!(last["code"], 0, "the last unit: {last}");
    assert_eq!(receipts(&rig).len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shift_report_and_cash_routes_answer_from_the_register() {
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    let opened = so
        .post("/open_shift", &json!({"employeeName": "Иванов Иван"}))
        .await;
    assert_eq!(opened["code"], 0, "{opened}");
    let shift = opened["shiftID"].clone();
    assert!(opened["fiscalID"].is_string());
    let again = so.post("/open_shift", &json!({})).await;
    assert_eq!(again["code"], 6, "already open: {again}");
    // The register's facts as the worker last read them: read again after the report.
    let check = until("the shift to read open", || async {
        let c = so.post("/check_shift", &json!({})).await;
        (c["isShiftOpen"] == "true").then_some(c)
    })
    .await;
    assert_eq!(check["shiftID"], shift);
    let deposit = so.post("/deposit", &json!({"amount": 50000})).await;
    assert_eq!(deposit["code"], 0, "{deposit}");
    assert_eq!(deposit["cashIn"], 50000);
    let withdraw = so.post("/withdraw", &json!({"amount": 20000})).await;
    assert_eq!(withdraw["code"], 0, "{withdraw}");
    let too_much = so.post("/withdraw", &json!({"amount": 10_000_000})).await;
    assert_eq!(too_much["code"], 9, "{too_much}");
    let x = so.post("/x_report", &json!({})).await;
    assert_eq!(x["code"], 0, "{x}");
    assert_eq!(x["shiftID"], shift);
    let closed = so
        .post("/close_shift", &json!({"employeeName": "Иванов Иван"}))
        .await;
    assert_eq!(closed["code"], 0, "{closed}");
    assert_eq!(closed["fiscalShiftID"], shift);
    assert_eq!(so.post("/close_shift", &json!({})).await["code"], 6);
    assert_eq!(so.post("/x_report", &json!({})).await["code"], 6);
    let check = until("the shift to read closed", || async {
        let c = so.post("/check_shift", &json!({})).await;
        (c["isShiftOpen"] == "false").then_some(c)
    })
    .await;
    assert_eq!(check["shiftStatus"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_error_code_comes_from_a_real_request() {
    let rig = rig(2);
    let so = SmartOne::of(&rig);
    let code = |v: Value| v["code"].as_u64().unwrap();
    // 2: data is not Base64 of JSON.
    let not_json = base64::engine::general_purpose::STANDARD.encode("{items:");
    let body = format!(
        "data={}&sign={}",
        not_json,
        gateway_http::smartone::sign(&not_json, MERCHANT)
    );
    assert_eq!(code(so.raw("/sale", body).await.unwrap()), 2);
    // 3: items missing.
    let mut v = small_sale("E-3", 100);
    v.as_object_mut().unwrap().remove("items");
    assert_eq!(code(so.post("/sale", &v).await), 3);
    // 4: amount ≠ Σ itemAmount.
    let mut v = small_sale("E-4", 100);
    v["amount"] = json!(101);
    assert_eq!(code(so.post("/sale", &v).await), 4);
    // 7: a payment type without a fiscal place.
    let mut v = small_sale("E-7", 100);
    v["payments"]["otherAmount"] = json!(100);
    v["payments"]["cashAmount"] = json!(0);
    assert_eq!(code(so.post("/sale", &v).await), 7);
    // 8: not fully paid.
    let mut v = small_sale("E-8", 100);
    v["payments"]["cashAmount"] = json!(99);
    assert_eq!(code(so.post("/sale", &v).await), 8);
    // 9: a copy of an unknown document.
    let mut v = small_sale("E-9", 100);
    v["fiscalID"] = json!("4000000000");
    assert_eq!(code(so.post("/sale", &v).await), 9);
    assert_eq!(
        code(
            so.post("/check_copy", &json!({"documentID": 999_999_999}))
                .await
        ),
        9
    );
    // 11: change from a card.
    let mut v = small_sale("E-11", 100);
    v["payments"] = json!({"cashAmount": 0, "cashlessAmount": 200});
    assert_eq!(code(so.post("/sale", &v).await), 11);
    // 12: a rate the register cannot fiscalize, named.
    let mut v = small_sale("E-12", 100);
    v["items"][0]["itemTaxes"][0]["taxPrc"] = json!(1800);
    let answer = so.post("/sale", &v).await;
    assert_eq!(code(answer.clone()), 12);
    assert!(answer["message"].as_str().unwrap().contains("18 %"));
    // 6: closing a closed shift.
    assert_eq!(code(so.post("/close_shift", &json!({})).await), 6);
    // Nothing of the refused requests reached the FN.
    assert!(receipts(&rig).is_empty());
    // 5: the register does not answer within the limit; the document goes on, and the same
    // request later gets its result.
    assert_eq!(rig.register.control("power off").trim(), "ok");
    let v = small_sale("E-5", 100);
    let pending = so.post("/sale", &v).await;
    assert_eq!(code(pending.clone()), 5, "{pending}");
    assert!(pending["message"].as_str().unwrap().contains("repeat"));
    assert_eq!(rig.register.control("power on").trim(), "ok");
    let done = until("the document to be made", || async {
        let a = so.post("/sale", &v).await;
        (a["code"] == 0).then_some(a)
    })
    .await;
    assert_eq!(receipts(&rig).len(), 1);
    assert_eq!(done["fiscalNum"], receipts(&rig)[0]["fd"].to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_killed_during_a_synchronous_sale_answers_the_repeat_with_the_one_fd() {
    let mut rig = rig(60);
    let so = SmartOne::of(&rig);
    // The register commits the receipt and loses power before it answers; meanwhile the
    // gateway is killed with the request in flight.
    assert_eq!(
        rig.register
            .control("power-cut after-commit FF45 stay-off")
            .trim(),
        "ok"
    );
    let sale = small_sale("K-1", 4200);
    let request = SmartOne::body(&sale);
    let in_flight = {
        let http = so.http.clone();
        let url = format!("http://{}/sale", so.base);
        tokio::spawn(async move { http.post(url).body(request).send().await })
    };
    rig.register.power_cut_struck().await;
    rig.gateway.proc.kill();
    let cut = in_flight.await.unwrap();
    assert!(cut.is_err(), "the killed gateway answered: {cut:?}");
    assert_eq!(receipts(&rig).len(), 1, "the FN closed the receipt");
    assert_eq!(rig.register.control("power on").trim(), "ok");
    rig.gateway.restart();
    let so = SmartOne::of(&rig);
    let answer = so.post("/sale", &sale).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let docs = receipts(&rig);
    assert_eq!(docs.len(), 1, "one fiscal document");
    assert_eq!(answer["fiscalID"], docs[0]["fiscal_sign"].to_string());
    assert_eq!(answer["fiscalNum"], docs[0]["fd"].to_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sale_on_a_shift_past_24_hours_is_code_22_and_makes_nothing() {
    let rig = Rig::start(GatewayOptions {
        deadline_seconds: 3,
        extra_toml: format!(
            "\n[registers.shift]\nclose_before_24h = false\n\n[smartone]\nlisten = \"127.0.0.1:0\"\nmerchant_id = \"{MERCHANT}\"\nanswer_within_seconds = 60\n"
        ),
        ..GatewayOptions::default()
    });
    let so = SmartOne::of(&rig);
    let opened = so.post("/open_shift", &json!({})).await;
    assert_eq!(opened["code"], 0, "{opened}");
    assert_eq!(rig.register.control("clock-offset 1500").trim(), "ok");
    let answer = so.post("/sale", &small_sale("H-1", 100)).await;
    assert_eq!(answer["code"], 22, "{answer}");
    assert!(receipts(&rig).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_marked_items_return_carries_the_code_it_was_sold_with() {
    const MILK: &str = "0104601234567890215abcDE\u{1d}93ABCD";
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    let mut sale = small_sale("M-1", 9000);
    sale["items"][0]["itemName"] = json!("Молоко");
    sale["items"][0]["itemQRCode"] = json!(MILK);
    let sold = so.post("/sale", &sale).await;
    assert_eq!(sold["code"], 0, "{sold}");
    let refund = json!({
        "docTime": "2026-12-04 12:30:00", "docNumber": "MR-1", "amount": 9000,
        "parentDocID": sold["fiscalID"],
        "items": [{"itemName": "Молоко", "itemQty": 1000, "itemAmount": 9000,
                   "itemTaxes": [{"taxPrc": 2200}]}],
        "payments": {"cashAmount": 9000}
    });
    let returned = so.post("/refund", &refund).await;
    assert_eq!(returned["code"], 0, "{returned}");
    let docs = receipts(&rig);
    assert_eq!(docs.len(), 2);
    for doc in &docs {
        let item = &doc["items"][0];
        let code = item["tlvs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == 2000)
            .map(|t| serde_json::from_value::<Vec<u8>>(t["value"].clone()).unwrap());
        assert_eq!(code, Some(MILK.as_bytes().to_vec()), "{doc}");
    }
    assert_eq!(docs[1]["operation"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_emulator_turns_the_dialect_on_with_a_development_merchant() {
    let dev = DevGateway::start();
    let (address, merchant) = dev
        .smartone
        .split_once(" merchantID=")
        .expect("address and merchantID on the line");
    assert_eq!(merchant.len(), 32);
    let so = SmartOne {
        http: reqwest::Client::new(),
        base: address.to_string(),
    };
    let answer = so
        .raw("/sale", SmartOne::signed(&small_sale("D-1", 100), merchant))
        .await
        .unwrap();
    assert_eq!(answer["code"], 0, "{answer}");
    assert!(answer["fiscalID"].is_string());
    let foreign = so
        .raw("/sale", SmartOne::signed(&small_sale("D-2", 100), MERCHANT))
        .await
        .unwrap();
    assert_eq!(foreign["code"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn paper_run_out_after_the_fn_closed_the_sale_is_a_success_with_print_error() {
    let rig = rig(60);
    let so = SmartOne::of(&rig);
    // A first sale opens the shift, so the paper runs out on the sale's own print and not on
    // the shift report's.
    let warm = so.post("/sale", &small_sale("P-0", 100)).await;
    assert_eq!(warm["code"], 0, "{warm}");
    // The paper runs out a few lines into the receipt, after the FN closed it.
    assert_eq!(rig.register.control("paper out-after 3").trim(), "ok");
    let answer = so.post("/sale", &small_sale("P-1", 3100)).await;
    assert_eq!(
        answer["code"], 0,
        "a fiscalized sale is a success: {answer}"
    );
    assert_eq!(answer["status"], "success", "{answer}");
    assert_eq!(answer["printError"], 1, "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("бумаг"),
        "a message about the paper: {answer}"
    );
    let docs = receipts(&rig);
    assert_eq!(docs.len(), 2);
    let doc = docs.iter().find(|d| d["total"] == 3100).unwrap();
    assert_eq!(answer["fiscalID"], doc["fiscal_sign"].to_string());
    assert_eq!(answer["fiscalNum"], doc["fd"].to_string());
    assert_eq!(
        answer["checkNum"],
        doc["receipt_number_in_shift"].to_string()
    );
}
