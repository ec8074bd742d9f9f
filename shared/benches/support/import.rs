//! What the import benchmarks share.

/// The settings both import benchmarks use: the generated file's three
/// custom columns are created by the import.
pub fn import_settings() -> serde_json::Value {
    serde_json::json!({"columns": {
        "plan": {"create": {"name": "plan", "label": "Plan", "type": "text"}},
        "score": {"create": {"name": "score", "label": "Score", "type": "number"}},
        "signup_date": {"create": {"name": "signup_date", "label": "Signup date", "type": "date"}},
    }})
}
