//! The grayscale page image and the few operations OCR needs, written here
//! rather than pulling an imaging crate: quarter turns, small-angle deskew
//! (projection profiles), ruling-line detection and removal (a gridded
//! table's lines become garbage tokens and hide decimal commas; their
//! positions give the cells), crops, and PGM decoding for pdftoppm's output.

/// 8-bit gray, row-major, 0 = black.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gray {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

/// Pixels darker than this count as ink.
const INK: u8 = 140;
/// Ruling lines: a blurred 1-px rule on a 200 dpi scan is mid-gray.
const LINE_INK: u8 = 200;
/// Around a removed rule, pixels darker than this go too.
const HALO: u8 = 235;

impl Gray {
    pub(crate) fn new(w: usize, h: usize) -> Gray {
        Gray {
            w,
            h,
            px: vec![255; w * h],
        }
    }

    fn at(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.w + x]
    }

    /// Turned clockwise by `quarter` × 90°.
    pub(crate) fn rotate90(&self, quarter: u32) -> Gray {
        match quarter % 4 {
            0 => self.clone(),
            2 => Gray {
                w: self.w,
                h: self.h,
                px: self.px.iter().rev().copied().collect(),
            },
            q => {
                let mut out = Gray::new(self.h, self.w);
                for y in 0..self.h {
                    for x in 0..self.w {
                        let (nx, ny) = if q == 1 {
                            (self.h - 1 - y, x)
                        } else {
                            (y, self.w - 1 - x)
                        };
                        out.px[ny * out.w + nx] = self.at(x, y);
                    }
                }
                out
            }
        }
    }

    /// Rotated by `deg` degrees (counter-clockwise positive) about the
    /// centre, bilinear, white outside.
    pub(crate) fn rotate(&self, deg: f64) -> Gray {
        let (s, c) = deg.to_radians().sin_cos();
        let (cx, cy) = (self.w as f64 / 2.0, self.h as f64 / 2.0);
        let mut out = Gray::new(self.w, self.h);
        for y in 0..self.h {
            for x in 0..self.w {
                let (dx, dy) = (x as f64 - cx, y as f64 - cy);
                let sx = c * dx - s * dy + cx;
                let sy = s * dx + c * dy + cy;
                out.px[y * self.w + x] = self.sample(sx, sy);
            }
        }
        out
    }

    fn sample(&self, x: f64, y: f64) -> u8 {
        if x < 0.0 || y < 0.0 || x >= (self.w - 1) as f64 || y >= (self.h - 1) as f64 {
            return 255;
        }
        let (x0, y0) = (x as usize, y as usize);
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let p = |xx, yy| f64::from(self.at(xx, yy));
        let top = p(x0, y0) * (1.0 - fx) + p(x0 + 1, y0) * fx;
        let bottom = p(x0, y0 + 1) * (1.0 - fx) + p(x0 + 1, y0 + 1) * fx;
        (top * (1.0 - fy) + bottom * fy).round() as u8
    }

    /// Half the size, each pixel the mean of a 2×2 block.
    pub(crate) fn half(&self) -> Gray {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut out = Gray::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let sum: u32 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(dx, dy)| u32::from(self.at(2 * x + dx, 2 * y + dy)))
                    .sum();
                out.px[y * w + x] = (sum / 4) as u8;
            }
        }
        out
    }

    /// Every `step`-th pixel, for cheap analysis.
    fn downsample(&self, step: usize) -> Gray {
        let (w, h) = (self.w / step, self.h / step);
        let mut out = Gray::new(w, h);
        for y in 0..h {
            for x in 0..w {
                // Darkest of the block keeps thin strokes.
                let mut m = 255;
                for yy in 0..step {
                    for xx in 0..step {
                        m = m.min(self.at(x * step + xx, y * step + yy));
                    }
                }
                out.px[y * w + x] = m;
            }
        }
        out
    }

    /// The skew, in degrees, that makes text lines horizontal: the angle
    /// (within ±`max`) whose sheared row profile is sharpest.
    pub(crate) fn skew_angle(&self, max: f64) -> f64 {
        let step = (self.w / 600).max(1);
        let small = self.downsample(step);
        let ink: Vec<(f64, f64)> = (0..small.h)
            .flat_map(|y| (0..small.w).map(move |x| (x, y)))
            .filter(|&(x, y)| small.at(x, y) < INK)
            .map(|(x, y)| (x as f64, y as f64))
            .collect();
        if ink.len() < 200 {
            return 0.0;
        }
        let score = |deg: f64| {
            let t = deg.to_radians().tan();
            let mut rows = vec![0f64; small.h * 2 + small.w];
            let off = small.w as f64;
            for &(x, y) in &ink {
                let r = (y - x * t + off * t.abs()).round();
                if r >= 0.0 && (r as usize) < rows.len() {
                    rows[r as usize] += 1.0;
                }
            }
            rows.iter().map(|v| v * v).sum::<f64>()
        };
        let mut best = (0.0, score(0.0));
        let mut deg = -max;
        while deg <= max + 1e-9 {
            let s = score(deg);
            if s > best.1 * 1.0001 {
                best = (deg, s);
            }
            deg += 0.1;
        }
        best.0
    }

    /// Whether text lines run across (true) rather than down the image:
    /// horizontal text makes the row profile far spikier than the column one.
    pub(crate) fn text_is_horizontal(&self) -> bool {
        self.lines_across(false)
    }

    /// The same judgement over the inked extent only (a landscape table in
    /// a corner of an otherwise empty page, where the whole page's empty
    /// margins read as gaps between vertical lines).
    pub(crate) fn inked_text_is_horizontal(&self) -> bool {
        self.lines_across(true)
    }

    fn lines_across(&self, inked_only: bool) -> bool {
        let small = self.downsample((self.w.max(self.h) / 800).max(1));
        let mut rows = vec![0f64; small.h];
        let mut cols = vec![0f64; small.w];
        for (i, &p) in small.px.iter().enumerate() {
            if p < INK {
                rows[i / small.w] += 1.0;
                cols[i % small.w] += 1.0;
            }
        }
        // Only the inked extent counts: a half-empty page (a landscape
        // table in its top-left corner) is not a page of vertical text.
        let inked = |v: &[f64]| -> (usize, usize) {
            let max = v.iter().copied().fold(0.0, f64::max);
            let first = v.iter().position(|&c| c > max * 0.02).unwrap_or(0);
            let last = v
                .iter()
                .rposition(|&c| c > max * 0.02)
                .unwrap_or(v.len().saturating_sub(1));
            (first, last.max(first))
        };
        let (r0, r1) = inked(&rows);
        let (c0, c1) = inked(&cols);
        let (rows, cols) = if inked_only {
            (&rows[r0..=r1], &cols[c0..=c1])
        } else {
            (&rows[..], &cols[..])
        };
        // Fraction of near-empty lanes: gaps between text lines.
        let blank = |v: &[f64]| {
            let max = v.iter().copied().fold(0.0, f64::max);
            v.iter().filter(|&&c| c <= max * 0.02).count() as f64 / v.len().max(1) as f64
        };
        let spiky = |v: &[f64]| {
            let d: f64 = v.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
            d / v.iter().sum::<f64>().max(1.0)
        };
        blank(rows) + spiky(rows) >= blank(cols) + spiky(cols)
    }

    /// Finds horizontal and vertical ruling lines (runs of at least
    /// `min_len` px darker than [`LINE_INK`]: scanned rules come out gray),
    /// whitens them and their gray halo in place and returns their
    /// positions (y of horizontal lines, x of vertical ones), merged within 4 px.
    pub(crate) fn remove_lines(&mut self, min_len: usize) -> (Vec<usize>, Vec<usize>) {
        let mut hs = Vec::new();
        let mut vs = Vec::new();
        let mut mask = vec![false; self.px.len()];
        let (w, h) = (self.w, self.h);
        let mut runs = |len: usize,
                        count: usize,
                        at: &dyn Fn(usize, usize) -> usize,
                        found: &mut Vec<usize>| {
            for lane in 0..count {
                let mut i = 0;
                while i < len {
                    if self.px[at(lane, i)] < LINE_INK {
                        let start = i;
                        while i < len && self.px[at(lane, i)] < LINE_INK {
                            i += 1;
                        }
                        if i - start >= min_len {
                            found.push(lane);
                            (start..i).for_each(|j| mask[at(lane, j)] = true);
                        }
                    } else {
                        i += 1;
                    }
                }
            }
        };
        runs(w, h, &|y, x| y * w + x, &mut hs);
        runs(h, w, &|x, y| y * w + x, &mut vs);
        // The halo: light-gray pixels next to a removed line pixel.
        let mut clear = mask.clone();
        for y in 0..h {
            for x in 0..w {
                if !mask[y * w + x] {
                    continue;
                }
                for (dx, dy) in [
                    (-2i64, 0i64),
                    (-1, 0),
                    (1, 0),
                    (2, 0),
                    (0, -2),
                    (0, -1),
                    (0, 1),
                    (0, 2),
                ] {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx >= 0
                        && ny >= 0
                        && (nx as usize) < w
                        && (ny as usize) < h
                        && self.px[ny as usize * w + nx as usize] < HALO
                    {
                        clear[ny as usize * w + nx as usize] = true;
                    }
                }
            }
        }
        for (p, m) in self.px.iter_mut().zip(&clear) {
            if *m {
                *p = 255;
            }
        }
        (merge(hs), merge(vs))
    }

    /// Erases dot leaders (`Matemática . . . . . . 7,5`): rows of six or
    /// more specks no larger than `dot` pixels, evenly spaced on one
    /// baseline. Tesseract reads a leader as a run of garbage that swallows
    /// the name before it; a lone speck (a decimal comma, an `i`'s dot) is
    /// never part of such a row. Returns how many specks went.
    pub(crate) fn remove_dot_leaders(&mut self, dot: usize) -> usize {
        let (w, h) = (self.w, self.h);
        let mut seen = vec![false; w * h];
        // (x centre, y centre, pixels) of each small speck.
        let mut specks: Vec<(f64, f64, Vec<usize>)> = Vec::new();
        let mut stack = Vec::new();
        for start in 0..w * h {
            // (A scan blurs a leader's dots to mid-gray: count them as ink.)
            if seen[start] || self.px[start] >= LINE_INK {
                continue;
            }
            seen[start] = true;
            stack.push(start);
            let mut pixels = Vec::new();
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            let mut big = false;
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                if x1 - x0 >= dot || y1 - y0 >= dot {
                    big = true;
                }
                if !big {
                    pixels.push(i);
                }
                let mut push = |j: usize| {
                    if !seen[j] && self.px[j] < LINE_INK {
                        seen[j] = true;
                        stack.push(j);
                    }
                };
                if x > 0 {
                    push(i - 1);
                }
                if x + 1 < w {
                    push(i + 1);
                }
                if y > 0 {
                    push(i - w);
                }
                if y + 1 < h {
                    push(i + w);
                }
            }
            if !big {
                specks.push(((x0 + x1) as f64 / 2.0, (y0 + y1) as f64 / 2.0, pixels));
            }
        }
        // Rows of specks: same baseline (± a third of a dot), left to right.
        specks.sort_by(|a, b| {
            ((a.1 / dot as f64).round())
                .total_cmp(&(b.1 / dot as f64).round())
                .then(a.0.total_cmp(&b.0))
        });
        let mut removed = 0;
        let mut i = 0;
        let d = dot as f64;
        while i < specks.len() {
            let mut j = i + 1;
            while j < specks.len() {
                let (p, q) = (&specks[j - 1], &specks[j]);
                let gap = q.0 - p.0;
                if (q.1 - p.1).abs() > d / 2.0 || gap > 4.0 * d || gap < d / 2.0 {
                    break;
                }
                // Evenly spaced: each gap within half of the first one.
                let first = specks[i + 1].0 - specks[i].0;
                if j > i + 1 && (gap - first).abs() > first / 2.0 {
                    break;
                }
                j += 1;
            }
            if j - i >= 6 {
                for s in &specks[i..j] {
                    for &k in &s.2 {
                        self.px[k] = 255;
                    }
                }
                removed += j - i;
            }
            i = j;
        }
        removed
    }

    /// Background normalisation: each pixel divided by the lightest level
    /// of its `block`×`block` tile (never taken darker than 150), so gray
    /// header fills, shading and an uneven scan become white while ink
    /// stays dark — Tesseract's global threshold otherwise reads text on
    /// a tinted band as noise. `block` is about a millimetre: wider than
    /// any stroke, so every tile holds some background.
    pub(crate) fn normalize_background(&self, block: usize) -> Gray {
        let block = block.max(4);
        let (bw, bh) = (self.w.div_ceil(block), self.h.div_ceil(block));
        let mut bg = vec![150u8; bw * bh];
        for y in 0..self.h {
            let row = &self.px[y * self.w..(y + 1) * self.w];
            let tiles = &mut bg[(y / block) * bw..(y / block + 1) * bw];
            for (x, &p) in row.iter().enumerate() {
                let t = &mut tiles[x / block];
                if p > *t {
                    *t = p;
                }
            }
        }
        let mut out = self.clone();
        for y in 0..self.h {
            let tiles = &bg[(y / block) * bw..(y / block + 1) * bw];
            for (x, p) in out.px[y * self.w..(y + 1) * self.w].iter_mut().enumerate() {
                let b = u32::from(tiles[x / block]);
                if b < 255 {
                    *p = (u32::from(*p) * 255 / b).min(255) as u8;
                }
            }
        }
        out
    }

    /// 3×3 median: removes scanner specks (salt and pepper) that Tesseract
    /// would read as diacritics, keeps strokes 2 px and wider.
    pub(crate) fn median3(&self) -> Gray {
        let mut out = self.clone();
        if self.w < 3 || self.h < 3 {
            return out;
        }
        for y in 1..self.h - 1 {
            let (r0, r1, r2) = ((y - 1) * self.w, y * self.w, (y + 1) * self.w);
            for x in 1..self.w - 1 {
                let p = &self.px;
                let mut win = [
                    p[r0 + x - 1],
                    p[r0 + x],
                    p[r0 + x + 1],
                    p[r1 + x - 1],
                    p[r1 + x],
                    p[r1 + x + 1],
                    p[r2 + x - 1],
                    p[r2 + x],
                    p[r2 + x + 1],
                ];
                // Flat white neighbourhoods (most of a page) need no sort.
                if win.iter().all(|&v| v == 255) {
                    continue;
                }
                win.sort_unstable();
                out.px[r1 + x] = win[4];
            }
        }
        out
    }

    /// The rectangle `[x0, x1) × [y0, y1)`, clamped.
    pub(crate) fn crop(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> Gray {
        let (x1, y1) = (x1.min(self.w), y1.min(self.h));
        let (x0, y0) = (x0.min(x1), y0.min(y1));
        let mut out = Gray::new(x1 - x0, y1 - y0);
        for y in y0..y1 {
            out.px[(y - y0) * out.w..(y - y0 + 1) * out.w]
                .copy_from_slice(&self.px[y * self.w + x0..y * self.w + x1]);
        }
        out
    }

    /// Whether the rectangle holds any ink.
    pub(crate) fn has_ink(&self) -> bool {
        self.px.iter().filter(|&&p| p < INK).count() > 3
    }

    /// With a white border (Tesseract reads a tight crop badly).
    pub(crate) fn pad(&self, border: usize) -> Gray {
        let mut out = Gray::new(self.w + 2 * border, self.h + 2 * border);
        for y in 0..self.h {
            let o = (y + border) * out.w + border;
            out.px[o..o + self.w].copy_from_slice(&self.px[y * self.w..(y + 1) * self.w]);
        }
        out
    }
}

/// Positions within 4 px of each other collapse to their middle.
fn merge(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for p in v {
        match out.last_mut() {
            Some(g) if p - g[g.len() - 1] <= 4 => g.push(p),
            _ => out.push(vec![p]),
        }
    }
    out.into_iter()
        .map(|g| (g[0] + g[g.len() - 1]) / 2)
        .collect()
}

/// Decodes a binary PGM (`P5`, 8-bit), as `pdftoppm -gray` writes.
pub(crate) fn parse_pgm(data: &[u8]) -> Option<Gray> {
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while i < data.len() && data[i].is_ascii_whitespace() {
            i += 1;
        }
        if data.get(i) == Some(&b'#') {
            while i < data.len() && data[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < data.len() && !data[i].is_ascii_whitespace() {
            i += 1;
        }
        if start == i {
            return None;
        }
        fields.push(std::str::from_utf8(&data[start..i]).ok()?.to_string());
    }
    i += 1;
    if fields[0] != "P5" || fields[3] != "255" {
        return None;
    }
    let (w, h): (usize, usize) = (fields[1].parse().ok()?, fields[2].parse().ok()?);
    let px = data.get(i..i + w.checked_mul(h)?)?.to_vec();
    Some(Gray { w, h, px })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_with_lines(angle: f64) -> Gray {
        let mut g = Gray::new(600, 400);
        let t = angle.to_radians().tan();
        for line in 0..8 {
            let y0 = 40.0 + line as f64 * 40.0;
            for x in 50..550 {
                if (x / 7) % 3 == 0 {
                    continue; // gaps between "letters"
                }
                for dy in 0..10 {
                    let y = (y0 + dy as f64 + x as f64 * t) as usize;
                    g.px[y * 600 + x] = 0;
                }
            }
        }
        g
    }

    #[test]
    fn removes_dot_leaders_and_keeps_lone_specks() {
        let mut g = Gray::new(400, 60);
        let dot = |g: &mut Gray, x: usize, y: usize| {
            for dy in 0..3 {
                for dx in 0..3 {
                    g.px[(y + dy) * 400 + x + dx] = 0;
                }
            }
        };
        // A leader of ten dots, then a comma-sized speck alone, then a letter.
        for k in 0..10 {
            dot(&mut g, 20 + k * 12, 20);
        }
        dot(&mut g, 300, 21);
        for y in 10..24 {
            for x in 330..334 {
                g.px[y * 400 + x] = 0;
            }
        }
        let before_letter = g.px.iter().filter(|&&p| p == 0).count();
        assert_eq!(g.remove_dot_leaders(5), 10);
        let after = g.px.iter().filter(|&&p| p == 0).count();
        assert_eq!(before_letter - after, 10 * 9, "only the leader's dots go");
        assert_eq!(g.at(301, 22), 0, "the lone speck stays");
        assert_eq!(g.at(331, 15), 0, "the letter stays");
    }

    #[test]
    fn finds_skew_and_orientation() {
        let a = page_with_lines(1.5).skew_angle(3.0);
        assert!((a - 1.5).abs() <= 0.2, "skew {a}");
        assert!(page_with_lines(0.0).skew_angle(3.0).abs() <= 0.1);
        assert!(page_with_lines(0.0).text_is_horizontal());
        assert!(!page_with_lines(0.0).rotate90(1).text_is_horizontal());
    }

    #[test]
    fn quarter_turns_compose() {
        let mut g = Gray::new(3, 2);
        g.px = vec![1, 2, 3, 4, 5, 6];
        let r = g.rotate90(1);
        assert_eq!((r.w, r.h), (2, 3));
        assert_eq!(r.px, vec![4, 1, 5, 2, 6, 3]);
        assert_eq!(g.rotate90(1).rotate90(3), g);
        assert_eq!(g.rotate90(2).px, vec![6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn removes_grid_lines_and_reports_them() {
        let mut g = Gray::new(300, 200);
        for x in 10..290 {
            g.px[50 * 300 + x] = 0;
        }
        for y in 20..180 {
            g.px[y * 300 + 100] = 0;
        }
        g.px[120 * 300 + 200] = 0; // a dot of text stays
        let (h, v) = g.remove_lines(100);
        assert_eq!((h, v), (vec![50], vec![100]));
        assert_eq!(g.px[120 * 300 + 200], 0);
        assert_eq!(g.px[50 * 300 + 150], 255);
    }

    #[test]
    fn background_normalisation_whitens_fills_and_keeps_ink() {
        // A page with a gray band (a header fill, 200) holding a dark stroke (60).
        let mut g = Gray::new(120, 60);
        for y in 10..40 {
            for x in 0..120 {
                g.px[y * 120 + x] = 200;
            }
        }
        for y in 20..30 {
            for x in 50..53 {
                g.px[y * 120 + x] = 60;
            }
        }
        let n = g.normalize_background(12);
        assert_eq!(n.at(10, 15), 255, "the fill becomes white");
        assert!(n.at(51, 25) < 90, "the stroke stays dark: {}", n.at(51, 25));
        assert_eq!(n.at(5, 50), 255);
    }

    #[test]
    fn median_removes_specks_and_keeps_strokes() {
        let mut g = Gray::new(20, 20);
        g.px[5 * 20 + 5] = 0; // a speck
        for y in 2..18 {
            g.px[y * 20 + 12] = 0; // a 2-px stroke
            g.px[y * 20 + 13] = 0;
        }
        let m = g.median3();
        assert_eq!(m.px[5 * 20 + 5], 255);
        assert_eq!(m.px[10 * 20 + 12], 0);
    }

    #[test]
    fn reads_pgm() {
        let g = parse_pgm(b"P5\n# c\n2 1\n255\n\x00\xff").unwrap();
        assert_eq!((g.w, g.h, g.px), (2, 1, vec![0, 255]));
        assert!(parse_pgm(b"P6\n2 1\n255\n").is_none());
    }
}
