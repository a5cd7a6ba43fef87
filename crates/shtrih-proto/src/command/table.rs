//! Settings tables (§7.3): 0x1E write a field, 0x1F read a field, 0x2D table structure.
//!
//! Field values travel as raw bytes; [`TableValue`] and the `WriteTable` constructors convert
//! BIN fields (little-endian integers of the field's exact size) and CHAR fields (CP1251, NUL
//! terminated). The field size must come from the table description (0x2E) or a known layout:
//! this module does not guess it.

use std::time::Duration;

use super::wire::{
    answer_data, answer_message, put_password, put_uint, request, request_params, Reader,
};
use super::{AnswerError, Command, CommandClass, Password, TIMEOUT_FISCAL, TIMEOUT_STATUS};
use crate::text;

/// Width of the table name in 0x2D answers (§7.3).
const TABLE_NAME_LEN: usize = 40;

/// 0x1E: write one table field (§7.3). Idempotent when the same value is written again.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteTable {
    /// System administrator password.
    pub password: Password,
    /// Table number.
    pub table: u8,
    /// Row number.
    pub row: u16,
    /// Field number.
    pub field: u8,
    /// Raw value, exactly the field's size for BIN fields.
    pub value: Vec<u8>,
}

impl WriteTable {
    /// A BIN field of `size` bytes (1..=8) holding `value`, little-endian (§7.3).
    pub fn bin(
        password: Password,
        table: u8,
        row: u16,
        field: u8,
        value: u64,
        size: usize,
    ) -> Self {
        let mut bytes = Vec::with_capacity(size);
        put_uint(&mut bytes, value, size.clamp(1, 8));
        WriteTable {
            password,
            table,
            row,
            field,
            value: bytes,
        }
    }

    /// A CHAR field of `size` bytes: CP1251, NUL-padded and cut to `size` (§7.3).
    pub fn text(
        password: Password,
        table: u8,
        row: u16,
        field: u8,
        value: &str,
        size: usize,
    ) -> Self {
        WriteTable {
            password,
            table,
            row,
            field,
            value: text::encode_fixed_cp1251(value, size),
        }
    }
}

impl Command for WriteTable {
    type Answer = ();
    const CODE: &'static [u8] = &[0x1E];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.push(self.table);
            out.extend_from_slice(&self.row.to_le_bytes());
            out.push(self.field);
            out.extend_from_slice(&self.value);
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<(), AnswerError> {
        answer_data(msg, Self::CODE, "1E write table").map(|_| ())
    }
    fn class(&self) -> CommandClass {
        CommandClass::IdempotentWrite
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_FISCAL
    }
    fn name(&self) -> &'static str {
        "1E write table"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "1E write table";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
        Ok(WriteTable {
            password: Password(r.u32()?),
            table: r.u8()?,
            row: r.u16()?,
            field: r.u8()?,
            value: r.rest().to_vec(),
        })
    }
    fn encode_answer(_answer: &()) -> Vec<u8> {
        answer_message(Self::CODE, &[])
    }
}

/// 0x1F: read one table field (§7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReadTable {
    /// Password.
    pub password: Password,
    /// Table number.
    pub table: u8,
    /// Row number.
    pub row: u16,
    /// Field number.
    pub field: u8,
}

/// A table field value as read by 0x1F.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TableValue(pub Vec<u8>);

impl TableValue {
    /// The value as a BIN field: little-endian integer; `None` if longer than 8 bytes.
    pub fn as_bin(&self) -> Option<u64> {
        (self.0.len() <= 8).then(|| {
            self.0
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        })
    }

    /// The value as a CHAR field: CP1251 up to the first NUL.
    pub fn as_text(&self) -> String {
        text::decode_nul_terminated_cp1251(&self.0)
    }
}

impl Command for ReadTable {
    type Answer = TableValue;
    const CODE: &'static [u8] = &[0x1F];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.push(self.table);
            out.extend_from_slice(&self.row.to_le_bytes());
            out.push(self.field);
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<TableValue, AnswerError> {
        Ok(TableValue(
            answer_data(msg, Self::CODE, "1F read table")?.to_vec(),
        ))
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "1F read table"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "1F read table";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
        let out = ReadTable {
            password: Password(r.u32()?),
            table: r.u8()?,
            row: r.u16()?,
            field: r.u8()?,
        };
        r.finish()?;
        Ok(out)
    }
    fn encode_answer(a: &TableValue) -> Vec<u8> {
        answer_message(Self::CODE, &a.0)
    }
}

/// 0x2D: table structure (name, rows, fields) (§7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TableStructure {
    /// Password.
    pub password: Password,
    /// Table number.
    pub table: u8,
}

/// Answer data of 0x2D.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableStructureAnswer {
    /// Table name (CP1251, 40 bytes NUL-padded on the wire).
    pub name: String,
    /// Number of rows.
    pub rows: u16,
    /// Number of fields.
    pub fields: u8,
}

impl Command for TableStructure {
    type Answer = TableStructureAnswer;
    const CODE: &'static [u8] = &[0x2D];

    fn encode(&self) -> Vec<u8> {
        request(Self::CODE, |out| {
            put_password(out, self.password);
            out.push(self.table);
        })
    }
    fn decode_answer(msg: &[u8]) -> Result<TableStructureAnswer, AnswerError> {
        let name = "2D table structure";
        let mut r = Reader::new(answer_data(msg, Self::CODE, name)?, name);
        Ok(TableStructureAnswer {
            name: text::decode_nul_terminated_cp1251(r.bytes(TABLE_NAME_LEN)?),
            rows: r.u16()?,
            fields: r.u8()?,
        })
    }
    fn class(&self) -> CommandClass {
        CommandClass::Read
    }
    fn timeout(&self) -> Duration {
        TIMEOUT_STATUS
    }
    fn name(&self) -> &'static str {
        "2D table structure"
    }
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let name = "2D table structure";
        let mut r = Reader::new(request_params(msg, Self::CODE, name)?, name);
        let password = Password(r.u32()?);
        let table = r.u8()?;
        r.finish()?;
        Ok(TableStructure { password, table })
    }
    fn encode_answer(a: &TableStructureAnswer) -> Vec<u8> {
        let mut d = text::encode_fixed_cp1251(&a.name, TABLE_NAME_LEN);
        d.extend_from_slice(&a.rows.to_le_bytes());
        d.push(a.fields);
        answer_message(Self::CODE, &d)
    }
}
