//! Typed commands and answers of the message layer (§3, §6, §7): one struct per command, each
//! knowing its code, request layout, answer layout, idempotency class (§10.1) and recommended
//! answer timeout (§2.4).
//!
//! A message here is what the frame's LEN counts: code byte(s), then parameters (request) or
//! error byte and data (answer). Framing, retries and timing live in `frame` and `link`.
//! Money is plain `u64` kopecks and quantities `u64` millionths: mapping from domain types is
//! the driver's job. Every command also has a request decoder and an answer encoder, for
//! round-trip tests and tools; the emulator does not use them (it has its own parser).

pub(crate) mod wire;

pub mod cash;
pub mod clock;
pub mod fn_query;
pub mod marking;
pub mod print;
pub mod receipt;
pub mod register;
pub mod shift;
pub mod status;
pub mod table;

use std::time::Duration;

use crate::error::ErrorCode;

pub use cash::{CashIn, CashMovementAnswer, CashOut};
pub use clock::{ConfirmDate, SetDate, SetTime};
pub use fn_query::{
    BeginReadDocument, DocumentBlock, DocumentDetails, DocumentHeader, FindDocument,
    FiscalizationAnswer, FiscalizationExtension, FnExpiry, FnExpiryAnswer, FnSerial,
    FnSerialAnswer, FnStatus, FnStatusAnswer, FnVersion, FnVersionAnswer, FoundDocument,
    LastFiscalization, OfdExchangeStatus, OfdExchangeStatusAnswer, ReadDocumentBlock,
};
pub use marking::{
    BindAnswer, BindMarkingCode, CheckMarkingCode, CheckResult, DecideMarkingCode,
    MarkingCheckAnswer, MarkingDecision, OnlineCheck, PlannedStatus,
};
pub use print::{Cut, CutKind, PrintLine, RepeatDocument};
pub use receipt::{
    AttachItemTlv, AttachTlv, CancelReceipt, CheckType, CloseReceiptAnswer, CloseReceiptV2,
    ContinuePrinting, OpenCorrectionReceipt, OpenReceipt, OperationKind, OperationV2, Subtotal,
    SubtotalAnswer,
};
pub use register::{MoneyRegister, OperationRegister, RegisterAnswer};
pub use shift::{
    BeginShiftClosing, BeginShiftOpening, CloseShiftFn, CloseShiftFnAnswer, OpenShift,
    OpenShiftAnswer, ShiftParams, ShiftParamsAnswer, XReport, ZReport,
};
pub use status::{
    DeviceType, DeviceTypeAnswer, ErrorText, FullStatus, FullStatusAnswer, ModelParams,
    ModelParamsAnswer, ShortStatus, ShortStatusAnswer,
};
pub use table::{ReadTable, TableStructure, TableStructureAnswer, TableValue, WriteTable};
pub use wire::{Date, DateTime, OperatorAnswer, Reader, Time};

/// A command the host sends and the answer it gets back: one struct and its layout.
///
/// An implementation gives the constants and the four layout functions (request parameters
/// and answer data, each read and written); framing the message with the code, the error byte
/// check of the answer (§3) and the trailing-bytes check of a decoded request are done once,
/// here.
pub trait Command: Sized {
    /// The decoded data of a successful answer.
    type Answer;

    /// Command code: one byte, or `FF xx` for the FN group (§3).
    const CODE: &'static [u8];
    /// Short name for logs and errors, e.g. "FF45 close receipt".
    const NAME: &'static str;
    /// What repeating the command would do (§10.1).
    const CLASS: CommandClass;
    /// How long to wait for the answer after the device accepted the frame (§2.4).
    const TIMEOUT: Duration;

    /// Appends the request parameters (everything after the code).
    fn put_params(&self, out: &mut Vec<u8>);

    /// Reads the request parameters back (round-trip tests and tools).
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError>;

    /// Reads the data of a successful answer (everything after the error byte).
    fn read_answer(r: &mut Reader<'_>) -> Result<Self::Answer, AnswerError>;

    /// Appends the data of a successful answer (round-trip tests and tools).
    fn put_answer(answer: &Self::Answer, out: &mut Vec<u8>);

    /// The whole request message: code byte(s) and parameters. Every value must be in range
    /// ([`Command::check`]); callers that send use [`Command::try_encode`].
    fn encode(&self) -> Vec<u8> {
        wire::request(Self::CODE, |out| self.put_params(out))
    }

    /// Refuses a value its field cannot carry (money over five bytes, a quantity over six):
    /// such a value is never sent cut down or capped.
    fn check(&self) -> Result<(), OutOfRange> {
        Ok(())
    }

    /// [`Command::encode`] after [`Command::check`]: the only encoding the driver sends.
    fn try_encode(&self) -> Result<Vec<u8>, OutOfRange> {
        self.check()?;
        Ok(self.encode())
    }

    /// Decodes an answer message (`code | error | data`). A non-zero error byte gives
    /// [`AnswerError::Device`], including the short `FF err` form (§3).
    fn decode_answer(msg: &[u8]) -> Result<Self::Answer, AnswerError> {
        let data = wire::answer_data(msg, Self::CODE, Self::NAME)?;
        Self::read_answer(&mut Reader::new(data, Self::NAME))
    }

    /// The class of this value: [`Command::CLASS`] unless the parameters change it (FF69).
    fn class(&self) -> CommandClass {
        Self::CLASS
    }

    /// [`Command::TIMEOUT`], for a value at hand.
    fn timeout(&self) -> Duration {
        Self::TIMEOUT
    }

    /// [`Command::NAME`], for a value at hand.
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Decodes a request message back into the command (round-trip tests and tools); nothing
    /// may follow the last parameter.
    fn decode(msg: &[u8]) -> Result<Self, AnswerError> {
        let params = wire::request_params(msg, Self::CODE, Self::NAME)?;
        let mut r = Reader::new(params, Self::NAME);
        let command = Self::read_params(&mut r)?;
        r.finish()?;
        Ok(command)
    }

    /// Encodes a successful answer message (round-trip tests and tools).
    fn encode_answer(answer: &Self::Answer) -> Vec<u8> {
        let mut data = Vec::new();
        Self::put_answer(answer, &mut data);
        wire::answer_message(Self::CODE, &data)
    }
}

/// What happens if a command is sent twice (§10.1); the driver's resend policy keys on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandClass {
    /// No side effect: always safe to repeat.
    Read,
    /// Same end state when repeated with the same value.
    IdempotentWrite,
    /// A repeat fails with a state error that means "already done" once state confirms it.
    SelfGuarding,
    /// A repeat duplicates something (item, money movement, tags, print): never resend blindly.
    Dangerous,
}

/// A request field holds a value its wire field cannot carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{command}: {field} = {value} exceeds the largest value the register can hold ({max})")]
pub struct OutOfRange {
    /// The command, e.g. "FF46 operation".
    pub command: &'static str,
    /// The field, e.g. "price".
    pub field: &'static str,
    /// The value asked for.
    pub value: u64,
    /// The largest value the field carries.
    pub max: u64,
}

/// `Err` naming `field` when `value` is above `max`.
pub(crate) fn in_range(
    command: &'static str,
    field: &'static str,
    value: u64,
    max: u64,
) -> Result<(), OutOfRange> {
    if value > max {
        Err(OutOfRange {
            command,
            field,
            value,
            max,
        })
    } else {
        Ok(())
    }
}

/// Why an answer could not be turned into data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    /// The device answered with a non-zero error byte: the command was refused.
    #[error("device error {0}")]
    Device(ErrorCode),
    /// The message does not have the layout of this command (also used for bad requests in
    /// [`Command::decode`]).
    #[error("malformed message: {0}")]
    Malformed(String),
}

/// A 4-byte operator password (§4), e.g. 30 for the system administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Password(pub u32);

impl Password {
    /// Default system administrator password (§4, table 2 row 30).
    pub const SYSTEM_ADMIN: Password = Password(30);
    /// Default administrator password (§4, table 2 row 29).
    pub const ADMIN: Password = Password(29);
}

/// §2.4: status queries are quick.
pub const TIMEOUT_STATUS: Duration = Duration::from_secs(3);
/// §2.4: 30 s for any fiscal or printing command.
pub const TIMEOUT_FISCAL: Duration = Duration::from_secs(30);
/// §2.4: opening and closing a shift print long reports and talk to the FN.
pub const TIMEOUT_SHIFT: Duration = Duration::from_secs(120);

/// Largest 5-byte money value (§3); FF46 uses all-ones as "not given", so the largest amount is
/// one below it. The product's one money maximum (`fiscal_model` refuses above it too).
pub const MAX_MONEY: u64 = 0xFF_FFFF_FFFE;
/// Largest 6-byte quantity in millionths (§3, FF46).
pub const MAX_QUANTITY: u64 = 0xFFFF_FFFF_FFFF;
