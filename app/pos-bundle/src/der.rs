//! Just enough DER to take the signed content out of a CMS `SignedData`: RAUC puts the
//! manifest there. Nothing here is trusted until RAUC has checked the signature.

use crate::BundleError;

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const CONTEXT_0: u8 = 0xa0;

/// id-signedData, 1.2.840.113549.1.7.2.
const SIGNED_DATA_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

fn malformed(what: &'static str) -> BundleError {
    BundleError::MalformedSignature(what)
}

/// One element: its tag, its contents, and what follows it.
fn element(input: &[u8]) -> Result<(u8, &[u8], &[u8]), BundleError> {
    let (&tag, rest) = input.split_first().ok_or(malformed("it ends early"))?;
    let (&first, rest) = rest.split_first().ok_or(malformed("it ends early"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n_bytes = usize::from(first & 0x7f);
        if n_bytes == 0 || n_bytes > 4 || rest.len() < n_bytes {
            return Err(malformed("a length is not DER"));
        }
        let len = rest[..n_bytes]
            .iter()
            .fold(0usize, |len, byte| (len << 8) | usize::from(*byte));
        (len, &rest[n_bytes..])
    };
    if rest.len() < len {
        return Err(malformed("an element runs past its end"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn expect<'a>(
    input: &'a [u8],
    tag: u8,
    what: &'static str,
) -> Result<(&'a [u8], &'a [u8]), BundleError> {
    let (found, contents, rest) = element(input)?;
    if found != tag {
        return Err(malformed(what));
    }
    Ok((contents, rest))
}

/// The encapsulated content of a DER `ContentInfo` holding `SignedData`.
pub fn signed_content(der: &[u8]) -> Result<&[u8], BundleError> {
    let (content_info, _) = expect(der, SEQUENCE, "it is not a CMS structure")?;
    let (oid, rest) = expect(content_info, OID, "it has no content type")?;
    if oid != SIGNED_DATA_OID {
        return Err(malformed("it is not CMS signed data"));
    }
    let (explicit, _) = expect(rest, CONTEXT_0, "it has no signed data")?;
    let (signed_data, _) = expect(explicit, SEQUENCE, "its signed data is not a sequence")?;
    let (_, rest) = expect(signed_data, INTEGER, "its signed data has no version")?;
    let (_, rest) = expect(rest, SET, "its signed data has no digest algorithms")?;
    let (encapsulated, _) = expect(rest, SEQUENCE, "it has no encapsulated content")?;
    let (_, rest) = expect(encapsulated, OID, "its content has no type")?;
    if rest.is_empty() {
        return Err(malformed(
            "the manifest is detached (a 'plain' bundle); only 'verity' bundles are accepted",
        ));
    }
    let (explicit, _) = expect(rest, CONTEXT_0, "its content is not tagged")?;
    let (content, _) = expect(explicit, OCTET_STRING, "its content is not an octet string")?;
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built `ContentInfo { signedData, SignedData { 1, {}, { data, "hi" } } }`.
    fn signed_data(content: &[u8]) -> Vec<u8> {
        fn wrap(tag: u8, body: &[u8]) -> Vec<u8> {
            let mut out = vec![tag, u8::try_from(body.len()).unwrap()];
            out.extend_from_slice(body);
            out
        }
        let data_oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
        let encapsulated = [
            wrap(OID, &data_oid),
            wrap(CONTEXT_0, &wrap(OCTET_STRING, content)),
        ]
        .concat();
        let body = [
            wrap(INTEGER, &[1]),
            wrap(SET, &[]),
            wrap(SEQUENCE, &encapsulated),
        ]
        .concat();
        wrap(
            SEQUENCE,
            &[
                wrap(OID, SIGNED_DATA_OID),
                wrap(CONTEXT_0, &wrap(SEQUENCE, &body)),
            ]
            .concat(),
        )
    }

    #[test]
    fn the_signed_content_comes_out() {
        assert_eq!(
            signed_content(&signed_data(b"[update]\n")).unwrap(),
            b"[update]\n"
        );
    }

    #[test]
    fn truncated_or_foreign_structures_are_refused() {
        let whole = signed_data(b"[update]\n");
        for cut in 0..whole.len() {
            assert!(
                signed_content(&whole[..cut]).is_err(),
                "cut at {cut} was accepted"
            );
        }
        let mut other_type = whole.clone();
        other_type[2 + 2 + SIGNED_DATA_OID.len() - 1] ^= 1;
        assert!(matches!(
            signed_content(&other_type),
            Err(BundleError::MalformedSignature("it is not CMS signed data"))
        ));
    }
}
