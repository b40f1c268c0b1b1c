//! The labels page: the layout on the editor drawn as it prints (the picture is
//! `pos-label`'s raster of the real placement, for the first product to print or a sample),
//! frames over its elements to drag, the chosen element's controls (size, barcode type, stroke
//! and direction), the saved layouts, and the products to print with how many of each; copied
//! into the `Labels` global, its callbacks turned into [`Draft`] edits and
//! [`BackOffice`](crate::BackOffice) actions.
//!
//! The draft lives here until "Save layout": moving an element changes nothing in the store.

use pos_core::catalog::Product;
use pos_core::id::LabelLayoutId;
use pos_core::money::Money;
use pos_label::layout::{mm_to_dots, text_width_dots};
use pos_label::{Direction, Element, Label, LabelData, LabelLayout, barcode, raster};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use slint::{ComponentHandle, Image, Rgb8Pixel, SharedPixelBuffer};

use super::{BackOfficeScreen, model, text};
use crate::books::Books;
use crate::labels::{
    BARCODE_KINDS, DPIS, Draft, ElementKind, LABELS_PER_PRODUCT_MAX, SIZES_MM, label_data,
};
use pos_ui::{AppWindow as Window, LabelBox, LabelPanel, LabelPart, LabelPrintRow, Labels, Tone};

/// The add buttons' first row holds this many; the rest go on the second.
const KINDS_FIRST_ROW: usize = 4;

/// What the page remembers between callbacks.
#[derive(Default)]
pub(super) struct Shown {
    layouts: Vec<(LabelLayoutId, LabelLayout)>,
    draft: Draft,
    /// Products to print and how many labels of each, in the order they were added.
    print: Vec<(Product, u32)>,
}

fn float(mm: Decimal) -> f32 {
    mm.to_f32().unwrap_or(0.0)
}

fn dots_to_mm(dots: u32, dpi: u32) -> f32 {
    #[allow(clippy::cast_precision_loss)] // label sizes are a few thousand dots at most
    let mm = dots as f32 * 25.4 / dpi.max(1) as f32;
    mm
}

/// What the preview shows when no product is on the print list: a typical shelf item.
fn sample(currency: pos_core::money::Currency) -> LabelData {
    let price = Money::from_minor(119, currency);
    LabelData {
        product_name: "Whole milk 1L".to_owned(),
        price,
        barcode: "4006381333931".to_owned(),
        sku: "MLK-1L".to_owned(),
        unit_price: format!("{price} / piece"),
    }
}

/// An element's frame in millimetres, estimated the way placement measures it, for a layout
/// that does not place (an element off the label): the frame still shows where it is.
fn estimated_box(element: &Element, data: &LabelData, dpi: u32) -> (f32, f32, f32, f32) {
    let (x, y) = element.position();
    let size = element.size_mm();
    let text_mm = |text: &str| dots_to_mm(text_width_dots(text, mm_to_dots(size, dpi)), dpi);
    let width = match element {
        Element::ProductName { .. } => text_mm(&data.product_name),
        Element::Price { .. } => text_mm(&data.price.to_string()),
        Element::UnitPrice { .. } => text_mm(&data.unit_price),
        Element::Sku { .. } => text_mm(&data.sku),
        Element::FreeText { text, .. } => text_mm(text),
        Element::Barcode {
            kind, module_dots, ..
        } => {
            let encoded =
                barcode::validate(*kind, &data.barcode).unwrap_or_else(|_| data.barcode.clone());
            dots_to_mm(barcode::width_modules(*kind, &encoded) * module_dots, dpi)
        }
        Element::Box { width_mm, .. } => float(*width_mm),
        Element::Line {
            length_mm,
            line_mm,
            direction: Direction::Across,
            ..
        } => return (float(x), float(y), float(*length_mm), float(*line_mm)),
        Element::Line {
            line_mm,
            direction: Direction::Down,
            ..
        } => float(*line_mm),
    };
    (float(x), float(y), width, float(size))
}

/// The chosen element as the side panel shows it.
struct Selection {
    index: i32,
    part: LabelPart,
    name: String,
    /// Its size in words: "6 mm high", "20 × 10 mm, line 0.5 mm".
    size: String,
    words: String,
    line_down: bool,
    barcode_kind: i32,
}

fn selection(draft: &Draft) -> Selection {
    let index = draft
        .selected
        .and_then(|i| i32::try_from(i).ok())
        .unwrap_or(-1);
    let Some(element) = draft.chosen() else {
        return Selection {
            index: -1,
            part: LabelPart::Label,
            name: String::new(),
            size: String::new(),
            words: String::new(),
            line_down: false,
            barcode_kind: 0,
        };
    };
    let mm = |value: &Decimal| value.normalize().to_string();
    let mut shown = Selection {
        index,
        part: LabelPart::Text,
        name: ElementKind::of(element).title().to_owned(),
        size: format!("{} mm high", mm(&element.size_mm())),
        words: String::new(),
        line_down: false,
        barcode_kind: 0,
    };
    match element {
        Element::FreeText { text, .. } => {
            shown.part = LabelPart::FreeText;
            shown.words = text.clone();
        }
        Element::Barcode {
            kind, height_mm, ..
        } => {
            shown.part = LabelPart::Barcode;
            shown.size = format!("{}, bars {} mm high", kind.label(), mm(height_mm));
            shown.barcode_kind = BARCODE_KINDS
                .iter()
                .position(|k| k == kind)
                .and_then(|i| i32::try_from(i).ok())
                .unwrap_or(0);
        }
        Element::Box {
            width_mm,
            height_mm,
            line_mm,
            ..
        } => {
            shown.part = LabelPart::Box;
            shown.size = format!(
                "{} × {} mm, line {} mm",
                mm(width_mm),
                mm(height_mm),
                mm(line_mm)
            );
        }
        Element::Line {
            length_mm,
            line_mm,
            direction,
            ..
        } => {
            shown.part = LabelPart::Line;
            shown.line_down = *direction == Direction::Down;
            let way = if shown.line_down { "down" } else { "across" };
            shown.size = format!("{} mm {way}, {} mm thick", mm(length_mm), mm(line_mm));
        }
        Element::ProductName { .. }
        | Element::Price { .. }
        | Element::UnitPrice { .. }
        | Element::Sku { .. } => {}
    }
    shown
}

fn show_selection(l: &Labels<'_>, shown: &Selection) {
    l.set_selected(shown.index);
    l.set_part(shown.part);
    l.set_part_name(text(shown.name.as_str()));
    l.set_part_size(text(shown.size.as_str()));
    l.set_text(text(shown.words.as_str()));
    l.set_line_down(shown.line_down);
    l.set_barcode_kind(shown.barcode_kind);
}

fn picture(image: &image::GrayImage) -> Image {
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(image.width(), image.height());
    for (pixel, grey) in buffer.make_mut_slice().iter_mut().zip(image.pixels()) {
        let level = grey.0[0];
        *pixel = Rgb8Pixel::new(level, level, level);
    }
    Image::from_rgb8(buffer)
}

impl<B: Books + 'static> BackOfficeScreen<B> {
    pub(super) fn wire_labels(&self, window: &Window) {
        let l = window.global::<Labels>();
        let (first, more) = ElementKind::ALL.split_at(KINDS_FIRST_ROW);
        l.set_kinds(model(first.iter().map(|k| text(k.title())).collect()));
        l.set_more_kinds(model(more.iter().map(|k| text(k.title())).collect()));
        l.set_barcode_kinds(model(
            BARCODE_KINDS.iter().map(|k| text(k.label())).collect(),
        ));
        l.set_sizes(model(
            SIZES_MM
                .iter()
                .map(|(w, h)| text(format!("{w}×{h}")))
                .collect(),
        ));
        l.set_dpis(model(
            DPIS.iter()
                .map(|d| i32::try_from(*d).unwrap_or(0))
                .collect(),
        ));
        let screen = self.clone();
        l.on_open(move |row| screen.open_layout(row));
        l.on_new_layout(self.on(Self::new_layout));
        let screen = self.clone();
        l.on_choose_size(move |row| {
            if let Some((w, h)) = usize::try_from(row).ok().and_then(|i| SIZES_MM.get(i)) {
                screen.edit_draft(|d| d.set_size(Decimal::from(*w), Decimal::from(*h)));
            }
        });
        let screen = self.clone();
        l.on_choose_dpi(move |row| {
            if let Some(dpi) = usize::try_from(row).ok().and_then(|i| DPIS.get(i)) {
                screen.edit_draft(|d| d.set_dpi(*dpi));
            }
        });
        let screen = self.clone();
        l.on_add(move |row| {
            if let Some(kind) = usize::try_from(row)
                .ok()
                .and_then(|i| ElementKind::ALL.get(i))
            {
                screen.edit_draft(|d| d.add(*kind));
                screen.with_window(|w| w.global::<Labels>().set_panel(LabelPanel::Edit));
            }
        });
        let screen = self.clone();
        l.on_select(move |row| screen.select_element(row));
        let screen = self.clone();
        l.on_move(move |row, x, y| {
            let (Ok(index), Some(x), Some(y)) = (
                usize::try_from(row),
                Decimal::from_f32(x),
                Decimal::from_f32(y),
            ) else {
                return;
            };
            screen.edit_draft(|d| d.move_to(index, x, y));
        });
        let screen = self.clone();
        l.on_resize(move |steps| screen.edit_draft(|d| d.resize(steps)));
        let screen = self.clone();
        l.on_thicken(move |steps| screen.edit_draft(|d| d.thicken(steps)));
        let screen = self.clone();
        l.on_set_line_down(move |down| {
            let way = if down {
                Direction::Down
            } else {
                Direction::Across
            };
            screen.edit_draft(|d| d.set_direction(way));
        });
        let screen = self.clone();
        l.on_choose_barcode_kind(move |row| {
            if let Some(kind) = usize::try_from(row).ok().and_then(|i| BARCODE_KINDS.get(i)) {
                screen.edit_draft(|d| d.set_barcode_kind(*kind));
            }
        });
        l.on_remove(self.on(|s| s.edit_draft(Draft::remove)));
        l.on_set_text(self.on(Self::set_element_text));
        l.on_save(self.on(Self::save_layout));
        l.on_rename(self.on(Self::rename_layout));
        l.on_delete(self.on(Self::delete_layout));
        l.on_add_product(self.on(Self::add_label_product));
        let screen = self.clone();
        l.on_change_quantity(move |row, by| screen.change_label_quantity(row, by));
        l.on_print(self.on(Self::print_labels));
    }

    /// Opens the page: the saved layouts afresh, the first of them on the editor, ready to
    /// print, when nothing is being edited.
    pub(super) fn show_labels(&self) {
        if let Err(error) = self.reload_layouts() {
            self.problem(&error);
            return;
        }
        let fresh = {
            let inner = self.inner.borrow();
            let labels = &inner.shown.labels;
            labels.draft.id.is_none() && labels.draft.layout.elements.is_empty()
        };
        if fresh && !self.inner.borrow().shown.labels.layouts.is_empty() {
            self.open_layout(0);
            self.with_window(|w| w.global::<Labels>().set_panel(LabelPanel::Print));
        } else {
            self.render_labels();
        }
    }

    fn reload_layouts(&self) -> Result<(), crate::BackOfficeError> {
        let layouts = self.inner.borrow().office.label_layouts()?;
        self.inner.borrow_mut().shown.labels.layouts = layouts;
        Ok(())
    }

    /// The name typed on the page, into the draft, before anything else changes it.
    fn pull_name(&self) {
        let Some(window) = self.window.upgrade() else {
            return;
        };
        let name = window.global::<Labels>().get_name().to_string();
        self.inner.borrow_mut().shown.labels.draft.layout.name = name;
    }

    /// Edits the draft and draws it again; a layout that no longer fits says why.
    fn edit_draft(&self, edit: impl FnOnce(&mut Draft)) {
        self.pull_name();
        edit(&mut self.inner.borrow_mut().shown.labels.draft);
        self.say("", Tone::Info);
        self.render_labels();
    }

    fn open_layout(&self, row: i32) {
        let picked = usize::try_from(row)
            .ok()
            .and_then(|i| self.inner.borrow().shown.labels.layouts.get(i).cloned());
        if let Some((id, layout)) = picked {
            self.inner.borrow_mut().shown.labels.draft = Draft::open(id, layout);
            self.render_labels();
        }
    }

    fn new_layout(&self) {
        self.inner.borrow_mut().shown.labels.draft = Draft::new();
        self.render_labels();
    }

    /// Chooses an element (a negative `row`: none, the label itself) and shows its controls,
    /// without drawing the label again: the frames stay as they are, so a finger that pressed
    /// one keeps dragging it.
    fn select_element(&self, row: i32) {
        let shown = {
            let mut inner = self.inner.borrow_mut();
            let draft = &mut inner.shown.labels.draft;
            draft.select(usize::try_from(row).ok());
            selection(draft)
        };
        self.with_window(|w| {
            let l = w.global::<Labels>();
            show_selection(&l, &shown);
            l.set_panel(LabelPanel::Edit);
        });
    }

    fn set_element_text(&self) {
        let words = self
            .window
            .upgrade()
            .map(|w| w.global::<Labels>().get_text().to_string())
            .unwrap_or_default();
        if words.trim().is_empty() {
            self.say("Type the text to print", Tone::Problem);
            return;
        }
        self.edit_draft(|d| d.set_text(&words));
    }

    /// Copies the draft, its picture and the print list into the page.
    fn render_labels(&self) {
        let (currency, printer) = {
            let inner = self.inner.borrow();
            (inner.office.shop().currency, inner.office.label_printer())
        };
        let inner = self.inner.borrow();
        let shown = &inner.shown.labels;
        let draft = &shown.draft;
        let layout = &draft.layout;
        let data = shown
            .print
            .first()
            .map_or_else(|| sample(currency), |(p, _)| label_data(p));
        // The picture and frames come from the real placement when the layout places; else
        // the frames are estimated and the reason is said.
        let placed = Label::new(layout.clone()).and_then(|label| {
            let placed = label.place(&data)?;
            Ok((raster::render(&label, &placed), placed))
        });
        let (preview, boxes, problem) = match placed {
            Ok((image, placed)) => {
                let boxes: Vec<LabelBox> = placed
                    .iter()
                    .zip(&layout.elements)
                    .map(|(p, element)| {
                        let (x, y, w, h) = p.bounds();
                        LabelBox {
                            name: text(ElementKind::of(element).title()),
                            x: dots_to_mm(x, layout.dpi),
                            y: dots_to_mm(y, layout.dpi),
                            width: dots_to_mm(w, layout.dpi),
                            height: dots_to_mm(h, layout.dpi),
                        }
                    })
                    .collect();
                (picture(&image), boxes, None)
            }
            Err(error) => {
                let boxes = layout
                    .elements
                    .iter()
                    .map(|element| {
                        let (x, y, width, height) = estimated_box(element, &data, layout.dpi);
                        LabelBox {
                            name: text(ElementKind::of(element).title()),
                            x,
                            y,
                            width,
                            height,
                        }
                    })
                    .collect();
                (Image::default(), boxes, Some(error.to_string()))
            }
        };
        let open = draft
            .id
            .as_ref()
            .and_then(|id| shown.layouts.iter().position(|(saved, _)| saved == id));
        let size = SIZES_MM.iter().position(|(w, h)| {
            layout.width_mm == Decimal::from(*w) && layout.height_mm == Decimal::from(*h)
        });
        let shown_selection = selection(draft);
        let index = |i: Option<usize>| i.and_then(|i| i32::try_from(i).ok()).unwrap_or(-1);
        self.with_window(|w| {
            let l = w.global::<Labels>();
            l.set_layouts(model(
                shown
                    .layouts
                    .iter()
                    .map(|(_, saved)| text(saved.name.as_str()))
                    .collect(),
            ));
            l.set_layout(index(open));
            l.set_name(text(layout.name.as_str()));
            l.set_size(index(size));
            l.set_dpi(i32::try_from(layout.dpi).unwrap_or(0));
            l.set_width_mm(float(layout.width_mm));
            l.set_height_mm(float(layout.height_mm));
            l.set_preview(preview);
            l.set_sample(text(data.product_name.as_str()));
            l.set_elements(model(boxes));
            show_selection(&l, &shown_selection);
            l.set_printer(text(printer));
            l.set_print_rows(model(
                shown
                    .print
                    .iter()
                    .map(|(product, copies)| LabelPrintRow {
                        name: text(product.display_name()),
                        price: text(product.price.to_string()),
                        quantity: i32::try_from(*copies).unwrap_or(0),
                    })
                    .collect(),
            ));
        });
        drop(inner);
        if let Some(problem) = problem {
            self.say(&problem, Tone::Problem);
        }
    }

    fn save_layout(&self) {
        self.pull_name();
        let result = {
            let mut inner = self.inner.borrow_mut();
            let draft = inner.shown.labels.draft.clone();
            inner.office.save_label_layout(&draft)
        };
        match result.and_then(|id| {
            self.reload_layouts()?;
            Ok(id)
        }) {
            Ok(id) => {
                let name = {
                    let mut inner = self.inner.borrow_mut();
                    let draft = &mut inner.shown.labels.draft;
                    draft.id = Some(id);
                    draft.layout.name = draft.layout.name.trim().to_owned();
                    draft.layout.name.clone()
                };
                self.render_labels();
                self.done(&format!("Layout “{name}” saved"));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn rename_layout(&self) {
        let name = self
            .window
            .upgrade()
            .map(|w| w.global::<Labels>().get_name().to_string())
            .unwrap_or_default();
        let result = {
            let mut inner = self.inner.borrow_mut();
            match inner.shown.labels.draft.id.clone() {
                Some(id) => inner.office.rename_label_layout(&id, &name),
                None => Err(crate::BackOfficeError::Input(
                    "save the layout before renaming it".to_owned(),
                )),
            }
        };
        match result.and_then(|()| self.reload_layouts()) {
            Ok(()) => {
                self.inner.borrow_mut().shown.labels.draft.layout.name = name.trim().to_owned();
                self.render_labels();
                self.done(&format!("Layout renamed “{}”", name.trim()));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn delete_layout(&self) {
        let result = {
            let mut inner = self.inner.borrow_mut();
            let draft = inner.shown.labels.draft.clone();
            match &draft.id {
                Some(id) => inner
                    .office
                    .delete_label_layout(id)
                    .map(|()| draft.layout.name.clone()),
                None => Err(crate::BackOfficeError::Input(
                    "this layout was never saved".to_owned(),
                )),
            }
        };
        match result.and_then(|name| {
            self.reload_layouts()?;
            Ok(name)
        }) {
            Ok(name) => {
                self.inner.borrow_mut().shown.labels.draft = Draft::new();
                self.render_labels();
                self.done(&format!("Layout “{name}” deleted"));
            }
            Err(error) => self.problem(&error),
        }
    }

    fn add_label_product(&self) {
        let code = self
            .window
            .upgrade()
            .map(|w| w.global::<Labels>().get_code().to_string())
            .unwrap_or_default();
        if code.trim().is_empty() {
            self.say("Scan or type the product's barcode or SKU", Tone::Problem);
            return;
        }
        let found = self.inner.borrow().office.product_for_label(&code);
        match found {
            Ok(product) => {
                {
                    let mut inner = self.inner.borrow_mut();
                    let print = &mut inner.shown.labels.print;
                    match print.iter_mut().find(|(p, _)| p.id == product.id) {
                        Some((_, copies)) => {
                            *copies = (*copies + 1).min(LABELS_PER_PRODUCT_MAX);
                        }
                        None => print.push((product, 1)),
                    }
                }
                self.with_window(|w| w.global::<Labels>().set_code(text("")));
                self.pull_name();
                self.say("", Tone::Info);
                self.render_labels();
            }
            Err(error) => self.problem(&error),
        }
    }

    fn change_label_quantity(&self, row: i32, by: i32) {
        let Ok(index) = usize::try_from(row) else {
            return;
        };
        {
            let mut inner = self.inner.borrow_mut();
            let print = &mut inner.shown.labels.print;
            if let Some((_, copies)) = print.get_mut(index) {
                let changed = i64::from(*copies) + i64::from(by);
                *copies =
                    u32::try_from(changed.clamp(0, i64::from(LABELS_PER_PRODUCT_MAX))).unwrap_or(0);
                if *copies == 0 {
                    print.remove(index);
                }
            }
        }
        self.pull_name();
        self.render_labels();
    }

    fn print_labels(&self) {
        self.pull_name();
        let result = {
            let inner = self.inner.borrow();
            let shown = &inner.shown.labels;
            inner.office.print_labels(&shown.draft.layout, &shown.print)
        };
        match result {
            Ok(message) => {
                self.inner.borrow_mut().shown.labels.print.clear();
                self.render_labels();
                self.done(&message);
            }
            Err(error) => self.problem(&error),
        }
    }
}
