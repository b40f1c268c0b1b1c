//! What the shift screens and the receipt options show: the X report's rows as the core
//! formats them, the drawer count with its running total, and what was done with the receipt.

/// The shift as the screens show it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShiftView {
    /// "Shift T1-shift-1 · opened 08:00 by Anna"; empty while no shift is open.
    pub summary: String,
    /// The X report (on the shift screen), row by row as the printed report has them.
    pub report: Vec<ReportRow>,
    /// The drawer being counted: the opening float or the closing count.
    pub count: Vec<CountRow>,
    /// The count's running total.
    pub counted: String,
    /// Closing only: the cash the drawer should hold.
    pub expected: String,
    /// Closing only: counted minus expected, "-0.36" when cash is missing.
    pub difference: String,
    pub balance: Balance,
}

/// How the counted drawer compares with what it should hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Balance {
    #[default]
    Balanced,
    Short,
    Over,
}

/// One row of a report: a heading (empty `value`) or a figure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    pub label: String,
    pub value: String,
    /// A figure under a heading ("Cash" under "Tenders").
    pub indented: bool,
}

/// One denomination of the count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountRow {
    /// The face value, "50" or "0.20".
    pub value: String,
    pub is_note: bool,
    /// How many were counted.
    pub count: u32,
    /// Face value times count, "150.00".
    pub amount: String,
}

/// What the change screen offers for the sale just paid, and what reprinting can reach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceiptView {
    /// The receipt has printed (the shop prints every receipt, or the cashier asked).
    pub printed: bool,
    pub gift_printed: bool,
    /// There is a last receipt to print again.
    pub can_reprint: bool,
}
