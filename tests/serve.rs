//! `tailor serve` as a client meets it: the binary on a free loopback port, plain HTTP/1.1
//! requests, JSON answers (errors too), concurrent clients, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .env("RUST_LOG", "warn")
            .args([
                "serve",
                "--prior-only",
                "--no-fuzzy",
                "--addr",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("tailor serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(addr) = line.strip_prefix("listening on http://") {
                break addr.to_string();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Server { child, addr }
    }

    /// One request on its own connection: the status and the JSON body.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        // The server may answer (413) and close before it has read an oversized body.
        let _ = stream.write_all(body);
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        assert!(
            head.to_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        (status, serde_json::from_str(body).unwrap())
    }

    /// Sends `bytes` as they are on a new connection and reads until the server closes it (or
    /// 20 s pass, to fail rather than hang): the status, the head and the body.
    fn raw(&self, bytes: &[u8]) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        stream.write_all(bytes).unwrap();
        let mut raw = Vec::new();
        let read = stream.read_to_end(&mut raw);
        assert!(read.is_ok(), "no whole answer: {read:?}");
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_lowercase(), body.to_string())
    }
}

/// The message of a JSON error answer, checked to carry its own status.
fn message(status: u16, e: &Value) -> &str {
    assert_eq!(e["error"]["status"].as_u64(), Some(status as u64), "{e}");
    e["error"]["message"].as_str().unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

#[test]
fn serves_links_entities_and_clear_errors() {
    let server = Server::start(&["--max-body-bytes", "100000", "--max-batch", "4"]);

    let (status, health) = server.request("GET", "/health", b"");
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert!(health["entities"].as_u64().unwrap() > 100_000);

    let one = br#"{"id": "d1", "text": "Belgium and Germany share a border."}"#;
    let (status, doc) = server.request("POST", "/link", one);
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["id"], "d1");
    let entities: Vec<&str> = doc["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["entity"].as_str())
        .collect();
    assert!(
        entities.contains(&"Q31") && entities.contains(&"Q183"),
        "{doc}"
    );

    let given = br#"{"documents": [{"text": "Paris is big.", "mentions": [{"start": 0, "end": 5}]},
                                   {"id": 7, "text": "Nothing here."}]}"#;
    let (status, batch) = server.request("POST", "/link", given);
    assert_eq!(status, 200, "{batch}");
    let docs = batch["documents"].as_array().unwrap();
    assert_eq!(
        (docs[0]["id"].as_str(), docs[1]["id"].as_str()),
        (Some("0"), Some("7"))
    );
    assert_eq!(docs[0]["mentions"][0]["surface"], "Paris");

    let (status, e) = server.request("GET", "/entity/Q31", b"");
    assert_eq!(status, 200);
    assert_eq!(e["label"], "Belgium");
    let (status, e) = server.request("GET", "/entity/Q0000", b"");
    assert_eq!((status, e["error"]["status"].as_u64()), (404, Some(404)));

    let (status, e) = server.request("GET", "/link", b"");
    assert_eq!(
        (status, e["error"]["status"].as_u64()),
        (405, Some(405)),
        "{e}"
    );

    let (status, e) = server.request("POST", "/link", b"{\"text\": oops");
    assert_eq!(status, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid JSON"),
        "{e}"
    );

    let (status, e) = server.request("POST", "/link", br#"{"id": "x"}"#);
    assert_eq!(status, 422);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("\"text\""),
        "{e}"
    );

    // a document written as an array is refused, not read by position with fields swapped
    let positional = br#"{"documents": [["a", "Paris is big", null]]}"#;
    let (status, e) = server.request("POST", "/link", positional);
    assert_eq!(status, 422, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not an array"),
        "{e}"
    );

    let spans = br#"{"text": "abc", "mentions": [{"start": 1, "end": 9}]}"#;
    let (status, e) = server.request("POST", "/link", spans);
    assert_eq!(status, 422, "{e}");

    let big = serde_json::json!({"text": "Paris ".repeat(30_000)}).to_string();
    let (status, e) = server.request("POST", "/link", big.as_bytes());
    assert_eq!(status, 413);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100000 bytes"),
        "{e}"
    );

    let five = serde_json::json!({"documents": vec![serde_json::json!({"text": "Paris"}); 5]});
    let (status, e) = server.request("POST", "/link", five.to_string().as_bytes());
    assert_eq!(status, 413);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("batch limit of 4"),
        "{e}"
    );

    let (status, _) = server.request("GET", "/nowhere", b"");
    assert_eq!(status, 404);

    // Concurrent clients share the one linker and get the same answer.
    let answers: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| server.request("POST", "/link", one)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap().1).collect()
    });
    assert!(answers.iter().all(|a| a == &doc));

    // The server is still well after all of that.
    assert_eq!(server.request("GET", "/health", b"").0, 200);
}

#[test]
fn stops_cleanly_on_sigterm() {
    let mut server = Server::start(&[]);
    assert_eq!(server.request("GET", "/health", b"").0, 200);
    let pid = server.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = server.child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn a_client_that_sends_nothing_is_disconnected_after_the_read_timeout() {
    let server = Server::start(&["--read-timeout", "1"]);
    let started = std::time::Instant::now();
    let mut silent = TcpStream::connect(&server.addr).unwrap();
    let mut partial = TcpStream::connect(&server.addr).unwrap();
    partial
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    for stream in [&mut silent, &mut partial] {
        // a server without the timeout would leave this read waiting: fail instead of hanging
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut rest = Vec::new();
        let closed = stream.read_to_end(&mut rest);
        assert!(closed.is_ok(), "the server kept the connection: {closed:?}");
    }
    let waited = started.elapsed().as_secs_f64();
    assert!((0.9..15.0).contains(&waited), "closed after {waited:.1}s");
    assert_eq!(
        server.request("GET", "/health", b"").0,
        200,
        "still serving"
    );
}

/// Opens a connection that sends a whole request head announcing 100 bytes of body, and 8.
fn stalled_in_the_body(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(
            b"POST /link HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"text\":",
        )
        .unwrap();
    stream
}

#[test]
fn a_client_that_stalls_in_the_body_is_answered_408_and_disconnected() {
    let server = Server::start(&["--read-timeout", "1"]);
    let started = std::time::Instant::now();
    let mut stalled = stalled_in_the_body(&server.addr);
    // a server without the body timeout would leave this read waiting: fail instead of hanging
    stalled
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut answer = Vec::new();
    let closed = stalled.read_to_end(&mut answer);
    assert!(closed.is_ok(), "the server kept the connection: {closed:?}");
    let waited = started.elapsed().as_secs_f64();
    assert!((0.9..15.0).contains(&waited), "closed after {waited:.1}s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("read timeout"), "{answer}");
    assert_eq!(
        server.request("GET", "/health", b"").0,
        200,
        "still serving"
    );
}

#[test]
fn a_stalled_client_does_not_hold_the_shutdown_past_its_grace() {
    let mut server = Server::start(&["--read-timeout", "120", "--shutdown-grace", "1"]);
    let _stalled = stalled_in_the_body(&server.addr);
    // the request is in the server's hands once a request after it on another connection is
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(server.request("GET", "/health", b"").0, 200);
    let pid = server.child.id().to_string();
    let started = std::time::Instant::now();
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed().as_secs() < 15,
            "the server still waits for the stalled client"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let waited = started.elapsed().as_secs_f64();
    assert!(
        waited >= 0.9,
        "stopped after {waited:.1}s, before its grace"
    );
}

#[test]
fn a_body_with_one_document_and_a_batch_is_refused() {
    let server = Server::start(&[]);
    let both = br#"{"text": "Paris.", "documents": [{"text": "x"}]}"#;
    let (status, e) = server.request("POST", "/link", both);
    assert_eq!(status, 422, "{e}");
    let m = message(422, &e);
    assert!(
        m.contains("either one document") && m.contains("not both"),
        "{m}"
    );
}

#[test]
fn repeated_ids_in_a_batch_are_refused_naming_both_documents() {
    let server = Server::start(&[]);
    let batch = br#"{"documents": [{"id": "a", "text": "Paris."}, {"id": "b", "text": "Rome."},
                                   {"id": "a", "text": "Berlin."}]}"#;
    let (status, e) = server.request("POST", "/link", batch);
    assert_eq!(status, 422, "{e}");
    let m = message(422, &e);
    assert!(m.contains(r#"documents 0 and 2 have the id "a""#), "{m}");
}

#[test]
fn an_oversized_content_length_is_refused_from_the_head_at_once() {
    // the default read timeout (30 s) is what a server reading the body first would wait
    let server = Server::start(&["--max-body-bytes", "100000"]);
    let started = std::time::Instant::now();
    let (status, head, body) = server.raw(
        b"POST /link HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 99999999999\r\n\r\n",
    );
    let waited = started.elapsed().as_secs_f64();
    assert_eq!(status, 413, "{head}{body}");
    assert!(waited < 5.0, "answered after {waited:.1}s");
    assert!(head.contains("content-type: application/json"), "{head}");
    let e: Value = serde_json::from_str(&body).unwrap();
    let m = message(413, &e);
    assert!(
        m.contains("99999999999") && m.contains("100000 bytes"),
        "{m}"
    );
    assert_eq!(server.request("GET", "/health", b"").0, 200);
}

#[test]
fn an_undecodable_entity_path_is_answered_in_json() {
    let server = Server::start(&[]);
    let (status, e) = server.request("GET", "/entity/%00%ff", b"");
    assert_eq!(status, 400, "{e}");
    assert!(message(400, &e).contains("UTF-8"), "{e}");
    // a NUL alone decodes, and is an unknown entity like any other
    let (status, e) = server.request("GET", "/entity/%00", b"");
    assert_eq!((status, message(404, &e)), (404, "no entity \"\\0\""));
}

/// What docs/serve.md says of requests hyper cannot parse, before any handler runs: an empty
/// 400, and the connection closed.
#[test]
fn malformed_http_is_answered_by_the_http_layer_as_documented() {
    let server = Server::start(&[]);
    for bad in [
        &b"this is not http\r\n\r\n"[..],
        b"POST /link HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
    ] {
        let (status, head, body) = server.raw(bad);
        assert_eq!(status, 400, "{head}");
        assert!(head.contains("content-length: 0"), "{head}");
        assert_eq!(body, "");
    }
    assert_eq!(server.request("GET", "/health", b"").0, 200);
}

#[test]
fn documents_that_are_not_an_array_are_named() {
    let server = Server::start(&[]);
    let (status, e) = server.request("POST", "/link", br#"{"documents": {"text": "Paris."}}"#);
    assert_eq!(status, 422, "{e}");
    let m = message(422, &e);
    assert!(
        m.starts_with(r#""documents" must be an array of documents"#),
        "{m}"
    );
}
