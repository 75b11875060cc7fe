//! The minimap of a large composer: every node as a small rectangle, the visible area as a
//! frame; a click centres the view there.

use super::{CanvasCtx, geometry};
use leptos::prelude::*;
use model::edit::{NODE_H, NODE_W};

/// From this many nodes on, the canvas shows a minimap.
pub(super) const MINIMAP_FROM: usize = 20;
const MINIMAP_W: f64 = 200.0;
const MINIMAP_H: f64 = 130.0;

/// Every node as a small rectangle and the visible area as a frame; a click centres the view
/// there.
#[component]
pub(super) fn Minimap(ctx: CanvasCtx) -> impl IntoView {
    // (x0, y0, scale, ox, oy): minimap point = (world - x0|y0) * scale + ox|oy, content centred.
    let frame = Memo::new(move |_| {
        let bounds = ctx.layout.with(|l| geometry::Bounds::of(l.values()));
        bounds.map_or((0.0, 0.0, 1.0, 0.0, 0.0), |b| {
            geometry::minimap_frame(&b, (MINIMAP_W, MINIMAP_H))
        })
    });
    let rects = move || {
        let (x0, y0, k, ox, oy) = frame.get();
        ctx.layout.with(|l| {
            l.values()
                .map(|p| {
                    view! { <rect x=(p.x - x0) * k + ox y=(p.y - y0) * k + oy width=NODE_W * k height=NODE_H * k rx="1"/> }
                })
                .collect_view()
        })
    };
    let viewport = move || {
        let (x0, y0, k, ox, oy) = frame.get();
        let v = ctx.view.get();
        let (_, _, w, h) = ctx.rect().unwrap_or((0.0, 0.0, 800.0, 600.0));
        (
            (-v.x / v.z - x0) * k + ox,
            (-v.y / v.z - y0) * k + oy,
            w / v.z * k,
            h / v.z * k,
        )
    };
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let jump = move |ev: leptos::ev::PointerEvent| {
        ev.stop_propagation();
        let (x0, y0, k, ox, oy) = frame.get_untracked();
        #[cfg(feature = "hydrate")]
        let (left, top) = svg
            .get_untracked()
            .map(|el| {
                let r = el.get_bounding_client_rect();
                (r.left(), r.top())
            })
            .unwrap_or_default();
        #[cfg(not(feature = "hydrate"))]
        let (left, top) = {
            let _ = svg;
            (0.0, 0.0)
        };
        let (mx, my) = (ev.client_x() as f64 - left, ev.client_y() as f64 - top);
        let (wx, wy) = ((mx - ox) / k + x0, (my - oy) / k + y0);
        let (_, _, w, h) = ctx.rect().unwrap_or((0.0, 0.0, 800.0, 600.0));
        ctx.view.update(|v| {
            v.x = w / 2.0 - wx * v.z;
            v.y = h / 2.0 - wy * v.z;
        });
    };
    view! {
        <svg class="minimap" node_ref=svg width=MINIMAP_W height=MINIMAP_H aria-label="Minimap" role="img" on:pointerdown=jump>
            <g class="minimap-nodes">{rects}</g>
            {move || {
                let (x, y, w, h) = viewport();
                view! { <rect class="minimap-view" x=x y=y width=w height=h/> }
            }}
        </svg>
    }
}
