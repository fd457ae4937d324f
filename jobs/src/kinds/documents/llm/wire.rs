//! The two wire formats the fallback speaks, one request each:
//! - `openai`: `POST {base_url}/chat/completions` with `response_format:
//!   {"type": "json_object"}`, `Authorization: Bearer <key>`; the answer is
//!   `choices[0].message.content`. Any OpenAI-compatible server (vLLM,
//!   Ollama, LiteLLM, Azure's compatible endpoint) speaks it.
//! - `gemini`: `POST {base_url}/v1beta/models/{model}:generateContent` with
//!   `generationConfig.responseMimeType: application/json`,
//!   `x-goog-api-key: <key>`; the answer is `candidates[0].content.parts[0].text`.
//!
//! The body is read up to `max_response_bytes`; a status other than 2xx, a
//! timeout, an oversized or unparseable envelope is an error (the caller
//! keeps the rules' result). Neither the key nor the page text is logged.

use std::time::Duration;

use serde_json::{json, Value};

use super::{LlmSettings, Provider};

/// What the model is told: its role, the schema, and the rules that keep it honest.
pub fn instructions() -> String {
    format!(
        "You read the text of a Brazilian school report card (boletim) or transcript (histórico escolar) \
         and return ONLY a JSON object with this shape: {}. Copy values exactly as printed; grades use the \
         document's scale; write null for anything not printed; never guess or invent a value. \
         Terms are numbered from 1 (1º bimestre/trimestre/semestre). For a histórico put each school year in `years`.",
        super::answer::SCHEMA_HINT
    )
}

/// The request body for `provider`.
pub fn body(s: &LlmSettings, page_text: &str) -> Value {
    match s.provider {
        Provider::Openai => json!({
            "model": s.model,
            "temperature": 0,
            "response_format": { "type": "json_object" },
            "messages": [
                { "role": "system", "content": instructions() },
                { "role": "user", "content": page_text },
            ],
        }),
        Provider::Gemini => json!({
            "systemInstruction": { "parts": [{ "text": instructions() }] },
            "contents": [{ "role": "user", "parts": [{ "text": page_text }] }],
            "generationConfig": { "responseMimeType": "application/json", "temperature": 0 },
        }),
    }
}

/// The endpoint for `provider`.
pub fn url(s: &LlmSettings) -> String {
    let base = s.base_url.trim_end_matches('/');
    match s.provider {
        Provider::Openai => format!("{base}/chat/completions"),
        Provider::Gemini => format!("{base}/v1beta/models/{}:generateContent", s.model),
    }
}

/// The model's text out of the provider's envelope.
pub fn content(provider: Provider, envelope: &Value) -> Option<&str> {
    match provider {
        Provider::Openai => envelope
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str),
        Provider::Gemini => envelope
            .pointer("/candidates/0/content/parts/0/text")
            .and_then(Value::as_str),
    }
}

/// Sends `page_text`; `Ok` is the model's JSON text (still untrusted).
pub async fn ask(s: &LlmSettings, key: &str, page_text: &str) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(s.timeout_secs))
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    let req = http.post(url(s)).json(&body(s, page_text));
    let req = match s.provider {
        Provider::Openai => req.bearer_auth(key),
        Provider::Gemini => req.header("x-goog-api-key", key),
    };
    let mut resp = req.send().await.map_err(|e| {
        if e.is_timeout() {
            format!("no answer within {} s", s.timeout_secs)
        } else {
            format!("request failed: {}", without_url(&e))
        }
    })?;
    let status = resp.status();
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                bytes.extend_from_slice(&c);
                if bytes.len() > s.max_response_bytes {
                    return Err(format!("answer larger than {} bytes", s.max_response_bytes));
                }
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return Err(format!("no answer within {} s", s.timeout_secs))
            }
            Err(e) => return Err(format!("reading the answer: {}", without_url(&e))),
        }
    }
    if !status.is_success() {
        return Err(format!("the provider answered HTTP {}", status.as_u16()));
    }
    let envelope: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the provider's envelope is not JSON: {e}"))?;
    content(s.provider, &envelope)
        .map(str::to_string)
        .ok_or_else(|| "the provider's envelope has no message content".to_string())
}

/// reqwest's error text without the URL (a Gemini URL may carry a key in other setups).
fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(i) = e.find(" for url (") {
        e.truncate(i);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_envelopes_follow_each_provider() {
        let mut s = LlmSettings {
            base_url: "http://h/v1/".into(),
            model: "m".into(),
            ..LlmSettings::default()
        };
        assert_eq!(url(&s), "http://h/v1/chat/completions");
        assert_eq!(body(&s, "t")["response_format"]["type"], "json_object");
        let env = json!({"choices": [{"message": {"content": "{}"}}]});
        assert_eq!(content(Provider::Openai, &env), Some("{}"));
        s.provider = Provider::Gemini;
        s.base_url = "http://h".into();
        assert_eq!(url(&s), "http://h/v1beta/models/m:generateContent");
        assert_eq!(
            body(&s, "t")["generationConfig"]["responseMimeType"],
            "application/json"
        );
        let env = json!({"candidates": [{"content": {"parts": [{"text": "{}"}]}}]});
        assert_eq!(content(Provider::Gemini, &env), Some("{}"));
        assert_eq!(content(Provider::Gemini, &json!({})), None);
    }
}
