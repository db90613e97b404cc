//! `init_reserve`: the admin lists a mint in the market.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::WrappedFx;
use crate::engine::safe_math::SafeMath;
use crate::errors::BallastError;
use crate::events::ReserveInitialized;
use crate::state::*;

/// Accounts of `init_reserve`.
#[derive(Accounts)]
pub struct InitReserve<'info> {
    /// The market's admin; pays for the accounts.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The market.
    #[account(mut, has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The mint to list (SPL Token or Token-2022; see
    /// [`check_mint_extensions`]).
    #[account(mint::token_program = token_program)]
    pub mint: InterfaceAccount<'info, Mint>,
    /// The new reserve, one per (market, mint).
    #[account(
        init,
        payer = admin,
        space = 8 + Reserve::SIZE,
        seeds = [RESERVE_SEED, market.key().as_ref(), mint.key().as_ref()],
        bump
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The market authority PDA (no data), checked by its seeds; it
    /// owns the vaults.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The liquidity vault.
    #[account(
        init,
        payer = admin,
        seeds = [LIQUIDITY_VAULT_SEED, reserve.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = market_authority,
        token::token_program = token_program
    )]
    pub liquidity_vault: InterfaceAccount<'info, TokenAccount>,
    /// The insurance vault.
    #[account(
        init,
        payer = admin,
        seeds = [INSURANCE_VAULT_SEED, reserve.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = market_authority,
        token::token_program = token_program
    )]
    pub insurance_vault: InterfaceAccount<'info, TokenAccount>,
    /// Checked in the handler: owned by the Pyth receiver program,
    /// decodes as a `PriceUpdateV2` carrying `config.oracle_feed_id`, and is
    /// the push oracle's price-feed account of that feed id.
    /// CHECK: as documented above (the IDL keeps the lines above).
    pub oracle: UncheckedAccount<'info>,
    /// The mint's token program.
    pub token_program: Interface<'info, TokenInterface>,
    /// The system program.
    pub system_program: Program<'info, System>,
}

/// Refuses Token-2022 mints whose extensions would break the reserve's
/// accounting or custody: transfer fees (the vault would receive less than
/// accounted), transfer hooks (arbitrary code on every transfer), permanent
/// delegates (vault could be drained), non-transferable, default-frozen
/// accounts, confidential transfers, interest-bearing / scaled UI amounts and
/// pausable mints. Metadata, group and close-authority extensions are fine.
pub fn check_mint_extensions(mint: &AccountInfo) -> Result<()> {
    use anchor_spl::token_2022::spl_token_2022::extension::{
        BaseStateWithExtensions, ExtensionType, StateWithExtensions,
    };
    use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
    if *mint.owner != anchor_spl::token_2022::ID {
        return Ok(());
    }
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)
        .map_err(|_| error!(BallastError::UnsupportedMintExtension))?;
    let types = state
        .get_extension_types()
        .map_err(|_| error!(BallastError::UnsupportedMintExtension))?;
    for t in types {
        let allowed = matches!(
            t,
            ExtensionType::MetadataPointer
                | ExtensionType::TokenMetadata
                | ExtensionType::GroupPointer
                | ExtensionType::TokenGroup
                | ExtensionType::GroupMemberPointer
                | ExtensionType::TokenGroupMember
        );
        // Not `MintCloseAuthority`: its holder could close the mint at zero
        // supply and re-create it at the same address with other decimals or
        // extensions under a live reserve (issue 13).
        require!(allowed, BallastError::UnsupportedMintExtension);
    }
    Ok(())
}

/// Validates `config`, the mint and the oracle, writes the reserve and emits
/// [`ReserveInitialized`].
///
/// Errors: [`BallastError::NotMarketAdmin`], the config's validation errors,
/// [`BallastError::UnsupportedMintExtension`], [`BallastError::OracleWrongOwner`],
/// [`BallastError::OracleDecodeFailed`], [`BallastError::OracleFeedMismatch`],
/// [`BallastError::OracleNotPushFeed`] (see
/// [`crate::runtime::oracle_account::check_configured_oracle`]).
pub fn handler(ctx: Context<InitReserve>, config: ReserveConfig) -> Result<()> {
    config.validate()?;
    check_mint_extensions(&ctx.accounts.mint.to_account_info())?;
    crate::runtime::oracle_account::check_configured_oracle(
        &ctx.accounts.oracle.to_account_info(),
        &config.oracle_feed_id,
    )?;

    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let mut reserve = a.reserve.load_init()?;
    reserve.market = a.market.key();
    reserve.mint = a.mint.key();
    reserve.token_program = a.token_program.key();
    reserve.liquidity_vault = a.liquidity_vault.key();
    reserve.insurance_vault = a.insurance_vault.key();
    reserve.oracle = a.oracle.key();
    reserve.borrow_index = WrappedFx::new(crate::engine::fx::FX_ONE);
    reserve.last_update_ts = now;
    reserve.mint_decimals = a.mint.decimals;
    reserve.bump = ctx.bumps.reserve;
    reserve.liquidity_vault_bump = ctx.bumps.liquidity_vault;
    reserve.insurance_vault_bump = ctx.bumps.insurance_vault;
    reserve.config = config;
    reserve.risk.sqrt_horizon = config.risk.sqrt_horizon()?.into();
    drop(reserve);
    let mut market = a.market.load_mut()?;
    market.reserve_count = market.reserve_count.safe_add(1)?;
    emit!(ReserveInitialized {
        market: a.market.key(),
        reserve: a.reserve.key(),
        mint: a.mint.key(),
        token_program: a.token_program.key(),
        oracle: a.oracle.key(),
        config,
    });
    Ok(())
}
