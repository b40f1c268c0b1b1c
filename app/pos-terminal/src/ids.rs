//! Ids that stay unique across restarts and terminals: ULIDs (time then randomness) prefixed
//! with the device for sales, held carts, events and stock movements, and receipt numbers a
//! person can read out, `T1-000123`, from a counter kept in the store.
//!
//! Owns the terminal's id scheme and the receipt counter's setting. Reads the wall clock
//! (the terminal owns the clock) and draws randomness; never decides anything else.

use std::cell::RefCell;
use std::rc::Rc;

use pos_core::id::{
    DeviceId, EventId, HeldCartId, MovementId, ReceiptNumber, RefundId, SaleId, ShiftId,
};
use pos_store::Store;
use pos_till::port::IdSource;

/// The store setting holding the last receipt number given out on a device.
pub fn receipt_counter_setting(device: &DeviceId) -> String {
    format!("receipt.last.{device}")
}

/// Ids from the store's device and the system clock.
pub struct StoreIds {
    store: Rc<RefCell<Store>>,
    device: DeviceId,
    last_receipt: u64,
    /// Counts ids made in this run, for the rare case randomness is unavailable.
    made: u64,
}

impl StoreIds {
    /// Resumes the receipt counter where the store left it.
    pub fn new(
        store: Rc<RefCell<Store>>,
        device: DeviceId,
    ) -> Result<StoreIds, pos_store::StoreError> {
        let last_receipt = store
            .borrow()
            .setting(&receipt_counter_setting(&device))?
            .and_then(|text| text.parse().ok())
            .unwrap_or(0);
        Ok(StoreIds {
            store,
            device,
            last_receipt,
            made: 0,
        })
    }

    fn unique(&mut self) -> String {
        self.made += 1;
        let now = pos_ui::system_now().unix_ms();
        match pos_store::journal::ulid(now) {
            Ok(ulid) => format!("{}-{ulid}", self.device),
            // Without randomness the time and this run's count still differ from every id
            // made before: the clock moved on since the last run.
            Err(error) => {
                eprintln!("pos-terminal: {error}; using a time-based id");
                format!("{}-{now}-{}", self.device, self.made)
            }
        }
    }
}

impl IdSource for StoreIds {
    fn sale(&mut self) -> SaleId {
        SaleId::new(self.unique())
    }

    /// The next number, saved before it is used: a crash may skip a number, never repeat one.
    fn receipt_number(&mut self) -> ReceiptNumber {
        self.last_receipt += 1;
        let saved = self.store.borrow_mut().set_setting(
            &receipt_counter_setting(&self.device),
            &self.last_receipt.to_string(),
        );
        if let Err(error) = saved {
            // The sale that uses this number is refused by the same broken storage, and the
            // store's unique index refuses a repeated number in any case.
            eprintln!("pos-terminal: the receipt counter could not be saved: {error}");
        }
        ReceiptNumber::new(format!("{}-{:06}", self.device, self.last_receipt))
    }

    fn held_cart(&mut self) -> HeldCartId {
        HeldCartId::new(self.unique())
    }

    fn event(&mut self) -> EventId {
        EventId::new(self.unique())
    }

    fn movement(&mut self) -> MovementId {
        MovementId::new(self.unique())
    }

    fn refund(&mut self) -> RefundId {
        RefundId::new(self.unique())
    }

    fn shift(&mut self) -> ShiftId {
        ShiftId::new(self.unique())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_numbers_continue_after_a_restart_and_ids_never_repeat() {
        let dir = tempfile::tempdir().unwrap();
        let device = DeviceId::new("T1");
        let open = || {
            Rc::new(RefCell::new(
                Store::open(dir.path(), device.clone()).unwrap(),
            ))
        };
        let mut seen = std::collections::BTreeSet::new();
        {
            let mut ids = StoreIds::new(open(), device.clone()).unwrap();
            assert_eq!(ids.receipt_number().as_str(), "T1-000001");
            assert_eq!(ids.receipt_number().as_str(), "T1-000002");
            for _ in 0..500 {
                assert!(seen.insert(ids.sale().to_string()));
                assert!(seen.insert(ids.movement().to_string()));
            }
        }
        let mut ids = StoreIds::new(open(), device).unwrap();
        assert_eq!(ids.receipt_number().as_str(), "T1-000003");
        for _ in 0..500 {
            assert!(seen.insert(ids.event().to_string()));
            assert!(seen.insert(ids.held_cart().to_string()));
        }
        assert!(ids.sale().as_str().starts_with("T1-"));
    }
}
