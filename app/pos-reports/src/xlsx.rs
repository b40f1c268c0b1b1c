//! A report as an Excel workbook (.xlsx): the title and period on top, a bold header row
//! that stays in view when scrolling, amounts as numbers with a currency number format (so
//! they can be summed in the sheet), rates as percentages, and columns wide enough for
//! their contents.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

use crate::{Cell, ColumnKind, ReportError, Table};

const HEADER_ROW: u32 = 3;

pub fn to_xlsx(table: &Table) -> Result<Vec<u8>, ReportError> {
    write(table).map_err(|error| ReportError::Xlsx(error.to_string()))
}

/// Excel keeps every number as a binary floating-point value; a figure is converted only
/// here, once it is final. Amounts of up to 15 significant digits come back exactly.
fn spreadsheet_number(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

fn write(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.title))?;

    let minor = table.currency.minor_units();
    let decimals = if minor == 0 {
        String::new()
    } else {
        format!(".{}", "0".repeat(usize::try_from(minor).unwrap_or(2)))
    };
    let money_code = format!("#,##0{decimals} \"{}\"", table.currency.code());
    let money = Format::new().set_num_format(&money_code);
    let quantity = Format::new().set_num_format("#,##0.###");
    let count = Format::new().set_num_format("#,##0");
    let percent = Format::new().set_num_format("0.0#%");
    let bold = Format::new().set_bold();
    let header = Format::new()
        .set_bold()
        .set_border_bottom(rust_xlsxwriter::FormatBorder::Thin)
        .set_align(FormatAlign::Center);

    sheet.write_string_with_format(
        0,
        0,
        &table.title,
        &Format::new().set_bold().set_font_size(14),
    )?;
    sheet.write_string(1, 0, &table.period)?;

    let mut widths: Vec<usize> = Vec::with_capacity(table.columns.len());
    for (index, column) in table.columns.iter().enumerate() {
        let heading = column.heading(table.currency);
        widths.push(heading.chars().count());
        sheet.write_string_with_format(HEADER_ROW, col(index), &heading, &header)?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;

    let mut row_number = HEADER_ROW;
    let total_row = table.rows.len();
    for (row_index, row) in table
        .rows
        .iter()
        .chain(std::iter::once(&table.totals))
        .enumerate()
    {
        row_number += 1;
        let is_total = row_index == total_row;
        for (index, cell) in row.iter().enumerate() {
            let kind = table
                .columns
                .get(index)
                .map_or(ColumnKind::Text, |c| c.kind);
            let mut format = match (kind, cell) {
                (_, Cell::Money(_)) => money.clone(),
                (_, Cell::Quantity(_)) => quantity.clone(),
                (_, Cell::Count(_)) => count.clone(),
                (_, Cell::Percent(_)) => percent.clone(),
                _ => Format::new(),
            };
            if is_total {
                format = format
                    .set_bold()
                    .set_border_top(rust_xlsxwriter::FormatBorder::Thin);
            }
            write_cell(sheet, row_number, col(index), cell, &format)?;
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(cell.shown().chars().count() + 5);
            }
        }
    }
    if table.rows.is_empty() {
        sheet.write_string_with_format(HEADER_ROW + 2, 0, "No sales in this period.", &bold)?;
    }
    for (index, width) in widths.iter().enumerate() {
        let width = u16::try_from((*width).clamp(8, 60)).unwrap_or(60);
        sheet.set_column_width(col(index), width)?;
    }
    workbook.save_to_buffer()
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    column: u16,
    cell: &Cell,
    format: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Text(text) => {
            sheet.write_string_with_format(row, column, text, format)?;
        }
        Cell::Money(money) => {
            sheet.write_number_with_format(
                row,
                column,
                spreadsheet_number(money.amount()),
                format,
            )?;
        }
        Cell::Quantity(value) | Cell::Percent(value) => {
            sheet.write_number_with_format(row, column, spreadsheet_number(*value), format)?;
        }
        Cell::Count(count) => {
            sheet.write_number_with_format(
                row,
                column,
                spreadsheet_number(Decimal::from(*count)),
                format,
            )?;
        }
        Cell::Empty => {
            sheet.write_blank(row, column, format)?;
        }
    }
    Ok(())
}

fn col(index: usize) -> u16 {
    u16::try_from(index).unwrap_or(u16::MAX)
}

/// Excel allows 31 characters and no `[]:*?/\` in a sheet name.
fn sheet_name(title: &str) -> String {
    title
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '-' } else { c })
        .take(31)
        .collect()
}
