//! A refusal: dfh declines a step that would break the method, and says how to fix it.
//! Commands exit with code 3 on a refusal.

/// A step refused by a check; the message teaches the fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub message: String,
}

impl Refusal {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
