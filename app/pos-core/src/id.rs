//! Identifiers. The core never makes an id: callers pass them in (ULIDs made at the edge,
//! receipt numbers from the terminal's counter), so the core stays deterministic.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> $name {
                $name(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> $name {
                $name(value.to_owned())
            }
        }
    };
}

string_id!(
    /// A tenant: one client of the fleet operator, owning stores.
    TenantId
);
string_id!(StoreId);
string_id!(
    /// A terminal (device) in a store.
    DeviceId
);
string_id!(UserId);
string_id!(RoleId);
string_id!(ProductId);
string_id!(
    /// The stock-keeping unit code a retailer prints on shelves.
    Sku
);
string_id!(
    /// A barcode as scanned: digits for EAN/UPC, free text for Code 128.
    Barcode
);
string_id!(CategoryId);
string_id!(VendorId);
string_id!(TaxRateId);
string_id!(TaxCategoryId);
string_id!(CustomerId);
string_id!(
    /// A loyalty card number.
    LoyaltyCard
);
string_id!(SaleId);
string_id!(
    /// The number printed on a receipt: unique per store, meaningful to a person.
    ReceiptNumber
);
string_id!(RefundId);
string_id!(ShiftId);
string_id!(HeldCartId);
string_id!(BatchId);
string_id!(PromotionId);
string_id!(
    /// The unique id of a domain event (a ULID made at the edge).
    EventId
);
string_id!(MovementId);
string_id!(
    /// A saved label layout of the back office.
    LabelLayoutId
);
string_id!(TransferId);
string_id!(
    /// A purchase order to a vendor.
    PurchaseOrderId
);
string_id!(
    /// One delivery of goods taken into stock, with or without a purchase order.
    GoodsReceiptId
);
