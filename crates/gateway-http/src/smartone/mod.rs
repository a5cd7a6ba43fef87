//! The SmartOne Cashbox dialect: `POST /sale` and its family on a listener of its own, each
//! body `data=<Base64 JSON>&sign=<signature>` signed with a merchantID, each answer
//! `{"status", "code", "message", …}`, synchronous (the answer comes when the register has
//! finished, or code 5 "repeat the same request" past [`SmartOneConfig::answer_within`]).
//!
//! Underneath it is the same queue as the Smart Cashier API: every document is an operation,
//! durable before the register sees it. A document's operationId is derived from its
//! uniqueness key (`docTime + docNumber + amount`, seed), so a repeat finds the first: still
//! in progress, it is waited for; fiscalized, a copy marked «КОПИЯ» is printed and the same
//! `fiscalID` answered; failed (nothing fiscalized), it is tried again under the next id of
//! the key. `documentID` is the operation's sequence number in the store.

mod envelope;
mod routes;
pub(crate) mod sale;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use axum::Router;
use fiscal_model::TaxationSystem;

pub use envelope::{sign, Answer, Code};
pub use sale::Bonuses;

use crate::AppState;

/// One merchantID and the register whose documents it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    /// The merchantID (the signing secret).
    pub merchant_id: String,
    /// The register's cashbox id.
    pub register: String,
}

/// The dialect's settings (`[smartone]` in the configuration).
#[derive(Debug, Clone)]
pub struct SmartOneConfig {
    /// Each accepted merchantID and its register; a body signed with one goes to its register.
    pub merchants: Vec<Merchant>,
    /// How long a request waits for the register before answering code 5 (the operation goes
    /// on; the same request again gets its result).
    pub answer_within: Duration,
    /// What `bonusesAmount` becomes.
    pub bonuses: Bonuses,
    /// Without `docTime`, `docNumber + amount` identifies a document (off: no control at all,
    /// the seed's literal reading).
    pub unique_without_doc_time: bool,
    /// The taxation system of the receipts (tag 1055).
    pub taxation: TaxationSystem,
}

impl SmartOneConfig {
    /// Defaults for `merchants`: answers within 60 s, bonuses as counter-provision, uniqueness
    /// without docTime on, general taxation. (A sale on a closed shift follows the register's
    /// shift policy: opened on demand, or code 6 when that is off.)
    pub fn new(merchants: Vec<Merchant>) -> SmartOneConfig {
        SmartOneConfig {
            merchants,
            answer_within: Duration::from_secs(60),
            bonuses: Bonuses::CounterProvision,
            unique_without_doc_time: true,
            taxation: TaxationSystem::General,
        }
    }
}

/// The routes, in the order of the reference's endpoint map.
pub const ROUTES: [&str; 11] = [
    "/sale",
    "/refund",
    "/check_status",
    "/check_copy",
    "/x_report",
    "/open_shift",
    "/close_shift",
    "/check_shift",
    "/deposit",
    "/withdraw",
    "/last_document",
];

/// The dialect's router (with the API's `Host` check); serve it on its own listener.
pub fn router(app: AppState, config: SmartOneConfig) -> Router {
    let allowed_hosts = Arc::new(app.allowed_hosts.clone());
    let state = Arc::new(routes::Dialect::new(app, config));
    let mut router = Router::new();
    for route in ROUTES {
        let state = Arc::clone(&state);
        router = router.route(
            route,
            post(move |headers, body| async move { state.handle(route, headers, body).await }),
        );
    }
    router
        .method_not_allowed_fallback(routes::not_post)
        .fallback(routes::unknown_route)
        .layer(axum::middleware::from_fn_with_state(
            allowed_hosts,
            crate::host::check,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
