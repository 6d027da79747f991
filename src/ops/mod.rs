//! Commands besides `run`, each a library function the command line calls:
//!
//! - [`preview`]: a sample ticket through the configured codec, every stage
//!   shown, without a database;
//! - [`from_plugin`]: the bfx-ost-streamer plugin's saved settings, read from
//!   osTicket's `<prefix>config` table, as an osticket-cdc configuration;
//! - [`checkpoint`]: where the connector stands, and moving its start;
//! - [`doctor`]: every prerequisite of the connector checked, one line each.
//!
//! They sit above the stages and below the command line: they use the
//! configuration, the codec and the source's connection, and nothing here
//! is used by the pipeline.

pub mod checkpoint;
pub mod doctor;
pub mod from_plugin;
pub mod preview;
