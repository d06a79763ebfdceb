//! Trains Baton's learned signals and writes their weights under `src/signals/models/`
//! (see the model card there, `src/signals/models/README.md`).
//!
//! `cargo run --release --example train_signals -- [sentiment|escalation|all] [DATA_DIR]`
//! from `server/`; DATA_DIR defaults to `../../shared/data`. Every choice (hyper-parameters,
//! cut points) is made by cross-validation on training data; validation data is scored
//! once, at the end, for the report. Runs are deterministic.

mod data;
mod escalation;
mod linear;
#[path = "../common/metrics.rs"]
mod metrics;
mod sentiment;

use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map_or("all", String::as_str);
    let dir = PathBuf::from(args.get(1).map_or("../../shared/data", String::as_str));
    let quick = args.iter().any(|a| a == "--quick");
    if matches!(what, "sentiment" | "all") {
        sentiment::run(&dir, quick);
    }
    if matches!(what, "escalation" | "all") {
        escalation::run(&dir);
    }
}
