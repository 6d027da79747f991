//! Records in, accepted stream out: the test records, a pipeline-like
//! delivery loop, and the reading of what Firehose accepted.
//!
//! Every record body starts with its sequence number (7 digits and a
//! space) and ends with a newline; its size is chosen per test. Reading
//! back splits moto's objects at the newlines and checks every record byte
//! for byte against the body it must have.

use std::collections::HashSet;
use std::time::Duration;

use osticket_cdc::sink::{FirehoseConfig, FirehoseSink, Record, Sink, SinkError};

use crate::moto::{Moto, delivered, test_loader};

/// Ticket ids are the sequence number plus this, so the two differ.
const TICKET_BASE: u64 = 10_000;

/// The body of record `seq`, `size` bytes long: the number, a space,
/// filler, a newline.
pub fn body(seq: usize, size: usize) -> Vec<u8> {
    let mut body = format!("{seq:07} ").into_bytes();
    body.resize(size.max(9) - 1, b'a' + (seq % 26) as u8);
    body.push(b'\n');
    body
}

/// Records `range` with sizes from `size`.
pub fn records(range: std::ops::Range<usize>, size: impl Fn(usize) -> usize) -> Vec<Record> {
    range
        .map(|seq| Record {
            ticket_id: TICKET_BASE + seq as u64,
            body: body(seq, size(seq)),
        })
        .collect()
}

/// Connects with the test loader (test credentials, fast SDK retries).
pub async fn connect(config: &FirehoseConfig) -> Result<FirehoseSink, SinkError> {
    FirehoseSink::connect_with(config.clone(), test_loader(config)).await
}

/// Sends `batch` the way the pipeline does: again and again while the error
/// is transient. Returns how many transient errors it took.
pub async fn deliver(sink: &mut FirehoseSink, batch: &[Record]) -> usize {
    for errors in 0..100 {
        match sink.send_batch(batch).await {
            Ok(()) => return errors,
            Err(error) if error.is_transient() => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(error) => panic!("definite error: {error}"),
        }
    }
    panic!("the batch was not delivered after 100 attempts");
}

/// What Firehose accepted for `bucket`: per object, the sequence numbers
/// of its records, each checked byte for byte against `size`.
pub async fn accepted(moto: &Moto, bucket: &str, size: impl Fn(usize) -> usize) -> Vec<Vec<usize>> {
    let objects = delivered(moto.addr(), bucket).await;
    let mut accepted = Vec::with_capacity(objects.len());
    for object in objects {
        assert!(
            object.ends_with(b"\n"),
            "a record was cut at an object's end"
        );
        let mut seqs = Vec::new();
        for line in object.split_inclusive(|&b| b == b'\n') {
            let seq: usize = std::str::from_utf8(&line[..7]).unwrap().parse().unwrap();
            assert!(line == body(seq, size(seq)), "record {seq} was altered");
            seqs.push(seq);
        }
        accepted.push(seqs);
    }
    accepted
}

/// The stream keeping only each record's first copy.
pub fn first_copies(stream: &[usize]) -> Vec<usize> {
    let mut seen = HashSet::new();
    stream.iter().copied().filter(|&s| seen.insert(s)).collect()
}

/// The stream keeping only each record's last copy.
pub fn last_copies(stream: &[usize]) -> Vec<usize> {
    let mut reversed: Vec<usize> = stream.to_vec();
    reversed.reverse();
    let mut last = first_copies(&reversed);
    last.reverse();
    last
}
