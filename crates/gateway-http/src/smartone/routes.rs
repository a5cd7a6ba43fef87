//! The dialect's routes: read and verify the envelope, turn the document into operations,
//! wait for the register, answer in the dialect's shape. Every answer is HTTP 200 with the
//! envelope's `status`/`code` (clients read the JSON body; the reference documents no HTTP
//! statuses), except an unknown route (404) — still the envelope.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use fiscal_model::{
    CashMovement, CashMovementKind, Completion, CopyRequest, Kopecks, OperationBody, Receipt,
    ReceiptType, ShiftRequest,
};
use queue::{OpState, Operation, OperationId};
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};
use tokio::time::Instant;

use super::envelope::{self, Answer, Code, Refusal};
use super::sale::{self, SaleDocument, SaleSettings};
use super::SmartOneConfig;
use crate::handlers::{read_body, BodyError};
use crate::returns::{self, Problem};
use crate::synchronous::{self, NotStored, Unfinished, MAX_ATTEMPTS};
use crate::{routing, AppState, CashboxFacts, RegisterRoute};

/// The dialect's state.
pub struct Dialect {
    app: AppState,
    config: SmartOneConfig,
    /// Serializes a refund's check against its sale's earlier returns with its submission, so
    /// two refunds at once cannot both return the last unit.
    refunds: tokio::sync::Mutex<()>,
    /// Tells apart operations without a key made in the same nanosecond.
    counter: AtomicU64,
}

/// `POST` to a path the dialect does not have.
pub async fn unknown_route(uri: Uri) -> Response {
    let answer = Answer::error(Refusal::new(
        Code::Missing,
        format!(
            "no such route: {}; routes: {}",
            uri.path(),
            super::ROUTES.join(", ")
        ),
    ));
    (StatusCode::NOT_FOUND, Json(answer)).into_response()
}

/// Another method on a route: every route is a `POST`.
pub async fn not_post(method: axum::http::Method) -> Response {
    let answer = Answer::error(Refusal::new(
        Code::Missing,
        format!("method {method} is not allowed: every route is a POST"),
    ));
    (StatusCode::METHOD_NOT_ALLOWED, Json(answer)).into_response()
}

fn store_error(e: queue::StoreError) -> Refusal {
    Refusal::new(
        Code::Internal,
        format!("the operation store is unavailable; the document may have been stored: repeat the same request ({e})"),
    )
}

impl Dialect {
    pub fn new(app: AppState, config: SmartOneConfig) -> Dialect {
        Dialect {
            app,
            config,
            refunds: tokio::sync::Mutex::new(()),
            counter: AtomicU64::new(0),
        }
    }

    /// One request, answered.
    pub async fn handle(&self, route: &'static str, headers: HeaderMap, body: Body) -> Response {
        let answer = match self.answer(route, &headers, body).await {
            Ok(answer) => answer,
            Err(refusal) => {
                tracing::info!(route, code = refusal.code as u8, message = %refusal.message, "smartone request refused");
                Answer::error(refusal)
            }
        };
        Json(answer).into_response()
    }

    async fn answer(
        &self,
        route: &'static str,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Answer, Refusal> {
        let bytes = read_body(&self.app, body).await.map_err(|e| match e {
            BodyError::Late => Refusal::new(Code::BadJson, "body: not received in time"),
            BodyError::TooLarge { limit } => Refusal::new(
                Code::BadJson,
                format!("body: larger than the limit of {limit} bytes"),
            ),
        })?;
        let (register, m) = self.open(headers, &bytes)?;
        let deadline = Instant::now() + self.config.answer_within;
        match route {
            "/sale" => {
                self.document(&register, &m, ReceiptType::Sale, deadline)
                    .await
            }
            "/refund" => {
                self.document(&register, &m, ReceiptType::SaleReturn, deadline)
                    .await
            }
            "/check_status" | "/last_document" => self.check_status(&register, &m),
            "/check_copy" => self.check_copy(&register, &m, deadline).await,
            "/x_report" => self.x_report(&register, deadline).await,
            "/open_shift" => self.shift(&register, &m, true, deadline).await,
            "/close_shift" => self.shift(&register, &m, false, deadline).await,
            "/check_shift" => self.check_shift(&register),
            "/deposit" => {
                self.cash(&register, &m, CashMovementKind::In, deadline)
                    .await
            }
            "/withdraw" => {
                self.cash(&register, &m, CashMovementKind::Out, deadline)
                    .await
            }
            other => Err(Refusal::new(
                Code::Missing,
                format!("no such route: {other}"),
            )),
        }
    }

    /// The register the request is for and its JSON: a signed form (the merchantID that
    /// verifies names the register), or a plain JSON body with the gateway's bearer token.
    fn open(
        &self,
        headers: &HeaderMap,
        bytes: &[u8],
    ) -> Result<(RegisterRoute, Map<String, Value>), Refusal> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Refusal::new(Code::BadJson, "body: not UTF-8"))?;
        if text.trim_start().starts_with('{') {
            let authorization = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            if authorization.is_none() {
                return Err(Refusal::new(
                    Code::Auth,
                    "a JSON body needs the gateway's token (Authorization: Bearer …); otherwise send data=<Base64 of the JSON>&sign=<signature>",
                ));
            }
            let access = self
                .app
                .auth
                .verify(authorization)
                .map_err(|e| Refusal::new(Code::Auth, e.to_string()))?;
            let register = self
                .config
                .merchants
                .iter()
                .filter_map(|m| routing::find(&self.app.registers, &m.register))
                .find(|r| access.allows(r))
                .ok_or_else(|| {
                    Refusal::new(
                        Code::Auth,
                        "the token allows none of this dialect's cashboxes",
                    )
                })?;
            let m = envelope::json_object(bytes, "body")?;
            return Ok((register.clone(), m));
        }
        let form = envelope::parse_form(text)?;
        let which = envelope::verify(
            &form,
            self.config.merchants.iter().map(|m| m.merchant_id.as_str()),
        )?;
        let register = self
            .config
            .merchants
            .get(which)
            .and_then(|m| routing::find(&self.app.registers, &m.register))
            .ok_or_else(|| {
                Refusal::new(Code::Internal, "the merchantID's cashbox is not configured")
            })?;
        let m = envelope::decode_data(&form.data)?;
        Ok((register.clone(), m))
    }

    fn facts(&self, register: &RegisterRoute) -> Option<CashboxFacts> {
        self.app.facts_of(&register.id)
    }

    fn settings(&self, register: &RegisterRoute) -> SaleSettings {
        let width = self.app.tape_width(&register.id);
        SaleSettings {
            taxation: self.config.taxation,
            bonuses: self.config.bonuses,
            print_width: width,
            unique_without_doc_time: self.config.unique_without_doc_time,
        }
    }

    /// A fresh operationId for an operation without a key (a copy, a report).
    fn fresh_id(&self, kind: &str) -> Result<OperationId, Refusal> {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        OperationId::new(format!("smartone/{kind}/t{nanos}-{n}"))
            .map_err(|e| Refusal::new(Code::Internal, e.to_string()))
    }

    /// The operationId of attempt `attempt` (1, 2, …) of the document with `key` on `register`.
    fn keyed_id(
        register: &RegisterRoute,
        kind: &str,
        key: &str,
        attempt: u32,
    ) -> Result<OperationId, Refusal> {
        let mut hasher = Sha1::new();
        hasher.update(register.id.as_bytes());
        hasher.update(b"\n");
        hasher.update(key.as_bytes());
        let digest = hex::encode(hasher.finalize());
        let id = if attempt <= 1 {
            format!("smartone/{kind}/{digest}")
        } else {
            format!("smartone/{kind}/{digest}/{attempt}")
        };
        OperationId::new(id).map_err(|e| Refusal::new(Code::Internal, e.to_string()))
    }

    async fn submit(
        &self,
        id: OperationId,
        register: &RegisterRoute,
        body: OperationBody,
        refers_to: Option<&OperationId>,
    ) -> Result<Result<Operation, Operation>, Refusal> {
        synchronous::submit(
            &self.app.store,
            id,
            &register.id,
            body,
            refers_to.as_slice(),
            true,
        )
        .await
        .map_err(|e| match e {
            NotStored::TooLarge(message) => Refusal::new(Code::Missing, message),
            NotStored::Store(e) => store_error(e),
        })
    }

    /// `op` once finished, or code 5 "repeat the same request" at `deadline` (it goes on).
    async fn finish(&self, op: Operation, deadline: Instant) -> Result<Operation, Refusal> {
        synchronous::finish(&self.app.store, op, deadline)
            .await
            .map_err(|e| match e {
                Unfinished::InProgress(op) => {
                    let why = match synchronous::waiting_reason(&op) {
                        Some(reason) => {
                            format!("the register waits: {} ({})", reason.message, reason.code)
                        }
                        None => format!("on the register ({})", op.state.name()),
                    };
                    Refusal::new(
                        Code::Internal,
                        format!(
                            "still processing, {why}; repeat the same request for its result — it will not be made twice"
                        ),
                    )
                }
                Unfinished::Store(e) => store_error(e),
                Unfinished::Vanished => Refusal::new(Code::Internal, "the operation vanished"),
            })
    }

    fn offset(&self, register: &RegisterRoute) -> FixedOffset {
        register.utc_offset
    }

    // ---------------------------------------------------------------- /sale, /refund

    async fn document(
        &self,
        register: &RegisterRoute,
        m: &Map<String, Value>,
        kind: ReceiptType,
        deadline: Instant,
    ) -> Result<Answer, Refusal> {
        let mut doc = sale::read(m, kind, &self.settings(register))?;
        if let Some(sign) = doc.copy_of {
            let original = self.find_by_sign(register, sign)?;
            return self
                .answer_with_copy(register, &original, None, deadline)
                .await;
        }
        let parent = match doc.parent {
            Some(sign) => Some(self.find_by_sign(register, sign)?),
            None => None,
        };
        let kind_name = if kind == ReceiptType::Sale {
            "sale"
        } else {
            "refund"
        };
        let Some(key) = doc.key.clone() else {
            let id = self.fresh_id(kind_name)?;
            let op = self
                .submit_document(register, id, &mut doc, parent.as_ref())
                .await?;
            let op = self.finish(op, deadline).await?;
            return self.document_answer(register, &op, doc.doc_time.as_deref());
        };
        let mut attempt = 1;
        let mut conflicts = 0;
        loop {
            let id = Self::keyed_id(register, kind_name, &key, attempt)?;
            let existing = self.app.store.get(&id).map_err(store_error)?;
            match existing {
                Some(op) if matches!(op.state, OpState::Failed { .. }) => {
                    attempt += 1;
                    if attempt > MAX_ATTEMPTS {
                        return Err(Refusal::new(
                            Code::Internal,
                            format!("this document (docTime + docNumber + amount) failed {MAX_ATTEMPTS} times; change docNumber to send it as a new one"),
                        ));
                    }
                }
                Some(op) if op.state.is_finished() => {
                    // Fiscalized before: a copy, never a second fiscal document.
                    return self
                        .answer_with_copy(register, &op, doc.doc_time.as_deref(), deadline)
                        .await;
                }
                Some(op) => {
                    // The first is still in progress: its result is this request's.
                    let op = self.finish(op, deadline).await?;
                    return self.document_answer(register, &op, doc.doc_time.as_deref());
                }
                None => {
                    match self
                        .submit_document(register, id, &mut doc, parent.as_ref())
                        .await
                    {
                        Ok(op) => {
                            let op = self.finish(op, deadline).await?;
                            return self.document_answer(register, &op, doc.doc_time.as_deref());
                        }
                        // Another request with the same key got there first: look again.
                        Err(refusal)
                            if refusal.code == Code::Internal
                                && refusal.message == CONFLICT
                                && conflicts < 3 =>
                        {
                            conflicts += 1;
                        }
                        Err(refusal) => return Err(refusal),
                    }
                }
            }
        }
    }

    /// Submits a sale or refund (a refund after its checks against the sale).
    async fn submit_document(
        &self,
        register: &RegisterRoute,
        id: OperationId,
        doc: &mut SaleDocument,
        parent: Option<&Operation>,
    ) -> Result<Operation, Refusal> {
        let _guard = match parent {
            Some(_) => Some(self.refunds.lock().await),
            None => None,
        };
        if let Some(parent) = parent {
            self.check_refund(parent, doc)?;
        }
        let body = OperationBody::Receipt(doc.receipt.clone());
        match self
            .submit(id, register, body, parent.map(|p| &p.id))
            .await?
        {
            Ok(op) => Ok(op),
            Err(_existing) => Err(Refusal::new(Code::Internal, CONFLICT)),
        }
    }

    /// Codes 18/19: every returned item is in the sale, and no more is returned than was sold
    /// less what earlier refunds (not failed) return; a marked item's code comes from the sale
    /// when the refund does not name it.
    fn check_refund(&self, parent: &Operation, doc: &mut SaleDocument) -> Result<(), Refusal> {
        let Some(sold) = receipt_of(parent) else {
            return Err(Refusal::new(
                Code::NotFound,
                "parentDocID: not a sale receipt",
            ));
        };
        if sold.receipt_type != ReceiptType::Sale {
            return Err(Refusal::new(
                Code::NotFound,
                "parentDocID: the document is not a sale receipt",
            ));
        }
        let earlier = self
            .app
            .store
            .referring_to(&parent.id)
            .map_err(store_error)?;
        let lines: Vec<returns::Line<'_>> = doc
            .lines
            .iter()
            .map(|line| returns::Line {
                name: &line.name,
                quantity: line.qty,
                marking: line.marking.as_deref().map(str::as_bytes),
            })
            .collect();
        let name = |index: usize| lines.get(index).map(|l| l.name).unwrap_or_default();
        match returns::check(sold, &earlier, &lines) {
            Ok(passed) => {
                passed.fill(&lines, &mut doc.receipt);
                Ok(())
            }
            Err(Problem::NotInSale { index, name }) => Err(Refusal::new(
                Code::NotInSale,
                format!("items[{index}].itemName: {name:?} is not in the sale receipt"),
            )),
            Err(Problem::TooMany {
                index,
                name,
                asked,
                sold,
                returned,
            }) => Err(Refusal::new(
                Code::ReturnExceeds,
                format!(
                    "items[{index}].itemQty: {asked} of {name:?} returned, but {sold} were sold and {returned} already returned"
                ),
            )),
            Err(Problem::CodeNotSold { index }) => Err(Refusal::new(
                Code::NotInSale,
                format!("items[{index}].itemQRCode: this marking code was not sold in the receipt"),
            )),
            Err(Problem::CodeReturned { index }) => Err(Refusal::new(
                Code::ReturnExceeds,
                format!("items[{index}].itemQRCode: the item with this marking code was already returned"),
            )),
            Err(Problem::CodeRequired { index }) => Err(Refusal::new(
                Code::Missing,
                format!(
                    "items[{index}].itemQRCode: the sale has several marked {:?}; name the returned one's code",
                    name(index)
                ),
            )),
        }
    }

    /// The Done receipt (or correction) with fiscal sign `sign` on `register`, or code 9.
    fn find_by_sign(&self, register: &RegisterRoute, sign: u32) -> Result<Operation, Refusal> {
        self.app
            .store
            .by_fiscal_sign(sign)
            .map_err(store_error)?
            .into_iter()
            .rev()
            .find(|op| op.register.as_str() == register.id && receipt_of(op).is_some())
            .ok_or_else(|| {
                Refusal::new(
                    Code::NotFound,
                    format!("fiscalID: no document with fiscal sign {sign} on this cashbox"),
                )
            })
    }

    /// Prints a copy of `original` (done) and answers its fiscal fields; the copy's own
    /// trouble shows as `printError` and a message, never as a failed document.
    async fn answer_with_copy(
        &self,
        register: &RegisterRoute,
        original: &Operation,
        doc_time: Option<&str>,
        deadline: Instant,
    ) -> Result<Answer, Refusal> {
        let mut answer = self.document_answer(register, original, doc_time)?;
        let Some(fd) = fiscal_result(original).map(|r| r.0) else {
            return Ok(answer);
        };
        let id = self.fresh_id("copy")?;
        let body = OperationBody::PrintCopy(CopyRequest {
            fd_number: Some(fd),
        });
        let copy = match self.submit(id, register, body, Some(&original.id)).await? {
            Ok(op) | Err(op) => op,
        };
        match self.finish(copy, deadline).await {
            Ok(op) => {
                if let OpState::Failed { reason } = &op.state {
                    answer.fields.insert("printError".into(), json!(1));
                    answer.message = Some(format!("копия не напечатана: {}", reason.message));
                } else {
                    answer.message =
                        Some("документ уже фискализирован: напечатана копия".to_string());
                }
            }
            Err(_) => {
                answer.message = Some(
                    "документ уже фискализирован: копия поставлена в очередь печати".to_string(),
                );
            }
        }
        Ok(answer)
    }

    /// A finished document's answer: its fiscal fields, or its failure.
    fn document_answer(
        &self,
        register: &RegisterRoute,
        op: &Operation,
        doc_time: Option<&str>,
    ) -> Result<Answer, Refusal> {
        let offset = self.offset(register);
        match &op.state {
            OpState::Failed { reason } => Err(failure(reason, false)),
            OpState::Done { .. } => {
                let mut f = Map::new();
                f.insert("documentID".into(), json!(op.seq));
                let doc_time = doc_time
                    .map(str::to_string)
                    .unwrap_or_else(|| local(op.created_at, offset));
                f.insert("docTime".into(), json!(doc_time));
                f.insert("docStatus".into(), json!(1));
                if let Some((fd, sign, check, shift, at, not_printed, fn_number)) =
                    fiscal_result(op).map(|r| r.1)
                {
                    f.insert("fiscalID".into(), json!(sign.to_string()));
                    f.insert("fiscalNum".into(), json!(fd.to_string()));
                    f.insert("checkNum".into(), json!(check.to_string()));
                    f.insert("shiftNum".into(), json!(shift));
                    f.insert("fnNumber".into(), json!(fn_number));
                    f.insert("printTime".into(), json!(at.format(TIME).to_string()));
                    if not_printed {
                        f.insert("printError".into(), json!(1));
                    }
                }
                if let Some(receipt) = receipt_of(op) {
                    f.insert("totalPayments".into(), total_payments(receipt));
                }
                let mut answer = Answer::success(f);
                if fiscal_result(op).is_some_and(|r| r.1 .5) {
                    answer.message = Some(
                        "чек сформирован в ФН, но не допечатан (нет бумаги): он допечатается после заправки бумаги"
                            .to_string(),
                    );
                }
                Ok(answer)
            }
            _ => Ok(Answer::success(status_fields(op, 0))),
        }
    }

    // ---------------------------------------------------------------- status, copies

    /// The operation a status or copy request names: `documentID` (this gateway's number, or
    /// a fiscalID), or `docTime`/`docNumber`/`amount`.
    fn named(
        &self,
        register: &RegisterRoute,
        m: &Map<String, Value>,
    ) -> Result<Operation, Refusal> {
        let not_found = || Refusal::new(Code::NotFound, "document not found");
        let mine = |op: Operation| (op.register.as_str() == register.id).then_some(op);
        for field in ["documentID", "documentId"] {
            let Some(text) = crate::fields::numeric_text(m, field)
                .map_err(|()| Refusal::new(Code::Missing, format!("{field}: must be a number")))?
            else {
                continue;
            };
            let n: u64 = text.parse().map_err(|_| {
                Refusal::new(Code::Missing, format!("{field}: {text:?} is not a number"))
            })?;
            if let Some(op) = self
                .app
                .store
                .by_seq(n)
                .map_err(store_error)?
                .and_then(mine)
            {
                return Ok(op);
            }
            // Some clients send the fiscalID they kept as documentID.
            if let Ok(sign) = u32::try_from(n) {
                if let Ok(op) = self.find_by_sign(register, sign) {
                    return Ok(op);
                }
            }
            return Err(not_found());
        }
        if let Some(sign) = sale::optional_fiscal_id(m, "fiscalID")? {
            return self.find_by_sign(register, sign);
        }
        let settings = self.settings(register);
        let doc_time = crate::fields::optional_string(m, "", "docTime")?;
        let doc_number = crate::fields::optional_string(m, "", "docNumber")?;
        let amount = sale::non_negative(m, "", "amount")?;
        let key =
            match (doc_time, doc_number, amount) {
                (Some(t), n, Some(a)) => format!("{t}|{}|{a}", n.unwrap_or_default()),
                (None, Some(n), Some(a)) if settings.unique_without_doc_time => format!("|{n}|{a}"),
                _ => return Err(Refusal::new(
                    Code::Missing,
                    "documentID: is required (or docTime, docNumber and amount of the document)",
                )),
            };
        for kind in ["sale", "refund"] {
            let latest = synchronous::latest_attempt(
                &self.app.store,
                |attempt| Self::keyed_id(register, kind, &key, attempt),
                store_error,
            )?;
            if let Some(op) = latest {
                return Ok(op);
            }
        }
        Err(not_found())
    }

    fn check_status(
        &self,
        register: &RegisterRoute,
        m: &Map<String, Value>,
    ) -> Result<Answer, Refusal> {
        let op = self.named(register, m)?;
        match &op.state {
            OpState::Done { .. } => self.document_answer(register, &op, None),
            OpState::Failed { reason } => {
                let mut answer = Answer::error(failure(reason, false));
                answer.fields = status_fields(&op, -1);
                Ok(answer)
            }
            _ => Ok(Answer::success(status_fields(&op, 0))),
        }
    }

    async fn check_copy(
        &self,
        register: &RegisterRoute,
        m: &Map<String, Value>,
        deadline: Instant,
    ) -> Result<Answer, Refusal> {
        let op = self.named(register, m)?;
        if fiscal_result(&op).is_none() {
            return Err(Refusal::new(
                Code::NotFound,
                "documentID: the document has no fiscal document to copy (not fiscalized)",
            ));
        }
        let mut answer = self.answer_with_copy(register, &op, None, deadline).await?;
        if let Some(receipt) = receipt_of(&op) {
            answer.fields.insert("items".into(), items_of(receipt));
        }
        Ok(answer)
    }

    // ---------------------------------------------------------------- shift, reports, cash

    async fn run(
        &self,
        register: &RegisterRoute,
        kind: &str,
        body: OperationBody,
        deadline: Instant,
    ) -> Result<Operation, Refusal> {
        let id = self.fresh_id(kind)?;
        let op = match self.submit(id, register, body, None).await? {
            Ok(op) | Err(op) => op,
        };
        self.finish(op, deadline).await
    }

    async fn x_report(
        &self,
        register: &RegisterRoute,
        deadline: Instant,
    ) -> Result<Answer, Refusal> {
        let op = self
            .run(register, "x_report", OperationBody::XReport, deadline)
            .await?;
        if let OpState::Failed { reason } = &op.state {
            return Err(failure(reason, false));
        }
        Ok(Answer::success(self.shift_fields(register)))
    }

    fn shift_fields(&self, register: &RegisterRoute) -> Map<String, Value> {
        let mut f = Map::new();
        let facts = self.facts(register);
        if let Some(shift) = facts.as_ref().and_then(|f| f.shift.as_ref()) {
            if let Some(n) = shift.number {
                f.insert("shiftID".into(), json!(n));
            }
            if let Some(at) = shift.opened_at {
                f.insert("shiftOpenAt".into(), json!(local(at, register.utc_offset)));
            }
        }
        if let Some(cash) = facts.and_then(|f| f.cash_in_drawer) {
            f.insert("cash".into(), json!(cash));
        }
        f
    }

    async fn shift(
        &self,
        register: &RegisterRoute,
        m: &Map<String, Value>,
        open: bool,
        deadline: Instant,
    ) -> Result<Answer, Refusal> {
        let cashier = sale::cashier(m)?;
        let request = ShiftRequest { cashier };
        let (kind, body) = if open {
            ("open_shift", OperationBody::OpenShift(request))
        } else {
            ("close_shift", OperationBody::CloseShift(request))
        };
        let op = self.run(register, kind, body, deadline).await?;
        let result = match &op.state {
            OpState::Failed { reason } => return Err(failure(reason, false)),
            OpState::Done {
                completion: Completion::Shift(result),
                ..
            } => result.clone(),
            _ => return Err(Refusal::new(Code::Internal, "unexpected result")),
        };
        if !result.made {
            return Err(Refusal::new(
                Code::Shift,
                if open {
                    format!("смена {} уже открыта", result.shift_number)
                } else {
                    "смена не открыта".to_string()
                },
            ));
        }
        let mut f = self.shift_fields(register);
        f.insert("shiftID".into(), json!(result.shift_number));
        f.insert("fiscalShiftID".into(), json!(result.shift_number));
        if let Some(fd) = result.fd_number {
            f.insert("fiscalNum".into(), json!(fd.to_string()));
        }
        if let Some(sign) = result.fiscal_sign {
            f.insert("fiscalID".into(), json!(sign.to_string()));
        }
        Ok(Answer::success(f))
    }

    fn check_shift(&self, register: &RegisterRoute) -> Result<Answer, Refusal> {
        let facts = self
            .facts(register)
            .ok_or_else(|| Refusal::new(Code::Internal, "the register's state is not known yet"))?;
        let Some(shift) = facts.shift.as_ref() else {
            return Err(Refusal::new(
                Code::Internal,
                facts
                    .error_message
                    .clone()
                    .unwrap_or_else(|| "the register has not been read yet".into()),
            ));
        };
        let mut f = self.shift_fields(register);
        f.insert(
            "isShiftOpen".into(),
            json!(if shift.open { "true" } else { "false" }),
        );
        f.insert("shiftStatus".into(), json!(if shift.open { 1 } else { 2 }));
        Ok(Answer::success(f))
    }

    async fn cash(
        &self,
        register: &RegisterRoute,
        m: &Map<String, Value>,
        kind: CashMovementKind,
        deadline: Instant,
    ) -> Result<Answer, Refusal> {
        let amount = sale::non_negative(m, "", "amount")?
            .ok_or_else(|| Refusal::new(Code::Missing, "amount: is required"))?;
        if amount == 0 {
            return Err(Refusal::new(Code::Missing, "amount: must be more than 0"));
        }
        let name = if kind == CashMovementKind::In {
            "deposit"
        } else {
            "withdraw"
        };
        let ext = m
            .get("documentExtID")
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        let body = OperationBody::Cash(CashMovement {
            kind,
            amount: Kopecks(amount),
        });
        let id = match ext {
            Some(ext) => Self::keyed_id(register, name, &format!("ext|{ext}|{amount}"), 1)?,
            None => self.fresh_id(name)?,
        };
        let op = match self.submit(id, register, body, None).await? {
            Ok(op) => op,
            Err(existing) => {
                return Err(Refusal::new(
                    Code::Missing,
                    format!(
                        "documentExtID: already used for another document ({:?})",
                        existing.kind
                    ),
                ))
            }
        };
        let op = self.finish(op, deadline).await?;
        let result = match &op.state {
            OpState::Failed { reason } => {
                return Err(failure(reason, kind == CashMovementKind::Out))
            }
            OpState::Done {
                completion: Completion::Cash(result),
                ..
            } => result.clone(),
            _ => return Err(Refusal::new(Code::Internal, "unexpected result")),
        };
        let mut f = Map::new();
        f.insert("documentID".into(), json!(op.seq));
        f.insert(
            "fiscalNum".into(),
            json!(result.document_number.to_string()),
        );
        f.insert(
            if kind == CashMovementKind::In {
                "cashIn"
            } else {
                "cashOut"
            }
            .into(),
            json!(amount),
        );
        f.insert(
            "docTime".into(),
            json!(result.date_time.format(TIME).to_string()),
        );
        Ok(Answer::success(f))
    }
}

const CONFLICT: &str = "another document was stored under this key at the same moment";
const TIME: &str = "%Y-%m-%d %H:%M:%S";

fn local(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format(TIME).to_string()
}

/// The receipt of a receipt operation (a correction's receipt too).
fn receipt_of(op: &Operation) -> Option<&Receipt> {
    match &op.request.body {
        OperationBody::Receipt(r) => Some(r),
        OperationBody::Correction(c) => Some(&c.receipt),
        _ => None,
    }
}

type Fiscal = (u32, u32, u32, u32, NaiveDateTime, bool, String);

/// FD number and the fiscal fields of a Done receipt.
fn fiscal_result(op: &Operation) -> Option<(u32, Fiscal)> {
    match &op.state {
        OpState::Done {
            completion: Completion::Receipt(r),
            ..
        } => Some((
            r.fd_number,
            (
                r.fd_number,
                r.fiscal_sign,
                r.receipt_number_in_shift,
                r.shift_number,
                r.date_time,
                r.not_printed,
                r.fn_number.clone(),
            ),
        )),
        _ => None,
    }
}

fn status_fields(op: &Operation, doc_status: i8) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("documentID".into(), json!(op.seq));
    f.insert("docStatus".into(), json!(doc_status));
    f
}

fn total_payments(r: &Receipt) -> Value {
    let all = [
        ("cash", r.cash),
        ("cashless", r.cashless),
        ("prepayment", r.prepayment),
        ("credit", r.postpayment),
        ("bonuses", r.counter_provision),
    ];
    Value::Array(
        all.iter()
            .filter(|(_, k)| k.0 > 0)
            .map(|(t, k)| json!({"type": t, "amount": k.0}))
            .collect(),
    )
}

fn items_of(r: &Receipt) -> Value {
    Value::Array(
        r.items
            .iter()
            .map(|i| {
                json!({
                    "itemName": i.name,
                    "itemQty": i.quantity.0 / 1000,
                    "itemPrice": i.price.0,
                    "itemAmount": i.sum().map(|k| k.0).unwrap_or_default(),
                    "taxPrc": i.vat.table6_rate(),
                })
            })
            .collect(),
    )
}

/// A failed operation in the dialect's codes: a closed shift is 6, a shift past 24 h 22 (the
/// reference's "shift open longer than allowed"), a rate without a group 12, a withdrawal
/// beyond the drawer 9; anything else 5 with the register's words.
fn failure(reason: &queue::Reason, withdrawal: bool) -> Refusal {
    let code = match reason.code.as_str() {
        "SHIFT_CLOSED" => Code::Shift,
        "NO_TAX_GROUP" => Code::TaxRate,
        "SHIFT_OVER_24H" => Code::ShiftTooLong,
        "NOT_ENOUGH_CASH" if withdrawal => Code::NotFound,
        _ => Code::Internal,
    };
    Refusal::new(code, format!("{} ({})", reason.message, reason.code))
}
