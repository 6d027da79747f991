//! A fault-injecting HTTP/1.1 proxy in front of moto, for the failures moto
//! cannot produce: throttling, server errors, partial batch failures, and
//! calls whose outcome the client never learns.
//!
//! The SDK talks plain HTTP to the proxy (its `endpoint_url`). Each
//! `PutRecordBatch` request takes the next [`Fault`] of the script (or
//! [`Fault::Pass`] once the script is empty); other requests pass through.
//! A partial failure is made honestly: only the records the fault lets
//! "succeed" are forwarded to moto, and the answer is built from moto's
//! record ids plus error entries for the rest. The proxy counts what a
//! correct sink must then resend as duplicates.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::http::{Message, exchange, read_message};

/// What the proxy does with one `PutRecordBatch` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Forward it and its answer.
    Pass,
    /// Answer HTTP 500 `InternalFailure` without forwarding.
    ServerError,
    /// Answer HTTP 400 `ThrottlingException` without forwarding.
    Throttled,
    /// Answer HTTP 400 `ServiceUnavailableException` (Firehose's "throughput
    /// exceeded") without forwarding; the SDK does not retry this one.
    Unavailable,
    /// Reject the entries at these indices (`ServiceUnavailableException`
    /// per record), forwarding only the others.
    Reject(Vec<usize>),
    /// Close the connection without forwarding or answering.
    Drop,
    /// Forward it, then close the connection without answering: delivered,
    /// but the client cannot know.
    DeliverThenDrop,
    /// Forward it, then answer nothing for this long (longer than the
    /// client's timeout) and close.
    DeliverThenStall(Duration),
}

/// What the proxy saw and did.
#[derive(Debug, Default)]
struct State {
    /// Faults for the next `PutRecordBatch` requests, in order.
    script: VecDeque<Fault>,
    /// Replaces the status in `DescribeDeliveryStream` answers.
    describe_status: Option<String>,
    /// `PutRecordBatch` requests received.
    puts: usize,
    /// Entries forwarded to moto after a rejected entry of the same call:
    /// delivered, yet a sink in `per_record` mode must send them again.
    accepted_after_rejection: usize,
    /// Calls delivered whose answer was withheld.
    withheld: usize,
}

/// A running proxy; it stops with the test's runtime.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, the sink's `endpoint_url`.
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Listens on a free port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        FaultProxy::start_on(0, upstream).await
    }

    /// Listens on `port` of 127.0.0.1 (0: a free one) and forwards to
    /// `upstream`; with no faults scripted, a plain relay.
    pub async fn start_on(port: u16, upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, upstream, Arc::clone(&shared)));
            }
        });
        FaultProxy { url, state }
    }

    /// Appends faults for the next `PutRecordBatch` requests.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.lock().unwrap().script.extend(faults);
    }

    /// Faults not used yet.
    pub fn unused_faults(&self) -> usize {
        self.state.lock().unwrap().script.len()
    }

    /// Makes `DescribeDeliveryStream` report `status`.
    pub fn report_status(&self, status: &str) {
        self.state.lock().unwrap().describe_status = Some(status.to_owned());
    }

    /// `PutRecordBatch` requests received so far.
    pub fn puts(&self) -> usize {
        self.state.lock().unwrap().puts
    }

    /// Entries delivered after a rejected entry of their call.
    pub fn accepted_after_rejection(&self) -> usize {
        self.state.lock().unwrap().accepted_after_rejection
    }

    /// Calls delivered whose answer was withheld.
    pub fn withheld(&self) -> usize {
        self.state.lock().unwrap().withheld
    }
}

/// Serves one client connection, request after request.
async fn serve(conn: TcpStream, upstream: SocketAddr, state: Arc<Mutex<State>>) {
    let (read_half, mut write_half) = conn.into_split();
    let mut reader = BufReader::new(read_half);
    while let Ok(Some(request)) = read_message(&mut reader, false).await {
        let target = request.header("x-amz-target").unwrap_or("").to_owned();
        let fault = if target.ends_with(".PutRecordBatch") {
            let mut state = state.lock().unwrap();
            state.puts += 1;
            state.script.pop_front().unwrap_or(Fault::Pass)
        } else {
            Fault::Pass
        };
        let Some(mut response) = answer(request, fault, upstream, &state).await else {
            return;
        };
        if target.ends_with(".DescribeDeliveryStream") {
            let status = state.lock().unwrap().describe_status.clone();
            if let Some(status) = status {
                let mut body = response.json();
                body["DeliveryStreamDescription"]["DeliveryStreamStatus"] = json!(status);
                response.body = body.to_string().into_bytes();
            }
        }
        if write_half.write_all(&response.to_bytes()).await.is_err() {
            return;
        }
    }
}

/// The answer to send back, or `None` to close the connection instead.
async fn answer(
    request: Message,
    fault: Fault,
    upstream: SocketAddr,
    state: &Mutex<State>,
) -> Option<Message> {
    let error = |status, reason, code: &str, message: &str| {
        let body = json!({ "__type": code, "message": message });
        Some(Message::json_response(status, reason, &body))
    };
    match fault {
        Fault::Pass => Some(forward(upstream, request).await),
        Fault::ServerError => error(500, "Internal Server Error", "InternalFailure", "injected"),
        Fault::Throttled => error(400, "Bad Request", "ThrottlingException", "Rate exceeded"),
        Fault::Unavailable => error(
            400,
            "Bad Request",
            "ServiceUnavailableException",
            "Slow down.",
        ),
        Fault::Reject(indices) => Some(reject(upstream, request, &indices, state).await),
        Fault::Drop => None,
        Fault::DeliverThenDrop => {
            forward(upstream, request).await;
            state.lock().unwrap().withheld += 1;
            None
        }
        Fault::DeliverThenStall(stall) => {
            forward(upstream, request).await;
            state.lock().unwrap().withheld += 1;
            tokio::time::sleep(stall).await;
            None
        }
    }
}

async fn forward(upstream: SocketAddr, request: Message) -> Message {
    exchange(upstream, request).await.expect("moto answers")
}

/// Forwards only the entries not in `indices` and answers as Firehose does
/// for a partial failure.
async fn reject(
    upstream: SocketAddr,
    mut request: Message,
    indices: &[usize],
    state: &Mutex<State>,
) -> Message {
    let mut body = request.json();
    let records = body["Records"].as_array().cloned().unwrap_or_default();
    let failed: HashSet<usize> = indices
        .iter()
        .copied()
        .filter(|&i| i < records.len())
        .collect();
    let kept: Vec<Value> = (0..records.len())
        .filter(|i| !failed.contains(i))
        .map(|i| records[i].clone())
        .collect();

    // Store the accepted ones, and take moto's record ids for them.
    let mut ids = Vec::new();
    if !kept.is_empty() {
        body["Records"] = Value::Array(kept);
        request.body = body.to_string().into_bytes();
        let stored = forward(upstream, request).await;
        assert_eq!(stored.status(), 200, "{stored:?}");
        ids = stored.json()["RequestResponses"]
            .as_array()
            .unwrap()
            .clone();
    }
    if let Some(&first) = failed.iter().min() {
        let after = (first + 1..records.len()).filter(|i| !failed.contains(i));
        state.lock().unwrap().accepted_after_rejection += after.count();
    }

    let mut ids = ids.into_iter();
    let responses: Vec<Value> = (0..records.len())
        .map(|i| {
            if failed.contains(&i) {
                json!({ "ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down." })
            } else {
                ids.next().expect("moto answers for every record")
            }
        })
        .collect();
    let answer = json!({
        "FailedPutCount": failed.len(),
        "Encrypted": false,
        "RequestResponses": responses,
    });
    Message::json_response(200, "OK", &answer)
}
