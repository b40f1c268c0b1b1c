//! Compiles the back office's `.slint` files with debug info (the testing backend finds
//! elements by it) and the German translation bundled, so no file is read at run time.

use slint_build::{CompilerConfiguration, DefaultTranslationContext};

fn main() -> Result<(), slint_build::CompileError> {
    let config = CompilerConfiguration::new()
        .with_debug_info(true)
        .with_bundled_translations("lang")
        .with_default_translation_context(DefaultTranslationContext::None);
    slint_build::compile_with_config("ui/backoffice.slint", config)
}
