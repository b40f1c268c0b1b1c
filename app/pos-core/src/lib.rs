//! The retail domain of the terminal.
pub mod clock;
pub mod id;
pub mod money;
pub mod quantity;
