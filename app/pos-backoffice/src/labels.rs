//! Shelf and product labels: the layout being edited ([`Draft`]: elements added, moved,
//! resized and removed on a label of a chosen size; each barcode's type, each box's and line's
//! stroke), its checks before it is saved, the saved layouts, and printing labels for chosen
//! products through a [`LabelPrinter`].
//!
//! The layout itself, its placement in printer dots and the printer languages are
//! `pos-label`'s; this module only edits one and decides what a product's label says
//! (name, price, price per unit, barcode, SKU). The printer is reached only through the
//! [`LabelPrinter`] the terminal provides, so nothing here opens a device.

use pos_core::catalog::Product;
use pos_core::event::DomainEvent;
use pos_core::id::LabelLayoutId;
use pos_core::quantity::Unit;
use pos_label::layout::{LINE_MM_MAX, LINE_MM_MIN};
use pos_label::{
    BarcodeKind, BarcodeText, Direction, Element, Font, Label, LabelData, LabelError, LabelLayout,
    Language,
};
use rust_decimal::Decimal;

use crate::books::Books;
use crate::office::{BackOffice, BackOfficeError, permission};

/// The label sizes the editor offers, width × height in millimetres: a shelf edge, a small
/// product sticker and a large shelf or crate label.
pub const SIZES_MM: [(i64, i64); 3] = [(58, 40), (50, 30), (100, 50)];
/// The printer resolutions the editor offers.
pub const DPIS: [u32; 2] = [203, 300];
/// Positions snap to half millimetres, so a layout dragged by a finger stays tidy.
pub const GRID_MM: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
/// One step of "Larger" or "Smaller": half a millimetre of text, a millimetre of bars, of a
/// box each way or of a line's length.
const TEXT_STEP_MM: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
const SHAPE_STEP_MM: Decimal = Decimal::ONE;
/// One step of "Thicker" or "Thinner": two dots at 203 dpi.
const STROKE_STEP_MM: Decimal = Decimal::from_parts(25, 0, 0, false, 2);
/// The barcode types the editor offers, in the order of its buttons.
pub const BARCODE_KINDS: [BarcodeKind; 2] = [BarcodeKind::Ean13, BarcodeKind::Code128];
/// Most labels of one product in one job, and most products in one job.
pub const LABELS_PER_PRODUCT_MAX: u32 = 999;
pub const PRODUCTS_PER_JOB_MAX: usize = 200;
/// The longest layout name the list shows whole.
pub const NAME_LENGTH_MAX: usize = 60;

/// What can be put on a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementKind {
    ProductName,
    Price,
    UnitPrice,
    Barcode,
    FreeText,
    Sku,
    Box,
    Line,
}

impl ElementKind {
    pub const ALL: [ElementKind; 8] = [
        ElementKind::ProductName,
        ElementKind::Price,
        ElementKind::UnitPrice,
        ElementKind::Barcode,
        ElementKind::FreeText,
        ElementKind::Sku,
        ElementKind::Box,
        ElementKind::Line,
    ];

    /// The button that adds one; also how the element is named on the label.
    pub fn title(self) -> &'static str {
        match self {
            ElementKind::ProductName => "Product name",
            ElementKind::Price => "Price",
            ElementKind::UnitPrice => "Unit price",
            ElementKind::Barcode => "Barcode",
            ElementKind::FreeText => "Text",
            ElementKind::Sku => "SKU",
            ElementKind::Box => "Box",
            ElementKind::Line => "Line",
        }
    }

    pub fn of(element: &Element) -> ElementKind {
        match element {
            Element::ProductName { .. } => ElementKind::ProductName,
            Element::Price { .. } => ElementKind::Price,
            Element::UnitPrice { .. } => ElementKind::UnitPrice,
            Element::Barcode { .. } => ElementKind::Barcode,
            Element::FreeText { .. } => ElementKind::FreeText,
            Element::Sku { .. } => ElementKind::Sku,
            Element::Box { .. } => ElementKind::Box,
            Element::Line { .. } => ElementKind::Line,
        }
    }

    /// A new element of this kind at the label's top-left, sized to read or scan well.
    fn element(self, dpi: u32) -> Element {
        let (x_mm, y_mm) = (Decimal::TWO, Decimal::TWO);
        let font = |mm: i64| Font {
            height_mm: Decimal::from(mm),
        };
        match self {
            ElementKind::ProductName => Element::ProductName {
                x_mm,
                y_mm,
                font: font(4),
            },
            ElementKind::Price => Element::Price {
                x_mm,
                y_mm,
                font: font(6),
            },
            ElementKind::UnitPrice => Element::UnitPrice {
                x_mm,
                y_mm,
                font: font(3),
            },
            ElementKind::Sku => Element::Sku {
                x_mm,
                y_mm,
                font: font(3),
            },
            ElementKind::FreeText => Element::FreeText {
                x_mm,
                y_mm,
                font: font(3),
                text: "Text".to_owned(),
            },
            ElementKind::Barcode => Element::Barcode {
                x_mm,
                y_mm,
                kind: BarcodeKind::Ean13,
                height_mm: Decimal::TEN,
                // The narrowest bar that still scans: 2 dots at 203 dpi, 3 at 300.
                module_dots: if dpi >= 300 { 3 } else { 2 },
                text: BarcodeText::Below,
            },
            ElementKind::Box => Element::Box {
                x_mm,
                y_mm,
                width_mm: Decimal::from(20),
                height_mm: Decimal::TEN,
                line_mm: Decimal::new(5, 1),
            },
            ElementKind::Line => Element::Line {
                x_mm,
                y_mm,
                length_mm: Decimal::from(30),
                line_mm: Decimal::new(5, 1),
                direction: Direction::Across,
            },
        }
    }
}

/// Why a layout cannot be saved or a label printed, in words for the manager.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabelProblem {
    #[error("give the layout a name")]
    NoName,
    #[error("the name is too long; use at most {NAME_LENGTH_MAX} characters")]
    LongName,
    #[error("add at least one element to the label")]
    Empty,
    #[error("“{name}” is already the name of another layout")]
    DuplicateName { name: String },
    #[error("{0}")]
    Layout(#[from] LabelError),
    #[error("choose at least one product to print labels for")]
    NothingToPrint,
    #[error("{name}: {reason}")]
    Product { name: String, reason: String },
    #[error("print at most {PRODUCTS_PER_JOB_MAX} products at a time")]
    TooManyProducts,
    #[error("the label printer did not take the job: {0}. Nothing was printed; try again.")]
    Printer(String),
}

/// The label printer the terminal's configuration names (or its simulated one).
pub trait LabelPrinter {
    fn language(&self) -> Language;
    /// How the screen names it: "Label printer at 10.0.0.7:9100 (ZPL)".
    fn describe(&self) -> String;
    /// Sends one job whole; on success says where it went.
    fn send(&self, job: &[u8]) -> Result<String, String>;
}

/// The layout on the editor, with the element chosen for moving and resizing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    /// The saved layout this started from; `None` for a new one.
    pub id: Option<LabelLayoutId>,
    pub layout: LabelLayout,
    pub selected: Option<usize>,
}

impl Draft {
    /// A new, empty layout on the first size at 203 dpi.
    pub fn new() -> Draft {
        let (width, height) = SIZES_MM[0];
        Draft {
            id: None,
            layout: LabelLayout {
                name: String::new(),
                width_mm: Decimal::from(width),
                height_mm: Decimal::from(height),
                gap_mm: Decimal::TWO,
                dpi: DPIS[0],
                elements: Vec::new(),
            },
            selected: None,
        }
    }

    pub fn open(id: LabelLayoutId, layout: LabelLayout) -> Draft {
        Draft {
            id: Some(id),
            layout,
            selected: None,
        }
    }

    /// Adds an element of `kind` at the top-left and selects it.
    pub fn add(&mut self, kind: ElementKind) {
        self.layout.elements.push(kind.element(self.layout.dpi));
        self.selected = Some(self.layout.elements.len() - 1);
    }

    /// Chooses element `index`; `None` (or an index past the end) chooses none.
    pub fn select(&mut self, index: Option<usize>) {
        self.selected = index.filter(|i| *i < self.layout.elements.len());
    }

    /// The chosen element.
    pub fn chosen(&self) -> Option<&Element> {
        self.selected.and_then(|i| self.layout.elements.get(i))
    }

    fn chosen_mut(&mut self) -> Option<&mut Element> {
        self.selected.and_then(|i| self.layout.elements.get_mut(i))
    }

    /// Moves element `index` to (`x_mm`, `y_mm`), snapped to the grid and kept off negative
    /// positions; it is selected. Whether it still fits is said by [`Draft::check`].
    pub fn move_to(&mut self, index: usize, x_mm: Decimal, y_mm: Decimal) {
        let snap = |mm: Decimal| {
            ((mm / GRID_MM).round() * GRID_MM)
                .max(Decimal::ZERO)
                .normalize()
        };
        if let Some(element) = self.layout.elements.get_mut(index) {
            element.move_to(snap(x_mm), snap(y_mm));
            self.selected = Some(index);
        }
    }

    /// Makes the chosen element one step larger (`steps` > 0) or smaller: a text's height, a
    /// barcode's bars, a box each way, a line's length. Never below what still prints.
    pub fn resize(&mut self, steps: i32) {
        let Some(element) = self.chosen_mut() else {
            return;
        };
        let change = Decimal::from(steps);
        match element {
            Element::Box {
                width_mm,
                height_mm,
                line_mm,
                ..
            } => {
                let least = (*line_mm * Decimal::TWO).max(Decimal::ONE);
                *width_mm = (*width_mm + SHAPE_STEP_MM * change).max(least);
                *height_mm = (*height_mm + SHAPE_STEP_MM * change).max(least);
            }
            _ => {
                let (step, least) = match element {
                    Element::Barcode { .. } => (SHAPE_STEP_MM, Decimal::from(3)),
                    Element::Line { .. } => (SHAPE_STEP_MM, Decimal::ONE),
                    _ => (TEXT_STEP_MM, Decimal::new(15, 1)),
                };
                let size = (element.size_mm() + step * change).max(least);
                element.set_size_mm(size);
            }
        }
    }

    /// Makes the chosen box's or line's stroke one step thicker (`steps` > 0) or thinner, kept
    /// between the thinnest line a printer makes and what the shape leaves room for.
    pub fn thicken(&mut self, steps: i32) {
        let change = STROKE_STEP_MM * Decimal::from(steps);
        match self.chosen_mut() {
            Some(Element::Box {
                width_mm,
                height_mm,
                line_mm,
                ..
            }) => {
                let most = (*width_mm).min(*height_mm) / Decimal::TWO;
                *line_mm = (*line_mm + change).clamp(LINE_MM_MIN, most.max(LINE_MM_MIN));
            }
            Some(Element::Line {
                length_mm, line_mm, ..
            }) => {
                let most = LINE_MM_MAX.min(*length_mm);
                *line_mm = (*line_mm + change).clamp(LINE_MM_MIN, most.max(LINE_MM_MIN));
            }
            _ => {}
        }
    }

    /// Turns the chosen line across or down the label.
    pub fn set_direction(&mut self, way: Direction) {
        if let Some(Element::Line { direction, .. }) = self.chosen_mut() {
            *direction = way;
        }
    }

    /// The chosen barcode's type. Whether each product's code can print as that type is
    /// checked when labels are printed (and for the preview's product at once).
    pub fn set_barcode_kind(&mut self, chosen: BarcodeKind) {
        if let Some(Element::Barcode { kind, .. }) = self.chosen_mut() {
            *kind = chosen;
        }
    }

    /// Removes the selected element.
    pub fn remove(&mut self) {
        if let Some(index) = self.selected.take()
            && index < self.layout.elements.len()
        {
            self.layout.elements.remove(index);
        }
    }

    /// Sets the selected free text element's words.
    pub fn set_text(&mut self, words: &str) {
        if let Some(Element::FreeText { text, .. }) = self.chosen_mut() {
            *text = words.trim().to_owned();
        }
    }

    /// The label size; elements keep their places (the check says which fall off).
    pub fn set_size(&mut self, width_mm: Decimal, height_mm: Decimal) {
        self.layout.width_mm = width_mm;
        self.layout.height_mm = height_mm;
    }

    /// The resolution; barcodes keep their bar width in millimetres as near as dots allow.
    pub fn set_dpi(&mut self, dpi: u32) {
        let old = self.layout.dpi;
        for element in &mut self.layout.elements {
            if let Element::Barcode { module_dots, .. } = element {
                *module_dots = (*module_dots * dpi).div_ceil(old).clamp(1, 10);
            }
        }
        self.layout.dpi = dpi;
    }

    /// Everything that must hold before the layout is saved: a name, at least one element,
    /// every element on the label, barcodes big enough to scan.
    pub fn check(&self) -> Result<Label, LabelProblem> {
        let name = self.layout.name.trim();
        if name.is_empty() {
            return Err(LabelProblem::NoName);
        }
        if name.chars().count() > NAME_LENGTH_MAX {
            return Err(LabelProblem::LongName);
        }
        if self.layout.elements.is_empty() {
            return Err(LabelProblem::Empty);
        }
        let label = Label::new(self.layout.clone())?;
        label.check_scannable()?;
        Ok(label)
    }
}

impl Default for Draft {
    fn default() -> Draft {
        Draft::new()
    }
}

/// What `product`'s label says. The barcode is the product's first barcode, or its SKU for
/// goods without one (a Code 128 barcode prints it; an EAN-13 one refuses it by name).
pub fn label_data(product: &Product) -> LabelData {
    let per = match product.unit {
        Unit::Piece => "piece",
        Unit::Kilogram => "kg",
        Unit::Pound => "lb",
    };
    LabelData {
        product_name: product.display_name(),
        price: product.price,
        barcode: product
            .barcodes
            .first()
            .map_or_else(|| product.sku.to_string(), |b| b.to_string()),
        sku: product.sku.to_string(),
        unit_price: format!("{} / {per}", product.price),
    }
}

/// The print job for `lines` (product and how many labels) in `language`, every product
/// checked before any byte is written, so a product that does not fit the layout prints
/// nothing at all rather than half a job. Returns the bytes and the number of labels.
pub fn print_job(
    label: &Label,
    lines: &[(Product, u32)],
    language: Language,
) -> Result<(Vec<u8>, u32), LabelProblem> {
    let lines: Vec<&(Product, u32)> = lines.iter().filter(|(_, n)| *n > 0).collect();
    if lines.is_empty() {
        return Err(LabelProblem::NothingToPrint);
    }
    if lines.len() > PRODUCTS_PER_JOB_MAX {
        return Err(LabelProblem::TooManyProducts);
    }
    let mut job = Vec::new();
    let mut count = 0;
    for (product, copies) in lines {
        let refused = |error: LabelError| LabelProblem::Product {
            name: product.display_name(),
            reason: error.to_string(),
        };
        let data = label_data(product);
        label.place(&data).map_err(refused)?;
        language
            .write(
                label,
                &data,
                (*copies).min(LABELS_PER_PRODUCT_MAX),
                &mut job,
            )
            .map_err(refused)?;
        count += (*copies).min(LABELS_PER_PRODUCT_MAX);
    }
    Ok((job, count))
}

impl<B: Books> BackOffice<B> {
    /// The saved layouts by name. A stored layout this version cannot read is named in the
    /// message rather than dropped from the list silently.
    pub fn label_layouts(&self) -> Result<Vec<(LabelLayoutId, LabelLayout)>, BackOfficeError> {
        self.allow(permission::LABELS)?;
        self.books()
            .label_layouts()?
            .into_iter()
            .map(|(id, name, json)| {
                serde_json::from_str::<LabelLayout>(&json)
                    .map(|mut layout| {
                        layout.name = name.clone();
                        (id, layout)
                    })
                    .map_err(|error| {
                        BackOfficeError::Input(format!(
                            "the saved label layout “{name}” cannot be read: {error}"
                        ))
                    })
            })
            .collect()
    }

    /// Saves the draft (a new layout gets a fresh id), after [`Draft::check`] and a check
    /// that no other layout has its name.
    pub fn save_label_layout(&mut self, draft: &Draft) -> Result<LabelLayoutId, BackOfficeError> {
        let by = self.allow(permission::LABELS)?;
        let label = draft.check()?;
        let mut layout = label.layout().clone();
        layout.name = layout.name.trim().to_owned();
        self.unique_name(draft.id.as_ref(), &layout.name)?;
        let id = match &draft.id {
            Some(id) => id.clone(),
            None => LabelLayoutId::new(self.new_id("lbl")),
        };
        let json = serde_json::to_string(&layout)
            .map_err(|error| BackOfficeError::Input(error.to_string()))?;
        self.record(
            &by,
            &[DomainEvent::LabelLayoutSaved {
                id: id.clone(),
                name: layout.name,
                layout: json,
            }],
        )?;
        Ok(id)
    }

    /// Gives a saved layout a new name, its elements as they were saved.
    pub fn rename_label_layout(
        &mut self,
        id: &LabelLayoutId,
        name: &str,
    ) -> Result<(), BackOfficeError> {
        let by = self.allow(permission::LABELS)?;
        let name = name.trim();
        let (_, mut layout) = self
            .label_layouts()?
            .into_iter()
            .find(|(saved, _)| saved == id)
            .ok_or_else(|| BackOfficeError::Input("save the layout before renaming it".into()))?;
        layout.name = name.to_owned();
        Draft::open(id.clone(), layout.clone()).check()?;
        self.unique_name(Some(id), name)?;
        let json = serde_json::to_string(&layout)
            .map_err(|error| BackOfficeError::Input(error.to_string()))?;
        self.record(
            &by,
            &[DomainEvent::LabelLayoutSaved {
                id: id.clone(),
                name: name.to_owned(),
                layout: json,
            }],
        )
    }

    pub fn delete_label_layout(&mut self, id: &LabelLayoutId) -> Result<(), BackOfficeError> {
        let by = self.allow(permission::LABELS)?;
        self.record(&by, &[DomainEvent::LabelLayoutDeleted { id: id.clone() }])
    }

    fn unique_name(&self, own: Option<&LabelLayoutId>, name: &str) -> Result<(), BackOfficeError> {
        let taken = self
            .books()
            .label_layouts()?
            .into_iter()
            .any(|(id, other, _)| Some(&id) != own && other.to_lowercase() == name.to_lowercase());
        if taken {
            return Err(LabelProblem::DuplicateName {
                name: name.to_owned(),
            }
            .into());
        }
        Ok(())
    }

    /// The product a barcode or SKU names, for the list of labels to print.
    pub fn product_for_label(&self, code: &str) -> Result<Product, BackOfficeError> {
        self.allow(permission::LABELS)?;
        let code = code.trim();
        self.books().product_by_code(code)?.ok_or_else(|| {
            BackOfficeError::Input(format!("no product has the barcode or SKU “{code}”"))
        })
    }

    /// How the screen names the label printer.
    pub fn label_printer(&self) -> String {
        self.label_printer
            .as_ref()
            .map_or_else(|| "No label printer".to_owned(), |p| p.describe())
    }

    /// Prints `lines` (product, number of labels) with `layout` in one job. Every product is
    /// checked against the layout first: one that does not fit prints nothing at all.
    /// Returns what to tell the manager.
    pub fn print_labels(
        &self,
        layout: &LabelLayout,
        lines: &[(Product, u32)],
    ) -> Result<String, BackOfficeError> {
        self.allow(permission::LABELS)?;
        let printer = self.label_printer.as_ref().ok_or_else(|| {
            BackOfficeError::Input("this terminal has no label printer set up".into())
        })?;
        let label = Label::new(layout.clone()).map_err(LabelProblem::from)?;
        let (job, count) = print_job(&label, lines, printer.language())?;
        let place = printer.send(&job).map_err(LabelProblem::Printer)?;
        Ok(format!("{count} label(s) sent {place}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_snaps_to_half_millimetres_and_stays_on_the_label_side() {
        let mut draft = Draft::new();
        draft.add(ElementKind::Price);
        draft.move_to(0, Decimal::new(1234, 2), Decimal::new(-3, 0));
        assert_eq!(
            draft.layout.elements[0].position(),
            (Decimal::new(125, 1), Decimal::ZERO)
        );
    }

    #[test]
    fn a_draft_says_what_to_fix_before_it_is_saved() {
        let mut draft = Draft::new();
        assert_eq!(draft.check().unwrap_err(), LabelProblem::NoName);
        draft.layout.name = "Shelf".into();
        assert_eq!(draft.check().unwrap_err(), LabelProblem::Empty);
        draft.add(ElementKind::ProductName);
        draft.move_to(0, Decimal::from(57), Decimal::from(39));
        let off = draft.check().unwrap_err().to_string();
        assert!(off.contains("does not fit on the label"), "{off}");
        draft.move_to(0, Decimal::TWO, Decimal::TWO);
        draft.add(ElementKind::Barcode);
        draft.resize(-5);
        let small = draft.check().unwrap_err().to_string();
        assert!(small.contains("too small to scan"), "{small}");
        draft.resize(5);
        draft.move_to(1, Decimal::TWO, Decimal::TEN);
        draft.check().unwrap();
    }

    #[test]
    fn boxes_and_lines_grow_and_thicken_within_what_prints() {
        let mut draft = Draft::new();
        draft.layout.name = "Shapes".into();
        draft.add(ElementKind::Box);
        draft.resize(2);
        draft.thicken(-10);
        assert_eq!(
            draft.chosen(),
            Some(&Element::Box {
                x_mm: Decimal::TWO,
                y_mm: Decimal::TWO,
                width_mm: Decimal::from(22),
                height_mm: Decimal::from(12),
                line_mm: LINE_MM_MIN,
            })
        );
        // A stroke never grows past half the box's narrow side: the box stays a box.
        draft.thicken(100);
        let Some(Element::Box { line_mm, .. }) = draft.chosen() else {
            panic!("a box");
        };
        assert_eq!(*line_mm, Decimal::from(6));

        draft.add(ElementKind::Line);
        draft.resize(-40);
        draft.thicken(1);
        draft.set_direction(Direction::Down);
        assert_eq!(
            draft.chosen(),
            Some(&Element::Line {
                x_mm: Decimal::TWO,
                y_mm: Decimal::TWO,
                length_mm: Decimal::ONE,
                line_mm: Decimal::new(75, 2),
                direction: Direction::Down,
            })
        );
        draft.check().unwrap();
    }

    #[test]
    fn each_barcode_keeps_its_own_type() {
        let mut draft = Draft::new();
        draft.add(ElementKind::Barcode);
        draft.add(ElementKind::Barcode);
        draft.set_barcode_kind(BarcodeKind::Code128);
        let kinds: Vec<BarcodeKind> = draft
            .layout
            .elements
            .iter()
            .filter_map(|e| match e {
                Element::Barcode { kind, .. } => Some(*kind),
                _ => None,
            })
            .collect();
        assert_eq!(kinds, [BarcodeKind::Ean13, BarcodeKind::Code128]);
        draft.select(None);
        draft.set_barcode_kind(BarcodeKind::Ean13);
        assert!(matches!(
            draft.layout.elements[1],
            Element::Barcode {
                kind: BarcodeKind::Code128,
                ..
            }
        ));
    }
}
