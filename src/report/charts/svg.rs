//! SVG primitives for the report's charts: a canvas, linear scales, nice ticks, axes and a
//! legend. Output is deterministic (coordinates printed with one decimal, no maps with random
//! order) and needs no font metrics: text widths are estimated from character counts.

use std::fmt::Write as _;

/// The width every chart is drawn at; the page scales it to the screen.
pub const WIDTH: f64 = 1200.0;

/// Colours shared by every chart (also used by the page's legend swatches).
pub const STYLE: &str = "text{font:13px system-ui,-apple-system,'Segoe UI',sans-serif;fill:#24292f}\
.axis{stroke:#57606a;stroke-width:1}.grid{stroke:#d0d7de;stroke-width:1;stroke-dasharray:2 3}\
.label{font-size:14px;font-weight:600}.small{font-size:12px;fill:#57606a}\
.keep{fill:#1a7f37}.discard{fill:#8c959f}.crash{stroke:#cf222e;stroke-width:2;fill:none}\
.crashfill{fill:#cf222e}.best{stroke:#0969da;stroke-width:2.5;fill:none}\
.noise{fill:#0969da;fill-opacity:0.13}.read{fill:#f6f8fa}.budget{stroke:#9a6700;stroke-width:1.5;stroke-dasharray:6 4}\
.offchart{fill:#8c959f;fill-opacity:0.7}\
.curve{fill:none;stroke-width:2.2}.baseline{stroke-dasharray:7 5;stroke-width:1.6}\
.c0{stroke:#0969da}.c1{stroke:#bf3989}.c2{stroke:#9a6700}";

/// The plot area inside a chart, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Frame {
    pub fn standard(height: f64) -> Self {
        Self {
            left: 84.0,
            top: 44.0,
            right: WIDTH - 24.0,
            bottom: height - 52.0,
        }
    }

    pub fn width(&self) -> f64 {
        self.right - self.left
    }
}

/// A linear map from data to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub low: f64,
    pub high: f64,
    pub from: f64,
    pub to: f64,
}

impl Scale {
    /// A scale over `[low, high]`; an empty domain is widened so that it maps somewhere.
    pub fn new(low: f64, high: f64, from: f64, to: f64) -> Self {
        let (low, high) = if high > low {
            (low, high)
        } else {
            let pad = if low == 0.0 { 1.0 } else { low.abs() * 0.05 };
            (low - pad, high + pad)
        };
        Self {
            low,
            high,
            from,
            to,
        }
    }

    pub fn map(&self, value: f64) -> f64 {
        self.from + (value - self.low) / (self.high - self.low) * (self.to - self.from)
    }
}

/// Escapes text for SVG or HTML content and attributes.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A pixel coordinate with one decimal, never `-0.0`.
pub fn number(value: f64) -> String {
    let text = format!("{value:.1}");
    if text == "-0.0" {
        "0.0".into()
    } else {
        text
    }
}

/// Round tick positions covering `[low, high]`: steps of 1, 2 or 5 times a power of ten.
pub fn ticks(low: f64, high: f64, count: usize) -> (Vec<f64>, f64) {
    if high.partial_cmp(&low) != Some(std::cmp::Ordering::Greater)
        || !low.is_finite()
        || !high.is_finite()
    {
        return (vec![low], 1.0);
    }
    let raw = (high - low) / count.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|factor| factor * power)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * power);
    // A hair of slack: 0.95 / 0.05 is 18.999… in binary floating point.
    let first = (low / step - 1e-9).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    let values = (first..=last).map(|index| index as f64 * step).collect();
    (values, step)
}

/// A tick label with as many decimals as the step needs.
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).clamp(0.0, 8.0) as usize;
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text.trim_start_matches(['-', '0', '.']).is_empty() {
        text[1..].to_string()
    } else {
        text
    }
}

/// Cuts text to `limit` characters, with an ellipsis.
pub fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let mut short: String = text.chars().take(limit.saturating_sub(1)).collect();
        short.push('…');
        short
    }
}

/// One SVG document being written.
pub struct Canvas {
    text: String,
}

impl Canvas {
    /// Opens an `<svg>` with an id, an accessible title and the shared style.
    pub fn new(id: &str, title: &str, height: f64) -> Self {
        let mut text = String::with_capacity(16 * 1024);
        let _ = write!(
            text,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{id}-title\"><title id=\"{id}-title\">{}</title><style>{STYLE}</style>",
            number(WIDTH),
            number(height),
            escape(title)
        );
        Self { text }
    }

    pub fn raw(&mut self, fragment: &str) {
        self.text.push_str(fragment);
    }

    pub fn line(&mut self, from: (f64, f64), to: (f64, f64), class: &str) {
        let _ = write!(
            self.text,
            "<line class=\"{class}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>",
            number(from.0),
            number(from.1),
            number(to.0),
            number(to.1)
        );
    }

    pub fn rect(&mut self, x: f64, y: f64, width: f64, height: f64, class: &str) {
        let _ = write!(
            self.text,
            "<rect class=\"{class}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
            number(x),
            number(y),
            number(width.max(0.0)),
            number(height.max(0.0))
        );
    }

    /// A circle, with a tooltip when `tip` is not empty.
    pub fn circle(&mut self, center: (f64, f64), radius: f64, class: &str, tip: &str) {
        let _ = write!(
            self.text,
            "<circle class=\"{class}\" cx=\"{}\" cy=\"{}\" r=\"{}\"",
            number(center.0),
            number(center.1),
            number(radius)
        );
        if tip.is_empty() {
            self.text.push_str("/>");
        } else {
            let _ = write!(self.text, "><title>{}</title></circle>", escape(tip));
        }
    }

    /// An × marker.
    pub fn cross(&mut self, center: (f64, f64), size: f64, class: &str) {
        let (x, y) = center;
        let _ = write!(
            self.text,
            "<path class=\"{class}\" d=\"M{} {}L{} {}M{} {}L{} {}\"/>",
            number(x - size),
            number(y - size),
            number(x + size),
            number(y + size),
            number(x - size),
            number(y + size),
            number(x + size),
            number(y - size)
        );
    }

    /// A triangle pointing up (`up`) or down: a value beyond the chart's edge.
    pub fn triangle(&mut self, center: (f64, f64), size: f64, up: bool, class: &str) {
        let (x, y) = center;
        let tip = if up { y - size } else { y + size };
        let base = if up { y + size * 0.6 } else { y - size * 0.6 };
        let _ = write!(
            self.text,
            "<path class=\"{class}\" d=\"M{} {}L{} {}L{} {}Z\"/>",
            number(x),
            number(tip),
            number(x - size),
            number(base),
            number(x + size),
            number(base)
        );
    }

    /// A path through `points` (`M` then `L`s), optionally closed.
    pub fn path(&mut self, points: &[(f64, f64)], class: &str, closed: bool) {
        if points.is_empty() {
            return;
        }
        let _ = write!(self.text, "<path class=\"{class}\" d=\"");
        for (index, (x, y)) in points.iter().enumerate() {
            let command = if index == 0 { 'M' } else { 'L' };
            let _ = write!(self.text, "{command}{} {}", number(*x), number(*y));
        }
        if closed {
            self.text.push('Z');
        }
        self.text.push_str("\"/>");
    }

    /// Text at a point; `anchor` is start, middle or end.
    pub fn text(&mut self, at: (f64, f64), content: &str, anchor: &str, class: &str) {
        let class = if class.is_empty() {
            String::new()
        } else {
            format!(" class=\"{class}\"")
        };
        let _ = write!(
            self.text,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\"{class}>{}</text>",
            number(at.0),
            number(at.1),
            escape(content)
        );
    }

    /// Both axes with grid lines, tick labels and axis titles (units included by the caller).
    pub fn axes(&mut self, frame: &Frame, x: &Scale, y: &Scale, x_title: &str, y_title: &str) {
        let (y_ticks, y_step) = ticks(y.low, y.high, 6);
        for value in y_ticks {
            let pixel = y.map(value);
            self.line((frame.left, pixel), (frame.right, pixel), "grid");
            self.text(
                (frame.left - 8.0, pixel + 4.0),
                &tick_label(value, y_step),
                "end",
                "small",
            );
        }
        let (x_ticks, x_step) = ticks(x.low, x.high, 10);
        let x_step = x_step.max(1.0);
        for value in x_ticks
            .into_iter()
            .filter(|value| value.fract() == 0.0 || x_step < 1.0)
        {
            let pixel = x.map(value);
            self.line((pixel, frame.bottom), (pixel, frame.bottom + 5.0), "axis");
            self.text(
                (pixel, frame.bottom + 20.0),
                &tick_label(value, x_step),
                "middle",
                "small",
            );
        }
        self.line(
            (frame.left, frame.bottom),
            (frame.right, frame.bottom),
            "axis",
        );
        self.line((frame.left, frame.top), (frame.left, frame.bottom), "axis");
        self.text(
            ((frame.left + frame.right) / 2.0, frame.bottom + 42.0),
            x_title,
            "middle",
            "label",
        );
        let middle = (frame.top + frame.bottom) / 2.0;
        let _ = write!(
            self.text,
            "<text class=\"label\" text-anchor=\"middle\" transform=\"translate(18 {}) rotate(-90)\">{}</text>",
            number(middle),
            escape(y_title)
        );
    }

    /// A one-line legend from the right edge leftwards: (marker, label) pairs.
    pub fn legend(&mut self, right: f64, y: f64, items: &[(Marker, String)]) {
        // Width estimate without font metrics: 7 px a character at 13 px plus the swatch.
        let widths: Vec<f64> = items
            .iter()
            .map(|(_, label)| 30.0 + 7.0 * label.chars().count() as f64)
            .collect();
        let mut x = right - widths.iter().sum::<f64>();
        for ((marker, label), width) in items.iter().zip(widths) {
            let swatch = (x + 8.0, y - 4.0);
            match marker {
                Marker::Dot(class) => self.circle(swatch, 5.0, class, ""),
                Marker::Cross(class) => self.cross(swatch, 4.5, class),
                Marker::Line(class) => self.line((x, y - 4.0), (x + 18.0, y - 4.0), class),
                Marker::Block(class) => self.rect(x, y - 10.0, 18.0, 12.0, class),
            }
            self.text((x + 24.0, y), label, "start", "");
            x += width;
        }
    }

    pub fn finish(mut self) -> String {
        self.text.push_str("</svg>");
        self.text
    }
}

/// The swatch of a legend item, with its CSS class.
#[derive(Debug, Clone, Copy)]
pub enum Marker {
    Dot(&'static str),
    Cross(&'static str),
    Line(&'static str),
    Block(&'static str),
}

/// Keeps at most two points per pixel column (the lowest and the highest), in order, so that a
/// chart of 10,000 experiments draws about as many markers as it has columns.
pub fn thin<T: Copy>(points: &[(f64, f64, T)], limit: usize) -> Vec<(f64, f64, T)> {
    if points.len() <= limit {
        return points.to_vec();
    }
    let mut kept: Vec<(f64, f64, T)> = Vec::new();
    let mut column_start = 0;
    for index in 1..=points.len() {
        let same_column =
            index < points.len() && points[index].0.floor() == points[column_start].0.floor();
        if same_column {
            continue;
        }
        let column = &points[column_start..index];
        let mut low = 0;
        let mut high = 0;
        for (position, point) in column.iter().enumerate() {
            if point.1 < column[low].1 {
                low = position;
            }
            if point.1 > column[high].1 {
                high = position;
            }
        }
        kept.push(column[low.min(high)]);
        if low != high {
            kept.push(column[low.max(high)]);
        }
        column_start = index;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        let (values, step) = ticks(0.8, 0.95, 6);
        assert_eq!(step, 0.05);
        assert_eq!(
            values
                .iter()
                .map(|value| tick_label(*value, step))
                .collect::<Vec<_>>(),
            ["0.80", "0.85", "0.90", "0.95"]
        );
        let (values, step) = ticks(1.0, 10_000.0, 10);
        assert_eq!(step, 1000.0);
        assert_eq!(values.len(), 10);
    }

    #[test]
    fn text_is_escaped_and_numbers_are_stable() {
        assert_eq!(
            escape("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(number(-0.01), "0.0");
        assert_eq!(number(12.345), "12.3");
    }

    #[test]
    fn thinning_keeps_extremes_per_column() {
        let points: Vec<(f64, f64, u32)> = (0..10_000)
            .map(|index| (index as f64 / 10.0, (index % 7) as f64, index))
            .collect();
        let thinned = thin(&points, 2000);
        assert!(thinned.len() <= 2000, "{}", thinned.len());
        assert!(thinned.iter().any(|point| point.1 == 6.0));
        assert!(thinned.iter().any(|point| point.1 == 0.0));
    }
}
