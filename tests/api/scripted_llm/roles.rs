//! The role order a strict chat template accepts, as Gemma 3's does (and Llama 2's, Mistral's
//! and many others): an optional `system` message first, then `user` and `assistant` turns
//! alternating, starting with `user`. Tool results belong to the assistant turn that called
//! them: `assistant` (with `tool_calls`), one or more `tool`, then optionally the assistant's
//! answer, and the next turn is the user's.
//!
//! The rejection is answered as llama-cpp-python's server (0.3.36) answers a template
//! exception, recorded in `docs/real-model.md`: a streamed request gets `200` and an event
//! stream that ends without a single event (the exception is raised inside the stream, after
//! the headers went out); an unstreamed one gets `500` with an OpenAI-style error body, its
//! route handler wrapping any exception it does not recognise as `internal_server_error`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

/// Gemma 3's template's own words (`raise_exception(...)` in its Jinja source).
pub const ALTERNATION_ERROR: &str = "Conversation roles must alternate user/assistant/user/assistant/...";

/// llama-cpp-python answers an unstreamed request whose template raised with this status, not 400.
pub const TEMPLATE_ERROR_STATUS: u16 = 500;

/// What the check found wrong, in the template's words, and where.
#[derive(Debug, PartialEq)]
pub struct RoleError {
    pub index: usize,
    pub message: &'static str,
}

/// What may come next in the transcript.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// The start, after an optional system message.
    User,
    /// After a user turn.
    Assistant,
    /// After an assistant message without tool calls.
    UserAfterAssistant,
    /// After an assistant message with tool calls: its results.
    ToolResult,
    /// After a tool result: another result, the assistant's answer, or the user.
    AfterToolResult,
}

/// Checks the order of `messages` (the request's `messages` array).
pub fn check_roles(messages: &[Value]) -> Result<(), RoleError> {
    let mut expect = Expect::User;
    for (index, message) in messages.iter().enumerate() {
        let role = message["role"].as_str().unwrap_or("");
        let calls_tools = message["tool_calls"].as_array().is_some_and(|calls| !calls.is_empty());
        let reject = Err(RoleError { index, message: ALTERNATION_ERROR });
        expect = match (role, expect) {
            ("system", _) if index == 0 => Expect::User,
            ("user", Expect::User | Expect::UserAfterAssistant | Expect::AfterToolResult) => Expect::Assistant,
            ("assistant", Expect::Assistant | Expect::AfterToolResult) if calls_tools => Expect::ToolResult,
            ("assistant", Expect::Assistant | Expect::AfterToolResult) => Expect::UserAfterAssistant,
            ("tool", Expect::ToolResult | Expect::AfterToolResult) => Expect::AfterToolResult,
            _ => return reject,
        };
    }
    Ok(())
}

/// The response llama-cpp-python's server gives to an unstreamed request when the chat
/// template raises `message`.
pub fn template_error(message: &str) -> HttpResponse {
    // unwrap: a constant, valid status code.
    HttpResponse::build(StatusCode::from_u16(TEMPLATE_ERROR_STATUS).unwrap()).json(json!({
        "error": {"message": message, "type": "internal_server_error", "param": null, "code": null}
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(roles: &[&str]) -> Vec<Value> {
        roles
            .iter()
            .map(|role| match *role {
                "assistant+tools" => json!({"role": "assistant", "content": null, "tool_calls": [{"id": "c1"}]}),
                "tool" => json!({"role": "tool", "content": "{}", "tool_call_id": "c1"}),
                role => json!({"role": role, "content": "text"}),
            })
            .collect()
    }

    fn rejected_at(roles: &[&str]) -> Option<usize> {
        check_roles(&transcript(roles)).err().map(|e| e.index)
    }

    #[test]
    fn system_then_alternating_turns_starting_with_the_user_are_accepted() {
        assert_eq!(rejected_at(&["system", "user", "assistant", "user"]), None);
        assert_eq!(rejected_at(&["user", "assistant", "user", "assistant"]), None);
        assert_eq!(rejected_at(&["system"]), None);
        assert_eq!(rejected_at(&[]), None);
    }

    #[test]
    fn a_greeting_before_the_first_user_turn_is_rejected() {
        assert_eq!(rejected_at(&["system", "assistant", "user"]), Some(1));
        assert_eq!(rejected_at(&["assistant", "user"]), Some(0));
    }

    #[test]
    fn two_turns_of_the_same_role_in_a_row_are_rejected() {
        assert_eq!(rejected_at(&["system", "user", "user"]), Some(2));
        assert_eq!(rejected_at(&["system", "user", "assistant", "assistant", "user"]), Some(3));
    }

    #[test]
    fn a_system_message_anywhere_but_first_is_rejected() {
        assert_eq!(rejected_at(&["user", "system"]), Some(1));
        assert_eq!(rejected_at(&["system", "system", "user"]), Some(1));
    }

    #[test]
    fn tool_results_belong_to_the_assistant_turn_that_called_the_tool() {
        assert_eq!(rejected_at(&["system", "user", "assistant+tools", "tool", "assistant", "user"]), None);
        assert_eq!(rejected_at(&["user", "assistant+tools", "tool", "tool", "user"]), None);
        assert_eq!(rejected_at(&["user", "assistant+tools", "user"]), Some(2), "a call needs its result");
    }

    #[test]
    fn a_tool_result_nobody_asked_for_is_rejected() {
        assert_eq!(rejected_at(&["user", "tool"]), Some(1));
        assert_eq!(rejected_at(&["user", "assistant", "tool"]), Some(2));
    }

    #[test]
    fn the_rejection_says_what_the_template_says() {
        let error = check_roles(&transcript(&["system", "assistant", "user"])).unwrap_err();
        assert_eq!(error.message, ALTERNATION_ERROR);
        assert_eq!(template_error(error.message).status().as_u16(), TEMPLATE_ERROR_STATUS);
    }
}
