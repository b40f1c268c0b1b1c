//! The simulated hardware of the desktop demo, end to end: a cash sale at the demo store is
//! queued, printed through the real encoder to the simulated printer (which decodes it and
//! files the receipt as text and PNG), and the drawer kick is reported as the UI would show
//! it. Usage: `cargo run -p pos-printer --example simulated_printer [FOLDER]`.

use std::time::Duration;

use anyhow::Context;
use pos_core::cart::{Cart, PricingContext};
use pos_core::clock::Timestamp;
use pos_core::id::{DeviceId, ReceiptNumber, SaleId, UserId};
use pos_core::money::Money;
use pos_core::quantity::Quantity;
use pos_core::receipt::{ReceiptStyle, sale_document};
use pos_core::sale::{Sale, SaleContext};
use pos_core::tender::Payment;
use pos_printer::drawer::{DrawerDecision, DrawerKick, DrawerPolicy, DrawerRequest};
use pos_printer::encode::{Paper, PrinterProfile};
use pos_printer::queue::{PrintJob, PrintQueue, PumpSettings};
use pos_printer::simulated::{HardwareEvent, SimulatedPrinter};
use pos_printer::status::DrawerSense;

fn main() -> anyhow::Result<()> {
    let folder = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "simulated-hardware".to_owned());
    let folder = std::path::PathBuf::from(folder);

    let store = pos_core::demo::store().context("demo store")?;
    let catalog = pos_core::demo::catalog().context("demo catalogue")?;
    let promotions = pos_core::demo::promotions();
    let now = Timestamp::from_unix_ms(1_772_445_600_000);
    let mut cart = Cart::new(store.currency);
    for code in [
        "4006381333931",
        "4006381333931",
        "4006381333931",
        "5449000000996",
    ] {
        cart.add_by_code(&catalog, code, Quantity::ONE)
            .context("scan")?;
    }
    let priced = cart
        .price(&PricingContext {
            taxes: &store.taxes,
            tax_policy: &store.tax_policy,
            promotions: &promotions,
            local_time: now.local(store.utc_offset),
        })
        .context("price")?;
    let mut payment = Payment::new(priced.total, store.cash_rounding);
    payment
        .add_cash(Money::from_minor(1_000, store.currency))
        .context("cash")?;
    let summary = payment.finish().context("payment")?;
    let tenders: Vec<_> = summary.tenders.iter().map(|t| t.kind).collect();
    let sale = Sale::complete(
        priced,
        summary,
        SaleContext {
            id: SaleId::new("sale-1"),
            receipt_number: ReceiptNumber::new("T1-00001"),
            store: store.id.clone(),
            device: DeviceId::new("T1"),
            cashier: UserId::new("anna"),
            shift: None,
            at: now,
        },
        None,
    )
    .context("complete the sale")?;

    let kick = match DrawerPolicy::default().decide(&DrawerRequest::Settlement(&tenders)) {
        DrawerDecision::Open(_) => Some(DrawerKick::default()),
        DrawerDecision::StayShut => None,
    };
    let mut queue = PrintQueue::open(&folder.join("queue"))?;
    queue.enqueue(&PrintJob {
        id: format!("sale-{}", sale.receipt_number),
        document: sale_document(&store, &sale, ReceiptStyle::Normal),
        kick,
    })?;
    let mut printer = SimulatedPrinter::new(&folder.join("paper"), Paper::MM80_48)?;
    let report = queue.pump(
        &mut printer,
        &PumpSettings {
            profile: PrinterProfile::new(Paper::MM80_48),
            drawer_sense: DrawerSense::OpenWhenHigh,
            status_timeout: Duration::from_millis(100),
        },
    )?;
    if let Some(reason) = report.waiting {
        println!("waiting: {reason}");
    }
    for event in printer.take_events() {
        match event {
            HardwareEvent::DrawerKicked(kick) => {
                println!("drawer opened ({:?}, {} ms pulse)", kick.pin, kick.on_ms);
            }
            HardwareEvent::ReceiptPrinted { text, png } => {
                println!("receipt: {} and {}", text.display(), png.display());
            }
        }
    }
    Ok(())
}
