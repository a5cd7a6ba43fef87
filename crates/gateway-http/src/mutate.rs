//! Variants of a valid JSON request for property tests: one part of it (an object member or an
//! array element, at any depth) set to an arbitrary JSON value or removed, or one object given
//! a new key.

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

/// One step from a value to a part of it.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// An arbitrary JSON value: scalars (numbers as JSON spells them, exponents and long digit
/// runs included, and strings of digits), nested up to three levels.
pub fn any_json() -> impl Strategy<Value = Value> {
    let spelled = prop_oneof![
        "-?[0-9]{1,20}",
        "-?[0-9]{1,16}\\.[0-9]{1,16}",
        "-?[0-9]{1,3}(\\.[0-9]{1,3})?[eE][+-]?[0-9]{1,4}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        spelled
            .clone()
            .prop_map(|s| serde_json::from_str(&s).unwrap_or(Value::Null)),
        spelled.prop_map(Value::String),
        "[ -~]{0,12}".prop_map(Value::String),
        "[а-яА-ЯёЁіїєІЇЄ ,.\\n\\t-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[A-Za-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// `seed` with one change: a part set to [`any_json`], a part removed, or an object (the
/// top level included) given a new key (an arbitrary name or one the seed uses somewhere)
/// holding [`any_json`].
pub fn variants(seed: &Value) -> impl Strategy<Value = Value> {
    let mut parts = Vec::new();
    let mut objects = Vec::new();
    walk(seed, &mut Vec::new(), &mut parts, &mut objects);
    let keys: Vec<String> = keys(seed).into_iter().collect();
    assert!(!parts.is_empty(), "the seed has no parts to change");
    let new_key = prop_oneof!["[A-Za-z_]{1,12}".boxed(), select(keys).boxed(),];
    let (set_seed, remove_seed, add_seed) = (seed.clone(), seed.clone(), seed.clone());
    prop_oneof![
        (select(parts.clone()), any_json()).prop_map(move |(path, value)| {
            let mut v = set_seed.clone();
            if let Some(part) = at(&mut v, &path) {
                *part = value;
            }
            v
        }),
        select(parts).prop_map(move |path| {
            let mut v = remove_seed.clone();
            remove(&mut v, &path);
            v
        }),
        (select(objects), new_key, any_json()).prop_map(move |(path, key, value)| {
            let mut v = add_seed.clone();
            if let Some(Value::Object(m)) = at(&mut v, &path) {
                m.insert(key, value);
            }
            v
        }),
    ]
}

/// Every object key of `v`, at any depth.
pub fn keys(v: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                out.extend(m.keys().cloned());
                stack.extend(m.values());
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    out
}

/// The paths of `v`'s parts (into `parts`) and of its objects, itself included (`objects`).
fn walk(v: &Value, path: &mut Vec<Step>, parts: &mut Vec<Vec<Step>>, objects: &mut Vec<Vec<Step>>) {
    match v {
        Value::Object(m) => {
            objects.push(path.clone());
            for (key, child) in m {
                path.push(Step::Key(key.clone()));
                parts.push(path.clone());
                walk(child, path, parts, objects);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Step::Index(i));
                parts.push(path.clone());
                walk(child, path, parts, objects);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

fn remove(v: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (at(v, parent), last) {
        (Some(Value::Object(m)), Step::Key(k)) => {
            m.remove(k);
        }
        (Some(Value::Array(a)), Step::Index(i)) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

/// Whether `message` begins with a field path (after `prefixes`, any of which may come first)
/// every name of which is in `known` (`products[0].price`: `products` and `price`; `body` is
/// the whole request).
pub fn names_a_field(
    message: &str,
    prefixes: &[&str],
    known: &std::collections::BTreeSet<String>,
) -> bool {
    let mut rest = message;
    for prefix in prefixes {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let path = rest.split([':', ' ']).next().unwrap_or_default();
    !path.is_empty()
        && path.split('.').all(|segment| {
            let name = segment.split('[').next().unwrap_or_default();
            name == "body" || known.contains(name)
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_path_names_a_field_only_when_all_its_names_are_known() {
        let known = keys(&json!({"products": [{"price": 1}], "total": 2}));
        assert!(names_a_field("products[0].price: bad", &[], &known));
        assert!(names_a_field(
            "Поле total є обов'язковим",
            &["Поле "],
            &known
        ));
        assert!(names_a_field("body: must be an object", &[], &known));
        assert!(!names_a_field("products[0].cost: bad", &[], &known));
        assert!(!names_a_field("something went wrong", &[], &known));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn a_variant_differs_from_its_seed_in_one_part(
            v in variants(&json!({"a": [1, {"b": "x"}], "c": {"d": null}}))
        ) {
            let seed = json!({"a": [1, {"b": "x"}], "c": {"d": null}});
            let m = v.as_object().unwrap();
            let changed = ["a", "c"].iter().filter(|k| m.get(**k) != seed.get(**k)).count()
                + m.keys().filter(|k| !["a", "c"].contains(&k.as_str())).count();
            prop_assert!(changed <= 1, "{v}");
        }
    }
}
