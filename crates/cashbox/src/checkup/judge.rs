//! The rules: facts in, graded checks out.

use chrono::{NaiveDate, NaiveDateTime};
use driver::TaxTable;
use fiscal_model::{TaxGroupMap, VatRate};

use super::{Check, Facts, Grade, ShiftFacts};

/// The FN stops accepting documents when the oldest unsent one is this old (54-ФЗ).
pub const OFD_BLOCK_DAYS: i64 = 30;

fn check(
    id: &'static str,
    title: &'static str,
    value: impl Into<String>,
    grade: Grade,
    advice: &str,
) -> Check {
    Check {
        id,
        title,
        value: value.into(),
        grade,
        advice: if grade == Grade::Ok {
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
        Grade::Ok,
        "",
    )];
    out.push(check(
        "model",
        "Модель, прошивка, заводской №",
        format!("{} / {} / {}", f.model, f.firmware, f.kkt_serial),
        Grade::Ok,
        "",
    ));
    out.push(fn_check(f, today));
    let ffd_ok = matches!(f.ffd_version.as_str(), "1.2" | "1.1" | "1.05");
    out.push(check(
        "ffd",
        "Версия ФФД",
        f.ffd_version.clone(),
        if f.ffd_version == "1.2" {
            Grade::Ok
        } else if ffd_ok {
            Grade::Warn
        } else {
            Grade::Fail
        },
        "Маркированные товары требуют ФФД 1.2: перерегистрируйте ККТ.",
    ));
    let registered = !f.rnm.trim().trim_start_matches('0').is_empty()
        && !f.inn.trim().trim_start_matches('0').is_empty();
    out.push(check(
        "registration",
        "РНМ и ИНН",
        format!("РНМ {} / ИНН {}", f.rnm, f.inn),
        if registered { Grade::Ok } else { Grade::Fail },
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
            Grade::Ok
        } else {
            Grade::Fail
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
        if f.cover_open { Grade::Fail } else { Grade::Ok },
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
        if f.lever_down { Grade::Ok } else { Grade::Fail },
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
            Grade::Fail,
            "ФН не в фискальном режиме: нужна регистрация или замена ФН.",
        );
    }
    match days {
        Some(n) if n < 0 => check(
            "fn",
            "ФН: номер, фаза, срок",
            value,
            Grade::Fail,
            "Срок ФН истёк: замените ФН и перерегистрируйте ККТ.",
        ),
        Some(n) if n < 30 => check(
            "fn",
            "ФН: номер, фаза, срок",
            value,
            Grade::Warn,
            "ФН скоро истечёт: закажите замену.",
        ),
        _ => check("fn", "ФН: номер, фаза, срок", value, Grade::Ok, ""),
    }
}

fn shift_check(s: &ShiftFacts, now: Option<NaiveDateTime>) -> Check {
    let number = s.number.map(|n| format!(" № {n}")).unwrap_or_default();
    if !s.open {
        return check("shift", "Смена", format!("закрыта{number}"), Grade::Ok, "");
    }
    if s.expired {
        return check(
            "shift",
            "Смена",
            format!("открыта{number}, превысила 24 часа"),
            Grade::Fail,
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
            let grade = if left < chrono::Duration::hours(1) {
                Grade::Warn
            } else {
                Grade::Ok
            };
            check(
                "shift",
                "Смена",
                value,
                grade,
                "Смена скоро превысит 24 часа: закройте её.",
            )
        }
        _ => check("shift", "Смена", format!("открыта{number}"), Grade::Ok, ""),
    }
}

fn clock_check(register: Option<NaiveDateTime>, pc: Option<NaiveDateTime>) -> Check {
    let (Some(r), Some(p)) = (register, pc) else {
        return check(
            "clock",
            "Часы ККТ и ПК",
            "не прочитаны",
            Grade::Warn,
            "Не удалось сравнить часы.",
        );
    };
    let diff = (r - p).num_seconds();
    let value = format!("ККТ {r}, ПК {p}, разница {diff:+} с");
    let grade = match diff.abs() {
        0..=60 => Grade::Ok,
        61..=300 => Grade::Warn,
        _ => Grade::Fail,
    };
    check(
        "clock",
        "Часы ККТ и ПК",
        value,
        grade,
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
            Grade::Ok,
            "",
        ),
        (Some(n), Some(o), Some(now)) => {
            let age = (now - o).num_days();
            let value = format!("{n}, самый старый от {} ({age} дн.)", o.date());
            let grade = if age >= OFD_BLOCK_DAYS - 5 {
                Grade::Fail
            } else if age >= 3 {
                Grade::Warn
            } else {
                Grade::Ok
            };
            check(
                "ofd",
                "Документы, не отправленные в ОФД",
                value,
                grade,
                "Проверьте интернет и настройки ОФД: через 30 дней ФН заблокируется.",
            )
        }
        (Some(n), _, _) => check(
            "ofd",
            "Документы, не отправленные в ОФД",
            n.to_string(),
            Grade::Warn,
            "Проверьте связь с ОФД.",
        ),
        (None, _, _) => check(
            "ofd",
            "Документы, не отправленные в ОФД",
            "не прочитано",
            Grade::Warn,
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
            Grade::Warn,
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
    let (grade, advice) = if !wrong.is_empty() || no_general {
        let mut advice = wrong;
        if no_general {
            advice.push("С 2026 года основная ставка 22 %, а в таблице 6 её нет: обновите прошивку ККТ или задайте ставку сервисной утилитой.".to_string());
        }
        (Grade::Fail, advice.join(" "))
    } else if COMMON_RATES.iter().any(|r| missing.contains(r)) {
        (
            Grade::Warn,
            "Чеки со ставками, которых нет в таблице 6, будут отклонены.".to_string(),
        )
    } else {
        (Grade::Ok, String::new())
    };
    Check {
        id: "taxes",
        title: TITLE,
        value,
        grade,
        advice,
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

    fn grade(f: &Facts, id: &str) -> Grade {
        evaluate(f, &TaxGroupMap::default(), today())
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
            .grade
    }

    #[test]
    fn a_healthy_register_passes() {
        let checks = evaluate(&healthy(), &TaxGroupMap::default(), today());
        assert!(checks.len() >= 10, "{checks:?}");
        for c in &checks {
            assert_eq!(c.grade, Grade::Ok, "{c:?}");
            assert!(c.advice.is_empty(), "{c:?}");
        }
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
            assert_eq!(c.grade, Grade::Fail, "{id}");
            assert!(!c.advice.is_empty(), "{id}");
        }
    }

    #[test]
    fn a_register_still_on_20_percent_fails_the_tax_check() {
        let mut f = healthy();
        f.tax_table.rows.truncate(6);
        let checks = evaluate(&f, &TaxGroupMap::default(), today());
        let c = checks.iter().find(|c| c.id == "taxes").unwrap();
        assert_eq!(c.grade, Grade::Fail);
        assert!(c.advice.contains("22 %"), "{}", c.advice);
        assert!(c.value.contains("Нет ставок: НДС 22%"), "{}", c.value);
    }

    #[test]
    fn the_tax_check_lists_the_table_with_its_codes() {
        let checks = evaluate(&healthy(), &TaxGroupMap::default(), today());
        let c = checks.iter().find(|c| c.id == "taxes").unwrap();
        assert_eq!(c.grade, Grade::Ok, "{c:?}");
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
        assert_eq!(c.grade, Grade::Fail);
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
        assert_eq!(grade(&f, "ofd"), Grade::Warn);
        f.ofd_oldest = Some(at("2026-10-25 10:00:00"));
        assert_eq!(grade(&f, "ofd"), Grade::Fail);
    }

    #[test]
    fn clock_drift_and_fn_expiry() {
        let mut f = healthy();
        f.register_clock = Some(at("2026-11-23 10:10:00"));
        assert_eq!(grade(&f, "clock"), Grade::Fail);
        f.fn_expiry = NaiveDate::from_ymd_opt(2026, 12, 1);
        assert_eq!(grade(&f, "fn"), Grade::Warn);
        f.fn_expiry = NaiveDate::from_ymd_opt(2026, 11, 1);
        assert_eq!(grade(&f, "fn"), Grade::Fail);
    }

    #[test]
    fn shift_hours_left() {
        let mut f = healthy();
        f.shift.opened_at = Some(at("2026-11-22 10:30:00"));
        assert_eq!(grade(&f, "shift"), Grade::Warn);
    }
}
