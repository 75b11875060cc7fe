//! The composer canvas: the trigger and steps as HTML nodes over an SVG layer of links; pan,
//! zoom and fit; dragging steps; dragging from an output port to link; selection and Delete.
//! Read-only when showing Live or a revision preview. Edits go through the [`DraftStore`].

use crate::draft::DraftStore;
use crate::ui::Icon;
use leptos::prelude::*;

use model::wire::StepStatus;
use model::{Composer, Mark, Position, Problem, StepKind, TRIGGER};
use std::collections::BTreeMap;

mod geometry;
mod minimap;
mod nodes;

use geometry::bezier;
use minimap::{MINIMAP_FROM, Minimap};
use nodes::{StepNode, TriggerNode};

pub use geometry::View;
pub use nodes::kind_icon;

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
        geometry::out_port(&self.pos(name), port)
    }

    fn in_port(&self, name: &str) -> (f64, f64) {
        geometry::in_port(&self.pos(name))
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
        geometry::to_world(&self.view.get_untracked(), (cx - l, cy - t))
    }

    /// Pans so that a node at `p` is in view (new steps land where the user looks).
    pub fn reveal(&self, p: &Position) {
        let Some((_, _, w, h)) = self.rect() else {
            return;
        };
        if let Some(v) = geometry::revealing(&self.view.get_untracked(), p, (w, h)) {
            self.view.set(v);
        }
    }

    pub fn zoom_by(&self, factor: f64, around: Option<(f64, f64)>) {
        let (l, t, w, h) = self.rect().unwrap_or((0.0, 0.0, 800.0, 600.0));
        let (cx, cy) = around.unwrap_or((l + w / 2.0, t + h / 2.0));
        self.view
            .update(|v| *v = geometry::zoomed(v, factor, (cx - l, cy - t)));
    }

    pub fn fit(&self) {
        let Some((_, _, w, h)) = self.rect() else {
            return;
        };
        let fit = self
            .layout
            .with_untracked(|l| geometry::Bounds::of(l.values()))
            .and_then(|b| geometry::fitting(&b, (w, h)));
        if let Some(v) = fit {
            self.view.set(v);
        }
    }

    fn node_at(&self, wx: f64, wy: f64) -> Option<String> {
        self.layout.with_untracked(|l| {
            l.iter()
                .find(|(name, p)| name.as_str() != TRIGGER && geometry::hits(p, wx, wy))
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
