//! Full names and the pending delta of [`Directory`].

use super::*;

use DirectoryKind::{Department, Topic};

fn row(id: u64, parent: Option<u64>, name: &str) -> DirectoryRow {
    DirectoryRow {
        id,
        parent,
        name: name.to_owned(),
    }
}

fn upsert(id: u64, parent: Option<u64>, name: &str) -> DirectoryChange {
    DirectoryChange::Upsert(row(id, parent, name))
}

fn departments(rows: &[(u64, Option<u64>, &str)]) -> Directory {
    Directory::from_rows(
        rows.iter()
            .map(|&(id, parent, name)| (Department, row(id, parent, name))),
    )
}

#[test]
fn top_level_name_is_the_row_name() {
    let directory = departments(&[(1, None, "Support"), (2, Some(0), "Sales")]);
    assert_eq!(
        directory.full_name(Department, 1).as_deref(),
        Some("Support")
    );
    assert_eq!(directory.full_name(Department, 2).as_deref(), Some("Sales"));
}

#[test]
fn missing_row_has_no_name() {
    let directory = departments(&[(1, None, "Support")]);
    assert_eq!(directory.full_name(Department, 9), None);
    // Kinds are separate tables: a department is not a topic.
    assert_eq!(directory.full_name(Topic, 1), None);
}

#[test]
fn nested_names_three_levels_deep() {
    let directory = departments(&[
        (3, Some(2), "Maintenance Crew"),
        (2, Some(1), "Field"),
        (1, None, "Sales"),
    ]);
    assert_eq!(
        directory.full_name(Department, 3).as_deref(),
        Some("Sales / Field / Maintenance Crew")
    );
    assert_eq!(
        directory.full_name(Department, 2).as_deref(),
        Some("Sales / Field")
    );
}

#[test]
fn chains_deeper_than_the_inline_buffer_are_complete() {
    let depth = INLINE_DEPTH as u64 + 5;
    let directory = Directory::from_rows(
        (1..=depth).map(|id| (Topic, row(id, Some(id - 1), &format!("t{id}")))),
    );
    let expected: Vec<String> = (1..=depth).map(|id| format!("t{id}")).collect();
    assert_eq!(
        directory.full_name(Topic, depth),
        Some(expected.join(SEPARATOR))
    );
}

#[test]
fn missing_parent_ends_the_walk() {
    let directory = departments(&[(3, Some(2), "Crew"), (2, Some(77), "Field")]);
    assert_eq!(
        directory.full_name(Department, 3).as_deref(),
        Some("Field / Crew")
    );
    assert_eq!(directory.full_name(Department, 2).as_deref(), Some("Field"));
}

#[test]
fn cycle_stops_before_a_row_repeats() {
    let directory = departments(&[(1, Some(2), "A"), (2, Some(1), "B"), (3, Some(1), "C")]);
    assert_eq!(directory.full_name(Department, 1).as_deref(), Some("B / A"));
    assert_eq!(directory.full_name(Department, 2).as_deref(), Some("A / B"));
    assert_eq!(
        directory.full_name(Department, 3).as_deref(),
        Some("B / A / C")
    );
}

#[test]
fn row_that_is_its_own_parent_is_a_root() {
    let directory = departments(&[(4, Some(4), "Loop")]);
    assert_eq!(directory.full_name(Department, 4).as_deref(), Some("Loop"));
}

#[test]
fn slashes_inside_names_are_kept() {
    let directory = departments(&[(1, None, "R/D"), (2, Some(1), "Parent / Child \"x\" é")]);
    assert_eq!(
        directory.full_name(Department, 2).as_deref(),
        Some("R/D / Parent / Child \"x\" é")
    );
}

#[test]
fn rename_and_reparent_change_the_name() {
    let mut directory = Directory::from_rows([
        (Topic, row(1, None, "Billing")),
        (Topic, row(2, None, "Support")),
        (Topic, row(3, Some(1), "Refunds")),
    ]);
    directory.apply(Topic, &upsert(3, Some(2), "Returns"));
    assert_eq!(
        directory.full_name(Topic, 3).as_deref(),
        Some("Support / Returns")
    );
    directory.apply(Topic, &upsert(2, None, "Help"));
    assert_eq!(
        directory.full_name(Topic, 3).as_deref(),
        Some("Help / Returns")
    );
}

#[test]
fn children_of_a_deleted_department_lose_it_from_their_names() {
    let mut directory = departments(&[
        (1, None, "Sales"),
        (2, Some(1), "Field"),
        (3, Some(2), "Crew"),
    ]);
    directory.apply(Department, &DirectoryChange::Delete { id: 2 });
    assert_eq!(directory.full_name(Department, 2), None);
    // osTicket leaves the child's `pid` dangling; the walk ends there.
    assert_eq!(
        directory.row(Department, 3).and_then(|row| row.parent),
        Some(2)
    );
    assert_eq!(directory.full_name(Department, 3).as_deref(), Some("Crew"));
}

#[test]
fn rows_lists_departments_then_topics_in_id_order() {
    let directory = Directory::from_rows([
        (Topic, row(5, None, "T5")),
        (Department, row(2, None, "D2")),
        (Topic, row(1, None, "T1")),
        (Department, row(1, None, "D1")),
    ]);
    let listed: Vec<(DirectoryKind, u64)> =
        directory.rows().map(|(kind, row)| (kind, row.id)).collect();
    assert_eq!(
        listed,
        [(Department, 1), (Department, 2), (Topic, 1), (Topic, 5)]
    );
}

#[test]
fn from_rows_leaves_nothing_pending() {
    let mut directory = departments(&[(1, None, "Support")]);
    assert!(directory.take_delta().is_empty());
}

#[test]
fn delta_keeps_order_and_coalesces_each_row_into_its_last_change() {
    let mut directory = departments(&[(1, None, "Support"), (2, None, "Sales")]);
    directory.apply(Topic, &upsert(7, None, "Billing"));
    directory.apply(Department, &upsert(2, None, "Sales EU"));
    directory.apply(Topic, &upsert(7, None, "Invoices"));
    directory.apply(Department, &DirectoryChange::Delete { id: 1 });
    directory.apply(Department, &upsert(2, Some(1), "Sales DE"));

    assert_eq!(
        directory.take_delta(),
        [
            (Topic, upsert(7, None, "Invoices")),
            (Department, upsert(2, Some(1), "Sales DE")),
            (Department, DirectoryChange::Delete { id: 1 }),
        ]
    );
    // Taken means forgotten; later changes start a new delta.
    assert!(directory.take_delta().is_empty());
    directory.apply(Topic, &DirectoryChange::Delete { id: 7 });
    assert_eq!(
        directory.take_delta(),
        [(Topic, DirectoryChange::Delete { id: 7 })]
    );
}

#[test]
fn changes_that_leave_rows_as_they_were_are_not_recorded() {
    let mut directory = departments(&[(1, None, "Support")]);
    directory.apply(Department, &upsert(1, None, "Support"));
    directory.apply(Department, &DirectoryChange::Delete { id: 9 });
    assert!(directory.take_delta().is_empty());
}

#[test]
fn replaying_the_delta_on_the_old_rows_gives_the_new_rows() {
    let mut directory = departments(&[(1, None, "Support"), (2, Some(1), "Field")]);
    let before: Vec<(DirectoryKind, DirectoryRow)> = directory
        .rows()
        .map(|(kind, row)| (kind, row.clone()))
        .collect();
    directory.apply(Department, &upsert(3, Some(2), "Crew"));
    directory.apply(Department, &DirectoryChange::Delete { id: 3 });
    directory.apply(Department, &upsert(2, None, "Field"));
    directory.apply(Topic, &upsert(1, None, "Billing"));
    directory.apply(Department, &DirectoryChange::Delete { id: 1 });

    let mut replayed = Directory::from_rows(before);
    for (kind, change) in directory.take_delta() {
        replayed.apply(kind, &change);
    }
    let rows = |directory: &Directory| -> Vec<(DirectoryKind, DirectoryRow)> {
        directory
            .rows()
            .map(|(kind, row)| (kind, row.clone()))
            .collect()
    };
    assert_eq!(rows(&replayed), rows(&directory));
}
