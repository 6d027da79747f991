//! The beanstalkd wire format: commands out, replies in, both as bytes.
//!
//! Replies are parsed incrementally from the client's read buffer by
//! [`parse_reply`]: it returns `None` until a whole reply (line, and the
//! data block that `RESERVED` and `OK` announce) is in the buffer, so a
//! reply split across reads in any place is handled. Job bodies are opaque
//! bytes; nothing here converts them to text, and lengths come from the
//! announced byte count, never from searching for a terminator inside data.
//!
//! The set of replies is the one beanstalkd 1.12 sends for the commands the
//! client issues (`use`, `put`, `watch`, `ignore`, `reserve-with-timeout`,
//! `delete`, `list-tube-used`, `stats`, `stats-tube`); anything else is a
//! [`ProtocolError`], since a server that says something else is not the
//! server we think it is.
//!
//! # Torn jobs
//!
//! One exception to strictness: a `RESERVED` body not followed by CRLF is
//! accepted and marked torn; beanstalkd frames the data by its length, so
//! the stream stays in step. beanstalkd 1.12 sends such a body for a job
//! restored from a torn write-ahead-log record. It logs a `put` with four
//! `write`s (tube name length, tube name, job header, body and CRLF) into a
//! log file filled with zeros in advance, and replies `INSERTED` only after
//! all four. When the process dies between the header and the body, its
//! recovery finds the header, reads the body from the zeros, and restores a
//! job whose body and terminator are NUL bytes: a job no producer was told
//! about, for a `put` that got no reply and will be sent again.

use std::collections::BTreeMap;

/// Longest reply line beanstalkd sends for our commands: `USING` with a
/// 200-character tube, or `RESERVED` with two 20-digit numbers.
const MAX_LINE: usize = 256;

/// Largest data block accepted after `RESERVED` or `OK`: beanstalkd caps
/// `-z` at 1 GiB (`JOB_DATA_SIZE_LIMIT_MAX`), stats are a few KiB.
const MAX_DATA: u64 = 1 << 30;

/// The tube every connection uses and watches until told otherwise.
pub const DEFAULT_TUBE: &str = "default";

/// Longest tube name beanstalkd accepts (`MAX_TUBE_NAME_LEN` minus the NUL).
pub const MAX_TUBE_NAME: usize = 200;

/// A reply beanstalkd sends to report that it did not carry out a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerError {
    /// `EXPECTED_CRLF`: a job body was not followed by CRLF.
    ExpectedCrlf,
    /// `JOB_TOO_BIG`: a job body is longer than the server's `-z`.
    JobTooBig,
    /// `DRAINING`: the server got SIGUSR1 and accepts no new jobs.
    Draining,
    /// `OUT_OF_MEMORY`: no room for the job in memory or in the WAL.
    OutOfMemory,
    /// `INTERNAL_ERROR`: a server bug.
    InternalError,
    /// `BAD_FORMAT`: a malformed command line.
    BadFormat,
    /// `UNKNOWN_COMMAND`: a command the server does not know.
    UnknownCommand,
}

impl ServerError {
    /// The reply word, as the server sends it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExpectedCrlf => "EXPECTED_CRLF",
            Self::JobTooBig => "JOB_TOO_BIG",
            Self::Draining => "DRAINING",
            Self::OutOfMemory => "OUT_OF_MEMORY",
            Self::InternalError => "INTERNAL_ERROR",
            Self::BadFormat => "BAD_FORMAT",
            Self::UnknownCommand => "UNKNOWN_COMMAND",
        }
    }

    fn from_word(word: &[u8]) -> Option<Self> {
        Some(match word {
            b"EXPECTED_CRLF" => Self::ExpectedCrlf,
            b"JOB_TOO_BIG" => Self::JobTooBig,
            b"DRAINING" => Self::Draining,
            b"OUT_OF_MEMORY" => Self::OutOfMemory,
            b"INTERNAL_ERROR" => Self::InternalError,
            b"BAD_FORMAT" => Self::BadFormat,
            b"UNKNOWN_COMMAND" => Self::UnknownCommand,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reply from beanstalkd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `INSERTED <id>`: the job is in the tube.
    Inserted(u64),
    /// `BURIED <id>` after `put` (the server could not grow its ready queue,
    /// so the job was stored buried), or `BURIED` alone after `bury`.
    Buried(Option<u64>),
    /// `USING <tube>`.
    Using(String),
    /// `WATCHING <count>`.
    Watching(u64),
    /// `RESERVED <id> <bytes>` and the job body.
    Reserved {
        /// The job id.
        id: u64,
        /// The job body, as stored.
        body: Vec<u8>,
        /// The body was not followed by CRLF (see "Torn jobs" above).
        torn: bool,
    },
    /// `OK <bytes>` and the data (YAML for the stats commands).
    Ok(Vec<u8>),
    /// `DELETED`.
    Deleted,
    /// `NOT_FOUND`.
    NotFound,
    /// `NOT_IGNORED`: `ignore` of the last watched tube.
    NotIgnored,
    /// `TIMED_OUT`: no job within the reserve timeout.
    TimedOut,
    /// `DEADLINE_SOON`: a job reserved by this connection is about to time out.
    DeadlineSoon,
    /// A refusal.
    Error(ServerError),
}

/// The job parameters of a `put`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutParams {
    /// Priority, 0 most urgent.
    pub priority: u32,
    /// Seconds before the job becomes ready.
    pub delay: u32,
    /// Seconds a worker may hold the job.
    pub ttr: u32,
}

/// How beanstalkd answered one `put`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// `INSERTED <id>`: the job is ready (or delayed) in the tube.
    Inserted(u64),
    /// `BURIED <id>`: the job is stored, but buried because the server ran
    /// out of memory for its ready queue; workers see it once kicked.
    Buried(u64),
    /// The job was not stored.
    Refused(ServerError),
}

/// A job handed out by `reserve-with-timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job id.
    pub id: u64,
    /// The body, exactly as put unless `torn`.
    pub body: Vec<u8>,
    /// beanstalkd sent something else than CRLF after the body: the job was
    /// restored from a log record that a crash cut short between its header
    /// and its body, so the body is NUL bytes and no producer was told about
    /// the job (its `put` got no reply and was sent again).
    pub torn: bool,
}

/// How `reserve-with-timeout` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// A job, now reserved by this connection.
    Job(Job),
    /// No job became ready within the timeout.
    TimedOut,
    /// A job this connection holds is about to exceed its TTR.
    DeadlineSoon,
}

/// Bytes that are not a beanstalkd reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

/// Parses the reply at the start of `buf`: `Ok(None)` while it is
/// incomplete, else the reply and the number of bytes it took.
///
/// # Errors
///
/// A [`ProtocolError`] for an over-long line, an unknown reply word, a
/// malformed number, or a data block not followed by CRLF.
pub fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    // The line, up to CRLF.
    let window = &buf[..buf.len().min(MAX_LINE + 2)];
    let Some(line_len) = window.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() >= MAX_LINE + 2 {
            return Err(ProtocolError(format!(
                "a reply line longer than {MAX_LINE} bytes: {}",
                show(&buf[..40])
            )));
        }
        return Ok(None);
    };
    let line = &buf[..line_len];
    let after_line = line_len + 2;
    let mut words = line.split(|&b| b == b' ');
    let word = words.next().unwrap_or_default();
    let args: Vec<&[u8]> = words.collect();
    let arity = |n: usize| {
        if args.len() == n {
            Ok(())
        } else {
            Err(malformed(line))
        }
    };

    // Replies with a data block need it whole, plus the two bytes that
    // should be CRLF (whether they are is the caller's business).
    let with_data = |len: &[u8]| -> Result<Option<(Vec<u8>, usize, bool)>, ProtocolError> {
        let len = number(len).filter(|&n| n <= MAX_DATA);
        let len = len.ok_or_else(|| ProtocolError(format!("bad length in {}", show(line))))?;
        let end = after_line + len as usize;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        let data = buf[after_line..end].to_vec();
        Ok(Some((data, end + 2, &buf[end..end + 2] == b"\r\n")))
    };

    let id = |arg: &[u8]| number(arg).ok_or_else(|| malformed(line));
    let reply = match word {
        b"INSERTED" => arity(1).and_then(|()| id(args[0])).map(Reply::Inserted)?,
        b"BURIED" if args.is_empty() => Reply::Buried(None),
        b"BURIED" => arity(1)
            .and_then(|()| id(args[0]))
            .map(|id| Reply::Buried(Some(id)))?,
        b"WATCHING" => arity(1).and_then(|()| id(args[0])).map(Reply::Watching)?,
        b"USING" => {
            arity(1)?;
            let tube = std::str::from_utf8(args[0]).map_err(|_| malformed(line))?;
            Reply::Using(tube.to_owned())
        }
        b"RESERVED" => {
            arity(2)?;
            let id = id(args[0])?;
            let Some((body, used, terminated)) = with_data(args[1])? else {
                return Ok(None);
            };
            let torn = !terminated;
            return Ok(Some((Reply::Reserved { id, body, torn }, used)));
        }
        b"OK" => {
            arity(1)?;
            let Some((data, used, terminated)) = with_data(args[0])? else {
                return Ok(None);
            };
            if !terminated {
                let (len, line) = (data.len(), show(line));
                let why = format!("the {len} bytes announced by {line} are not followed by CRLF");
                return Err(ProtocolError(why));
            }
            return Ok(Some((Reply::Ok(data), used)));
        }
        _ => {
            arity(0)?;
            match word {
                b"DELETED" => Reply::Deleted,
                b"NOT_FOUND" => Reply::NotFound,
                b"NOT_IGNORED" => Reply::NotIgnored,
                b"TIMED_OUT" => Reply::TimedOut,
                b"DEADLINE_SOON" => Reply::DeadlineSoon,
                other => match ServerError::from_word(other) {
                    Some(error) => Reply::Error(error),
                    None => return Err(ProtocolError(format!("unknown reply {}", show(line)))),
                },
            }
        }
    };
    Ok(Some((reply, after_line)))
}

/// A decimal number of at most 20 digits, as beanstalkd prints them.
fn number(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn malformed(line: &[u8]) -> ProtocolError {
    ProtocolError(format!("malformed reply {}", show(line)))
}

/// A reply line for an error message: printable ASCII kept, the rest escaped.
fn show(line: &[u8]) -> String {
    format!("`{}`", line.escape_ascii())
}

/// Appends `put <priority> <delay> <ttr> <bytes>\r\n<body>\r\n` to `out`.
pub fn encode_put(out: &mut Vec<u8>, body: &[u8], priority: u32, delay: u32, ttr: u32) {
    let header = format!("put {priority} {delay} {ttr} {}\r\n", body.len());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
}

/// Why `name` is not a tube name beanstalkd accepts, if it is not: 1 to
/// 200 characters from letters, digits and `+ / ; . $ _ ( ) -`, not
/// starting with `-`.
pub fn check_tube_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+/;.$_()-".contains(c);
    if name.is_empty() {
        Err("it is empty".to_owned())
    } else if let Some(c) = name.chars().find(|&c| !allowed(c)) {
        Err(format!(
            "it contains {c:?}; only letters, digits and `+ / ; . $ _ ( ) -` are allowed"
        ))
    } else if name.len() > MAX_TUBE_NAME {
        // Only ASCII is left, so bytes are characters.
        Err(format!(
            "it is {} characters long, more than the {MAX_TUBE_NAME} beanstalkd accepts",
            name.len()
        ))
    } else if name.starts_with('-') {
        Err("it starts with `-`".to_owned())
    } else {
        Ok(())
    }
}

/// The flat `key: value` YAML of `stats` and `stats-tube`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats(BTreeMap<String, String>);

impl Stats {
    /// Parses the YAML document: a `---` line, then one `key: value` a line.
    /// Values lose the double quotes some versions put around strings.
    pub fn parse(yaml: &[u8]) -> Self {
        let text = String::from_utf8_lossy(yaml);
        let entries = text.lines().filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some((key.trim().to_owned(), value.to_owned()))
        });
        Self(entries.collect())
    }

    /// The value of `key`, if the server reported it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value of `key` as a number, if reported and numeric.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key)?.parse().ok()
    }
}
