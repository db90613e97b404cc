//! The treasury strategy's economics: a reserve deploys liquidity above its
//! buffer band into another Ballast reserve of the same mint (in another
//! market) and recalls it when the buffer runs low.
//!
//! Valuation: the shares held are marked at the strategy's exchange rate
//! (its interest accrued to now, rounded down) at every move; between moves
//! the reserve counts them at that book value ([`TreasuryState`]).
//!
//! [`plan_rebalance`] is the whole decision of `rebalance` (accrue both
//! reserves, mark, size the move within the band, the cap, the strategy's
//! room and what it can return), over any [`ReserveBook`]: the handler runs
//! it on the accounts, the keeper on decoded copies. The CPIs that carry a
//! move out, and the accounting that follows what actually moved, are in
//! `crate::runtime::treasury_cpi`.
//!
//! Units: token base units; bps of deposits for the band and the cap.
//! Rounding: buffer targets round up (more stays liquid), the cap rounds
//! down, share values round down.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::book::ReserveBook;
use super::fx::*;
use super::liquidity::LiquidityConfig;
use super::safe_math::SafeCast;
use super::shares::tokens_for_shares_floor;
use crate::errors::BallastError;

/// A reserve's treasury: the strategy its excess liquidity is deployed to
/// (another Ballast reserve of the same mint, in another market) and the
/// receipt shares held there by this market's authority PDA.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct TreasuryState {
    /// The strategy reserve; `Pubkey::default()` when none is set.
    pub strategy_reserve: Pubkey,
    /// The obligation in the strategy's market, owned by this market's
    /// authority PDA, that holds the receipt shares (PDA
    /// `[OBLIGATION_SEED, strategy market, market authority, 0]`).
    pub strategy_obligation: Pubkey,
    /// Deposit shares of the strategy reserve held for this reserve.
    pub deployed_shares: u64,
    /// Book value of `deployed_shares`, token base units, rounded down:
    /// their value at the strategy's exchange rate (its interest projected)
    /// when last marked. Counted in the reserve's supply
    /// ([`ReserveBook::claims`]). Every instruction
    /// that prices this reserve's deposit shares (deposit, withdraw,
    /// liquidation seizing it, rebalance) marks it first from the strategy
    /// reserve's account, required while shares are deployed; health checks
    /// that read this reserve as another obligation's collateral use the
    /// lower of this book value and the shares' value now at the strategy's
    /// rate ([`health_supply`]; the strategy reserve is a health account),
    /// and `accrue_interest` (given the strategy reserve) refreshes it.
    pub deployed_amount: u64,
    /// Unix time of the last mark, seconds.
    pub last_mark_ts: i64,
    /// How many reserves use this one as their treasury strategy. A reserve
    /// in use as a strategy cannot have a strategy of its own (no chains, no
    /// cycles), so a deposit or withdrawal by CPI never needs a third
    /// reserve's account.
    pub strategy_users: u32,
    /// Padding; zero.
    pub _padding: [u8; 4],
}

impl TreasuryState {
    /// Whether a strategy is configured.
    pub fn has_strategy(&self) -> bool {
        self.strategy_reserve != Pubkey::default()
    }
}

/// Most reserves a strategy reserve's market admin can approve as its users
/// at a time ([`StrategyApprovals`]).
pub const MAX_STRATEGY_APPROVALS: usize = 4;

/// The reserves allowed to use this reserve as their treasury strategy, set
/// by this reserve's market admin (`set_strategy_approval`): being somebody's
/// strategy needs consent, since every user raises
/// [`TreasuryState::strategy_users`] and a reserve with users cannot take a
/// strategy of its own. `set_treasury_strategy` and every deploy require the
/// user's key here; a revoked approval stops deploys but never a recall.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct StrategyApprovals {
    /// Approved user reserves; `Pubkey::default()` marks a free slot.
    pub users: [Pubkey; MAX_STRATEGY_APPROVALS],
}

impl StrategyApprovals {
    /// Whether `user` is approved (the default key never is).
    pub fn contains(&self, user: &Pubkey) -> bool {
        *user != Pubkey::default() && self.users.contains(user)
    }

    /// Approves `user` (idempotent). Errors:
    /// [`BallastError::StrategyApprovalsFull`].
    pub fn approve(&mut self, user: Pubkey) -> Result<()> {
        if self.contains(&user) {
            return Ok(());
        }
        let slot = self
            .users
            .iter_mut()
            .find(|k| **k == Pubkey::default())
            .ok_or(error!(BallastError::StrategyApprovalsFull))?;
        *slot = user;
        Ok(())
    }

    /// Revokes `user`'s approval. Errors: [`BallastError::StrategyNotApproved`]
    /// when it was not approved.
    pub fn revoke(&mut self, user: &Pubkey) -> Result<()> {
        require!(self.contains(user), BallastError::StrategyNotApproved);
        for k in self.users.iter_mut().filter(|k| **k == *user) {
            *k = Pubkey::default();
        }
        Ok(())
    }
}

/// Value of `shares` of `strategy` at its exchange rate, base units, rounded
/// down (the strategy's interest must be accrued first).
pub fn shares_value(strategy: &impl ReserveBook, shares: u64) -> Result<u64> {
    tokens_for_shares_floor(shares, strategy.claims()?, strategy.deposit_shares())?.to_floor_u64()
}

/// The supply (depositors' claims, base units) a health check values a
/// reserve's deposit shares at: `supply` (with the deployed shares at their
/// book value `book`) lowered to count them at `marked` (their value now at
/// the strategy's exchange rate, [`shares_value`] rounded down) when that is
/// lower, never below zero. A loss in the strategy counts at once; a gain
/// only once marked. Used by the program's health checks
/// (`runtime::health_accounts`), the keeper and the TS client's engine.
pub fn health_supply(supply: Fx, book: u64, marked: u64) -> Result<Fx> {
    if marked >= book {
        return Ok(supply);
    }
    Ok(supply.sub_(fx_u64(book - marked))?.max(FX_ZERO))
}

/// What the strategy could return now: the book value deployed, bounded by
/// the strategy's liquid tokens and by what its outflow limiter still lets
/// out at `now`; base units.
pub fn recallable(reserve: &impl ReserveBook, strategy: &impl ReserveBook, now: i64) -> u64 {
    recallable_of(reserve.treasury().deployed_amount, strategy, now)
}

/// What the strategy could return now of a deployment worth `value` base
/// units: bounded by its liquid tokens and its outflow limiter at `now`.
pub fn recallable_of(value: u64, strategy: &impl ReserveBook, now: i64) -> u64 {
    value
        .min(strategy.liquid())
        .min(strategy.outflow_remaining(now))
}

/// Accrues the strategy's interest to `now` and marks `reserve`'s shares at
/// its exchange rate. Returns the change in book value, base units.
pub fn mark(
    reserve: &mut impl ReserveBook,
    strategy: &mut impl ReserveBook,
    now: i64,
) -> Result<i64> {
    strategy.accrue(now)?;
    let before = reserve.treasury().deployed_amount;
    let after = shares_value(strategy, reserve.treasury().deployed_shares)?;
    let t = reserve.treasury_mut();
    t.deployed_amount = after;
    t.last_mark_ts = now;
    (after as i128 - before as i128).cast()
}

/// `x * bps / 10,000` rounded up, for buffer targets (saturating at
/// `u64::MAX`, reached only for `bps` above 10,000).
pub fn bps_of_ceil(x: u64, bps: u16) -> u64 {
    u64::try_from((x as u128 * bps as u128).div_ceil(BPS as u128)).unwrap_or(u64::MAX)
}

/// `x * bps / 10,000` rounded down, for caps (saturating like
/// [`bps_of_ceil`]).
pub fn bps_of_floor(x: u64, bps: u16) -> u64 {
    u64::try_from((x as u128 * bps as u128) / BPS as u128).unwrap_or(u64::MAX)
}

/// What a rebalance does: deploy or recall this many base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Vault to strategy.
    Deploy(u64),
    /// Strategy to vault.
    Recall(u64),
}

/// Why a rebalance moves nothing; each is a refusal of the program
/// ([`Idle::error_code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Idle {
    /// The liquid share is inside the buffer band (edges included).
    InsideBufferBand,
    /// Above the band, but the rehypothecation cap or the strategy's deposit
    /// cap leaves no room; base units.
    RehypothecationCapReached {
        /// Deployed now, at book value.
        deployed: u64,
        /// `rehypothecation_cap_bps` of the deposits, rounded down.
        cap: u64,
        /// What the strategy could still take under its deposit cap.
        strategy_room: u64,
    },
    /// Below the band, and the strategy can return nothing now.
    NothingRecallable,
}

impl Idle {
    /// The program's error for this refusal (its message is the reason).
    pub fn error_code(self) -> BallastError {
        match self {
            Idle::InsideBufferBand => BallastError::InsideBufferBand,
            Idle::RehypothecationCapReached { .. } => BallastError::RehypothecationCapReached,
            Idle::NothingRecallable => BallastError::NothingRecallable,
        }
    }

    /// The refusal as the program returns it, logging the figures of a
    /// reached cap first.
    pub fn into_error(self) -> Error {
        if let Idle::RehypothecationCapReached {
            deployed,
            cap,
            strategy_room,
        } = self
        {
            msg!(
                "deployed {} of a cap of {} (strategy room {})",
                deployed,
                cap,
                strategy_room
            );
        }
        error!(self.error_code())
    }
}

/// The rebalance decision for a reserve with `liquid` tokens in its vault,
/// `deposits` of depositors' claims, `deployed` at book value, when the
/// strategy could take at most `strategy_room` more and return at most
/// `recallable`, all base units:
///
/// * deployed above `rehypothecation_cap * deposits` (rounded down), or liquid
///   share below `buffer_min`: recall the excess over the cap, and up to
///   `buffer_target` when below the band, as far as recallable;
/// * liquid share above `buffer_max`: deploy down to `buffer_target`, within
///   `deployed + x <= rehypothecation_cap * deposits` and the strategy's room;
/// * otherwise idle.
///
/// Targets round up (more stays liquid), the cap rounds down.
pub fn choose(
    cfg: &LiquidityConfig,
    liquid: u64,
    deposits: u64,
    deployed: u64,
    strategy_room: u64,
    recallable: u64,
) -> core::result::Result<Move, Idle> {
    choose_split(
        cfg,
        liquid,
        deposits,
        deposits,
        deployed,
        strategy_room,
        recallable,
    )
}

/// [`choose`] with the band's base `runnable` (the claims that can run
/// now: term deposits locked past now left out) apart from the cap's base
/// `deposits` (all the claims: locked deposits may be deployed like any).
pub fn choose_split(
    cfg: &LiquidityConfig,
    liquid: u64,
    runnable: u64,
    deposits: u64,
    deployed: u64,
    strategy_room: u64,
    recallable: u64,
) -> core::result::Result<Move, Idle> {
    let l = liquid as u128 * BPS as u128;
    let d = runnable as u128;
    let target = bps_of_ceil(runnable, cfg.buffer_target_bps);
    let cap = bps_of_floor(deposits, cfg.rehypothecation_cap_bps);
    // Above the cap (a loss in this reserve, a gain marked in the strategy,
    // a liquidation, or a cap lowered by the admin): recall the excess, and
    // up to the target when below the band too.
    let over_cap = deployed.saturating_sub(cap);
    let below_min = l < d * cfg.buffer_min_bps as u128;
    if over_cap > 0 || below_min {
        let to_target = if below_min {
            target.saturating_sub(liquid)
        } else {
            0
        };
        let x = over_cap.max(to_target).min(recallable);
        if x == 0 {
            return Err(Idle::NothingRecallable);
        }
        Ok(Move::Recall(x))
    } else if l > d * cfg.buffer_max_bps as u128 {
        let excess = liquid.saturating_sub(target);
        let x = excess.min(cap.saturating_sub(deployed)).min(strategy_room);
        if x == 0 {
            return Err(Idle::RehypothecationCapReached {
                deployed,
                cap,
                strategy_room,
            });
        }
        Ok(Move::Deploy(x))
    } else {
        Err(Idle::InsideBufferBand)
    }
}

/// [`choose`] with the refusal as the program's error:
/// [`BallastError::InsideBufferBand`],
/// [`BallastError::RehypothecationCapReached`] (the figures logged),
/// [`BallastError::NothingRecallable`].
pub fn decide(
    cfg: &LiquidityConfig,
    liquid: u64,
    deposits: u64,
    deployed: u64,
    strategy_room: u64,
    recallable: u64,
) -> Result<Move> {
    choose(cfg, liquid, deposits, deployed, strategy_room, recallable).map_err(Idle::into_error)
}

/// What a withdrawal must, and should, recall from the treasury strategy
/// ([`withdrawal_recall`]); base units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithdrawalRecall {
    /// The least it must recall: the vault's shortfall, and what brings the
    /// deployed book value back to `rehypothecation_cap * deposits after`.
    /// A withdrawal that cannot recall this much is refused.
    pub required: u64,
    /// What it recalls when the strategy can return it (`>= required`, at
    /// most `max(required, deployed)`): `required`, or, when the reserve would
    /// otherwise end below `buffer_min`, up to `buffer_target` of the
    /// deposits after (the rule of `rebalance` below the band).
    pub wanted: u64,
}

/// What a withdrawal of `tokens` from a reserve with `liquid` tokens in its
/// vault and `deployed` at book value (marked) must and should recall, when
/// `deposits_after` (depositors' claims after the withdrawal, rounded down)
/// remain; base units. After the withdrawal `deployed <= cap *
/// deposits_after` must hold (so a flash deposit, a `rebalance` sized on it
/// and the withdrawal of the deposit leave no more deployed than the cap
/// allows), and the liquid share must not end below `buffer_min` for want
/// of recalling (it recalls up to `buffer_target` then, as `rebalance`
/// would). The cap rounds down, the band's targets up (more stays liquid).
/// Without anything deployed, only the vault's shortfall is required.
pub fn withdrawal_recall(
    cfg: &LiquidityConfig,
    liquid: u64,
    deposits_after: u64,
    deployed: u64,
    tokens: u64,
) -> WithdrawalRecall {
    withdrawal_recall_split(
        cfg,
        liquid,
        deposits_after,
        deposits_after,
        deployed,
        tokens,
    )
}

/// [`withdrawal_recall`] with the band's base `runnable_after` (the claims
/// after the withdrawal that can run now: term deposits locked past now
/// left out) apart from the cap's base `deposits_after` (all the claims).
pub fn withdrawal_recall_split(
    cfg: &LiquidityConfig,
    liquid: u64,
    runnable_after: u64,
    deposits_after: u64,
    deployed: u64,
    tokens: u64,
) -> WithdrawalRecall {
    let shortfall = tokens.saturating_sub(liquid);
    let cap = bps_of_floor(deposits_after, cfg.rehypothecation_cap_bps);
    let required = shortfall.max(deployed.saturating_sub(cap));
    // Liquid after recalling `required` (>= the shortfall, so no underflow).
    let liquid_after = (liquid as u128 + required as u128).saturating_sub(tokens as u128);
    let below_min =
        liquid_after * (BPS as u128) < runnable_after as u128 * cfg.buffer_min_bps as u128;
    let wanted = if below_min {
        let target = bps_of_ceil(runnable_after, cfg.buffer_target_bps) as u128;
        let to_target = (tokens as u128 + target).saturating_sub(liquid as u128);
        u64::try_from(to_target).unwrap_or(u64::MAX).min(deployed)
    } else {
        0
    };
    WithdrawalRecall {
        required,
        wanted: wanted.max(required),
    }
}

/// The outcome of [`plan_rebalance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RebalancePlan {
    /// The move, or why there is none.
    pub step: core::result::Result<Move, Idle>,
    /// Change of the deployed shares' book value by marking them at `now`,
    /// base units (the `mark_to_market` of the `Rebalanced` event).
    pub mark_to_market: i64,
}

/// What `rebalance` decides at unix time `now` for `reserve` against its
/// treasury `strategy`: accrues both to `now` (written to them), marks the
/// deployed shares at the strategy's exchange rate ([`mark`]), then
/// [`choose`]s with the deposits (the reserve's claims, rounded down), the
/// strategy's room under its deposit cap (rounded down) and what it can
/// return ([`recallable`]). The caller checks that `strategy` is the
/// reserve's configured one. Errors: [`BallastError::MathOverflow`] only;
/// a refusal is an [`Idle`] in [`RebalancePlan::step`].
pub fn plan_rebalance(
    reserve: &mut impl ReserveBook,
    strategy: &mut impl ReserveBook,
    now: i64,
) -> Result<RebalancePlan> {
    reserve.accrue(now)?;
    let mark_to_market = mark(reserve, strategy, now)?;
    // The band is a share of the deposits that can run now (term deposits
    // locked past now cannot be withdrawn), the cap a share of them all.
    let claims = reserve.claims()?;
    let deposits = claims.to_floor_u64()?;
    let runnable = reserve.runnable(claims, now)?.to_floor_u64()?;
    let strategy_room = fx_u64(strategy.deposit_cap())
        .sub_(strategy.claims()?)?
        .max(FX_ZERO)
        .to_floor_u64()?;
    let step = choose_split(
        reserve.liquidity(),
        reserve.liquid(),
        runnable,
        deposits,
        reserve.treasury().deployed_amount,
        strategy_room,
        recallable(reserve, strategy, now),
    );
    Ok(RebalancePlan {
        step,
        mark_to_market,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(min: u16, target: u16, max: u16, cap: u16) -> LiquidityConfig {
        LiquidityConfig {
            buffer_min_bps: min,
            buffer_target_bps: target,
            buffer_max_bps: max,
            rehypothecation_cap_bps: cap,
            ..Default::default()
        }
    }

    fn code(e: anchor_lang::error::Error) -> u32 {
        match e {
            anchor_lang::error::Error::AnchorError(a) => a.error_code_number,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deploys_down_to_target_within_the_cap() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        // 50% liquid of 1,000: deploy 300 to reach the 20% target.
        assert_eq!(
            decide(&c, 500, 1_000, 0, u64::MAX, 0).unwrap(),
            Move::Deploy(300)
        );
        // Cap 50% with 400 already out: only 100 more.
        assert_eq!(
            decide(&c, 500, 1_000, 400, u64::MAX, 0).unwrap(),
            Move::Deploy(100)
        );
        // The strategy's deposit cap binds.
        assert_eq!(decide(&c, 500, 1_000, 0, 7, 0).unwrap(), Move::Deploy(7));
        let e = decide(&c, 500, 1_000, 500, u64::MAX, 0).unwrap_err();
        assert_eq!(
            code(e),
            6000 + BallastError::RehypothecationCapReached as u32
        );
    }

    #[test]
    fn recalls_up_to_target_as_far_as_recallable() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        assert_eq!(
            decide(&c, 50, 1_000, 600, 0, 600).unwrap(),
            Move::Recall(150)
        );
        assert_eq!(decide(&c, 50, 1_000, 600, 0, 40).unwrap(), Move::Recall(40));
        let e = decide(&c, 50, 1_000, 600, 0, 0).unwrap_err();
        assert_eq!(code(e), 6000 + BallastError::NothingRecallable as u32);
    }

    #[test]
    fn inside_the_band_and_on_its_edges_is_refused() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        for liquid in [100, 200, 300] {
            let e = decide(&c, liquid, 1_000, 0, u64::MAX, u64::MAX).unwrap_err();
            assert_eq!(
                code(e),
                6000 + BallastError::InsideBufferBand as u32,
                "{liquid}"
            );
        }
        assert!(decide(&c, 301, 1_000, 0, u64::MAX, 0).is_ok());
        assert!(decide(&c, 99, 1_000, 10, 0, 10).is_ok());
    }

    /// A reserve's books as plain numbers (claims = liquid + deployed).
    #[derive(Default)]
    struct Book {
        liquid: u64,
        shares: u64,
        cap: u64,
        liquidity: LiquidityConfig,
        treasury: TreasuryState,
        accrued_to: i64,
        /// Shares locked in term deposits until `unlock` (unix seconds).
        locked: u64,
        unlock: i64,
    }

    impl ReserveBook for Book {
        fn liquid(&self) -> u64 {
            self.liquid
        }
        fn deposit_shares(&self) -> u64 {
            self.shares
        }
        fn claims(&self) -> Result<Fx> {
            Ok(fx_u64(self.liquid + self.treasury.deployed_amount))
        }
        fn debt_at(&self, _: i64) -> Result<Fx> {
            Ok(FX_ZERO)
        }
        fn protocol_fees(&self) -> Fx {
            FX_ZERO
        }
        fn deposit_cap(&self) -> u64 {
            self.cap
        }
        fn liquidity(&self) -> &LiquidityConfig {
            &self.liquidity
        }
        fn outflow_remaining(&self, _: i64) -> u64 {
            u64::MAX
        }
        fn locked_shares_until(&self, at: i64) -> u64 {
            if at < self.unlock {
                self.locked
            } else {
                0
            }
        }
        fn treasury(&self) -> &TreasuryState {
            &self.treasury
        }
        fn treasury_mut(&mut self) -> &mut TreasuryState {
            &mut self.treasury
        }
        fn accrue(&mut self, now: i64) -> Result<()> {
            self.accrued_to = now;
            Ok(())
        }
    }

    #[test]
    fn the_plan_accrues_marks_and_decides() {
        // 400 liquid + 100 deployed (200 strategy shares at a rate now 0.6):
        // marked at 120, deposits 520, target 20% = 104: 296 in excess,
        // deployed as far as the 50% cap allows (260 - 120 = 140) within the
        // strategy's room (1,100 - 600).
        let mut reserve = Book {
            liquid: 400,
            liquidity: band(1_000, 2_000, 3_000, 5_000),
            treasury: TreasuryState {
                deployed_shares: 200,
                deployed_amount: 100,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut strategy = Book {
            liquid: 600,
            shares: 1_000,
            cap: 1_100,
            ..Default::default()
        };
        let plan = plan_rebalance(&mut reserve, &mut strategy, 77).unwrap();
        assert_eq!((reserve.accrued_to, strategy.accrued_to), (77, 77));
        assert_eq!(reserve.treasury.deployed_amount, 120);
        assert_eq!(reserve.treasury.last_mark_ts, 77);
        assert_eq!(plan.mark_to_market, 20);
        assert_eq!(plan.step, Ok(Move::Deploy(140)));
        // The strategy's room binds next; then nothing fits.
        strategy.cap = 650;
        let plan = plan_rebalance(&mut reserve, &mut strategy, 78).unwrap();
        assert_eq!(plan.step, Ok(Move::Deploy(50)));
        strategy.cap = 0;
        let plan = plan_rebalance(&mut reserve, &mut strategy, 79).unwrap();
        assert_eq!(
            plan.step,
            Err(Idle::RehypothecationCapReached {
                deployed: 120,
                cap: 260,
                strategy_room: 0
            })
        );
        assert_eq!(
            plan.step.unwrap_err().error_code() as u32,
            BallastError::RehypothecationCapReached as u32
        );
    }

    /// Term deposits locked past now are not in the band's base (they are
    /// in the cap's): 1,000 of claims of which 600 locked leave 400 that can
    /// run; 60 liquid is 15% of them, inside the 10-30% band, where it is
    /// 6% of all the claims, below it (a recall to the whole's 20% target).
    /// Once the locks mature the whole counts again.
    #[test]
    fn the_band_leaves_locked_deposits_out() {
        let strategy_with = |liquid: u64| Book {
            liquid,
            shares: 10_000,
            cap: u64::MAX,
            ..Default::default()
        };
        let mut reserve = Book {
            liquid: 60,
            shares: 1_000,
            liquidity: band(1_000, 2_000, 3_000, 10_000),
            treasury: TreasuryState {
                deployed_shares: 940,
                deployed_amount: 940,
                ..Default::default()
            },
            locked: 600,
            unlock: 100,
            ..Default::default()
        };
        let mut strategy = strategy_with(10_000);
        let plan = plan_rebalance(&mut reserve, &mut strategy, 50).unwrap();
        assert_eq!(plan.step, Err(Idle::InsideBufferBand));
        // matured: 60 of 1,000 is below the band, recall to the 20% target
        let mut strategy = strategy_with(10_000);
        let plan = plan_rebalance(&mut reserve, &mut strategy, 100).unwrap();
        assert_eq!(plan.step, Ok(Move::Recall(140)));
        // without locks at all, the same
        reserve.locked = 0;
        let plan = plan_rebalance(&mut reserve, &mut strategy, 50).unwrap();
        assert_eq!(plan.step, Ok(Move::Recall(140)));
    }

    /// A withdrawal's recall: the band's base leaves locked deposits out,
    /// the cap's keeps them. 1,000 of claims after the withdrawal, 600 of
    /// them locked; 500 deployed, 100 liquid, 40 withdrawn: 60 liquid left
    /// is 15% of the 400 that can run (inside the band: nothing wanted), 6%
    /// of the whole (below: recall to its 20% target). The cap (50% of the
    /// whole, 500) is met either way.
    #[test]
    fn a_withdrawal_leaves_locked_deposits_out_of_the_band() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        let split = withdrawal_recall_split(&c, 100, 400, 1_000, 500, 40);
        assert_eq!(split, WithdrawalRecall::default());
        let whole = withdrawal_recall(&c, 100, 1_000, 500, 40);
        assert_eq!((whole.required, whole.wanted), (0, 140));
        // the cap counts the locked claims: on the runnable 400 alone 300
        // would be required
        assert_eq!(withdrawal_recall(&c, 100, 400, 500, 40).required, 300);
    }

    #[test]
    fn above_the_cap_recalls_the_excess() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        // 600 deployed against a cap of 500, 40% liquid (above the band):
        // recall the 100 over the cap, not a deploy.
        assert_eq!(
            decide(&c, 400, 1_000, 600, u64::MAX, 600).unwrap(),
            Move::Recall(100)
        );
        // Over the cap and below the band: the larger of the two.
        assert_eq!(
            decide(&c, 50, 1_000, 600, 0, 600).unwrap(),
            Move::Recall(150)
        );
        assert_eq!(
            decide(&c, 190, 1_000, 800, 0, 800).unwrap(),
            Move::Recall(300)
        );
        let e = decide(&c, 400, 1_000, 600, u64::MAX, 0).unwrap_err();
        assert_eq!(code(e), 6000 + BallastError::NothingRecallable as u32);
    }

    #[test]
    fn a_withdrawal_recalls_to_the_cap_and_the_band() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        // The flash deposit: 10,000 liquid + 10,000 deployed after a
        // rebalance sized on 20,000 of deposits; withdrawing the 10,000
        // deposited must bring 5,000 back (the cap on 10,000).
        let w = withdrawal_recall(&c, 10_000, 10_000, 10_000, 10_000);
        assert_eq!(w.required, 5_000);
        assert_eq!(w.wanted, 5_000);
        // With borrowers: 50,000 liquid + 55,000 deployed, 5,000 lent, the
        // flash deposit of 100,000 withdrawn: the cap needs 50,000 (zero
        // liquid), the band wants the 20% target of 10,000 = 2,000 liquid.
        let w = withdrawal_recall(&c, 50_000, 10_000, 55_000, 100_000);
        assert_eq!(w.required, 50_000);
        assert_eq!(w.wanted, 52_000);
        // Within the cap and the band: nothing.
        let w = withdrawal_recall(&c, 5_000, 9_000, 4_000, 1_000);
        assert_eq!(w, WithdrawalRecall::default());
        // Below the band only: nothing required, the target wanted, at most
        // what is deployed.
        let w = withdrawal_recall(&c, 2_500, 10_000, 3_000, 2_500);
        assert_eq!(
            w,
            WithdrawalRecall {
                required: 0,
                wanted: 2_000
            }
        );
        let w = withdrawal_recall(&c, 2_500, 10_000, 700, 2_500);
        assert_eq!(
            w,
            WithdrawalRecall {
                required: 0,
                wanted: 700
            }
        );
        // Nothing deployed: only the vault's shortfall.
        let w = withdrawal_recall(&c, 100, 0, 0, 300);
        assert_eq!(
            w,
            WithdrawalRecall {
                required: 200,
                wanted: 200
            }
        );
        // Extremes do not overflow.
        let w = withdrawal_recall(&c, u64::MAX, u64::MAX, u64::MAX, u64::MAX);
        assert_eq!(w.required, u64::MAX - bps_of_floor(u64::MAX, 5_000));
    }

    #[test]
    fn approvals_fill_revoke_and_refuse_when_full() {
        let mut a = StrategyApprovals::default();
        assert!(!a.contains(&Pubkey::default()));
        let keys: Vec<Pubkey> = (1..=5u8).map(|i| Pubkey::new_from_array([i; 32])).collect();
        for k in &keys[..4] {
            a.approve(*k).unwrap();
        }
        a.approve(keys[0]).unwrap();
        assert!(keys[..4].iter().all(|k| a.contains(k)));
        let e = a.approve(keys[4]).unwrap_err();
        assert_eq!(code(e), 6000 + BallastError::StrategyApprovalsFull as u32);
        a.revoke(&keys[1]).unwrap();
        assert!(!a.contains(&keys[1]));
        let e = a.revoke(&keys[1]).unwrap_err();
        assert_eq!(code(e), 6000 + BallastError::StrategyNotApproved as u32);
        a.approve(keys[4]).unwrap();
        assert_eq!(a.users[1], keys[4]);
    }

    #[test]
    fn targets_round_toward_liquidity() {
        let c = band(1_000, 2_000, 3_000, 10_000);
        // target = ceil(0.2 * 1,001) = 201: deploy 400 - 201.
        assert_eq!(
            decide(&c, 400, 1_001, 0, u64::MAX, 0).unwrap(),
            Move::Deploy(199)
        );
        assert_eq!(bps_of_ceil(1_001, 2_000), 201);
        assert_eq!(bps_of_floor(1_001, 2_000), 200);
    }
}
