use serde::{Serialize, Serializer};

use super::FieldError;

/// How urgent a task is: 1 (low) to 5 (do now). Higher is more urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(i16);

impl Priority {
    pub const LOW: Priority = Priority(1);
    /// Names in order, index 0 is priority 1. The API accepts these or the numbers.
    pub const NAMES: [&'static str; 5] = ["low", "medium", "high", "urgent", "do-now"];

    pub fn all() -> impl Iterator<Item = Priority> {
        (1..=5).map(Priority)
    }

    pub fn from_number(n: i64) -> Result<Self, FieldError> {
        if (1..=5).contains(&n) {
            Ok(Self(n as i16))
        } else {
            Err(Self::invalid(&n.to_string()))
        }
    }

    /// Accepts `1`..`5` or a name (`low`, `medium`, `high`, `urgent`, `do-now`), case-insensitive.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        if let Ok(n) = raw.parse::<i64>() {
            return Self::from_number(n);
        }
        let lower = raw.to_ascii_lowercase().replace(['_', ' '], "-");
        Self::NAMES
            .iter()
            .position(|name| *name == lower || (lower == "donow" && *name == "do-now"))
            .map(|i| Self(i as i16 + 1))
            .ok_or_else(|| Self::invalid(raw))
    }

    /// The error for a priority that is neither `1`..`5` nor a name;
    /// `raw` is the value as the client wrote it.
    pub fn invalid(raw: &str) -> FieldError {
        FieldError::new(
            "priority",
            format!(
                "priority {raw:?} is not valid; use 1-5 or one of: {}",
                Self::NAMES.join(", ")
            ),
        )
    }

    pub fn value(self) -> i16 {
        self.0
    }

    pub fn name(self) -> &'static str {
        Self::NAMES[(self.0 - 1) as usize]
    }

    /// Human label for the UI, e.g. "Do now".
    pub fn label(self) -> &'static str {
        ["Low", "Medium", "High", "Urgent", "Do now"][(self.0 - 1) as usize]
    }
}

impl Default for Priority {
    fn default() -> Self {
        Self::LOW
    }
}

impl TryFrom<i16> for Priority {
    type Error = FieldError;
    fn try_from(n: i16) -> Result<Self, FieldError> {
        Self::from_number(n.into())
    }
}

impl Serialize for Priority {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i16(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_accepts_numbers_and_names() {
        assert_eq!(Priority::parse("3").unwrap().value(), 3);
        assert_eq!(Priority::parse("Do-Now").unwrap().value(), 5);
        assert_eq!(Priority::parse("do_now").unwrap().value(), 5);
        assert_eq!(Priority::parse("urgent").unwrap().name(), "urgent");
        assert!(Priority::parse("0").is_err());
        assert!(Priority::parse("6").is_err());
        assert!(Priority::parse("whenever").is_err());
    }
}
