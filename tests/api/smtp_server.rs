//! A real SMTP server for the email tests: aiosmtpd (installed by `scripts/smtp-server`
//! into a venv when missing) on a free port, writing each message it accepts to a folder
//! that the tests read.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{TempDir, repo_root};
use crate::redis_server::free_port;

/// How long a test waits for an email to arrive.
const MAIL_WAIT: Duration = Duration::from_secs(20);

pub struct SmtpServer {
    pub port: u16,
    child: Option<Child>,
    dir: TempDir,
    auth: Option<String>,
}

/// One delivered email, as the server received it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub raw: String,
}

impl Delivered {
    /// A header's value (the first one of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        head.lines().find_map(|l| {
            let (key, value) = l.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_owned())
        })
    }

    /// The body, decoded from quoted-printable or base64 (lettre picks the shorter one when
    /// a line is too long for 7bit).
    pub fn body(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        match self.header("Content-Transfer-Encoding").map(|e| e.to_ascii_lowercase()).as_deref() {
            Some("quoted-printable") => decode_quoted_printable(body),
            Some("base64") => decode_base64(body),
            _ => body.replace("\r\n", "\n"),
        }
    }

    /// The resume link's token (`…/v1/resume?t=TOKEN`).
    pub fn resume_token(&self) -> String {
        let body = self.body();
        let start = body.find("/v1/resume?t=").expect("a resume link in the email") + "/v1/resume?t=".len();
        body[start..].split_whitespace().next().unwrap().to_owned()
    }
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::on_port(free_port(), None)
    }

    /// A server that requires AUTH with `user:password`.
    pub fn with_auth(auth: &str) -> SmtpServer {
        SmtpServer::on_port(free_port(), Some(auth.to_owned()))
    }

    /// A server on `port` (a test that first let the port refuse connections).
    pub fn on_port(port: u16, auth: Option<String>) -> SmtpServer {
        let mut server = SmtpServer { port, child: None, dir: TempDir::new("smtp"), auth };
        server.run();
        server
    }

    fn run(&mut self) {
        let script = repo_root().join("scripts/smtp-server");
        let mut command = Command::new(script);
        command.args(["--port", &self.port.to_string(), "--dir"]).arg(self.folder());
        if let Some(auth) = &self.auth {
            command.env("BATON_SMTP_AUTH", auth);
        }
        let child = command.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("scripts/smtp-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "the SMTP server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn folder(&self) -> PathBuf {
        self.dir.0.join("mail")
    }

    /// The emails delivered so far, in arrival order.
    pub fn delivered(&self) -> Vec<Delivered> {
        let Ok(entries) = std::fs::read_dir(self.folder()) else { return Vec::new() };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| Delivered { raw: std::fs::read_to_string(p).unwrap() }).collect()
    }

    /// Waits until `count` emails were delivered; returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Delivered> {
        let deadline = Instant::now() + MAIL_WAIT;
        loop {
            let delivered = self.delivered();
            if delivered.len() >= count {
                return delivered;
            }
            assert!(Instant::now() < deadline, "expected {count} emails, got {}", delivered.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The script `exec`s python, so this pid is the server itself.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("\r\n", "\n");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=').then(|| joined.get(i + 1..i + 3)).flatten();
        if let Some(byte) = escaped.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut bits, mut count) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == c) else { continue };
        bits = bits << 6 | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}
