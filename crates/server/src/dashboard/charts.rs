//! Charts as inline SVG drawn on the server: a trend line (with the
//! previous period dashed), share bars, a donut, and the funnel. They scale
//! with their container (`viewBox`, width 100 %), need no script, and carry
//! a `<title>` for screen readers.

use super::format::esc;

/// The palette, in order of series/slices.
pub const COLORS: &[&str] = &[
    "#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#9ca3af",
];

fn color(i: usize) -> &'static str {
    COLORS[i % COLORS.len()]
}

/// A line of a trend chart.
pub struct Series<'a> {
    /// Legend text.
    pub name: &'a str,
    /// One value per x label (`None`: no value).
    pub values: Vec<Option<f64>>,
    /// Drawn dashed and grey (the previous period).
    pub dashed: bool,
}

/// A "nice" ceiling for an axis: 1, 2 or 5 × 10ⁿ at or above `v`.
pub fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

/// A trend chart of `series` over `labels`; `fmt` writes axis values.
pub fn trend(
    id: &str,
    title: &str,
    labels: &[String],
    series: &[Series<'_>],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let (w, h) = (640.0, 220.0);
    let (left, right, top, bottom) = (56.0, 8.0, 10.0, 26.0);
    let max = nice_max(
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0f64, |a, b| a.max(*b)),
    );
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + (w - left - right) / 2.0
        } else {
            left + (w - left - right) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let mut out = format!(
        "<figure class=\"chart\"><svg id=\"{}\" class=\"trend\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        esc(id),
        t = esc(title)
    );
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let yy = y(v);
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"axis\" text-anchor=\"end\">{}</text>",
            w - right,
            left - 6.0,
            yy + 4.0,
            esc(&fmt(v))
        ));
    }
    let ticks: Vec<usize> = if n <= 1 {
        vec![0]
    } else {
        let mut t = vec![0, (n - 1) / 2, n - 1];
        t.dedup();
        t
    };
    for i in ticks {
        if let Some(l) = labels.get(i) {
            let anchor = if i == 0 {
                "start"
            } else if i == n - 1 {
                "end"
            } else {
                "middle"
            };
            out.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"axis\" text-anchor=\"{anchor}\">{}</text>",
                x(i),
                h - 8.0,
                esc(l)
            ));
        }
    }
    // Solid series over dashed ones: draw the dashed first.
    let mut order: Vec<(usize, &Series<'_>)> = series.iter().enumerate().collect();
    order.sort_by_key(|(_, s)| !s.dashed);
    for (si, s) in order {
        let pts: Vec<(f64, f64)> = s
            .values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (x(i), y(v))))
            .collect();
        if pts.is_empty() {
            continue;
        }
        let path: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        if s.dashed {
            out.push_str(&format!(
                "<polyline points=\"{}\" class=\"line previous\"/>",
                path.join(" ")
            ));
        } else {
            let base = y(0.0);
            let (fx, _) = pts[0];
            let (lx, _) = pts[pts.len() - 1];
            out.push_str(&format!(
                "<polygon points=\"{fx:.1},{base:.1} {} {lx:.1},{base:.1}\" fill=\"{}\" class=\"area\"/><polyline points=\"{}\" stroke=\"{}\" class=\"line\"/>",
                path.join(" "),
                color(si),
                path.join(" "),
                color(si)
            ));
        }
    }
    out.push_str("</svg><figcaption class=\"legend\">");
    for (si, s) in series.iter().enumerate() {
        let c = if s.dashed { "#9ca3af" } else { color(si) };
        let class = if s.dashed { "key dashed" } else { "key" };
        out.push_str(&format!(
            "<span><i class=\"{class}\" style=\"background:{c}\"></i>{}</span>",
            esc(s.name)
        ));
    }
    out.push_str("</figcaption></figure>");
    out
}

/// Horizontal bars: each item's share of the sum, with its value written
/// by `fmt`.
pub fn share_bars(
    id: &str,
    title: &str,
    items: &[(String, f64)],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let total: f64 = items.iter().map(|(_, v)| v.max(0.0)).sum();
    let row_h = 26.0;
    let h = row_h * items.len().max(1) as f64 + 4.0;
    let mut out = format!(
        "<figure class=\"chart\"><svg id=\"{}\" class=\"bars\" viewBox=\"0 0 640 {h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        esc(id),
        t = esc(title)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let share = if total > 0.0 { v.max(0.0) / total } else { 0.0 };
        let y = 2.0 + row_h * i as f64;
        out.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" class=\"label\">{}</text><rect x=\"190\" y=\"{:.1}\" width=\"{:.1}\" height=\"16\" rx=\"3\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"value\">{} · {:.0}%</text>",
            y + 15.0,
            esc(&truncate(label, 26)),
            y + 3.0,
            (300.0 * share).max(1.0),
            color(i),
            195.0 + 300.0 * share,
            y + 15.0,
            esc(&fmt(*v)),
            share * 100.0
        ));
    }
    out.push_str("</svg></figure>");
    out
}

/// A donut of shares with a legend.
pub fn donut(id: &str, title: &str, items: &[(String, f64)]) -> String {
    let total: f64 = items.iter().map(|(_, v)| v.max(0.0)).sum();
    let r = 60.0;
    let circ = 2.0 * std::f64::consts::PI * r;
    let mut out = format!(
        "<figure class=\"chart donut\"><svg id=\"{}\" viewBox=\"0 0 160 160\" role=\"img\" aria-label=\"{t}\"><title>{t}</title><circle cx=\"80\" cy=\"80\" r=\"{r}\" fill=\"none\" stroke=\"#eef0f3\" stroke-width=\"24\"/>",
        esc(id),
        t = esc(title)
    );
    let mut offset = 0.0;
    for (i, (_, v)) in items.iter().enumerate() {
        if total <= 0.0 {
            break;
        }
        let len = circ * v.max(0.0) / total;
        out.push_str(&format!(
            "<circle cx=\"80\" cy=\"80\" r=\"{r}\" fill=\"none\" stroke=\"{}\" stroke-width=\"24\" stroke-dasharray=\"{len:.2} {:.2}\" stroke-dashoffset=\"{:.2}\" transform=\"rotate(-90 80 80)\"/>",
            color(i),
            circ - len,
            -offset
        ));
        offset += len;
    }
    out.push_str("</svg><figcaption class=\"legend\">");
    for (i, (label, v)) in items.iter().enumerate() {
        let share = if total > 0.0 {
            v.max(0.0) / total * 100.0
        } else {
            0.0
        };
        out.push_str(&format!(
            "<span><i class=\"key\" style=\"background:{}\"></i>{} {:.0}%</span>",
            color(i),
            esc(label),
            share
        ));
    }
    out.push_str("</figcaption></figure>");
    out
}

/// The funnel: one centered bar per stage, as wide as its share of the
/// first, with the count and the step conversion.
pub fn funnel(
    id: &str,
    title: &str,
    stages: &[(String, f64, Option<f64>)],
    fmt: &dyn Fn(f64) -> String,
) -> String {
    let first = stages.first().map_or(0.0, |s| s.1);
    let row_h = 34.0;
    let h = row_h * stages.len().max(1) as f64;
    let mut out = format!(
        "<figure class=\"chart\"><svg id=\"{}\" class=\"funnel\" viewBox=\"0 0 640 {h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        esc(id),
        t = esc(title)
    );
    for (i, (name, v, conv)) in stages.iter().enumerate() {
        let share = if first > 0.0 { v / first } else { 0.0 };
        let width = (420.0 * share).max(2.0);
        let y = row_h * i as f64;
        let conv = conv.map_or(String::new(), |c| format!(" · {c:.0}%"));
        out.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"26\" rx=\"3\" fill=\"{}\"/><text x=\"4\" y=\"{:.1}\" class=\"label\">{}</text><text x=\"636\" y=\"{:.1}\" class=\"value\" text-anchor=\"end\">{}{}</text>",
            320.0 - width / 2.0 + 60.0,
            y + 2.0,
            color(i),
            y + 19.0,
            esc(&truncate(name, 14)),
            y + 19.0,
            esc(&fmt(*v)),
            esc(&conv)
        ));
    }
    out.push_str("</svg></figure>");
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_axis() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(130.0), 200.0);
        assert_eq!(nice_max(5000.0), 5000.0);
    }

    #[test]
    fn charts_are_svg_with_escaped_labels() {
        let f = |v: f64| format!("{v}");
        let s = trend(
            "t",
            "T<1>",
            &["a".into(), "b".into()],
            &[Series {
                name: "x",
                values: vec![Some(1.0), Some(3.0)],
                dashed: false,
            }],
            &f,
        );
        assert!(s.contains("<svg") && s.contains("T&lt;1&gt;") && s.contains("<polyline"));
        let b = share_bars("b", "B", &[("<x>".into(), 1.0), ("y".into(), 3.0)], &f);
        assert!(b.contains("&lt;x&gt;") && b.contains("75%"));
        let d = donut("d", "D", &[("a".into(), 1.0), ("b".into(), 1.0)]);
        assert_eq!(d.matches("stroke-dasharray").count(), 2);
        let fu = funnel(
            "f",
            "F",
            &[("new".into(), 10.0, None), ("won".into(), 5.0, Some(50.0))],
            &f,
        );
        assert!(fu.contains("50%"));
    }
}
