//! Submits one cash-in operation to the store in the given directory and prints `ACK` once
//! `submit` returned, like the HTTP layer answering 200. The fsync-ordering test runs it under
//! strace; it also shows the store's error when the directory is not writable.
//!
//! Usage: `submit_once DIR [OPERATION_ID]`

use std::io::Write;
use std::process::ExitCode;

use fiscal_model::{CashMovement, CashMovementKind, Kopecks, OperationBody, OperationRequest};
use queue::{NewOperation, OperationId, RegisterId, Store, StoreConfig};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: submit_once DIR [OPERATION_ID]");
        return ExitCode::from(2);
    };
    let id = args.next().unwrap_or_else(|| "submit-once".into());
    match run(&dir, &id).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(dir: &str, id: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(std::path::Path::new(dir), StoreConfig::default())?;
    let op = NewOperation {
        id: OperationId::new(id)?,
        register: RegisterId::new("register-1"),
        request: OperationRequest {
            body: OperationBody::Cash(CashMovement {
                kind: CashMovementKind::In,
                amount: Kopecks(10_000),
            }),
            routing: Default::default(),
        },
    };
    // A marker on stderr so the trace shows where the submit starts (open syncs too).
    std::io::stderr().write_all(b"SUBMIT\n")?;
    store.submit(op).await?;
    let mut out = std::io::stdout().lock();
    out.write_all(b"ACK\n")?;
    out.flush()?;
    Ok(())
}
