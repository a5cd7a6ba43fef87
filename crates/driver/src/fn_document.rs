//! A fiscal document read back from the FN as TLV (FF3A, then FF3B until the declared length;
//! §7.8, FFD 1.2 addendum §6): the document type, the tag tree, and typed getters for what a
//! copy prints. Strings are CP866 (addendum §3.6).
//!
//! FF3B moves the FN's reading position, so it is never repeated on its own: any link trouble
//! starts the whole reading over from FF3A (a bounded number of times).

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use shtrih_proto::command::{BeginReadDocument, Command, ReadDocumentBlock};
use shtrih_proto::tlv::{decode_list, Tlv};

use crate::error::RegisterError;
use crate::register::{bad_answer, Register};

/// FN error "requested data not in the archive" (§5): FF3B's end of the document.
const FN_NO_DATA: u8 = 0x08;
/// FN error "wrong FN state" (§5): FF3B with no reading begun (the register restarted
/// between two blocks and forgot it).
const FN_WRONG_STATE: u8 = 0x02;
/// How often a reading broken by the link is started again from FF3A.
const READ_ATTEMPTS: usize = 3;
/// Tags whose value is itself a TLV list (STLV): items, correction basis, agent and supplier
/// data, buyer, industry requisites, fractional quantity, product code, additional requisite.
const STRUCTURED: [u16; 9] = [1059, 1174, 1084, 1223, 1224, 1256, 1260, 1291, 1163];

/// One tag of a document, with the tags inside it when it is an STLV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentTag {
    /// FFD tag number.
    pub tag: u16,
    /// Raw value bytes.
    pub value: Vec<u8>,
    /// The inner tags of an STLV (1059, 1174 …); empty otherwise.
    pub children: Vec<DocumentTag>,
}

impl DocumentTag {
    fn parse(tlv: Tlv) -> DocumentTag {
        let children = if STRUCTURED.contains(&tlv.tag) {
            decode_list(&tlv.value)
                .map(|inner| inner.into_iter().map(DocumentTag::parse).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        DocumentTag {
            tag: tlv.tag,
            value: tlv.value,
            children,
        }
    }

    fn as_tlv(&self) -> Tlv {
        Tlv::new(self.tag, self.value.clone())
    }

    /// The value as a little-endian integer (byte, UInt16, UInt32, VLN).
    pub fn uint(&self) -> Option<u64> {
        self.as_tlv().value_uint()
    }

    /// The value as a CP866 string, trailing spaces trimmed.
    pub fn text(&self) -> String {
        self.as_tlv().value_string().trim_end().to_string()
    }
}

/// Getters over a list of tags (the document's, or an item's).
fn find(tags: &[DocumentTag], tag: u16) -> Option<&DocumentTag> {
    tags.iter().find(|t| t.tag == tag)
}

/// One item (STLV 1059) of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentItem {
    /// Name (1030).
    pub name: String,
    /// Price, kopecks (1079).
    pub price: u64,
    /// Quantity in millionths (1023).
    pub quantity: u64,
    /// Sum, kopecks (1043).
    pub sum: u64,
    /// VAT rate code (1199).
    pub vat_code: Option<u8>,
    /// Payment method (1214).
    pub payment_method: Option<u8>,
    /// Payment subject (1212).
    pub payment_subject: Option<u8>,
}

/// A fiscal document read back from the FN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDocument {
    /// The FD number asked for.
    pub fd_number: u32,
    /// Document type: its FFD form code (FF3A; 3 receipt, 31 correction receipt …; §8.2).
    pub doc_type: u16,
    /// Its tags, in the FN's order.
    pub tags: Vec<DocumentTag>,
}

impl FnDocument {
    /// Parses the document's TLV bytes (the data of FF3B).
    pub fn parse(fd_number: u32, doc_type: u16, bytes: &[u8]) -> Result<FnDocument, String> {
        let tags = decode_list(bytes).map_err(|e| e.to_string())?;
        Ok(FnDocument {
            fd_number,
            doc_type,
            tags: tags.into_iter().map(DocumentTag::parse).collect(),
        })
    }

    /// The first tag `tag` at the top level.
    pub fn tag(&self, tag: u16) -> Option<&DocumentTag> {
        find(&self.tags, tag)
    }

    fn uint(&self, tag: u16) -> Option<u64> {
        self.tag(tag).and_then(DocumentTag::uint)
    }

    fn text(&self, tag: u16) -> Option<String> {
        self.tag(tag)
            .map(DocumentTag::text)
            .filter(|t| !t.is_empty())
    }

    /// A receipt or correction receipt (form 3 or 31).
    pub fn is_receipt(&self) -> bool {
        matches!(self.doc_type, 3 | 31)
    }

    /// A correction receipt (form 31).
    pub fn is_correction(&self) -> bool {
        self.doc_type == 31
    }

    /// Date and time (1012: the register's local time as UnixTime).
    pub fn date_time(&self) -> Option<NaiveDateTime> {
        let seconds = i64::try_from(self.uint(1012)?).ok()?;
        DateTime::from_timestamp(seconds, 0).map(|d| d.naive_utc())
    }

    /// Fiscal sign (1077: six bytes, the printed number the last four big-endian, as the
    /// vendor driver reads it).
    pub fn fiscal_sign(&self) -> Option<u32> {
        let value = &self.tag(1077)?.value;
        let tail: [u8; 4] = value.get(value.len().checked_sub(4)?..)?.try_into().ok()?;
        Some(u32::from_be_bytes(tail))
    }

    /// Shift number (1038).
    pub fn shift_number(&self) -> Option<u32> {
        self.uint(1038).and_then(|v| u32::try_from(v).ok())
    }

    /// Receipt number in the shift (1042).
    pub fn receipt_number(&self) -> Option<u32> {
        self.uint(1042).and_then(|v| u32::try_from(v).ok())
    }

    /// FN serial (1041).
    pub fn fn_number(&self) -> Option<String> {
        self.text(1041)
    }

    /// Registration number, РНМ (1037).
    pub fn rnm(&self) -> Option<String> {
        self.text(1037)
    }

    /// User's INN (1018).
    pub fn inn(&self) -> Option<String> {
        self.text(1018)
    }

    /// User's name (1048).
    pub fn user(&self) -> Option<String> {
        self.text(1048)
    }

    /// Settlement address (1009).
    pub fn address(&self) -> Option<String> {
        self.text(1009)
    }

    /// Cashier (1021).
    pub fn cashier(&self) -> Option<String> {
        self.text(1021)
    }

    /// Buyer's phone or e-mail (1008).
    pub fn buyer_contact(&self) -> Option<String> {
        self.text(1008)
    }

    /// Operation type (1054: 1 sale, 2 sale return, 3 purchase, 4 purchase return).
    pub fn operation(&self) -> Option<u8> {
        self.uint(1054).and_then(|v| u8::try_from(v).ok())
    }

    /// Total, kopecks (1020).
    pub fn total(&self) -> Option<u64> {
        self.uint(1020)
    }

    /// Taxation system (1055, one bit as FF45's).
    pub fn taxation(&self) -> Option<u8> {
        self.uint(1055).and_then(|v| u8::try_from(v).ok())
    }

    /// Payment by tag (1031 cash, 1081 electronic, 1215 prepayment, 1216 postpayment, 1217
    /// counter-provision), kopecks.
    pub fn payment(&self, tag: u16) -> Option<u64> {
        self.uint(tag)
    }

    /// Items (1059).
    pub fn items(&self) -> Vec<DocumentItem> {
        self.tags
            .iter()
            .filter(|t| t.tag == 1059)
            .map(|item| {
                let tags = &item.children;
                let uint = |tag| find(tags, tag).and_then(DocumentTag::uint);
                let byte = |tag| uint(tag).and_then(|v| u8::try_from(v).ok());
                DocumentItem {
                    name: find(tags, 1030).map(DocumentTag::text).unwrap_or_default(),
                    price: uint(1079).unwrap_or(0),
                    quantity: find(tags, 1023)
                        .and_then(|t| t.as_tlv().value_fvln_millionths())
                        .unwrap_or(0),
                    sum: uint(1043).unwrap_or(0),
                    vat_code: byte(1199),
                    payment_method: byte(1214),
                    payment_subject: byte(1212),
                }
            })
            .collect()
    }

    /// Correction type (1173: 0 own initiative, 1 by order).
    pub fn correction_kind(&self) -> Option<u8> {
        self.uint(1173).and_then(|v| u8::try_from(v).ok())
    }

    /// Correction basis: the corrected settlement's date (1178) and the order's number
    /// (1179), from STLV 1174 or the separate tags.
    pub fn correction_basis(&self) -> (Option<NaiveDate>, Option<String>) {
        let inner: &[DocumentTag] = self.tag(1174).map_or(&self.tags, |t| &t.children);
        let date = find(inner, 1178)
            .and_then(DocumentTag::uint)
            .and_then(|s| i64::try_from(s).ok())
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(|d| d.date_naive());
        let number = find(inner, 1179)
            .map(DocumentTag::text)
            .filter(|t| !t.is_empty());
        (date, number)
    }
}

impl Register {
    /// Reads document `fd` back from the FN (FF3A, then FF3B until the declared length or
    /// the FN's 0x08 "no more data"). Link trouble in the middle starts over from FF3A, at
    /// most three times; a refusal (FN 0x08 for an unknown FD, 0x37 where the register
    /// does not support the reading) is returned as it is.
    pub async fn read_document(&mut self, fd: u32) -> Result<crate::FnDocument, RegisterError> {
        let mut last = None;
        for _ in 0..READ_ATTEMPTS {
            match self.read_document_once(fd).await {
                Ok(Some(doc)) => return Ok(doc),
                Ok(None) => {}
                Err(e @ RegisterError::Link(_)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            bad_answer(
                BeginReadDocument::NAME,
                format!("FD {fd}: the document read back does not parse"),
            )
        }))
    }

    /// One reading from FF3A; `Ok(None)` when what came back does not hold together.
    async fn read_document_once(&mut self, fd: u32) -> Result<Option<FnDocument>, RegisterError> {
        let header = self
            .run(&BeginReadDocument {
                password: self.sysadmin(),
                fd_number: fd,
            })
            .await?;
        let length = usize::from(header.length);
        let mut bytes = Vec::with_capacity(length);
        while bytes.len() < length {
            let block = match self
                .run(&ReadDocumentBlock {
                    password: self.sysadmin(),
                })
                .await
            {
                Ok(block) => block.data,
                Err(RegisterError::Refused(d)) if d.code.0 == FN_NO_DATA => break,
                Err(RegisterError::Refused(d)) if d.code.0 == FN_WRONG_STATE => {
                    tracing::warn!(fd, "the FN lost the reading; starting over from FF3A");
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            if block.is_empty() {
                break;
            }
            bytes.extend_from_slice(&block);
        }
        if bytes.len() != length {
            tracing::warn!(
                fd,
                declared = length,
                read = bytes.len(),
                "document length differs"
            );
            return Ok(None);
        }
        match FnDocument::parse(fd, header.doc_type, &bytes) {
            Ok(doc) => Ok(Some(doc)),
            Err(e) => {
                tracing::warn!(fd, %e, "document TLV does not parse");
                Ok(None)
            }
        }
    }
}
