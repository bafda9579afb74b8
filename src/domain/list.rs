//! Lists of tasks, who may do what with one, and what a valid list name is.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::FieldError;

/// The id of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ListId(pub i64);

/// What the caller is to a list. The owner made it; members are added by
/// the owner as editors or viewers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Editor,
    Viewer,
}

impl Role {
    /// Adds, edits, completes, deletes and reorders the list's tasks.
    pub fn may_change_tasks(self) -> bool {
        matches!(self, Self::Owner | Self::Editor)
    }

    /// Renames, deletes or shares the list.
    pub fn may_manage(self) -> bool {
        self == Self::Owner
    }

    /// "an owner", "an editor", "a viewer".
    pub fn with_article(self) -> &'static str {
        match self {
            Self::Owner => "an owner",
            Self::Editor => "an editor",
            Self::Viewer => "a viewer",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }

    /// A role as stored (`list_members.role`) or asked for by a client;
    /// `owner` is not one that can be given.
    pub fn member(raw: &str) -> Result<Self, FieldError> {
        match raw {
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            other => Err(FieldError::new(
                "role",
                format!("role {other:?} is not valid; use \"editor\" or \"viewer\""),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A list name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListName(String);

impl ListName {
    pub const MAX_CHARS: usize = 100;
    /// What every account's first list is called.
    pub const DEFAULT: &'static str = "Tasks";

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("name", "name must not be empty"));
        }
        let chars = trimmed.chars().count();
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                "name",
                format!(
                    "name is {chars} characters long; the maximum is {}",
                    Self::MAX_CHARS
                ),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "name must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A name read back from the store, which only holds parsed names.
    pub fn stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for ListName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A list as one caller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    pub id: ListId,
    pub name: ListName,
    /// The caller's role.
    pub role: Role,
    /// The owner's username; `None` for the shared list of
    /// `AUTH_MODE=none`.
    pub owner: Option<String>,
    pub is_default: bool,
    /// Position among the owner's lists (members see shared lists after
    /// their own, in the order they were shared).
    pub position: i64,
    /// Other people the list is shared with.
    pub members: i64,
    pub total: i64,
    pub active: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Someone a list is shared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub username: String,
    pub role: Role,
    pub added_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_what_they_say() {
        assert!(Role::Owner.may_manage() && Role::Owner.may_change_tasks());
        assert!(!Role::Editor.may_manage() && Role::Editor.may_change_tasks());
        assert!(!Role::Viewer.may_manage() && !Role::Viewer.may_change_tasks());
        assert_eq!(Role::member("viewer"), Ok(Role::Viewer));
        assert_eq!(Role::member("owner").unwrap_err().field, "role");
    }

    #[test]
    fn list_names_are_trimmed_and_bounded() {
        assert_eq!(
            ListName::parse("  Groceries ").unwrap().as_str(),
            "Groceries"
        );
        assert!(ListName::parse(" ").is_err());
        assert!(ListName::parse(&"x".repeat(101)).is_err());
        assert!(ListName::parse("a\u{7}b").is_err());
    }
}
