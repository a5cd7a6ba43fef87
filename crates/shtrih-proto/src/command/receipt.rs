//! Receipt commands (§7.6): 0x8D open (a receipt, or an FFD 1.2 correction receipt with type
//! `0x80 + t`, addendum §5), 0xFF46 operation v2, 0xFF0C / 0xFF4D TLV data, 0xFF45
//! close v2, 0x88 cancel, 0x89 subtotal, and 0xB0 continue printing (§7.4), which finishes a
//! receipt interrupted by paper-out.
//!
//! Legacy item and close commands (0x80–0x8E) are not here: FN devices take FF46/FF45.

use std::time::Duration;

use super::wire::{
    commands, put_money, put_password, put_quantity, put_uint, AnswerData, DocumentTail,
    OperatorAnswer, Reader,
};
use super::{
    in_range, AnswerError, Command, CommandClass, DateTime, OutOfRange, Password, MAX_MONEY,
    MAX_QUANTITY, TIMEOUT_FISCAL,
};
use crate::text;
use crate::tlv::{self, Tlv};

/// Receipt type of 0x8D, the vendor's "тип чека" (§7.6.1, §8.1); the domain's receipt type is
/// `fiscal_model::ReceiptType`, which the driver maps onto this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckType {
    /// 0: sale (приход).
    Sale,
    /// 1: purchase (расход).
    Purchase,
    /// 2: sale return (возврат прихода).
    SaleReturn,
    /// 3: purchase return (возврат расхода).
    PurchaseReturn,
}

impl CheckType {
    /// The 0x8D type byte.
    pub fn to_byte(self) -> u8 {
        match self {
            CheckType::Sale => 0,
            CheckType::Purchase => 1,
            CheckType::SaleReturn => 2,
            CheckType::PurchaseReturn => 3,
        }
    }

    /// From the 0x8D type byte.
    pub fn from_byte(byte: u8) -> Option<CheckType> {
        match byte {
            0 => Some(CheckType::Sale),
            1 => Some(CheckType::Purchase),
            2 => Some(CheckType::SaleReturn),
            3 => Some(CheckType::PurchaseReturn),
            _ => None,
        }
    }

    /// The FF46 operation type of items in this receipt (§8.1: a different numbering).
    pub fn operation_kind(self) -> OperationKind {
        match self {
            CheckType::Sale => OperationKind::Sale,
            CheckType::Purchase => OperationKind::Purchase,
            CheckType::SaleReturn => OperationKind::SaleReturn,
            CheckType::PurchaseReturn => OperationKind::PurchaseReturn,
        }
    }
}

/// Operation type of FF46 / FF0A, FFD tag 1054 (§7.6.2, §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// 1: sale (приход).
    Sale,
    /// 2: sale return (возврат прихода).
    SaleReturn,
    /// 3: purchase (расход).
    Purchase,
    /// 4: purchase return (возврат расхода).
    PurchaseReturn,
}

impl OperationKind {
    /// The FF46 operation byte.
    pub fn to_byte(self) -> u8 {
        match self {
            OperationKind::Sale => 1,
            OperationKind::SaleReturn => 2,
            OperationKind::Purchase => 3,
            OperationKind::PurchaseReturn => 4,
        }
    }

    /// From the FF46 / FF0A operation byte.
    pub fn from_byte(byte: u8) -> Option<OperationKind> {
        match byte {
            1 => Some(OperationKind::Sale),
            2 => Some(OperationKind::SaleReturn),
            3 => Some(OperationKind::Purchase),
            4 => Some(OperationKind::PurchaseReturn),
            _ => None,
        }
    }
}

/// 0x8D: open a receipt of a type (§7.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenReceipt {
    /// Operator password.
    pub password: Password,
    /// Receipt type.
    pub receipt_type: CheckType,
}

impl Command for OpenReceipt {
    type Answer = OperatorAnswer;
    const CODE: &'static [u8] = &[0x8D];
    const NAME: &'static str = "8D open receipt";
    const CLASS: CommandClass = CommandClass::SelfGuarding;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(self.receipt_type.to_byte());
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let byte = r.u8()?;
        let receipt_type = CheckType::from_byte(byte).ok_or_else(|| {
            AnswerError::Malformed(format!("{}: receipt type {byte}", Self::NAME))
        })?;
        Ok(OpenReceipt {
            password,
            receipt_type,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<OperatorAnswer, AnswerError> {
        OperatorAnswer::read(r)
    }
    fn put_answer(answer: &OperatorAnswer, out: &mut Vec<u8>) {
        answer.put(out);
    }
}

/// 0x8D type bit of a correction receipt: `0x80 + t` opens an FFD 1.2 correction receipt
/// of type `t` (addendum §5).
pub const CORRECTION_TYPE_BIT: u8 = 0x80;

/// 0x8D with type `0x80 + t`: open an FFD 1.2 correction receipt (addendum §5). Its items,
/// tags and close are those of a receipt; tags 1173 and 1174 (see
/// [`Tlv::correction_kind`], [`Tlv::correction_basis`]) go with FF0C. The mode it leaves the
/// register in is UNCONFIRMED (addendum §9 item 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenCorrectionReceipt {
    /// Operator password.
    pub password: Password,
    /// The corrected settlement's type, `t` of `0x80 + t`.
    pub receipt_type: CheckType,
}

impl Command for OpenCorrectionReceipt {
    type Answer = OperatorAnswer;
    const CODE: &'static [u8] = &[0x8D];
    const NAME: &'static str = "8D open correction receipt";
    const CLASS: CommandClass = CommandClass::SelfGuarding;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(CORRECTION_TYPE_BIT | self.receipt_type.to_byte());
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let byte = r.u8()?;
        let receipt_type = byte
            .checked_sub(CORRECTION_TYPE_BIT)
            .and_then(CheckType::from_byte)
            .ok_or_else(|| {
                AnswerError::Malformed(format!("{}: receipt type {byte:#04x}", Self::NAME))
            })?;
        Ok(OpenCorrectionReceipt {
            password,
            receipt_type,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<OperatorAnswer, AnswerError> {
        OperatorAnswer::read(r)
    }
    fn put_answer(answer: &OperatorAnswer, out: &mut Vec<u8>) {
        answer.put(out);
    }
}

/// Longest FF46 item name in bytes (§7.6.2, tag 1030).
pub const MAX_ITEM_NAME: usize = 128;

/// Five 0xFF bytes: "not given" for FF46 sum and tax (§7.6.2).
const NOT_GIVEN: u64 = 0xFF_FFFF_FFFF;

/// 0xFF46: one item of the open receipt (§7.6.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationV2 {
    /// Operator password (the vendor driver's choice, §4).
    pub password: Password,
    /// Operation type; must match the open receipt.
    pub kind: OperationKind,
    /// Quantity in millionths (1 pc = 1 000 000).
    pub quantity: u64,
    /// Price in kopecks.
    pub price: u64,
    /// Sum in kopecks; `None` lets the KKT compute price × quantity.
    pub sum: Option<u64>,
    /// Tax amount in kopecks; `None` = not specified.
    pub tax: Option<u64>,
    /// Tax byte: the code of a table-6 row, a bit mask, not the row number (FFD 1.2 addendum
    /// §2: row n of 1..6 is `1 << (n - 1)`, rows 7..12 have the 2026 codes).
    pub tax_group: u8,
    /// Department 0..16, 255 = by goods code.
    pub department: u8,
    /// Payment method, tag 1214 (§8.4; 4 = full payment).
    pub payment_method: u8,
    /// Payment subject, tag 1212 (§8.5; 1 = goods).
    pub payment_subject: u8,
    /// Item name (tag 1030), sent in CP1251 unpadded and cut at 128 bytes.
    pub name: String,
}

fn put_optional_money(out: &mut Vec<u8>, value: Option<u64>) {
    match value {
        Some(v) => put_money(out, v),
        None => put_uint(out, NOT_GIVEN, 5),
    }
}

fn read_optional_money(r: &mut Reader<'_>) -> Result<Option<u64>, AnswerError> {
    let v = r.uint(5)?;
    Ok((v != NOT_GIVEN).then_some(v))
}

impl Command for OperationV2 {
    type Answer = ();
    const CODE: &'static [u8] = &[0xFF, 0x46];
    const NAME: &'static str = "FF46 operation";
    const CLASS: CommandClass = CommandClass::Dangerous;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn check(&self) -> Result<(), OutOfRange> {
        in_range(Self::NAME, "quantity", self.quantity, MAX_QUANTITY)?;
        in_range(Self::NAME, "price", self.price, MAX_MONEY)?;
        in_range(Self::NAME, "sum", self.sum.unwrap_or(0), MAX_MONEY)?;
        in_range(Self::NAME, "tax", self.tax.unwrap_or(0), MAX_MONEY)
    }

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(self.kind.to_byte());
        put_quantity(out, self.quantity);
        put_money(out, self.price);
        put_optional_money(out, self.sum);
        put_optional_money(out, self.tax);
        out.extend_from_slice(&[
            self.tax_group,
            self.department,
            self.payment_method,
            self.payment_subject,
        ]);
        let mut name = text::encode_cp1251(&self.name);
        name.truncate(MAX_ITEM_NAME);
        out.extend_from_slice(&name);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let kind_byte = r.u8()?;
        let kind = OperationKind::from_byte(kind_byte).ok_or_else(|| {
            AnswerError::Malformed(format!("{}: operation {kind_byte}", Self::NAME))
        })?;
        Ok(OperationV2 {
            password,
            kind,
            quantity: r.uint(6)?,
            price: r.uint(5)?,
            sum: read_optional_money(r)?,
            tax: read_optional_money(r)?,
            tax_group: r.u8()?,
            department: r.u8()?,
            payment_method: r.u8()?,
            payment_subject: r.u8()?,
            // [GO] pads the name with NULs; a NUL ends the string either way (§3).
            name: text::decode_nul_terminated_cp1251(r.rest()),
        })
    }
    fn read_answer(_r: &mut Reader<'_>) -> Result<(), AnswerError> {
        Ok(())
    }
    fn put_answer(_answer: &(), _out: &mut Vec<u8>) {}
}

/// Largest TLV payload of FF0C/FF4D on the standard lower level: `2 + 4 + N ≤ 255` (§7.6.3).
pub const MAX_TLV_PAYLOAD: usize = 249;

// FF0C and FF4D share one layout (§7.6.3).
commands! {
    {
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        fields {
            /// Password (system administrator per the spec).
            pub password: Password,
            /// The tags; their encoded size should not exceed [`MAX_TLV_PAYLOAD`].
            pub tlvs: Vec<Tlv>,
        }
        put(cmd, out) {
            put_password(out, cmd.password);
            out.extend(tlv::encode_list(&cmd.tlvs));
        }
        read(r) {
            password: Password(r.u32()?),
            tlvs: tlv::decode_list(r.rest())
                .map_err(|e| AnswerError::Malformed(format!("{}: {e}", Self::NAME)))?,
        }
        read_answer(_r) {
            Ok(())
        }
        put_answer(_answer, _out) {}
    }
    /// 0xFF0C: attach TLVs to the document being formed (receipt, or shift report after
    /// FF41/FF42) (§7.6.3).
    AttachTlv = &[0xFF, 0x0C], "FF0C attach TLV", Dangerous, TIMEOUT_FISCAL, ();
    /// 0xFF4D: attach TLVs to the last operation (FF46) (§7.6.3).
    AttachItemTlv = &[0xFF, 0x4D], "FF4D attach item TLV", Dangerous, TIMEOUT_FISCAL, ();
}

/// `true` when the encoded TLVs fit one standard frame (§7.6.3).
fn tlvs_fit_frame(tlvs: &[Tlv]) -> bool {
    tlvs.iter().map(Tlv::encoded_len).sum::<usize>() <= MAX_TLV_PAYLOAD
}

impl AttachTlv {
    /// `true` when the encoded TLVs fit one standard frame (§7.6.3).
    pub fn fits_frame(&self) -> bool {
        tlvs_fit_frame(&self.tlvs)
    }
}

impl AttachItemTlv {
    /// `true` when the encoded TLVs fit one standard frame (§7.6.3).
    pub fn fits_frame(&self) -> bool {
        tlvs_fit_frame(&self.tlvs)
    }
}

/// Longest FF45 closing text in bytes (§7.6.4).
pub const MAX_CLOSE_TEXT: usize = 64;

/// 0xFF45: close the receipt with payments and taxes (§7.6.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseReceiptV2 {
    /// Password (the vendor driver sends the operator's, §4).
    pub password: Password,
    /// Payment sums by type 1..16 in kopecks: index 0 cash, 1..12 electronic, 13 prepayment,
    /// 14 postpayment, 15 counter-provision.
    pub payments: [u64; 16],
    /// Rounding to the rouble, kopecks 0..99.
    pub rounding: u8,
    /// Tax amounts / turnovers of tax groups 1..6 (ignored unless table 1.14 = 1).
    pub taxes: [u64; 6],
    /// Tax system bit field (§8.6), exactly one bit.
    pub tax_system: u8,
    /// Text printed at the end (CP1251, cut at 64 bytes).
    pub text: String,
}

/// Answer data of FF45 (§7.6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseReceiptAnswer {
    /// Change (сдача) in kopecks.
    pub change: u64,
    /// FD number of the receipt.
    pub fd_number: u32,
    /// Fiscal sign (ФП), printed in decimal.
    pub fiscal_sign: u32,
    /// Receipt date-time, only with the extended-answer setting (table 17.36).
    pub date_time: Option<DateTime>,
}

impl AnswerData for CloseReceiptAnswer {
    fn read(r: &mut Reader<'_>) -> Result<CloseReceiptAnswer, AnswerError> {
        let change = r.uint(5)?;
        let tail = DocumentTail::read(r)?;
        Ok(CloseReceiptAnswer {
            change,
            fd_number: tail.fd_number,
            fiscal_sign: tail.fiscal_sign,
            date_time: tail.date_time,
        })
    }
    fn put(&self, out: &mut Vec<u8>) {
        put_money(out, self.change);
        DocumentTail {
            fd_number: self.fd_number,
            fiscal_sign: self.fiscal_sign,
            date_time: self.date_time,
        }
        .put(out);
    }
}

impl Command for CloseReceiptV2 {
    type Answer = CloseReceiptAnswer;
    const CODE: &'static [u8] = &[0xFF, 0x45];
    const NAME: &'static str = "FF45 close receipt";
    const CLASS: CommandClass = CommandClass::SelfGuarding;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn check(&self) -> Result<(), OutOfRange> {
        for &p in &self.payments {
            in_range(Self::NAME, "payment", p, MAX_MONEY)?;
        }
        for &t in &self.taxes {
            in_range(Self::NAME, "tax", t, MAX_MONEY)?;
        }
        Ok(())
    }

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        for &p in &self.payments {
            put_money(out, p);
        }
        out.push(self.rounding);
        for &t in &self.taxes {
            put_money(out, t);
        }
        out.push(self.tax_system);
        let mut text = text::encode_cp1251(&self.text);
        text.truncate(MAX_CLOSE_TEXT);
        out.extend_from_slice(&text);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let password = Password(r.u32()?);
        let mut payments = [0u64; 16];
        for p in &mut payments {
            *p = r.uint(5)?;
        }
        let rounding = r.u8()?;
        let mut taxes = [0u64; 6];
        for t in &mut taxes {
            *t = r.uint(5)?;
        }
        Ok(CloseReceiptV2 {
            password,
            payments,
            rounding,
            taxes,
            tax_system: r.u8()?,
            text: text::decode_nul_terminated_cp1251(r.rest()),
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<CloseReceiptAnswer, AnswerError> {
        CloseReceiptAnswer::read(r)
    }
    fn put_answer(answer: &CloseReceiptAnswer, out: &mut Vec<u8>) {
        answer.put(out);
    }
}

/// Answer data of 0x89.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubtotalAnswer {
    /// Operator number.
    pub operator: u8,
    /// Subtotal in kopecks.
    pub subtotal: u64,
}

impl AnswerData for SubtotalAnswer {
    fn read(r: &mut Reader<'_>) -> Result<SubtotalAnswer, AnswerError> {
        Ok(SubtotalAnswer {
            operator: r.u8()?,
            subtotal: r.uint(5)?,
        })
    }
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.operator);
        put_money(out, self.subtotal);
    }
}

commands! {
    password;
    /// 0x88: cancel the open receipt; no FD is created (§7.6.5).
    CancelReceipt = &[0x88], "88 cancel receipt", SelfGuarding, TIMEOUT_FISCAL, OperatorAnswer;
    /// 0xB0: continue printing after paper-out (submode 3, §7.4).
    ContinuePrinting = &[0xB0], "B0 continue printing", SelfGuarding, TIMEOUT_FISCAL, OperatorAnswer;
    /// 0x89: receipt subtotal, read-only (§7.6.5).
    Subtotal = &[0x89], "89 subtotal", Read, TIMEOUT_FISCAL, SubtotalAnswer;
}
