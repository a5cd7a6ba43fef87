//! The CashDesk v2 dialect end to end: the real gateway process with the dialect on its API
//! listener under `/api/v2`, the virtual register on a pty. The seed's example request is
//! sent verbatim (only its `api_token` replaced).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine as _;
use serde_json::{json, Value};
use support::browser::Browser;
use support::{until, DevGateway, GatewayOptions, Rig};

const NUM_FISCAL: u64 = 4000022469;
const TOKEN: &str = "42b5eaccba739f08aa11e7fe157eba8bf";
const RECEIPT: u64 = 3;
const SHIFT_OPENING: u64 = 2;
const Z_REPORT: u64 = 5;

struct Desk {
    http: reqwest::Client,
    base: String,
}

/// An answer: status, `Shift-state` header, body.
struct Reply {
    status: u16,
    shift: Option<String>,
    body: Value,
}

impl Desk {
    fn of(base: &str) -> Desk {
        Desk {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap(),
            base: format!("http://{base}/api/v2"),
        }
    }

    async fn reply(r: reqwest::RequestBuilder) -> Reply {
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let shift = r
            .headers()
            .get("Shift-state")
            .map(|v| v.to_str().unwrap().to_string());
        let body = r.json().await.unwrap();
        Reply {
            status,
            shift,
            body,
        }
    }

    /// POST `body` to `path` with `?api_token=` (as the seed's URI).
    async fn post(&self, path: &str, body: &Value) -> Reply {
        Self::reply(
            self.http
                .post(format!("{}{path}?api_token={TOKEN}", self.base))
                .header("Accept", "application/json")
                .header("developer-id", "tests")
                .json(body),
        )
        .await
    }

    async fn tax_object(&self, auth: &str) -> Reply {
        Self::reply(
            self.http
                .get(format!("{}/tax_objects/{NUM_FISCAL}", self.base))
                .header("Authorization", auth),
        )
        .await
    }

    /// Waits until the worker has looked at the register (its shift is known).
    async fn known(&self) -> Value {
        until("the register's shift known", || async {
            let r = self.tax_object(&format!("Bearer {TOKEN}")).await;
            (!r.body["data"]["shift"].is_null()).then_some(r.body)
        })
        .await
    }
}

fn digest(token: &str) -> String {
    hex::encode(gateway_http::cashdesk::token_digest(token))
}

fn rig() -> Rig {
    Rig::start(GatewayOptions {
        register_toml: format!(
            "cashdesk_num_fiscal = {NUM_FISCAL}\ncashdesk_api_tokens = [\"{}\"]\n",
            digest(TOKEN)
        ),
        extra_toml: "\n[cashdesk]\nrounding = \"10\"\nanswer_within_seconds = 60\n".into(),
        ..GatewayOptions::default()
    })
}

/// The seed's example request, verbatim but for the token.
fn seed() -> Value {
    let text = r#"{
"api_token": "42b5eaccba739f08aa11e7fe157eba8bf",
"num_fiscal": 4000022469,
"action_type": "Z_SALE",
"local_number": 12,
"total_sum": 50.1,
"round_sum": 0.04,
"products": [
{
"letters": "А",
"tax_prc": "20",
"excise_prc": "5",
"code": "821",
"unit_code": "2009",
"unit_name": "штука",
"name": "Вода питна",
"uktzed": 4823004003572,
"amount": "1",
"price": "50.06",
"cost": "50.06",
"sum_discount": "0"
}
],
"payments": [
{
"code": 0,
"name": "ГОТIВКА",
"sum": 25.1,
"sum_provided": 100
},
{
"code": 1,
"name": "KARTKA",
"sum": 25,
"sum_provided": 25,
"pay_terminal": {
"name": "493084867",
"terminal_id": "40904582",
"epz": "4149XXXXXXXX5807",
"card_type": "VISA GOLD",
"auth_code": "538296",
"rrn": "000018706638",
"additional_text": "Тримач ЕПЗ - підпис",
"payment_system": "Test pay system"
}
}
],
"footer": "This is my\n custom footer! Welcome to CashDesk! \n Test \n Next line text!",
"open_shift": true,
"print_width": 32,
"pdf_width": 48
}"#;
    serde_json::from_str(text).unwrap()
}

/// A cash sale of `price` (already a multiple of 10 kopecks).
fn small_sale(local_number: u64, price: &str, open_shift: Option<bool>) -> Value {
    let mut b = json!({
        "num_fiscal": NUM_FISCAL, "action_type": "Z_SALE", "local_number": local_number,
        "total_sum": price,
        "products": [{"name": "Хліб", "amount": 1, "price": price, "cost": price, "letters": "Б", "tax_prc": 0}],
        "payments": [{"code": 0, "name": "ГОТІВКА", "sum": price, "sum_provided": price}]
    });
    if let Some(open) = open_shift {
        b["open_shift"] = json!(open);
    }
    b
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seeds_request_makes_one_rounded_receipt_and_a_replay_makes_none() {
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    assert_eq!(desk.known().await["data"]["shift"]["state"], "CLOSED");

    let sale = desk.post("/check/sale", &seed()).await;
    assert_eq!(sale.status, 200, "{}", sale.body);
    assert_eq!(sale.shift.as_deref(), Some("true"));
    let receipts = rig.register.documents(RECEIPT);
    assert_eq!(receipts.len(), 1);
    let doc = &receipts[0];
    assert_eq!(doc["total"], 5010, "the rounded total");
    assert_eq!(
        rig.register.documents(SHIFT_OPENING).len(),
        1,
        "open_shift: true opened it"
    );
    let a = &sale.body;
    assert_eq!(a["ORDERNUM"], doc["fd"].to_string());
    assert_eq!(a["MAC"], doc["fiscal_sign"].to_string());
    let date = a["ORDERDATE"].as_str().unwrap();
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{a}"
    );
    let time = a["ORDERTIME"].as_str().unwrap();
    assert!(
        chrono::NaiveTime::parse_from_str(time, "%H:%M:%S").is_ok(),
        "{a}"
    );
    assert_eq!(a["is_offline"], false);
    assert_eq!(a["local_number"], 12);
    let uuid = a["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(uuid.matches('-').count(), 4);
    assert!(a["cash_in_box"].is_number(), "{a}");
    check_rendering(&rig, a, doc);
    let tape = rig.register.tape();
    for text in [
        "Округление",
        "+0.04",
        "Решта/Сдача",
        "74.90",
        "УКТЗЕД 4823004003572",
        "custom footer!",
    ] {
        assert!(tape.contains(text), "{text:?} not on the tape:\n{tape}");
    }

    // The same request again: the same check, no new document.
    let fds = rig.register.archive().len();
    let again = desk.post("/check/sale", &seed()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    for field in [
        "ORDERNUM",
        "ORDERDATE",
        "ORDERTIME",
        "MAC",
        "uuid",
        "local_number",
    ] {
        assert_eq!(again.body[field], a[field], "{field}");
    }
    assert_eq!(rig.register.archive().len(), fds);

    // Another body under the same local_number: a conflict, nothing made.
    let mut other = seed();
    other["footer"] = json!("another footer");
    let conflict = desk.post("/check/sale", &other).await;
    assert_eq!(conflict.status, 409, "{}", conflict.body);
    assert_eq!(conflict.body["type"], "CONFLICT");
    assert!(conflict.body["message"]
        .as_str()
        .unwrap()
        .contains("local_number"));
    assert_eq!(rig.register.archive().len(), fds);

    // lastCheck names it.
    let last = desk
        .post("/shift/lastCheck", &json!({"num_fiscal": NUM_FISCAL}))
        .await;
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(last.body["local_number"], 12);
    assert_eq!(last.body["ORDERNUM"], a["ORDERNUM"]);
    assert_eq!(last.body["type_"], "Z_SALE");

    // A return of it (Z_RETURN as [PA] sends it); of an unknown sale: 404.
    let mut ret = seed();
    ret["action_type"] = json!("Z_RETURN");
    ret["local_number"] = json!(13);
    ret["return_number"] = json!(12);
    let r = desk.post("/check/sale", &ret).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let returns = rig.register.documents(RECEIPT);
    assert_eq!(returns.len(), 2);
    assert_eq!(returns[1]["total"], 5010);
    assert_eq!(r.body["ORDERNUM"], returns[1]["fd"].to_string());
    ret["action_type"] = json!("RETURN");
    ret["local_number"] = json!(14);
    ret["return_number"] = json!(99);
    let unknown = desk.post("/check/sale", &ret).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.body["message"]
        .as_str()
        .unwrap()
        .contains("return_number"));

    // A rounding the gateway does not agree with is refused naming the value expected.
    let mut wrong = seed();
    wrong["local_number"] = json!(15);
    wrong["round_sum"] = json!(0.03);
    let refused = desk.post("/check/sale", &wrong).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.body["message"].as_str().unwrap().contains("+0.04"),
        "{}",
        refused.body
    );
    assert_eq!(rig.register.documents(RECEIPT).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shift_the_cash_and_the_tokens_follow_the_register() {
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    let facts = desk.known().await;
    assert_eq!(facts["data"]["num_fiscal"], NUM_FISCAL);

    // Tokens: a wrong one is 401, an unknown register 404; the header works with and
    // without "Bearer".
    assert_eq!(desk.tax_object("Bearer wrong-token").await.status, 401);
    assert_eq!(desk.tax_object(TOKEN).await.status, 200);
    let unknown = Desk::reply(desk.http.get(format!(
        "{}/tax_objects/1234567890?api_token={TOKEN}",
        desk.base
    )))
    .await;
    assert_eq!(unknown.status, 404);
    let mut bad = small_sale(1, "10.00", Some(true));
    bad["api_token"] = json!("nope");
    let bad = Desk::reply(
        desk.http
            .post(format!("{}/check/sale", desk.base))
            .json(&bad),
    )
    .await;
    assert_eq!(bad.status, 401, "{}", bad.body);
    assert!(bad.body["message"].is_string() && bad.body["type"] == "UNAUTHORIZED");

    // A closed shift without open_shift: refused, nothing made.
    let closed = desk
        .post("/check/sale", &small_sale(1, "10.00", None))
        .await;
    assert_eq!(closed.status, 409, "{}", closed.body);
    assert_eq!(closed.body["type"], "SHIFT_CLOSED");
    assert_eq!(closed.shift.as_deref(), Some("false"));
    let x = desk
        .post("/shift/xReport", &json!({"num_fiscal": NUM_FISCAL}))
        .await;
    assert_eq!(x.status, 200);
    assert_eq!(x.body["shift_state"], false);
    let last = desk
        .post("/shift/lastCheck", &json!({"num_fiscal": NUM_FISCAL}))
        .await;
    assert_eq!(last.status, 200);
    assert!(last.body["ORDERNUM"].is_null() && last.body["local_number"].is_null());
    assert!(rig.register.documents(RECEIPT).is_empty());

    // The shift by hand.
    let open = desk
        .post(
            "/shift",
            &json!({"num_fiscal": NUM_FISCAL, "action_type": "OPEN_SHIFT"}),
        )
        .await;
    assert_eq!(open.status, 200, "{}", open.body);
    assert_eq!(open.shift.as_deref(), Some("true"));
    let openings = rig.register.documents(SHIFT_OPENING);
    assert_eq!(openings.len(), 1);
    assert_eq!(open.body["ORDERNUM"], openings[0]["fd"].to_string());
    let twice = desk
        .post(
            "/shift",
            &json!({"num_fiscal": NUM_FISCAL, "action_type": "OPEN_SHIFT"}),
        )
        .await;
    assert_eq!(twice.status, 409);
    assert_eq!(twice.body["type"], "SHIFT_OPENED");

    // Cash in and out.
    let input = desk
        .post(
            "/check/service",
            &json!({"num_fiscal": NUM_FISCAL, "action_type": "SERVICE_INPUT", "sum": "100.00"}),
        )
        .await;
    assert_eq!(input.status, 200, "{}", input.body);
    assert!(input.body["uuid"].is_string() && input.body["ORDERNUM"].is_string());
    let output = desk
        .post(
            "/check/service",
            &json!({"num_fiscal": NUM_FISCAL, "action_type": "SERVICE_OUTPUT", "sum": 30}),
        )
        .await;
    assert_eq!(output.status, 200, "{}", output.body);
    let cash = until("cash in the drawer 70.00", || async {
        let r = desk.tax_object(TOKEN).await;
        (r.body["data"]["cash_in_box"] == serde_json::from_str::<Value>("70.00").unwrap())
            .then_some(r)
    })
    .await;
    assert_eq!(cash.shift.as_deref(), Some("true"));
    let last = desk
        .post("/shift/lastCheck", &json!({"num_fiscal": NUM_FISCAL}))
        .await;
    assert_eq!(last.body["type_"], "SERVICE_OUTPUT");
    assert!(last.body["local_number"].is_null());

    // A sale, the X report, the Z report.
    let sale = desk
        .post("/check/sale", &small_sale(2, "10.00", None))
        .await;
    assert_eq!(sale.status, 200, "{}", sale.body);
    let x = desk
        .post("/shift/xReport", &json!({"num_fiscal": NUM_FISCAL}))
        .await;
    assert_eq!(x.status, 200, "{}", x.body);
    assert_eq!(x.body["shift_state"], true);
    let z = desk
        .post(
            "/shift",
            &json!({"num_fiscal": NUM_FISCAL, "action_type": "Z_REPORT"}),
        )
        .await;
    assert_eq!(z.status, 200, "{}", z.body);
    assert_eq!(z.shift.as_deref(), Some("false"));
    assert_eq!(rig.register.documents(Z_REPORT).len(), 1);

    // Closed again: open_shift true opens it for the sale.
    until("the shift known closed", || async {
        let r = desk.tax_object(TOKEN).await;
        (r.body["data"]["shift"]["state"] == "CLOSED").then_some(())
    })
    .await;
    let sale = desk
        .post("/check/sale", &small_sale(3, "20.00", Some(true)))
        .await;
    assert_eq!(sale.status, 200, "{}", sale.body);
    assert_eq!(rig.register.documents(SHIFT_OPENING).len(), 2);
    assert_eq!(rig.register.documents(RECEIPT).len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_emulator_turns_the_dialect_on_with_a_development_token() {
    let dev = DevGateway::start();
    let (url, rest) = dev.cashdesk.split_once(" num_fiscal=").unwrap();
    let (num_fiscal, token) = rest.split_once(" api_token=").unwrap();
    assert_eq!(url, format!("http://{}/api/v2", dev.base));
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{url}/tax_objects/{num_fiscal}?api_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["data"]["num_fiscal"].to_string(), num_fiscal);
}

fn b64(a: &Value, field: &str) -> Vec<u8> {
    let text = a[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing: {a}"));
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn tool(
    dir: &std::path::Path,
    name: &str,
    package: &str,
    args: &[&str],
    input: (&str, &[u8]),
) -> String {
    let path = dir.join(input.0);
    std::fs::write(&path, input.1).unwrap();
    let out = std::process::Command::new(name)
        .args(args)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{name} is needed ({e}): run scripts/install-test-deps (Debian package {package})"
            )
        });
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The receipt as a person reads it, from the answer: text, QR string and image, PDF — each
/// read back independently (zbarimg, pdftotext) and held to the FN's document — and the
/// link's page in headless Chromium.
fn check_rendering(rig: &Rig, a: &Value, doc: &Value) {
    let text = String::from_utf8(b64(a, "text_print")).unwrap();
    for wanted in ["Вода питна", &doc["fiscal_sign"].to_string(), "ИТОГ"] {
        assert!(
            text.contains(wanted),
            "{wanted:?} not in text_print:\n{text}"
        );
    }
    assert!(
        text.lines().all(|l| l.chars().count() <= 32),
        "print_width 32:\n{text}"
    );

    let qr_data = a["qr_data"].as_str().unwrap();
    let at: chrono::NaiveDateTime = serde_json::from_value(doc["date_time"].clone()).unwrap();
    let status: Value = serde_json::from_str(rig.register.control("status").trim()).unwrap();
    let expected = format!(
        "t={}&s=50.10&fn={}&i={}&fp={}&n=1",
        at.format("%Y%m%dT%H%M"),
        status["fn_number"].as_str().unwrap(),
        doc["fd"],
        doc["fiscal_sign"]
    );
    assert_eq!(qr_data, expected);
    let dir = rig.dir.path();
    let read = tool(
        dir,
        "zbarimg",
        "zbar-tools",
        &["--raw", "-q"],
        ("qr.png", &b64(a, "qr")),
    );
    assert_eq!(read.trim_end(), qr_data);
    let pdf = b64(a, "pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let pdf_text = tool(
        dir,
        "pdftotext",
        "poppler-utils",
        &[],
        ("receipt.pdf", &pdf),
    );
    let pdf_text = std::fs::read_to_string(dir.join("receipt.txt")).unwrap_or(pdf_text);
    assert!(pdf_text.contains("Вода питна"), "{pdf_text}");

    let link = a["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!(
            "http://{}/api/v2/checks/{}/html?k=",
            rig.gateway.base,
            a["uuid"].as_str().unwrap()
        )),
        "{link}"
    );
    let mut browser = Browser::launch(&dir.join("chromium.log"));
    let tab = browser.open(link);
    let shown = browser.eval(&tab, "document.body.innerText");
    let shown = shown.as_str().unwrap();
    assert!(shown.contains("Вода питна"), "{shown}");
    assert!(shown.contains(&doc["fiscal_sign"].to_string()), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checks_pages_open_with_the_link_or_the_token_and_nothing_else() {
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    let mut sale = seed();
    sale["no_pdf"] = json!(true);
    sale["no_qr"] = json!(1);
    let a = desk.post("/check/sale", &sale).await.body;
    assert!(a.get("pdf").is_none() && a.get("qr").is_none(), "{a}");
    assert!(a["text_print"].is_string());
    let uuid = a["uuid"].as_str().unwrap();
    let get = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let base = format!("http://{}/api/v2/checks/{uuid}", rig.gateway.base);
    let (status, page) = get(a["link"].as_str().unwrap().to_string()).await;
    assert_eq!(status, 200);
    assert!(page.contains("Вода питна"));
    let (status, text) = get(format!("{base}/text?print_width=48&api_token={TOKEN}")).await;
    assert_eq!(status, 200);
    assert!(
        text.lines().any(|l| l.chars().count() > 32),
        "48 wide:\n{text}"
    );
    for url in [
        format!("{base}/html"),
        format!("{base}/html?k=00000000000000000000000000000000"),
        format!("{base}/text?api_token=wrong"),
    ] {
        let (status, body) = get(url.clone()).await;
        assert_eq!(status, 401, "{url}: {body}");
    }
    let (status, body) = get(format!(
        "http://{}/api/v2/checks/00000000-0000-c000-0000-000000000001/html",
        rig.gateway.base
    ))
    .await;
    assert_eq!(status, 404, "{body}");
    let message: Value = serde_json::from_str(&body).unwrap();
    assert!(message["message"].is_string());
    // Another method on a route: 405 in the dialect's own error shape.
    let (status, body) = get(format!("http://{}/api/v2/check/sale", rig.gateway.base)).await;
    assert_eq!(status, 405, "{body}");
    let refusal: Value = serde_json::from_str(&body).unwrap();
    assert!(
        refusal["message"].as_str().unwrap().contains("GET"),
        "{refusal}"
    );
    assert!(refusal["type"].is_string(), "{refusal}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_excise_barcode_is_the_items_marking_code_and_its_unit_the_measure() {
    const CODE: &str = "0104601234567890215abcDE\u{1d}93ABCD";
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    let mut sale = small_sale(70, "12.30", Some(true));
    sale["products"][0]["excise_barcode"] = json!(CODE);
    sale["products"][0]["unit_code"] = json!("0301");
    sale["products"][0]["unit_name"] = json!("кг");
    let made = desk.post("/check/sale", &sale).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let receipts = rig.register.documents(RECEIPT);
    assert_eq!(receipts.len(), 1);
    let tlvs = receipts[0]["items"][0]["tlvs"].as_array().unwrap().clone();
    let tag = |n: u64| {
        tlvs.iter()
            .find(|t| t["tag"] == n)
            .map(|t| serde_json::from_value::<Vec<u8>>(t["value"].clone()).unwrap())
    };
    assert_eq!(tag(2000), Some(CODE.as_bytes().to_vec()), "{tlvs:?}");
    // Tag 2108, measure 11 (kilogram), one byte.
    assert_eq!(tag(2108), Some(vec![11]), "{tlvs:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn shift_ping_answers_the_registers_state_for_its_token_only() {
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    let facts = desk.known().await;
    let ping = json!({"num_fiscal": NUM_FISCAL});
    let documents = rig.register.archive().len();

    let closed = desk.post("/shift/ping", &ping).await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.shift.as_deref(), Some("false"));
    assert_eq!(closed.body["data"]["shift"]["state"], "CLOSED");
    assert_eq!(closed.body["data"]["num_fiscal"], NUM_FISCAL);
    assert_eq!(closed.body, facts, "the register's state, as tax_objects");
    assert_eq!(
        rig.register.archive().len(),
        documents,
        "a ping makes no document"
    );

    let open = desk
        .post(
            "/shift",
            &json!({"num_fiscal": NUM_FISCAL, "action_type": "OPEN_SHIFT"}),
        )
        .await;
    assert_eq!(open.status, 200, "{}", open.body);
    let opened = until("ping to say the shift is open", || async {
        let r = desk.post("/shift/ping", &ping).await;
        (r.body["data"]["shift"]["state"] == "OPENED").then_some(r)
    })
    .await;
    assert_eq!(opened.status, 200);
    assert_eq!(opened.shift.as_deref(), Some("true"));
    let openings = rig.register.documents(SHIFT_OPENING);
    assert_eq!(openings.len(), 1);
    assert_eq!(
        opened.body["data"]["shift"]["id"],
        openings[0]["shift_number"]
    );
    let documents = rig.register.archive().len();

    for refused in [
        desk.http
            .post(format!("{}/shift/ping?api_token=wrong-token", desk.base))
            .json(&ping),
        desk.http
            .post(format!("{}/shift/ping", desk.base))
            .header("Authorization", "Bearer wrong-token")
            .json(&ping),
        desk.http
            .post(format!("{}/shift/ping", desk.base))
            .json(&ping),
    ] {
        let r = Desk::reply(refused).await;
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.body["type"], "UNAUTHORIZED");
        assert!(r.body["message"].is_string());
    }
    assert_eq!(rig.register.archive().len(), documents);
}

/// GET `url`: status, Content-Type, body.
async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checks_pdf_and_qr_open_with_the_link_or_the_token_and_other_views_are_404() {
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    let mut sale = small_sale(40, "17.30", Some(true));
    sale["products"][0]["name"] = json!("Сир твердий");
    let made = desk.post("/check/sale", &sale).await;
    assert_eq!(made.status, 200, "{}", made.body);
    let receipts = rig.register.documents(RECEIPT);
    assert_eq!(receipts.len(), 1);
    let doc = &receipts[0];
    let uuid = made.body["uuid"].as_str().unwrap();
    let link = made.body["link"].as_str().unwrap();
    let (_, k) = link.split_once("?k=").unwrap();
    let base = format!("http://{}/api/v2/checks/{uuid}", rig.gateway.base);
    let dir = rig.dir.path();

    // The PDF, for the register's token, at the width asked.
    let (status, content_type, pdf) =
        fetch(&format!("{base}/pdf?api_token={TOKEN}&pdf_width=58")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let out = tool(dir, "pdftotext", "poppler-utils", &[], ("view.pdf", &pdf));
    let text = std::fs::read_to_string(dir.join("view.txt")).unwrap_or(out);
    assert!(text.contains("Сир твердий"), "{text}");
    assert!(text.contains(&doc["fiscal_sign"].to_string()), "{text}");
    let info = tool(dir, "pdfinfo", "poppler-utils", &[], ("view.pdf", &pdf));
    let page_width: f64 = info
        .lines()
        .find_map(|l| l.strip_prefix("Page size:"))
        .and_then(|size| size.split_whitespace().next())
        .unwrap_or_else(|| panic!("no page size: {info}"))
        .parse()
        .unwrap();
    assert!(
        (page_width - 58.0 * 72.0 / 25.4).abs() < 1.0,
        "58 mm wide: {info}"
    );

    // The QR code, for the link's k: the FNS string with this check's FD and FPD.
    let (status, content_type, png) = fetch(&format!("{base}/qr?k={k}")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    assert_eq!(content_type, "image/png");
    let read = tool(
        dir,
        "zbarimg",
        "zbar-tools",
        &["--raw", "-q"],
        ("view.png", &png),
    );
    let at: chrono::NaiveDateTime = serde_json::from_value(doc["date_time"].clone()).unwrap();
    let status: Value = serde_json::from_str(rig.register.control("status").trim()).unwrap();
    assert_eq!(
        read.trim_end(),
        format!(
            "t={}&s=17.30&fn={}&i={}&fp={}&n=1",
            at.format("%Y%m%dT%H%M"),
            status["fn_number"].as_str().unwrap(),
            doc["fd"],
            doc["fiscal_sign"]
        )
    );
    assert_eq!(read.trim_end(), made.body["qr_data"]);

    // Neither without the token or k, nor with another's.
    for view in ["pdf", "qr"] {
        for query in [
            String::new(),
            "?k=00000000000000000000000000000000".to_string(),
            "?api_token=wrong".to_string(),
        ] {
            let url = format!("{base}/{view}{query}");
            let (status, _, body) = fetch(&url).await;
            assert_eq!(status, 401, "{url}: {}", String::from_utf8_lossy(&body));
            let refusal: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(refusal["type"], "UNAUTHORIZED", "{refusal}");
        }
    }

    // A view there is not: 404 in the dialect's shape, naming the four there are.
    for url in [
        format!("{base}/png?api_token={TOKEN}"),
        format!("{base}/qrcode?k={k}"),
        format!("{base}/PDF"),
    ] {
        let (status, _, body) = fetch(&url).await;
        assert_eq!(status, 404, "{url}: {}", String::from_utf8_lossy(&body));
        let refusal: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(refusal["type"], "NOT_FOUND", "{refusal}");
        let message = refusal["message"].as_str().unwrap();
        for view in ["text", "html", "pdf", "qr"] {
            assert!(message.contains(view), "{view} not named: {message}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checks_pdf_without_its_font_is_render_failed_naming_the_font() {
    let rig = Rig::start_with_env(
        GatewayOptions {
            register_toml: format!(
                "cashdesk_num_fiscal = {NUM_FISCAL}\ncashdesk_api_tokens = [\"{}\"]\n",
                digest(TOKEN)
            ),
            ..GatewayOptions::default()
        },
        |dir| {
            let fonts = dir.join("no-fonts");
            std::fs::create_dir(&fonts).unwrap();
            vec![(
                "FISCAL_GATEWAY_FONT_DIR".to_string(),
                fonts.display().to_string(),
            )]
        },
    );
    let desk = Desk::of(&rig.gateway.base);
    let made = desk
        .post("/check/sale", &small_sale(41, "5.00", Some(true)))
        .await;
    assert_eq!(
        made.status, 200,
        "the check is made all the same: {}",
        made.body
    );
    assert!(made.body["pdf"].is_null(), "{}", made.body);
    assert_eq!(rig.register.documents(RECEIPT).len(), 1);
    let uuid = made.body["uuid"].as_str().unwrap();
    let base = format!("http://{}/api/v2/checks/{uuid}", rig.gateway.base);

    let (status, _, body) = fetch(&format!("{base}/pdf?api_token={TOKEN}")).await;
    assert_eq!(status, 500, "{}", String::from_utf8_lossy(&body));
    let refusal: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(refusal["type"], "RENDER_FAILED", "{refusal}");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap()
            .contains("DejaVuSansMono.ttf"),
        "{refusal}"
    );
    // The QR code needs no font.
    let (status, content_type, _) = fetch(&format!("{base}/qr?api_token={TOKEN}")).await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_killed_during_a_check_sale_answers_the_replay_with_the_one_fd() {
    let mut rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    desk.known().await;
    // The register commits the receipt and loses power before it answers; meanwhile the
    // gateway is killed with the request in flight.
    assert_eq!(
        rig.register
            .control("power-cut after-commit FF45 stay-off")
            .trim(),
        "ok"
    );
    let sale = small_sale(50, "42.00", Some(true));
    let in_flight = {
        let request = desk
            .http
            .post(format!("{}/check/sale?api_token={TOKEN}", desk.base))
            .json(&sale);
        tokio::spawn(async move { request.send().await })
    };
    rig.register.power_cut_struck().await;
    rig.gateway.proc.kill();
    let cut = in_flight.await.unwrap();
    assert!(cut.is_err(), "the killed gateway answered: {cut:?}");
    assert_eq!(
        rig.register.documents(RECEIPT).len(),
        1,
        "the FN closed the receipt"
    );

    assert_eq!(rig.register.control("power on").trim(), "ok");
    rig.gateway.restart();
    let desk = Desk::of(&rig.gateway.base);
    let replay = desk.post("/check/sale", &sale).await;
    assert_eq!(replay.status, 200, "{}", replay.body);
    let receipts = rig.register.documents(RECEIPT);
    assert_eq!(receipts.len(), 1, "one fiscal document");
    assert_eq!(receipts[0]["total"], 4200);
    assert_eq!(replay.body["ORDERNUM"], receipts[0]["fd"].to_string());
    assert_eq!(replay.body["MAC"], receipts[0]["fiscal_sign"].to_string());
    assert_eq!(replay.body["local_number"], 50);
    assert_eq!(replay.shift.as_deref(), Some("true"));
}

/// A check of `products` (name, amount, price, cost), paid in cash: a sale, or a return of
/// sale `return_number`.
fn check(
    local_number: u64,
    return_number: Option<u64>,
    products: &[(&str, &str, &str, &str)],
    total: &str,
) -> Value {
    let products: Vec<Value> = products
        .iter()
        .map(|(name, amount, price, cost)| {
            json!({"name": name, "amount": amount, "price": price, "cost": cost,
                   "letters": "Б", "tax_prc": 0})
        })
        .collect();
    let mut b = json!({
        "num_fiscal": NUM_FISCAL, "action_type": "Z_SALE", "local_number": local_number,
        "total_sum": total, "products": products, "open_shift": true,
        "payments": [{"code": 0, "name": "ГОТІВКА", "sum": total, "sum_provided": total}]
    });
    if let Some(number) = return_number {
        b["action_type"] = json!("RETURN");
        b["return_number"] = json!(number);
    }
    b
}

/// A refusal: 400, `VALIDATION`, its message naming `field` and each of `naming`.
fn refused(r: &Reply, field: &str, naming: &[&str]) {
    assert_eq!(
        r.status, 400,
        "not refused: ORDERNUM {}, message {}",
        r.body["ORDERNUM"], r.body["message"]
    );
    assert_eq!(r.body["type"], "VALIDATION", "{}", r.body["message"]);
    let message = r.body["message"].as_str().unwrap();
    assert!(message.contains(field), "{field} not named: {message}");
    for text in naming {
        assert!(message.contains(text), "{text:?} not in: {message}");
    }
}

/// The quantities per name of the FN's receipts of `operation` (1 sale, 2 return).
fn quantities(rig: &Rig, operation: u64) -> std::collections::BTreeMap<String, u64> {
    let mut out = std::collections::BTreeMap::new();
    for doc in rig
        .register
        .documents(RECEIPT)
        .iter()
        .filter(|d| d["operation"] == operation)
    {
        for item in doc["items"].as_array().unwrap() {
            *out.entry(item["name"].as_str().unwrap().to_string())
                .or_default() += item["quantity"].as_u64().unwrap();
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_return_gives_back_only_what_its_sale_sold_and_was_not_returned() {
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    desk.known().await;
    let sale = desk
        .post(
            "/check/sale",
            &check(
                20,
                None,
                &[
                    ("Хліб", "3", "10.00", "30.00"),
                    ("Молоко", "2", "25.50", "51.00"),
                    ("Сир", "0.5", "200.00", "100.00"),
                ],
                "181.00",
            ),
        )
        .await;
    assert_eq!(sale.status, 200, "{}", sale.body);
    assert_eq!(rig.register.documents(RECEIPT).len(), 1);

    // A product the sale did not sell; more than it sold. Nothing is made.
    let unknown = desk
        .post(
            "/check/sale",
            &check(
                21,
                Some(20),
                &[
                    ("Хліб", "1", "10.00", "10.00"),
                    ("Масло", "1", "40.00", "40.00"),
                ],
                "50.00",
            ),
        )
        .await;
    refused(&unknown, "products[1].name", &["Масло"]);
    let too_many = desk
        .post(
            "/check/sale",
            &check(21, Some(20), &[("Молоко", "3", "25.50", "76.50")], "76.50"),
        )
        .await;
    refused(
        &too_many,
        "products[0].amount",
        &["Молоко", "продано 2", "повернуто 0"],
    );
    assert_eq!(
        rig.register.documents(RECEIPT).len(),
        1,
        "a refusal made a document"
    );

    // A partial return, and its replay: the same check, nothing new.
    let first_return = check(
        22,
        Some(20),
        &[
            ("Хліб", "1", "10.00", "10.00"),
            ("Молоко", "1", "25.50", "25.50"),
        ],
        "35.50",
    );
    let first = desk.post("/check/sale", &first_return).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(rig.register.documents(RECEIPT).len(), 2);
    let again = desk.post("/check/sale", &first_return).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["ORDERNUM"], first.body["ORDERNUM"]);
    assert_eq!(again.body["uuid"], first.body["uuid"]);
    assert_eq!(rig.register.documents(RECEIPT).len(), 2);

    // What the first return gave back counts: three loaves sold, one returned.
    let after = desk
        .post(
            "/check/sale",
            &check(23, Some(20), &[("Хліб", "3", "10.00", "30.00")], "30.00"),
        )
        .await;
    refused(
        &after,
        "products[0].amount",
        &["Хліб", "продано 3", "повернуто 1"],
    );
    assert_eq!(rig.register.documents(RECEIPT).len(), 2);

    // The rest of the bread and the cheese: exactly what is left.
    let second = desk
        .post(
            "/check/sale",
            &check(
                24,
                Some(20),
                &[
                    ("Хліб", "2", "10.00", "20.00"),
                    ("Сир", "0.5", "200.00", "100.00"),
                ],
                "120.00",
            ),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let cheese = desk
        .post(
            "/check/sale",
            &check(25, Some(20), &[("Сир", "0.1", "200.00", "20.00")], "20.00"),
        )
        .await;
    refused(
        &cheese,
        "products[0].amount",
        &["Сир", "продано 0.5", "повернуто 0.5"],
    );
    // The first return replayed after the second: still its own answer, not counted twice.
    let late = desk.post("/check/sale", &first_return).await;
    assert_eq!(late.status, 200, "{}", late.body);
    assert_eq!(late.body["ORDERNUM"], first.body["ORDERNUM"]);

    // The FN has the sale and the two returns, and no more went back than was sold.
    let receipts = rig.register.documents(RECEIPT);
    assert_eq!(receipts.len(), 3);
    let totals: Vec<(u64, u64)> = receipts
        .iter()
        .map(|d| {
            (
                d["operation"].as_u64().unwrap(),
                d["total"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(totals, [(1, 18100), (2, 3550), (2, 12000)]);
    assert_eq!(first.body["ORDERNUM"], receipts[1]["fd"].to_string());
    assert_eq!(second.body["ORDERNUM"], receipts[2]["fd"].to_string());
    let sold = quantities(&rig, 1);
    let returned = quantities(&rig, 2);
    assert_eq!(sold["Хліб"], 3_000_000);
    assert_eq!(returned["Хліб"], 3_000_000);
    assert_eq!(returned["Молоко"], 1_000_000);
    assert_eq!(returned["Сир"], sold["Сир"]);

    // lastCheck still names the last return.
    let last = desk
        .post("/shift/lastCheck", &json!({"num_fiscal": NUM_FISCAL}))
        .await;
    assert_eq!(last.body["type_"], "RETURN", "{}", last.body);
    assert_eq!(last.body["local_number"], 24);
    assert_eq!(last.body["ORDERNUM"], second.body["ORDERNUM"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_marked_products_return_carries_its_sales_code_and_no_other() {
    const WINE: &str = "0104601234567890215abcDE\u{1d}93ABCD";
    const BEER_1: &str = "0104601234567890215abcDF\u{1d}93ABCE";
    const BEER_2: &str = "0104601234567890215abcDG\u{1d}93ABCF";
    let rig = rig();
    let desk = Desk::of(&rig.gateway.base);
    desk.known().await;
    let mut sale = check(
        30,
        None,
        &[
            ("Вино", "1", "150.00", "150.00"),
            ("Пиво", "1", "40.00", "40.00"),
            ("Пиво", "1", "40.00", "40.00"),
        ],
        "230.00",
    );
    sale["products"][0]["excise_barcode"] = json!(WINE);
    sale["products"][1]["excise_barcode"] = json!(BEER_1);
    sale["products"][2]["excise_barcode"] = json!(BEER_2);
    let made = desk.post("/check/sale", &sale).await;
    assert_eq!(made.status, 200, "{}", made.body);

    // A code the sale did not sell; no code where it sold two of the name.
    let mut other = check(31, Some(30), &[("Вино", "1", "150.00", "150.00")], "150.00");
    other["products"][0]["excise_barcode"] = json!(BEER_1);
    refused(
        &desk.post("/check/sale", &other).await,
        "products[0].excise_barcode",
        &[],
    );
    let which = check(31, Some(30), &[("Пиво", "1", "40.00", "40.00")], "40.00");
    refused(
        &desk.post("/check/sale", &which).await,
        "products[0].excise_barcode",
        &["Пиво"],
    );
    assert_eq!(
        rig.register.documents(RECEIPT).len(),
        1,
        "a refusal made a document"
    );

    // Without a code the wine goes back under the one it was sold with; the beer under the
    // one named. A replay answers the same check.
    let mut ret = check(
        32,
        Some(30),
        &[
            ("Вино", "1", "150.00", "150.00"),
            ("Пиво", "1", "40.00", "40.00"),
        ],
        "190.00",
    );
    ret["products"][1]["excise_barcode"] = json!(BEER_2);
    let returned = desk.post("/check/sale", &ret).await;
    assert_eq!(returned.status, 200, "{}", returned.body);
    let again = desk.post("/check/sale", &ret).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["ORDERNUM"], returned.body["ORDERNUM"]);
    let receipts = rig.register.documents(RECEIPT);
    assert_eq!(receipts.len(), 2);
    let doc = &receipts[1];
    assert_eq!(doc["operation"], 2);
    let code = |item: &Value| {
        item["tlvs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tag"] == 2000)
            .map(|t| serde_json::from_value::<Vec<u8>>(t["value"].clone()).unwrap())
    };
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items[0]["name"], "Вино");
    assert_eq!(code(&items[0]), Some(WINE.as_bytes().to_vec()), "{doc}");
    assert_eq!(items[1]["name"], "Пиво");
    assert_eq!(code(&items[1]), Some(BEER_2.as_bytes().to_vec()), "{doc}");

    // One beer is still unreturned, but not the one under the code just given back.
    let mut twice = check(33, Some(30), &[("Пиво", "1", "40.00", "40.00")], "40.00");
    twice["products"][0]["excise_barcode"] = json!(BEER_2);
    refused(
        &desk.post("/check/sale", &twice).await,
        "products[0].excise_barcode",
        &["вже повернуто"],
    );
    assert_eq!(
        rig.register.documents(RECEIPT).len(),
        2,
        "a refusal made a document"
    );
}
