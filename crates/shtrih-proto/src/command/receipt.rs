//! Receipt commands (§7.6): 0x8D open, 0xFF46 operation v2, 0xFF0C / 0xFF4D TLV data, 0xFF45
//! close v2, 0x88 cancel, 0x89 subtotal, and 0xB0 continue printing (§7.4), which finishes a
//! receipt interrupted by paper-out.
//!
//! Legacy item and close commands (0x80–0x8E) are not here: FN devices take FF46/FF45.

use std::time::Duration;

use super::wire::{
    answer_data, answer_message, password_command, put_money, put_password, put_quantity, put_uint,
    request, request_params, OperatorAnswer, Reader,
};
use super::{
    in_range, AnswerError, Command, CommandClass, DateTime, OutOfRange, Password, MAX_MONEY,
    MAX_QUANTITY, TIMEOUT_FISCAL,
};
use crate::text;
use crate::tlv::{self, Tlv};

/// Receipt type of 0x8D (§7.6.1, §8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptType {
    /// 0: sale (приход).
    Sale,
    /// 1: purchase (расход).
    Purchase,
    /// 2: sale return (возврат прихода).
    SaleReturn,
    /// 3: purchase return (возврат расхода).
    PurchaseReturn,
}

impl ReceiptType {
    /// The 0x8D type byte.
    pub fn to_byte(self) -> u8 {
        match self {
            ReceiptType::Sale => 0,
            ReceiptType::Purchase => 1,
            ReceiptType::SaleReturn => 2,
            ReceiptType::PurchaseReturn => 3,
        }
    }

    /// From the 0x8D type byte.
    pub fn from_byte(byte: u8) -> Option<ReceiptType> {
        match byte {
            0 => Some(ReceiptType::Sale),
            1 => Some(ReceiptType::Purchase),
            2 => Some(ReceiptType::SaleReturn),
            3 => Some(ReceiptType::PurchaseReturn),
            _ => None,
        }
    }

    /// The FF46 operation type of items in this receipt (§8.1: a different numbering).
    pub fn operation_kind(self) -> OperationKind {
        match self {
            ReceiptType::Sale => OperationKind::Sale,
            ReceiptType::Purchase => OperationKind::Purchase,
            ReceiptType::SaleReturn => OperationKind::SaleReturn,
            ReceiptType::PurchaseReturn => OperationKind::PurchaseReturn,
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
    pub receipt_type: ReceiptType,
}

impl Command for OpenReceipt {
    type Answer = OperatorAnswer;
    const CODE: &'static [u8] = &[0x8D];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.push(self.receipt_type.to_byte());
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<OperatorAnswer, AnswerError> {
        let data = answer_data(msg, Self::CODE, "8D open receipt")?;
        Ok(OperatorAnswer {
            operator: Reader::new(data, "8D open receipt").u8()?,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::SelfGuarding
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "8D open receipt"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "8D open receipt";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
        let password = Password(r.u32()?);
        let byte = r.u8()?;
        r.finish()?;
        let receipt_type = ReceiptType::from_byte(byte)
            .ok_or_else(|| AnswerError::Malformed(format!("{name}: receipt type {byte}")))?;
        Ok(OpenReceipt {
            password,
            receipt_type,
        })
    }
    fn encode_answer(answer: &OperatorAnswer) -> Vec<u8> {
        answer_message(Self::CODE, &[answer.operator])
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

    fn check(&self) -> Result<(), OutOfRange> {
        let name = self.name();
        in_range(name, "quantity", self.quantity, MAX_QUANTITY)?;
        in_range(name, "price", self.price, MAX_MONEY)?;
        in_range(name, "sum", self.sum.unwrap_or(0), MAX_MONEY)?;
        in_range(name, "tax", self.tax.unwrap_or(0), MAX_MONEY)
    }

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
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
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<(), AnswerError> {
        answer_data(msg, Self::CODE, "FF46 operation").map(|_| ())
    }
    fn class(&self) -> CommandClass {
        CommandClass::Dangerous
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "FF46 operation"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "FF46 operation";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
        let password = Password(r.u32()?);
        let kind_byte = r.u8()?;
        let kind = OperationKind::from_byte(kind_byte)
            .ok_or_else(|| AnswerError::Malformed(format!("{name}: operation {kind_byte}")))?;
        Ok(OperationV2 {
            password,
            kind,
            quantity: r.uint(6)?,
            price: r.uint(5)?,
            sum: read_optional_money(&mut r)?,
            tax: read_optional_money(&mut r)?,
            tax_group: r.u8()?,
            department: r.u8()?,
            payment_method: r.u8()?,
            payment_subject: r.u8()?,
            // [GO] pads the name with NULs; a NUL ends the string either way (§3).
            name: text::decode_nul_terminated_cp1251(r.rest()),
        })
    }
    fn encode_answer(_answer: &()) -> Vec<u8> {
        answer_message(Self::CODE, &[])
    }
}

/// Largest TLV payload of FF0C/FF4D on the standard lower level: `2 + 4 + N ≤ 255` (§7.6.3).
pub const MAX_TLV_PAYLOAD: usize = 249;

/// Defines FF0C and FF4D, which share one layout (§7.6.3).
macro_rules! tlv_command {
    ($(#[$doc:meta])* $ty:ident, $code:expr, $name:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty {
            /// Password (system administrator per the spec).
            pub password: Password,
            /// The tags; their encoded size should not exceed [`MAX_TLV_PAYLOAD`].
            pub tlvs: Vec<Tlv>,
        }

        impl $ty {
            /// `true` when the encoded TLVs fit one standard frame (§7.6.3).
            pub fn fits_frame(&self) -> bool {
                self.tlvs.iter().map(Tlv::encoded_len).sum::<usize>() <= MAX_TLV_PAYLOAD
            }
        }

        impl Command for $ty {
            type Answer = ();
            const CODE: &'static [u8] = $code;

            fn encode(&self) -> Vec<u8> {
                request(Self::CODE, |out| {
                    put_password(out, self.password);
                    out.extend(tlv::encode_list(&self.tlvs));
                })
            }
            fn decode_answer(msg: &[u8]) -> Result<(), AnswerError> {
                answer_data(msg, Self::CODE, $name).map(|_| ())
            }
            fn class(&self) -> CommandClass {
                CommandClass::Dangerous
            }
            fn timeout(&self) -> Duration {
                TIMEOUT_FISCAL
            }
            fn name(&self) -> &'static str {
                $name
            }
            fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
                let mut r = Reader::new(request_params(msg, Self::CODE, $name)?, $name);
                let password = Password(r.u32()?);
                let tlvs = tlv::decode_list(r.rest())
                    .map_err(|e| AnswerError::Malformed(format!("{}: {e}", $name)))?;
                Ok($ty { password, tlvs })
            }
            fn encode_answer(_answer: &()) -> Vec<u8> {
                answer_message(Self::CODE, &[])
            }
        }
    };
}

tlv_command!(
    /// 0xFF0C: attach TLVs to the document being formed (receipt, or shift report after
    /// FF41/FF42) (§7.6.3).
    AttachTlv,
    &[0xFF, 0x0C],
    "FF0C attach TLV"
);

tlv_command!(
    /// 0xFF4D: attach TLVs to the last operation (FF46) (§7.6.3).
    AttachItemTlv,
    &[0xFF, 0x4D],
    "FF4D attach item TLV"
);

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

impl Command for CloseReceiptV2 {
    type Answer = CloseReceiptAnswer;
    const CODE: &'static [u8] = &[0xFF, 0x45];

    fn check(&self) -> Result<(), OutOfRange> {
        let name = self.name();
        for &p in &self.payments {
            in_range(name, "payment", p, MAX_MONEY)?;
        }
        for &t in &self.taxes {
            in_range(name, "tax", t, MAX_MONEY)?;
        }
        Ok(())
    }

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
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
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<CloseReceiptAnswer, AnswerError> {
        let name = "FF45 close receipt";
        let mut r = Reader::new(answer_data(msg, Self::CODE, name)?, name);
        let change = r.uint(5)?;
        let fd_number = r.u32()?;
        let fiscal_sign = r.u32()?;
        let date_time = if r.remaining() >= 5 {
            Some(DateTime::from_fn(r.array()?))
        } else {
            None
        };
        Ok(CloseReceiptAnswer {
            change,
            fd_number,
            fiscal_sign,
            date_time,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::SelfGuarding
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "FF45 close receipt"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "FF45 close receipt";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
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
        let tax_system = r.u8()?;
        let text = text::decode_nul_terminated_cp1251(r.rest());
        Ok(CloseReceiptV2 {
            password,
            payments,
            rounding,
            taxes,
            tax_system,
            text,
        })
    }
    fn encode_answer(a: &CloseReceiptAnswer) -> Vec<u8> {
        let mut d = Vec::with_capacity(18);
        put_money(&mut d, a.change);
        d.extend_from_slice(&a.fd_number.to_le_bytes());
        d.extend_from_slice(&a.fiscal_sign.to_le_bytes());
        if let Some(dt) = a.date_time {
            d.extend_from_slice(&dt.to_fn());
        }
        answer_message(Self::CODE, &d)
    }
}

password_command!(
    /// 0x88: cancel the open receipt; no FD is created (§7.6.5).
    CancelReceipt,
    &[0x88],
    "88 cancel receipt",
    OperatorAnswer,
    CommandClass::SelfGuarding,
    TIMEOUT_FISCAL
);

password_command!(
    /// 0xB0: continue printing after paper-out (submode 3, §7.4).
    ContinuePrinting,
    &[0xB0],
    "B0 continue printing",
    OperatorAnswer,
    CommandClass::SelfGuarding,
    TIMEOUT_FISCAL
);

/// 0x89: receipt subtotal, read-only (§7.6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subtotal {
    /// Operator password.
    pub password: Password,
}

/// Answer data of 0x89.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubtotalAnswer {
    /// Operator number.
    pub operator: u8,
    /// Subtotal in kopecks.
    pub subtotal: u64,
}

impl Command for Subtotal {
    type Answer = SubtotalAnswer;
    const CODE: &'static [u8] = &[0x89];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| put_password(out, self.password))
    }
    fn decode_answer(msg: &[u8]) -> Result<SubtotalAnswer, AnswerError> {
        let mut r = Reader::new(answer_data(msg, Self::CODE, "89 subtotal")?, "89 subtotal");
        Ok(SubtotalAnswer {
            operator: r.u8()?,
            subtotal: r.uint(5)?,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "89 subtotal"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let mut r = Reader::new(
            request_params(msg, Self::CODE, "89 subtotal")?,
            "89 subtotal",
        );
        let password = Password(r.u32()?);
        r.finish()?;
        Ok(Subtotal { password })
    }
    fn encode_answer(a: &SubtotalAnswer) -> Vec<u8> {
        let mut d = vec![a.operator];
        put_money(&mut d, a.subtotal);
        answer_message(Self::CODE, &d)
    }
}
