//! Small readers for the ZPL, TSPL and ESC/POS this crate writes: enough of each language
//! to recover what is printed where, so tests compare placements, not strings.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Printed {
    Text {
        x: u32,
        y: u32,
        height: u32,
        text: String,
    },
    Barcode {
        x: u32,
        y: u32,
        height: u32,
        module: u32,
        kind: String,
        data: String,
        readable: bool,
    },
    Box {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        line: u32,
    },
    /// A solid rectangle: a line.
    Bar {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
}

#[derive(Debug, Default)]
pub struct ZplLabel {
    pub width_dots: u32,
    pub height_dots: u32,
    pub copies: u32,
    pub elements: Vec<Printed>,
}

fn numbers(arguments: &str) -> Vec<u32> {
    arguments
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .unwrap_or_else(|_| panic!("number expected in {arguments:?}"))
        })
        .collect()
}

/// Undoes `^FH` escapes: `_XX` is the byte 0xXX.
fn unhex(data: &str) -> String {
    let bytes = data.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'_' {
            out.push(u8::from_str_radix(&data[index + 1..index + 3], 16).unwrap());
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

pub fn parse_zpl(zpl: &str) -> ZplLabel {
    assert!(
        zpl.starts_with("^XA") && zpl.trim_end().ends_with("^XZ"),
        "one format expected: {zpl}"
    );
    let mut label = ZplLabel::default();
    let (mut origin, mut font, mut module, mut hex) = ((0, 0), None, 2, false);
    let mut barcode: Option<(String, u32, bool)> = None;
    let mut data = String::new();
    let mut graphic_box = None;
    for command in zpl.split('^').skip(1) {
        let command = command.trim_end_matches('\n');
        let (name, arguments) = command.split_at(2.min(command.len()));
        match name {
            "XA" | "XZ" | "LH" => {}
            "CI" => assert_eq!(arguments, "28", "UTF-8 expected"),
            "PW" => label.width_dots = arguments.parse().unwrap(),
            "LL" => label.height_dots = arguments.parse().unwrap(),
            "PQ" => label.copies = arguments.parse().unwrap(),
            "FO" => {
                let n = numbers(arguments);
                origin = (n[0], n[1]);
            }
            "A0" => font = Some(numbers(arguments.trim_start_matches("N,"))[0]),
            "BY" => module = numbers(arguments)[0],
            "BE" | "BC" => {
                let fields: Vec<&str> = arguments.split(',').collect();
                assert_eq!(fields[0], "N", "no rotation");
                let kind = if name == "BE" { "EAN-13" } else { "Code 128" };
                barcode = Some((
                    kind.to_string(),
                    fields[1].parse().unwrap(),
                    fields[2] == "Y",
                ));
            }
            "GB" => graphic_box = Some(numbers(arguments)),
            "FH" => hex = true,
            "FD" => {
                data = if hex {
                    unhex(arguments)
                } else {
                    arguments.to_string()
                }
            }
            "FS" => {
                let (x, y) = origin;
                if let Some(height) = font.take() {
                    label.elements.push(Printed::Text {
                        x,
                        y,
                        height,
                        text: std::mem::take(&mut data),
                    });
                } else if let Some((kind, height, readable)) = barcode.take() {
                    label.elements.push(Printed::Barcode {
                        x,
                        y,
                        height,
                        module,
                        kind,
                        data: std::mem::take(&mut data),
                        readable,
                    });
                } else if let Some(n) = graphic_box.take() {
                    // A border as thick as the narrow side fills the box: a line.
                    label.elements.push(if n[2] >= n[0].min(n[1]) {
                        Printed::Bar {
                            x,
                            y,
                            width: n[0],
                            height: n[1],
                        }
                    } else {
                        Printed::Box {
                            x,
                            y,
                            width: n[0],
                            height: n[1],
                            line: n[2],
                        }
                    });
                } else {
                    panic!("field without content at {origin:?}");
                }
                hex = false;
            }
            other => panic!("unexpected ZPL command ^{other}"),
        }
    }
    label
}

#[derive(Debug, Default)]
pub struct TsplLabel {
    pub width_mm: String,
    pub height_mm: String,
    pub gap_mm: String,
    pub copies: u32,
    pub elements: Vec<Printed>,
}

/// Splits TSPL arguments at commas outside quotes and unescapes `\["]`.
fn tspl_arguments(arguments: &str) -> Vec<String> {
    let unescaped = arguments.replace("\\[\"]", "\u{0}");
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    for symbol in unescaped.chars() {
        match symbol {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(symbol),
        }
    }
    fields.push(field);
    fields
        .into_iter()
        .map(|f| f.replace('\u{0}', "\""))
        .collect()
}

pub fn parse_tspl(tspl: &str) -> TsplLabel {
    let mut label = TsplLabel::default();
    assert!(tspl.ends_with("\r\n"), "TSPL lines end with CR LF");
    for line in tspl.split("\r\n").filter(|line| !line.is_empty()) {
        let (command, arguments) = line.split_once(' ').unwrap_or((line, ""));
        let a = tspl_arguments(arguments);
        let n = |i: usize| -> u32 { a[i].trim().parse().unwrap() };
        match command {
            "SIZE" => {
                label.width_mm = a[0].trim_end_matches(" mm").to_string();
                label.height_mm = a[1].trim_end_matches(" mm").to_string();
            }
            "GAP" => label.gap_mm = a[0].trim_end_matches(" mm").to_string(),
            "DIRECTION" | "REFERENCE" | "CLS" => {}
            "CODEPAGE" => assert_eq!(arguments, "UTF-8"),
            "TEXT" => {
                assert_eq!((a[2].as_str(), n(3)), ("3", 0), "font 3, not rotated");
                assert_eq!(n(4), n(5), "same multiplier both ways");
                label.elements.push(Printed::Text {
                    x: n(0),
                    y: n(1),
                    height: 24 * n(5),
                    text: a[6].clone(),
                });
            }
            "BARCODE" => {
                let kind = match a[2].as_str() {
                    "EAN13" => "EAN-13",
                    "128" => "Code 128",
                    other => panic!("barcode type {other}"),
                };
                assert_eq!(n(5), 0, "not rotated");
                assert_eq!(
                    n(6),
                    n(7),
                    "narrow and wide bar equal for these symbologies"
                );
                label.elements.push(Printed::Barcode {
                    x: n(0),
                    y: n(1),
                    height: n(3),
                    module: n(6),
                    kind: kind.to_string(),
                    data: a[8].clone(),
                    readable: n(4) == 1,
                });
            }
            "BOX" => label.elements.push(Printed::Box {
                x: n(0),
                y: n(1),
                width: n(2) - n(0),
                height: n(3) - n(1),
                line: n(4),
            }),
            "BAR" => label.elements.push(Printed::Bar {
                x: n(0),
                y: n(1),
                width: n(2),
                height: n(3),
            }),
            "PRINT" => label.copies = n(0),
            other => panic!("unexpected TSPL command {other}"),
        }
    }
    label
}

#[derive(Debug, Default)]
pub struct EscPosPage {
    pub width_dots: u32,
    pub height_dots: u32,
    pub elements: Vec<Printed>,
    pub cut: bool,
}

/// Reads ESC/POS page-mode output back into pages of placed elements.
pub fn parse_escpos(bytes: &[u8]) -> Vec<EscPosPage> {
    let u16_at = |i: usize| u32::from(u16::from_le_bytes([bytes[i], bytes[i + 1]]));
    let mut pages: Vec<EscPosPage> = Vec::new();
    let (mut x, mut y, mut scale) = (0u32, 0u32, 1u32);
    let (mut bar_height, mut bar_module, mut readable) = (162u32, 3u32, false);
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index..] {
            [0x1b, b'@', ..] => index += 2,
            [0x1d, b'P', ..] => index += 4,
            [0x1b, b'L', ..] => {
                pages.push(EscPosPage::default());
                index += 2;
            }
            [0x1b, b'T', 0, ..] => index += 3,
            [0x1b, b'W', ..] => {
                assert_eq!(
                    (u16_at(index + 2), u16_at(index + 4)),
                    (0, 0),
                    "area at the origin"
                );
                let page = pages.last_mut().unwrap();
                page.width_dots = u16_at(index + 6);
                page.height_dots = u16_at(index + 8);
                index += 10;
            }
            [0x1d, b'!', size, ..] => {
                assert_eq!(size >> 4, size & 0x0f, "same multiplier both ways");
                scale = u32::from(size & 0x0f) + 1;
                index += 3;
            }
            [0x1d, b'$', ..] => {
                y = u16_at(index + 2);
                index += 4;
            }
            [0x1b, b'$', ..] => {
                x = u16_at(index + 2);
                index += 4;
            }
            [0x1d, b'h', h, ..] => {
                bar_height = u32::from(h);
                index += 3;
            }
            [0x1d, b'w', w, ..] => {
                bar_module = u32::from(w);
                index += 3;
            }
            [0x1d, b'H', h, ..] => {
                readable = h == 2;
                index += 3;
            }
            [0x1d, b'k', m, n, ..] => {
                let data = &bytes[index + 4..index + 4 + usize::from(n)];
                let (kind, data) = match m {
                    67 => ("EAN-13", String::from_utf8(data.to_vec()).unwrap()),
                    73 => {
                        let text = String::from_utf8(data.to_vec()).unwrap();
                        (
                            "Code 128",
                            text.strip_prefix("{B").unwrap().replace("{{", "{"),
                        )
                    }
                    other => panic!("barcode system {other}"),
                };
                pages.last_mut().unwrap().elements.push(Printed::Barcode {
                    x,
                    y: y - bar_height,
                    height: bar_height,
                    module: bar_module,
                    kind: kind.to_string(),
                    data,
                    readable,
                });
                index += 4 + usize::from(n);
            }
            [0x0c, ..] => index += 1,
            [0x1d, b'V', 66, 0, ..] => {
                pages.last_mut().unwrap().cut = true;
                index += 4;
            }
            [byte, ..] if (0x20..0x7f).contains(&byte) => {
                let end = bytes[index..]
                    .iter()
                    .position(|b| !(0x20..0x7f).contains(b))
                    .map_or(bytes.len(), |p| index + p);
                let text = String::from_utf8(bytes[index..end].to_vec()).unwrap();
                pages.last_mut().unwrap().elements.push(Printed::Text {
                    x,
                    y: y - 24 * scale,
                    height: 24 * scale,
                    text,
                });
                index = end;
            }
            _ => panic!("unexpected ESC/POS byte {:#04x} at {index}", bytes[index]),
        }
    }
    pages
}

/// Sixteen bytes a line, hex then printable characters, for readable snapshots.
pub fn hex_dump(bytes: &[u8]) -> String {
    let mut dump = String::new();
    for chunk in bytes.chunks(16) {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '.'
                }
            })
            .collect();
        dump.push_str(&format!("{:<48} {text}\n", hex.join(" ")));
    }
    dump
}
