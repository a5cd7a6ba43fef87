//! Settings tables (§7.3) the host actually reads or writes: 1 (modes), 2 (operators and
//! passwords, §4), 6 (tax rates), 17 (regional settings: FFD version, extended answers, "don't
//! print"), 18 (fiscal identity, read-only). Other tables answer 0x5D. Values are stored only
//! when written; everything else reads its default.

use super::commands::{authorize, Role};
use super::state::FieldValue;
use super::wire::{cp1251_text, err, put_uint, to_cp1251, Params};
use super::{Answer, Device};

/// "Field not editable" (§5).
const NOT_EDITABLE: u8 = 0x7A;
/// "Shift is open — operation impossible" (§5): table 6 is fixed during a shift.
const SHIFT_OPEN: u8 = 0x3C;

/// Shape of a field (0x2E answer).
#[derive(Debug, Clone, Copy)]
struct FieldDef {
    name: &'static str,
    bin: bool,
    size: u8,
    max: u64,
    writable: bool,
}

const fn bin(name: &'static str, size: u8, max: u64) -> FieldDef {
    FieldDef {
        name,
        bin: true,
        size,
        max,
        writable: true,
    }
}

const fn text(name: &'static str, size: u8, writable: bool) -> FieldDef {
    FieldDef {
        name,
        bin: false,
        size,
        max: 0,
        writable,
    }
}

/// Name, row count and field count of a table.
fn table_shape(table: u8) -> Option<(&'static str, u16, u8)> {
    match table {
        1 => Some(("Тип и режим кассы", 1, 23)),
        2 => Some(("Пароли кассиров и администраторов", 30, 2)),
        6 => Some(("Налоговые ставки", 6, 2)),
        17 => Some(("Региональные настройки", 1, 36)),
        18 => Some(("Fiscal storage", 1, 23)),
        _ => None,
    }
}

fn field_def(table: u8, field: u8) -> Option<FieldDef> {
    let (_, _, fields) = table_shape(table)?;
    if field == 0 || field > fields {
        return None;
    }
    Some(match (table, field) {
        (1, 7) => bin("Автоматическая отрезка чека", 1, 2),
        (1, 14) => bin("Начисление налогов", 1, 1),
        (1, 20) => bin("Печать чека по закрытию", 1, 1),
        (1, _) => bin("Параметр", 1, 255),
        (2, 1) => bin("Пароль", 4, 99_999_999),
        (2, _) => text("Имя оператора", 64, true),
        (6, 1) => bin("Величина налога", 2, 9999),
        (6, _) => text("Название налога", 64, true),
        (17, 7) => bin("Не печатать документ", 1, 3),
        (17, 8) => bin("Минут до окончания смены", 1, 60),
        (17, 17) => bin("Формат фискальных документов", 1, 4),
        (17, 36) => bin("Расширенные ответы", 1, 1),
        (17, _) => bin("Параметр", 1, 255),
        (18, 1..=4) => text("Реквизит ФН", 20, false),
        _ => text("Реквизит", 128, true),
    })
}

fn key(table: u8, row: u16, field: u8) -> String {
    format!("{table}.{row}.{field}")
}

fn default_value(device: &Device, table: u8, row: u16, field: u8) -> FieldValue {
    let config = &device.state.config;
    let tax = usize::from(row)
        .checked_sub(1)
        .and_then(|i| config.tax_rates.get(i));
    match (table, field) {
        (1, 1) | (1, 20) => FieldValue::Bin(1),
        (2, 1) => FieldValue::Bin(u64::from(row)),
        (2, _) => FieldValue::Char(match row {
            29 => "АДМИНИСТРАТОР".to_owned(),
            30 => "СИСТ. АДМИНИСТРАТОР".to_owned(),
            n => format!("КАССИР {n}"),
        }),
        (6, 1) => FieldValue::Bin(tax.map_or(0, |t| u64::from(t.0))),
        (6, _) => FieldValue::Char(tax.map_or_else(String::new, |t| t.1.clone())),
        (17, 8) => FieldValue::Bin(1),
        (17, 17) => FieldValue::Bin(u64::from(config.ffd_version)),
        (18, 1) => FieldValue::Char(config.kkt_serial.clone()),
        (18, 2) => FieldValue::Char(config.inn.clone()),
        (18, 3) => FieldValue::Char(config.rnm.clone()),
        (18, 4) => FieldValue::Char(config.fn_serial.clone()),
        (18, 7) => FieldValue::Char("ООО \"ТЕСТОВЫЙ МАГАЗИН\"".to_owned()),
        (18, 9) => FieldValue::Char("г. Москва, ул. Примерная, д. 1".to_owned()),
        (18, _) => FieldValue::Char(String::new()),
        _ => FieldValue::Bin(0),
    }
}

/// Current value of a field (written or default).
pub fn value(device: &Device, table: u8, row: u16, field: u8) -> FieldValue {
    device
        .state
        .tables
        .get(&key(table, row, field))
        .cloned()
        .unwrap_or_else(|| default_value(device, table, row, field))
}

/// A BIN field as a number (0 for CHAR fields).
pub fn number(device: &Device, table: u8, row: u16, field: u8) -> u64 {
    match value(device, table, row, field) {
        FieldValue::Bin(v) => v,
        FieldValue::Char(_) => 0,
    }
}

/// Password of operator `row` (table 2 field 1).
pub fn operator_password(device: &Device, row: u8) -> u64 {
    number(device, 2, u16::from(row), 1)
}

/// Tax rate (1/100 %) and name of group 1..6 (table 6).
pub fn tax_group(device: &Device, group: u8) -> (u64, String) {
    let row = u16::from(group);
    let name = match value(device, 6, row, 2) {
        FieldValue::Char(s) => s,
        FieldValue::Bin(_) => String::new(),
    };
    (number(device, 6, row, 1), name)
}

fn locate(p: &mut Params<'_>) -> Result<(u8, u16, u8, FieldDef), u8> {
    let table = p.u8()?;
    let row = u16::try_from(p.uint(2)?).map_err(|_| err::BAD_PARAMS)?;
    let field = p.u8()?;
    let (_, rows, _) = table_shape(table).ok_or(err::NO_TABLE)?;
    if row == 0 || row > rows {
        return Err(err::BAD_PARAMS);
    }
    let def = field_def(table, field).ok_or(err::BAD_PARAMS)?;
    Ok((table, row, field, def))
}

/// 0x1F — read a field.
pub fn read_field(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let (table, row, field, def) = locate(p)?;
    let mut out = Vec::new();
    match value(device, table, row, field) {
        FieldValue::Bin(v) => put_uint(&mut out, v, usize::from(def.size)),
        FieldValue::Char(s) => {
            let mut bytes = to_cp1251(&s);
            bytes.resize(usize::from(def.size), 0);
            out.extend_from_slice(&bytes);
        }
    }
    Ok(out)
}

/// 0x1E — write a field (not in mode 8; table 6 not with a shift open).
pub fn write_field(device: &mut Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let (table, row, field, def) = locate(p)?;
    if device.state.receipt.is_some() {
        return Err(err::WRONG_MODE);
    }
    if !def.writable {
        return Err(NOT_EDITABLE);
    }
    if table == 6 && device.state.shift.open {
        return Err(SHIFT_OPEN);
    }
    let raw = p.rest();
    let new = if def.bin {
        let bytes = raw.get(..usize::from(def.size)).ok_or(err::BAD_PARAMS)?;
        let v = super::wire::le_uint(bytes);
        if v > def.max {
            return Err(err::BAD_PARAMS);
        }
        FieldValue::Bin(v)
    } else {
        FieldValue::Char(cp1251_text(raw))
    };
    device.state.tables.insert(key(table, row, field), new);
    Ok(Vec::new())
}

/// 0x2D — table structure.
pub fn table_structure(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let (name, rows, fields) = table_shape(p.u8()?).ok_or(err::NO_TABLE)?;
    let mut out = to_cp1251(name);
    out.resize(40, 0);
    put_uint(&mut out, u64::from(rows), 2);
    out.push(fields);
    Ok(out)
}

/// 0x2E — field structure.
pub fn field_structure(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let table = p.u8()?;
    table_shape(table).ok_or(err::NO_TABLE)?;
    let def = field_def(table, p.u8()?).ok_or(err::BAD_PARAMS)?;
    let mut out = to_cp1251(def.name);
    out.resize(40, 0);
    out.push(u8::from(!def.bin));
    out.push(def.size);
    if def.bin {
        put_uint(&mut out, 0, usize::from(def.size));
        put_uint(&mut out, def.max, usize::from(def.size));
    }
    Ok(out)
}
