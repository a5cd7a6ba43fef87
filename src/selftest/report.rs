//! The selftest's report: the checks of one register with what the running service says of
//! it, rendered as a technician's table or a stable JSON document.

use cashbox::checkup::{Check, Grade};
use cashbox::condition::code;
use gateway_http::RegisterReadiness;
use serde::Serialize;

/// Id of the row that tells what the running gateway says of the register.
pub const GATEWAY_CHECK: &str = "gateway";

/// The row for register `id` from a running gateway's `/health` registers.
pub fn gateway_check(view: &Result<Vec<RegisterReadiness>, String>, id: &str) -> Check {
    let entry = match view {
        Ok(registers) => registers.iter().find(|r| r.cashbox_id == id),
        Err(answer) => {
            return Check {
                id: GATEWAY_CHECK,
                title: "Служба fiscal-gateway",
                value: format!("отвечает ошибкой: {answer}"),
                grade: Grade::Fail,
                advice: "Смотрите журнал службы (journalctl -u fiscal-gateway) и перезапустите её."
                    .to_string(),
            }
        }
    };
    let (grade, value, advice) = match entry {
        None => (
            Grade::Warn,
            "служба работает, но этой кассы не знает".to_string(),
            "Проверьте, что служба запущена с этой конфигурацией.".to_string(),
        ),
        Some(r) if r.ready => (
            Grade::Ok,
            "служба работает, касса готова".into(),
            String::new(),
        ),
        Some(r) => {
            let message = r
                .error_message
                .as_deref()
                .unwrap_or("не готова")
                .to_string();
            if r.error_code.as_deref() == Some(code::NEEDS_OPERATOR) {
                (
                    Grade::Fail,
                    message,
                    "Исход операции не удалось установить по состоянию ККТ: найдите операцию в журнале службы (journalctl -u fiscal-gateway), сверьте её с ККТ (чек в ФН или нет) и перезапустите службу.".to_string(),
                )
            } else {
                (Grade::Warn, message, String::new())
            }
        }
    };
    Check {
        id: GATEWAY_CHECK,
        title: "Служба fiscal-gateway",
        value,
        grade,
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
        self.error.is_none() && self.checks.iter().all(|c| c.grade != Grade::Fail)
    }

    /// The technician's table.
    pub fn render(&self) -> String {
        let mut out = format!("Касса: {}\n", self.target);
        if let Some(e) = &self.error {
            for c in self.checks.iter().filter(|c| c.id == GATEWAY_CHECK) {
                out.push_str(&format!("  {} {}  {}\n", c.grade.mark(), c.title, c.value));
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
                c.grade.mark(),
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
mod tests {
    use super::*;

    #[test]
    fn the_running_service_row_follows_what_it_answers() {
        let id = "da2bb850-63ef-47e4-8b45-7b5b841eaa9b";
        let readiness =
            |ready: bool, code: Option<&str>, message: Option<&str>| RegisterReadiness {
                cashbox_id: id.to_string(),
                ready,
                error_code: code.map(String::from),
                error_message: message.map(String::from),
                oldest_pending_seconds: None,
            };
        let ready = Ok(vec![readiness(true, None, None)]);
        assert_eq!(gateway_check(&ready, id).grade, Grade::Ok);
        let cover = Ok(vec![readiness(
            false,
            Some("COVER_OPEN"),
            Some("Открыта крышка."),
        )]);
        let row = gateway_check(&cover, id);
        assert_eq!(
            (row.grade, row.value.as_str()),
            (Grade::Warn, "Открыта крышка.")
        );
        assert_eq!(gateway_check(&cover, "other").grade, Grade::Warn);
        let halted = Ok(vec![readiness(
            false,
            Some(code::NEEDS_OPERATOR),
            Some("Нужен оператор."),
        )]);
        let row = gateway_check(&halted, id);
        assert_eq!(row.grade, Grade::Fail);
        assert!(row.advice.contains("journalctl"), "{}", row.advice);
        let broken = Err("HTTP/1.1 503 Service Unavailable: store".to_string());
        let row = gateway_check(&broken, id);
        assert_eq!(row.grade, Grade::Fail);
        assert!(row.value.contains("503"), "{}", row.value);
    }
}
