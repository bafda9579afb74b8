//! Lists and who they are shared with.
//!
//! Who may do what is decided here, in the statements themselves: every
//! query names the acting account (`Owner`) and reads or changes a list
//! only where that account owns it or is a member with the role the
//! change needs ([`Role`]). A list the actor cannot see is `ListNotFound`,
//! whether or not it exists. A deleted list (`deleted_at` set, kept with
//! its tasks and members until its owner restores it or the retention
//! ends) is one nobody can see.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::pool::run;
use super::tasks::now;
use super::{Store, StoreError, StoreResult};
use crate::domain::{List, ListId, ListName, Member, Owner, Role, Username};

/// The role of `$1` (the actor) on list `l`, NULL when it has none.
const ROLE_OF_ACTOR: &str = "CASE WHEN l.owner = $1 THEN 'owner' \
     ELSE (SELECT m.role FROM list_members m WHERE m.list_id = l.id AND m.user_id = $1) END";

/// The lists `$1` can see, with the actor's role and the counts; `filter`
/// narrows both halves (own lists, shared ones) by `l`.
fn select_lists(filter: &str, counts: Counts) -> String {
    let counts = match counts {
        Counts::Tasks => {
            "(SELECT COUNT(*) FROM tasks t WHERE t.list_id = l.id) AS total, \
             (SELECT COUNT(*) FROM tasks t WHERE t.list_id = l.id AND NOT t.completed) AS active"
        }
        Counts::Skipped => "CAST(0 AS BIGINT) AS total, CAST(0 AS BIGINT) AS active",
    };
    format!(
        "SELECT l.id, l.name, l.owner, l.is_default, l.position, l.created_at, l.updated_at, \
                l.role, o.username AS owner_name, \
                (SELECT COUNT(*) FROM list_members x WHERE x.list_id = l.id) AS members, \
                {counts} \
         FROM (SELECT l.*, 'owner' AS role, 0 AS shared, l.created_at AS since \
                 FROM lists l WHERE l.owner = $1 AND l.deleted_at IS NULL {filter} \
               UNION ALL \
               SELECT l.*, m.role, 1, m.added_at \
                 FROM list_members m JOIN lists l ON l.id = m.list_id \
                WHERE m.user_id = $1 AND l.owner <> $1 AND l.deleted_at IS NULL {filter}) l \
         LEFT JOIN users o ON o.id = l.owner \
         ORDER BY l.shared, CASE WHEN l.shared = 0 THEN l.position ELSE 0 END, l.since, l.id"
    )
}

/// Whether a read of lists counts their tasks: a scan of each list, which
/// the pages show and CalDAV, asked for a list on every request, does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counts {
    Tasks,
    /// `total` and `active` read as 0.
    Skipped,
}

#[derive(FromRow)]
struct ListRow {
    id: i64,
    name: String,
    owner: i64,
    is_default: bool,
    position: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    role: String,
    owner_name: Option<String>,
    members: i64,
    total: i64,
    active: i64,
}

impl From<ListRow> for List {
    fn from(row: ListRow) -> Self {
        List {
            id: ListId(row.id),
            name: ListName::stored(row.name),
            role: if row.role == "owner" {
                Role::Owner
            } else {
                // The CHECK constraint keeps member roles to these two.
                Role::member(&row.role).unwrap_or(Role::Viewer)
            },
            owner: row
                .owner_name
                .filter(|_| row.owner != Owner::SHARED.value()),
            is_default: row.is_default,
            position: row.position,
            members: row.members,
            total: row.total,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(FromRow)]
struct MemberRow {
    username: String,
    role: String,
    added_at: DateTime<Utc>,
}

impl Store {
    /// The list `owner`'s plain task routes (`/api/todos`, the first page)
    /// work on. It never changes, so it is looked up once per process.
    pub async fn default_list(&self, owner: Owner) -> StoreResult<ListId> {
        if let Some(list) = self.default_lists.get(owner) {
            return Ok(list);
        }
        let found: Option<i64> = run!(self, "failed to find the default list", |pool| {
            sqlx::query_scalar("SELECT id FROM lists WHERE owner = $1 AND is_default")
                .bind(owner.value())
                .fetch_optional(pool)
        })?;
        let list = match found {
            Some(id) => ListId(id),
            None => self.create_default_list(owner).await?,
        };
        self.default_lists.put(owner, list);
        Ok(list)
    }

    /// Makes `owner`'s default list; a concurrent maker wins harmlessly.
    async fn create_default_list(&self, owner: Owner) -> StoreResult<ListId> {
        let _write = self.write_guard().await;
        let now = now();
        run!(self, "failed to create the default list", |pool| async {
            sqlx::query(
                "INSERT INTO lists (owner, name, position, is_default, created_at, updated_at) \
                 SELECT $1, $2, 0, TRUE, $3, $3 \
                 WHERE NOT EXISTS (SELECT 1 FROM lists WHERE owner = $1 AND is_default)",
            )
            .bind(owner.value())
            .bind(ListName::DEFAULT)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query_scalar("SELECT id FROM lists WHERE owner = $1 AND is_default")
                .bind(owner.value())
                .fetch_one(pool)
                .await
                .map(ListId)
        })
    }

    /// Every list `actor` can see: its own in its order, then those shared
    /// with it.
    pub async fn lists(&self, actor: Owner) -> StoreResult<Vec<List>> {
        self.lists_counted(actor, Counts::Tasks).await
    }

    /// [`Store::lists`] without counting each list's tasks: `total` and
    /// `active` are 0. For front ends that do not show them (CalDAV).
    pub async fn lists_uncounted(&self, actor: Owner) -> StoreResult<Vec<List>> {
        self.lists_counted(actor, Counts::Skipped).await
    }

    async fn lists_counted(&self, actor: Owner, counts: Counts) -> StoreResult<Vec<List>> {
        let rows: Vec<ListRow> = run!(self, "failed to read lists", |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(select_lists("", counts)))
                .bind(actor.value())
                .fetch_all(pool)
        })?;
        Ok(rows.into_iter().map(List::from).collect())
    }

    /// One list as `actor` sees it; `ListNotFound` if it cannot.
    pub async fn list(&self, actor: Owner, id: ListId) -> StoreResult<List> {
        self.list_counted(actor, id, Counts::Tasks).await
    }

    /// [`Store::list`] without counting its tasks: `total` and `active`
    /// are 0. For front ends that do not show them (CalDAV), where a count
    /// would scan the list on every request.
    pub async fn list_uncounted(&self, actor: Owner, id: ListId) -> StoreResult<List> {
        self.list_counted(actor, id, Counts::Skipped).await
    }

    async fn list_counted(&self, actor: Owner, id: ListId, counts: Counts) -> StoreResult<List> {
        let row: Option<ListRow> = run!(self, "failed to read a list", |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(select_lists("AND l.id = $2", counts)))
                .bind(actor.value())
                .bind(id.0)
                .fetch_optional(pool)
        })?;
        row.map(List::from).ok_or(StoreError::ListNotFound(id.0))
    }

    /// `actor`'s role on a list; `ListNotFound` if it has none, or the
    /// list is deleted. One indexed lookup, for routes that check before
    /// they act.
    pub async fn role(&self, actor: Owner, id: ListId) -> StoreResult<Role> {
        match self.role_even_if_deleted(actor, id).await? {
            Some((role, None)) => Ok(role),
            _ => Err(StoreError::ListNotFound(id.0)),
        }
    }

    /// `actor`'s role on a list, and when it was deleted if it was: for
    /// telling someone why a restore cannot be done.
    pub(super) async fn role_even_if_deleted(
        &self,
        actor: Owner,
        id: ListId,
    ) -> StoreResult<Option<(Role, Option<DateTime<Utc>>)>> {
        let found: Option<(Option<String>, Option<DateTime<Utc>>)> =
            run!(self, "failed to check access to a list", |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {ROLE_OF_ACTOR}, l.deleted_at FROM lists l WHERE l.id = $2"
                )))
                .bind(actor.value())
                .bind(id.0)
                .fetch_optional(pool)
            })?;
        let Some((Some(role), deleted_at)) = found else {
            return Ok(None);
        };
        let role = match role.as_str() {
            "owner" => Role::Owner,
            member => Role::member(member).unwrap_or(Role::Viewer),
        };
        Ok(Some((role, deleted_at)))
    }

    /// `actor`'s role on a list, refused unless it allows `needed`.
    pub async fn require(&self, actor: Owner, id: ListId, needed: Need) -> StoreResult<Role> {
        let role = self.role(actor, id).await?;
        needed.check(id, role)
    }

    /// A new list of `actor`'s, after its others, if it owns fewer than
    /// `list_limit`; deleted lists past it make room (`make_room_for_a_list`).
    pub async fn create_list(&self, actor: Owner, name: &ListName) -> StoreResult<List> {
        let id: i64 = {
            let _write = self.write_guard().await;
            self.make_room_for_a_list(actor).await?;
            let now = now();
            run!(self, "failed to create a list", |pool| {
                sqlx::query_scalar(
                    "INSERT INTO lists (owner, name, position, is_default, created_at, updated_at) \
                     VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM lists WHERE owner = $1), \
                             FALSE, $3, $3) RETURNING id",
                )
                .bind(actor.value())
                .bind(name.as_str())
                .bind(now)
                .fetch_one(pool)
            })?
        };
        self.list(actor, ListId(id)).await
    }

    /// How many lists `owner` has, and how many of them are deleted (kept
    /// for undo).
    pub(super) async fn owned_lists(&self, owner: Owner) -> StoreResult<(u64, u64)> {
        let (all, deleted): (i64, i64) = run!(self, "failed to count lists", |pool| {
            sqlx::query_as("SELECT COUNT(*), COUNT(deleted_at) FROM lists WHERE owner = $1")
                .bind(owner.value())
                .fetch_one(pool)
        })?;
        Ok((all as u64, deleted as u64))
    }

    /// Refuses a new list to an owner with `list_limit` lists that are not
    /// deleted. Deleted ones count too, so that deleting and making lists
    /// cannot pile them up; rather than refuse for those, it purges the
    /// owner's oldest deleted lists (with their tasks) to make room: going
    /// on past the limit gives up their undo. Called with the write turn
    /// held. Creates that race past the check can take an owner one or two
    /// over, as with tasks: a limit against runaway growth.
    async fn make_room_for_a_list(&self, owner: Owner) -> StoreResult<()> {
        let Some(limit) = self.list_limit else {
            return Ok(());
        };
        let (all, deleted) = self.owned_lists(owner).await?;
        if all - deleted >= limit {
            return Err(StoreError::ListLimit {
                limit,
                importing: None,
            });
        }
        let over = (all + 1).saturating_sub(limit);
        if over == 0 {
            return Ok(());
        }
        let ctx = StoreError::db;
        run!(self, |pool| async {
            let mut tx = pool
                .begin()
                .await
                .map_err(ctx("failed to start making room for a list"))?;
            let oldest: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM lists WHERE owner = $1 AND deleted_at IS NOT NULL \
                 ORDER BY deleted_at, id LIMIT $2",
            )
            .bind(owner.value())
            .bind(over as i64)
            .fetch_all(&mut *tx)
            .await
            .map_err(ctx("failed to find the oldest deleted lists"))?;
            for id in oldest {
                // Members and kept tasks go with the list (ON DELETE CASCADE).
                sqlx::query("DELETE FROM tasks WHERE list_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to purge a deleted list's tasks"))?;
                sqlx::query("DELETE FROM lists WHERE id = $1 AND deleted_at IS NOT NULL")
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(ctx("failed to purge a deleted list"))?;
            }
            tx.commit()
                .await
                .map_err(ctx("failed to commit making room for a list"))
        })
    }

    /// Renames or moves one of `actor`'s own lists.
    pub async fn update_list(
        &self,
        actor: Owner,
        id: ListId,
        name: Option<&ListName>,
        position: Option<i64>,
    ) -> StoreResult<List> {
        self.require(actor, id, Need::Manage).await?;
        {
            let _write = self.write_guard().await;
            run!(self, "failed to change a list", |pool| async {
                sqlx::query(
                    "UPDATE lists SET name = COALESCE($3, name), position = COALESCE($4, position), \
                     updated_at = $5 WHERE id = $2 AND owner = $1",
                )
                .bind(actor.value())
                .bind(id.0)
                .bind(name.map(ListName::as_str))
                .bind(position)
                .bind(now())
                .execute(pool)
                .await
                .map(|_| ())
            })?;
        }
        self.list(actor, id).await
    }

    /// Deletes one of `actor`'s own lists with its tasks: the list, its
    /// tasks and its members are kept, invisible to all, until the owner
    /// restores it ([`Store::restore_list`]) or the retention ends. The
    /// default list stays.
    pub async fn delete_list(&self, actor: Owner, id: ListId) -> StoreResult<()> {
        let list = self.list(actor, id).await?;
        Need::Manage.check(id, list.role)?;
        if list.is_default {
            return Err(StoreError::DefaultList);
        }
        let _write = self.write_guard().await;
        let deleted = run!(self, "failed to delete a list", |pool| async {
            sqlx::query(
                "UPDATE lists SET deleted_at = $3 \
                 WHERE id = $1 AND owner = $2 AND NOT is_default AND deleted_at IS NULL",
            )
            .bind(id.0)
            .bind(actor.value())
            .bind(now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if deleted == 0 {
            // Deleted in the meantime by another request of the owner's.
            return Err(StoreError::ListNotFound(id.0));
        }
        Ok(())
    }

    /// Brings back one of `actor`'s deleted lists as it was, with its
    /// tasks and members, if it was deleted within the retention period.
    /// Anyone else is told there is no such list (members cannot see a
    /// deleted list; on a list that is not deleted, a member's attempt is
    /// a 403 as for any change only the owner may make).
    pub async fn restore_list(&self, actor: Owner, id: ListId) -> StoreResult<List> {
        let since = self.kept_since();
        let restored = {
            let _write = self.write_guard().await;
            if let Some(limit) = self.list_limit {
                // Only when the limit was lowered since: deleted lists count.
                let (all, deleted) = self.owned_lists(actor).await?;
                if all - deleted >= limit {
                    return Err(StoreError::ListLimit {
                        limit,
                        importing: None,
                    });
                }
            }
            run!(self, "failed to restore a list", |pool| async {
                sqlx::query(
                    "UPDATE lists SET deleted_at = NULL, updated_at = $4 \
                     WHERE id = $1 AND owner = $2 AND deleted_at IS NOT NULL AND deleted_at >= $3",
                )
                .bind(id.0)
                .bind(actor.value())
                .bind(since)
                .bind(now())
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })?
        };
        if restored == 0 {
            return Err(match self.role_even_if_deleted(actor, id).await? {
                Some((role, None)) => match Need::Manage.check(id, role) {
                    Ok(_) => StoreError::ListNotDeleted(id.0),
                    Err(refused) => refused,
                },
                _ => StoreError::ListNotFound(id.0),
            });
        }
        self.list(actor, id).await
    }

    /// Who the list is shared with; any member may ask.
    pub async fn members(&self, actor: Owner, id: ListId) -> StoreResult<Vec<Member>> {
        self.require(actor, id, Need::Read).await?;
        let rows: Vec<MemberRow> = run!(self, "failed to read list members", |pool| {
            sqlx::query_as(
                "SELECT u.username, m.role, m.added_at FROM list_members m \
                 JOIN users u ON u.id = m.user_id WHERE m.list_id = $1 \
                 ORDER BY m.added_at, u.username_key",
            )
            .bind(id.0)
            .fetch_all(pool)
        })?;
        Ok(rows
            .into_iter()
            .map(|row| Member {
                role: Role::member(&row.role).unwrap_or(Role::Viewer),
                username: row.username,
                added_at: row.added_at,
            })
            .collect())
    }

    /// Shares one of `actor`'s lists with the account named `username`.
    pub async fn add_member(
        &self,
        actor: Owner,
        id: ListId,
        username: &Username,
        role: Role,
    ) -> StoreResult<Member> {
        self.require(actor, id, Need::Manage).await?;
        let (user, name) = self.member_account(username).await?;
        if user == actor.value() {
            return Err(StoreError::ShareWithSelf);
        }
        let added_at = now();
        let _write = self.write_guard().await;
        if let Some(limit) = self.member_limit {
            let members: i64 = run!(self, "failed to count list members", |pool| {
                sqlx::query_scalar("SELECT COUNT(*) FROM list_members WHERE list_id = $1")
                    .bind(id.0)
                    .fetch_one(pool)
            })?;
            if members as u64 >= limit {
                return Err(StoreError::MemberLimit { limit });
            }
        }
        let inserted = run!(self, "failed to share a list", |pool| async {
            sqlx::query(
                "INSERT INTO list_members (list_id, user_id, role, added_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (list_id, user_id) DO NOTHING",
            )
            .bind(id.0)
            .bind(user)
            .bind(role.as_str())
            .bind(added_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if inserted == 0 {
            return Err(StoreError::AlreadyMember(username.as_str().to_owned()));
        }
        Ok(Member {
            username: name,
            role,
            added_at,
        })
    }

    /// Changes a member's role on one of `actor`'s lists.
    pub async fn set_member_role(
        &self,
        actor: Owner,
        id: ListId,
        username: &Username,
        role: Role,
    ) -> StoreResult<Member> {
        self.require(actor, id, Need::Manage).await?;
        let _write = self.write_guard().await;
        let row: Option<MemberRow> = run!(self, "failed to change a member's role", |pool| {
            sqlx::query_as(
                "UPDATE list_members SET role = $3 WHERE list_id = $1 \
                   AND user_id = (SELECT id FROM users WHERE username_key = $2) \
                 RETURNING (SELECT username FROM users WHERE id = list_members.user_id) AS username, \
                           role, added_at",
            )
            .bind(id.0)
            .bind(username.key())
            .bind(role.as_str())
            .fetch_optional(pool)
        })?;
        let row = row.ok_or_else(|| StoreError::MemberNotFound(username.as_str().to_owned()))?;
        Ok(Member {
            username: row.username,
            role,
            added_at: row.added_at,
        })
    }

    /// Takes a member off a list: the owner removing anyone, or a member
    /// leaving.
    pub async fn remove_member(
        &self,
        actor: Owner,
        id: ListId,
        username: &Username,
    ) -> StoreResult<()> {
        let role = self.role(actor, id).await?;
        let leaving = self
            .username_of(actor.value())
            .await
            .is_ok_and(|own| own.eq_ignore_ascii_case(username.as_str()));
        if !leaving {
            Need::Manage.check(id, role)?;
        }
        let _write = self.write_guard().await;
        let removed = run!(self, "failed to remove a member", |pool| async {
            sqlx::query(
                "DELETE FROM list_members WHERE list_id = $1 \
                   AND user_id = (SELECT id FROM users WHERE username_key = $2)",
            )
            .bind(id.0)
            .bind(username.key())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if removed == 0 {
            return Err(StoreError::MemberNotFound(username.as_str().to_owned()));
        }
        Ok(())
    }

    /// The id of the account a list is to be shared with, and its
    /// username as the account writes it.
    async fn member_account(&self, username: &Username) -> StoreResult<(i64, String)> {
        let found: Option<(i64, String)> = run!(self, "failed to look up an account", |pool| {
            sqlx::query_as("SELECT id, username FROM users WHERE username_key = $1")
                .bind(username.key())
                .fetch_optional(pool)
        })?;
        found.ok_or_else(|| StoreError::UnknownUser(username.as_str().to_owned()))
    }

    async fn username_of(&self, user: i64) -> StoreResult<String> {
        let name: Option<String> = run!(self, "failed to look up an account", |pool| {
            sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(pool)
        })?;
        name.ok_or_else(|| StoreError::UnknownUser(user.to_string()))
    }
}

/// What an action needs of the actor's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    ChangeTasks,
    Manage,
}

impl Need {
    /// `role` on list `list`, or the refusal (403) when it does not allow
    /// this: the one place a role is held to what an action needs.
    pub fn check(self, list: ListId, role: Role) -> StoreResult<Role> {
        let allowed = match self {
            Need::Read => true,
            Need::ChangeTasks => role.may_change_tasks(),
            Need::Manage => role.may_manage(),
        };
        if allowed {
            Ok(role)
        } else {
            Err(StoreError::NotAllowed {
                list: list.0,
                role,
                needed: self,
            })
        }
    }
}

/// Default lists, remembered per owner: they are made with the account
/// and never change or go while it exists.
#[derive(Default)]
pub(super) struct DefaultLists(std::sync::Mutex<std::collections::HashMap<Owner, ListId>>);

impl DefaultLists {
    /// Bounds the memory many accounts can take; a full map starts over.
    const MAX_ENTRIES: usize = 100_000;

    fn get(&self, owner: Owner) -> Option<ListId> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&owner).copied()
    }

    fn put(&self, owner: Owner, list: ListId) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::MAX_ENTRIES {
            map.clear();
        }
        map.insert(owner, list);
    }

    /// An account that is gone takes its entry with it.
    pub(super) fn forget(&self, owner: Owner) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&owner);
    }
}
