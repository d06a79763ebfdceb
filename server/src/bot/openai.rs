//! Any OpenAI-compatible chat-completions server (OpenAI, Azure, Ollama, vLLM, llama.cpp
//! server), streamed over SSE with async-openai.
//!
//! Each failure is told as what it is: a refused connection, a 404 (a base URL without
//! `/v1`; async-openai would report it as an unreadable body), an error status, a broken
//! stream. [`OpenAiLlm::probe`] lists the server's models at start and for `/readyz`.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use async_openai::types::chat::{
    ChatChoiceStream, ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestToolMessage, ChatCompletionRequestUserMessage, ChatCompletionStreamOptions,
    ChatCompletionTool, ChatCompletionTools, CreateChatCompletionRequest, FinishReason, FunctionCall, FunctionObject,
};
use async_trait::async_trait;
use futures_util::StreamExt;
use secrecy::ExposeSecret;

use super::{Chunk, Finish, HANDOFF_TOOL, Llm, LlmError, Prompt, ReplyStream, Role, ToolRound, ToolSpec};
use crate::config::LlmSettings;

/// Connecting must not eat the whole first-token budget.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A probe of the endpoint (`GET /models`) must answer within this.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct OpenAiLlm {
    client: Client<OpenAIConfig>,
    http: reqwest::Client,
    base_url: String,
    api_key: String,
    /// When a request last found the server unreachable or the model missing: `/readyz`'s
    /// probe ([`super::probe::ModelProbe`]) looks again instead of repeating an older verdict.
    /// A short-held lock, written only on those failures.
    refused_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// A 404 from the model server, kept apart so it is not retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotFound(String);

/// What listing the server's models found.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// The server lists the configured model.
    Ready,
    /// The server answers but does not list the model (some servers serve any name).
    ModelMissing {
        listed: Vec<String>,
    },
    Unreachable(String),
}

impl OpenAiLlm {
    pub fn new(settings: &LlmSettings) -> anyhow::Result<OpenAiLlm> {
        let base_url = settings.base_url.as_deref().unwrap_or("https://api.openai.com/v1").trim_end_matches('/');
        // Local servers (Ollama, llama.cpp) need no key; async-openai still sends a header.
        let api_key = settings.api_key.as_ref().map_or_else(|| "none".to_owned(), |k| k.expose_secret().to_owned());
        let config = OpenAIConfig::new().with_api_base(base_url).with_api_key(api_key.clone());
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("Failed to build the HTTP client: {e}"))?;
        // A plain service, without async-openai's default retry layer: retries are
        // `llm.max_retries`, made by the reply runner only before anything was streamed.
        let sender = http.clone();
        let service = tower::service_fn(move |factory: HttpRequestFactory| {
            let sender = sender.clone();
            async move {
                let request = factory.build().await?;
                let url = request.url().to_string();
                let response = sender.execute(request).await.map_err(OpenAIError::Reqwest)?;
                if response.status() == reqwest::StatusCode::NOT_FOUND {
                    return Err(OpenAIError::Boxed(Box::new(NotFound(url))));
                }
                Ok::<_, OpenAIError>(response)
            }
        });
        let client = Client::with_config(config).with_http_client(http.clone()).with_http_service(service);
        let refused_at = std::sync::Mutex::new(None);
        Ok(OpenAiLlm { client, http, base_url: base_url.to_owned(), api_key, refused_at })
    }

    /// When a request last found the server unreachable or the model missing.
    pub fn refused_at(&self) -> Option<std::time::Instant> {
        *self.refused_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn noted(&self, error: LlmError) -> LlmError {
        if matches!(error, LlmError::NotFound(_) | LlmError::Connect(_)) {
            *self.refused_at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(std::time::Instant::now());
        }
        error
    }

    /// Lists the server's models (`GET {base_url}/models`) and looks for `model`.
    pub async fn probe(&self, model: &str) -> Probe {
        let url = format!("{}/models", self.base_url);
        let request = self.http.get(&url).bearer_auth(&self.api_key).timeout(PROBE_TIMEOUT).send();
        let response = match request.await {
            Ok(response) => response,
            Err(error) if error.is_connect() => return Probe::Unreachable(format!("connection refused at {url}")),
            Err(error) => return Probe::Unreachable(format!("{url}: {error}")),
        };
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Probe::Unreachable(format!("{url} answered 404 (does llm.base_url end in /v1?)"));
        }
        if !status.is_success() {
            return Probe::Unreachable(format!("{url} answered {status}"));
        }
        let body: serde_json::Value = match response.bytes().await.map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(body)) => body,
            _ => return Probe::Unreachable(format!("{url} answered something other than a model list")),
        };
        let listed: Vec<String> = body["data"]
            .as_array()
            .map(|models| models.iter().filter_map(|m| m["id"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if listed.iter().any(|id| id == model) { Probe::Ready } else { Probe::ModelMissing { listed } }
    }
}

#[async_trait]
impl Llm for OpenAiLlm {
    async fn start(&self, prompt: &Prompt) -> Result<ReplyStream, LlmError> {
        let request = request(prompt);
        let stream = self.client.chat().create_stream(request).await.map_err(|e| self.noted(to_llm_error(e)))?;
        let chunks = stream.flat_map(|item| {
            let chunks: Vec<Result<Chunk, LlmError>> = match item {
                Ok(response) => {
                    let usage = response.usage.map(|u| Chunk::Usage(u64::from(u.total_tokens)));
                    response.choices.into_iter().flat_map(chunks_of).chain(usage).map(Ok).collect()
                }
                Err(error) => vec![Err(to_llm_error(error))],
            };
            futures_util::stream::iter(chunks)
        });
        Ok(Box::pin(chunks))
    }
}

/// The text, tool-call pieces, log-probabilities and finish reason in one streamed choice.
fn chunks_of(choice: ChatChoiceStream) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
        chunks.push(Chunk::Text(text));
    }
    for call in choice.delta.tool_calls.unwrap_or_default() {
        let (name, arguments) =
            call.function.map_or((None, String::new()), |f| (f.name, f.arguments.unwrap_or_default()));
        chunks.push(Chunk::Tool { index: call.index, name, arguments });
    }
    if let Some(content) = choice.logprobs.and_then(|l| l.content).filter(|c| !c.is_empty()) {
        chunks.push(Chunk::Logprobs(content.iter().map(|t| t.logprob).collect()));
    }
    if let Some(reason) = choice.finish_reason {
        chunks.push(Chunk::Finish(match reason {
            FinishReason::Stop => Finish::Stop,
            FinishReason::Length => Finish::Length,
            FinishReason::ToolCalls | FinishReason::FunctionCall => Finish::ToolCalls,
            FinishReason::ContentFilter => Finish::Other,
        }));
    }
    chunks
}

fn handoff_tool() -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: HANDOFF_TOOL.to_owned(),
            description: Some("Pass the conversation to a person on the support team.".to_owned()),
            parameters: Some(serde_json::json!({
                "type": "object",
                "properties": { "reason": { "type": "string", "description": "Why a person should take over, in a few words." } },
                "required": ["reason"]
            })),
            strict: None,
        },
    })
}

/// A site action as a function tool.
fn action_tool(spec: &ToolSpec) -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: spec.name.clone(),
            description: Some(spec.description.clone()),
            parameters: Some(spec.parameters.clone()),
            strict: None,
        },
    })
}

/// An earlier call of this reply: the assistant's turn that made it, then the tool's answer.
#[allow(deprecated)] // `function_call`: the field exists, unset.
fn round_messages(round: &ToolRound) -> [ChatCompletionRequestMessage; 2] {
    let call = ChatCompletionMessageToolCall {
        id: round.id.clone(),
        function: FunctionCall { name: round.name.clone(), arguments: round.arguments.clone() },
    };
    let said = round.said.trim();
    let asked = ChatCompletionRequestAssistantMessage {
        content: (!said.is_empty()).then(|| said.into()),
        tool_calls: Some(vec![ChatCompletionMessageToolCalls::Function(call)]),
        ..Default::default()
    };
    let answer =
        ChatCompletionRequestToolMessage { content: round.result.as_str().into(), tool_call_id: round.id.clone() };
    [asked.into(), answer.into()]
}

/// Log-probabilities need `top_logprobs` as well as `logprobs: true` on llama.cpp's servers
/// (they ignore `logprobs` alone); `0` is valid for OpenAI too.
#[allow(deprecated)] // `max_tokens`: the field every OpenAI-compatible server understands.
fn request(prompt: &Prompt) -> CreateChatCompletionRequest {
    let mut messages: Vec<ChatCompletionRequestMessage> =
        vec![ChatCompletionRequestSystemMessage::from(prompt.system.as_str()).into()];
    messages.extend(prompt.messages.iter().map(|m| match m.role {
        Role::User => ChatCompletionRequestUserMessage::from(m.content.as_str()).into(),
        Role::Assistant => ChatCompletionRequestAssistantMessage::from(m.content.as_str()).into(),
    }));
    messages.extend(prompt.rounds.iter().flat_map(round_messages));
    let mut tools: Vec<ChatCompletionTools> = prompt.tools.iter().map(action_tool).collect();
    if prompt.handoff_tool {
        tools.insert(0, handoff_tool());
    }
    CreateChatCompletionRequest {
        model: prompt.model.clone(),
        messages,
        temperature: Some(prompt.temperature),
        max_tokens: Some(prompt.max_tokens),
        stream: Some(true),
        tools: (!tools.is_empty()).then_some(tools),
        logprobs: prompt.logprobs.then_some(true),
        top_logprobs: prompt.logprobs.then_some(0),
        // The server's token count, for the site's budget (servers that ignore it are estimated).
        stream_options: prompt
            .budget
            .is_some()
            .then_some(ChatCompletionStreamOptions { include_usage: Some(true), include_obfuscation: None }),
        ..Default::default()
    }
}

fn to_llm_error(error: OpenAIError) -> LlmError {
    match error {
        OpenAIError::ApiError(api) => LlmError::Server(api.to_string()),
        OpenAIError::Reqwest(e) if e.is_timeout() => LlmError::Timeout,
        OpenAIError::Reqwest(e) if e.is_connect() => LlmError::Connect(e.to_string()),
        OpenAIError::Reqwest(e) => LlmError::Stream(e.to_string()),
        OpenAIError::Boxed(boxed) => match boxed.downcast::<NotFound>() {
            Ok(not_found) => LlmError::NotFound(not_found.0),
            Err(other) => LlmError::Server(other.to_string()),
        },
        OpenAIError::StreamError(e) => LlmError::Stream(e.to_string()),
        other => LlmError::Stream(other.to_string()),
    }
}
