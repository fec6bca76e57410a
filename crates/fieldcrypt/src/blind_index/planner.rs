//! Picks how many bits a blind index keeps.
//!
//! Too many bits and an index value singles out one plaintext (an attacker with the table learns
//! which rows are equal and, for low-cardinality columns, which value each row holds). Too few and
//! every lookup drags in many false positives. CipherSweet's rule bounds the expected coincidences
//! `C` per index value: `2 <= C <= sqrt(rows)`.
//!
//! Here the lower bound is applied to *distinct values* (each index value must stand for at least
//! two distinct plaintexts: that is what hides a value) and the upper bound to *rows* (how many
//! rows a lookup returns). Other indexes on the same field count against the same budget, since
//! together they narrow a value down as one longer index would.

use crate::error::Error;

/// The planner's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Bits to keep.
    pub bits: u16,
    /// Expected distinct plaintexts per index value (at least 2 by construction).
    pub distinct_per_value: f64,
    /// Expected rows per index value: what one lookup reads before filtering.
    pub rows_per_value: f64,
    /// `sqrt(rows)`: the most rows per lookup the rule allows.
    pub max_rows_per_value: f64,
    /// Whether `rows_per_value <= sqrt(rows)` holds too. When it does not, the column has so few
    /// distinct values that a safe index cannot be selective; the plan is still safe.
    pub within_rule: bool,
}

/// Plans an index over `rows` rows holding `distinct` distinct values, given `other_bits` already
/// spent by other blind indexes on the same field.
pub fn plan(rows: u64, distinct: u64, other_bits: u16) -> Result<Plan, Error> {
    if rows == 0 || distinct == 0 {
        return Err(Error::BlindIndex(
            "rows and distinct values must be at least 1",
        ));
    }
    if distinct > rows {
        return Err(Error::BlindIndex("distinct values cannot exceed rows"));
    }
    // Largest total T with distinct / 2^T >= 2, i.e. 2^(T+1) <= distinct.
    let total = u16::try_from(63 - distinct.leading_zeros())
        .unwrap_or(0)
        .saturating_sub(1);
    let bits = total.checked_sub(other_bits).filter(|b| *b >= 1).ok_or(Error::BlindIndex(
        "too few distinct values for a safe index: each index value would single out a plaintext",
    ))?;
    let spent = f64::from(bits + other_bits).exp2();
    let rows_per_value = rows as f64 / f64::from(bits).exp2();
    let max_rows_per_value = (rows as f64).sqrt();
    Ok(Plan {
        bits,
        distinct_per_value: distinct as f64 / spent,
        rows_per_value,
        max_rows_per_value,
        within_rule: rows_per_value <= max_rows_per_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_shared_by_at_least_two_plaintexts() -> Result<(), Error> {
        for distinct in [4u64, 5, 7, 8, 1000, 1 << 20, 999_983, u64::MAX / 2] {
            let p = plan(distinct, distinct, 0)?;
            assert!(distinct >> p.bits >= 2, "{distinct}: {p:?}");
            // One more bit would break the rule.
            assert!(distinct >> (p.bits + 1) < 2, "{distinct}: {p:?}");
        }
        Ok(())
    }

    #[test]
    fn unique_column_of_a_million_rows() -> Result<(), Error> {
        let p = plan(1_000_000, 1_000_000, 0)?;
        assert_eq!(p.bits, 18);
        assert!(p.within_rule);
        Ok(())
    }

    #[test]
    fn low_cardinality_and_budget() -> Result<(), Error> {
        // 50 states over a million rows: 4 bits, three or so states per value, not selective.
        let p = plan(1_000_000, 50, 0)?;
        assert_eq!(p.bits, 4);
        assert!(!p.within_rule);
        assert!(plan(1_000, 3, 0).is_err());
        assert!(plan(1 << 20, 1 << 20, 19).is_err());
        assert_eq!(plan(1 << 20, 1 << 20, 10)?.bits, 9);
        Ok(())
    }
}
