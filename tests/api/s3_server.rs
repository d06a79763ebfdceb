//! moto's S3-compatible server (`moto_server`, installed by `scripts/s3-server`) per test, on
//! a free port, with one bucket; killed when dropped.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::redis_server::free_port;

const START_WAIT: Duration = Duration::from_secs(30);

pub struct S3Server {
    pub port: u16,
    pub bucket: String,
    child: Child,
}

impl S3Server {
    /// Starts the server and creates the bucket.
    pub async fn start() -> S3Server {
        let script = crate::helpers::repo_root().join("scripts/s3-server");
        let installed = Command::new(&script).arg("--install").stderr(Stdio::inherit()).output();
        let installed = installed.expect("scripts/s3-server runs");
        assert!(installed.status.success(), "scripts/s3-server --install failed");
        let binary = String::from_utf8(installed.stdout).expect("a path").trim().to_owned();
        let port = free_port();
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let deadline = Instant::now() + START_WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen within {START_WAIT:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let server = S3Server { port, bucket: "baton-files".into(), child };
        let created = reqwest::Client::new().put(format!("{}/{}", server.endpoint(), server.bucket)).send().await;
        assert!(created.expect("bucket request").status().is_success(), "moto created the bucket");
        server
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The settings that put a node's attachments in this bucket.
    pub fn configure(&self, settings: &mut baton::config::Settings) {
        let files = &mut settings.attachments;
        files.s3_bucket = Some(self.bucket.clone());
        files.s3_endpoint = Some(self.endpoint());
        files.s3_allow_http = true;
        files.s3_access_key_id = Some("testing".into());
        files.s3_secret_access_key = Some("testing".to_owned().into());
    }

    /// Keys in the bucket (moto's listing, read straight from the server).
    pub async fn keys(&self) -> Vec<String> {
        let url = format!("{}/{}?list-type=2", self.endpoint(), self.bucket);
        let body = reqwest::get(url).await.expect("list the bucket").text().await.expect("a listing");
        body.split("<Key>").skip(1).filter_map(|part| part.split("</Key>").next()).map(str::to_owned).collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
