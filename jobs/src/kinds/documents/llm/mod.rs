//! The optional LLM structuring fallback (issue 14, item 3), off by default
//! (`[documents.llm] enabled = false`).
//!
//! When it is asked — precisely: the rules' result would be held for review
//! (any `review_reasons`: a doubtful field, a low OCR confidence, a subject
//! outside the lexicon...), or the rules found nothing (`no_grades`). Never
//! for `not_a_transcript` (the rules saw another kind of document: an LLM
//! must not turn an invoice into grades), nor for a file the extractor
//! refused (`not_pdf`, `encrypted`, ...).
//!
//! What it does: the pages' text (at most `max_chars`) goes to the configured
//! endpoint ([`wire`]: OpenAI-compatible chat or Gemini), and the answer is
//! untrusted input ([`answer`]): parsed against the result schema, sizes
//! capped, normalised, validated and assessed by the same rules, and held to
//! the same positive evidence. A usable answer becomes the draft, marked
//! `source: "llm"` — and **is always held for review**, even when it
//! validates fully: nothing an LLM proposed reaches the academic records
//! without a person's approval. The rules' own draft is kept beside it
//! (`rules_draft`) for the reviewer.
//!
//! Whatever goes wrong with the provider — no key, a timeout, 429/5xx,
//! garbage, a wrong schema, too few subjects — the rules' result stands and
//! the document is never failed because of the LLM; the reason is kept in
//! the result's `llm.error` and logged (without the text or the key).

pub mod answer;
pub mod wire;

use serde::{Deserialize, Serialize};

use documents::Extraction;

/// Which wire format the endpoint speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// `POST {base_url}/chat/completions` (OpenAI and compatible servers).
    #[default]
    Openai,
    /// `POST {base_url}/v1beta/models/{model}:generateContent`.
    Gemini,
}

/// `[documents.llm]`. The key itself is never in the config: only the name
/// of the environment variable holding it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    pub enabled: bool,
    pub provider: Provider,
    /// `https://api.openai.com/v1`, `https://generativelanguage.googleapis.com`, ...
    pub base_url: String,
    pub model: String,
    /// The environment variable with the API key (read at each call).
    pub api_key_env: String,
    /// One request, connection to last byte.
    pub timeout_secs: u64,
    /// Page text sent, in characters (all pages together).
    pub max_chars: usize,
    /// Largest answer read; past it the answer is dropped.
    pub max_response_bytes: usize,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            provider: Provider::Openai,
            base_url: "https://api.openai.com/v1".into(),
            model: "gpt-4o-mini".into(),
            api_key_env: "TAREFA_LLM_API_KEY".into(),
            timeout_secs: 30,
            max_chars: 20_000,
            max_response_bytes: 256 * 1024,
        }
    }
}

impl LlmSettings {
    /// What serde cannot check; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err("documents.llm.base_url: an http(s) URL".into());
        }
        if self.model.trim().is_empty() || self.model.contains('/') {
            return Err("documents.llm.model: a model name (no `/`)".into());
        }
        if !(1..=300).contains(&self.timeout_secs) {
            return Err("documents.llm.timeout_secs: between 1 and 300".into());
        }
        if !(100..=200_000).contains(&self.max_chars) {
            return Err("documents.llm.max_chars: between 100 and 200000".into());
        }
        if !(1024..=4 * 1024 * 1024).contains(&self.max_response_bytes) {
            return Err("documents.llm.max_response_bytes: between 1024 and 4194304".into());
        }
        Ok(())
    }
}

/// Asks the endpoint to structure `page_text`; `Ok` is a draft (always to be
/// reviewed, `review_reasons` filled), `Err` why the rules' result stands.
pub async fn structure(
    s: &LlmSettings,
    page_text: &[String],
    rules: &Extraction,
    scale_max: f64,
) -> Result<Extraction, String> {
    let key = std::env::var(&s.api_key_env)
        .ok()
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| format!("no API key in ${}", s.api_key_env))?;
    let text: String = page_text
        .iter()
        .enumerate()
        .map(|(i, t)| format!("--- página {} ---\n{t}\n", i + 1))
        .collect::<String>()
        .chars()
        .take(s.max_chars)
        .collect();
    if text.trim().is_empty() {
        return Err("the pages have no text to send".into());
    }
    let content = wire::ask(s, &key, &text).await?;
    answer::to_extraction(&content, rules, page_text, scale_max)
}

/// The reason every LLM draft carries: it is held whatever else it says.
pub fn always_review(s: &LlmSettings) -> documents::Warning {
    let provider = match s.provider {
        Provider::Openai => "openai",
        Provider::Gemini => "gemini",
    };
    documents::Warning {
        field: "source".into(),
        message: format!(
            "structured by the LLM fallback ({provider}, {}); an LLM's answer is always reviewed",
            s.model
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_off_and_checked_only_when_on() {
        let mut s = LlmSettings::default();
        assert!(!s.enabled);
        s.base_url = "ftp://x".into();
        assert!(s.validate().is_ok());
        s.enabled = true;
        assert!(s.validate().unwrap_err().contains("base_url"));
        s.base_url = "http://127.0.0.1:1".into();
        s.max_chars = 10;
        assert!(s.validate().unwrap_err().contains("max_chars"));
    }
}
