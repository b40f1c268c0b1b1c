//! Charts as inline SVG, drawn on the server: no script and nothing fetched, so a page works
//! offline on the shop's LAN and prints as it shows. Pure: figures in, markup out.
//!
//! Every chart carries its figures as text too (`<title>` on each bar or cell, read by a
//! screen reader and shown on hover), so nothing is only a colour or a length.

use super::html::escape;

const WIDTH: u32 = 760;

/// Vertical bars, one per label, scaled to the largest value; `values` are in minor units and
/// `shown` is the text of each figure.
pub fn bars(title: &str, labels: &[String], values: &[i64], shown: &[String]) -> String {
    let height = 220u32;
    let top = 16u32;
    let bottom = 36u32;
    let left = 8u32;
    let count = u32::try_from(labels.len().max(1)).unwrap_or(u32::MAX);
    let slot = (WIDTH - 2 * left) / count;
    let bar = (slot * 7 / 10).max(1);
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let plot = height - top - bottom;
    let mut svg = String::new();
    svg.push_str(&format!(
        r#"<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{}">"#,
        escape(title)
    ));
    let label_every = (labels.len() / 12).max(1);
    for (index, ((label, value), text)) in labels.iter().zip(values).zip(shown).enumerate() {
        let i = u32::try_from(index).unwrap_or(0);
        let value = (*value).max(0);
        let h = u32::try_from(value.saturating_mul(i64::from(plot)) / max).unwrap_or(0);
        let x = left + i * slot + (slot - bar) / 2;
        let y = top + plot - h;
        svg.push_str(&format!(
            r#"<rect class="bar" x="{x}" y="{y}" width="{bar}" height="{h}"><title>{}: {}</title></rect>"#,
            escape(label),
            escape(text)
        ));
        if index % label_every == 0 {
            svg.push_str(&format!(
                r#"<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                x + bar / 2,
                height - bottom + 16,
                escape(label)
            ));
        }
    }
    svg.push_str(&format!(
        r#"<line class="base" x1="{left}" y1="{y}" x2="{}" y2="{y}"/></svg>"#,
        WIDTH - left,
        y = top + plot
    ));
    svg
}

/// Horizontal bars with their label and figure, for shares (payment mix, top products).
pub fn shares(title: &str, rows: &[(String, i64, String)]) -> String {
    let row_height = 26u32;
    let label_width = 240u32;
    let figure_width = 170u32;
    let count = u32::try_from(rows.len()).unwrap_or(0);
    let height = count * row_height + 8;
    let max = rows.iter().map(|(_, v, _)| *v).max().unwrap_or(0).max(1);
    let room = WIDTH - label_width - figure_width;
    let mut svg = String::new();
    svg.push_str(&format!(
        r#"<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{}">"#,
        escape(title)
    ));
    for (index, (label, value, shown)) in rows.iter().enumerate() {
        let i = u32::try_from(index).unwrap_or(0);
        let y = 4 + i * row_height;
        let w = u32::try_from((*value).max(0).saturating_mul(i64::from(room)) / max).unwrap_or(0);
        svg.push_str(&format!(
            r#"<text class="label" x="0" y="{}">{}</text><rect class="bar" x="{label_width}" y="{y}" width="{w}" height="{}"><title>{}: {}</title></rect><text class="figure" x="{}" y="{}">{}</text>"#,
            y + 17,
            escape(label),
            row_height - 8,
            escape(label),
            escape(shown),
            label_width + w + 6,
            y + 17,
            escape(shown)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Sales by weekday and hour: darker is busier.
pub fn heatmap(title: &str, grid: &[[u64; 24]; 7]) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let left = 44u32;
    let cell_w = (WIDTH - left) / 24;
    let cell_h = 24u32;
    let height = 7 * cell_h + 24;
    let max = grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let mut svg = String::new();
    svg.push_str(&format!(
        r#"<svg class="chart heatmap" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" aria-label="{}">"#,
        escape(title)
    ));
    for (d, (day, row)) in DAYS.iter().zip(grid).enumerate() {
        let y = u32::try_from(d).unwrap_or(0) * cell_h;
        svg.push_str(&format!(
            r#"<text class="axis" x="0" y="{}">{day}</text>"#,
            y + 16
        ));
        for (h, sales) in row.iter().enumerate() {
            let x = left + u32::try_from(h).unwrap_or(0) * cell_w;
            // Eleven steps of shade, 0 (none) to 10 (the busiest hour).
            let step = sales.saturating_mul(10).div_ceil(max);
            svg.push_str(&format!(
                r#"<rect class="heat{step}" x="{x}" y="{y}" width="{}" height="{}"><title>{day} {h:02}:00 {sales} sales</title></rect>"#,
                cell_w - 2,
                cell_h - 2
            ));
        }
    }
    for h in (0..24u32).step_by(3) {
        svg.push_str(&format!(
            r#"<text class="axis" x="{}" y="{}">{h:02}</text>"#,
            left + h * cell_w,
            7 * cell_h + 16
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_the_largest_value_and_carry_their_figures() {
        let svg = bars(
            "Takings",
            &["Mon".into(), "Tue".into()],
            &[50, 100],
            &["0.50".into(), "1.00".into()],
        );
        assert!(
            svg.contains(r#"height="168"><title>Tue: 1.00</title>"#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"height="84"><title>Mon: 0.50</title>"#),
            "{svg}"
        );
    }

    #[test]
    fn labels_are_escaped() {
        let svg = shares("Top", &[("Fish & <Chips>".into(), 1, "1".into())]);
        assert!(svg.contains("Fish &amp; &lt;Chips&gt;"));
        assert!(!svg.contains("<Chips>"));
    }

    #[test]
    fn the_busiest_hour_is_the_darkest() {
        let mut grid = [[0u64; 24]; 7];
        grid[4][17] = 20;
        grid[0][9] = 2;
        let svg = heatmap("Heat", &grid);
        assert!(svg.contains(r#"class="heat10" x="#));
        assert!(svg.contains("Fri 17:00 20 sales"));
        assert!(svg.contains(r#"<rect class="heat1""#));
    }
}
