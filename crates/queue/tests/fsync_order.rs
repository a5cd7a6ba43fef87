//! The durability promise observed from outside: under strace, the `ACK` of
//! `examples/submit_once` is written only after an fsync that started after the submit began
//! has returned. Also: a directory the process may not write gives a typed error, no ACK.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/submit_once`, built by `cargo test` beside this test binary.
fn submit_once() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join("submit_once");
    if !path.exists() {
        // `cargo test -p queue` builds examples; `--test fsync_order` alone does not.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "queue", "--example", "submit_once"])
            .status()
            .unwrap();
        assert!(status.success(), "building examples/submit_once failed");
    }
    assert!(path.exists(), "{} missing", path.display());
    path
}

fn strace_available() -> bool {
    Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn an_fsync_completes_between_the_submit_and_the_ack() {
    assert!(
        strace_available(),
        "strace is not on PATH: install it (`apt-get install strace`) to run this test"
    );
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    let out = Command::new("strace")
        .args(["-f", "-e", "trace=fsync,fdatasync,write", "-o"])
        .arg(&trace)
        .arg(submit_once())
        .arg(dir.path().join("ops"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"ACK\n");
    let trace = std::fs::read_to_string(trace).unwrap();
    let lines: Vec<&str> = trace.lines().collect();
    let find = |pred: &dyn Fn(&str) -> bool| lines.iter().position(|l| pred(l));
    let submit = find(&|l| l.contains("write(2, \"SUBMIT\\n\"")).expect("SUBMIT marker in trace");
    let ack = find(&|l| l.contains("write(1, \"ACK\\n\"")).expect("ACK write in trace");
    // A finished fsync: either a whole line `fsync(5) = 0` or the `<... fsync resumed>) = 0`
    // half of one interrupted by another thread's call.
    let synced = lines[submit..ack].iter().any(|l| {
        (l.contains("fsync(") || l.contains("fdatasync(") || l.contains("fsync resumed"))
            && !l.contains("unfinished")
            && l.trim_end().ends_with("= 0")
    });
    assert!(
        synced,
        "no completed fsync between SUBMIT and ACK:\n{trace}"
    );
}

#[test]
fn an_unwritable_directory_is_a_permission_error_and_no_ack() {
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let target = locked.join("ops");
    let is_root = std::fs::metadata("/proc/self").map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    if is_root.unwrap_or(false) {
        // root ignores permission bits: run the example as `nobody`.
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(submit_once())
            .arg(&target)
            .output()
            .expect("setpriv (util-linux) runs the example as nobody");
        assert!(!out.status.success());
        assert!(out.stdout.is_empty(), "acknowledged: {:?}", out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("not writable"), "{stderr}");
    } else {
        let r = queue::Store::open(&target, queue::StoreConfig::default());
        assert!(matches!(r, Err(queue::StoreError::Permission(_))), "{r:?}");
    }
}
