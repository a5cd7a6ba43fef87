//! The dialect's error shape, `{"message": "…", "type": "…"}` (reference §5: clients read
//! `message`; `type` is the machine-readable kind), with an HTTP status that fits, and the
//! `Shift-state` header every answer to a request naming a `num_fiscal` carries.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// Why a request is refused: the status, the Ukrainian message naming the field, the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskError {
    /// HTTP status: 400 validation, 401 token, 404 unknown register or check, 409 conflict
    /// (idempotency, shift state), 500 a receipt that cannot be rendered, 503 store or
    /// register.
    pub status: StatusCode,
    /// Ukrainian text naming the field or the state.
    pub message: String,
    /// Machine-readable kind (`VALIDATION`, `UNAUTHORIZED`, `NOT_FOUND`, `CONFLICT`,
    /// `SHIFT_CLOSED`, `SHIFT_OPENED`, `RENDER_FAILED`, `UNAVAILABLE`, or the register's reason
    /// code).
    pub kind: String,
}

impl DeskError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> DeskError {
        DeskError {
            status,
            message: message.into(),
            kind: kind.to_string(),
        }
    }

    /// 400: a field is missing or wrong.
    pub fn invalid(message: impl Into<String>) -> DeskError {
        DeskError::new(StatusCode::BAD_REQUEST, "VALIDATION", message)
    }

    /// 401: no token, or not one of the register's.
    pub fn unauthorized(message: impl Into<String>) -> DeskError {
        DeskError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    /// 404: no such register or check.
    pub fn not_found(message: impl Into<String>) -> DeskError {
        DeskError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// 409: the state does not allow it (`kind` says which).
    pub fn conflict(kind: &str, message: impl Into<String>) -> DeskError {
        DeskError::new(StatusCode::CONFLICT, kind, message)
    }

    /// 500: the receipt cannot be rendered in the format asked (`RENDER_FAILED`).
    pub fn render_failed(message: impl Into<String>) -> DeskError {
        DeskError::new(StatusCode::INTERNAL_SERVER_ERROR, "RENDER_FAILED", message)
    }

    /// 503: the store or the register cannot do it now (`kind`: the register's reason).
    pub fn unavailable(kind: &str, message: impl Into<String>) -> DeskError {
        DeskError::new(StatusCode::SERVICE_UNAVAILABLE, kind, message)
    }
}

impl From<crate::ApiError> for DeskError {
    fn from(e: crate::ApiError) -> DeskError {
        DeskError::invalid(format!("Невірний запит: {e}"))
    }
}

impl From<fiscal_model::ModelError> for DeskError {
    fn from(e: fiscal_model::ModelError) -> DeskError {
        DeskError::from(crate::ApiError::from(e))
    }
}

impl IntoResponse for DeskError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"message": self.message, "type": self.kind})),
        )
            .into_response()
    }
}

/// `response` with `Shift-state: true|false` when the shift's state is known.
pub fn with_shift_state(mut response: Response, open: Option<bool>) -> Response {
    if let Some(open) = open {
        response.headers_mut().insert(
            "Shift-state",
            HeaderValue::from_static(if open { "true" } else { "false" }),
        );
    }
    response
}
