//! Timings are noisy: a figure is the median of several samples after the
//! outliers at both ends are dropped, with its spread beside it so a gate
//! can tell a change from noise.

use serde::{Deserialize, Serialize};

/// Below this standard deviation (ms) samples are never too noisy to
/// judge: timer and scheduler jitter makes any sub-millisecond task look
/// noisy in relative terms, and no budget or regression is that fine.
pub const NOISE_FLOOR_MS: f64 = 0.5;

/// A verdict on noisy samples holds only when it holds by more than this
/// many standard deviations.
pub const NOISE_DEVIATIONS: f64 = 2.0;

/// The middle of a set of samples and how far they spread, over the
/// samples kept after trimming.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    pub median: f64,
    pub mean: f64,
    /// Sample standard deviation over the mean; 0 when the mean is 0.
    pub rel_stddev: f64,
}

impl Spread {
    /// The spread of `values` once the `trim` lowest and `trim` highest are
    /// dropped (fewer when that would leave nothing).
    pub fn of(values: &[f64], trim: usize) -> Spread {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let trim = trim.min(sorted.len().saturating_sub(1) / 2);
        let kept = &sorted[trim..sorted.len() - trim];
        if kept.is_empty() {
            return Spread {
                median: 0.0,
                mean: 0.0,
                rel_stddev: 0.0,
            };
        }
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        let variance = match kept.len() {
            1 => 0.0,
            n => kept.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64,
        };
        let rel_stddev = if mean > 0.0 {
            variance.sqrt() / mean
        } else {
            0.0
        };
        Spread {
            median: median(kept),
            mean,
            rel_stddev,
        }
    }

    /// The standard deviation, in the samples' unit.
    pub fn stddev(&self) -> f64 {
        self.rel_stddev * self.mean
    }

    /// How far from the median the noise reaches: [`NOISE_DEVIATIONS`]
    /// standard deviations.
    pub fn noise(&self) -> f64 {
        NOISE_DEVIATIONS * self.stddev()
    }

    /// Whether the samples spread more than the policy trusts: then only
    /// a verdict clear of the noise may be given.
    pub fn too_noisy(&self, max_rel_stddev: f64) -> bool {
        self.rel_stddev > max_rel_stddev && self.stddev() > NOISE_FLOOR_MS
    }
}

/// The median of sorted values.
fn median(sorted: &[f64]) -> f64 {
    let middle = sorted.len() / 2;
    match sorted.len() % 2 {
        1 => sorted[middle],
        _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outliers_are_trimmed_before_the_median_and_spread() {
        let spread = Spread::of(&[10.0, 1000.0, 11.0, 0.1, 12.0], 1);
        assert_eq!(spread.median, 11.0);
        assert_eq!(spread.mean, 11.0);
        assert!((spread.rel_stddev - 1.0 / 11.0).abs() < 1e-12);
        assert_eq!(Spread::of(&[4.0, 1.0, 3.0, 2.0], 0).median, 2.5);
    }

    #[test]
    fn trimming_never_drops_every_sample() {
        assert_eq!(Spread::of(&[7.0, 9.0], 5).median, 8.0);
        assert_eq!(Spread::of(&[7.0], 5).rel_stddev, 0.0);
        assert_eq!(Spread::of(&[], 1).median, 0.0);
        assert_eq!(Spread::of(&[0.0, 0.0, 0.0], 1).rel_stddev, 0.0);
    }

    #[test]
    fn noise_is_relative_above_an_absolute_floor() {
        let noisy = Spread::of(&[20.0, 40.0, 60.0], 0);
        assert!(noisy.too_noisy(0.15));
        assert!(!noisy.too_noisy(0.6));
        // 50% relative spread, but a tenth of a millisecond.
        let tiny = Spread::of(&[0.1, 0.2, 0.3], 0);
        assert!(!tiny.too_noisy(0.15));
    }
}
