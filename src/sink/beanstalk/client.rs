//! [`BeanstalkClient`]: one TCP connection to beanstalkd, binary-safe and
//! async, with the commands the sink and its tests need.
//!
//! Bodies go out as the bytes they are, framed by the announced length.
//! Replies are read into a buffer and cut off it by
//! [`parse_reply`](super::protocol::parse_reply), so a reply split across
//! reads, or several replies in one read, both work.
//!
//! Every wait (connecting, writing, each reply) is bounded by the timeout
//! given to [`BeanstalkClient::connect`]. After any error the connection is
//! in an unknown state (a command may be half written, replies may be
//! pending): drop the client and connect again.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::BeanstalkError;
use super::protocol::{
    Job, PutOutcome, PutParams, Reply, Reservation, Stats, check_tube_name, encode_put, parse_reply,
};

/// Pipelined `put`s are written in chunks of about this many bytes.
const WRITE_CHUNK: usize = 64 * 1024;

/// A connection to beanstalkd.
#[derive(Debug)]
pub struct BeanstalkClient {
    stream: TcpStream,
    /// Bytes read but not yet parsed: the beginning of the next reply.
    read_buf: Vec<u8>,
    /// `host:port`, for errors.
    address: String,
    /// Bound on each wait.
    timeout: Duration,
}

impl BeanstalkClient {
    /// Connects to beanstalkd at `host:port`, waiting at most `timeout`, which
    /// then bounds every write and every wait for a reply.
    ///
    /// # Errors
    ///
    /// [`BeanstalkError::Unreachable`] (transient) when the connection cannot
    /// be made in time.
    pub async fn connect(host: &str, port: u16, timeout: Duration) -> Result<Self, BeanstalkError> {
        let address = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let stream = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(source)) => return Err(BeanstalkError::Unreachable { address, source }),
            Err(_) => {
                let secs = timeout.as_secs();
                let source =
                    io::Error::new(io::ErrorKind::TimedOut, format!("no answer in {secs} s"));
                return Err(BeanstalkError::Unreachable { address, source });
            }
        };
        // Small commands and replies: send each at once.
        let _ = stream.set_nodelay(true);
        Ok(Self {
            stream,
            read_buf: Vec::with_capacity(8 * 1024),
            address,
            timeout,
        })
    }

    /// `host:port` of the server.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `use <tube>`: later `put`s go to `tube`.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`]; `UnexpectedReply` for an invalid tube name.
    pub async fn use_tube(&mut self, tube: &str) -> Result<(), BeanstalkError> {
        let command = self.tube_command("use", tube)?;
        match self.command(&command).await? {
            Reply::Using(used) if used == tube => Ok(()),
            reply => Err(self.unexpected(&command, &reply)),
        }
    }

    /// `list-tube-used`: the tube `put`s go to.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`].
    pub async fn list_tube_used(&mut self) -> Result<String, BeanstalkError> {
        match self.command("list-tube-used").await? {
            Reply::Using(tube) => Ok(tube),
            reply => Err(self.unexpected("list-tube-used", &reply)),
        }
    }

    /// `watch <tube>`: reserve from `tube` too; returns how many are watched.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`].
    pub async fn watch(&mut self, tube: &str) -> Result<u64, BeanstalkError> {
        let command = self.tube_command("watch", tube)?;
        match self.command(&command).await? {
            Reply::Watching(count) => Ok(count),
            reply => Err(self.unexpected(&command, &reply)),
        }
    }

    /// `ignore <tube>`: stop reserving from `tube`; returns how many are
    /// still watched.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`]; `UnexpectedReply` with `NOT_IGNORED` when
    /// `tube` is the last one watched.
    pub async fn ignore(&mut self, tube: &str) -> Result<u64, BeanstalkError> {
        let command = self.tube_command("ignore", tube)?;
        match self.command(&command).await? {
            Reply::Watching(count) => Ok(count),
            reply => Err(self.unexpected(&command, &reply)),
        }
    }

    /// `reserve-with-timeout <secs>` on the watched tubes.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`].
    pub async fn reserve_with_timeout(&mut self, secs: u32) -> Result<Reservation, BeanstalkError> {
        let command = format!("reserve-with-timeout {secs}");
        let wait = self.timeout + Duration::from_secs(secs.into());
        self.write(format!("{command}\r\n").as_bytes()).await?;
        match self.reply_within(wait).await? {
            Reply::Reserved { id, body, torn } => Ok(Reservation::Job(Job { id, body, torn })),
            Reply::TimedOut => Ok(Reservation::TimedOut),
            Reply::DeadlineSoon => Ok(Reservation::DeadlineSoon),
            reply => Err(self.unexpected(&command, &reply)),
        }
    }

    /// `delete <id>`: true when deleted, false on `NOT_FOUND`.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`].
    pub async fn delete(&mut self, id: u64) -> Result<bool, BeanstalkError> {
        let command = format!("delete {id}");
        match self.command(&command).await? {
            Reply::Deleted => Ok(true),
            Reply::NotFound => Ok(false),
            reply => Err(self.unexpected(&command, &reply)),
        }
    }

    /// `stats`: the server's counters and settings.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`].
    pub async fn stats(&mut self) -> Result<Stats, BeanstalkError> {
        match self.command("stats").await? {
            Reply::Ok(yaml) => Ok(Stats::parse(&yaml)),
            reply => Err(self.unexpected("stats", &reply)),
        }
    }

    /// `stats-tube <tube>`: the tube's counters, `None` if it does not exist.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`].
    pub async fn stats_tube(&mut self, tube: &str) -> Result<Option<Stats>, BeanstalkError> {
        let command = self.tube_command("stats-tube", tube)?;
        match self.command(&command).await? {
            Reply::Ok(yaml) => Ok(Some(Stats::parse(&yaml))),
            Reply::NotFound => Ok(None),
            reply => Err(self.unexpected(&command, &reply)),
        }
    }

    /// One `put` into the used tube.
    ///
    /// # Errors
    ///
    /// A [`BeanstalkError`] when the connection fails; a refusal is an
    /// `Ok(PutOutcome::Refused(..))`.
    pub async fn put(
        &mut self,
        body: &[u8],
        params: PutParams,
    ) -> Result<PutOutcome, BeanstalkError> {
        let mut outcome = None;
        self.put_pipelined(&[body], params, 1, |_, reply| {
            outcome = Some(reply);
            Ok(())
        })
        .await?;
        Ok(outcome.expect("one put gets one reply"))
    }

    /// Puts `bodies` in order with up to `window` of them written before
    /// their replies are read, calling `on_reply(index, outcome)` for each
    /// reply as it arrives. Replies come in the order of the commands on one
    /// connection, so indexes arrive in order. Writing and reading run side
    /// by side, so a large window cannot deadlock on full socket buffers.
    ///
    /// Stops at the first error of `on_reply`, which it returns; `put`s
    /// already written may still be carried out by the server.
    ///
    /// # Errors
    ///
    /// `on_reply`'s error, or a [`BeanstalkError`] of the connection.
    pub async fn put_pipelined<F>(
        &mut self,
        bodies: &[&[u8]],
        params: PutParams,
        window: usize,
        mut on_reply: F,
    ) -> Result<(), BeanstalkError>
    where
        F: FnMut(usize, PutOutcome) -> Result<(), BeanstalkError> + Send,
    {
        // One permit per put that may be written without its reply read.
        let credit = Semaphore::new(window.max(1));
        let (address, timeout) = (self.address.as_str(), self.timeout);
        let (mut reader, mut writer) = self.stream.split();
        let read_buf = &mut self.read_buf;

        let write = async {
            let mut out = Vec::with_capacity(WRITE_CHUNK);
            for body in bodies {
                let permit = match credit.try_acquire() {
                    Ok(permit) => permit,
                    Err(_) => {
                        // The window is full: send what is buffered, then
                        // wait for replies to make room.
                        write_all(&mut writer, &out, address, timeout).await?;
                        out.clear();
                        credit.acquire().await.expect("the window is never closed")
                    }
                };
                permit.forget();
                encode_put(&mut out, body, params.priority, params.delay, params.ttr);
                if out.len() >= WRITE_CHUNK {
                    write_all(&mut writer, &out, address, timeout).await?;
                    out.clear();
                }
            }
            write_all(&mut writer, &out, address, timeout).await
        };
        let read = async {
            for index in 0..bodies.len() {
                let reply = read_reply(&mut reader, read_buf, address, timeout).await?;
                credit.add_permits(1);
                let outcome = match reply {
                    Reply::Inserted(id) => PutOutcome::Inserted(id),
                    Reply::Buried(Some(id)) => PutOutcome::Buried(id),
                    Reply::Error(error) => PutOutcome::Refused(error),
                    reply => return Err(unexpected(address, "put", &reply)),
                };
                on_reply(index, outcome)?;
            }
            Ok(())
        };
        tokio::try_join!(write, read).map(|_| ())
    }

    /// Writes `command` and CRLF, then reads one reply.
    async fn command(&mut self, command: &str) -> Result<Reply, BeanstalkError> {
        self.write(format!("{command}\r\n").as_bytes()).await?;
        self.reply_within(self.timeout).await
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), BeanstalkError> {
        write_all(&mut self.stream, bytes, &self.address, self.timeout).await
    }

    async fn reply_within(&mut self, wait: Duration) -> Result<Reply, BeanstalkError> {
        read_reply(&mut self.stream, &mut self.read_buf, &self.address, wait).await
    }

    /// `<verb> <tube>`, after checking the name cannot break the command line.
    fn tube_command(&self, verb: &str, tube: &str) -> Result<String, BeanstalkError> {
        match check_tube_name(tube) {
            Ok(()) => Ok(format!("{verb} {tube}")),
            Err(why) => Err(BeanstalkError::UnexpectedReply {
                address: self.address.clone(),
                command: format!("{verb} {tube:?}"),
                reply: format!("nothing: the tube name was not sent because {why}"),
            }),
        }
    }

    fn unexpected(&self, command: &str, reply: &Reply) -> BeanstalkError {
        unexpected(&self.address, command, reply)
    }
}

fn unexpected(address: &str, command: &str, reply: &Reply) -> BeanstalkError {
    let reply = match reply {
        Reply::Error(error) => error.as_str().to_owned(),
        Reply::Ok(data) => format!("OK and {} bytes", data.len()),
        Reply::Reserved { id, body, .. } => format!("RESERVED {id} {}", body.len()),
        other => format!("{other:?}"),
    };
    BeanstalkError::UnexpectedReply {
        address: address.to_owned(),
        command: command.to_owned(),
        reply,
    }
}

/// Writes all of `bytes`, each write bounded by `timeout`.
async fn write_all<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
    address: &str,
    timeout: Duration,
) -> Result<(), BeanstalkError> {
    if bytes.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(timeout, writer.write_all(bytes)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(BeanstalkError::ConnectionLost {
            address: address.to_owned(),
            source,
        }),
        Err(_) => Err(BeanstalkError::Timeout {
            address: address.to_owned(),
            secs: timeout.as_secs(),
            waiting_for: "take the bytes written",
        }),
    }
}

/// Reads until `buf` starts with a whole reply, then cuts it off `buf`.
async fn read_reply<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    address: &str,
    timeout: Duration,
) -> Result<Reply, BeanstalkError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match parse_reply(buf) {
            Ok(Some((reply, used))) => {
                buf.drain(..used);
                return Ok(reply);
            }
            Ok(None) => {}
            Err(source) => {
                let address = address.to_owned();
                return Err(BeanstalkError::Protocol { address, source });
            }
        }
        buf.reserve(8 * 1024);
        let lost = |source| BeanstalkError::ConnectionLost {
            address: address.to_owned(),
            source,
        };
        match tokio::time::timeout_at(deadline, reader.read_buf(buf)).await {
            Ok(Ok(0)) => {
                let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed it");
                return Err(lost(eof));
            }
            Ok(Ok(_)) => {}
            Ok(Err(source)) => return Err(lost(source)),
            Err(_) => {
                return Err(BeanstalkError::Timeout {
                    address: address.to_owned(),
                    secs: timeout.as_secs(),
                    waiting_for: "reply",
                });
            }
        }
    }
}
