//! The bytes of the scripted server's SSE stream: one `data:` event per chunk, in the shape
//! OpenAI sends, plus the variant llama-cpp-python's server sends for tool calls.

use actix_web::web::Bytes;
use serde_json::{Value, json};

/// The stream's last event; llama-cpp-python also sends it alone when it interrupts a stream.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// A chunk with this delta, finish reason and (chat-format) log-probabilities.
pub fn event(delta: Value, finish_reason: Option<&str>, logprobs: Option<Value>) -> Bytes {
    let json = json!({
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": logprobs}]
    });
    Bytes::from(format!("data: {json}\n\n"))
}

/// A text piece, with the role on every chunk as OpenAI's first chunk has it.
pub fn text(piece: &str) -> Bytes {
    event(json!({"role": "assistant", "content": piece}), None, None)
}

/// A text piece with this token log-probability.
pub fn text_with_logprob(piece: &str, logprob: f32) -> Bytes {
    let logprobs = json!({"content": [{"token": piece, "logprob": logprob, "bytes": null, "top_logprobs": []}]});
    event(json!({"content": piece}), None, Some(logprobs))
}

/// The prompt's size every usage chunk reports (a fixed figure, so tests can count).
pub const PROMPT_TOKENS: u64 = 1_000;

/// OpenAI's usage chunk (asked for with `stream_options.include_usage`): no choices, the
/// request's token counts, `completion_tokens` one per piece streamed.
pub fn usage(completion_tokens: u64) -> Bytes {
    let json = json!({
        "id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
        "choices": [],
        "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": completion_tokens, "total_tokens": PROMPT_TOKENS + completion_tokens}
    });
    Bytes::from(format!("data: {json}\n\n"))
}

/// The closing chunk: an empty delta with the finish reason.
pub fn finish(reason: &str) -> Bytes {
    event(json!({}), Some(reason), None)
}

/// OpenAI's shape, the arguments in two pieces: the first has `id`, `type` and the name,
/// the second only `index` and the rest of the arguments.
pub fn openai_tool_call(name: &str, arguments: &str) -> Vec<Bytes> {
    let (first, second) = arguments.split_at(arguments.len() / 2);
    let first = json!({"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": first}});
    let second = json!({"index": 0, "function": {"arguments": second}});
    [first, second].into_iter().map(|call| event(json!({"tool_calls": [call]}), None, None)).collect()
}

/// How many bytes of arguments each llama-cpp-python tool-call chunk carries here; the real
/// server sends one token's worth (`{`, ` "`, `reason`, `":` ...).
const LLAMA_CPP_ARGUMENT_PIECE: usize = 4;

/// llama-cpp-python's shape (`_convert_completion_to_chat_function`, recorded in
/// `fixtures/real-model/tool_call_forced.sse`): first a chunk whose delta has the role and
/// every other field `null`; then, per token of arguments, `role` and `content` `null`, the
/// deprecated `function_call`, and a `tool_calls` entry that repeats `index`, the same `id`,
/// `type` and the name on every piece. A client that starts a new call whenever an `id` or a
/// name arrives sees one call per token.
pub fn llama_cpp_tool_call(name: &str, arguments: &str) -> Vec<Bytes> {
    let id = format!("call__0_{name}_cmpl-scripted");
    let lead = json!({"role": "assistant", "content": null, "function_call": null, "tool_calls": null});
    let mut frames = vec![event(lead, None, None)];
    for part in char_pieces(arguments, LLAMA_CPP_ARGUMENT_PIECE) {
        let call = json!({"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": part}});
        let delta = json!({
            "role": null, "content": null,
            "function_call": {"name": name, "arguments": part}, "tool_calls": [call]
        });
        frames.push(event(delta, None, None));
    }
    frames
}

/// `text` cut into pieces of about `size` bytes, on character boundaries.
fn char_pieces(text: &str, size: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, _) in text.char_indices() {
        if i - start >= size {
            pieces.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}
