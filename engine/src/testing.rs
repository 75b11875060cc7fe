//! What the engine's unit tests start from: an engine on redb's in-memory backend, on the system
//! clock or on a manual one at [`T0`], with or without the automation "orders" (named "Orders",
//! created by "ann") that most tests work in.

use crate::{Clock, Engine};
use model::Document;

/// The manual clock's start: a Monday morning.
pub const T0: &str = "2026-01-05T09:00:00Z";

/// An empty engine on the system clock.
pub fn engine() -> Engine {
    Engine::in_memory(Clock::system()).expect("in-memory engine")
}

/// An empty engine on a manual clock at [`T0`], and the clock to move.
pub fn engine_at_t0() -> (Engine, Clock) {
    let clock = Clock::manual(T0.parse().expect("T0"));
    let engine = Engine::in_memory(clock.clone()).expect("in-memory engine");
    (engine, clock)
}

/// Creates the automation "orders" in `engine`; answers the engine.
pub fn with_orders(engine: Engine) -> Engine {
    engine
        .create_automation("orders", "Orders", "ann")
        .expect("create orders");
    engine
}

/// An engine on the system clock holding "orders" with `doc` (JSON) as its draft.
pub fn orders_with_draft(doc: &str) -> Engine {
    let engine = with_orders(engine());
    let doc = Document::from_json(doc).expect("the test document parses");
    engine
        .save_draft("orders", 1, doc, "ann")
        .expect("save the draft");
    engine
}

/// An engine on the system clock holding "orders".
pub fn orders() -> Engine {
    with_orders(engine())
}

/// An engine on a manual clock at [`T0`] holding "orders", and the clock.
pub fn orders_at_t0() -> (Engine, Clock) {
    let (engine, clock) = engine_at_t0();
    (with_orders(engine), clock)
}
