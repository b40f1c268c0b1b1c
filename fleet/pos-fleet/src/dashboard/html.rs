//! The pages' markup: escaping, the frame every page shares (navigation, who is logged in,
//! logout), and small pieces the pages repeat. Pure: strings in, strings out.

use pos_core::money::Money;
use rust_decimal::Decimal;

use super::figures::Period;
use crate::storage::{Account, AccountRole, TenantRecord};

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A path segment or query value made safe in a URL.
pub fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// An amount with its currency, `1234.50 EUR`.
pub fn money(amount: &Money) -> String {
    format!("{} {}", amount.display_amount(), amount.currency().code())
}

pub fn percent(value: Option<Decimal>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v}%"))
}

/// A change in percent, marked up or down.
pub fn change(value: Option<Decimal>) -> String {
    match value {
        Some(v) if v.is_sign_negative() && !v.is_zero() => {
            format!(r#"<span class="down">{v}%</span>"#)
        }
        Some(v) => format!(r#"<span class="up">+{v}%</span>"#),
        None => "–".to_owned(),
    }
}

/// The dashboard's pages, for the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Sales,
    Stock,
    Terminals,
    Catalogue,
    Receipts,
    Updates,
    Tenants,
}

/// A tenant's pages, in the navigation's order.
pub const TABS: &[Tab] = &[
    Tab::Overview,
    Tab::Sales,
    Tab::Stock,
    Tab::Terminals,
    Tab::Catalogue,
    Tab::Receipts,
];

/// A tenant's pages where the fleet also serves updates.
pub const TABS_WITH_UPDATES: &[Tab] = &[
    Tab::Overview,
    Tab::Sales,
    Tab::Stock,
    Tab::Terminals,
    Tab::Catalogue,
    Tab::Receipts,
    Tab::Updates,
];

impl Tab {
    /// The page's path under the tenant's, and its name in the navigation.
    fn link(self) -> (&'static str, &'static str) {
        match self {
            Tab::Overview => ("", "Branches"),
            Tab::Sales => ("/sales", "Sales"),
            Tab::Stock => ("/stock", "Stock"),
            Tab::Terminals => ("/terminals", "Terminals"),
            Tab::Catalogue => ("/catalogue", "Catalogue"),
            Tab::Receipts => ("/receipts", "Receipts"),
            Tab::Updates => ("/updates", "Updates"),
            Tab::Tenants => ("", "Tenants"),
        }
    }
}

fn role_name(role: AccountRole) -> &'static str {
    match role {
        AccountRole::SuperAdmin => "fleet operator",
        AccountRole::TenantOwner => "owner",
        AccountRole::StoreManager => "store manager",
    }
}

/// A whole page: the frame with navigation to `tenant`'s pages `tabs` (none on the
/// operator's tenant list), and `body`.
pub fn page(
    title: &str,
    account: &Account,
    tenant: Option<(&TenantRecord, &[Tab])>,
    here: Tab,
    body: &str,
) -> String {
    let mut nav = String::new();
    if account.role == AccountRole::SuperAdmin {
        nav.push_str(&format!(
            r#"<a href="/ui/tenants"{}>Tenants</a>"#,
            if here == Tab::Tenants {
                r#" class="here""#
            } else {
                ""
            }
        ));
    }
    if let Some((tenant, tabs)) = tenant {
        for &tab in tabs {
            let (path, name) = tab.link();
            nav.push_str(&format!(
                r#"<a href="/ui/t/{}{path}"{}>{name}</a>"#,
                url_part(tenant.id.as_str()),
                if tab == here { r#" class="here""# } else { "" }
            ));
        }
    }
    let heading = match tenant {
        Some((tenant, _)) => format!("{} · {}", escape(&tenant.name), escape(title)),
        None => escape(title),
    };
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading} · Open POS fleet</title><link rel="stylesheet" href="/ui/assets/style.css"></head>
<body><header><span class="brand">Open POS fleet</span><nav>{nav}</nav>
<div class="who"><span>{email} ({role})</span><form method="post" action="/ui/logout"><button type="submit">Log out</button></form></div></header>
<main><h1>{heading}</h1>
{body}
</main></body></html>"#,
        email = escape(&account.email),
        role = role_name(account.role),
    )
}

/// The login page, with a message after a failed attempt.
pub fn login(message: Option<&str>, email: &str) -> String {
    let notice = message.map_or_else(String::new, |m| {
        format!(r#"<p class="notice error" role="alert">{}</p>"#, escape(m))
    });
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · Open POS fleet</title><link rel="stylesheet" href="/ui/assets/style.css"></head>
<body><main class="login"><section class="card"><h1>Open POS fleet</h1>{notice}
<form method="post" action="/ui/login">
<label>E-mail<input type="email" name="email" id="email" value="{}" autocomplete="username" required autofocus></label>
<label>Password<input type="password" name="password" id="password" autocomplete="current-password" required></label>
<button type="submit" id="login">Log in</button></form></section></main></body></html>"#,
        escape(email)
    )
}

/// A refusal as a page: what went wrong and where to go.
pub fn refusal(status: u16, message: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} · Open POS fleet</title>
<link rel="stylesheet" href="/ui/assets/style.css"></head>
<body><main><section class="card"><h1 id="refusal">{}</h1><p class="muted">HTTP {status}. <a href="/ui">Back to the dashboard</a></p></section></main></body></html>"#,
        escape(message)
    )
}

/// The period chooser of a page: from, to, and the currency for charts when there are several.
pub fn period_form(action: &str, period: &Period, currencies: &[String], currency: &str) -> String {
    let mut choice = String::new();
    if currencies.len() > 1 {
        choice.push_str(r#"<label>Currency<select name="currency">"#);
        for code in currencies {
            choice.push_str(&format!(
                r#"<option{}>{}</option>"#,
                if code == currency { " selected" } else { "" },
                escape(code)
            ));
        }
        choice.push_str("</select></label>");
    }
    format!(
        r#"<form class="period" method="get" action="{}">
<label>From<input type="date" name="from" value="{}"></label>
<label>To<input type="date" name="to" value="{}"></label>{choice}
<button type="submit">Show</button><span class="muted">{}</span></form>"#,
        escape(action),
        period.from,
        period.to,
        escape(&period.describe())
    )
}

/// A message as a sentence: capital first letter, full stop at the end.
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let end = if text.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    format!("{}{}{end}", first.to_uppercase(), chars.as_str())
}

/// A notice at the top of a page.
pub fn notice(ok: bool, message: &str) -> String {
    format!(
        r#"<p class="notice {}" role="status" id="notice">{}</p>"#,
        if ok { "ok" } else { "error" },
        escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_shown_not_run() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(url_part("tnt 1/2"), "tnt%201%2F2");
    }

    #[test]
    fn a_message_becomes_a_sentence() {
        assert_eq!(sentence("the bundle is for 'x'"), "The bundle is for 'x'.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn a_fall_is_marked_down_and_a_rise_up() {
        assert!(change(Some(Decimal::new(-125, 1))).contains(r#"class="down">-12.5%"#));
        assert!(change(Some(Decimal::new(30, 0))).contains(r#"class="up">+30%"#));
        assert_eq!(change(None), "–");
    }
}
