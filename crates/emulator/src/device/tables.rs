//! Settings tables (§7.3) the host actually reads or writes: 1 (modes), 2 (operators and
//! passwords, §4), 4 (advertising and header lines), 5 (payment type names), 6 (tax rates), 7
//! (department names), 17 (regional settings: FFD version, extended answers, "don't print"),
//! 18 (fiscal identity, read-only). Other tables answer 0x5D. The vendor's JavaPOS service
//! reads the structure of table 4 when it is enabled and cannot start without it. Values are
//! stored only when written; everything else reads its default. The table commands are the system
//! administrator's: the dispatcher checks the password before they read their parameters.

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

/// Name, row count and field count of a table. Table 6 has as many rows as the firmware
/// profile's tax table (6 before 2026, 12 on 2026 firmware; addendum §2.3).
fn table_shape(device: &Device, table: u8) -> Option<(&'static str, u16, u8)> {
    let tax_rows = u16::try_from(device.state.config.tax_rates.len()).unwrap_or(u16::MAX);
    match table {
        1 => Some(("Тип и режим кассы", 1, 23)),
        2 => Some(("Пароли кассиров и администраторов", 30, 2)),
        4 => Some(("Текст в чеке", 14, 1)),
        5 => Some(("Наименование типов оплаты", 16, 1)),
        6 => Some(("Налоговые ставки", tax_rows, 2)),
        7 => Some(("Наименование отделов", 16, 1)),
        17 => Some(("Региональные настройки", 1, 36)),
        18 => Some(("Fiscal storage", 1, 23)),
        19 => Some(("Параметры сервера км", 1, 11)),
        _ => None,
    }
}

fn field_def(device: &Device, table: u8, field: u8) -> Option<FieldDef> {
    let (_, _, fields) = table_shape(device, table)?;
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
        (4, _) => text("Строка", 64, true),
        (5, _) => text("Наименование типа оплаты", 64, true),
        (6, 1) => bin("Величина налога", 2, 9999),
        (6, _) => text("Название налога", 64, true),
        (7, _) => text("Наименование отдела", 64, true),
        (17, 7) => bin("Не печатать документ", 1, 3),
        (17, 8) => bin("Минут до окончания смены", 1, 60),
        (17, 17) => bin("Формат фискальных документов", 1, 4),
        (17, 36) => bin("Расширенные ответы", 1, 1),
        (17, _) => bin("Параметр", 1, 255),
        (18, 1..=4) => text("Реквизит ФН", 20, false),
        (19, 5) => text("Сервер км", 64, true),
        (19, 6) => bin("Порт км", 2, 65_535),
        (19, 7) => bin("Таймаут чтения ответа км", 2, 65_535),
        (19, 8) => bin("Таймаут чтения ответа км при проверке", 2, 65_535),
        (19, _) => bin("Параметр", 2, 65_535),
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
        (4 | 7, _) => FieldValue::Char(String::new()),
        (5, _) => FieldValue::Char(payment_name(row)),
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
        // Addendum §4.1: the defaults of the marking server's table.
        (19, 5) => FieldValue::Char("test.kkt.ofd.ru".to_owned()),
        (19, 6) => FieldValue::Bin(7778),
        (19, 7) => FieldValue::Bin(33),
        (19, 8) => FieldValue::Bin(5),
        _ => FieldValue::Bin(0),
    }
}

/// Default name of payment type `row` (table 5), as a 2026 register ships them (addendum §3.5).
fn payment_name(row: u16) -> String {
    match row {
        1 => "НАЛИЧНЫМИ".to_owned(),
        2 => "CREDIT".to_owned(),
        3 => "КАРТА".to_owned(),
        4 => "СКИДКА".to_owned(),
        5..=13 => format!("РАСШИРЕННАЯ ОПЛАТА {}", row - 4),
        14 => "ПРЕДВАРИТЕЛЬНАЯ ОПЛАТА (АВАНС)".to_owned(),
        15 => "ПОСЛЕДУЮЩАЯ ОПЛАТА (КРЕДИТ)".to_owned(),
        _ => "ИНАЯ ФОРМА ОПЛАТЫ".to_owned(),
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

/// Number of rows of table 6.
pub fn tax_rows(device: &Device) -> u8 {
    u8::try_from(device.state.config.tax_rates.len()).unwrap_or(u8::MAX)
}

/// The FF46 tax byte of table-6 row `row`, as the vendor's driver codes it (addendum §2.2,
/// §2.4): rows 1..6 one bit each, rows 7..10 `0x80` plus one bit, rows 11.. `0xC0 + row`, except
/// on ШТРИХ-НАНО-Ф (model 152), where rows 11 and 12 continue the bits (`0x90`, `0xA0`).
pub fn tax_code(model: u8, row: u8) -> Option<u8> {
    match row {
        1..=6 => Some(1 << (row - 1)),
        7..=10 => Some(0x80 | 1 << (row - 7)),
        11 | 12 if model == NANO => Some(0x80 | 1 << (row - 7)),
        11..=63 if model != NANO => Some(0xC0 + row),
        _ => None,
    }
}

/// 0xFC model number of ШТРИХ-НАНО-Ф.
const NANO: u8 = 152;

/// The table-6 row an FF46 tax byte selects, read as the vendor's firmware does: exactly one
/// of the codes of [`tax_code`] for a row this register has. `None` for anything else (two
/// bits at once such as `03`, a code of a row the table does not have): refused with 0x33.
pub fn tax_row_of_code(device: &Device, code: u8) -> Option<u8> {
    let model = device.state.config.model_code;
    (1..=tax_rows(device)).find(|row| tax_code(model, *row) == Some(code))
}

/// Tax rate (1/100 %) and name of table-6 row `group`.
pub fn tax_group(device: &Device, group: u8) -> (u64, String) {
    let row = u16::from(group);
    let name = match value(device, 6, row, 2) {
        FieldValue::Char(s) => s,
        FieldValue::Bin(_) => String::new(),
    };
    (number(device, 6, row, 1), name)
}

fn locate(device: &Device, p: &mut Params<'_>) -> Result<(u8, u16, u8, FieldDef), u8> {
    let table = p.u8()?;
    let row = u16::try_from(p.uint(2)?).map_err(|_| err::BAD_PARAMS)?;
    let field = p.u8()?;
    let (_, rows, _) = table_shape(device, table).ok_or(err::NO_TABLE)?;
    if row == 0 || row > rows {
        return Err(err::BAD_PARAMS);
    }
    let def = field_def(device, table, field).ok_or(err::BAD_PARAMS)?;
    Ok((table, row, field, def))
}

/// 0x1F — read a field.
pub fn read_field(device: &Device, p: &mut Params<'_>) -> Answer {
    let (table, row, field, def) = locate(device, p)?;
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
    let (table, row, field, def) = locate(device, p)?;
    if device.state.receipt.is_some() {
        return Err(err::WRONG_MODE);
    }
    if !def.writable {
        return Err(NOT_EDITABLE);
    }
    if table == 6 && device.state.shift.open {
        return Err(SHIFT_OPEN);
    }
    // §7.3: payment type 1 is "НАЛИЧНЫМИ" for good.
    if table == 5 && row == 1 {
        return Err(NOT_EDITABLE);
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
    let (name, rows, fields) = table_shape(device, p.u8()?).ok_or(err::NO_TABLE)?;
    let mut out = to_cp1251(name);
    out.resize(40, 0);
    put_uint(&mut out, u64::from(rows), 2);
    out.push(fields);
    Ok(out)
}

/// 0x2E — field structure.
pub fn field_structure(device: &Device, p: &mut Params<'_>) -> Answer {
    let table = p.u8()?;
    table_shape(device, table).ok_or(err::NO_TABLE)?;
    let def = field_def(device, table, p.u8()?).ok_or(err::BAD_PARAMS)?;
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
