//! The composer canvas: the trigger and steps as HTML nodes over an SVG layer of links; pan,
//! zoom and fit; dragging steps; dragging from an output port to link; selection and Delete.
//! Read-only when showing Live or a revision preview. Edits go through the [`DraftStore`].

use crate::draft::DraftStore;
use crate::ui::Icon;
use leptos::prelude::*;
use model::edit::{NODE_H, NODE_W};
use model::wire::StepStatus;
use model::{Composer, Mark, Position, Problem, StepKind, TRIGGER};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Selection {
    #[default]
    None,
    /// A step by name, or the trigger (`"trigger"`).
    Node(String),
    Link(String, String, Option<String>),
}

#[derive(Clone, Debug, PartialEq)]
enum Gesture {
    Idle,
    Pan {
        sx: f64,
        sy: f64,
        vx: f64,
        vy: f64,
    },
    /// The dragged node's position lives in its own signal, so a move repaints only that node
    /// and its links, not all of a large composer.
    Move {
        name: String,
        sx: f64,
        sy: f64,
        start: Position,
    },
    Link {
        from: String,
        port: Option<String>,
        wx: f64,
        wy: f64,
    },
}

/// Everything the pieces of one canvas share.
#[derive(Clone, Copy)]
pub struct CanvasCtx {
    pub composer: Memo<Option<Composer>>,
    pub read_only: Signal<bool>,
    pub selected: RwSignal<Selection>,
    pub marks: Signal<BTreeMap<String, Mark>>,
    pub problems: Signal<Vec<Problem>>,
    pub store: Option<DraftStore>,
    /// The run whose step states are shown on the nodes, if any.
    pub run: Signal<Option<model::wire::Run>>,
    view: RwSignal<View>,
    gesture: RwSignal<Gesture>,
    layout: Memo<BTreeMap<String, Position>>,
    canvas: NodeRef<leptos::html::Div>,
    dragged: StoredValue<BTreeMap<String, RwSignal<Option<Position>>>>,
    /// Drag signals belong to the canvas, not to whichever memo first asked for them.
    owner: StoredValue<Option<Owner>>,
}

impl CanvasCtx {
    pub fn new(
        composer: Memo<Option<Composer>>,
        read_only: Signal<bool>,
        selected: RwSignal<Selection>,
        marks: Signal<BTreeMap<String, Mark>>,
        problems: Signal<Vec<Problem>>,
        store: Option<DraftStore>,
        run: Signal<Option<model::wire::Run>>,
    ) -> CanvasCtx {
        CanvasCtx {
            composer,
            read_only,
            selected,
            marks,
            problems,
            store,
            run,
            view: RwSignal::new(View {
                x: 0.0,
                y: 0.0,
                z: 1.0,
            }),
            gesture: RwSignal::new(Gesture::Idle),
            layout: Memo::new(move |_| {
                composer.with(|c| c.as_ref().map(Composer::layout).unwrap_or_default())
            }),
            canvas: NodeRef::new(),
            dragged: StoredValue::new(BTreeMap::new()),
            owner: StoredValue::new(Owner::current()),
        }
    }

    /// The signal a node's drag position goes through (created on first use).
    fn drag_signal(&self, name: &str) -> RwSignal<Option<Position>> {
        if let Some(s) = self.dragged.with_value(|m| m.get(name).copied()) {
            return s;
        }
        let s = match self.owner.get_value() {
            Some(o) => o.with(|| RwSignal::new(None)),
            None => RwSignal::new(None),
        };
        self.dragged.update_value(|m| {
            m.insert(name.to_string(), s);
        });
        s
    }

    /// A node's position, following the pointer while it is dragged.
    fn pos(&self, name: &str) -> Position {
        let dragged = self.drag_signal(name).get();
        dragged.unwrap_or_else(|| {
            self.layout
                .with(|l| l.get(name).cloned().unwrap_or(Position { x: 0.0, y: 0.0 }))
        })
    }

    fn is_branch(&self, name: &str) -> bool {
        self.composer.with(|c| {
            c.as_ref()
                .and_then(|c| c.step(name))
                .is_some_and(|s| s.step_kind() == Some(StepKind::Branch))
        })
    }

    fn out_port(&self, name: &str, port: Option<&str>) -> (f64, f64) {
        let p = self.pos(name);
        let dy = match port {
            Some("true") => 18.0,
            Some("false") => 40.0,
            _ => NODE_H / 2.0,
        };
        (p.x + NODE_W, p.y + dy)
    }

    fn in_port(&self, name: &str) -> (f64, f64) {
        let p = self.pos(name);
        (p.x, p.y + NODE_H / 2.0)
    }

    fn rect(&self) -> Option<(f64, f64, f64, f64)> {
        #[cfg(feature = "hydrate")]
        {
            let el = self.canvas.get_untracked()?;
            let r = el.get_bounding_client_rect();
            Some((r.left(), r.top(), r.width(), r.height()))
        }
        #[cfg(not(feature = "hydrate"))]
        None
    }

    /// Client (screen) coordinates to canvas world coordinates.
    fn world_point(&self, cx: f64, cy: f64) -> (f64, f64) {
        let (l, t, _, _) = self.rect().unwrap_or_default();
        let v = self.view.get_untracked();
        ((cx - l - v.x) / v.z, (cy - t - v.y) / v.z)
    }

    /// Pans so that a node at `p` is in view (new steps land where the user looks).
    pub fn reveal(&self, p: &Position) {
        let Some((_, _, w, h)) = self.rect() else {
            return;
        };
        let v = self.view.get_untracked();
        let (sx, sy) = (p.x * v.z + v.x, p.y * v.z + v.y);
        let margin = 40.0;
        if sx < margin
            || sy < margin
            || sx + NODE_W * v.z > w - margin
            || sy + NODE_H * v.z > h - margin
        {
            self.view.update(|v| {
                v.x = w / 2.0 - (p.x + NODE_W / 2.0) * v.z;
                v.y = h / 2.0 - (p.y + NODE_H / 2.0) * v.z;
            });
        }
    }

    pub fn zoom_by(&self, factor: f64, around: Option<(f64, f64)>) {
        let (l, t, w, h) = self.rect().unwrap_or((0.0, 0.0, 800.0, 600.0));
        let (cx, cy) = around.unwrap_or((l + w / 2.0, t + h / 2.0));
        self.view.update(|v| {
            let z = (v.z * factor).clamp(0.15, 2.5);
            let (wx, wy) = ((cx - l - v.x) / v.z, (cy - t - v.y) / v.z);
            v.x = cx - l - wx * z;
            v.y = cy - t - wy * z;
            v.z = z;
        });
    }

    pub fn fit(&self) {
        let Some((_, _, w, h)) = self.rect() else {
            return;
        };
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        self.layout.with_untracked(|l| {
            for p in l.values() {
                x0 = x0.min(p.x);
                y0 = y0.min(p.y);
                x1 = x1.max(p.x + NODE_W);
                y1 = y1.max(p.y + NODE_H);
            }
        });
        if x0 > x1 || w <= 0.0 {
            return;
        }
        let pad = 48.0;
        let fits = ((w - 2.0 * pad) / (x1 - x0)).min((h - 2.0 * pad) / (y1 - y0));
        // Below half size names are unreadable: then show the start (the trigger side) instead.
        let z = fits.clamp(0.5, 1.0);
        let x = if fits < 0.5 {
            pad - x0 * z
        } else {
            (w - (x1 - x0) * z) / 2.0 - x0 * z
        };
        let y = if (y1 - y0) * z > h - 2.0 * pad {
            pad - y0 * z
        } else {
            (h - (y1 - y0) * z) / 2.0 - y0 * z
        };
        self.view.set(View { x, y, z });
    }

    fn node_at(&self, wx: f64, wy: f64) -> Option<String> {
        self.layout.with_untracked(|l| {
            l.iter()
                .find(|(name, p)| {
                    name.as_str() != TRIGGER
                        && wx >= p.x - 12.0
                        && wx <= p.x + NODE_W
                        && wy >= p.y
                        && wy <= p.y + NODE_H
                })
                .map(|(n, _)| n.clone())
        })
    }

    fn slug(&self) -> Option<String> {
        self.composer
            .with_untracked(|c| c.as_ref().map(|c| c.slug.clone()))
    }

    /// Applies an edit to this canvas' composer in the draft.
    pub fn edit_composer<R>(
        &self,
        key: Option<&str>,
        f: impl FnOnce(&mut Composer) -> R,
    ) -> Option<R> {
        let store = self.store?;
        if self.read_only.get_untracked() {
            return None;
        }
        let slug = self.slug()?;
        store
            .edit(key, move |d| d.composer_mut(&slug).map(f))
            .flatten()
    }

    pub fn delete_selection(&self) {
        match self.selected.get_untracked() {
            Selection::Node(n)
                if n != TRIGGER && self.edit_composer(None, |c| c.remove_step(&n)).is_some() =>
            {
                self.selected.set(Selection::None);
            }
            Selection::Link(from, to, port) => {
                let removed = self.edit_composer(None, |c| {
                    c.links
                        .retain(|l| !(l.from == from && l.to == to && l.port == port));
                });
                if removed.is_some() {
                    self.selected.set(Selection::None);
                }
            }
            _ => {}
        }
    }
}

fn bezier((x1, y1): (f64, f64), (x2, y2): (f64, f64)) -> String {
    let dx = ((x2 - x1).abs() / 2.0).max(40.0);
    format!(
        "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
        x1 + dx,
        x2 - dx
    )
}

/// The [`Icon`](crate::ui::Icon) of a step kind or trigger kind (SVG: the fonts a browser has
/// may lack symbol glyphs).
pub fn kind_icon(kind: &str) -> &'static str {
    match kind {
        "http" => "globe",
        "transform" => "braces",
        "code" => "code",
        "branch" => "branch",
        "database" => "database",
        "respond" => "reply",
        "delay" => "timer",
        "webhook" => "zap",
        "schedule" => "clock",
        _ => "play",
    }
}

#[component]
pub fn Canvas(ctx: CanvasCtx) -> impl IntoView {
    let view = ctx.view;
    let gesture = ctx.gesture;

    // Pointer moves and releases are followed on the window so a drag may leave the canvas.
    // Effects run in the browser only, which is where listeners belong.
    Effect::new(move |_| {
        let mv = window_event_listener(leptos::ev::pointermove, move |ev| {
            let (cx, cy) = (ev.client_x() as f64, ev.client_y() as f64);
            match gesture.get_untracked() {
                Gesture::Idle => {}
                Gesture::Pan { sx, sy, vx, vy } => view.update(|v| {
                    v.x = vx + cx - sx;
                    v.y = vy + cy - sy;
                }),
                Gesture::Move {
                    name,
                    sx,
                    sy,
                    start,
                } => {
                    let z = view.get_untracked().z;
                    let (dx, dy) = ((cx - sx) / z, (cy - sy) / z);
                    if dx.abs() + dy.abs() > 2.0 {
                        ctx.drag_signal(&name).set(Some(Position {
                            x: start.x + dx,
                            y: start.y + dy,
                        }));
                    }
                }
                Gesture::Link { from, port, .. } => {
                    let (wx, wy) = ctx.world_point(cx, cy);
                    gesture.set(Gesture::Link { from, port, wx, wy });
                }
            }
        });
        let up = window_event_listener(leptos::ev::pointerup, move |ev| {
            match gesture.get_untracked() {
                Gesture::Move { name, .. } => {
                    let sig = ctx.drag_signal(&name);
                    if let Some(p) = sig.get_untracked() {
                        let p = Position {
                            x: p.x.round(),
                            y: p.y.round(),
                        };
                        ctx.edit_composer(None, |c| c.set_position(&name, p));
                    }
                    sig.set(None);
                }
                Gesture::Link { from, port, .. } => {
                    let (wx, wy) = ctx.world_point(ev.client_x() as f64, ev.client_y() as f64);
                    if let Some(to) = ctx.node_at(wx, wy) {
                        ctx.edit_composer(None, |c| c.add_link(&from, &to, port.as_deref()));
                    }
                }
                _ => {}
            }
            gesture.set(Gesture::Idle);
        });
        on_cleanup(move || {
            mv.remove();
            up.remove();
        });
    });

    // Fit each composer to the view once, when it first has content.
    let fitted = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let slug = ctx.composer.with(|c| c.as_ref().map(|c| c.slug.clone()));
        if slug.is_some() && fitted.get_value() != slug {
            fitted.set_value(slug);
            request_animation_frame(move || ctx.fit());
        }
    });

    let on_bg_down = move |ev: leptos::ev::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        let v = view.get_untracked();
        gesture.set(Gesture::Pan {
            sx: ev.client_x() as f64,
            sy: ev.client_y() as f64,
            vx: v.x,
            vy: v.y,
        });
        ctx.selected.set(Selection::None);
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        if ev.ctrl_key() || ev.meta_key() {
            ctx.zoom_by(
                (-ev.delta_y() * 0.002).exp(),
                Some((ev.client_x() as f64, ev.client_y() as f64)),
            );
        } else {
            view.update(|v| {
                v.x -= ev.delta_x();
                v.y -= ev.delta_y();
            });
        }
    };

    let steps = move || {
        ctx.composer.with(|c| {
            c.as_ref()
                .map(|c| c.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let links = move || {
        ctx.composer
            .with(|c| c.as_ref().map(|c| c.links.clone()).unwrap_or_default())
    };

    view! {
        <div class="canvas" node_ref=ctx.canvas on:pointerdown=on_bg_down on:wheel=on_wheel
            class:panning=move || matches!(gesture.get(), Gesture::Pan { .. })
            style:background-position=move || { let v = view.get(); format!("{}px {}px", v.x, v.y) }
            style:background-size=move || { let z = view.get().z; format!("{0}px {0}px", 20.0 * z) }>
            <div class="canvas-world"
                style:transform=move || { let v = view.get(); format!("translate({}px, {}px) scale({})", v.x, v.y, v.z) }>
                <svg class="links" width="1" height="1" aria-hidden="true">
                    <defs>
                        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M0,0 L10,5 L0,10 z" class="arrowhead"/>
                        </marker>
                        <marker id="arrow-sel" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M0,0 L10,5 L0,10 z" class="arrowhead selected"/>
                        </marker>
                    </defs>
                    <For each=links key=|l| format!("{}|{}|{:?}", l.from, l.to, l.port) let:link>
                        <LinkPath ctx from=link.from.clone() to=link.to.clone() port=link.port.clone()/>
                    </For>
                    {move || match gesture.get() {
                        Gesture::Link { from, port, wx, wy } => Some(view! {
                            <path class="link pending" d=bezier(ctx.out_port(&from, port.as_deref()), (wx, wy))/>
                        }),
                        _ => None,
                    }}
                </svg>
                <TriggerNode ctx/>
                <For each=steps key=|n| n.clone() let:name>
                    <StepNode ctx name/>
                </For>
            </div>
            <Show when=move || ctx.layout.with(|l| l.len() > MINIMAP_FROM)>
                <Minimap ctx/>
            </Show>
            <div class="zoom-controls" on:pointerdown=|ev| ev.stop_propagation()>
                <button class="btn icon-btn" type="button" aria-label="Zoom out" title="Zoom out" on:click=move |_| ctx.zoom_by(1.0 / 1.2, None)>"−"</button>
                <button class="btn icon-btn" type="button" aria-label="Zoom in" title="Zoom in" on:click=move |_| ctx.zoom_by(1.2, None)>"+"</button>
                <button class="btn icon-btn" type="button" aria-label="Fit to view" title="Fit to view" on:click=move |_| ctx.fit()>"⤢"</button>
                <span class="zoom-level muted small">{move || format!("{:.0}%", view.get().z * 100.0)}</span>
            </div>
        </div>
    }
}

/// Composers with more nodes than this get a minimap.
const MINIMAP_FROM: usize = 20;
const MINIMAP_W: f64 = 200.0;
const MINIMAP_H: f64 = 130.0;

/// Every node as a small rectangle and the visible area as a frame; a click centres the view
/// there.
#[component]
fn Minimap(ctx: CanvasCtx) -> impl IntoView {
    // (x0, y0, scale, ox, oy): minimap point = (world - x0|y0) * scale + ox|oy, content centred.
    let frame = Memo::new(move |_| {
        ctx.layout.with(|l| {
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for p in l.values() {
                x0 = x0.min(p.x);
                y0 = y0.min(p.y);
                x1 = x1.max(p.x + NODE_W);
                y1 = y1.max(p.y + NODE_H);
            }
            let pad = 8.0;
            let scale = ((MINIMAP_W - 2.0 * pad) / (x1 - x0).max(1.0))
                .min((MINIMAP_H - 2.0 * pad) / (y1 - y0).max(1.0));
            let ox = (MINIMAP_W - (x1 - x0) * scale) / 2.0;
            let oy = (MINIMAP_H - (y1 - y0) * scale) / 2.0;
            (x0, y0, scale, ox, oy)
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

#[component]
fn LinkPath(ctx: CanvasCtx, from: String, to: String, port: Option<String>) -> impl IntoView {
    let sel = Selection::Link(from.clone(), to.clone(), port.clone());
    let is_sel = {
        let sel = sel.clone();
        Memo::new(move |_| ctx.selected.with(|s| *s == sel))
    };
    let d = {
        let (from, to, port) = (from.clone(), to.clone(), port.clone());
        move || bezier(ctx.out_port(&from, port.as_deref()), ctx.in_port(&to))
    };
    let label = format!("Link {from} → {to}");
    view! {
        <g class="link-g" class:selected=is_sel>
            <path class="link-hit" d=d.clone() aria-label=label
                on:pointerdown=move |ev| {
                    ev.stop_propagation();
                    ctx.selected.set(sel.clone());
                }/>
            <path class="link" d=d marker-end=move || if is_sel.get() { "url(#arrow-sel)" } else { "url(#arrow)" }/>
        </g>
    }
}

fn node_down(ctx: CanvasCtx, name: String) -> impl Fn(leptos::ev::PointerEvent) + 'static {
    move |ev| {
        if ev.button() != 0 {
            return;
        }
        ev.stop_propagation();
        ctx.selected.set(Selection::Node(name.clone()));
        if !ctx.read_only.get_untracked() {
            let start = ctx
                .layout
                .with_untracked(|l| l.get(&name).cloned())
                .unwrap_or(Position { x: 0.0, y: 0.0 });
            ctx.gesture.set(Gesture::Move {
                name: name.clone(),
                sx: ev.client_x() as f64,
                sy: ev.client_y() as f64,
                start,
            });
        }
    }
}

fn port_down(
    ctx: CanvasCtx,
    from: String,
    port: Option<&'static str>,
) -> impl Fn(leptos::ev::PointerEvent) + 'static {
    move |ev| {
        if ev.button() != 0 || ctx.read_only.get_untracked() {
            return;
        }
        ev.stop_propagation();
        let (wx, wy) = ctx.world_point(ev.client_x() as f64, ev.client_y() as f64);
        ctx.gesture.set(Gesture::Link {
            from: from.clone(),
            port: port.map(String::from),
            wx,
            wy,
        });
    }
}

#[component]
fn TriggerNode(ctx: CanvasCtx) -> impl IntoView {
    let pos = Memo::new(move |_| ctx.pos(TRIGGER));
    let kind = Memo::new(move |_| {
        ctx.composer
            .with(|c| c.as_ref().map(|c| c.trigger.kind()).unwrap_or("manual"))
    });
    let selected = Memo::new(move |_| {
        ctx.selected
            .with(|s| matches!(s, Selection::Node(n) if n == TRIGGER))
    });
    view! {
        <div class="node trigger-node" role="group" aria-label="Trigger" class:selected=selected
            style:transform=move || { let p = pos.get(); format!("translate({}px, {}px)", p.x, p.y) }
            on:pointerdown=node_down(ctx, TRIGGER.to_string())>
            <span class="node-icon" aria-hidden="true">{move || view! { <Icon name=kind_icon(kind.get())/> }}</span>
            <span class="node-text">
                <span class="node-name">"Trigger"</span>
                <span class="node-kind">{move || match kind.get() { "webhook" => "Webhook", "schedule" => "Schedule", _ => "Manual" }}</span>
            </span>
            <Show when=move || !ctx.read_only.get()>
                <span class="port out" title="Drag to a step to link" on:pointerdown=port_down(ctx, TRIGGER.to_string(), None)></span>
            </Show>
        </div>
    }
}

#[component]
fn StepNode(ctx: CanvasCtx, name: String) -> impl IntoView {
    let pos = {
        let name = name.clone();
        Memo::new(move |_| ctx.pos(&name))
    };
    let kind = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.composer.with(|c| {
                c.as_ref()
                    .and_then(|c| c.step(&name))
                    .map(|s| s.kind.clone())
                    .unwrap_or_default()
            })
        })
    };
    let problems = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.problems.with(|ps| {
                ps.iter()
                    .filter(|p| p.step.as_deref() == Some(name.as_str()) && p.is_error())
                    .count()
            })
        })
    };
    let mark = {
        let name = name.clone();
        Memo::new(move |_| ctx.marks.with(|m| m.get(&name).copied()))
    };
    let selected = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.selected
                .with(|s| matches!(s, Selection::Node(n) if *n == name))
        })
    };
    let dragging = {
        let sig = ctx.drag_signal(&name);
        Memo::new(move |_| sig.with(Option::is_some))
    };
    let branch = {
        let name = name.clone();
        Memo::new(move |_| ctx.is_branch(&name))
    };
    let state = {
        let name = name.clone();
        Memo::new(move |_| {
            ctx.run.with(|r| {
                r.as_ref()
                    .and_then(|r| r.steps.iter().find(|s| s.name == name))
                    .map(|s| (s.status, s.duration_ms()))
            })
        })
    };
    let label = move || {
        StepKind::ALL
            .iter()
            .find(|k| k.as_str() == kind.get())
            .map(|k| k.label().to_string())
            .unwrap_or_else(|| format!("unknown kind “{}”", kind.get()))
    };
    let (n1, n2, n3) = (name.clone(), name.clone(), name.clone());
    view! {
        <div role="group" aria-label=name.clone()
            class=move || {
                let mut c = String::from("node");
                for (on, name) in [
                    (selected.get(), " selected"),
                    (dragging.get(), " dragging"),
                    (problems.get() > 0, " has-problems"),
                    (mark.get() == Some(Mark::Added), " mark-added"),
                    (mark.get() == Some(Mark::Changed), " mark-changed"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Running)), " state-running"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Succeeded)), " state-succeeded"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Failed)), " state-failed"),
                    (state.with(|s| s.as_ref().is_some_and(|s| s.0 == StepStatus::Skipped)), " state-skipped"),
                ] {
                    if on {
                        c.push_str(name);
                    }
                }
                c
            }
            data-kind=move || kind.get()
            style:transform=move || { let p = pos.get(); format!("translate({}px, {}px)", p.x, p.y) }
            on:pointerdown=node_down(ctx, name.clone())>
            <span class="port in" aria-hidden="true"></span>
            <span class="node-icon" aria-hidden="true">{move || view! { <Icon name=kind_icon(&kind.get())/> }}</span>
            <span class="node-text">
                <span class="node-name">{name.clone()}</span>
                <span class="node-kind">{label}</span>
                {move || state.get().map(|(st, ms)| {
                    let text = crate::runwatch::step_state_text(st, ms);
                    view! { <span class="node-state">{text}</span> }
                })}
            </span>
            <Show when=move || { problems.get() > 0 }>
                <span class="badge fail" title="Problems">{move || problems.get()}</span>
            </Show>
            {move || mark.get().map(|m| {
                let text = match m { Mark::Added => "added", Mark::Changed => "changed", Mark::Removed => "removed" };
                view! { <span class="badge mark">{text}</span> }
            })}
            <Show when=move || !ctx.read_only.get()>
                {
                    let (n1, n2, n3) = (n1.clone(), n2.clone(), n3.clone());
                    move || if branch.get() {
                        view! {
                            <span class="port out port-true" title="true" on:pointerdown=port_down(ctx, n1.clone(), Some("true"))><span class="port-label">"true"</span></span>
                            <span class="port out port-false" title="false" on:pointerdown=port_down(ctx, n2.clone(), Some("false"))><span class="port-label">"false"</span></span>
                        }.into_any()
                    } else {
                        view! { <span class="port out" title="Drag to a step to link" on:pointerdown=port_down(ctx, n3.clone(), None)></span> }.into_any()
                    }
                }
            </Show>
        </div>
    }
}
