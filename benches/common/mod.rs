//! Shared by the benchmark harnesses that run the built binary.

use std::process::Child;

/// Asks a child process to stop (SIGTERM, so it syncs and exits cleanly), kills it if the
/// signal cannot be sent, and reaps it.
pub fn stop(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// The three-item receipt both benchmarks make, with the default tax mapping and a cashier.
pub fn sample() -> (
    fiscal_model::Receipt,
    fiscal_model::TaxGroupMap,
    driver::Cashier,
) {
    let receipt = driver::bench::sample_receipt().expect("sample receipt");
    let cashier = driver::Cashier {
        name: "Кассир".into(),
        inn: None,
    };
    (receipt, fiscal_model::TaxGroupMap::default(), cashier)
}
