//! The built-in image: a JPEG about the size of the book's `cover3.jpg` (70057 bytes),
//! drawn and encoded by the program itself so the lab needs no file and no network.

use std::sync::OnceLock;

use jpeg_encoder::{ColorType, Encoder};

/// Width of the built-in image, in pixels.
pub(crate) const WIDTH: u16 = 432;
/// Height of the built-in image, in pixels.
pub(crate) const HEIGHT: u16 = 576;
const QUALITY: u8 = 80;

/// The built-in JPEG, made on first use and kept. The same bytes on every run: the
/// picture is a function of the pixel coordinates and a fixed-seed noise.
pub fn cover() -> &'static [u8] {
    static COVER: OnceLock<Vec<u8>> = OnceLock::new();
    COVER.get_or_init(|| {
        let pixels = draw();
        let mut jpeg = Vec::with_capacity(80 * 1024);
        Encoder::new(&mut jpeg, QUALITY)
            .encode(&pixels, WIDTH, HEIGHT, ColorType::Rgb)
            .expect("an RGB buffer of WIDTH x HEIGHT pixels always encodes");
        jpeg
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
    fn cover_is_a_complete_jpeg_of_about_the_books_size() {
        let jpeg = cover();
        assert_eq!(&jpeg[..2], [0xFF, 0xD8], "SOI");
        assert_eq!(&jpeg[jpeg.len() - 2..], [0xFF, 0xD9], "EOI");
        assert!(
            (65_000..=75_000).contains(&jpeg.len()),
            "{} bytes",
            jpeg.len()
        );
    }

    #[test]
    fn cover_is_the_same_every_time() {
        let pixels = draw();
        assert_eq!(pixels, draw());
        let mut again = Vec::new();
        Encoder::new(&mut again, QUALITY)
            .encode(&pixels, WIDTH, HEIGHT, ColorType::Rgb)
            .unwrap();
        assert_eq!(again, cover());
    }
}
