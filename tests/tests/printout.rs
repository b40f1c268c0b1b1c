//! What the terminal prints must fit the paper: 32 columns on 58 mm rolls, 42 or 48 on 80 mm.
#![allow(clippy::unwrap_used)]

#[test]
fn every_printed_line_fits_the_paper() {
    for width in [32, 42, 48] {
        let printout = pos_terminal::demo_day::run(width).unwrap();
        for line in printout.lines() {
            assert!(
                line.chars().count() <= width,
                "{width} columns: `{line}` is {} long",
                line.chars().count()
            );
        }
        // Nothing is cut off: every receipt still shows its total and the day its Z.
        assert_eq!(printout.matches("TOTAL EUR").count(), 3, "{width} columns");
        assert!(printout.contains("Z REPORT"), "{width} columns");
    }
}
