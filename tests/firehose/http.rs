//! Just enough HTTP/1.1 for the Firehose tests: read and write one message
//! (request or response) with a `Content-Length`, chunked or
//! close-delimited body, and make one request on a fresh connection.
//!
//! The fault proxy speaks it to the AWS SDK (which sends `Content-Length`
//! bodies on keep-alive connections) and to moto (one connection per
//! request); the S3 helpers use it to read back what moto stored.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One HTTP message.
#[derive(Debug, Clone)]
pub struct Message {
    /// `POST / HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start_line: String,
    /// Headers in order, names as received.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Message {
    /// A request with no headers but `Host`.
    pub fn request(method: &str, target: &str, addr: SocketAddr, body: Vec<u8>) -> Self {
        Self {
            start_line: format!("{method} {target} HTTP/1.1"),
            headers: vec![("Host".into(), addr.to_string())],
            body,
        }
    }

    /// A response with a JSON body, as AWS JSON protocols answer.
    pub fn json_response(status: u16, reason: &str, body: &serde_json::Value) -> Self {
        Self {
            start_line: format!("HTTP/1.1 {status} {reason}"),
            headers: vec![("Content-Type".into(), "application/x-amz-json-1.1".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// The first value of header `name`, any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Replaces header `name` (any case) with one `value`.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// A response's status code.
    pub fn status(&self) -> u16 {
        self.start_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The message as sent: its headers without framing ones, then a
    /// `Content-Length` for the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = format!("{}\r\n", self.start_line);
        for (name, value) in &self.headers {
            let framing = ["content-length", "transfer-encoding"];
            if !framing.iter().any(|f| name.eq_ignore_ascii_case(f)) {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads one message; `None` at a clean end of stream before it. A
/// response without length or chunking runs to the end of the stream.
pub async fn read_message<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    response: bool,
) -> io::Result<Option<Message>> {
    let mut start_line = String::new();
    if reader.read_line(&mut start_line).await? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').ok_or(io::ErrorKind::InvalidData)?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut message = Message {
        start_line: start_line.trim_end().to_owned(),
        headers,
        body: Vec::new(),
    };

    let chunked = message
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        message.body = read_chunked(reader).await?;
    } else if let Some(len) = message.header("content-length") {
        let len = len.parse().map_err(|_| io::ErrorKind::InvalidData)?;
        message.body = vec![0; len];
        reader.read_exact(&mut message.body).await?;
    } else if response {
        reader.read_to_end(&mut message.body).await?;
    }
    Ok(Some(message))
}

async fn read_chunked<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size).await?;
        let size = size.trim().split(';').next().unwrap_or("");
        let size = usize::from_str_radix(size, 16).map_err(|_| io::ErrorKind::InvalidData)?;
        if size == 0 {
            // Trailers, then the empty line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                    return Ok(body);
                }
            }
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).await?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf).await?;
    }
}

/// Sends `request` on a new connection to `addr` and reads the response.
pub async fn exchange(addr: SocketAddr, mut request: Message) -> io::Result<Message> {
    request.set_header("Connection", "close");
    let stream = TcpStream::connect(addr).await?;
    let (read_half, mut write_half) = stream.into_split();
    write_half.write_all(&request.to_bytes()).await?;
    let mut reader = BufReader::new(read_half);
    read_message(&mut reader, true)
        .await?
        .ok_or_else(|| io::ErrorKind::UnexpectedEof.into())
}
