//! `deposit_term`: a fixed-rate term deposit. Tokens into the reserve as
//! `deposit` does, ordinary deposit shares minted at the exchange rate but
//! locked in a new [`TermDeposit`] until the maturity of the chosen tenor,
//! with the face owed then fixed now ([`crate::engine::term_deposit`]).
//! Refused while the market is paused (the protocol takes on a fixed-rate
//! liability at a quote).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::shares_for_deposit;
use crate::engine::term::maturity_for;
use crate::engine::term_deposit::{book_add, deposit_rate, face_floor, next_maturity};
use crate::errors::BallastError;
use crate::events::TermDeposited;
use crate::state::*;

/// Accounts of `deposit_term`. Remaining accounts: the reserve's treasury
/// strategy reserve (read-only) while it has shares deployed (as
/// `deposit`).
#[derive(Accounts)]
pub struct DepositTerm<'info> {
    /// The depositor: signs the transfer and pays the accounts' rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve deposited into.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The new term deposit, PDA `[TERM_DEPOSIT_SEED, reserve, owner,
    /// nonce (u64 LE)]` with the client's bump `deposit_bump`, created here
    /// (one `create_program_address`, no bump search: ~1,500 CU an
    /// iteration saved). A non-canonical bump only gives the owner another
    /// address for its own deposit: `withdraw_term` pins a deposit by its
    /// discriminator and `has_one`, not by its address.
    /// CHECK: address checked against the seeds and created in the handler.
    #[account(mut)]
    pub term_deposit: UncheckedAccount<'info>,
    /// The reserve's term-deposit book, PDA `[TERM_DEPOSIT_BOOK_SEED,
    /// reserve]` (canonical bump): created here by the reserve's first term
    /// deposit (bump searched once), afterwards pinned by owner,
    /// discriminator and `reserve` (no PDA derivation: only this program
    /// creates books, and only at that address).
    /// CHECK: created or checked in the handler, as documented above.
    #[account(mut)]
    pub book: UncheckedAccount<'info>,
    /// The reserve's mint.
    pub mint: InterfaceAccount<'info, Mint>,
    /// The reserve's liquidity vault.
    #[account(mut)]
    pub liquidity_vault: InterfaceAccount<'info, TokenAccount>,
    /// Source of the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: InterfaceAccount<'info, TokenAccount>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
    /// The system program.
    pub system_program: Program<'info, System>,
}

/// Deposits `amount` base units for tenor `tenor_index`, locked until its
/// maturity (the first grid point at or after now + tenor): mints deposit
/// shares at the exchange rate (rounded down) into the new term deposit
/// and fixes its face `floor(amount * e^(r_dep * tau))` at the deposit
/// rate `r_dep` ([`crate::engine::term_deposit::deposit_rate`], rounded
/// down); refused when the face is below `min_face`. Emits
/// [`TermDeposited`].
///
/// Errors: [`BallastError::MarketPaused`], [`BallastError::ZeroAmount`],
/// [`BallastError::TermDisabled`], [`BallastError::UnknownTenor`],
/// [`BallastError::DepositCapExceeded`], [`BallastError::DepositTooSmall`],
/// [`BallastError::ReserveInsolvent`], [`BallastError::TermDepositFaceTooLow`],
/// [`BallastError::TermBucketsFull`], [`BallastError::MathOverflow`],
/// [`BallastError::TreasuryAccountsMismatch`].
/// `deposit_bump` is the deposit PDA's bump (clients pass the canonical
/// one, [`Pubkey::find_program_address`]).
pub fn handler(
    ctx: Context<DepositTerm>,
    nonce: u64,
    tenor_index: u8,
    amount: u64,
    min_face: u64,
    deposit_bump: u8,
) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    require!(
        !ctx.accounts.market.load()?.is_paused(),
        BallastError::MarketPaused
    );
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let mut book = load_or_create_book(&ctx, reserve_key)?;
    let (shares, face, maturity, rate) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        crate::runtime::treasury_cpi::mark_readonly(
            &mut reserve,
            ctx.remaining_accounts.first(),
            now,
        )?;
        let cfg = reserve.term_config;
        let tenor = cfg.tenor(tenor_index)?;
        let maturity = maturity_for(now, tenor, cfg.grid_secs)?;
        let mut supply = reserve.supply()?;
        if reserve.deposit_shares == 0 && supply > FX_ZERO {
            // As `deposit`: value nobody holds goes to the protocol.
            let fees = reserve.protocol_fees.get().add_(supply)?;
            reserve.protocol_fees.set(fees);
            supply = FX_ZERO;
        }
        require!(
            supply.add_(fx_u64(amount))? <= fx_u64(reserve.config.deposit_cap),
            BallastError::DepositCapExceeded
        );
        // Utilisation once (`borrow_rate()` would compute it again).
        let u = reserve.utilization()?;
        let rate = deposit_rate(
            reserve.config.rate_curve.borrow_rate(u)?,
            u,
            reserve.config.reserve_factor_bps,
            cfg.base_spread_bps,
        )?;
        let face = face_floor(amount, rate, maturity.safe_sub(now)? as u64)?;
        require!(face >= min_face, BallastError::TermDepositFaceTooLow);
        let shares = shares_for_deposit(amount, supply, reserve.deposit_shares)?;
        require!(shares > 0, BallastError::DepositTooSmall);
        reserve.available_amount = reserve.available_amount.safe_add(amount)?;
        reserve.deposit_shares = reserve.deposit_shares.safe_add(shares)?;
        let limits = reserve.config.liquidity;
        reserve.outflow.record_inflow(&limits, now, amount);

        book_add(&mut book.buckets, maturity, shares, face)?;
        let t = &mut reserve.term_deposits;
        t.locked_shares = t.locked_shares.safe_add(shares)?;
        t.locked_face = t.locked_face.safe_add(face)?;
        t.next_maturity = next_maturity(&book.buckets);
        (shares, face, maturity, rate)
    };
    {
        let info = ctx.accounts.book.to_account_info();
        let mut data = info.try_borrow_mut_data()?;
        book.try_serialize(&mut &mut data[..])?;
    }
    let owner = ctx.accounts.owner.key();
    let deposit = TermDeposit {
        owner,
        reserve: reserve_key,
        shares,
        principal: amount,
        face,
        rate: WrappedFx::new(rate),
        opened_ts: now,
        maturity,
        nonce,
        bump: deposit_bump,
    };
    create_deposit(&ctx, &deposit)?;
    let a = &ctx.accounts;
    crate::runtime::token::transfer_in(
        &a.token_program,
        &a.user_token_account,
        &a.mint,
        &a.liquidity_vault,
        &a.owner,
        amount,
    )?;
    emit!(TermDeposited {
        reserve: reserve_key,
        term_deposit: a.term_deposit.key(),
        owner,
        amount,
        shares,
        face,
        maturity,
        rate_micro: rate
            .mul_floor(fx_u64(1_000_000))?
            .to_floor_u64()?
            .min(u32::MAX as u64) as u32,
    });
    Ok(())
}

/// Creates the deposit account at its PDA (checked against the seeds and
/// `deposit.bump`), owned by this program, rent paid by the owner, and
/// writes `deposit` with its discriminator. Errors:
/// [`BallastError::TermDepositMismatch`] (not the PDA), the system
/// program's (the address already holds lamports: choose another nonce).
fn create_deposit(ctx: &Context<DepositTerm>, deposit: &TermDeposit) -> Result<()> {
    let info = ctx.accounts.term_deposit.to_account_info();
    let nonce = deposit.nonce.to_le_bytes();
    let bump = [deposit.bump];
    let seeds: [&[u8]; 5] = [
        TERM_DEPOSIT_SEED,
        deposit.reserve.as_ref(),
        deposit.owner.as_ref(),
        &nonce,
        &bump,
    ];
    let expected = Pubkey::create_program_address(&seeds, &crate::ID)
        .map_err(|_| error!(BallastError::TermDepositMismatch))?;
    require_keys_eq!(expected, info.key(), BallastError::TermDepositMismatch);
    create_pda(ctx, &info, &seeds, 8 + TermDeposit::SIZE)?;
    let mut data = info.try_borrow_mut_data()?;
    deposit.try_serialize(&mut &mut data[..])
}

/// The reserve's book: read (owner, discriminator, `reserve` checked), or,
/// when its address holds no program account yet, created at the canonical
/// PDA (the only bump search, once per reserve). Errors:
/// [`BallastError::TermDepositMismatch`] (not this reserve's book).
fn load_or_create_book(ctx: &Context<DepositTerm>, reserve: Pubkey) -> Result<TermDepositBook> {
    let info = ctx.accounts.book.to_account_info();
    if info.owner == &crate::ID {
        let data = info.try_borrow_data()?;
        let book = TermDepositBook::try_deserialize(&mut &data[..])
            .map_err(|_| error!(BallastError::TermDepositMismatch))?;
        require_keys_eq!(book.reserve, reserve, BallastError::TermDepositMismatch);
        return Ok(book);
    }
    let (address, bump) =
        Pubkey::find_program_address(&[TERM_DEPOSIT_BOOK_SEED, reserve.as_ref()], &crate::ID);
    require_keys_eq!(address, info.key(), BallastError::TermDepositMismatch);
    let b = [bump];
    let seeds: [&[u8]; 3] = [TERM_DEPOSIT_BOOK_SEED, reserve.as_ref(), &b];
    create_pda(ctx, &info, &seeds, 8 + TermDepositBook::SIZE)?;
    Ok(TermDepositBook {
        reserve,
        bump,
        buckets: [DepositBucket::default(); DEPOSIT_BUCKETS],
    })
}

/// Creates the PDA `info` (signed by `seeds`) with `space` bytes owned by
/// this program, the owner paying the rent; an address someone pre-funded
/// is topped up, allocated and assigned instead (as Anchor's `init`), so
/// sending lamports to it cannot block the creation.
fn create_pda<'info>(
    ctx: &Context<DepositTerm<'info>>,
    info: &AccountInfo<'info>,
    seeds: &[&[u8]],
    space: usize,
) -> Result<()> {
    use anchor_lang::system_program as sp;
    let system = ctx.accounts.system_program.key();
    let payer = ctx.accounts.owner.to_account_info();
    let rent = Rent::get()?.minimum_balance(space);
    let signer = &[seeds];
    if info.lamports() == 0 {
        return sp::create_account(
            CpiContext::new_with_signer(
                system,
                sp::CreateAccount {
                    from: payer,
                    to: info.clone(),
                },
                signer,
            ),
            rent,
            space as u64,
            &crate::ID,
        );
    }
    let top_up = rent.saturating_sub(info.lamports());
    if top_up > 0 {
        sp::transfer(
            CpiContext::new(
                system,
                sp::Transfer {
                    from: payer,
                    to: info.clone(),
                },
            ),
            top_up,
        )?;
    }
    sp::allocate(
        CpiContext::new_with_signer(
            system,
            sp::Allocate {
                account_to_allocate: info.clone(),
            },
            signer,
        ),
        space as u64,
    )?;
    sp::assign(
        CpiContext::new_with_signer(
            system,
            sp::Assign {
                account_to_assign: info.clone(),
            },
            signer,
        ),
        &crate::ID,
    )
}
