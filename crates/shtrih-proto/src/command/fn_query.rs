//! FN queries (§7.8): 0xFF01 status, 0xFF02 serial, 0xFF03 expiry, 0xFF04 version, 0xFF09 last
//! fiscalization, 0xFF0A find document, 0xFF39 OFD exchange status. All are pure reads (§10.1) and
//! take the system administrator's password (§4).
//!
//! FF09 and FF0A have layouts that vary with FFD version and document type; they are parsed by
//! length and type, and anything not understood is kept raw instead of refused.

use std::time::Duration;

use super::wire::{commands, put_money, put_password, AnswerData, DocumentTail, Reader};
use super::{AnswerError, Command, CommandClass, Date, DateTime, Password, TIMEOUT_STATUS};
use crate::text;

/// FN serial width (§3, §7.8).
const SERIAL_LEN: usize = 16;
/// INN width in FN answers (§3).
const INN_LEN: usize = 12;
/// RNM width in FN answers (§3).
const RNM_LEN: usize = 20;

/// Answer data of FF01 FN status (§7.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FnStatusAnswer {
    /// Life phase bits (0x03 = configured + fiscal mode open).
    pub life_phase: u8,
    /// Document open in the FN (00 none, 01 registration, 02 open shift, 04 receipt, 08 close
    /// shift, …; §7.8).
    pub document_open: u8,
    /// Document data received.
    pub document_data_received: bool,
    /// Shift open in the FN.
    pub shift_open: bool,
    /// Warning flags (bit0 replace urgently, bit1 resource, bit2 memory 90 %, bit3 OFD timeout).
    pub warnings: u8,
    /// Date-time of the last FD (§7.8, inferred from captures).
    pub last_document_time: DateTime,
    /// FN serial number.
    pub serial: String,
    /// Number of the last FD.
    pub last_fd_number: u32,
}

impl FnStatusAnswer {
    /// No document open in the FN.
    pub const NO_DOCUMENT: u8 = 0x00;
    /// A receipt is open in the FN.
    pub const RECEIPT_OPEN: u8 = 0x04;
}

impl AnswerData for FnStatusAnswer {
    fn read(r: &mut Reader<'_>) -> Result<FnStatusAnswer, AnswerError> {
        Ok(FnStatusAnswer {
            life_phase: r.u8()?,
            document_open: r.u8()?,
            document_data_received: r.u8()? != 0,
            shift_open: r.u8()? != 0,
            warnings: r.u8()?,
            last_document_time: DateTime::from_fn(r.array()?),
            serial: text::decode_identifier(r.bytes(SERIAL_LEN)?),
            last_fd_number: r.u32()?,
        })
    }

    fn put(&self, d: &mut Vec<u8>) {
        d.extend_from_slice(&[
            self.life_phase,
            self.document_open,
            u8::from(self.document_data_received),
            u8::from(self.shift_open),
            self.warnings,
        ]);
        d.extend_from_slice(&self.last_document_time.to_fn());
        d.extend(text::encode_identifier(&self.serial, SERIAL_LEN));
        d.extend_from_slice(&self.last_fd_number.to_le_bytes());
    }
}

/// Answer data of FF02: the FN serial number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FnSerialAnswer {
    /// FN serial (16 ASCII, padding trimmed).
    pub serial: String,
}

impl AnswerData for FnSerialAnswer {
    fn read(r: &mut Reader<'_>) -> Result<FnSerialAnswer, AnswerError> {
        Ok(FnSerialAnswer {
            serial: text::decode_identifier(r.bytes(SERIAL_LEN)?),
        })
    }
    fn put(&self, d: &mut Vec<u8>) {
        d.extend(text::encode_identifier(&self.serial, SERIAL_LEN));
    }
}

/// Answer data of FF03 (§7.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FnExpiryAnswer {
    /// FN expiry date.
    pub expiry: Date,
    /// Re-registrations remaining and done, on newer firmware (UNCONFIRMED per model).
    pub registrations: Option<(u8, u8)>,
}

impl AnswerData for FnExpiryAnswer {
    fn read(r: &mut Reader<'_>) -> Result<FnExpiryAnswer, AnswerError> {
        let expiry = Date::from_fn(r.array()?);
        let registrations = if r.remaining() >= 2 {
            Some((r.u8()?, r.u8()?))
        } else {
            None
        };
        Ok(FnExpiryAnswer {
            expiry,
            registrations,
        })
    }
    fn put(&self, d: &mut Vec<u8>) {
        d.extend_from_slice(&self.expiry.to_fn());
        if let Some((left, done)) = self.registrations {
            d.extend_from_slice(&[left, done]);
        }
    }
}

/// Answer data of FF04 (§7.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FnVersionAnswer {
    /// FN firmware version (16 ASCII, padding trimmed).
    pub version: String,
    /// Firmware type: 0 debug, 1 serial.
    pub firmware_type: u8,
}

impl AnswerData for FnVersionAnswer {
    fn read(r: &mut Reader<'_>) -> Result<FnVersionAnswer, AnswerError> {
        Ok(FnVersionAnswer {
            version: text::decode_identifier(r.bytes(16)?),
            firmware_type: r.u8()?,
        })
    }
    fn put(&self, d: &mut Vec<u8>) {
        d.extend(text::encode_identifier(&self.version, 16));
        d.push(self.firmware_type);
    }
}

/// FFD 1.1+ fields of FF09, between the work mode and the FD number (§7.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FiscalizationExtension {
    /// Extended work-mode flags.
    pub work_flags: u8,
    /// OFD INN.
    pub ofd_inn: String,
    /// Reason code for the change.
    pub reason: u32,
}

/// Answer data of FF09 last fiscalization (§7.8), both FFD layouts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FiscalizationAnswer {
    /// Date-time of the fiscalization.
    pub date_time: DateTime,
    /// User INN.
    pub inn: String,
    /// KKT registration number (RNM).
    pub rnm: String,
    /// Registered tax systems (§8.6 bits).
    pub tax_systems: u8,
    /// Work mode bits.
    pub work_mode: u8,
    /// FFD 1.1+ fields, when the answer has them.
    pub extension: Option<FiscalizationExtension>,
    /// FD number of the registration report.
    pub fd_number: u32,
    /// Its fiscal sign.
    pub fiscal_sign: u32,
    /// Trailing date-time of the extended-answer setting, when present.
    pub extended_date_time: Option<DateTime>,
}

/// FF09 data length of the FFD 1.0/1.05 layout (§7.8: LEN 50 − 3).
const FF09_OLD_LEN: usize = 47;
/// FF09 data length of the FFD 1.1+ layout (§7.8: LEN 67 − 3).
const FF09_NEW_LEN: usize = 64;

impl AnswerData for FiscalizationAnswer {
    fn read(r: &mut Reader<'_>) -> Result<FiscalizationAnswer, AnswerError> {
        let len = r.remaining();
        let date_time = DateTime::from_fn(r.array()?);
        let inn = text::decode_identifier(r.bytes(INN_LEN)?);
        let rnm = text::decode_identifier(r.bytes(RNM_LEN)?);
        let tax_systems = r.u8()?;
        let work_mode = r.u8()?;
        // The 1.05 layout is 47 bytes (52 extended); 1.1+ is 64 (69 extended): only the long
        // form can hold the extension.
        let extension = if len >= FF09_NEW_LEN {
            Some(FiscalizationExtension {
                work_flags: r.u8()?,
                ofd_inn: text::decode_identifier(r.bytes(INN_LEN)?),
                reason: r.u32()?,
            })
        } else {
            None
        };
        let tail = DocumentTail::read(r)?;
        Ok(FiscalizationAnswer {
            date_time,
            inn,
            rnm,
            tax_systems,
            work_mode,
            extension,
            fd_number: tail.fd_number,
            fiscal_sign: tail.fiscal_sign,
            extended_date_time: tail.date_time,
        })
    }

    fn put(&self, d: &mut Vec<u8>) {
        let start = d.len();
        d.extend_from_slice(&self.date_time.to_fn());
        d.extend(text::encode_identifier(&self.inn, INN_LEN));
        d.extend(text::encode_identifier(&self.rnm, RNM_LEN));
        d.push(self.tax_systems);
        d.push(self.work_mode);
        if let Some(ext) = &self.extension {
            d.push(ext.work_flags);
            d.extend(text::encode_identifier(&ext.ofd_inn, INN_LEN));
            d.extend_from_slice(&ext.reason.to_le_bytes());
        }
        DocumentTail {
            fd_number: self.fd_number,
            fiscal_sign: self.fiscal_sign,
            date_time: self.extended_date_time,
        }
        .put(d);
        debug_assert!(d.len() - start >= FF09_OLD_LEN);
    }
}

/// Answer data of FF39 OFD exchange status (§7.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfdExchangeStatusAnswer {
    /// Status bits (bit0 transport up, bit1 message waiting, bit2 waiting for ticket, …).
    pub status: u8,
    /// Read-message state.
    pub read_message_state: u8,
    /// Messages queued for the OFD.
    pub queue_len: u16,
    /// FD number of the first queued document.
    pub first_fd_number: u32,
    /// Date-time of the first queued document.
    pub first_date_time: DateTime,
}

impl AnswerData for OfdExchangeStatusAnswer {
    fn read(r: &mut Reader<'_>) -> Result<OfdExchangeStatusAnswer, AnswerError> {
        Ok(OfdExchangeStatusAnswer {
            status: r.u8()?,
            read_message_state: r.u8()?,
            queue_len: r.u16()?,
            first_fd_number: r.u32()?,
            first_date_time: DateTime::from_fn(r.array()?),
        })
    }
    fn put(&self, d: &mut Vec<u8>) {
        d.extend_from_slice(&[self.status, self.read_message_state]);
        d.extend_from_slice(&self.queue_len.to_le_bytes());
        d.extend_from_slice(&self.first_fd_number.to_le_bytes());
        d.extend_from_slice(&self.first_date_time.to_fn());
    }
}

commands! {
    password;
    /// 0xFF01: FN status: life phase, open document, shift, last FD number (§7.8).
    FnStatus = &[0xFF, 0x01], "FF01 FN status", Read, TIMEOUT_STATUS, FnStatusAnswer;
    /// 0xFF02: FN serial number (§7.8).
    FnSerial = &[0xFF, 0x02], "FF02 FN serial", Read, TIMEOUT_STATUS, FnSerialAnswer;
    /// 0xFF03: FN expiry date (§7.8).
    FnExpiry = &[0xFF, 0x03], "FF03 FN expiry", Read, TIMEOUT_STATUS, FnExpiryAnswer;
    /// 0xFF04: FN firmware version (§7.8).
    FnVersion = &[0xFF, 0x04], "FF04 FN version", Read, TIMEOUT_STATUS, FnVersionAnswer;
    /// 0xFF09: data of the last fiscalization (registration) (§7.8).
    LastFiscalization = &[0xFF, 0x09], "FF09 last fiscalization", Read, TIMEOUT_STATUS, FiscalizationAnswer;
    /// 0xFF39: OFD exchange status (§7.8).
    OfdExchangeStatus = &[0xFF, 0x39], "FF39 OFD exchange status", Read, TIMEOUT_STATUS, OfdExchangeStatusAnswer;
}

/// 0xFF0A: find a fiscal document in the FN archive by FD number (§7.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FindDocument {
    /// Password.
    pub password: Password,
    /// FD number to look up.
    pub fd_number: u32,
}

/// Type-specific part of an FF0A answer (§7.8; archive types are FFD form codes, §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentDetails {
    /// Type 1: registration report.
    Registration {
        /// User INN.
        inn: String,
        /// RNM.
        rnm: String,
        /// Registered tax systems.
        tax_systems: u8,
        /// Work mode bits.
        work_mode: u8,
        /// FFD 1.1+ fields after the work mode, raw.
        extra: Vec<u8>,
    },
    /// Type 2 (open-shift) or 5 (close-shift) report.
    Shift {
        /// Shift number.
        shift_number: u16,
    },
    /// Type 3 (receipt), 4 (BSO), 31 (correction receipt) or 41 (correction BSO): the
    /// correction layout is UNCONFIRMED (§7.8 "probably as 3"), read as the receipt's.
    Receipt {
        /// Operation type byte (tag 1054; see `OperationKind::from_byte`).
        operation: u8,
        /// Total in kopecks.
        total: u64,
    },
    /// Any other type: the bytes after the common part, unparsed (layouts UNCONFIRMED, §13.9).
    Raw(Vec<u8>),
}

/// Answer data of FF0A (§7.8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FoundDocument {
    /// Archive document type (FFD form code: 1, 2, 3, 4, 5, 11, 21, 31, 41, 6 …).
    pub doc_type: u8,
    /// OFD ticket received for this document.
    pub ofd_ticket_received: bool,
    /// Document date-time.
    pub date_time: DateTime,
    /// FD number.
    pub fd_number: u32,
    /// Fiscal sign.
    pub fiscal_sign: u32,
    /// Type-specific data.
    pub details: DocumentDetails,
}

impl FoundDocument {
    /// Archive type of a registration report (§8.2).
    pub const REGISTRATION: u8 = 1;
    /// Archive type of an open-shift report.
    pub const OPEN_SHIFT: u8 = 2;
    /// Archive type of a receipt.
    pub const RECEIPT: u8 = 3;
    /// Archive type of a BSO.
    pub const BSO: u8 = 4;
    /// Archive type of a close-shift report.
    pub const CLOSE_SHIFT: u8 = 5;
    /// Archive type of a correction receipt (§8.2).
    pub const CORRECTION: u8 = 31;
    /// Archive type of a correction BSO (§8.2).
    pub const CORRECTION_BSO: u8 = 41;
}

impl AnswerData for FoundDocument {
    fn read(r: &mut Reader<'_>) -> Result<FoundDocument, AnswerError> {
        let doc_type = r.u8()?;
        let ofd_ticket_received = r.u8()? != 0;
        let date_time = DateTime::from_fn(r.array()?);
        let fd_number = r.u32()?;
        let fiscal_sign = r.u32()?;
        let details = match doc_type {
            Self::REGISTRATION => DocumentDetails::Registration {
                inn: text::decode_identifier(r.bytes(INN_LEN)?),
                rnm: text::decode_identifier(r.bytes(RNM_LEN)?),
                tax_systems: r.u8()?,
                work_mode: r.u8()?,
                extra: r.rest().to_vec(),
            },
            Self::OPEN_SHIFT | Self::CLOSE_SHIFT => DocumentDetails::Shift {
                shift_number: r.u16()?,
            },
            Self::RECEIPT | Self::BSO | Self::CORRECTION | Self::CORRECTION_BSO => {
                DocumentDetails::Receipt {
                    operation: r.u8()?,
                    total: r.uint(5)?,
                }
            }
            _ => DocumentDetails::Raw(r.rest().to_vec()),
        };
        Ok(FoundDocument {
            doc_type,
            ofd_ticket_received,
            date_time,
            fd_number,
            fiscal_sign,
            details,
        })
    }

    fn put(&self, d: &mut Vec<u8>) {
        d.extend_from_slice(&[self.doc_type, u8::from(self.ofd_ticket_received)]);
        d.extend_from_slice(&self.date_time.to_fn());
        d.extend_from_slice(&self.fd_number.to_le_bytes());
        d.extend_from_slice(&self.fiscal_sign.to_le_bytes());
        match &self.details {
            DocumentDetails::Registration {
                inn,
                rnm,
                tax_systems,
                work_mode,
                extra,
            } => {
                d.extend(text::encode_identifier(inn, INN_LEN));
                d.extend(text::encode_identifier(rnm, RNM_LEN));
                d.push(*tax_systems);
                d.push(*work_mode);
                d.extend_from_slice(extra);
            }
            DocumentDetails::Shift { shift_number } => {
                d.extend_from_slice(&shift_number.to_le_bytes())
            }
            DocumentDetails::Receipt { operation, total } => {
                d.push(*operation);
                put_money(d, *total);
            }
            DocumentDetails::Raw(bytes) => d.extend_from_slice(bytes),
        }
    }
}

/// `password(4) | FD number(4)`: what FF0A and FF3A both send.
fn put_fd_params(out: &mut Vec<u8>, password: Password, fd_number: u32) {
    put_password(out, password);
    out.extend_from_slice(&fd_number.to_le_bytes());
}

fn read_fd_params(r: &mut Reader<'_>) -> Result<(Password, u32), AnswerError> {
    Ok((Password(r.u32()?), r.u32()?))
}

impl Command for FindDocument {
    type Answer = FoundDocument;
    const CODE: &'static [u8] = &[0xFF, 0x0A];
    const NAME: &'static str = "FF0A find document";
    const CLASS: CommandClass = CommandClass::Read;
    const TIMEOUT: Duration = TIMEOUT_STATUS;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_fd_params(out, self.password, self.fd_number);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let (password, fd_number) = read_fd_params(r)?;
        Ok(FindDocument {
            password,
            fd_number,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<FoundDocument, AnswerError> {
        FoundDocument::read(r)
    }
    fn put_answer(answer: &FoundDocument, out: &mut Vec<u8>) {
        answer.put(out);
    }
}

/// 0xFF3A: begin reading a fiscal document of the FN archive as TLV (§7.8; addendum §6). The
/// FN then hands the document out block by block with [`ReadDocumentBlock`]; asking again
/// starts the reading over, so the pair is a read that may be repeated from FF3A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BeginReadDocument {
    /// Password (system administrator, as the vendor driver sends).
    pub password: Password,
    /// FD number of the document.
    pub fd_number: u32,
}

/// Answer data of FF3A (§7.8, LEN 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentHeader {
    /// Document type: its FFD form code (3 receipt, 31 correction receipt …; §8.2).
    pub doc_type: u16,
    /// Length of the document's TLV data in bytes, handed out by FF3B.
    pub length: u16,
}

impl AnswerData for DocumentHeader {
    fn read(r: &mut Reader<'_>) -> Result<DocumentHeader, AnswerError> {
        Ok(DocumentHeader {
            doc_type: r.u16()?,
            length: r.u16()?,
        })
    }
    fn put(&self, d: &mut Vec<u8>) {
        d.extend_from_slice(&self.doc_type.to_le_bytes());
        d.extend_from_slice(&self.length.to_le_bytes());
    }
}

impl Command for BeginReadDocument {
    type Answer = DocumentHeader;
    const CODE: &'static [u8] = &[0xFF, 0x3A];
    const NAME: &'static str = "FF3A read document";
    const CLASS: CommandClass = CommandClass::Read;
    const TIMEOUT: Duration = TIMEOUT_STATUS;

    fn put_params(&self, out: &mut Vec<u8>) {
        put_fd_params(out, self.password, self.fd_number);
    }
    fn read_params(r: &mut Reader<'_>) -> Result<Self, AnswerError> {
        let (password, fd_number) = read_fd_params(r)?;
        Ok(BeginReadDocument {
            password,
            fd_number,
        })
    }
    fn read_answer(r: &mut Reader<'_>) -> Result<DocumentHeader, AnswerError> {
        DocumentHeader::read(r)
    }
    fn put_answer(answer: &DocumentHeader, out: &mut Vec<u8>) {
        answer.put(out);
    }
}

/// Answer data of FF3B: the next bytes of the document's TLV data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentBlock {
    /// The block; the vendor driver stops at an empty one or at FN error 0x08 (addendum §6).
    pub data: Vec<u8>,
}

impl AnswerData for DocumentBlock {
    fn read(r: &mut Reader<'_>) -> Result<DocumentBlock, AnswerError> {
        Ok(DocumentBlock {
            data: r.rest().to_vec(),
        })
    }
    fn put(&self, d: &mut Vec<u8>) {
        d.extend_from_slice(&self.data);
    }
}

commands! {
    password;
    /// 0xFF3B: the next block of the document FF3A began (§7.8). A pure read of the FN's
    /// state, but it moves the reading on: after a lost answer, start again from FF3A.
    ReadDocumentBlock = &[0xFF, 0x3B], "FF3B read document block", Read, TIMEOUT_STATUS, DocumentBlock;
}
