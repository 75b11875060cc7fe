//! An event-driven HTTP/1.1 load driver: every connection of a phase on one thread (mio), each
//! with one request in flight, keep-alive, `Content-Length` answers.
//!
//! The generator shares the machine's two cores with the server. One blocking thread per
//! connection (64 of them) measured the scheduler as much as the server: each answer woke a
//! thread, and the run writer waited behind them. One thread polling sockets costs a fraction of
//! a core and wakes once per batch of answers.
//!
//! Why hand-written rather than a crate (the rest of xtask uses `ureq` for its requests): the
//! fixed-rate phase must be open-loop and free of coordinated omission — request k is due at
//! `start + k / rate` whether or not earlier answers came, and its latency is measured from that
//! due time, not from when a busy client got round to sending it. Load tools that do this
//! (wrk2, oha's `--latency-correction`) are binaries we may not download; HTTP client crates
//! measure from the send, and an async runtime would take the core this loop leaves the server.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// When requests are sent.
#[derive(Clone, Copy, Debug)]
pub enum Pace {
    /// Each connection sends its next request as soon as the last one is answered, until
    /// `limit` has passed or `enough` requests succeeded.
    Closed {
        limit: Duration,
        enough: Option<u64>,
    },
    /// Request k is due at `start + k / rate` and goes on connection `k mod conns`; its latency
    /// counts from the due time (a busy connection sends it late, and that lateness counts).
    /// `total` requests; what is still unsent at `give_up` is not sent.
    Open {
        rate: u64,
        total: u64,
        start: Instant,
        give_up: Instant,
    },
}

pub struct Target<'a> {
    pub addr: SocketAddr,
    pub conns: usize,
    pub path: &'a str,
    pub timeout: Duration,
    /// A connection stops after this many failed requests in a row (the server is gone).
    pub max_errors_in_a_row: u32,
}

/// One answered request.
pub struct Answer<'a> {
    pub status: u16,
    pub body: &'a [u8],
}

/// What the driver reports back: each answer or failure with its latency, and the requests it
/// never sent.
pub trait Report {
    /// Returns whether the request succeeded (it counts towards `enough`).
    fn answered(&mut self, answer: Result<Answer<'_>, String>, latency: Duration) -> bool;
    fn unsent(&mut self, n: u64);
}

struct Conn {
    stream: Option<TcpStream>,
    connected: bool,
    out: Vec<u8>,
    written: usize,
    inbuf: Vec<u8>,
    /// The due time of the request in flight, and when it times out.
    busy: Option<(Instant, Instant)>,
    /// Open loop: the next request number of this connection; closed loop: how many it sent.
    next: u64,
    /// After a failure, the next request waits until then.
    not_before: Instant,
    errors_in_a_row: u32,
    done: bool,
}

/// POSTs `body(n)` (n counting from 0 per phase, unique across connections) to `target.path`
/// at `pace`; returns the time from the start of the phase to its last answer.
pub fn drive(
    target: &Target<'_>,
    pace: Pace,
    mut body: impl FnMut(u64) -> Vec<u8>,
    report: &mut impl Report,
) -> io::Result<Duration> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(1024);
    let started = match pace {
        Pace::Open { start, .. } => start,
        Pace::Closed { .. } => Instant::now(),
    };
    let mut conns: Vec<Conn> = (0..target.conns)
        .map(|c| Conn {
            stream: None,
            connected: false,
            out: Vec::new(),
            written: 0,
            inbuf: Vec::with_capacity(16 * 1024),
            busy: None,
            next: c as u64,
            not_before: started,
            errors_in_a_row: 0,
            done: false,
        })
        .collect();
    let host = target.addr.to_string();
    let mut succeeded = 0u64;
    let mut sent = 0u64;
    let mut last_answer = started;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let now = Instant::now();
        let stopping = match pace {
            Pace::Closed { limit, enough } => {
                now.duration_since(started) >= limit || enough.is_some_and(|e| succeeded >= e)
            }
            Pace::Open { .. } => false,
        };
        let mut wake: Option<Instant> = None;
        let mut soonest = |t: Instant| wake = Some(wake.map_or(t, |w: Instant| w.min(t)));
        for (i, conn) in conns.iter_mut().enumerate() {
            if let Some((_, deadline)) = conn.busy {
                if now >= deadline {
                    fail(
                        conn,
                        &mut poll,
                        "no answer within the timeout".into(),
                        target,
                        report,
                        now,
                    );
                } else {
                    soonest(deadline);
                }
                continue;
            }
            if conn.done {
                continue;
            }
            // The next request of this connection, if one is due.
            let due = match pace {
                Pace::Closed { .. } if stopping => {
                    conn.done = true;
                    continue;
                }
                Pace::Closed { .. } => now.max(conn.not_before),
                Pace::Open {
                    rate,
                    total,
                    start,
                    give_up,
                } => {
                    if conn.next >= total {
                        conn.done = true;
                        continue;
                    }
                    if now > give_up {
                        report.unsent((total - conn.next).div_ceil(target.conns as u64));
                        conn.done = true;
                        continue;
                    }
                    start + Duration::from_nanos(conn.next * 1_000_000_000 / rate)
                }
            };
            let send_at = due.max(conn.not_before);
            if send_at > now {
                soonest(send_at);
                continue;
            }
            let n = match pace {
                Pace::Open { .. } => conn.next,
                Pace::Closed { .. } => sent,
            };
            sent += 1;
            conn.next += match pace {
                Pace::Open { .. } => target.conns as u64,
                Pace::Closed { .. } => 1,
            };
            conn.out = request(target.path, &host, &body(n));
            conn.written = 0;
            conn.busy = Some((due, now + target.timeout));
            soonest(now + target.timeout);
            if conn.stream.is_none() {
                match TcpStream::connect(target.addr) {
                    Ok(mut s) => {
                        let _ = s.set_nodelay(true);
                        poll.registry().register(
                            &mut s,
                            Token(i),
                            Interest::READABLE | Interest::WRITABLE,
                        )?;
                        conn.stream = Some(s);
                        conn.connected = false;
                    }
                    Err(e) => {
                        fail(
                            conn,
                            &mut poll,
                            format!("connect: {e}"),
                            target,
                            report,
                            now,
                        );
                        continue;
                    }
                }
            } else if let Err(e) = flush(conn) {
                fail(conn, &mut poll, e.to_string(), target, report, now);
            }
        }
        if conns.iter().all(|c| c.done && c.busy.is_none()) {
            break;
        }
        let timeout = wake
            .map(|w| w.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::from_millis(10))
            .min(Duration::from_millis(10));
        poll.poll(&mut events, Some(timeout))?;
        for event in events.iter() {
            let i = event.token().0;
            let conn = &mut conns[i];
            let now = Instant::now();
            if conn.stream.is_none() {
                continue;
            }
            if event.is_writable() && !conn.connected {
                let stream = conn.stream.as_ref().expect("checked above");
                match finished_connecting(stream) {
                    Ok(true) => conn.connected = true,
                    Ok(false) => continue,
                    Err(e) => {
                        fail(
                            conn,
                            &mut poll,
                            format!("connect: {e}"),
                            target,
                            report,
                            now,
                        );
                        continue;
                    }
                }
            }
            if conn.connected
                && event.is_writable()
                && let Err(e) = flush(conn)
            {
                fail(conn, &mut poll, e.to_string(), target, report, now);
                continue;
            }
            if event.is_readable() || event.is_read_closed() {
                match receive(conn, &mut buf) {
                    Ok(closed) => {
                        while let Some(parsed) = parse(&conn.inbuf) {
                            let Some((due, _)) = conn.busy.take() else {
                                break;
                            };
                            let latency = now.saturating_duration_since(due);
                            let (used, keep_alive) = match parsed {
                                Ok((status, start, len, keep_alive)) => {
                                    let answer = Answer {
                                        status,
                                        body: &conn.inbuf[start..start + len],
                                    };
                                    if report.answered(Ok(answer), latency) {
                                        succeeded += 1;
                                        conn.errors_in_a_row = 0;
                                    } else {
                                        count_error(conn, target, now);
                                    }
                                    (start + len, keep_alive)
                                }
                                Err(e) => {
                                    report.answered(Err(e), latency);
                                    count_error(conn, target, now);
                                    (conn.inbuf.len(), false)
                                }
                            };
                            last_answer = now;
                            conn.inbuf.drain(..used);
                            if !keep_alive {
                                drop_stream(conn, &mut poll);
                                break;
                            }
                        }
                        if closed && conn.stream.is_some() {
                            if conn.busy.is_some() {
                                fail(
                                    conn,
                                    &mut poll,
                                    "the server closed the connection".into(),
                                    target,
                                    report,
                                    now,
                                );
                            } else {
                                drop_stream(conn, &mut poll);
                            }
                        }
                    }
                    Err(e) => fail(conn, &mut poll, e.to_string(), target, report, now),
                }
            }
        }
    }
    Ok(last_answer.saturating_duration_since(started))
}

/// Whether a connection being opened is open now (`Ok(false)`: not yet).
fn finished_connecting(stream: &TcpStream) -> io::Result<bool> {
    if let Some(e) = stream.take_error()? {
        return Err(e);
    }
    match stream.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

fn request(path: &str, host: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Writes what is left of the request; a full socket buffer waits for the next writable event.
fn flush(conn: &mut Conn) -> io::Result<()> {
    if !conn.connected {
        return Ok(());
    }
    let Some(stream) = conn.stream.as_mut() else {
        return Ok(());
    };
    while conn.written < conn.out.len() {
        match stream.write(&conn.out[conn.written..]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "wrote nothing")),
            Ok(n) => conn.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads everything available; true when the server closed its side.
fn receive(conn: &mut Conn, buf: &mut [u8]) -> io::Result<bool> {
    let Some(stream) = conn.stream.as_mut() else {
        return Ok(false);
    };
    loop {
        match stream.read(buf) {
            Ok(0) => return Ok(true),
            Ok(n) => conn.inbuf.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A complete response at the start of `data`: (status, body start, body length, keep-alive);
/// `None` while incomplete.
type Parsed = Result<(u16, usize, usize, bool), String>;

fn parse(data: &[u8]) -> Option<Parsed> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(data) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return None,
        Err(e) => return Some(Err(format!("a malformed response: {e}"))),
    };
    let status = response.code.unwrap_or(0);
    let mut length = None;
    let mut keep_alive = response.version == Some(1);
    for h in response.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            length = std::str::from_utf8(h.value)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok());
        } else if h.name.eq_ignore_ascii_case("connection") {
            keep_alive = !h.value.eq_ignore_ascii_case(b"close");
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Some(Err(
                "a chunked response (the driver reads Content-Length answers)".into(),
            ));
        }
    }
    let length = length.unwrap_or(0);
    if data.len() < head + length {
        return None;
    }
    Some(Ok((status, head, length, keep_alive)))
}

fn drop_stream(conn: &mut Conn, poll: &mut Poll) {
    if let Some(mut s) = conn.stream.take() {
        let _ = poll.registry().deregister(&mut s);
    }
    conn.connected = false;
    conn.inbuf.clear();
}

fn count_error(conn: &mut Conn, target: &Target<'_>, now: Instant) {
    conn.errors_in_a_row += 1;
    conn.not_before = now + Duration::from_millis(10);
    if conn.errors_in_a_row >= target.max_errors_in_a_row {
        conn.done = true;
    }
}

/// The request in flight (if any) failed; the connection is dropped and reopened for the next.
fn fail(
    conn: &mut Conn,
    poll: &mut Poll,
    error: String,
    target: &Target<'_>,
    report: &mut impl Report,
    now: Instant,
) {
    if let Some((due, _)) = conn.busy.take() {
        report.answered(Err(error), now.saturating_duration_since(due));
    }
    count_error(conn, target, now);
    drop_stream(conn, poll);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse_only_when_complete() {
        let full = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        assert!(parse(&full[..20]).is_none());
        assert!(parse(&full[..full.len() - 1]).is_none());
        let (status, start, len, keep) = parse(full).unwrap().unwrap();
        assert_eq!(
            (status, &full[start..start + len], keep),
            (200, &b"hello"[..], true)
        );
        let close = b"HTTP/1.1 503 Busy\r\nConnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(!parse(close).unwrap().unwrap().3);
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap()
                .is_err()
        );
        assert!(parse(b"NOT HTTP\r\n\r\n").unwrap().is_err());
    }
}
