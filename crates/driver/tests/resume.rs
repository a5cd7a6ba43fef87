//! A receipt whose last command's outcome was lost, and which the register still holds open,
//! is finished from where it stands (§10.3 step 4): the items that landed are not sent again,
//! the tags are sent once, and the FN holds one receipt with every item once. When the tags'
//! fate is unknowable (FF0C lost) the receipt is cancelled and made again instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use driver::LinkLayerChoice;
use emulator::{CutPoint, LinkChoice};

use common::{archived_receipts, cashier, connect, cut_and_settle, emulator, receipt};

/// Cuts the power on `code` at `point` during a receipt, then resumes it.
async fn cut_and_resume(code: u16, point: CutPoint, link: LinkChoice) -> bool {
    let choice = match link {
        LinkChoice::V2 => LinkLayerChoice::V2,
        _ => LinkLayerChoice::Standard,
    };
    let emu = emulator(link);
    let mut r = connect(&emu, choice).await;
    r.open_shift(&cashier()).await.unwrap();
    let receipt = receipt(7);
    let (_, resumed) = cut_and_settle(&emu, &mut r, &receipt, Some(&cashier()), point, code).await;
    let finished = resumed.is_some();
    let receipts = archived_receipts(&emu);
    assert_eq!(receipts.len(), 1, "{code:X} {point:?}: one receipt");
    let doc = &receipts[0];
    if let Some(fiscal) = resumed {
        assert_eq!(fiscal.fd_number, doc.fd);
        assert_eq!(fiscal.fiscal_sign, doc.fiscal_sign);
    }
    assert_eq!(doc.total, receipt.total.0, "{code:X} {point:?}");
    let names: Vec<&str> = doc.items.iter().map(|i| i.name.as_str()).collect();
    let expected: Vec<&str> = receipt.items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names, expected,
        "{code:X} {point:?}: every item once, in order"
    );
    for tag in [1008u16, 1021, 1203] {
        let n = doc.tlvs.iter().filter(|t| t.tag == tag).count();
        assert_eq!(n, 1, "{code:X} {point:?}: tag {tag} once");
    }
    finished
}

#[tokio::test]
async fn a_receipt_left_open_is_finished_from_where_it_stands() {
    for link in [LinkChoice::Standard, LinkChoice::V2] {
        // Open lost (the receipt is open, empty), an item lost at each point, the close lost
        // before it ran: each is finished, not cancelled.
        for (code, point) in [
            (0x8D, CutPoint::AfterCommit),
            (0xFF46, CutPoint::BeforeExecution),
            (0xFF46, CutPoint::AfterCommit),
            (0xFF46, CutPoint::MidAnswer),
            (0xFF45, CutPoint::BeforeExecution),
        ] {
            assert!(
                cut_and_resume(code, point, link).await,
                "{link:?} {code:X} {point:?}: finished"
            );
        }
    }
}

#[tokio::test]
async fn a_receipt_whose_tags_may_be_there_is_made_again() {
    for point in [CutPoint::BeforeExecution, CutPoint::AfterCommit] {
        assert!(
            !cut_and_resume(0xFF0C, point, LinkChoice::Standard).await,
            "FF0C {point:?}: cancelled and made again"
        );
    }
}
