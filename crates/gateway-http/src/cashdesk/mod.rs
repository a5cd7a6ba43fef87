//! The CashDesk API v2 dialect: `POST /api/v2/check/sale` and the calls around it on the
//! API's own listener, JSON in, JSON out, each answer synchronous (when the register has
//! finished, or 503 `IN_PROGRESS` past [`CashDeskConfig::answer_within`]: the operation goes
//! on and the same request again gets its result).
//!
//! A register is named by its `num_fiscal` and accepts the tokens whose SHA-256 digests are
//! configured for it (`api_token` in the query or the body, or `Authorization: [Bearer]
//! <token>`). Underneath it is the same queue as the Smart Cashier API: a check's
//! operationId is `cashdesk/<uuid>`, the uuid derived from `(num_fiscal, sale|return,
//! local_number, attempt)` with the `local_number` in its last 16 hex digits, so a repeat
//! finds the first (same body: its result, no new document; another body: 409), a failed
//! first attempt (nothing fiscalized) is tried again under the next uuid, and `lastCheck`
//! reads the number back. Every operation of a register is stored referring to the
//! register's journal (`cashdesk/journal/<num_fiscal>`), which `lastCheck` reads.
//!
//! A check's answer carries the receipt as a person reads it, from the one renderer every
//! dialect uses (`receipt_view`): `text_print` (Base64 of the UTF-8 text at `print_width`),
//! `qr_data` and `qr` (Base64 PNG), `pdf` (Base64, `pdf_width` mm), unless `no_text_print` /
//! `no_qr` / `no_pdf`, and `link`, the page `GET /api/v2/checks/{uuid}/html` this gateway
//! serves (`…/text`, `…/pdf` and `…/qr` give the text, the PDF and the QR code's PNG). Those
//! views take the register's token, or the link's `k`: a keyed digest of the uuid
//! ([`CashDeskConfig::link_key`]), so a link opens in a browser without a token and a uuid
//! alone (which carries the guessable `local_number`) opens nothing.

mod answer;
mod letters;
mod numbers;
mod routes;
mod sale;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use fiscal_model::TaxationSystem;

pub use answer::DeskError;
pub use letters::Letters;
pub use sale::Rounding;

use crate::AppState;
use routes::Route;

/// One register as the dialect knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashDesk {
    /// Its fiscal number in the dialect (`num_fiscal`), unique.
    pub num_fiscal: u64,
    /// The register's cashbox id.
    pub register: String,
    /// SHA-256 digests of the tokens it accepts.
    pub token_digests: Vec<[u8; 32]>,
    /// Its tax letters.
    pub letters: Letters,
}

/// The dialect's settings (`[cashdesk]` and the registers' `cashdesk_*` keys).
#[derive(Debug, Clone)]
pub struct CashDeskConfig {
    /// The registers with a `num_fiscal`.
    pub desks: Vec<CashDesk>,
    /// Rounding of the cash part of a payment.
    pub rounding: Rounding,
    /// How long a request waits for the register before 503 `IN_PROGRESS` (the operation goes
    /// on).
    pub answer_within: Duration,
    /// Taxation system of the receipts (tag 1055).
    pub taxation: TaxationSystem,
    /// The key of the receipt links' `k` (kept in the data directory; empty: links need the
    /// register's token).
    pub link_key: Vec<u8>,
}

impl CashDeskConfig {
    /// Defaults for `desks`: 10-kopeck rounding, answers within 60 s, general taxation.
    pub fn new(desks: Vec<CashDesk>) -> CashDeskConfig {
        CashDeskConfig {
            desks,
            rounding: Rounding::TEN,
            answer_within: Duration::from_secs(60),
            taxation: TaxationSystem::General,
            link_key: Vec::new(),
        }
    }
}

/// The SHA-256 digest of a token, as configured in `cashdesk_api_tokens` (lower-case hex).
pub fn token_digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// The routes, to be merged into the API's router (they get its `Host` check and tracing).
pub fn router(app: AppState, config: CashDeskConfig) -> Router {
    let state = Arc::new(routes::Dialect::new(app, config));
    let posts = [
        ("/api/v2/check/sale", Route::Sale),
        ("/api/v2/check/service", Route::Service),
        ("/api/v2/shift", Route::Shift),
        ("/api/v2/shift/xReport", Route::XReport),
        ("/api/v2/shift/lastCheck", Route::LastCheck),
        ("/api/v2/shift/ping", Route::Ping),
    ];
    let mut router = Router::new();
    for (path, route) in posts {
        router = router.route(
            path,
            post(move |state, query, headers, body| {
                routes::post(route, state, query, headers, body)
            })
            .fallback(routes::not_allowed),
        );
    }
    router
        .route(
            "/api/v2/tax_objects/{num_fiscal}",
            get(routes::tax_object).fallback(routes::not_allowed),
        )
        .route(
            "/api/v2/checks/{uuid}/{view}",
            get(routes::check_view).fallback(routes::not_allowed),
        )
        .with_state(state)
}
