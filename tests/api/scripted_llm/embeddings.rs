//! `POST /v1/embeddings` for the scripted server: a deterministic stand-in for an embedding
//! model. A test names groups of words that mean the same ("busted", "faulty", "broken");
//! each group has a dimension of its own, which is what a real model's meaning adds over
//! shared words, and every other word is hashed into the remaining dimensions, so texts
//! outside the groups are alike only as far as they share words. It can also fail or be slow.

use std::collections::HashMap;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::ScriptedLlm;

pub const DIMENSIONS: usize = 64;

/// Dimensions kept for the groups of synonyms.
const GROUPS: usize = 16;

/// What one word of a group counts for, against 1 for any other word.
const GROUP_WEIGHT: f32 = 4.0;

#[derive(Clone, Debug, Default)]
pub struct Embeddings {
    /// Word to the dimension of its group.
    synonyms: HashMap<String, usize>,
    /// Answer every request with this status.
    pub failure: Option<u16>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Every text embedded, in order.
    pub inputs: Vec<String>,
}

impl ScriptedLlm {
    /// Words of one group embed alike: `synonyms(&["faulty", "busted", "broken"])`.
    pub fn synonyms(&self, group: &[&str]) {
        let mut embeddings = self.embeddings.lock().unwrap();
        let dimension = embeddings.synonyms.values().max().map_or(0, |d| d + 1);
        assert!(dimension < GROUPS, "at most {GROUPS} groups");
        for word in group {
            embeddings.synonyms.insert((*word).to_lowercase(), dimension);
        }
    }

    /// Every embedding request from now on answers `status` (`None`: they succeed again).
    pub fn fail_embeddings(&self, status: Option<u16>) {
        self.embeddings.lock().unwrap().failure = status;
    }

    pub fn slow_embeddings(&self, delay: Duration) {
        self.embeddings.lock().unwrap().delay = delay;
    }

    /// The texts embedded so far.
    pub fn embedded(&self) -> Vec<String> {
        self.embeddings.lock().unwrap().inputs.clone()
    }
}

pub async fn embeddings(body: web::Json<Value>, llm: web::Data<ScriptedLlm>) -> HttpResponse {
    let (state, inputs) = {
        let mut embeddings = llm.embeddings.lock().unwrap();
        let inputs: Vec<String> = match &body["input"] {
            Value::String(text) => vec![text.clone()],
            Value::Array(texts) => texts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        };
        embeddings.inputs.extend(inputs.iter().cloned());
        (embeddings.clone(), inputs)
    };
    tokio::time::sleep(state.delay).await;
    if let Some(status) = state.failure {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(
            json!({"error": {"message": "scripted failure", "type": "server_error", "param": null, "code": null}}),
        );
    }
    if inputs.is_empty() || inputs.iter().any(String::is_empty) {
        return HttpResponse::BadRequest()
            .json(json!({"error": {"message": "input must not be empty", "type": "invalid_request_error"}}));
    }
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": vector(text, &state.synonyms)}))
        .collect();
    HttpResponse::Ok().json(json!({"object": "list", "model": body["model"], "data": data, "usage": {"prompt_tokens": 1, "total_tokens": 1}}))
}

/// Word counts: a group's words in its dimension, other words hashed into the rest. Words
/// of two letters or fewer are left out, so "is" and "my" add nothing.
fn vector(text: &str, synonyms: &HashMap<String, usize>) -> Vec<f32> {
    let mut vector = vec![0.0; DIMENSIONS];
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 2) {
        let hash = word.bytes().fold(2_166_136_261_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16_777_619));
        let dimension = synonyms.get(word).copied().unwrap_or(GROUPS + hash as usize % (DIMENSIONS - GROUPS));
        // Meaning outweighs wording, as in a real model.
        vector[dimension] += if dimension < GROUPS { GROUP_WEIGHT } else { 1.0 };
    }
    if vector.iter().all(|x| *x == 0.0) {
        vector[DIMENSIONS - 1] = 1.0;
    }
    vector
}
