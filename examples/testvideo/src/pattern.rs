//! A moving test pattern in I420, made to keep an encoder busy at any rate: smooth moving
//! gradients and colour bars (cheap once motion-compensated), a bouncing textured box (motion
//! with edges), a block of fresh noise every frame (costly at any quality, so a rate-controlled
//! encoder always has somewhere to spend its budget) and the frame number in binary.

use crate::Error;

/// One picture in I420 (planar 4:2:0): a `width` x `height` luma plane, then the two
/// chroma planes at half size each way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I420 {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl I420 {
    /// A mid-grey picture; both sizes must be even and non-zero.
    pub fn new(width: usize, height: usize) -> Result<Self, Error> {
        let why = if width == 0 || height == 0 {
            Some("empty")
        } else if !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            Some("4:2:0 needs even sizes")
        } else if width > 4096 || height > 4096 {
            Some("larger than 4096")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Error::Size { width, height, why });
        }
        Ok(Self {
            width,
            height,
            data: vec![128; width * height * 3 / 2],
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The three planes one after the other, as libvpx and OpenH264 take them.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The luma plane.
    pub fn y(&self) -> &[u8] {
        &self.data[..self.width * self.height]
    }

    /// The blue-difference chroma plane.
    pub fn u(&self) -> &[u8] {
        let l = self.width * self.height;
        &self.data[l..l + l / 4]
    }

    /// The red-difference chroma plane.
    pub fn v(&self) -> &[u8] {
        let l = self.width * self.height;
        &self.data[l + l / 4..]
    }

    fn planes_mut(&mut self) -> (&mut [u8], &mut [u8], &mut [u8]) {
        let l = self.width * self.height;
        let (y, uv) = self.data.split_at_mut(l);
        let (u, v) = uv.split_at_mut(l / 4);
        (y, u, v)
    }
}

/// Writes `frames` frames of the pattern as a YUV4MPEG2 stream (the format Chromium's
/// `--use-file-for-fake-video-capture` plays), so a browser can send the same content.
pub fn write_y4m(
    out: &mut impl std::io::Write,
    width: usize,
    height: usize,
    fps: u32,
    frames: usize,
) -> Result<(), Error> {
    let mut pattern = Pattern::new(width, height)?;
    let io = |e: std::io::Error| Error::Io(e.to_string());
    writeln!(
        out,
        "YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg"
    )
    .map_err(io)?;
    for _ in 0..frames {
        out.write_all(b"FRAME\n").map_err(io)?;
        out.write_all(pattern.next_frame().data()).map_err(io)?;
    }
    out.flush().map_err(io)
}

/// The test pattern: [`Pattern::next_frame`] draws frame after frame into one picture.
#[derive(Debug, Clone)]
pub struct Pattern {
    picture: I420,
    frame: u64,
    noise: u64,
}

/// The bouncing box's side and the noise block's size, in pixels (scaled down for small
/// pictures).
const BOX: usize = 96;
const NOISE_W: usize = 128;
const NOISE_H: usize = 96;

impl Pattern {
    /// A pattern of this size (even, non-zero).
    pub fn new(width: usize, height: usize) -> Result<Self, Error> {
        Ok(Self {
            picture: I420::new(width, height)?,
            frame: 0,
            noise: 0x9E37_79B9_7F4A_7C15,
        })
    }

    /// Frames drawn so far.
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// Draws the next frame and returns it.
    pub fn next_frame(&mut self) -> &I420 {
        let t = self.frame as usize;
        let (w, h) = (self.picture.width, self.picture.height);
        let (cw, ch) = (w / 2, h / 2);
        let side = BOX.min(w / 2).min(h / 2) & !1;
        let (bx, by) = (bounce(t * 5, w - side), bounce(t * 3, h - side));
        let (nw, nh) = (NOISE_W.min(w / 2) & !1, NOISE_H.min(h / 2) & !1);
        let (nx, ny) = (w - nw, h - nh);
        let mut state = self.noise;
        let (y, u, v) = self.picture.planes_mut();
        for row in 0..h {
            let line = &mut y[row * w..(row + 1) * w];
            for (col, px) in line.iter_mut().enumerate() {
                // A diagonal ramp sliding two pixels a frame.
                let ramp = ((col + row + 2 * t) % 512) as i32;
                let mut value = if ramp < 256 { ramp } else { 511 - ramp };
                if (bx..bx + side).contains(&col) && (by..by + side).contains(&row) {
                    // 8-pixel checkerboard moving with the box.
                    let (cx, cy) = ((col - bx) / 8, (row - by) / 8);
                    value = if (cx + cy) % 2 == 0 { 235 } else { 16 };
                } else if (nx..w).contains(&col) && (ny..h).contains(&row) {
                    value = 128 + (xorshift(&mut state) % 49) as i32 - 24;
                } else if row < 16 && col < 16 * 16 {
                    // The frame number, 16 bits, most significant first.
                    let bit = 15 - col / 16;
                    value = if (self.frame >> bit) & 1 == 1 {
                        235
                    } else {
                        16
                    };
                }
                *px = value.clamp(0, 255) as u8;
            }
        }
        for row in 0..ch {
            for col in 0..cw {
                // Eight colour bars scrolling sideways, one chroma pixel a frame.
                let bar = ((col + t) * 8 / cw.max(1)) % 8;
                let (ub, vb) = BARS[bar];
                u[row * cw + col] = ub;
                v[row * cw + col] = vb;
            }
        }
        self.noise = state;
        self.frame += 1;
        &self.picture
    }
}

/// (U, V) of eight bar colours.
const BARS: [(u8, u8); 8] = [
    (128, 128),
    (16, 146),
    (166, 16),
    (54, 34),
    (202, 222),
    (90, 240),
    (240, 110),
    (128, 128),
];

/// Position `step` along a back-and-forth path over `0..=span`.
fn bounce(step: usize, span: usize) -> usize {
    if span == 0 {
        return 0;
    }
    let p = step % (2 * span);
    if p <= span { p } else { 2 * span - p }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_move_and_have_the_right_size() {
        let mut p = Pattern::new(320, 240).unwrap();
        let first = p.next_frame().clone();
        let second = p.next_frame().clone();
        assert_eq!(first.data().len(), 320 * 240 * 3 / 2);
        assert_eq!(first.y().len(), 320 * 240);
        assert_eq!(first.u().len(), 160 * 120);
        assert_eq!(first.v().len(), 160 * 120);
        assert_ne!(first, second);
        assert_eq!(p.frames(), 2);
    }

    #[test]
    fn odd_or_empty_sizes_are_refused() {
        assert!(Pattern::new(321, 240).is_err());
        assert!(Pattern::new(0, 240).is_err());
        // Tiny pictures still draw (box and noise block shrink).
        let mut p = Pattern::new(2, 2).unwrap();
        assert_eq!(p.next_frame().data().len(), 6);
    }

    #[test]
    fn y4m_has_a_header_and_whole_frames() {
        let mut out = Vec::new();
        write_y4m(&mut out, 4, 2, 30, 3).unwrap();
        let header = b"YUV4MPEG2 W4 H2 F30:1 Ip A1:1 C420jpeg\n";
        assert!(out.starts_with(header));
        assert_eq!(out.len(), header.len() + 3 * (6 + 12));
    }

    #[test]
    fn bounce_stays_in_range() {
        for s in 0..1000 {
            assert!(bounce(s, 37) <= 37);
        }
        assert_eq!(bounce(5, 0), 0);
    }
}
