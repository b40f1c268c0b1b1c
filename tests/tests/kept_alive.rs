//! A fleet (or a router on the way) that closes a kept-alive connection just as the terminal
//! sends on it: the request is sent again at once on a new connection, not after the backoff,
//! so a sale does not wait for the next retry to reach the fleet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

use pos_core::id::DeviceId;
use pos_sync::http::FleetClient;
use pos_sync::machine::Request;
use pos_sync::wire::{PROTOCOL, PullRequest};

/// Reads one HTTP request (head and body) from `reader`; `false` at the end of the stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> bool {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            return false;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    true
}

const ANSWER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";

#[tokio::test]
async fn a_request_on_a_connection_closed_under_it_is_sent_again_on_a_new_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        // The first connection answers one request and closes when the second arrives on it.
        let (first, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(first.try_clone().unwrap());
        assert!(read_request(&mut reader));
        (&first).write_all(ANSWER).unwrap();
        assert!(
            read_request(&mut reader),
            "the second request came on the same connection"
        );
        drop(reader);
        drop(first);
        // The second connection answers.
        let (second, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(second.try_clone().unwrap());
        assert!(read_request(&mut reader));
        (&second).write_all(ANSWER).unwrap();
    });
    let fleet = FleetClient::new(reqwest::Client::new(), &format!("http://{addr}"), "token");
    let pull = Request::Pull(PullRequest {
        protocol: PROTOCOL,
        device: DeviceId::new("T1"),
        cursor: 0,
        limit: 10,
    });
    fleet
        .send(&pull)
        .await
        .expect("the first request is answered");
    fleet
        .send(&pull)
        .await
        .expect("the second request is answered on a new connection");
    server.join().unwrap();
}
