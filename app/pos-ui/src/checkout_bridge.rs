//! The checkout's extra part of the bridge: the weight prompt, the customer search and the
//! attached customer, the cart discount and the drawer alert into `CheckoutAdapter`, and its
//! callbacks into intents.

use pos_core::id::CustomerId;
use pos_till::view::TillView;
use pos_till::{CartDiscountKind, Intent};
use slint::{ComponentHandle, SharedString};

use crate::controller::{TillScreen, rows};
use crate::{AppWindow, CheckoutAdapter, CustomerRow};

pub(crate) fn connect(screen: &TillScreen, window: &AppWindow) {
    let checkout = window.global::<CheckoutAdapter>();
    let send = |make: fn(SharedString) -> Intent| {
        let screen = screen.clone();
        move |text: SharedString| screen.dispatch(make(text))
    };
    checkout.on_enter_weight(send(|kg| Intent::EnterWeight(kg.into())));
    checkout.on_search_customers(send(|text| Intent::SearchCustomers(text.into())));
    checkout.on_attach_customer(send(|id| {
        Intent::AttachCustomerId(CustomerId::new(id.as_str()))
    }));
    checkout.on_cart_discount_percent(send(|value| Intent::CartDiscount {
        kind: CartDiscountKind::Percent,
        value: value.into(),
    }));
    checkout.on_cart_discount_amount(send(|value| Intent::CartDiscount {
        kind: CartDiscountKind::Amount,
        value: value.into(),
    }));
    checkout.on_detach_customer({
        let screen = screen.clone();
        move || screen.dispatch(Intent::DetachCustomer)
    });
}

pub(crate) fn render(window: &AppWindow, view: &TillView, drawer_alert: &str) {
    let checkout = window.global::<CheckoutAdapter>();
    let (name, price) = view
        .weighing
        .as_ref()
        .map(|w| (w.name.as_str(), w.unit_price.as_str()))
        .unwrap_or_default();
    checkout.set_weighing_name(name.into());
    checkout.set_new_product_code(view.new_product_code.clone().unwrap_or_default().into());
    checkout.set_weighing_price(price.into());
    let customer = view.cart.customer_detail.as_ref();
    let text = |pick: fn(&pos_till::view::CustomerView) -> &str| -> SharedString {
        customer.map(pick).unwrap_or_default().into()
    };
    checkout.set_customer_name(text(|c| &c.name));
    checkout.set_customer_tier(text(|c| &c.tier));
    checkout.set_customer_points(text(|c| &c.points));
    checkout.set_customer_progress(text(|c| &c.progress));
    checkout.set_customer_progress_percent(customer.map_or(0, |c| i32::from(c.progress_percent)));
    checkout.set_customers(rows(
        checkout.get_customers(),
        view.customer_results
            .iter()
            .map(|c| CustomerRow {
                id: c.id.as_str().into(),
                name: c.name.as_str().into(),
                detail: c.detail.as_str().into(),
            })
            .collect(),
    ));
    checkout.set_cart_discount(view.cart.cart_discount.as_str().into());
    checkout.set_drawer_alert(drawer_alert.into());
}
