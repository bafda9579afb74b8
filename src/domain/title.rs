use std::fmt;

use serde::{Serialize, Serializer};

use super::FieldError;

/// A task title: trimmed, 1 to 255 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("title", "title must not be empty"));
        }
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                "title",
                format!(
                    "title is {chars} characters long; the maximum is {}",
                    Self::MAX_CHARS
                ),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                "title",
                "title must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A title read back from the store, which only ever holds titles
    /// that `parse` accepted: not checked again.
    pub fn stored(title: String) -> Self {
        Self(title)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Title {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Title> for String {
    fn from(title: Title) -> Self {
        title.0
    }
}

impl Serialize for Title {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(Title::parse("  milk ").unwrap().as_str(), "milk");
        assert_eq!(Title::parse("   ").unwrap_err().field, "title");
        assert!(Title::parse(&"é".repeat(255)).is_ok());
        let err = Title::parse(&"é".repeat(256)).unwrap_err();
        assert!(err.message.contains("256"), "{err}");
    }
}
