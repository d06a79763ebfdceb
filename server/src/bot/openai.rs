//! Any OpenAI-compatible chat-completions server (OpenAI, Azure, Ollama, vLLM, llama.cpp
//! server), streamed over SSE with async-openai.

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::types::chat::{
    ChatChoiceStream, ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage, ChatCompletionTool, ChatCompletionTools,
    CreateChatCompletionRequest, FunctionObject,
};
use async_trait::async_trait;
use futures_util::StreamExt;
use secrecy::ExposeSecret;

use super::{Chunk, HANDOFF_TOOL, Llm, LlmError, Prompt, ReplyStream, Role};
use crate::config::LlmSettings;

/// Connecting must not eat the whole first-token budget.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct OpenAiLlm {
    client: Client<OpenAIConfig>,
}

impl OpenAiLlm {
    pub fn new(settings: &LlmSettings) -> anyhow::Result<OpenAiLlm> {
        let mut config = OpenAIConfig::new();
        if let Some(base) = &settings.base_url {
            config = config.with_api_base(base.trim_end_matches('/'));
        }
        // Local servers (Ollama, llama.cpp) need no key; async-openai still sends a header.
        let key = settings.api_key.as_ref().map_or_else(|| "none".to_owned(), |k| k.expose_secret().to_owned());
        config = config.with_api_key(key);
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| anyhow::anyhow!("Failed to build the HTTP client: {e}"))?;
        // The plain service, without async-openai's default retry layer: retries are
        // `llm.max_retries`, made by the reply runner only before anything was streamed.
        let client =
            Client::with_config(config).with_http_client(http.clone()).with_http_service(ReqwestService::new(http));
        Ok(OpenAiLlm { client })
    }
}

#[async_trait]
impl Llm for OpenAiLlm {
    async fn start(&self, prompt: &Prompt) -> Result<ReplyStream, LlmError> {
        let request = request(prompt);
        let stream = self.client.chat().create_stream(request).await.map_err(to_llm_error)?;
        let chunks = stream.flat_map(|item| {
            let chunks: Vec<Result<Chunk, LlmError>> = match item {
                Ok(response) => response.choices.into_iter().flat_map(chunks_of).map(Ok).collect(),
                Err(error) => vec![Err(to_llm_error(error))],
            };
            futures_util::stream::iter(chunks)
        });
        Ok(Box::pin(chunks))
    }
}

/// The text, tool-call pieces and log-probabilities in one streamed choice.
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

#[allow(deprecated)] // `max_tokens`: the field every OpenAI-compatible server understands.
fn request(prompt: &Prompt) -> CreateChatCompletionRequest {
    let mut messages: Vec<ChatCompletionRequestMessage> =
        vec![ChatCompletionRequestSystemMessage::from(prompt.system.as_str()).into()];
    messages.extend(prompt.messages.iter().map(|m| match m.role {
        Role::User => ChatCompletionRequestUserMessage::from(m.content.as_str()).into(),
        Role::Assistant => ChatCompletionRequestAssistantMessage::from(m.content.as_str()).into(),
    }));
    CreateChatCompletionRequest {
        model: prompt.model.clone(),
        messages,
        temperature: Some(prompt.temperature),
        max_tokens: Some(prompt.max_tokens),
        stream: Some(true),
        tools: prompt.handoff_tool.then(|| vec![handoff_tool()]),
        logprobs: prompt.logprobs.then_some(true),
        ..Default::default()
    }
}

fn to_llm_error(error: OpenAIError) -> LlmError {
    match error {
        OpenAIError::ApiError(api) => LlmError::Server(api.to_string()),
        OpenAIError::Reqwest(e) if e.is_timeout() => LlmError::Timeout,
        OpenAIError::Reqwest(e) => LlmError::Server(e.to_string()),
        OpenAIError::StreamError(e) => LlmError::Stream(e.to_string()),
        other => LlmError::Stream(other.to_string()),
    }
}
