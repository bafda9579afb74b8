//! Moving a task within its list: which tasks get which new `order`.

use super::Task;

/// Where a task is moved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveTarget {
    Up,
    Down,
    Before(i64),
    End,
}

/// The new `order` of each task that has to change for `id` to move to
/// `target`; `None` if `id` is not in `tasks` (which are in list order).
pub fn reorder(tasks: &[Task], id: i64, target: MoveTarget) -> Option<Vec<(i64, i64)>> {
    let from = tasks.iter().position(|t| t.id == id)?;
    let mut ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    ids.remove(from);
    let to = match target {
        MoveTarget::Up => from.saturating_sub(1),
        MoveTarget::Down => (from + 1).min(ids.len()),
        MoveTarget::End => ids.len(),
        MoveTarget::Before(other) => ids.iter().position(|i| *i == other).unwrap_or(ids.len()),
    };
    ids.insert(to, id);
    // The same values in the new sequence, made strictly increasing where
    // equal values (from imports) would leave the order to the ids.
    let mut orders: Vec<i64> = tasks.iter().map(|t| t.order).collect();
    for k in 1..orders.len() {
        if orders[k] <= orders[k - 1] {
            orders[k] = orders[k - 1] + 1;
        }
    }
    let current = |id: i64| tasks.iter().find(|t| t.id == id).map(|t| t.order);
    Some(
        ids.into_iter()
            .zip(orders)
            .filter(|(id, order)| current(*id) != Some(*order))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, Title};

    fn tasks(orders: &[(i64, i64)]) -> Vec<Task> {
        let now = chrono::Utc::now();
        orders
            .iter()
            .map(|&(id, order)| Task {
                id,
                title: Title::parse(&format!("task {id}")).unwrap(),
                priority: Priority::default(),
                completed: false,
                order,
                due: None,
                due_time: None,
                version: 1,
                created_at: now,
                updated_at: now,
                list: crate::domain::ListId(1),
                created_by: None,
                completed_by: None,
            })
            .collect()
    }

    #[test]
    fn moves_change_only_the_tasks_in_between() {
        let list = tasks(&[(1, 10), (2, 20), (3, 30), (4, 40)]);
        assert_eq!(
            reorder(&list, 3, MoveTarget::Up),
            Some(vec![(3, 20), (2, 30)])
        );
        assert_eq!(reorder(&list, 1, MoveTarget::Up), Some(vec![]));
        assert_eq!(reorder(&list, 4, MoveTarget::Down), Some(vec![]));
        assert_eq!(
            reorder(&list, 1, MoveTarget::Before(4)),
            Some(vec![(2, 10), (3, 20), (1, 30)])
        );
        assert_eq!(
            reorder(&list, 1, MoveTarget::End),
            Some(vec![(2, 10), (3, 20), (4, 30), (1, 40)])
        );
        assert_eq!(
            reorder(&list, 4, MoveTarget::Before(1)),
            Some(vec![(4, 10), (1, 20), (2, 30), (3, 40)])
        );
        assert_eq!(reorder(&list, 9, MoveTarget::Up), None);
    }

    #[test]
    fn equal_orders_are_spread_out() {
        let list = tasks(&[(1, 5), (2, 5), (3, 5)]);
        assert_eq!(
            reorder(&list, 3, MoveTarget::Up),
            Some(vec![(3, 6), (2, 7)])
        );
    }
}
