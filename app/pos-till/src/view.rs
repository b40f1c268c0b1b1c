//! What the screen shows: plain data with amounts already formatted by the core. A UI maps
//! these onto its widgets and never computes a figure itself.

use pos_core::cart::LineNo;
use pos_core::id::{CustomerId, HeldCartId, ProductId, UserId};

pub mod shift;

pub use shift::{Balance, CountRow, ReceiptView, ReportRow, ShiftView};

/// The page the cashier sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Who is selling: person tiles and the PIN pad.
    Login,
    /// Scanning, searching and building the cart.
    Checkout,
    /// Taking tenders until the amount due is paid, then the change.
    Payment,
    /// Carts parked for later.
    Held,
    /// Returning goods: find the sale, choose lines and a reason, refund or exchange.
    Refund,
    /// No shift is open: count the opening float first.
    ShiftOpen,
    /// The open shift: its X figures, cash in and out, no sale, reprint, close.
    Shift,
    /// Closing the shift: count the drawer by denomination.
    ShiftClose,
}

/// How a message should look: calm information, a success, or a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Problem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub tone: Tone,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TillView {
    pub screen: Screen,
    pub store_name: String,
    pub device: String,
    /// The shop's local time, "10:42".
    pub time: String,
    /// The person logged in, if any.
    pub cashier: Option<String>,
    pub message: Option<Message>,
    /// A code the last scan did not know, offered to be added as a new product: set only for
    /// a cashier who may edit products (a manager).
    pub new_product_code: Option<String>,
    pub login: LoginView,
    pub cart: CartView,
    /// The text last searched for and what it found.
    pub search_text: String,
    pub search_results: Vec<ProductTile>,
    pub favourites: Vec<ProductTile>,
    pub held: Vec<HeldView>,
    pub payment: Option<PaymentView>,
    /// A manager's approval the till is waiting for.
    pub approval: Option<ApprovalView>,
    /// The refund screen; set while it is open.
    pub refund: Option<crate::refunding::RefundView>,
    /// An exchange waiting for the new items: set from choosing it until the sale is paid.
    pub exchange: Option<crate::refunding::ExchangeView>,
    pub shift: ShiftView,
    pub receipt: ReceiptView,
    /// The weighed product waiting for its weight; set while the prompt is open.
    pub weighing: Option<WeighingView>,
    /// The text last searched for among loyalty customers, and who it found.
    pub customer_search: String,
    pub customer_results: Vec<CustomerTile>,
}

/// The weight prompt: which product, at what price per kilogram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeighingView {
    pub name: String,
    /// "2.99".
    pub unit_price: String,
    /// "kg".
    pub unit: String,
}

/// A loyalty customer in the search results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerTile {
    pub id: CustomerId,
    pub name: String,
    /// "Silver · 1250 points · 0170 5550101 · 9900000000017".
    pub detail: String,
}

/// The customer attached to the cart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomerView {
    pub name: String,
    /// "Silver".
    pub tier: String,
    pub points: String,
    /// "155.40 more to Gold", or "Top tier".
    pub progress: String,
    /// How far from this tier's bar to the next one, 0 to 100.
    pub progress_percent: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginView {
    pub people: Vec<PersonTile>,
    /// Set when the till was locked by someone: their tile comes first.
    pub locked_by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonTile {
    pub user: UserId,
    pub name: String,
    pub role: String,
    /// Locked out after wrong PINs until a manager unlocks.
    pub locked_out: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductTile {
    pub id: ProductId,
    pub name: String,
    pub price: String,
    /// "kg" for weighed goods, empty for pieces.
    pub per_unit: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CartView {
    pub lines: Vec<LineView>,
    pub selected: Option<LineNo>,
    /// "3 items".
    pub item_count: u32,
    pub subtotal: String,
    pub discount_total: String,
    /// "VAT 7%" → "0.45", per rate charged.
    pub taxes: Vec<(String, String)>,
    pub tax: String,
    pub total: String,
    pub currency: String,
    pub customer: Option<String>,
    /// The attached customer in detail, with their progress to the next tier.
    pub customer_detail: Option<CustomerView>,
    /// The discount on the whole cart as typed, "10%" or "5.00"; empty without one.
    pub cart_discount: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineView {
    pub line_no: LineNo,
    pub name: String,
    /// "2" for pieces, "0.750" for weighed goods.
    pub quantity: String,
    /// "pc" or "kg".
    pub unit: String,
    pub unit_price: String,
    /// What the line costs after its discounts.
    pub amount: String,
    /// Promotions and discounts on the line, for example "Cola 3 for 2 −1.29".
    pub discounts: Vec<String>,
    /// What the item's label said: "Batch L42 · use by 01.12.2026"; empty for most lines.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldView {
    pub id: HeldCartId,
    pub label: String,
    /// "just now", "12 min ago", "2 h 05 min ago".
    pub age: String,
    pub total: String,
    pub item_count: u32,
    pub held_by: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentView {
    pub total: String,
    pub paid: String,
    /// What is still owed.
    pub due: String,
    /// Cash to hand back once paid.
    pub change: String,
    pub tenders: Vec<TenderView>,
    /// Cash amounts to offer as one tap: the exact amount first, then the next notes up.
    pub quick_cash: Vec<String>,
    /// Set when the sale is complete: the receipt number to quote.
    pub receipt_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenderView {
    pub kind: String,
    pub amount: String,
    pub reference: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalView {
    /// What is waiting, for example "a 20% discount on Butter 250 g".
    pub what: String,
}
