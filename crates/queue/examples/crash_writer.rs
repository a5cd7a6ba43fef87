//! Writes large operations (records just under the cap) from several tasks until it is
//! killed, printing `ACK <id>` once `submit` returned and `MOVED <id>` once a transition of it
//! returned: what the HTTP layer would have answered 200 for. The crash test SIGKILLs it at a
//! random point and checks every printed line against the reopened store.
//!
//! Usage: `crash_writer DIR PREFIX`. Operation ids are `<PREFIX>-<task>-<n>`; the request of
//! task `t` is `queue::bench::sized_request(CRASH_REQUEST_BYTES, t)`.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use queue::{NewOperation, OpState, OperationId, Reason, RegisterId, Store, StoreConfig};

/// Concurrent writers: several rounds of the group commit are in flight when the kill comes.
const TASKS: u64 = 3;
/// The requests' JSON size: with the rest of the record, just under `MAX_NEW_RECORD_BYTES`.
const CRASH_REQUEST_BYTES: usize = queue::MAX_NEW_RECORD_BYTES - 1024;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(prefix)) = (args.next(), args.next()) else {
        eprintln!("usage: crash_writer DIR PREFIX");
        return ExitCode::from(2);
    };
    let store = match Store::open(std::path::Path::new(&dir), StoreConfig::default()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let (store, out, prefix) = (store.clone(), Arc::clone(&out), prefix.clone());
        tasks.spawn(async move { write_forever(&store, &out, &prefix, task).await });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Err(e)) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("error: task: {e}");
                return ExitCode::FAILURE;
            }
            Ok(Ok(())) => {}
        }
    }
    ExitCode::SUCCESS
}

async fn write_forever(
    store: &Store,
    out: &Mutex<std::io::Stdout>,
    prefix: &str,
    task: u64,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let request = queue::bench::sized_request(CRASH_REQUEST_BYTES, task);
    let say = |line: String| -> std::io::Result<()> {
        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
        out.write_all(line.as_bytes())?;
        out.flush()
    };
    for n in 0u64.. {
        let id = OperationId::new(format!("{prefix}-{task}-{n}"))?;
        store
            .submit(NewOperation {
                id: id.clone(),
                register: RegisterId::new(format!("register-{task}")),
                request: request.clone(),
            })
            .await?;
        say(format!("ACK {id}\n"))?;
        let waiting = OpState::Waiting {
            reason: Reason {
                code: "NO_PAPER".into(),
                message: "Нет бумаги.".into(),
                device_error: None,
            },
            since: chrono::Utc::now(),
        };
        store
            .transition(&id, waiting, &"нет бумаги ".repeat(40))
            .await?;
        say(format!("MOVED {id}\n"))?;
    }
    Ok(())
}
