//! Hub mode: a store hub between the store's tills and the cloud fleet. While the internet is
//! down a till keeps syncing with the hub on the LAN; when the link is back the hub relays
//! every sale to the cloud exactly once, and the cloud's price changes and other tills' stock
//! reach the till through the hub.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use pos_core::id::StoreId;
use pos_core::money::{Currency, Money};
use pos_store::sample::product;
use support::proxy::{FaultProxy, Faults};
use support::{Fleet, Hub, Terminal, eventually, now, quick_settings};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_till_syncs_with_the_hub_while_the_internet_is_down_and_the_hub_relays_once_it_is_back() {
    let cloud_dir = tempfile::tempdir().unwrap();
    let cloud = Fleet::start(cloud_dir.path());
    let (tenant, store) = cloud.tenant("Acme");
    let products: Vec<_> = (1..=3).map(product).collect();
    for p in &products {
        cloud.save_product(&tenant, p);
    }
    let link = FaultProxy::start(cloud.addr, 11);

    // The hub: its own operator for the shop's LAN, enrolled upstream with the cloud's code.
    let mut hub = Hub::start(&link.url(), cloud.enrolment_code(&store));
    assert_eq!(hub.running.credential.store.as_str(), store);
    let (hub_url, hub_api) = (hub.url.clone(), &hub.api);
    let code = hub.enrolment_code(&store);

    // Till 1 syncs with the hub; till 2 of the same store talks to the cloud directly.
    let mut till1 = Terminal::open("T1", &store);
    till1.start_sync(quick_settings(&hub_url, "Till 1", Some(code)));
    let mut till2 = Terminal::open("T2", &store);
    till2.start_sync(quick_settings(
        &cloud.base(),
        "Till 2",
        Some(cloud.enrolment_code(&store)),
    ));
    let started = now();
    till1.wait_caught_up(LIMIT, started);
    assert_eq!(
        till1.store.product(&products[2].id).unwrap().unwrap(),
        products[2]
    );

    // The internet goes down. Till 1 sells and the hub takes every sale at once.
    link.set_faults(Faults {
        down: true,
        ..Faults::CLEAN
    });
    for n in 1..=5 {
        let (sale, moves) = till1.maker.sale(n, &products[..2], now()).unwrap();
        till1.store.complete_sale(&sale, &moves).unwrap();
    }
    let offline = now();
    till1.wait_caught_up(LIMIT, offline);
    let at_hub = hub_api.ok("GET", &format!("/api/v1/stores/{store}/sales"), None);
    assert_eq!(at_hub.as_array().unwrap().len(), 5);
    assert!(cloud.sales(&store).is_empty(), "the cloud is out of reach");
    // Meanwhile the cloud changes a price and till 2 sells.
    cloud.schedule_price(&tenant, products[0].id.as_str(), 777, now());
    let (sale, moves) = till2.maker.sale(1, &products[..1], now()).unwrap();
    till2.store.complete_sale(&sale, &moves).unwrap();

    // The link comes back, with a flaky phase first.
    link.set_faults(Faults {
        drop_per_mille: 200,
        cut_per_mille: 200,
        ..Faults::CLEAN
    });
    std::thread::sleep(Duration::from_millis(500));
    link.set_faults(Faults::CLEAN);
    eventually(LIMIT, "all six sales at the cloud", || {
        cloud.sales(&store).len() == 6
    });
    let mut ids: Vec<String> = cloud
        .sales(&store)
        .iter()
        .map(|row| row["sale"].as_str().unwrap().to_owned())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each sale once");
    // Each sale counts for the till that made it, not for the hub: the cloud knows till 1
    // under the id and name it has at the hub.
    let till1_id = hub
        .terminals(&store)
        .into_iter()
        .find(|(_, name)| name == "Till 1")
        .unwrap()
        .0;
    let at_cloud = cloud.terminals(&store);
    assert!(
        at_cloud.contains(&(till1_id.clone(), "Till 1".to_owned())),
        "{at_cloud:?}"
    );
    let till2_id = at_cloud
        .iter()
        .find(|(_, name)| name == "Till 2")
        .unwrap()
        .0
        .clone();
    let by_device = |device: &str| {
        cloud
            .sales(&store)
            .iter()
            .filter(|row| row["device"] == device)
            .count()
    };
    assert_eq!(
        by_device(&till1_id),
        5,
        "till 1's sales, relayed by the hub"
    );
    assert_eq!(by_device(&till2_id), 1);
    assert_eq!(by_device(hub.running.credential.device.as_str()), 0);
    eventually(LIMIT, "the cloud's price on till 1", || {
        till1.store.product(&products[0].id).unwrap().unwrap().price
            == Money::from_minor(777, Currency::EUR)
    });
    // Stock at every level is the sum of both tills' movements: 5 + 1 of the first product.
    let store_id = StoreId::new(&store);
    eventually(LIMIT, "till 2's movement on till 1", || {
        till1
            .store
            .stock_level(&store_id, &products[0].id)
            .unwrap()
            .to_string()
            == "-6"
    });
    eventually(LIMIT, "till 1's movements on till 2", || {
        till2
            .store
            .stock_level(&store_id, &products[0].id)
            .unwrap()
            .to_string()
            == "-6"
    });
    let cloud_stock = cloud.stock(&store);
    assert!(
        cloud_stock.contains(&(products[0].id.to_string(), "-6".to_owned())),
        "{cloud_stock:?}"
    );
    till1.stop_sync();
    till2.stop_sync();
    hub.running.stop_relay();
}
