//! Error codes of the Ballast program. Each failure mode has its own code and
//! message so that clients and tests can tell them apart. Codes are
//! `6000 + position`; new variants are only ever appended.

use anchor_lang::prelude::*;

/// Every error the Ballast program raises on its own (Anchor's account
/// constraint errors come in addition).
#[error_code]
pub enum BallastError {
    /// The signer is not the market's admin.
    #[msg("signer is not the market admin")]
    NotMarketAdmin,
    /// The market is paused: borrow and withdraw are refused; deposit and
    /// repay still work.
    #[msg("market is paused")]
    MarketPaused,
    /// A math operation overflowed or divided by zero.
    #[msg("math overflow")]
    MathOverflow,
    /// The rate curve is not 2..=11 points from 0 to 10,000 bps utilisation,
    /// strictly increasing in utilisation and non-decreasing in rate.
    #[msg("invalid rate curve")]
    InvalidRateCurve,
    /// A reserve configuration value is out of range.
    #[msg("invalid reserve configuration")]
    InvalidReserveConfig,
    /// The amount is zero.
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    /// Deposit shares exist but the reserve's supply is zero.
    #[msg("reserve is insolvent")]
    ReserveInsolvent,
    /// The deposit would take the reserve's supply above its deposit cap.
    #[msg("deposit cap exceeded")]
    DepositCapExceeded,
    /// The borrow would take the reserve's debt above its borrow cap.
    #[msg("borrow cap exceeded")]
    BorrowCapExceeded,
    /// The borrow would take utilisation above the reserve's maximum.
    #[msg("max utilisation exceeded")]
    MaxUtilizationExceeded,
    /// The reserve's vault does not hold enough liquid tokens.
    #[msg("insufficient liquidity in the reserve")]
    InsufficientLiquidity,
    /// The deposit is too small to mint a single share.
    #[msg("deposit too small to mint a share")]
    DepositTooSmall,
    /// The obligation has no free position slot.
    #[msg("obligation has no free position")]
    ObligationFull,
    /// The obligation holds no position of that kind in that reserve.
    #[msg("position not found in obligation")]
    PositionNotFound,
    /// The withdrawal exceeds the position's collateral.
    #[msg("withdraw exceeds the deposited collateral")]
    InsufficientCollateral,
    /// After the operation the obligation would not meet its Initial
    /// requirement (weighted collateral at LTV < weighted debt).
    #[msg("obligation would fall below its initial margin requirement")]
    InitialRequirementNotMet,
    /// The oracle account is not owned by the Pyth receiver program.
    #[msg("oracle account is not owned by the Pyth receiver program")]
    OracleWrongOwner,
    /// The oracle account is not the one configured for the reserve.
    #[msg("oracle account does not match the reserve")]
    OracleAccountMismatch,
    /// The oracle account does not decode as a `PriceUpdateV2`.
    #[msg("oracle account is not a PriceUpdateV2")]
    OracleDecodeFailed,
    /// The price update's feed id is not the reserve's.
    #[msg("oracle feed id mismatch")]
    OracleFeedMismatch,
    /// The price update is only partially verified.
    #[msg("oracle price is not fully verified")]
    OracleNotFullyVerified,
    /// Spot or EMA price is zero or negative.
    #[msg("oracle price is not positive")]
    OracleInvalidPrice,
    /// The price is older than the reserve's max age.
    #[msg("oracle price is stale")]
    OracleStale,
    /// The price's confidence interval is wider than the reserve allows.
    #[msg("oracle confidence too wide")]
    OracleConfidenceTooWide,
    /// The remaining accounts are not exactly one (reserve, oracle) pair per
    /// reserve of the obligation, in position order.
    #[msg("health accounts do not match the obligation's positions")]
    HealthAccountsMismatch,
    /// A reserve passed for a health check belongs to another market or is not
    /// a reserve.
    #[msg("health account is not a reserve of this market")]
    HealthReserveInvalid,
    /// The mint has a Token-2022 extension that would break the reserve's
    /// accounting (transfer fee, hook, permanent delegate, ...).
    #[msg("mint has an unsupported Token-2022 extension")]
    UnsupportedMintExtension,
    /// The obligation owes nothing in that reserve.
    #[msg("nothing to repay")]
    NothingToRepay,
    /// The account passed is not the reserve's vault, mint or token program.
    #[msg("account does not match the reserve")]
    ReserveAccountMismatch,
    /// The reserve or obligation belongs to another market than the one
    /// passed.
    #[msg("account belongs to another market")]
    WrongMarket,
    /// The signer is not the obligation's owner.
    #[msg("signer is not the obligation owner")]
    NotObligationOwner,
    /// The dynamic-collateral configuration is inconsistent.
    #[msg("invalid risk configuration")]
    InvalidRiskConfig,
    /// The signer is not the market's risk authority.
    #[msg("signer is not the market's risk authority")]
    NotRiskAuthority,
    /// The reserve runs the static policy: it takes no volatility pushes.
    #[msg("reserve does not use dynamic collateral requirements")]
    VolatilityNotEnabled,
    /// The pushed volatility is outside [sigma_min, sigma_max].
    #[msg("volatility outside the admin's bounds")]
    SigmaOutOfBounds,
    /// The push comes sooner than the minimum update interval.
    #[msg("volatility pushed too soon after the last push")]
    VolatilityUpdateTooSoon,
    /// The push would move the liquidation threshold (or borrow factor) by
    /// more than the maximum step.
    #[msg("liquidation threshold step too large")]
    LiquidationThresholdStepTooLarge,
    /// The push would loosen the LTV by more than the maximum step.
    #[msg("LTV loosening step too large")]
    LtvStepTooLarge,
    /// A liquidation parameter is out of range.
    #[msg("invalid liquidation configuration")]
    InvalidLiquidationConfig,
    /// The obligation meets its maintenance requirement.
    #[msg("obligation is healthy")]
    ObligationHealthy,
    /// The obligation still holds collateral: liquidate it first.
    #[msg("obligation still has collateral")]
    ObligationHasCollateral,
    /// A liquidity parameter is out of range.
    #[msg("invalid liquidity configuration")]
    InvalidLiquidityConfig,
    /// The withdrawal or borrow would exceed the reserve's outflow limit for
    /// the current window (the log says how much is left).
    #[msg("outflow limit exceeded for this window")]
    OutflowLimitExceeded,
    /// The treasury strategy is not a reserve of the same mint in another
    /// market, points back at this reserve, or cannot be changed while funds
    /// are deployed.
    #[msg("invalid treasury strategy")]
    InvalidTreasuryStrategy,
    /// The strategy accounts passed are not the reserve's configured ones
    /// (or the reserve has no strategy).
    #[msg("treasury accounts do not match the reserve's strategy")]
    TreasuryAccountsMismatch,
    /// The liquid share is inside the buffer band: nothing to rebalance.
    #[msg("liquid share inside the buffer band")]
    InsideBufferBand,
    /// Deploying would exceed the rehypothecation cap (the log says how much
    /// is deployed and the cap).
    #[msg("rehypothecation cap reached")]
    RehypothecationCapReached,
    /// Below the buffer band with nothing the strategy can return now.
    #[msg("nothing recallable from the treasury strategy")]
    NothingRecallable,
    /// The treasury strategy's market is paused: a deploy there could not be
    /// recalled until it is unpaused.
    #[msg("the treasury strategy's market is paused")]
    StrategyMarketPaused,
    /// `update_market` no longer changes the admin: use `propose_admin`
    /// then `accept_admin`, signed by the new admin.
    #[msg("admin transfer is two-step: propose_admin, then accept_admin")]
    AdminTransferIsTwoStep,
    /// The signer of `accept_admin` is not the market's pending admin (or
    /// no transfer is pending).
    #[msg("signer is not the market's pending admin")]
    NotPendingAdmin,
    /// Borrowing from a reserve the obligation holds as collateral, or
    /// depositing into one it owes (a same-reserve loop, which no
    /// liquidation could resolve): repay or withdraw first.
    #[msg("same-reserve loop: collateral and debt in one reserve")]
    SameReserveLoop,
    /// With shares deployed to the treasury strategy, this withdrawal would
    /// leave the reserve above its rehypothecation cap or below its buffer
    /// band's minimum: pass the six recall accounts so that it recalls
    /// enough (the log gives the figures).
    #[msg("withdrawal must recall from the treasury: pass the recall accounts")]
    RecallAccountsRequired,
    /// The withdrawal would leave more deployed to the treasury strategy
    /// than the rehypothecation cap allows on the deposits left, and the
    /// strategy cannot return enough now (the log gives the figures).
    #[msg("withdrawal would exceed the rehypothecation cap")]
    RehypothecationCapExceeded,
    /// The strategy reserve's market admin has not approved this reserve as
    /// a user (`set_strategy_approval`): being someone's treasury strategy
    /// needs consent; a revoked approval also stops deploys.
    #[msg("the strategy reserve has not approved this reserve as a user")]
    StrategyNotApproved,
    /// The strategy reserve already approves as many users as it can hold
    /// (`MAX_STRATEGY_APPROVALS`): revoke one first.
    #[msg("the strategy reserve's list of approved users is full")]
    StrategyApprovalsFull,
    /// A solvent obligation's liquidation would not strictly improve its
    /// health with this collateral (its liquidation threshold is at least
    /// health x the debt's borrow factor): seize a lower-LT collateral or
    /// repay a higher-BF debt.
    #[msg("liquidating this pair cannot improve the obligation's health")]
    LiquidationCannotImproveHealth,
    /// `liquidate_for_shares` names the obligation liquidated as the
    /// liquidator's own obligation.
    #[msg("the liquidator's obligation is the obligation liquidated")]
    LiquidatorObligationIsLiquidated,
    /// A protocol-fee withdrawal asks for more than the reserve's protocol
    /// fees, rounded down to whole base units (the log says how much).
    #[msg("withdrawal exceeds the reserve's protocol fees")]
    ProtocolFeesExceeded,
    /// An insurance withdrawal asks for more than the insurance vault holds
    /// (the log says how much).
    #[msg("withdrawal exceeds the insurance vault's balance")]
    InsuranceExceeded,
    /// The receiver of an insurance withdrawal is the reserve's liquidity
    /// vault (the tokens would be an unaccounted donation there).
    #[msg("the receiver is one of the reserve's own vaults")]
    ReceiverIsReserveVault,
    /// The oracle is not the Pyth push-oracle price-feed account of the
    /// reserve's feed id: the PDA `[0u16.to_le_bytes(), feed id]` of
    /// `PYTH_PUSH_ORACLE_ID` (shard 0), which only the push oracle can
    /// write, with verified and ever newer prices, and nobody can close.
    #[msg("oracle is not the Pyth push-oracle price feed account of the feed id")]
    OracleNotPushFeed,
    /// A liquidation takes the obligation's last collateral, so its debt in
    /// every reserve is written off in that instruction, but a reserve it
    /// owes is not writable among the health accounts or its write-off
    /// group (insurance vault, liquidity vault, mint, token program) is
    /// missing (the log names the reserve).
    #[msg("write-off of the remaining debt needs that reserve writable and its accounts")]
    WriteOffAccountsRequired,
    /// `obligation_stress`'s shock vector does not have one factor per
    /// health reserve of the obligation (the order of its health accounts).
    #[msg("price shock vector needs one factor per health reserve of the obligation")]
    PriceShockLengthMismatch,
    /// A price shock factor is outside 1..=1,000,000 bps (a price can't be
    /// shocked to zero or by more than 100x).
    #[msg("price shock factor outside 1..=1,000,000 bps")]
    PriceShockOutOfRange,
    /// A health reserve with a treasury strategy is not followed, after its
    /// oracle, by its strategy reserve: the account is missing or another
    /// one stands in its place (health checks mark the deployed shares at
    /// the strategy's current exchange rate).
    #[msg("health reserve's treasury strategy reserve missing or substituted")]
    StrategyAccountRequired,
    /// A term-loan configuration field is out of range (the log names it):
    /// tenors not ascending or beyond [`crate::engine::term::MAX_TENOR_GRID_PERIODS`]
    /// grid periods, grid outside 1 hour..=30 days, spreads or cap out of range.
    #[msg("term-loan configuration out of range")]
    InvalidTermConfig,
    /// The reserve has no term loans configured (every tenor is 0).
    #[msg("term loans are disabled on this reserve")]
    TermDisabled,
    /// The tenor index is not one of the reserve's configured tenors.
    #[msg("unknown tenor")]
    UnknownTenor,
    /// The face committed at the loan's maturity would exceed
    /// `max_commit_bps` of the reserve's supply.
    #[msg("term commitment cap at this maturity exceeded")]
    TermCommitmentCapExceeded,
    /// The proceeds are below the borrower's minimum, or the early-repayment
    /// price above the borrower's maximum.
    #[msg("term loan price outside the caller's slippage bound")]
    TermSlippageExceeded,
    /// Early repayment of a term loan whose maturity has passed: convert it
    /// to floating debt (`convert_term_debt`) and repay that.
    #[msg("term loan maturity has passed")]
    TermMaturityPassed,
    /// `convert_term_debt` on a loan before its maturity whose obligation
    /// still meets the Maintenance requirement.
    #[msg("term loan neither matured nor below the Maintenance requirement")]
    TermNotConvertible,
    /// Every maturity bucket of the reserve holds open loans of other
    /// maturities.
    #[msg("no free maturity bucket in the reserve")]
    TermBucketsFull,
    /// The obligation already holds a term loan in this reserve (one per
    /// reserve per obligation).
    #[msg("obligation already holds a term loan in this reserve")]
    TermPositionExists,
    /// The obligation holds no term loan in this reserve.
    #[msg("no term loan in this reserve")]
    NoTermPosition,
    /// Liquidation or write-off of an obligation that still holds term
    /// debt: send `convert_term_debt` first (same transaction).
    #[msg("obligation holds unconverted term debt: convert it first")]
    TermDebtOutstanding,
    /// `withdraw_term` before the deposit's maturity: its shares are locked.
    #[msg("term deposit is locked until its maturity")]
    DepositLocked,
    /// `deposit_term` quoted a face below the depositor's `min_face`.
    #[msg("term deposit face below the minimum")]
    TermDepositFaceTooLow,
    /// The term deposit or the term-deposit book is not the one of this
    /// reserve and owner.
    #[msg("term deposit account does not match the reserve or owner")]
    TermDepositMismatch,
}

/// One configuration check: `Ok(())` when `ok`; otherwise logs `invalid
/// config field: <field>` and fails with `err`. The configuration errors
/// (`InvalidReserveConfig`, `InvalidRateCurve`, `InvalidLiquidityConfig`,
/// `InvalidRiskConfig`) each cover several fields; the log names the one
/// that failed (a client such as `clients/js` names it before sending). The
/// log is written on the failure path only.
#[inline]
pub fn check_field(ok: bool, field: &str, err: BallastError) -> Result<()> {
    if ok {
        return Ok(());
    }
    msg!("invalid config field: {}", field);
    Err(err.into())
}
