//! Rules for JSON that comes in from outside (documents, webhook and API bodies) beyond what
//! serde_json checks itself.

/// Fails when `text` (JSON that parsed) holds an integer outside the 64-bit range. serde_json
/// reads `18446744073709551616` as the float `1.8446744073709552e19`: silently another number.
/// Numbers with a fraction or an exponent are floats by their own choice and are left alone.
pub fn check_integers(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let number = &text[start..i];
                let integer = !number.contains(['.', 'e', 'E']);
                if integer && number.parse::<i64>().is_err() && number.parse::<u64>().is_err() {
                    return Err(format!(
                        "the integer {number} is outside the 64-bit range (write it as a string)"
                    ));
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_are_refused() {
        assert_eq!(
            check_integers(r#"{"a": 18446744073709551615, "b": -9223372036854775808}"#),
            Ok(())
        );
        let err = check_integers(r#"{"a": [1, 18446744073709551616]}"#).unwrap_err();
        assert!(err.contains("18446744073709551616"), "{err}");
        assert!(check_integers("-9223372036854775809").is_err());
        assert_eq!(
            check_integers(r#"{"big": 1e400, "f": 1.5, "s": "99999999999999999999"}"#),
            Ok(())
        );
        assert_eq!(check_integers(r#"{"k\"99999999999999999999": 1}"#), Ok(()));
    }
}
