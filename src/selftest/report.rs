//! The selftest's judgement: pure functions from what was read off a register ([`Facts`]) to
//! a list of [`Check`]s with ✓ / ! / ✗ and one line of advice each, rendered as a table for a
//! technician or as a stable JSON document. No I/O here, so every rule has a unit test.

use chrono::{NaiveDate, NaiveDateTime};
use driver::TaxTable;
use fiscal_model::{TaxGroupMap, VatRate};
use serde::Serialize;

/// The FN stops accepting documents when the oldest unsent one is this old (54-ФЗ).
pub const OFD_BLOCK_DAYS: i64 = 30;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Fine.
    Ok,
    /// Works now, but needs attention soon.
    Warn,
    /// The register cannot work, or will be fined: fix before use.
    Fail,
}

/// Id of the row that tells what the running gateway says of the register.
pub const GATEWAY_CHECK: &str = "gateway";

/// The row for register `id` from a running gateway's `/health` registers.
pub fn gateway_check(view: &Result<Vec<serde_json::Value>, String>, id: &str) -> Check {
    let entry = match view {
        Ok(registers) => registers
            .iter()
            .find(|r| r["cashboxId"].as_str() == Some(id)),
        Err(answer) => {
            return Check {
                id: GATEWAY_CHECK,
                title: "Служба fiscal-gateway",
                value: format!("отвечает ошибкой: {answer}"),
                verdict: Verdict::Fail,
                advice: "Смотрите журнал службы (journalctl -u fiscal-gateway) и перезапустите её."
                    .to_string(),
            }
        }
    };
    let (verdict, value, advice) = match entry {
        None => (
            Verdict::Warn,
            "служба работает, но этой кассы не знает".to_string(),
            "Проверьте, что служба запущена с этой конфигурацией.".to_string(),
        ),
        Some(r) if r["ready"] == true => (
            Verdict::Ok,
            "служба работает, касса готова".into(),
            String::new(),
        ),
        Some(r) => {
            let code = r["errorCode"].as_str().unwrap_or("");
            let message = r["errorMessage"]
                .as_str()
                .unwrap_or("не готова")
                .to_string();
            if code == "NEEDS_OPERATOR" {
                (
                    Verdict::Fail,
                    message,
                    "Исход операции не удалось установить по состоянию ККТ: найдите операцию в журнале службы (journalctl -u fiscal-gateway), сверьте её с ККТ (чек в ФН или нет) и перезапустите службу.".to_string(),
                )
            } else {
                (Verdict::Warn, message, String::new())
            }
        }
    };
    Check {
        id: GATEWAY_CHECK,
        title: "Служба fiscal-gateway",
        value,
        verdict,
        advice,
    }
}

impl Verdict {
    /// The mark in the table.
    pub fn mark(self) -> &'static str {
        match self {
            Verdict::Ok => "✓",
            Verdict::Warn => "!",
            Verdict::Fail => "✗",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier (JSON consumers key on it).
    pub id: &'static str,
    /// What was checked, for people.
    pub title: &'static str,
    /// What was found.
    pub value: String,
    /// ✓ / ! / ✗.
    pub verdict: Verdict,
    /// What to do about it (empty when fine).
    pub advice: String,
}

/// Everything read off one register.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    /// "serial /dev/ttyACM0 at 115200, standard link" or similar.
    pub link: String,
    /// Model name.
    pub model: String,
    /// Firmware version and build.
    pub firmware: String,
    /// KKT serial number.
    pub kkt_serial: String,
    /// FN number.
    pub fn_number: String,
    /// FN phase as the FN reports it, and whether it is the fiscal-mode phase.
    pub fn_phase: String,
    /// `true` when the FN is in fiscal mode (registered, not closed).
    pub fn_fiscal_mode: bool,
    /// FN expiry date.
    pub fn_expiry: Option<NaiveDate>,
    /// FFD version, e.g. "1.2".
    pub ffd_version: String,
    /// Registration number.
    pub rnm: String,
    /// Taxpayer INN.
    pub inn: String,
    /// Shift state: open, closed, expired (over 24 h).
    pub shift: ShiftFacts,
    /// Paper present.
    pub paper_present: bool,
    /// Cover open.
    pub cover_open: bool,
    /// Print head lever down (working position).
    pub lever_down: bool,
    /// The register's clock.
    pub register_clock: Option<NaiveDateTime>,
    /// The PC's clock in the register's zone, read at the same moment.
    pub pc_clock: Option<NaiveDateTime>,
    /// Documents not yet sent to the OFD.
    pub ofd_unsent: Option<u32>,
    /// The oldest unsent document's time.
    pub ofd_oldest: Option<NaiveDateTime>,
    /// Table 6 as read at connection, with the model number its codes depend on.
    pub tax_table: TaxTable,
}

/// The shift as found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShiftFacts {
    /// Open (including expired).
    pub open: bool,
    /// Open for 24 h or more: documents are refused until a Z report.
    pub expired: bool,
    /// Shift number.
    pub number: Option<u32>,
    /// When it was opened (register time), if known.
    pub opened_at: Option<NaiveDateTime>,
}

fn check(
    id: &'static str,
    title: &'static str,
    value: impl Into<String>,
    verdict: Verdict,
    advice: &str,
) -> Check {
    Check {
        id,
        title,
        value: value.into(),
        verdict,
        advice: if verdict == Verdict::Ok {
            String::new()
        } else {
            advice.to_string()
        },
    }
}

/// Judges the facts. `today` is the PC's date in the register's zone.
pub fn evaluate(f: &Facts, taxes: &TaxGroupMap, today: NaiveDate) -> Vec<Check> {
    let mut out = vec![check(
        "link",
        "Связь и скорость",
        f.link.clone(),
        Verdict::Ok,
        "",
    )];
    out.push(check(
        "model",
        "Модель, прошивка, заводской №",
        format!("{} / {} / {}", f.model, f.firmware, f.kkt_serial),
        Verdict::Ok,
        "",
    ));
    out.push(fn_check(f, today));
    let ffd_ok = matches!(f.ffd_version.as_str(), "1.2" | "1.1" | "1.05");
    out.push(check(
        "ffd",
        "Версия ФФД",
        f.ffd_version.clone(),
        if f.ffd_version == "1.2" {
            Verdict::Ok
        } else if ffd_ok {
            Verdict::Warn
        } else {
            Verdict::Fail
        },
        "Маркированные товары требуют ФФД 1.2: перерегистрируйте ККТ.",
    ));
    let registered = !f.rnm.trim().trim_start_matches('0').is_empty()
        && !f.inn.trim().trim_start_matches('0').is_empty();
    out.push(check(
        "registration",
        "РНМ и ИНН",
        format!("РНМ {} / ИНН {}", f.rnm, f.inn),
        if registered {
            Verdict::Ok
        } else {
            Verdict::Fail
        },
        "ККТ не зарегистрирована: зарегистрируйте её в ФНС и запишите РНМ и ИНН.",
    ));
    out.push(shift_check(&f.shift, f.pc_clock));
    out.push(check(
        "paper",
        "Бумага",
        if f.paper_present {
            "есть"
        } else {
            "нет"
        },
        if f.paper_present {
            Verdict::Ok
        } else {
            Verdict::Fail
        },
        "Заправьте чековую ленту.",
    ));
    out.push(check(
        "cover",
        "Крышка",
        if f.cover_open {
            "открыта"
        } else {
            "закрыта"
        },
        if f.cover_open {
            Verdict::Fail
        } else {
            Verdict::Ok
        },
        "Закройте крышку принтера.",
    ));
    out.push(check(
        "lever",
        "Рычаг термоголовки",
        if f.lever_down {
            "опущен"
        } else {
            "поднят"
        },
        if f.lever_down {
            Verdict::Ok
        } else {
            Verdict::Fail
        },
        "Опустите рычаг термоголовки.",
    ));
    out.push(clock_check(f.register_clock, f.pc_clock));
    out.push(ofd_check(f.ofd_unsent, f.ofd_oldest, f.pc_clock));
    out.push(tax_check(&f.tax_table, taxes));
    out
}

fn fn_check(f: &Facts, today: NaiveDate) -> Check {
    let days = f.fn_expiry.map(|d| (d - today).num_days());
    let value = match (f.fn_expiry, days) {
        (Some(d), Some(n)) => format!("{}, {}, до {d} (осталось {n} дн.)", f.fn_number, f.fn_phase),
        _ => format!("{}, {}", f.fn_number, f.fn_phase),
    };
    if !f.fn_fiscal_mode {
        return check(
            "fn",
            "ФН: номер, фаза, срок",
            value,
            Verdict::Fail,
            "ФН не в фискальном режиме: нужна регистрация или замена ФН.",
        );
    }
    match days {
        Some(n) if n < 0 => check(
            "fn",
            "ФН: номер, фаза, срок",
            value,
            Verdict::Fail,
            "Срок ФН истёк: замените ФН и перерегистрируйте ККТ.",
        ),
        Some(n) if n < 30 => check(
            "fn",
            "ФН: номер, фаза, срок",
            value,
            Verdict::Warn,
            "ФН скоро истечёт: закажите замену.",
        ),
        _ => check("fn", "ФН: номер, фаза, срок", value, Verdict::Ok, ""),
    }
}

fn shift_check(s: &ShiftFacts, now: Option<NaiveDateTime>) -> Check {
    let number = s.number.map(|n| format!(" № {n}")).unwrap_or_default();
    if !s.open {
        return check(
            "shift",
            "Смена",
            format!("закрыта{number}"),
            Verdict::Ok,
            "",
        );
    }
    if s.expired {
        return check(
            "shift",
            "Смена",
            format!("открыта{number}, превысила 24 часа"),
            Verdict::Fail,
            "Снимите Z-отчёт (закройте смену): чеки не пробиваются.",
        );
    }
    match (s.opened_at, now) {
        (Some(at), Some(now)) => {
            let left = chrono::Duration::hours(24) - (now - at);
            let value = format!(
                "открыта{number}, до 24 ч осталось {} ч {} мин",
                left.num_hours(),
                left.num_minutes() % 60
            );
            let verdict = if left < chrono::Duration::hours(1) {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
            check(
                "shift",
                "Смена",
                value,
                verdict,
                "Смена скоро превысит 24 часа: закройте её.",
            )
        }
        _ => check(
            "shift",
            "Смена",
            format!("открыта{number}"),
            Verdict::Ok,
            "",
        ),
    }
}

fn clock_check(register: Option<NaiveDateTime>, pc: Option<NaiveDateTime>) -> Check {
    let (Some(r), Some(p)) = (register, pc) else {
        return check(
            "clock",
            "Часы ККТ и ПК",
            "не прочитаны",
            Verdict::Warn,
            "Не удалось сравнить часы.",
        );
    };
    let diff = (r - p).num_seconds();
    let value = format!("ККТ {r}, ПК {p}, разница {diff:+} с");
    let verdict = match diff.abs() {
        0..=60 => Verdict::Ok,
        61..=300 => Verdict::Warn,
        _ => Verdict::Fail,
    };
    check(
        "clock",
        "Часы ККТ и ПК",
        value,
        verdict,
        "Установите время ККТ по часам ПК (при закрытой смене).",
    )
}

fn ofd_check(
    unsent: Option<u32>,
    oldest: Option<NaiveDateTime>,
    now: Option<NaiveDateTime>,
) -> Check {
    match (unsent, oldest, now) {
        (Some(0), _, _) => check(
            "ofd",
            "Документы, не отправленные в ОФД",
            "0",
            Verdict::Ok,
            "",
        ),
        (Some(n), Some(o), Some(now)) => {
            let age = (now - o).num_days();
            let value = format!("{n}, самый старый от {} ({age} дн.)", o.date());
            let verdict = if age >= OFD_BLOCK_DAYS - 5 {
                Verdict::Fail
            } else if age >= 3 {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
            check(
                "ofd",
                "Документы, не отправленные в ОФД",
                value,
                verdict,
                "Проверьте интернет и настройки ОФД: через 30 дней ФН заблокируется.",
            )
        }
        (Some(n), _, _) => check(
            "ofd",
            "Документы, не отправленные в ОФД",
            n.to_string(),
            Verdict::Warn,
            "Проверьте связь с ОФД.",
        ),
        (None, _, _) => check(
            "ofd",
            "Документы, не отправленные в ОФД",
            "не прочитано",
            Verdict::Warn,
            "Не удалось прочитать статус обмена с ОФД.",
        ),
    }
}

/// Rates a shop on the general system sells at, besides 22 %: missing one is a warning.
const COMMON_RATES: [VatRate; 5] = [
    VatRate::Vat10,
    VatRate::Vat0,
    VatRate::NoVat,
    VatRate::Vat22_122,
    VatRate::Vat10_110,
];

/// Table 6 listed row by row with each row's FF46 code, then which rate goes where: ✗ when
/// 22 % has no row or a configured row disagrees with the table, ! when a common rate has none.
fn tax_check(table: &TaxTable, taxes: &TaxGroupMap) -> Check {
    const TITLE: &str = "Налоговые ставки (таблица 6)";
    if table.rows.is_empty() {
        return check(
            "taxes",
            TITLE,
            "не прочитана",
            Verdict::Warn,
            "Не удалось прочитать таблицу налогов.",
        );
    }
    let rows = table
        .rows
        .iter()
        .map(|r| match driver::tax_code(table.model, r.row) {
            Some(code) => format!("{} [{code:02X}]", r.describe()),
            None => format!("{} [нет кода]", r.describe()),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for rate in VatRate::ALL {
        if let Err(reason) = table.choose(rate, taxes) {
            if taxes.group(rate).is_some() {
                wrong.push(reason);
            } else {
                missing.push(rate);
            }
        }
    }
    let value = if missing.is_empty() {
        rows
    } else {
        let names: Vec<&str> = missing.iter().map(|r| r.label()).collect();
        format!("{rows}. Нет ставок: {}", names.join(", "))
    };
    let no_general = missing.contains(&VatRate::Vat22);
    let (verdict, advice) = if !wrong.is_empty() || no_general {
        let mut advice = wrong;
        if no_general {
            advice.push("С 2026 года основная ставка 22 %, а в таблице 6 её нет: обновите прошивку ККТ или задайте ставку сервисной утилитой.".to_string());
        }
        (Verdict::Fail, advice.join(" "))
    } else if COMMON_RATES.iter().any(|r| missing.contains(r)) {
        (
            Verdict::Warn,
            "Чеки со ставками, которых нет в таблице 6, будут отклонены.".to_string(),
        )
    } else {
        (Verdict::Ok, String::new())
    };
    Check {
        id: "taxes",
        title: TITLE,
        value,
        verdict,
        advice,
    }
}

/// The whole report for one register.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Which register ("/dev/ttyACM0", a configured id …).
    pub target: String,
    /// The checks, in display order.
    pub checks: Vec<Check>,
    /// Set when the register could not be reached at all.
    pub error: Option<String>,
}

impl Report {
    /// `true` when nothing is ✗ and the register was reached.
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.checks.iter().all(|c| c.verdict != Verdict::Fail)
    }

    /// The technician's table.
    pub fn render(&self) -> String {
        let mut out = format!("Касса: {}\n", self.target);
        if let Some(e) = &self.error {
            for c in self.checks.iter().filter(|c| c.id == GATEWAY_CHECK) {
                out.push_str(&format!(
                    "  {} {}  {}\n",
                    c.verdict.mark(),
                    c.title,
                    c.value
                ));
                if !c.advice.is_empty() {
                    out.push_str(&format!("    → {}\n", c.advice));
                }
            }
            let advice = if e.contains("exclusive") || e.contains("busy") {
                "Порт занят другой программой: остановите службу (systemctl stop fiscal-gateway) или драйвер кассы."
            } else {
                "Проверьте кабель, питание ККТ и порт; для USB — права группы dialout."
            };
            out.push_str(&format!("  ✗ Связь: {e}\n    → {advice}\n"));
            return out;
        }
        let width = self
            .checks
            .iter()
            .map(|c| c.title.chars().count())
            .max()
            .unwrap_or(0);
        for c in &self.checks {
            let pad = width - c.title.chars().count();
            out.push_str(&format!(
                "  {} {}{}  {}\n",
                c.verdict.mark(),
                c.title,
                " ".repeat(pad),
                c.value
            ));
            if !c.advice.is_empty() {
                out.push_str(&format!("    → {}\n", c.advice));
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    fn healthy() -> Facts {
        Facts {
            link: "pty at 115200, standard".into(),
            model: "ШТРИХ-М-01Ф".into(),
            firmware: "C1".into(),
            kkt_serial: "0000000000012345".into(),
            fn_number: "9999078900012345".into(),
            fn_phase: "фискальный режим".into(),
            fn_fiscal_mode: true,
            fn_expiry: NaiveDate::from_ymd_opt(2027, 11, 1),
            ffd_version: "1.2".into(),
            rnm: "0000000001012345".into(),
            inn: "7700000000".into(),
            shift: ShiftFacts {
                open: true,
                expired: false,
                number: Some(3),
                opened_at: Some(at("2026-11-23 08:00:00")),
            },
            paper_present: true,
            cover_open: false,
            lever_down: true,
            register_clock: Some(at("2026-11-23 10:00:10")),
            pc_clock: Some(at("2026-11-23 10:00:00")),
            ofd_unsent: Some(0),
            ofd_oldest: None,
            tax_table: table_2026(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    fn verdict(f: &Facts, id: &str) -> Verdict {
        evaluate(f, &TaxGroupMap::default(), today())
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
            .verdict
    }

    #[test]
    fn a_healthy_register_passes() {
        let report = Report {
            target: "t".into(),
            checks: evaluate(&healthy(), &TaxGroupMap::default(), today()),
            error: None,
        };
        assert!(report.passed(), "{}", report.render());
        assert!(report.render().contains("✓ Бумага"));
    }

    #[test]
    fn faults_are_failures_with_advice() {
        let mut f = healthy();
        f.cover_open = true;
        f.paper_present = false;
        f.shift.expired = true;
        let checks = evaluate(&f, &TaxGroupMap::default(), today());
        for id in ["cover", "paper", "shift"] {
            let c = checks.iter().find(|c| c.id == id).unwrap();
            assert_eq!(c.verdict, Verdict::Fail, "{id}");
            assert!(!c.advice.is_empty(), "{id}");
        }
    }

    #[test]
    fn a_register_still_on_20_percent_fails_the_tax_check() {
        let mut f = healthy();
        f.tax_table.rows.truncate(6);
        let checks = evaluate(&f, &TaxGroupMap::default(), today());
        let c = checks.iter().find(|c| c.id == "taxes").unwrap();
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.advice.contains("22 %"), "{}", c.advice);
        assert!(c.value.contains("Нет ставок: НДС 22%"), "{}", c.value);
    }

    #[test]
    fn the_tax_check_lists_the_table_with_its_codes() {
        let checks = evaluate(&healthy(), &TaxGroupMap::default(), today());
        let c = checks.iter().find(|c| c.id == "taxes").unwrap();
        assert_eq!(c.verdict, Verdict::Ok, "{c:?}");
        assert!(c
            .value
            .starts_with("1: 20.00 % «НДС 20%» [01]; 2: 10.00 % «НДС 10%» [02]"));
        assert!(c
            .value
            .contains("11: 22.00 % «НДС 22%» [CB]; 12: 22.00 % «НДС 22/122» [CC]"));
    }

    #[test]
    fn a_configured_row_the_table_contradicts_fails() {
        let mut taxes = TaxGroupMap::empty();
        taxes.set(VatRate::Vat22, fiscal_model::TaxGroup::new(1).unwrap());
        let checks = evaluate(&healthy(), &taxes, today());
        let c = checks.iter().find(|c| c.id == "taxes").unwrap();
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.advice.contains("НДС 22%"), "{}", c.advice);
    }

    fn table_2026() -> TaxTable {
        TaxTable::from_rows(250, &driver::TABLE6_2026)
    }

    #[test]
    fn old_unsent_documents_warn_then_fail() {
        let mut f = healthy();
        f.ofd_unsent = Some(4);
        f.ofd_oldest = Some(at("2026-11-18 10:00:00"));
        assert_eq!(verdict(&f, "ofd"), Verdict::Warn);
        f.ofd_oldest = Some(at("2026-10-25 10:00:00"));
        assert_eq!(verdict(&f, "ofd"), Verdict::Fail);
    }

    #[test]
    fn clock_drift_and_fn_expiry() {
        let mut f = healthy();
        f.register_clock = Some(at("2026-11-23 10:10:00"));
        assert_eq!(verdict(&f, "clock"), Verdict::Fail);
        f.fn_expiry = NaiveDate::from_ymd_opt(2026, 12, 1);
        assert_eq!(verdict(&f, "fn"), Verdict::Warn);
        f.fn_expiry = NaiveDate::from_ymd_opt(2026, 11, 1);
        assert_eq!(verdict(&f, "fn"), Verdict::Fail);
    }

    #[test]
    fn shift_hours_left() {
        let mut f = healthy();
        f.shift.opened_at = Some(at("2026-11-22 10:30:00"));
        assert_eq!(verdict(&f, "shift"), Verdict::Warn);
    }

    #[test]
    fn the_running_service_row_follows_what_it_answers() {
        let id = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";
        let ready = Ok(vec![serde_json::json!({"cashboxId": id, "ready": true})]);
        assert_eq!(gateway_check(&ready, id).verdict, Verdict::Ok);
        let cover = Ok(vec![serde_json::json!({
            "cashboxId": id, "ready": false,
            "errorCode": "COVER_OPEN", "errorMessage": "Открыта крышка."
        })]);
        let row = gateway_check(&cover, id);
        assert_eq!(
            (row.verdict, row.value.as_str()),
            (Verdict::Warn, "Открыта крышка.")
        );
        assert_eq!(gateway_check(&cover, "other").verdict, Verdict::Warn);
        let broken = Err("HTTP/1.1 503 Service Unavailable: store".to_string());
        let row = gateway_check(&broken, id);
        assert_eq!(row.verdict, Verdict::Fail);
        assert!(row.value.contains("503"), "{}", row.value);
    }
}
