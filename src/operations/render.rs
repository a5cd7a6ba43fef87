//! The service's answers as text for a person: the held operations with the commands that
//! settle them, one stored operation, a settlement's outcome. Everything is read leniently from
//! `serde_json::Value`: a field the service adds is printed too.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::{json, Value};

/// The cashboxIds `/health` reports as needing an operator.
pub(super) fn needing_operator(health: &Value) -> Vec<String> {
    health
        .get("registers")
        .and_then(Value::as_array)
        .map(|registers| {
            registers
                .iter()
                .filter(|r| r.get("errorCode").and_then(Value::as_str) == Some("NEEDS_OPERATOR"))
                .filter_map(|r| text(r, &["cashboxId"]))
                .collect()
        })
        .unwrap_or_default()
}

/// The unsettled operations, each with the commands that settle it when its register is
/// halted on it (`halted`: the registers `/health` says need an operator); or that nothing is
/// held.
pub(super) fn render_list(list: &Value, halted: &[String]) -> String {
    let entries = unsettled(list);
    if entries.is_empty() {
        return "Ничего не удержано: ни одна касса не ждёт решения по операции.\n".to_string();
    }
    let mut out = String::new();
    for Unsettled { op, register } in &entries {
        let id = text(op, &["operationId", "id"]).unwrap_or_else(|| "?".into());
        let kind = text(op, &["kind", "type"]);
        let cashbox = text(op, &["cashboxId", "register", "registerId"]).or_else(|| {
            register.and_then(|r| text(r, &["cashboxId", "register", "registerId", "id"]))
        });
        let _ = write!(out, "Операция {id}");
        match (kind.clone(), cashbox.clone()) {
            (Some(k), Some(c)) => {
                let _ = write!(out, " ({k}, касса {c})");
            }
            (Some(k), None) => {
                let _ = write!(out, " ({k})");
            }
            (None, Some(c)) => {
                let _ = write!(out, " (касса {c})");
            }
            (None, None) => {}
        }
        out.push('\n');
        let halt = register
            .and_then(|r| r.get("halted"))
            .filter(|h| !h.is_null());
        // Without a register entry (a flat list) every operation listed is taken as held.
        let held = match (register, halt) {
            (None, _) => true,
            (Some(_), Some(h)) => text(h, &["operationId"]).is_none_or(|held| held == id),
            // No word on the halt: a register that needs an operator holds its one
            // unsettled operation.
            (Some(r), None) => {
                cashbox.as_ref().is_some_and(|c| halted.contains(c))
                    && r.get("operations")
                        .and_then(Value::as_array)
                        .is_some_and(|ops| ops.len() == 1)
            }
        };
        if let Some(reason) = halt.and_then(|h| text(h, &["reason"])) {
            // The worker's reason starts by naming the operation, already named above.
            let prefix = format!("operation {id}: ");
            let reason = reason.strip_prefix(&prefix).unwrap_or(&reason);
            let _ = writeln!(out, "  Касса остановлена: {reason}");
        }
        let rest = without(
            op,
            &[
                "operationId",
                "id",
                "kind",
                "type",
                "cashboxId",
                "register",
                "registerId",
            ],
        );
        render_operation(&rest, 1, &mut out);
        let cash = kind.as_deref().is_some_and(|k| k.ends_with("Cash"));
        if held && cash {
            // A cash movement makes no FD: its outcome is read from the shift's counters (an
            // X report), and "done" can only be forced.
            let _ = writeln!(
                out,
                "  Сверьте наличные и счётчики смены (X-отчёт), затем:\n    \
                 fiscal-gateway operations settle {id} --done --force --reason ТЕКСТ   # внесение/выплата прошла\n    \
                 fiscal-gateway operations settle {id} --not-done                       # не прошла: операция снова в очереди\n"
            );
        } else if held {
            let _ = writeln!(
                out,
                "  Сверьте с ФН (последний документ), затем:\n    \
                 fiscal-gateway operations settle {id} --done <ФД>   # документ есть в ФН\n    \
                 fiscal-gateway operations settle {id} --not-done    # документа нет: операция снова в очереди\n"
            );
        } else {
            let _ = writeln!(
                out,
                "  Касса не остановлена на ней: операция выполняется сейчас, решение не нужно.\n"
            );
        }
    }
    out
}

/// One unsettled operation and the register entry it came in, if the answer groups them.
struct Unsettled<'a> {
    op: Cow<'a, Value>,
    register: Option<&'a Value>,
}

/// The operations in a list answer: a bare array, `{operations: [...]}`, or registers each
/// with `operations` (or `held`, or one `operation`) and `halted`. A halted register whose
/// held operation is not among its operations still yields it (from `halted`).
fn unsettled(list: &Value) -> Vec<Unsettled<'_>> {
    let entries: &[Value] = match list {
        Value::Array(items) => items,
        Value::Object(map) => ["operations", "registers", "cashboxes", "items", "held"]
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_array))
            .map(Vec::as_slice)
            .unwrap_or(&[]),
        _ => &[],
    };
    let mut found = Vec::new();
    for entry in entries {
        let inner = ["operations", "held"]
            .iter()
            .find_map(|k| entry.get(*k).and_then(Value::as_array));
        let ops: Vec<&Value> = match (inner, entry.get("operation")) {
            (Some(ops), _) => ops.iter().collect(),
            (None, Some(op)) if op.is_object() => vec![op],
            _ => {
                found.push(Unsettled {
                    op: Cow::Borrowed(entry),
                    register: None,
                });
                continue;
            }
        };
        let halt = entry.get("halted").filter(|h| h.is_object());
        if let Some(held) = halt.and_then(|h| text(h, &["operationId"])) {
            if !ops
                .iter()
                .any(|op| text(op, &["operationId", "id"]).as_deref() == Some(held.as_str()))
            {
                found.push(Unsettled {
                    op: Cow::Owned(json!({ "operationId": held })),
                    register: Some(entry),
                });
            }
        }
        found.extend(ops.into_iter().map(|op| Unsettled {
            op: Cow::Borrowed(op),
            register: Some(entry),
        }));
    }
    found
}

/// The first of `keys` that `v` has, as text.
fn text(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

/// `v` without `keys` (when it is an object).
fn without(v: &Value, keys: &[&str]) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !keys.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What a settlement answered (the operation's status body).
pub(super) fn render_settled(id: &str, answer: &Value) -> String {
    let mut out = match answer.get("status").and_then(Value::as_u64) {
        Some(2) => format!("Операция {id}: выполнена (status 2).\n"),
        Some(1) => format!("Операция {id}: снова в очереди, касса продолжает работу (status 1).\n"),
        Some(3) => format!("Операция {id}: не выполнена (status 3).\n"),
        _ => format!("Операция {id}: решение принято.\n"),
    };
    render_value(&without(answer, &["status"]), 1, &mut out);
    out
}

/// A stored operation: what it is and where it stands first, then what it asked, the
/// snapshot, its history and its answer; fields not known here follow.
pub(super) fn render_operation(op: &Value, depth: usize, out: &mut String) {
    const ORDER: [&str; 12] = [
        "operationId",
        "kind",
        "cashboxId",
        "state",
        "createdAtUtc",
        "updatedAtUtc",
        "request",
        "snapshot",
        "attempts",
        "attemptsDropped",
        "answer",
        "status",
    ];
    let Value::Object(map) = op else {
        render_value(op, depth, out);
        return;
    };
    for key in ORDER {
        if let Some(v) = map.get(key) {
            render_value(&json!({ key: v }), depth, out);
        }
    }
    render_value(&without(op, &ORDER), depth, out);
}

/// A JSON value as indented `key: value` lines; nulls and empty containers are left out.
fn render_value(v: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Null => {}
                    Value::Object(m) if m.is_empty() => {}
                    Value::Array(a) if a.is_empty() => {}
                    Value::Object(_) => {
                        let _ = writeln!(out, "{pad}{k}:");
                        render_value(v, depth + 1, out);
                    }
                    Value::Array(items) if items.iter().all(is_scalar) => {
                        let items: Vec<String> = items.iter().map(scalar).collect();
                        let _ = writeln!(out, "{pad}{k}: {}", items.join(", "));
                    }
                    Value::Array(_) => {
                        let _ = writeln!(out, "{pad}{k}:");
                        render_value(v, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(v));
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_scalar(item) {
                    let _ = writeln!(out, "{pad}- {}", scalar(item));
                } else {
                    // An entry of a list (an attempt): its fields on one line.
                    let _ = writeln!(out, "{pad}- {}", one_line(item));
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

/// A value inside one line: scalars as they are, containers as JSON.
fn inline(v: &Value) -> String {
    if is_scalar(v) {
        scalar(v)
    } else {
        v.to_string()
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An object of scalars as `k: v, k: v`; an attempt reads in its natural order (`at` or
/// `atUtc`, `state`, `note`), other keys follow.
fn one_line(v: &Value) -> String {
    const FIRST: [&str; 4] = ["at", "atUtc", "state", "note"];
    match v {
        Value::Object(map) => {
            let first = FIRST.iter().filter_map(|k| map.get_key_value(*k));
            let rest = map.iter().filter(|(k, _)| !FIRST.contains(&k.as_str()));
            first
                .chain(rest)
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| format!("{k}: {}", inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn the_list_is_read_in_whatever_shape_it_comes() {
        assert!(render_list(&json!([]), &[]).contains("Ничего не удержано"));
        assert!(render_list(&json!({"operations": []}), &[]).contains("Ничего не удержано"));
        let flat = json!([{"operationId": "op-7", "kind": "receipt", "cashboxId": "cb-1",
            "attempts": [{"state": "sending", "note": "FF45", "at": "2026-12-03T10:00:00Z"}],
            "snapshot": {"lastFd": 12}}]);
        let out = render_list(&flat, &[]);
        assert!(out.contains("Операция op-7 (receipt, касса cb-1)"), "{out}");
        assert!(
            out.contains("- at: 2026-12-03T10:00:00Z, state: sending, note: FF45"),
            "{out}"
        );
        assert!(out.contains("lastFd: 12"), "{out}");
        assert!(out.contains("operations settle op-7 --done <ФД>"), "{out}");
        assert!(out.contains("operations settle op-7 --not-done"), "{out}");
        // The service's shape: every register, its halt, its operations in Sending/Reconciling.
        let grouped = json!({"registers": [
            {"cashboxId": "cb-2", "halted": {"operationId": "op-8", "reason": "operation op-8: ФД изменился"},
             "operations": [{"operationId": "op-8", "kind": "depositCash", "cashboxId": "cb-2",
                 "attempts": [{"state": "reconciling", "note": "lost", "atUtc": "2026-12-03T10:00:00Z"}]}]},
            {"cashboxId": "cb-3", "halted": null,
             "operations": [{"operationId": "op-9", "kind": "formReceipt", "cashboxId": "cb-3"}]},
            {"cashboxId": "cb-4", "halted": null, "operations": []}]});
        let out = render_list(&grouped, &[]);
        assert!(
            out.contains("Операция op-8 (depositCash, касса cb-2)"),
            "{out}"
        );
        assert!(out.contains("Касса остановлена: ФД изменился"), "{out}");
        assert!(
            out.contains("- atUtc: 2026-12-03T10:00:00Z, state: reconciling"),
            "{out}"
        );
        assert!(
            out.contains("settle op-8 --done --force --reason ТЕКСТ"),
            "a cash movement has no FD: {out}"
        );
        assert!(
            out.contains("Операция op-9 (formReceipt, касса cb-3)"),
            "{out}"
        );
        assert!(
            !out.contains("settle op-9"),
            "op-9 is in flight, not held: {out}"
        );
        let idle = json!({"registers": [{"cashboxId": "cb-4", "halted": null, "operations": []}]});
        assert!(render_list(&idle, &[]).contains("Ничего не удержано"));
        // A halt whose operation is not listed is still shown.
        let halt_only = json!({"registers": [{"cashboxId": "cb-5",
            "halted": {"operationId": "op-10", "reason": "другой ФН"}, "operations": []}]});
        let out = render_list(&halt_only, &[]);
        assert!(out.contains("Операция op-10 (касса cb-5)"), "{out}");
        assert!(out.contains("settle op-10 --not-done"), "{out}");
        // A service that does not say what a register is halted on: `/health` does.
        let silent = json!({"registers": [{"cashboxId": "cb-6", "halted": null,
            "operations": [{"operationId": "op-11", "kind": "formReceipt", "cashboxId": "cb-6"}]}]});
        assert!(!render_list(&silent, &[]).contains("settle op-11"));
        let health = json!({"alive": true, "registers": [
            {"cashboxId": "cb-6", "ready": false, "errorCode": "NEEDS_OPERATOR"},
            {"cashboxId": "cb-7", "ready": true, "errorCode": null}]});
        let halted = needing_operator(&health);
        assert_eq!(halted, vec!["cb-6".to_string()]);
        assert!(render_list(&silent, &halted).contains("settle op-11 --done <ФД>"));
    }
}
