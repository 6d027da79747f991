//! Blocking writes on tokio's blocking pool, one at a time, that survive the
//! caller's future being dropped.
//!
//! The local sinks write with `std::io` on the blocking pool rather than
//! through `tokio::fs` or `tokio::io::stdout`: those buffer a write and finish
//! it in the background, which hides which bytes reached the file when an
//! error surfaces, while a blocking `write_all` followed by `sync_data` says
//! exactly that. A batch is framed into one buffer first, so each batch costs
//! one hop to the pool.
//!
//! A write cannot be cancelled once started. If the future awaiting it is
//! dropped (a shutdown deadline), the task keeps running; the next call waits
//! for it before starting its own, so writes never overlap or reorder.

use tokio::task::JoinHandle;

use super::SinkError;

/// The slot of the one blocking write a sink may have in flight.
#[derive(Debug)]
pub(super) struct BlockingWrite<T> {
    /// The write started by the last call; still here when that call's
    /// future was dropped before the write finished.
    in_flight: Option<JoinHandle<T>>,
}

impl<T: Send + 'static> BlockingWrite<T> {
    /// An empty slot.
    pub(super) fn new() -> Self {
        Self { in_flight: None }
    }

    /// Waits for a write left behind by a dropped call, discarding its
    /// result; true when there was one.
    pub(super) async fn settle(&mut self) -> bool {
        let Some(handle) = self.in_flight.as_mut() else {
            return false;
        };
        let _ = handle.await;
        self.in_flight = None;
        true
    }

    /// Runs `write` on the blocking pool after any earlier write finished,
    /// and returns its result.
    ///
    /// # Errors
    ///
    /// [`SinkError::Aborted`] (naming `sink`) when the runtime shut down
    /// before the write ran.
    ///
    /// # Panics
    ///
    /// When `write` panics, the panic continues in the caller.
    pub(super) async fn run(
        &mut self,
        sink: &'static str,
        write: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, SinkError> {
        self.settle().await;
        let handle = self.in_flight.insert(tokio::task::spawn_blocking(write));
        let joined = handle.await;
        self.in_flight = None;
        match joined {
            Ok(value) => Ok(value),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Err(SinkError::Aborted { sink }),
        }
    }
}
