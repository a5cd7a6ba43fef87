//! What a technician and a monitoring system see: `GET /metrics` (Prometheus text format) and
//! `GET /` (a small status page). Both are read-only views of the workers' [`Health`] and of the
//! store's queue depth. They need no token (the daemon listens on localhost, and the `Host`
//! check keeps other sites' pages out), so they carry nothing an operation could be traced by:
//! no operationId, no FD number or fiscal sign of an operation, no buyer e-mail or phone. A
//! message that names an operation is cut to its first clause
//! ([`gateway_http::public_message`]). Register identity (serial, FN number, RNM) is shown: it
//! is printed on every receipt and is what a technician needs. A halted register says so, why,
//! and which command settles it; the held operation's id is not on the page.
//!
//! The page's actions panel (X and Z reports, opening a shift, a copy, settling a held
//! operation) is its script (`/status.js`): it calls the API with an admin token the technician
//! pastes, kept in the tab's `sessionStorage` only, and fetches the held operation's id with
//! it. The page's Content-Security-Policy allows only that script and `/status.css` (no inline
//! script or style), requests to this origin only, and no framing.
//!
//! Event metrics (operations by result, fiscalization latency, device errors) are recorded
//! where they happen, through the `metrics` facade; state metrics (queue depth, paper, cover,
//! shift age, FN days left, unsent OFD documents) are computed at scrape time.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use cashbox::{oldest_pending, Health, RegisterState};

/// Metric names, in one place so the worker and the README agree.
pub use cashbox::metrics::names;

/// Installs the process-wide recorder; `None` if one is installed already (tests start several
/// gateways in one process).
pub fn install_recorder() -> Option<PrometheusHandle> {
    let buckets = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(names::FISCALIZATION_SECONDS.to_string()),
            &buckets,
        )
        .ok()?
        .install_recorder()
        .ok()
}

/// Shared state of the two routes.
#[derive(Clone)]
pub struct Observed {
    /// The workers' health, one per register.
    pub registers: Arc<Vec<Health>>,
    /// The operation store (queue depth).
    pub store: Arc<queue::Store>,
    /// The recorder's handle, if this process installed it.
    pub prometheus: Option<PrometheusHandle>,
}

/// The status page's script and style, served beside it (the CSP allows nothing inline).
const STATUS_JS: &str = include_str!("observe/status.js");
const STATUS_CSS: &str = include_str!("observe/status.css");

/// What the status page may load and do: its own script and style, requests to this origin
/// (the API), nothing inline, no forms, no framing (the actions panel cannot be clicked
/// through another site's page).
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// `GET /metrics`, `GET /` and the page's assets.
pub fn routes(observed: Observed) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/", get(status_page))
        .route("/status.js", get(status_js))
        .route("/status.css", get(status_css))
        .with_state(observed)
}

async fn status_js() -> Response {
    asset("text/javascript; charset=utf-8", STATUS_JS)
}

async fn status_css() -> Response {
    asset("text/css; charset=utf-8", STATUS_CSS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

async fn metrics(State(o): State<Observed>) -> Response {
    let mut out = o
        .prometheus
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    render_state_metrics(&o, &mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

fn render_state_metrics(o: &Observed, out: &mut String) {
    let _ = writeln!(out, "# HELP fiscal_queue_depth Operations per register and state.\n# TYPE fiscal_queue_depth gauge");
    if let Ok(mut depth) = o.store.depth() {
        // Every configured register and unfinished state has a series, 0 when empty, so a
        // dashboard sees an empty queue rather than no data.
        for h in o.registers.iter() {
            let id = queue::RegisterId::new(h.lock().id.clone());
            let states = depth.entry(id).or_default();
            for state in ["queued", "waiting", "sending", "reconciling"] {
                states.entry(state).or_default();
            }
        }
        for (register, states) in depth {
            for (state, n) in states {
                let _ = writeln!(
                    out,
                    "fiscal_queue_depth{{register=\"{register}\",state=\"{state}\"}} {n}"
                );
            }
        }
    }
    let _ = writeln!(out, "# HELP fiscal_oldest_pending_seconds Age of the register's oldest unfinished operation (0 when none): a queue that does not move grows here.\n# TYPE fiscal_oldest_pending_seconds gauge");
    for h in o.registers.iter() {
        let id = h.lock().id.clone();
        let age = oldest_pending(&o.store, &id)
            .map(|since| (Utc::now() - since).num_seconds().max(0))
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "fiscal_oldest_pending_seconds{{register=\"{id}\"}} {age}"
        );
    }
    let now = Utc::now();
    let mut lines = [
        (
            "fiscal_register_up",
            "1 when the register answers and can work.",
            String::new(),
        ),
        (
            "fiscal_paper_out",
            "1 when the register reports no paper.",
            String::new(),
        ),
        (
            "fiscal_cover_open",
            "1 when the register's cover is open.",
            String::new(),
        ),
        (
            "fiscal_shift_age_seconds",
            "Age of the open shift.",
            String::new(),
        ),
        (
            "fiscal_fn_days_left",
            "Days until the FN expires.",
            String::new(),
        ),
        (
            "fiscal_ofd_unsent_documents",
            "Documents not yet sent to the OFD.",
            String::new(),
        ),
    ];
    for h in o.registers.iter() {
        let h = h.lock();
        let label = format!("{{register=\"{}\"}}", h.id);
        let condition = h.state.condition();
        let _ = writeln!(
            lines[0].2,
            "fiscal_register_up{label} {}",
            u8::from(h.state == RegisterState::Ready)
        );
        let _ = writeln!(
            lines[1].2,
            "fiscal_paper_out{label} {}",
            u8::from(condition.is_some_and(|c| c.paper_out()))
        );
        let _ = writeln!(
            lines[2].2,
            "fiscal_cover_open{label} {}",
            u8::from(condition.is_some_and(|c| c.cover_open()))
        );
        if let Some(opened) = h.shift_opened_at_utc {
            let _ = writeln!(
                lines[3].2,
                "fiscal_shift_age_seconds{label} {}",
                (now - opened).num_seconds().max(0)
            );
        }
        if let Some(expiry) = h.fn_expiry {
            let _ = writeln!(
                lines[4].2,
                "fiscal_fn_days_left{label} {}",
                (expiry - now.date_naive()).num_days()
            );
        }
        if let Some(unsent) = h.ofd_unsent {
            let _ = writeln!(lines[5].2, "fiscal_ofd_unsent_documents{label} {unsent}");
        }
    }
    for (name, help, body) in lines.iter_mut() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        out.push_str(body);
    }
}

async fn status_page(State(o): State<Observed>) -> Response {
    (
        [
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Html(render_page(&o)),
    )
        .into_response()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render_page(o: &Observed) -> String {
    let depth = o.store.depth().unwrap_or_default();
    let now = Utc::now();
    let mut body = String::new();
    for h in o.registers.iter() {
        let h = h.lock();
        let (class, state) = match &h.state {
            RegisterState::Ready => ("ok", "Готова".to_string()),
            RegisterState::NotReady {
                condition: cashbox::Condition::Connecting,
            } => ("warn", "Подключение…".to_string()),
            RegisterState::NotReady { condition } => (
                "bad",
                format!(
                    "{} ({})",
                    gateway_http::public_message(&condition.described()),
                    condition.code()
                ),
            ),
        };
        let queued: u64 = depth
            .iter()
            .filter(|(r, _)| r.to_string() == h.id)
            .flat_map(|(_, s)| s.iter())
            .filter(|(k, _)| matches!(**k, "queued" | "waiting" | "sending" | "reconciling"))
            .map(|(_, n)| *n)
            .sum();
        let oldest = match oldest_pending(&o.store, &h.id) {
            Some(since) => format!(" (старейшая ждёт {} с)", (now - since).num_seconds().max(0)),
            None => String::new(),
        };
        let shift = match h.shift_opened_at_utc {
            Some(t) => {
                let age = (now - t).num_minutes();
                format!(
                    "открыта {} ч {} мин назад (№ {})",
                    age / 60,
                    age % 60,
                    h.shift_number
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "?".into())
                )
            }
            None => "закрыта или неизвестна".into(),
        };
        let fn_line = match h.fn_expiry {
            Some(d) => format!(
                "{} (до {d}, осталось {} дн.)",
                h.fn_number.as_deref().unwrap_or("?"),
                (d - now.date_naive()).num_days()
            ),
            None => h.fn_number.clone().unwrap_or_else(|| "?".into()),
        };
        let last_error = h
            .last_error
            .as_ref()
            .map(|(t, e)| {
                format!(
                    "{} — {}",
                    t.format("%Y-%m-%d %H:%M:%S UTC"),
                    gateway_http::public_message(e)
                )
            })
            .unwrap_or_else(|| "—".into());
        let _ = write!(
            body,
            r#"<section class="register" data-register="{id}">
<h2>Касса {id}</h2>
<table>
<tr><th>Состояние</th><td class="state {class}" data-field="state">{state}</td></tr>
<tr><th>Модель / заводской №</th><td>{model} / {serial}</td></tr>
<tr><th>ФН</th><td data-field="fn">{fn_line}</td></tr>
<tr><th>РНМ</th><td>{rnm}</td></tr>
<tr><th>Смена</th><td data-field="shift">{shift}</td></tr>
<tr><th>В очереди</th><td data-field="queue">{queued}{oldest}</td></tr>
<tr><th>Не отправлено в ОФД</th><td>{ofd}</td></tr>
<tr><th>Последняя ошибка</th><td data-field="last-error">{last_error}</td></tr>
</table>
{halted}<h3>Последние операции</h3>
<table class="recent"><tr><th>Время (UTC)</th><th>Вид</th><th>Итог</th><th>Причина</th></tr>
"#,
            id = esc(&h.id),
            state = esc(&state),
            model = esc(h.model.as_deref().unwrap_or("?")),
            serial = esc(h.kkt_serial.as_deref().unwrap_or("?")),
            fn_line = esc(&fn_line),
            rnm = esc(h.rnm.as_deref().unwrap_or("?")),
            shift = esc(&shift),
            oldest = esc(&oldest),
            ofd = h
                .ofd_unsent
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            last_error = esc(&last_error),
            halted = halted_block(&h),
        );
        for r in &h.recent {
            // No operationId and no FD number: the page needs no token. A failure's reason
            // (cover, paper, refusal) is the register's, shown without operation details.
            let done = r.outcome == "done";
            let reason = if done {
                "—".to_string()
            } else {
                gateway_http::public_message(&r.detail)
            };
            let _ = writeln!(
                body,
                "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if done { "ok" } else { "bad" },
                r.at.format("%H:%M:%S"),
                esc(&r.kind),
                esc(&r.outcome),
                esc(&reason)
            );
        }
        body.push_str("</table>\n</section>\n");
    }
    let cashboxes: String = o
        .registers
        .iter()
        .map(|h| {
            let id = esc(&h.lock().id);
            format!("<option value=\"{id}\">{id}</option>")
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<noscript><meta http-equiv="refresh" content="5"></noscript>
<title>fiscal-gateway</title>
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head>
<body>
<h1>fiscal-gateway {version}</h1>
<p><span id="updated">Обновлено {now} UTC.</span> <span id="updated-note">Страница обновляется каждые 5 секунд.</span></p>
<div id="registers">
{body}</div>
{actions}</body></html>
"#,
        version = env!("CARGO_PKG_VERSION"),
        now = now.format("%Y-%m-%d %H:%M:%S"),
        actions = actions_panel(&cashboxes),
    )
}

/// What a halted register holds, for a person: that it is halted, why (cut as every message
/// on this page: the worker's reason names the operation, so without a token it reads "see the
/// log"), and the commands that settle it. The operation's id is not shown (the page needs no
/// token); the `held-id` and `held-reason` placeholders are filled by the page's script, with
/// the pasted admin token, from the admin list.
fn halted_block(h: &cashbox::RegisterHealth) -> String {
    let reason = match (&h.halted, h.state.condition()) {
        (Some(halt), _) => {
            let reason = gateway_http::public_message(&halt.reason);
            if halt.operation_id.is_empty() {
                reason
            } else {
                reason.replace(&halt.operation_id, "…")
            }
        }
        (None, Some(cashbox::Condition::Halted { detail })) => gateway_http::public_message(detail),
        _ => return String::new(),
    };
    let id = esc(&h.id);
    let held = format!(r#"<span class="held-id" data-register="{id}">&lt;ID&gt;</span>"#);
    format!(
        r#"<div class="halted" data-field="halted">
<p><strong>Касса остановлена: исход операции не удалось установить по ФН, нужно решение человека.</strong> Остальные операции ждут.</p>
<p>Причина: <span class="held-reason" data-field="halted-reason" data-register="{id}">{reason}</span></p>
<p>Сверьте с ФН (последний документ в отчёте или на ленте), затем выполните одно из:</p>
<pre>fiscal-gateway operations settle {held} --done &lt;ФД&gt;   # документ есть в ФН: операция выполнена
fiscal-gateway operations settle {held} --not-done      # документа нет: операция снова в очереди
fiscal-gateway operations settle {held} --done --force --reason ТЕКСТ   # внесение/выплата (без ФД) прошла</pre>
<p class="hint">ID операции: <code>fiscal-gateway operations list</code> (с токеном администратора в FISCAL_GATEWAY_TOKEN), или вставьте токен в «Действия» ниже — он подставится сюда.</p>
</div>
"#,
        reason = esc(&reason),
    )
}

/// The actions panel; its script is `/status.js`. No `<form>`: nothing is submitted by the
/// browser, every call is a `fetch` with the token in the Authorization header.
fn actions_panel(cashbox_options: &str) -> String {
    format!(
        r#"<section id="actions" class="actions">
<h2>Действия</h2>
<noscript><p class="bad">Действия работают только с JavaScript.</p></noscript>
<p class="hint">Нужен токен администратора (JWT с claim "scope": "admin"). Он хранится только в этой вкладке (sessionStorage) и уходит только в заголовке Authorization; закрытие вкладки его стирает.</p>
<p><label>Токен <input id="token" type="password" autocomplete="off" spellcheck="false"></label><button id="forget" type="button">Забыть токен</button></p>
<p><label>Касса <select id="cashbox">{cashbox_options}</select></label></p>
<fieldset><legend>Смена и отчёты</legend>
<button type="button" data-action="xReport">X-отчёт</button>
<button type="button" data-action="closeShift">Закрыть смену (Z-отчёт)</button>
<button type="button" data-action="openShift">Открыть смену</button>
<br><label>ФД (пусто — последний документ) <input id="copy-fd" inputmode="numeric" autocomplete="off" size="10"></label><button type="button" data-action="printCopy">Печать копии</button>
</fieldset>
<fieldset id="settle"><legend>Решение по остановленной операции</legend>
<p><label>Операция <input id="settle-id" autocomplete="off" spellcheck="false" size="40"></label> <span id="held-note" class="hint"></span></p>
<p><label>ФД <input id="settle-fd" inputmode="numeric" autocomplete="off" size="10"></label>
<label><input id="settle-force" type="checkbox"> принять без подтверждения ФН (force)</label>
<label>Причина <input id="settle-reason" autocomplete="off" size="30"></label></p>
<button type="button" data-action="settle-done">Документ есть в ФН (done)</button>
<button type="button" data-action="settle-not-done">Документа нет (not done)</button>
</fieldset>
<p id="result" role="status" aria-live="polite" data-status="" data-http=""></p>
</section>
"#
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn observed(dir: &std::path::Path, health: Health) -> Observed {
        let store = queue::Store::open(&dir.join("ops"), queue::StoreConfig::default()).unwrap();
        Observed {
            registers: Arc::new(vec![health]),
            store: Arc::new(store),
            prometheus: None,
        }
    }

    #[test]
    fn a_halted_register_says_why_and_what_to_run_but_not_the_operation_id() {
        let dir = tempfile::tempdir().unwrap();
        let health = cashbox::new_health("cb-1");
        let reason =
            "Номер последнего ФД изменился с 11 на 13: ожидалось не больше одного документа.";
        {
            let mut h = health.lock();
            h.state = cashbox::Condition::halted(reason).into();
            h.halted = Some(cashbox::Halt {
                operation_id: "held-op-42".into(),
                reason: reason.into(),
            });
        }
        let page = render_page(&observed(dir.path(), health));
        assert!(page.contains("data-field=\"halted\""), "{page}");
        assert!(page.contains("изменился с 11 на 13"), "the reason: {page}");
        assert!(
            page.contains("fiscal-gateway operations settle <span class=\"held-id\" data-register=\"cb-1\">&lt;ID&gt;</span> --done &lt;ФД&gt;"),
            "{page}"
        );
        assert!(page.contains("--not-done"), "{page}");
        assert!(
            !page.contains("held-op-42"),
            "operationId on a token-free page: {page}"
        );
    }

    #[test]
    fn a_reason_that_names_the_operation_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let health = cashbox::new_health("cb-1");
        {
            let mut h = health.lock();
            h.halted = Some(cashbox::Halt {
                operation_id: "held-op-43".into(),
                reason: "ФН другой: operation held-op-43 не проверить".into(),
            });
        }
        let page = render_page(&observed(dir.path(), health));
        assert!(page.contains("data-field=\"halted\""), "{page}");
        assert!(!page.contains("held-op-43"), "{page}");
        assert!(!page.contains("не проверить"), "{page}");
    }

    #[test]
    fn a_working_register_has_no_halted_block_and_the_panel_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let health = cashbox::new_health("cb-1");
        health.lock().state = RegisterState::Ready;
        let page = render_page(&observed(dir.path(), health));
        assert!(!page.contains("data-field=\"halted\""), "{page}");
        assert!(page.contains("<section id=\"actions\""), "{page}");
        assert!(page.contains("<option value=\"cb-1\">"), "{page}");
        for action in [
            "xReport",
            "closeShift",
            "openShift",
            "printCopy",
            "settle-done",
            "settle-not-done",
        ] {
            assert!(
                page.contains(&format!("data-action=\"{action}\"")),
                "{action}: {page}"
            );
        }
        // Nothing inline: the CSP allows only the two assets.
        assert!(!page.contains("<style"), "{page}");
        assert!(!page.contains("<script>"), "{page}");
        assert!(!page.contains(" style="), "{page}");
        assert!(!page.contains("<form"), "{page}");
    }

    #[test]
    fn the_script_keeps_the_token_in_session_storage_only() {
        assert!(STATUS_JS.contains("sessionStorage.setItem"));
        assert!(!STATUS_JS.contains("localStorage."));
        assert!(!STATUS_JS.contains("document.cookie"));
        assert!(STATUS_JS.contains("crypto.randomUUID"));
        assert!(PAGE_POLICY.contains("script-src 'self'"));
        assert!(PAGE_POLICY.contains("frame-ancestors 'none'"));
    }
}
