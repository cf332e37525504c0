//! Nearest xterm-256 colour index for a truecolor value.
//!
//! Only the 6x6x6 cube (16-231) and the grayscale ramp (232-255) are
//! candidates: the 16 system colours are redefined by terminal themes, so
//! their RGB values are unknown.

/// A truecolor value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// Channel levels of the 6x6x6 colour cube.
const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The index whose colour is nearest by squared RGB distance.
///
/// Ties go to the cube, which is tried first.
pub fn nearest(color: Rgb) -> u8 {
    let (cube_index, cube_rgb) = nearest_cube(color);
    let (gray_index, gray_rgb) = (0..24u8)
        .map(|k| (232 + k, Rgb(8 + 10 * k, 8 + 10 * k, 8 + 10 * k)))
        .min_by_key(|&(_, gray)| distance(color, gray))
        .expect("the ramp is not empty");
    if distance(color, gray_rgb) < distance(color, cube_rgb) {
        gray_index
    } else {
        cube_index
    }
}

/// The cube is separable: the nearest level per channel is the nearest cell.
fn nearest_cube(color: Rgb) -> (u8, Rgb) {
    let level = |c: u8| {
        (0..6u8)
            .min_by_key(|&i| CUBE_LEVELS[usize::from(i)].abs_diff(c))
            .expect("the cube has levels")
    };
    let (r, g, b) = (level(color.0), level(color.1), level(color.2));
    let rgb = |i: u8| CUBE_LEVELS[usize::from(i)];
    (16 + 36 * r + 6 * g + b, Rgb(rgb(r), rgb(g), rgb(b)))
}

fn distance(a: Rgb, b: Rgb) -> u32 {
    let d = |x: u8, y: u8| u32::from(x.abs_diff(y)).pow(2);
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_cube_colours() {
        assert_eq!(nearest(Rgb(0, 0, 0)), 16);
        assert_eq!(nearest(Rgb(255, 255, 255)), 231);
        assert_eq!(nearest(Rgb(255, 0, 0)), 196);
        assert_eq!(nearest(Rgb(0, 255, 0)), 46);
        assert_eq!(nearest(Rgb(0, 0, 255)), 21);
        assert_eq!(nearest(Rgb(0x5f, 0xaf, 0x87)), 72);
    }

    #[test]
    fn exact_grays() {
        assert_eq!(nearest(Rgb(8, 8, 8)), 232);
        assert_eq!(nearest(Rgb(128, 128, 128)), 244);
        assert_eq!(nearest(Rgb(238, 238, 238)), 255);
    }

    #[test]
    fn near_misses() {
        // Between cube levels 0 and 95: 47 rounds down, 48 up.
        assert_eq!(nearest(Rgb(255, 255, 47)), 226);
        assert_eq!(nearest(Rgb(255, 255, 48)), 227);
        // A dim red is nearer a dark gray than cube black or cube red.
        assert_eq!(nearest(Rgb(47, 0, 0)), 233);
        // A dark gray is closer to the ramp than to cube black.
        assert_eq!(nearest(Rgb(0x1c, 0x1c, 0x1c)), 234);
        // A slightly tinted light gray still lands on the ramp.
        assert_eq!(nearest(Rgb(0xd0, 0xd0, 0xd4)), 252);
    }

    #[test]
    fn matches_brute_force_over_all_candidates() {
        let palette: Vec<(u8, Rgb)> = (16..=255u8)
            .map(|i| {
                if i < 232 {
                    let n = i - 16;
                    let l = |x: u8| CUBE_LEVELS[usize::from(x)];
                    (i, Rgb(l(n / 36), l(n / 6 % 6), l(n % 6)))
                } else {
                    let v = 8 + 10 * (i - 232);
                    (i, Rgb(v, v, v))
                }
            })
            .collect();
        for r in (0..=255u8).step_by(17) {
            for g in (0..=255u8).step_by(15) {
                for b in (0..=255u8).step_by(51) {
                    let c = Rgb(r, g, b);
                    let best = palette.iter().map(|&(_, p)| distance(c, p)).min().unwrap();
                    assert_eq!(
                        distance(c, palette[usize::from(nearest(c)) - 16].1),
                        best,
                        "{c:?}"
                    );
                }
            }
        }
    }
}
