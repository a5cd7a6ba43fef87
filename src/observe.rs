//! What a technician and a monitoring system see: `GET /metrics` (Prometheus text format) and
//! `GET /` (a small status page, plain HTML and CSS, no script). Both are read-only views of the
//! workers' [`Health`] and of the store's queue depth. They need no token (the daemon listens
//! on localhost, and the `Host` check keeps other sites' pages out), so they carry nothing an
//! operation could be traced by: no operationId, no FD number or fiscal sign of an operation,
//! no buyer e-mail or phone. A message that names an operation is cut to its first clause
//! ([`gateway_http::public_message`]). Register identity (serial, FN number, RNM) is shown: it
//! is printed on every receipt and is what a technician needs.
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

/// `GET /metrics` and `GET /`.
pub fn routes(observed: Observed) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/", get(status_page))
        .with_state(observed)
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

async fn status_page(State(o): State<Observed>) -> Html<String> {
    Html(render_page(&o))
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
<h3>Последние операции</h3>
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
    format!(
        r#"<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>fiscal-gateway</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ font-size: 1.3em; }} h2 {{ font-size: 1.1em; margin-top: 1.5em; }} h3 {{ font-size: 1em; }}
table {{ border-collapse: collapse; margin: .5em 0; }}
th, td {{ text-align: left; padding: .2em .8em .2em 0; vertical-align: top; }}
.recent th, .recent td {{ border-bottom: 1px solid #ddd; }}
.ok {{ color: #17692a; }} .warn {{ color: #8a6100; }} .bad {{ color: #b00020; font-weight: 600; }}
</style></head>
<body>
<h1>fiscal-gateway {version}</h1>
<p>Обновлено {now} UTC. Страница обновляется каждые 5 секунд.</p>
{body}</body></html>
"#,
        version = env!("CARGO_PKG_VERSION"),
        now = now.format("%Y-%m-%d %H:%M:%S"),
    )
}
