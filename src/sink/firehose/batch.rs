//! Firehose's size limits, and how a batch of connector records is cut into
//! `PutRecordBatch` calls that respect them.
//!
//! A plan is a list of [`Call`]s over contiguous ranges of the batch; each
//! call holds one or more Firehose records ("entries"), each of which is a
//! contiguous range of connector records whose bodies are concatenated.
//! Planning is pure, so the splitting rules are tested here without AWS.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::Range;

use super::FirehoseMode;
use super::error::FirehoseError;
use crate::sink::Record;

/// Most Firehose records one `PutRecordBatch` call may carry. Source: Amazon
/// Data Firehose API Reference, `PutRecordBatch` ("up to 500 records"), and
/// the Firehose quotas page; the limit cannot be raised.
pub const MAX_RECORDS_PER_CALL: usize = 500;

/// Most bytes one `PutRecordBatch` call may carry: 4 MiB. Source: the same
/// two pages. The sink counts the records' data after base64 encoding (as it
/// travels in the JSON request), the stricter reading of the quota, so a
/// call fits whether Firehose counts before or after encoding.
pub const MAX_BYTES_PER_CALL: usize = 4 * 1024 * 1024;

/// Largest Firehose record: 1,000 KiB of data before base64 encoding.
/// Source: Amazon Data Firehose API Reference, `Record.Data` (length
/// 0 to 1,024,000) and the quotas page.
pub const MAX_RECORD_BYTES: usize = 1_000 * 1024;

/// One `PutRecordBatch` call of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Call {
    /// The connector records the call carries, as indices into the batch.
    pub records: Range<usize>,
    /// Its Firehose records, in order: each the concatenated bodies of a
    /// contiguous range of connector records.
    pub entries: Vec<Range<usize>>,
}

impl Call {
    /// Connector records in the call.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Connector records acknowledged when every entry before `entry` was
    /// accepted and `entry` itself was not.
    pub fn acknowledged_before(&self, entry: usize) -> usize {
        self.entries
            .get(entry)
            .map_or(self.len(), |range| range.start - self.records.start)
    }
}

/// Fails on the first record Firehose could never accept.
pub(super) fn check_record_sizes(records: &[Record]) -> Result<(), FirehoseError> {
    match records.iter().find(|r| r.body.len() > MAX_RECORD_BYTES) {
        Some(record) => Err(FirehoseError::RecordTooLarge {
            ticket_id: record.ticket_id,
            size: record.body.len(),
            max: MAX_RECORD_BYTES,
        }),
        None => Ok(()),
    }
}

/// Cuts `records[start..]` into calls for `mode`; indices refer to the
/// whole of `records`. Every record must fit in [`MAX_RECORD_BYTES`].
pub(super) fn plan_calls(records: &[Record], start: usize, mode: FirehoseMode) -> Vec<Call> {
    match mode {
        // One packed entry per call: a call is then all-or-nothing.
        FirehoseMode::Ordered => pack_entries(records, start)
            .into_iter()
            .map(|entry| Call {
                records: entry.clone(),
                entries: vec![entry],
            })
            .collect(),
        FirehoseMode::PerRecord => per_record_calls(records, start),
    }
}

/// Greedily packs contiguous records into entries of at most
/// [`MAX_RECORD_BYTES`].
fn pack_entries(records: &[Record], start: usize) -> Vec<Range<usize>> {
    let mut entries = Vec::new();
    let (mut entry_start, mut entry_bytes) = (start, 0);
    for (i, record) in records.iter().enumerate().skip(start) {
        let len = record.body.len();
        if i > entry_start && entry_bytes + len > MAX_RECORD_BYTES {
            entries.push(entry_start..i);
            (entry_start, entry_bytes) = (i, 0);
        }
        entry_bytes += len;
    }
    if entry_start < records.len() {
        entries.push(entry_start..records.len());
    }
    entries
}

/// One entry per record, calls cut at [`MAX_RECORDS_PER_CALL`] entries or
/// [`MAX_BYTES_PER_CALL`] encoded bytes.
fn per_record_calls(records: &[Record], start: usize) -> Vec<Call> {
    let mut calls = Vec::new();
    let (mut call_start, mut call_bytes) = (start, 0);
    for (i, record) in records.iter().enumerate().skip(start) {
        let len = base64_len(record.body.len());
        let full = i - call_start == MAX_RECORDS_PER_CALL || call_bytes + len > MAX_BYTES_PER_CALL;
        if i > call_start && full {
            calls.push(per_record_call(call_start..i));
            (call_start, call_bytes) = (i, 0);
        }
        call_bytes += len;
    }
    if call_start < records.len() {
        calls.push(per_record_call(call_start..records.len()));
    }
    calls
}

fn per_record_call(records: Range<usize>) -> Call {
    Call {
        entries: records.clone().map(|i| i..i + 1).collect(),
        records,
    }
}

/// Length of `len` bytes in padded base64.
fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// The bytes of one entry: the bodies of `range`, concatenated as they are
/// (the serializer already ended each with its terminator).
pub(super) fn entry_data(records: &[Record], range: Range<usize>) -> Vec<u8> {
    let records = &records[range];
    let mut data = Vec::with_capacity(records.iter().map(|r| r.body.len()).sum());
    for record in records {
        data.extend_from_slice(&record.body);
    }
    data
}

/// Identifies a batch, so a retry of the same batch can skip the records
/// already acknowledged and any other batch starts from its first record.
pub(super) fn fingerprint(records: &[Record]) -> u64 {
    let mut hasher = DefaultHasher::new();
    records.len().hash(&mut hasher);
    for record in records {
        record.ticket_id.hash(&mut hasher);
        record.body.hash(&mut hasher);
    }
    hasher.finish()
}
