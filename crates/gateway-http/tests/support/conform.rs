//! A small structural JSON Schema checker, enough for the shapes the OpenAPI document uses:
//! `$ref`, `anyOf`, `type` (one or a list), `enum`, numeric bounds, string lengths, array
//! items, required and undocumented keys. Used by the integration tests (answers against the
//! document) and by `openapi`'s unit tests (request bodies against it).

#![allow(dead_code, clippy::unwrap_used)]

use serde_json::Value;

/// `schema` with a `$ref` followed.
pub fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
        None => schema,
    }
}

/// Errors of `value` against `schema`: types, enums, bounds, required and unknown keys.
pub fn check(doc: &Value, schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    if let Some(branches) = schema["anyOf"].as_array() {
        return if branches
            .iter()
            .any(|b| check(doc, b, value, path).is_empty())
        {
            Vec::new()
        } else {
            vec![format!("{path}: {value} matches no branch")]
        };
    }
    let mut errors = Vec::new();
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let type_ok = |t: &str| match t {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        other => panic!("type {other}"),
    };
    if !types.is_empty() && !types.iter().any(|t| type_ok(t)) {
        errors.push(format!("{path}: {value} is not {types:?}"));
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{path}: {value} not in the enum"));
        }
    }
    if let Some(n) = value.as_f64() {
        let below = |key: &str| schema[key].as_f64().is_some_and(|min| n < min);
        let at_or_below = |key: &str| schema[key].as_f64().is_some_and(|min| n <= min);
        let above = schema["maximum"].as_f64().is_some_and(|max| n > max);
        if below("minimum") || at_or_below("exclusiveMinimum") || above {
            errors.push(format!("{path}: {n} out of bounds"));
        }
    }
    if let Some(s) = value.as_str() {
        let chars = s.chars().count() as u64;
        if schema["maxLength"].as_u64().is_some_and(|max| chars > max)
            || schema["minLength"].as_u64().is_some_and(|min| chars < min)
        {
            errors.push(format!("{path}: {s:?} has the wrong length"));
        }
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            errors.extend(check(doc, &schema["items"], item, &format!("{path}[{i}]")));
        }
    }
    if let (Some(props), Some(object)) = (schema["properties"].as_object(), value.as_object()) {
        for key in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(key.as_str().unwrap()) {
                errors.push(format!("{path}: missing {key}"));
            }
        }
        for (k, v) in object {
            match props.get(k) {
                Some(s) => errors.extend(check(doc, s, v, &format!("{path}.{k}"))),
                None => errors.push(format!("{path}: undocumented {k}")),
            }
        }
    }
    errors
}
