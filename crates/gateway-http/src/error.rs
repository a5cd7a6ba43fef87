//! The one error type of the HTTP API and its one mapping to status codes and bodies.
//!
//! Every error the gateway answers — validation, malformed JSON, wrong content type, too large
//! a body, unknown route, wrong method, authentication, idempotency conflicts, store failures —
//! — and those of the registers' routes (unknown cashbox or document, no desk, a refused
//! settlement, a receipt not rendered) has the same body: `{"errorCode", "errorMessage", "field"}`. Nothing else in the crate
//! chooses a status code for an error.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a request was not answered with an operation status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A field is missing, has the wrong type or an invalid value (400).
    #[error("{}", join_field(field.as_deref(), message))]
    Validation {
        /// JSON path of the field (`positions[1].price`), when the error is about one field.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// The body is not JSON at all (400).
    #[error("body: {0}")]
    MalformedJson(String),
    /// A POST without `Content-Type: application/json` (415).
    #[error("Content-Type: must be application/json")]
    UnsupportedMediaType,
    /// The body is larger than the configured limit (413).
    #[error("body: larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The operation's stored record would be larger than the store keeps (413): fewer or
    /// shorter positions.
    #[error("{0}")]
    OperationTooLarge(String),
    /// The body did not arrive in time (408); nothing was stored.
    #[error("body: not received within {seconds} s")]
    BodyTimeout {
        /// The limit in seconds.
        seconds: u64,
    },
    /// No or an invalid bearer token (401).
    #[error("Authorization: {0}")]
    Unauthorized(String),
    /// The token is valid but does not allow this register (403).
    #[error("{0}")]
    Forbidden(String),
    /// No operation with this id (or none this token may see) (404).
    #[error("operationId: operation {0:?} not found")]
    OperationNotFound(String),
    /// No such route (404).
    #[error("no such route: {0}")]
    RouteNotFound(String),
    /// The route exists but not with this method (405).
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    /// The operationId is already stored with a different payload (422).
    #[error("operationId: operation {0:?} already exists with a different payload; use a new operationId for a new operation")]
    IdempotencyConflict(String),
    /// The `Host` header names no host this gateway answers for (421): a page of another site
    /// reaching the loopback port through a DNS name it controls (DNS rebinding).
    #[error("Host: {0}")]
    MisdirectedRequest(String),
    /// Every connection the gateway keeps open has a request in flight (503); retry shortly.
    #[error("too many connections: all {limit} have a request in flight; retry shortly")]
    TooManyConnections {
        /// `server.max_connections`.
        limit: usize,
    },
    /// The operation store failed (503). A write may have reached the disk before the failure
    /// was seen, so the operation may have been stored: the client retries with the same
    /// operationId (a replay answers from the store), never with a new one.
    #[error("the operation store is unavailable; the operation may have been stored: retry with the same operationId, never a new one ({0})")]
    StoreUnavailable(String),
    /// No register with this id, or none this token may see (404).
    #[error("cashboxId: cashbox {0:?} not found")]
    CashboxNotFound(String),
    /// The FN archive holds no such document (404); the register's words.
    #[error("fiscalDocumentNumber: {0}")]
    DocumentNotFound(String),
    /// The gateway runs without registers' facts (the API alone): the route cannot answer
    /// (503).
    #[error("the registers' facts are not available in this gateway (no register workers run)")]
    DeskMissing,
    /// The register did not take the request in time (503): busy with an operation, no link;
    /// retry.
    #[error("{0}")]
    RegisterUnavailable(String),
    /// The register's FN contradicts the settlement, or the operation waits for none (409);
    /// the reason, in Russian.
    #[error("{0}")]
    SettleRefused(String),
    /// The operation exists but is not a fiscalized receipt (yet): queued, failed, or not a
    /// receipt at all (409).
    #[error("operationId: {0}")]
    ReceiptNotFiscalized(String),
    /// The `Accept` header names no format the route renders (406).
    #[error("Accept: {0}")]
    NotAcceptable(String),
    /// The receipt could not be rendered in the format asked for (500): the PDF's font is not
    /// installed, say; the message names what is missing.
    #[error("{0}")]
    RenderFailed(String),
}

fn join_field(field: Option<&str>, message: &str) -> String {
    match field {
        Some(f) => format!("{f}: {message}"),
        None => message.to_string(),
    }
}

impl ApiError {
    /// A 400 about a path segment (`field`) that does not decode (bad percent-encoding).
    pub(crate) fn path(field: &str, e: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::invalid(field, format!("path: {e}"))
    }

    /// A 400 about `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } | ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge { .. } | ApiError::OperationTooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::OperationNotFound(_) | ApiError::RouteNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::IdempotencyConflict(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::CashboxNotFound(_) | ApiError::DocumentNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::SettleRefused(_) | ApiError::ReceiptNotFiscalized(_) => StatusCode::CONFLICT,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::RenderFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::StoreUnavailable(_)
            | ApiError::TooManyConnections { .. }
            | ApiError::DeskMissing
            | ApiError::RegisterUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable machine code of the body's `errorCode`.
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Validation { .. } => ErrorCode::ValidationError,
            ApiError::MalformedJson(_) => ErrorCode::MalformedJson,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::PayloadTooLarge { .. } | ApiError::OperationTooLarge(_) => {
                ErrorCode::PayloadTooLarge
            }
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::OperationNotFound(_) => ErrorCode::OperationNotFound,
            ApiError::RouteNotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed(_) => ErrorCode::MethodNotAllowed,
            ApiError::IdempotencyConflict(_) => ErrorCode::IdempotencyConflict,
            ApiError::StoreUnavailable(_) => ErrorCode::StoreUnavailable,
            ApiError::MisdirectedRequest(_) => ErrorCode::MisdirectedRequest,
            ApiError::BodyTimeout { .. } => ErrorCode::RequestTimeout,
            ApiError::TooManyConnections { .. } => ErrorCode::TooManyConnections,
            ApiError::CashboxNotFound(_) => ErrorCode::CashboxNotFound,
            ApiError::DocumentNotFound(_) => ErrorCode::DocumentNotFound,
            ApiError::DeskMissing => ErrorCode::RegistersNotAvailable,
            ApiError::RegisterUnavailable(_) => ErrorCode::RegisterUnavailable,
            ApiError::SettleRefused(_) => ErrorCode::SettleRefused,
            ApiError::ReceiptNotFiscalized(_) => ErrorCode::ReceiptNotFiscalized,
            ApiError::NotAcceptable(_) => ErrorCode::NotAcceptable,
            ApiError::RenderFailed(_) => ErrorCode::RenderFailed,
        }
    }

    /// The JSON path the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Validation { field, .. } => field.as_deref(),
            ApiError::UnsupportedMediaType => Some("Content-Type"),
            ApiError::OperationTooLarge(_) => Some("positions"),
            ApiError::MisdirectedRequest(_) => Some("Host"),
            ApiError::BodyTimeout { .. } => Some("body"),
            ApiError::OperationNotFound(_)
            | ApiError::IdempotencyConflict(_)
            | ApiError::ReceiptNotFiscalized(_) => Some("operationId"),
            ApiError::NotAcceptable(_) => Some("Accept"),
            ApiError::CashboxNotFound(_) => Some("cashboxId"),
            ApiError::DocumentNotFound(_) => Some("fiscalDocumentNumber"),
            _ => None,
        }
    }
}

/// The stable machine code of an error body (`errorCode`), one per kind of [`ApiError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// A field is missing, has the wrong type or an invalid value.
    ValidationError,
    /// The body is not JSON.
    MalformedJson,
    /// The body is not sent as `application/json`.
    UnsupportedMediaType,
    /// The body or the operation is too large.
    PayloadTooLarge,
    /// No or an invalid bearer token.
    Unauthorized,
    /// The token does not allow this register.
    Forbidden,
    /// No such operation, or none this token may see.
    OperationNotFound,
    /// No such route.
    NotFound,
    /// The route exists, not with this method.
    MethodNotAllowed,
    /// The operationId is stored with a different payload.
    IdempotencyConflict,
    /// The operation store failed.
    StoreUnavailable,
    /// The body did not arrive in time.
    RequestTimeout,
    /// The `Host` header names no host the gateway answers for.
    MisdirectedRequest,
    /// Every connection has a request in flight.
    TooManyConnections,
    /// No such register, or none this token may see.
    CashboxNotFound,
    /// No such document in the register's FN archive.
    DocumentNotFound,
    /// This gateway runs without register workers: no facts, archives or settlements.
    RegistersNotAvailable,
    /// The register did not answer in time (busy, no link); retry.
    RegisterUnavailable,
    /// The register's FN contradicts the settlement, or the operation waits for none.
    SettleRefused,
    /// The operation is not a fiscalized receipt (yet).
    ReceiptNotFiscalized,
    /// No format the route renders is acceptable to the client.
    NotAcceptable,
    /// The receipt could not be rendered in the format asked for.
    RenderFailed,
}

/// The body of every non-200 answer (also read back by the service's own tools).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
// `deny_unknown_fields` tells the document that no other key comes
// (`additionalProperties: false`).
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    /// Stable machine code.
    #[schema(inline)]
    pub error_code: ErrorCode,
    /// `<field>: <what is wrong>` when about a field.
    pub error_message: String,
    /// JSON path of the offending field (`positions[1].price`), or null.
    #[schema(required = true, value_type = Option<String>)]
    pub field: Option<std::borrow::Cow<'a, str>>,
}

impl ApiError {
    fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error_code: self.code(),
            error_message: self.to_string(),
            field: self.field().map(std::borrow::Cow::Borrowed),
        }
    }

    /// The error body as JSON bytes, for answers written outside a router.
    pub fn body_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.body()).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, status = status.as_u16(), "request refused");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::StoreUnavailable(_)
            | ApiError::TooManyConnections { .. }
            | ApiError::RegisterUnavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<queue::StoreError> for ApiError {
    fn from(e: queue::StoreError) -> ApiError {
        ApiError::StoreUnavailable(e.to_string())
    }
}
