//! A site's settings changed through the API. A patch is a JSON object with the site file's
//! own keys (`{"persona": {"greeting": "…"}, "escalation": {"low_confidence": 0.3}}`); the
//! patches a site receives merge into one stored patch (RFC 7396: objects merge, `null`
//! removes a key and the file's value applies again). The stored patch merged over the
//! file's TOML is parsed by the file's own loader ([`crate::config::site::from_text`]) and
//! the site built ([`super::build_site`]: escalation policy and all), so a change is
//! accepted exactly when the same text in the file would load.

use std::path::PathBuf;

use serde_json::Value;

use crate::config::SiteConfig;

/// The keys a patch may change; the rest (origins, identity secret, privacy, attachments,
/// retention) are the operator's and stay in the file.
pub const CHANGEABLE: [&str; 8] = ["title", "persona", "widget", "bot", "escalation", "handoff", "notices", "llm"];

/// The file a site was loaded from: `sites/ID.toml`, beside its `sites/ID/kb/` folder.
pub fn file_of(site: &SiteConfig) -> PathBuf {
    site.kb_dir.parent().map(|dir| dir.with_extension("toml")).unwrap_or_default()
}

/// The file's settings as JSON (the identity secret left out: it is never shown).
pub fn file_settings(site: &SiteConfig) -> Result<Value, String> {
    let mut value = serde_json::to_value(file_table(site)?).map_err(|e| e.to_string())?;
    if let Some(map) = value.as_object_mut() {
        map.remove("identity_secret");
    }
    Ok(value)
}

fn file_table(site: &SiteConfig) -> Result<toml::Table, String> {
    let path = file_of(site);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("Failed to read {}: {e}", path.display()))?;
    text.parse::<toml::Table>().map_err(|e| format!("{}: {e}", path.display()))
}

/// Merges `change` into the stored patch `patch` (RFC 7396), refusing keys outside
/// [`CHANGEABLE`].
pub fn merge_patch(patch: &mut Value, change: &Value) -> Result<(), String> {
    let Some(fields) = change.as_object() else { return Err("the body must be a JSON object".into()) };
    if let Some(key) = fields.keys().find(|key| !CHANGEABLE.contains(&key.as_str())) {
        return Err(format!(
            "key `{key}` cannot be changed through the API (it may be one of: {}); edit the site's file",
            CHANGEABLE.join(", ")
        ));
    }
    merge(patch, change);
    Ok(())
}

fn merge(target: &mut Value, change: &Value) {
    let Value::Object(fields) = change else {
        *target = change.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    // unwrap: made an object just above.
    let map = target.as_object_mut().expect("an object");
    for (key, value) in fields {
        if value.is_null() {
            map.remove(key);
        } else {
            merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// The site's file with `patch` over it, loaded as the file would be.
pub fn apply(base: &SiteConfig, patch: &Value) -> Result<SiteConfig, String> {
    let mut table = toml::Value::Table(file_table(base)?);
    let patch = toml::Value::try_from(patch).map_err(|e| format!("the settings cannot be written as TOML: {e}"))?;
    merge_toml(&mut table, patch);
    let text = toml::to_string(&table).map_err(|e| format!("the settings cannot be written as TOML: {e}"))?;
    let mut site = crate::config::site::from_text(&base.id, &text)?;
    site.kb_dir = base.kb_dir.clone();
    Ok(site)
}

fn merge_toml(target: &mut toml::Value, change: toml::Value) {
    match (target, change) {
        (toml::Value::Table(target), toml::Value::Table(change)) => {
            for (key, value) in change {
                match target.get_mut(&key) {
                    Some(slot) => merge_toml(slot, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (slot, change) => *slot = change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patches_merge_and_null_removes_a_key() {
        let mut patch = json!({});
        merge_patch(&mut patch, &json!({"persona": {"greeting": "Hi"}, "bot": {"min_confidence": 0.5}})).unwrap();
        merge_patch(&mut patch, &json!({"persona": {"bot_name": "Ada"}, "bot": null})).unwrap();
        assert_eq!(patch, json!({"persona": {"greeting": "Hi", "bot_name": "Ada"}}));
    }

    #[test]
    fn keys_the_operator_owns_are_refused() {
        let error = merge_patch(&mut json!({}), &json!({"allowed_origins": ["*"]})).unwrap_err();
        assert!(error.contains("allowed_origins"), "{error}");
        assert!(merge_patch(&mut json!({}), &json!([1])).is_err());
    }
}
