use super::*;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use serde_json::json;

const T: Mode = Mode::Test;
const L: Mode = Mode::Live;

/// "orders" and "billing", to show secrets stay in their automation.
fn orders_and_billing() -> Engine {
    let e = crate::testing::orders();
    e.create_automation("billing", "Billing", "ann").unwrap();
    e
}

fn key() -> MasterKey {
    MasterKey::new([7u8; 32])
}

fn invalid(err: Error) -> String {
    match err {
        Error::Invalid(m) => m,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn secrets(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Copies the stored row of `from` to `to`, byte for byte.
fn copy_raw(e: &Engine, from: (&str, Mode, &str), to: (&str, Mode, &str)) {
    let w = e.db().begin_write().unwrap();
    {
        let mut t = w.open_table(crate::store::encoded(&SECRETS)).unwrap();
        let raw = t
            .get((from.0, from.1.as_str(), from.2))
            .unwrap()
            .unwrap()
            .value()
            .into_owned();
        t.insert((to.0, to.1.as_str(), to.2), raw).unwrap();
    }
    w.commit().unwrap();
}

fn storage(err: Error) -> String {
    match err {
        Error::Storage(m) => m,
        other => panic!("expected Storage, got {other:?}"),
    }
}

#[test]
fn round_trip() {
    let e = orders_and_billing();
    let k = key();
    e.set_secret(&k, "orders", T, "API_KEY", "s3cr3t", "ann")
        .unwrap();
    e.set_secret(&k, "orders", T, "EMPTY", "", "ann").unwrap();
    e.set_secret(&k, "orders", L, "API_KEY", "live-value", "bob")
        .unwrap();
    let t = e.secret_values(&k, "orders", T).unwrap();
    assert_eq!(t, secrets(&[("API_KEY", "s3cr3t"), ("EMPTY", "")]));
    let l = e.secret_values(&k, "orders", L).unwrap();
    assert_eq!(l, secrets(&[("API_KEY", "live-value")]));
    assert!(e.secret_values(&k, "billing", T).unwrap().is_empty());

    // Replacing, and deleting.
    e.set_secret(&k, "orders", T, "API_KEY", "n3w", "bob")
        .unwrap();
    assert_eq!(e.secret_values(&k, "orders", T).unwrap()["API_KEY"], "n3w");
    assert!(e.delete_secret("orders", T, "API_KEY", "ann").unwrap());
    assert!(!e.delete_secret("orders", T, "API_KEY", "ann").unwrap());
    assert_eq!(
        e.secret_values(&k, "orders", T).unwrap(),
        secrets(&[("EMPTY", "")])
    );
    assert_eq!(e.secret_values(&k, "orders", L).unwrap().len(), 1);
}

#[test]
fn each_write_uses_a_fresh_nonce() {
    let e = orders_and_billing();
    let k = key();
    let read = |e: &Engine| -> Sealed {
        let r = e.db().begin_read().unwrap();
        let t = r.open_table(SECRETS).unwrap();
        t.get(("orders", "test", "A")).unwrap().unwrap().value()
    };
    e.set_secret(&k, "orders", T, "A", "same", "ann").unwrap();
    let first = read(&e);
    e.set_secret(&k, "orders", T, "A", "same", "ann").unwrap();
    let second = read(&e);
    assert_ne!(first.nonce_b64, second.nonce_b64);
    assert_ne!(first.ciphertext_b64, second.ciphertext_b64);
}

#[test]
fn moved_ciphertext_fails_to_decrypt() {
    let k = key();
    for to in [
        ("billing", T, "TOKEN"),
        ("orders", L, "TOKEN"),
        ("orders", T, "OTHER"),
    ] {
        let e = orders_and_billing();
        e.set_secret(&k, "orders", T, "TOKEN", "hunter2-value", "ann")
            .unwrap();
        copy_raw(&e, ("orders", T, "TOKEN"), to);
        let msg = storage(e.secret_values(&k, to.0, to.1).unwrap_err());
        assert!(msg.contains(&format!("`{}`", to.2)), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        // Once the misplaced copy is gone, the original still opens.
        assert!(e.delete_secret(to.0, to.1, to.2, "ann").unwrap());
        assert_eq!(
            e.secret_values(&k, "orders", T).unwrap()["TOKEN"],
            "hunter2-value"
        );
    }
}

#[test]
fn wrong_master_key_fails() {
    let e = orders_and_billing();
    e.set_secret(&key(), "orders", T, "TOKEN", "v", "ann")
        .unwrap();
    let other = MasterKey::new([8u8; 32]);
    let msg = storage(e.secret_values(&other, "orders", T).unwrap_err());
    assert!(msg.contains("`TOKEN`"), "{msg}");
}

#[test]
fn file_on_disk_holds_no_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slipway.redb");
    let value = "Sup3r-Secret-Value-0123456789";
    {
        let e = Engine::open(&path).unwrap();
        e.create_automation("orders", "Orders", "ann").unwrap();
        e.set_secret(&key(), "orders", T, "TOKEN", value, "ann")
            .unwrap();
    }
    let raw = std::fs::read(&path).unwrap();
    let contains = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"TOKEN"), "the row should be in the file");
    assert!(!contains(value.as_bytes()));
    assert!(!contains(STANDARD.encode(value).as_bytes()));
    assert!(!contains(STANDARD_NO_PAD.encode(value).as_bytes()));
    assert!(!contains(hex::encode(value).as_bytes()));
    assert!(!contains(hex::encode_upper(value).as_bytes()));
    let e = Engine::open(&path).unwrap();
    assert_eq!(
        e.secret_values(&key(), "orders", T).unwrap()["TOKEN"],
        value
    );
}

#[test]
fn list_shows_names_never_values() {
    let e = orders_and_billing();
    let k = key();
    e.set_secret(&k, "orders", T, "B_KEY", "value-bbb", "bob")
        .unwrap();
    e.set_secret(&k, "orders", T, "A_KEY", "value-aaa", "ann")
        .unwrap();
    e.set_secret(&k, "orders", L, "LIVE_ONLY", "value-live", "ann")
        .unwrap();
    let list = e.list_secrets("orders", T).unwrap();
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["A_KEY", "B_KEY"]);
    assert_eq!(list[0].set_by, "ann");
    assert_eq!(list[1].set_by, "bob");
    let shown = serde_json::to_string(&list).unwrap() + &format!("{list:?}");
    assert!(!shown.contains("value-"), "{shown}");
    assert_eq!(e.list_secrets("orders", L).unwrap().len(), 1);
    assert!(e.list_secrets("billing", T).unwrap().is_empty());
    assert!(e.list_secrets("nope", T).unwrap().is_empty());
    // Before any secret exists at all.
    let fresh = crate::testing::engine();
    assert!(fresh.list_secrets("orders", T).unwrap().is_empty());
}

#[test]
fn invalid_names_and_values_refused() {
    let e = orders_and_billing();
    let k = key();
    for bad in ["", "api_key", "1KEY", "A-B", "KEY ", &"A".repeat(64)] {
        let msg = invalid(e.set_secret(&k, "orders", T, bad, "v", "ann").unwrap_err());
        assert!(msg.contains("not a valid secret name"), "{msg}");
    }
    let big = "x".repeat(MAX_SECRET_BYTES + 1);
    let msg = invalid(
        e.set_secret(&k, "orders", T, "BIG", &big, "ann")
            .unwrap_err(),
    );
    assert!(msg.contains("64 KiB"), "{msg}");
    e.set_secret(&k, "orders", T, "BIG", &big[1..], "ann")
        .unwrap();
    assert!(matches!(
        e.set_secret(&k, "nope", T, "KEY", "v", "ann"),
        Err(Error::NotFound(_))
    ));
    assert_eq!(e.list_secrets("orders", T).unwrap().len(), 1);
}

#[test]
fn master_key_debug_and_parse() {
    let k = MasterKey::new([0xab; 32]);
    assert_eq!(format!("{k:?}"), "MasterKey(..)");
    assert_eq!(MasterKey::parse(&k.to_hex()).unwrap(), k);
    assert_eq!(MasterKey::parse(&STANDARD.encode([0xab; 32])).unwrap(), k);
    assert!(MasterKey::parse("abcd").is_err());
    assert_ne!(MasterKey::generate(), MasterKey::generate());
}

#[test]
fn redact_replaces_every_form() {
    let s = secrets(&[("TOKEN", "p@ss w/rd+1"), ("SHORT", "p@ss"), ("NONE", "")]);
    let value = "p@ss w/rd+1";
    assert_eq!(
        redact(&format!("auth={value}; again {value}"), &s),
        "auth=[secret:TOKEN]; again [secret:TOKEN]"
    );
    // The longer value wins over the shorter one it contains.
    assert_eq!(
        redact("p@ss and p@ss w/rd+1", &s),
        "[secret:SHORT] and [secret:TOKEN]"
    );
    let b64 = STANDARD.encode(value);
    assert_eq!(redact(&format!("Basic {b64}"), &s), "Basic [secret:TOKEN]");
    assert_eq!(
        redact("q=p%40ss%20w%2Frd%2B1&x=1", &s),
        "q=[secret:TOKEN]&x=1"
    );
    assert_eq!(redact("q=p%40ss+w%2Frd%2B1", &s), "q=[secret:TOKEN]");
    assert_eq!(redact("q=p%40ss%20w%2frd%2b1", &s), "q=[secret:TOKEN]");
    // Other text, including empty secrets, is left alone.
    let other = "nothing to see: pass, p@s, ü ✓";
    assert_eq!(redact(other, &s), other);
    assert_eq!(redact("", &s), "");
    assert_eq!(redact("abc", &BTreeMap::new()), "abc");
}

#[test]
fn redact_handles_unicode_and_adjacent_matches() {
    let s = secrets(&[("K", "ключ")]);
    assert_eq!(redact("ключключ!", &s), "[secret:K][secret:K]!");
    assert_eq!(redact("x=%D0%BA%D0%BB%D1%8E%D1%87", &s), "x=[secret:K]");
    assert_eq!(redact("ключ✓", &s), "[secret:K]✓");
}

#[test]
fn redact_json_nested() {
    let s = secrets(&[("API_KEY", "abc123xyz")]);
    let b64 = STANDARD.encode("abc123xyz");
    let v = json!({
        "headers": {"Authorization": "Bearer abc123xyz", "abc123xyz": 1},
        "list": ["abc123xyz", b64, 5, null, true, {"deep": ["x abc123xyz y"]}],
        "n": 3.5
    });
    assert_eq!(
        redact_json(&v, &s),
        json!({
            "headers": {"Authorization": "Bearer [secret:API_KEY]", "[secret:API_KEY]": 1},
            "list": ["[secret:API_KEY]", "[secret:API_KEY]", 5, null, true,
                     {"deep": ["x [secret:API_KEY] y"]}],
            "n": 3.5
        })
    );
    assert_eq!(redact_json(&v, &BTreeMap::new()), v);
}

#[test]
fn one_redactor_hides_a_runs_records_but_not_short_values() {
    let r = Redactor::new(&secrets(&[("TOKEN", "tok-12345"), ("TINY", "ab")]));
    assert!(!r.is_empty());
    assert_eq!(
        r.json(&json!({"tok-12345": ["x tok-12345 y", "ab"]})),
        json!({"[secret:TOKEN]": ["x [secret:TOKEN] y", "ab"]})
    );
    // Only values too short to hide: nothing to do.
    assert!(Redactor::new(&secrets(&[("TINY", "ab")])).is_empty());
}
