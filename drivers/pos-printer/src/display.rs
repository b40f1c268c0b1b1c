//! The customer-facing pole display: a serial VFD with the common ESC/POS-style command set
//! (Epson DM-D and its many clones), two lines of 20 characters. Shows the last item and the
//! running total while scanning, then what was paid and the change.
//!
//! [`frame`] is pure (screen in, bytes out); [`PoleDisplay`] sends frames over any
//! [`Transport`], a serial port in practice.

use pos_core::money::Money;

use crate::codepage::CodePage;
use crate::error::Error;
use crate::transport::Transport;

pub const COLUMNS: usize = 20;

const CLEAR: u8 = 0x0C;
const US: u8 = 0x1F;

/// What the customer sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Idle: a greeting on the first line, the second blank.
    Welcome(String),
    /// The item just scanned with its price, and the total so far.
    Item {
        name: String,
        price: Money,
        total: Money,
    },
    /// After payment.
    Change { paid: Money, change: Money },
}

/// `left` and `right` on one line of [`COLUMNS`], `left` shortened to make room.
fn line(left: &str, right: &str) -> String {
    let right_len = right.chars().count().min(COLUMNS);
    let room = COLUMNS.saturating_sub(right_len + 1);
    let left: String = left.chars().take(room).collect();
    let gap = COLUMNS - left.chars().count() - right_len;
    let right: String = right.chars().take(COLUMNS).collect();
    format!("{left}{}{right}", " ".repeat(gap))
}

fn money(amount: Money) -> String {
    amount.display_amount()
}

/// The two lines of `screen`, each exactly [`COLUMNS`] characters.
pub fn lines(screen: &Screen) -> [String; 2] {
    match screen {
        Screen::Welcome(text) => [line(text, ""), line("", "")],
        Screen::Item { name, price, total } => [
            line(name, &money(*price)),
            line(&format!("Total {}", total.currency()), &money(*total)),
        ],
        Screen::Change { paid, change } => [
            line("Paid", &money(*paid)),
            line(&format!("Change {}", change.currency()), &money(*change)),
        ],
    }
}

/// The bytes that put `screen` on the display: clear, line 1, cursor to line 2, line 2.
pub fn frame(screen: &Screen, code_page: CodePage) -> Vec<u8> {
    let [first, second] = lines(screen);
    let mut out = vec![CLEAR];
    out.extend(code_page.encode(&first));
    out.extend([US, b'$', 1, 2]);
    out.extend(code_page.encode(&second));
    out
}

pub struct PoleDisplay<T: Transport> {
    transport: T,
    code_page: CodePage,
}

impl<T: Transport> PoleDisplay<T> {
    /// Resets the display and selects `code_page` (`ESC @`, `ESC t n`).
    pub fn open(mut transport: T, code_page: CodePage) -> Result<PoleDisplay<T>, Error> {
        transport.write_all(&[0x1B, b'@', 0x1B, b't', code_page.esc_t()])?;
        Ok(PoleDisplay {
            transport,
            code_page,
        })
    }

    pub fn show(&mut self, screen: &Screen) -> Result<(), Error> {
        self.transport.write_all(&frame(screen, self.code_page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pos_core::money::Currency;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR)
    }

    #[test]
    fn an_item_shows_its_price_and_the_running_total() {
        let screen = Screen::Item {
            name: "Extra virgin olive oil 750 ml".to_owned(),
            price: eur(1249),
            total: eur(4_730),
        };
        assert_eq!(
            lines(&screen),
            [
                "Extra virgin o 12.49".to_owned(),
                "Total EUR      47.30".to_owned()
            ]
        );
    }

    #[test]
    fn the_change_frame_clears_and_moves_to_the_second_line() {
        let bytes = frame(
            &Screen::Change {
                paid: eur(2_000),
                change: eur(270),
            },
            CodePage::Pc858,
        );
        let mut expected = vec![0x0C];
        expected.extend(b"Paid           20.00");
        expected.extend([0x1F, b'$', 1, 2]);
        expected.extend(b"Change EUR      2.70");
        assert_eq!(bytes, expected);
    }
}
