//! The canvas' geometry, pure: where ports and links are, what is under a point, and the view
//! that fits, zooms or reveals. The components only feed it the layout and the canvas' size.

use model::Position;
use model::edit::{NODE_H, NODE_W};

/// How the world is drawn: a screen point is `world * z + (x, y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// The smallest and largest zoom.
pub const MIN_ZOOM: f64 = 0.15;
pub const MAX_ZOOM: f64 = 2.5;
/// Space kept around the nodes when fitting.
const FIT_PAD: f64 = 48.0;
/// A revealed node comes back into view once it is this close to an edge.
const REVEAL_MARGIN: f64 = 40.0;
/// An input port sticks out left of its node by this much, and is part of it for a drop.
const PORT_REACH: f64 = 12.0;

/// The box around some nodes (each [`NODE_W`] × [`NODE_H`] from its position).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Bounds {
    /// `None` for no nodes at all.
    pub fn of<'a>(positions: impl IntoIterator<Item = &'a Position>) -> Option<Bounds> {
        let mut b = Bounds {
            x0: f64::MAX,
            y0: f64::MAX,
            x1: f64::MIN,
            y1: f64::MIN,
        };
        for p in positions {
            b.x0 = b.x0.min(p.x);
            b.y0 = b.y0.min(p.y);
            b.x1 = b.x1.max(p.x + NODE_W);
            b.y1 = b.y1.max(p.y + NODE_H);
        }
        (b.x0 <= b.x1).then_some(b)
    }

    fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// Where a link leaves a node at `p`: a branch's `true` and `false` ports sit at their own
/// heights, every other output in the middle of the right edge.
pub fn out_port(p: &Position, port: Option<&str>) -> (f64, f64) {
    let dy = match port {
        Some("true") => 18.0,
        Some("false") => 40.0,
        _ => NODE_H / 2.0,
    };
    (p.x + NODE_W, p.y + dy)
}

/// Where links arrive at a node at `p`: the middle of its left edge.
pub fn in_port(p: &Position) -> (f64, f64) {
    (p.x, p.y + NODE_H / 2.0)
}

/// The SVG path of a link: a horizontal S-curve, its handles at least 40 px long.
pub fn bezier((x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> String {
    let dx = ((x2 - x1).abs() / 2.0).max(40.0);
    format!(
        "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
        x1 + dx,
        x2 - dx
    )
}

/// Whether the world point lies on a node at `p` (its input port included).
pub fn hits(p: &Position, wx: f64, wy: f64) -> bool {
    wx >= p.x - PORT_REACH && wx <= p.x + NODE_W && wy >= p.y && wy <= p.y + NODE_H
}

/// A point on the canvas (relative to its top-left corner) in world coordinates.
pub fn to_world(v: &View, (cx, cy): (f64, f64)) -> (f64, f64) {
    ((cx - v.x) / v.z, (cy - v.y) / v.z)
}

/// `v` zoomed by `factor` (within the limits), keeping the world point under `around` (relative
/// to the canvas) where it is.
pub fn zoomed(v: &View, factor: f64, around: (f64, f64)) -> View {
    let z = (v.z * factor).clamp(MIN_ZOOM, MAX_ZOOM);
    let (wx, wy) = to_world(v, around);
    View {
        x: around.0 - wx * z,
        y: around.1 - wy * z,
        z,
    }
}

/// The view that shows a node at `p` in the middle of a `w` × `h` canvas, when it is not
/// comfortably in view with `v` already.
pub fn revealing(v: &View, p: &Position, (w, h): (f64, f64)) -> Option<View> {
    let (sx, sy) = (p.x * v.z + v.x, p.y * v.z + v.y);
    let m = REVEAL_MARGIN;
    let inside = sx >= m && sy >= m && sx + NODE_W * v.z <= w - m && sy + NODE_H * v.z <= h - m;
    (!inside).then(|| View {
        x: w / 2.0 - (p.x + NODE_W / 2.0) * v.z,
        y: h / 2.0 - (p.y + NODE_H / 2.0) * v.z,
        z: v.z,
    })
}

/// The view that shows `b` on a `w` × `h` canvas: centred at up to full size; never below half
/// size (names become unreadable), and then from the start (the trigger side, top left).
pub fn fitting(b: &Bounds, (w, h): (f64, f64)) -> Option<View> {
    if w <= 0.0 {
        return None;
    }
    let pad = FIT_PAD;
    let fits = ((w - 2.0 * pad) / b.width()).min((h - 2.0 * pad) / b.height());
    let z = fits.clamp(0.5, 1.0);
    let x = if fits < 0.5 {
        pad - b.x0 * z
    } else {
        (w - b.width() * z) / 2.0 - b.x0 * z
    };
    let y = if b.height() * z > h - 2.0 * pad {
        pad - b.y0 * z
    } else {
        (h - b.height() * z) / 2.0 - b.y0 * z
    };
    Some(View { x, y, z })
}

/// How a `w` × `h` minimap draws `b`: `(x0, y0, scale, ox, oy)` so that a minimap point is
/// `(world - x0|y0) * scale + ox|oy`, the content centred with a small margin.
pub fn minimap_frame(b: &Bounds, (w, h): (f64, f64)) -> (f64, f64, f64, f64, f64) {
    let pad = 8.0;
    let scale = ((w - 2.0 * pad) / b.width().max(1.0)).min((h - 2.0 * pad) / b.height().max(1.0));
    let ox = (w - b.width() * scale) / 2.0;
    let oy = (h - b.height() * scale) / 2.0;
    (b.x0, b.y0, scale, ox, oy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: View = View {
        x: 0.0,
        y: 0.0,
        z: 1.0,
    };

    fn at(x: f64, y: f64) -> Position {
        Position { x, y }
    }

    #[test]
    fn bounds_cover_whole_nodes() {
        let b = Bounds::of(&[at(0.0, 0.0), at(300.0, 100.0)]).unwrap();
        assert_eq!((b.x0, b.y0), (0.0, 0.0));
        assert_eq!((b.x1, b.y1), (300.0 + NODE_W, 100.0 + NODE_H));
        assert_eq!(Bounds::of(&[]), None);
    }

    #[test]
    fn ports_sit_on_the_edges() {
        let p = at(100.0, 50.0);
        assert_eq!(in_port(&p), (100.0, 50.0 + NODE_H / 2.0));
        assert_eq!(out_port(&p, None), (100.0 + NODE_W, 50.0 + NODE_H / 2.0));
        assert!(out_port(&p, Some("true")).1 < out_port(&p, Some("false")).1);
        assert!(bezier((0.0, 0.0), (10.0, 0.0)).starts_with("M0.0,0.0 C40.0,0.0 -30.0,0.0"));
    }

    #[test]
    fn a_point_hits_a_node_and_its_input_port() {
        let p = at(100.0, 100.0);
        assert!(hits(&p, 100.0 + NODE_W / 2.0, 100.0 + NODE_H / 2.0));
        assert!(hits(&p, 100.0 - PORT_REACH, 100.0));
        assert!(!hits(&p, 100.0 - PORT_REACH - 1.0, 100.0));
        assert!(!hits(&p, 100.0, 100.0 + NODE_H + 1.0));
    }

    #[test]
    fn zooming_keeps_the_point_under_the_pointer() {
        let v = View {
            x: 30.0,
            y: -20.0,
            z: 1.0,
        };
        let around = (400.0, 300.0);
        let before = to_world(&v, around);
        let z = zoomed(&v, 2.0, around);
        assert_eq!(z.z, 2.0);
        let after = to_world(&z, around);
        assert!((before.0 - after.0).abs() < 1e-9 && (before.1 - after.1).abs() < 1e-9);
        assert_eq!(zoomed(&v, 100.0, around).z, MAX_ZOOM);
        assert_eq!(zoomed(&v, 0.001, around).z, MIN_ZOOM);
    }

    #[test]
    fn a_node_out_of_view_is_brought_to_the_middle() {
        let size = (800.0, 600.0);
        assert_eq!(revealing(&ONE, &at(100.0, 100.0), size), None);
        let v = revealing(&ONE, &at(2_000.0, 100.0), size).unwrap();
        let (sx, _) = (2_000.0 * v.z + v.x, 0.0);
        assert_eq!(sx + NODE_W / 2.0, 400.0);
    }

    #[test]
    fn fitting_centres_small_composers_and_starts_large_ones_at_the_trigger() {
        let size = (800.0, 600.0);
        let small = Bounds::of(&[at(0.0, 0.0), at(200.0, 0.0)]).unwrap();
        let v = fitting(&small, size).unwrap();
        assert_eq!(v.z, 1.0);
        let left = small.x0 * v.z + v.x;
        let right = small.x1 * v.z + v.x;
        assert!(
            (left - (800.0 - right)).abs() < 1e-9,
            "centred: {left} {right}"
        );
        let wide = Bounds::of(&[at(0.0, 0.0), at(10_000.0, 0.0)]).unwrap();
        let v = fitting(&wide, size).unwrap();
        assert_eq!(v.z, 0.5);
        assert_eq!(v.x, FIT_PAD);
        assert_eq!(fitting(&small, (0.0, 600.0)), None);
    }

    #[test]
    fn the_minimap_holds_everything() {
        let b = Bounds::of(&[at(0.0, 0.0), at(1_000.0, 500.0)]).unwrap();
        let (x0, y0, k, ox, oy) = minimap_frame(&b, (200.0, 130.0));
        let right = (b.x1 - x0) * k + ox;
        let bottom = (b.y1 - y0) * k + oy;
        assert!(ox >= 0.0 && oy >= 0.0 && right <= 200.0 + 1e-9 && bottom <= 130.0 + 1e-9);
    }
}
