//! Throughput of the driver against a register: receipts per second, bytes on the wire and
//! round trips per three-item receipt. `benches/receipt.rs` calls [`bench()`] with a register
//! already connected (to the emulator with no device delay), so the figures measure the
//! driver and the link, not a printer; the root package's benchmarks make [`sample_receipt`].

use std::time::{Duration, Instant};

use fiscal_model::{
    Item, Kopecks, Payments, Quantity, Receipt, ReceiptParts, ReceiptType, TaxGroupMap,
    TaxationSystem, VatRate,
};

use crate::error::{NotReadyReason, RegisterError};
use crate::readiness::Readiness;
use crate::register::{Cashier, Register};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchPlan {
    /// Receipts to make.
    pub receipts: u64,
    /// Also take a status and a snapshot before each receipt, as the gateway's worker does.
    pub worker_steps: bool,
}

/// The figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BenchReport {
    /// Receipts made.
    pub receipts: u64,
    /// Wall time they took.
    pub elapsed: Duration,
    /// Receipts per second.
    pub receipts_per_second: f64,
    /// Bytes written plus bytes read, per receipt.
    pub bytes_per_receipt: f64,
    /// Host transmissions waiting for a reply (ENQ, frames), per receipt.
    pub round_trips_per_receipt: f64,
    /// Commands per receipt.
    pub commands_per_receipt: f64,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} receipts in {:.2?}: {:.1} receipts/s, {:.0} bytes, {:.1} round trips, {:.1} commands per receipt",
            self.receipts,
            self.elapsed,
            self.receipts_per_second,
            self.bytes_per_receipt,
            self.round_trips_per_receipt,
            self.commands_per_receipt
        )
    }
}

/// The receipt every run makes: three items, two VAT rates, cash and card.
pub fn sample_receipt() -> Option<Receipt> {
    let item = |name: &str, quantity: u64, price: u64, vat| Item {
        name: name.to_string(),
        quantity: Quantity(quantity),
        price: Kopecks(price),
        vat,
        attributes: Default::default(),
        line_sum: None,
        notes: Vec::new(),
    };
    let items = vec![
        item("Молоко 3,2% 1 л", 2_000_000, 8_990, VatRate::Vat10),
        item("Хлеб бородинский", 1_000_000, 4_500, VatRate::Vat22),
        item("Сыр российский, кг", 500_000, 14_940, VatRate::Vat22),
    ];
    ReceiptParts {
        receipt_type: ReceiptType::Sale,
        taxation: TaxationSystem::General,
        items,
        payments: Payments {
            cash: Kopecks(27_500),
            cashless: Kopecks(2_450),
            ..Payments::default()
        },
        total: Kopecks(29_950),
        buyer: None,
        print: true,
    }
    .build()
    .ok()
}

/// Makes `plan.receipts` receipts on `register` (opening a shift first if none is open) and
/// measures them.
pub async fn bench(register: &mut Register, plan: BenchPlan) -> Result<BenchReport, RegisterError> {
    let receipt = sample_receipt().ok_or_else(|| {
        RegisterError::NotReady(NotReadyReason::Other(
            "sample receipt does not balance".into(),
        ))
    })?;
    let cashier = Cashier {
        name: "Бенчмарк".into(),
        inn: None,
    };
    if let Readiness::NotReady(NotReadyReason::ShiftClosed) = register.status().await?.readiness {
        register.open_shift(&cashier).await?;
    }
    let taxes = TaxGroupMap::default();
    let before = register.wire_stats();
    let started = Instant::now();
    for _ in 0..plan.receipts {
        if plan.worker_steps {
            register.status().await?;
            register.snapshot().await?;
        }
        register.fiscalize(&receipt, &taxes, Some(&cashier)).await?;
    }
    let elapsed = started.elapsed();
    let after = register.wire_stats();
    let n = plan.receipts.max(1) as f64;
    Ok(BenchReport {
        receipts: plan.receipts,
        elapsed,
        receipts_per_second: plan.receipts as f64 / elapsed.as_secs_f64().max(1e-9),
        bytes_per_receipt: ((after.bytes_out - before.bytes_out)
            + (after.bytes_in - before.bytes_in)) as f64
            / n,
        round_trips_per_receipt: (after.round_trips - before.round_trips) as f64 / n,
        commands_per_receipt: (after.commands - before.commands) as f64 / n,
    })
}
