//! The Smart Cashier API v1.0 over HTTP (axum): `formReceipt`, `depositCash`, `withdrawCash`,
//! `checkStatus`; the shop day's operations (`openShift`, `closeShift`, `xReport`,
//! `formCorrectionReceipt`, `printCopy`, `printText`); the registers' facts and FN documents
//! (`/v1.0/cashboxes`), a fiscalized receipt as a person reads it (`/v1.0/receipts`: text,
//! HTML, PDF, the QR code) and the administrator's routes (`/v1.0/admin/operations`) through the
//! [`Desk`] the binary provides; plus `/health` and `/openapi.json`.
//!
//! It authenticates bearer JWTs, parses bodies exactly (no float ever holds money), validates
//! every field with a 400 that names it, routes each operation to a register, stores it in the
//! [`queue::Store`] before answering, and renders stored operations as the API's status body.
//! Every error has one shape (`errorCode`, `errorMessage`, `field`), chosen in one place
//! ([`ApiError`]). Every request must name an allowed `Host` ([`AllowedHosts`], 421
//! otherwise). [`serve`] runs the router over HTTP/1.1 with a connection limit, header and idle
//! timeouts and a shutdown that never waits on idle clients. It does not talk to registers, run
//! workers or own the store's lifecycle: the root binary does, and merges its own routes in
//! with [`app_with`].

mod admin;
mod auth;
mod cashboxes;
pub mod cashdesk;
mod desk;
mod error;
mod fields;
mod handlers;
mod host;
#[cfg(test)]
mod mutate;
mod openapi;
mod receipts;
mod request;
mod request_day;
mod returns;
mod routing;
mod schema;
mod server;
pub mod smartone;
mod status;
mod synchronous;
mod tape;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use chrono::FixedOffset;
use fiscal_model::TaxGroupMap;

pub use auth::{dev_token, Access, AuthConfig, KeyError, ADMIN_SCOPE};
pub use cashboxes::document_type_name;
pub use desk::{
    ArchivedDocument, CashboxFacts, ClaimedOutcome, Desk, DeskError, DeskFuture, HaltFacts,
    SettleClaim, ShiftFacts,
};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use handlers::{method_not_allowed, public_message, Alive, HealthBody, PRIVATE_DETAILS};
pub use host::AllowedHosts;
pub use openapi::openapi_json;
pub use receipt_view::{ReceiptView, RegisterFacts, Seller};
pub use receipts::receipt_view;
pub use request_day::{DEFAULT_PRINT_WIDTH, MAX_TEXT_LINES};
pub use server::{serve, ServeLimits};
pub use status::{StatusBody, FNS_URL};

/// A register as the router sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRoute {
    /// The cashbox GUID, lower-case (`cashboxId`, `handlerCashboxId`).
    pub id: String,
    /// `cashboxGroupId` it belongs to.
    pub group_id: Option<String>,
    /// `juridicalPersonId` it belongs to.
    pub juridical_person_id: Option<String>,
    /// The zone of the register's clock (its times are local; the API speaks UTC).
    pub utc_offset: FixedOffset,
    /// Which VAT rates it can fiscalize (a rate without a group is a 400).
    pub taxes: TaxGroupMap,
    /// The seller its rendered receipts name (`GET /v1.0/receipts/{operationId}`).
    pub seller: Seller,
}

/// Everything the handlers need.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The durable operation store.
    pub store: Arc<queue::Store>,
    /// The configured registers.
    pub registers: Vec<RegisterRoute>,
    /// Where a request without routing fields goes.
    pub default_register: Option<String>,
    /// Token verification keys.
    pub auth: AuthConfig,
    /// Largest request body in bytes (413 above).
    pub body_limit: usize,
    /// Longest `wait` a checkStatus long poll may take.
    pub max_wait: Duration,
    /// What each register can do right now, for `GET /health` (none: not reported).
    pub readiness: Option<ReadinessSource>,
    /// Hosts the `Host` header may name (421 otherwise).
    pub allowed_hosts: AllowedHosts,
    /// The registers' facts, archives and settlements (none: those routes answer 503).
    pub desk: Option<DeskHandle>,
}

impl AppState {
    /// One register's facts as its worker last read them (none: no desk, or not reported).
    pub(crate) fn facts_of(&self, register: &str) -> Option<CashboxFacts> {
        self.desk
            .as_ref()?
            .0
            .cashboxes()
            .into_iter()
            .find(|f| f.cashbox_id.eq_ignore_ascii_case(register))
    }

    /// Characters per line of a register's tape: what it reported, else the FN text default.
    pub(crate) fn tape_width(&self, register: &str) -> usize {
        usize::from(
            self.facts_of(register)
                .and_then(|f| f.print_width)
                .unwrap_or(fiscal_model::text::DEFAULT_PRINT_WIDTH),
        )
    }
}

/// A shared [`Desk`].
#[derive(Clone)]
pub struct DeskHandle(pub Arc<dyn Desk>);

impl std::fmt::Debug for DeskHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeskHandle")
    }
}

/// Reads the registers' readiness when `/health` is asked.
#[derive(Clone)]
pub struct ReadinessSource(pub Arc<dyn Fn() -> Vec<RegisterReadiness> + Send + Sync>);

impl std::fmt::Debug for ReadinessSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadinessSource")
    }
}

/// One register as `/health` reports it, so a POS can look before it takes a card payment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterReadiness {
    /// The register's cashboxId.
    pub cashbox_id: String,
    /// It answers and can make a document now (a closed shift it opens itself counts as
    /// ready).
    pub ready: bool,
    /// Why not, as in checkStatus (`COVER_OPEN`, `NO_LINK`, `NEEDS_OPERATOR` …).
    #[schema(required = true)]
    pub error_code: Option<String>,
    /// The same in Russian.
    #[schema(required = true)]
    pub error_message: Option<String>,
    /// Age in seconds of the register's oldest operation not yet finished: a queue that does
    /// not move shows here, even while the register looks ready (null when none).
    #[schema(minimum = 0)]
    pub oldest_pending_seconds: Option<u64>,
}

/// The API router.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The API router with `extra` routes (the status page, metrics) merged in, so that they get
/// the same `Host` check, the same 404 / 405 error shape and the same request tracing.
pub fn app_with(state: AppState, extra: Router) -> Router {
    let allowed_hosts = Arc::new(state.allowed_hosts.clone());
    Router::new()
        .route("/v1.0/operations/formReceipt", post(handlers::form_receipt))
        .route("/v1.0/operations/depositCash", post(handlers::deposit_cash))
        .route(
            "/v1.0/operations/withdrawCash",
            post(handlers::withdraw_cash),
        )
        .route("/v1.0/operations/openShift", post(handlers::open_shift))
        .route("/v1.0/operations/closeShift", post(handlers::close_shift))
        .route("/v1.0/operations/xReport", post(handlers::x_report))
        .route(
            "/v1.0/operations/formCorrectionReceipt",
            post(handlers::form_correction_receipt),
        )
        .route("/v1.0/operations/printCopy", post(handlers::print_copy))
        .route("/v1.0/operations/printText", post(handlers::print_text))
        .route("/v1.0/operations/checkStatus", get(handlers::check_status))
        .route("/v1.0/receipts/{operationId}", get(receipts::receipt))
        .route("/v1.0/cashboxes", get(cashboxes::list))
        .route("/v1.0/cashboxes/{id}", get(cashboxes::one))
        .route(
            "/v1.0/cashboxes/{id}/documents/{fd}",
            get(cashboxes::document),
        )
        .route("/v1.0/admin/operations", get(admin::list))
        .route("/v1.0/admin/operations/{operationId}", get(admin::one))
        .route(
            "/v1.0/admin/operations/{operationId}/settle",
            post(admin::settle),
        )
        .route("/health", get(handlers::health))
        .route("/openapi.json", get(handlers::openapi))
        .with_state(Arc::new(state))
        .merge(extra)
        // After the routes: it applies to the method routers that exist at this point.
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .fallback(handlers::not_found)
        .layer(axum::middleware::from_fn_with_state(
            allowed_hosts,
            host::check,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}
