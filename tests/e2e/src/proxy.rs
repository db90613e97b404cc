//! A fault-injecting loopback HTTP proxy between the keeper and the
//! validator's JSON-RPC port. Each request draws one outcome, from a seeded
//! generator, by the shares of [`Faults`]: forwarded untouched, delayed
//! then forwarded, dropped (connection closed, no answer), reset (TCP RST),
//! answered `429 Too Many Requests` or `503 Service Unavailable` without
//! reaching the validator, or forwarded with its answer lost (the validator
//! did the work, e.g. ran a transaction, but the client never hears of it:
//! the case where a blind resend would act twice).
//!
//! HTTP/1.1 only as far as JSON-RPC needs: a request line, headers, a
//! `Content-Length` body; keep-alive towards the client, one upstream
//! connection per request (`Connection: close`), chunked answers decoded.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// Shares of requests given each fault, in [0, 1]; the rest are forwarded.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Delayed by `delay` before being forwarded.
    pub delay: f64,
    /// How long a delayed request waits.
    pub delay_by: Duration,
    /// Connection closed without an answer, before forwarding.
    pub drop: f64,
    /// Connection reset (RST), before forwarding.
    pub reset: f64,
    /// Answered 429 with `Retry-After: 1`.
    pub too_many: f64,
    /// Answered 503.
    pub server_error: f64,
    /// Forwarded, then the connection closed without the answer.
    pub lose_answer: f64,
    /// Seed of the draw.
    pub seed: u64,
}

impl Faults {
    /// The sum of the fault shares (the share of requests not forwarded
    /// untouched).
    pub fn total(&self) -> f64 {
        self.delay + self.drop + self.reset + self.too_many + self.server_error + self.lose_answer
    }
}

/// What the proxy did, by outcome.
#[derive(Debug, Default)]
pub struct Counts {
    /// Requests read.
    pub requests: AtomicU64,
    /// Forwarded untouched.
    pub forwarded: AtomicU64,
    /// Delayed (then forwarded).
    pub delayed: AtomicU64,
    /// Dropped.
    pub dropped: AtomicU64,
    /// Reset.
    pub reset: AtomicU64,
    /// Answered 429.
    pub too_many: AtomicU64,
    /// Answered 503.
    pub server_error: AtomicU64,
    /// Forwarded, answer lost.
    pub lost_answers: AtomicU64,
    /// Requests whose body holds `sendTransaction`, by any outcome.
    pub send_transaction: AtomicU64,
}

impl Counts {
    /// `(name, value)` of every counter.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        vec![
            ("requests", g(&self.requests)),
            ("forwarded", g(&self.forwarded)),
            ("delayed", g(&self.delayed)),
            ("dropped", g(&self.dropped)),
            ("reset", g(&self.reset)),
            ("429", g(&self.too_many)),
            ("503", g(&self.server_error)),
            ("lost_answers", g(&self.lost_answers)),
            ("sendTransaction", g(&self.send_transaction)),
        ]
    }
}

enum Outcome {
    Forward,
    Delay,
    Drop,
    Reset,
    TooMany,
    ServerError,
    LoseAnswer,
}

/// SplitMix64: a uniform draw in [0, 1) for request `n`.
fn draw(seed: u64, n: u64) -> f64 {
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn pick(f: &Faults, u: f64) -> Outcome {
    let mut acc = 0.0;
    for (share, o) in [
        (f.delay, Outcome::Delay),
        (f.drop, Outcome::Drop),
        (f.reset, Outcome::Reset),
        (f.too_many, Outcome::TooMany),
        (f.server_error, Outcome::ServerError),
        (f.lose_answer, Outcome::LoseAnswer),
    ] {
        acc += share;
        if u < acc {
            return o;
        }
    }
    Outcome::Forward
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    /// Where clients connect (`http://{addr}`).
    pub addr: SocketAddr,
    /// What it did.
    pub counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
    held: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr, faults: Faults) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicBool::new(false));
        let handle = {
            let (counts, stop, held) = (counts.clone(), stop.clone(), held.clone());
            std::thread::spawn(move || {
                let serial = Arc::new(AtomicU64::new(0));
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let (counts, serial, held) =
                                (counts.clone(), serial.clone(), held.clone());
                            std::thread::spawn(move || {
                                let _ = serve(conn, upstream, faults, &counts, &serial, &held);
                            });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Ok(Self {
            addr,
            counts,
            stop,
            held,
            handle: Some(handle),
        })
    }

    /// Holds every new request (it waits, unanswered) while `on`: the
    /// client's counters and the proxy's can then be compared at rest.
    pub fn hold(&self, on: bool) {
        self.held.store(on, Ordering::Relaxed);
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// One request: the request line, headers (name lowercased, value) and body.
struct Request {
    line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one request; `None` when the client closed the connection.
fn read_request(r: &mut BufReader<TcpStream>) -> Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut headers = vec![];
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 {
            bail!("connection closed inside the headers");
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse())
        .transpose()?
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(Some(Request {
        line: line.trim_end().to_string(),
        headers,
        body,
    }))
}

fn respond(w: &mut TcpStream, status: &str, extra: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: keep-alive\r\n\r\n",
        body.len()
    );
    w.write_all(head.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

/// Sets SO_LINGER to 0, so that closing the socket sends a RST.
fn set_linger_zero(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid fd and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn serve(
    conn: TcpStream,
    upstream: SocketAddr,
    faults: Faults,
    counts: &Counts,
    serial: &AtomicU64,
    held: &AtomicBool,
) -> Result<()> {
    conn.set_nonblocking(false)?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    while let Some(req) = read_request(&mut reader)? {
        while held.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let n = serial.fetch_add(1, Ordering::Relaxed);
        counts.requests.fetch_add(1, Ordering::Relaxed);
        if req.body.windows(15).any(|w| w == b"sendTransaction") {
            counts.send_transaction.fetch_add(1, Ordering::Relaxed);
        }
        match pick(&faults, draw(faults.seed, n)) {
            Outcome::Drop => {
                counts.dropped.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Outcome::Reset => {
                counts.reset.fetch_add(1, Ordering::Relaxed);
                set_linger_zero(&writer);
                return Ok(());
            }
            Outcome::TooMany => {
                counts.too_many.fetch_add(1, Ordering::Relaxed);
                respond(
                    &mut writer,
                    "429 Too Many Requests",
                    "retry-after: 1\r\n",
                    b"Too many requests for a specific RPC call",
                )?;
            }
            Outcome::ServerError => {
                counts.server_error.fetch_add(1, Ordering::Relaxed);
                respond(
                    &mut writer,
                    "503 Service Unavailable",
                    "",
                    b"upstream unavailable",
                )?;
            }
            Outcome::LoseAnswer => {
                counts.lost_answers.fetch_add(1, Ordering::Relaxed);
                let _ = forward(&req, upstream)?;
                return Ok(());
            }
            Outcome::Delay => {
                counts.delayed.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(faults.delay_by);
                let (status, body) = forward(&req, upstream)?;
                respond(&mut writer, &status, "", &body)?;
            }
            Outcome::Forward => {
                counts.forwarded.fetch_add(1, Ordering::Relaxed);
                let (status, body) = forward(&req, upstream)?;
                respond(&mut writer, &status, "", &body)?;
            }
        }
    }
    Ok(())
}

/// Sends `req` to `upstream` on a fresh connection; returns the answer's
/// status (e.g. `200 OK`) and body.
fn forward(req: &Request, upstream: SocketAddr) -> Result<(String, Vec<u8>)> {
    let mut up = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))?;
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{}\r\n", req.line);
    for (k, v) in &req.headers {
        if !matches!(k.as_str(), "connection" | "keep-alive" | "content-length") {
            head += &format!("{k}: {v}\r\n");
        }
    }
    head += &format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        req.body.len()
    );
    up.write_all(head.as_bytes())?;
    up.write_all(&req.body)?;
    let mut raw = vec![];
    up.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("upstream answer without headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_once(' ').map(|(_, s)| s.to_string()))
        .context("upstream status line")?;
    let chunked = lines
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding") && l.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>> {
    let mut out = vec![];
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("chunk size line")?;
        let size_text = String::from_utf8_lossy(&b[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(b.get(..size).context("short chunk")?);
        b = b.get(size + 2..).context("chunk end")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough_and_shares_are_respected() {
        let f = Faults {
            drop: 0.1,
            too_many: 0.2,
            ..Default::default()
        };
        let n = 100_000;
        let (mut drops, mut many, mut fwd) = (0, 0, 0);
        for i in 0..n {
            match pick(&f, draw(7, i)) {
                Outcome::Drop => drops += 1,
                Outcome::TooMany => many += 1,
                Outcome::Forward => fwd += 1,
                _ => unreachable!(),
            }
        }
        assert!((drops as f64 / n as f64 - 0.1).abs() < 0.005, "{drops}");
        assert!((many as f64 / n as f64 - 0.2).abs() < 0.005, "{many}");
        assert_eq!(drops + many + fwd, n);
    }

    #[test]
    fn chunked_answers_are_decoded() {
        assert_eq!(
            dechunk(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n").unwrap(),
            b"hello world"
        );
        assert!(dechunk(b"5\r\nhel").is_err());
    }
}
