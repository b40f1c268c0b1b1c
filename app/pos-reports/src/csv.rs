//! A report as a CSV file (RFC 4180: comma separated, quoted where needed, CRLF line ends):
//! one header row, the rows, then the totals row. Amounts are plain decimals with a point
//! and no thousands separator; the currency is in the header (`Total (EUR)`), rates are
//! percentages (`Rate (%)`), so any spreadsheet or script reads the figures back exactly.

use crate::{ReportError, Table};

pub fn to_csv(table: &Table) -> Result<Vec<u8>, ReportError> {
    let failed = |error: ::csv::Error| ReportError::Csv(error.to_string());
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(table.columns.iter().map(|c| c.heading(table.currency)))
        .map_err(failed)?;
    for row in table.rows.iter().chain(std::iter::once(&table.totals)) {
        writer
            .write_record(row.iter().map(|cell| cell.plain()))
            .map_err(failed)?;
    }
    writer
        .into_inner()
        .map_err(|error| ReportError::Csv(error.to_string()))
}
