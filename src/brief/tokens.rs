//! Token counting with the o200k_base encoding (the tokenizer of current OpenAI models, and
//! a fair proxy for others). Its table is embedded in the tiktoken-rs crate, so nothing is
//! downloaded; it is parsed on first use only (about a tenth of a second) and kept.

use std::sync::OnceLock;

use tiktoken_rs::CoreBPE;

/// The name of the encoding, as reported by `dfh brief --json`.
pub const ENCODING: &str = "o200k_base";

/// The embedded table could not be read (it ships inside dfh, so this means a broken build).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot load the {ENCODING} tokenizer embedded in dfh: {0}")]
pub struct TokenizerError(String);

static ENCODER: OnceLock<Result<CoreBPE, TokenizerError>> = OnceLock::new();

/// Loads the tokenizer once; later calls return the same one.
pub fn load() -> Result<&'static CoreBPE, TokenizerError> {
    ENCODER
        .get_or_init(|| {
            tiktoken_rs::o200k_base().map_err(|error| TokenizerError(error.to_string()))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The number of tokens of `text` (special-token markers count as ordinary text).
pub fn count(text: &str) -> Result<usize, TokenizerError> {
    // Every token covers at least one byte: empty text needs no tokenizer.
    if text.is_empty() {
        return Ok(0);
    }
    Ok(load()?.encode_ordinary(text).len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_like_tiktoken() {
        // Reference counts from OpenAI's tiktoken with o200k_base.
        assert_eq!(count("hello world").unwrap(), 2);
        assert_eq!(count("").unwrap(), 0);
        assert!(
            count("<|endoftext|>").unwrap() > 1,
            "markers are plain text"
        );
    }
}
