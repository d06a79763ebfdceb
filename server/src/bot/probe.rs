//! Whether the model endpoint answers and serves the configured model: checked at start (a
//! clear warning in the log when not) and reported by `/readyz` in its body. It never fails
//! readiness: a node whose model is down still serves, the knowledge base answering.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::openai::{OpenAiLlm, Probe};

/// `/readyz` probes again at most this often.
const FRESH_FOR: Duration = Duration::from_secs(10);

pub struct ModelProbe {
    llm: Arc<OpenAiLlm>,
    model: String,
    base_url: String,
    last: Mutex<Option<(Instant, Probe)>>,
}

impl ModelProbe {
    pub fn new(llm: Arc<OpenAiLlm>, model: String, base_url: String) -> ModelProbe {
        ModelProbe { llm, model, base_url, last: Mutex::new(None) }
    }

    /// Probes now and says in the log what it found.
    pub async fn check_at_start(&self) {
        match self.fresh(true).await {
            Probe::Ready => tracing::info!(base_url = %self.base_url, model = %self.model, "model endpoint ready"),
            Probe::ModelMissing { listed } => tracing::warn!(
                base_url = %self.base_url, model = %self.model, ?listed,
                "the model endpoint does not list llm.model; replies may fail"
            ),
            Probe::Unreachable(why) => tracing::warn!(
                base_url = %self.base_url, %why,
                "the model endpoint is unreachable; the knowledge base answers until it is back"
            ),
        }
    }

    /// One line for `/readyz`.
    pub async fn status(&self) -> String {
        match self.fresh(false).await {
            Probe::Ready => format!("model {}: reachable", self.model),
            Probe::ModelMissing { .. } => format!("model {}: not listed by the endpoint", self.model),
            Probe::Unreachable(why) => format!("model {}: unreachable ({why})", self.model),
        }
    }

    async fn fresh(&self, force: bool) -> Probe {
        // A request that failed since (unreachable, model missing) makes the verdict stale.
        let refused = self.llm.refused_at();
        let cached = self
            .lock()
            .clone()
            .filter(|(at, _)| !force && at.elapsed() < FRESH_FOR && refused.is_none_or(|refused| refused < *at));
        if let Some((_, probe)) = cached {
            return probe;
        }
        let probe = self.llm.probe(&self.model).await;
        *self.lock() = Some((Instant::now(), probe.clone()));
        probe
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Probe)>> {
        self.last.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
