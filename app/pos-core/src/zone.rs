//! Time zones by their rules: the offset from UTC a zone has at an instant, read from the
//! zone's TZif file (RFC 8536) as bytes, so summer time applies without a table of our own.
//! Pure: the caller reads the file (`/usr/share/zoneinfo/Europe/Zurich` from Debian's `tzdata`)
//! and hands its bytes in. The terminal's setup and the fleet's store clocks share it.
//!
//! Transitions are taken from the file's table, which `tzdata` fills up to 2037; after the last
//! one the last offset stays.

use time::UtcOffset;

/// The offset in force at `unix_s` in the zone whose TZif file is `tzif`, or `None` when the
/// bytes are not a TZif file.
pub fn offset_at(tzif: &[u8], unix_s: i64) -> Option<UtcOffset> {
    let first = Header::read(tzif)?;
    // Version 2 and later repeat the data with 64-bit times after the version 1 block.
    let (header, body, time_size) = if first.version >= b'2' {
        let rest = tzif.get(HEADER_LEN + first.block_len(4)..)?;
        (Header::read(rest)?, rest.get(HEADER_LEN..)?, 8)
    } else {
        (first, tzif.get(HEADER_LEN..)?, 4)
    };
    let times = body.get(..header.transitions * time_size)?;
    let indices = body.get(header.transitions * time_size..header.transitions * (time_size + 1))?;
    let types_at = header.transitions * (time_size + 1);
    let types = body.get(types_at..types_at + header.types * 6)?;
    let transition_time = |i: usize| -> Option<i64> {
        let bytes = times.get(i * time_size..(i + 1) * time_size)?;
        Some(if time_size == 8 {
            i64::from_be_bytes(bytes.try_into().ok()?)
        } else {
            i64::from(i32::from_be_bytes(bytes.try_into().ok()?))
        })
    };
    // The last transition at or before the time; before the first, the first type that is
    // not summer time (RFC 8536, 3.2), else type 0.
    let mut chosen = None;
    for i in 0..header.transitions {
        if transition_time(i)? > unix_s {
            break;
        }
        chosen = Some(usize::from(*indices.get(i)?));
    }
    let kind = match chosen {
        Some(kind) => kind,
        None => (0..header.types)
            .find(|t| types.get(t * 6 + 4) == Some(&0))
            .unwrap_or(0),
    };
    let record = types.get(kind * 6..kind * 6 + 6)?;
    let seconds = i32::from_be_bytes(record.get(..4)?.try_into().ok()?);
    UtcOffset::from_whole_seconds(seconds).ok()
}

/// Whether `zone` names a file inside the zoneinfo folder (`Europe/Berlin`), never a path out
/// of it.
pub fn is_zone_name(zone: &str) -> bool {
    !zone.is_empty()
        && !zone.starts_with('/')
        && zone
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

const HEADER_LEN: usize = 44;

struct Header {
    version: u8,
    utc_indicators: usize,
    std_indicators: usize,
    leaps: usize,
    transitions: usize,
    types: usize,
    chars: usize,
}

impl Header {
    fn read(bytes: &[u8]) -> Option<Header> {
        if bytes.get(..4)? != b"TZif" {
            return None;
        }
        let count = |at: usize| -> Option<usize> {
            let raw = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
            usize::try_from(raw).ok()
        };
        Some(Header {
            version: *bytes.get(4)?,
            utc_indicators: count(20)?,
            std_indicators: count(24)?,
            leaps: count(28)?,
            transitions: count(32)?,
            types: count(36)?,
            chars: count(40)?,
        })
    }

    /// The length of the data block after this header, with times of `time_size` bytes.
    fn block_len(&self, time_size: usize) -> usize {
        self.transitions * (time_size + 1)
            + self.types * 6
            + self.chars
            + self.leaps * (time_size + 4)
            + self.std_indicators
            + self.utc_indicators
    }
}
