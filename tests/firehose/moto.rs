//! moto as a local Firehose with an S3 destination: started by
//! `integration/servers.sh start-moto`, one shared by the whole test binary
//! (each test uses its own bucket and stream) or a private one for tests
//! that stop it.
//!
//! moto routes a request by its SigV4 `Authorization` header and never
//! checks the signature: the SDK signs with test credentials, and the S3
//! helpers send a header of the right shape. Every `PutRecordBatch` becomes
//! one S3 object at once. Object keys and times only resolve to the second,
//! so [`delivered`] orders objects by moto's own model registry
//! (`/moto-api/data.json` lists every S3 key in the order it was created)
//! and checks that registry against `ListObjectsV2`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::ConfigLoader;
use aws_config::retry::RetryConfig;
use aws_sdk_firehose::config::Credentials;
use aws_sdk_firehose::types::ExtendedS3DestinationConfiguration;
use osticket_cdc::sink::{FirehoseConfig, FirehoseMode};

use crate::http::{Message, exchange};

/// The region every test uses.
pub const REGION: &str = "us-east-1";

/// A running moto server.
pub struct Moto {
    /// Its directory (pid file, log); the server is stopped on drop.
    dir: tempfile::TempDir,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Moto {
    /// The server shared by every test of this binary.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(|| {
            let moto = Moto::new(free_port());
            moto.start();
            moto
        })
    }

    /// A private server on `port`, not started yet.
    pub fn new(port: u16) -> Moto {
        let dir = tempfile::Builder::new()
            .prefix("osticket-cdc-moto")
            .tempdir()
            .unwrap();
        stop_when_tests_end(dir.path());
        Moto { dir, port }
    }

    /// Starts (or restarts, with empty state) the server. Blocks.
    pub fn start(&self) {
        let status = Command::new(servers_sh())
            .arg("start-moto")
            .arg(self.dir.path())
            .arg(self.port.to_string())
            .status()
            .expect("integration/servers.sh runs");
        assert!(
            status.success(),
            "moto did not start (run `integration/servers.sh install`)"
        );
    }

    /// Stops the server and waits until it is gone. Blocks.
    pub fn stop(&self) {
        let _ = Command::new(servers_sh())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }

    /// Where the SDK or the proxy reaches it.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

fn servers_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("integration/servers.sh")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops the servers in `dir` and removes it when this test process ends,
/// however it ends (the shared server is in a static and never dropped).
fn stop_when_tests_end(dir: &Path) {
    let watcher = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; '{}' stop '{}' >/dev/null 2>&1; \
         rm -rf '{}'",
        std::process::id(),
        servers_sh().display(),
        dir.display(),
        dir.display()
    );
    // Never waited for: the watcher outlives this process by design.
    #[allow(clippy::zombie_processes)]
    Command::new("setsid")
        .args(["sh", "-c", &watcher])
        .spawn()
        .unwrap();
}

/// Sink settings for `stream` behind `endpoint_url`, in `mode`.
pub fn sink_config(stream: &str, endpoint_url: &str, mode: FirehoseMode) -> FirehoseConfig {
    let mut config = FirehoseConfig::new(stream);
    config.region = Some(REGION.to_owned());
    config.endpoint_url = Some(endpoint_url.to_owned());
    config.mode = mode;
    config.timeout_secs = 5;
    config
}

/// The sink's own SDK loader plus test credentials (passed explicitly, not
/// through the process environment, which parallel tests share) and a
/// retry backoff of milliseconds instead of seconds.
pub fn test_loader(config: &FirehoseConfig) -> ConfigLoader {
    let retry = RetryConfig::standard()
        .with_initial_backoff(Duration::from_millis(5))
        .with_max_backoff(Duration::from_millis(50));
    config
        .sdk_config_loader()
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .retry_config(retry)
}

/// Creates `bucket` and a delivery stream `stream` writing to it.
pub async fn create_stream(moto: SocketAddr, stream: &str, bucket: &str) {
    let created = s3(moto, "PUT", &format!("/{bucket}")).await;
    assert_eq!(created.status(), 200, "{created:?}");

    let config = sink_config(stream, &format!("http://{moto}"), FirehoseMode::Ordered);
    let client = aws_sdk_firehose::Client::new(&test_loader(&config).load().await);
    let destination = ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose-test")
        .bucket_arn(format!("arn:aws:s3:::{bucket}"))
        .build()
        .unwrap();
    client
        .create_delivery_stream()
        .delivery_stream_name(stream)
        .extended_s3_destination_configuration(destination)
        .send()
        .await
        .expect("moto creates the delivery stream");
}

/// Deletes the delivery stream `stream`.
pub async fn delete_stream(moto: SocketAddr, stream: &str) {
    let config = sink_config(stream, &format!("http://{moto}"), FirehoseMode::Ordered);
    let client = aws_sdk_firehose::Client::new(&test_loader(&config).load().await);
    client
        .delete_delivery_stream()
        .delivery_stream_name(stream)
        .send()
        .await
        .expect("moto deletes the delivery stream");
}

/// How many objects moto holds in `bucket` (without reading them).
pub async fn object_count(moto: SocketAddr, bucket: &str) -> usize {
    let request = Message::request("GET", "/moto-api/data.json", moto, Vec::new());
    let models = exchange(moto, request).await.unwrap().json();
    models["s3"]["FakeKey"].as_array().map_or(0, |keys| {
        keys.iter().filter(|k| k["bucket_name"] == bucket).count()
    })
}

/// The objects of `bucket` in the order moto created them (one per
/// accepted `PutRecordBatch`), their bytes as stored.
pub async fn delivered(moto: SocketAddr, bucket: &str) -> Vec<Vec<u8>> {
    // moto's registry of model instances keeps creation order.
    let request = Message::request("GET", "/moto-api/data.json", moto, Vec::new());
    let models = exchange(moto, request).await.unwrap().json();
    let keys: Vec<String> = models["s3"]["FakeKey"]
        .as_array()
        .expect("moto lists its S3 keys")
        .iter()
        .filter(|key| key["bucket_name"] == bucket)
        .map(|key| key["name"].as_str().unwrap().to_owned())
        .collect();

    // The same keys as S3 lists them: nothing missed, nothing extra.
    let listing = s3(moto, "GET", &format!("/{bucket}?list-type=2&max-keys=1000")).await;
    let listing = String::from_utf8(listing.body).unwrap();
    assert!(
        listing.contains("<IsTruncated>false</IsTruncated>"),
        "{listing}"
    );
    let mut listed: Vec<&str> = listing
        .split("<Key>")
        .skip(1)
        .map(|rest| rest.split("</Key>").next().unwrap())
        .collect();
    let mut registered: Vec<&str> = keys.iter().map(String::as_str).collect();
    listed.sort_unstable();
    registered.sort_unstable();
    assert_eq!(
        registered, listed,
        "moto's registry and ListObjectsV2 disagree"
    );

    let mut objects = Vec::with_capacity(keys.len());
    for key in &keys {
        let object = s3(moto, "GET", &format!("/{bucket}/{key}")).await;
        assert_eq!(object.status(), 200, "{key}: {object:?}");
        objects.push(object.body);
    }
    objects
}

/// One S3 request to moto, with an `Authorization` header of the shape
/// moto needs to route it to S3 and treat it as authenticated.
async fn s3(moto: SocketAddr, method: &str, target: &str) -> Message {
    let mut request = Message::request(method, target, moto, Vec::new());
    let credential = format!("test/20260101/{REGION}/s3/aws4_request");
    request.set_header(
        "Authorization",
        &format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"),
    );
    exchange(moto, request).await.unwrap()
}
