//! Command dispatch and the status/service commands (§6.1, §6.2, §7.1, §7.2, §7.9). Receipt,
//! shift, legacy, table, marking and FN commands are handled in their own modules; this one
//! routes to them. Handlers check passwords with `access`; the dispatcher checks them itself
//! for the groups that only the system administrator may run (tables, FN queries).

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::access::{authorize, Role};
use super::state::registers;
use super::wire::{err, put_kkt_date, put_kkt_time, put_uint, to_cp1251, Params};
use super::{fn_archive, fn_tlv, legacy, marking, money, receipt, shift, tables, Answer, Device};

/// Commands without side effects (§10.1 "pure reads"): no state save after them.
pub fn is_read_only(code: &[u8]) -> bool {
    match code {
        [0xFF, sub] => matches!(
            sub,
            0x01..=0x04 | 0x09 | 0x0A | 0x39 | 0x3A | 0x3B | 0x3F | 0x40 | 0x68 | 0x70
        ),
        [c] => matches!(
            c,
            0x10 | 0x11
                | 0x13
                | 0x15
                | 0x1A
                | 0x1B
                | 0x1F
                | 0x26
                | 0x2D
                | 0x2E
                | 0x6B
                | 0x89
                | 0xF7
                | 0xFC
        ),
        _ => false,
    }
}

/// Routes a request to its handler.
pub fn dispatch(device: &mut Device, code: &[u8], params: &[u8], now: NaiveDateTime) -> Answer {
    fn_archive::deliver_to_ofd(device);
    marking::deliver(device);
    let p = &mut Params::new(params);
    match code {
        [0xFF, sub] => dispatch_fn(device, *sub, p, now),
        [0x10] => short_status(device, p, now),
        [0x11] => full_status(device, p, now),
        [0x13] => beep(device, p),
        [0x14] => set_exchange(device, p),
        [0x15] => read_exchange(device, p),
        [0x28] => open_drawer(device, p),
        [0x1A] => money_register(device, p),
        [0x1B] => operation_register(device, p),
        [0x1E | 0x1F | 0x2D | 0x2E] => table_command(device, code[0], p),
        [0x26] => font_metrics(device, p),
        [0x21] => set_time(device, p, now),
        [0x22] => set_date(device, p, now),
        [0x23] => confirm_date(device, p, now),
        [0x6B] => error_text(device, p),
        [0xF7] => extended_query(p),
        [0xFC] => device_type(device),
        [0x12 | 0x17 | 0x25 | 0x29 | 0x2F | 0xB0] => shift::printing(device, code[0], p, now),
        [0x40] => shift::x_report(device, p, now),
        [0x41] => shift::close_shift(device, p, now, false),
        [0xE0] => shift::open_shift(device, p, now, false),
        [0x50] => shift::cash(device, p, now, true),
        [0x51] => shift::cash(device, p, now, false),
        [0x8D] => receipt::open(device, p, now),
        [0x88] => receipt::cancel(device, p, now),
        [0x8C] => shift::repeat_document(device, p, now),
        [0x89] => receipt::subtotal(device, p),
        [0x80..=0x87 | 0x8E] => legacy::dispatch(device, code[0], p, now),
        _ => Err(err::UNKNOWN_COMMAND),
    }
}

fn dispatch_fn(device: &mut Device, sub: u8, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    match sub {
        0x41 => shift::begin_report(device, p, now, true),
        0x42 => shift::begin_report(device, p, now, false),
        0x0B => shift::open_shift(device, p, now, true),
        0x43 => shift::close_shift(device, p, now, true),
        0x46 => receipt::operation(device, p, now),
        0x45 => receipt::close(device, p, now),
        0x0C => receipt::attach_tlv(device, p, false),
        0x08 => {
            authorize(device, p, Role::SysAdmin)?;
            receipt::cancel_open(device, now).map(|_| Vec::new())
        }
        0x4D => receipt::attach_tlv(device, p, true),
        0x35 | 0x4A => receipt::old_correction(device),
        0x61 => marking::check(device, p),
        0x67 => marking::bind(device, p, now),
        0x68 => marking::exchange_status(device, p, now),
        0x69 => marking::decide(device, p),
        0x70 => marking::marking_status(device, p),
        0x71 => marking::upload_begin(device, p),
        0x72 => marking::upload_read(device, p),
        0x73 => marking::upload_confirm(device, p),
        _ => {
            authorize(device, p, Role::SysAdmin)?;
            match sub {
                0x01 => fn_archive::fn_status(device, now),
                0x02 => fn_archive::fn_serial(device),
                0x03 => fn_archive::fn_expiry(device),
                0x04 => fn_archive::fn_version(),
                0x09 => fn_archive::last_registration(device),
                0x0A => fn_archive::find_document(device, p),
                0x3A => fn_tlv::begin(device, p),
                0x3B => fn_tlv::next_block(device),
                0x39 => fn_archive::ofd_status(device),
                0x3F => fn_archive::unsent_count(device),
                0x40 => fn_archive::shift_parameters(device),
                _ => Err(err::UNKNOWN_COMMAND),
            }
        }
    }
}

/// The settings-table commands (§7.3): 0x1E write, 0x1F read, 0x2D table and 0x2E field
/// structure, all for the system administrator.
fn table_command(device: &mut Device, code: u8, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    match code {
        0x1E => tables::write_field(device, p),
        0x1F => tables::read_field(device, p),
        0x2D => tables::table_structure(device, p),
        _ => tables::field_structure(device, p),
    }
}

/// 0x10 — short status (§6.1, LEN 16).
fn short_status(device: &Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let ops = device
        .state
        .receipt
        .as_ref()
        .map_or(0, |r| r.items.len().min(0xFFFF));
    let mut out = vec![operator];
    put_uint(&mut out, u64::from(device.flags()), 2);
    out.push(device.mode(now));
    out.push(device.submode(now));
    out.push((ops & 0xFF) as u8);
    // Battery ≈ 3.1 V and supply ≈ 25.4 V, as on the captured device (§12.1).
    out.extend_from_slice(&[0x9F, 0xE5, 0x00, 0x00]);
    out.push(((ops >> 8) & 0xFF) as u8);
    out.extend_from_slice(&[0, 0, 0]);
    Ok(out)
}

/// 0x11 — full status (§6.2, LEN 48).
fn full_status(device: &Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let state = &device.state;
    let clock = device.clock(now);
    let mut out = vec![operator];
    out.extend_from_slice(b"C1");
    put_uint(&mut out, 25_113, 2);
    out.extend_from_slice(&[12, 1, 26]); // firmware date 12.01.26
    out.push(1); // number in hall
    put_uint(&mut out, u64::from(state.through_number), 2);
    put_uint(&mut out, u64::from(device.flags()), 2);
    out.push(device.mode(now));
    out.push(device.submode(now));
    out.push(0); // port
                 // Legacy FP version, build and date: FN-era firmware repeats its own here (a zero date
                 // does not parse in clients that read these fields as a date).
    out.extend_from_slice(b"C1");
    put_uint(&mut out, 25_113, 2);
    out.extend_from_slice(&[12, 1, 26]);
    put_kkt_date(&mut out, clock);
    put_kkt_time(&mut out, clock);
    out.push(0); // legacy FP flags
    let serial: u64 = state.config.kkt_serial.trim().parse().unwrap_or(u64::MAX);
    put_uint(&mut out, serial & 0xFFFF_FFFF, 4);
    let last_closed = if state.shift.open {
        state.shift.number.saturating_sub(1)
    } else {
        state.shift.number
    };
    put_uint(&mut out, u64::from(last_closed), 2);
    put_uint(&mut out, 0, 2); // legacy free FP records
    out.push(1); // registrations done
    out.push(11); // registrations remaining
    let inn: u64 = state.config.inn.trim().parse().unwrap_or(0xFFFF_FFFF_FFFF);
    put_uint(&mut out, inn, 6);
    Ok(out)
}

fn beep(device: &Device, p: &mut Params<'_>) -> Answer {
    Ok(vec![authorize(device, p, Role::Operator)?])
}

/// 0x26 — font parameters (§6.6: any mode, system administrator): print width in dots (2),
/// character width and height in dots (1 each), number of fonts (1). Two fonts, 48 and 24
/// characters a line, as F7 reports them; another font number is refused with 0x33. The
/// vendor's JavaPOS service reads them when it is enabled and cannot start without them.
fn font_metrics(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    const PRINT_WIDTH: u64 = 576;
    let (width, height) = match p.u8()? {
        1 => (12, 24),
        2 => (24, 45),
        _ => return Err(err::BAD_PARAMS),
    };
    let mut out = Vec::new();
    put_uint(&mut out, PRINT_WIDTH, 2);
    out.extend_from_slice(&[width, height, 2]);
    Ok(out)
}

/// 0x28 — open the cash drawer (there is none to open; the answer is what matters).
fn open_drawer(device: &Device, p: &mut Params<'_>) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    p.u8()?;
    Ok(vec![operator])
}

/// 0x14 — exchange parameters: accepted; the link side owns the actual port settings.
fn set_exchange(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    p.take(3)?;
    Ok(Vec::new())
}

/// 0x15 — exchange parameters: 115200 baud (code 6), byte timeout 50 ms (§1.1, §2.4).
fn read_exchange(device: &Device, p: &mut Params<'_>) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    p.u8()?;
    Ok(vec![6, 50])
}

fn money_register(device: &Device, p: &mut Params<'_>) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let number = u16::from(p.u8()?);
    let mut out = vec![operator];
    put_uint(&mut out, money::register(device, number), 6);
    Ok(out)
}

fn operation_register(device: &Device, p: &mut Params<'_>) -> Answer {
    let operator = authorize(device, p, Role::Operator)?;
    let number = u16::from(p.u8()?);
    let value = if number == registers::THROUGH_NUMBER {
        device.state.through_number
    } else {
        device
            .state
            .operation_registers
            .get(&number)
            .copied()
            .unwrap_or(0)
    };
    let mut out = vec![operator];
    put_uint(&mut out, u64::from(value), 2);
    Ok(out)
}

fn require_date_settable(device: &Device, now: NaiveDateTime) -> Result<(), u8> {
    match device.mode(now) {
        4 => Ok(()),
        _ => Err(err::WRONG_MODE),
    }
}

/// 0x21 — set time (modes 4, 9).
fn set_time(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let hms = p.take(3)?;
    require_date_settable(device, now)?;
    let time = NaiveTime::from_hms_opt(u32::from(hms[0]), u32::from(hms[1]), u32::from(hms[2]))
        .ok_or(err::BAD_PARAMS)?;
    let target = device.clock(now).date().and_time(time);
    shift_clock(device, target, now);
    Ok(Vec::new())
}

fn shift_clock(device: &mut Device, target: NaiveDateTime, now: NaiveDateTime) {
    let delta: Duration = target - device.clock(now);
    device.state.clock_adjust_secs += delta.num_seconds();
}

fn parse_date(p: &mut Params<'_>) -> Result<NaiveDate, u8> {
    let dmy = p.take(3)?;
    NaiveDate::from_ymd_opt(
        2000 + i32::from(dmy[2]),
        u32::from(dmy[1]),
        u32::from(dmy[0]),
    )
    .ok_or(0x7D)
}

/// 0x22 — set date; enters mode 6 until 0x23 confirms it.
fn set_date(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let date = parse_date(p)?;
    require_date_settable(device, now)?;
    device.state.date_to_confirm = Some(date);
    Ok(Vec::new())
}

/// 0x23 — confirm the date written by 0x22.
fn confirm_date(device: &mut Device, p: &mut Params<'_>, now: NaiveDateTime) -> Answer {
    authorize(device, p, Role::SysAdmin)?;
    let date = parse_date(p)?;
    let pending = device.state.date_to_confirm.ok_or(err::WRONG_MODE)?;
    if pending != date {
        return Err(err::DATE_MISMATCH);
    }
    device.state.date_to_confirm = None;
    let target = date.and_time(device.clock(now).time());
    shift_clock(device, target, now);
    Ok(Vec::new())
}

/// 0x6B — error description (CP1251). Without a parameter (as the vendor's driver asks it
/// right after a refusal): the description of the last command's error.
fn error_text(device: &Device, p: &mut Params<'_>) -> Answer {
    let code = match p.rest() {
        [] => device.last_error,
        [code, ..] => *code,
    };
    Ok(to_cp1251(error_description(code)))
}

/// Russian text of the error codes this model can produce (§5).
pub fn error_description(code: u8) -> &'static str {
    match code {
        0x00 => "Ошибок нет",
        0x07 => "ФН: Дата и время не соответствуют логике работы ФН",
        0x02 => "ФН: Неверное состояние ФН",
        0x08 => "ФН: Запрошенные данные отсутствуют в архиве ФН",
        0x15 => "ФН: Исчерпан ресурс ожидания передачи сообщения",
        0x16 => "ФН: Продолжительность смены более 24 часов",
        0x33 => "Некорректные параметры в команде",
        0x37 => "Команда не поддерживается в данной реализации ККТ",
        0x3D => "Смена не открыта - операция невозможна",
        0x45 => "Cумма всех типов оплаты меньше итога чека",
        0x46 => "Не хватает наличности в кассе",
        0x49 => "Операция невозможна в открытом чеке данного типа",
        0x4A => "Открыт чек - операция невозможна",
        0x4D => "Вносимая безналичной оплатой сумма больше суммы чека",
        0x4E => "Смена превысила 24 часа",
        0x4F => "Неверный пароль",
        0x50 => "Идет печать результатов выполнения предыдущей команды",
        0x55 => "Чек закрыт - операция невозможна",
        0x56 => "Нет документа для повтора",
        0xA4 => "ФН: Отсутствуют обязательные реквизиты",
        0x58 => "Ожидание команды продолжения печати",
        0x5D => "Таблица не определена",
        0x6B => "Нет чековой ленты",
        0x72 => "Команда не поддерживается в данном подрежиме",
        0x73 => "Команда не поддерживается в данном режиме",
        0x7C => "Не совпадает дата",
        0x7D => "Неверный формат даты",
        0x8E => "Нулевой итог чека",
        _ => "Неизвестная ошибка",
    }
}

/// 0xF7 type 1 — model parameters (§7.1).
fn extended_query(p: &mut Params<'_>) -> Answer {
    if p.u8()? != 1 {
        return Err(err::BAD_PARAMS);
    }
    // Bits: 13 cutter, 28 alternative lower level, 36 0x6B supported, 50 extended FD answers.
    let bits: u64 = (1 << 13) | (1 << 28) | (1 << 36) | (1 << 50);
    let mut out = Vec::new();
    put_uint(&mut out, bits, 8);
    out.extend_from_slice(&[48, 24, 1, 12, 16, 20, 16]);
    put_uint(&mut out, 0, 4); // tax inspector password
    put_uint(&mut out, 30, 4); // system administrator password
    out.push(0); // bluetooth table
    out.push(14); // table 1 tax-calculation field
    put_uint(&mut out, 255, 2); // maximum command length
    out.extend_from_slice(&[0, 0]);
    put_uint(&mut out, 0, 2);
    Ok(out)
}

/// 0xFC — device type (§7.1).
fn device_type(device: &Device) -> Answer {
    let config = &device.state.config;
    let mut out = vec![
        0,
        0,
        config.protocol_version.0,
        config.protocol_version.1,
        config.model_code,
        0,
    ];
    out.extend_from_slice(&to_cp1251(&config.model_name));
    Ok(out)
}
