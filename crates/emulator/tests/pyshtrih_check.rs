//! Independent check: pyshtrih 2.0.6, a third-party Python client of the same protocol,
//! drives the virtual register over a pty through its own high-level calls
//! (`tests/py/check.py`). Every answer has to parse in pyshtrih, and what it read has to
//! agree with the FN archive.
//!
//! The virtualenv lives under the target directory and is reused between runs; the first
//! run needs `python3 -m venv` and access to PyPI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use emulator::{Emulator, EmulatorConfig, LinkChoice};
use serde_json::Value;

/// Bound on the whole script (a cold Python start on a busy machine included).
const SCRIPT_LIMIT: Duration = Duration::from_secs(300);

fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

fn has_pyshtrih(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import pyshtrih, serial"])
        .status()
        .is_ok_and(|s| s.success())
}

/// A virtualenv with pyshtrih 2.0.6 and pyserial, built once under the target directory.
fn venv() -> PathBuf {
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pyshtrih-venv");
    if has_pyshtrih(&venv_python(&venv)) {
        return venv;
    }
    // Built aside and renamed, so a run that is interrupted never leaves a half venv in place.
    let staging = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("pyshtrih-venv.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&staging)
        .status()
        .expect("python3 is installed");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(venv_python(&staging))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "pyshtrih==2.0.6",
            "pyserial",
        ])
        .status()
        .expect("pip runs");
    assert!(
        status.success(),
        "pip install pyshtrih==2.0.6 pyserial failed (network?)"
    );
    let _ = std::fs::remove_dir_all(&venv);
    std::fs::rename(&staging, &venv).unwrap();
    assert!(has_pyshtrih(&venv_python(&venv)));
    venv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyshtrih_drives_a_shift_a_receipt_cash_in_and_reports() {
    let venv = tokio::task::spawn_blocking(venv).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let config = EmulatorConfig {
        state_file: Some(state.clone()),
        link: LinkChoice::Auto,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::new(config).unwrap();
    let registration_fds = emu.archive().len();
    let pty = emu.serve_pty(Some(&dir.path().join("tty"))).unwrap();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/check.py");
    let child = tokio::process::Command::new(venv_python(&venv))
        .arg("-u")
        .arg(&script)
        .arg(pty.path())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCRIPT_LIMIT, child)
        .await
        .expect("the script finished in time")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "check.py failed\nstdout:\n{stdout}\nstderr:\n{stderr}\ntape:\n{}",
        emu.tape()
    );
    let run: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    let report = &run["out"];

    // What pyshtrih read agrees with the register.
    assert_eq!(report["change"], 4950);
    assert_eq!(report["operations_in_receipt"], 3);
    assert_eq!(report["cash_in_register_153"], 1);
    assert_eq!(report["fn_before"]["last_fd"], registration_fds);
    assert_eq!(
        report["fn_before"]["serial"],
        emu.state().fiscal_storage.serial
    );

    // The FN archive holds exactly: registration, open shift, the receipt, close shift.
    let archive = emu.archive();
    let types: Vec<u8> = archive
        .iter()
        .skip(registration_fds)
        .map(|d| d.doc_type)
        .collect();
    assert_eq!(types, [2, 3, 5]);
    let receipt = &archive[registration_fds + 1];
    assert_eq!(receipt.total, 20050);
    assert_eq!(receipt.items.len(), 3);
    assert_eq!(receipt.change, 4950);
    assert_eq!(report["fn_after_receipt"]["last_fd"], receipt.fd);
    assert_eq!(report["fn_after_z"]["last_fd"], archive.last().unwrap().fd);
    assert!(
        emu.tape().contains("Хлеб ржаной"),
        "the item names crossed the wire in CP1251"
    );

    // Every answer parsed in pyshtrih.
    let problems: Vec<&Value> = run["problems"].as_array().unwrap().iter().collect();
    assert!(
        problems.is_empty(),
        "pyshtrih found problems: {problems:#?}"
    );

    // And it was persisted: a register opened from the state file sees the same archive.
    drop(pty);
    let again = Emulator::new(EmulatorConfig {
        state_file: Some(state),
        ..EmulatorConfig::default()
    })
    .unwrap();
    assert_eq!(again.archive(), archive);
}
