//! Serving a bundle file: HTTP Range (one range per request, `206`, `416` for a range past the
//! end), a strong ETag (the SHA-256) and Last-Modified, `If-None-Match` and `If-Range`, and the
//! bytes streamed from disk in chunks. A range request reads nothing but the file: it writes no
//! row, so a terminal resuming or streaming with many small ranges costs the database nothing.
//!
//! [`plan`] is the pure decision (which status, which bytes); [`respond`] does the file IO.

use std::io::SeekFrom;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// What is known of the file being served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub len: u64,
    /// Quoted, as sent: `"<sha256>"`.
    pub etag: String,
    /// RFC 9110 date, as sent.
    pub last_modified: String,
}

/// The answer, before any byte is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 304: the client's copy is current.
    NotModified,
    /// 200 with the whole file.
    Whole,
    /// 206 with `first..=last`.
    Part { first: u64, last: u64 },
    /// 416: the range starts past the end.
    Unsatisfiable,
}

/// Decides the answer from the request's conditional and range headers.
pub fn plan(
    served: &Served,
    range: Option<&str>,
    if_none_match: Option<&str>,
    if_range: Option<&str>,
) -> Answer {
    if let Some(tags) = if_none_match
        && tags
            .split(',')
            .any(|tag| tag.trim() == "*" || weak_equal(tag.trim(), &served.etag))
    {
        return Answer::NotModified;
    }
    let Some(range) = range else {
        return Answer::Whole;
    };
    // A range against a copy that changed would splice two files: send the whole new one.
    if let Some(validator) = if_range {
        let validator = validator.trim();
        let current = validator == served.etag || validator == served.last_modified;
        if !current {
            return Answer::Whole;
        }
    }
    match parse_range(range, served.len) {
        RangeSpec::Ignored => Answer::Whole,
        RangeSpec::Unsatisfiable => Answer::Unsatisfiable,
        RangeSpec::Part { first, last } => Answer::Part { first, last },
    }
}

fn weak_equal(a: &str, b: &str) -> bool {
    a.trim_start_matches("W/") == b.trim_start_matches("W/")
}

enum RangeSpec {
    /// Not a single byte range this server serves (unknown unit, several ranges, bad syntax):
    /// RFC 9110 lets the server ignore it and send the whole file.
    Ignored,
    Unsatisfiable,
    Part {
        first: u64,
        last: u64,
    },
}

fn parse_range(header: &str, len: u64) -> RangeSpec {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignored;
    };
    if spec.contains(',') {
        return RangeSpec::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeSpec::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    match (first.parse::<u64>(), last.parse::<u64>()) {
        // `bytes=-N`: the last N bytes.
        (Err(_), Ok(suffix)) if first.is_empty() => {
            if suffix == 0 || len == 0 {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Part {
                    first: len.saturating_sub(suffix),
                    last: len - 1,
                }
            }
        }
        (Ok(first), Err(_)) if last.is_empty() => {
            if first >= len {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Part {
                    first,
                    last: len - 1,
                }
            }
        }
        (Ok(first), Ok(last)) if first <= last => {
            if first >= len {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Part {
                    first,
                    last: last.min(len - 1),
                }
            }
        }
        _ => RangeSpec::Ignored,
    }
}

/// Bytes read from disk per chunk sent.
const CHUNK_BYTES: usize = 64 * 1024;

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Answers a GET (or HEAD, with `head`) for `path`, described by `served`.
pub async fn respond(path: &Path, served: &Served, request: &HeaderMap, head: bool) -> Response {
    let answer = plan(
        served,
        header_text(request, header::RANGE),
        header_text(request, header::IF_NONE_MATCH),
        header_text(request, header::IF_RANGE),
    );
    let mut headers = HeaderMap::new();
    put(&mut headers, header::ACCEPT_RANGES, "bytes".into());
    put(&mut headers, header::ETAG, served.etag.clone());
    put(
        &mut headers,
        header::LAST_MODIFIED,
        served.last_modified.clone(),
    );
    let (status, first, count) = match answer {
        Answer::NotModified => return (StatusCode::NOT_MODIFIED, headers).into_response(),
        Answer::Unsatisfiable => {
            put(
                &mut headers,
                header::CONTENT_RANGE,
                format!("bytes */{}", served.len),
            );
            return (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response();
        }
        Answer::Whole => (StatusCode::OK, 0, served.len),
        Answer::Part { first, last } => {
            put(
                &mut headers,
                header::CONTENT_RANGE,
                format!("bytes {first}-{last}/{}", served.len),
            );
            (StatusCode::PARTIAL_CONTENT, first, last - first + 1)
        }
    };
    put(
        &mut headers,
        header::CONTENT_TYPE,
        "application/octet-stream".into(),
    );
    put(&mut headers, header::CONTENT_LENGTH, count.to_string());
    if head {
        return (status, headers).into_response();
    }
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(error) => return missing(path, &error),
    };
    if let Err(error) = file.seek(SeekFrom::Start(first)).await {
        return missing(path, &error);
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(count), CHUNK_BYTES);
    (status, headers, Body::from_stream(stream)).into_response()
}

fn put(headers: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(name, value);
    }
}

fn missing(path: &Path, error: &std::io::Error) -> Response {
    eprintln!("pos-fleet: cannot read {}: {error}", path.display());
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(pos_sync::wire::ErrorBody {
            code: pos_sync::wire::ErrorCode::Internal,
            message: "the fleet cannot read this bundle's file; tell the fleet operator".into(),
        }),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Served {
        Served {
            len: 1000,
            etag: "\"abc\"".into(),
            last_modified: "Sun, 29 Nov 2026 10:00:00 GMT".into(),
        }
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let s = served();
        let part = |range: &str| plan(&s, Some(range), None, None);
        assert_eq!(part("bytes=0-99"), Answer::Part { first: 0, last: 99 });
        assert_eq!(
            part("bytes=900-"),
            Answer::Part {
                first: 900,
                last: 999
            }
        );
        assert_eq!(
            part("bytes=-10"),
            Answer::Part {
                first: 990,
                last: 999
            }
        );
        assert_eq!(
            part("bytes=990-5000"),
            Answer::Part {
                first: 990,
                last: 999
            }
        );
        assert_eq!(part("bytes=1000-"), Answer::Unsatisfiable);
        assert_eq!(part("bytes=-0"), Answer::Unsatisfiable);
        assert_eq!(part("bytes=5-1"), Answer::Whole);
        assert_eq!(part("bytes=0-1,5-9"), Answer::Whole);
        assert_eq!(part("pages=1-2"), Answer::Whole);
    }

    #[test]
    fn conditions_follow_the_etag_and_the_date() {
        let s = served();
        assert_eq!(
            plan(&s, None, Some("\"old\", \"abc\""), None),
            Answer::NotModified
        );
        assert_eq!(plan(&s, None, Some("\"old\""), None), Answer::Whole);
        assert_eq!(
            plan(&s, Some("bytes=10-"), None, Some("\"abc\"")),
            Answer::Part {
                first: 10,
                last: 999
            }
        );
        assert_eq!(
            plan(
                &s,
                Some("bytes=10-"),
                None,
                Some("Sun, 29 Nov 2026 10:00:00 GMT")
            ),
            Answer::Part {
                first: 10,
                last: 999
            }
        );
        assert_eq!(
            plan(&s, Some("bytes=10-"), None, Some("\"other\"")),
            Answer::Whole
        );
    }
}
