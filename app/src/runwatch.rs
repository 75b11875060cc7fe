//! The run this tab is following: started with Run (sidebar or canvas header), its state
//! pushed by the server as Server-Sent Events and shown live on the canvas.

use crate::api::start_test_run;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::wire::{Run, StepStatus};

#[derive(Clone, Copy)]
pub struct RunWatch {
    pub current: RwSignal<Option<Run>>,
    pub starting: RwSignal<bool>,
    pub error: RwSignal<Option<String>>,
}

#[cfg(feature = "hydrate")]
type Followed = (
    web_sys::EventSource,
    wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
);

#[cfg(feature = "hydrate")]
thread_local! {
    /// The open event stream and its handler; replaced when another run is followed.
    static SOURCE: std::cell::RefCell<Option<Followed>> = const { std::cell::RefCell::new(None) };
}

impl RunWatch {
    pub fn new() -> RunWatch {
        RunWatch {
            current: RwSignal::new(None),
            starting: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    /// Starts a test run of `composer` and follows it.
    pub fn start(self, automation: String, composer: String) {
        self.starting.set(true);
        self.error.set(None);
        spawn_local(async move {
            match start_test_run(automation, composer).await {
                Ok(id) => self.follow(id),
                Err(e) => self.error.set(Some(e.to_string())),
            }
            self.starting.set(false);
        });
    }

    /// Starts a live run of the latest deployment (admins, after confirming) and follows it.
    pub fn start_live(self, automation: String, composer: String) {
        self.starting.set(true);
        self.error.set(None);
        spawn_local(async move {
            match crate::api::start_live_run(automation, composer).await {
                Ok(id) => self.follow(id),
                Err(e) => self.error.set(Some(e.to_string())),
            }
            self.starting.set(false);
        });
    }

    pub fn follow(self, id: String) {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            use wasm_bindgen::closure::Closure;
            let Ok(source) = web_sys::EventSource::new(&format!("/api/v1/runs/{id}/events")) else {
                self.error.set(Some("cannot follow the run".into()));
                return;
            };
            let current = self.current;
            let src = source.clone();
            let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    let Some(text) = ev.data().as_string() else {
                        return;
                    };
                    if let Ok(run) = serde_json::from_str::<Run>(&text) {
                        let finished = run.status.is_finished();
                        current.set(Some(run));
                        if finished {
                            src.close();
                        }
                    }
                },
            );
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            SOURCE.with(|s| {
                if let Some((old, _)) = s.borrow_mut().replace((source, on_message)) {
                    old.close();
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    }
}

impl Default for RunWatch {
    fn default() -> Self {
        Self::new()
    }
}

pub fn use_run_watch() -> RunWatch {
    expect_context::<RunWatch>()
}

/// "Running", "Succeeded 12 ms" and so on, for a step of the followed run.
pub fn step_state_text(status: StepStatus, ms: Option<i64>) -> String {
    match status {
        StepStatus::Running => "Running".into(),
        StepStatus::Succeeded => match ms {
            Some(ms) => format!("Succeeded ✓ {}", model::wire::duration_text(ms)),
            None => "Succeeded ✓".into(),
        },
        StepStatus::Failed => "Failed ✕".into(),
        StepStatus::Skipped => "Skipped".into(),
        StepStatus::Pending => String::new(),
    }
}
