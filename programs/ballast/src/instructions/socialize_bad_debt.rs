//! `socialize_bad_debt`: permissionless. When an obligation owes debt and
//! holds no collateral of value, its debt in one reserve is covered from
//! that reserve's insurance vault first and the rest is written down against
//! the reserve's depositors (a lower share exchange rate). Nothing is
//! forgiven silently: the event gives each amount.
//!
//! Dust does not block it (issue 12): a collateral position worth at most
//! the market's dust value (`LiquidationConfig::dust_debt_micro_usd`) at
//! its reserve's usable oracle, or, when that oracle is stale or too wide
//! (but otherwise the reserve's valid feed), at its last price, is
//! forfeited in the same instruction: its deposit shares are burned and
//! the tokens they redeem (rounded down) join the reserve's protocol fees,
//! so the other depositors' exchange rate does not move (up by rounding at
//! most) and the forfeited value goes to the protocol, which bears the
//! write-off's cost through its insurance; [`DustForfeited`] says how much.
//! Each such position's reserve and oracle are passed as remaining
//! accounts, in slot order, the reserve writable. A larger position, or one
//! whose oracle is not the reserve's valid feed, still refuses
//! ([`BallastError::ObligationHasCollateral`]).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use bytemuck::Zeroable;

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::debt_for_shares;
use crate::errors::BallastError;
use crate::events::{BadDebtSocialized, DustForfeited};
use crate::state::*;

/// Accounts of `socialize_bad_debt`. Remaining accounts: for each
/// collateral position of the obligation (dust, see the module doc), in
/// slot order, its reserve (writable) and that reserve's oracle.
#[derive(Accounts)]
pub struct SocializeBadDebt<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The obligation: debt left, no collateral.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The reserve the debt is owed to.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = insurance_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The reserve's mint.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The reserve's liquidity vault.
    #[account(mut)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Forfeits the obligation's dust collateral (module doc; emits
/// [`DustForfeited`] per position), then covers and writes off its debt in
/// `reserve`. Emits [`BadDebtSocialized`]. Errors:
/// [`BallastError::ObligationHasCollateral`] (a collateral position above
/// the dust value, or whose oracle is not the reserve's valid feed),
/// [`BallastError::HealthAccountsMismatch`] (remaining accounts not the
/// collateral positions' reserves and oracles in slot order),
/// [`BallastError::HealthReserveInvalid`] (not a reserve of this market),
/// [`BallastError::WriteOffAccountsRequired`] (a dust reserve not
/// writable), [`BallastError::NothingToRepay`],
/// [`BallastError::TermDebtOutstanding`] (convert it first).
pub fn handler<'info>(ctx: Context<'info, SocializeBadDebt<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let insurance_balance = ctx.accounts.insurance_vault.amount;
    let dust = ctx.accounts.market.load()?.liquidation.dust_debt_micro_usd;
    forfeit_dust(
        &ctx.accounts.obligation,
        &ctx.accounts.market.key(),
        ctx.remaining_accounts,
        now,
        dust,
    )?;
    let (debt, covered, written_off) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let mut o = ctx.accounts.obligation.load_mut()?;
        require!(
            !o.positions
                .iter()
                .any(|p| p.kind() == PositionKind::Collateral),
            BallastError::ObligationHasCollateral
        );
        // Term debt is written off as floating debt, after
        // `convert_term_debt` (an obligation without collateral is below
        // Maintenance, so anyone may convert it).
        require!(!o.has_term_debt(), BallastError::TermDebtOutstanding);
        write_off(&mut o, &mut reserve, &reserve_key, insurance_balance)?
            .ok_or(error!(BallastError::NothingToRepay))?
    };
    if covered > 0 {
        let a = &ctx.accounts;
        let bump = a.market.load()?.authority_bump;
        crate::runtime::token::transfer_out(
            &a.token_program,
            &a.insurance_vault,
            &a.mint,
            &a.liquidity_vault,
            &a.market_authority.to_account_info(),
            &a.market.key(),
            bump,
            covered,
        )?;
    }
    emit!(BadDebtSocialized {
        reserve: reserve_key,
        obligation: ctx.accounts.obligation.key(),
        debt,
        covered_by_insurance: covered,
        written_off,
    });
    Ok(())
}

/// Books the write-off of `o`'s debt in `reserve` (at key `reserve_key`,
/// interest accrued): the debt (base units, rounded up) is covered from
/// the insurance vault up to `insurance_balance` (the caller transfers
/// `covered` from it into the liquidity vault) and the rest is written off
/// against the depositors (the debt shares vanish, so the supply falls).
/// Returns `(debt, covered, written_off)`, or `None` when `o` owes nothing
/// there. Shared with `liquidate` and `liquidate_for_shares`, which write
/// off in the instruction that takes an obligation's last collateral.
pub(crate) fn write_off(
    o: &mut Obligation,
    reserve: &mut Reserve,
    reserve_key: &Pubkey,
    insurance_balance: u64,
) -> Result<Option<(u64, u64, u64)>> {
    let Some(i) = o.find(reserve_key, PositionKind::Debt) else {
        return Ok(None);
    };
    let shares = o.positions[i].borrow_shares.get();
    let debt = debt_for_shares(shares, reserve.borrow_index.get())?.to_ceil_u64()?;
    let covered = debt.min(insurance_balance);
    o.positions[i] = Position::zeroed();
    let total = reserve.borrow_shares.get().sub_(shares)?.max(FX_ZERO);
    reserve.borrow_shares.set(total);
    reserve.available_amount = reserve.available_amount.safe_add(covered)?;
    Ok(Some((debt, covered, debt.safe_sub(covered)?)))
}

/// Forfeits every collateral position of `obligation` when each is dust
/// (see the module doc): all are checked first, then each position's
/// deposit shares are burned and the tokens they redeem (rounded down)
/// added to its reserve's `protocol_fees`, with a [`DustForfeited`].
/// `remaining`: (reserve, oracle) per collateral position in slot order;
/// nothing to do (and no accounts) without collateral. Errors: as
/// [`handler`]'s.
fn forfeit_dust<'info>(
    obligation: &AccountLoader<'info, Obligation>,
    market: &Pubkey,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    dust: u64,
) -> Result<()> {
    let colls: Vec<(usize, Pubkey, u64)> = {
        let o = obligation.load()?;
        o.positions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind() == PositionKind::Collateral)
            .map(|(i, p)| (i, p.reserve, p.deposit_shares))
            .collect()
    };
    if colls.is_empty() {
        return Ok(());
    }
    if remaining.is_empty() {
        msg!("collateral held: pass its reserves and oracles if it is dust");
        return err!(BallastError::ObligationHasCollateral);
    }
    require!(
        remaining.len() == 2 * colls.len(),
        BallastError::HealthAccountsMismatch
    );
    let mut found = Vec::with_capacity(colls.len());
    for (j, (_, key, shares)) in colls.iter().enumerate() {
        let (info, oracle) = (&remaining[2 * j], &remaining[2 * j + 1]);
        require_keys_eq!(*info.key, *key, BallastError::HealthAccountsMismatch);
        let loader = AccountLoader::<Reserve>::try_from(info)
            .map_err(|_| error!(BallastError::HealthReserveInvalid))?;
        let r = loader.load()?;
        require_keys_eq!(r.market, *market, BallastError::HealthReserveInvalid);
        let (value, tag) = dust_value(&r, oracle, *shares, now)?
            .ok_or(error!(BallastError::ObligationHasCollateral))?;
        if value > dust {
            msg!("collateral in {} worth {} micro-USD > dust", key, value);
            return err!(BallastError::ObligationHasCollateral);
        }
        require!(info.is_writable, BallastError::WriteOffAccountsRequired);
        found.push((value, tag));
    }
    for ((i, key, shares), (info, (value, tag))) in
        colls.iter().zip(remaining.iter().step_by(2).zip(found))
    {
        let loader = AccountLoader::<Reserve>::try_from(info)?;
        let tokens = {
            let mut r = loader.load_mut()?;
            r.accrue_interest(now)?;
            let tokens = crate::engine::shares::tokens_for_shares_floor(
                *shares,
                r.supply()?,
                r.deposit_shares,
            )?;
            r.deposit_shares = r.deposit_shares.safe_sub(*shares)?;
            let fees = r.protocol_fees.get().add_(tokens)?;
            r.protocol_fees.set(fees);
            tokens.to_floor_u64()?
        };
        obligation.load_mut()?.positions[*i] = Position::zeroed();
        emit!(DustForfeited {
            obligation: obligation.key(),
            reserve: *key,
            shares: *shares,
            tokens_to_protocol_fees: tokens,
            value_micro_usd: value,
            oracle_unusable: tag,
        });
    }
    Ok(())
}

/// The value (micro-USD, unweighted, rounded up) of `shares` deposit
/// shares of `reserve` at the price of `oracle`, and 0 when that price
/// passed every check or [`UNPRICED_STALE`] / [`UNPRICED_WIDE`] when it
/// was used past its age or confidence limit (every other check passed:
/// the reserve's configured feed, fully verified, positive). `None` when
/// the oracle is not usable even so.
///
/// [`UNPRICED_STALE`]: crate::runtime::health_accounts::UNPRICED_STALE
/// [`UNPRICED_WIDE`]: crate::runtime::health_accounts::UNPRICED_WIDE
fn dust_value(
    reserve: &Reserve,
    oracle: &AccountInfo,
    shares: u64,
    now: i64,
) -> Result<Option<(u64, u8)>> {
    use crate::engine::health::UnitPrice;
    use crate::engine::oracle::{validate_price, OracleLimits};
    use crate::runtime::health_accounts::{UNPRICED_STALE, UNPRICED_WIDE};
    use crate::runtime::oracle_account::{limits, read_price_fields};
    if *oracle.key != reserve.oracle || *oracle.owner != pyth_solana_receiver_sdk::ID {
        return Ok(None);
    }
    let update = {
        let data = oracle.try_borrow_data()?;
        read_price_fields(&data)?
    };
    let strict = limits(reserve);
    let (price, tag) = match validate_price(&update, &strict, now) {
        Ok(p) => (p, 0),
        Err(_) => {
            let relaxed = OracleLimits {
                max_age_secs: u64::MAX,
                max_conf_bps: u16::MAX,
                ..strict
            };
            let Ok(p) = validate_price(&update, &relaxed, now) else {
                return Ok(None);
            };
            let age = now.saturating_sub(update.price_message.publish_time).max(0) as u64;
            let tag = if age > strict.max_age_secs {
                UNPRICED_STALE
            } else {
                UNPRICED_WIDE
            };
            (p, tag)
        }
    };
    let view = reserve.view_for(now, true, false)?;
    let tokens = view.collateral_tokens(shares)?;
    let value = UnitPrice::new(price.price as i128, BPS, view.decimals, price.exponent)?
        .value_ceil(tokens)?;
    Ok(value.to_ceil_u64().ok().map(|v| (v, tag)))
}
