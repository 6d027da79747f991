//! Decode plans: how to read the few columns the connector needs out of the
//! row images of the three tables.
//!
//! A plan is built once per table map (the server sends one before every
//! rows event, but it only changes with DDL), from the column types in the
//! table map and the column names of [`super::schema`]. Decoding a row then
//! walks the row image once, parsing each present column with
//! `mysql_common`'s value parser and keeping only the wanted ones. The stock
//! `RowsEventData::rows()` rebuilds the column metadata for every row, which
//! costs several times more than the decoding itself.
//!
//! Columns are found by name, never by position: an `ALTER TABLE` that adds
//! a column before `dept_id` changes the plan, not the values.

use mysql_common::binlog::consts::EventType;
use mysql_common::binlog::events::{RowsEventData, TableMapEvent};
use mysql_common::binlog::value::BinlogValue;
use mysql_common::constants::ColumnType;
use mysql_common::io::ParseBuf;
use mysql_common::proto::MyDeserialize;
use mysql_common::value::Value;

use super::schema::{ColumnInfo, TableRole};
use super::{DirectoryChange, DirectoryRow, RowChange, SourceError, TicketRow};

/// One column of a table map: how to parse it and where its value goes.
#[derive(Debug, Clone)]
struct ColumnPlan {
    ty: ColumnType,
    meta: Vec<u8>,
    unsigned: bool,
    /// Index into the decoded values, for wanted columns.
    slot: Option<usize>,
}

/// The plan for one table map of one of the three tables.
#[derive(Debug, Clone)]
pub struct TablePlan {
    role: TableRole,
    /// Table name with database, for messages.
    table: String,
    columns: Vec<ColumnPlan>,
    /// Labels of the ticket's `source` ENUM, 1-based as the binlog stores it.
    source_labels: Vec<String>,
    /// Raw column types and metadata of the table map this plan was made
    /// for: a table map with the same bytes reuses the plan.
    fingerprint: Vec<u8>,
}

/// Ticket columns the event needs, in slot order.
const TICKET_COLUMNS: [&str; 7] = [
    "ticket_id",
    "number",
    "user_id",
    "dept_id",
    "topic_id",
    "source",
    "created",
];
const DEPARTMENT_COLUMNS: [&str; 3] = ["id", "pid", "name"];
const TOPIC_COLUMNS: [&str; 3] = ["topic_id", "topic_pid", "topic"];

/// The columns of a table that the connector reads (`doctor` checks them).
pub fn required_columns(role: TableRole) -> &'static [&'static str] {
    match role {
        TableRole::Ticket => &TICKET_COLUMNS,
        TableRole::Department => &DEPARTMENT_COLUMNS,
        TableRole::Topic => &TOPIC_COLUMNS,
    }
}

/// The raw column types and metadata of a table map, to compare table maps.
pub fn fingerprint(tme: &TableMapEvent<'_>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(tme.columns_count() as usize * 3);
    for i in 0..tme.columns_count() as usize {
        bytes.push(
            tme.get_raw_column_type(i)
                .ok()
                .flatten()
                .map_or(0, |t| t as u8),
        );
        let meta = tme.get_column_metadata(i).unwrap_or(&[]);
        bytes.push(meta.len() as u8);
        bytes.extend_from_slice(meta);
    }
    bytes
}

impl TablePlan {
    /// Builds the plan for `tme`, whose columns are described by `columns`
    /// (same count and order as the table map).
    ///
    /// # Errors
    ///
    /// A definite [`SourceError::Schema`] when a required column is missing
    /// or the column count disagrees with the table map.
    pub fn build(
        role: TableRole,
        tme: &TableMapEvent<'_>,
        columns: &[ColumnInfo],
    ) -> Result<Self, SourceError> {
        let table = format!("{}.{}", tme.database_name(), tme.table_name());
        let count = tme.columns_count() as usize;
        if columns.len() != count {
            return Err(SourceError::Schema(format!(
                "table {table}: the binlog has {count} columns but the schema read from the \
                 server has {}; the table was altered after these events were written \
                 (enable binlog_row_metadata=FULL so names travel with the binlog)",
                columns.len()
            )));
        }
        let wanted = required_columns(role);

        let mut plans = Vec::with_capacity(count);
        let mut found = vec![false; wanted.len()];
        let mut source_labels = Vec::new();
        for (i, info) in columns.iter().enumerate() {
            let ty = tme.get_column_type(i).ok().flatten().ok_or_else(|| {
                SourceError::Schema(format!("table {table}: column {i} has an unknown type"))
            })?;
            let slot = wanted
                .iter()
                .position(|w| info.name.eq_ignore_ascii_case(w));
            if let Some(slot) = slot {
                found[slot] = true;
            }
            if role == TableRole::Ticket && info.name.eq_ignore_ascii_case("source") {
                source_labels = info.enum_labels.clone();
            }
            let meta = tme.get_column_metadata(i).unwrap_or(&[]).to_vec();
            plans.push(ColumnPlan {
                ty,
                meta,
                unsigned: info.unsigned,
                slot,
            });
        }
        if let Some(missing) = found.iter().position(|f| !f) {
            return Err(SourceError::Schema(format!(
                "table {table} has no column `{}`, which the connector needs; check \
                 source.table_prefix and that this is an osTicket table",
                wanted[missing]
            )));
        }

        Ok(Self {
            role,
            table,
            columns: plans,
            source_labels,
            fingerprint: fingerprint(tme),
        })
    }

    /// Which of the three tables this plan reads.
    pub fn role(&self) -> TableRole {
        self.role
    }

    /// True when `fingerprint` (of a new table map) matches this plan's.
    pub fn matches(&self, fingerprint: &[u8]) -> bool {
        self.fingerprint == fingerprint
    }

    /// Decodes the changes of one rows event into `out`, in row order.
    /// Ticket updates and deletes are skipped without decoding.
    ///
    /// # Errors
    ///
    /// [`SourceError::Decode`] when the row image does not parse (a corrupt
    /// event or a plan that does not fit it).
    pub fn decode_rows(
        &self,
        rows: &RowsEventData<'_>,
        out: &mut Vec<RowChange>,
    ) -> Result<(), SourceError> {
        let kind = RowsKind::of(rows);
        if self.role == TableRole::Ticket && kind != RowsKind::Insert {
            return Ok(());
        }
        let mut buf = ParseBuf(rows.rows_data());
        let before = rows.columns_before_image();
        let after = rows.columns_after_image();
        let partial = matches!(rows, RowsEventData::PartialUpdateRowsEvent(_));
        // One buffer per image, reused for every row of the event.
        let (mut before_values, mut after_values) = (Vec::new(), Vec::new());
        let mut row_index = 0u32;
        while !buf.is_empty() {
            if let Some(present) = before {
                self.decode_image(&mut buf, present, false, &mut before_values)?;
            }
            if let Some(present) = after {
                self.decode_image(&mut buf, present, partial, &mut after_values)?;
            }
            let change = match (kind, before.is_some(), after.is_some()) {
                (RowsKind::Delete, true, _) => self.directory_delete(&before_values)?,
                (_, _, true) => self.change_from(&after_values, row_index)?,
                _ => None,
            };
            out.extend(change);
            row_index += 1;
        }
        Ok(())
    }

    /// Reads one row image into `values`: the wanted values in slot order.
    fn decode_image<'a>(
        &'a self,
        buf: &mut ParseBuf<'a>,
        present: &bitvec::slice::BitSlice<u8>,
        partial: bool,
        values: &mut Vec<Value>,
    ) -> Result<(), SourceError> {
        let corrupt = |what: &str| {
            SourceError::Decode(format!(
                "table {}: cannot decode a row image: {what}",
                self.table
            ))
        };
        if partial {
            // The shared-image options of a partial JSON update: none of the
            // three tables has JSON columns, so only the length is read.
            let _: mysql_common::misc::raw::RawInt<mysql_common::misc::raw::int::LenEnc> =
                buf.parse(()).map_err(|e| corrupt(&e.to_string()))?;
        }
        let present_count = present.count_ones();
        let nulls: &[u8] = buf
            .parse(present_count.div_ceil(8))
            .map_err(|e| corrupt(&e.to_string()))?;
        values.clear();
        values.resize(self.wanted_len(), Value::NULL);
        let mut image_index = 0;
        for (i, column) in self.columns.iter().enumerate() {
            if !present.get(i).is_some_and(|b| *b) {
                continue;
            }
            let is_null = nulls[image_index / 8] & (1 << (image_index % 8)) != 0;
            image_index += 1;
            if is_null {
                continue;
            }
            let ctx = (column.ty, column.meta.as_slice(), column.unsigned, false);
            let value = BinlogValue::deserialize(ctx, buf).map_err(|e| corrupt(&e.to_string()))?;
            if let (Some(slot), BinlogValue::Value(value)) = (column.slot, value) {
                values[slot] = value;
            }
        }
        Ok(())
    }

    fn wanted_len(&self) -> usize {
        match self.role {
            TableRole::Ticket => TICKET_COLUMNS.len(),
            TableRole::Department | TableRole::Topic => 3,
        }
    }

    fn change_from(&self, v: &[Value], row_index: u32) -> Result<Option<RowChange>, SourceError> {
        Ok(Some(match self.role {
            TableRole::Ticket => RowChange::TicketInserted(TicketRow {
                ticket_id: self.uint(&v[0], "ticket_id")?,
                number: text(&v[1]),
                user_id: self.uint(&v[2], "user_id")?,
                dept_id: self.uint(&v[3], "dept_id")?,
                topic_id: self.uint(&v[4], "topic_id")?,
                source: self.enum_label(&v[5]),
                created: datetime(&v[6]),
                row_index,
            }),
            TableRole::Department => RowChange::Department(DirectoryChange::Upsert(self.row(v)?)),
            TableRole::Topic => RowChange::Topic(DirectoryChange::Upsert(self.row(v)?)),
        }))
    }

    fn directory_delete(&self, v: &[Value]) -> Result<Option<RowChange>, SourceError> {
        let id = self.uint(&v[0], "id")?;
        Ok(match self.role {
            TableRole::Ticket => None,
            TableRole::Department => Some(RowChange::Department(DirectoryChange::Delete { id })),
            TableRole::Topic => Some(RowChange::Topic(DirectoryChange::Delete { id })),
        })
    }

    fn row(&self, v: &[Value]) -> Result<DirectoryRow, SourceError> {
        let parent = match &v[1] {
            Value::NULL => None,
            value => Some(self.uint(value, "parent")?),
        };
        Ok(DirectoryRow {
            id: self.uint(&v[0], "id")?,
            parent,
            name: text(&v[2]),
        })
    }

    fn uint(&self, value: &Value, column: &str) -> Result<u64, SourceError> {
        match value {
            Value::NULL => Ok(0),
            Value::UInt(u) => Ok(*u),
            Value::Int(i) if *i >= 0 => Ok(*i as u64),
            Value::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| self.not_a_number(column, value)),
            _ => Err(self.not_a_number(column, value)),
        }
    }

    fn not_a_number(&self, column: &str, value: &Value) -> SourceError {
        SourceError::Decode(format!(
            "table {}: column `{column}` holds {value:?}, not an unsigned integer",
            self.table
        ))
    }

    fn enum_label(&self, value: &Value) -> String {
        match value {
            Value::Int(i) if *i > 0 => self.source_labels.get(*i as usize - 1).cloned(),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
        .unwrap_or_default()
    }
}

/// A string column's text; invalid UTF-8 is kept as replacement characters
/// (osTicket's tables are utf8 or utf8mb4, so this only guards corruption).
fn text(value: &Value) -> String {
    match value {
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::NULL => String::new(),
        other => other.as_sql(true).trim_matches('\'').to_owned(),
    }
}

/// A DATETIME as MySQL prints it: `YYYY-MM-DD HH:MM:SS` (no fraction;
/// osTicket's columns have none).
fn datetime(value: &Value) -> String {
    match value {
        Value::Date(y, mo, d, h, mi, s, _) => {
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }
        other => text(other),
    }
}

/// What a rows event does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    /// Write rows: inserts.
    Insert,
    /// Update rows (full or partial).
    Update,
    /// Delete rows.
    Delete,
}

impl RowsKind {
    /// The kind of a decoded rows event.
    pub fn of(rows: &RowsEventData<'_>) -> Self {
        match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => Self::Insert,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => Self::Delete,
            _ => Self::Update,
        }
    }

    /// True for the event types that carry rows.
    pub fn is_rows_event(event_type: u8) -> bool {
        [
            EventType::WRITE_ROWS_EVENT_V1,
            EventType::UPDATE_ROWS_EVENT_V1,
            EventType::DELETE_ROWS_EVENT_V1,
            EventType::WRITE_ROWS_EVENT,
            EventType::UPDATE_ROWS_EVENT,
            EventType::DELETE_ROWS_EVENT,
            EventType::PARTIAL_UPDATE_ROWS_EVENT,
        ]
        .iter()
        .any(|t| *t as u8 == event_type)
    }
}
