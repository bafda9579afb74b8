//! Who owns tasks, and what a valid username and password are.

use std::fmt;

use super::FieldError;

/// Who acts on lists and tasks, and owns lists: an account, or everyone
/// under `AUTH_MODE=none` (stored as owner 0, whose default list is the one
/// shared list, where tasks from before accounts also wait for the first
/// account to claim them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner(i64);

impl Owner {
    pub const SHARED: Owner = Owner(0);

    pub fn user(id: UserId) -> Self {
        Self(id.0)
    }

    /// The value of the `owner` column.
    pub fn value(self) -> i64 {
        self.0
    }

    /// The account, for `created_by` and `completed_by`; `None` for the
    /// shared list's anonymous users.
    pub fn account(self) -> Option<i64> {
        (self != Self::SHARED).then_some(self.0)
    }
}

/// The id of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

/// 3 to 40 letters, digits, `.`, `_` or `-`. Unique regardless of case;
/// shown as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            return Err(FieldError::new(
                "username",
                format!(
                    "a username has {} to {} characters; this one has {chars}",
                    Self::MIN_CHARS,
                    Self::MAX_CHARS
                ),
            ));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return Err(FieldError::new(
                "username",
                format!("a username may hold letters, digits, '.', '_' and '-', not {bad:?}"),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form that must be unique: names differing only in case are one.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: at least 8 characters, long passphrases welcome, no
/// composition rules (NIST SP 800-63B). `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 8;
    /// Generous for passphrases; bounded so hashing cost stays bounded.
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: &str, field: &'static str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new(
                field,
                format!(
                    "a password needs at least {} characters; this one has {chars}",
                    Self::MIN_CHARS
                ),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("a password may have at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse(" Ada.L_1-x ").unwrap().as_str(),
            "Ada.L_1-x"
        );
        assert_eq!(Username::parse("Ada").unwrap().key(), "ada");
        for bad in ["ab", "a b c", "ada@example", "", &"x".repeat(41), "ädä"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"x".repeat(40)).is_ok());
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("short", "password").is_err());
        assert!(NewPassword::parse("eight ch", "password").is_ok());
        assert!(NewPassword::parse(&"correct horse ".repeat(20), "password").is_ok());
        assert!(NewPassword::parse(&"x".repeat(1025), "password").is_err());
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret123", "password").unwrap()),
            "NewPassword([redacted])"
        );
    }
}
