//! Sending one batch until the sink acknowledges it: the live batch loop,
//! `replay` and `backfill` share it, so they retry the same way.

use std::time::Duration;

use tokio::sync::watch;
use tracing::warn;

use crate::sink::{Record, Sink, SinkError};

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Why a batch was not acknowledged.
#[derive(Debug)]
pub enum Undelivered {
    /// `give_up_rx` turned true first (a shutdown deadline, a signal).
    GaveUp,
    /// The sink failed definitely.
    Sink(SinkError),
}

/// Sends `records` in order and returns once the sink acknowledged all of
/// them, retrying transient failures with a doubling backoff and a log line
/// each time. Stops retrying when `give_up_rx` turns true.
///
/// # Errors
///
/// [`Undelivered`] when the sink failed definitely or waiting was given up.
pub async fn send_until_acknowledged<S: Sink>(
    sink: &mut S,
    records: &[Record],
    mut give_up_rx: watch::Receiver<bool>,
) -> Result<(), Undelivered> {
    let mut backoff = Duration::from_millis(100);
    loop {
        let sent = tokio::select! {
            sent = sink.send_batch(records) => sent,
            _ = give_up_rx.wait_for(|stop| *stop) => return Err(Undelivered::GaveUp),
        };
        match sent {
            Ok(()) => return Ok(()),
            Err(error) if error.is_transient() => {
                let (sink, backoff_ms) = (sink.name(), backoff.as_millis() as u64);
                let count = records.len();
                warn!(sink, %error, records = count, backoff_ms, "sink failed; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = give_up_rx.wait_for(|stop| *stop) => return Err(Undelivered::GaveUp),
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(error) => return Err(Undelivered::Sink(error)),
        }
    }
}
