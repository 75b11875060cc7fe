//! Settings → Retention: how long this automation keeps runs in each mode (PRODUCT.md §15).

use crate::api::{SetRetention, get_retention};
use crate::pages::frame::use_frame;
use crate::pages::settings::audited;
use crate::ui::ActionError;
use leptos::prelude::*;
use model::wire::RetentionRule;

#[component]
pub fn Retention(changed: RwSignal<u32>) -> impl IntoView {
    let frame = use_frame();
    let set = ServerAction::<SetRetention>::new();
    audited(set.version(), changed);
    let current = Resource::new(
        move || (frame.automation.get(), set.version().get()),
        |(automation, _)| get_retention(automation),
    );
    view! {
        <section class="card section" aria-labelledby="retention-h">
            <h2 id="retention-h">"Retention"</h2>
            <p class="muted">"Runs of this automation are deleted once they are older than the days below, and past the newest runs kept per composer. Runs still queued or running are never deleted. The pruner applies new rules within a minute."</p>
            <Transition>
                {move || current.get().map(|r| match r {
                    Ok(rules) => view! {
                        <ActionForm action=set attr:class="stack">
                            <input type="hidden" name="automation" value=frame.automation.get_untracked()/>
                            <div class="row wrap retention">
                                <Mode legend="Test" prefix="test" rule=rules.test/>
                                <Mode legend="Live" prefix="live" rule=rules.live/>
                            </div>
                            <div><button class="btn primary" type="submit">"Save retention"</button></div>
                        </ActionForm>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <ActionError value=set.value()/>
            {move || matches!(set.value().get(), Some(Ok(_))).then(|| view! {
                <p class="muted small" role="status">"Saved: the pruner applies these rules on its next pass."</p>
            })}
        </section>
    }
}

/// One mode's two fields, a group named after the mode.
#[component]
fn Mode(legend: &'static str, prefix: &'static str, rule: RetentionRule) -> impl IntoView {
    view! {
        <fieldset class="stack">
            <legend>{legend}</legend>
            <label class="field"><span>"Days kept"</span>
                <input name=format!("{prefix}_days") type="number" min="0" step="any" required value=rule.days.to_string()/></label>
            <label class="field"><span>"Runs kept per composer"</span>
                <input name=format!("{prefix}_max_runs") type="number" min="1" step="1" required value=rule.max_runs.to_string()/></label>
        </fieldset>
    }
}
