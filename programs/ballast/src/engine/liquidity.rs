//! Liquidity-mismatch controls: the outflow limiter and the liquidity
//! coverage of the balance sheet.
//!
//! * **Outflow limiter** (Solend's rate limiter, netted as marginfi's):
//!   withdraw plus borrow outflow, *net of* deposit plus repay inflow, is
//!   capped per sliding window. The window is approximated by two fixed
//!   buckets of net flow, the previous one weighted by how much of it still
//!   overlaps the sliding window: `used = prev * (window - elapsed) / window +
//!   current` (rounded up, so a credit counts a little less). Deposits and
//!   repayments are never limited; they credit the window, so a deposit ->
//!   withdraw round trip by one actor (a flash loan) leaves everyone else's
//!   remaining capacity as it was (the class of TOB-PUF-1).
//! * **Liquidity coverage** = `(liquid + recallable within the window) /
//!   stressed outflow`, with stressed outflow = `stress_outflow_bps` of
//!   deposits over the window (an LCR-style ratio; >= 1 means the reserve can
//!   pay a run of that size from liquid assets).
//!
//! Units: token base units, seconds, bps.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::bounds;
use super::fx::*;
use crate::errors::{check_field, BallastError};

/// The admin's liquidity configuration of a reserve (part of its
/// configuration). All zero disables the limiter and the buffer band.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct LiquidityConfig {
    /// Least liquid share of deposits the buffer keeps, bps.
    pub buffer_min_bps: u16,
    /// Liquid share a rebalance aims for, bps.
    pub buffer_target_bps: u16,
    /// Greatest liquid share before a rebalance deploys the excess, bps.
    pub buffer_max_bps: u16,
    /// Most of the deposits that may be deployed to the treasury strategy,
    /// bps.
    pub rehypothecation_cap_bps: u16,
    /// Stressed outflow over one window for the liquidity coverage, bps of
    /// deposits.
    pub stress_outflow_bps: u16,
    /// Padding; zero.
    pub _padding: [u8; 2],
    /// Outflow window, seconds; 0 disables the limiter.
    pub outflow_window_secs: u32,
    /// Most withdraw + borrow outflow per window, token base units.
    pub outflow_cap: u64,
}

impl LiquidityConfig {
    /// Checks ranges ([`super::bounds::LIQUIDITY_BPS`]), the band's order
    /// (`min <= target <= max`) and that an enabled limiter has a cap.
    /// Errors: [`BallastError::InvalidLiquidityConfig`].
    pub fn validate(&self) -> Result<()> {
        let bps = &bounds::LIQUIDITY_BPS;
        let e = BallastError::InvalidLiquidityConfig;
        let f = |ok, field| check_field(ok, field, e);
        f(
            self.buffer_min_bps <= self.buffer_target_bps,
            "liquidity.buffer_min_bps",
        )?;
        f(
            self.buffer_target_bps <= self.buffer_max_bps,
            "liquidity.buffer_target_bps",
        )?;
        f(
            bps.contains(&self.buffer_max_bps),
            "liquidity.buffer_max_bps",
        )?;
        f(
            bps.contains(&self.rehypothecation_cap_bps),
            "liquidity.rehypothecation_cap_bps",
        )?;
        f(
            bps.contains(&self.stress_outflow_bps),
            "liquidity.stress_outflow_bps",
        )?;
        f(self._padding == [0; 2], "liquidity._padding")?;
        f(
            self.outflow_window_secs == 0 || self.outflow_cap > 0,
            "liquidity.outflow_cap",
        )
    }
}

/// The limiter's state in a reserve.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct OutflowState {
    /// Start of the current bucket, unix seconds (a multiple of the window).
    pub window_start: i64,
    /// Net outflow (outflow less inflow) in the previous bucket, base units;
    /// negative when more came in than went out.
    pub previous: i64,
    /// Net outflow (outflow less inflow) in the current bucket, base units;
    /// negative when more came in than went out.
    pub current: i64,
}

impl OutflowState {
    /// Moves the buckets forward to the one holding `now`.
    fn roll(&mut self, window: i64, now: i64) {
        if now < self.window_start {
            return;
        }
        let passed = (now - self.window_start) / window;
        if passed >= 2 {
            self.previous = 0;
            self.current = 0;
        } else if passed == 1 {
            self.previous = self.current;
            self.current = 0;
        }
        self.window_start += passed * window;
    }

    /// Net outflow counted against the cap at `now`: the previous bucket
    /// weighted by its overlap with the sliding window (rounded up, towards
    /// more used), plus the current; negative when inflows dominate.
    pub fn used(&self, cfg: &LiquidityConfig, now: i64) -> i128 {
        let window = cfg.outflow_window_secs as i64;
        if window == 0 {
            return 0;
        }
        let mut s = *self;
        s.roll(window, now);
        let elapsed = (now - s.window_start).clamp(0, window) as i128;
        let w = window as i128;
        let num = (s.previous as i128) * (w - elapsed);
        // Ceiling division for either sign (i128::div_ceil is unstable).
        let weighted = num.div_euclid(w) + i128::from(num.rem_euclid(w) != 0);
        weighted + s.current as i128
    }

    /// What may still flow out at `now`, base units: `cap - used`, so more
    /// than the cap after net inflows (`u64::MAX` when the limiter is off).
    pub fn remaining(&self, cfg: &LiquidityConfig, now: i64) -> u64 {
        if cfg.outflow_window_secs == 0 {
            return u64::MAX;
        }
        let left = cfg.outflow_cap as i128 - self.used(cfg, now);
        left.clamp(0, u64::MAX as i128) as u64
    }

    /// Credits an inflow (deposit or repayment) of `amount` at `now` against
    /// the current bucket's net outflow. Never refuses: inflows are not
    /// limited. The credit saturates at `i64::MIN`.
    pub fn record_inflow(&mut self, cfg: &LiquidityConfig, now: i64, amount: u64) {
        let window = cfg.outflow_window_secs as i64;
        if window == 0 || amount == 0 {
            return;
        }
        self.roll(window, now);
        let amount = i64::try_from(amount).unwrap_or(i64::MAX);
        self.current = self.current.saturating_sub(amount);
    }

    /// Records an outflow of `amount` at `now`. Errors:
    /// [`BallastError::OutflowLimitExceeded`] (state unchanged) when it would
    /// exceed the cap.
    pub fn record(&mut self, cfg: &LiquidityConfig, now: i64, amount: u64) -> Result<()> {
        let window = cfg.outflow_window_secs as i64;
        if window == 0 || amount == 0 {
            return Ok(());
        }
        let left = self.remaining(cfg, now);
        if amount > left {
            msg!(
                "outflow limit: {} requested, {} of {} left in the window",
                amount,
                left,
                cfg.outflow_cap
            );
            return err!(BallastError::OutflowLimitExceeded);
        }
        self.roll(window, now);
        // amount <= remaining <= cap - used fits: cap is a u64 and used >= -2^64.
        let amount =
            i64::try_from(amount).map_err(|_| error!(BallastError::OutflowLimitExceeded))?;
        self.current = self.current.saturating_add(amount);
        Ok(())
    }
}

/// Liquidity coverage in bps: `(liquid + recallable) / (stress_bps *
/// deposits)`, rounded down; `u32::MAX` when no outflow is stressed.
pub fn liquidity_coverage_bps(liquid: u64, recallable: u64, deposits: u64, stress_bps: u16) -> u32 {
    let stressed = (deposits as u128) * (stress_bps as u128) / (BPS as u128);
    if stressed == 0 {
        return u32::MAX;
    }
    let cover = ((liquid as u128 + recallable as u128) * (BPS as u128)) / stressed;
    cover.min(u32::MAX as u128) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(window: u32, cap: u64) -> LiquidityConfig {
        LiquidityConfig {
            outflow_window_secs: window,
            outflow_cap: cap,
            ..Default::default()
        }
    }

    #[test]
    fn disabled_limiter_allows_everything() {
        let mut s = OutflowState::default();
        s.record(&cfg(0, 0), 100, u64::MAX).unwrap();
        assert_eq!(s, OutflowState::default());
        assert_eq!(s.remaining(&cfg(0, 0), 100), u64::MAX);
    }

    #[test]
    fn the_window_slides() {
        let c = cfg(86_400, 1_000);
        let mut s = OutflowState::default();
        let t0 = 86_400 * 100;
        s.record(&c, t0, 600).unwrap();
        s.record(&c, t0 + 10, 400).unwrap();
        let before = s;
        assert!(s.record(&c, t0 + 20, 1).is_err());
        assert_eq!(s, before, "a refused outflow leaves the state as it was");
        // Half a window into the next bucket, half of the previous still counts.
        assert_eq!(s.remaining(&c, t0 + 86_400 + 43_200), 500);
        s.record(&c, t0 + 86_400 + 43_200, 500).unwrap();
        assert!(s.record(&c, t0 + 86_400 + 43_200, 1).is_err());
        // Two windows on, everything is available again.
        assert_eq!(s.remaining(&c, t0 + 3 * 86_400), 1_000);
    }

    #[test]
    fn previous_bucket_weight_rounds_against_the_user() {
        let c = cfg(3, 10);
        let mut s = OutflowState::default();
        s.record(&c, 3, 10).unwrap();
        // One second into the next bucket: 10 * 2/3 = 6.67 -> 7 used.
        assert_eq!(s.used(&c, 7), 7);
        assert_eq!(s.remaining(&c, 7), 3);
    }

    #[test]
    fn a_round_trip_leaves_the_capacity_as_it_was() {
        let c = cfg(86_400, 1_000);
        let mut s = OutflowState::default();
        let t0 = 86_400 * 100;
        s.record(&c, t0, 300).unwrap();
        let before = s.remaining(&c, t0 + 5);
        assert_eq!(before, 700);
        // A flash deposit of far more than the cap, then its withdrawal.
        s.record_inflow(&c, t0 + 5, 1_000_000);
        s.record(&c, t0 + 5, 1_000_000).unwrap();
        assert_eq!(s.remaining(&c, t0 + 5), before);
        // Repay after borrow nets too; inflows alone never refuse.
        s.record(&c, t0 + 6, 700).unwrap();
        assert!(s.record(&c, t0 + 6, 1).is_err());
        s.record_inflow(&c, t0 + 6, 200);
        assert_eq!(s.remaining(&c, t0 + 6), 200);
    }

    #[test]
    fn a_credit_in_the_previous_bucket_rounds_against_the_user() {
        let c = cfg(3, 10);
        let mut s = OutflowState::default();
        s.record_inflow(&c, 3, 10);
        // One second into the next bucket: -10 * 2/3 = -6.67 -> -6 used.
        assert_eq!(s.used(&c, 7), -6);
        assert_eq!(s.remaining(&c, 7), 16);
    }

    #[test]
    fn coverage() {
        // 30% liquid against a 25% run: 120%.
        assert_eq!(liquidity_coverage_bps(300, 0, 1_000, 2_500), 12_000);
        assert_eq!(liquidity_coverage_bps(300, 100, 1_000, 2_500), 16_000);
        assert_eq!(liquidity_coverage_bps(300, 0, 1_000, 0), u32::MAX);
        assert_eq!(liquidity_coverage_bps(0, 0, 1_000, 2_500), 0);
    }

    #[test]
    fn config_validation() {
        assert!(LiquidityConfig::default().validate().is_ok());
        let bad = [
            LiquidityConfig {
                buffer_min_bps: 3_000,
                buffer_target_bps: 2_000,
                buffer_max_bps: 4_000,
                ..Default::default()
            },
            LiquidityConfig {
                buffer_max_bps: 10_001,
                ..Default::default()
            },
            cfg(3_600, 0),
            LiquidityConfig {
                stress_outflow_bps: 20_000,
                ..Default::default()
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }
}
