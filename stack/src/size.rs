//! Stack sizes: the defaults, the accepted range, and the parser for
//! human-written sizes such as `GORO_STACK_SIZE=256K`.
//!
//! Goroutine stacks here are fixed reservations (they never grow or move), so
//! the size is a hard limit: overflowing it aborts the process with a message
//! naming the goroutine. Reservations cost address space, not memory: only the
//! pages a goroutine actually touches are committed. The defaults come from the
//! measured high-water marks in the research report (§2e): everyday release code
//! stays under ~22 KiB, while debug builds of regex or serde_json reach 106-158
//! KiB, hence 256 KiB for release builds and 1 MiB with `debug_assertions`.

/// Default usable stack size: 256 KiB in release builds (`debug_assertions` off).
#[cfg(not(debug_assertions))]
pub const DEFAULT_STACK_SIZE: usize = 256 << 10;
/// Default usable stack size: 1 MiB in debug builds (`debug_assertions` on),
/// whose unoptimised frames are several times larger.
#[cfg(debug_assertions)]
pub const DEFAULT_STACK_SIZE: usize = 1 << 20;

/// Smallest size [`parse_stack_size`] accepts: 16 KiB.
pub const MIN_STACK_SIZE: usize = 16 << 10;
/// Largest size [`parse_stack_size`] and [`crate::StackPool::alloc`] accept: 1 GiB
/// (Go's `maxstacksize` on 64-bit).
pub const MAX_STACK_SIZE: usize = 1 << 30;

/// Parses a stack size such as `"65536"`, `"256K"`, `"256k"`, `"1M"`, `"2G"`,
/// `"512KiB"` or `"1 MiB"` into bytes.
///
/// Suffixes are binary (K = 1024) and case-insensitive; `K`, `KB` and `KiB`
/// (likewise M, G) are synonyms, and a bare `B` means bytes. The result must lie in
/// [`MIN_STACK_SIZE`]`..=`[`MAX_STACK_SIZE`]. Errors are human-readable messages
/// that quote the input, suitable for reporting a bad environment variable.
pub fn parse_stack_size(s: &str) -> Result<usize, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("empty stack size: expected a number of bytes with an optional K, M or G suffix (e.g. 256K)".into());
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!(
            "invalid stack size {s:?}: expected a number of bytes with an optional K, M or G suffix (e.g. 256K)"
        ));
    }
    let shift = match suffix.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "invalid stack size {s:?}: unknown unit {:?}; use K, M or G (binary units, e.g. 256K or 1MiB)",
                suffix.trim_start()
            ))
        }
    };
    let too_large = || {
        format!(
            "stack size {s:?} is too large: the maximum is {}",
            describe(MAX_STACK_SIZE)
        )
    };
    let number: usize = digits.parse().map_err(|_| too_large())?;
    let bytes = number.checked_mul(1 << shift).ok_or_else(too_large)?;
    if bytes == 0 {
        return Err(format!("stack size {s:?} must be greater than zero"));
    }
    if bytes < MIN_STACK_SIZE {
        return Err(format!(
            "stack size {s:?} is too small: the minimum is {}",
            describe(MIN_STACK_SIZE)
        ));
    }
    if bytes > MAX_STACK_SIZE {
        return Err(too_large());
    }
    Ok(bytes)
}

/// `16 KiB`, `1 GiB`: the largest binary unit that divides `bytes` exactly.
fn describe(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_and_binary_suffixes() {
        let table: &[(&str, usize)] = &[
            ("65536", 65536),
            ("16384", MIN_STACK_SIZE),
            ("256K", 256 << 10),
            ("256k", 256 << 10),
            ("256KB", 256 << 10),
            ("256KiB", 256 << 10),
            ("256kib", 256 << 10),
            ("1M", 1 << 20),
            ("1m", 1 << 20),
            ("8MiB", 8 << 20),
            ("1G", 1 << 30),
            ("1GiB", 1 << 30),
            ("1024M", 1 << 30),
            ("  512K  ", 512 << 10),
            ("1 MiB", 1 << 20),
            ("65536B", 65536),
            ("0100K", 100 << 10),
        ];
        for &(input, want) in table {
            assert_eq!(parse_stack_size(input), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn rejects_bad_sizes_with_clear_messages() {
        let table: &[(&str, &str)] = &[
            ("", "empty stack size"),
            ("   ", "empty stack size"),
            ("abc", "invalid stack size \"abc\""),
            ("K", "invalid stack size \"K\""),
            ("-1M", "invalid stack size \"-1M\""),
            ("1.5M", "unknown unit \".5M\""),
            ("12Q", "unknown unit \"Q\""),
            ("256K extra", "unknown unit \"K extra\""),
            ("0", "must be greater than zero"),
            ("0K", "must be greater than zero"),
            ("4096", "too small: the minimum is 16 KiB"),
            ("15K", "too small: the minimum is 16 KiB"),
            ("2G", "too large: the maximum is 1 GiB"),
            ("1025M", "too large: the maximum is 1 GiB"),
            ("99999999999999999999999", "too large"),
            ("18446744073709551615G", "too large"),
        ];
        for &(input, want) in table {
            let err = parse_stack_size(input).expect_err(input);
            assert!(
                err.contains(want),
                "input {input:?}: error {err:?} lacks {want:?}"
            );
        }
    }

    #[test]
    fn default_is_within_range() {
        assert!((MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&DEFAULT_STACK_SIZE));
        let expected = if cfg!(debug_assertions) {
            1 << 20
        } else {
            256 << 10
        };
        assert_eq!(DEFAULT_STACK_SIZE, expected);
    }
}
