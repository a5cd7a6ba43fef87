//! Settings tables (§7.3): 0x1E write a field, 0x1F read a field, 0x2D table structure.
//!
//! Field values travel as raw bytes; [`TableValue`] and the `WriteTable` constructors convert
//! BIN fields (little-endian integers of the field's exact size) and CHAR fields (CP1251, NUL
//! terminated). The field size must come from the table description (0x2E) or a known layout:
//! this module does not guess it.

use std::time::Duration;

use super::wire::{put_password, put_uint, Reader};
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
    const NAME: &'static str = "1E write table";
    const CLASS: CommandClass = CommandClass::IdempotentWrite;
    const TIMEOUT: Duration = TIMEOUT_FISCAL;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        put_cell(out, self.table, self.row, self.field);
        out.extend_from_slice(&self.value);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        Ok(WriteTable {
            password: Password(r.u32()?),
            table: r.u8()?,
            row: r.u16()?,
            field: r.u8()?,
            value: r.rest().to_vec(),
        })
    }
    fn read_answer(_r: &mut Reader<'_>) -> Result<(), AnswerError> {
        Ok(())
    }
    fn put_answer(_answer: &(), _out: &mut Vec<u8>) {}
}

/// Appends the address of a field: `table | row (2 bytes) | field` (§7.3).
fn put_cell(out: &mut Vec<u8>, table: u8, row: u16, field: u8) {
    out.push(table);
    out.extend_from_slice(&row.to_le_bytes());
    out.push(field);
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
    const NAME: &'static str = "1F read table";
    const CLASS: CommandClass = CommandClass::Read;
    const TIMEOUT: Duration = TIMEOUT_STATUS;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        put_cell(out, self.table, self.row, self.field);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        Ok(ReadTable {
            password: Password(r.u32()?),
            table: r.u8()?,
            row: r.u16()?,
            field: r.u8()?,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<TableValue, AnswerError> {
        Ok(TableValue(r.rest().to_vec()))
    }
    fn put_answer(answer: &TableValue, out: &mut Vec<u8>) {
        out.extend_from_slice(&answer.0);
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
    const NAME: &'static str = "2D table structure";
    const CLASS: CommandClass = CommandClass::Read;
    const TIMEOUT: Duration = TIMEOUT_STATUS;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_password(out, self.password);
        out.push(self.table);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        Ok(TableStructure {
            password: Password(r.u32()?),
            table: r.u8()?,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<TableStructureAnswer, AnswerError> {
        Ok(TableStructureAnswer {
            name: text::decode_nul_terminated_cp1251(r.bytes(TABLE_NAME_LEN)?),
            rows: r.u16()?,
            fields: r.u8()?,
        })
    }
    fn put_answer(answer: &TableStructureAnswer, out: &mut Vec<u8>) {
        out.extend(text::encode_fixed_cp1251(&answer.name, TABLE_NAME_LEN));
        out.extend_from_slice(&answer.rows.to_le_bytes());
        out.push(answer.fields);
    }
}
