//! Metric formulas of the reports, and the rounding that keeps them
//! reconciled.
//!
//! A ratio with a zero (or unknown) denominator is `None` — JSON `null` —
//! never NaN or infinity. Attributed amounts are fractional (a linear model
//! gives a third of a sale to each of three touches); [`apportion`] rounds
//! a column so that the rounded rows add up to exactly the rounded total,
//! the way a reader checks a report.

/// `num / den`, or `None` when `den` is zero or either is not finite.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    if den == 0.0 || !num.is_finite() || !den.is_finite() {
        return None;
    }
    let r = num / den;
    r.is_finite().then_some(r)
}

/// `num / den × 100`, or `None` as [`ratio`].
pub fn percent(num: f64, den: f64) -> Option<f64> {
    ratio(num, den).map(|r| r * 100.0)
}

/// ROI in percent: `(revenue - cost) / cost × 100` (`None` without cost).
pub fn roi(revenue: f64, cost: f64) -> Option<f64> {
    percent(revenue - cost, cost)
}

/// Rounds `values` to integers (callers scale first: kopecks, hundredths)
/// by the largest-remainder method: every value is floored, then the units
/// the flooring lost go to the values with the largest fractions, so the
/// result sums to exactly `round(sum(values))` and no value moves by a
/// whole unit or more. Non-finite values count as 0.
pub fn apportion(values: &[f64]) -> Vec<i64> {
    let clean: Vec<f64> = values
        .iter()
        .map(|v| if v.is_finite() { *v } else { 0.0 })
        .collect();
    let target = clean.iter().sum::<f64>().round() as i64;
    let mut out: Vec<i64> = clean.iter().map(|v| v.floor() as i64).collect();
    let mut missing = target - out.iter().sum::<i64>();
    if missing > 0 {
        let mut order: Vec<usize> = (0..clean.len()).collect();
        order.sort_by(|&a, &b| {
            let fa = clean[a] - clean[a].floor();
            let fb = clean[b] - clean[b].floor();
            fb.total_cmp(&fa).then(a.cmp(&b))
        });
        for i in order {
            if missing == 0 {
                break;
            }
            out[i] += 1;
            missing -= 1;
        }
    }
    out
}

/// Relative change from `previous` to `current` in percent (`None` when
/// there was nothing before).
pub fn change(current: f64, previous: f64) -> Option<f64> {
    percent(current - previous, previous.abs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_denominators_are_none() {
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(roi(100.0, 0.0), None);
        assert_eq!(roi(150.0, 100.0), Some(50.0));
        assert_eq!(percent(1.0, 4.0), Some(25.0));
        assert_eq!(change(5.0, 0.0), None);
        assert_eq!(change(15.0, 10.0), Some(50.0));
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }

    #[test]
    fn thirds_are_apportioned_to_the_total() {
        // Three rows of a third each: 33.33 + 33.33 + 33.34 = 100.
        let v = [100.0 / 3.0; 3];
        assert_eq!(apportion(&v), vec![34, 33, 33]);
        assert_eq!(apportion(&[0.5, 0.5]), vec![1, 0]);
        assert!(apportion(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn apportioned_rows_sum_to_the_rounded_total(v in prop::collection::vec(0.0f64..1e9, 0..50)) {
            let r = apportion(&v);
            prop_assert_eq!(r.iter().sum::<i64>(), v.iter().sum::<f64>().round() as i64);
            for (a, b) in r.iter().zip(&v) {
                prop_assert!((*a as f64 - b).abs() < 1.0 + 1e-6);
            }
        }
    }
}
