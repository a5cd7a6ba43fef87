//! The tags of the FFD 1.2 item and receipt attributes (addendum §3), as the driver sends
//! them: per item with FF4D after its FF46 (classic order, §4.8), per receipt with FF0C.
//!
//! Payment method and object are FF46 bytes (offsets 30, 31), not tags. A measure of 0
//! (pieces) is not sent: the FN takes an absent 2108 as pieces (§3.1). Tag 1291 with FF4D is
//! UNCONFIRMED on hardware (§4.7); it is sent as {1293, 1294} like the vendor driver's FF61.

use fiscal_model::{BuyerDetails, Item};
use shtrih_proto::command::receipt::MAX_TLV_PAYLOAD;
use shtrih_proto::tlv::{self, Tlv};

/// The FF4D tags of one item, in the order FFD lists them; empty for a plain item.
pub(crate) fn item_tlvs(item: &Item) -> Vec<Tlv> {
    let a = &item.attributes;
    let mut tlvs = Vec::new();
    if a.measurement_unit.code() != 0 {
        tlvs.push(Tlv::byte(tlv::TAG_MEASURE, a.measurement_unit.code()));
    }
    if let Some(f) = a.fractional_quantity {
        tlvs.push(Tlv::structure(
            tlv::TAG_FRACTIONAL_QUANTITY,
            &[
                Tlv::vln(tlv::TAG_NUMERATOR, u64::from(f.numerator)),
                Tlv::vln(tlv::TAG_DENOMINATOR, u64::from(f.denominator)),
            ],
        ));
    }
    if let Some(agent) = &a.agent {
        tlvs.push(Tlv::byte(tlv::TAG_AGENT_TYPE, agent.agent_type));
        if let Some(phone) = &agent.phone {
            tlvs.push(Tlv::structure(
                tlv::TAG_AGENT_DATA,
                &[Tlv::string(tlv::TAG_AGENT_PHONE, phone)],
            ));
        }
    }
    if let Some(supplier) = &a.supplier {
        let mut inner = Vec::new();
        if let Some(phone) = &supplier.phone {
            inner.push(Tlv::string(tlv::TAG_SUPPLIER_PHONE, phone));
        }
        inner.push(Tlv::string(tlv::TAG_SUPPLIER_NAME, &supplier.name));
        tlvs.push(Tlv::structure(tlv::TAG_SUPPLIER_DATA, &inner));
        tlvs.push(Tlv::fixed_string(
            tlv::TAG_SUPPLIER_INN,
            &supplier.inn,
            tlv::INN_WIDTH,
        ));
    }
    tlvs
}

/// The buyer's name and INN (1227, 1228): inside STLV 1256 under FFD 1.2 (addendum §3.6),
/// bare tags under an older FFD the register reports.
pub(crate) fn buyer_tlvs(details: &BuyerDetails, ffd_version: &str) -> Vec<Tlv> {
    let mut inner = Vec::new();
    if let Some(name) = &details.name {
        inner.push(Tlv::string(tlv::TAG_BUYER_NAME, name));
    }
    if let Some(inn) = &details.inn {
        inner.push(Tlv::fixed_string(tlv::TAG_BUYER_INN, inn, tlv::INN_WIDTH));
    }
    if inner.is_empty() {
        return inner;
    }
    match ffd_version {
        "1.0" | "1.05" | "1.1" => inner,
        _ => vec![Tlv::structure(tlv::TAG_BUYER_DATA, &inner)],
    }
}

/// Splits tags into groups that each fit one FF0C / FF4D frame, keeping their order. Every
/// single tag the API lets through fits one frame (its text fields are bounded for that).
pub(crate) fn frames(tlvs: Vec<Tlv>) -> Vec<Vec<Tlv>> {
    let mut out: Vec<Vec<Tlv>> = Vec::new();
    let mut size = 0;
    for t in tlvs {
        let len = t.encoded_len();
        match out.last_mut() {
            Some(group) if size + len <= MAX_TLV_PAYLOAD => {
                group.push(t);
                size += len;
            }
            _ => {
                size = len;
                out.push(vec![t]);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn frames_keep_order_and_fit() {
        let t = |n: usize| Tlv::new(1, vec![0; n]);
        let groups = frames(vec![t(100), t(100), t(100), t(10)]);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 2]);
        assert!(frames(Vec::new()).is_empty());
    }
}
