//! `withdraw_protocol_fees` and `withdraw_insurance` on the real .so (issue
//! 13: the protocol's equity could never leave). Checked to the base unit:
//! the tokens moved, the reserve's books (fees down by the amount,
//! depositors' claims and the exchange rate unchanged), the balance sheet
//! before and after, the events; and every refusal (wrong or missing
//! signer, the other market's admin, substituted reserve, vault and
//! receiver, zero, `u64::MAX` with nothing left, more than the fees, the
//! vault or the outflow window allow, a paused market) with every account
//! left byte-for-byte unchanged.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::AnchorDeserialize;
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::engine::fx::{fx_u64, Fx, FxExt};
use ballast::engine::liquidity::LiquidityConfig;
use ballast::errors::BallastError;
use ballast::events::{InsuranceWithdrawn, ProtocolFeesWithdrawn};
use ballast_tests::*;
use solana_instruction::Instruction;

/// The balance sheet of `r` now (return data of `balance_sheet`).
fn sheet(ctx: &mut TestContext, r: &TestReserve) -> BalanceSheet {
    let meta = ctx
        .chain
        .send(&[ix::balance_sheet(&r.keys)], &[])
        .expect("balance_sheet");
    BalanceSheet::try_from_slice(&meta.return_data.data).expect("documented layout")
}

/// The [`Lending`] fixture with 1,100 SOL of collateral, 8,000 USDC borrowed and 30 days of interest
/// accrued (so the USDC reserve holds fractional protocol fees), the
/// admin's USDC receiver, and 500 USDC minted into the insurance vault.
struct Fixture {
    l: Lending,
    receiver: Address,
}

impl Fixture {
    fn new(ctx: &mut TestContext, tp: &Address) -> Self {
        ctx.set_time(1_700_000_000);
        let l = ctx.lending(tp);
        // 1,000 SOL more of collateral: room for 8,000 USDC of debt.
        ctx.mint_to(&l.coll.keys.mint, &l.b_coll, l.coll.units(1_000.0))
            .unwrap();
        ctx.deposit(
            &l.borrower,
            &l.coll,
            &l.ob,
            &l.b_coll,
            l.coll.units(1_000.0),
        );
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(8_000.0),
        );
        ctx.warp_seconds(30 * 86_400);
        ctx.ok("accrue", &[ix::accrue_interest(&l.debt.keys.reserve)], &[]);
        let receiver = ctx.token_account_for(&l.debt, &l.m.admin.pubkey(), 0);
        ctx.mint_to(&l.debt.keys.mint, &l.debt.keys.insurance_vault, 500_000_000)
            .unwrap();
        Fixture { l, receiver }
    }

    fn fees(&self, ctx: &TestContext) -> Fx {
        ctx.reserve(&self.l.debt).protocol_fees.get()
    }

    fn fee_ix(&self, amount: u64) -> Instruction {
        ix::withdraw_protocol_fees(
            &self.l.m.admin.pubkey(),
            &self.l.debt.keys,
            &self.receiver,
            amount,
        )
    }

    fn insurance_ix(&self, amount: u64) -> Instruction {
        ix::withdraw_insurance(
            &self.l.m.admin.pubkey(),
            &self.l.debt.keys,
            &self.receiver,
            amount,
        )
    }

    /// Every account either withdrawal could touch.
    fn watch(&self) -> Vec<Address> {
        let mut v = self.l.accounts();
        v.extend([self.receiver, self.l.debt.keys.insurance_vault]);
        v
    }
}

/// Sends `ix` signed by `signers`, expects `expect` and every account of
/// `watch` byte-for-byte unchanged.
fn refused(
    ctx: &mut TestContext,
    label: &str,
    ix: Instruction,
    signers: &[&Keypair],
    watch: &[Address],
    expect: Expect,
) {
    let before = ctx.snapshot(watch);
    let err = ctx.fails(label, &[ix], signers);
    check(label, &err, expect);
    ctx.assert_unchanged(label, &before);
}

#[test]
fn fee_withdrawal_moves_only_the_protocols_equity() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = Fixture::new(&mut ctx, &tp);
        let fees = f.fees(&ctx);
        let whole = fees.to_floor_u64().unwrap();
        assert!(whole > 1_000_000, "30 days at 80% utilisation: {fees} fees");
        let before = ctx.reserve(&f.l.debt);
        let sheet_before = sheet(&mut ctx, &f.l.debt);
        let amount = whole / 2;
        let logs = ctx.ok_logs(
            "withdraw_protocol_fees",
            &[f.fee_ix(amount)],
            &[&f.l.m.admin],
        );
        let after = ctx.reserve(&f.l.debt);
        assert_eq!(ctx.token_balance(&f.receiver).unwrap(), amount);
        assert_eq!(after.available_amount, before.available_amount - amount);
        assert_eq!(
            after.protocol_fees.get(),
            fees - fx_u64(amount),
            "fees fall by exactly the amount"
        );
        assert_eq!(
            after.supply().unwrap(),
            before.supply().unwrap(),
            "depositors' claims unchanged to the last fraction"
        );
        assert_eq!(after.deposit_shares, before.deposit_shares);
        ctx.assert_books("after the fee withdrawal", &f.l.debt, &[f.l.so, f.l.ob]);

        let sheet_after = sheet(&mut ctx, &f.l.debt);
        assert_eq!(sheet_after.liabilities, sheet_before.liabilities);
        assert_eq!(sheet_after.borrowed, sheet_before.borrowed);
        assert_eq!(sheet_after.liquid, sheet_before.liquid - amount);
        assert_eq!(sheet_after.assets, sheet_before.assets - amount);
        assert_eq!(
            sheet_after.protocol_fees,
            sheet_before.protocol_fees - amount
        );
        assert_eq!(sheet_after.insurance, sheet_before.insurance);
        assert_eq!(
            sheet_after.assets - sheet_after.liabilities,
            sheet_after.protocol_fees,
            "assets = liabilities + fees after the withdrawal"
        );

        let e: Vec<ProtocolFeesWithdrawn> = events(&logs);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].market, f.l.m.market);
        assert_eq!(e[0].reserve, f.l.debt.keys.reserve);
        assert_eq!(e[0].receiver, f.receiver);
        assert_eq!(e[0].amount, amount);
        assert_eq!(e[0].protocol_fees_after.get(), after.protocol_fees.get());
        assert_eq!(e[0].liquid_after, after.available_amount);
        assert_eq!(e[0].claims_after, sheet_after.liabilities);
    }
}

#[test]
fn all_takes_the_whole_fees_and_then_nothing_is_left() {
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let whole = f.fees(&ctx).to_floor_u64().unwrap();
    let watch = f.watch();
    let admin = f.l.m.admin.insecure_clone();
    refused(
        &mut ctx,
        "one unit more than the whole fees",
        f.fee_ix(whole + 1),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ProtocolFeesExceeded),
    );
    let logs = ctx.ok_logs(
        "withdraw_protocol_fees all",
        &[f.fee_ix(u64::MAX)],
        &[&admin],
    );
    let e: Vec<ProtocolFeesWithdrawn> = events(&logs);
    assert_eq!(e[0].amount, whole);
    assert_eq!(ctx.token_balance(&f.receiver).unwrap(), whole);
    let left = f.fees(&ctx);
    assert!(
        left < Fx::ONE && left >= Fx::ZERO,
        "a fraction is left: {left}"
    );
    refused(
        &mut ctx,
        "all, with less than one unit of fees",
        f.fee_ix(u64::MAX),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ProtocolFeesExceeded),
    );
    ctx.assert_books("after all the fees", &f.l.debt, &[f.l.so, f.l.ob]);
}

#[test]
fn fee_withdrawal_refusals_move_nothing() {
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let watch = f.watch();
    let admin = f.l.m.admin.insecure_clone();
    let stranger = ctx.funded_user(1);
    let other = ctx.setup_market();

    let mut ix = ix::withdraw_protocol_fees(&stranger.pubkey(), &f.l.debt.keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "stranger signs",
        ix.clone(),
        &[&stranger],
        &watch,
        Expect::Ballast(BallastError::NotMarketAdmin),
    );
    ix.accounts[0] = solana_instruction::AccountMeta::new_readonly(admin.pubkey(), false);
    refused(
        &mut ctx,
        "admin did not sign",
        ix,
        &[],
        &watch,
        Expect::Anchor(AnchorError::AccountNotSigner),
    );

    let ix = ix::withdraw_protocol_fees(&other.admin.pubkey(), &f.l.debt.keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "the other market's admin",
        ix,
        &[&other.admin],
        &watch,
        Expect::Ballast(BallastError::NotMarketAdmin),
    );
    let keys = ReserveKeys {
        market: other.market,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_protocol_fees(&other.admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "the other market's admin with its market",
        ix,
        &[&other.admin],
        &watch,
        Expect::Ballast(BallastError::WrongMarket),
    );

    let keys = ReserveKeys {
        liquidity_vault: f.l.coll.keys.liquidity_vault,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_protocol_fees(&admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "substituted vault",
        ix,
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ReserveAccountMismatch),
    );
    let keys = ReserveKeys {
        reserve: f.l.coll.keys.reserve,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_protocol_fees(&admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "substituted reserve",
        ix,
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ReserveAccountMismatch),
    );

    let sol_receiver = ctx.token_account_for(&f.l.coll, &admin.pubkey(), 0);
    let ix = ix::withdraw_protocol_fees(&admin.pubkey(), &f.l.debt.keys, &sol_receiver, 1);
    refused(
        &mut ctx,
        "receiver of another mint",
        ix,
        &[&admin],
        &watch,
        Expect::Anchor(AnchorError::ConstraintTokenMint),
    );
    let ix = ix::withdraw_protocol_fees(
        &admin.pubkey(),
        &f.l.debt.keys,
        &f.l.debt.keys.liquidity_vault,
        1,
    );
    // The vault that pays, twice and writable: Anchor refuses it first.
    refused(
        &mut ctx,
        "receiver is the liquidity vault",
        ix,
        &[&admin],
        &watch,
        Expect::Anchor(AnchorError::ConstraintDuplicateMutableAccount),
    );

    refused(
        &mut ctx,
        "zero",
        f.fee_ix(0),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ZeroAmount),
    );

    ctx.set_paused(&f.l.m, true);
    refused(
        &mut ctx,
        "paused market",
        f.fee_ix(1),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::MarketPaused),
    );
    ctx.set_paused(&f.l.m, false);
    ctx.ok("after unpausing", &[f.fee_ix(1)], &[&admin]);
}

#[test]
fn fee_withdrawal_is_bounded_by_the_vault_and_the_outflow_window() {
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let admin = f.l.m.admin.insecure_clone();
    let whole = f.fees(&ctx).to_floor_u64().unwrap();
    // An outflow window smaller than the fees: the sweep is an outflow.
    let cap = whole / 4;
    ctx.update_config(&f.l.m, &f.l.debt, |c| {
        c.liquidity = LiquidityConfig {
            outflow_window_secs: 3_600,
            outflow_cap: cap,
            ..c.liquidity
        }
    });
    let watch = f.watch();
    refused(
        &mut ctx,
        "more than the window lets out",
        f.fee_ix(cap + 1),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::OutflowLimitExceeded),
    );
    let logs = ctx.ok_logs(
        "all, bounded by the window",
        &[f.fee_ix(u64::MAX)],
        &[&admin],
    );
    let e: Vec<ProtocolFeesWithdrawn> = events(&logs);
    assert_eq!(e[0].amount, cap);
    let r = ctx.reserve(&f.l.debt);
    let now = ctx.clock().unix_timestamp;
    assert_eq!(r.outflow.remaining(&r.config.liquidity, now), 0);

    // Fees larger than the vault's liquid tokens (a state only a forger
    // reaches: 95% utilisation would take years): the vault bounds them.
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let admin = f.l.m.admin.insecure_clone();
    let liquid = ctx.reserve(&f.l.debt).available_amount;
    ctx.patch_reserve(&f.l.debt, |r| {
        r.protocol_fees.set(fx_u64(liquid + 5));
    });
    let watch = f.watch();
    refused(
        &mut ctx,
        "more than the vault holds",
        f.fee_ix(liquid + 1),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::InsufficientLiquidity),
    );
    let logs = ctx.ok_logs(
        "all, bounded by the vault",
        &[f.fee_ix(u64::MAX)],
        &[&admin],
    );
    let e: Vec<ProtocolFeesWithdrawn> = events(&logs);
    assert_eq!(e[0].amount, liquid);
    assert_eq!(ctx.reserve(&f.l.debt).available_amount, 0);
    ctx.assert_vault_reconciles(&f.l.debt);

    // Fees the assets do not cover (liquid + borrowed < fees; a forged
    // state): nothing leaves, the depositors' zero claim included.
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let admin = f.l.m.admin.insecure_clone();
    let r = ctx.reserve(&f.l.debt);
    let assets = fx_u64(r.available_amount) + r.borrowed_floor().unwrap();
    ctx.patch_reserve(&f.l.debt, |r| {
        r.protocol_fees.set(assets + Fx::ONE);
    });
    let watch = f.watch();
    refused(
        &mut ctx,
        "fees above the assets",
        f.fee_ix(1),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ReserveInsolvent),
    );
}

#[test]
fn fees_may_top_up_the_insurance_vault() {
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let admin = f.l.m.admin.insecure_clone();
    let before = sheet(&mut ctx, &f.l.debt);
    let ix = ix::withdraw_protocol_fees(
        &admin.pubkey(),
        &f.l.debt.keys,
        &f.l.debt.keys.insurance_vault,
        1_000_000,
    );
    ctx.ok("fees -> insurance", &[ix], &[&admin]);
    let after = sheet(&mut ctx, &f.l.debt);
    assert_eq!(after.insurance, before.insurance + 1_000_000);
    assert_eq!(after.protocol_fees, before.protocol_fees - 1_000_000);
    assert_eq!(after.liabilities, before.liabilities);
}

#[test]
fn insurance_withdrawal_never_touches_the_reserve() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = Fixture::new(&mut ctx, &tp);
        let admin = f.l.m.admin.insecure_clone();
        // The reserve and its liquidity vault stay byte-for-byte as they were.
        let untouched = ctx.snapshot(&[f.l.debt.keys.reserve, f.l.debt.keys.liquidity_vault]);
        let sheet_before = sheet(&mut ctx, &f.l.debt);
        let logs = ctx.ok_logs(
            "withdraw_insurance",
            &[f.insurance_ix(200_000_000)],
            &[&admin],
        );
        ctx.assert_unchanged("the reserve's books", &untouched);
        assert_eq!(ctx.token_balance(&f.receiver).unwrap(), 200_000_000);
        assert_eq!(
            ctx.token_balance(&f.l.debt.keys.insurance_vault).unwrap(),
            300_000_000
        );
        let sheet_after = sheet(&mut ctx, &f.l.debt);
        assert_eq!(sheet_after.insurance, sheet_before.insurance - 200_000_000);
        assert_eq!(
            BalanceSheet {
                insurance: sheet_before.insurance,
                ..sheet_after
            },
            sheet_before,
            "nothing but the insurance moved"
        );
        let e: Vec<InsuranceWithdrawn> = events(&logs);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].market, f.l.m.market);
        assert_eq!(e[0].reserve, f.l.debt.keys.reserve);
        assert_eq!(e[0].receiver, f.receiver);
        assert_eq!(e[0].amount, 200_000_000);
        assert_eq!(e[0].insurance_after, 300_000_000);

        let watch = f.watch();
        refused(
            &mut ctx,
            "more than the vault",
            f.insurance_ix(300_000_001),
            &[&admin],
            &watch,
            Expect::Ballast(BallastError::InsuranceExceeded),
        );
        let logs = ctx.ok_logs(
            "withdraw_insurance all",
            &[f.insurance_ix(u64::MAX)],
            &[&admin],
        );
        let e: Vec<InsuranceWithdrawn> = events(&logs);
        assert_eq!((e[0].amount, e[0].insurance_after), (300_000_000, 0));
        refused(
            &mut ctx,
            "all of an empty vault",
            f.insurance_ix(u64::MAX),
            &[&admin],
            &watch,
            Expect::Ballast(BallastError::InsuranceExceeded),
        );
    }
}

#[test]
fn insurance_withdrawal_refusals_move_nothing() {
    let mut ctx = TestContext::new();
    let f = Fixture::new(&mut ctx, &TOKEN_PROGRAM_ID);
    let watch = f.watch();
    let admin = f.l.m.admin.insecure_clone();
    let stranger = ctx.funded_user(1);
    let other = ctx.setup_market();

    let mut ix = ix::withdraw_insurance(&stranger.pubkey(), &f.l.debt.keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "stranger signs",
        ix.clone(),
        &[&stranger],
        &watch,
        Expect::Ballast(BallastError::NotMarketAdmin),
    );
    ix.accounts[0] = solana_instruction::AccountMeta::new_readonly(admin.pubkey(), false);
    refused(
        &mut ctx,
        "admin did not sign",
        ix,
        &[],
        &watch,
        Expect::Anchor(AnchorError::AccountNotSigner),
    );
    let ix = ix::withdraw_insurance(&other.admin.pubkey(), &f.l.debt.keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "the other market's admin",
        ix,
        &[&other.admin],
        &watch,
        Expect::Ballast(BallastError::NotMarketAdmin),
    );
    let keys = ReserveKeys {
        market: other.market,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_insurance(&other.admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "the other market's admin with its market",
        ix,
        &[&other.admin],
        &watch,
        Expect::Ballast(BallastError::WrongMarket),
    );

    // The collateral reserve's insurance vault (holding tokens of its own).
    ctx.mint_to(&f.l.coll.keys.mint, &f.l.coll.keys.insurance_vault, 1_000)
        .unwrap();
    let keys = ReserveKeys {
        insurance_vault: f.l.coll.keys.insurance_vault,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_insurance(&admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "substituted insurance vault",
        ix,
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ReserveAccountMismatch),
    );
    let keys = ReserveKeys {
        insurance_vault: f.l.debt.keys.liquidity_vault,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_insurance(&admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "the liquidity vault as the insurance vault",
        ix,
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ReserveAccountMismatch),
    );
    let keys = ReserveKeys {
        reserve: f.l.coll.keys.reserve,
        ..f.l.debt.keys
    };
    let ix = ix::withdraw_insurance(&admin.pubkey(), &keys, &f.receiver, 1);
    refused(
        &mut ctx,
        "substituted reserve",
        ix,
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ReserveAccountMismatch),
    );

    let sol_receiver = ctx.token_account_for(&f.l.coll, &admin.pubkey(), 0);
    let ix = ix::withdraw_insurance(&admin.pubkey(), &f.l.debt.keys, &sol_receiver, 1);
    refused(
        &mut ctx,
        "receiver of another mint",
        ix,
        &[&admin],
        &watch,
        Expect::Anchor(AnchorError::ConstraintTokenMint),
    );
    for (label, vault, expect) in [
        (
            "receiver is the liquidity vault",
            f.l.debt.keys.liquidity_vault,
            Expect::Ballast(BallastError::ReceiverIsReserveVault),
        ),
        (
            // The vault that pays, twice and writable: Anchor refuses it.
            "receiver is the insurance vault",
            f.l.debt.keys.insurance_vault,
            Expect::Anchor(AnchorError::ConstraintDuplicateMutableAccount),
        ),
    ] {
        let ix = ix::withdraw_insurance(&admin.pubkey(), &f.l.debt.keys, &vault, 1);
        refused(&mut ctx, label, ix, &[&admin], &watch, expect);
    }
    refused(
        &mut ctx,
        "zero",
        f.insurance_ix(0),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::ZeroAmount),
    );

    ctx.set_paused(&f.l.m, true);
    refused(
        &mut ctx,
        "paused market",
        f.insurance_ix(1),
        &[&admin],
        &watch,
        Expect::Ballast(BallastError::MarketPaused),
    );
    ctx.set_paused(&f.l.m, false);
    ctx.ok("after unpausing", &[f.insurance_ix(1)], &[&admin]);
}
