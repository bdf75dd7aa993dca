//! The built-in image: a JPEG of exactly the size of the book's `cover3.jpg` (70057
//! bytes), drawn and encoded by the program itself so the lab needs no file and no
//! network, and served with the validators the book's server sent.

use std::sync::OnceLock;

use jpeg_encoder::{ColorType, Encoder};

/// Width of the built-in image, in pixels.
pub(crate) const WIDTH: u16 = 432;
/// Height of the built-in image, in pixels.
pub(crate) const HEIGHT: u16 = 576;
const QUALITY: u8 = 80;

/// The length of the book's `cover3.jpg`, which the built-in image has too, so that a
/// fetch prints the book's arithmetic: 242 + 4 + 70057 = 70303.
pub const BOOK_COVER_BYTES: usize = 70_057;

/// The book's server said the image was last modified at this time (its ETag's last
/// part is the same instant in microseconds): Fri, 04 Dec 2015 19:05:04 GMT.
pub(crate) const LAST_MODIFIED_US: u64 = 1_449_255_904_181_449;

/// What the comment segment that brings the image to [`BOOK_COVER_BYTES`] starts with.
const PADDING_NOTE: &[u8] = b"recvscope lab image, the length of the book's cover3.jpg";

/// The built-in JPEG, made on first use and kept. The same bytes on every run: the
/// picture is a function of the pixel coordinates and a fixed-seed noise, and a JPEG
/// comment segment after the start-of-image marker brings it to [`BOOK_COVER_BYTES`].
pub fn cover() -> &'static [u8] {
    static COVER: OnceLock<Vec<u8>> = OnceLock::new();
    COVER.get_or_init(|| {
        let pixels = draw();
        let mut jpeg = Vec::with_capacity(BOOK_COVER_BYTES);
        Encoder::new(&mut jpeg, QUALITY)
            .encode(&pixels, WIDTH, HEIGHT, ColorType::Rgb)
            .expect("an RGB buffer of WIDTH x HEIGHT pixels always encodes");
        pad_to(jpeg, BOOK_COVER_BYTES)
    })
}

/// `jpeg` with a comment segment (COM, `FF FE`) inserted after its start-of-image marker
/// so that it is `len` bytes long; unchanged when it is already too long for one.
fn pad_to(jpeg: Vec<u8>, len: usize) -> Vec<u8> {
    let Some(segment) = len.checked_sub(jpeg.len()).filter(|&n| n >= 4) else {
        return jpeg;
    };
    let Ok(field) = u16::try_from(segment - 2) else {
        return jpeg;
    };
    let mut note = PADDING_NOTE.to_vec();
    note.resize(segment - 4, b' ');
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&field.to_be_bytes());
    out.extend_from_slice(&note);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// The image's entity tag, shaped as Apache makes them (`"id-length-mtime"`, in hex):
/// a 24-bit FNV-1a hash of the bytes, the length, and [`LAST_MODIFIED_US`].
pub(crate) fn cover_etag() -> &'static str {
    static ETAG: OnceLock<String> = OnceLock::new();
    ETAG.get_or_init(|| {
        let bytes = cover();
        let hash = bytes.iter().fold(0x811C_9DC5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        format!(
            "\"{:06x}-{:x}-{LAST_MODIFIED_US:x}\"",
            hash >> 8,
            bytes.len()
        )
    })
}

/// RGB pixels of a book-cover-like picture: a dusk gradient, a sun with rings, rolling
/// hills and a title band, with grain so it compresses like a photograph.
fn draw() -> Vec<u8> {
    let (w, h) = (f32::from(WIDTH), f32::from(HEIGHT));
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut out = Vec::with_capacity(usize::from(WIDTH) * usize::from(HEIGHT) * 3);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let (fx, fy) = (f32::from(x) / w, f32::from(y) / h);
            let mut rgb = [
                40.0 + 150.0 * fy,
                30.0 + 60.0 * fy,
                120.0 - 60.0 * fy + 40.0 * fx,
            ];
            let (dx, dy) = (fx - 0.62, (fy - 0.38) * h / w);
            let d = (dx * dx + dy * dy).sqrt();
            if d < 0.16 {
                rgb = [250.0, 200.0 - 300.0 * d, 80.0];
            } else if d < 0.45 && ((d * 60.0) as u32).is_multiple_of(3) {
                rgb = rgb.map(|c| c * 0.8 + 40.0);
            }
            let hill = 0.72 + 0.05 * (fx * 9.0).sin() + 0.03 * (fx * 23.0 + 1.0).cos();
            if fy > hill {
                let depth = fy - hill;
                rgb = [20.0 + 60.0 * depth, 70.0 + 200.0 * depth, 40.0];
            }
            if (0.08..0.18).contains(&fy) && (0.08..0.92).contains(&fx) {
                let letter = ((fx * 40.0) as u32).is_multiple_of(3)
                    && ((fy * 100.0) as u32).is_multiple_of(2);
                rgb = if letter {
                    [240.0; 3]
                } else {
                    [25.0, 25.0, 60.0]
                };
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let grain = f32::from((seed >> 56) as u8) / 255.0 * 36.0 - 18.0;
            out.extend(rgb.map(|c| (c + grain).clamp(0.0, 255.0) as u8));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_is_a_complete_jpeg_of_the_books_length() {
        let jpeg = cover();
        assert_eq!(jpeg.len(), 70_057);
        assert_eq!(&jpeg[..2], [0xFF, 0xD8], "SOI");
        assert_eq!(&jpeg[2..4], [0xFF, 0xFE], "COM");
        let com = usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        assert!(jpeg[6..].starts_with(PADDING_NOTE));
        assert_eq!(
            &jpeg[4 + com..6 + com],
            [0xFF, 0xE0],
            "the encoder's JFIF segment"
        );
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9], "EOI");
    }

    #[test]
    fn padding_cannot_shrink_or_split_an_image() {
        let tiny = vec![0xFF, 0xD8, 0xFF, 0xD9];
        assert_eq!(pad_to(tiny.clone(), 4), tiny);
        assert_eq!(pad_to(tiny.clone(), 7), tiny, "no room for a segment");
        let padded = pad_to(tiny, 8);
        assert_eq!(padded, [0xFF, 0xD8, 0xFF, 0xFE, 0, 2, 0xFF, 0xD9]);
    }

    #[test]
    fn etag_is_apache_shaped_with_the_books_length_and_time() {
        let etag = cover_etag();
        assert_eq!(etag.len(), 28, "{etag}");
        assert!(etag.ends_with("-111a9-526172f5b7cc9\""), "{etag}");
    }

    #[test]
    fn cover_is_the_same_every_time() {
        let pixels = draw();
        assert_eq!(pixels, draw());
        let mut again = Vec::new();
        Encoder::new(&mut again, QUALITY)
            .encode(&pixels, WIDTH, HEIGHT, ColorType::Rgb)
            .unwrap();
        assert_eq!(pad_to(again, BOOK_COVER_BYTES), cover());
    }
}
