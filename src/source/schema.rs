//! Table schemas: which tables matter and what their columns are called.
//!
//! Column names come from the table map's optional metadata when the server
//! logs it (`binlog_row_metadata=FULL`: MySQL 8.0.1+, MariaDB 10.5+), so they
//! always describe the row images they travel with. Otherwise they come from
//! `information_schema.COLUMNS`, read when a table is first seen and again
//! after any DDL that names one of the three tables.
//!
//! Known limit (issue #2): without `binlog_row_metadata=FULL`, rows written
//! before an `ALTER TABLE` but read after it (a connector catching up across
//! the ALTER) are described by the new schema. The column count check turns
//! most such mismatches into a definite error; `doctor` recommends FULL.

use mysql_async::prelude::Queryable;
use mysql_common::binlog::events::{OptionalMetaExtractor, OptionalMetadataField, TableMapEvent};
use mysql_common::constants::ColumnType;

use super::SourceError;

/// The three tables the connector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableRole {
    /// `<prefix>ticket`.
    Ticket,
    /// `<prefix>department`.
    Department,
    /// `<prefix>help_topic`.
    Topic,
}

/// What the decoder needs to know about one column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// Numeric and `UNSIGNED`.
    pub unsigned: bool,
    /// The labels of an ENUM column, in declaration order.
    pub enum_labels: Vec<String>,
}

/// The names of the three tables under the configured prefix.
#[derive(Debug, Clone)]
pub struct TableNames {
    /// osTicket's database.
    pub database: String,
    /// `<prefix>ticket`.
    pub ticket: String,
    /// `<prefix>department`.
    pub department: String,
    /// `<prefix>help_topic`.
    pub topic: String,
}

impl TableNames {
    /// The names for `prefix` in `database`.
    pub fn new(database: &str, prefix: &str) -> Self {
        Self {
            database: database.to_owned(),
            ticket: format!("{prefix}ticket"),
            department: format!("{prefix}department"),
            topic: format!("{prefix}help_topic"),
        }
    }

    /// The role of `database.table`, if it is one of the three. Names match
    /// exactly: `ost_ticket__cdata` and `ost_ticket_status` are not tickets.
    pub fn role(&self, database: &[u8], table: &[u8]) -> Option<TableRole> {
        if database != self.database.as_bytes() {
            return None;
        }
        [
            (&self.ticket, TableRole::Ticket),
            (&self.department, TableRole::Department),
            (&self.topic, TableRole::Topic),
        ]
        .into_iter()
        .find(|(name, _)| name.as_bytes() == table)
        .map(|(_, role)| role)
    }

    /// All three, with their roles.
    pub fn all(&self) -> [(&str, TableRole); 3] {
        [
            (&self.ticket, TableRole::Ticket),
            (&self.department, TableRole::Department),
            (&self.topic, TableRole::Topic),
        ]
    }

    /// True when a DDL statement may have changed one of the three tables:
    /// it names one of them (case-insensitively; backquotes and database
    /// qualifiers do not matter). A false positive only costs a re-read.
    pub fn touched_by_ddl(&self, sql: &str) -> bool {
        let sql = sql.to_ascii_lowercase();
        let is_ddl = ["alter", "create", "drop", "rename", "truncate"]
            .iter()
            .any(|kw| sql.trim_start().starts_with(kw));
        is_ddl
            && self
                .all()
                .iter()
                .any(|(name, _)| sql.contains(&name.to_ascii_lowercase()))
    }
}

/// Column descriptions from the table map's metadata, or `None` when the
/// server did not log column names.
pub fn columns_from_table_map(tme: &TableMapEvent<'_>) -> Option<Vec<ColumnInfo>> {
    let extractor = OptionalMetaExtractor::new(tme.iter_optional_meta()).ok()?;
    let names: Vec<String> = extractor
        .iter_column_name()
        .map(|n| n.map(|n| n.name().into_owned()))
        .collect::<Result<_, _>>()
        .ok()?;
    let count = tme.columns_count() as usize;
    if names.len() != count {
        return None;
    }

    let mut enum_values: Vec<Vec<String>> = Vec::new();
    for field in tme.iter_optional_meta().flatten() {
        if let OptionalMetadataField::EnumStrValue(values) = field {
            for column in values.iter_values().flatten() {
                enum_values.push(
                    column
                        .values()
                        .iter()
                        .map(|v| v.value().into_owned())
                        .collect(),
                );
            }
        }
    }

    let mut signedness = extractor.iter_signedness();
    let mut enums = enum_values.into_iter();
    let columns = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let ty = tme.get_column_type(i).ok().flatten();
            let unsigned =
                ty.is_some_and(|t| t.is_numeric_type()) && signedness.next().unwrap_or(false);
            let enum_labels = match ty {
                Some(ColumnType::MYSQL_TYPE_ENUM) => enums.next().unwrap_or_default(),
                _ => Vec::new(),
            };
            ColumnInfo {
                name,
                unsigned,
                enum_labels,
            }
        })
        .collect();
    Some(columns)
}

/// Column descriptions from `information_schema`, in ordinal order.
///
/// # Errors
///
/// [`SourceError::Connection`] when the query fails (transient), and a
/// definite [`SourceError::Schema`] when the table does not exist.
pub async fn columns_from_server(
    conn: &mut mysql_async::Conn,
    database: &str,
    table: &str,
) -> Result<Vec<ColumnInfo>, SourceError> {
    let rows: Vec<(String, String)> = conn
        .exec(
            "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        .await
        .map_err(SourceError::from_mysql)?;
    if rows.is_empty() {
        return Err(SourceError::Schema(format!(
            "table {database}.{table} does not exist or the connector's user cannot see it; \
             check source.table_prefix and grant SELECT on it"
        )));
    }
    Ok(rows
        .into_iter()
        .map(|(name, column_type)| {
            let lower = column_type.to_ascii_lowercase();
            ColumnInfo {
                name,
                unsigned: lower.contains("unsigned"),
                enum_labels: if lower.starts_with("enum(") {
                    enum_labels(&column_type)
                } else {
                    vec![]
                },
            }
        })
        .collect())
}

/// The labels of `enum('a','b''c')`, unquoted.
fn enum_labels(column_type: &str) -> Vec<String> {
    let inner = column_type
        .get(5..column_type.len().saturating_sub(1))
        .unwrap_or_default();
    let mut labels = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut label = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    label.push('\'');
                }
                '\'' => break,
                '\\' => label.extend(chars.next()),
                c => label.push(c),
            }
        }
        labels.push(label);
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_match_exact_names_only() {
        let names = TableNames::new("osticket", "ost_");
        assert_eq!(
            names.role(b"osticket", b"ost_ticket"),
            Some(TableRole::Ticket)
        );
        assert_eq!(
            names.role(b"osticket", b"ost_help_topic"),
            Some(TableRole::Topic)
        );
        assert_eq!(names.role(b"osticket", b"ost_ticket__cdata"), None);
        assert_eq!(names.role(b"osticket", b"ost_ticket_status"), None);
        assert_eq!(names.role(b"other", b"ost_ticket"), None);
    }

    #[test]
    fn ddl_detection() {
        let names = TableNames::new("osticket", "ost_");
        assert!(names.touched_by_ddl("ALTER TABLE `ost_ticket` ADD x INT FIRST"));
        assert!(names.touched_by_ddl("  alter table osticket.OST_DEPARTMENT add y int"));
        assert!(!names.touched_by_ddl("INSERT INTO ost_ticket VALUES (1)"));
        assert!(!names.touched_by_ddl("ALTER TABLE ost_session ENGINE=InnoDB"));
    }

    #[test]
    fn enum_labels_unquote() {
        assert_eq!(
            enum_labels("enum('Web','Email','It''s','a\\'b')"),
            vec!["Web", "Email", "It's", "a'b"]
        );
    }
}
