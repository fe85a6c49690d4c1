//! Secrets kept out of dfh's own outputs: whatever dfh copies from a training log or prints
//! passes through here, and known secrets become `[redacted]`.
//!
//! A secret is (1) the value of an environment variable named in `DFH_REDACT`
//! (comma-separated names), (2) the value of a variable whose name ends in `_TOKEN`, `_KEY`,
//! `_SECRET` or `_PASSWORD`, or (3) text shaped like a well-known credential (OpenAI and
//! Anthropic `sk-` keys, GitHub, Hugging Face, GitLab, Slack and Google tokens, AWS access key
//! ids, PEM private keys, HTTP bearer tokens). Values shorter than `MIN_VALUE` characters are
//! not masked: they would mask ordinary words and numbers everywhere.

use std::borrow::Cow;
use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

/// What a secret is replaced with.
pub const MASK: &str = "[redacted]";

/// The shortest environment value that is masked.
pub const MIN_VALUE: usize = 6;

/// Name endings that mark a variable as secret.
const SECRET_SUFFIXES: &[&str] = &["_TOKEN", "_KEY", "_SECRET", "_PASSWORD"];

/// Credential shapes, one alternative each.
const TOKEN_PATTERNS: &[&str] = &[
    // OpenAI (sk-, sk-proj-) and Anthropic (sk-ant-) API keys.
    r"\bsk-[A-Za-z0-9_-]{20,}",
    // GitHub personal, OAuth, user-to-server, server-to-server and refresh tokens.
    r"\bgh[pousr]_[A-Za-z0-9]{30,}",
    r"\bgithub_pat_[A-Za-z0-9_]{22,}",
    // Hugging Face.
    r"\bhf_[A-Za-z0-9]{30,}",
    // GitLab personal access tokens.
    r"\bglpat-[A-Za-z0-9_-]{20,}",
    // AWS access key ids (long-lived and temporary).
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    // Slack bot, user, app and refresh tokens.
    r"\bxox[abeoprs]-[A-Za-z0-9-]{10,}",
    // Google API keys.
    r"\bAIza[0-9A-Za-z_-]{35}",
    // HTTP bearer tokens in printed headers or errors.
    r"(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{20,}=*",
    // PEM private keys, through their END line or, when cut off, to the end of the text.
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\z)",
];

/// The secrets of one environment, compiled into one pattern.
#[derive(Debug)]
pub struct Redactor {
    pattern: Option<Regex>,
}

impl Redactor {
    /// The redactor for `variables` (name, value), with `DFH_REDACT` read from them.
    pub fn new<I, K, V>(variables: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let variables: Vec<(String, String)> = variables
            .into_iter()
            .map(|(name, value)| (name.as_ref().to_string(), value.as_ref().to_string()))
            .collect();
        let listed: Vec<String> = variables
            .iter()
            .find(|(name, _)| name == crate::env::REDACT)
            .map(|(_, names)| {
                names
                    .split(',')
                    .map(|name| name.trim().to_string())
                    .filter(|name| !name.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut values: Vec<&str> = variables
            .iter()
            .filter(|(name, _)| listed.contains(name) || secret_name(name))
            .map(|(_, value)| value.trim())
            .filter(|value| value.chars().count() >= MIN_VALUE)
            .collect();
        // Longest first, so a value that contains another is masked whole.
        values.sort_by_key(|value| std::cmp::Reverse(value.len()));
        values.dedup();
        let alternatives: Vec<String> = values
            .iter()
            .map(|value| regex::escape(value))
            .chain(TOKEN_PATTERNS.iter().map(|pattern| pattern.to_string()))
            .collect();
        let pattern = RegexBuilder::new(&alternatives.join("|"))
            .size_limit(1 << 24)
            .build()
            .ok();
        Self { pattern }
    }

    /// The redactor of this process's environment.
    pub fn from_environment() -> Self {
        Self::new(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    /// `text` with every secret replaced by `[redacted]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.pattern {
            Some(pattern) => pattern.replace_all(text, MASK),
            // Unreachable in practice (the pattern is escaped literals and constants); masking
            // everything would hide the output, so the text passes unchanged.
            None => Cow::Borrowed(text),
        }
    }

    /// Redacts every string (and object key) inside a JSON value, in place.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if let Cow::Owned(redacted) = self.redact(text) {
                    *text = redacted;
                }
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().for_each(|item| self.redact_json(item));
            }
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut item) in entries {
                    self.redact_json(&mut item);
                    map.insert(self.redact(&key).into_owned(), item);
                }
            }
            _ => {}
        }
    }
}

/// True for a variable whose name says it holds a secret.
fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_SUFFIXES
        .iter()
        .any(|suffix| upper.ends_with(suffix) || upper == suffix[1..])
}

fn global() -> &'static Redactor {
    static REDACTOR: OnceLock<Redactor> = OnceLock::new();
    REDACTOR.get_or_init(Redactor::from_environment)
}

/// `text` with the secrets of this process's environment and known token shapes masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    global().redact(text)
}

/// As `redact`, for every string inside a JSON value.
pub fn redact_json(value: &mut serde_json::Value) {
    global().redact_json(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(variables: &[(&str, &str)]) -> Redactor {
        Redactor::new(variables.iter().copied())
    }

    #[test]
    fn values_of_listed_and_secret_named_variables_are_masked() {
        let redactor = redactor(&[
            ("DFH_REDACT", "MY_CLUSTER_PASS, OTHER"),
            ("MY_CLUSTER_PASS", "hunter2hunter2"),
            ("WANDB_API_KEY", "0123456789abcdef0123"),
            ("HF_TOKEN", "plain-token-value"),
            ("db_password", "lowercase-name-secret"),
            ("HOME", "/home/researcher"),
        ]);
        let text = "login hunter2hunter2 key=0123456789abcdef0123 t plain-token-value \
                    p lowercase-name-secret home /home/researcher";
        assert_eq!(
            redactor.redact(text),
            "login [redacted] key=[redacted] t [redacted] p [redacted] home /home/researcher"
        );
    }

    #[test]
    fn short_values_are_left_alone() {
        let redactor = redactor(&[("DFH_REDACT", "SEED"), ("SEED", "1"), ("API_KEY", "abc")]);
        assert_eq!(redactor.redact("seed 1 abc"), "seed 1 abc");
    }

    #[test]
    fn a_value_containing_another_is_masked_whole() {
        let redactor = redactor(&[("A_TOKEN", "secret-one"), ("B_TOKEN", "secret-one-two")]);
        assert_eq!(redactor.redact("x secret-one-two y"), "x [redacted] y");
    }

    #[test]
    fn common_token_shapes_are_masked_without_any_environment() {
        let redactor = redactor(&[]);
        let cases = [
            "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            "github_pat_11ABCDEFG0123456789_abcdefghijkl",
            "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            "glpat-abcdefghijklmnopqrst",
            "AKIAIOSFODNN7EXAMPLE",
            "xoxb-123456789012-abcdefghij",
            "AIzaSyA-abcdefghijklmnopqrstuvwxyz01234",
        ];
        for token in cases {
            let text = format!("error: {token} was rejected");
            assert_eq!(
                redactor.redact(&text),
                "error: [redacted] was rejected",
                "{token}"
            );
        }
        assert_eq!(
            redactor.redact("Authorization: Bearer abcdefghijklmnopqrstuvwxyz.0123"),
            "Authorization: [redacted]"
        );
    }

    #[test]
    fn private_keys_are_masked_whole_even_when_cut_off() {
        let redactor = redactor(&[]);
        let pem =
            "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAA\n-----END RSA PRIVATE KEY-----\nb";
        assert_eq!(redactor.redact(pem), "a\n[redacted]\nb");
        let cut = "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1r";
        assert_eq!(redactor.redact(cut), "a\n[redacted]");
    }

    #[test]
    fn ordinary_training_output_is_untouched() {
        let redactor = redactor(&[("HOME", "/root")]);
        let text = "step 00012 | loss: 2.5 | task-ask-long-identifier-0123456789 | val_bpb: 0.99\n\
                    Traceback (most recent call last):\n  File \"train.py\", line 3\n";
        assert_eq!(redactor.redact(text), text);
    }

    #[test]
    fn json_strings_and_keys_are_masked_and_stay_valid() {
        let redactor = redactor(&[("API_KEY", "quote\"secret\\value")]);
        let mut value = serde_json::json!({
            "cause": "bad key quote\"secret\\value",
            "list": ["ghp_abcdefghijklmnopqrstuvwxyz0123456789"],
            "quote\"secret\\value": 1,
            "number": 3,
        });
        redactor.redact_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "cause": "bad key [redacted]",
                "list": ["[redacted]"],
                "[redacted]": 1,
                "number": 3,
            })
        );
    }
}
