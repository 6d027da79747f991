//! The [`Assembler`]: walks a transaction's changes in binlog order, keeping
//! the [`Directory`] current and turning each ticket insert into a
//! [`TicketCreated`].
//!
//! What must stay true: every change of a transaction is applied to the
//! directory, including those after its last ticket, so that the directory
//! (and the delta the checkpoint stores) matches the transaction's end
//! position.

use crate::source::{BinlogPosition, DirectoryKind, RowChange, TicketRow, Transaction};

use super::{Directory, TicketCreated};

/// Turns transactions into ticket-created events, owning the directory of
/// department and help-topic names they are joined with.
#[derive(Debug, Clone, Default)]
pub struct Assembler {
    /// Rows as of the end of the last transaction assembled.
    directory: Directory,
}

impl Assembler {
    /// An assembler starting from this directory (a snapshot, or the state a
    /// checkpoint restored).
    pub fn new(directory: Directory) -> Self {
        Self { directory }
    }

    /// The events of one transaction, one per ticket inserted, in binlog
    /// order.
    ///
    /// Department and topic changes are applied as they come, so each ticket
    /// is named with the rows as of its place in the transaction. A
    /// transaction without tickets yields nothing but may still change the
    /// directory.
    pub fn assemble(&mut self, tx: &Transaction) -> Vec<TicketCreated> {
        let mut events: Vec<TicketCreated> = Vec::new();
        for change in &tx.changes {
            match change {
                RowChange::Department(change) => {
                    self.directory.apply(DirectoryKind::Department, change);
                }
                RowChange::Topic(change) => self.directory.apply(DirectoryKind::Topic, change),
                RowChange::TicketInserted(ticket) => {
                    let ordinal = events.len() as u32;
                    events.push(self.ticket_created(tx, ticket, ordinal));
                }
            }
        }
        events
    }

    /// The directory as of the end of the last transaction assembled.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The directory, to take its delta or replace rows from a new snapshot.
    pub fn directory_mut(&mut self) -> &mut Directory {
        &mut self.directory
    }

    /// The directory, giving up the assembler.
    pub fn into_directory(self) -> Directory {
        self.directory
    }

    /// The event of a ticket read by a backfill rather than from the
    /// binlog: names as the directory has them now, `created_secs` as its
    /// time, and the pseudo position `backfill:<ticket_id>`, so its
    /// `event_id` is `backfill:<ticket_id>#0`: stable across repeated
    /// backfills, and never one a binlog insert has.
    pub fn backfilled(&self, ticket: &TicketRow, created_secs: u32) -> TicketCreated {
        let origin = Origin {
            position: BinlogPosition::new(BACKFILL_FILE, ticket.ticket_id),
            gtid: None,
            timestamp: created_secs,
        };
        self.event(&origin, ticket, 0)
    }

    fn ticket_created(&self, tx: &Transaction, ticket: &TicketRow, ordinal: u32) -> TicketCreated {
        tracing::trace!(ticket_id = ticket.ticket_id, position = %tx.end, "ticket assembled");
        let origin = Origin {
            position: tx.end.clone(),
            gtid: tx.gtid.clone(),
            timestamp: tx.timestamp,
        };
        self.event(&origin, ticket, ordinal)
    }

    fn event(&self, origin: &Origin, ticket: &TicketRow, ordinal: u32) -> TicketCreated {
        // Topic 0 is osTicket's "no topic"; it never names a row, even if
        // one with id 0 were there.
        let helptopic_label = match ticket.topic_id {
            0 => None,
            id => self.directory.full_name(DirectoryKind::Topic, id),
        };

        TicketCreated {
            datetime_complete: ticket.created.clone(),
            department_id: ticket.dept_id,
            department_name: self
                .directory
                .full_name(DirectoryKind::Department, ticket.dept_id),
            helptopic_id: ticket.topic_id,
            helptopic_label,
            ticket_id: ticket.ticket_id,
            ticket_number: ticket.number.clone(),
            source: ticket.source.clone(),
            user_id: ticket.user_id,
            position: origin.position.clone(),
            gtid: origin.gtid.clone(),
            timestamp: origin.timestamp,
            row_index: ticket.row_index,
            ordinal,
        }
    }
}

/// The file name of a backfilled event's pseudo position.
pub const BACKFILL_FILE: &str = "backfill";

/// Where an event comes from: its transaction, or a backfill.
struct Origin {
    position: BinlogPosition,
    gtid: Option<String>,
    timestamp: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{DirectoryChange, DirectoryRow, GtidSet};

    fn dept(id: u64, parent: Option<u64>, name: &str) -> RowChange {
        RowChange::Department(DirectoryChange::Upsert(DirectoryRow {
            id,
            parent,
            name: name.to_owned(),
        }))
    }

    fn topic(id: u64, parent: Option<u64>, name: &str) -> RowChange {
        RowChange::Topic(DirectoryChange::Upsert(DirectoryRow {
            id,
            parent,
            name: name.to_owned(),
        }))
    }

    fn ticket(ticket_id: u64, dept_id: u64, topic_id: u64) -> RowChange {
        RowChange::TicketInserted(TicketRow {
            ticket_id,
            number: format!("{ticket_id:06}"),
            user_id: 40 + ticket_id,
            dept_id,
            topic_id,
            source: "Web".to_owned(),
            created: "2024-01-02 03:04:05".to_owned(),
            row_index: ticket_id as u32 % 2,
        })
    }

    fn tx(pos: u64, changes: Vec<RowChange>) -> Transaction {
        Transaction {
            end: BinlogPosition::new("mysql-bin.000001", pos),
            gtid: Some(format!("0-1-{pos}")),
            gtid_state: GtidSet::default(),
            timestamp: 1_704_164_645,
            changes,
        }
    }

    /// Support (1) > Field (2); Billing (2) > Refunds (3).
    fn assembler() -> Assembler {
        let mut assembler = Assembler::default();
        assembler.assemble(&tx(
            100,
            vec![
                dept(1, None, "Support"),
                dept(2, Some(1), "Field"),
                topic(2, None, "Billing"),
                topic(3, Some(2), "Refunds"),
            ],
        ));
        assembler.directory_mut().take_delta();
        assembler
    }

    fn names(event: &TicketCreated) -> (Option<&str>, Option<&str>) {
        (
            event.department_name.as_deref(),
            event.helptopic_label.as_deref(),
        )
    }

    #[test]
    fn tickets_of_one_transaction_are_numbered_in_order() {
        let changes = vec![
            ticket(7, 1, 2),
            dept(9, None, "X"),
            ticket(8, 1, 2),
            ticket(9, 1, 0),
        ];
        let events = assembler().assemble(&tx(300, changes));
        let ordinals: Vec<u32> = events.iter().map(|e| e.ordinal).collect();
        assert_eq!(ordinals, [0, 1, 2]);
        assert_eq!(
            assembler().assemble(&tx(400, vec![ticket(10, 1, 2)]))[0].ordinal,
            0
        );
    }

    #[test]
    fn ticket_fields_come_from_the_row_and_its_transaction() {
        let events = assembler().assemble(&tx(200, vec![ticket(7, 1, 2)]));
        assert_eq!(
            events,
            [TicketCreated {
                datetime_complete: "2024-01-02 03:04:05".to_owned(),
                department_id: 1,
                department_name: Some("Support".to_owned()),
                helptopic_id: 2,
                helptopic_label: Some("Billing".to_owned()),
                ticket_id: 7,
                ticket_number: "000007".to_owned(),
                source: "Web".to_owned(),
                user_id: 47,
                position: BinlogPosition::new("mysql-bin.000001", 200),
                gtid: Some("0-1-200".to_owned()),
                timestamp: 1_704_164_645,
                row_index: 1,
                ordinal: 0,
            }]
        );
    }

    #[test]
    fn nested_names_are_full_paths() {
        let events = assembler().assemble(&tx(200, vec![ticket(7, 2, 3)]));
        assert_eq!(
            names(&events[0]),
            (Some("Support / Field"), Some("Billing / Refunds"))
        );
    }

    #[test]
    fn rename_applies_to_tickets_after_it_in_the_same_transaction_only() {
        let mut assembler = assembler();
        let events = assembler.assemble(&tx(
            200,
            vec![ticket(7, 2, 2), dept(1, None, "Help Desk"), ticket(8, 2, 2)],
        ));
        assert_eq!(
            names(&events[0]),
            (Some("Support / Field"), Some("Billing"))
        );
        assert_eq!(
            names(&events[1]),
            (Some("Help Desk / Field"), Some("Billing"))
        );

        // A rename in a later transaction leaves assembled events alone.
        assembler.assemble(&tx(300, vec![dept(2, Some(1), "Crew")]));
        assert_eq!(
            names(&events[1]),
            (Some("Help Desk / Field"), Some("Billing"))
        );
        let later = assembler.assemble(&tx(400, vec![ticket(9, 2, 0)]));
        assert_eq!(names(&later[0]), (Some("Help Desk / Crew"), None));
    }

    #[test]
    fn deleted_department_has_no_name() {
        let mut assembler = assembler();
        let delete = RowChange::Department(DirectoryChange::Delete { id: 1 });
        let events = assembler.assemble(&tx(200, vec![delete, ticket(7, 1, 2), ticket(8, 2, 2)]));
        assert_eq!(names(&events[0]), (None, Some("Billing")));
        // The child keeps its dangling parent and loses it from its name.
        assert_eq!(names(&events[1]), (Some("Field"), Some("Billing")));
    }

    #[test]
    fn topic_zero_has_no_label() {
        let mut assembler = assembler();
        let events = assembler.assemble(&tx(200, vec![topic(0, None, "Zero"), ticket(7, 1, 0)]));
        assert_eq!(events[0].helptopic_id, 0);
        assert_eq!(names(&events[0]), (Some("Support"), None));
    }

    #[test]
    fn unknown_topic_has_no_label() {
        let events = assembler().assemble(&tx(200, vec![ticket(7, 1, 99)]));
        assert_eq!(names(&events[0]), (Some("Support"), None));
    }

    #[test]
    fn reparented_topic_gets_its_new_path() {
        let mut assembler = assembler();
        let events = assembler.assemble(&tx(
            200,
            vec![
                topic(4, None, "Sales"),
                topic(3, Some(4), "Refunds"),
                ticket(7, 1, 3),
            ],
        ));
        assert_eq!(
            names(&events[0]),
            (Some("Support"), Some("Sales / Refunds"))
        );
    }

    #[test]
    fn changes_after_the_last_ticket_still_reach_the_directory_and_delta() {
        let mut assembler = assembler();
        let events =
            assembler.assemble(&tx(200, vec![ticket(7, 1, 2), topic(2, None, "Invoices")]));
        assert_eq!(names(&events[0]), (Some("Support"), Some("Billing")));
        assert_eq!(
            assembler
                .directory()
                .full_name(DirectoryKind::Topic, 2)
                .as_deref(),
            Some("Invoices")
        );
        let delta = assembler.into_directory().take_delta();
        assert_eq!(delta.len(), 1);
        assert_eq!(delta[0].0, DirectoryKind::Topic);
    }
}
