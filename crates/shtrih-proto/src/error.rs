//! The catalogue of device error bytes (§5): for every code a short Russian text for a cashier,
//! a stable English machine code and a class the driver acts on.
//!
//! It covers the FN-era meanings of the table in §5. Codes that only had a meaning on pre-FN
//! firmware get the generic machine code `LEGACY_ERROR` with their legacy text, so logs of old
//! devices still read sensibly; codes no source lists get `UNKNOWN_ERROR`. Nothing here panics.
//! This module does not decide what to do about an error: that is the driver's job.

use std::fmt;

/// The error byte of a device answer (§3, §5). `0` means success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u8);

/// What kind of trouble an error code reports; the driver decides on retries and waiting by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Paper out, printer waiting for paper or for the continue-printing command.
    Paper,
    /// Cover open (no device code reports it; kept so callers can classify flag-derived states).
    Cover,
    /// Shift state: expired, already open, or not open.
    Shift,
    /// The fiscal storage (FN) refused or failed.
    Fn,
    /// Command not allowed in the current mode or submode.
    Mode,
    /// Device still printing the previous command's output.
    Busy,
    /// Link between host and device; no device code has it (KKT↔FN exchange faults are `Fn`),
    /// kept so callers can classify link failures alongside device errors.
    Link,
    /// Wrong password.
    Password,
    /// A numeric range or accumulation overflow.
    Overflow,
    /// Hardware fault (memory, power, printer mechanics).
    Hardware,
    /// Document state or content: a receipt open/closed, payments not matching the total.
    Document,
    /// Anything else: bad parameters, unsupported, unknown.
    Other,
}

/// Catalogue entry for one error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Short Russian text for a cashier, ending with a full stop.
    pub russian: &'static str,
    /// Stable SCREAMING_SNAKE machine code, e.g. `SHIFT_OVER_24H`.
    pub code: &'static str,
    /// What kind of trouble it is.
    pub class: ErrorClass,
}

impl ErrorCode {
    /// Success.
    pub const OK: ErrorCode = ErrorCode(0x00);
    /// FN: shift lasts more than 24 hours (§5).
    pub const FN_SHIFT_OVER_24H: ErrorCode = ErrorCode(0x16);
    /// Shift is open, operation impossible (§5).
    pub const SHIFT_OPEN: ErrorCode = ErrorCode(0x3C);
    /// Shift not open (§5).
    pub const SHIFT_NOT_OPEN: ErrorCode = ErrorCode(0x3D);
    /// Sum of payments less than the receipt total (§5).
    pub const PAYMENTS_BELOW_TOTAL: ErrorCode = ErrorCode(0x45);
    /// Not enough cash in the drawer (§5).
    pub const NOT_ENOUGH_CASH: ErrorCode = ErrorCode(0x46);
    /// A receipt is open (§5).
    pub const RECEIPT_OPEN: ErrorCode = ErrorCode(0x4A);
    /// Shift exceeded 24 hours (§5).
    pub const SHIFT_OVER_24H: ErrorCode = ErrorCode(0x4E);
    /// Wrong password (§5).
    pub const WRONG_PASSWORD: ErrorCode = ErrorCode(0x4F);
    /// Previous command still printing (§5).
    pub const PRINTING: ErrorCode = ErrorCode(0x50);
    /// No receipt open (§5).
    pub const RECEIPT_CLOSED: ErrorCode = ErrorCode(0x55);
    /// Waiting for the continue-printing command 0xB0 (§5).
    pub const WAIT_CONTINUE_PRINT: ErrorCode = ErrorCode(0x58);
    /// No receipt paper (§5).
    pub const NO_PAPER: ErrorCode = ErrorCode(0x6B);
    /// Command not supported in this submode (§5).
    pub const WRONG_SUBMODE: ErrorCode = ErrorCode(0x72);
    /// Command not supported in this mode (§5).
    pub const WRONG_MODE: ErrorCode = ErrorCode(0x73);

    /// `true` for success (0x00).
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// `true` for codes the KKT passes through from the FN (0x01–0x1F, 0x20, 0xA0–0xB2; §5).
    pub fn is_fn_originated(self) -> bool {
        matches!(self.0, 0x01..=0x20 | 0xA0..=0xB2)
    }

    /// The catalogue entry; unknown codes get a generic entry.
    pub fn info(self) -> ErrorInfo {
        use ErrorClass::*;
        let (code, russian, class) = match self.0 {
            0x00 => ("OK", "Успешно.", Other),
            // FN-originated codes (§5: the KKT passes the FN's result through).
            0x01 => (
                "FN_BAD_COMMAND",
                "ФН: неизвестная команда или неверный формат.",
                Fn,
            ),
            0x02 => ("FN_WRONG_STATE", "ФН: неверное состояние ФН.", Fn),
            0x03 => ("FN_FAILURE", "Отказ ФН.", Fn),
            0x04 => ("FN_CRYPTO_FAILURE", "Отказ криптопроцессора ФН.", Fn),
            0x05 => ("FN_EXPIRED", "ФН: исчерпан срок эксплуатации ФН.", Fn),
            0x06 => ("FN_ARCHIVE_FULL", "Архив ФН переполнен.", Fn),
            0x07 => ("FN_BAD_DATE_TIME", "ФН: неверные дата или время.", Fn),
            0x08 => ("FN_NO_DATA", "ФН: нет запрошенных данных.", Fn),
            0x09 => (
                "FN_BAD_PARAMETER",
                "ФН: некорректное значение параметров.",
                Fn,
            ),
            0x10 => ("FN_TLV_TOO_LARGE", "ФН: превышен размер данных TLV.", Fn),
            0x11 => (
                "FN_NO_OFD_TRANSPORT",
                "ФН: нет транспортного соединения с ОФД.",
                Fn,
            ),
            0x12 => ("FN_RESOURCE_EXHAUSTED", "Исчерпан ресурс ФН.", Fn),
            0x14 => (
                "FN_OFD_STORAGE_EXHAUSTED",
                "ФН: исчерпан ресурс хранения документов для ОФД.",
                Fn,
            ),
            0x15 => (
                "FN_OFD_WAIT_EXHAUSTED",
                "ФН: документы не переданы в ОФД более 30 дней.",
                Fn,
            ),
            0x16 => ("SHIFT_OVER_24H", "Смена превысила 24 часа.", Shift),
            0x17 => (
                "FN_TIME_DRIFT",
                "ФН: время расходится с таймером ФН более чем на 5 минут.",
                Fn,
            ),
            0x20 => (
                "FN_OFD_MESSAGE_REJECTED",
                "ФН: сообщение ОФД не может быть принято.",
                Fn,
            ),
            0x23 => (
                "FN_KEY_SERVICE_REFUSED",
                "ФН: сервис обновления ключей ответил отказом.",
                Fn,
            ),
            0x24 => (
                "FN_KEY_SERVICE_UNKNOWN_ANSWER",
                "ФН: неизвестный ответ сервиса обновления ключей.",
                Fn,
            ),
            // KKT ↔ FN exchange (§5).
            0x2F => ("FN_TIMEOUT", "Таймаут обмена с ФН.", Fn),
            0x30 => ("FN_NOT_RESPONDING", "ФН не отвечает.", Fn),
            0x31 => ("FN_EXCHANGE_FORMAT", "Ошибка формата обмена с ФН.", Fn),
            0x32 => (
                "FN_EXCHANGE_CRC",
                "Ошибка контрольной суммы обмена с ФН.",
                Fn,
            ),
            // KKT codes.
            0x33 => ("BAD_PARAMETERS", "Некорректные параметры команды.", Other),
            0x34 => ("NO_DATA", "Нет данных.", Other),
            0x35 => (
                "PARAMETER_FOR_SETTINGS",
                "Параметр не соответствует настройкам ККТ.",
                Other,
            ),
            0x36 => (
                "PARAMETER_FOR_MODEL",
                "Параметр не поддерживается этой ККТ.",
                Other,
            ),
            0x37 => (
                "COMMAND_NOT_SUPPORTED",
                "Команда не поддерживается этой ККТ.",
                Mode,
            ),
            0x38 => ("ROM_ERROR", "Ошибка ПЗУ.", Hardware),
            0x39 => ("FIRMWARE_ERROR", "Внутренняя ошибка ПО ККТ.", Hardware),
            0x3A => (
                "OVERFLOW_SURCHARGE_SHIFT",
                "Переполнение накопления по надбавкам в смене.",
                Overflow,
            ),
            0x3B => (
                "OVERFLOW_SHIFT",
                "Переполнение накопления в смене.",
                Overflow,
            ),
            0x3C => ("SHIFT_OPEN", "Смена открыта, операция невозможна.", Shift),
            0x3D => ("SHIFT_NOT_OPEN", "Смена не открыта.", Shift),
            0x3E => (
                "OVERFLOW_DEPARTMENT_SHIFT",
                "Переполнение накопления по отделам в смене.",
                Overflow,
            ),
            0x3F => (
                "OVERFLOW_DISCOUNT_SHIFT",
                "Переполнение накопления по скидкам в смене.",
                Overflow,
            ),
            0x40 => (
                "OVERFLOW_DISCOUNT_RANGE",
                "Переполнение диапазона скидки.",
                Overflow,
            ),
            0x41 => (
                "OVERFLOW_CASH_RANGE",
                "Переполнение диапазона оплаты наличными.",
                Overflow,
            ),
            0x42 => (
                "OVERFLOW_PAYMENT2_RANGE",
                "Переполнение диапазона оплаты типом 2.",
                Overflow,
            ),
            0x43 => (
                "OVERFLOW_PAYMENT3_RANGE",
                "Переполнение диапазона оплаты типом 3.",
                Overflow,
            ),
            0x44 => (
                "OVERFLOW_PAYMENT4_RANGE",
                "Переполнение диапазона оплаты типом 4.",
                Overflow,
            ),
            0x45 => (
                "PAYMENTS_BELOW_TOTAL",
                "Сумма оплат меньше итога чека.",
                Document,
            ),
            0x46 => (
                "NOT_ENOUGH_CASH",
                "Не хватает наличности в кассе.",
                Document,
            ),
            0x47 => (
                "OVERFLOW_TAX_SHIFT",
                "Переполнение накопления по налогам в смене.",
                Overflow,
            ),
            0x48 => (
                "OVERFLOW_RECEIPT_TOTAL",
                "Переполнение итога чека.",
                Overflow,
            ),
            0x49 => (
                "WRONG_RECEIPT_TYPE",
                "Операция невозможна в открытом чеке этого типа.",
                Document,
            ),
            0x4A => ("RECEIPT_OPEN", "Открыт чек, операция невозможна.", Document),
            0x4B => ("RECEIPT_BUFFER_FULL", "Буфер чека переполнен.", Overflow),
            0x4C => (
                "OVERFLOW_TAX_TURNOVER_SHIFT",
                "Переполнение оборота по налогам в смене.",
                Overflow,
            ),
            0x4D => (
                "CASHLESS_ABOVE_TOTAL",
                "Безналичная оплата больше итога чека.",
                Document,
            ),
            0x4E => ("SHIFT_OVER_24H", "Смена превысила 24 часа.", Shift),
            0x4F => ("WRONG_PASSWORD", "Неверный пароль.", Password),
            0x50 => ("PRINTING", "Идёт печать предыдущей команды.", Busy),
            0x51 => (
                "OVERFLOW_CASH_SHIFT",
                "Переполнение накопления наличными в смене.",
                Overflow,
            ),
            0x52 => (
                "OVERFLOW_PAYMENT2_SHIFT",
                "Переполнение накопления по типу оплаты 2 в смене.",
                Overflow,
            ),
            0x53 => (
                "OVERFLOW_PAYMENT3_SHIFT",
                "Переполнение накопления по типу оплаты 3 в смене.",
                Overflow,
            ),
            0x54 => (
                "OVERFLOW_PAYMENT4_SHIFT",
                "Переполнение накопления по типу оплаты 4 в смене.",
                Overflow,
            ),
            0x55 => (
                "RECEIPT_CLOSED",
                "Чек закрыт, операция невозможна.",
                Document,
            ),
            0x56 => (
                "NO_DOCUMENT_TO_REPEAT",
                "Нет документа для повтора.",
                Document,
            ),
            0x58 => (
                "WAIT_CONTINUE_PRINT",
                "Ожидание команды продолжения печати.",
                Paper,
            ),
            0x59 => (
                "DOCUMENT_OF_OTHER_OPERATOR",
                "Документ открыт другим кассиром.",
                Document,
            ),
            0x5B => (
                "OVERFLOW_SURCHARGE_RANGE",
                "Переполнение диапазона надбавки.",
                Overflow,
            ),
            0x5C => ("LOW_VOLTAGE_24V", "Понижено напряжение 24 В.", Hardware),
            0x5D => ("TABLE_NOT_DEFINED", "Таблица не определена.", Other),
            0x5E => ("INVALID_OPERATION", "Неверная операция.", Other),
            0x5F => (
                "NEGATIVE_RECEIPT_TOTAL",
                "Отрицательный итог чека.",
                Document,
            ),
            0x60 => (
                "OVERFLOW_MULTIPLICATION",
                "Переполнение при умножении.",
                Overflow,
            ),
            0x61 => (
                "OVERFLOW_PRICE_RANGE",
                "Переполнение диапазона цены.",
                Overflow,
            ),
            0x62 => (
                "OVERFLOW_QUANTITY_RANGE",
                "Переполнение диапазона количества.",
                Overflow,
            ),
            0x63 => (
                "OVERFLOW_DEPARTMENT_RANGE",
                "Переполнение диапазона отдела.",
                Overflow,
            ),
            0x65 => (
                "NOT_ENOUGH_IN_DEPARTMENT",
                "Не хватает денег в отделе.",
                Document,
            ),
            0x66 => (
                "OVERFLOW_DEPARTMENT_MONEY",
                "Переполнение денег в отделе.",
                Overflow,
            ),
            0x68 => (
                "NOT_ENOUGH_TAX_TURNOVER",
                "Не хватает денег по обороту налогов.",
                Document,
            ),
            0x69 => (
                "OVERFLOW_TAX_TURNOVER",
                "Переполнение денег по обороту налогов.",
                Overflow,
            ),
            0x6A => (
                "POWER_FAILURE_I2C",
                "Сбой питания при ответе по I2C.",
                Hardware,
            ),
            0x6B => ("NO_PAPER", "Нет бумаги.", Paper),
            0x6D => ("NOT_ENOUGH_TAX", "Не хватает денег по налогу.", Document),
            0x6E => (
                "OVERFLOW_TAX_MONEY",
                "Переполнение денег по налогу.",
                Overflow,
            ),
            0x6F => (
                "OVERFLOW_PAYOUT_SHIFT",
                "Переполнение по выплате в смене.",
                Overflow,
            ),
            0x71 => ("CUTTER_ERROR", "Ошибка отрезчика.", Hardware),
            0x72 => (
                "WRONG_SUBMODE",
                "Команда не поддерживается в этом подрежиме.",
                Mode,
            ),
            0x73 => (
                "WRONG_MODE",
                "Команда не поддерживается в этом режиме.",
                Mode,
            ),
            0x74 => ("RAM_ERROR", "Ошибка ОЗУ.", Hardware),
            0x75 => ("POWER_FAILURE", "Сбой питания.", Hardware),
            0x77 => ("PRINTER_SENSORS", "Принтер: нет сигнала с датчиков.", Paper),
            0x78 => ("FIRMWARE_REPLACED", "Замена ПО.", Other),
            0x79 => ("CLOCK_ERROR", "Ошибка часов.", Hardware),
            0x7A => ("FIELD_NOT_EDITABLE", "Поле не редактируется.", Other),
            0x7B => ("HARDWARE_ERROR", "Аппаратная ошибка.", Hardware),
            0x7C => ("DATE_MISMATCH", "Дата не совпадает.", Other),
            0x7D => ("BAD_DATE_FORMAT", "Неверный формат даты.", Other),
            0x7E => ("BAD_LENGTH", "Неверное значение в поле длины.", Other),
            0x7F => (
                "OVERFLOW_TOTAL_RANGE",
                "Переполнение диапазона итога чека.",
                Overflow,
            ),
            0x84 => ("OVERFLOW_CASH", "Переполнение наличности.", Overflow),
            0x85 => (
                "OVERFLOW_SALES_SHIFT",
                "Переполнение по продажам в смене.",
                Overflow,
            ),
            0x86 => (
                "OVERFLOW_PURCHASES_SHIFT",
                "Переполнение по покупкам в смене.",
                Overflow,
            ),
            0x87 => (
                "OVERFLOW_SALE_RETURNS_SHIFT",
                "Переполнение по возвратам продаж в смене.",
                Overflow,
            ),
            0x88 => (
                "OVERFLOW_PURCHASE_RETURNS_SHIFT",
                "Переполнение по возвратам покупок в смене.",
                Overflow,
            ),
            0x89 => (
                "OVERFLOW_CASH_IN_SHIFT",
                "Переполнение по внесению в смене.",
                Overflow,
            ),
            0x8A => (
                "OVERFLOW_SURCHARGE_RECEIPT",
                "Переполнение по надбавкам в чеке.",
                Overflow,
            ),
            0x8B => (
                "OVERFLOW_DISCOUNT_RECEIPT",
                "Переполнение по скидкам в чеке.",
                Overflow,
            ),
            0x8C => (
                "NEGATIVE_SURCHARGE_TOTAL",
                "Отрицательный итог надбавки в чеке.",
                Document,
            ),
            0x8D => (
                "NEGATIVE_DISCOUNT_TOTAL",
                "Отрицательный итог скидки в чеке.",
                Document,
            ),
            0x8E => ("ZERO_RECEIPT_TOTAL", "Нулевой итог чека.", Document),
            0x90 => (
                "FIELD_TOO_LONG",
                "Поле превышает размер, заданный в настройках.",
                Other,
            ),
            0x91 => ("OUTSIDE_PRINT_AREA", "Выход за область печати.", Other),
            0x92 => ("FIELDS_OVERLAP", "Поля перекрываются.", Other),
            0x93 => ("RAM_RESTORED", "ОЗУ восстановлено.", Other),
            0x94 => (
                "OPERATIONS_LIMIT",
                "Исчерпан лимит операций в чеке.",
                Overflow,
            ),
            0xA0 => (
                "FN_MARKING_FORBIDDEN",
                "ФН: работа с маркированным товаром запрещена.",
                Fn,
            ),
            0xA1 => (
                "FN_MARKING_ORDER",
                "ФН: неверная последовательность команд маркировки.",
                Fn,
            ),
            0xA2 => (
                "FN_MARKING_BLOCKED",
                "ФН: работа с маркировкой временно заблокирована.",
                Fn,
            ),
            0xA3 => (
                "FN_MARKING_TABLE_FULL",
                "ФН: переполнена таблица проверки кодов маркировки.",
                Fn,
            ),
            0xA4 => ("FN_TLV_MISSING", "ФН: нет обязательных реквизитов.", Fn),
            0xA5 => (
                "FN_MARKING_NOT_CHECKED",
                "ФН: код маркировки не проверен.",
                Fn,
            ),
            0xA6..=0xB2 => ("FN_ERROR", "Ошибка ФН.", Fn),
            0xC0 => ("CONFIRM_DATE_TIME", "Подтвердите дату и время.", Other),
            0xC2 => ("OVERVOLTAGE", "Превышение напряжения питания.", Hardware),
            0xC4 => ("SHIFT_NUMBER_MISMATCH", "Несовпадение номеров смен.", Shift),
            0xC7 => (
                "FIELD_NOT_EDITABLE_IN_MODE",
                "Поле не редактируется в этом режиме.",
                Mode,
            ),
            0xC8 => ("NO_PRINTER_LINK", "Нет связи с принтером.", Hardware),
            0xD1 => ("NO_DATA_IN_BUFFER", "Нет данных в буфере.", Other),
            0xD2 => ("MODEM_ERROR", "Модем не работает.", Hardware),
            0xD3 => (
                "GOODS_NOT_AVAILABLE",
                "Товар не выпущен или выведен из оборота.",
                Document,
            ),
            0xD4 => (
                "MARKING_CODE_FALSIFIED",
                "Код маркировки фальсифицирован.",
                Document,
            ),
            0xD5 => ("AUTHENTICATION_ERROR", "Ошибка аутентификации.", Other),
            _ => return legacy_or_unknown(self.0),
        };
        ErrorInfo {
            russian,
            code,
            class,
        }
    }
}

/// Codes with a meaning only on pre-FN firmware (§5, "legacy" column), or none at all.
fn legacy_or_unknown(code: u8) -> ErrorInfo {
    let russian = match code {
        0x0A => "Данные не в формате BCD.",
        0x0B => "Ошибка записи в ФП.",
        0x0C => "Переполнение необнуляемой суммы.",
        0x0D => "Переполнение итогов смены.",
        0x13 => "Дата раньше последней записи в ФП.",
        0x18..=0x1F | 0x21 | 0x22 | 0x25..=0x2E => "Ошибка фискальной памяти.",
        0x57 | 0x95 | 0x96 | 0xC1 | 0xC3 | 0xCC..=0xCF => "Ошибка ЭКЛЗ.",
        0x5A => "Скидка превышает накопления в чеке.",
        0x64 | 0x67 | 0x70 | 0x80..=0x83 => "Ошибка фискальной памяти.",
        0x6C => "Нет контрольной ленты.",
        0x76 => "Принтер: нет импульсов тахогенератора.",
        0x8F => "ККТ не фискализирована.",
        0x9B => "Некорректное действие.",
        0x9C..=0x9E => "Ошибка базы товаров.",
        0xB4..=0xBF => "Ошибка записи фискальной памяти.",
        0xC5 | 0xC6 => "Ошибка подкладного документа.",
        0xC9 => "Перегрев печатающей головки.",
        0xCA => "Температура вне рабочего диапазона.",
        0xCB => "Неверный подытог чека.",
        0xD0 => "Отчёт по контрольной ленте не распечатан.",
        0xE0..=0xE4 => "Ошибка купюроприёмника.",
        _ => {
            return ErrorInfo {
                russian: "Неизвестная ошибка ККТ.",
                code: "UNKNOWN_ERROR",
                class: ErrorClass::Other,
            }
        }
    };
    ErrorInfo {
        russian,
        code: "LEGACY_ERROR",
        class: ErrorClass::Other,
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.info();
        write!(f, "{:#04x} {} ({})", self.0, info.code, info.russian)
    }
}
