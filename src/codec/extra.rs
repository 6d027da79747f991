//! Fields beyond the plugin's six, opt-in so that default output stays the
//! plugin's: identifiers for de-duplication and ordering, and ticket data
//! the plugin did not send. They are appended after the six, in the order
//! configured, under configurable names.
//!
//! - `event_id` is the same string every time the same ticket insert is
//!   delivered, redelivered or replayed, and differs for every other insert.
//!   It is built from the insert's transaction GTID, which replicas keep, so
//!   it survives a failover: `0-1-4711#0` (MariaDB) or
//!   `3e11fa47-71ca-11e1-9e33-c80aa9429562:23#0` (MySQL), `#` followed by
//!   the ticket's index among the transaction's inserts. Known limit: on a
//!   MySQL server without GTIDs it falls back to the binlog position,
//!   `binlog.000042:1337#0`, which another server does not share.
//! - `sequence` counts records in emission order, from 1, and is stored
//!   with the checkpoint: a redelivered record carries its first number, so
//!   a consumer can order by it and drop what it has seen.
//! - `created_at` is the binlog event time in RFC 3339 UTC
//!   (`2024-01-02T03:04:05Z`): the absolute instant, unlike the plugin's
//!   `datetime_complete`, which is the server's local wall clock.

use std::fmt;
use std::str::FromStr;

use super::value::Value;
use crate::assembly::TicketCreated;

/// A field the connector can add after the plugin's six.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtraField {
    /// `ticket_id`.
    TicketId,
    /// `number`, as users see it.
    TicketNumber,
    /// How the ticket came in (`Web`, `Email`, ...).
    Source,
    /// The ticket's user.
    UserId,
    /// The binlog event time, RFC 3339 UTC.
    CreatedAt,
    /// Stable, unique id of the ticket insert.
    EventId,
    /// Emission order, from 1.
    Sequence,
}

impl ExtraField {
    /// Every extra field, in documentation order.
    pub const ALL: [ExtraField; 7] = [
        ExtraField::TicketId,
        ExtraField::TicketNumber,
        ExtraField::Source,
        ExtraField::UserId,
        ExtraField::CreatedAt,
        ExtraField::EventId,
        ExtraField::Sequence,
    ];

    /// The configuration name, also the default field name.
    pub fn name(self) -> &'static str {
        match self {
            ExtraField::TicketId => "ticket_id",
            ExtraField::TicketNumber => "ticket_number",
            ExtraField::Source => "source",
            ExtraField::UserId => "user_id",
            ExtraField::CreatedAt => "created_at",
            ExtraField::EventId => "event_id",
            ExtraField::Sequence => "sequence",
        }
    }

    /// The field's value for `event`, the `sequence`-th record emitted.
    pub fn value(self, event: &TicketCreated, sequence: u64) -> Value {
        match self {
            ExtraField::TicketId => Value::Int(event.ticket_id as i64),
            ExtraField::TicketNumber => Value::str(event.ticket_number.clone()),
            ExtraField::Source => Value::str(event.source.clone()),
            ExtraField::UserId => Value::Int(event.user_id as i64),
            ExtraField::CreatedAt => Value::str(rfc3339_utc(event.timestamp)),
            ExtraField::EventId => Value::str(event_id(event)),
            ExtraField::Sequence => Value::Int(sequence as i64),
        }
    }
}

impl fmt::Display for ExtraField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExtraField {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ExtraField::ALL
            .into_iter()
            .find(|f| f.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = ExtraField::ALL.iter().map(|f| f.name()).collect();
                format!("one of {}", names.join(", "))
            })
    }
}

/// The stable id of a ticket insert (see the module docs).
pub fn event_id(event: &TicketCreated) -> String {
    match &event.gtid {
        Some(gtid) => format!("{gtid}#{}", event.ordinal),
        None => format!("{}#{}", event.position, event.ordinal),
    }
}

/// UTC seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339_utc(secs: u32) -> String {
    let days = i64::from(secs / 86_400);
    let rest = secs % 86_400;
    // Howard Hinnant's civil-from-days, for days since 1970-01-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        (rest / 60) % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_704_164_645), "2024-01-02T03:04:05Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(u32::MAX), "2106-02-07T06:28:15Z");
    }

    #[test]
    fn names_parse_back() {
        for field in ExtraField::ALL {
            assert_eq!(field.name().parse::<ExtraField>(), Ok(field));
        }
        assert!(
            "ticketid"
                .parse::<ExtraField>()
                .unwrap_err()
                .contains("event_id")
        );
    }
}
