//! The dialect's routes: find the register by `num_fiscal`, check the token, turn the body
//! into operations on the store, wait for the register, answer from the finished operation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDateTime, Utc};
use fiscal_model::{
    CashMovement, CashMovementKind, Completion, Kopecks, OperationBody, ReceiptType, ShiftRequest,
};
use queue::{OpState, Operation, OperationId};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::answer::{with_shift_state, DeskError};
use super::numbers::{self, SUM_DECIMALS};
use super::sale::{self, SaleSettings};
use super::{CashDesk, CashDeskConfig};
use crate::handlers::{read_body, BodyError};
use crate::returns::{self, Problem};
use crate::synchronous::{self, NotStored, Unfinished, MAX_ATTEMPTS};
use crate::{AppState, CashboxFacts};

/// Prefix of every operationId the dialect makes.
const PREFIX: &str = "cashdesk/";

/// The dialect's state.
pub struct Dialect {
    app: AppState,
    config: CashDeskConfig,
    /// Serializes a return's check against its sale's earlier returns with its submission, so
    /// two returns at once cannot both give back the last unit.
    returns: tokio::sync::Mutex<()>,
    /// Tells apart unkeyed operations made in the same nanosecond.
    counter: AtomicU64,
}

type Params = Query<HashMap<String, String>>;

/// A `POST` route of the dialect (the route names what the body asks).
pub async fn post(
    route: Route,
    State(d): State<Arc<Dialect>>,
    Query(q): Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    d.handle(route, q, headers, body, None).await
}

/// `GET /api/v2/tax_objects/{num_fiscal}`.
pub async fn tax_object(
    State(d): State<Arc<Dialect>>,
    Path(num_fiscal): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    d.handle(Route::TaxObject, q, headers, body, Some(num_fiscal))
        .await
}

/// A view of a check `GET /api/v2/checks/{uuid}/{view}` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckView {
    Text,
    Html,
    Pdf,
    Qr,
}

impl CheckView {
    /// Every view, by its name in the path.
    const ALL: [(&'static str, CheckView); 4] = [
        ("text", CheckView::Text),
        ("html", CheckView::Html),
        ("pdf", CheckView::Pdf),
        ("qr", CheckView::Qr),
    ];

    /// The view `name` names, or 404 listing those there are.
    fn named(name: &str) -> Result<CheckView, DeskError> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, view)| *view)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(n, _)| *n).collect();
                DeskError::not_found(format!(
                    "Представлення чека «{name}» немає; є: {}",
                    names.join(", ")
                ))
            })
    }
}

/// `GET /api/v2/checks/{uuid}/{view}`: the receipt as text (`text[?print_width=N]`), as the
/// page a check's `link` opens (`html`), as a PDF (`pdf[?pdf_width=MM]`) or as its QR code
/// (`qr`, PNG).
pub async fn check_view(
    State(d): State<Arc<Dialect>>,
    Path((uuid, view)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    d.check_page(&uuid, &view, &q, &headers)
        .unwrap_or_else(IntoResponse::into_response)
}

/// A width from the query, or `default` when absent or not a number.
fn query_width<T: std::str::FromStr>(q: &HashMap<String, String>, name: &str, default: T) -> T {
    q.get(name)
        .and_then(|w| w.trim().parse::<T>().ok())
        .unwrap_or(default)
}

/// How long a document may wait for the OFD before the FN counts as offline.
const OFD_LATE: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// Another method on a route of the dialect: 405 in its own error shape.
pub async fn not_allowed(method: axum::http::Method) -> Response {
    let mut response =
        DeskError::invalid(format!("Метод {method} тут не підтримується")).into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// Receipt width in characters when `print_width` is not given (the seed's example, 32).
const DEFAULT_PRINT_WIDTH: usize = fiscal_model::text::DEFAULT_PRINT_WIDTH as usize;
/// PDF width in millimetres when `pdf_width` is not given.
const DEFAULT_PDF_WIDTH: u32 = 80;

/// What a check's answer renders (`print_width`, `pdf_width`, `no_text_print`, `no_qr`,
/// `no_pdf`) and where its link points (the request's `Host`).
#[derive(Debug, Clone)]
struct RenderAsk {
    print_width: usize,
    pdf_width: u32,
    text: bool,
    qr: bool,
    pdf: bool,
    host: Option<String>,
}

impl RenderAsk {
    fn read(m: &Map<String, Value>, headers: &HeaderMap) -> Result<RenderAsk, DeskError> {
        let width = |name: &str, default: u64| -> Result<u64, DeskError> {
            Ok(numbers::optional_whole(m, name)?.unwrap_or(default))
        };
        Ok(RenderAsk {
            print_width: usize::try_from(width("print_width", DEFAULT_PRINT_WIDTH as u64)?)
                .unwrap_or(DEFAULT_PRINT_WIDTH),
            pdf_width: u32::try_from(width("pdf_width", u64::from(DEFAULT_PDF_WIDTH))?)
                .unwrap_or(DEFAULT_PDF_WIDTH),
            text: !flag(m, "no_text_print")?,
            qr: !flag(m, "no_qr")?,
            pdf: !flag(m, "no_pdf")?,
            host: headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string),
        })
    }
}

/// A boolean as CashDesk clients send it: `true`/`false`, `1`/`0`, or those as strings.
fn flag(m: &Map<String, Value>, name: &str) -> Result<bool, DeskError> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::Number(n)) if n.to_string() == "0" => Ok(false),
        Some(Value::Number(n)) if n.to_string() == "1" => Ok(true),
        Some(Value::String(s)) if matches!(s.trim(), "0" | "false") => Ok(false),
        Some(Value::String(s)) if matches!(s.trim(), "1" | "true") => Ok(true),
        Some(other) => Err(DeskError::invalid(format!(
            "Поле {name}: очікується true/false або 1/0, отримано {other}"
        ))),
    }
}

/// What a request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Sale,
    Service,
    Shift,
    XReport,
    LastCheck,
    TaxObject,
    /// `POST /shift/ping`: the register's state, as `tax_objects` answers it.
    Ping,
}

/// A successful answer and the shift's state it leaves (none: as the register last said).
struct Answered {
    body: Value,
    shift_open: Option<bool>,
}

impl Answered {
    fn new(body: Value) -> Answered {
        Answered {
            body,
            shift_open: None,
        }
    }

    fn shift(mut self, open: bool) -> Answered {
        self.shift_open = Some(open);
        self
    }
}

/// A finished operation whose result is not of its kind (not expected to happen).
fn unexpected() -> DeskError {
    DeskError::unavailable("INTERNAL", "Неочікуваний результат операції")
}

fn store_error(e: queue::StoreError) -> DeskError {
    DeskError::unavailable(
        "STORE_UNAVAILABLE",
        format!("Сховище операцій недоступне; повторіть той самий запит ({e})"),
    )
}

impl Dialect {
    pub fn new(app: AppState, config: CashDeskConfig) -> Dialect {
        Dialect {
            app,
            config,
            returns: tokio::sync::Mutex::new(()),
            counter: AtomicU64::new(0),
        }
    }

    async fn handle(
        &self,
        route: Route,
        query: HashMap<String, String>,
        headers: HeaderMap,
        body: Body,
        path_num_fiscal: Option<String>,
    ) -> Response {
        if let Some(developer) = headers.get("developer-id").and_then(|v| v.to_str().ok()) {
            tracing::info!(developer, ?route, "cashdesk request");
        }
        let mut desk = None;
        let result = self
            .answer(route, &query, &headers, body, path_num_fiscal, &mut desk)
            .await;
        let (response, open) = match result {
            Ok(answered) => (Json(answered.body).into_response(), answered.shift_open),
            Err(e) => {
                tracing::info!(?route, kind = %e.kind, message = %e.message, "cashdesk request refused");
                (e.into_response(), None)
            }
        };
        let open = match (open, &desk) {
            (Some(open), _) => Some(open),
            (None, Some(desk)) => self.facts(desk).and_then(|f| f.shift).map(|s| s.open),
            (None, None) => None,
        };
        with_shift_state(response, open)
    }

    async fn answer(
        &self,
        route: Route,
        query: &HashMap<String, String>,
        headers: &HeaderMap,
        body: Body,
        path_num_fiscal: Option<String>,
        found: &mut Option<CashDesk>,
    ) -> Result<Answered, DeskError> {
        let bytes = read_body(&self.app, body).await.map_err(|e| match e {
            BodyError::Late => DeskError::invalid("Тіло запиту не надійшло вчасно"),
            BodyError::TooLarge { limit } => {
                DeskError::invalid(format!("Тіло запиту більше за {limit} байт"))
            }
        })?;
        let m: Map<String, Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(DeskError::invalid("Тіло запиту має бути об'єктом JSON")),
                Err(e) => {
                    return Err(DeskError::invalid(format!(
                        "Тіло запиту не є коректним JSON: {e}"
                    )))
                }
            }
        };
        let num_fiscal =
            match path_num_fiscal {
                Some(text) => Some(text.trim().parse::<u64>().map_err(|_| {
                    DeskError::invalid(format!("num_fiscal: «{text}» не є числом"))
                })?),
                None => numbers::optional_whole(&m, "num_fiscal")?,
            };
        let num_fiscal =
            num_fiscal.ok_or_else(|| DeskError::invalid("Поле num_fiscal є обов'язковим"))?;
        let desk = self
            .config
            .desks
            .iter()
            .find(|d| d.num_fiscal == num_fiscal)
            .ok_or_else(|| {
                DeskError::not_found(format!(
                    "Касу з фіскальним номером {num_fiscal} не знайдено"
                ))
            })?
            .clone();
        *found = Some(desk.clone());
        authorize(&desk, query, &m, headers)?;
        let deadline = Instant::now() + self.config.answer_within;
        match route {
            Route::Sale => {
                let ask = RenderAsk::read(&m, headers)?;
                self.sale(&desk, &m, deadline, &ask).await
            }
            Route::Service => self.service(&desk, &m, deadline).await,
            Route::Shift => self.shift(&desk, &m, deadline).await,
            Route::XReport => self.x_report(&desk, deadline).await,
            Route::LastCheck => self.last_check(&desk),
            Route::TaxObject | Route::Ping => self.tax_object(&desk),
        }
    }

    fn facts(&self, desk: &CashDesk) -> Option<CashboxFacts> {
        self.app.facts_of(&desk.register)
    }

    fn cash_in_box(&self, desk: &CashDesk) -> Value {
        self.facts(desk)
            .and_then(|f| f.cash_in_drawer)
            .and_then(|k| i64::try_from(k).ok())
            .map(numbers::money)
            .unwrap_or(Value::Null)
    }

    fn settings(&self, desk: &CashDesk) -> SaleSettings {
        let width = self.app.tape_width(&desk.register);
        SaleSettings {
            letters: desk.letters.clone(),
            rounding: self.config.rounding,
            print_width: width,
            taxation: self.config.taxation,
        }
    }

    /// The journal every operation of `desk` refers to (`lastCheck` reads it).
    fn journal(desk: &CashDesk) -> Result<OperationId, DeskError> {
        OperationId::new(format!("{PREFIX}journal/{}", desk.num_fiscal))
            .map_err(|e| DeskError::unavailable("INTERNAL", e.to_string()))
    }

    /// A fresh operationId (an operation without the client's number).
    fn fresh_id(&self) -> Result<OperationId, DeskError> {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let digest = Sha256::digest(format!("fresh|{nanos}|{n}").as_bytes());
        let hex = hex::encode(digest);
        let uuid = uuid_of(&hex[..12], 'f', &hex[13..16], &hex[16..32]);
        OperationId::new(format!("{PREFIX}{uuid}"))
            .map_err(|e| DeskError::unavailable("INTERNAL", e.to_string()))
    }

    async fn submit(
        &self,
        id: OperationId,
        desk: &CashDesk,
        body: OperationBody,
    ) -> Result<Result<Operation, Operation>, DeskError> {
        self.submit_referring(id, desk, body, None).await
    }

    /// [`Dialect::submit`], the operation referring to `sale` too (a return to its sale).
    async fn submit_referring(
        &self,
        id: OperationId,
        desk: &CashDesk,
        body: OperationBody,
        sale: Option<&OperationId>,
    ) -> Result<Result<Operation, Operation>, DeskError> {
        let journal = Self::journal(desk)?;
        let mut targets = vec![&journal];
        targets.extend(sale);
        synchronous::submit(&self.app.store, id, &desk.register, body, &targets, false)
            .await
            .map_err(|e| match e {
                NotStored::TooLarge(message) => DeskError::invalid(message),
                NotStored::Store(e) => store_error(e),
            })
    }

    /// `op` once finished, or 503 `IN_PROGRESS` at `deadline` (it goes on).
    async fn finish(&self, op: Operation, deadline: Instant) -> Result<Operation, DeskError> {
        let op = synchronous::finish(&self.app.store, op, deadline)
            .await
            .map_err(|e| match e {
                Unfinished::InProgress(op) => {
                    let why = synchronous::waiting_reason(&op)
                        .map(|reason| format!(": {}", reason.message))
                        .unwrap_or_default();
                    DeskError::unavailable(
                        "IN_PROGRESS",
                        format!("Операція ще виконується{why}; повторіть той самий запит, щоб отримати результат"),
                    )
                }
                Unfinished::Store(e) => store_error(e),
                Unfinished::Vanished => {
                    DeskError::unavailable("INTERNAL", "Операція зникла зі сховища")
                }
            })?;
        if let OpState::Failed { reason } = &op.state {
            return Err(failure(reason));
        }
        Ok(op)
    }

    /// Runs an operation without the client's number to its end.
    async fn run(
        &self,
        desk: &CashDesk,
        body: OperationBody,
        deadline: Instant,
    ) -> Result<Operation, DeskError> {
        let id = self.fresh_id()?;
        let op = match self.submit(id, desk, body).await? {
            Ok(op) | Err(op) => op,
        };
        self.finish(op, deadline).await
    }

    /// A closed shift (as the register last said) with `open_shift` true gets an opening
    /// queued before what comes next; without it, 409 `SHIFT_CLOSED`.
    async fn shift_for(&self, desk: &CashDesk, open_shift: bool) -> Result<(), DeskError> {
        let closed = self
            .facts(desk)
            .and_then(|f| f.shift)
            .is_some_and(|s| !s.open);
        if !closed {
            return Ok(());
        }
        if !open_shift {
            return Err(DeskError::conflict(
                "SHIFT_CLOSED",
                "Зміна закрита: відкрийте її (POST /api/v2/shift, OPEN_SHIFT) або передайте open_shift: true",
            ));
        }
        let id = self.fresh_id()?;
        self.submit(
            id,
            desk,
            OperationBody::OpenShift(ShiftRequest { cashier: None }),
        )
        .await?
        .map_err(|_| DeskError::unavailable("INTERNAL", "Не вдалося поставити відкриття зміни"))?;
        Ok(())
    }

    // ---------------------------------------------------------------- check/sale

    async fn sale(
        &self,
        desk: &CashDesk,
        m: &Map<String, Value>,
        deadline: Instant,
        ask: &RenderAsk,
    ) -> Result<Answered, DeskError> {
        let request = sale::read(m, &self.settings(desk))?;
        let kind = kind_name(request.kind);
        let body = OperationBody::Receipt(request.receipt.clone());
        let mut attempt = 1;
        let mut races = 0;
        loop {
            let id = keyed_id(desk.num_fiscal, kind, request.local_number, attempt)?;
            let existing = self.app.store.get(&id).map_err(store_error)?;
            match existing {
                Some(op) if matches!(op.state, OpState::Failed { .. }) => {
                    attempt += 1;
                    if attempt > MAX_ATTEMPTS {
                        return Err(DeskError::conflict(
                            "CONFLICT",
                            format!("Чек local_number {} не вдався {MAX_ATTEMPTS} разів; передайте інший local_number", request.local_number),
                        ));
                    }
                }
                Some(op) => {
                    // Made (or being made) before: the same body gets its result. A return
                    // was stored with the marking codes it took from its sale.
                    let body = match self.replayed_return(desk, &request, &op) {
                        Some(receipt) => OperationBody::Receipt(receipt),
                        None => body,
                    };
                    return match self.submit(id, desk, body).await? {
                        Ok(op) => {
                            let op = self.finish(op, deadline).await?;
                            self.check_answer(desk, &op, ask)
                        }
                        Err(_) => Err(conflict(request.local_number)),
                    };
                }
                None => {
                    let submitted = if request.kind == ReceiptType::SaleReturn {
                        let _guard = self.returns.lock().await;
                        // Under the lock: a request with the same number may have stored it
                        // meanwhile, and it is not to be counted against itself.
                        if self.app.store.get(&id).map_err(store_error)?.is_some() {
                            Err(())
                        } else {
                            let sale = self.returned_sale(desk, &request)?;
                            let receipt = self.checked_return(&sale, &request, None)?;
                            self.shift_for(desk, request.open_shift).await?;
                            self.submit_referring(
                                id,
                                desk,
                                OperationBody::Receipt(receipt),
                                Some(&sale.id),
                            )
                            .await?
                            .map_err(|_| ())
                        }
                    } else {
                        self.shift_for(desk, request.open_shift).await?;
                        self.submit(id, desk, body.clone()).await?.map_err(|_| ())
                    };
                    match submitted {
                        Ok(op) => {
                            let op = self.finish(op, deadline).await?;
                            return self.check_answer(desk, &op, ask);
                        }
                        // Another request with the same number got there first: look again.
                        Err(()) if races < 3 => races += 1,
                        Err(()) => return Err(conflict(request.local_number)),
                    }
                }
            }
        }
    }

    /// The return `request` as it is stored: checked against `sale` and the returns made of it
    /// before (all but `replay`, the stored operation a replay repeats), a marked product
    /// given the code it was sold with where the request names none. 400 naming the product's
    /// field otherwise.
    fn checked_return(
        &self,
        sale: &Operation,
        request: &sale::SaleRequest,
        replay: Option<&OperationId>,
    ) -> Result<fiscal_model::Receipt, DeskError> {
        let OperationBody::Receipt(sold) = &sale.request.body else {
            return Err(unexpected());
        };
        let earlier: Vec<Operation> = self
            .app
            .store
            .referring_to(&sale.id)
            .map_err(store_error)?
            .into_iter()
            .filter(|op| Some(&op.id) != replay)
            .collect();
        let lines: Vec<returns::Line<'_>> = request
            .products
            .iter()
            .map(|p| returns::Line {
                name: &p.name,
                quantity: p.amount,
                marking: p.excise_barcode.as_ref().map(|c| c.as_bytes()),
            })
            .collect();
        let number = request.return_number.unwrap_or_default();
        match returns::check(sold, &earlier, &lines) {
            Ok(passed) => {
                let mut receipt = request.receipt.clone();
                passed.fill(&lines, &mut receipt);
                Ok(receipt)
            }
            Err(Problem::NotInSale { index, name }) => Err(DeskError::invalid(format!(
                "Поле products[{index}].name: товару «{name}» немає в чеку реалізації з local_number {number}"
            ))),
            Err(Problem::TooMany {
                index,
                name,
                asked,
                sold,
                returned,
            }) => Err(DeskError::invalid(format!(
                "Поле products[{index}].amount: повертається {asked} «{name}», а в чеку реалізації з local_number {number} продано {sold}, з них уже повернуто {returned}"
            ))),
            Err(Problem::CodeNotSold { index }) => Err(DeskError::invalid(format!(
                "Поле products[{index}].excise_barcode: з цією акцизною маркою товар у чеку реалізації з local_number {number} не продавався"
            ))),
            Err(Problem::CodeReturned { index }) => Err(DeskError::invalid(format!(
                "Поле products[{index}].excise_barcode: товар з цією акцизною маркою вже повернуто за чеком реалізації з local_number {number}"
            ))),
            Err(Problem::CodeRequired { index }) => Err(DeskError::invalid(format!(
                "Поле products[{index}].excise_barcode: у чеку реалізації з local_number {number} продано кілька «{}» з різними акцизними марками; вкажіть марку того, що повертається",
                lines.get(index).map(|l| l.name).unwrap_or_default()
            ))),
        }
    }

    /// A replayed return's receipt as it was stored (with the codes it took from its sale),
    /// when the request's own differs from the stored one; none when it cannot be told.
    fn replayed_return(
        &self,
        desk: &CashDesk,
        request: &sale::SaleRequest,
        stored: &Operation,
    ) -> Option<fiscal_model::Receipt> {
        if request.kind != ReceiptType::SaleReturn
            || matches!(&stored.request.body, OperationBody::Receipt(r) if *r == request.receipt)
        {
            return None;
        }
        let sale = self.returned_sale(desk, request).ok()?;
        self.checked_return(&sale, request, Some(&stored.id)).ok()
    }

    /// The sale a return names (`return_number` on `return_num_fiscal`, or this register),
    /// made by this gateway; 404 otherwise.
    fn returned_sale(
        &self,
        desk: &CashDesk,
        request: &sale::SaleRequest,
    ) -> Result<Operation, DeskError> {
        let number = request.return_number.unwrap_or_default();
        let num_fiscal = request.return_num_fiscal.unwrap_or(desk.num_fiscal);
        let found = synchronous::latest_attempt(
            &self.app.store,
            |attempt| keyed_id(num_fiscal, "sale", number, attempt),
            store_error,
        )?;
        match found {
            Some(op) if matches!(op.state, OpState::Done { .. }) => Ok(op),
            _ => Err(DeskError::not_found(format!(
                "Поле return_number: чек реалізації з local_number {number} на касі {num_fiscal} не знайдено"
            ))),
        }
    }

    /// The answer of a done check.
    fn check_answer(
        &self,
        desk: &CashDesk,
        op: &Operation,
        ask: &RenderAsk,
    ) -> Result<Answered, DeskError> {
        let OpState::Done {
            completion: Completion::Receipt(r),
            ..
        } = &op.state
        else {
            return Err(unexpected());
        };
        let uuid = uuid_of_id(&op.id);
        let mut f = Map::new();
        f.insert("ORDERNUM".into(), json!(r.fd_number.to_string()));
        insert_time(&mut f, r.date_time);
        f.insert("MAC".into(), json!(r.fiscal_sign.to_string()));
        f.insert("is_offline".into(), json!(self.is_offline(desk)));
        f.insert("local_number".into(), json!(local_number_of(uuid)));
        f.insert("uuid".into(), json!(uuid));
        f.insert("cash_in_box".into(), self.cash_in_box(desk));
        self.render_into(&mut f, op, uuid, ask);
        Ok(Answered::new(Value::Object(f)).shift(true))
    }

    /// Whether the register's FN has not reached the OFD: a document has waited for it longer
    /// than [`OFD_LATE`] (a working exchange sends within seconds), as its worker last read.
    fn is_offline(&self, desk: &CashDesk) -> bool {
        self.facts(desk)
            .and_then(|f| f.ofd_oldest)
            .is_some_and(|oldest| Utc::now().signed_duration_since(oldest) > OFD_LATE)
    }

    /// The rendered receipt's fields of a check's answer. The check is made whatever the
    /// rendering says: a PDF that cannot be made (no font) is `null` with `pdf_error` naming
    /// why.
    fn render_into(&self, f: &mut Map<String, Value>, op: &Operation, uuid: &str, ask: &RenderAsk) {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        if let Some(host) = &ask.host {
            f.insert(
                "link".into(),
                json!(format!(
                    "http://{host}/api/v2/checks/{uuid}/html?k={}",
                    self.link_token(uuid)
                )),
            );
        }
        let Some(view) = crate::receipt_view(&self.app, op) else {
            return;
        };
        f.insert(
            "text_print".into(),
            if ask.text {
                json!(b64(view.text(ask.print_width).as_bytes()))
            } else {
                Value::Null
            },
        );
        if ask.qr {
            f.insert("qr_data".into(), json!(view.qr_data()));
            match view.qr_png() {
                Ok(png) => f.insert("qr".into(), json!(b64(&png))),
                Err(e) => f.insert("qr_error".into(), json!(e.to_string())),
            };
        }
        if ask.pdf {
            match view.pdf(ask.pdf_width) {
                Ok(pdf) => {
                    f.insert("pdf".into(), json!(b64(&pdf)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cashdesk: the receipt's PDF cannot be made");
                    f.insert("pdf".into(), Value::Null);
                    f.insert("pdf_error".into(), json!(e.to_string()));
                }
            }
        }
    }

    /// The link's `k` for `uuid`: 32 hex digits of SHA-256(key ‖ uuid); none without a key.
    fn link_token(&self, uuid: &str) -> String {
        if self.config.link_key.is_empty() {
            return String::new();
        }
        let mut hasher = Sha256::new();
        hasher.update(&self.config.link_key);
        hasher.update(uuid.as_bytes());
        hex::encode(hasher.finalize())[..32].to_string()
    }

    /// The done check `uuid` names, rendered, for its `k` or its register's token.
    fn rendered(
        &self,
        uuid: &str,
        query: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Result<receipt_view::ReceiptView, DeskError> {
        let not_found = || DeskError::not_found(format!("Чек {uuid} не знайдено"));
        let id = OperationId::new(format!("{PREFIX}{uuid}")).map_err(|_| not_found())?;
        let op = self
            .app
            .store
            .get(&id)
            .map_err(store_error)?
            .ok_or_else(not_found)?;
        let by_link = !self.config.link_key.is_empty()
            && query.get("k").is_some_and(|k| {
                crate::tape::constant_time_eq(k.as_bytes(), self.link_token(uuid).as_bytes())
            });
        if !by_link {
            let desk = self
                .config
                .desks
                .iter()
                .find(|d| d.register == op.register.as_str())
                .ok_or_else(not_found)?;
            authorize(desk, query, &Map::new(), headers)?;
        }
        crate::receipt_view(&self.app, &op).ok_or_else(|| {
            DeskError::conflict("NOT_FISCALIZED", format!("Чек {uuid} ще не фіскалізовано"))
        })
    }

    /// A view of the done check `uuid` names (see [`check_view`]); an unknown view is 404
    /// listing those there are.
    fn check_page(
        &self,
        uuid: &str,
        view: &str,
        query: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Result<Response, DeskError> {
        let view = CheckView::named(view)?;
        let receipt = self.rendered(uuid, query, headers)?;
        let (content_type, body) = match view {
            CheckView::Text => (
                "text/plain; charset=utf-8",
                receipt
                    .text(query_width(query, "print_width", DEFAULT_PRINT_WIDTH))
                    .into_bytes(),
            ),
            CheckView::Html => ("text/html; charset=utf-8", receipt.html().into_bytes()),
            CheckView::Pdf => (
                "application/pdf",
                receipt
                    .pdf(query_width(query, "pdf_width", DEFAULT_PDF_WIDTH))
                    .map_err(|e| {
                        tracing::warn!(error = %e, "cashdesk: the receipt's PDF cannot be made");
                        DeskError::render_failed(format!("PDF чека не створено: {e}"))
                    })?,
            ),
            CheckView::Qr => (
                "image/png",
                receipt.qr_png().map_err(|e| {
                    DeskError::render_failed(format!("QR-код чека не створено: {e}"))
                })?,
            ),
        };
        Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
    }

    // ---------------------------------------------------------------- check/service

    async fn service(
        &self,
        desk: &CashDesk,
        m: &Map<String, Value>,
        deadline: Instant,
    ) -> Result<Answered, DeskError> {
        let kind = match crate::fields::optional_string(m, "", "action_type")? {
            Some("SERVICE_INPUT") => CashMovementKind::In,
            Some("SERVICE_OUTPUT") => CashMovementKind::Out,
            other => {
                return Err(DeskError::invalid(format!(
                    "Поле action_type: {} (очікується SERVICE_INPUT або SERVICE_OUTPUT)",
                    other.map_or("є обов'язковим".to_string(), |o| format!(
                        "«{o}» невідоме"
                    ))
                )))
            }
        };
        let sum =
            numbers::non_negative_kopecks(numbers::required(m, "", "sum", SUM_DECIMALS)?, "sum")?;
        if sum == 0 {
            return Err(DeskError::invalid("Поле sum: має бути більшим за 0"));
        }
        let local = numbers::optional_whole(m, "local_number")?;
        self.shift_for(desk, fields_open_shift(m)?).await?;
        let body = OperationBody::Cash(CashMovement {
            kind,
            amount: Kopecks(sum),
        });
        let id = match local {
            Some(n) => keyed_id(
                desk.num_fiscal,
                if kind == CashMovementKind::In {
                    "service_input"
                } else {
                    "service_output"
                },
                n,
                1,
            )?,
            None => self.fresh_id()?,
        };
        let op = match self.submit(id, desk, body).await? {
            Ok(op) => op,
            Err(_) => return Err(conflict(local.unwrap_or_default())),
        };
        let op = self.finish(op, deadline).await?;
        let OpState::Done {
            completion: Completion::Cash(result),
            ..
        } = &op.state
        else {
            return Err(unexpected());
        };
        let mut f = Map::new();
        f.insert("ORDERNUM".into(), json!(result.document_number.to_string()));
        insert_time(&mut f, result.date_time);
        f.insert("uuid".into(), json!(uuid_of_id(&op.id)));
        f.insert("local_number".into(), json!(local));
        f.insert("cash_in_box".into(), self.cash_in_box(desk));
        Ok(Answered::new(Value::Object(f)).shift(true))
    }

    // ---------------------------------------------------------------- shift

    async fn shift(
        &self,
        desk: &CashDesk,
        m: &Map<String, Value>,
        deadline: Instant,
    ) -> Result<Answered, DeskError> {
        let open = match crate::fields::optional_string(m, "", "action_type")? {
            Some("OPEN_SHIFT") => true,
            Some("Z_REPORT") => false,
            other => {
                return Err(DeskError::invalid(format!(
                    "Поле action_type: {} (OPEN_SHIFT — відкрити зміну, Z_REPORT — закрити)",
                    other.map_or("є обов'язковим".to_string(), |o| format!(
                        "«{o}» невідоме"
                    ))
                )))
            }
        };
        let request = ShiftRequest { cashier: None };
        let body = if open {
            OperationBody::OpenShift(request)
        } else {
            OperationBody::CloseShift(request)
        };
        let op = self.run(desk, body, deadline).await?;
        let OpState::Done {
            completion: Completion::Shift(result),
            ..
        } = &op.state
        else {
            return Err(unexpected());
        };
        if !result.made {
            return Err(if open {
                DeskError::conflict("SHIFT_OPENED", "Зміна відкрита")
            } else {
                DeskError::conflict("SHIFT_CLOSED", "Зміна закрита")
            });
        }
        let mut f = Map::new();
        f.insert("uuid".into(), json!(uuid_of_id(&op.id)));
        f.insert(
            "ORDERNUM".into(),
            json!(result.fd_number.map(|n| n.to_string())),
        );
        f.insert(
            "MAC".into(),
            json!(result.fiscal_sign.map(|n| n.to_string())),
        );
        if let Some(at) = result.date_time {
            insert_time(&mut f, at);
        }
        f.insert("shift_number".into(), json!(result.shift_number));
        f.insert("cash_in_box".into(), self.cash_in_box(desk));
        Ok(Answered::new(Value::Object(f)).shift(open))
    }

    async fn x_report(&self, desk: &CashDesk, deadline: Instant) -> Result<Answered, DeskError> {
        let shift = self.facts(desk).and_then(|f| f.shift);
        let mut f = Map::new();
        if shift.as_ref().is_some_and(|s| !s.open) {
            // Zero values for a closed shift (reference §2); nothing is printed.
            f.insert("shift_state".into(), json!(false));
            f.insert("cash_in_box".into(), self.cash_in_box(desk));
            f.insert("real".into(), json!({"orders_count": 0}));
            return Ok(Answered::new(Value::Object(f)).shift(false));
        }
        self.run(desk, OperationBody::XReport, deadline).await?;
        let shift = self.facts(desk).and_then(|f| f.shift);
        f.insert("shift_state".into(), json!(true));
        f.insert("cash_in_box".into(), self.cash_in_box(desk));
        f.insert(
            "shift_number".into(),
            json!(shift.as_ref().and_then(|s| s.number)),
        );
        f.insert(
            "real".into(),
            json!({"orders_count": shift.as_ref().and_then(|s| s.receipts)}),
        );
        Ok(Answered::new(Value::Object(f)).shift(true))
    }

    // ---------------------------------------------------------------- lastCheck, tax_objects

    /// The last document of the current shift this dialect made on `desk`; every field null
    /// when the shift has none (or is closed).
    fn last_check(&self, desk: &CashDesk) -> Result<Answered, DeskError> {
        let nothing = || {
            json!({"ORDERNUM": null, "ORDERDATE": null, "ORDERTIME": null, "MAC": null,
                   "uuid": null, "local_number": null, "type_": null})
        };
        if self
            .facts(desk)
            .and_then(|f| f.shift)
            .is_some_and(|s| !s.open)
        {
            return Ok(Answered::new(nothing()));
        }
        let mut ops = self
            .app
            .store
            .referring_to(&Self::journal(desk)?)
            .map_err(store_error)?;
        ops.sort_by_key(|op| op.seq);
        for op in ops.iter().rev() {
            let OpState::Done { completion, .. } = &op.state else {
                continue;
            };
            let uuid = uuid_of_id(&op.id);
            let mut f = Map::new();
            match completion {
                Completion::Receipt(r) => {
                    let receipt = match &op.request.body {
                        OperationBody::Receipt(receipt) => receipt,
                        _ => continue,
                    };
                    let type_ = if receipt.receipt_type == ReceiptType::SaleReturn {
                        "RETURN"
                    } else {
                        "Z_SALE"
                    };
                    f.insert("ORDERNUM".into(), json!(r.fd_number.to_string()));
                    insert_time(&mut f, r.date_time);
                    f.insert("MAC".into(), json!(r.fiscal_sign.to_string()));
                    f.insert("uuid".into(), json!(uuid));
                    f.insert("local_number".into(), json!(local_number_of(uuid)));
                    f.insert("type_".into(), json!(type_));
                    f.insert(
                        "sum".into(),
                        numbers::money(i64::try_from(receipt.total.0).unwrap_or(i64::MAX)),
                    );
                }
                Completion::Cash(c) => {
                    let type_ = match &op.request.body {
                        OperationBody::Cash(m) if m.kind == CashMovementKind::Out => {
                            "SERVICE_OUTPUT"
                        }
                        _ => "SERVICE_INPUT",
                    };
                    f.insert("ORDERNUM".into(), json!(c.document_number.to_string()));
                    insert_time(&mut f, c.date_time);
                    f.insert("MAC".into(), Value::Null);
                    f.insert("uuid".into(), json!(uuid));
                    f.insert("local_number".into(), Value::Null);
                    f.insert("type_".into(), json!(type_));
                }
                // A shift report before any check: the shift has no operations.
                Completion::Shift(_) => return Ok(Answered::new(nothing())),
                _ => continue,
            }
            return Ok(Answered::new(Value::Object(f)));
        }
        Ok(Answered::new(nothing()))
    }

    fn tax_object(&self, desk: &CashDesk) -> Result<Answered, DeskError> {
        let facts = self.facts(desk).unwrap_or_default();
        let shift = facts.shift.as_ref().map(|s| {
            json!({
                "id": s.number,
                "state": if s.open { "OPENED" } else { "CLOSED" },
                "open_date": s.opened_at.map(|t| t.format("%d.%m.%Y %H:%M:%S").to_string()),
                "offline": false,
            })
        });
        Ok(Answered::new(json!({
            "data": {
                "id": desk.num_fiscal,
                "num_fiscal": desk.num_fiscal,
                "name": desk.register,
                "tin": facts.inn,
                "fn_number": facts.fn_number,
                "rnm": facts.rnm,
                "model": facts.model,
                "ready": facts.ready,
                "cash_in_box": self.cash_in_box(desk),
                "shift": shift,
            }
        })))
    }
}

/// `open_shift` of a service body.
fn fields_open_shift(m: &Map<String, Value>) -> Result<bool, DeskError> {
    Ok(crate::fields::optional_boolean(m, "", "open_shift")?.unwrap_or(false))
}

fn conflict(local_number: u64) -> DeskError {
    DeskError::conflict(
        "CONFLICT",
        format!("Поле local_number: {local_number} вже використано для іншого чека"),
    )
}

/// A failed operation: the register's reason, 409 for a shift in the wrong state, 503
/// otherwise.
fn failure(reason: &queue::Reason) -> DeskError {
    let message = format!("{} ({})", reason.message, reason.code);
    match reason.code.as_str() {
        "SHIFT_CLOSED" | "SHIFT_OVER_24H" => DeskError::conflict(&reason.code, message),
        code => DeskError::unavailable(code, message),
    }
}

fn kind_name(kind: ReceiptType) -> &'static str {
    if kind == ReceiptType::SaleReturn {
        "return"
    } else {
        "sale"
    }
}

fn insert_time(f: &mut Map<String, Value>, at: NaiveDateTime) {
    f.insert("ORDERDATE".into(), json!(at.format("%Y-%m-%d").to_string()));
    f.insert("ORDERTIME".into(), json!(at.format("%H:%M:%S").to_string()));
}

/// 8-4-4-4-12 from 12 hex digits, a marker digit, 3 hex digits and 16 hex digits.
fn uuid_of(head: &str, marker: char, mid: &str, tail: &str) -> String {
    format!(
        "{}-{}-{marker}{}-{}-{}",
        &head[..8],
        &head[8..12],
        mid,
        &tail[..4],
        &tail[4..16]
    )
}

/// The operationId of attempt `attempt` of check `local_number` of `kind` on `num_fiscal`:
/// `cashdesk/<uuid>`, the uuid's last 16 hex digits the number itself, its third group
/// marked `c`.
fn keyed_id(
    num_fiscal: u64,
    kind: &str,
    local_number: u64,
    attempt: u32,
) -> Result<OperationId, DeskError> {
    let digest = Sha256::digest(format!("{num_fiscal}|{kind}|{attempt}").as_bytes());
    let hex = hex::encode(digest);
    let uuid = uuid_of(
        &hex[..12],
        'c',
        &hex[13..16],
        &format!("{local_number:016x}"),
    );
    OperationId::new(format!("{PREFIX}{uuid}"))
        .map_err(|e| DeskError::unavailable("INTERNAL", e.to_string()))
}

/// The uuid in a dialect's operationId.
fn uuid_of_id(id: &OperationId) -> &str {
    id.as_str().strip_prefix(PREFIX).unwrap_or(id.as_str())
}

/// The client's number a keyed uuid carries.
fn local_number_of(uuid: &str) -> Option<u64> {
    let hex: String = uuid.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || hex.as_bytes().get(12) != Some(&b'c') {
        return None;
    }
    u64::from_str_radix(&hex[16..], 16).ok()
}

/// The token of a request (query, body, `Authorization`), checked against `desk`'s digests.
fn authorize(
    desk: &CashDesk,
    query: &HashMap<String, String>,
    m: &Map<String, Value>,
    headers: &HeaderMap,
) -> Result<(), DeskError> {
    let mut tokens: Vec<String> = Vec::new();
    if let Some(t) = query.get("api_token") {
        tokens.push(t.clone());
    }
    if let Some(Value::String(t)) = m.get("api_token") {
        tokens.push(t.clone());
    }
    if let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let h = h.trim();
        let t = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .unwrap_or(h);
        tokens.push(t.trim().to_string());
    }
    if tokens.is_empty() {
        return Err(DeskError::unauthorized(
            "Не передано api_token (у запиті, у тілі або в заголовку Authorization)",
        ));
    }
    let accepted = tokens.iter().any(|t| {
        let digest = super::token_digest(t);
        desk.token_digests.iter().fold(false, |ok, d| {
            ok | crate::tape::constant_time_eq(d, &digest)
        })
    });
    if accepted {
        Ok(())
    } else {
        Err(DeskError::unauthorized(format!(
            "api_token недійсний для каси {}",
            desk.num_fiscal
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn a_checks_uuid_is_stable_and_carries_its_local_number() {
        let a = keyed_id(4000000001, "sale", 12, 1).unwrap();
        let b = keyed_id(4000000001, "sale", 12, 1).unwrap();
        assert_eq!(a, b);
        let uuid = uuid_of_id(&a);
        assert_eq!(uuid.len(), 36);
        assert_eq!(uuid.matches('-').count(), 4);
        assert_eq!(local_number_of(uuid), Some(12));
        assert_ne!(a, keyed_id(4000000001, "return", 12, 1).unwrap());
        assert_ne!(a, keyed_id(4000000001, "sale", 12, 2).unwrap());
        assert_ne!(a, keyed_id(4000000002, "sale", 12, 1).unwrap());
        assert_eq!(
            local_number_of(uuid_of_id(&keyed_id(1, "sale", u64::MAX, 1).unwrap())),
            Some(u64::MAX)
        );
    }
}
