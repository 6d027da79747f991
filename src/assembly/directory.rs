//! The department and help-topic rows as of the current binlog position, and
//! the full names built from them.
//!
//! Rows enter either all at once from a snapshot ([`Directory::from_rows`])
//! or one change at a time from the binlog ([`Directory::apply`]). Names
//! leave through [`Directory::full_name`]; the changes applied since the last
//! checkpoint leave through [`Directory::take_delta`], so the pipeline can
//! store them in the same write as the position they belong to.
//!
//! # Full names
//!
//! A full name is every ancestor's name from the root down, joined by
//! [`SEPARATOR`]: `Sales / Field / Maintenance Crew`. The walk up the tree
//! stops at a row whose parent is `None` or `0` (top level), at a parent id
//! with no row (osTicket leaves a deleted department's children pointing at
//! it), or at a parent already visited (a cycle, which osTicket's forms
//! prevent but the database does not). In each case the last row reached is
//! treated as the root. Names are joined as stored: a `/` inside a name is
//! not escaped, so a name cannot always be split back into its parts.
//!
//! Disabled and archived rows take part like any other: the connector does
//! not read those flags.
//!
//! # Invariant
//!
//! Replaying [`Directory::take_delta`]'s result, in order, on the rows of the
//! previous snapshot gives exactly [`Directory::rows`].

use std::collections::{BTreeMap, HashMap};

use crate::source::{DirectoryChange, DirectoryKind, DirectoryRow};

/// What joins the names of a row's ancestors in its full name.
pub const SEPARATOR: &str = " / ";

/// Ancestors kept on the stack while building a full name. osTicket trees are
/// a few levels deep; deeper chains spill to the heap rather than fail.
const INLINE_DEPTH: usize = 16;

/// Current department and help-topic rows, and the changes not yet taken.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// Department rows by `id`. Ordered so snapshots are written the same way
    /// every time.
    departments: BTreeMap<u64, DirectoryRow>,
    /// Help-topic rows by `topic_id`.
    topics: BTreeMap<u64, DirectoryRow>,
    /// Changes applied since the last [`Directory::take_delta`].
    delta: Delta,
}

impl Directory {
    /// A directory holding these rows, with nothing pending: the rows are
    /// taken to be stored already (they come from a snapshot or a checkpoint).
    ///
    /// A later row with the same kind and id replaces an earlier one.
    pub fn from_rows(rows: impl IntoIterator<Item = (DirectoryKind, DirectoryRow)>) -> Self {
        let mut directory = Self::default();
        for (kind, row) in rows {
            directory.table_mut(kind).insert(row.id, row);
        }
        directory
    }

    /// Applies one binlog change and records it for [`Directory::take_delta`].
    ///
    /// A change that leaves the rows as they were (an update of a column the
    /// connector does not read, such as a topic's `sort`, or a delete of a
    /// row that is not there) is not recorded: a topic rename re-sorts every
    /// topic, and those updates would otherwise fill the checkpoint.
    pub fn apply(&mut self, kind: DirectoryKind, change: &DirectoryChange) {
        let table = self.table_mut(kind);
        let changed = match change {
            DirectoryChange::Upsert(row) => table.insert(row.id, row.clone()).as_ref() != Some(row),
            DirectoryChange::Delete { id } => table.remove(id).is_some(),
        };
        if changed {
            self.delta.record(kind, change);
        }
    }

    /// The changes applied since the last call, oldest first, and forgets them.
    ///
    /// Several changes to one row are coalesced into its last change, kept at
    /// the place of its first one. Rows are independent of each other, so
    /// replaying the result in order on the previous state still gives the
    /// current one; and the order depends only on the changes applied.
    pub fn take_delta(&mut self) -> Vec<(DirectoryKind, DirectoryChange)> {
        self.delta.take()
    }

    /// Every row, departments first, each kind in id order: what a full
    /// snapshot stores.
    pub fn rows(&self) -> impl Iterator<Item = (DirectoryKind, &DirectoryRow)> {
        let departments = self
            .departments
            .values()
            .map(|row| (DirectoryKind::Department, row));
        let topics = self.topics.values().map(|row| (DirectoryKind::Topic, row));
        departments.chain(topics)
    }

    /// The row of this kind with this id, if there is one.
    pub fn row(&self, kind: DirectoryKind, id: u64) -> Option<&DirectoryRow> {
        self.table(kind).get(&id)
    }

    /// The full name of a row: its ancestors' names from the root down and
    /// its own, joined by [`SEPARATOR`]; `None` when the row does not exist.
    ///
    /// The walk up ends at a top-level row, at a parent id with no row, or
    /// before a row would be visited twice. In a cycle the row whose parent
    /// was already visited becomes the root, so each row of the cycle appears
    /// once and the asked-for row comes last: with `a` under `b` and `b`
    /// under `a`, `a`'s full name is `B / A` and `b`'s is `A / B`.
    ///
    /// Allocates only the returned string, unless the chain is deeper than
    /// 16 rows.
    pub fn full_name(&self, kind: DirectoryKind, id: u64) -> Option<String> {
        let table = self.table(kind);
        let leaf = table.get(&id)?;

        // Collect the chain leaf first. Trees are tens to hundreds of rows,
        // so walking them on every call costs little and, unlike a cache,
        // cannot go stale after a rename or re-parenting.
        let mut chain = Chain::new(leaf);
        let mut row = leaf;
        while let Some(parent_id) = row.parent.filter(|&parent| parent != 0) {
            let Some(parent) = table.get(&parent_id) else {
                break;
            };
            if chain.contains(parent_id) {
                break;
            }
            chain.push(parent);
            row = parent;
        }

        // Join root first into a string sized once.
        let names_len: usize = chain.iter().map(|row| row.name.len()).sum();
        let mut name = String::with_capacity(names_len + SEPARATOR.len() * (chain.len() - 1));
        for (depth, row) in chain.iter().rev().enumerate() {
            if depth > 0 {
                name.push_str(SEPARATOR);
            }
            name.push_str(&row.name);
        }
        Some(name)
    }

    fn table(&self, kind: DirectoryKind) -> &BTreeMap<u64, DirectoryRow> {
        match kind {
            DirectoryKind::Department => &self.departments,
            DirectoryKind::Topic => &self.topics,
        }
    }

    fn table_mut(&mut self, kind: DirectoryKind) -> &mut BTreeMap<u64, DirectoryRow> {
        match kind {
            DirectoryKind::Department => &mut self.departments,
            DirectoryKind::Topic => &mut self.topics,
        }
    }
}

/// Changes waiting for the next checkpoint, one per row.
#[derive(Debug, Clone, Default)]
struct Delta {
    /// The last change of each row, in the order rows were first changed.
    changes: Vec<(DirectoryKind, DirectoryChange)>,
    /// Where each row's change sits in `changes`.
    index: HashMap<(DirectoryKind, u64), usize>,
}

impl Delta {
    fn record(&mut self, kind: DirectoryKind, change: &DirectoryChange) {
        let id = match change {
            DirectoryChange::Upsert(row) => row.id,
            DirectoryChange::Delete { id } => *id,
        };
        match self.index.get(&(kind, id)) {
            Some(&slot) => self.changes[slot] = (kind, change.clone()),
            None => {
                self.index.insert((kind, id), self.changes.len());
                self.changes.push((kind, change.clone()));
            }
        }
    }

    fn take(&mut self) -> Vec<(DirectoryKind, DirectoryChange)> {
        self.index.clear();
        std::mem::take(&mut self.changes)
    }
}

/// A row and its ancestors, leaf first, held on the stack up to
/// [`INLINE_DEPTH`] rows so that building a name allocates nothing else.
struct Chain<'a> {
    /// The first rows of the chain; slots at `len` and beyond are filler.
    inline: [&'a DirectoryRow; INLINE_DEPTH],
    /// Rows in use, in `inline` and `spill` together.
    len: usize,
    /// Rows past `INLINE_DEPTH`; empty, and so unallocated, in practice.
    spill: Vec<&'a DirectoryRow>,
}

impl<'a> Chain<'a> {
    fn new(leaf: &'a DirectoryRow) -> Self {
        Self {
            inline: [leaf; INLINE_DEPTH],
            len: 1,
            spill: Vec::new(),
        }
    }

    fn push(&mut self, row: &'a DirectoryRow) {
        if self.len < INLINE_DEPTH {
            self.inline[self.len] = row;
        } else {
            self.spill.push(row);
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn contains(&self, id: u64) -> bool {
        self.iter().any(|row| row.id == id)
    }

    fn iter(&self) -> impl DoubleEndedIterator<Item = &'a DirectoryRow> + '_ {
        self.inline[..self.len.min(INLINE_DEPTH)]
            .iter()
            .chain(&self.spill)
            .copied()
    }
}

#[cfg(test)]
mod tests;
