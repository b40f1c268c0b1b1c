//! The shift's and the receipt's part of the bridge: the shift view and receipt options into
//! `ShiftAdapter` and `ReceiptAdapter`, their callbacks into shift and receipt intents.

use pos_core::shift::CashDirection;
use pos_till::view::{Balance as TillBalance, TillView};
use pos_till::{Intent, ReceiptIntent, ShiftIntent};
use slint::{ComponentHandle, SharedString};

use crate::controller::{TillScreen, rows};
use crate::{AppWindow, Balance, CountRow, ReceiptAdapter, ReportRow, ShiftAdapter};

pub(crate) fn connect(screen: &TillScreen, window: &AppWindow) {
    let shift = window.global::<ShiftAdapter>();
    let send = |make: fn() -> Intent| {
        let screen = screen.clone();
        move || screen.dispatch(make())
    };
    shift.on_show(send(|| Intent::Shift(ShiftIntent::Show)));
    shift.on_no_sale(send(|| Intent::Shift(ShiftIntent::NoSale)));
    shift.on_print_x(send(|| Intent::Shift(ShiftIntent::PrintX)));
    shift.on_start_close(send(|| Intent::Shift(ShiftIntent::StartClose)));
    shift.on_close(send(|| Intent::Shift(ShiftIntent::Close)));
    shift.on_count_pieces({
        let screen = screen.clone();
        move |index, count| {
            screen.dispatch(Intent::Shift(ShiftIntent::Count {
                index: usize::try_from(index).unwrap_or(usize::MAX),
                count: count.into(),
            }))
        }
    });
    shift.on_open({
        let screen = screen.clone();
        move |total| {
            screen.dispatch(Intent::Shift(ShiftIntent::Open {
                total: total.into(),
            }))
        }
    });
    shift.on_cash_move({
        let screen = screen.clone();
        move |out, amount, reason| {
            screen.dispatch(Intent::Shift(ShiftIntent::CashMove {
                direction: if out {
                    CashDirection::Out
                } else {
                    CashDirection::In
                },
                amount: amount.into(),
                reason: reason.into(),
            }))
        }
    });

    let receipt = window.global::<ReceiptAdapter>();
    receipt.on_print(send(|| Intent::Receipt(ReceiptIntent::Print)));
    receipt.on_gift(send(|| Intent::Receipt(ReceiptIntent::Gift)));
    receipt.on_reprint_last(send(|| Intent::Receipt(ReceiptIntent::ReprintLast)));
    receipt.on_email({
        let screen = screen.clone();
        move |address: SharedString| {
            screen.dispatch(Intent::Receipt(ReceiptIntent::Email {
                address: address.into(),
            }))
        }
    });
}

pub(crate) fn render(window: &AppWindow, view: &TillView) {
    let shift = window.global::<ShiftAdapter>();
    shift.set_summary(view.shift.summary.as_str().into());
    shift.set_report(rows(
        shift.get_report(),
        view.shift
            .report
            .iter()
            .map(|r| ReportRow {
                label: r.label.as_str().into(),
                value: r.value.as_str().into(),
                indented: r.indented,
            })
            .collect(),
    ));
    shift.set_count(rows(
        shift.get_count(),
        view.shift
            .count
            .iter()
            .map(|c| CountRow {
                value: c.value.as_str().into(),
                note: c.is_note,
                count: i32::try_from(c.count).unwrap_or(i32::MAX),
                amount: c.amount.as_str().into(),
            })
            .collect(),
    ));
    shift.set_counted(view.shift.counted.as_str().into());
    shift.set_expected(view.shift.expected.as_str().into());
    shift.set_difference(view.shift.difference.as_str().into());
    shift.set_balance(match view.shift.balance {
        TillBalance::Balanced => Balance::Balanced,
        TillBalance::Short => Balance::Short,
        TillBalance::Over => Balance::Over,
    });

    let receipt = window.global::<ReceiptAdapter>();
    receipt.set_printed(view.receipt.printed);
    receipt.set_gift_printed(view.receipt.gift_printed);
    receipt.set_can_reprint(view.receipt.can_reprint);
}
