//! The label layout the back office edits (a serde type), its validation, and placement:
//! a layout plus one product's data turned into elements at positions in printer dots,
//! which every output language then writes out.

use pos_core::money::Money;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use crate::barcode::{self, BarcodeKind};
use crate::error::LabelError;

pub const ELEMENT_COUNT_MAX: usize = 64;
const SIZE_MM_MIN: i64 = 10;
const SIZE_MM_MAX: i64 = 200;
const MM_PER_INCH: Decimal = Decimal::from_parts(254, 0, 0, false, 1);
/// The narrowest bar a hand scanner reads reliably off a label: 0.25 mm (2 dots at 203 dpi,
/// 3 at 300 dpi). EAN-13's nominal bar is 0.33 mm and 80 % of it is the usual floor.
pub const SCAN_MODULE_MM_MIN: Decimal = Decimal::from_parts(25, 0, 0, false, 2);
/// The shortest bars a hand scanner finds without aiming: 8 mm.
pub const SCAN_HEIGHT_MM_MIN: Decimal = Decimal::from_parts(8, 0, 0, false, 0);

/// Text size as printed: the cap-to-descender height of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Font {
    pub height_mm: Decimal,
}

/// Whether a barcode prints its digits underneath.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BarcodeText {
    #[default]
    Below,
    Hidden,
}

/// Which way a line runs from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Left to right, a rule under a name or over a price.
    #[default]
    Across,
    /// Top to bottom, a divider between two columns.
    Down,
}

/// The thinnest and thickest line a label prints: 0.1 mm is a single dot at 203 dpi.
pub const LINE_MM_MIN: Decimal = Decimal::from_parts(1, 0, 0, false, 1);
pub const LINE_MM_MAX: Decimal = Decimal::from_parts(5, 0, 0, false, 0);

/// One thing printed on the label, its top-left corner at (`x_mm`, `y_mm`) from the label's
/// top-left corner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    /// The product's name; cut short (with `…` → `...`) where it would run off the label.
    ProductName {
        x_mm: Decimal,
        y_mm: Decimal,
        font: Font,
    },
    /// The price, never cut: a price that does not fit is an error.
    Price {
        x_mm: Decimal,
        y_mm: Decimal,
        font: Font,
    },
    /// The price per unit of measure (`12.90 EUR / kg`), as the caller words it; cut short
    /// like the name.
    UnitPrice {
        x_mm: Decimal,
        y_mm: Decimal,
        font: Font,
    },
    /// The product's SKU, cut short like the name.
    Sku {
        x_mm: Decimal,
        y_mm: Decimal,
        font: Font,
    },
    /// Fixed text, e.g. the shop name or "per kg".
    FreeText {
        x_mm: Decimal,
        y_mm: Decimal,
        font: Font,
        text: String,
    },
    /// The product's barcode.
    Barcode {
        x_mm: Decimal,
        y_mm: Decimal,
        kind: BarcodeKind,
        height_mm: Decimal,
        /// Width of the narrowest bar in dots (2 or 3 at 203 dpi scan well).
        module_dots: u32,
        #[serde(default)]
        text: BarcodeText,
    },
    /// A rectangle outline.
    Box {
        x_mm: Decimal,
        y_mm: Decimal,
        width_mm: Decimal,
        height_mm: Decimal,
        line_mm: Decimal,
    },
    /// A straight rule `line_mm` thick and `length_mm` long, across or down the label.
    Line {
        x_mm: Decimal,
        y_mm: Decimal,
        length_mm: Decimal,
        line_mm: Decimal,
        #[serde(default)]
        direction: Direction,
    },
}

impl Element {
    /// The top-left corner in millimetres.
    pub fn position(&self) -> (Decimal, Decimal) {
        match self {
            Element::ProductName { x_mm, y_mm, .. }
            | Element::Price { x_mm, y_mm, .. }
            | Element::UnitPrice { x_mm, y_mm, .. }
            | Element::Sku { x_mm, y_mm, .. }
            | Element::FreeText { x_mm, y_mm, .. }
            | Element::Barcode { x_mm, y_mm, .. }
            | Element::Box { x_mm, y_mm, .. }
            | Element::Line { x_mm, y_mm, .. } => (*x_mm, *y_mm),
        }
    }

    /// Puts the top-left corner at (`x`, `y`) mm; [`Label::new`] checks it is on the label.
    pub fn move_to(&mut self, x: Decimal, y: Decimal) {
        match self {
            Element::ProductName { x_mm, y_mm, .. }
            | Element::Price { x_mm, y_mm, .. }
            | Element::UnitPrice { x_mm, y_mm, .. }
            | Element::Sku { x_mm, y_mm, .. }
            | Element::FreeText { x_mm, y_mm, .. }
            | Element::Barcode { x_mm, y_mm, .. }
            | Element::Box { x_mm, y_mm, .. }
            | Element::Line { x_mm, y_mm, .. } => {
                *x_mm = x;
                *y_mm = y;
            }
        }
    }

    /// The size an editor changes: a text's font height, a barcode's bar height, a box's
    /// height, a line's length, in millimetres.
    pub fn size_mm(&self) -> Decimal {
        match self {
            Element::ProductName { font, .. }
            | Element::Price { font, .. }
            | Element::UnitPrice { font, .. }
            | Element::Sku { font, .. }
            | Element::FreeText { font, .. } => font.height_mm,
            Element::Barcode { height_mm, .. } | Element::Box { height_mm, .. } => *height_mm,
            Element::Line { length_mm, .. } => *length_mm,
        }
    }

    pub fn set_size_mm(&mut self, size: Decimal) {
        match self {
            Element::ProductName { font, .. }
            | Element::Price { font, .. }
            | Element::UnitPrice { font, .. }
            | Element::Sku { font, .. }
            | Element::FreeText { font, .. } => font.height_mm = size,
            Element::Barcode { height_mm, .. } | Element::Box { height_mm, .. } => {
                *height_mm = size;
            }
            Element::Line { length_mm, .. } => *length_mm = size,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Element::ProductName { .. } => "product name",
            Element::Price { .. } => "price",
            Element::UnitPrice { .. } => "unit price",
            Element::Sku { .. } => "SKU",
            Element::FreeText { .. } => "free text",
            Element::Barcode { .. } => "barcode",
            Element::Box { .. } => "box",
            Element::Line { .. } => "line",
        }
    }
}

/// A label layout as stored and edited. Check it with [`Label::new`] before use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelLayout {
    pub name: String,
    pub width_mm: Decimal,
    pub height_mm: Decimal,
    /// Gap between labels on the roll (TSPL needs it to find the next label).
    #[serde(default = "default_gap_mm")]
    pub gap_mm: Decimal,
    pub dpi: u32,
    pub elements: Vec<Element>,
}

fn default_gap_mm() -> Decimal {
    Decimal::new(2, 0)
}

/// What one label shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    pub product_name: String,
    pub price: Money,
    /// The digits or text the barcode encodes: 13 digits with their check digit for EAN-13.
    pub barcode: String,
    pub sku: String,
    /// The price per unit of measure as it should read, `1.19 EUR / piece`.
    pub unit_price: String,
}

/// A validated layout: every element inside the label, sizes sane, a known resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    layout: LabelLayout,
    width_dots: u32,
    height_dots: u32,
}

/// An element resolved for one product, in dots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    Text {
        x: u32,
        y: u32,
        height: u32,
        text: String,
    },
    Barcode {
        x: u32,
        y: u32,
        kind: BarcodeKind,
        height: u32,
        module: u32,
        text: BarcodeText,
        data: String,
    },
    Box {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        line: u32,
    },
    /// A filled rectangle: a line.
    Bar {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
}

impl Label {
    /// Reads a layout from the back office's JSON and validates it.
    pub fn from_json(json: &str) -> Result<Label, LabelError> {
        let layout: LabelLayout =
            serde_json::from_str(json).map_err(|error| LabelError::Malformed {
                message: error.to_string(),
            })?;
        Label::new(layout)
    }

    pub fn new(layout: LabelLayout) -> Result<Label, LabelError> {
        let size_range = Decimal::from(SIZE_MM_MIN)..=Decimal::from(SIZE_MM_MAX);
        if !size_range.contains(&layout.width_mm) || !size_range.contains(&layout.height_mm) {
            return Err(LabelError::SizeOutOfRange {
                width_mm: layout.width_mm.to_string(),
                height_mm: layout.height_mm.to_string(),
            });
        }
        if !matches!(layout.dpi, 203 | 300 | 600) {
            return Err(LabelError::UnsupportedDpi { dpi: layout.dpi });
        }
        if layout.elements.len() > ELEMENT_COUNT_MAX {
            return Err(LabelError::TooManyElements {
                count: layout.elements.len(),
                count_max: ELEMENT_COUNT_MAX,
            });
        }
        let (width_mm, height_mm) = (layout.width_mm, layout.height_mm);
        for (index, element) in layout.elements.iter().enumerate() {
            let name = element.name();
            let bad = |detail: String| LabelError::BadDimension {
                index,
                element: name,
                detail,
            };
            let outside = |detail: String| LabelError::OutsideLabel {
                index,
                element: name,
                detail,
            };
            let (x_mm, y_mm, box_width_mm, box_height_mm) = match element {
                Element::ProductName { x_mm, y_mm, font }
                | Element::Price { x_mm, y_mm, font }
                | Element::UnitPrice { x_mm, y_mm, font }
                | Element::Sku { x_mm, y_mm, font }
                | Element::FreeText {
                    x_mm, y_mm, font, ..
                } => {
                    if font.height_mm < Decimal::new(15, 1) || font.height_mm > Decimal::from(50) {
                        return Err(bad(format!(
                            "font height {} mm must be 1.5 to 50 mm",
                            font.height_mm
                        )));
                    }
                    (*x_mm, *y_mm, Decimal::ZERO, font.height_mm)
                }
                Element::Barcode {
                    x_mm,
                    y_mm,
                    height_mm,
                    module_dots,
                    ..
                } => {
                    if !(1..=10).contains(module_dots) {
                        return Err(bad(format!("bar width {module_dots} dots must be 1 to 10")));
                    }
                    if *height_mm < Decimal::from(3) {
                        return Err(bad(format!(
                            "barcode height {height_mm} mm is below 3 mm, too short to scan"
                        )));
                    }
                    (*x_mm, *y_mm, Decimal::ZERO, *height_mm)
                }
                Element::Box {
                    x_mm,
                    y_mm,
                    width_mm,
                    height_mm,
                    line_mm,
                } => {
                    if *line_mm <= Decimal::ZERO
                        || *line_mm * Decimal::TWO > (*width_mm).min(*height_mm)
                    {
                        return Err(bad(format!(
                            "line {line_mm} mm must be positive and fit inside the box"
                        )));
                    }
                    (*x_mm, *y_mm, *width_mm, *height_mm)
                }
                Element::Line {
                    x_mm,
                    y_mm,
                    length_mm,
                    line_mm,
                    direction,
                } => {
                    if !(LINE_MM_MIN..=LINE_MM_MAX).contains(line_mm) {
                        return Err(bad(format!(
                            "line {line_mm} mm must be {LINE_MM_MIN} to {LINE_MM_MAX} mm thick"
                        )));
                    }
                    if *length_mm < Decimal::ONE || length_mm < line_mm {
                        return Err(bad(format!(
                            "a line {length_mm} mm long is too short; make it at least 1 mm and longer than it is thick"
                        )));
                    }
                    match direction {
                        Direction::Across => (*x_mm, *y_mm, *length_mm, *line_mm),
                        Direction::Down => (*x_mm, *y_mm, *line_mm, *length_mm),
                    }
                }
            };
            if let Element::FreeText { text, .. } = element
                && text.trim().is_empty()
            {
                return Err(LabelError::EmptyFreeText { index });
            }
            if x_mm < Decimal::ZERO || y_mm < Decimal::ZERO {
                return Err(outside(format!("position ({x_mm}, {y_mm}) mm is negative")));
            }
            if x_mm + box_width_mm > width_mm || x_mm >= width_mm {
                return Err(outside(format!(
                    "it reaches x = {} mm, the label is {width_mm} mm wide",
                    x_mm + box_width_mm
                )));
            }
            if y_mm + box_height_mm > height_mm {
                return Err(outside(format!(
                    "it reaches y = {} mm, the label is {height_mm} mm high",
                    y_mm + box_height_mm
                )));
            }
        }
        let dpi = layout.dpi;
        Ok(Label {
            width_dots: mm_to_dots(width_mm, dpi),
            height_dots: mm_to_dots(height_mm, dpi),
            layout,
        })
    }

    pub fn layout(&self) -> &LabelLayout {
        &self.layout
    }

    /// Refuses barcodes a hand scanner would struggle with: bars narrower than
    /// [`SCAN_MODULE_MM_MIN`] or shorter than [`SCAN_HEIGHT_MM_MIN`]. The printer would print
    /// them; the back office does not save a layout with one.
    pub fn check_scannable(&self) -> Result<(), LabelError> {
        for (index, element) in self.layout.elements.iter().enumerate() {
            if let Element::Barcode {
                height_mm,
                module_dots,
                ..
            } = element
            {
                let module_mm =
                    Decimal::from(*module_dots) * MM_PER_INCH / Decimal::from(self.layout.dpi);
                if module_mm < SCAN_MODULE_MM_MIN {
                    let needed =
                        (SCAN_MODULE_MM_MIN * Decimal::from(self.layout.dpi) / MM_PER_INCH).ceil();
                    return Err(LabelError::TooSmallToScan {
                        index,
                        detail: format!(
                            "its bars are {} mm wide; at {} dpi make them at least {needed} dots ({SCAN_MODULE_MM_MIN} mm)",
                            module_mm.round_dp(2),
                            self.layout.dpi
                        ),
                    });
                }
                if *height_mm < SCAN_HEIGHT_MM_MIN {
                    return Err(LabelError::TooSmallToScan {
                        index,
                        detail: format!(
                            "its bars are {height_mm} mm high; make them at least {SCAN_HEIGHT_MM_MIN} mm"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn width_dots(&self) -> u32 {
        self.width_dots
    }

    pub fn height_dots(&self) -> u32 {
        self.height_dots
    }

    pub fn dpi(&self) -> u32 {
        self.layout.dpi
    }

    /// Resolves every element for one product. Fails when the barcode data is not valid for
    /// its kind, or when the barcode or the price would run off the label.
    pub fn place(&self, data: &LabelData) -> Result<Vec<Placed>, LabelError> {
        let dots = |mm: Decimal| mm_to_dots(mm, self.layout.dpi);
        let mut placed = Vec::with_capacity(self.layout.elements.len());
        for (index, element) in self.layout.elements.iter().enumerate() {
            let name = element.name();
            let does_not_fit = |text: &str, x: u32, width: u32| LabelError::DoesNotFit {
                index,
                element: name,
                text: text.to_string(),
                x_dots: x,
                width_dots: width,
                label_width_dots: self.width_dots,
            };
            placed.push(match element {
                Element::ProductName { x_mm, y_mm, font }
                | Element::UnitPrice { x_mm, y_mm, font }
                | Element::Sku { x_mm, y_mm, font }
                | Element::FreeText {
                    x_mm, y_mm, font, ..
                } => {
                    let (x, height) = (dots(*x_mm), dots(font.height_mm));
                    let full = match element {
                        Element::FreeText { text, .. } => text.as_str(),
                        Element::UnitPrice { .. } => data.unit_price.as_str(),
                        Element::Sku { .. } => data.sku.as_str(),
                        _ => data.product_name.as_str(),
                    };
                    let text =
                        clip_to_width(&printable(full), self.width_dots.saturating_sub(x), height);
                    Placed::Text {
                        x,
                        y: dots(*y_mm),
                        height,
                        text,
                    }
                }
                Element::Price { x_mm, y_mm, font } => {
                    let (x, height) = (dots(*x_mm), dots(font.height_mm));
                    let text = data.price.to_string();
                    let width = text_width_dots(&text, height);
                    if x + width > self.width_dots {
                        return Err(does_not_fit(&text, x, width));
                    }
                    Placed::Text {
                        x,
                        y: dots(*y_mm),
                        height,
                        text,
                    }
                }
                Element::Barcode {
                    x_mm,
                    y_mm,
                    kind,
                    height_mm,
                    module_dots,
                    text,
                } => {
                    let data = barcode::validate(*kind, &data.barcode)?;
                    let x = dots(*x_mm);
                    let width = barcode::width_modules(*kind, &data) * module_dots;
                    if x + width > self.width_dots {
                        return Err(does_not_fit(&data, x, width));
                    }
                    let height = dots(*height_mm);
                    Placed::Barcode {
                        x,
                        y: dots(*y_mm),
                        kind: *kind,
                        height,
                        module: *module_dots,
                        text: *text,
                        data,
                    }
                }
                Element::Box {
                    x_mm,
                    y_mm,
                    width_mm,
                    height_mm,
                    line_mm,
                } => Placed::Box {
                    x: dots(*x_mm),
                    y: dots(*y_mm),
                    width: dots(*width_mm),
                    height: dots(*height_mm),
                    line: dots(*line_mm).max(1),
                },
                Element::Line {
                    x_mm,
                    y_mm,
                    length_mm,
                    line_mm,
                    direction,
                } => {
                    let (length, line) = (dots(*length_mm).max(1), dots(*line_mm).max(1));
                    let (width, height) = match direction {
                        Direction::Across => (length, line),
                        Direction::Down => (line, length),
                    };
                    Placed::Bar {
                        x: dots(*x_mm),
                        y: dots(*y_mm),
                        width,
                        height,
                    }
                }
            });
        }
        Ok(placed)
    }
}

impl Placed {
    /// The rectangle it covers, in dots: (x, y, width, height). A barcode's digits printed
    /// below its bars are not counted.
    pub fn bounds(&self) -> (u32, u32, u32, u32) {
        match self {
            Placed::Text { x, y, height, text } => {
                (*x, *y, text_width_dots(text, *height), *height)
            }
            Placed::Barcode {
                x,
                y,
                kind,
                height,
                module,
                data,
                ..
            } => (
                *x,
                *y,
                barcode::width_modules(*kind, data).saturating_mul(*module),
                *height,
            ),
            Placed::Box {
                x,
                y,
                width,
                height,
                ..
            }
            | Placed::Bar {
                x,
                y,
                width,
                height,
            } => (*x, *y, *width, *height),
        }
    }
}

/// Millimetres to printer dots, rounded to the nearest dot.
pub fn mm_to_dots(mm: Decimal, dpi: u32) -> u32 {
    (mm * Decimal::from(dpi) / MM_PER_INCH)
        .round()
        .to_u32()
        .unwrap_or(0)
}

/// A conservative width estimate: printer fonts run from half to two thirds of their height
/// per character, so two thirds keeps text on the label in every output language.
pub fn text_width_dots(text: &str, height_dots: u32) -> u32 {
    let characters = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
    characters
        .saturating_mul(height_dots.saturating_mul(2))
        .div_ceil(3)
}

/// Control characters become spaces: a line break in a product name must never end a
/// command in a line-based printer language (TSPL) and start another.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn clip_to_width(text: &str, width_dots: u32, height_dots: u32) -> String {
    if text_width_dots(text, height_dots) <= width_dots {
        return text.to_string();
    }
    let per_character = height_dots.saturating_mul(2).div_ceil(3).max(1);
    let fitting = usize::try_from(width_dots / per_character).unwrap_or(0);
    let kept: String = text.chars().take(fitting.saturating_sub(3)).collect();
    format!("{}...", kept.trim_end())
}
