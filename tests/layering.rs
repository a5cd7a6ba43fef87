//! The workspace's layers, read from the manifests: which crate may use which, and which
//! crate alone knows sled, the serial ports and the money types. A dependency added against
//! the grain fails here, not in review.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

/// Each workspace crate and the workspace crates its library may depend on (normal
/// dependencies; tests and benches may use more). Lower crates never name higher ones.
const LAYERS: &[(&str, &[&str])] = &[
    ("fiscal-model", &[]),
    ("shtrih-proto", &[]),
    ("emulator", &[]),
    ("queue", &["fiscal-model"]),
    ("driver", &["fiscal-model", "shtrih-proto"]),
    ("receipt-view", &["fiscal-model", "queue"]),
    ("gateway-http", &["fiscal-model", "queue", "receipt-view"]),
    ("cashbox", &["driver", "emulator", "fiscal-model", "queue"]),
    (
        "fiscal-gateway",
        &[
            "cashbox",
            "driver",
            "emulator",
            "fiscal-model",
            "gateway-http",
            "queue",
        ],
    ),
];

fn manifest(krate: &str) -> std::path::PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if krate == "fiscal-gateway" {
        root.join("Cargo.toml")
    } else {
        root.join("crates").join(krate).join("Cargo.toml")
    }
}

/// The names under `[dependencies]` of `krate`.
fn dependencies(krate: &str) -> BTreeSet<String> {
    let path = manifest(krate);
    let text = std::fs::read_to_string(&path).expect("manifest");
    let doc: toml::Table = toml::from_str(&text).expect("manifest is TOML");
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|d| d.keys().cloned().collect())
        .unwrap_or_default()
}

fn workspace_crates() -> BTreeSet<&'static str> {
    LAYERS.iter().map(|(name, _)| *name).collect()
}

#[test]
fn no_crate_uses_a_crate_above_it() {
    let ours = workspace_crates();
    for (krate, allowed) in LAYERS {
        let used: BTreeSet<String> = dependencies(krate)
            .into_iter()
            .filter(|d| ours.contains(d.as_str()))
            .collect();
        let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
        assert_eq!(used, allowed, "{krate}'s workspace dependencies");
    }
}

#[test]
fn the_emulator_shares_no_protocol_code_with_the_host_side() {
    // A shared encoder or decoder bug would agree with itself; the emulator frames, parses
    // and answers with its own code.
    assert!(!dependencies("emulator").contains("shtrih-proto"));
    assert!(!dependencies("emulator").contains("driver"));
}

#[test]
fn only_the_store_knows_sled_and_only_the_driver_and_emulator_open_serial_ports() {
    for (krate, _) in LAYERS {
        let deps = dependencies(krate);
        assert_eq!(deps.contains("sled"), *krate == "queue", "{krate} and sled");
        assert_eq!(
            deps.contains("tokio-serial") || deps.contains("serialport"),
            matches!(*krate, "driver" | "emulator"),
            "{krate} and serial ports"
        );
    }
}

#[test]
fn the_money_types_have_no_floating_point() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/fiscal-model/src");
    for entry in std::fs::read_dir(&dir).expect("fiscal-model sources") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for float in ["f32", "f64", "as_f64", "from_f64"] {
                let hit = code
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|word| word == float);
                assert!(!hit, "{}:{}: {line}", path.display(), n + 1);
            }
        }
    }
}
