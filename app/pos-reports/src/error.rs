use pos_core::money::MoneyError;
use time::Date;

/// Why a report could not be made or written. The messages are for the manager reading
/// them in the back office.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "the report period starts on {from} but ends on {to}: choose a start on or before the end"
    )]
    BackwardsPeriod { from: Date, to: Date },
    #[error("the report period ends after the last date the calendar can hold")]
    PeriodOutOfRange,
    #[error("the figures cannot be added up: {0}")]
    Money(#[from] MoneyError),
    #[error("the CSV file could not be written: {0}")]
    Csv(String),
    #[error("the Excel file could not be written: {0}")]
    Xlsx(String),
    #[cfg(feature = "store")]
    #[error("the sales could not be read from the store: {0}")]
    Store(#[from] pos_store::StoreError),
}
