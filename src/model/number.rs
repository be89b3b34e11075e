//! DynamoDB's Number type (`N` attribute values): exact decimals with up to 38 significant
//! digits whose magnitude lies in 1E-130 ..= 9.99…9E+125 (38 nines), or zero.
//!
//! # Representation
//!
//! A [`Number`] is `(-1)^negative × coef × 10^exp`, kept canonical so that equal values have
//! equal fields (which is why `Eq` and `Hash` can simply be derived):
//!
//! * `coef` is a `u128` with no trailing decimal zeros (38 digits fit: 10^38 < 2^127);
//! * zero is `coef = 0, exp = 0, negative = false` (so `-0` is `0`);
//! * the *leading exponent* `exp + digits(coef) - 1` (the `E` of scientific notation) lies in
//!   `-130..=125`, so `exp` lies in `-167..=125`.
//!
//! # Ordered byte encoding ([`Number::encode_ordered`])
//!
//! Used inside composite index keys, so it must sort like the numbers and be self-delimiting:
//!
//! ```text
//!  zero      : [0x02]
//!  positive  : [0x03] [ E] [ m1] [ m2] ... [ mk]
//!  negative  : [0x01] [!E] [!m1] [!m2] ... [!mk]        (! = bitwise NOT, reverses the order)
//!
//!  E  = leading exponent + 130: the range -130..=125 fills 0..=255 exactly, one byte.
//!  m  = the mantissa d.ddd… (first digit non-zero, padded to 38 digits) cut into base-100
//!       pairs with trailing zero pairs dropped (k <= 19, the last pair is non-zero):
//!       mi = 2*pair + 1 for every pair but the last, mk = 2*pair for the last.
//! ```
//!
//! Why it works: with the same sign and exponent, the first differing pair decides, and when one
//! mantissa is a pair-prefix of the other the shorter one ends with an even byte where the longer
//! has the odd byte one greater, so the shorter (smaller) number sorts first. Only the last byte
//! of a mantissa is even (odd after `!`), so no encoding is a prefix of another.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Most significant digits DynamoDB stores in a Number.
const MAX_DIGITS: u32 = 38;
/// Smallest allowed leading exponent (1E-130).
const MIN_LEAD: i64 = -130;
/// Largest allowed leading exponent (9.99…E+125).
const MAX_LEAD: i64 = 125;
/// Parsed exponents are clamped here: far beyond the range, yet `i64` arithmetic can't overflow.
const EXP_CLAMP: i64 = 1 << 40;
/// Tag bytes of the ordered encoding.
const TAG_NEG: u8 = 0x01;
const TAG_ZERO: u8 = 0x02;
const TAG_POS: u8 = 0x03;

/// A DynamoDB number: an exact decimal within DynamoDB's precision and range, ordered and
/// compared numerically (`"1.50" == "1.5"`, `"1e2" == "100"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Number {
    // Field order does not matter for the derived impls: the fields are canonical (module docs).
    negative: bool,
    coef: u128,
    exp: i32,
}

/// Why a text or a computation is not a valid DynamoDB number; `Display` gives the message of
/// DynamoDB's `ValidationException` for the case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// Not number syntax (holds the offending input, or a description of a bad encoding).
    Malformed(String),
    /// More than 38 significant digits.
    TooPrecise,
    /// Magnitude at or above 1E+126.
    Overflow,
    /// Non-zero magnitude below 1E-130.
    Underflow,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // DynamoDB omits the ": <input>" suffix when the input is empty.
            NumberError::Malformed(s) if s.is_empty() => {
                f.write_str("The parameter cannot be converted to a numeric value")
            }
            NumberError::Malformed(s) => {
                write!(f, "The parameter cannot be converted to a numeric value: {s}")
            }
            NumberError::TooPrecise => {
                f.write_str("Attempting to store more than 38 significant digits in a Number")
            }
            NumberError::Overflow => f.write_str(
                "Number overflow. Attempting to store a number with magnitude larger than supported range",
            ),
            NumberError::Underflow => f.write_str(
                "Number underflow. Attempting to store a number with magnitude smaller than supported range",
            ),
        }
    }
}

impl std::error::Error for NumberError {}

fn pow10(n: u32) -> u128 {
    10u128.pow(n)
}

/// Decimal digits of a non-zero `u128`.
fn digits(c: u128) -> u32 {
    c.ilog10() + 1
}

impl Number {
    /// Parses DynamoDB's number text: `[+|-] digits [. digits] [(e|E) [+|-] digits]`, where
    /// either digit run around the point may be empty but not both (`".5"`, `"5."` and `"+3"`
    /// are accepted as Java's `BigDecimal`, which DynamoDB uses, accepts them). Whitespace,
    /// `NaN`, `Infinity`, hex and non-ASCII digits are rejected. Runs in linear time; huge
    /// exponents give `Overflow`/`Underflow` (or zero for a zero mantissa, like `"0e1000"`).
    pub fn parse(s: &str) -> Result<Number, NumberError> {
        let malformed = || NumberError::Malformed(s.to_string());
        let b = s.as_bytes();
        let digit_run = |mut i: usize| {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            (start, i)
        };
        let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let negative = b.first() == Some(&b'-');
        let (is, ie) = digit_run(i);
        i = ie;
        let (mut fs, mut fe) = (i, i);
        if b.get(i) == Some(&b'.') {
            (fs, fe) = digit_run(i + 1);
            i = fe;
        }
        let (int, frac) = (&b[is..ie], &b[fs..fe]);
        if int.is_empty() && frac.is_empty() {
            return Err(malformed());
        }
        let mut exp: i64 = 0;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let exp_negative = b.get(i) == Some(&b'-');
            i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
            let (es, ee) = digit_run(i);
            if es == ee {
                return Err(malformed());
            }
            for &d in &b[es..ee] {
                exp = (exp * 10 + i64::from(d - b'0')).min(EXP_CLAMP);
            }
            if exp_negative {
                exp = -exp;
            }
            i = ee;
        }
        if i != b.len() {
            return Err(malformed());
        }
        let all = int.iter().chain(frac);
        let Some(first) = all.clone().position(|&d| d != b'0') else {
            return Ok(Number::zero());
        };
        // `last` exists because `first` does.
        let last =
            int.len() + frac.len() - 1 - all.clone().rev().position(|&d| d != b'0').unwrap_or(0);
        if last - first + 1 > MAX_DIGITS as usize {
            return Err(NumberError::TooPrecise);
        }
        let coef = all
            .skip(first)
            .take(last - first + 1)
            .fold(0u128, |acc, &d| acc * 10 + u128::from(d - b'0'));
        // Digit `k` of int++frac weighs 10^(int.len() - 1 - k); lengths fit i64 on any machine.
        let exp_last = exp + int.len() as i64 - 1 - last as i64;
        Number::from_parts(negative, coef, exp_last)
    }

    /// Builds `±coef × 10^exp`, normalising trailing zeros and checking the range first and the
    /// precision second (DynamoDB reports an out-of-range sum as overflow even when it also has
    /// too many digits).
    fn from_parts(negative: bool, mut coef: u128, mut exp: i64) -> Result<Number, NumberError> {
        if coef == 0 {
            return Ok(Number::zero());
        }
        while coef.is_multiple_of(10) {
            coef /= 10;
            exp += 1;
        }
        let lead = exp + i64::from(digits(coef)) - 1;
        if lead > MAX_LEAD {
            return Err(NumberError::Overflow);
        }
        if lead < MIN_LEAD {
            return Err(NumberError::Underflow);
        }
        if digits(coef) > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        // In range: -167 <= exp <= 125.
        Ok(Number {
            negative,
            coef,
            exp: exp as i32,
        })
    }

    /// The number as `(negative, coefficient, exponent)`: `±coefficient × 10^exponent`, the
    /// coefficient without trailing zeros (0 for zero), for a writer of another decimal
    /// notation (Amazon Ion's, `format/ion.rs`).
    pub(crate) fn parts(&self) -> (bool, u128, i32) {
        (self.negative, self.coef, self.exp)
    }

    /// `ms` milliseconds as a Number of seconds, exactly: `ms × 10^-3`.
    pub(crate) fn from_millis(ms: u64) -> Number {
        // A u64 has at most 20 digits, and 10^-3 is far inside the range: a failure here is
        // a bug in `from_parts`, not a value to carry on with.
        Number::from_parts(false, u128::from(ms), -3)
            .unwrap_or_else(|e| panic!("{ms} ms as seconds: {e}"))
    }

    /// The number zero.
    pub fn zero() -> Number {
        Number {
            negative: false,
            coef: 0,
            exp: 0,
        }
    }

    /// Whether this is zero (there is no negative zero).
    pub fn is_zero(&self) -> bool {
        self.coef == 0
    }

    /// Whether this is strictly below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The number with the opposite sign (zero stays zero).
    pub fn negate(&self) -> Number {
        Number {
            negative: !self.negative && !self.is_zero(),
            ..self.clone()
        }
    }

    /// Leading exponent (`E` in `d.ddd×10^E`); meaningless for zero.
    fn lead(&self) -> i64 {
        i64::from(self.exp) + i64::from(digits(self.coef)) - 1
    }

    /// The coefficient padded to exactly 38 digits: with `lead` it orders magnitudes.
    fn mantissa38(&self) -> u128 {
        self.coef * pow10(MAX_DIGITS - digits(self.coef))
    }

    /// Exact `self + other`, as DynamoDB's `SET a = a + :v` and `ADD` compute it: an exact
    /// result outside the range gives `Overflow`/`Underflow`, else one needing more than 38
    /// digits gives `TooPrecise`. (DynamoDB words the latter case, e.g. `1E50 + 1`, with the
    /// overflow message, according to ScyllaDB Alternator's compatibility tests; a caller
    /// wanting that exact text can map `TooPrecise` to `Overflow` for arithmetic.)
    pub fn checked_add(&self, other: &Number) -> Result<Number, NumberError> {
        if other.is_zero() {
            return Ok(self.clone());
        }
        if self.is_zero() {
            return Ok(other.clone());
        }
        // `big` has the larger trailing exponent; the sum is a multiple of 10^small.exp.
        let (big, small) = if self.exp >= other.exp {
            (self, other)
        } else {
            (other, self)
        };
        let d = (big.exp - small.exp) as u32;
        if d > MAX_DIGITS {
            // |small| < 10^(small.exp+38) <= 10^(big.exp-1) <= |big|/10, so the sum keeps a
            // digit at or above 10^(big.exp-1), and its last digit is small's, at 10^small.exp:
            // at least d >= 39 digits. That leading digit is within one place of big's, which
            // is >= -128 here, so the range cannot be what fails.
            return Err(NumberError::TooPrecise);
        }
        // Wide integer hi × 10^38 + lo (both < 10^38 + 1) holding big.coef × 10^d.
        let base = pow10(MAX_DIGITS);
        let split = pow10(MAX_DIGITS - d);
        let (mut hi, mut lo) = (big.coef / split, (big.coef % split) * pow10(d));
        let sc = small.coef;
        let mut negative = big.negative;
        if big.negative == small.negative {
            lo += sc;
            if lo >= base {
                lo -= base;
                hi += 1;
            }
        } else if hi > 0 || lo >= sc {
            if lo >= sc {
                lo -= sc;
            } else {
                lo = lo + base - sc;
                hi -= 1;
            }
        } else {
            lo = sc - lo;
            negative = small.negative;
        }
        let exp = i64::from(small.exp);
        if hi == 0 {
            return Number::from_parts(negative, lo, exp);
        }
        // value = (hi × 10^38 + lo) × 10^exp with 0 < hi <= 10^37 (a carry needs d < 38), so
        // it has more than 38 digits unless lo ends in at least digits(hi) zeros.
        let dh = digits(hi);
        if exp + i64::from(MAX_DIGITS + dh) - 1 > MAX_LEAD {
            return Err(NumberError::Overflow);
        }
        if lo % pow10(dh) != 0 {
            return Err(NumberError::TooPrecise);
        }
        let coef = hi * pow10(MAX_DIGITS - dh) + lo / pow10(dh);
        Number::from_parts(negative, coef, exp + i64::from(dh))
    }

    /// Exact `self - other`, with the errors of [`Number::checked_add`].
    pub fn checked_sub(&self, other: &Number) -> Result<Number, NumberError> {
        self.checked_add(&other.negate())
    }

    /// DynamoDB's item-size contribution of this value (attribute name not included), in bytes.
    ///
    /// DynamoDB documents the size only as "approximately 1 byte per two significant digits +
    /// 1 byte" (Developer Guide, "DynamoDB item sizes and formats"). The exact rule, measured
    /// against the service by Zac Charles (blog "How to Calculate a DynamoDB Item's Size and
    /// Consumed Capacity" and his calculator, github.com/zaccharles/dynamodb-calculator) and
    /// consistent with dynalite's item-size limit tests, is that of an Oracle-style base-100
    /// format: count the base-100 digits (decimal digit pairs aligned on the decimal point) from
    /// the first to the last non-zero one, add 1 byte (exponent), add 1 more if negative
    /// (terminator), and cap at 21 bytes. Zero takes 1 byte. So `"15"` is 2, `"1.5"` is 3
    /// (`01.50`), `"-1.5"` is 4, `"123000"` is 3 (`12 30 00`), `"1E125"` is 2.
    pub fn size_bytes(&self) -> usize {
        if self.is_zero() {
            return 1;
        }
        let exp = i64::from(self.exp);
        let pairs = (self.lead().div_euclid(2) - exp.div_euclid(2) + 1) as usize;
        (pairs + 1 + usize::from(self.negative)).min(21)
    }

    /// Appends the order-preserving, prefix-free encoding drawn in the module docs, so that
    /// `a < b` iff `encode(a) < encode(b)` bytewise, and encodings can be concatenated.
    pub fn encode_ordered(&self, out: &mut Vec<u8>) {
        if self.is_zero() {
            out.push(TAG_ZERO);
            return;
        }
        // Negative numbers store every byte after the tag inverted, reversing their order.
        let flip = if self.negative { 0xFF } else { 0x00 };
        out.push(if self.negative { TAG_NEG } else { TAG_POS });
        out.push((self.lead() - MIN_LEAD) as u8 ^ flip);
        let mut m = self.mantissa38();
        while m != 0 {
            let pair = (m / pow10(MAX_DIGITS - 2)) as u8;
            m = (m % pow10(MAX_DIGITS - 2)) * 100;
            // Odd bytes say "more pairs follow", the even last byte ends the number.
            let byte = if m == 0 { 2 * pair } else { 2 * pair + 1 };
            out.push(byte ^ flip);
        }
    }

    /// Decodes one number from the front of `bytes` (the inverse of
    /// [`Number::encode_ordered`]), returning it and the bytes consumed. Rejects, without
    /// panicking, anything `encode_ordered` cannot produce.
    pub fn decode_ordered(bytes: &[u8]) -> Result<(Number, usize), NumberError> {
        let bad = || {
            NumberError::Malformed(format!(
                "bad ordered encoding {:02x?}",
                &bytes[..bytes.len().min(24)]
            ))
        };
        let flip = match bytes.first() {
            Some(&TAG_ZERO) => return Ok((Number::zero(), 1)),
            Some(&TAG_POS) => 0x00,
            Some(&TAG_NEG) => 0xFF,
            _ => return Err(bad()),
        };
        let lead = i64::from(*bytes.get(1).ok_or_else(bad)? ^ flip) + MIN_LEAD;
        let mut m: u128 = 0;
        for (i, &raw) in bytes.iter().skip(2).take(19).enumerate() {
            let byte = raw ^ flip;
            let pair = u128::from(byte / 2);
            // Pairs are base-100 digits; the first starts with a non-zero decimal digit.
            if pair > 99 || (i == 0 && pair < 10) {
                return Err(bad());
            }
            m += pair * pow10(MAX_DIGITS - 2 - 2 * i as u32);
            if byte % 2 == 0 {
                if pair == 0 {
                    return Err(bad());
                }
                let n = Number::from_parts(flip != 0, m, lead - i64::from(MAX_DIGITS) + 1)?;
                return Ok((n, i + 3));
            }
        }
        Err(bad())
    }

    /// The value as an `i64`, if it is an integer within `i64`'s range.
    pub fn to_i64(&self) -> Option<i64> {
        // Canonical coefficients have no trailing zeros, so exp < 0 means a fraction.
        if self.exp < 0 {
            return None;
        }
        let magnitude = self
            .coef
            .checked_mul(10u128.checked_pow(self.exp as u32)?)?;
        let magnitude = i128::try_from(magnitude).ok()?;
        i64::try_from(if self.negative { -magnitude } else { magnitude }).ok()
    }

    /// The nearest `f64` (correctly rounded, via Rust's float parser).
    pub fn to_f64(&self) -> f64 {
        let sign = if self.negative { "-" } else { "" };
        format!("{sign}{}e{}", self.coef, self.exp)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

impl FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Number, NumberError> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Number {
        // Any i64 has at most 19 digits, always within range and precision.
        Number::from_parts(v < 0, u128::from(v.unsigned_abs()), 0)
            .unwrap_or_else(|_| Number::zero())
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Number {
        // At most 20 digits, always within range and precision.
        Number::from_parts(false, u128::from(v), 0).unwrap_or_else(|_| Number::zero())
    }
}

/// `From` for the integer types that convert exactly through `i64` or `u64` (every one but
/// `i128` and `u128`, whose 39 digits DynamoDB cannot hold).
macro_rules! exact_integers {
    ($($int:ty => $via:ty),*) => {$(
        impl From<$int> for Number {
            fn from(v: $int) -> Number {
                Number::from(<$via>::from(v))
            }
        }
    )*};
}
exact_integers!(i8 => i64, i16 => i64, i32 => i64, u8 => u64, u16 => u64, u32 => u64);

impl From<isize> for Number {
    fn from(v: isize) -> Number {
        // isize is at most 64 bits on every platform Rust supports.
        Number::from(v as i64)
    }
}

impl From<usize> for Number {
    fn from(v: usize) -> Number {
        // usize is at most 64 bits on every platform Rust supports.
        Number::from(v as u64)
    }
}

/// The shortest decimal that reads back as the same `f64` (Rust's and JavaScript's printing,
/// what an SDK that takes floats sends): `0.1` is `0.1`, not the binary fraction's 55 digits.
/// NaN and the infinities are `Malformed`, as DynamoDB answers their text; magnitudes of
/// 1E+126 and up are `Overflow`, and non-zero ones below 1E-130 `Underflow`.
///
/// ```
/// use tidestore::{Number, NumberError};
/// assert_eq!(Number::try_from(0.1)?, Number::parse("0.1")?);
/// assert_eq!(Number::try_from(f64::NAN), Err(NumberError::Malformed("NaN".into())));
/// assert_eq!(Number::try_from(1e200), Err(NumberError::Overflow));
/// # Ok::<(), NumberError>(())
/// ```
impl TryFrom<f64> for Number {
    type Error = NumberError;
    fn try_from(v: f64) -> Result<Number, NumberError> {
        if v.is_infinite() {
            // As JavaScript spells it (Rust's `inf` is no SDK's).
            let sign = if v < 0.0 { "-" } else { "" };
            return Err(NumberError::Malformed(format!("{sign}Infinity")));
        }
        // `{:e}` prints the shortest round-trip digits, at most 17 of them, or `NaN`.
        Number::parse(&format!("{v:e}"))
    }
}

impl TryFrom<f32> for Number {
    type Error = NumberError;
    fn try_from(v: f32) -> Result<Number, NumberError> {
        if v.is_infinite() {
            return Number::try_from(f64::from(v));
        }
        // The f32's own shortest digits (`0.1f32` is `0.1`), not those of the f64 it widens to.
        Number::parse(&format!("{v:e}"))
    }
}

/// Prints plain decimal digits, never exponent notation, as DynamoDB returns numbers
/// (`1E+100` comes back as `1` and 100 zeros, see boto3 issue #2500; `1E-130` as `0.` and 129
/// zeros and `1`): minimal form, no trailing fractional zeros, `-` only for negatives.
/// `parse` of this text gives the number back, and printing is the identity on such text.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.coef.to_string();
        let mut s = String::with_capacity(digits.len() + 170);
        if self.negative {
            s.push('-');
        }
        if self.exp >= 0 {
            s.push_str(&digits);
            s.extend(std::iter::repeat_n('0', self.exp as usize));
        } else {
            let point = digits.len() as i64 + i64::from(self.exp);
            if point > 0 {
                let (int, frac) = digits.split_at(point as usize);
                s.push_str(int);
                s.push('.');
                s.push_str(frac);
            } else {
                s.push_str("0.");
                s.extend(std::iter::repeat_n('0', (-point) as usize));
                s.push_str(&digits);
            }
        }
        f.pad(&s)
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Numeric order: sign first, then magnitude as (leading exponent, 38-digit mantissa).
impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        let rank = |n: &Number| {
            if n.negative {
                -1
            } else {
                i32::from(!n.is_zero())
            }
        };
        match rank(self).cmp(&rank(other)) {
            Ordering::Equal if self.is_zero() => Ordering::Equal,
            Ordering::Equal => {
                let mag = (self.lead(), self.mantissa38()).cmp(&(other.lead(), other.mantissa38()));
                if self.negative {
                    mag.reverse()
                } else {
                    mag
                }
            }
            unequal => unequal,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its value printed.
mod tests {
    use super::NumberError::{Malformed, Overflow, TooPrecise, Underflow};
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> NumberError {
        Number::parse(s).unwrap_err()
    }

    fn enc(x: &Number) -> Vec<u8> {
        let mut v = Vec::new();
        x.encode_ordered(&mut v);
        v
    }

    #[test]
    fn parse_accepts_dynamodb_syntax_and_canonicalises() {
        let table = "3=3 -7.1234=-7.1234 -17e5=-1700000 +3=3 .123=0.123 5.=5 0001.23=1.23 \
            1e+5=100000 0e1000=0 0e99999999999999999999=0 1.50=1.5 0010=10 -0=0 -0.000=0 \
            0.001=0.001 123000=123000 1E2=100 12.5e-3=0.0125 -.5e1=-5 \
            -17.4E37=-174000000000000000000000000000000000000";
        for case in table.split_whitespace() {
            let (input, shown) = case.split_once('=').unwrap();
            assert_eq!(n(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn milliseconds_become_exact_seconds_up_to_the_largest_u64() {
        let table = "0=0 1=0.001 1500=1.5 1700000000123=1700000000.123 \
            18446744073709551615=18446744073709551.615";
        for case in table.split_whitespace() {
            let (ms, shown) = case.split_once('=').unwrap();
            let seconds = Number::from_millis(ms.parse().unwrap());
            assert_eq!(seconds.to_string(), shown, "{ms}");
        }
    }

    #[test]
    fn parse_rejects_non_numbers_with_dynamodb_message() {
        let table = "NaN -NaN Infinity -Infinity dog 0x10 1e 1e+ --1 +-1 . - + e5 .e5 1.2.3 \
            1e5.5 1_000 ١ 1,5 1e5e5 ++1";
        for bad in table
            .split_whitespace()
            .chain(["", " 1", "1 ", "1\n", "\t1"])
        {
            assert_eq!(err(bad), Malformed(bad.to_string()), "{bad:?}");
        }
        let msg = "The parameter cannot be converted to a numeric value";
        assert_eq!(err("b").to_string(), format!("{msg}: b"));
        assert_eq!(err("").to_string(), msg);
    }

    #[test]
    fn range_edges_match_dynamodb_limits() {
        let nines = "9".repeat(38);
        assert_eq!(n("1E-130").to_string(), format!("0.{}1", "0".repeat(129)));
        assert!(n("-1E-130").is_negative());
        assert_eq!((err("1E-131"), err("-0.9E-130")), (Underflow, Underflow));
        assert_eq!(
            n(&format!("9.{}E+125", &nines[1..])).to_string(),
            format!("{nines}{}", "0".repeat(88))
        );
        assert!(n(&format!("-9.{}E+125", &nines[1..])).is_negative());
        assert_eq!((err("1E+126"), err("-11e125")), (Overflow, Overflow));
        assert_eq!(err(&format!("{nines}9")), TooPrecise);
        assert_eq!(err("-1.23456789012345678901234567890123456789"), TooPrecise);
        assert_eq!(n(&nines).to_string(), nines);
        assert_eq!(n(&format!("1{}", "0".repeat(100))), n("1e100"));
        assert_eq!(
            n(&format!("{}{}", "3".repeat(38), "0".repeat(88))).size_bytes(),
            20
        );
        let overflow = "Number overflow. Attempting to store a number with magnitude larger than supported range";
        assert_eq!(Overflow.to_string(), overflow);
        let underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range";
        assert_eq!(Underflow.to_string(), underflow);
        assert_eq!(
            TooPrecise.to_string(),
            "Attempting to store more than 38 significant digits in a Number"
        );
    }

    #[test]
    fn hostile_inputs_are_cheap_and_do_not_panic() {
        let zeros = "0".repeat(1_000_000);
        assert_eq!(
            (err("1e999999999999999999"), err("-1E-999999999999999999")),
            (Overflow, Underflow)
        );
        assert_eq!(n(&zeros), Number::zero());
        assert_eq!(err(&format!("1{zeros}")), Overflow);
        assert_eq!(err(&format!("0.{zeros}1")), Underflow);
        assert_eq!(err(&"7".repeat(1_000_000)), TooPrecise);
        assert_eq!(n(&format!("1{zeros}e-1000000")), n("1"));
        assert_eq!(n(&format!("{zeros}1.5{zeros}")), n("1.5"));
    }

    #[test]
    fn display_is_plain_digits_even_for_extremes() {
        assert_eq!(n("1E+125").to_string(), format!("1{}", "0".repeat(125)));
        assert_eq!(n("-1E-130").to_string(), format!("-0.{}1", "0".repeat(129)));
        let long = "100000000000000007629769841092000000000000000000000";
        assert_eq!(n("1.00000000000000007629769841092E+50").to_string(), long);
        assert_eq!(format!("{:>5}", n("1.5")), "  1.5");
    }

    #[test]
    fn equality_and_order_are_numeric() {
        assert_eq!((n("1.0"), n("1e2")), (n("1"), n("100")));
        assert!(n("-1") < n("0.5") && n("-2") < n("-1.5") && n("9") < n("10"));
        assert!(n("-1e-130") < n("0") && n("0") < n("1e-130"));
        let set: std::collections::HashSet<Number> =
            ["1.50", "1.5", "15e-1", "-0", "0"].map(n).into();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn size_bytes_follows_base_100_rule() {
        let table =
            "0=1 1=2 15=2 100=2 123=3 1.5=3 -1.5=4 0.05=2 0.005=2 123000=3 100.01=4 1e125=2 \
            1111111e119=5 -1e-130=3 99999999999999999999999999999999999999=20 \
            1.2345678901234567890123456789012345678=21 -1.2345678901234567890123456789012345678=21";
        for case in table.split_whitespace() {
            let (input, size) = case.split_once('=').unwrap();
            assert_eq!(n(input).size_bytes().to_string(), size, "{input}");
        }
    }

    #[test]
    fn arithmetic_reports_precision_and_range_errors() {
        let add = |a: &str, b: &str| n(a).checked_add(&n(b));
        let sub = |a: &str, b: &str| n(a).checked_sub(&n(b));
        assert_eq!(
            (add("1e50", "1"), sub("1e50", "1")),
            (Err(TooPrecise), Err(TooPrecise))
        );
        assert_eq!(add("1e100", "1e-100"), Err(TooPrecise));
        assert_eq!(
            (add("9e125", "9e125"), sub("9e125", "-9e125")),
            (Err(Overflow), Err(Overflow))
        );
        let max = format!("9.{}E+125", "9".repeat(37));
        assert_eq!(add(&max, "1E+125"), Err(Overflow));
        assert_eq!(sub("1.1e-130", "1e-130"), Err(Underflow));
        assert_eq!(add("1e10", "-9999999999.5"), Ok(n("0.5")));
        assert_eq!(add("1e22", "1"), Ok(n("10000000000000000000001")));
        assert_eq!(sub("1e22", "1").unwrap().to_string(), "9".repeat(22));
        let nines = "9".repeat(38);
        assert_eq!(
            (add(&nines, "1"), add(&nines, "0.1")),
            (Ok(n("1e38")), Err(TooPrecise))
        );
        assert_eq!(sub(&nines, &nines), Ok(Number::zero()));
        assert_eq!(
            (add("5e37", "5e37"), sub("-0.5", "-0.5")),
            (Ok(n("1e38")), Ok(Number::zero()))
        );
    }

    #[test]
    fn integer_and_float_conversions() {
        for v in [0, 1, -1, 10, -120, i64::MAX, i64::MIN] {
            assert_eq!(Number::from(v).to_i64(), Some(v));
            assert_eq!(Number::from(v).to_string(), v.to_string());
        }
        assert_eq!(Number::from(u64::MAX).to_string(), u64::MAX.to_string());
        assert_eq!((Number::from(-5i32), Number::from(7u32)), (n("-5"), n("7")));
        assert_eq!(Number::from(i8::MIN).to_string(), "-128");
        assert_eq!(Number::from(u16::MAX).to_string(), "65535");
        assert_eq!(Number::from(usize::MAX).to_string(), usize::MAX.to_string());
        assert_eq!(Number::from(isize::MIN).to_string(), isize::MIN.to_string());
        for s in ["1.5", "1e30", "-9223372036854775809", "9223372036854775808"] {
            assert_eq!(n(s).to_i64(), None, "{s}");
        }
        assert_eq!(
            (n("1.5").to_f64(), n("-1e-130").to_f64(), n("0").to_f64()),
            (1.5, -1e-130, 0.0)
        );
    }

    #[test]
    fn floats_convert_to_their_shortest_decimal_or_dynamodb_error() {
        let f = Number::try_from;
        for (v, text) in [(0.1, "0.1"), (-2.5, "-2.5"), (-0.0, "0"), (1e125, "1e125")] {
            assert_eq!(f(v), Ok(n(text)), "{v}");
        }
        assert_eq!(f(1e-130), Ok(n("1e-130")));
        assert_eq!(Number::try_from(0.1f32), Ok(n("0.1")));
        for (v, e) in [
            (1e126, Overflow),
            (-f64::MAX, Overflow),
            (1e-131, Underflow),
            (-5e-324, Underflow),
            (f64::NAN, Malformed("NaN".into())),
            (f64::INFINITY, Malformed("Infinity".into())),
            (f64::NEG_INFINITY, Malformed("-Infinity".into())),
        ] {
            assert_eq!(f(v), Err(e), "{v}");
        }
        assert_eq!(
            f(f64::NAN).map_err(|e| e.to_string()),
            Err("The parameter cannot be converted to a numeric value: NaN".into())
        );
        assert_eq!(
            Number::try_from(f32::NEG_INFINITY),
            Err(Malformed("-Infinity".into()))
        );
    }

    #[test]
    fn decode_rejects_bad_encodings() {
        let bad: [&[u8]; 9] = [
            &[],
            &[0],
            &[3],
            &[3, 130],
            &[3, 130, 3],
            &[3, 130, 21],
            &[3, 130, 201],
            &[3, 130, 200],
            &[3, 130, 5, 20],
        ];
        for b in bad {
            assert!(Number::decode_ordered(b).is_err(), "{b:?}");
        }
        assert_eq!(Number::decode_ordered(&[2, 0xAA]), Ok((Number::zero(), 1)));
        assert_eq!(
            (enc(&n("1")), enc(&n("-1"))),
            (vec![3, 130, 20], vec![1, !130, !20])
        );
        assert_eq!(enc(&n("-12.345")), vec![1, !131, !25, !69, !100]);
    }

    /// Independent exact comparison: align the plain decimal texts and compare digit strings.
    fn rational_cmp(a: &str, b: &str) -> Ordering {
        let key = |s: &str| {
            let (neg, body) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
            let (int, frac) = body.split_once('.').unwrap_or((body, ""));
            let digits = format!("{int:0>130}{frac:0<170}");
            let rank = if digits.bytes().all(|d| d == b'0') {
                0
            } else if neg {
                -1
            } else {
                1
            };
            (rank, digits)
        };
        let ((ra, da), (rb, db)) = (key(a), key(b));
        ra.cmp(&rb)
            .then(if ra < 0 { db.cmp(&da) } else { da.cmp(&db) })
    }

    fn arb_number() -> impl Strategy<Value = Number> {
        let wide = (any::<bool>(), 1u32..=38, any::<u128>(), MIN_LEAD..=MAX_LEAD).prop_map(
            |(neg, nd, raw, lead)| {
                let coef = (raw % pow10(nd)).max(1);
                Number::from_parts(neg, coef, lead - i64::from(digits(coef)) + 1).unwrap()
            },
        );
        // Small values collide and straddle digit-pair boundaries often.
        let narrow = (any::<bool>(), 0u128..2000, -4i64..4)
            .prop_map(|(neg, c, e)| Number::from_parts(neg, c, e).unwrap());
        prop_oneof![wide, narrow]
    }

    proptest! {
        #[test]
        fn order_matches_exact_rational_comparison(a in arb_number(), b in arb_number()) {
            prop_assert_eq!(a.cmp(&b), rational_cmp(&a.to_string(), &b.to_string()));
            prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
        }

        #[test]
        fn encoding_preserves_order_and_is_prefix_free(a in arb_number(), b in arb_number()) {
            let (ea, eb) = (enc(&a), enc(&b));
            prop_assert_eq!(ea.cmp(&eb), a.cmp(&b));
            prop_assert!(a == b || (!ea.starts_with(&eb) && !eb.starts_with(&ea)));
            let both = [ea.clone(), eb.clone()].concat();
            let (da, used) = Number::decode_ordered(&both).unwrap();
            prop_assert_eq!((&da, used), (&a, ea.len()));
            prop_assert_eq!(Number::decode_ordered(&both[used..]).unwrap(), (b, eb.len()));
        }

        #[test]
        fn a_float_in_range_converts_to_a_number_that_reads_back_as_itself(
            v in any::<f64>().prop_filter("in range", |v| v.is_finite() && (v.abs() >= 1e-130 || *v == 0.0) && v.abs() < 1e126)
        ) {
            prop_assert_eq!(Number::try_from(v).unwrap().to_f64(), v);
        }

        #[test]
        fn display_parse_roundtrip_is_identity(a in arb_number()) {
            let text = a.to_string();
            let back = Number::parse(&text).unwrap();
            prop_assert_eq!(back.to_string(), text);
            prop_assert_eq!(back, a);
        }

        #[test]
        fn decode_on_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..30)) {
            if let Ok((x, used)) = Number::decode_ordered(&bytes) {
                prop_assert_eq!(&enc(&x)[..], &bytes[..used]);
            }
        }

        #[test]
        fn add_sub_are_exact_on_small_values(xa in -10i64.pow(12)..10i64.pow(12), ka in 0u32..7,
                                             xb in -10i64.pow(12)..10i64.pow(12), kb in 0u32..7) {
            let (a, b) = (n(&format!("{xa}e-{ka}")), n(&format!("{xb}e-{kb}")));
            let scaled = |x: i64, k: u32| i128::from(x) * 10i128.pow(12 - k);
            let (sa, sb) = (scaled(xa, ka), scaled(xb, kb));
            prop_assert_eq!(a.checked_add(&b).unwrap(), n(&format!("{}e-12", sa + sb)));
            prop_assert_eq!(a.checked_sub(&b).unwrap(), n(&format!("{}e-12", sa - sb)));
        }

        #[test]
        fn add_is_exact_or_errors_on_wide_values(a in arb_number(), b in arb_number()) {
            // An exact sum undoes exactly and moves `a` in the direction of `b`'s sign.
            if let Ok(s) = a.checked_add(&b) {
                prop_assert_eq!(s.checked_sub(&b).unwrap(), a.clone());
                prop_assert_eq!(rational_cmp(&s.to_string(), &a.to_string()), b.cmp(&Number::zero()));
            }
        }

        #[test]
        fn parse_never_panics(s in "[-+0-9.eE]{0,12}") {
            let _ = Number::parse(&s);
        }
    }
}
