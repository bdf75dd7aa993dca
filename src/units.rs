//! Sizes as people type them on the command line and in URLs: `5120`, `64k`, `1M`, `1G`.

/// Parses a byte count with an optional binary suffix.
///
/// `k`, `m`, `g` and `t` (either case, optionally followed by `iB` or `B`) multiply by
/// 2^10, 2^20, 2^30 and 2^40, so `64k` is 65536 and `1MiB` is 1048576. A bare `B` means
/// bytes. Only whole numbers are accepted; the error says what was wrong with the text so
/// it can be shown to the user as is.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!(
            "{text:?} is not a size: expected digits, as in 5120, 64k or 1M"
        ));
    }
    let (number, suffix) = t.split_at(digits);
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "{text:?} is not a size: unknown suffix {suffix:?} (use k, M, G or T)"
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is too large"))?;
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn plain_numbers_are_bytes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("5120"), Ok(5120));
        assert_eq!(parse_size(" 70057 "), Ok(70057));
        assert_eq!(parse_size("12B"), Ok(12));
    }

    #[test]
    fn suffixes_are_binary_multiples_in_either_case() {
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("64K"), Ok(65536));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("100m"), Ok(100 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("64GB"), Ok(64 << 30));
        assert_eq!(parse_size("2t"), Ok(2 << 40));
    }

    #[test]
    fn bad_text_is_refused_with_a_reason() {
        for bad in ["", "k", "-1", "1.5M", "1 M", "12x", "1Mi", "0x10", "ten"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
        assert!(parse_size("12q").unwrap_err().contains("suffix"));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_size("18446744073709551616").is_err());
        assert!(parse_size("16777216T").is_err());
        assert_eq!(parse_size("16777215T"), Ok(16_777_215 << 40));
    }
}
