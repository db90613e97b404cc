//! What the scenarios measured: one JSON object per line appended to
//! `target/e2e/measurements.jsonl` (and printed), so that `make e2e`
//! leaves its figures behind.

use std::io::Write;

use crate::validator::repo_root;

/// Records `fields` (a JSON object) for scenario `scenario`.
pub fn measure(scenario: &str, fields: serde_json::Value) {
    let mut obj = serde_json::json!({ "scenario": scenario });
    if let (Some(o), serde_json::Value::Object(f)) = (obj.as_object_mut(), fields) {
        o.extend(f);
    }
    let line = obj.to_string();
    println!("[e2e-measure] {line}");
    let dir = repo_root().join("target/e2e");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("measurements.jsonl"))
    {
        let _ = writeln!(f, "{line}");
    }
}
