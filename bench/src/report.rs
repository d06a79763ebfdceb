//! Figures: latency summaries, the collection of metrics over repeated runs, and the two
//! outputs (tables for people, one JSON object for scripts).

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

/// 1 µs to 1 minute at three significant digits.
pub fn histogram() -> Histogram<u64> {
    // unwrap: these bounds are valid.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// A latency distribution in microseconds.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
}

impl Latency {
    pub fn from_histogram(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            // Nothing arrived: no latency to report (null in JSON, n/a in tables), not zero.
            return Latency { p50: f64::NAN, p99: f64::NAN, p999: f64::NAN };
        }
        Latency {
            p50: h.value_at_quantile(0.50) as f64,
            p99: h.value_at_quantile(0.99) as f64,
            p999: h.value_at_quantile(0.999) as f64,
        }
    }
}

struct Metric {
    section: String,
    label: String,
    unit: String,
    values: Vec<f64>,
}

/// Every figure of the invocation, by JSON key, with one value per repeated run.
#[derive(Default)]
pub struct Report {
    metrics: BTreeMap<String, Metric>,
    order: Vec<String>,
    /// Keys deliberately null, with why.
    nulls: BTreeMap<String, String>,
    pub notes: Vec<String>,
    pub meta: Map<String, Value>,
}

impl Report {
    pub fn add(&mut self, key: &str, section: &str, label: &str, unit: &str, value: f64) {
        if !self.metrics.contains_key(key) {
            self.order.push(key.to_owned());
        }
        self.metrics
            .entry(key.to_owned())
            .or_insert_with(|| Metric {
                section: section.into(),
                label: label.into(),
                unit: unit.into(),
                values: vec![],
            })
            .values
            .push(value);
    }

    pub fn latency(&mut self, prefix: &str, section: &str, label: &str, latency: &Latency) {
        for (suffix, value) in [("p50", latency.p50), ("p99", latency.p99), ("p999", latency.p999)] {
            self.add(&format!("{prefix}_{suffix}_us"), section, &format!("{label} {suffix}"), "µs", value);
        }
    }

    pub fn null(&mut self, key: &str, reason: &str) {
        self.nulls.insert(key.to_owned(), reason.to_owned());
    }

    pub fn json(&self) -> Value {
        let mut out = Map::new();
        for key in &self.order {
            out.insert(key.clone(), json!(round(stats(&self.metrics[key].values).1)));
        }
        for (key, reason) in &self.nulls {
            if !out.contains_key(key) {
                out.insert(key.clone(), Value::Null);
                out.insert(format!("{key}_reason"), json!(reason));
            }
        }
        let runs: Map<String, Value> = self
            .order
            .iter()
            .map(|key| {
                let values = &self.metrics[key].values;
                let (min, median, max) = stats(values);
                (key.clone(), json!({"min": round(min), "median": round(median), "max": round(max), "values": values.iter().map(|v| round(*v)).collect::<Vec<_>>()}))
            })
            .collect();
        out.insert("runs".into(), Value::Object(runs));
        out.insert("meta".into(), Value::Object(self.meta.clone()));
        out.insert("notes".into(), json!(self.notes));
        Value::Object(out)
    }

    pub fn tables(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.meta {
            out.push_str(&format!("{key}: {}\n", value.as_str().map_or_else(|| value.to_string(), str::to_owned)));
        }
        let mut sections: Vec<&str> = Vec::new();
        for key in &self.order {
            let section = self.metrics[key].section.as_str();
            if !sections.contains(&section) {
                sections.push(section);
            }
        }
        for section in sections {
            out.push_str(&format!(
                "\n### {section}\n\n| figure | min | median | max | unit | key |\n|---|---:|---:|---:|---|---|\n"
            ));
            for key in self.order.iter().filter(|k| self.metrics[*k].section == section) {
                let m = &self.metrics[key];
                let (min, median, max) = stats(&m.values);
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | `{key}` |\n",
                    m.label,
                    fmt(min),
                    fmt(median),
                    fmt(max),
                    m.unit
                ));
            }
        }
        if !self.nulls.is_empty() {
            out.push_str("\n### Not measured\n\n");
            for (key, reason) in &self.nulls {
                out.push_str(&format!("- `{key}`: {reason}\n"));
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\n### Notes\n\n");
            for note in &self.notes {
                out.push_str(&format!("- {note}\n"));
            }
        }
        out
    }
}

/// (min, median, max).
fn stats(values: &[f64]) -> (f64, f64, f64) {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
    (sorted[0], median, sorted[n - 1])
}

fn round(v: f64) -> Value {
    if !v.is_finite() {
        Value::Null
    } else if v.abs() >= 100.0 {
        json!(v.round() as i64)
    } else {
        json!((v * 1000.0).round() / 1000.0)
    }
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        "n/a".into()
    } else if v.abs() >= 100.0 {
        let digits = (v.round() as i64).unsigned_abs().to_string();
        // Thousands separators for readability.
        let mut out = String::from(if v < 0.0 { "-" } else { "" });
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::fmt;

    #[test]
    fn numbers_get_thousands_separators_and_keep_their_sign() {
        assert_eq!(fmt(113_181.4), "113,181");
        assert_eq!(fmt(-368.0), "-368");
        assert_eq!(fmt(-1_368.0), "-1,368");
        assert_eq!(fmt(100.0), "100");
        assert_eq!(fmt(8.824), "8.82");
        assert_eq!(fmt(f64::NAN), "n/a");
    }
}
