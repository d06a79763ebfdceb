//! `Authorization: Bearer TOKEN`, read one way for every endpoint that takes a token (agent
//! tokens, file tokens, the metrics token, API keys): the scheme in any case (RFC 7235), the
//! token with the spaces around it removed. What a missing token means (401, 403, …) is each
//! endpoint's to say.

use actix_web::HttpRequest;
use actix_web::http::header;

/// The request's bearer token, or `None` when there is no `Authorization` header, it is not
/// text, its scheme is not `Bearer`, or the token is empty.
pub fn token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::token;

    fn with(value: &str) -> Option<String> {
        token(&TestRequest::default().insert_header(("Authorization", value)).to_http_request()).map(str::to_owned)
    }

    #[test]
    fn the_token_is_read_in_any_scheme_case_without_surrounding_spaces() {
        assert_eq!(with("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(with("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(with("BEARER abc").as_deref(), Some("abc"));
    }

    #[test]
    fn another_scheme_an_empty_token_or_no_header_is_none() {
        assert_eq!(with("Basic abc"), None);
        assert_eq!(with("Bearer "), None);
        assert_eq!(with("Bearer"), None);
        assert_eq!(with("abc"), None);
        assert_eq!(token(&TestRequest::default().to_http_request()), None);
    }
}
