//! Events emitted by the Ballast program, one for every state change.
//! Amounts are token base units; fixed-point values are `WrappedFx`.

use anchor_lang::prelude::*;

use crate::engine::fx::WrappedFx;
use crate::engine::risk::RiskParams;
use crate::state::ReserveConfig;

/// A market was created.
#[event]
pub struct MarketInitialized {
    /// The new market account.
    pub market: Pubkey,
    /// The admin key (reserve configuration, pause).
    pub admin: Pubkey,
    /// The risk authority key (volatility pushes).
    pub risk_authority: Pubkey,
    /// Whether the market starts paused.
    pub paused: bool,
}

/// The market's admin, risk authority or pause flag changed.
#[event]
pub struct MarketUpdated {
    /// The market.
    pub market: Pubkey,
    /// Admin after the update.
    pub admin: Pubkey,
    /// Risk authority after the update.
    pub risk_authority: Pubkey,
    /// Pause flag after the update.
    pub paused: bool,
}

/// A reserve was created.
#[event]
pub struct ReserveInitialized {
    /// The market.
    pub market: Pubkey,
    /// The new reserve.
    pub reserve: Pubkey,
    /// Its mint.
    pub mint: Pubkey,
    /// The mint's token program.
    pub token_program: Pubkey,
    /// The oracle account.
    pub oracle: Pubkey,
    /// The configuration.
    pub config: ReserveConfig,
}

/// A reserve's configuration or oracle changed.
#[event]
pub struct ReserveConfigUpdated {
    /// The reserve.
    pub reserve: Pubkey,
    /// The oracle account after the update.
    pub oracle: Pubkey,
    /// Configuration before.
    pub old: ReserveConfig,
    /// Configuration after.
    pub new: ReserveConfig,
}

/// Interest accrued on a reserve (emitted by `accrue_interest`).
#[event]
pub struct InterestAccrued {
    /// The reserve.
    pub reserve: Pubkey,
    /// New interest, base units.
    pub interest: WrappedFx,
    /// Borrow index after accrual.
    pub borrow_index: WrappedFx,
    /// Protocol fees after accrual, base units.
    pub protocol_fees: WrappedFx,
    /// Unix time of the accrual.
    pub timestamp: i64,
}

/// An obligation was created.
#[event]
pub struct ObligationInitialized {
    /// The market.
    pub market: Pubkey,
    /// The new obligation.
    pub obligation: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// Its index in the PDA seeds.
    pub index: u8,
}

/// Tokens were deposited as collateral.
#[event]
pub struct Deposited {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation credited.
    pub obligation: Pubkey,
    /// Tokens in, base units.
    pub amount: u64,
    /// Deposit shares minted.
    pub shares: u64,
}

/// Collateral was withdrawn.
#[event]
pub struct Withdrawn {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation debited.
    pub obligation: Pubkey,
    /// Tokens out, base units.
    pub amount: u64,
    /// Deposit shares burned.
    pub shares: u64,
}

/// Tokens were borrowed.
#[event]
pub struct Borrowed {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation charged.
    pub obligation: Pubkey,
    /// Tokens out, base units.
    pub amount: u64,
    /// Debt shares added.
    pub debt_shares: WrappedFx,
    /// Borrow index used.
    pub borrow_index: WrappedFx,
}

/// Debt was repaid.
#[event]
pub struct Repaid {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation credited.
    pub obligation: Pubkey,
    /// Who paid.
    pub repayer: Pubkey,
    /// Tokens in, base units.
    pub amount: u64,
    /// Debt shares removed.
    pub debt_shares: WrappedFx,
    /// Debt left in this reserve, base units (rounded up).
    pub remaining_debt: u64,
}

/// The risk authority pushed a volatility (`update_volatility`).
#[event]
pub struct VolatilityUpdated {
    /// The reserve.
    pub reserve: Pubkey,
    /// Volatility before, annualised.
    pub old_sigma: WrappedFx,
    /// Volatility pushed, annualised.
    pub new_sigma: WrappedFx,
    /// LTV, liquidation threshold and borrow factor in force before (bps).
    pub old: RiskParams,
    /// LTV, liquidation threshold and borrow factor after (bps).
    pub new: RiskParams,
    /// Unix time of the push.
    pub timestamp: i64,
}

/// An obligation was liquidated.
#[event]
pub struct Liquidated {
    /// The obligation.
    pub obligation: Pubkey,
    /// The liquidator.
    pub liquidator: Pubkey,
    /// Reserve of the debt repaid.
    pub debt_reserve: Pubkey,
    /// Reserve of the collateral seized.
    pub collateral_reserve: Pubkey,
    /// Debt repaid, debt base units.
    pub repaid: u64,
    /// Collateral seized in all, collateral base units (liquidator + insurance).
    pub seized: u64,
    /// Part of `seized` paid to the insurance vault.
    pub to_insurance: u64,
    /// Bonus applied, bps.
    pub bonus_bps: u16,
    /// Maintenance health (collateral / debt) before.
    pub health_before: WrappedFx,
}

/// Bad debt was covered by insurance and written off against depositors.
#[event]
pub struct BadDebtSocialized {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation (no collateral left).
    pub obligation: Pubkey,
    /// Its debt in this reserve, base units (rounded up).
    pub debt: u64,
    /// Paid from the insurance vault into the liquidity vault.
    pub covered_by_insurance: u64,
    /// Written down against the reserve's depositors.
    pub written_off: u64,
}

/// A reserve's balance sheet was read (`balance_sheet`).
#[event]
pub struct BalanceSheetReported {
    /// The figures returned.
    pub sheet: crate::engine::balance_sheet::BalanceSheet,
}

/// A reserve's treasury strategy was set (`set_treasury_strategy`).
#[event]
pub struct TreasuryStrategySet {
    /// The reserve.
    pub reserve: Pubkey,
    /// The strategy reserve (same mint, another market).
    pub strategy_reserve: Pubkey,
    /// The obligation holding the receipt shares, owned by the market
    /// authority PDA.
    pub strategy_obligation: Pubkey,
}

/// Liquidity moved between a reserve's vault and its treasury strategy
/// (`rebalance`, or a recall inside `withdraw`).
#[event]
pub struct Rebalanced {
    /// The reserve.
    pub reserve: Pubkey,
    /// The strategy reserve.
    pub strategy_reserve: Pubkey,
    /// True: deployed to the strategy; false: recalled from it.
    pub deployed: bool,
    /// Tokens moved, base units.
    pub amount: u64,
    /// Strategy shares minted (deploy) or burned (recall).
    pub shares: u64,
    /// Liquid tokens in the vault afterwards, base units.
    pub liquid_after: u64,
    /// Book value deployed afterwards, base units (marked at the strategy's
    /// exchange rate).
    pub deployed_after: u64,
    /// Change in book value from marking the shares before the move, base
    /// units (interest earned, or a loss written down in the strategy).
    pub mark_to_market: i64,
}

/// The admin proposed a new admin (`propose_admin`); the default key cancels
/// a pending transfer.
#[event]
pub struct AdminProposed {
    /// The market.
    pub market: Pubkey,
    /// The admin who proposed.
    pub admin: Pubkey,
    /// The proposed admin (the default key: cancelled).
    pub pending_admin: Pubkey,
}

/// The pending admin accepted (`accept_admin`) and is now the admin.
#[event]
pub struct AdminAccepted {
    /// The market.
    pub market: Pubkey,
    /// The admin before the transfer.
    pub previous_admin: Pubkey,
    /// The new admin.
    pub admin: Pubkey,
}

/// A strategy reserve's market admin approved, or revoked, a reserve of
/// another market as a user of it as treasury strategy
/// (`set_strategy_approval`).
#[event]
pub struct StrategyApprovalSet {
    /// The strategy reserve.
    pub strategy_reserve: Pubkey,
    /// The user reserve approved or revoked.
    pub user_reserve: Pubkey,
    /// True: approved; false: revoked.
    pub approved: bool,
    /// The admin who signed.
    pub admin: Pubkey,
    /// Reserves using the strategy reserve now (a revoked user stays
    /// counted until it changes strategy).
    pub strategy_users: u32,
}

/// A market's admin recalled its reserve's treasury from the strategy
/// (`recall_treasury`), outside the buffer band's rule.
#[event]
pub struct TreasuryRecalled {
    /// The reserve.
    pub reserve: Pubkey,
    /// The strategy reserve.
    pub strategy_reserve: Pubkey,
    /// The admin who signed.
    pub admin: Pubkey,
    /// Tokens recalled, base units.
    pub amount: u64,
    /// Strategy shares burned.
    pub shares: u64,
    /// Liquid tokens in the vault afterwards, base units.
    pub liquid_after: u64,
    /// Book value still deployed afterwards, base units (0 after a full
    /// recall).
    pub deployed_after: u64,
}

/// An obligation was liquidated for deposit shares (`liquidate_for_shares`):
/// the collateral stays in the reserve, the liquidator's obligation holds it.
#[event]
pub struct LiquidatedForShares {
    /// The obligation.
    pub obligation: Pubkey,
    /// The liquidator.
    pub liquidator: Pubkey,
    /// The liquidator's obligation, credited with the shares.
    pub liquidator_obligation: Pubkey,
    /// Reserve of the debt repaid.
    pub debt_reserve: Pubkey,
    /// Reserve of the collateral seized.
    pub collateral_reserve: Pubkey,
    /// Debt repaid, debt base units.
    pub repaid: u64,
    /// Collateral seized in all, collateral base units (the liquidator's
    /// shares' worth + the protocol's cut).
    pub seized: u64,
    /// Part of `seized` added to the collateral reserve's protocol fees.
    pub to_protocol_fees: u64,
    /// Deposit shares credited to the liquidator's obligation.
    pub shares_credited: u64,
    /// Bonus applied, bps.
    pub bonus_bps: u16,
    /// Maintenance health (collateral / debt) before.
    pub health_before: WrappedFx,
}

/// The admin withdrew protocol fees from a reserve's liquidity vault
/// (`withdraw_protocol_fees`); depositors' claims are unchanged.
#[event]
pub struct ProtocolFeesWithdrawn {
    /// The market.
    pub market: Pubkey,
    /// The reserve.
    pub reserve: Pubkey,
    /// The token account that received the fees.
    pub receiver: Pubkey,
    /// Tokens withdrawn, base units.
    pub amount: u64,
    /// Protocol fees left, base units (fractional).
    pub protocol_fees_after: WrappedFx,
    /// Tokens left in the liquidity vault, base units.
    pub liquid_after: u64,
    /// Depositors' claims after the withdrawal (equal to before), base
    /// units, rounded down.
    pub claims_after: u64,
}

/// The admin withdrew tokens from a reserve's insurance vault
/// (`withdraw_insurance`).
#[event]
pub struct InsuranceWithdrawn {
    /// The market.
    pub market: Pubkey,
    /// The reserve.
    pub reserve: Pubkey,
    /// The token account that received the tokens.
    pub receiver: Pubkey,
    /// Tokens withdrawn, base units.
    pub amount: u64,
    /// Tokens left in the insurance vault, base units.
    pub insurance_after: u64,
}

/// `socialize_bad_debt` forfeited a dust collateral position of the
/// obligation it wrote off: worth at most the market's dust value, at a
/// usable oracle or, behind a stale or too-wide one, at its last price. The
/// shares are burned and the tokens they redeem join the reserve's
/// protocol fees.
#[event]
pub struct DustForfeited {
    /// The obligation.
    pub obligation: Pubkey,
    /// The collateral reserve.
    pub reserve: Pubkey,
    /// Deposit shares burned.
    pub shares: u64,
    /// Tokens they redeemed, added to the reserve's protocol fees, base
    /// units, rounded down.
    pub tokens_to_protocol_fees: u64,
    /// Their value, micro-USD, unweighted, rounded up.
    pub value_micro_usd: u64,
    /// 0: valued at a usable price; 1: at a stale one; 2: at one whose
    /// confidence was too wide.
    pub oracle_unusable: u8,
}

/// `set_term_config` changed a reserve's term-loan configuration.
#[event]
pub struct TermConfigUpdated {
    /// The reserve.
    pub reserve: Pubkey,
    /// The configuration before.
    pub old: crate::engine::term::TermConfig,
    /// The configuration after.
    pub new: crate::engine::term::TermConfig,
}

/// `borrow_term` opened a fixed-rate term loan.
#[event]
pub struct TermBorrowed {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation.
    pub obligation: Pubkey,
    /// The tenor's index in the reserve's term configuration.
    pub tenor_index: u8,
    /// Face owed at maturity, base units.
    pub face: u64,
    /// Proceeds paid out (the zero-coupon price, rounded down), base units.
    pub principal: u64,
    /// Maturity, unix seconds.
    pub maturity: i64,
    /// Term rate, millionths a year (rounded down).
    pub rate_micro: u32,
}

/// `repay_term` closed a term loan.
#[event]
pub struct TermRepaid {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation.
    pub obligation: Pubkey,
    /// Face of the loan, base units.
    pub face: u64,
    /// Amount paid, base units.
    pub amount: u64,
    /// The loan's book value before repayment (face - unearned), base
    /// units, rounded up.
    pub book_value: u64,
    /// 1 when repaid before maturity (at the current term price, floored
    /// at book value).
    pub early: u8,
    /// Paid above book value and credited to the protocol (not smoothed
    /// into the bucket), base units, rounded down.
    pub to_protocol_fees: u64,
}

/// `convert_term_debt` turned a term loan into floating debt shares.
#[event]
pub struct TermDebtConverted {
    /// The reserve.
    pub reserve: Pubkey,
    /// The obligation.
    pub obligation: Pubkey,
    /// Face of the loan, base units.
    pub face: u64,
    /// Floating debt booked: the face plus the penalty accrued past
    /// maturity, base units, rounded up.
    pub debt: u64,
    /// Debt shares added (rounded up).
    pub debt_shares: WrappedFx,
    /// 1 when converted past maturity, 0 when below Maintenance before it.
    pub matured: u8,
    /// Debt booked above the loan's book value (the interest not yet
    /// earned plus the penalty), credited to the protocol's fees so the
    /// depositors' supply does not jump, base units, rounded down.
    pub to_protocol_fees: u64,
}

/// `deposit_term` locked a fixed-rate term deposit.
#[event]
pub struct TermDeposited {
    /// The reserve.
    pub reserve: Pubkey,
    /// The `TermDeposit` account.
    pub term_deposit: Pubkey,
    /// The depositor.
    pub owner: Pubkey,
    /// Tokens deposited, base units.
    pub amount: u64,
    /// Deposit shares minted and locked (rounded down).
    pub shares: u64,
    /// Owed at maturity, base units (rounded down).
    pub face: u64,
    /// Maturity, unix seconds.
    pub maturity: i64,
    /// The fixed rate, millionths a year (rounded down).
    pub rate_micro: u32,
}

/// `withdraw_term` settled a matured term deposit.
#[event]
pub struct TermDepositWithdrawn {
    /// The reserve.
    pub reserve: Pubkey,
    /// The `TermDeposit` account (closed).
    pub term_deposit: Pubkey,
    /// The depositor.
    pub owner: Pubkey,
    /// Locked shares burned.
    pub shares: u64,
    /// Their value at the exchange rate, base units (rounded down).
    pub value: u64,
    /// The face owed, base units.
    pub face: u64,
    /// Paid to the depositor, base units.
    pub paid: u64,
    /// `value - face` credited to the protocol's fees, base units.
    pub to_protocol_fees: u64,
    /// The shortfall taken out of the protocol's fees, base units.
    pub from_protocol_fees: u64,
    /// Owed and not paid (the fees did not cover the shortfall), base units.
    pub unpaid: u64,
}
