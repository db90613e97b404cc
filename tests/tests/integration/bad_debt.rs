//! `socialize_bad_debt` on the real .so: an obligation whose collateral has
//! been liquidated away but which still owes debt has that debt covered from
//! the debt reserve's insurance vault first and written off against the
//! reserve's depositors for the rest. Checked to the base unit: the event
//! against the token movements and the reserve's books, the depositors'
//! withdrawable amounts before and after, the refusals (collateral left,
//! nothing owed, second call, substituted accounts) with every account left
//! byte-for-byte unchanged, and insurance funded either by minting into the
//! vault or by the protocol's share of a liquidation bonus.

use anchor_lang::error::ErrorCode as AnchorError;
use ballast::engine::fx::{fx_u64, Fx, FxExt};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::shares::tokens_for_shares_floor;
use ballast::errors::BallastError;
use ballast::events::BadDebtSocialized;
use ballast::state::PositionKind;
use ballast_tests::*;
use solana_instruction::Instruction;

/// Sends `ix` (no signer beyond the payer: the instruction is
/// permissionless), expects `expect` and every account of `watch`
/// byte-for-byte unchanged.
fn refused(ctx: &mut TestContext, label: &str, ix: Instruction, watch: &[Address], expect: Expect) {
    let before = ctx.snapshot(watch);
    let err = ctx.fails(label, &[ix], &[]);
    check(label, &err, expect);
    ctx.assert_unchanged(label, &before);
}

/// The [`Lending`] fixture plus a second USDC supplier (5,000), a USDT
/// reserve, a DUST reserve ($1, 6 decimals) where the borrower holds 0.5
/// DUST, the borrower at 900 USDC and 500 USDT of debt after a day of
/// interest, and a liquidator holding 10,000 USDC and 10,000 USDT. The
/// close-out repays USDT and takes all the SOL; the 0.5 DUST ($0.50,
/// priced, under the $1 dust value) stays, so that liquidation writes
/// nothing off (a liquidation that takes the last collateral writes off
/// every debt itself, `liquidation_write_off`); `socialize_bad_debt` of
/// USDT then forfeits the DUST and writes USDT off, and leaves the USDC
/// debt, with no collateral, to `socialize_bad_debt`, the instruction
/// under test.
struct Fixture {
    tp: Address,
    l: Lending,
    usdt: TestReserve,
    dust: TestReserve,
    l_t: Address,
    supplier2: Keypair,
    so2: Address,
    s2_debt: Address,
    liq: Keypair,
    l_d: Address,
    l_c: Address,
}

impl Fixture {
    fn new(ctx: &mut TestContext, tp: Address) -> Self {
        ctx.set_time(1_700_000_000);
        let l = ctx.lending(&tp);
        let (supplier2, s2_debt) = ctx.user_with_tokens(&l.debt, l.debt.units(5_000.0));
        let so2 = ctx.open_obligation(&supplier2, &l.m.market, 0);
        ctx.deposit(&supplier2, &l.debt, &so2, &s2_debt, l.debt.units(5_000.0));
        ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(900.0));
        let usdt = ctx.add_reserve(&l.m, &tp, 6, 1.0, test_config([0; 32]));
        let dust = ctx.add_reserve(&l.m, &tp, 6, 1.0, test_config([0; 32]));
        let b_dust = ctx.token_account_for(&dust, &l.borrower.pubkey(), 500_000);
        ctx.deposit(&l.borrower, &dust, &l.ob, &b_dust, 500_000);
        let s2_usdt = ctx.token_account_for(&usdt, &supplier2.pubkey(), usdt.units(5_000.0));
        ctx.deposit(&supplier2, &usdt, &so2, &s2_usdt, usdt.units(5_000.0));
        let b_usdt = ctx.token_account_for(&usdt, &l.borrower.pubkey(), 0);
        ctx.borrow(&l.borrower, &usdt, &l.ob, &b_usdt, usdt.units(500.0));
        // A day of interest: the debt is no longer a whole number of units.
        ctx.warp_seconds(86_400);
        ctx.set_price(&l.coll, 20.0, 0.0);
        ctx.set_price(&l.debt, 1.0, 0.0);
        ctx.set_price(&usdt, 1.0, 0.0);
        ctx.set_price(&dust, 1.0, 0.0);
        let (liq, l_d) = ctx.user_with_tokens(&l.debt, l.debt.units(10_000.0));
        let l_c = ctx.token_account_for(&l.coll, &liq.pubkey(), 0);
        let l_t = ctx.token_account_for(&usdt, &liq.pubkey(), usdt.units(10_000.0));
        Fixture {
            tp,
            l,
            usdt,
            dust,
            l_t,
            supplier2,
            so2,
            s2_debt,
            liq,
            l_d,
            l_c,
        }
    }

    /// Every account `socialize_bad_debt` (and the liquidations before it)
    /// could touch.
    fn accounts(&self) -> Vec<Address> {
        let mut v = self.l.accounts();
        v.extend([
            self.l.coll.keys.insurance_vault,
            self.l.debt.keys.insurance_vault,
            self.so2,
            self.s2_debt,
            self.l_d,
            self.l_c,
        ]);
        v
    }

    /// SOL crashes to $5: 100 SOL ($500) against about $1,400 of debt is
    /// insolvent. Liquidates USDT until no SOL is left (one close-out; the
    /// priced DUST stays, so nothing is written off there), then
    /// `socialize_bad_debt` of USDT forfeits the DUST and writes the rest
    /// of the USDT debt off; checks that the USDC debt remains.
    fn crash_and_close_out(&self, ctx: &mut TestContext) {
        let l = &self.l;
        ctx.set_price(&l.coll, 5.0, 0.0);
        ctx.set_price(&l.debt, 1.0, 0.0);
        ctx.set_price(&self.usdt, 1.0, 0.0);
        ctx.set_price(&self.dust, 1.0, 0.0);
        let mut rounds = 0;
        while ctx.collateral_of(&l.ob, &l.coll) > 0 {
            let e = ctx.liquidate_ok(
                &self.liq,
                &l.ob,
                &self.usdt,
                &l.coll,
                &self.l_t,
                &self.l_c,
                u64::MAX,
            );
            assert!(e.repaid > 0);
            rounds += 1;
            assert!(rounds < 5, "collateral never exhausted");
        }
        assert_eq!(rounds, 1, "an insolvent obligation is closed out at once");
        assert_eq!(ctx.collateral_of(&l.ob, &self.dust), 500_000);
        let ix = ctx.socialize_ix(&l.ob, &self.usdt);
        let logs = ctx.ok_logs("socialize USDT, forfeit the DUST", &[ix], &[]);
        assert_eq!(events::<ballast::events::DustForfeited>(&logs).len(), 1);
        assert!(!ctx.has_collateral(&l.ob));
        let o = ctx.obligation(&l.ob);
        assert!(
            o.find(&l.debt.address(), PositionKind::Debt).is_some(),
            "USDC debt remains"
        );
        assert!(
            o.find(&self.usdt.address(), PositionKind::Debt).is_none(),
            "USDT written off"
        );
        // Accrued to now, as a USDC liquidation would have left it.
        let accrue = ix::accrue_interest(&l.debt.keys.reserve);
        ctx.ok("accrue USDC", &[accrue], &[]);
    }
}

/// Sends `socialize_bad_debt` for `ob` in `r`, which must succeed, and checks
/// it to the base unit against the state before: the event names the
/// reserve and obligation; `debt` is the obligation's debt rounded up;
/// `covered_by_insurance = min(debt, insurance balance)` and `written_off =
/// debt - covered`; the insurance vault lost exactly `covered`, the
/// liquidity vault and `available_amount` gained exactly `covered`; the
/// reserve's debt shares dropped by exactly the obligation's and the
/// obligation owes nothing there; the supply (depositors' claims) dropped by
/// the written-off amount to within the rounding of the debt (less than one
/// base unit); the vault reconciles. Returns the event.
fn socialize_ok(ctx: &mut TestContext, ob: &Address, r: &TestReserve) -> BadDebtSocialized {
    let bal = |ctx: &TestContext, a: &Address| ctx.token_balance(a).unwrap();
    let (ins0, vault0) = (
        bal(ctx, &r.keys.insurance_vault),
        bal(ctx, &r.keys.liquidity_vault),
    );
    let reserve0 = ctx.reserve(r);
    let o0 = ctx.obligation(ob);
    let i = o0
        .find(&r.address(), PositionKind::Debt)
        .expect("debt position");
    let shares = o0.positions[i].borrow_shares.get();
    let debt_fx = ctx.debt_of(ob, r);
    // The reserve was accrued to now by the liquidation (same clock), so its
    // stored supply is the current one.
    assert_eq!(reserve0.last_update_ts, ctx.clock().unix_timestamp);
    let supply0 = reserve0.supply().unwrap();

    let logs = ctx.ok_logs(
        "socialize_bad_debt",
        &[ix::socialize_bad_debt(ob, &r.keys)],
        &[],
    );
    let e: Vec<BadDebtSocialized> = events(&logs);
    assert_eq!(e.len(), 1, "one BadDebtSocialized event");
    let e = e.into_iter().next().unwrap();
    assert_eq!((e.reserve, e.obligation), (r.address(), *ob));
    assert_eq!(e.debt, debt_fx.to_ceil_u64().unwrap(), "debt rounded up");
    assert_eq!(e.covered_by_insurance, e.debt.min(ins0));
    assert_eq!(e.written_off, e.debt - e.covered_by_insurance);

    let covered = e.covered_by_insurance;
    assert_eq!(bal(ctx, &r.keys.insurance_vault), ins0 - covered);
    assert_eq!(bal(ctx, &r.keys.liquidity_vault), vault0 + covered);
    let reserve1 = ctx.reserve(r);
    assert_eq!(
        reserve1.available_amount,
        reserve0.available_amount + covered
    );
    assert_eq!(
        reserve1.borrow_shares.get(),
        reserve0.borrow_shares.get() - shares
    );
    assert_eq!(reserve1.deposit_shares, reserve0.deposit_shares);
    assert!(ctx
        .obligation(ob)
        .find(&r.address(), PositionKind::Debt)
        .is_none());
    // supply = available + borrowed (rounded down) - fees: it loses the
    // fractional debt and gains `covered`, so it drops by `debt_fx -
    // covered`, which is `written_off` less the rounding-up of the debt.
    let supply1 = reserve1.supply().unwrap();
    let drop = supply0 - supply1;
    let lost = fx_u64(e.written_off) - drop;
    assert!(
        lost >= Fx::ZERO && lost < Fx::ONE,
        "supply drop {drop} vs written off {}",
        e.written_off
    );
    // Exactly the rounding-up of the debt, to a few ulps (the supply rounds
    // the reserve's total debt down, the obligation's debt rounds up).
    let rounding = fx_u64(e.debt) - debt_fx;
    assert!(
        (lost - rounding).abs() <= Fx::DELTA * 4,
        "lost {lost} vs rounding-up {rounding}"
    );
    ctx.assert_vault_reconciles(r);
    e
}

/// What the deposit shares of obligation `o` in `r` redeem now (rounded
/// down, as a withdrawal pays), base units.
fn claim(ctx: &TestContext, r: &TestReserve, o: &Address) -> u64 {
    ctx.collateral_of(o, r)
}

/// The bad-debt path with insurance smaller than the debt, under both token
/// programs: 300 USDC minted into the USDC insurance vault; SOL crashes to $5
/// and the obligation is closed out, leaving about 924 USDC of debt;
/// `socialize_bad_debt` refused while collateral remains, then covers 300
/// from insurance and writes the rest off; both suppliers (10,000 and 5,000
/// USDC) can then withdraw exactly their shares of the reduced supply, the
/// loss split between them pro rata. Second call and the reserve without
/// debt: `NothingToRepay`.
#[test]
fn insurance_covers_part_and_depositors_the_rest() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = Fixture::new(&mut ctx, tp);
        let l = &f.l;
        let insurance = l.debt.units(300.0);
        ctx.mint_to(&l.debt.keys.mint, &l.debt.keys.insurance_vault, insurance)
            .unwrap();
        let all = f.accounts();

        // Still holding collateral (insolvent or not): refused.
        ctx.set_price(&l.coll, 5.0, 0.0);
        refused(
            &mut ctx,
            "collateral remains",
            ix::socialize_bad_debt(&l.ob, &l.debt.keys),
            &all,
            Expect::Ballast(BallastError::ObligationHasCollateral),
        );
        f.crash_and_close_out(&mut ctx);

        // The reserve the obligation owes nothing to, and an empty
        // obligation: nothing to write off.
        refused(
            &mut ctx,
            "no debt in the collateral reserve",
            ix::socialize_bad_debt(&l.ob, &l.coll.keys),
            &all,
            Expect::Ballast(BallastError::NothingToRepay),
        );
        let empty = ctx.open_obligation(&f.liq, &l.m.market, 0);
        refused(
            &mut ctx,
            "empty obligation",
            ix::socialize_bad_debt(&empty, &l.debt.keys),
            &[all.clone(), vec![empty]].concat(),
            Expect::Ballast(BallastError::NothingToRepay),
        );

        // The depositors' claims before.
        let before = [claim(&ctx, &l.debt, &l.so), claim(&ctx, &l.debt, &f.so2)];
        let debt = ctx.debt_of(&l.ob, &l.debt);
        assert!(debt > fx_u64(insurance), "insurance smaller than the debt");
        let e = socialize_ok(&mut ctx, &l.ob, &l.debt);
        assert_eq!(e.covered_by_insurance, insurance, "all of the insurance");
        assert_eq!(e.written_off, e.debt - insurance);
        assert_eq!(ctx.token_balance(&l.debt.keys.insurance_vault).unwrap(), 0);
        assert!(!ctx.obligation(&l.ob).has_debt());
        ctx.assert_books("after", &l.debt, &[l.so, f.so2, l.ob]);
        ctx.assert_books("after", &l.coll, &[l.ob]);
        ctx.assert_vault_reconciles(&l.coll);
        println!(
            "debt {} covered {} written off {}",
            e.debt, e.covered_by_insurance, e.written_off
        );

        // A second call: nothing left.
        refused(
            &mut ctx,
            "second call",
            ix::socialize_bad_debt(&l.ob, &l.debt.keys),
            &all,
            Expect::Ballast(BallastError::NothingToRepay),
        );

        // The depositors' claims dropped by the written-off amount, pro
        // rata to their shares (10,000 : 5,000), and they withdraw exactly
        // the new claims.
        let after = [claim(&ctx, &l.debt, &l.so), claim(&ctx, &l.debt, &f.so2)];
        let loss = [before[0] - after[0], before[1] - after[1]];
        println!("claims {before:?} -> {after:?}, loss {loss:?}");
        let total_loss = loss[0] + loss[1];
        assert!(
            total_loss.abs_diff(e.written_off) <= 2,
            "depositors lose {total_loss}, written off {}",
            e.written_off
        );
        let reserve = ctx.reserve(&l.debt);
        for (o, lost) in [(l.so, loss[0]), (f.so2, loss[1])] {
            let ob = ctx.obligation(&o);
            let i = ob
                .find(&l.debt.address(), PositionKind::Collateral)
                .unwrap();
            let share_of_loss = tokens_for_shares_floor(
                ob.positions[i].deposit_shares,
                fx_u64(e.written_off),
                reserve.deposit_shares,
            )
            .unwrap()
            .to_floor_u64()
            .unwrap();
            assert!(
                lost.abs_diff(share_of_loss) <= 2,
                "{lost} vs {share_of_loss}"
            );
        }
        // Each withdraws exactly its claim at that moment (the first
        // withdrawal's rounding can only raise the second's by dust).
        for (who, o, ta, after) in [
            (&l.supplier, l.so, l.s_debt, after[0]),
            (&f.supplier2, f.so2, f.s2_debt, after[1]),
        ] {
            let want = claim(&ctx, &l.debt, &o);
            assert!(want >= after && want - after <= 1);
            let b0 = ctx.token_balance(&ta).unwrap();
            ctx.withdraw(who, &l.debt, &o, &ta, u64::MAX);
            assert_eq!(ctx.token_balance(&ta).unwrap() - b0, want, "withdraw all");
            ctx.assert_vault_reconciles(&l.debt);
        }
        ctx.assert_books("withdrawn", &l.debt, &[l.so, f.so2, l.ob]);
        // What stays in the vault is the protocol's interest fee and
        // rounding dust.
        let reserve = ctx.reserve(&l.debt);
        let left = fx_u64(reserve.available_amount) - reserve.protocol_fees.get();
        assert!(left >= Fx::ZERO && left < fx_u64(3), "left {left}");
        let _ = f.tp;
    }
}

/// Insurance larger than the debt covers all of it: `written_off = 0`, the
/// insurance vault loses exactly the debt (rounded up) and the depositors
/// lose nothing (the supply even gains the rounding-up, under one unit).
/// Also works while the market is paused.
#[test]
fn insurance_larger_than_the_debt_covers_it_all() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = Fixture::new(&mut ctx, tp);
        let l = &f.l;
        let insurance = l.debt.units(10_000.0);
        ctx.mint_to(&l.debt.keys.mint, &l.debt.keys.insurance_vault, insurance)
            .unwrap();
        f.crash_and_close_out(&mut ctx);
        let before = [claim(&ctx, &l.debt, &l.so), claim(&ctx, &l.debt, &f.so2)];
        let supply0 = ctx.reserve(&l.debt).supply().unwrap();
        ctx.set_paused(&l.m, true);
        let e = socialize_ok(&mut ctx, &l.ob, &l.debt);
        assert_eq!(e.covered_by_insurance, e.debt);
        assert_eq!(e.written_off, 0);
        assert_eq!(
            ctx.token_balance(&l.debt.keys.insurance_vault).unwrap(),
            insurance - e.debt
        );
        let supply1 = ctx.reserve(&l.debt).supply().unwrap();
        assert!(supply1 >= supply0 && supply1 - supply0 < Fx::ONE);
        let after = [claim(&ctx, &l.debt, &l.so), claim(&ctx, &l.debt, &f.so2)];
        assert!(after[0] >= before[0] && after[1] >= before[1]);
        assert!(after[0] - before[0] <= 1 && after[1] - before[1] <= 1);
        ctx.assert_books("after", &l.debt, &[l.so, f.so2, l.ob]);
    }
}

/// Insurance funded the way the protocol funds it: a second borrower holds
/// USDC as collateral and owes SOL; SOL rises to $23 and that obligation is
/// liquidated with `protocol_bonus_share_bps = 1,000`, so 10% of the bonus
/// (0.805 USDC) lands in the USDC reserve's insurance vault. Then SOL
/// crashes, the first borrower is closed out and `socialize_bad_debt` covers
/// exactly that balance and writes off the rest.
#[test]
fn insurance_funded_by_a_liquidation_share() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = Fixture::new(&mut ctx, tp);
        let l = &f.l;
        ctx.set_liquidation_config(
            &l.m,
            LiquidationConfig {
                protocol_bonus_share_bps: 1_000,
                ..LiquidationConfig::SOLEND_LIKE
            },
        );
        // SOL liquidity and a borrower of SOL against USDC.
        let (sol_supplier, ss) = ctx.user_with_tokens(&l.coll, l.coll.units(100.0));
        let sso = ctx.open_obligation(&sol_supplier, &l.m.market, 0);
        ctx.deposit(&sol_supplier, &l.coll, &sso, &ss, l.coll.units(100.0));
        let (b2, b2_usdc) = ctx.user_with_tokens(&l.debt, l.debt.units(1_000.0));
        let b2_sol = ctx.token_account_for(&l.coll, &b2.pubkey(), 0);
        let ob2 = ctx.open_obligation(&b2, &l.m.market, 0);
        ctx.deposit(&b2, &l.debt, &ob2, &b2_usdc, l.debt.units(1_000.0));
        ctx.borrow(&b2, &l.coll, &ob2, &b2_sol, l.coll.units(35.0));

        // SOL $23: 35 * 23 = $805 of debt against $800 of weighted USDC.
        ctx.set_price(&l.coll, 23.0, 0.0);
        ctx.set_price(&l.debt, 1.0, 0.0);
        let (liq2, l2_sol) = ctx.user_with_tokens(&l.coll, l.coll.units(100.0));
        let l2_usdc = ctx.token_account_for(&l.debt, &liq2.pubkey(), 0);
        let e = ctx.liquidate_ok(&liq2, &ob2, &l.coll, &l.debt, &l2_sol, &l2_usdc, u64::MAX);
        // 20% of 35 SOL = 7 SOL = $161, plus the 5% bonus = 169.05 USDC;
        // 10% of the $8.05 bonus to insurance: 0.805 USDC.
        assert_eq!(e.repaid, l.coll.units(7.0));
        assert_eq!(e.bonus_bps, 500);
        assert_eq!(e.seized, 169_050_000);
        assert_eq!(e.to_insurance, 805_000);
        assert_eq!(ctx.token_balance(&l2_usdc).unwrap(), 169_050_000 - 805_000);
        let insurance = ctx.token_balance(&l.debt.keys.insurance_vault).unwrap();
        assert_eq!(insurance, e.to_insurance);

        f.crash_and_close_out(&mut ctx);
        let e = socialize_ok(&mut ctx, &l.ob, &l.debt);
        assert_eq!(e.covered_by_insurance, insurance);
        assert_eq!(e.written_off, e.debt - insurance);
        assert_eq!(ctx.token_balance(&l.debt.keys.insurance_vault).unwrap(), 0);
        ctx.assert_books("after", &l.debt, &[l.so, f.so2, l.ob, ob2]);
        ctx.assert_books("after", &l.coll, &[l.ob, sso, ob2]);
    }
}

/// A second market `o` listing the same USDC mint, with a supplier (`so3`)
/// and 1 USDC in its insurance vault, and a stranger's account holding 1 USDC.
struct Other {
    o: TestMarket,
    o_debt: TestReserve,
    so3: Address,
    stranger_usdc: Address,
}

impl Other {
    fn new(ctx: &mut TestContext, l: &Lending) -> Self {
        let o = ctx.setup_market();
        let o_debt = ctx.add_reserve_for_mint(&o, &l.debt.keys.mint, 6, 1.0, test_config([0; 32]));
        let (s3, s3_d) = ctx.user_with_tokens(&o_debt, 1_000_000);
        let so3 = ctx.open_obligation(&s3, &o.market, 0);
        ctx.deposit(&s3, &o_debt, &so3, &s3_d, 1_000_000);
        ctx.mint_to(&l.debt.keys.mint, &o_debt.keys.insurance_vault, 1_000_000)
            .unwrap();
        let stranger_usdc = ctx.token_account_for(&l.debt, &Keypair::new().pubkey(), 1_000_000);
        Other {
            o,
            o_debt,
            so3,
            stranger_usdc,
        }
    }

    /// Its accounts a substitution could touch.
    fn accounts(&self) -> [Address; 6] {
        [
            self.o.market,
            self.o_debt.address(),
            self.o_debt.keys.liquidity_vault,
            self.o_debt.keys.insurance_vault,
            self.so3,
            self.stranger_usdc,
        ]
    }
}

/// Every substitution against `socialize_bad_debt` of the borrower's debt
/// in `f`, with its exact error.
fn substitutions(f: &Fixture, x: &Other) -> Vec<(&'static str, Instruction, Expect)> {
    let l = &f.l;
    let k = l.debt.keys;
    let ram = Expect::Ballast(BallastError::ReserveAccountMismatch);
    let wm = Expect::Ballast(BallastError::WrongMarket);
    let keys_ix = |keys: ReserveKeys| ix::socialize_bad_debt(&l.ob, &keys);
    let mut wrong_authority = ix::socialize_bad_debt(&l.ob, &k);
    wrong_authority.accounts[1].pubkey = ix::market_authority(&x.o.market).0;
    vec![
        (
            "insurance vault of the collateral reserve",
            keys_ix(ReserveKeys {
                insurance_vault: l.coll.keys.insurance_vault,
                ..k
            }),
            ram,
        ),
        (
            "insurance vault: a stranger's USDC account",
            keys_ix(ReserveKeys {
                insurance_vault: x.stranger_usdc,
                ..k
            }),
            ram,
        ),
        (
            "insurance vault of the same mint in another market",
            keys_ix(ReserveKeys {
                insurance_vault: x.o_debt.keys.insurance_vault,
                ..k
            }),
            ram,
        ),
        (
            "liquidity and insurance vaults swapped",
            keys_ix(ReserveKeys {
                insurance_vault: k.liquidity_vault,
                liquidity_vault: k.insurance_vault,
                ..k
            }),
            ram,
        ),
        (
            "liquidity vault passed as the insurance vault too",
            keys_ix(ReserveKeys {
                insurance_vault: k.liquidity_vault,
                ..k
            }),
            Expect::Anchor(AnchorError::ConstraintDuplicateMutableAccount),
        ),
        (
            "liquidity vault of the same mint in another market",
            keys_ix(ReserveKeys {
                liquidity_vault: x.o_debt.keys.liquidity_vault,
                ..k
            }),
            ram,
        ),
        (
            "liquidity vault: a stranger's USDC account",
            keys_ix(ReserveKeys {
                liquidity_vault: x.stranger_usdc,
                ..k
            }),
            ram,
        ),
        (
            "mint of the collateral reserve",
            keys_ix(ReserveKeys {
                mint: l.coll.keys.mint,
                ..k
            }),
            ram,
        ),
        (
            "the other token program",
            keys_ix(ReserveKeys {
                token_program: other_token_program(&f.tp),
                ..k
            }),
            ram,
        ),
        (
            "reserve (and vaults) of the same mint in another market",
            keys_ix(ReserveKeys {
                market: l.m.market,
                ..x.o_debt.keys
            }),
            wm,
        ),
        (
            "market and reserve of another market, obligation of this one",
            keys_ix(x.o_debt.keys),
            wm,
        ),
        (
            "obligation of another market",
            ix::socialize_bad_debt(&x.so3, &k),
            wm,
        ),
        (
            "market authority of another market",
            wrong_authority,
            Expect::Anchor(AnchorError::ConstraintSeeds),
        ),
    ]
}

/// Substituted accounts against `socialize_bad_debt` ([`substitutions`]),
/// each refused with its exact error and every account of both markets
/// unchanged; then the real call goes through.
#[test]
fn substituted_accounts_are_refused() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let f = Fixture::new(&mut ctx, tp);
        let l = &f.l;
        ctx.mint_to(&l.debt.keys.mint, &l.debt.keys.insurance_vault, 1_000_000)
            .unwrap();
        f.crash_and_close_out(&mut ctx);
        let x = Other::new(&mut ctx, l);
        let mut all = f.accounts();
        all.extend(x.accounts());
        for (label, ix, expect) in substitutions(&f, &x) {
            refused(&mut ctx, label, ix, &all, expect);
        }
        let e = socialize_ok(&mut ctx, &l.ob, &l.debt);
        assert_eq!(e.covered_by_insurance, 1_000_000);
        assert_eq!(
            ctx.token_balance(&x.o_debt.keys.insurance_vault).unwrap(),
            1_000_000
        );
    }
}
