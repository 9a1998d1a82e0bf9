//! Value parsers for flags whose range clap's types do not carry: shares and thresholds in
//! [0, 1], counts that must be positive, learning rates that must be positive and finite,
//! margins and temperatures that must be finite and not negative, bounded counts, and bin cuts
//! that must rise. A value out of range is refused while the arguments are parsed, naming the
//! flag, before any KB or model is loaded.

use std::fmt::Display;
use std::str::FromStr;

/// A share or probability threshold in [0, 1] (NaN is refused too).
pub fn share(text: &str) -> Result<f32, String> {
    let v: f32 = text.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not within [0, 1]"))
    }
}

/// A count that must be positive (epochs, batch sizes, candidates kept, byte limits).
pub fn at_least_one<T>(text: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + From<u8>,
    T::Err: Display,
{
    let v: T = text.parse().map_err(|e| format!("{e}"))?;
    if v >= T::from(1) {
        Ok(v)
    } else {
        Err("must be at least 1".into())
    }
}

/// A learning rate: positive and finite. Zero or a negative rate trains nothing or climbs the
/// loss, and NaN or infinity poisons the weights, each only visible long after the run started.
pub fn positive<T>(text: &str) -> Result<T, String>
where
    T: FromStr + Copy + Into<f64>,
    T::Err: Display,
{
    let v: T = text.parse().map_err(|e| format!("{e}"))?;
    let x: f64 = v.into();
    if x.is_finite() && x > 0.0 {
        Ok(v)
    } else {
        Err(format!("{text} is not a positive finite number"))
    }
}

/// A margin or temperature: finite and not negative (zero is meaningful: no margin, or
/// uniform weights over the negatives).
pub fn non_negative<T>(text: &str) -> Result<T, String>
where
    T: FromStr + Copy + Into<f64>,
    T::Err: Display,
{
    let v: T = text.parse().map_err(|e| format!("{e}"))?;
    let x: f64 = v.into();
    if x.is_finite() && x >= 0.0 {
        Ok(v)
    } else {
        Err(format!("{text} is not a finite number of at least 0"))
    }
}

/// The most relations a candidate's text may name. Each one ("spouse: David Beckham") costs a
/// few tokens, and 32 of them already fill the encoder's input, so more would be cut off
/// unread while the run looks configured.
pub const MAX_RELATIONS_IN_TEXT: usize = 32;

/// `--relations-in-text`: a count in 0..=[`MAX_RELATIONS_IN_TEXT`].
pub fn relations_in_text(text: &str) -> Result<usize, String> {
    let v: usize = text.parse().map_err(|e| format!("{e}"))?;
    if v <= MAX_RELATIONS_IN_TEXT {
        Ok(v)
    } else {
        Err(format!("{v} is not within 0..={MAX_RELATIONS_IN_TEXT}"))
    }
}

/// Inclusive upper bounds of bins, as given on the command line (`0,10,1000`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cuts(pub Vec<u64>);

/// Comma-separated bin bounds that rise strictly: a repeated or out-of-order bound would make an
/// empty bin that the slices then drop without a word.
pub fn rising_cuts(text: &str) -> Result<Cuts, String> {
    let cuts = text
        .split(',')
        .map(|c| c.trim().parse::<u64>().map_err(|e| format!("{c:?}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(w) = cuts.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "bounds must rise strictly, but {} is followed by {}",
            w[0], w[1]
        ));
    }
    Ok(Cuts(cuts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_outside_the_unit_interval_are_refused() {
        assert_eq!(share("0"), Ok(0.0));
        assert_eq!(share("1"), Ok(1.0));
        for bad in ["-1", "5", "NaN", "1.0001", "x"] {
            assert!(share(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn learning_rates_must_be_positive_and_finite() {
        assert_eq!(positive::<f64>("0.001"), Ok(0.001));
        assert_eq!(positive::<f32>("0.1"), Ok(0.1));
        for bad in ["0", "-1", "nan", "NaN", "inf", "-inf", "1e39", "x"] {
            assert!(positive::<f32>(bad).is_err(), "{bad}");
        }
        assert!(positive::<f64>("inf").is_err());
    }

    #[test]
    fn margins_may_be_zero_but_not_negative_or_infinite() {
        assert_eq!(non_negative::<f32>("0"), Ok(0.0));
        assert_eq!(non_negative::<f32>("9"), Ok(9.0));
        for bad in ["-0.5", "nan", "inf", "x"] {
            assert!(non_negative::<f32>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cuts_must_rise_strictly() {
        assert_eq!(rising_cuts("0,10,1000"), Ok(Cuts(vec![0, 10, 1000])));
        assert_eq!(rising_cuts("5"), Ok(Cuts(vec![5])));
        for bad in ["1000,10", "10,10", "0,,3", "-1,2", ""] {
            assert!(rising_cuts(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relations_in_text_are_bounded() {
        assert_eq!(relations_in_text("0"), Ok(0));
        assert_eq!(relations_in_text("32"), Ok(32));
        let err = relations_in_text("33").unwrap_err();
        assert!(err.contains("0..=32"), "{err}");
        assert!(relations_in_text("-1").is_err());
    }

    #[test]
    fn counts_must_be_positive() {
        assert_eq!(at_least_one::<usize>("3"), Ok(3));
        assert_eq!(at_least_one::<u64>("1"), Ok(1));
        assert!(at_least_one::<usize>("0").is_err());
        assert!(at_least_one::<usize>("-2").is_err());
    }
}
