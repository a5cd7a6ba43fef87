//! The shop day's request bodies (`openShift`, `closeShift`, `xReport`,
//! `formCorrectionReceipt`, `printCopy`, `printText`) turned into the canonical
//! [`OperationRequest`], or a 400 naming the first bad field; and the checks that need the
//! chosen register (a correction's date on its clock, a text line against its tape width).
//!
//! Each route takes one register: `cashboxId`, or the default register when absent (a shift
//! or a report on "the least busy register of a group" means nothing). A correction receipt is
//! a `formReceipt` body read by `request::receipt` plus its basis, never a second receipt
//! parser. This module does not route and does not store.

use chrono::{NaiveDate, Utc};
use fiscal_model::{
    CopyRequest, Correction, CorrectionKind, CorrectionReceipt, OperationBody, OperationRequest,
    Routing, ShiftRequest, TextSlip, MAX_BASE_NUMBER_CHARS,
};
use serde_json::{Map, Value};

use crate::request::{self, ParsedRequest};
use crate::{fields, ApiError, RegisterRoute};

/// Most lines one `printText` slip may carry (about a metre of tape): a slip is one operation,
/// and the register prints it without taking another.
pub const MAX_TEXT_LINES: usize = 200;

pub use fiscal_model::text::DEFAULT_PRINT_WIDTH;

/// `correctionType`: the API's spelling of tag 1173.
const CORRECTION_SELF: &str = "self";
const CORRECTION_BY_ORDER: &str = "byOrder";

/// `{operationId, cashboxId?}`: the id and the one-register routing every shop-day body has.
fn head(body: &Value) -> Result<(&Map<String, Value>, ParsedHead), ApiError> {
    let m = fields::object(body, "")?;
    let id = request::operation_id(m)?;
    let routing = Routing {
        cashbox_id: request::guid(m, "cashboxId")?,
        cashbox_group_id: None,
        juridical_person_id: None,
    };
    Ok((m, ParsedHead { id, routing }))
}

struct ParsedHead {
    id: queue::OperationId,
    routing: Routing,
}

impl ParsedHead {
    fn with(self, body: OperationBody) -> ParsedRequest {
        ParsedRequest {
            id: self.id,
            request: OperationRequest {
                body,
                routing: self.routing,
            },
        }
    }
}

/// `openShift` / `closeShift`: `{operationId, cashboxId?, cashierName?, cashierInn?}`; the
/// cashier (tags 1021/1203) is read as formReceipt reads it.
pub fn shift(body: &Value, open: bool) -> Result<ParsedRequest, ApiError> {
    let (m, head) = head(body)?;
    let request = ShiftRequest {
        cashier: request::receipt_cashier(m)?,
    };
    Ok(head.with(if open {
        OperationBody::OpenShift(request)
    } else {
        OperationBody::CloseShift(request)
    }))
}

/// `xReport`: `{operationId, cashboxId?}`.
pub fn x_report(body: &Value) -> Result<ParsedRequest, ApiError> {
    let (_, head) = head(body)?;
    Ok(head.with(OperationBody::XReport))
}

/// `printCopy`: `{operationId, cashboxId?, fiscalDocumentNumber?}`; no number: the last
/// receipt.
pub fn print_copy(body: &Value) -> Result<ParsedRequest, ApiError> {
    let (m, head) = head(body)?;
    let fd_number = fd_number(m)?;
    Ok(head.with(OperationBody::PrintCopy(CopyRequest { fd_number })))
}

/// `fiscalDocumentNumber`, when given: 1 ..= u32::MAX.
pub(crate) fn fd_number(m: &serde_json::Map<String, Value>) -> Result<Option<u32>, ApiError> {
    fields::optional_integer(m, "", "fiscalDocumentNumber")?
        .map(|n| {
            u32::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
                ApiError::invalid(
                    "fiscalDocumentNumber",
                    format!("must be a whole number from 1 to {}", u32::MAX),
                )
            })
        })
        .transpose()
}

/// `printText`: `{operationId, cashboxId?, lines, cut?}`. Each line must be printable in CP1251
/// (the register's code page); its width is checked against the chosen register by
/// [`fits_register`].
pub fn print_text(body: &Value) -> Result<ParsedRequest, ApiError> {
    let (m, head) = head(body)?;
    let raw = fields::array(m, "", "lines")?;
    if raw.is_empty() {
        return Err(ApiError::invalid("lines", "must hold at least one line"));
    }
    if raw.len() > MAX_TEXT_LINES {
        return Err(ApiError::invalid(
            "lines",
            format!(
                "has {} lines; at most {MAX_TEXT_LINES} fit in one slip",
                raw.len()
            ),
        ));
    }
    let mut lines = Vec::with_capacity(raw.len());
    for (i, line) in raw.iter().enumerate() {
        let at = format!("lines[{i}]");
        let Value::String(text) = line else {
            return Err(ApiError::invalid(at, "must be a string"));
        };
        if let Some(c) = fiscal_model::text::unprintable(text) {
            return Err(ApiError::invalid(
                at,
                format!(
                    "contains {}, which a register cannot print (not in its code page CP1251)",
                    fiscal_model::text::describe(c)
                ),
            ));
        }
        lines.push(text.clone());
    }
    let cut = fields::optional_boolean(m, "", "cut")?.unwrap_or(false);
    Ok(head.with(OperationBody::PrintText(TextSlip { lines, cut })))
}

/// `formCorrectionReceipt`: a `formReceipt` body plus `correctionType` ("self" | "byOrder",
/// tag 1173), `correctionBaseDate` (YYYY-MM-DD, tag 1178) and, for "byOrder" only,
/// `correctionBaseNumber` (tag 1179).
pub fn correction_receipt(body: &Value) -> Result<ParsedRequest, ApiError> {
    let m = fields::object(body, "")?;
    let (id, receipt, routing) = request::receipt(m)?;
    let kind = match fields::string(m, "", "correctionType")? {
        CORRECTION_SELF => CorrectionKind::SelfInitiated,
        CORRECTION_BY_ORDER => CorrectionKind::ByOrder,
        other => {
            return Err(ApiError::invalid(
                "correctionType",
                format!("{other:?} is not \"self\" (own initiative) or \"byOrder\" (by order of the tax authority)"),
            ))
        }
    };
    let base_date = date(
        fields::string(m, "", "correctionBaseDate")?,
        "correctionBaseDate",
    )?;
    let number = fields::optional_string(m, "", "correctionBaseNumber")?;
    let base_number =
        match (kind, number) {
            (CorrectionKind::ByOrder, None) => {
                return Err(ApiError::invalid(
                    "correctionBaseNumber",
                    "is required with correctionType \"byOrder\" (the order's number, tag 1179)",
                ))
            }
            (CorrectionKind::SelfInitiated, Some(_)) => return Err(ApiError::invalid(
                "correctionBaseNumber",
                "only with correctionType \"byOrder\": a correction on own initiative has no order",
            )),
            (CorrectionKind::ByOrder, Some(number)) => Some(fiscal_model::attributes::tag_text(
                number,
                MAX_BASE_NUMBER_CHARS,
                "correctionBaseNumber",
            )?),
            (CorrectionKind::SelfInitiated, None) => None,
        };
    Ok(ParsedRequest {
        id,
        request: OperationRequest {
            body: OperationBody::Correction(CorrectionReceipt {
                receipt,
                correction: Correction {
                    kind,
                    base_date,
                    base_number,
                },
            }),
            routing,
        },
    })
}

/// A calendar date written `YYYY-MM-DD`, exactly.
fn date(text: &str, field: &str) -> Result<NaiveDate, ApiError> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| ApiError::invalid(field, format!("{text:?} is not a date YYYY-MM-DD")))
}

/// What the chosen register decides about `body`: a correction's basis date may not lie after
/// today on the register's clock, and each line of a text slip must fit `print_width`
/// characters (the register's reported width, else [`DEFAULT_PRINT_WIDTH`]).
pub fn fits_register(
    body: &OperationBody,
    register: &RegisterRoute,
    print_width: Option<u16>,
) -> Option<ApiError> {
    match body {
        OperationBody::Correction(c) => {
            let today = Utc::now().with_timezone(&register.utc_offset).date_naive();
            (c.correction.base_date > today).then(|| {
                ApiError::invalid(
                    "correctionBaseDate",
                    format!(
                        "{} is after today ({today}) on the clock of cashbox {}: a correction corrects a settlement already made",
                        c.correction.base_date, register.id
                    ),
                )
            })
        }
        OperationBody::PrintText(slip) => {
            let width = print_width.unwrap_or(DEFAULT_PRINT_WIDTH);
            let (i, chars) = slip
                .lines
                .iter()
                .map(|line| line.chars().count())
                .enumerate()
                .find(|&(_, chars)| chars > usize::from(width))?;
            Some(ApiError::invalid(
                format!("lines[{i}]"),
                format!(
                    "is {chars} characters long; the tape of cashbox {} takes {width} per line",
                    register.id
                ),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_exactly_yyyy_mm_dd() {
        assert!(date("2026-11-20", "d").is_ok());
        for bad in [
            "2026-2-3",
            "2026-02-30",
            "20261120",
            "2026-11-20T00:00",
            " 2026-11-20",
            "",
        ] {
            assert!(date(bad, "d").is_err(), "{bad}");
        }
    }
}
