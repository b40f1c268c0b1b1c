//! Why a label layout or a label cannot be printed. Messages are for the person editing
//! layouts in the back office: they name the element and say what to change.

/// A layout that cannot be used, or a product that cannot be printed with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("the label layout is not valid JSON for a layout: {message}")]
    Malformed { message: String },

    #[error(
        "label size {width_mm} × {height_mm} mm is outside what label printers take (10–200 mm each way)"
    )]
    SizeOutOfRange { width_mm: String, height_mm: String },

    #[error("printer resolution {dpi} dpi is not supported; use 203, 300 or 600")]
    UnsupportedDpi { dpi: u32 },

    #[error("the label layout has {count} elements; at most {count_max} are allowed")]
    TooManyElements { count: usize, count_max: usize },

    #[error("element {index} ({element}) does not fit on the label: {detail}")]
    OutsideLabel {
        index: usize,
        element: &'static str,
        detail: String,
    },

    #[error("element {index} ({element}): {detail}")]
    BadDimension {
        index: usize,
        element: &'static str,
        detail: String,
    },

    #[error("the barcode (element {index}) is too small to scan: {detail}")]
    TooSmallToScan { index: usize, detail: String },

    #[error("element {index} (free text) has no text")]
    EmptyFreeText { index: usize },

    #[error("barcode {data:?} cannot be printed as {kind}: {reason}")]
    BarcodeData {
        kind: &'static str,
        data: String,
        reason: String,
    },

    #[error(
        "element {index} ({element}): {text:?} is too wide for the label ({width_dots} dots from x={x_dots}, label is {label_width_dots} dots wide)"
    )]
    DoesNotFit {
        index: usize,
        element: &'static str,
        text: String,
        x_dots: u32,
        width_dots: u32,
        label_width_dots: u32,
    },

    #[error("{copies} copies requested; print 1 to 999 at a time")]
    BadCopies { copies: u32 },

    #[error("ESC/POS printers take resolutions up to 255 dpi; this layout is {dpi} dpi")]
    EscPosResolution { dpi: u32 },

    #[error("writing the label to the printer failed: {message}")]
    Write { message: String },
}

/// How the caller should react.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelErrorKind {
    /// The layout must be edited.
    Layout,
    /// This product's data does not fit the layout (barcode, long price).
    Data,
    /// The printer or its connection failed.
    Output,
}

impl LabelError {
    pub fn kind(&self) -> LabelErrorKind {
        match self {
            LabelError::BarcodeData { .. } | LabelError::DoesNotFit { .. } => LabelErrorKind::Data,
            LabelError::Write { .. } => LabelErrorKind::Output,
            _ => LabelErrorKind::Layout,
        }
    }
}

impl From<std::io::Error> for LabelError {
    fn from(error: std::io::Error) -> LabelError {
        LabelError::Write {
            message: error.to_string(),
        }
    }
}
