//! The request bodies as the OpenAPI document describes them: one struct per JSON object, each
//! field with its description, bounds and an example value.
//!
//! These types are descriptions, not the parser. `request` reads the JSON field by field so
//! that every 400 names the field (`positions[1].price`) in the gateway's own words, and money
//! goes from the client's digits to kopecks without a float; a serde pass in front of it would
//! answer in serde's words instead. The two cannot drift apart unnoticed: the tests in
//! `openapi` build the largest body the schema allows from the examples here, check that the
//! parser accepts it, and that the parser reads exactly the fields described here.
//! Dictionaries (receipt types, VAT codes, …) are not listed here: `openapi` fills their
//! `enum` from `fiscal_model`, which decides them.

// Never built: the document is generated from their shape (see the module comment).
#![allow(dead_code)]

use rust_decimal::Decimal;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// `POST /v1.0/operations/formReceipt`.
#[derive(ToSchema)]
#[schema(as = FormReceiptRequest)]
#[schema(rename_all = "camelCase")]
pub struct FormReceiptRequest {
    #[schema(inline)]
    operation_id: OperationIdText,
    /// 1 sale (приход), 2 sale return, 3 purchase (расход), 4 purchase return.
    #[schema(example = 1)]
    receipt_type: i64,
    /// false: electronic receipt only; requires buyerEmail or buyerPhoneNumber.
    #[schema(example = false)]
    print_receipt: bool,
    /// 1 ОСН, 2 УСН доход, 3 УСН доход − расход, 5 ЕСХН, 6 Патент. 4 (ЕНВД) was abolished in
    /// 2021 and is refused with 400.
    #[schema(example = 2)]
    taxation_system: i64,
    /// Buyer e-mail (tag 1008); "" means absent. Wins over the phone when both are given.
    #[schema(max_length = 64, example = "customer@example.com")]
    buyer_email: Option<String>,
    /// Buyer phone, Russian number in any usual spelling, stored as +7XXXXXXXXXX; "" means
    /// absent.
    #[schema(example = "+7 (912) 345-67-89")]
    buyer_phone_number: Option<String>,
    /// Paid in cash. In roubles, at most 2 decimals, written as a plain decimal (no exponent);
    /// parsed exactly, never as a float.
    #[schema(minimum = 0, maximum = 999999999999.99, example = 20)]
    cash_payment_sum: Decimal,
    /// Paid electronically. In roubles, at most 2 decimals, written as a plain decimal (no
    /// exponent); parsed exactly, never as a float.
    #[schema(minimum = 0, maximum = 999999999999.99, example = 10.5)]
    cashless_payment_sum: Decimal,
    /// Receipt total. In roubles, at most 2 decimals, written as a plain decimal (no
    /// exponent); parsed exactly, never as a float.
    #[schema(minimum = 0, maximum = 999999999999.99, example = 70.5)]
    total_sum: Decimal,
    /// The receipt's positions, at most 100 (one receipt of the register).
    #[schema(min_items = 1, max_items = 100)]
    positions: Vec<Position>,
    /// Route to a register of this juridical person.
    #[schema(
        pattern = r"^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = ""
    )]
    juridical_person_id: Option<String>,
    /// Route to the least busy register of this group.
    #[schema(
        pattern = r"^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = ""
    )]
    cashbox_group_id: Option<String>,
    /// Route to this register.
    #[schema(
        pattern = r"^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b"
    )]
    cashbox_id: Option<String>,
    /// Extension: paid by an earlier prepayment or advance (tag 1215, FF45 slot 14); counts
    /// in the balance. In roubles, at most 2 decimals, written as a plain decimal (no
    /// exponent); parsed exactly, never as a float. Absent or null: 0.
    #[schema(minimum = 0, maximum = 999999999999.99, example = 10)]
    prepayment_sum: Option<Decimal>,
    /// Extension: left to be paid later, on credit (tag 1216, FF45 slot 15); counts in the
    /// balance. In roubles, at most 2 decimals, written as a plain decimal (no exponent);
    /// parsed exactly, never as a float. Absent or null: 0.
    #[schema(minimum = 0, maximum = 999999999999.99, example = 10)]
    postpayment_sum: Option<Decimal>,
    /// Extension: paid by counter-provision (tag 1217, FF45 slot 16); counts in the balance.
    /// In roubles, at most 2 decimals, written as a plain decimal (no exponent); parsed
    /// exactly, never as a float. Absent or null: 0.
    #[schema(minimum = 0, maximum = 999999999999.99, example = 20)]
    counter_provision_sum: Option<Decimal>,
    /// Extension: the cashier of this receipt (tag 1021), instead of the register's
    /// configured one; "" means absent. Characters must exist in CP866 and CP1251.
    #[schema(max_length = 64, example = "Иванова А. А.")]
    cashier_name: Option<String>,
    /// Extension: the cashier's INN (tag 1203), 12 digits with valid check digits; needs
    /// `cashierName` (the configured cashier's INN is not sent with another name).
    #[schema(pattern = r"^$|^[0-9]{12}$", example = "500100732259")]
    cashier_inn: Option<String>,
    /// Extension: the buyer (tag 1227), inside buyer data 1256 under FFD 1.2. Characters must
    /// exist in CP866 and CP1251.
    #[schema(max_length = 128, example = "ООО Ромашка")]
    buyer_name: Option<String>,
    /// Extension: the buyer's INN (tag 1228, space-padded to 12), inside 1256 under FFD 1.2;
    /// 10 or 12 digits with valid check digits.
    #[schema(pattern = r"^$|^[0-9]{10}([0-9]{2})?$", example = "7707083893")]
    buyer_inn: Option<String>,
}

/// One position of a receipt.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Position {
    /// Product name, 1..128 characters.
    #[schema(min_length = 1, max_length = 128, example = "Молоко коровье")]
    name: String,
    /// Quantity, more than 0, at most 6 decimals (the API description says integer;
    /// fractional quantities are accepted).
    #[schema(exclusive_minimum = 0, maximum = 999999999999i64, example = 1)]
    quantity: Decimal,
    /// Unit price. In roubles, at most 2 decimals, written as a plain decimal (no exponent);
    /// parsed exactly, never as a float.
    #[schema(exclusive_minimum = 0, maximum = 999999999999.99, example = 70.5)]
    price: Decimal,
    /// VAT: 1 = 0 %, 2 = 10 %, 3 = general rate (22 % since 2026; "18 %" in the API
    /// description), 4 = no VAT, 5 = 10/110, 6 = general calculated rate (22/122). Extension:
    /// 7 = 5 %, 8 = 7 %, 9 = 5/105, 10 = 7/107, 11 = 20 %, 12 = 20/120, 13 = 22 %, 14 =
    /// 22/122. The rate needs a tax group on the register.
    #[schema(example = 3)]
    tax_type: i64,
    /// Extension, tag 1214 (FF46 offset 30): 1 full prepayment, 2 partial prepayment, 3
    /// advance, 4 full payment (default), 5 partial payment and credit, 6 transfer on credit,
    /// 7 credit payment.
    #[schema(default = 4, example = 4)]
    payment_method: Option<i64>,
    /// Extension, tag 1212 (FF46 offset 31): 1 goods (default), 2 excise goods, 3 work, 4
    /// service, … 10 payment, … 27 issue of cash, 30 excise goods subject to marking without a
    /// code, 31 with a code, 32 non-excise goods subject to marking without a code, 33 with a
    /// code. 28 and 29 are not defined.
    #[schema(default = 1, example = 33)]
    payment_object: Option<i64>,
    /// Extension, tag 2108: 0 piece (default, not sent: the FN assumes it), 10 g, 11 kg, 12 t,
    /// 20 cm, 21 dm, 22 m, 30 cm², 31 dm², 32 m², 40 ml, 41 l, 42 m³, 50 kWh, 51 Gcal, 70 day,
    /// 71 hour, 72 min, 73 s, 80 KB, 81 MB, 82 GB, 83 TB, 255 other. Sent with FF4D after the
    /// item.
    #[schema(default = 0, example = 0)]
    measurement_unit: Option<i64>,
    /// Extension: the marking code as scanned, GS1 groups separated by GS (`\u001d`);
    /// printable ASCII, at most 200 bytes (an empty string or null: no code). The register
    /// checks it (FF61), the driver accepts it (FF69) and binds it to the item (FF67). Only in
    /// sale and sale-return receipts (400 otherwise); a code the check refuses fails the
    /// receipt (status 3, the reason names the position). Give this or markingCodeBase64, not
    /// both.
    #[schema(
        max_length = 200,
        pattern = r"^[\u001d\u0021-\u007e]*$",
        example = "0104601234567890215Abc12345678"
    )]
    marking_code: Option<String>,
    /// Extension: the marking code's bytes in base64 (standard alphabet), as markingCode
    /// otherwise.
    #[schema(
        content_encoding = "base64",
        example = "MDEwNDYwMTIzNDU2Nzg5MDIxNUFiYzEyMzQ1Njc4"
    )]
    marking_code_base64: Option<String>,
    fractional_quantity: Option<FractionalQuantity>,
    agent: Option<Agent>,
    supplier: Option<Supplier>,
}

/// Extension: the part of a pack sold (tag 1291 {1293, 1294}); then `quantity` must be whole
/// and `measurementUnit` 0. Sent with FF4D after the item: not yet confirmed on hardware.
#[derive(ToSchema)]
pub struct FractionalQuantity {
    /// Units sold (tag 1293), at least 1 and less than `denominator`.
    #[schema(minimum = 1, maximum = 4294967294i64, example = 1)]
    numerator: i64,
    /// Units in the pack (tag 1294), more than `numerator`.
    #[schema(minimum = 2, maximum = 4294967295i64, example = 4)]
    denominator: i64,
}

/// Extension: the position is sold by an agent (tag 1222; FFD 1.2 asks the supplier with it,
/// so `supplier` is required too).
#[derive(ToSchema)]
pub struct Agent {
    /// Tag 1222, one bit: 1 bank payment agent, 2 bank payment subagent, 4 payment agent, 8
    /// payment subagent, 16 attorney (поверенный), 32 commission agent (комиссионер), 64 other
    /// agent.
    #[schema(rename = "type")]
    #[schema(example = 32)]
    agent_type: i64,
    /// The payment agent's phone (tag 1073 inside agent data 1223), Russian number in any
    /// usual spelling, sent as +7XXXXXXXXXX.
    #[schema(example = "8 912 345-67-89")]
    phone: Option<String>,
}

/// Extension: the supplier (principal) of a position sold by an agent (tags 1224 {1171, 1225}
/// and 1226); required with `agent` and only with it.
#[derive(ToSchema)]
pub struct Supplier {
    /// Tag 1225. Characters must exist in CP866 (the FN's code page for tags) and CP1251: « »
    /// – — … are refused.
    #[schema(min_length = 1, max_length = 128, example = "ООО Поставщик")]
    name: String,
    /// Tag 1226: 10 or 12 digits with valid check digits; sent space-padded to 12.
    #[schema(pattern = r"^[0-9]{10}([0-9]{2})?$", example = "7707083893")]
    inn: String,
    /// Tag 1171, Russian number in any usual spelling, sent as +7XXXXXXXXXX.
    #[schema(example = "+79123456789")]
    phone: Option<String>,
}

/// `POST /v1.0/operations/depositCash` and `withdrawCash`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CashRequest {
    /// The register.
    #[schema(
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        example = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b"
    )]
    cashbox_id: String,
    /// Amount in roubles, more than 0, at most 2 decimals, plain decimal.
    #[schema(exclusive_minimum = 0, maximum = 999999999999.99, example = 500.25)]
    amount: Decimal,
    #[schema(inline)]
    operation_id: OperationIdText,
}

/// `GET /v1.0/operations/checkStatus` query.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct CheckStatusQuery {
    #[param(inline)]
    operation_id: OperationIdText,
    /// Extension: long poll. Answer as soon as the status leaves 1, or after this many seconds
    /// at most. Values above the gateway's configured maximum (60 by default) are reduced to
    /// it.
    #[param(minimum = 0, maximum = 60, default = 0, example = 0)]
    wait: Option<u64>,
}

/// The query of `GET /v1.0/receipts/{operationId}`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// Characters a line of `text/plain` (clamped to 24..80). Default: the register's tape
    /// width, else 32.
    #[param(minimum = 24, maximum = 80, example = 32)]
    width: Option<u32>,
    /// Page width of `application/pdf` in millimetres (clamped to 48..210). Default 80.
    #[param(minimum = 48, maximum = 210, example = 80)]
    width_mm: Option<u32>,
}

/// `operationId` in a body or the query: the bounds `queue::OperationId` checks.
pub struct OperationIdText;

impl PartialSchema for OperationIdText {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!(
                "The client's id of the operation (idempotency key): 1..{} characters, no control characters.",
                queue::MAX_ID_CHARS
            )))
            .min_length(Some(1))
            .max_length(Some(queue::MAX_ID_CHARS))
            .pattern(Some(r"^[^\u0000-\u001f\u007f-\u009f]+$"))
            .examples(["12854F"])
            .into()
    }
}

impl ToSchema for OperationIdText {}

/// `cashboxId` of the shop-day requests: a register, or the default one when absent or "".
pub struct RegisterChoice;

impl PartialSchema for RegisterChoice {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .description(Some(r#"The register; absent or "": the default register."#))
            .pattern(Some(
                r"^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            ))
            .examples(["da2bb850-63ef-47e4-8b45-7b5b841eaa9b"])
            .into()
    }
}

impl ToSchema for RegisterChoice {}

/// `POST /v1.0/operations/openShift` and `closeShift`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ShiftOperationRequest {
    #[schema(inline)]
    operation_id: OperationIdText,
    #[schema(inline, required = false)]
    cashbox_id: RegisterChoice,
    /// The cashier named on the report (tag 1021), instead of the register's configured one;
    /// "" means absent. Characters must exist in CP866 and CP1251.
    #[schema(max_length = 64, example = "Иванова А. А.")]
    cashier_name: Option<String>,
    /// The cashier's INN (tag 1203), 12 digits with valid check digits; needs `cashierName`.
    #[schema(pattern = r"^$|^[0-9]{12}$", example = "500100732259")]
    cashier_inn: Option<String>,
}

/// `POST /v1.0/operations/xReport`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct XReportRequest {
    #[schema(inline)]
    operation_id: OperationIdText,
    #[schema(inline, required = false)]
    cashbox_id: RegisterChoice,
}

/// `POST /v1.0/operations/printCopy`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PrintCopyRequest {
    #[schema(inline)]
    operation_id: OperationIdText,
    #[schema(inline, required = false)]
    cashbox_id: RegisterChoice,
    /// FD number (tag 1040) of the document of the FN archive to copy; absent or null: the
    /// last receipt.
    #[schema(minimum = 1, maximum = 4294967295i64, example = 24)]
    fiscal_document_number: Option<i64>,
}

/// `POST /v1.0/operations/printText`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PrintTextRequest {
    #[schema(inline)]
    operation_id: OperationIdText,
    #[schema(inline, required = false)]
    cashbox_id: RegisterChoice,
    /// The lines, 1 to 200. Each fits the register's tape (its reported characters per line,
    /// `printWidth` of `GET /v1.0/cashboxes/{id}`; 32 while it has not reported one) and
    /// holds only characters of CP1251 without control characters; "" prints an empty line.
    #[schema(min_items = 1, max_items = 200, example = json!(["Заказ № 15", "", "Спасибо!"]))]
    lines: Vec<String>,
    /// Cut the paper after the last line. Absent or null: false.
    #[schema(example = true)]
    cut: Option<bool>,
}

/// `POST /v1.0/operations/formCorrectionReceipt`: every field of [`FormReceiptRequest`] plus
/// the correction's basis. Built from that schema so that the two cannot drift apart, as the
/// parser reads the receipt with `formReceipt`'s own code.
pub struct CorrectionReceiptRequest;

impl PartialSchema for CorrectionReceiptRequest {
    fn schema() -> RefOr<Schema> {
        let mut schema = FormReceiptRequest::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            object.description = Some(
                "A formReceipt body plus the correction's basis (FFD 1.2 correction receipt, form 31): `receiptType` is the settlement as it should have been made."
                    .into(),
            );
            let kind = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["self", "byOrder"]))
                .description(Some(
                    "Tag 1173: \"self\" on the taxpayer's own initiative (0), \"byOrder\" by order of the tax authority (1).",
                ))
                .examples(["byOrder"]);
            let date = ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                    utoipa::openapi::schema::KnownFormat::Date,
                )))
                .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
                .description(Some(
                    "Tag 1178: the date of the settlement corrected, YYYY-MM-DD; not after today on the register's clock.",
                ))
                .examples(["2026-11-20"]);
            let number = ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                    Type::String,
                    Type::Null,
                ]))
                .max_length(Some(fiscal_model::MAX_BASE_NUMBER_CHARS))
                .description(Some(
                    "Tag 1179: the tax authority's order number; required with `byOrder`, refused with `self`. Characters must exist in CP866 and CP1251.",
                ))
                .examples(["12-34/567"]);
            object
                .properties
                .insert("correctionType".into(), kind.into());
            object
                .properties
                .insert("correctionBaseDate".into(), date.into());
            object
                .properties
                .insert("correctionBaseNumber".into(), number.into());
            object.required.push("correctionType".into());
            object.required.push("correctionBaseDate".into());
        }
        schema
    }
}

impl ToSchema for CorrectionReceiptRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "CorrectionReceiptRequest".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        FormReceiptRequest::schemas(schemas);
    }
}

/// `POST /v1.0/admin/operations/{operationId}/settle`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SettleRequest {
    /// "done": the register made the operation's document; "notDone": it made nothing and
    /// the operation is queued again.
    #[schema(inline)]
    outcome: SettleOutcome,
    /// The FD the register made (tag 1040). Required with "done" unless `force` (a cash
    /// movement has none); refused with "notDone".
    #[schema(minimum = 1, maximum = 4294967295i64, example = 25)]
    fiscal_document_number: Option<i64>,
    /// Accept the claim even where the FN cannot prove it; needs `reason`. Absent or null:
    /// false.
    #[schema(example = false)]
    force: Option<bool>,
    /// Why (logged and passed to the register's worker); required with `force`.
    #[schema(max_length = 256, example = "чек найден в архиве ФН вручную")]
    reason: Option<String>,
}

/// `outcome` of a settlement.
#[derive(ToSchema)]
pub enum SettleOutcome {
    #[schema(rename = "done")]
    Done,
    #[schema(rename = "notDone")]
    NotDone,
}

/// `GET /v1.0/admin/operations` query.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminListQuery {
    /// Which operations: only "unsettled" (Sending / Reconciling: a command may have run and
    /// its outcome is not proven) is listed. Absent: unsettled.
    #[param(inline)]
    state: Option<AdminListState>,
}

/// The `state` filter of the admin list.
#[derive(ToSchema)]
pub enum AdminListState {
    #[schema(rename = "unsettled")]
    Unsettled,
}
