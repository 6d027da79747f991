//! Commands besides `run`, each a library function the command line calls:
//!
//! - [`preview`]: a sample ticket through the configured codec, every stage
//!   shown, without a database;
//! - [`from_plugin`]: the bfx-ost-streamer plugin's saved settings, read from
//!   osTicket's `<prefix>config` table, as an osticket-cdc configuration;
//! - [`checkpoint`]: where the connector stands, and moving its start;
//! - [`replay`]: a past range again, byte for byte;
//! - [`backfill`]: records for the tickets already in the database;
//! - [`doctor`]: every prerequisite of the connector checked, one line each;
//! - [`progress`]: progress bars on standard error for the long ones.
//!
//! They sit above the stages and below the command line: they use the
//! configuration, the codec and the source's connection, and nothing here
//! is used by the pipeline.

pub mod backfill;
pub mod checkpoint;
pub mod doctor;
pub mod from_plugin;
pub mod preview;
pub mod progress;
pub mod replay;

/// A server id for a command that reads the binlog beside the connector.
///
/// The server allows one binlog reader per server id: a second one with the
/// same id disconnects the first ("a slave with the same server_uuid/server_id
/// is already connected"). Commands therefore never use `source.server_id`;
/// they take a random id in the upper half of the range (2^31 to 2^32 - 1),
/// far from the small ids replicas are usually given, and different for two
/// commands running at once.
pub fn command_server_id() -> u32 {
    rand::random_range((1 << 31)..=u32::MAX)
}
