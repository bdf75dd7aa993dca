//! Axis scales: round tick values (1-2-5 steps) and labels a student can
//! read without counting digits.

/// A linear map from data values to pixels.
#[derive(Clone, Copy, Debug)]
pub(super) struct Linear {
    d0: f64,
    d1: f64,
    p0: f64,
    p1: f64,
}

impl Linear {
    /// Maps `domain` onto `pixels`; an empty domain maps to the first pixel.
    pub(super) fn new(domain: (f64, f64), pixels: (f64, f64)) -> Linear {
        Linear {
            d0: domain.0,
            d1: domain.1,
            p0: pixels.0,
            p1: pixels.1,
        }
    }

    pub(super) fn px(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span <= 0.0 || !span.is_finite() {
            return self.p0;
        }
        self.p0 + (v - self.d0) / span * (self.p1 - self.p0)
    }
}

/// An axis range and its ticks: every multiple of `step` in `lo..=hi`.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
}

impl Ticks {
    /// About `target` round ticks (1, 2 or 5 times a power of ten) whose
    /// first and last enclose `lo..=hi`. An empty range gets one step.
    pub(super) fn cover(lo: f64, hi: f64, target: usize) -> Ticks {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let first = (lo / step).floor() * step;
        let last = (hi / step).ceil() * step;
        Ticks {
            lo: first,
            hi: if last > first { last } else { first + step },
            step,
        }
    }

    /// About `target` round ticks inside `lo..=hi`, which stays the range
    /// (for time, where rounding the ends out would waste the width).
    pub(super) fn within(lo: f64, hi: f64, target: usize) -> Ticks {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        Ticks {
            lo,
            hi,
            step: nice_step((hi - lo) / target.max(1) as f64),
        }
    }

    /// The tick values, from `lo` to `hi` inclusive.
    pub(super) fn values(&self) -> Vec<f64> {
        let slack = self.step * 1e-9;
        let first = ((self.lo - slack) / self.step).ceil() as i64;
        let last = ((self.hi + slack) / self.step).floor() as i64;
        (first..=last).map(|k| k as f64 * self.step).collect()
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ not below `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// Decimals needed to tell ticks `step` apart.
fn decimals(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()).max(0.0) as usize
    }
}

/// A time tick in seconds, with as many decimals as the step needs.
pub(super) fn seconds(v: f64, step: f64) -> String {
    let s = format!("{:.*}", decimals(step), v);
    if s.trim_start_matches('-')
        .trim_matches(['0', '.'])
        .is_empty()
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// A byte tick: `48,000`, or `20 MB` / `1.5 GB` once the axis reaches tens
/// of millions (decimal units, like the thousands they replace).
pub(super) fn bytes(v: f64, ticks: &Ticks) -> String {
    let (unit, div) = if ticks.hi >= 1e10 {
        (" GB", 1e9)
    } else if ticks.hi >= 1e7 {
        (" MB", 1e6)
    } else {
        return thousands(v.round().max(0.0) as u64);
    };
    format!("{:.*}{unit}", decimals(ticks.step / div), v / div)
}

/// `70308` as `70,308`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_step_by_one_two_or_five() {
        let t = Ticks::cover(0.0, 70_308.0, 6);
        assert_eq!(t.step, 20_000.0);
        assert_eq!(
            t.values(),
            vec![0.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0]
        );
        assert_eq!(Ticks::cover(0.0, 0.9, 6).step, 0.2);
        assert_eq!(Ticks::cover(0.0, 0.0031, 5).step, 0.001);
        assert_eq!(Ticks::cover(-0.0004, 2.1, 6).lo, -0.5);
        let empty = Ticks::cover(5.0, 5.0, 6);
        assert!(empty.hi > empty.lo);
        let time = Ticks::within(-0.0001, 5.77, 10);
        assert_eq!((time.lo, time.hi, time.step), (-0.0001, 5.77, 1.0));
        assert_eq!(time.values(), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn labels_are_readable() {
        assert_eq!(thousands(70_308), "70,308");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        let small = Ticks::cover(0.0, 70_308.0, 6);
        assert_eq!(bytes(40_000.0, &small), "40,000");
        let big = Ticks::cover(0.0, 1.2e9, 6);
        assert_eq!(bytes(4e8, &big), "400 MB");
        let huge = Ticks::cover(0.0, 1.2e10, 6);
        assert_eq!(bytes(2.5e9, &Ticks { step: 5e8, ..huge }), "2.5 GB");
        assert_eq!(seconds(0.25, 0.05), "0.25");
        assert_eq!(seconds(2.0, 0.5), "2.0");
        assert_eq!(seconds(3.0, 1.0), "3");
        assert_eq!(seconds(-0.0, 0.1), "0.0");
    }

    #[test]
    fn linear_maps_and_survives_an_empty_domain() {
        let y = Linear::new((0.0, 100.0), (400.0, 100.0));
        assert_eq!(y.px(50.0), 250.0);
        assert_eq!(Linear::new((3.0, 3.0), (10.0, 20.0)).px(3.0), 10.0);
    }
}
