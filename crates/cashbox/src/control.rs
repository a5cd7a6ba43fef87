//! Requests to a running worker that need its register: a document of the FN archive, and an
//! operator's settlement of the operation a halted register holds. The worker answers them
//! between operations (and while halted), so a request never interleaves with a document on
//! the wire; a caller that cannot wait gets [`ControlError::Unavailable`], and a request whose
//! caller stopped waiting before the worker took it up is dropped, not done later.

use std::time::Duration;

use driver::ArchiveDocument;
use queue::OperationId;
use tokio::sync::{mpsc, oneshot};

/// How many requests may wait for one worker.
const BACKLOG: usize = 16;

/// A person's word on how a held operation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// What they say happened.
    pub outcome: ClaimOutcome,
    /// Accept it where the FN cannot prove it.
    pub force: bool,
    /// Why (required with `force`).
    pub reason: Option<String>,
    /// Who.
    pub by: String,
}

/// The outcome claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The register made document `fd` (none: a cash movement, which has no FD).
    Done {
        /// FD number.
        fd: Option<u32>,
    },
    /// The register made nothing.
    NotDone,
}

/// Why a request was not answered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// No such document or operation (Russian).
    #[error("{0}")]
    NotFound(String),
    /// The worker or its register could not take the request now (Russian).
    #[error("{0}")]
    Unavailable(String),
    /// The register's FN contradicts the claim, or the operation awaits none (Russian).
    #[error("{0}")]
    Refused(String),
}

pub(crate) enum Request {
    Document {
        fd: u32,
        reply: oneshot::Sender<Result<ArchiveDocument, ControlError>>,
    },
    Settle {
        operation: OperationId,
        claim: Claim,
        reply: oneshot::Sender<Result<(), ControlError>>,
    },
}

impl Request {
    /// The asker stopped waiting for the answer.
    pub(crate) fn abandoned(&self) -> bool {
        match self {
            Request::Document { reply, .. } => reply.is_closed(),
            Request::Settle { reply, .. } => reply.is_closed(),
        }
    }
}

/// The sending side, cloned freely.
#[derive(Debug, Clone)]
pub struct Control {
    tx: mpsc::Sender<Request>,
}

/// The worker's side.
pub struct Requests {
    pub(crate) rx: mpsc::Receiver<Request>,
}

/// A connected pair: give [`Requests`] to the worker ([`crate::Worker::with_requests`]).
pub fn channel() -> (Control, Requests) {
    let (tx, rx) = mpsc::channel(BACKLOG);
    (Control { tx }, Requests { rx })
}

impl Control {
    /// Document `fd` of the register's FN archive, if the worker answers within `wait`.
    pub async fn document(&self, fd: u32, wait: Duration) -> Result<ArchiveDocument, ControlError> {
        self.ask(wait, |reply| Request::Document { fd, reply })
            .await
    }

    /// Settles `operation` as `claim` says, if the worker answers within `wait`.
    pub async fn settle(
        &self,
        operation: OperationId,
        claim: Claim,
        wait: Duration,
    ) -> Result<(), ControlError> {
        self.ask(wait, |reply| Request::Settle {
            operation,
            claim,
            reply,
        })
        .await
    }

    async fn ask<T>(
        &self,
        wait: Duration,
        request: impl FnOnce(oneshot::Sender<Result<T, ControlError>>) -> Request,
    ) -> Result<T, ControlError> {
        let busy = || {
            ControlError::Unavailable(format!(
                "ККТ не ответила за {} с: она занята операцией или нет связи. Повторите позже.",
                wait.as_secs()
            ))
        };
        let (reply, answer) = oneshot::channel();
        let asked = tokio::time::timeout(wait, async {
            self.tx
                .send(request(reply))
                .await
                .map_err(|_| ControlError::Unavailable("Обработчик ККТ остановлен.".into()))?;
            answer
                .await
                .map_err(|_| ControlError::Unavailable("Обработчик ККТ не ответил.".into()))?
        })
        .await;
        asked.unwrap_or_else(|_| Err(busy()))
    }
}
