//! Instant queries against a live Prometheus for `shipc preflight`: the one place of the library that
//! does IO, called only by the CLI.
//!
//! Each measurement is the query Argo's Prometheus provider sends (`/api/v1/query` at the measurement
//! time). Problems with the server itself (refused, unknown host, timeout, 401/403, an answer that is
//! not Prometheus's) stop the preflight with a message saying which; a query Prometheus rejects
//! (`status: error`) is an errored measurement, as in Argo.

use std::time::Duration;

use serde::Deserialize;

use super::argo::Reading;
use super::{Source, data};

/// How to reach Prometheus.
#[derive(Clone, Debug)]
pub struct Connection {
    /// Base URL (`https://prometheus.example.com`), without the API path.
    pub url: String,
    /// `Authorization` header value (`Bearer ...` or `Basic ...`).
    pub authorization: Option<String>,
    /// Limit for each request, connecting included.
    pub timeout: Duration,
}

/// A live Prometheus.
pub struct Prometheus {
    connection: Connection,
    agent: ureq::Agent,
    /// Milliseconds since the epoch now: later measurements cannot be asked for.
    now_ms: i64,
}

impl Prometheus {
    /// A client for `connection`; `now_ms` bounds the measurement times.
    pub fn new(connection: Connection, now_ms: i64) -> Prometheus {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(connection.timeout))
            .http_status_as_error(false)
            .build();
        Prometheus {
            agent: config.into(),
            connection,
            now_ms,
        }
    }

    /// Asks `/-/ready`-free `/api/v1/query?query=1`, so that an unreachable or refusing server is
    /// reported once, before any measurement.
    pub fn probe(&mut self) -> Result<(), String> {
        self.instant("1", None).map(|_| ())
    }

    /// The answer of `path` (`query`, `query_range`) to `params`, checked to be a Prometheus answer;
    /// a query Prometheus refuses is `Ok(Err(reason))`.
    fn api(&mut self, path: &str, params: &[(&str, String)]) -> Result<Result<String, String>, String> {
        let url = format!("{}/api/v1/{path}", self.connection.url.trim_end_matches('/'));
        let mut request = self.agent.get(&url);
        for (name, value) in params {
            request = request.query(*name, value);
        }
        if let Some(authorization) = &self.connection.authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = request.call().map_err(|error| self.describe(&error))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|error| format!("cannot read the answer of {url}: {error}"))?;
        match status {
            401 => {
                return Err(format!(
                    "{url} answered 401 Unauthorized: pass a token with --bearer-token-file, or user:password in the URL"
                ));
            }
            403 => {
                return Err(format!(
                    "{url} answered 403 Forbidden: the credentials given may not query this Prometheus"
                ));
            }
            _ => {}
        }
        let answer: Status = serde_json::from_str(&body).map_err(|_| {
            format!(
                "{url} answered {status} with something that is not a Prometheus API response (is --prometheus the Prometheus base URL?): {}",
                body.chars().take(120).collect::<String>().trim()
            )
        })?;
        if answer.status != "success" {
            return Ok(Err(format!(
                "{}: {}",
                answer.error_type.unwrap_or_else(|| "error".to_string()),
                answer.error.unwrap_or_default()
            )));
        }
        Ok(Ok(body))
    }

    fn instant(&mut self, query: &str, at_ms: Option<i64>) -> Result<Reading, String> {
        let mut params = vec![("query", query.to_string())];
        if let Some(at_ms) = at_ms {
            params.push(("time", seconds_text(at_ms)));
        }
        let body = match self.api("query", &params)? {
            Ok(body) => body,
            Err(refused) => return Ok(Reading::Error(refused)),
        };
        let recording = data::parse("answer.json", &body)
            .map_err(|error| format!("Prometheus answered something shipc cannot read: {}", error.message))?;
        Ok(Reading::Value(recording.at(at_ms.unwrap_or(i64::MAX))))
    }

    /// The unchanged `/api/v1/query_range` answer for `query` from `start_ms` to `end_ms`, sampled
    /// every `step_seconds`: a recording `shipc simulate` replays.
    pub fn range(&mut self, query: &str, start_ms: i64, end_ms: i64, step_seconds: u32) -> Result<String, String> {
        let params = [
            ("query", query.to_string()),
            ("start", seconds_text(start_ms)),
            ("end", seconds_text(end_ms)),
            ("step", format!("{step_seconds}s")),
        ];
        self.api("query_range", &params)?
            .map_err(|refused| format!("Prometheus refused the query: {refused}"))
    }

    fn describe(&self, error: &ureq::Error) -> String {
        let url = &self.connection.url;
        match error {
            ureq::Error::Timeout(_) => format!(
                "Prometheus at {url} did not answer within {}s (--timeout)",
                self.connection.timeout.as_secs()
            ),
            ureq::Error::HostNotFound => format!("cannot resolve the host of {url}"),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                format!("connection refused by {url}: is Prometheus running there?")
            }
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => format!(
                "Prometheus at {url} did not answer within {}s (--timeout)",
                self.connection.timeout.as_secs()
            ),
            other => format!("cannot query Prometheus at {url}: {other}"),
        }
    }
}

impl Source for Prometheus {
    fn query(&mut self, _template: &str, _metric: &str, query: &str, at_ms: i64) -> Result<Reading, String> {
        if at_ms > self.now_ms {
            return Err(format!(
                "a measurement falls at {}, which is in the future: start the release earlier (--at, --window)",
                super::render::utc_text(at_ms)
            ));
        }
        self.instant(query, Some(at_ms))
    }
}

fn seconds_text(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// The fields of an API answer that say whether the query worked.
#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `Basic <base64(user:password)>` for the user information of a URL.
pub fn basic_authorization(user_info: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = user_info.as_bytes();
    let mut encoded = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (position, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if position <= chunk.len() {
                let index = ((n >> shift) & 63) as usize;
                encoded.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                encoded.push('=');
            }
        }
    }
    format!("Basic {encoded}")
}

/// Splits `https://user:password@host/path` into the URL without its user information and that
/// information.
pub fn split_user_info(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(host_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => (format!("{scheme}://{host}{path}"), Some(user_info.to_string())),
        None => (url.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::expr::Value;

    #[test]
    fn basic_credentials_come_from_the_url() {
        assert_eq!(
            split_user_info("https://ops:s3cret@prom.example.com/prometheus"),
            (
                "https://prom.example.com/prometheus".to_string(),
                Some("ops:s3cret".to_string())
            )
        );
        assert_eq!(
            split_user_info("http://127.0.0.1:9090"),
            ("http://127.0.0.1:9090".to_string(), None)
        );
        assert_eq!(
            basic_authorization("Aladdin:open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(basic_authorization("ab"), "Basic YWI=");
    }

    /// A server on 127.0.0.1 that answers every request with `status` and `body`.
    fn canned(status: &'static str, body: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    fn client(url: String, timeout: Duration) -> Prometheus {
        let connection = Connection {
            url,
            authorization: None,
            timeout,
        };
        Prometheus::new(connection, i64::MAX)
    }

    #[test]
    fn answers_become_readings_or_named_errors() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.25"]}]}}"#;
        let mut prometheus = client(canned("200 OK", vector), Duration::from_secs(5));
        assert_eq!(
            prometheus.query("t", "m", "up", 1_700_000_000_000),
            Ok(Reading::Value(Value::Array(vec![Value::Number(0.25)])))
        );
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        let mut prometheus = client(canned("200 OK", empty), Duration::from_secs(5));
        assert_eq!(
            prometheus.query("t", "m", "up", 1_700_000_000_000),
            Ok(Reading::Value(Value::Array(Vec::new())))
        );
        let refused = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        let mut prometheus = client(canned("400 Bad Request", refused), Duration::from_secs(5));
        assert_eq!(
            prometheus.query("t", "m", "up(", 1_700_000_000_000),
            Ok(Reading::Error("bad_data: parse error".to_string()))
        );
        let mut prometheus = client(canned("401 Unauthorized", ""), Duration::from_secs(5));
        assert!(prometheus.probe().unwrap_err().contains("401 Unauthorized"));
        let mut prometheus = client(canned("403 Forbidden", ""), Duration::from_secs(5));
        assert!(prometheus.probe().unwrap_err().contains("403 Forbidden"));
        let mut prometheus = client(canned("200 OK", "<html>login</html>"), Duration::from_secs(5));
        assert!(
            prometheus
                .probe()
                .unwrap_err()
                .contains("not a Prometheus API response")
        );
    }

    #[test]
    fn a_silent_server_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let error = client(url, Duration::from_secs(1)).probe().unwrap_err();
        assert!(error.contains("did not answer within 1s"), "{error}");
        drop(listener);
    }

    #[test]
    fn connection_refused_is_named() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = client(format!("http://{closed}"), Duration::from_secs(2))
            .probe()
            .unwrap_err();
        assert!(error.contains("connection refused"), "{error}");
    }

    #[test]
    fn measurements_after_now_are_refused() {
        let connection = Connection {
            url: "http://127.0.0.1:1".to_string(),
            authorization: None,
            timeout: Duration::from_secs(1),
        };
        let error = Prometheus::new(connection, 1_000)
            .query("t", "m", "up", 2_000)
            .unwrap_err();
        assert!(error.contains("in the future"), "{error}");
    }
}
