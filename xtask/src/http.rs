//! A small HTTP/1.1 client over `std::net::TcpStream` for readiness polling and load generation:
//! keep-alive connections, GET and POST, `Content-Length` and chunked bodies. Plain HTTP to the
//! loopback only; no TLS, no redirects, no proxies.

#![allow(dead_code)] // Parts of the API are there for the load-generating benchmarks.

use std::borrow::Cow;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// One connection, reused for as many requests as the server keeps it open.
pub struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
    open: bool,
    requests: u64,
}

impl Conn {
    /// Connects with `timeout` for the connect and for every later read and write.
    pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        Ok(Conn {
            reader: BufReader::with_capacity(16 * 1024, stream),
            host: addr.to_string(),
            open: true,
            requests: 0,
        })
    }

    /// Whether the server left the connection open after the last response.
    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn get(&mut self, path: &str) -> io::Result<Response> {
        self.request("GET", path, &[], None)
    }

    pub fn post(&mut self, path: &str, content_type: &str, body: &[u8]) -> io::Result<Response> {
        self.request("POST", path, &[("Content-Type", content_type)], Some(body))
    }

    /// Sends one request and reads its whole response. `headers` must not repeat `Host` or
    /// `Content-Length`, which are added here.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Response> {
        if !self.open {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the server closed this connection",
            ));
        }
        let request = encode_request(method, path, &self.host, headers, body);
        self.requests += 1;
        let result = self
            .reader
            .get_mut()
            .write_all(&request)
            .and_then(|()| read_response(&mut self.reader, method == "HEAD"));
        match result {
            Ok((response, keep_alive)) => {
                self.open = keep_alive;
                Ok(response)
            }
            Err(e) => {
                self.open = false;
                Err(e)
            }
        }
    }
}

/// A connection that is reopened whenever the server closed it. A request on a reused connection
/// that the server had already closed (nothing of a response read) is sent once more, fresh.
pub struct Client {
    addr: SocketAddr,
    timeout: Duration,
    conn: Option<Conn>,
    /// How many connections were opened, for load reports.
    pub connects: u64,
}

impl Client {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        Client {
            addr,
            timeout,
            conn: None,
            connects: 0,
        }
    }

    pub fn get(&mut self, path: &str) -> io::Result<Response> {
        self.request("GET", path, &[], None)
    }

    pub fn post(&mut self, path: &str, content_type: &str, body: &[u8]) -> io::Result<Response> {
        self.request("POST", path, &[("Content-Type", content_type)], Some(body))
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> io::Result<Response> {
        let reused = matches!(&self.conn, Some(c) if c.is_open());
        let result = self.conn()?.request(method, path, headers, body);
        match result {
            Err(e) if reused && e.kind() == io::ErrorKind::UnexpectedEof => {
                self.conn = None;
                self.conn()?.request(method, path, headers, body)
            }
            other => other,
        }
    }

    fn conn(&mut self) -> io::Result<&mut Conn> {
        if !matches!(&self.conn, Some(c) if c.is_open()) {
            self.conn = Some(Conn::connect(self.addr, self.timeout)?);
            self.connects += 1;
        }
        self.conn
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))
    }
}

/// One GET on a fresh connection, closed afterwards.
pub fn get_once(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<Response> {
    let mut conn = Conn::connect(addr, timeout)?;
    conn.request("GET", path, &[("Connection", "close")], None)
}

fn encode_request(
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let body = body.unwrap_or_default();
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Reads a line without its CRLF; EOF before any byte is `UnexpectedEof`.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before a response",
        ));
    }
    let trimmed = line.trim_end_matches(['\r', '\n']).len();
    line.truncate(trimmed);
    Ok(line)
}

/// Reads one response; returns it and whether the connection stays usable.
fn read_response(reader: &mut impl BufRead, head_request: bool) -> io::Result<(Response, bool)> {
    let (status, headers, http10) = loop {
        let line = read_line(reader)?;
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line `{line}`")))?;
        let headers = read_headers(reader)?;
        // Interim 1xx responses (100 Continue) precede the real one.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        break (status, headers, version == "HTTP/1.0");
    };
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let connection = response.header("Connection").map(str::to_ascii_lowercase);
    let mut keep_alive = match connection.as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => !http10,
    };
    let chunked = response
        .header("Transfer-Encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if head_request || status == 204 || status == 304 {
        // No body.
    } else if chunked {
        response.body = read_chunked(reader)?;
    } else if let Some(len) = response.header("Content-Length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| bad(format!("bad Content-Length `{len}`")))?;
        response.body = vec![0; len];
        reader.read_exact(&mut response.body)?;
    } else {
        reader.read_to_end(&mut response.body)?;
        keep_alive = false;
    }
    Ok((response, keep_alive))
}

fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            return Ok(headers);
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line `{line}`")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| bad(format!("bad chunk size `{line}`")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            read_headers(reader)?;
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        if !read_line(reader)?.is_empty() {
            return Err(bad("chunk not followed by CRLF"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::thread;

    /// Serves `responses` in order on one connection, returning the raw requests it read.
    fn serve(responses: Vec<&'static str>) -> (SocketAddr, thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut requests = Vec::new();
            for response in responses {
                let mut request = String::new();
                let mut content_length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        content_length = v.trim().parse().unwrap();
                    }
                    request.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; content_length];
                reader.read_exact(&mut body).unwrap();
                request.push_str(&String::from_utf8(body).unwrap());
                requests.push(request);
                reader.get_mut().write_all(response.as_bytes()).unwrap();
            }
            requests
        });
        (addr, handle)
    }

    #[test]
    fn keeps_the_connection_for_get_and_post() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\nTrailer: t\r\n\r\n",
            "HTTP/1.1 204 No Content\r\n\r\n",
        ]);
        let mut client = Client::new(addr, Duration::from_secs(5));
        let r = client.get("/healthz").unwrap();
        assert_eq!((r.status, r.text().as_ref()), (200, "ok"));
        let r = client
            .post("/hook", "application/json", br#"{"a":1}"#)
            .unwrap();
        assert_eq!((r.status, r.text().as_ref()), (201, "Wikipedia"));
        let r = client.get("/empty").unwrap();
        assert_eq!((r.status, r.body.len()), (204, 0));
        assert_eq!(client.connects, 1, "one keep-alive connection");

        let requests = server.join().unwrap();
        assert!(requests[0].starts_with("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:"));
        assert!(requests[1].starts_with("POST /hook HTTP/1.1\r\n"));
        assert!(requests[1].contains("Content-Type: application/json\r\n"));
        assert!(requests[1].ends_with("Content-Length: 7\r\n\r\n{\"a\":1}"));
    }

    #[test]
    fn a_closed_connection_is_reopened() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
        ]);
        let mut client = Client::new(addr, Duration::from_secs(5));
        assert_eq!(client.get("/").unwrap().text(), "a");
        server.join().unwrap();
        // The server is gone now: reconnecting is attempted and fails.
        assert!(client.get("/").is_err());
        assert_eq!(client.connects, 1);
    }

    #[test]
    fn body_until_close_without_length() {
        let (addr, server) = serve(vec!["HTTP/1.0 200 OK\r\n\r\nall of it"]);
        let mut conn = Conn::connect(addr, Duration::from_secs(5)).unwrap();
        let handle = thread::spawn(move || {
            let r = conn.get("/").unwrap();
            (r, conn.is_open())
        });
        // The test server drops the connection after its scripted responses.
        server.join().unwrap();
        let (r, open) = handle.join().unwrap();
        assert_eq!(r.text(), "all of it");
        assert!(!open);
    }
}
