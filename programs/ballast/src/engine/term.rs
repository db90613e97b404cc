//! Fixed-rate term loans: zero-coupon pricing, the term-rate curve, the
//! reserve's maturity buckets and their accrual, early repayment and the
//! penalty past maturity.
//!
//! ## Pricing (continuous compounding, 365-day year)
//!
//! A term loan owes its face `F` (token base units) at maturity `T` (unix
//! seconds). With `tau = T - now` seconds and an annual rate `r`, the
//! borrower receives the zero-coupon price
//!
//! ```text
//! P = F * exp(-r * tau / SECONDS_PER_YEAR)        rounded DOWN (price_floor)
//! ```
//!
//! computed as `F / exp(x)` with `x` rounded up and `exp` rounded up
//! ([`super::rates::exp_ceil`]), so `P` is never above the exact price.
//! Early repayment pays the same formula at the rate quoted now for the
//! remaining time, rounded UP ([`price_ceil`]: `x` and `exp` rounded down),
//! floored at the loan's book value (below).
//!
//! ## The term rate (annualised, continuous)
//!
//! ```text
//! r = r_float(U now) + base_spread + slope * c,
//! c = face committed at that maturity after this loan / reserve supply
//! ```
//!
//! Source: Exactly Protocol's fixed-rate pools price a maturity by that
//! maturity pool's utilisation; the spread is a term premium over the
//! floating rate (the expectations hypothesis plus a premium). Rounded up
//! at borrow (a lower price), down at repayment (a higher price).
//!
//! ## Reserve accounting: maturity buckets
//!
//! All loans of one maturity share a bucket (Exactly's maturity pools): the
//! maturity is the first grid point at or after `now + tenor`
//! ([`maturity_for`]). A bucket holds the face outstanding and the unearned
//! interest (`sum F - P` not yet earned). A loan earns linearly from its
//! opening to its maturity, so the sum of the loans of one maturity earns
//! linearly too: on accrual the bucket's unearned decays as
//! `u * (T - now) / (T - last)` (rounded UP, so less is earned) and reaches
//! 0 at `T`; nothing is earned past maturity. The reserve's term book,
//! `total_face - total_unearned`, is part of the depositors' supply, and it
//! is never above what the loans will pay at maturity (the face), so a
//! depositor cannot capture a repayment's interest by depositing just
//! before it.
//!
//! Units: token base units (`u64` amounts, `Fx` for fractional books),
//! seconds, bps; rates are `Fx` fractions per year.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::fx::*;
use super::rates::{exp_ceil, SECONDS_PER_YEAR};
use crate::errors::{check_field, BallastError};

/// Tenors a reserve may offer.
pub const MAX_TENORS: usize = 3;
/// Maturity buckets per reserve: the 13 future grid points a tenor of at
/// most [`MAX_TENOR_GRID_PERIODS`] periods can reach, plus 3 for matured
/// loans not yet converted or repaid.
pub const TERM_BUCKETS: usize = 16;
/// Longest tenor, in grid periods.
pub const MAX_TENOR_GRID_PERIODS: u32 = 12;
/// Default maturity grid: 7 days.
pub const DEFAULT_GRID_SECS: u32 = 7 * 86_400;
/// Grid range: 1 hour..=30 days.
pub const GRID_SECS: core::ops::RangeInclusive<u32> = 3_600..=30 * 86_400;
/// Shortest tenor: 1 hour.
pub const MIN_TENOR_SECS: u32 = 3_600;
/// Base spread range, bps (up to 100% a year).
pub const BASE_SPREAD_BPS: core::ops::RangeInclusive<u16> = 0..=10_000;
/// Slope range, bps per 100% of supply committed (up to 500% a year).
pub const SLOPE_BPS: core::ops::RangeInclusive<u16> = 0..=50_000;
/// Commitment cap range, bps of supply per maturity.
pub const MAX_COMMIT_BPS: core::ops::RangeInclusive<u16> = 1..=10_000;
/// Penalty APR range, bps (1 bp..=500% a year): a penalty is required.
pub const PENALTY_SPREAD_BPS: core::ops::RangeInclusive<u16> = 1..=50_000;

/// A reserve's term-loan configuration (`set_term_config`). All-zero
/// tenors disable term loans. 32 bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct TermConfig {
    /// Tenors, seconds, ascending; 0 = unused (unused ones last).
    pub tenors_secs: [u32; MAX_TENORS],
    /// Maturity grid, seconds: a loan matures at the first multiple of it
    /// at or after `now + tenor` (unix time).
    pub grid_secs: u32,
    /// Term premium over the floating rate, bps a year.
    pub base_spread_bps: u16,
    /// Added per 100% of the reserve's supply committed at the maturity,
    /// bps a year.
    pub slope_bps: u16,
    /// Most face committed at one maturity, bps of the reserve's supply.
    pub max_commit_bps: u16,
    /// Penalty APR past maturity, bps a year, fixed in each loan at its
    /// opening; charged from maturity to conversion, when it goes to the
    /// protocol (see `convert_term_debt`).
    pub penalty_spread_bps: u16,
    /// Padding; zero.
    pub _padding: [u8; 8],
}

impl TermConfig {
    /// Whether any tenor is configured.
    pub fn enabled(&self) -> bool {
        self.tenors_secs[0] != 0
    }

    /// Tenor `index`, seconds. Errors: [`BallastError::TermDisabled`],
    /// [`BallastError::UnknownTenor`].
    pub fn tenor(&self, index: u8) -> Result<u32> {
        require!(self.enabled(), BallastError::TermDisabled);
        match self.tenors_secs.get(index as usize) {
            Some(&t) if t != 0 => Ok(t),
            _ => err!(BallastError::UnknownTenor),
        }
    }

    /// Checks the ranges above. All tenors 0 (disabled) is valid whatever
    /// the other fields. Errors: [`BallastError::InvalidTermConfig`] (the
    /// log names the field).
    pub fn validate(&self) -> Result<()> {
        let e = BallastError::InvalidTermConfig;
        check_field(self._padding == [0; 8], "_padding", e)?;
        if !self.enabled() {
            check_field(self.tenors_secs.iter().all(|&t| t == 0), "tenors_secs", e)?;
            return Ok(());
        }
        check_field(GRID_SECS.contains(&self.grid_secs), "grid_secs", e)?;
        let max = self.grid_secs as u64 * MAX_TENOR_GRID_PERIODS as u64;
        let mut prev = 0u32;
        let mut ended = false;
        for &t in &self.tenors_secs {
            if t == 0 {
                ended = true;
                continue;
            }
            let ok = !ended && t > prev && t >= MIN_TENOR_SECS && t as u64 <= max;
            check_field(ok, "tenors_secs", e)?;
            prev = t;
        }
        check_field(
            BASE_SPREAD_BPS.contains(&self.base_spread_bps),
            "base_spread_bps",
            e,
        )?;
        check_field(SLOPE_BPS.contains(&self.slope_bps), "slope_bps", e)?;
        check_field(
            MAX_COMMIT_BPS.contains(&self.max_commit_bps),
            "max_commit_bps",
            e,
        )?;
        check_field(
            PENALTY_SPREAD_BPS.contains(&self.penalty_spread_bps),
            "penalty_spread_bps",
            e,
        )
    }
}

/// One maturity bucket of a reserve. 32 bytes. Free when `face == 0`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct TermBucket {
    /// Maturity, unix seconds.
    pub maturity: i64,
    /// Face outstanding at this maturity, base units.
    pub face: u64,
    /// Interest not yet earned, base units (`Fx`), as of the state's
    /// `last_update_ts`; 0 at and past maturity.
    pub unearned: WrappedFx,
}

/// A reserve's term book. 544 bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct TermState {
    /// Unix time of the last accrual of the buckets' unearned interest.
    pub last_update_ts: i64,
    /// Sum of the buckets' face, base units.
    pub total_face: u64,
    /// Sum of the buckets' unearned interest, base units.
    pub total_unearned: WrappedFx,
    /// The maturity buckets, in no order.
    pub buckets: [TermBucket; TERM_BUCKETS],
}

/// A bucket's unearned interest decayed from `last` to `now`: linear to 0
/// at `maturity`, rounded up (less earned).
fn decayed(unearned: Fx, maturity: i64, last: i64, now: i64) -> Result<Fx> {
    if unearned <= FX_ZERO || now >= maturity {
        return Ok(FX_ZERO);
    }
    if now <= last {
        return Ok(unearned);
    }
    unearned.mul_div_int_ceil((maturity - now) as i128, (maturity - last) as i128)
}

impl TermState {
    /// Book value of the term loans, base units: `total_face -
    /// total_unearned` as of `last_update_ts` (never negative).
    #[inline]
    pub fn book(&self) -> Result<Fx> {
        if self.total_face == 0 {
            return Ok(FX_ZERO);
        }
        Ok(fx_u64(self.total_face)
            .sub_(self.total_unearned.get())?
            .max(FX_ZERO))
    }

    /// The total unearned interest [`TermState::accrue`] to `now` would
    /// leave, without writing.
    pub fn projected_unearned(&self, now: i64) -> Result<Fx> {
        if self.total_unearned.get() <= FX_ZERO {
            return Ok(FX_ZERO);
        }
        let mut total = FX_ZERO;
        for b in &self.buckets {
            let u = b.unearned.get();
            if u > FX_ZERO {
                total = total.add_(decayed(u, b.maturity, self.last_update_ts, now)?)?;
            }
        }
        Ok(total)
    }

    /// Decays every bucket's unearned interest to `now` and returns the
    /// interest earned (base units, >= 0). A `now` before the last update
    /// earns nothing.
    pub fn accrue(&mut self, now: i64) -> Result<Fx> {
        if now <= self.last_update_ts {
            return Ok(FX_ZERO);
        }
        let before = self.total_unearned.get();
        let mut total = FX_ZERO;
        if before > FX_ZERO {
            let last = self.last_update_ts;
            for b in self.buckets.iter_mut() {
                let u = b.unearned.get();
                if u > FX_ZERO {
                    let d = decayed(u, b.maturity, last, now)?;
                    b.unearned.set(d);
                    total = total.add_(d)?;
                }
            }
        }
        self.total_unearned.set(total);
        self.last_update_ts = now;
        Ok(before.sub_(total)?.max(FX_ZERO))
    }

    /// Face outstanding at `maturity`, base units (0 without a bucket).
    pub fn face_at(&self, maturity: i64) -> u64 {
        self.buckets
            .iter()
            .find(|b| b.face > 0 && b.maturity == maturity)
            .map_or(0, |b| b.face)
    }

    /// Books a new loan of `face` at `maturity` lent for `principal`
    /// (`face - principal` unearned). The state must be accrued to now.
    /// Errors: [`BallastError::TermBucketsFull`], [`BallastError::MathOverflow`].
    pub fn add_loan(&mut self, maturity: i64, face: u64, principal: u64) -> Result<()> {
        let i = match self
            .buckets
            .iter()
            .position(|b| b.face > 0 && b.maturity == maturity)
        {
            Some(i) => i,
            None => {
                let i = self
                    .buckets
                    .iter()
                    .position(|b| b.face == 0)
                    .ok_or(error!(BallastError::TermBucketsFull))?;
                self.buckets[i] = TermBucket {
                    maturity,
                    ..Default::default()
                };
                i
            }
        };
        let interest = fx_u64(
            face.checked_sub(principal)
                .ok_or(error!(BallastError::MathOverflow))?,
        );
        let b = &mut self.buckets[i];
        b.face = b
            .face
            .checked_add(face)
            .ok_or(error!(BallastError::MathOverflow))?;
        b.unearned.set(b.unearned.get().add_(interest)?);
        self.total_face = self
            .total_face
            .checked_add(face)
            .ok_or(error!(BallastError::MathOverflow))?;
        self.total_unearned
            .set(self.total_unearned.get().add_(interest)?);
        Ok(())
    }

    /// Takes a loan of `face` at `maturity` off the books, with `unearned`
    /// of its interest not yet earned (the loan's share, rounded down by the
    /// caller, so the bucket keeps at least the others' true unearned), and
    /// `excess` paid above the loan's book value: smoothed into the bucket's
    /// unearned (earned linearly to its maturity) when the bucket's
    /// remaining face has room, else returned for the caller to credit to
    /// the protocol. A bucket left without face drops its rounding residue
    /// (ulps). Returns the excess not smoothed. Errors:
    /// [`BallastError::NoTermPosition`] (no such bucket or face),
    /// [`BallastError::MathOverflow`].
    pub fn remove_loan(
        &mut self,
        maturity: i64,
        face: u64,
        unearned: Fx,
        excess: Fx,
    ) -> Result<Fx> {
        let i = self
            .buckets
            .iter()
            .position(|b| b.face >= face && b.face > 0 && b.maturity == maturity)
            .ok_or(error!(BallastError::NoTermPosition))?;
        let b = &mut self.buckets[i];
        let old_u = b.unearned.get();
        b.face -= face;
        let mut u = old_u.sub_(unearned.min(old_u))?;
        let mut left = excess;
        if b.face == 0 {
            u = FX_ZERO;
        } else if excess > FX_ZERO && u.add_(excess)? <= fx_u64(b.face) {
            u = u.add_(excess)?;
            left = FX_ZERO;
        }
        b.unearned.set(u);
        self.total_face -= face;
        let total = self.total_unearned.get().sub_(old_u)?.add_(u)?.max(FX_ZERO);
        self.total_unearned.set(total);
        Ok(left)
    }
}

/// The maturity of a loan of `tenor` seconds opened at `now`: the first
/// multiple of `grid` at or after `now + tenor`. Errors:
/// [`BallastError::MathOverflow`].
pub fn maturity_for(now: i64, tenor: u32, grid: u32) -> Result<i64> {
    let end = now
        .checked_add(tenor as i64)
        .ok_or(error!(BallastError::MathOverflow))?;
    let g = grid.max(1) as i64;
    let periods = end.div_euclid(g) + i64::from(end.rem_euclid(g) != 0);
    periods
        .checked_mul(g)
        .ok_or(error!(BallastError::MathOverflow))
}

/// The term rate (fraction a year): `float_apr + base_spread + slope *
/// committed_face / supply`, rounded up when `up` (a borrow) and down
/// otherwise (a repayment's quote). A zero supply counts as fully committed.
pub fn term_rate(
    float_apr: Fx,
    cfg: &TermConfig,
    committed_face: u64,
    supply: Fx,
    up: bool,
) -> Result<Fx> {
    let c = if supply <= FX_ZERO {
        FX_ONE
    } else if up {
        fx_u64(committed_face).div_ceil(supply)?
    } else {
        fx_u64(committed_face).div_floor(supply)?
    };
    let bps = i128::from(BPS);
    let premium = if up {
        c.mul_div_int_ceil(cfg.slope_bps as i128, bps)?
    } else {
        c.mul_div_int_floor(cfg.slope_bps as i128, bps)?
    };
    let base = if up {
        fx_bps_ceil(cfg.base_spread_bps as u64)?
    } else {
        fx_bps_floor(cfg.base_spread_bps as u64)?
    };
    float_apr.add_(base)?.add_(premium)
}

/// `e^x` for `x >= 0`, rounded DOWN: [`exp_ceil`]'s scaling and squaring
/// with every step rounded down (the Taylor series' dropped terms are
/// positive, so the truncation rounds down too).
pub fn exp_floor(x: Fx) -> Result<Fx> {
    require!(x >= FX_ZERO, BallastError::MathOverflow);
    let threshold = Fx::from_bits(1i128 << 40);
    let mut k = 0u32;
    while (x >> k) >= threshold {
        k += 1;
    }
    let y = x >> k;
    let mut acc = FX_ONE;
    for d in [5i128, 4, 3, 2, 1] {
        acc = FX_ONE.add_(acc.mul_floor(y)?.div_int_floor(d)?)?;
    }
    for _ in 0..k {
        acc = acc.mul_floor(acc)?;
    }
    Ok(acc)
}

/// `rate * tau / SECONDS_PER_YEAR`, rounded up (`up`) or down.
fn exponent(rate: Fx, tau: u64, up: bool) -> Result<Fx> {
    let y = SECONDS_PER_YEAR as i128;
    if up {
        rate.max(FX_ZERO).mul_div_int_ceil(tau as i128, y)
    } else {
        rate.max(FX_ZERO).mul_div_int_floor(tau as i128, y)
    }
}

/// Largest exponent priced: `e^40` as in [`super::rates::MAX_GROWTH_EXPONENT`];
/// beyond it the price rounds to 0 (borrow) and [`price_ceil`] fails.
const MAX_EXPONENT: u64 = 40;

/// Zero-coupon price of `face` due in `tau` seconds at `rate`, rounded
/// DOWN: `floor(face / exp_ceil(ceil(rate * tau / year)))` base units.
/// Never above the exact `face * exp(-rate * tau)`.
pub fn price_floor(face: u64, rate: Fx, tau: u64) -> Result<u64> {
    let x = exponent(rate, tau, true)?;
    if x > fx_u64(MAX_EXPONENT) {
        return Ok(0);
    }
    fx_u64(face).div_floor(exp_ceil(x)?)?.to_floor_u64()
}

/// Zero-coupon price rounded UP: `ceil(face / exp_floor(floor(rate * tau
/// / year)))`, never below the exact price (and never above `face`).
pub fn price_ceil(face: u64, rate: Fx, tau: u64) -> Result<u64> {
    let x = exponent(rate, tau, false)?.min(fx_u64(MAX_EXPONENT));
    Ok(fx_u64(face)
        .div_ceil(exp_floor(x)?)?
        .to_ceil_u64()?
        .min(face))
}

/// A loan's interest not yet earned at `now` on the reserve's accrual
/// basis: `(face - principal) * (maturity - now) / (maturity - open)`,
/// rounded DOWN (what `repay_term` takes off the bucket); 0 at and past
/// maturity.
pub fn loan_unearned(face: u64, principal: u64, open: i64, maturity: i64, now: i64) -> Result<Fx> {
    if now >= maturity || face <= principal {
        return Ok(FX_ZERO);
    }
    let interest = fx_u64(face - principal);
    if now <= open || maturity <= open {
        return Ok(interest);
    }
    interest.mul_div_int_floor((maturity - now) as i128, (maturity - open) as i128)
}

/// What an early repayment of a loan before maturity costs, base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EarlyRepayment {
    /// Amount the borrower pays: `max(price_ceil(face, rate_now, T - now),
    /// ceil(book))`.
    pub amount: u64,
    /// The loan's unearned interest taken off its bucket ([`loan_unearned`]).
    pub unearned: Fx,
    /// `amount - book` (>= 0): paid above the loan's book value.
    pub excess: Fx,
}

/// The early repayment of `face` due at `maturity`, opened at `open` for
/// `principal`, quoted at `rate_now` ([`term_rate`], rounded down). The
/// price is floored at the book value `face - unearned` so the reserve
/// never books a loss on an early repayment. Errors:
/// [`BallastError::TermMaturityPassed`] at or past maturity.
pub fn early_repayment(
    face: u64,
    principal: u64,
    open: i64,
    maturity: i64,
    now: i64,
    rate_now: Fx,
) -> Result<EarlyRepayment> {
    require!(now < maturity, BallastError::TermMaturityPassed);
    let unearned = loan_unearned(face, principal, open, maturity, now)?;
    let book = fx_u64(face).sub_(unearned)?;
    let price = price_ceil(face, rate_now, (maturity - now) as u64)?;
    let amount = price.max(book.to_ceil_u64()?);
    Ok(EarlyRepayment {
        amount,
        unearned,
        excess: fx_u64(amount).sub_(book)?,
    })
}

/// What a term loan owes at `now`, base units: its face until maturity,
/// then `face * exp(penalty * (now - maturity) / year)` rounded up (the
/// penalty APR fixed at opening, `penalty_bps`); saturates at `u64::MAX`.
pub fn owed(face: u64, maturity: i64, penalty_bps: u16, now: i64) -> Result<Fx> {
    if now <= maturity || penalty_bps == 0 {
        return Ok(fx_u64(face));
    }
    let rate = fx_u64(penalty_bps as u64).div_int_ceil(i128::from(BPS))?;
    let x = exponent(rate, (now - maturity) as u64, true)?;
    let max = fx_u64(u64::MAX);
    if x > fx_u64(MAX_EXPONENT) {
        return Ok(max);
    }
    match fx_u64(face).checked_mul(exp_ceil(x)?) {
        Some(_) => Ok(fx_u64(face).mul_ceil(exp_ceil(x)?)?.min(max)),
        None => Ok(max),
    }
}

/// Upper ends of the maturity ladder's buckets, seconds from now: overnight
/// (<= 1 day), <= 7 days, <= 30 days, <= 90 days; the fifth bucket is
/// everything beyond.
pub const LADDER_ENDS_SECS: [i64; 4] = [86_400, 7 * 86_400, 30 * 86_400, 90 * 86_400];
/// Buckets of the maturity ladder.
pub const LADDER_BUCKETS: usize = 5;
/// Length of a borsh-encoded [`MaturityLadder`] (the return data of
/// `maturity_ladder`), bytes: 32 + 8 + 5 * 32.
pub const MATURITY_LADDER_LEN: usize = 200;

/// One bucket of the maturity ladder, token base units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LadderBucket {
    /// Assets that mature or reprice in the bucket (rounded down).
    pub assets: u64,
    /// Liabilities that can leave in the bucket (rounded down).
    pub liabilities: u64,
    /// Repricing gap, `assets - liabilities` (saturating).
    pub gap: i64,
    /// Cumulative gap from overnight to this bucket (saturating).
    pub cumulative_gap: i64,
}

/// A reserve's maturity ladder at a point in time: the return data of
/// `maturity_ladder`, [`MATURITY_LADDER_LEN`] bytes of borsh, little
/// endian, in field order: `reserve` (32), `timestamp` (i64), then the 5
/// buckets of [`LADDER_ENDS_SECS`] (overnight, <= 7 d, <= 30 d, <= 90 d,
/// beyond), each `assets`, `liabilities` (u64), `gap`, `cumulative_gap`
/// (i64).
///
/// What goes where: cash (the vault and the treasury's deployed amount at
/// book value, withdrawable on demand) and floating loans (their rate
/// resets continuously) reprice overnight; each term bucket's book value
/// (face less unearned interest, decayed to now) sits in the bucket of its
/// time to maturity, a matured one overnight; the depositors' claims (the
/// supply with interest projected to now) are on demand, so all can leave
/// overnight, except term deposits' locked shares (when the reserve's
/// `TermDepositBook` is passed), at their value in the bucket of their
/// maturity. Protocol fees and the insurance vault are equity.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaturityLadder {
    /// The reserve.
    pub reserve: Pubkey,
    /// Unix time of the view, seconds.
    pub timestamp: i64,
    /// The buckets, shortest first.
    pub buckets: [LadderBucket; LADDER_BUCKETS],
}

/// The ladder bucket of something `secs` seconds from maturity (<= 0:
/// overnight).
pub fn ladder_bucket(secs: i64) -> usize {
    LADDER_ENDS_SECS
        .iter()
        .position(|&end| secs <= end)
        .unwrap_or(LADDER_BUCKETS - 1)
}

/// The maturity ladder of a reserve at `now` from its books: `cash` (the
/// vault plus the deployed amount, base units), `floating` (floating debt
/// projected to now, rounded down), `liabilities` (depositors' claims
/// projected to now, rounded down), its term book, and its term deposits'
/// book `locked` (empty without one) out of `deposit_shares`: each
/// maturity's locked shares, valued at `liabilities * shares /
/// deposit_shares` (rounded down), sit in the bucket of their time to
/// maturity (a matured one overnight); the rest of the claims overnight.
/// Errors: [`BallastError::MathOverflow`].
#[allow(clippy::too_many_arguments)]
pub fn maturity_ladder(
    reserve: Pubkey,
    now: i64,
    cash: u64,
    floating: u64,
    liabilities: u64,
    term: &TermState,
    locked: &[super::term_deposit::DepositBucket],
    deposit_shares: u64,
) -> Result<MaturityLadder> {
    let mut assets = [0u128; LADDER_BUCKETS];
    assets[0] = cash as u128 + floating as u128;
    for b in term.buckets.iter().filter(|b| b.face > 0) {
        let u = decayed(b.unearned.get(), b.maturity, term.last_update_ts, now)?;
        let book = fx_u64(b.face).sub_(u)?.max(FX_ZERO).to_floor_u64()?;
        assets[ladder_bucket(b.maturity.saturating_sub(now))] += book as u128;
    }
    let mut owed = [0u128; LADDER_BUCKETS];
    let mut on_demand = liabilities as u128;
    if deposit_shares > 0 {
        for b in locked.iter().filter(|b| b.shares > 0) {
            let v = (liabilities as u128 * b.shares.min(deposit_shares) as u128
                / deposit_shares as u128)
                .min(on_demand);
            on_demand -= v;
            owed[ladder_bucket(b.maturity.saturating_sub(now))] += v;
        }
    }
    owed[0] += on_demand;
    let mut out = MaturityLadder {
        reserve,
        timestamp: now,
        ..Default::default()
    };
    let mut cumulative = 0i128;
    for (i, a) in assets.iter().enumerate() {
        let a = (*a).min(u64::MAX as u128) as u64;
        let l = owed[i] as u64;
        let gap = a as i128 - l as i128;
        cumulative += gap;
        let clamp = |v: i128| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        out.buckets[i] = LadderBucket {
            assets: a,
            liabilities: l,
            gap: clamp(gap),
            cumulative_gap: clamp(cumulative),
        };
    }
    Ok(out)
}

const _: () = assert!(core::mem::size_of::<TermConfig>() == 32);
const _: () = assert!(core::mem::size_of::<TermBucket>() == 32);
const _: () = assert!(core::mem::size_of::<TermState>() == 32 + 32 * TERM_BUCKETS);

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: Fx) -> f64 {
        x.to_num::<f64>()
    }

    fn cfg() -> TermConfig {
        TermConfig {
            tenors_secs: [7 * 86_400, 30 * 86_400, 84 * 86_400],
            grid_secs: DEFAULT_GRID_SECS,
            base_spread_bps: 100,
            slope_bps: 2_000,
            max_commit_bps: 2_000,
            penalty_spread_bps: 2_000,
            _padding: [0; 8],
        }
    }

    #[test]
    fn exp_bounds_bracket_f64_exp() {
        for i in 0..400 {
            let x = i as f64 * 0.1 + 0.000_37 * i as f64;
            let fx = Fx::from_num(x);
            let lo = f(exp_floor(fx).unwrap());
            let hi = f(exp_ceil(fx).unwrap());
            let exact = f(fx).exp();
            assert!(
                lo <= exact * (1.0 + 1e-15) && hi >= exact * (1.0 - 1e-15),
                "{x}"
            );
            assert!((hi - lo) / exact < 1e-11 * (1.0 + x), "{x}: {lo} {hi}");
        }
    }

    #[test]
    fn prices_match_the_closed_form_and_round_apart() {
        let year = SECONDS_PER_YEAR;
        for (face, rate, tau) in [
            (1_000_000_000u64, 0.05f64, year),
            (1_000_000_000, 0.05, 30 * 86_400),
            (123_456_789, 0.8, 7 * 86_400),
            (u64::MAX / 4, 0.12, 90 * 86_400),
            (1, 0.05, 86_400),
            (10_000, 0.0, 86_400),
        ] {
            let r = Fx::from_num(rate);
            let exact = face as f64 * (-rate * tau as f64 / year as f64).exp();
            let lo = price_floor(face, r, tau).unwrap();
            let hi = price_ceil(face, r, tau).unwrap();
            assert!(lo <= hi && hi <= face, "{face} {rate}");
            assert!(
                lo as f64 <= exact * (1.0 + 1e-12) + 1e-9,
                "{face} {rate}: {lo} {exact}"
            );
            assert!(
                hi as f64 >= exact * (1.0 - 1e-12) - 1e-9,
                "{face} {rate}: {hi} {exact}"
            );
            assert!(
                (hi - lo) as f64 <= 2.0 + exact * 1e-10,
                "{face} {rate}: {lo} {hi}"
            );
        }
        // 5% over a year on 1e9: e^-0.05 = 0.951229424500714
        assert_eq!(
            price_floor(1_000_000_000, Fx::from_num(0.05), SECONDS_PER_YEAR).unwrap(),
            951_229_424
        );
        assert_eq!(
            price_ceil(1_000_000_000, Fx::from_num(0.05), SECONDS_PER_YEAR).unwrap(),
            951_229_425
        );
    }

    #[test]
    fn maturities_sit_on_the_grid() {
        let g = DEFAULT_GRID_SECS;
        assert_eq!(maturity_for(0, g, g).unwrap(), g as i64);
        assert_eq!(maturity_for(1, g, g).unwrap(), 2 * g as i64);
        let now = 1_700_000_123;
        let m = maturity_for(now, 30 * 86_400, g).unwrap();
        assert_eq!(m % g as i64, 0);
        assert!(m >= now + 30 * 86_400 && m < now + 30 * 86_400 + g as i64);
    }

    #[test]
    fn term_rate_rises_with_commitment() {
        let c = cfg();
        let float = Fx::from_num(0.04);
        let supply = fx_u64(1_000_000);
        let r0 = term_rate(float, &c, 0, supply, true).unwrap();
        assert_eq!(r0, float + fx_bps_ceil(100).unwrap());
        // 10% committed at a 20% slope: +2%.
        let r = term_rate(float, &c, 100_000, supply, true).unwrap();
        assert!((f(r) - 0.07).abs() < 1e-12);
        let down = term_rate(float, &c, 100_000, supply, false).unwrap();
        assert!(down <= r);
        let full = term_rate(float, &c, 1, FX_ZERO, true).unwrap();
        assert!((f(full) - 0.25).abs() < 1e-12);
    }

    /// Accrual to maturity reconciles to the base unit: a bucket of loans
    /// opened at different times earns exactly `face - principal` in total
    /// by maturity, whatever the accrual times, and never more before.
    #[test]
    fn accrual_to_maturity_reconciles() {
        let mut s = TermState::default();
        let t = 10 * 86_400i64;
        s.accrue(0).unwrap();
        s.add_loan(t, 1_000_000, 990_000).unwrap();
        let mut earned = FX_ZERO;
        let mut now = 0;
        for step in [3_600i64, 86_400, 7, 200_000] {
            now += step;
            earned = earned.add_(s.accrue(now).unwrap()).unwrap();
            if now == 3_600 + 86_400 {
                // a second loan joins the bucket half-way
                s.add_loan(t, 2_000_000, 1_970_000).unwrap();
            }
            assert_eq!(
                s.book().unwrap(),
                fx_u64(s.total_face) - s.total_unearned.get()
            );
        }
        // linear, never above the exact earning: the first loan 10,000 *
        // now / t, the second 30,000 * (now - t2) / (t - t2).
        let t2 = (3_600 + 86_400) as f64;
        let exact =
            10_000.0 * now as f64 / t as f64 + 30_000.0 * (now as f64 - t2) / (t as f64 - t2);
        assert!(
            f(earned) <= exact + 1e-9 && f(earned) > exact - 1e-6,
            "{earned} {exact}"
        );
        earned = earned.add_(s.accrue(t + 5).unwrap()).unwrap();
        assert_eq!(earned.round(), fx_u64(40_000));
        assert!((f(earned) - 40_000.0).abs() < 1e-6);
        assert_eq!(s.total_unearned.get(), FX_ZERO);
        assert_eq!(s.book().unwrap(), fx_u64(3_000_000));
        // nothing is earned past maturity
        assert_eq!(s.accrue(t + 86_400).unwrap(), FX_ZERO);
    }

    #[test]
    fn projected_unearned_is_accrue() {
        let mut s = TermState::default();
        s.add_loan(1_000_000, 5_000_000, 4_900_000).unwrap();
        s.add_loan(2_000_000, 1_000, 900).unwrap();
        for now in [0, 1, 999_999, 1_000_000, 1_500_000, 3_000_000] {
            let p = s.projected_unearned(now).unwrap();
            let mut a = s;
            a.accrue(now).unwrap();
            assert_eq!(p, a.total_unearned.get(), "{now}");
        }
    }

    /// Early repayment never pays less than book, and pays the current
    /// price when it is above book.
    #[test]
    fn early_repayment_is_bounded_by_book() {
        let (face, open, t) = (1_000_000u64, 0i64, 90 * 86_400i64);
        let principal = price_floor(face, Fx::from_num(0.10), t as u64).unwrap();
        let now = 30 * 86_400;
        // rates fell: current price above book, paid as quoted
        let low = early_repayment(face, principal, open, t, now, Fx::from_num(0.02)).unwrap();
        let quoted = price_ceil(face, Fx::from_num(0.02), (t - now) as u64).unwrap();
        assert_eq!(low.amount, quoted);
        // rates rose: the quote is below book, floored at book
        let high = early_repayment(face, principal, open, t, now, Fx::from_num(0.50)).unwrap();
        let book = fx_u64(face) - loan_unearned(face, principal, open, t, now).unwrap();
        assert_eq!(high.amount, book.to_ceil_u64().unwrap());
        assert!(fx_u64(high.amount) >= book && fx_u64(low.amount) >= book);
        assert!(low.excess > FX_ZERO && high.excess < FX_ONE);
        // the closed form: book = P + (F - P) * (now - open) / (T - open)
        let exact_book = principal as f64 + (face - principal) as f64 * now as f64 / t as f64;
        assert!((f(book) - exact_book).abs() < 1e-6);
        assert!(early_repayment(face, principal, open, t, t, Fx::from_num(0.02)).is_err());
    }

    #[test]
    fn penalty_accrues_past_maturity() {
        assert_eq!(owed(1_000, 100, 2_000, 100).unwrap(), fx_u64(1_000));
        let o = owed(1_000_000, 0, 2_000, SECONDS_PER_YEAR as i64).unwrap();
        assert!(
            (f(o) - 1_000_000.0 * 0.2f64.exp()).abs() < 1e-3 && f(o) >= 1_000_000.0 * 0.2f64.exp()
        );
        assert_eq!(
            owed(u64::MAX, 0, 50_000, 100 * SECONDS_PER_YEAR as i64).unwrap(),
            fx_u64(u64::MAX)
        );
    }

    #[test]
    fn buckets_fill_and_free() {
        let mut s = TermState::default();
        for i in 0..TERM_BUCKETS as i64 {
            s.add_loan(1_000 + i, 10, 9).unwrap();
        }
        assert!(s.add_loan(5_000, 10, 9).is_err());
        s.add_loan(1_000, 10, 9).unwrap();
        assert_eq!(s.face_at(1_000), 20);
        let left = s.remove_loan(1_001, 10, FX_ONE, FX_ZERO).unwrap();
        assert_eq!(left, FX_ZERO);
        s.add_loan(5_000, 10, 9).unwrap();
        assert!(s.remove_loan(7_777, 1, FX_ZERO, FX_ZERO).is_err());
        // an excess with room in the bucket is smoothed into it
        let left = s.remove_loan(1_000, 10, FX_ONE, fx_u64(3)).unwrap();
        assert_eq!(left, FX_ZERO);
        assert_eq!(
            s.buckets
                .iter()
                .find(|b| b.maturity == 1_000)
                .unwrap()
                .unearned
                .get(),
            fx_u64(4)
        );
    }

    #[test]
    fn ladder_places_term_books_by_time_to_maturity() {
        assert_eq!(ladder_bucket(-5), 0);
        assert_eq!(ladder_bucket(86_400), 0);
        assert_eq!(ladder_bucket(86_401), 1);
        assert_eq!(ladder_bucket(30 * 86_400), 2);
        assert_eq!(ladder_bucket(91 * 86_400), 4);
        let mut s = TermState::default();
        s.add_loan(5 * 86_400, 1_000, 990).unwrap();
        s.add_loan(60 * 86_400, 2_000, 1_900).unwrap();
        s.add_loan(-1, 50, 50).unwrap(); // matured, unconverted
        let l = maturity_ladder(Pubkey::default(), 0, 700, 300, 4_000, &s, &[], 0).unwrap();
        let a: Vec<u64> = l.buckets.iter().map(|b| b.assets).collect();
        assert_eq!(a, vec![1_050, 990, 0, 1_900, 0]);
        assert_eq!(l.buckets[0].liabilities, 4_000);
        assert_eq!(l.buckets[0].gap, -2_950);
        assert_eq!(l.buckets[4].cumulative_gap, 3_940 - 4_000);
        let mut bytes = Vec::new();
        l.serialize(&mut bytes).unwrap();
        assert_eq!(bytes.len(), MATURITY_LADDER_LEN);
    }

    #[test]
    fn ladder_places_term_deposits_at_their_maturity() {
        use crate::engine::term_deposit::DepositBucket;
        let s = TermState::default();
        let locked = [
            DepositBucket {
                maturity: 20 * 86_400,
                shares: 250,
                face: 1_100,
            },
            DepositBucket {
                maturity: -1,
                shares: 100,
                face: 500,
            },
            DepositBucket::default(),
        ];
        // claims 4,000 over 1,000 shares: 250 shares worth 1,000 locked to
        // day 20, 100 matured (overnight)
        let l = maturity_ladder(Pubkey::default(), 0, 4_000, 0, 4_000, &s, &locked, 1_000).unwrap();
        let owed: Vec<u64> = l.buckets.iter().map(|b| b.liabilities).collect();
        assert_eq!(owed, vec![3_000, 0, 1_000, 0, 0]);
        assert_eq!(l.buckets[0].gap, 1_000);
        assert_eq!(l.buckets[2].cumulative_gap, 0);
    }

    #[test]
    fn config_validation() {
        cfg().validate().unwrap();
        TermConfig::default().validate().unwrap();
        let bad = |m: fn(&mut TermConfig)| {
            let mut c = cfg();
            m(&mut c);
            assert!(c.validate().is_err());
        };
        bad(|c| c.tenors_secs = [30 * 86_400, 7 * 86_400, 0]);
        bad(|c| c.tenors_secs = [7 * 86_400, 0, 30 * 86_400]);
        bad(|c| c.tenors_secs[2] = 13 * 7 * 86_400);
        bad(|c| c.grid_secs = 60);
        bad(|c| c.max_commit_bps = 0);
        bad(|c| c.penalty_spread_bps = 0);
        bad(|c| c._padding[0] = 1);
        assert_eq!(cfg().tenor(1).unwrap(), 30 * 86_400);
        assert!(cfg().tenor(3).is_err());
        assert!(TermConfig::default().tenor(0).is_err());
    }
}
