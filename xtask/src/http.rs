//! Plain HTTP to the loopback for readiness polling and the API calls of `bench`, through `ureq`:
//! one agent per [`Client`], so its requests go over one keep-alive connection (reopened when the
//! server closed it) and measured round trips stay comparable. Configured like a bare client: no
//! proxy from the environment, no redirects, no automatic `User-Agent` or `Accept`, and a 4xx or
//! 5xx answer is a response for the caller to inspect, not an error. The fixed-rate load goes
//! through [`crate::bench::driver`] instead.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;

use ureq::Agent;
use ureq::config::AutoHeaderValue;
use ureq::http::{Method, Request};

/// A whole response: status, headers and the body read to its end.
pub type Response = ureq::http::Response<Vec<u8>>;

/// The first value of header `name` (case-insensitive), if it is text.
pub fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name)?.to_str().ok()
}

/// The body as text, invalid UTF-8 replaced.
pub fn text(resp: &Response) -> Cow<'_, str> {
    String::from_utf8_lossy(resp.body())
}

/// Requests to one server over a reused connection.
pub struct Client {
    agent: Agent,
    base: String,
}

impl Client {
    /// `timeout` bounds the connect and every later read and write on the socket.
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .user_agent(AutoHeaderValue::None)
            .accept(AutoHeaderValue::None)
            // Kept as long as the server keeps it (ureq's default drops it after 15 s idle).
            .max_idle_age(Duration::MAX)
            .timeout_connect(Some(timeout))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            .build();
        Client {
            agent: config.into(),
            base: format!("http://{addr}"),
        }
    }

    #[cfg(test)]
    pub fn get(&self, path: &str) -> Result<Response, ureq::Error> {
        self.request("GET", path, &[], None)
    }

    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Response, ureq::Error> {
        self.request("POST", path, &[("Content-Type", content_type)], Some(body))
    }

    /// Sends one request and reads its whole response.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, ureq::Error> {
        let method = Method::from_bytes(method.as_bytes()).map_err(ureq::http::Error::from)?;
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = match body {
            Some(body) => self.agent.run(request.body(body)?)?,
            None => self.agent.run(request.body(())?)?,
        };
        let (parts, mut body) = answer.into_parts();
        // Read to the end (no size limit), which also hands the connection back for reuse.
        let body = body.with_config().limit(u64::MAX).read_to_vec()?;
        Ok(Response::from_parts(parts, body))
    }
}

/// One GET on a fresh connection, closed afterwards.
pub fn get_once(addr: SocketAddr, path: &str, timeout: Duration) -> Result<Response, ureq::Error> {
    Client::new(addr, timeout).request("GET", path, &[("Connection", "close")], None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::thread;

    /// Serves `responses` in order, each on the connection it is accepted on or the one before;
    /// returns the raw requests it read and how many connections it accepted.
    fn serve(responses: Vec<&'static str>) -> (SocketAddr, thread::JoinHandle<(Vec<String>, u32)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut connections = 1;
            let mut reader = BufReader::new(stream);
            let mut requests = Vec::new();
            for response in responses {
                let mut request = String::new();
                let mut content_length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap() == 0 {
                        // The client closed this connection: the request comes on a new one.
                        reader = BufReader::new(listener.accept().unwrap().0);
                        connections += 1;
                        continue;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length: ") {
                        content_length = v.trim().parse().unwrap();
                    }
                    request.push_str(&lower);
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
            (requests, connections)
        });
        (addr, handle)
    }

    #[test]
    fn keeps_the_connection_and_hands_back_error_statuses() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nETag: \"3\"\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope",
            "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n",
        ]);
        let client = Client::new(addr, Duration::from_secs(5));
        let r = client.get("/healthz").unwrap();
        assert_eq!((r.status().as_u16(), text(&r).as_ref()), (200, "ok"));
        let r = client
            .post("/hook", "application/json", br#"{"a":1}"#)
            .unwrap();
        assert_eq!((r.status().as_u16(), text(&r).as_ref()), (201, "Wikipedia"));
        assert_eq!(header(&r, "etag"), Some("\"3\""));
        let r = client.get("/missing").unwrap();
        assert_eq!((r.status().as_u16(), text(&r).as_ref()), (404, "nope"));
        let r = client.get("/moved").unwrap();
        assert_eq!(r.status().as_u16(), 302, "redirects are not followed");

        let (requests, connections) = server.join().unwrap();
        assert_eq!(connections, 1, "one keep-alive connection");
        assert!(requests[0].starts_with("get /healthz http/1.1\r\nhost: 127.0.0.1:"));
        assert!(!requests[0].contains("user-agent"), "{}", requests[0]);
        assert!(!requests[0].contains("accept"), "{}", requests[0]);
        assert!(requests[1].starts_with("post /hook http/1.1\r\n"));
        assert!(requests[1].contains("content-type: application/json\r\n"));
        assert!(requests[1].contains("content-length: 7\r\n"));
        assert!(requests[1].ends_with("\r\n\r\n{\"a\":1}"));
    }

    #[test]
    fn a_closed_connection_is_reopened() {
        let (addr, server) = serve(vec![
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb",
        ]);
        let client = Client::new(addr, Duration::from_secs(5));
        assert_eq!(text(&client.get("/").unwrap()), "a");
        assert_eq!(text(&client.get("/").unwrap()), "b");
        let (_, connections) = server.join().unwrap();
        assert_eq!(connections, 2);
        // The server is gone now: reconnecting is attempted and fails.
        assert!(client.get("/").is_err());
    }

    #[test]
    fn body_until_close_without_length() {
        let (addr, server) = serve(vec!["HTTP/1.0 200 OK\r\n\r\nall of it"]);
        let handle = thread::spawn(move || get_once(addr, "/", Duration::from_secs(5)).unwrap());
        // The test server drops the connection after its scripted responses.
        let (requests, _) = server.join().unwrap();
        assert!(requests[0].contains("connection: close\r\n"));
        assert_eq!(text(&handle.join().unwrap()), "all of it");
    }
}
