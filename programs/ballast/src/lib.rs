//! # Ballast
//!
//! An Anchor program that holds a lending market's balance sheet on-chain:
//!
//! * **Market** ([`state::Market`]): the admin, the risk authority (the only key
//!   allowed to push volatility) and the pause switch.
//! * **Reserves** (one per mint): the assets (liquid vault, deployed treasury,
//!   outstanding loans), the depositors' claims (liabilities) and the protocol's
//!   equity (fees, insurance).
//! * **Obligations**: a borrower's collateral and debt positions, margined
//!   together by a fixed-point engine.
//!
//! Handlers are thin: they load and validate accounts and perform CPIs. The
//! economics live in plain functions over plain state so that they can be unit
//! tested without a runtime, and reused off-chain by the keeper
//! (`features = ["no-entrypoint"]`).
//!
//! ## Module map, by layer (each uses only the layers below it)
//!
//! * [`instructions`]: one file per instruction, its `#[derive(Accounts)]`
//!   struct and `handler`: load accounts, validate, call the engine, write
//!   the result back, transfer, emit.
//! * [`runtime`]: the `AccountInfo`-level helpers the handlers share: health
//!   remaining accounts ([`runtime::health_accounts`]), oracle account
//!   checks ([`runtime::oracle_account`]), token transfers
//!   ([`runtime::token`]), the treasury strategy's CPIs
//!   ([`runtime::treasury_cpi`]).
//! * [`state`]: the zero-copy account layouts (market, reserve, obligation),
//!   pinned by size assertions, and their methods (interest accrual, the
//!   engine's views of a reserve).
//! * [`engine`]: the economics as plain functions: fixed-point and checked
//!   integer math, health, the liquidation plan, the treasury plan, the
//!   volatility push rule, the balance sheet, the configuration bounds. It
//!   imports nothing from the layers above, so the keeper calls exactly the
//!   functions the handlers call.
//! * [`errors`] and [`events`]: every error code (`6000 + position`) and
//!   every event, shared by all layers.
//!
//! See `../shared/SPEC.md` of the project for the design.
#![allow(unexpected_cfgs)]

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

/// Profiling aid: with the `cu-trace` feature on sBPF, logs `$label` and the
/// remaining compute units; otherwise expands to nothing.
#[macro_export]
macro_rules! cu_trace {
    ($label:literal, $value:expr) => {
        #[cfg(all(feature = "cu-trace", target_os = "solana"))]
        {
            let _ = core::hint::black_box(&$value);
        }
        $crate::cu_trace!($label);
    };
    ($label:literal) => {
        #[cfg(all(feature = "cu-trace", target_os = "solana"))]
        {
            anchor_lang::prelude::msg!($label);
            // SAFETY: a syscall without arguments that only logs.
            unsafe { solana_define_syscall::definitions::sol_log_compute_units_() }
        }
    };
}

#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod engine;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod errors;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod events;
/// Example configurations for tests and benches (this crate's tests, and the
/// `test-fixtures` feature for the other crates' dev-dependencies).
#[cfg(any(test, feature = "test-fixtures"))]
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod fixtures;
// (`idl-build` adds undocumented helpers, hence the `cfg_attr`.)
// Anchor's `derive(Accounts)` emits undocumented client structs, so
// `missing_docs` is enforced on the modules we write by hand only.
pub mod instructions;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod runtime;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod state;

use instructions::*;

declare_id!("BaLQqwduFw7AKzwHdSoLaA8dwDfdoGqofzSC6g7kybKb");

/// The Ballast program's instructions. Each forwards to
/// `instructions::<name>::handler`; see those modules for accounts, checks and
/// errors.
#[program]
pub mod ballast {
    use super::*;

    /// Creates a lending market. The `admin` signs and pays; `market` is a
    /// fresh keypair account. Emits [`events::MarketInitialized`].
    ///
    /// Errors: the market account already exists (the system program refuses
    /// the allocation), `admin` did not sign.
    pub fn init_market(ctx: Context<InitMarket>, params: InitMarketParams) -> Result<()> {
        init_market::handler(ctx, params)
    }

    /// Changes the admin, the risk authority or the pause flag (admin only).
    /// Emits [`events::MarketUpdated`].
    pub fn update_market(ctx: Context<UpdateMarket>, params: UpdateMarketParams) -> Result<()> {
        update_market::handler(ctx, params)
    }

    /// Lists a mint: creates its reserve, liquidity vault and insurance vault
    /// (admin only). Emits [`events::ReserveInitialized`].
    pub fn init_reserve(ctx: Context<InitReserve>, config: state::ReserveConfig) -> Result<()> {
        init_reserve::handler(ctx, config)
    }

    /// Replaces a reserve's configuration and oracle (admin only), accruing
    /// first. Emits [`events::ReserveConfigUpdated`].
    pub fn update_reserve_config(
        ctx: Context<UpdateReserveConfig>,
        config: state::ReserveConfig,
    ) -> Result<()> {
        update_reserve_config::handler(ctx, config)
    }

    /// Pushes a reserve's annualised volatility (risk authority only); the
    /// reserve's LTV, liquidation threshold and borrow factor follow within
    /// on-chain bounds. Emits [`events::VolatilityUpdated`].
    pub fn update_volatility(
        ctx: Context<UpdateVolatility>,
        sigma: engine::fx::WrappedFx,
    ) -> Result<()> {
        update_volatility::handler(ctx, sigma)
    }

    /// Liquidates an unhealthy obligation (permissionless): repays up to
    /// `max_repay` of one debt and seizes collateral with a bonus. Emits
    /// [`events::Liquidated`].
    ///
    /// Remaining accounts: the health accounts (below), then the collateral
    /// reserve's treasury strategy reserve while it has shares deployed.
    /// Health accounts: for each distinct reserve of the obligation's open
    /// positions, in slot order of first appearance, the reserve then its
    /// oracle (the reserve's `oracle`, a Pyth `PriceUpdateV2` owned by the
    /// receiver `PYTH_RECEIVER_PROGRAM_ID`, fully verified, of the reserve's
    /// feed id, no older than `oracle_max_age_secs` and with a confidence
    /// within `oracle_max_conf_bps` of the price), then, when the reserve has
    /// a treasury strategy configured, its strategy reserve (deployed shares
    /// are valued at the lower of book and their value at the strategy's
    /// rate); otherwise `HealthAccountsMismatch`, `OracleAccountMismatch`,
    /// `StrategyAccountRequired`, `TreasuryAccountsMismatch` or the oracle's
    /// own error.
    pub fn liquidate<'info>(ctx: Context<'info, Liquidate<'info>>, max_repay: u64) -> Result<()> {
        liquidate::handler(ctx, max_repay)
    }

    /// Covers an obligation's debt in one reserve, once it has no collateral
    /// of value (dust is forfeited), from insurance and then depositors
    /// (permissionless). Emits [`events::BadDebtSocialized`].
    pub fn socialize_bad_debt<'info>(ctx: Context<'info, SocializeBadDebt<'info>>) -> Result<()> {
        socialize_bad_debt::handler(ctx)
    }

    /// Returns (as return data) and emits one reserve's balance sheet; writes
    /// nothing. See [`engine::balance_sheet`] for the layout.
    pub fn balance_sheet<'info>(
        ctx: Context<'info, BalanceSheetView<'info>>,
    ) -> Result<engine::balance_sheet::BalanceSheet> {
        balance_sheet::handler(ctx)
    }

    /// Points a reserve's treasury at another market's reserve of the same
    /// mint and opens the obligation that holds the receipt shares (admin
    /// only). Emits [`events::TreasuryStrategySet`].
    pub fn set_treasury_strategy<'info>(
        ctx: Context<'info, SetTreasuryStrategy<'info>>,
    ) -> Result<()> {
        set_treasury_strategy::handler(ctx)
    }

    /// Moves liquidity between a reserve's vault and its treasury strategy
    /// to bring the liquid share back inside the buffer band
    /// (permissionless). Emits [`events::Rebalanced`].
    pub fn rebalance(ctx: Context<Rebalance>) -> Result<()> {
        rebalance::handler(ctx)
    }

    /// Accrues a reserve's interest to now (permissionless). Emits
    /// [`events::InterestAccrued`]. Remaining accounts: optionally the
    /// reserve's treasury strategy reserve, to mark the deployed shares.
    pub fn accrue_interest(ctx: Context<AccrueInterest>) -> Result<()> {
        accrue_interest::handler(ctx)
    }

    /// Opens obligation number `index` for `owner` (a wallet, or a program's
    /// PDA signing by CPI), paid by `payer`: the PDA `[OBLIGATION_SEED,
    /// market, owner, index.to_le_bytes()]`. Emits
    /// [`events::ObligationInitialized`].
    pub fn init_obligation(ctx: Context<InitObligation>, index: u8) -> Result<()> {
        init_obligation::handler(ctx, index)
    }

    /// Deposits `amount` base units as collateral (the owner signs the
    /// transfer). Needs no oracle; works while the market is paused. Emits
    /// [`events::Deposited`]. Remaining accounts: the reserve's treasury
    /// strategy reserve while it has shares deployed (else
    /// `TreasuryAccountsMismatch`).
    pub fn deposit(ctx: Context<Deposit>, amount: u64) -> Result<()> {
        deposit::handler(ctx, amount)
    }

    /// Withdraws `amount` base units of collateral (`u64::MAX`: all).
    /// Emits [`events::Withdrawn`].
    ///
    /// Remaining accounts: the health accounts when the obligation has debt
    /// (each distinct reserve of its positions before the withdrawal, in slot
    /// order, then that reserve's oracle; see `liquidate`), then, while the
    /// reserve has shares deployed to its treasury strategy, either the
    /// strategy reserve or the six recall accounts (strategy market, its
    /// authority, strategy reserve, its liquidity vault, the treasury
    /// obligation, this program) that recall a shortfall of the vault.
    pub fn withdraw<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
        withdraw::handler(ctx, amount)
    }

    /// Borrows `amount` base units. Emits [`events::Borrowed`].
    ///
    /// Remaining accounts: the health accounts of the obligation after the
    /// borrow opens its debt position (it takes the first free slot): each
    /// distinct reserve of the positions in slot order, then that reserve's
    /// oracle (see `liquidate` for the oracle checks). Refused while the
    /// market is paused.
    pub fn borrow<'info>(ctx: Context<'info, Borrow<'info>>, amount: u64) -> Result<()> {
        borrow::handler(ctx, amount)
    }

    /// Repays up to `amount` base units of any obligation's debt (`u64::MAX`:
    /// all, rounded up). Emits [`events::Repaid`].
    pub fn repay(ctx: Context<Repay>, amount: u64) -> Result<()> {
        repay::handler(ctx, amount)
    }

    /// The admin proposes `pending_admin` as its successor (the default key
    /// cancels). Emits [`events::AdminProposed`].
    pub fn propose_admin(ctx: Context<ProposeAdmin>, pending_admin: Pubkey) -> Result<()> {
        admin_transfer::propose(ctx, pending_admin)
    }

    /// The pending admin signs to become the admin. Emits
    /// [`events::AdminAccepted`].
    pub fn accept_admin(ctx: Context<AcceptAdmin>) -> Result<()> {
        admin_transfer::accept(ctx)
    }

    /// The admin of a strategy reserve's market approves `user_reserve`
    /// (`approved`) as a user of it as treasury strategy, or revokes the
    /// approval: `set_treasury_strategy` and deploys need it. Emits
    /// [`events::StrategyApprovalSet`].
    pub fn set_strategy_approval(
        ctx: Context<SetStrategyApproval>,
        user_reserve: Pubkey,
        approved: bool,
    ) -> Result<()> {
        set_strategy_approval::handler(ctx, user_reserve, approved)
    }

    /// The market's admin recalls `amount` base units (`u64::MAX`:
    /// everything) of a reserve's treasury from its strategy, whatever the
    /// buffer band (refused while the strategy market is paused). Emits
    /// [`events::TreasuryRecalled`].
    pub fn recall_treasury(ctx: Context<RecallTreasury>, amount: u64) -> Result<()> {
        recall_treasury::handler(ctx, amount)
    }

    /// `liquidate`, with the seized collateral taken as deposit shares of
    /// the collateral reserve credited to the liquidator's own obligation
    /// in the market (no cash leaves the collateral vault: the path when it
    /// lacks cash, at high utilisation or with liquidity deployed). The
    /// protocol's cut goes to the reserve's protocol fees. Emits
    /// [`events::LiquidatedForShares`]. Remaining accounts as `liquidate`'s.
    pub fn liquidate_for_shares<'info>(
        ctx: Context<'info, LiquidateForShares<'info>>,
        max_repay: u64,
    ) -> Result<()> {
        liquidate_for_shares::handler(ctx, max_repay)
    }

    /// Withdraws `amount` base units of a reserve's protocol fees
    /// (`u64::MAX`: all that is withdrawable) from its liquidity vault to
    /// `receiver` (admin only): at most the fees rounded down, the vault's
    /// liquid tokens and the outflow limiter's remaining window, so
    /// depositors' claims never move (see [`engine::equity`]). Refused while
    /// the market is paused. Emits [`events::ProtocolFeesWithdrawn`].
    pub fn withdraw_protocol_fees(ctx: Context<WithdrawProtocolFees>, amount: u64) -> Result<()> {
        withdraw_protocol_fees::handler(ctx, amount)
    }

    /// Withdraws `amount` base units (`u64::MAX`: all) from a reserve's
    /// insurance vault to `receiver` (admin only); never from the liquidity
    /// vault. Refused while the market is paused. Emits
    /// [`events::InsuranceWithdrawn`].
    pub fn withdraw_insurance(ctx: Context<WithdrawInsurance>, amount: u64) -> Result<()> {
        withdraw_insurance::handler(ctx, amount)
    }

    /// Returns (as return data) one obligation's health under both
    /// requirements and each collateral's liquidation price with its
    /// reserves' prices shocked by `shocks_bps` (one factor per health
    /// reserve, in the order of its health accounts; 10,000 = unchanged,
    /// bounded to 1..=1,000,000); writes nothing, needs no signer, works
    /// while the market is paused. Remaining accounts: the obligation's
    /// health accounts (see `liquidate`). See [`engine::stress`] for the
    /// figures and the layout.
    pub fn obligation_stress<'info>(
        ctx: Context<'info, ObligationStressView<'info>>,
        shocks_bps: Vec<u32>,
    ) -> Result<engine::stress::ObligationStress> {
        obligation_stress::handler(ctx, shocks_bps)
    }

    /// Sets a reserve's fixed-rate term-loan configuration (market admin
    /// only): tenors, maturity grid, term curve, per-maturity commitment
    /// cap and penalty APR (see [`engine::term`]). Emits
    /// [`events::TermConfigUpdated`].
    pub fn set_term_config(
        ctx: Context<SetTermConfig>,
        config: engine::term::TermConfig,
    ) -> Result<()> {
        set_term_config::handler(ctx, config)
    }

    /// Borrows `face` base units due at the maturity of tenor
    /// `tenor_index` at the reserve's term rate; pays out the zero-coupon
    /// price rounded down, at least `min_proceeds`. Refused while paused.
    /// Remaining accounts: the obligation's health accounts (as `borrow`).
    /// Emits [`events::TermBorrowed`].
    pub fn borrow_term<'info>(
        ctx: Context<'info, BorrowTerm<'info>>,
        tenor_index: u8,
        face: u64,
        min_proceeds: u64,
    ) -> Result<()> {
        borrow_term::handler(ctx, tenor_index, face, min_proceeds)
    }

    /// Repays an obligation's term loan in full (anyone pays, at most
    /// `max_amount`): before maturity at the current term price floored at
    /// book value, after it the face plus the penalty. Works while paused.
    /// Emits [`events::TermRepaid`].
    pub fn repay_term(ctx: Context<RepayTerm>, max_amount: u64) -> Result<()> {
        repay_term::handler(ctx, max_amount)
    }

    /// Converts a matured term loan, or one of an obligation below
    /// Maintenance, into floating debt at face (plus the penalty past
    /// maturity); permissionless. Remaining accounts before maturity: the
    /// obligation's health accounts. Emits [`events::TermDebtConverted`].
    pub fn convert_term_debt<'info>(ctx: Context<'info, ConvertTermDebt<'info>>) -> Result<()> {
        convert_term_debt::handler(ctx)
    }

    /// Returns (as return data) one reserve's maturity ladder: per bucket
    /// (overnight, <= 7 d, <= 30 d, <= 90 d, beyond) the assets that mature
    /// or reprice, the liabilities that can leave, the repricing gap and
    /// the cumulative gap; writes nothing, needs no signer. See
    /// [`engine::term::MaturityLadder`] for the layout.
    pub fn maturity_ladder<'info>(
        ctx: Context<'info, MaturityLadderView<'info>>,
    ) -> Result<engine::term::MaturityLadder> {
        maturity_ladder::handler(ctx)
    }

    /// Deposits `amount` base units at a fixed rate until the maturity of
    /// tenor `tenor_index`: deposit shares locked in a new `TermDeposit`
    /// (PDA with `nonce`), face owed then at least `min_face`. Refused
    /// while paused; `deposit_bump` is the deposit PDA's bump. Emits
    /// [`events::TermDeposited`].
    pub fn deposit_term(
        ctx: Context<DepositTerm>,
        nonce: u64,
        tenor_index: u8,
        amount: u64,
        min_face: u64,
        deposit_bump: u8,
    ) -> Result<()> {
        deposit_term::handler(ctx, nonce, tenor_index, amount, min_face, deposit_bump)
    }

    /// Settles a term deposit at or after its maturity (refused before,
    /// `DepositLocked`): pays the face, the protocol's fees taking or
    /// covering the difference with the locked shares' value. Refused
    /// while paused. Emits [`events::TermDepositWithdrawn`].
    pub fn withdraw_term(ctx: Context<WithdrawTerm>) -> Result<()> {
        withdraw_term::handler(ctx)
    }
}
