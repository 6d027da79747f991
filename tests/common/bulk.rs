//! Thousands of tickets quickly: the first few created one at a time the
//! osTicket way (noise, one autocommitted INSERT, follow-up UPDATEs), the
//! rest in multi-row INSERTs of varying sizes, each statement its own
//! transaction, so a stream holds both single-ticket transactions and
//! transactions of many rows, which must keep their row order.
//!
//! Ticket `i` (counted from 0) is in department `1 + i % 4` and topic
//! `i % 3` of [`super::seed_names`], created at [`created_at`]`(day, i)`:
//! one second apart, so the creation time tells a record's ticket.

use super::TestDb;

/// How many tickets [`insert_tickets`] creates one at a time first.
pub const ONE_BY_ONE: u32 = 100;

/// Rows per multi-row INSERT, taken in turn.
const STATEMENT_ROWS: [u32; 6] = [1, 37, 250, 3, 120, 500];

/// `created` of ticket `i` on `day` (`YYYY-MM-DD`): midnight plus `i`
/// seconds (`i` below 86,400).
pub fn created_at(day: &str, i: u32) -> String {
    assert!(i < 86_400, "one day of seconds");
    let (h, m, s) = (i / 3600, (i / 60) % 60, i % 60);
    format!("{day} {h:02}:{m:02}:{s:02}")
}

/// Department of ticket `i`.
pub fn department(i: u32) -> u64 {
    u64::from(1 + i % 4)
}

/// Help topic of ticket `i` (0: none).
pub fn topic(i: u32) -> u64 {
    u64::from(i % 3)
}

/// The event the connector must give ticket `i` of `day`.
pub fn event(day: &str, i: u32) -> osticket_cdc::assembly::TicketCreated {
    super::seeded_event(created_at(day, i), department(i), topic(i))
}

/// Creates tickets `0..count` of `day` in `db`: [`ONE_BY_ONE`] the osTicket
/// way, the rest in multi-row INSERTs.
pub async fn insert_tickets(db: &mut TestDb, day: &str, count: u32) {
    let single = count.min(ONE_BY_ONE);
    for i in 0..single {
        db.create_ticket(department(i), topic(i), &created_at(day, i))
            .await;
    }

    let mut next = single;
    for rows in STATEMENT_ROWS.iter().cycle() {
        if next >= count {
            break;
        }
        let end = (next + rows).min(count);
        let values: Vec<String> = (next..end)
            .map(|i| {
                format!(
                    "('{:06}', 7, 0, {}, {}, '127.0.0.1', 'Web', '{}', NOW(), NOW())",
                    i + 1,
                    department(i),
                    topic(i),
                    created_at(day, i)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO {{prefix}}ticket (number, user_id, user_email_id, dept_id, topic_id, \
             ip_address, source, created, lastupdate, updated) VALUES {}",
            values.join(", ")
        );
        db.exec(&sql).await;
        next = end;
    }
}
