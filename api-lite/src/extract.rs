//! `AppJson` and `AppQuery`: axum's extractors with our error shape. Malformed
//! JSON is a 400 `malformed_json`, a well-formed body of the wrong shape a 422
//! `invalid_body` naming the field, a body over `api.body_limit` a 413.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// JSON body in, JSON body out, errors in our shape.
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // `Bytes` honours `DefaultBodyLimit`, set from `api.body_limit` in routes/mod.rs.
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "request body is over the size limit",
                )
            } else {
                ApiError::bad_request("unreadable_body", e.body_text())
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses JSON; syntax errors are 400, shape errors 422 with the field path.
/// A string holding NUL (`\u0000`) is a 422: PostgreSQL's text and jsonb cannot
/// store it, so it would otherwise fail deep inside a handler as a 500.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if has_escaped_nul(bytes) {
        return Err(ApiError::invalid_field(
            "invalid_body",
            "body",
            "strings may not contain NUL (\\u0000)",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: Result<T, _> = serde_path_to_error::deserialize(de);
    value.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if path == "." {
                "body".to_string()
            } else {
                path
            };
            ApiError::invalid_field("invalid_body", &field, inner.to_string())
        } else {
            ApiError::bad_request(
                "malformed_json",
                format!("request body is not valid JSON: {inner}"),
            )
        }
    })
}

/// A 422 when an uploaded text (CSV, a form field) holds a NUL byte: PostgreSQL's
/// text cannot store it, so it must be refused before anything is parsed or written.
pub fn refuse_nul(bytes: &[u8], field: &str) -> Result<(), ApiError> {
    if bytes.contains(&0) {
        return Err(ApiError::invalid_field(
            "invalid_body",
            field,
            "text may not contain NUL bytes",
        ));
    }
    Ok(())
}

/// Whether the JSON text escapes a NUL character (`\u0000`) inside a string.
/// An odd run of backslashes before `u0000` makes it an escape; an even run is an
/// escaped backslash followed by the letters `u0000`. (A raw NUL byte is not JSON
/// at all and fails the parse.)
fn has_escaped_nul(bytes: &[u8]) -> bool {
    let needle = b"u0000";
    let mut from = 0;
    while let Some(at) = bytes[from..]
        .windows(needle.len())
        .position(|w| w == needle)
    {
        let i = from + at;
        let slashes = bytes[..i].iter().rev().take_while(|&&b| b == b'\\').count();
        if slashes % 2 == 1 {
            return true;
        }
        from = i + 1;
    }
    false
}

impl<T: Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Query string, errors in our shape (400 `invalid_query`).
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| AppQuery(q))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_escaped_nul_is_found_and_an_escaped_backslash_is_not() {
        assert!(has_escaped_nul(br#"{"a": "x\u0000y"}"#));
        assert!(has_escaped_nul(br#"{"a\u0000": 1}"#));
        assert!(has_escaped_nul(br#"{"a": "\\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a": "\\u0000"}"#));
        assert!(!has_escaped_nul(br#"{"a": "u0000"}"#));
    }

    #[test]
    fn a_nul_byte_in_uploaded_text_is_a_422_naming_the_field() {
        let e = refuse_nul(b"a,b\n1,\0\n", "file").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (422, "invalid_body"));
        assert_eq!(e.details["field"], "file");
        assert!(refuse_nul("nome;média\n".as_bytes(), "file").is_ok());
    }

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        n: u32,
    }

    #[test]
    fn syntax_error_is_400_and_shape_error_names_field() {
        let e = parse_json::<Body>(b"{\"n\": ").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (400, "malformed_json"));
        let e = parse_json::<Body>(b"{\"n\": \"x\"}").unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (422, "invalid_body"));
        assert_eq!(e.details["field"], "n");
    }
}
