//! `config from-plugin`: reads the bfx-ost-streamer plugin's saved settings
//! from osTicket's `<prefix>config` table and writes the osticket-cdc
//! configuration that produces the same record bytes.
//!
//! osTicket keeps a plugin's settings as `(namespace, key, value)` rows:
//! namespace `plugin.<id>` up to osTicket 1.16, `plugin.<id>.instance.<n>`
//! from 1.17, where one plugin can have several instances. Without
//! `--plugin-id` and `--instance`, the namespaces holding the plugin's own
//! keys are found and the only one is used; when there are several, the
//! error lists them.
//!
//! Reading is two queries; [`convert`] is then a pure function of the rows
//! (see its module for how each value is read). The password of the URL is
//! never written: the file holds [`PASSWORD_PLACEHOLDER`] instead.
//!
//! Known limits: the Beanstalk stream (host, port, priority, delay, TTR,
//! tube) has no sink yet (issue #4), so those settings become comments and
//! warnings; the CSV memory option never changed the output and is dropped.

mod mapping;
mod text;

pub use mapping::{Conversion, Origin, StoredSetting, convert};

use mysql_async::prelude::Queryable;

use crate::config::SourceConfig;
use crate::source::SourceError;
use crate::source::connect::connect;

/// What the written URL holds instead of the password.
pub const PASSWORD_PLACEHOLDER: &str = "change-me";

/// Keys only this plugin stores: a namespace holding one is the plugin's.
const PLUGIN_MARKERS: [&str; 4] = [
    "tickets_creation_rec_kinesis_stream",
    "tickets_creation_tpl_sequence_srz",
    "tickets_creation_enabled",
    "stm_beanstalk_host",
];

/// MySQL's "table doesn't exist".
const ER_NO_SUCH_TABLE: u16 = 1146;

/// Which of the plugin's namespaces to read; `None` matches any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PluginSelector {
    /// The plugin's id in osTicket's plugin table (`plugin.<id>`).
    pub plugin_id: Option<u64>,
    /// The instance number on osTicket 1.17+ (`.instance.<n>`).
    pub instance: Option<u64>,
}

impl PluginSelector {
    /// Whether `namespace` is one this selector accepts.
    pub fn matches(&self, namespace: &str) -> bool {
        let Some(rest) = namespace.strip_prefix("plugin.") else {
            return false;
        };
        let (id, instance) = match rest.split_once(".instance.") {
            Some((id, instance)) => (id, instance.parse::<u64>().ok()),
            None => (rest, None),
        };
        let id = id.parse::<u64>().ok();
        self.plugin_id.is_none_or(|wanted| id == Some(wanted))
            && self.instance.is_none_or(|wanted| instance == Some(wanted))
    }
}

/// Why the plugin's settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FromPluginError {
    /// The table prefix cannot be a table name's start.
    #[error(
        "invalid --prefix `{prefix}`: osTicket's table prefix is letters, digits and `_`, \
         such as `ost_`"
    )]
    Prefix {
        /// The prefix given.
        prefix: String,
    },
    /// Connecting or querying failed.
    #[error("cannot read the plugin's settings: {0}")]
    Source(#[from] SourceError),
    /// There is no `<prefix>config` table.
    #[error(
        "table `{table}` does not exist in database `{database}`: check --prefix (osTicket's \
         table prefix, such as `ost_`) and the database in --url"
    )]
    NoTable {
        /// `<prefix>config`.
        table: String,
        /// The database of the URL.
        database: String,
    },
    /// No namespace holds the plugin's settings (or none the selector takes).
    #[error(
        "no bfx-ost-streamer settings in `{table}`{selected}: the plugin was not configured \
         there; check --url and --prefix{hint}"
    )]
    NotFound {
        /// `<prefix>config`.
        table: String,
        /// ` for plugin.3.instance.1` and the like, or empty.
        selected: String,
        /// `, --plugin-id and --instance` when they were given.
        hint: &'static str,
    },
    /// Several namespaces hold the plugin's settings.
    #[error(
        "several bfx-ost-streamer configurations in `{table}`: {namespaces}; pass --plugin-id N \
         (and --instance N on osTicket 1.17+) to choose one"
    )]
    Ambiguous {
        /// `<prefix>config`.
        table: String,
        /// The namespaces found, comma-separated.
        namespaces: String,
    },
}

/// One plugin namespace's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSettings {
    /// `plugin.<id>` or `plugin.<id>.instance.<n>`.
    pub namespace: String,
    /// Its `(key, value)` rows, in the table's order.
    pub settings: Vec<StoredSetting>,
}

/// Reads the plugin's settings from `<source.table_prefix>config` and
/// converts them; the file's URL is `url` without its password.
///
/// # Errors
///
/// [`FromPluginError`]: the connection, a missing table, or no single
/// namespace of the plugin.
pub async fn convert_from_database(
    source: &SourceConfig,
    url: &str,
    selector: PluginSelector,
) -> Result<Conversion, FromPluginError> {
    let found = read_plugin_settings(source, selector).await?;
    let origin = Origin {
        url: url_without_password(url),
        table_prefix: source.table_prefix.clone(),
        namespace: found.namespace,
    };
    Ok(convert(&found.settings, &origin))
}

/// Reads the rows of the one plugin namespace `selector` picks.
///
/// # Errors
///
/// As [`convert_from_database`].
pub async fn read_plugin_settings(
    source: &SourceConfig,
    selector: PluginSelector,
) -> Result<PluginSettings, FromPluginError> {
    let prefix = &source.table_prefix;
    let prefix_ok = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !prefix_ok {
        return Err(FromPluginError::Prefix {
            prefix: prefix.clone(),
        });
    }
    let table = format!("{prefix}config");
    let failed = |e: mysql_async::Error| match SourceError::from_mysql(e) {
        SourceError::Server { code, .. } if code == ER_NO_SUCH_TABLE => FromPluginError::NoTable {
            table: table.clone(),
            database: source.database.clone(),
        },
        other => FromPluginError::Source(other),
    };

    // The namespaces that hold the plugin's own keys.
    let mut conn = connect(source).await?;
    let markers: Vec<String> = PLUGIN_MARKERS.iter().map(|k| format!("'{k}'")).collect();
    let sql = format!(
        "SELECT DISTINCT namespace FROM `{table}` WHERE namespace LIKE 'plugin.%' \
         AND `key` IN ({}) ORDER BY namespace",
        markers.join(", ")
    );
    let namespaces: Vec<String> = conn.query(sql).await.map_err(failed)?;
    let mut candidates: Vec<String> = namespaces
        .into_iter()
        .filter(|namespace| selector.matches(namespace))
        .collect();
    let namespace = match candidates.len() {
        1 => candidates.remove(0),
        0 => return Err(not_found(table, selector)),
        _ => {
            return Err(FromPluginError::Ambiguous {
                table,
                namespaces: candidates.join(", "),
            });
        }
    };

    // Its rows; values are text, read as bytes in case they are not UTF-8.
    let sql = format!("SELECT `key`, value FROM `{table}` WHERE namespace = ? ORDER BY id");
    let rows: Vec<(String, Option<Vec<u8>>)> = conn
        .exec(sql, (namespace.as_str(),))
        .await
        .map_err(failed)?;
    let _ = conn.disconnect().await;
    let settings = rows
        .into_iter()
        .map(|(key, value)| {
            let value = value.map(|v| String::from_utf8_lossy(&v).into_owned());
            (key, value)
        })
        .collect();
    Ok(PluginSettings {
        namespace,
        settings,
    })
}

fn not_found(table: String, selector: PluginSelector) -> FromPluginError {
    let selected = match (selector.plugin_id, selector.instance) {
        (None, None) => String::new(),
        (Some(id), None) => format!(" for plugin id {id}"),
        (None, Some(n)) => format!(" for instance {n}"),
        (Some(id), Some(n)) => format!(" for plugin.{id}.instance.{n}"),
    };
    let hint = if selected.is_empty() {
        ""
    } else {
        ", --plugin-id and --instance"
    };
    FromPluginError::NotFound {
        table,
        selected,
        hint,
    }
}

/// `url` with its password, when it has one, replaced by
/// [`PASSWORD_PLACEHOLDER`].
pub fn url_without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, location)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:{PASSWORD_PLACEHOLDER}@{location}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
