//! Unit tests: the reply parser over byte buffers, and the sink's resume
//! contract against a scripted in-process server.

use super::protocol::{Reply, ServerError, Stats, encode_put, parse_reply};
use super::*;
use crate::sink::{Record, Sink, SinkError};

fn parse(bytes: &[u8]) -> Option<(Reply, usize)> {
    parse_reply(bytes).unwrap_or_else(|e| panic!("{}: {e}", bytes.escape_ascii()))
}

fn parse_err(bytes: &[u8]) -> String {
    parse_reply(bytes).unwrap_err().to_string()
}

#[test]
fn parses_every_line_reply() {
    let cases: &[(&[u8], Reply)] = &[
        (b"INSERTED 42\r\n", Reply::Inserted(42)),
        (b"BURIED 7\r\n", Reply::Buried(Some(7))),
        (b"BURIED\r\n", Reply::Buried(None)),
        (b"USING a(b)$c\r\n", Reply::Using("a(b)$c".into())),
        (b"WATCHING 2\r\n", Reply::Watching(2)),
        (b"DELETED\r\n", Reply::Deleted),
        (b"NOT_FOUND\r\n", Reply::NotFound),
        (b"NOT_IGNORED\r\n", Reply::NotIgnored),
        (b"TIMED_OUT\r\n", Reply::TimedOut),
        (b"DEADLINE_SOON\r\n", Reply::DeadlineSoon),
        (
            b"EXPECTED_CRLF\r\n",
            Reply::Error(ServerError::ExpectedCrlf),
        ),
        (b"JOB_TOO_BIG\r\n", Reply::Error(ServerError::JobTooBig)),
        (b"DRAINING\r\n", Reply::Error(ServerError::Draining)),
        (b"OUT_OF_MEMORY\r\n", Reply::Error(ServerError::OutOfMemory)),
        (
            b"INTERNAL_ERROR\r\n",
            Reply::Error(ServerError::InternalError),
        ),
        (b"BAD_FORMAT\r\n", Reply::Error(ServerError::BadFormat)),
        (
            b"UNKNOWN_COMMAND\r\n",
            Reply::Error(ServerError::UnknownCommand),
        ),
    ];
    for (bytes, reply) in cases {
        assert_eq!(parse(bytes), Some((reply.clone(), bytes.len())));
        // Every strict prefix is incomplete, not an error.
        for cut in 0..bytes.len() {
            assert_eq!(parse(&bytes[..cut]), None, "{}", bytes.escape_ascii());
        }
        if let Reply::Error(error) = reply {
            assert_eq!(error.as_str().as_bytes(), &bytes[..bytes.len() - 2]);
        }
    }
    assert_eq!(
        parse(b"INSERTED 18446744073709551615\r\n").unwrap().0,
        Reply::Inserted(u64::MAX)
    );
}

#[test]
fn parses_data_replies_byte_by_byte_and_keeps_binary_bodies() {
    // A body with NUL, CR LF inside and at its end, and invalid UTF-8.
    let body: &[u8] = b"\0a\r\nb\xff\xfe\xc3(\r\n";
    let mut wire = format!("RESERVED 9 {}\r\n", body.len()).into_bytes();
    wire.extend_from_slice(body);
    wire.extend_from_slice(b"\r\nTIMED_OUT\r\n");
    let first_len = wire.len() - b"TIMED_OUT\r\n".len();
    for cut in 0..first_len {
        assert_eq!(parse(&wire[..cut]), None, "cut at {cut}");
    }
    let expected = Reply::Reserved {
        id: 9,
        body: body.to_vec(),
        torn: false,
    };
    assert_eq!(parse(&wire), Some((expected, first_len)));
    assert_eq!(
        parse(&wire[first_len..]),
        Some((Reply::TimedOut, b"TIMED_OUT\r\n".len()))
    );

    let empty = b"RESERVED 1 0\r\n\r\n";
    let reply = Reply::Reserved {
        id: 1,
        body: Vec::new(),
        torn: false,
    };
    assert_eq!(parse(empty), Some((reply, empty.len())));

    // A job restored from a torn log record: NULs, NULs for CRLF too.
    let torn = b"RESERVED 7 4\r\n\0\0\0\0\0\0INSERTED 8\r\n";
    let reply = Reply::Reserved {
        id: 7,
        body: vec![0; 4],
        torn: true,
    };
    assert_eq!(parse(torn), Some((reply, torn.len() - 12)));
    assert_eq!(parse(&torn[..torn.len() - 13]), None);

    let yaml = b"---\nname: \"t\"\ncurrent-jobs-ready: 3\nversion: \"1.12\"\nhostname: vm\n";
    let mut ok = format!("OK {}\r\n", yaml.len()).into_bytes();
    ok.extend_from_slice(yaml);
    ok.extend_from_slice(b"\r\n");
    let Some((Reply::Ok(data), used)) = parse(&ok) else {
        panic!("an OK reply")
    };
    assert_eq!((data.as_slice(), used), (&yaml[..], ok.len()));
    let stats = Stats::parse(&data);
    assert_eq!(stats.get("name"), Some("t"));
    assert_eq!(stats.get("version"), Some("1.12"));
    assert_eq!(stats.get("hostname"), Some("vm"));
    assert_eq!(stats.get_u64("current-jobs-ready"), Some(3));
    assert_eq!(stats.get_u64("hostname"), None);
    assert_eq!(stats.get("---"), None);
}

#[test]
fn rejects_what_beanstalkd_does_not_send() {
    assert_eq!(parse_err(b"HELLO\r\n"), "unknown reply `HELLO`");
    assert_eq!(parse_err(b"INSERTED\r\n"), "malformed reply `INSERTED`");
    assert_eq!(
        parse_err(b"INSERTED 1 2\r\n"),
        "malformed reply `INSERTED 1 2`"
    );
    assert_eq!(
        parse_err(b"INSERTED -1\r\n"),
        "malformed reply `INSERTED -1`"
    );
    assert_eq!(parse_err(b"DELETED 1\r\n"), "malformed reply `DELETED 1`");
    assert!(parse_reply(b"INSERTED 99999999999999999999\r\n").is_err());
    assert!(parse_reply(b"INSERTED 1x\r\n").is_err());
    assert_eq!(parse_err(b"OK x\r\n"), "bad length in `OK x`");
    assert_eq!(
        parse_err(b"OK 3\r\nabcde"),
        "the 3 bytes announced by `OK 3` are not followed by CRLF"
    );
    assert!(parse_err(&[b'x'; 300]).starts_with("a reply line longer than 256 bytes: `xxx"));
    assert_eq!(parse_err(b"\xff\r\n"), "unknown reply `\\xff`");
    // A long line is only an error once it cannot end in time.
    assert_eq!(parse(&[b'x'; 257]), None);
}

#[test]
fn put_frames_the_body_by_its_length() {
    let mut out = Vec::new();
    encode_put(&mut out, b"a\r\nb", 1024, 0, 60);
    encode_put(&mut out, b"", 0, 5, 1);
    assert_eq!(out, b"put 1024 0 60 4\r\na\r\nb\r\nput 0 5 1 0\r\n\r\n");
}

#[test]
fn only_connection_trouble_is_transient() {
    let address = "127.0.0.1:1".to_owned();
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    let error = BeanstalkError::Unreachable {
        address: address.clone(),
        source: refused,
    };
    assert!(error.is_transient());
    assert!(SinkError::from(error).is_transient());
    let timeout = BeanstalkError::Timeout {
        address: address.clone(),
        secs: 10,
        waiting_for: "reply",
    };
    assert_eq!(
        timeout.to_string(),
        "beanstalkd at 127.0.0.1:1 did not reply within 10 s (sink.timeout_secs); retrying on a \
         new connection"
    );
    assert!(timeout.is_transient());
    let draining = BeanstalkError::Draining {
        address,
        ticket_id: 3,
    };
    assert!(!SinkError::from(draining).is_transient());
}

/// A scripted beanstalkd: answers `stats` and `use`, and each `put` with
/// what `script(put_index)` says (`None` closes the connection instead).
/// Returns the command lines and put bodies of one connection.
async fn fake_connection(
    listener: &tokio::net::TcpListener,
    script: impl Fn(usize) -> Option<&'static str>,
) -> (Vec<String>, Vec<Vec<u8>>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let (socket, _) = listener.accept().await.unwrap();
    let mut socket = BufReader::new(socket);
    let (mut commands, mut bodies) = (Vec::new(), Vec::new());
    let mut line = String::new();
    while socket.read_line(&mut line).await.unwrap() > 0 {
        let command = line.trim_end().to_owned();
        line.clear();
        let reply = if command == "stats" {
            let yaml = "---\nmax-job-size: 100\nbinlog-current-index: 1\n";
            format!("OK {}\r\n{yaml}\r\n", yaml.len())
        } else if let Some(tube) = command.strip_prefix("use ") {
            format!("USING {tube}\r\n")
        } else {
            let len: usize = command.rsplit(' ').next().unwrap().parse().unwrap();
            let mut body = vec![0; len + 2];
            socket.read_exact(&mut body).await.unwrap();
            body.truncate(len);
            bodies.push(body);
            match script(bodies.len() - 1) {
                Some(reply) => format!("{reply}\r\n"),
                None => break,
            }
        };
        commands.push(command);
        socket.write_all(reply.as_bytes()).await.unwrap();
    }
    (commands, bodies)
}

fn batch(bodies: &[&str]) -> Vec<Record> {
    let record = |(i, body): (usize, &&str)| Record {
        ticket_id: 100 + i as u64,
        body: body.as_bytes().to_vec(),
    };
    bodies.iter().enumerate().map(record).collect()
}

async fn fake_sink(tube: &str) -> (tokio::net::TcpListener, BeanstalkSink) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = BeanstalkConfig {
        port: listener.local_addr().unwrap().port(),
        tube: tube.into(),
        max_in_flight: 2,
        ..BeanstalkConfig::default()
    };
    (listener, BeanstalkSink::new(config).unwrap())
}

#[tokio::test]
async fn a_retried_batch_resumes_after_the_acknowledged_prefix() {
    let (listener, mut sink) = fake_sink("orders").await;
    let records = batch(&["r0", "r1", "r2", "r3", "r4"]);

    // The first connection acknowledges three puts, then drops on the fourth.
    let server = async {
        let first = fake_connection(&listener, |i| (i < 3).then_some("INSERTED 1")).await;
        let second = fake_connection(&listener, |_| Some("INSERTED 2")).await;
        (first, second)
    };
    let client = async {
        let error = sink.send_batch(&records).await.unwrap_err();
        assert!(error.is_transient(), "{error}");
        sink.send_batch(&records).await.unwrap();
        drop(sink);
    };
    let ((first, second), ()) = tokio::join!(server, client);

    // Only the unacknowledged records go again, after a new `use`.
    let sent = |bodies: &[Vec<u8>]| {
        bodies
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(sent(&first.1), ["r0", "r1", "r2", "r3"]);
    assert_eq!(sent(&second.1), ["r3", "r4"]);
    assert_eq!(&first.0[..2], ["stats", "use orders"]);
    assert_eq!(&second.0[..2], ["stats", "use orders"]);
}

#[tokio::test]
async fn another_batch_starts_from_its_first_record_and_buried_counts() {
    let (listener, mut sink) = fake_sink(DEFAULT_TUBE).await;
    let server = async {
        let first = fake_connection(&listener, |i| (i < 1).then_some("BURIED 5")).await;
        let second = fake_connection(&listener, |_| Some("INSERTED 6")).await;
        (first, second)
    };
    let client = async {
        assert!(sink.send_batch(&batch(&["a", "b"])).await.is_err());
        sink.send_batch(&batch(&["c", "d"])).await.unwrap();
        drop(sink);
    };
    let ((first, second), ()) = tokio::join!(server, client);
    assert_eq!(first.0[0], "stats", "no `use` for the default tube");
    assert!(!first.0.iter().any(|c| c.starts_with("use")));
    assert_eq!(second.1, [b"c".to_vec(), b"d".to_vec()]);
}

#[tokio::test]
async fn refusals_are_definite_and_name_the_ticket() {
    let (listener, mut sink) = fake_sink(DEFAULT_TUBE).await;
    let big = "x".repeat(101);
    let records = batch(&["ok", &big, "never"]);
    let server = fake_connection(&listener, |i| Some(["INSERTED 1", "DRAINING"][i.min(1)]));
    let client = async {
        let error = sink.send_batch(&records).await.unwrap_err();
        assert!(!error.is_transient());
        assert_eq!(
            error.to_string(),
            format!(
                "the record of ticket 101 is 101 bytes, more than beanstalkd at {} accepts \
                 (max-job-size 100); restart beanstalkd with `-z 101` or more",
                sink.config().address()
            )
        );
        // Sending it again sends nothing already acknowledged.
        assert!(sink.send_batch(&records).await.is_err());
        let error = sink.send_batch(&batch(&["d"])).await.unwrap_err();
        assert!(!error.is_transient());
        assert!(error.to_string().ends_with(
            "refused the record of ticket 100: it is draining (it got SIGUSR1) and takes no new \
             jobs; restart beanstalkd, then osticket-cdc"
        ));
        drop(sink);
    };
    let ((_, bodies), ()) = tokio::join!(server, client);
    assert_eq!(bodies, [b"ok".to_vec(), b"d".to_vec()]);
}
