//! `GET /v1.0/receipts/{operationId}`: a fiscalized receipt as a person reads it, in the
//! format the `Accept` header asks for — monospace text (the default), an HTML page, a PDF
//! page or the FNS QR code as PNG — rendered by `receipt-view` from the stored operation, the
//! register's seller and the facts its worker last read.
//!
//! Access is checkStatus's: the same bearer token, and an operation on a register the token
//! may not use is a 404 like an unknown one. An operation that is not (yet) a fiscalized
//! receipt — queued, failed, a cash movement, a shift report, a print — answers 409
//! `RECEIPT_NOT_FISCALIZED`. Nothing is stored or sent to a register here.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use queue::Operation;
use receipt_view::{ReceiptView, RegisterFacts};

use crate::error::ErrorBody;
use crate::handlers::{authenticate, offset_of, visible};
use crate::schema::ReceiptQuery;
use crate::status::status_code;
use crate::{openapi, request, routing, ApiError, AppState};

type Shared = State<Arc<AppState>>;

/// The page width of a PDF when `width_mm` is not given: an 80 mm roll.
pub const DEFAULT_PDF_WIDTH_MM: u32 = 80;

/// A format the route renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Html,
    Pdf,
    Png,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Png => "image/png",
        }
    }
}

/// The first media range of `accept` (in the client's order; `q=0` excluded) the route
/// renders; text when the header is absent or empty. Quality values other than 0 do not
/// reorder: POS clients name one type.
fn negotiate(accept: Option<&str>) -> Result<Format, ApiError> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(Format::Text);
    };
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        if refused {
            continue;
        }
        let format = match media.as_str() {
            "text/plain" | "text/*" | "*/*" => Format::Text,
            "text/html" => Format::Html,
            "application/pdf" | "application/*" => Format::Pdf,
            "image/png" | "image/*" => Format::Png,
            _ => continue,
        };
        return Ok(format);
    }
    Err(ApiError::NotAcceptable(format!(
        "{accept:?} names no format of a receipt; use text/plain, text/html, application/pdf or image/png"
    )))
}

/// A Done receipt or correction receipt as a person reads it, with its register's seller
/// and facts; `None` for any other operation.
pub fn receipt_view(app: &AppState, op: &Operation) -> Option<ReceiptView> {
    let route = routing::find(&app.registers, op.register.as_str());
    let mut seller = route.map(|r| r.seller.clone()).unwrap_or_default();
    let facts = app.facts_of(op.register.as_str());
    let register = facts
        .as_ref()
        .map(|f| RegisterFacts {
            model: f.model.clone(),
            kkt_serial: f.kkt_serial.clone(),
            rnm: f.rnm.clone(),
            fn_number: f.fn_number.clone(),
        })
        .unwrap_or_default();
    // The INN the register is registered with is the seller's, when none is configured.
    if seller.inn.is_none() {
        seller.inn = facts.as_ref().and_then(|f| f.inn.clone());
    }
    ReceiptView::of(op, &seller, &register, offset_of(app, &op.register))
}

/// The register's tape width, when its worker has read it.
fn whole(query: &[(String, String)], name: &str, what: &str) -> Result<Option<u32>, ApiError> {
    match query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
    {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, format!("must be a whole number ({what})"))),
    }
}

/// `GET /v1.0/receipts/{operationId}`.
#[utoipa::path(
    get,
    path = "/v1.0/receipts/{operationId}",
    operation_id = "getReceipt",
    summary = "A fiscalized receipt as a person reads it (extension)",
    description = "The receipt of a done `formReceipt` or `formCorrectionReceipt` with every requisite a printed receipt carries (seller, INN, address, items, VAT per rate, payments, СНО, cashier, shift, number, date, ЗН ККТ, РН ККТ, ФН, ФД, ФП, the FNS site), in the format `Accept` asks for: `text/plain` (default; `width` characters a line, default the register's tape width, else 32), `text/html` (one self-contained page, the QR code inline), `application/pdf` (a page `width_mm` wide in DejaVu Sans Mono) or `image/png` (the FNS QR code `t=…&s=…&fn=…&i=…&fp=…&n=…`). An operation on a register the token may not use answers 404, like an unknown one. The seller is `registers[].seller_*` of the configuration.",
    params(
        ("operationId" = String, Path, description = "The operation's operationId."),
        ReceiptQuery,
    ),
    responses(
        (status = 200, description = "The receipt in the format asked for.", content(
            (String = "text/plain"),
            (String = "text/html"),
            (String = "application/pdf"),
            (String = "image/png"),
        )),
        (status = 400, description = "`width` or `width_mm` is not a whole number, or the path does not decode.", body = ErrorBody),
        (status = 401, description = openapi::UNAUTHORIZED, body = ErrorBody),
        (status = 404, description = "No such operation (`OPERATION_NOT_FOUND`), or one this token may not see.", body = ErrorBody),
        (status = 406, description = "`Accept` names none of text/plain, text/html, application/pdf, image/png (`NOT_ACCEPTABLE`).", body = ErrorBody),
        (status = 409, description = "The operation is not a fiscalized receipt: still queued, failed, or not a receipt (`RECEIPT_NOT_FISCALIZED`).", body = ErrorBody),
        (status = 421, description = openapi::MISDIRECTED, body = ErrorBody),
        (status = 500, description = "The format could not be rendered (`RENDER_FAILED`): for a PDF, the font file is missing (Debian package fonts-dejavu-core).", body = ErrorBody),
        (status = 503, description = format!("The operation store is unavailable; retry. Also {}", openapi::TOO_MANY_CONNECTIONS), body = ErrorBody),
    )
)]
pub async fn receipt(
    State(app): Shared,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let access = authenticate(&app, &headers)?;
    app.store.healthy()?;
    let Path(raw_id) = path.map_err(|e| ApiError::path("operationId", e))?;
    let Query(query) = query.map_err(|e| ApiError::Validation {
        field: None,
        message: format!("query string: {e}"),
    })?;
    let accept = headers
        .get(header::ACCEPT)
        .map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let format = negotiate(accept)?;
    let width = whole(&query, "width", "characters a line, 24..80")?;
    let width_mm = whole(&query, "width_mm", "millimetres, 48..210")?;
    let id = request::operation_id_from(&raw_id)?;
    let not_found = || ApiError::OperationNotFound(id.as_str().to_string());
    let op = app.store.get(&id)?.ok_or_else(not_found)?;
    if !visible(&app, &access, &op) {
        return Err(not_found());
    }
    let view = receipt_view(&app, &op).ok_or_else(|| {
        ApiError::ReceiptNotFiscalized(format!(
            "operation {:?} is not a fiscalized receipt (checkStatus status {}): only a done formReceipt or formCorrectionReceipt has one",
            id.as_str(),
            status_code(&op.state)
        ))
    })?;
    let body = match format {
        Format::Text => {
            let width = width
                .map(|w| w as usize)
                .unwrap_or_else(|| app.tape_width(op.register.as_str()));
            view.text(width).into_bytes()
        }
        Format::Html => view.html().into_bytes(),
        Format::Pdf => view
            .pdf(width_mm.unwrap_or(DEFAULT_PDF_WIDTH_MM))
            .map_err(|e| ApiError::RenderFailed(e.to_string()))?,
        Format::Png => view
            .qr_png()
            .map_err(|e| ApiError::RenderFailed(e.to_string()))?,
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_first_acceptable_range_wins() {
        assert_eq!(negotiate(None).unwrap(), Format::Text);
        assert_eq!(negotiate(Some("")).unwrap(), Format::Text);
        assert_eq!(negotiate(Some("*/*")).unwrap(), Format::Text);
        assert_eq!(
            negotiate(Some("text/html,application/xhtml+xml;q=0.9")).unwrap(),
            Format::Html
        );
        assert_eq!(
            negotiate(Some("application/json, application/pdf")).unwrap(),
            Format::Pdf
        );
        assert_eq!(negotiate(Some("IMAGE/PNG")).unwrap(), Format::Png);
        assert_eq!(
            negotiate(Some("text/plain;q=0, image/*")).unwrap(),
            Format::Png
        );
        let err = negotiate(Some("application/json")).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::NOT_ACCEPTABLE);
    }
}
