//! Bulk import and export of products, variants, barcodes and stock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pos_core::id::{ProductId, StoreId, UserId};
use pos_core::money::Currency;
use pos_core::quantity::Quantity;
use pos_store::csv_io::{ImportMode, ImportOptions, RowError};
use pos_store::{ErrorKind, StoreError};
use support::{at, open};

const HEADER: &str = "id,sku,name,parent,variant,unit,price,cost,tax_category,category,vendor,active,low_stock_threshold,barcodes,stock\n";

fn options(mode: ImportMode) -> ImportOptions {
    ImportOptions {
        currency: Currency::EUR,
        store: StoreId::new("berlin-mitte"),
        actor: UserId::new("marc"),
        now: at(0),
        mode,
    }
}

fn good_file() -> String {
    // The variant comes before its parent: order in the file does not matter.
    format!(
        "{HEADER}\
         tee-m,TEE-M,Tee,tee,size=M;colour=navy,piece,19.90,7.00,standard,fashion,v1,true,,4000000000017,4\n\
         tee,TEE,Tee,,,piece,19.90,7.00,standard,fashion,v1,true,,,\n\
         milk,MLK-1L,\"Milk, whole 1L\",,,piece,1.19,0.80,food,dairy,,true,6,4006381333931|4006381333948,24\n\
         apples,APL,Apples,,,kilogram,2.49,1.10,food,fruit,,false,,2000001000007,12.5\n"
    )
}

#[test]
fn products_variants_barcodes_and_stock_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let report = store
        .import_products_csv(good_file().as_bytes(), &options(ImportMode::AllOrNothing))
        .unwrap();
    assert_eq!((report.products, report.stock_movements), (4, 3));
    assert!(report.rejected.is_empty());
    let milk = store.product_by_barcode("4006381333948").unwrap().unwrap();
    assert_eq!(milk.name, "Milk, whole 1L");
    assert_eq!(milk.low_stock_threshold, Some(Quantity::pieces(6)));
    let tee_m = store.product(&ProductId::new("tee-m")).unwrap().unwrap();
    assert_eq!(tee_m.display_name(), "Tee / M / navy");
    let berlin = StoreId::new("berlin-mitte");
    assert_eq!(
        store
            .stock_level(&berlin, &ProductId::new("apples"))
            .unwrap()
            .value()
            .to_string(),
        "12.5"
    );
    // Stock counts are journaled movements.
    let kinds: Vec<String> = store
        .pending_upload(100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["stock_moved"; 3]);

    let mut exported = Vec::new();
    assert_eq!(
        store.export_products_csv(&mut exported, &berlin).unwrap(),
        4
    );
    let exported = String::from_utf8(exported).unwrap();
    // The same rows come out, the parent's empty stock now its level, 0.
    let expected = good_file().replace("v1,true,,,\n", "v1,true,,,0\n");
    let sorted = |text: &str| {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    assert_eq!(exported.lines().next().unwrap(), HEADER.trim_end());
    assert_eq!(sorted(&exported), sorted(&expected));

    // Importing the export again changes nothing and moves no stock.
    let again = store
        .import_products_csv(exported.as_bytes(), &options(ImportMode::AllOrNothing))
        .unwrap();
    assert_eq!((again.products, again.stock_movements), (4, 0));
    // A new count records only the difference.
    let recount = good_file().replace(
        ",4006381333931|4006381333948,24",
        ",4006381333931|4006381333948,20",
    );
    let report = store
        .import_products_csv(recount.as_bytes(), &options(ImportMode::AllOrNothing))
        .unwrap();
    assert_eq!(report.stock_movements, 1);
    assert_eq!(
        store.stock_level(&berlin, &ProductId::new("milk")).unwrap(),
        Quantity::pieces(20)
    );
    assert!(store.verify_journal().unwrap().is_intact());
}

fn bad_file() -> String {
    format!(
        "{HEADER}\
         ok1,OK1,Good one,,,piece,1.00,0.50,food,,,true,,4000000000024,\n\
         bad-price,BP,Too precise,,,piece,1.234,0.50,food,,,true,,,\n\
         bad-unit,BU,Bad unit,,,litre,1.00,0.50,food,,,true,,,\n\
         dup-code,DC,Duplicate code,,,piece,1.00,0.50,food,,,true,,4000000000024,\n\
         orphan,OR,Orphan variant,nowhere,size=S,piece,1.00,0.50,food,,,true,,,\n\
         taken,TK,Takes milk's barcode,,,piece,1.00,0.50,food,,,true,,4006381333931,\n\
         ok2,OK2,Good two,,,piece,2.00,1.00,food,,,true,,,3\n\
         no-name,NN,,,,piece,1.00,0.50,food,,,true,,,\n"
    )
}

fn expected_errors() -> Vec<RowError> {
    let row = |line, reason: &str| RowError {
        line,
        reason: reason.to_owned(),
    };
    vec![
        row(
            3,
            "`price`: amount 1.234 has more decimals than EUR allows (2)",
        ),
        row(4, "unit `litre` is not piece, kilogram or pound"),
        row(5, "barcode 4000000000024 is also on line 2"),
        row(
            6,
            "parent product nowhere is neither in the file nor in the catalogue",
        ),
        row(7, "barcode 4006381333931 already belongs to product milk"),
        row(9, "`name` is empty"),
    ]
}

#[test]
fn a_bad_row_is_reported_with_its_line_and_nothing_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store
        .import_products_csv(good_file().as_bytes(), &options(ImportMode::AllOrNothing))
        .unwrap();
    let journal_before = store.verify_journal().unwrap();
    let error = store
        .import_products_csv(bad_file().as_bytes(), &options(ImportMode::AllOrNothing))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Import);
    let StoreError::Import(rows) = &error else {
        panic!("{error}")
    };
    let got: Vec<String> = rows.iter().map(ToString::to_string).collect();
    let want: Vec<String> = expected_errors().iter().map(ToString::to_string).collect();
    assert_eq!(got, want);
    assert_eq!(
        error.to_string(),
        "import refused, nothing was imported: 6 bad row(s); first: line 3: `price`: amount 1.234 has more decimals than EUR allows (2)"
    );
    assert_eq!(store.product(&ProductId::new("ok1")).unwrap(), None);
    assert_eq!(store.verify_journal().unwrap(), journal_before);
}

#[test]
fn the_good_rows_can_be_imported_and_the_bad_ones_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store
        .import_products_csv(good_file().as_bytes(), &options(ImportMode::AllOrNothing))
        .unwrap();
    let report = store
        .import_products_csv(bad_file().as_bytes(), &options(ImportMode::GoodRowsOnly))
        .unwrap();
    assert_eq!(report.products, 2);
    assert_eq!(report.stock_movements, 1);
    let got: Vec<String> = report.rejected.iter().map(ToString::to_string).collect();
    let want: Vec<String> = expected_errors().iter().map(ToString::to_string).collect();
    assert_eq!(got, want);
    assert!(store.product(&ProductId::new("ok2")).unwrap().is_some());
    assert_eq!(
        store
            .product_by_barcode("4006381333931")
            .unwrap()
            .unwrap()
            .id,
        ProductId::new("milk")
    );
}

#[test]
fn a_file_without_the_expected_columns_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let error = store
        .import_products_csv(
            "id,sku,name\nx,X,Thing\n".as_bytes(),
            &options(ImportMode::GoodRowsOnly),
        )
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("line 1: the header lacks the column(s) parent, variant, unit, price, cost"),
        "{error}"
    );
}
