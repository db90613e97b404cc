//! Instruction builders, one per Ballast instruction, made from the program
//! crate's own `accounts::` and `instruction::` types (never hand-written
//! discriminators), so that a layout change in the program is a compile
//! error here. Also the PDA derivations and the health remaining-accounts.

use anchor_lang::{InstructionData, ToAccountMetas};
use ballast::instructions::{InitMarketParams, UpdateMarketParams};
use ballast::state::{
    Obligation, ReserveConfig, INSURANCE_VAULT_SEED, LIQUIDITY_VAULT_SEED, MARKET_AUTHORITY_SEED,
    OBLIGATION_SEED, RESERVE_SEED,
};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};

/// Builds an [`Instruction`] for the Ballast program from its Anchor
/// account struct and instruction data, plus `remaining` accounts.
pub fn build(
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    let mut metas = accounts.to_account_metas(None);
    metas.extend(remaining);
    Instruction {
        program_id: ballast::ID,
        accounts: metas,
        data: data.data(),
    }
}

/// The market authority PDA `[MARKET_AUTHORITY_SEED, market]` and its bump.
pub fn market_authority(market: &Address) -> (Address, u8) {
    Address::find_program_address(&[MARKET_AUTHORITY_SEED, market.as_ref()], &ballast::ID)
}

/// The reserve PDA of `mint` in `market`.
pub fn reserve_address(market: &Address, mint: &Address) -> Address {
    Address::find_program_address(
        &[RESERVE_SEED, market.as_ref(), mint.as_ref()],
        &ballast::ID,
    )
    .0
}

/// The liquidity vault PDA of `reserve`.
pub fn liquidity_vault(reserve: &Address) -> Address {
    Address::find_program_address(&[LIQUIDITY_VAULT_SEED, reserve.as_ref()], &ballast::ID).0
}

/// The insurance vault PDA of `reserve`.
pub fn insurance_vault(reserve: &Address) -> Address {
    Address::find_program_address(&[INSURANCE_VAULT_SEED, reserve.as_ref()], &ballast::ID).0
}

/// The obligation PDA `[OBLIGATION_SEED, market, owner, [index]]`.
pub fn obligation_address(market: &Address, owner: &Address, index: u8) -> Address {
    Address::find_program_address(
        &[OBLIGATION_SEED, market.as_ref(), owner.as_ref(), &[index]],
        &ballast::ID,
    )
    .0
}

/// The addresses an instruction on a reserve needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReserveKeys {
    /// The market.
    pub market: Address,
    /// The reserve PDA.
    pub reserve: Address,
    /// The mint.
    pub mint: Address,
    /// The mint's token program.
    pub token_program: Address,
    /// The liquidity vault PDA.
    pub liquidity_vault: Address,
    /// The insurance vault PDA.
    pub insurance_vault: Address,
    /// The Pyth `PriceUpdateV2` account.
    pub oracle: Address,
}

impl ReserveKeys {
    /// Derives every address of the reserve of `mint` in `market`.
    pub fn derive(
        market: &Address,
        mint: &Address,
        token_program: &Address,
        oracle: &Address,
    ) -> Self {
        let reserve = reserve_address(market, mint);
        Self {
            market: *market,
            reserve,
            mint: *mint,
            token_program: *token_program,
            liquidity_vault: liquidity_vault(&reserve),
            insurance_vault: insurance_vault(&reserve),
            oracle: *oracle,
        }
    }
}

/// The health remaining accounts of `obligation` for an instruction that
/// borrows from `borrowing` (if any): for each distinct reserve of its
/// positions in slot order, after opening the debt position the borrow would
/// open, the reserve, its oracle and, when the reserve has a treasury
/// strategy configured, its strategy reserve (the program marks deployed
/// shares at the strategy's exchange rate there), read-only.
/// `keys_of(reserve)` gives (oracle, strategy reserve or the default key for
/// none): [`health_keys`] of the decoded reserve. Otherwise withdraw and
/// borrow take the obligation as it is before the instruction.
pub fn health_accounts(
    obligation: &Obligation,
    borrowing: Option<&Address>,
    keys_of: impl Fn(&Address) -> (Address, Address),
) -> Vec<AccountMeta> {
    let mut after = *obligation;
    if let Some(reserve) = borrowing {
        // A full obligation makes the borrow fail on-chain anyway.
        let _ = after.find_or_open(reserve, ballast::state::PositionKind::Debt);
    }
    let (keys, n) = after.health_reserves();
    let mut metas = Vec::with_capacity(3 * n);
    for r in &keys[..n] {
        let (oracle, strategy) = keys_of(r);
        metas.push(AccountMeta::new_readonly(*r, false));
        metas.push(AccountMeta::new_readonly(oracle, false));
        if strategy != Address::default() {
            metas.push(AccountMeta::new_readonly(strategy, false));
        }
    }
    metas
}

/// The health accounts of a `borrow_term` of `reserve` by `obligation`:
/// [`health_accounts`] of the obligation with the term position the loan
/// opens (the first free slot, even when the obligation already owes
/// floating debt in that reserve: then the reserve may be listed earlier
/// than a floating borrow's accounts would list it).
pub fn term_health_accounts(
    obligation: &Obligation,
    reserve: &Address,
    keys_of: impl Fn(&Address) -> (Address, Address),
) -> Vec<AccountMeta> {
    let mut after = *obligation;
    // A full obligation makes the borrow fail on-chain anyway.
    let _ = after.find_or_open(reserve, ballast::state::PositionKind::TermDebt);
    health_accounts(&after, None, keys_of)
}

/// A reserve's (oracle, treasury strategy reserve) for [`health_accounts`];
/// the strategy is the default key when none is configured.
pub fn health_keys(reserve: &ballast::state::Reserve) -> (Address, Address) {
    (reserve.oracle, reserve.treasury.strategy_reserve)
}

/// The remaining accounts of `liquidate` and `liquidate_for_shares` from
/// `health` ([`health_accounts`] of `obligation`) for a liquidation of its
/// debt in `debt_reserve`: every other reserve the obligation owes made
/// writable among them, then, per such reserve, its write-off group (the
/// program's `WRITE_OFF_GROUP`: insurance vault and liquidity vault
/// writable, mint, token program) from `reserve_of`. When the liquidation
/// takes the obligation's last collateral the program writes its debt off in
/// every reserve in that instruction and fails with
/// `WriteOffAccountsRequired` without these; otherwise they go unused. The
/// collateral reserve's [`strategy_account`] still goes last.
pub fn with_write_off_accounts(
    mut health: Vec<AccountMeta>,
    obligation: &Obligation,
    debt_reserve: &Address,
    reserve_of: impl Fn(&Address) -> Option<ballast::state::Reserve>,
) -> Vec<AccountMeta> {
    // Term debt counts: it is floating debt once converted (the keeper
    // sends `convert_term_debt` first, in the same transaction); a reserve
    // owed both ways is listed once.
    let mut others: Vec<Address> = Vec::new();
    for p in obligation.positions.iter() {
        if p.is_debt() && p.reserve != *debt_reserve && !others.contains(&p.reserve) {
            others.push(p.reserve);
        }
    }
    // By key, not by position: a reserve with a treasury strategy is
    // followed by its strategy reserve as well as its oracle.
    for a in health.iter_mut() {
        if others.contains(&a.pubkey) {
            a.is_writable = true;
        }
    }
    for r in &others {
        let Some(reserve) = reserve_of(r) else {
            continue;
        };
        health.extend([
            AccountMeta::new(reserve.insurance_vault, false),
            AccountMeta::new(reserve.liquidity_vault, false),
            AccountMeta::new_readonly(reserve.mint, false),
            AccountMeta::new_readonly(reserve.token_program, false),
        ]);
    }
    health
}

/// `init_market`: `admin` signs and pays; `market` is a fresh keypair that
/// signs too.
pub fn init_market(admin: &Address, market: &Address, params: InitMarketParams) -> Instruction {
    build(
        ballast::accounts::InitMarket {
            admin: *admin,
            market: *market,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitMarket { params },
        vec![],
    )
}

/// `update_market`, signed by the admin.
pub fn update_market(admin: &Address, market: &Address, params: UpdateMarketParams) -> Instruction {
    build(
        ballast::accounts::UpdateMarket {
            admin: *admin,
            market: *market,
        },
        ballast::instruction::UpdateMarket { params },
        vec![],
    )
}

/// `propose_admin`, signed by the admin (the default key cancels).
pub fn propose_admin(admin: &Address, market: &Address, pending_admin: &Address) -> Instruction {
    build(
        ballast::accounts::ProposeAdmin {
            admin: *admin,
            market: *market,
        },
        ballast::instruction::ProposeAdmin {
            pending_admin: *pending_admin,
        },
        vec![],
    )
}

/// `accept_admin`, signed by the pending admin.
pub fn accept_admin(pending_admin: &Address, market: &Address) -> Instruction {
    build(
        ballast::accounts::AcceptAdmin {
            pending_admin: *pending_admin,
            market: *market,
        },
        ballast::instruction::AcceptAdmin {},
        vec![],
    )
}

/// `init_reserve`, signed by the admin, who pays.
pub fn init_reserve(admin: &Address, keys: &ReserveKeys, config: ReserveConfig) -> Instruction {
    build(
        ballast::accounts::InitReserve {
            admin: *admin,
            market: keys.market,
            mint: keys.mint,
            reserve: keys.reserve,
            market_authority: market_authority(&keys.market).0,
            liquidity_vault: keys.liquidity_vault,
            insurance_vault: keys.insurance_vault,
            oracle: keys.oracle,
            token_program: keys.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitReserve { config },
        vec![],
    )
}

/// `update_reserve_config`, signed by the admin.
pub fn update_reserve_config(
    admin: &Address,
    keys: &ReserveKeys,
    config: ReserveConfig,
) -> Instruction {
    build(
        ballast::accounts::UpdateReserveConfig {
            admin: *admin,
            market: keys.market,
            reserve: keys.reserve,
            oracle: keys.oracle,
        },
        ballast::instruction::UpdateReserveConfig { config },
        vec![],
    )
}

/// `accrue_interest` on `reserve` (permissionless).
pub fn accrue_interest(reserve: &Address) -> Instruction {
    build(
        ballast::accounts::AccrueInterest { reserve: *reserve },
        ballast::instruction::AccrueInterest {},
        vec![],
    )
}

/// `init_obligation` number `index` for `owner` (signs), paid by `payer`.
pub fn init_obligation(
    payer: &Address,
    owner: &Address,
    market: &Address,
    index: u8,
) -> Instruction {
    build(
        ballast::accounts::InitObligation {
            payer: *payer,
            owner: *owner,
            market: *market,
            obligation: obligation_address(market, owner, index),
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::InitObligation { index },
        vec![],
    )
}

/// `deposit` of `amount` base units from `user_token_account` (owned by
/// `owner`, who signs) into `obligation`.
pub fn deposit(
    owner: &Address,
    keys: &ReserveKeys,
    obligation: &Address,
    user_token_account: &Address,
    amount: u64,
) -> Instruction {
    build(
        ballast::accounts::Deposit {
            owner: *owner,
            market: keys.market,
            reserve: keys.reserve,
            obligation: *obligation,
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::Deposit { amount },
        vec![],
    )
}

/// `withdraw` of `amount` base units (`u64::MAX`: all) to
/// `user_token_account`; `health` from [`health_accounts`] when the
/// obligation has debt.
pub fn withdraw(
    owner: &Address,
    keys: &ReserveKeys,
    obligation: &Address,
    user_token_account: &Address,
    amount: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::Withdraw {
            owner: *owner,
            market: keys.market,
            market_authority: market_authority(&keys.market).0,
            reserve: keys.reserve,
            obligation: *obligation,
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::Withdraw { amount },
        health,
    )
}

/// `borrow` of `amount` base units to `user_token_account`; `health` must
/// list the obligation's reserves after the borrow (including this one).
pub fn borrow(
    owner: &Address,
    keys: &ReserveKeys,
    obligation: &Address,
    user_token_account: &Address,
    amount: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::Borrow {
            owner: *owner,
            market: keys.market,
            market_authority: market_authority(&keys.market).0,
            reserve: keys.reserve,
            obligation: *obligation,
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::Borrow { amount },
        health,
    )
}

/// `repay` of up to `amount` base units (`u64::MAX`: all) from
/// `user_token_account`, signed by `repayer`.
pub fn repay(
    repayer: &Address,
    keys: &ReserveKeys,
    obligation: &Address,
    user_token_account: &Address,
    amount: u64,
) -> Instruction {
    build(
        ballast::accounts::Repay {
            repayer: *repayer,
            market: keys.market,
            reserve: keys.reserve,
            obligation: *obligation,
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::Repay { amount },
        vec![],
    )
}

/// `update_volatility`: `risk_authority` pushes `sigma` (annualised, `Fx`)
/// for `reserve`.
pub fn update_volatility(
    risk_authority: &Address,
    market: &Address,
    reserve: &Address,
    sigma: ballast::engine::fx::Fx,
) -> Instruction {
    build(
        ballast::accounts::UpdateVolatility {
            risk_authority: *risk_authority,
            market: *market,
            reserve: *reserve,
        },
        ballast::instruction::UpdateVolatility {
            sigma: sigma.into(),
        },
        vec![],
    )
}

/// `liquidate`: `liquidator` repays up to `max_repay` (`u64::MAX`: as much as
/// allowed) of `obligation`'s debt in `debt` from `liquidator_debt_account`
/// and receives collateral from `collateral` into
/// `liquidator_collateral_account`. `health` from [`health_accounts`].
#[allow(clippy::too_many_arguments)]
pub fn liquidate(
    liquidator: &Address,
    obligation: &Address,
    debt: &ReserveKeys,
    collateral: &ReserveKeys,
    liquidator_debt_account: &Address,
    liquidator_collateral_account: &Address,
    max_repay: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::Liquidate {
            liquidator: *liquidator,
            market: debt.market,
            market_authority: market_authority(&debt.market).0,
            obligation: *obligation,
            debt_reserve: debt.reserve,
            debt_mint: debt.mint,
            debt_vault: debt.liquidity_vault,
            liquidator_debt_account: *liquidator_debt_account,
            debt_token_program: debt.token_program,
            collateral_reserve: collateral.reserve,
            collateral_mint: collateral.mint,
            collateral_vault: collateral.liquidity_vault,
            collateral_insurance_vault: collateral.insurance_vault,
            liquidator_collateral_account: *liquidator_collateral_account,
            collateral_token_program: collateral.token_program,
            debt_insurance_vault: debt.insurance_vault,
        },
        ballast::instruction::Liquidate { max_repay },
        health,
    )
}

/// `liquidate_for_shares`: as [`liquidate`], the seized collateral credited
/// as deposit shares to `liquidator_obligation` (the liquidator's own, in
/// the same market) instead of paid from the collateral vault.
#[allow(clippy::too_many_arguments)]
pub fn liquidate_for_shares(
    liquidator: &Address,
    obligation: &Address,
    liquidator_obligation: &Address,
    debt: &ReserveKeys,
    collateral: &ReserveKeys,
    liquidator_debt_account: &Address,
    max_repay: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::LiquidateForShares {
            liquidator: *liquidator,
            market: debt.market,
            market_authority: market_authority(&debt.market).0,
            obligation: *obligation,
            liquidator_obligation: *liquidator_obligation,
            debt_reserve: debt.reserve,
            debt_mint: debt.mint,
            debt_vault: debt.liquidity_vault,
            liquidator_debt_account: *liquidator_debt_account,
            debt_token_program: debt.token_program,
            debt_insurance_vault: debt.insurance_vault,
            collateral_reserve: collateral.reserve,
        },
        ballast::instruction::LiquidateForShares { max_repay },
        health,
    )
}

/// The remaining accounts of `socialize_bad_debt` for `obligation`: per
/// collateral position, in slot order, its reserve (writable: the program
/// forfeits it when it is dust) and `oracle_of` it. Empty without
/// collateral.
pub fn dust_accounts(
    obligation: &Obligation,
    oracle_of: impl Fn(&Address) -> Address,
) -> Vec<AccountMeta> {
    use ballast::state::PositionKind;
    obligation
        .positions
        .iter()
        .filter(|p| p.kind() == PositionKind::Collateral)
        .flat_map(|p| {
            [
                AccountMeta::new(p.reserve, false),
                AccountMeta::new_readonly(oracle_of(&p.reserve), false),
            ]
        })
        .collect()
}

/// `socialize_bad_debt` of `obligation` in `reserve` (permissionless).
pub fn socialize_bad_debt(obligation: &Address, reserve: &ReserveKeys) -> Instruction {
    build(
        ballast::accounts::SocializeBadDebt {
            market: reserve.market,
            market_authority: market_authority(&reserve.market).0,
            obligation: *obligation,
            reserve: reserve.reserve,
            mint: reserve.mint,
            liquidity_vault: reserve.liquidity_vault,
            insurance_vault: reserve.insurance_vault,
            token_program: reserve.token_program,
        },
        ballast::instruction::SocializeBadDebt {},
        vec![],
    )
}

/// `balance_sheet` of `reserve` (read-only; the result is return data).
pub fn balance_sheet(reserve: &ReserveKeys) -> Instruction {
    build(
        ballast::accounts::BalanceSheetView {
            market: reserve.market,
            reserve: reserve.reserve,
            insurance_vault: reserve.insurance_vault,
        },
        ballast::instruction::BalanceSheet {},
        vec![],
    )
}

/// The treasury obligation that holds `market`'s receipt shares in
/// `strategy_market`: the obligation PDA of `market`'s authority, index 0.
pub fn treasury_obligation(strategy_market: &Address, market: &Address) -> Address {
    obligation_address(
        strategy_market,
        &market_authority(market).0,
        ballast::state::TREASURY_OBLIGATION_INDEX,
    )
}

/// `set_treasury_strategy`: `admin` points `reserve`'s treasury at
/// `strategy` (same mint, another market) and pays for the treasury
/// obligation. For a reserve that has a strategy already, see
/// [`change_treasury_strategy`].
pub fn set_treasury_strategy(
    admin: &Address,
    reserve: &ReserveKeys,
    strategy: &ReserveKeys,
) -> Instruction {
    build(
        ballast::accounts::SetTreasuryStrategy {
            admin: *admin,
            market: reserve.market,
            market_authority: market_authority(&reserve.market).0,
            reserve: reserve.reserve,
            strategy_reserve: strategy.reserve,
            strategy_market: strategy.market,
            strategy_obligation: treasury_obligation(&strategy.market, &reserve.market),
            system_program: solana_system_interface::program::ID,
            ballast_program: ballast::ID,
        },
        ballast::instruction::SetTreasuryStrategy {},
        vec![],
    )
}

/// `rebalance` of `reserve` against its treasury `strategy`
/// (permissionless).
pub fn rebalance(reserve: &ReserveKeys, strategy: &ReserveKeys) -> Instruction {
    build(
        ballast::accounts::Rebalance {
            market: reserve.market,
            market_authority: market_authority(&reserve.market).0,
            reserve: reserve.reserve,
            mint: reserve.mint,
            liquidity_vault: reserve.liquidity_vault,
            token_program: reserve.token_program,
            strategy_market: strategy.market,
            strategy_market_authority: market_authority(&strategy.market).0,
            strategy_reserve: strategy.reserve,
            strategy_liquidity_vault: strategy.liquidity_vault,
            strategy_obligation: treasury_obligation(&strategy.market, &reserve.market),
            ballast_program: ballast::ID,
        },
        ballast::instruction::Rebalance {},
        vec![],
    )
}

/// `set_strategy_approval`: `admin` (of `strategy`'s market) approves
/// `user_reserve` as a user of `strategy` as treasury strategy
/// (`approved`), or revokes the approval.
pub fn set_strategy_approval(
    admin: &Address,
    strategy: &ReserveKeys,
    user_reserve: &Address,
    approved: bool,
) -> Instruction {
    build(
        ballast::accounts::SetStrategyApproval {
            admin: *admin,
            market: strategy.market,
            strategy_reserve: strategy.reserve,
        },
        ballast::instruction::SetStrategyApproval {
            user_reserve: *user_reserve,
            approved,
        },
        vec![],
    )
}

/// `recall_treasury`: `admin` (of `reserve`'s market) recalls `amount` base
/// units (`u64::MAX`: everything) of `reserve`'s treasury from `strategy`.
pub fn recall_treasury(
    admin: &Address,
    reserve: &ReserveKeys,
    strategy: &ReserveKeys,
    amount: u64,
) -> Instruction {
    build(
        ballast::accounts::RecallTreasury {
            admin: *admin,
            market: reserve.market,
            market_authority: market_authority(&reserve.market).0,
            reserve: reserve.reserve,
            mint: reserve.mint,
            liquidity_vault: reserve.liquidity_vault,
            token_program: reserve.token_program,
            strategy_market: strategy.market,
            strategy_market_authority: market_authority(&strategy.market).0,
            strategy_reserve: strategy.reserve,
            strategy_liquidity_vault: strategy.liquidity_vault,
            strategy_obligation: treasury_obligation(&strategy.market, &reserve.market),
            ballast_program: ballast::ID,
        },
        ballast::instruction::RecallTreasury { amount },
        vec![],
    )
}

/// The six trailing accounts that let `withdraw` from `reserve` recall a
/// shortfall from its treasury `strategy`; append them after the health
/// accounts.
pub fn recall_accounts(reserve: &ReserveKeys, strategy: &ReserveKeys) -> Vec<AccountMeta> {
    vec![
        AccountMeta::new_readonly(strategy.market, false),
        AccountMeta::new_readonly(market_authority(&strategy.market).0, false),
        AccountMeta::new(strategy.reserve, false),
        AccountMeta::new(strategy.liquidity_vault, false),
        AccountMeta::new(
            treasury_obligation(&strategy.market, &reserve.market),
            false,
        ),
        AccountMeta::new_readonly(ballast::ID, false),
    ]
}

/// `balance_sheet` of a reserve with a treasury strategy: the strategy
/// reserve follows, so deployed shares are valued at its exchange rate.
pub fn balance_sheet_with_strategy(
    reserve: &ReserveKeys,
    strategy_reserve: &Address,
) -> Instruction {
    let mut ix = balance_sheet(reserve);
    ix.accounts
        .push(AccountMeta::new_readonly(*strategy_reserve, false));
    ix
}

/// The trailing account that `deposit`, `withdraw`, `liquidate` (on the
/// collateral reserve) and `accrue_interest` take for a reserve with shares
/// deployed to its treasury strategy: the strategy reserve, read-only, so
/// the program marks the deployed shares before pricing the reserve's
/// deposit shares. `None` when nothing is deployed (the account is then not
/// needed).
pub fn strategy_account(reserve: &ballast::state::Reserve) -> Option<AccountMeta> {
    (reserve.treasury.deployed_shares > 0)
        .then(|| AccountMeta::new_readonly(reserve.treasury.strategy_reserve, false))
}

/// `ix` with `extra` appended to its accounts (e.g. [`strategy_account`]).
pub fn with_accounts(
    mut ix: Instruction,
    extra: impl IntoIterator<Item = AccountMeta>,
) -> Instruction {
    ix.accounts.extend(extra);
    ix
}

/// `set_treasury_strategy` for a reserve that already has a strategy
/// (`current`, passed writable so its count of users goes down): allowed once
/// nothing of value is deployed there.
pub fn change_treasury_strategy(
    admin: &Address,
    reserve: &ReserveKeys,
    strategy: &ReserveKeys,
    current: &Address,
) -> Instruction {
    with_accounts(
        set_treasury_strategy(admin, reserve, strategy),
        [AccountMeta::new(*current, false)],
    )
}

/// `withdraw_protocol_fees`: the market's `admin` withdraws `amount` base
/// units (`u64::MAX`: all that is withdrawable) of `reserve`'s protocol fees
/// from its liquidity vault to the token account `receiver`.
pub fn withdraw_protocol_fees(
    admin: &Address,
    reserve: &ReserveKeys,
    receiver: &Address,
    amount: u64,
) -> Instruction {
    build(
        ballast::accounts::WithdrawProtocolFees {
            admin: *admin,
            market: reserve.market,
            market_authority: market_authority(&reserve.market).0,
            reserve: reserve.reserve,
            mint: reserve.mint,
            liquidity_vault: reserve.liquidity_vault,
            receiver: *receiver,
            token_program: reserve.token_program,
        },
        ballast::instruction::WithdrawProtocolFees { amount },
        vec![],
    )
}

/// `withdraw_insurance`: the market's `admin` withdraws `amount` base units
/// (`u64::MAX`: all) from `reserve`'s insurance vault to the token account
/// `receiver`.
pub fn withdraw_insurance(
    admin: &Address,
    reserve: &ReserveKeys,
    receiver: &Address,
    amount: u64,
) -> Instruction {
    build(
        ballast::accounts::WithdrawInsurance {
            admin: *admin,
            market: reserve.market,
            market_authority: market_authority(&reserve.market).0,
            reserve: reserve.reserve,
            mint: reserve.mint,
            insurance_vault: reserve.insurance_vault,
            receiver: *receiver,
            token_program: reserve.token_program,
        },
        ballast::instruction::WithdrawInsurance { amount },
        vec![],
    )
}

/// `obligation_stress` of `obligation` in `market` with `shocks_bps` (one
/// factor per health reserve, 10,000 = unchanged) and its health accounts
/// ([`health_accounts`]); read-only, no signer; the result is return data
/// (`ballast::engine::stress::ObligationStress`).
pub fn obligation_stress(
    market: &Address,
    obligation: &Address,
    shocks_bps: Vec<u32>,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::ObligationStressView {
            market: *market,
            obligation: *obligation,
        },
        ballast::instruction::ObligationStress { shocks_bps },
        health,
    )
}

/// `set_term_config` of `keys.reserve`, signed by the market admin.
pub fn set_term_config(
    admin: &Address,
    keys: &ReserveKeys,
    config: ballast::engine::term::TermConfig,
) -> Instruction {
    build(
        ballast::accounts::SetTermConfig {
            admin: *admin,
            market: keys.market,
            reserve: keys.reserve,
        },
        ballast::instruction::SetTermConfig { config },
        vec![],
    )
}

/// `borrow_term`: `owner` borrows `face` base units due at the maturity of
/// tenor `tenor_index`, receiving at least `min_proceeds` into
/// `user_token_account`; `health`: [`term_health_accounts`].
#[allow(clippy::too_many_arguments)]
pub fn borrow_term(
    owner: &Address,
    keys: &ReserveKeys,
    obligation: &Address,
    user_token_account: &Address,
    tenor_index: u8,
    face: u64,
    min_proceeds: u64,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::BorrowTerm {
            owner: *owner,
            market: keys.market,
            market_authority: market_authority(&keys.market).0,
            reserve: keys.reserve,
            obligation: *obligation,
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::BorrowTerm {
            tenor_index,
            face,
            min_proceeds,
        },
        health,
    )
}

/// `repay_term`: `repayer` repays `obligation`'s term loan in `keys`'
/// reserve in full from `user_token_account`, paying at most `max_amount`.
pub fn repay_term(
    repayer: &Address,
    keys: &ReserveKeys,
    obligation: &Address,
    user_token_account: &Address,
    max_amount: u64,
) -> Instruction {
    build(
        ballast::accounts::RepayTerm {
            repayer: *repayer,
            market: keys.market,
            reserve: keys.reserve,
            obligation: *obligation,
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::RepayTerm { max_amount },
        vec![],
    )
}

/// `convert_term_debt` of `obligation`'s term loan in `reserve`
/// (permissionless); `health` ([`health_accounts`] of the obligation as it
/// is) before maturity, empty after.
pub fn convert_term_debt(
    market: &Address,
    reserve: &Address,
    obligation: &Address,
    health: Vec<AccountMeta>,
) -> Instruction {
    build(
        ballast::accounts::ConvertTermDebt {
            market: *market,
            reserve: *reserve,
            obligation: *obligation,
        },
        ballast::instruction::ConvertTermDebt {},
        health,
    )
}

/// One `convert_term_debt` per term-loan position of `obligation` (account
/// `key` in `market`), in slot order, each with the [`health_accounts`] of
/// the obligation as the conversions before it leave it (`keys_of` as for
/// [`health_accounts`]): the program checks the Maintenance requirement
/// before maturity against the obligation as it is, and a conversion frees
/// its slot and may merge into a floating position, which reorders the
/// accounts the next one needs. Liquidation and write-off refuse an
/// obligation with unconverted term debt, so the keeper sends these first,
/// in the same transaction.
pub fn term_conversions(
    market: &Address,
    key: &Address,
    obligation: &Obligation,
    keys_of: impl Fn(&Address) -> (Address, Address),
) -> Vec<Instruction> {
    let mut ob = *obligation;
    let mut out = Vec::new();
    for i in 0..ob.positions.len() {
        let p = ob.positions[i];
        if p.kind() != ballast::state::PositionKind::TermDebt {
            continue;
        }
        let health = health_accounts(&ob, None, &keys_of);
        out.push(convert_term_debt(market, &p.reserve, key, health));
        convert_slot(&mut ob, i);
    }
    out
}

/// Slot `i` (a term loan) of `ob` as `convert_term_debt` leaves it: freed,
/// its reserve's floating debt position found or opened in the first free
/// slot (the face stands in for the debt shares).
fn convert_slot(ob: &mut Obligation, i: usize) {
    let p = ob.positions[i];
    ob.positions[i] = bytemuck::Zeroable::zeroed();
    if let Ok(j) = ob.find_or_open(&p.reserve, ballast::state::PositionKind::Debt) {
        let shares = ob.positions[j].borrow_shares.get();
        ob.positions[j]
            .borrow_shares
            .set(shares.saturating_add(ballast::engine::fx::fx_u64(p.term_face())));
    }
}

/// `obligation`'s slots as [`term_conversions`] leaves them: each term
/// position freed and its reserve's floating debt position found or
/// opened in the first free slot, as the program does. The debt shares are
/// not the program's (the face stands in for them): use it for the order of
/// the health accounts of an instruction sent after the conversions.
pub fn after_term_conversion(obligation: &Obligation) -> Obligation {
    let mut out = *obligation;
    for i in 0..out.positions.len() {
        if out.positions[i].kind() == ballast::state::PositionKind::TermDebt {
            convert_slot(&mut out, i);
        }
    }
    out
}

/// `maturity_ladder` of `reserve` (read-only; the result is return data,
/// `ballast::engine::term::MaturityLadder`).
pub fn maturity_ladder(reserve: &ReserveKeys) -> Instruction {
    build(
        ballast::accounts::MaturityLadderView {
            market: reserve.market,
            reserve: reserve.reserve,
        },
        ballast::instruction::MaturityLadder {},
        vec![],
    )
}

/// The term deposit PDA `[TERM_DEPOSIT_SEED, reserve, owner, nonce (u64 LE)]`.
pub fn term_deposit_address(reserve: &Address, owner: &Address, nonce: u64) -> Address {
    term_deposit_pda(reserve, owner, nonce).0
}

/// [`term_deposit_address`] and its canonical bump.
pub fn term_deposit_pda(reserve: &Address, owner: &Address, nonce: u64) -> (Address, u8) {
    Address::find_program_address(
        &[
            ballast::state::TERM_DEPOSIT_SEED,
            reserve.as_ref(),
            owner.as_ref(),
            &nonce.to_le_bytes(),
        ],
        &ballast::ID,
    )
}

/// The term-deposit book PDA `[TERM_DEPOSIT_BOOK_SEED, reserve]`.
pub fn term_deposit_book(reserve: &Address) -> Address {
    Address::find_program_address(
        &[ballast::state::TERM_DEPOSIT_BOOK_SEED, reserve.as_ref()],
        &ballast::ID,
    )
    .0
}

/// `deposit_term`: `owner` deposits `amount` base units from
/// `user_token_account` for tenor `tenor_index` into the term deposit of
/// `nonce` (created at its canonical bump), the face owed at maturity at
/// least `min_face`. While the reserve has treasury shares deployed, append
/// [`strategy_account`] (as for [`deposit`]: [`with_accounts`]).
pub fn deposit_term(
    owner: &Address,
    keys: &ReserveKeys,
    user_token_account: &Address,
    nonce: u64,
    tenor_index: u8,
    amount: u64,
    min_face: u64,
) -> Instruction {
    let (term_deposit, deposit_bump) = term_deposit_pda(&keys.reserve, owner, nonce);
    build(
        ballast::accounts::DepositTerm {
            owner: *owner,
            market: keys.market,
            reserve: keys.reserve,
            term_deposit,
            book: term_deposit_book(&keys.reserve),
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
            system_program: anchor_lang::system_program::ID,
        },
        ballast::instruction::DepositTerm {
            nonce,
            tenor_index,
            amount,
            min_face,
            deposit_bump,
        },
        vec![],
    )
}

/// `withdraw_term`: `owner` settles its matured term deposit of `nonce`
/// into `user_token_account`. While the reserve has treasury shares
/// deployed, append [`strategy_account`] ([`with_accounts`]).
pub fn withdraw_term(
    owner: &Address,
    keys: &ReserveKeys,
    user_token_account: &Address,
    nonce: u64,
) -> Instruction {
    build(
        ballast::accounts::WithdrawTerm {
            owner: *owner,
            market: keys.market,
            market_authority: market_authority(&keys.market).0,
            reserve: keys.reserve,
            term_deposit: term_deposit_address(&keys.reserve, owner, nonce),
            book: term_deposit_book(&keys.reserve),
            mint: keys.mint,
            liquidity_vault: keys.liquidity_vault,
            user_token_account: *user_token_account,
            token_program: keys.token_program,
        },
        ballast::instruction::WithdrawTerm {},
        vec![],
    )
}

/// `maturity_ladder` of `reserve` with its term-deposit book, so the
/// locked deposits sit at their maturities (the book must exist: a first
/// `deposit_term` creates it).
pub fn maturity_ladder_with_deposits(reserve: &ReserveKeys) -> Instruction {
    let mut ix = maturity_ladder(reserve);
    ix.accounts.push(AccountMeta::new_readonly(
        term_deposit_book(&reserve.reserve),
        false,
    ));
    ix
}
